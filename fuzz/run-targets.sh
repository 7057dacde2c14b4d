#!/bin/sh
# SPDX-License-Identifier: ISC
# Run built libFuzzer targets: `make fuzz-run` calls it in a fuzzing build.
#
#   run-targets.sh FUZZDIR fuzz/NAME-fuzzer...
#
# FUZZDIR is the source's fuzz/ directory (seeds in corpus/NAME/, an
# optional NAME.dict).  Each target runs FUZZ_SECONDS (default 60) on a
# fresh copy of its seeds under fuzz/work/NAME/ of the current (build)
# directory, where its log and any crash, timeout or leak input go; the
# sources are only read.  The targets run side by side, so the whole run
# takes FUZZ_SECONDS however many there are.  Exit 1 if any target failed.
set -u

if [ $# -lt 2 ]; then
	echo "usage: FUZZ_SECONDS=N $0 FUZZDIR TARGET..." >&2
	exit 2
fi
fuzzdir=$1
shift
seconds=${FUZZ_SECONDS:-60}
case "$seconds" in
'' | *[!0-9]*)
	echo "FUZZ_SECONDS=$seconds is not a number of seconds" >&2
	exit 2
	;;
esac

pids=
for target; do
	name=$(basename "$target")
	name=${name%-fuzzer}
	work=fuzz/work/$name
	rm -rf "$work"
	mkdir -p "$work/corpus" || exit 1
	if [ -d "$fuzzdir/corpus/$name" ]; then
		cp "$fuzzdir/corpus/$name"/* "$work/corpus/" || exit 1
	fi
	dict=
	[ -f "$fuzzdir/$name.dict" ] && dict=-dict=$fuzzdir/$name.dict
	echo "fuzz: $name for $seconds s (log: $work/log)"
	# -timeout: one input that takes that long is a hang, and a finding
	"./$target" -max_total_time="$seconds" -timeout=10 -print_final_stats=1 \
	    -artifact_prefix="$work/" $dict "$work/corpus" >"$work/log" 2>&1 &
	pids="$pids $!:$name:$target"
done

failed=0
for p in $pids; do
	pid=${p%%:*}
	name=${p#*:}
	target=${name#*:}
	name=${name%%:*}
	work=fuzz/work/$name
	wait "$pid"
	rc=$?
	# "#RUNS KIND cov: EDGES ft: FEATURES corp: UNITS/SIZE ...", the last one
	status=$(grep -a '^#[0-9][0-9]*.* cov: ' "$work/log" | tail -1)
	execs=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
	if [ "$rc" -eq 0 ]; then
		echo "fuzz: $name: OK: ${execs:-?} exec/s; $status"
	else
		failed=1
		echo "fuzz: $name: FAILED (exit $rc); the log ends:"
		tail -40 "$work/log"
		for a in "$work"/crash-* "$work"/leak-* "$work"/timeout-* "$work"/oom-*; do
			[ -e "$a" ] && echo "fuzz: $name: reproduce with ./$target $a"
		done
	fi
done
exit $failed

#!/bin/sh
# compare-load.sh: synack-load's request rate against bench/ref-load, a
# plain epoll client doing the same work, both against one synackd echo
# listener started here on port 0.  Each case runs RUNS times per
# generator, alternating which goes first; the table shows the medians and
# their ratio synack-load/ref-load.  The machine is shared and noisy: read
# the ratios, not the absolute numbers.
#
#
# With two CPUs or more, and taskset(1) at hand, synackd runs on the first
# CPU and the generators on the second (-P: no pinning): one ping-pong
# client and one server then do not fight over a CPU or migrate, which is
# most of the run-to-run noise on a small machine.
#
# usage: bench/compare-load.sh [-n RUNS] [-d SECONDS] [-P]   (after make)
# SYNACKD, SYNACK_LOAD and REF_LOAD override the binaries' paths (default:
# the build tree this script lives in, or BUILDDIR).
set -eu

runs=5
dur=3
pin=yes
while getopts n:d:P opt; do
	case $opt in
	n) runs=$OPTARG ;;
	d) dur=$OPTARG ;;
	P) pin=no ;;
	*) echo "usage: $0 [-n RUNS] [-d SECONDS] [-P]" >&2; exit 2 ;;
	esac
done
server_cpu=
client_cpu=
if [ "$pin" = yes ] && command -v taskset >/dev/null 2>&1 &&
    [ "$(getconf _NPROCESSORS_ONLN)" -ge 2 ]; then
	server_cpu="taskset -c 0"
	client_cpu="taskset -c 1"
fi

top=${BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
SYNACKD=${SYNACKD:-$top/src/synackd}
SYNACK_LOAD=${SYNACK_LOAD:-$top/src/synack-load}
REF_LOAD=${REF_LOAD:-$top/bench/ref-load}
for bin in "$SYNACKD" "$SYNACK_LOAD" "$REF_LOAD"; do
	[ -x "$bin" ] || { echo "$0: $bin is not built (run make)" >&2; exit 2; }
done

tmp=$(mktemp -d)
pid=
cleanup() {
	[ -z "$pid" ] || { kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null || true; }
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

cat >"$tmp/synackd.conf" <<EOF
[server]
log_level = info
max_clients = 10000
idle_timeout = 0

[listener echo]
service = echo
address = 127.0.0.1
port = 0
EOF
$server_cpu "$SYNACKD" -c "$tmp/synackd.conf" 2>"$tmp/synackd.log" &
pid=$!
addr=
for _ in $(seq 50); do
	addr=$(sed -n 's/.*listening on \([0-9.]*:[0-9]*\) service=echo.*/\1/p' "$tmp/synackd.log")
	[ -n "$addr" ] && break
	sleep 0.1
done
[ -n "$addr" ] || { echo "$0: synackd did not start:" >&2; cat "$tmp/synackd.log" >&2; exit 1; }

median() {
	sort -n | awk '{ v[NR] = $1 } END {
		if (NR == 0) print 0; else if (NR % 2) print v[(NR + 1) / 2];
		else printf "%.1f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }'
}

run_synack_load() { # mode conns
	out=$($client_cpu "$SYNACK_LOAD" -q --json -m "$1" -c "$2" -d "$dur" "$addr") || {
		echo "$0: synack-load -m $1 -c $2 failed: $out" >&2; exit 1; }
	echo "$out" | sed -n 's/.*"requests_per_s":\([0-9.]*\).*/\1/p'
}

run_ref_load() { # mode conns
	out=$($client_cpu "$REF_LOAD" -m "$1" -c "$2" -d "$dur" "$addr") || {
		echo "$0: ref-load -m $1 -c $2 failed: $out" >&2; exit 1; }
	echo "$out" | sed -n 's/.* requests_per_s \([0-9.]*\) .*/\1/p'
}

echo "synackd echo on $addr; $runs runs of $dur s per generator and case; medians in requests/s"
[ -z "$server_cpu" ] || echo "pinned: synackd on CPU 0, the generators on CPU 1"
printf '%-12s %14s %14s %8s\n' case synack-load ref-load ratio
for case in "rr 1" "rr 100" "crr 1" "crr 10"; do
	set -- $case
	: >"$tmp/a"
	: >"$tmp/b"
	i=0
	while [ "$i" -lt "$runs" ]; do
		if [ $((i % 2)) -eq 0 ]; then
			run_synack_load "$1" "$2" >>"$tmp/a"
			run_ref_load "$1" "$2" >>"$tmp/b"
		else
			run_ref_load "$1" "$2" >>"$tmp/b"
			run_synack_load "$1" "$2" >>"$tmp/a"
		fi
		i=$((i + 1))
	done
	a=$(median <"$tmp/a")
	b=$(median <"$tmp/b")
	printf '%-12s %14s %14s %8s\n' "$1 -c $2" "$a" "$b" \
	    "$(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "-" }')"
done

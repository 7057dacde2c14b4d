# SPDX-License-Identifier: ISC
# bench/lib.sh: what bench/bench.sh and bench/c100k.sh share.  Sourced by
# bash, not run.  BUILDDIR is the top of the build tree (default: the
# directory above this script's, which is right for an in-tree build).

BUILDDIR=${BUILDDIR:-$(cd "$(dirname "$0")/.." && pwd)}
SYNACKD=${SYNACKD:-$BUILDDIR/src/synackd}
LOAD=${SYNACK_LOAD:-$BUILDDIR/src/synack-load}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

need() { # COMMAND...: each must be installed (scripts/deps.sh installs them)
	for c in "$@"; do
		command -v "$c" >/dev/null 2>&1 || die "$c is missing: run scripts/deps.sh"
	done
}

# Every process started from here inherits the highest open-file limit allowed.
raise_nofile() {
	ulimit -n "$(ulimit -Hn)" 2>/dev/null || true
}

# listen_port LOG [metrics]: the port of the first "listening on
# 127.0.0.1:PORT" line of a listener, or of synackd's metrics endpoint.
listen_port() {
	if [ "${2:-}" = metrics ]; then
		sed -n 's/.*metrics: listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' "$1" | head -1
	else
		grep -v 'service=metrics' "$1" |
		    sed -n 's/.*listening on 127\.0\.0\.1:\([0-9][0-9]*\).*/\1/p' | head -1
	fi
}

# rss_kib PID: the resident set in KiB.  smaps_rollup counts the pages;
# status's VmRSS is the same number from per-CPU counters that may lag by
# a few hundred KiB, too coarse for a thousand clients of a few bytes each.
rss_kib() {
	awk '/^Rss:/ { print $2; exit }' "/proc/$1/smaps_rollup" 2>/dev/null ||
	    awk '/^VmRSS:/ { print $2 }' "/proc/$1/status"
}

fd_count() {
	ls -U "/proc/$1/fd" 2>/dev/null | wc -l
}

# user + system CPU seconds of a running process
cpu_s() {
	awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.2f\n", ($12 + $13) / hz }' \
	    "/proc/$1/stat"
}

# alive PID: running, not a zombie waiting for wait
alive() {
	[ -r "/proc/$1/stat" ] && [ "$(sed 's/.*) \(.\).*/\1/' "/proc/$1/stat" 2>/dev/null)" != Z ]
}

# load_ok JSON: every connection asked for was established, and none failed.
load_ok() {
	jq -e '([.errors[]] | add) == 0 and .connections.established >= .connections.requested' \
	    "$1" >/dev/null 2>&1
}

# meminfo KEY: a /proc/meminfo value, in KiB
meminfo() {
	awk -v k="$1:" '$1 == k { print $2 }' /proc/meminfo
}

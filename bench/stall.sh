#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/stall.sh: one open-loop run whose server stalls, as a time series:
# `make bench-stall`.  synackd (echo, port 0) takes synack-load -R RATE
# for DURATION seconds; STALL_AT seconds in, synackd is stopped (SIGSTOP)
# for STALL_MS ms, then continued.  synack-load's --timeseries CSV and
# its --json report land in RESULTS (default bench/results of the build
# tree), and gnuplot draws stall-timeseries.png from the CSV: latency per
# second (p50, p99, max) and requests per second.  The stall must stand
# out in p99 and max, as the requests due during it waited.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

RATE=${RATE:-5000}
CONNECTIONS=${CONNECTIONS:-20}
DURATION=${DURATION:-10}
STALL_AT=${STALL_AT:-4}
STALL_MS=${STALL_MS:-500}
RESULTS=${RESULTS:-$BUILDDIR/bench/results}

need gnuplot jq
[ -x "$SYNACKD" ] && [ -x "$LOAD" ] || die "synackd and synack-load are not built (run make)"
mkdir -p "$RESULTS"
TMP=$(mktemp -d)
SPID=
cleanup() {
	if [ -n "$SPID" ]; then
		kill -CONT "$SPID" 2>/dev/null || true
		kill -TERM "$SPID" 2>/dev/null || true
		wait "$SPID" 2>/dev/null || true
	fi
	rm -rf "$TMP"
}
trap cleanup EXIT

printf '[listener echo]\naddress = 127.0.0.1\nport = 0\n' >"$TMP/synackd.conf"
"$SYNACKD" -c "$TMP/synackd.conf" >"$TMP/synackd.log" 2>&1 &
SPID=$!
port=
for _ in $(seq 100); do
	port=$(listen_port "$TMP/synackd.log")
	[ -n "$port" ] && break
	sleep 0.05
done
[ -n "$port" ] || die "synackd did not start: $(cat "$TMP/synackd.log")"

"$LOAD" -q --json -R "$RATE" -c "$CONNECTIONS" -d "$DURATION" --max-error-rate 1 \
    --timeseries "$RESULTS/stall.csv" "127.0.0.1:$port" >"$RESULTS/stall.json" &
lpid=$!
sleep "$STALL_AT"
kill -STOP "$SPID"
sleep "$(awk -v ms="$STALL_MS" 'BEGIN { print ms / 1000 }')"
kill -CONT "$SPID"
wait "$lpid" || die "synack-load failed: $(cat "$RESULTS/stall.json")"

gnuplot -e "dir='$RESULTS'; rate=$RATE; stall_ms=$STALL_MS" "$here/stall.gp"
jq -r '"open loop at \(.options.rate) requests/s, \(.connections.established) connections, \(.duration_s) s: p50 \(.latency_us.p50) us, p99 \(.latency_us.p99) us, max \(.latency_us.max) us"' \
    "$RESULTS/stall.json"
echo "results: $RESULTS/stall.csv, stall.json, stall-timeseries.png"

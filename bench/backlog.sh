#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/backlog.sh: is the backlog big enough?  `make bench-backlog`.
# The same run against a listener with a small backlog, then a large one,
# each in a network namespace of its own (so that TcpExt ListenOverflows
# is the run's alone): synack-load opens RATE connections per second
# (crr: connect, one echo, close) for DURATION seconds; STALL_AT seconds
# in, synackd is stopped (SIGSTOP) for STALL_MS ms, as a server stalls
# when its CPU is taken or its process paused, while the connections keep
# coming.  Then the two ends side by side: synackd's accept-queue wait
# histogram and ListenOverflows, synack-load's SYN retransmissions and its
# connect latency with and without one.  The table goes to stdout and to
# RESULTS/backlog.md, the reports beside it.  Needs root (unshare -n).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

BACKLOGS=${BACKLOGS:-8 1024}
RATE=${RATE:-2000}
CONNECTIONS=${CONNECTIONS:-1000}
DURATION=${DURATION:-4}
STALL_AT=${STALL_AT:-1.5}
STALL_MS=${STALL_MS:-500}
RESULTS=${RESULTS:-$BUILDDIR/bench/results}

need jq curl unshare ip
[ -x "$SYNACKD" ] && [ -x "$LOAD" ] || die "synackd and synack-load are not built (run make)"

# One backlog, inside its namespace: "$0" --in BACKLOG
if [ "${1:-}" = --in ]; then
	b=$2
	ip link set lo up
	TMP=$(mktemp -d)
	SPID=
	trap 'if [ -n "$SPID" ]; then kill -CONT "$SPID"; kill "$SPID"; wait "$SPID"; fi 2>/dev/null; rm -rf "$TMP"' EXIT
	printf '[server]\nworkers = 1\nmetrics = 127.0.0.1:0\naccept_wait_warn = 0\n[listener echo]\naddress = 127.0.0.1\nport = 0\nbacklog = %s\n' \
	    "$b" >"$TMP/synackd.conf"
	"$SYNACKD" -c "$TMP/synackd.conf" >"$TMP/synackd.log" 2>&1 &
	SPID=$!
	port= mport=
	for _ in $(seq 100); do
		port=$(listen_port "$TMP/synackd.log")
		mport=$(listen_port "$TMP/synackd.log" metrics)
		[ -n "$port" ] && [ -n "$mport" ] && break
		sleep 0.05
	done
	[ -n "$port" ] && [ -n "$mport" ] || die "synackd did not start: $(cat "$TMP/synackd.log")"
	"$LOAD" -q --json -m crr --connect-rate "$RATE" -c "$CONNECTIONS" -d "$DURATION" \
	    --max-error-rate 1 "127.0.0.1:$port" >"$RESULTS/backlog-$b-load.json" &
	lpid=$!
	sleep "$STALL_AT"
	kill -STOP "$SPID"
	sleep "$(awk -v ms="$STALL_MS" 'BEGIN { print ms / 1000 }')"
	kill -CONT "$SPID"
	wait "$lpid" || [ $? -le 4 ] || die "synack-load failed: $(cat "$RESULTS/backlog-$b-load.json")"
	curl -sf "http://127.0.0.1:$mport/stats" >"$RESULTS/backlog-$b-stats.json" ||
	    die "GET /stats failed"
	exit 0
fi

mkdir -p "$RESULTS"
for b in $BACKLOGS; do
	unshare -n bash "$0" --in "$b" || die "cannot run in a network namespace of its own (needs root)"
done

# row LABEL JQ-ON-STATS-OR-LOAD FILE-SUFFIX: one value per backlog; in
# the filter, ms(us) is a latency in ms ("-" where none was counted)
row() {
	local l="| $1 |"
	for b in $BACKLOGS; do
		l="$l $(jq -r 'def ms(v): if .count > 0 then (v / 100 | round / 10 | tostring) else "-" end; '"$2" \
		    "$RESULTS/backlog-$b-$3.json") |"
	done
	echo "$l"
}
{
	printf '| %s s of crr at %s connections/s, synackd stopped %s ms at %s s | %s |\n' \
	    "$DURATION" "$RATE" "$STALL_MS" "$STALL_AT" \
	    "$(for b in $BACKLOGS; do printf 'backlog = %s | ' "$b"; done | sed 's/ | $//')"
	printf '|---|%s\n' "$(for b in $BACKLOGS; do printf -- '---|'; done)"
	row "synackd: accept queue limit (backlog + 1)" '.listeners[0].accept_queue_limit' stats
	row "synackd: ListenOverflows (SYNs and ACKs dropped, queue full)" '.host.listen_overflows' stats
	row "synackd: connections accepted" '.listeners[0].accept_wait.count' stats
	row "synackd: accept wait p50 / p90 / p99, ms (bucket bound)" \
	    '.listeners[0].accept_wait | "\(.p50_ms) / \(.p90_ms) / \(.p99_ms)"' stats
	row "synackd: accepts that waited over 100 ms" \
	    '.listeners[0].accept_wait.buckets_ms | to_entries | map(select(.key == "+Inf" or (.key | tonumber) > 100)) | map(.value) | add' stats
	row "synack-load: connections established / attempted" \
	    '"\(.connections.established) / \(.connections.attempted)"' load
	row "synack-load: connect timeouts" '.errors.timeout' load
	row "synack-load: SYN retransmissions per connection, 0 / 1 / 2 / 3+" \
	    '.syn_retrans | "\(."0") / \(."1") / \(."2") / \(."3+")"' load
	row "synack-load: connect p50 / p99 without a retransmission, ms" \
	    '.connect_latency_no_retrans_us | ms(.p50) + " / " + ms(.p99)' load
	row "synack-load: connect p50 / p99 after a retransmission, ms" \
	    '.connect_latency_retrans_us | ms(.p50) + " / " + ms(.p99)' load
	row "synack-load: request latency p50 / p99 (the echo), ms" \
	    '.latency_us | ms(.p50) + " / " + ms(.p99)' load
} | tee "$RESULTS/backlog.md"

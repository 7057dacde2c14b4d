#!/bin/sh
# Compare synackd's echo with two references built in the same tree: a
# hand-written epoll echo server (the least an echo can cost) and the
# simplest libevent bufferevent echo server (what synackd builds on).
#
# For each server: requests/s of synack-load rr with 1 and 100
# connections (median of RUNS runs, interleaved so that noise hits all
# servers alike), syscalls per request (strace -c -f on the server) and
# user-space instructions per request (callgrind on the server).  Prints
# the ratios to the epoll reference.  Run from the build directory after
# `make`:  sh bench/compare-servers.sh   (RUNS=5 DURATION=3 by default)
set -eu

RUNS=${RUNS:-5}
DURATION=${DURATION:-3}
SRC=${SRC:-$(dirname "$0")/..}
LOAD=${SYNACK_LOAD:-src/synack-load}
TMP=$(mktemp -d)
SERVER_PID=
trap 'stop_server; rm -rf "$TMP"' EXIT INT TERM

cat >"$TMP/synackd.conf" <<CONF
[server]
log = stderr
idle_timeout = 0
[listener echo]
service = echo
address = 127.0.0.1
port = 0
backlog = 4096
CONF

server_cmd() {
	case $1 in
	synackd) echo "src/synackd -c $TMP/synackd.conf" ;;
	epoll) echo "bench/echo-epoll" ;;
	bufferevent) echo "bench/echo-bufferevent" ;;
	esac
}

# start_server NAME [WRAPPER...]: sets SERVER_PID (the server itself) and PORT
start_server() {
	name=$1
	shift
	: >"$TMP/out"
	"$@" $(server_cmd "$name") >"$TMP/out" 2>&1 &
	SERVER_PID=$!
	PORT=
	i=0
	while [ -z "$PORT" ]; do
		i=$((i + 1))
		[ $i -le 300 ] || { echo "$name did not start:"; cat "$TMP/out"; exit 1; }
		sleep 0.1
		PORT=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$TMP/out" | head -1)
	done
}

# The wrappers (strace, valgrind) forward nothing: signal the server itself.
stop_server() {
	[ -n "$SERVER_PID" ] || return 0
	target=$(pgrep -P "$SERVER_PID" 2>/dev/null | head -1 || true)
	kill -TERM "${target:-$SERVER_PID}" 2>/dev/null || true
	wait "$SERVER_PID" 2>/dev/null || true
	SERVER_PID=
}

load() { # connections -> requests (and requests/s in $TMP/rps)
	"$LOAD" -q --json -m rr -c "$1" -d "$2" "127.0.0.1:$PORT" >"$TMP/load.json"
	python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); print(r["requests"], int(r["requests_per_s"]))' "$TMP/load.json"
}

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }

SERVERS="synackd epoll bufferevent"
for c in 1 100; do
	for run in $(seq "$RUNS"); do
		for s in $SERVERS; do
			start_server "$s"
			load "$c" "$DURATION" | awk '{print $2}' >>"$TMP/rps.$s.$c"
			stop_server
		done
	done
done

for s in $SERVERS; do
	# syscalls per request: strace -f on the server during a 100-connection run
	start_server "$s" strace -f -c -o "$TMP/strace.$s"
	req=$(load 100 2 | awk '{print $1}')
	stop_server
	calls=$(awk '$NF == "total" {print $4}' "$TMP/strace.$s")
	echo "$s $(python3 -c "print('%.2f' % ($calls / $req))")" >>"$TMP/syscalls"
	# instructions per request: callgrind on the server, one connection
	start_server "$s" valgrind --tool=callgrind --callgrind-out-file="$TMP/cg.$s"
	req=$(load 1 3 | awk '{print $1}')
	stop_server
	ir=$(sed -n 's/^summary: //p; s/^totals: //p' "$TMP/cg.$s" | head -1)
	echo "$s $(python3 -c "print(int($ir / $req))")" >>"$TMP/instr"
done

printf '%-12s %14s %14s %12s %14s\n' server "rr c=1 req/s" "rr c=100 req/s" "syscalls/req" "instr/req"
for s in $SERVERS; do
	printf '%-12s %14s %14s %12s %14s\n' "$s" \
	    "$(median <"$TMP/rps.$s.1")" "$(median <"$TMP/rps.$s.100")" \
	    "$(awk -v s="$s" '$1 == s {print $2}' "$TMP/syscalls")" \
	    "$(awk -v s="$s" '$1 == s {print $2}' "$TMP/instr")"
done
echo
for s in synackd bufferevent; do
	for c in 1 100; do
		python3 -c "import sys; print('%s / epoll, rr c=%s: %.2f' % (sys.argv[1], sys.argv[2], float(sys.argv[3]) / float(sys.argv[4])))" \
		    "$s" "$c" "$(median <"$TMP/rps.$s.$c")" "$(median <"$TMP/rps.epoll.$c")"
	done
done
python3 -c "import sys; print('synackd / bufferevent, rr c=100: %.2f' % (float(sys.argv[1]) / float(sys.argv[2])))" \
    "$(median <"$TMP/rps.synackd.100")" "$(median <"$TMP/rps.bufferevent.100")"

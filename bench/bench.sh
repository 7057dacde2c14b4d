#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/bench.sh: synackd against reference servers built in the same tree
# and measured in the same run, with the same load generator.  `make bench`
# runs it; `make bench-smoke` runs it with --smoke: every scenario once,
# short and small, then the system-call and instruction counts checked
# against thresholds (the counts hardly move from run to run, the rates
# do).
#
# The references: bench/echo-epoll (level-triggered epoll, the least an
# echo can cost; -t 2 two threads on one SO_REUSEPORT port; -D discard;
# -C chargen), bench/echo-bufferevent (the simplest libevent echo: what
# synackd builds on), and iperf3 on the same loopback, the outside anchor
# for bulk data.  The scenarios, each against synackd and the references,
# medians of RUNS runs interleaved (the order rotates each run, so that the
# noise of a shared machine hits every server alike; what hardly moves, the
# memory and the counts, STEADY_RUNS runs):
#
#   rr 1, 10, 100, 1000 connections   round trips/s; with 1: p50 and p99 latency;
#                                     with 100 also synackd with its metrics
#                                     endpoint on, /metrics read every second
#   crr 32 connections                handshakes/s
#   stream with 1 and 8 connections   MB/s into echo (both ways, verified), into
#                                     discard (synack-load --direction send), from
#                                     chargen (--direction receive, verified);
#                                     each with PIN=same and PIN=split, beside
#                                     iperf3 (1 and 8 streams, -R, --bidir);
#                                     rr 100 also with the other PIN
#   hold 1000, 10000, the limit       server RSS per client, every connection verified
#   workers = 2, rr 100               against echo-epoll -t 2 (n/a when synackd refuses it)
#   crr 32 under strace -c -f and callgrind on the server: system calls and
#     instructions per connection (accept, one round trip, close), less a
#     short run likewise
#   rr 100 under strace -c -f and callgrind on the server: system calls and
#     user-space instructions per round trip, less a run that only connects
#     and closes, so that start-up and connection setup cancel out; a
#     stream of 1 connection into discard under strace -c -f on the server:
#     system calls per MiB, less a short one likewise; the same for a
#     stream of 1 connection read from chargen
#   the client: synack-load against bench/ref-load (plain epoll) on synackd
#   UDP, synackd's echo on a `transport = udp` listener against bench/echo-udp
#     (recvmmsg/sendmmsg, the least a UDP echo can cost), 64-byte datagrams:
#     udp-rr with 100 sockets, round trips/s (target: synackd >= 0.90 of
#     echo-udp); udp-stream with 4 sockets flat out, echoes delivered back
#     per second (answered datagrams/s; target >= 0.90); and the load
#     generator against iperf3 -u: synack-load's udp-stream with one socket
#     flat out into bench/echo-udp -D, iperf3 -c -u -b 0 -l 64 (one stream,
#     unlimited) into iperf3 -s, both 64-byte UDP payloads, each on the
#     same CPUs.  Compared: datagrams sent per second, each as the sender
#     counts them (synack-load's datagrams.sent over its duration_s;
#     iperf3's sum_sent.packets over its seconds); target: synack-load >=
#     iperf3 -u.  iperf3 -c needs iperf3 -s (its control connection), so
#     the receivers differ: what each delivered, as the receiving side
#     counts it (echo-udp -D's count, read with SIGUSR1 before and after,
#     over synack-load's duration_s; iperf3's sum_received bytes / 64 over
#     its seconds), is the row below, a measure of the receivers as much.
#
# Output: the table (markdown) on stdout and in RESULTS/table.md, CSV files
# and the gnuplot charts in RESULTS (default: bench/results in the build
# tree; udp.csv for the UDP rows).  Settings from the environment: RUNS,
# DURATION (seconds per run), RESULTS, BUILDDIR, PIN (where the processes
# run, see below), SCENARIOS (all, the default, or udp: only the UDP rows,
# a couple of minutes with the default RUNS and DURATION), and for the
# check MAX_SYSCALLS, MAX_INSTR (per round trip, synackd with
# idle_timeout = 0), MAX_SYSCALLS_MIB (per MiB streamed into discard) and
# MAX_SYSCALLS_MIB_CHARGEN (per MiB read from chargen);
# empty: no check.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

smoke=no
[ "${1:-}" != --smoke ] || smoke=yes
if [ $smoke = yes ]; then
	RUNS=${RUNS:-1}
	STEADY_RUNS=1
	DURATION=${DURATION:-0.5}
	COUNT_LONG=1.5
	HOLD_LEVELS="100 1000"
	HOLD_MAX=2000
	IPERF_T=1 # iperf3 -t takes whole seconds
else
	RUNS=${RUNS:-5}
	DURATION=${DURATION:-2}
	STEADY_RUNS=3
	COUNT_LONG=3
	HOLD_LEVELS="1000 10000"
	HOLD_MAX=${HOLD_MAX:-65536}
	IPERF_T=
fi
STREAM_LEVELS="1 8"
STREAM_KINDS="echo discard chargen"
IPERF_T=${IPERF_T:-$(awk -v d="$DURATION" 'BEGIN { t = int(d + 0.5); print t < 1 ? 1 : t }')}
SCENARIOS=${SCENARIOS:-all}
case $SCENARIOS in
all | udp) ;;
*) die "SCENARIOS=$SCENARIOS: all or udp" ;;
esac
RR_LEVELS="1 10 100 1000"
COUNT_SHORT=0.3 # connect, a few round trips, close: the fixed part of a count
HOLD_RATE=20000 # connections per second: quick, and no SYN is dropped here
RESULTS=${RESULTS:-$BUILDDIR/bench/results}
MAX_SYSCALLS=${MAX_SYSCALLS:-}
MAX_INSTR=${MAX_INSTR:-}
MAX_SYSCALLS_MIB=${MAX_SYSCALLS_MIB:-}
MAX_SYSCALLS_MIB_CHARGEN=${MAX_SYSCALLS_MIB_CHARGEN:-}
TARGET_SYSCALLS=2.10
TARGET_INSTR=700
TARGET_SYSCALLS_MIB=40
EPOLL=$BUILDDIR/bench/echo-epoll
BUFFEREVENT=$BUILDDIR/bench/echo-bufferevent
REF_LOAD=$BUILDDIR/bench/ref-load
ECHO_UDP=$BUILDDIR/bench/echo-udp
UDP_SIZE=64

need jq strace valgrind gnuplot curl iperf3
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: run scripts/deps.sh"
for bin in "$SYNACKD" "$LOAD" "$EPOLL" "$BUFFEREVENT" "$REF_LOAD" "$ECHO_UDP"; do
	[ -x "$bin" ] || die "$bin is not built (run make)"
done

raise_nofile
NOFILE=$(ulimit -n)
# What one process may hold: its limit less the descriptors it needs itself
# (synackd keeps 32 and one per listener).
LIMIT=$((NOFILE - 64))
[ "$LIMIT" -le "$HOLD_MAX" ] || LIMIT=$HOLD_MAX
HOLD_LEVELS="$HOLD_LEVELS $LIMIT"

# Where the processes run, PIN: "same" (default) puts a server and its load
# generator on one CPU, the last; "split" the server on the first CPU and
# the generator on the second; "no" leaves it to the scheduler.  On a small
# virtual machine "no" is a lottery (one run puts a ping-pong on one CPU,
# the next on two, a factor of up to 10 for one connection), and "split"
# makes every round trip a wake-up across CPUs by interrupt (~50 us here),
# which hides what the servers themselves cost.  On one CPU the rate is
# the work of one round trip, server, client and kernel, and it repeats
# within a few percent even on a busy machine; the other CPUs stay free.
# The two-thread servers and their clients are never pinned.  Bulk data
# is the other way round: on one CPU a stream is the sum of both sides'
# copies, while a user's load generator runs on another CPU or host, so
# the stream scenarios run with both, "same" and "split", whatever PIN says.
PIN=${PIN:-same}
ncpu=$(getconf _NPROCESSORS_ONLN)
pin() { # same | split | no: sets SERVER_CPU and CLIENT_CPU
	SERVER_CPU=()
	CLIENT_CPU=()
	command -v taskset >/dev/null 2>&1 || return 0
	case $1 in
	same)
		SERVER_CPU=(taskset -c $((ncpu - 1)))
		CLIENT_CPU=(taskset -c $((ncpu - 1)))
		;;
	split)
		[ "$ncpu" -lt 2 ] || SERVER_CPU=(taskset -c 0) CLIENT_CPU=(taskset -c 1)
		;;
	esac
}
pin "$PIN"
STREAM_PINS="same split"
[ $smoke = no ] || STREAM_PINS=split # every stream once: one pinning is enough
[ "$ncpu" -ge 2 ] && command -v taskset >/dev/null 2>&1 || STREAM_PINS=no
PINNED_CLIENT=("${CLIENT_CPU[@]}")

TMP=$(mktemp -d)
declare -A WPID SPID PORT
LOADPID=
SCRAPEPID=
cleanup() {
	if [ -n "$LOADPID" ]; then
		# the subshell, /usr/bin/time under it, synack-load under that
		kill $(pgrep -P "$(pgrep -d, -P "$LOADPID")") $(pgrep -P "$LOADPID") "$LOADPID" \
		    2>/dev/null || true
	fi
	[ -z "$SCRAPEPID" ] || kill "$SCRAPEPID" 2>/dev/null || true
	for s in "${!WPID[@]}"; do
		kill -KILL "${SPID[$s]:-${WPID[$s]}}" "${WPID[$s]}" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

mkdir -p "$RESULTS"
(cd "$RESULTS" && rm -f table.md raw.csv summary.csv rr.csv hold.csv stream.csv udp.csv syscalls.csv \
    syscalls-stream.csv syscalls-crr.csv \
    strace-*.txt callgrind-*.txt rr-throughput.png hold-rss.png stream-throughput.png)
echo "scenario,connections,server,run,metric,value" >"$RESULTS/raw.csv"

# synackd's configurations: conf NAME SERVICE IDLE_TIMEOUT [WORKERS [METRICS]]
conf() {
	{
		echo "[server]"
		echo "max_clients = $LIMIT"
		echo "idle_timeout = $3"
		echo "shutdown_timeout = 1"
		[ -z "${4:-}" ] || echo "workers = $4"
		[ -z "${5:-}" ] || echo "metrics = 127.0.0.1:0"
		echo "[listener bench]"
		echo "service = $2"
		echo "address = 127.0.0.1"
		echo "port = 0"
		echo "backlog = 4096"
		[ -z "${4:-}" ] || echo "reuseport = yes"
	} >"$TMP/$1.conf"
}
conf synackd echo 0
conf synackd-idle echo 300
conf synackd-w2 echo 0 2
conf synackd-discard discard 0
conf synackd-chargen chargen 0
conf synackd-metrics echo 0 "" yes
{
	echo "[server]"
	echo "shutdown_timeout = 1"
	echo "[listener bench]"
	echo "service = echo"
	echo "transport = udp"
	echo "rcvbuf = 4194304" # what bench/echo-udp asks for
	echo "address = 127.0.0.1"
	echo "port = 0"
} >"$TMP/synackd-udp.conf"

server_argv() {
	case $1 in
	synackd*) ARGV=("$SYNACKD" -c "$TMP/$1.conf") ;;
	epoll) ARGV=("$EPOLL") ;;
	epoll-t2) ARGV=("$EPOLL" -t 2) ;;
	epoll-discard) ARGV=("$EPOLL" -D) ;;
	epoll-chargen) ARGV=("$EPOLL" -C) ;;
	bufferevent) ARGV=("$BUFFEREVENT") ;;
	echo-udp) ARGV=("$ECHO_UDP") ;;
	echo-udp-discard) ARGV=("$ECHO_UDP" -D) ;;
	*) die "no server $1" ;;
	esac
}

# start NAME [plain | strace FILE | callgrind FILE]: sets WPID (what to wait
# for), SPID (the server itself: signals, /proc) and PORT.
start() {
	local s=$1 how=${2:-plain} out=${3:-} log=$TMP/$1.log i
	local pin=("${SERVER_CPU[@]}") wrap=()
	server_argv "$s"
	case $s in *-w2 | *-t2) pin=() ;; esac
	case $how in
	strace) wrap=(strace -f -c -o "$out") ;;
	callgrind) wrap=(valgrind -q --tool=callgrind "--callgrind-out-file=$out") ;;
	esac
	: >"$log"
	"${pin[@]}" "${wrap[@]}" "${ARGV[@]}" >"$log" 2>&1 &
	WPID[$s]=$!
	PORT[$s]=
	for i in $(seq 600); do # valgrind takes its time
		PORT[$s]=$(listen_port "$log")
		[ -z "${PORT[$s]}" ] || break
		alive "${WPID[$s]}" || { cat "$log" >&2; die "$s did not start"; }
		sleep 0.05
	done
	[ -n "${PORT[$s]}" ] || die "$s did not start within 30 s"
	SPID[$s]=${WPID[$s]}
	[ "$how" != strace ] || SPID[$s]=$(pgrep -P "${WPID[$s]}" | head -1)
}

# The wrappers forward nothing: signal the server, wait for the wrapper.
stop() {
	local s=$1 i
	kill -TERM "${SPID[$s]}" 2>/dev/null || true
	for i in $(seq 600); do
		alive "${WPID[$s]}" || break
		sleep 0.05
	done
	kill -KILL "${WPID[$s]}" 2>/dev/null || true
	wait "${WPID[$s]}" 2>/dev/null || true
	unset "WPID[$s]"
}

target() {
	echo "127.0.0.1:${PORT[$1]}"
}

# iperf3's server takes no port 0: it is started on a port chosen at random
# below the ephemeral range (where the kernel gives out no port of its own),
# and again on another if it cannot bind that one; --forceflush makes its
# "Server listening on PORT" line appear at once.  Any other failure, or
# ten ports taken, ends the bench.
iperf_start() {
	local log=$TMP/iperf3.log lo try i
	lo=$(awk '{ print $1 }' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
	for try in $(seq 10); do
		PORT[iperf3]=$((1024 + RANDOM % (lo - 1024)))
		: >"$log"
		"${SERVER_CPU[@]}" iperf3 -s -p "${PORT[iperf3]}" --forceflush >"$log" 2>&1 &
		WPID[iperf3]=$!
		SPID[iperf3]=$!
		for i in $(seq 200); do
			grep -q "^Server listening on ${PORT[iperf3]}" "$log" && return 0
			alive "${WPID[iperf3]}" || break
			sleep 0.05
		done
		wait "${WPID[iperf3]}" 2>/dev/null || true
		unset "WPID[iperf3]"
		grep -q "Address already in use" "$log" ||
		    { cat "$log" >&2; die "iperf3 -s -p ${PORT[iperf3]} did not start"; }
		echo "bench: iperf3 -s: port ${PORT[iperf3]} is taken, trying another" >&2
	done
	die "iperf3 -s: no free port in 10 tries"
}

# sload JSON ARGS...: synack-load (pinned as CLIENT_CPU says, under
# /usr/bin/time: its CPU seconds in JSON.time); any failed connection fails
# the bench.
sload() {
	sload_try "$@" || die "synack-load ${*:2} failed"
}

# sload_try JSON ARGS...: the same, but a failed run returns 1 (said on stderr)
sload_try() {
	local out=$1 rc=0
	shift
	"${CLIENT_CPU[@]}" /usr/bin/time -f '%U %S' -o "$out.time" \
	    "$LOAD" -q --json "$@" >"$out" 2>"$out.err" || rc=$?
	[ $rc -eq 0 ] || { cat "$out.err" "$out" >&2; echo "synack-load: exit $rc" >&2; return 1; }
	load_ok "$out" || { cat "$out" >&2; echo "synack-load: connections failed" >&2; return 1; }
}

rec() { # scenario connections server run metric value
	echo "$1,$2,$3,$4,$5,$6" >>"$RESULTS/raw.csv"
}

# med scenario connections server metric: the median of the runs, or nothing
med() {
	awk -F, -v s="$1" -v c="$2" -v v="$3" -v m="$4" \
	    '$1 == s && $2 == c && $3 == v && $5 == m { print $6 }' "$RESULTS/raw.csv" |
	    sort -g | awk '{ x[NR] = $1 } END {
		if (NR % 2) print x[(NR + 1) / 2]; else if (NR) print (x[NR / 2] + x[NR / 2 + 1]) / 2 }'
}

fmt() { # printf-format value: the value, or what it says when not a number
	awk -v f="$1" -v x="$2" 'BEGIN { if (x ~ /^[0-9.e+-]+$/) printf f, x; else printf "%s", (x == "" ? "-" : x) }'
}
ratio() {
	awk -v a="$1" -v b="$2" 'BEGIN {
		if (a ~ /^[0-9.e+-]+$/ && b ~ /^[0-9.e+-]+$/ && b > 0) printf "%.2f", a / b; else printf "-" }'
}

# rotate N WORD...: the words, starting with the Nth (mod their number)
rotate() {
	local n=$1 i
	shift
	local w=("$@")
	for ((i = 0; i < ${#w[@]}; i++)); do
		echo "${w[(i + n) % ${#w[@]}]}"
	done
}

# One request/response run: rr or crr against SERVER (ref-load: the
# reference client against synackd).
rr_run() { # mode connections server run
	local m=$1 c=$2 s=$3 run=$4 j=$TMP/load.json out
	if [ "$s" = ref-load ]; then
		out=$("${CLIENT_CPU[@]}" "$REF_LOAD" -m "$m" -c "$c" -d "$DURATION" "$(target synackd)") ||
		    die "ref-load -m $m -c $c failed"
		case $out in *" errors 0"*) ;; *) die "ref-load -m $m -c $c: $out" ;; esac
		rec "$m" "$c" ref-load "$run" rate "$(echo "$out" | sed -n 's/.* requests_per_s \([0-9.]*\) .*/\1/p')"
		return
	fi
	sload "$j" -m "$m" -c "$c" -d "$DURATION" "$(target "$s")"
	rec "$m" "$c" "$s" "$run" rate "$(jq .requests_per_s "$j")"
	if [ "$m" = rr ] && [ "$c" = 1 ]; then
		rec rr 1 "$s" "$run" p50 "$(jq .latency_us.p50 "$j")"
		rec rr 1 "$s" "$run" p99 "$(jq .latency_us.p99 "$j")"
	fi
}

# hold_run SERVER N RUN: a fresh server, N idle connections, its RSS before
# and once it holds them all; then synack-load's last echo on each.
hold_run() {
	local s=$1 n=$2 run=$3 j=$TMP/hold.json fds0 rss0 rss1 i d
	start "$s"
	fds0=$(fd_count "${SPID[$s]}")
	rss0=$(rss_kib "${SPID[$s]}")
	d=$(awk -v n="$n" -v r="$HOLD_RATE" -v s=$smoke 'BEGIN { print n / r + (s == "yes" ? 1 : 2) }')
	sload "$j" -m hold -c "$n" -r "$HOLD_RATE" -d "$d" -b 127.0.0.2-127.0.0.9 "$(target "$s")" &
	LOADPID=$!
	rss1=
	for i in $(seq 2000); do
		if [ "$(fd_count "${SPID[$s]}")" -ge $((fds0 + n)) ]; then
			sleep 0.1
			rss1=$(rss_kib "${SPID[$s]}")
			break
		fi
		alive "$LOADPID" || break
		sleep 0.05
	done
	wait "$LOADPID" || die "hold $n against $s failed"
	LOADPID=
	[ -n "$rss1" ] || die "hold $n: $s never held all $n connections at once"
	stop "$s"
	rec hold "$n" "$s" "$run" rss_kib "$((rss1 - rss0))"
	rec hold "$n" "$s" "$run" bytes_per_client "$(((rss1 - rss0) * 1024 / n))"
}

# count_run SERVER strace|callgrind DURATION FILE: sets TOTAL (system calls
# or instructions of the server's whole life) and REQS (round trips; with
# COUNT_LOAD=stream, bytes streamed into it by one connection; with
# COUNT_LOAD=crr, connections made, each with one round trip)
COUNT_LOAD=rr
#
# A short run on a machine that other work stalls for a moment may end
# before its first round trip (seen: 32 of 100 connected, none answered, in
# 0.3 s): it is run again, three times at most, each with a fresh server.
count_run() {
	local s=$1 how=$2 d=$3 f=$4 try ok
	for try in 1 2 3; do
		start "$s" "$how" "$f"
		ok=yes
		if [ "$COUNT_LOAD" = stream ]; then
			sload_try "$TMP/count.json" -m stream --direction "$(stream_dir "$s")" -c 1 \
			    -s 16384 -d "$d" "$(target "$s")" || ok=no
		elif [ "$COUNT_LOAD" = crr ]; then
			sload_try "$TMP/count.json" -m crr -c 32 -s 64 -d "$d" "$(target "$s")" || ok=no
		else
			sload_try "$TMP/count.json" -m rr -c 100 -s 64 -d "$d" "$(target "$s")" || ok=no
		fi
		stop "$s"
		[ $ok = no ] || break
		[ "$try" -lt 3 ] || die "$s under $how: synack-load failed 3 times"
		echo "bench: $s under $how: again (try $((try + 1)) of 3)" >&2
	done
	case $how in
	strace) TOTAL=$(awk '$NF == "total" { print $4 }' "$f") ;;
	callgrind) TOTAL=$(sed -n 's/^summary: //p' "$f") ;;
	esac
	case $COUNT_LOAD in
	stream) REQS=$(jq "if .bytes_sent > 0 then .bytes_sent else .bytes_received end" \
	    "$TMP/count.json") ;;
	*) REQS=$(jq .requests "$TMP/count.json") ;;
	esac
}

# counts SERVER strace|callgrind METRIC: the count per round trip of
# STEADY_RUNS runs of COUNT_LONG seconds, each less a run that only
# connects, makes a few round trips and closes (start-up, the connections'
# setup and teardown cancel out; a long run less another long one would
# mix their states, see below).  Keeps the first run's detail in RESULTS:
# for strace, the calls per round trip by system call.  COUNT_LOAD=stream:
# per MiB streamed into the server instead (scenario count-stream);
# COUNT_LOAD=crr: per connection accepted, served and closed (scenario
# count-crr: what each accept costs, the handshake inspection included).
#
# The instructions of a server that allocates in each round trip are not
# quite noise-free: glibc's malloc, as the heap happens to be laid out after
# the connections' setup, serves the chunks from its fast path in most runs
# and from a slower one in others, for the whole run (up to 6% more, seen
# here).
# stream_dir SERVER: what a stream does with it: reads from a chargen,
# sends into the rest.
stream_dir() {
	case $1 in
	*-chargen) echo receive ;;
	*) echo send ;;
	esac
}

counts() {
	local s=$1 how=$2 metric=$3 run tot0 r0 f scen=count c=100 unit=1 tag=
	[ "$COUNT_LOAD" != stream ] || scen=count-stream c=1 unit=1048576
	[ "$COUNT_LOAD" != crr ] || scen=count-crr c=32 tag=crr-
	count_run "$s" "$how" "$COUNT_SHORT" "$TMP/$s.$how.short"
	tot0=$TOTAL r0=$REQS
	for run in $(seq "$STEADY_RUNS"); do
		f=$TMP/$s.$how.$run
		count_run "$s" "$how" "$COUNT_LONG" "$f"
		[ "$REQS" -gt "$r0" ] || die "$s under $how: no round trip beyond the first few"
		rec "$scen" "$c" "$s" "$run" "$metric" "$(awk -v t0="$tot0" -v r0="$r0" -v t="$TOTAL" \
		    -v r="$REQS" -v u="$unit" 'BEGIN { printf "%.4f\n", (t - t0) / ((r - r0) / u) }')"
		[ "$run" = 1 ] || continue
		if [ "$how" = strace ]; then
			awk -v s="$s" -v r="$(awk -v a="$REQS" -v b="$r0" -v u="$unit" \
			    'BEGIN { print (a - b) / u }')" '
			    FNR == 1 { f++ }
			    /^ *[0-9]/ && $NF != "total" { n[$NF] += (f == 1 ? -$4 : $4) }
			    END { for (k in n) if (n[k] / r >= 0.005) printf "%s,%s,%.3f\n", s, k, n[k] / r }' \
			    "$TMP/$s.$how.short" "$f" | sort -t, -k3,3gr \
			    >>"$RESULTS/syscalls$([ "$scen" = count ] || echo "-${scen#count-}").csv"
			cp "$f" "$RESULTS/strace-$tag$s.txt"
		else
			callgrind_annotate "$f" >"$RESULTS/callgrind-$tag$s.txt" 2>&1 || true
		fi
	done
}

step() {
	echo "bench: $* ($(($(date +%s) - t0)) s)" >&2
}

# scrape SERVER: read its /metrics once a second (a busy Prometheus reads
# every 15 s) until stopped; every read must succeed.
scrape() {
	local port
	port=$(listen_port "$TMP/$1.log" metrics)
	[ -n "$port" ] || die "$1: no metrics endpoint in its log"
	while :; do
		curl -sf -o /dev/null "http://127.0.0.1:$port/metrics" ||
		    { echo "bench: GET /metrics on $1 failed" >&2; kill -TERM $$; exit 1; }
		sleep 1
	done
}

# UDP.  udp_run WHAT SERVER RUN: rr (udp-rr, 100 sockets), echo (udp-stream,
# 4 sockets flat out, the echoes back), send (udp-stream, 1 socket flat out
# into echo-udp -D, delivered as it counts them) or iperf3 (iperf3 -u, one
# stream flat out).  Rates per second: rate (round trips, echoes delivered
# back, or datagrams delivered to the discard) and sent.
udp_received() { # SERVER: the datagrams echo-udp has received so far (SIGUSR1)
	local s=$1 log=$TMP/$1.log n i
	n=$(grep -c '^received ' "$log" || true)
	kill -USR1 "${SPID[$s]}"
	for i in $(seq 200); do
		[ "$(grep -c '^received ' "$log" || true)" -le "$n" ] || break
		sleep 0.01
	done
	sed -n 's/^received \([0-9]*\) datagrams.*/\1/p' "$log" | tail -1
}

udp_run() {
	local what=$1 s=$2 run=$3 j=$TMP/udp.json before after m
	udp_run_once "$what" "$s" "$run"
	# every rate a number above 0: a scenario that measured nothing fails the bench
	for m in rate sent; do
		awk -F, -v r="$run" -v m="$m" '$4 == r && $5 == m && $1 ~ /^udp-/ && !($6 > 0) { exit 1 }' \
		    "$RESULTS/raw.csv" || die "UDP $what against $s: $m is not a rate: $(tail -2 "$RESULTS/raw.csv")"
	done
}

udp_run_once() {
	local what=$1 s=$2 run=$3 j=$TMP/udp.json before after rc
	case $what in
	rr)
		sload "$j" -m udp-rr -c 100 -s "$UDP_SIZE" -d "$DURATION" --request-timeout 1s \
		    "$(target "$s")"
		rec udp-rr 100 "$s" "$run" rate "$(jq .requests_per_s "$j")"
		rec udp-rr 100 "$s" "$run" sent "$(jq '.datagrams.sent / .duration_s' "$j")"
		;;
	echo)
		sload "$j" -m udp-stream -c 4 -s "$UDP_SIZE" -d "$DURATION" "$(target "$s")"
		rec udp-echo 4 "$s" "$run" rate "$(jq .requests_per_s "$j")"
		rec udp-echo 4 "$s" "$run" sent "$(jq '.datagrams.sent / .duration_s' "$j")"
		;;
	send)
		# nothing comes back from a discard: exit 3 (nothing completed) says so
		before=$(udp_received "$s")
		rc=0
		"${CLIENT_CPU[@]}" "$LOAD" -q --json -m udp-stream -c 1 -s "$UDP_SIZE" -d "$DURATION" \
		    "$(target "$s")" >"$j" 2>"$j.err" || rc=$?
		after=$(udp_received "$s")
		{ [ $rc -eq 0 ] || [ $rc -eq 3 ]; } &&
		    jq -e '.datagrams.sent > 0 and ([.errors[]] | add) == 0' "$j" >/dev/null ||
		    { cat "$j.err" "$j" >&2; die "synack-load udp-stream into echo-udp -D: exit $rc"; }
		rec udp-send 1 synack-load "$run" rate \
		    "$(jq -n "($after - $before) / $(jq .duration_s "$j")")"
		rec udp-send 1 synack-load "$run" sent "$(jq '.datagrams.sent / .duration_s' "$j")"
		;;
	iperf3)
		"${CLIENT_CPU[@]}" iperf3 -c 127.0.0.1 -p "${PORT[iperf3]}" -u -b 0 -l "$UDP_SIZE" \
		    -t "$IPERF_T" -J >"$j" 2>&1 || { cat "$j" >&2; die "iperf3 -c -u failed"; }
		rec udp-send 1 iperf3 "$run" rate \
		    "$(jq ".end.sum_received.bytes / $UDP_SIZE / .end.sum_received.seconds" "$j")"
		rec udp-send 1 iperf3 "$run" sent "$(jq '.end.sum_sent.packets / .end.sum_sent.seconds' "$j")"
		;;
	esac
}

# The servers wait side by side; each run visits them all in a rotating order.
udp_bench() {
	local run item a b s
	step "UDP: udp-rr 100 sockets, 64-byte echoes, udp-stream against iperf3 -u"
	for s in synackd-udp echo-udp echo-udp-discard; do
		start "$s"
	done
	iperf_start
	for run in $(seq "$RUNS"); do
		for item in $(rotate "$run" rr:synackd-udp rr:echo-udp echo:synackd-udp \
		    echo:echo-udp send:echo-udp-discard iperf3:iperf3); do
			IFS=: read -r a b <<<"$item"
			udp_run "$a" "$b" "$run"
		done
	done
	for s in synackd-udp echo-udp echo-udp-discard iperf3; do
		stop "$s"
	done
}

udp_table() {
	local a b
	echo "| UDP, 64-byte datagrams | synackd (transport = udp) | echo-udp | synackd / echo-udp |"
	echo "|---|---|---|---|"
	a=$(med udp-rr 100 synackd-udp rate)
	b=$(med udp-rr 100 echo-udp rate)
	printf '| udp-rr, 100 sockets: round trips/s (target >= 0.90) | %s | %s | %s |\n' \
	    "$(fmt %.0f "$a")" "$(fmt %.0f "$b")" "$(ratio "$a" "$b")"
	a=$(med udp-echo 4 synackd-udp rate)
	b=$(med udp-echo 4 echo-udp rate)
	printf '| udp-stream, 4 sockets flat out: echoes back/s (target >= 0.90) | %s | %s | %s |\n' \
	    "$(fmt %.0f "$a")" "$(fmt %.0f "$b")" "$(ratio "$a" "$b")"
	printf '| the same: datagrams sent/s | %s | %s | %s |\n' \
	    "$(fmt %.0f "$(med udp-echo 4 synackd-udp sent)")" "$(fmt %.0f "$(med udp-echo 4 echo-udp sent)")" \
	    "-"
	echo
	echo "| UDP load generators, 1 socket flat out, 64-byte datagrams into a discard | synack-load udp-stream (into echo-udp -D) | iperf3 -u -b 0 (into iperf3 -s) | synack-load / iperf3 (target, sent: >= 1) |"
	echo "|---|---|---|---|"
	for m in sent rate; do
		a=$(med udp-send 1 synack-load "$m")
		b=$(med udp-send 1 iperf3 "$m")
		printf '| %s | %s | %s | %s |\n' \
		    "$([ $m = sent ] && echo "datagrams sent/s" ||
			echo "delivered/s, as each receiver counts them (different receivers)")" \
		    "$(fmt %.0f "$a")" "$(fmt %.0f "$b")" "$(ratio "$a" "$b")"
	done
}

udp_csv() {
	{
		echo "scenario,metric,synackd,echo_udp,synack_load,iperf3"
		for m in rate sent; do
			echo "udp-rr-100,$m,$(med udp-rr 100 synackd-udp "$m"),$(med udp-rr 100 echo-udp "$m"),,"
			echo "udp-echo-4,$m,$(med udp-echo 4 synackd-udp "$m"),$(med udp-echo 4 echo-udp "$m"),,"
			echo "udp-send-1,$m,,,$(med udp-send 1 synack-load "$m"),$(med udp-send 1 iperf3 "$m")"
		done
	} >"$RESULTS/udp.csv"
}

t0=$(date +%s)
echo "synackd against the references, $RUNS run(s) of $DURATION s per case ($STEADY_RUNS for" \
    "memory and counts), medians;" \
    "servers: ${SERVER_CPU[*]:-not pinned}, load generators: ${CLIENT_CPU[*]:-not pinned}" >&2

if [ "$SCENARIOS" = udp ]; then
	udp_bench
	step "done"
	udp_table | tee "$RESULTS/table.md"
	udp_csv
	echo
	echo "results: $RESULTS (table.md, raw.csv, udp.csv)"
	echo "elapsed: $(($(date +%s) - t0)) s"
	exit 0
fi

# rr and crr: the servers wait side by side (an idle one costs nothing) and
# each run visits them all, in an order that rotates.
step "rr with $RR_LEVELS connections, crr with 32"
for s in synackd epoll bufferevent synackd-metrics; do
	start "$s"
done
scrape synackd-metrics &
SCRAPEPID=$!
for c in $RR_LEVELS; do
	for run in $(seq "$RUNS"); do
		list=(synackd epoll bufferevent)
		[ "$c" != 1 ] && [ "$c" != 100 ] || list+=(ref-load)
		[ "$c" != 100 ] || list+=(synackd-metrics)
		for s in $(rotate "$run" "${list[@]}"); do
			rr_run rr "$c" "$s" "$run"
		done
	done
done
for run in $(seq "$RUNS"); do
	for s in $(rotate "$run" synackd epoll bufferevent ref-load); do
		rr_run crr 32 "$s" "$run"
	done
done
kill "$SCRAPEPID"
wait "$SCRAPEPID" 2>/dev/null || true
SCRAPEPID=
for s in synackd epoll bufferevent synackd-metrics; do
	stop "$s"
done

# stream: every kind against synackd and its epoll reference, with 1 and 8
# connections, and iperf3 beside them, the servers waiting side by side and
# each run visiting them all in a rotating order; with PIN=same and split.
# What is measured is the rate of the direction that counts: echoed and
# verified (echo), sent (discard), received and verified (chargen); the
# client's CPU seconds per second of run say whether it was the limit.
stream_run() { # kind connections server run pin
	local k=$1 c=$2 s=$3 run=$4 p=$5 j=$TMP/stream.json dir=both key=bytes_received_per_s
	case $k in
	discard) dir=send key=bytes_sent_per_s ;;
	chargen) dir=receive ;;
	esac
	sload "$j" -m stream --direction "$dir" -c "$c" -s 16384 -d "$DURATION" "$(target "$s")"
	rec "stream-$k-$p" "$c" "${s%%-*}" "$run" mbps "$(jq ".$key / 1e6" "$j")"
	rec "stream-$k-$p" "$c" "${s%%-*}" "$run" client_cpu \
	    "$(awk -v d="$(jq .duration_s "$j")" '{ printf "%.3f\n", ($1 + $2) / d }' "$j.time")"
}

# iperf3 -c: 1 or 8 streams (the client sends), -R (the server sends),
# --bidir (both: the mean of the two directions, comparable with an echo's
# rate).  MB/s, and the client's CPU share as iperf3 reports it.
iperf_run() { # how run pin
	local how=$1 run=$2 p=$3 j=$TMP/iperf3.json args=() c=1 rate
	case $how in
	8) args=(-P 8) c=8 ;;
	R) args=(-R) ;;
	bidir) args=(--bidir) ;;
	esac
	"${CLIENT_CPU[@]}" iperf3 -c 127.0.0.1 -p "${PORT[iperf3]}" -t "$IPERF_T" -J "${args[@]}" \
	    >"$j" 2>&1 || { cat "$j" >&2; die "iperf3 -c ${args[*]} failed"; }
	rate=.end.sum_received.bits_per_second
	[ "$how" != bidir ] || rate="($rate + .end.sum_received_bidir_reverse.bits_per_second) / 2"
	rec "iperf3-$how-$p" "$c" iperf3 "$run" mbps "$(jq "($rate) / 8e6" "$j")"
	rec "iperf3-$how-$p" "$c" iperf3 "$run" client_cpu \
	    "$(jq '.end.cpu_utilization_percent.host_total / 100' "$j")"
}

STREAM_SERVERS="synackd epoll synackd-discard epoll-discard synackd-chargen epoll-chargen"
for p in $STREAM_PINS; do
	step "stream with $STREAM_LEVELS connections, PIN=$p, and iperf3"
	pin "$p"
	for s in $STREAM_SERVERS; do
		start "$s"
	done
	iperf_start
	for run in $(seq "$RUNS"); do
		list=()
		for c in $STREAM_LEVELS; do
			for k in $STREAM_KINDS; do
				case $k in
				echo) list+=("$k:$c:synackd" "$k:$c:epoll") ;;
				*) list+=("$k:$c:synackd-$k" "$k:$c:epoll-$k") ;;
				esac
			done
		done
		list+=(iperf3:1 iperf3:8 iperf3:R iperf3:bidir)
		# the rr 100 row of the other PIN, with the same servers' kin
		[ "$p" = "$PIN" ] || [ $smoke = yes ] || list+=(rr:synackd rr:epoll)
		for item in $(rotate "$run" "${list[@]}"); do
			IFS=: read -r a b d <<<"$item"
			case $a in
			iperf3) iperf_run "$b" "$run" "$p" ;;
			rr)
				sload "$TMP/load.json" -m rr -c 100 -d "$DURATION" "$(target "$b")"
				rec "rr-$p" 100 "$b" "$run" rate "$(jq .requests_per_s "$TMP/load.json")"
				;;
			*) stream_run "$a" "$b" "$d" "$run" "$p" ;;
			esac
		done
	done
	for s in $STREAM_SERVERS iperf3; do
		stop "$s"
	done
done
pin "$PIN"

step "hold $HOLD_LEVELS idle connections"
for n in $HOLD_LEVELS; do
	for run in $(seq "$STEADY_RUNS"); do
		for s in $(rotate "$run" synackd epoll); do
			hold_run "$s" "$n" "$run"
		done
	done
done

# workers: while synackd refuses the key, the row says so and the rest goes on
step "workers = 2 against echo-epoll -t 2, rr 100"
if "$SYNACKD" -t -c "$TMP/synackd-w2.conf" >"$TMP/w2.out" 2>&1; then
	w2=(synackd-w2 epoll-t2)
elif grep -q workers "$TMP/w2.out"; then
	w2=(epoll-t2)
	echo "bench: workers = 2: $(tail -1 "$TMP/w2.out")" >&2
else
	cat "$TMP/w2.out" >&2
	die "synackd refuses the workers = 2 configuration for another reason"
fi
for s in "${w2[@]}"; do
	start "$s"
done
CLIENT_CPU=()
for run in $(seq "$RUNS"); do
	for s in $(rotate "$run" "${w2[@]}"); do
		rr_run rr 100 "$s" "$run"
	done
done
CLIENT_CPU=("${PINNED_CLIENT[@]}")
for s in "${w2[@]}"; do
	stop "$s"
done

step "system calls per round trip (strace -c -f on the server)"
echo "server,syscall,per_round_trip" >"$RESULTS/syscalls.csv"
for s in synackd epoll bufferevent; do
	counts "$s" strace syscalls
done
step "system calls per MiB streamed into discard and from chargen (strace -c -f on the server)"
echo "server,syscall,per_mib" >"$RESULTS/syscalls-stream.csv"
COUNT_LOAD=stream
for s in synackd-discard epoll-discard synackd-chargen epoll-chargen; do
	counts "$s" strace syscalls
done
COUNT_LOAD=crr
step "system calls and instructions per connection, crr (strace -c -f, callgrind on the server)"
echo "server,syscall,per_connection" >"$RESULTS/syscalls-crr.csv"
for s in synackd epoll bufferevent; do
	counts "$s" strace syscalls
	counts "$s" callgrind instructions
done
COUNT_LOAD=rr
step "instructions per round trip (callgrind on the server)"
for s in synackd synackd-idle epoll bufferevent; do
	counts "$s" callgrind instructions
done
udp_bench
step "done"

# The table: medians and the ratios synackd / reference.
stream_label() {
	case $1 in
	echo) echo "into echo" ;;
	discard) echo "into discard" ;;
	chargen) echo "from chargen" ;;
	esac
}
gbit() { # MB/s as Gbit/s
	awk -v x="$1" 'BEGIN { if (x ~ /^[0-9.e+-]+$/) printf "%.2f", x * 8 / 1000; else printf "-" }'
}
row() { # label format synackd epoll bufferevent
	local a=$3 b=$4 c=${5:-}
	printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$(fmt "$2" "$a")" "$(fmt "$2" "$b")" \
	    "$(fmt "$2" "$c")" "$(ratio "$a" "$b")" "$(ratio "$a" "$c")"
	echo "\"$1\",$a,$b,$c,$(ratio "$a" "$b"),$(ratio "$a" "$c")" >>"$RESULTS/summary.csv"
}
echo "scenario,synackd,echo_epoll,echo_bufferevent,synackd_per_epoll,synackd_per_bufferevent" \
    >"$RESULTS/summary.csv"

if [ "$LIMIT" -eq $((NOFILE - 64)) ]; then
	limit_label="the per-process limit, ulimit -n $NOFILE less 64"
else
	limit_label="ulimit -n $NOFILE less 64, capped at $HOLD_MAX"
fi
w2_synackd=$(med rr 100 synackd-w2 rate)
[ -n "$w2_synackd" ] || w2_synackd="n/a (workers > 1 not available in this build)"
{
	echo "| scenario | synackd | echo-epoll | echo-bufferevent | synackd / echo-epoll | synackd / echo-bufferevent |"
	echo "|---|---|---|---|---|---|"
	row "rr, 1 connection: p50 latency, us" %.1f "$(med rr 1 synackd p50)" \
	    "$(med rr 1 epoll p50)" "$(med rr 1 bufferevent p50)"
	row "rr, 1 connection: p99 latency, us" %.1f "$(med rr 1 synackd p99)" \
	    "$(med rr 1 epoll p99)" "$(med rr 1 bufferevent p99)"
	for c in $RR_LEVELS; do
		row "rr, $c connection$([ "$c" = 1 ] || echo s): round trips/s" %.0f \
		    "$(med rr "$c" synackd rate)" "$(med rr "$c" epoll rate)" "$(med rr "$c" bufferevent rate)"
	done
	row "crr, 32 connections: handshakes/s" %.0f "$(med crr 32 synackd rate)" \
	    "$(med crr 32 epoll rate)" "$(med crr 32 bufferevent rate)"
	for p in $STREAM_PINS; do
		for k in $STREAM_KINDS; do
			for c in $STREAM_LEVELS; do
				row "stream $(stream_label "$k"), $c connection$([ "$c" = 1 ] || echo s), PIN=$p: MB/s" \
				    %.0f "$(med "stream-$k-$p" "$c" synackd mbps)" \
				    "$(med "stream-$k-$p" "$c" epoll mbps)"
			done
		done
		[ -z "$(med "rr-$p" 100 synackd rate)" ] || row "rr, 100 connections, PIN=$p: round trips/s" \
		    %.0f "$(med "rr-$p" 100 synackd rate)" "$(med "rr-$p" 100 epoll rate)"
	done
	for n in $HOLD_LEVELS; do
		label="hold, $n idle connections"
		[ "$n" != "$LIMIT" ] || label="hold, $n idle connections ($limit_label)"
		row "$label: RSS bytes per client" %.0f "$(med hold "$n" synackd bytes_per_client)" \
		    "$(med hold "$n" epoll bytes_per_client)"
	done
	row "workers = 2 (echo-epoll -t 2), rr, 100 connections: round trips/s" %.0f \
	    "$w2_synackd" "$(med rr 100 epoll-t2 rate)"
	row "rr, 100 connections, 64 B: system calls per round trip" %.2f \
	    "$(med count 100 synackd syscalls)" "$(med count 100 epoll syscalls)" \
	    "$(med count 100 bufferevent syscalls)"
	row "rr, 100 connections, 64 B: instructions per round trip" %.0f \
	    "$(med count 100 synackd instructions)" "$(med count 100 epoll instructions)" \
	    "$(med count 100 bufferevent instructions)"
	row "the same, synackd with idle_timeout = 300" %.0f \
	    "$(med count 100 synackd-idle instructions)" "$(med count 100 epoll instructions)" \
	    "$(med count 100 bufferevent instructions)"
	row "crr, 32 connections, 64 B: system calls per connection" %.2f \
	    "$(med count-crr 32 synackd syscalls)" "$(med count-crr 32 epoll syscalls)" \
	    "$(med count-crr 32 bufferevent syscalls)"
	row "crr, 32 connections, 64 B: instructions per connection" %.0f \
	    "$(med count-crr 32 synackd instructions)" "$(med count-crr 32 epoll instructions)" \
	    "$(med count-crr 32 bufferevent instructions)"
	row "stream into discard (echo-epoll -D), 1 connection: system calls per MiB" %.1f \
	    "$(med count-stream 1 synackd-discard syscalls)" "$(med count-stream 1 epoll-discard syscalls)"
	row "stream from chargen (echo-epoll -C), 1 connection: system calls per MiB" %.1f \
	    "$(med count-stream 1 synackd-chargen syscalls)" "$(med count-stream 1 epoll-chargen syscalls)"
	echo
	echo "| stream against iperf3 on the same loopback: Gbit/s | synackd | echo-epoll (-D, -C) | iperf3 | synackd / iperf3 | echo-epoll / iperf3 (synack-load's reach) | client CPU s per s: synack-load (with echo-epoll), iperf3 |"
	echo "|---|---|---|---|---|---|---|"
	for p in $STREAM_PINS; do
		for krc in "discard 1 1" "discard 8 8" "chargen 1 R" "echo 1 bidir"; do
			set -- $krc
			a=$(med "stream-$1-$p" "$2" synackd mbps)
			b=$(med "stream-$1-$p" "$2" epoll mbps)
			i=$(med "iperf3-$3-$p" "$2" iperf3 mbps)
			case $3 in
			1) il="1 stream" ;;
			8) il="-P 8" ;;
			R) il="-R" ;;
			bidir) il="--bidir, the mean of its two directions" ;;
			esac
			printf '| %s, %s connection%s, PIN=%s (iperf3 %s) | %s | %s | %s | %s | %s | %s, %s |\n' \
			    "$(stream_label "$1")" "$2" "$([ "$2" = 1 ] || echo s)" "$p" "$il" \
			    "$(gbit "$a")" "$(gbit "$b")" "$(gbit "$i")" "$(ratio "$a" "$i")" \
			    "$(ratio "$b" "$i")" "$(fmt %.2f "$(med "stream-$1-$p" "$2" epoll client_cpu)")" \
			    "$(fmt %.2f "$(med "iperf3-$3-$p" "$2" iperf3 client_cpu)")"
		done
	done
	echo
	echo "| load generator, against synackd | synack-load | bench/ref-load | synack-load / ref-load |"
	echo "|---|---|---|---|"
	for mc in "rr 1" "rr 100" "crr 32"; do
		set -- $mc
		a=$(med "$1" "$2" synackd rate)
		b=$(med "$1" "$2" ref-load rate)
		printf '| %s, %s connection%s: %s/s | %s | %s | %s |\n' "$1" "$2" \
		    "$([ "$2" = 1 ] || echo s)" "$([ "$1" = rr ] && echo "round trips" || echo handshakes)" \
		    "$(fmt %.0f "$a")" "$(fmt %.0f "$b")" "$(ratio "$a" "$b")"
	done
	echo
	echo "| synackd, rr, 100 connections: round trips/s | metrics off | metrics on, /metrics read every second | on / off |"
	echo "|---|---|---|---|"
	a=$(med rr 100 synackd rate)
	b=$(med rr 100 synackd-metrics rate)
	printf '| medians of %s runs | %s | %s | %s |\n' "$RUNS" "$(fmt %.0f "$a")" "$(fmt %.0f "$b")" \
	    "$(ratio "$b" "$a")"
	echo
	udp_table
	echo
	echo "System calls per round trip, by call (rr, 100 connections):"
	for s in synackd epoll bufferevent; do
		awk -F, -v s="$s" '$1 == s { l = l sprintf(" %s %s", $2, $3) } END { print "  " s ":" l }' \
		    "$RESULTS/syscalls.csv"
	done
	echo "System calls per MiB, by call (stream into discard and from chargen, 1 connection):"
	for s in synackd-discard epoll-discard synackd-chargen epoll-chargen; do
		awk -F, -v s="$s" '$1 == s { l = l sprintf(" %s %s", $2, $3) } END { print "  " s ":" l }' \
		    "$RESULTS/syscalls-stream.csv"
	done
	echo "System calls per connection, by call (crr, 32 connections):"
	for s in synackd epoll bufferevent; do
		awk -F, -v s="$s" '$1 == s { l = l sprintf(" %s %s", $2, $3) } END { print "  " s ":" l }' \
		    "$RESULTS/syscalls-crr.csv"
	done
} | tee "$RESULTS/table.md"

# The charts' data, then the charts.
{
	echo "connections,synackd,echo-epoll,echo-bufferevent"
	for c in $RR_LEVELS; do
		echo "$c,$(med rr "$c" synackd rate),$(med rr "$c" epoll rate),$(med rr "$c" bufferevent rate)"
	done
} >"$RESULTS/rr.csv"
{
	echo "connections,synackd_mib,echo_epoll_mib,synackd_bytes_per_client,echo_epoll_bytes_per_client"
	for n in $HOLD_LEVELS; do
		a=$(med hold "$n" synackd rss_kib)
		b=$(med hold "$n" epoll rss_kib)
		echo "$n,$(awk -v x="$a" 'BEGIN { printf "%.2f", x / 1024 }'),$(awk -v x="$b" 'BEGIN { printf "%.2f", x / 1024 }'),$(med hold "$n" synackd bytes_per_client),$(med hold "$n" epoll bytes_per_client)"
	done
} >"$RESULTS/hold.csv"
{
	printf 'connections'
	for p in $STREAM_PINS; do
		for k in $STREAM_KINDS; do
			printf ',%s_%s_synackd,%s_%s_epoll' "$p" "$k" "$p" "$k"
		done
		printf ',%s_iperf3' "$p"
	done
	echo
	for c in $STREAM_LEVELS; do
		printf '%s' "$c"
		for p in $STREAM_PINS; do
			for k in $STREAM_KINDS; do
				printf ',%s,%s' "$(med "stream-$k-$p" "$c" synackd mbps)" \
				    "$(med "stream-$k-$p" "$c" epoll mbps)"
			done
			printf ',%s' "$(med "iperf3-$c-$p" "$c" iperf3 mbps)"
		done
		echo
	done
} >"$RESULTS/stream.csv"
udp_csv
gnuplot -e "dir='$RESULTS'; pins='$STREAM_PINS'" "$here/plot.gp"

echo
echo "results: $RESULTS (table.md, raw.csv, summary.csv, rr.csv, hold.csv, stream.csv, udp.csv, syscalls.csv, syscalls-stream.csv, syscalls-crr.csv,"
echo "  rr-throughput.png, hold-rss.png, stream-throughput.png)"
echo "elapsed: $(($(date +%s) - t0)) s"

# The counts hardly move between runs, so they can be held to a threshold;
# the targets are where synackd is to get, not checked yet.
status=0
check() { # what value threshold target
	local verdict=ok
	if [ -n "$3" ] && awk -v v="$2" -v t="$3" 'BEGIN { exit !(v > t) }'; then
		verdict=FAILED
		status=1
	fi
	printf 'synackd %s: %s (threshold %s: %s; target <= %s: %s)\n' "$1" "$2" "${3:-none}" \
	    "$([ -n "$3" ] && echo "$verdict" || echo "not checked")" "$4" \
	    "$(awk -v v="$2" -v t="$4" 'BEGIN { print (v <= t) ? "reached" : "not yet" }')"
}
check "system calls per round trip" "$(fmt %.2f "$(med count 100 synackd syscalls)")" \
    "$MAX_SYSCALLS" "$TARGET_SYSCALLS"
check "instructions per round trip" "$(fmt %.0f "$(med count 100 synackd instructions)")" \
    "$MAX_INSTR" "$TARGET_INSTR"
check "system calls per MiB streamed into discard" \
    "$(fmt %.1f "$(med count-stream 1 synackd-discard syscalls)")" "$MAX_SYSCALLS_MIB" \
    "$TARGET_SYSCALLS_MIB"
check "system calls per MiB streamed from chargen" \
    "$(fmt %.1f "$(med count-stream 1 synackd-chargen syscalls)")" "$MAX_SYSCALLS_MIB_CHARGEN" \
    "$TARGET_SYSCALLS_MIB"
exit $status

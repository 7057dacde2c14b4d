#!/bin/bash
# SPDX-License-Identifier: ISC
# bench/c100k.sh [TARGET]: TARGET concurrent clients (default 100000) held
# idle for HOLD seconds (default 60), then each one verified by an echo.
#
# One process has at most `ulimit -n` descriptors, so several synackd
# processes share one port (reuseport = yes: the kernel spreads the
# connections by a hash of the addresses), driven by several synack-load
# processes in hold mode, each with its own range of source addresses in
# 127.0.0.0/8 (one source address reaches one server port with at most as
# many connections as there are ephemeral ports).  Everything is sized from
# this machine's limits: the open-file limit, the ephemeral port range,
# somaxconn, fs.file-max and the memory available.
#
# Reports the server RSS per client (all synackd processes together), the
# kernel memory per connection (Slab and the TCP pages of /proc/net/sockstat,
# before and during; both ends of each connection are on this machine),
# the CPU seconds used, and the handshake rate reached.  Fails unless every
# connection was established and verified (synack-load's --json report).
#
# As root it runs in a network namespace of its own (NETNS=no: in the
# machine's): its loopback, its listen and SYN queue limits, and its TCP
# counters, so that a dropped SYN is this run's and no other work's.  Each
# second of the ramp it records what could drop a handshake: the listen
# queues' overflows (ListenOverflows, ListenDrops), SYN queue drops, the
# SYNs retransmitted, the loopback's backlog drops (softnet_stat), and the
# deepest accept queue of each synackd against its backlog; when any
# handshake was dropped it says in which seconds, and which queue was full.
#
# A safety stop ends the run early, and says why, when MemAvailable falls
# under MEM_FLOOR_MIB (default: 2 GiB or 10% of the memory, the larger),
# when the open files near fs.file-max, or when no connection is added for
# 30 s.  Settings: HOLD, RATE (handshakes per second, all loaders together),
# STALL (seconds of that rate each listen queue absorbs), BURST (last echoes
# at once), MEM_FLOOR_MIB, NETNS, RESULTS.
set -eu

here=$(cd "$(dirname "$0")" && pwd)
. "$here/lib.sh"

TARGET=${1:-100000}
HOLD=${HOLD:-60}
RESULTS=${RESULTS:-$BUILDDIR/bench/results}
need jq ss pgrep
[ -x "$SYNACKD" ] && [ -x "$LOAD" ] || die "synackd and synack-load are not built (run make)"
[ -x /usr/bin/time ] || die "/usr/bin/time is missing: run scripts/deps.sh"

# The network namespace (as root, unless NETNS=no): the servers, the
# loaders, ss and the TCP counters all run in it.  Its port range, listen
# and SYN queue limits start at the kernel's defaults and are its own to
# raise; tcp_mem, the loopback's backlog and the memory are the machine's.
NS=()
nsname=
if [ "${NETNS:-yes}" = yes ] && [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null 2>&1; then
	nsname=synack-c$TARGET-$$
	ip netns add "$nsname" || die "cannot make the network namespace $nsname (NETNS=no: without)"
	NS=(ip netns exec "$nsname")
	"${NS[@]}" ip link set lo up || { ip netns del "$nsname"; die "no loopback in $nsname"; }
fi
# A process started in the background is started with "${NS[@]}" itself,
# not through this function, so that $! is the process (ip netns exec
# execs it) and not a subshell.
nsexec() {
	"${NS[@]}" "$@"
}

# The machine's limits.
raise_nofile
nofile=$(ulimit -n)
read -r port_lo port_hi < <(nsexec cat /proc/sys/net/ipv4/ip_local_port_range)
ports=$((port_hi - port_lo + 1))
somaxconn=$(nsexec cat /proc/sys/net/core/somaxconn)
file_max=$(cat /proc/sys/fs/file-max)
mem_total=$(meminfo MemTotal)
mem_avail=$(meminfo MemAvailable)
ncpu=$(getconf _NPROCESSORS_ONLN)
floor_mib=${MEM_FLOOR_MIB:-$(awk -v t="$mem_total" 'BEGIN { f = t / 10 / 1024; print (f > 2048 ? int(f) : 2048) }')}

# The sizes.  A process keeps 64 descriptors for itself (synackd: 32 and
# its listener).  The hash does not spread evenly: a synackd gets room for
# its share plus 10%.  A source address is given at most half the port
# range, so that a connect() finds a free port at once and the rest of the
# machine keeps its own.
per_proc=$((nofile - 64))
[ "$per_proc" -ge 1000 ] || die "ulimit -n is $nofile: too low for this"
servers=$(((TARGET * 10 + per_proc * 9 - 1) / (per_proc * 9)))
loaders=$(((TARGET + per_proc - 1) / per_proc))
per_loader=$(((TARGET + loaders - 1) / loaders))
per_source=$((ports / 2))
sources_per_loader=$(((per_loader + per_source - 1) / per_source))
# The handshake rate asked, 10,000/s per CPU, and the listen queues: a
# SYN that finds its listener's accept queue full is dropped and sent again
# 1 s, 3 s, 7 s later (the connect p99 of a run with 4,096 per queue was
# 8.4 s), so each synackd's queue holds STALL seconds of its share of the
# rate (a synackd among a hundred processes on two CPUs waits its turn),
# at least somaxconn; in the run's own namespace somaxconn and the SYN
# queue are raised to it, in the machine's the rate is lowered instead.
rate=${RATE:-$((10000 * ncpu))}
stall=${STALL:-30}
backlog=$(((rate + servers - 1) / servers * stall))
[ "$backlog" -ge "$somaxconn" ] || backlog=$somaxconn
[ "$backlog" -le 65535 ] || backlog=65535
if [ ${#NS[@]} -gt 0 ]; then
	nsexec sysctl -q -w net.core.somaxconn="$backlog" \
	    net.ipv4.tcp_max_syn_backlog="$backlog" >/dev/null ||
	    die "cannot set the listen queue limits in $nsname"
else
	[ "$backlog" -le "$somaxconn" ] || backlog=$somaxconn
	[ "$rate" -le $((backlog * servers / stall)) ] || rate=$((backlog * servers / stall))
fi
per_rate=$(((rate + loaders - 1) / loaders))
ramp_s=$(((per_loader + per_rate - 1) / per_rate))
# The last echoes: on SIGINT a loader sends one on each of its connections
# at once.  An echo in flight takes about 4 KiB of socket buffers, the
# request's and the reply's small segments (seen here: 167,148 pages for
# 176,000); past tcp_mem's limit the kernel drops and retransmits after
# growing timeouts, so the loaders are interrupted in groups whose echoes
# fit in half of its pressure threshold.  A group's echoes
# get 1 ms for every 5, and at least 10 s (seen here: 100,000 at once,
# after a minute idle, took longer than 5 s on two CPUs).
read -r _ tcp_pressure _ </proc/sys/net/ipv4/tcp_mem
burst=${BURST:-$((tcp_pressure * $(getconf PAGESIZE) / 2 / 4096))}
group=$((burst / per_loader))
[ "$group" -ge 1 ] || group=1
[ "$group" -le "$loaders" ] || group=$loaders
final_ms=$((group * per_loader / 5))
[ "$final_ms" -ge 10000 ] || final_ms=10000
# descriptors: both ends of every connection, plus the processes' own
files_needed=$((2 * TARGET + (servers + loaders) * 64))
# memory: about 8 KiB of the kernel's, 1.5 KiB of synackd's and 1 KiB of
# synack-load's per connection, seen here; the safety stop is what counts
mem_needed_mib=$((TARGET * 12 / 1024))

mkdir -p "$RESULTS"
name=c$TARGET
out=$RESULTS/$name.txt
TMP=$(mktemp -d)
SERVER_PIDS=()
LOADER_PIDS=()
TIME_PIDS=()
cleanup() {
	for p in "${LOADER_PIDS[@]}" "${SERVER_PIDS[@]}"; do
		kill -KILL "$p" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	[ -z "$nsname" ] || ip netns del "$nsname" 2>/dev/null || true
	rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

say() {
	echo "$*" | tee -a "$out"
}
: >"$out"
say "$name: $TARGET clients held for $HOLD s"
say "limits: ulimit -n $nofile, ephemeral ports $port_lo-$port_hi ($ports), somaxconn $somaxconn," \
    "file-max $file_max, $ncpu CPUs, MemAvailable $((mem_avail / 1024)) MiB (floor $floor_mib MiB)"
say "plan: $servers synackd (max_clients $per_proc each, backlog $backlog: $stall s of its share)" \
    "on one reuseport port, in network namespace ${nsname:-of the machine};" \
    "$loaders synack-load of $per_loader connections, $sources_per_loader source address(es) each;" \
    "$rate handshakes/s in all ($per_rate each, ramp ~$ramp_s s); the last echoes in groups of" \
    "up to $group synack-load, with $final_ms ms to answer"
[ "$files_needed" -le $((file_max / 100 * 95)) ] ||
    die "$files_needed open files needed, fs.file-max is $file_max"
say "memory: about $mem_needed_mib MiB needed (12 KiB per connection)"
[ $((mem_avail / 1024 - mem_needed_mib)) -ge "$floor_mib" ] ||
    say "warning: that leaves less than the floor; the safety stop will likely end the run"

# address number N (from 0) of the source range: 127.1.0.1 on
addr() {
	local a=$((0x7f010001 + $1))
	echo "$((a >> 24 & 255)).$((a >> 16 & 255)).$((a >> 8 & 255)).$((a & 255))"
}

# The servers: the first one gets a port, the others join it.
port=0
base_fds=()
for i in $(seq "$servers"); do
	cat >"$TMP/s$i.conf" <<EOF
[server]
max_clients = $per_proc
idle_timeout = 0
shutdown_timeout = 2
[listener c]
service = echo
address = 127.0.0.1
port = $port
backlog = $backlog
reuseport = yes
EOF
	: >"$TMP/s$i.log"
	"${NS[@]}" "$SYNACKD" -c "$TMP/s$i.conf" >"$TMP/s$i.log" 2>&1 &
	SERVER_PIDS+=($!)
	for _ in $(seq 100); do
		p=$(listen_port "$TMP/s$i.log")
		[ -z "$p" ] || break
		alive "${SERVER_PIDS[-1]}" || { cat "$TMP/s$i.log" >&2; die "synackd $i did not start"; }
		sleep 0.05
	done
	[ -n "$p" ] || die "synackd $i did not start"
	port=$p
	base_fds+=("$(fd_count "${SERVER_PIDS[-1]}")")
done

sum_servers() { # rss | fds | cpu: the sum over the synackd processes
	local p
	for p in "${SERVER_PIDS[@]}"; do
		case $1 in
		rss) rss_kib "$p" ;;
		fds) fd_count "$p" ;;
		cpu) cpu_s "$p" ;;
		esac
	done | awk -v f="$([ "$1" = cpu ] && echo %.2f || echo %d)" '{ s += $1 } END { printf f "\n", s }'
}
# The connections established to the port, from the kernel's socket table
# (netlink: unlike a look at /proc/PID/fd, it adds nothing to the Slab).
# A dump of a million sockets takes CPU seconds: in the run's namespace,
# where every TCP connection is the run's, half its count of established
# sockets (CurrEstab: both ends of each) says when to look.
server_conns() {
	if [ ${#NS[@]} -gt 0 ]; then
		local est
		est=$(nsexec awk '$1 == "Tcp:" && !n { for (i = 2; i <= NF; i++) k[i] = $i; n = 1; next }
		    $1 == "Tcp:" { for (i = 2; i <= NF; i++) if (k[i] == "CurrEstab") print int($i / 2) }' \
		    /proc/net/snmp)
		[ "$est" -ge "$TARGET" ] || { echo "$est"; return; }
	fi
	nsexec ss -Htn state established "( sport = :$port )" | wc -l
}
# What can drop a handshake, counted since the namespace began (or the
# machine booted): the listen queues' overflows and drops, SYN queue drops,
# SYNs sent again, and the loopback's backlog drops (softnet_stat: the
# machine's, all CPUs together).
drop_counters() {
	nsexec awk '$1 == "TcpExt:" && !n { for (i = 2; i <= NF; i++) k[i] = $i; n = 1; next }
	    $1 == "TcpExt:" { for (i = 2; i <= NF; i++) v[k[i]] = $i }
	    END { printf "%d %d %d %d", v["ListenOverflows"], v["ListenDrops"], v["TCPReqQFullDrop"],
		v["TCPSynRetrans"] }' /proc/net/netstat
	local _ d _rest n=0
	while read -r _ d _rest; do
		n=$((n + 16#$d))
	done </proc/net/softnet_stat
	echo " $n"
}
# The deepest accept queue of the listeners now.
deepest_queue() {
	nsexec ss -Hltn "( sport = :$port )" | awk '$2 > m { m = $2 } END { printf "%d\n", m }'
}
tcp_mem_pages() {
	awk '$1 == "TCP:" { print $NF }' /proc/net/sockstat
}

rss0=$(sum_servers rss)
slab0=$(meminfo Slab)
avail0=$(meminfo MemAvailable)
tcpmem0=$(tcp_mem_pages)
cp /proc/slabinfo "$TMP/slab0" 2>/dev/null || true

# The loaders run long enough for a slow ramp; the script ends the hold
# with SIGINT, on which synack-load sends every connection its last echo.
# They start together: each waits at a FIFO until all are launched (a
# hundred launches one after another, while the first ones load the two
# CPUs, took 147 s, and the last loader's ramp began that late).
duration=$((ramp_s * 4 + HOLD + 60))
mkfifo "$TMP/go"
for i in $(seq 0 $((loaders - 1))); do
	first=$(addr $((i * sources_per_loader)))
	last=$(addr $((i * sources_per_loader + sources_per_loader - 1)))
	n=$per_loader
	[ $((i + 1)) -lt "$loaders" ] || n=$((TARGET - per_loader * (loaders - 1)))
	# shellcheck disable=SC2016 # $0 and $@ are the inner shell's
	"${NS[@]}" sh -c ': <"$0"; exec "$@"' "$TMP/go" /usr/bin/time -f '%U %S' -o "$TMP/l$i.time" \
	    "$LOAD" -q --json -m hold -c "$n" -r "$per_rate" -d "$duration" -T "$final_ms" \
	    --request-timeout "$final_ms" -b "$first-$last" "127.0.0.1:$port" \
	    >"$TMP/l$i.json" 2>"$TMP/l$i.err" &
	TIME_PIDS+=($!)
done
t_start=$(date +%s.%N)
exec 9>"$TMP/go" # the FIFO has a writer: every loader goes
for t in "${TIME_PIDS[@]}"; do
	l=
	for _ in $(seq 200); do
		l=$(pgrep -P "$t" | head -1)
		[ -z "$l" ] || break
		sleep 0.05
	done
	[ -n "$l" ] || die "synack-load under /usr/bin/time ($t) did not start"
	LOADER_PIDS+=("$l")
done
exec 9>&-

# Watch the ramp.  The count comes from the kernel's socket table, for
# the port alone.  Each second's row of $name-ramp.csv: the connections,
# what dropped handshakes (since the start) and the deepest accept queue.
stop_reason=
t_full=
last_count=0
last_progress=$(date +%s)
min_avail=$avail0
read -r ovf0 ldrop0 reqdrop0 synre0 softnet0 < <(drop_counters)
echo "elapsed_s,connections,listen_overflows,listen_drops,syn_queue_drops,syn_retransmits,softnet_drops,deepest_accept_queue" \
    >"$RESULTS/$name-ramp.csv"
deepest=0
while :; do
	sleep 1
	now=$(date +%s)
	count=$(server_conns)
	read -r ovf ldrop reqdrop synre softnet < <(drop_counters)
	q=$(deepest_queue)
	[ "$q" -le "$deepest" ] || deepest=$q
	echo "$(awk -v a="$t_start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.0f", b - a }'),$count,$((ovf - ovf0)),$((ldrop - ldrop0)),$((reqdrop - reqdrop0)),$((synre - synre0)),$((softnet - softnet0)),$q" \
	    >>"$RESULTS/$name-ramp.csv"
	avail=$(meminfo MemAvailable)
	[ "$avail" -ge "$min_avail" ] || min_avail=$avail
	printf '\r%s: %d connections, MemAvailable %d MiB ' "$name" "$count" $((avail / 1024)) >&2
	if [ "$count" -ge "$TARGET" ]; then
		t_full=$(date +%s.%N)
		break
	fi
	if [ "$avail" -lt $((floor_mib * 1024)) ]; then
		stop_reason="MemAvailable $((avail / 1024)) MiB fell under the floor of $floor_mib MiB at $count connections"
		break
	fi
	if [ "$(awk '{ print $1 }' /proc/sys/fs/file-nr)" -gt $((file_max / 100 * 95)) ]; then
		stop_reason="open files reached 95% of fs.file-max ($file_max) at $count connections"
		break
	fi
	if [ "$count" -gt "$last_count" ]; then
		last_count=$count
		last_progress=$now
	elif [ $((now - last_progress)) -ge 30 ]; then
		stop_reason="no connection added for 30 s, at $count connections"
		break
	fi
	for p in "${TIME_PIDS[@]}"; do
		alive "$p" || { stop_reason="a synack-load ended early, at $count connections"; break 2; }
	done
done
echo >&2

held=0
if [ -n "$t_full" ]; then
	slab1=$(meminfo Slab)
	avail1=$(meminfo MemAvailable)
	tcpmem1=$(tcp_mem_pages)
	cp /proc/slabinfo "$TMP/slab1" 2>/dev/null || true
	rss1=$(sum_servers rss)
	# after the kernel's numbers: listing /proc/PID/fd grows the Slab
	clients=()
	for i in "${!SERVER_PIDS[@]}"; do
		clients+=($(($(fd_count "${SERVER_PIDS[$i]}") - base_fds[i])))
	done
	# the hold, watched for the memory floor
	t_hold=$(date +%s)
	while [ $(($(date +%s) - t_hold)) -lt "$HOLD" ]; do
		sleep 1
		avail=$(meminfo MemAvailable)
		[ "$avail" -ge "$min_avail" ] || min_avail=$avail
		if [ "$avail" -lt $((floor_mib * 1024)) ]; then
			stop_reason="MemAvailable $((avail / 1024)) MiB fell under the floor of $floor_mib MiB"
			break
		fi
		for p in "${TIME_PIDS[@]}"; do
			alive "$p" || { stop_reason="a synack-load ended early"; break 2; }
		done
	done
	held=$(($(date +%s) - t_hold))
	still=$(server_conns)
fi

# End the hold: on SIGINT a loader sends the last echo on each of its
# connections at once, in the groups planned above.
peak_tcpmem=0
t_last=$(date +%s.%N)
for ((i = 0; i < loaders; i += group)); do
	members=()
	for ((k = i; k < i + group && k < loaders; k++)); do
		kill -INT "${LOADER_PIDS[k]}" 2>/dev/null || true
		members+=("${TIME_PIDS[k]}")
	done
	while :; do
		m=$(tcp_mem_pages)
		[ "$m" -le "$peak_tcpmem" ] || peak_tcpmem=$m
		left=0
		for t in "${members[@]}"; do
			! alive "$t" || left=$((left + 1))
		done
		[ "$left" -gt 0 ] || break
		sleep 0.2
	done
done
t_done=$(date +%s.%N)
rc=0
for t in "${TIME_PIDS[@]}"; do
	wait "$t" || rc=1
done
LOADER_PIDS=()
cpu_servers=$(sum_servers cpu)
t_end=$(date +%s.%N)
for p in "${SERVER_PIDS[@]}"; do
	kill -TERM "$p" 2>/dev/null || true
done
for p in "${SERVER_PIDS[@]}"; do
	wait "$p" 2>/dev/null || true
done
SERVER_PIDS=()

# synack-load's reports, added up
jq -s '{requested: (map(.connections.requested) | add),
	established: (map(.connections.established) | add),
	errors: (map(.errors | to_entries) | add | group_by(.key)
		| map({key: .[0].key, value: (map(.value) | add)}) | from_entries),
	verified: (map(.requests) | add),
	last_established_unix: (map(.start_unix + ([.intervals[] | select(.established > 0)]
		| last | .elapsed_s // 0)) | max),
	connect_p99_us: (map(.connect_latency_us.p99) | max),
	connect_max_us: (map(.connect_latency_us.max) | max)}' "$TMP"/l*.json >"$RESULTS/$name.json" ||
    die "synack-load's reports are not all there: $(cat "$TMP"/l*.err)"
cpu_loaders=$(cat "$TMP"/l*.time | awk '{ s += $1 + $2 } END { printf "%.2f", s }')
established=$(jq .established "$RESULTS/$name.json")
verified=$(jq .verified "$RESULTS/$name.json")
errors=$(jq '[.errors[]] | add' "$RESULTS/$name.json")

# Where handshakes were dropped during the ramp, if anywhere: the seconds
# in which a counter grew, with the deepest accept queue then.
read -r ovf ldrop reqdrop synre softnet < <(drop_counters)
say "handshakes during the ramp: ListenOverflows $((ovf - ovf0)), ListenDrops $((ldrop - ldrop0))," \
    "SYN queue drops $((reqdrop - reqdrop0)), SYNs sent again $((synre - synre0))," \
    "loopback backlog drops $((softnet - softnet0)) (the machine's); deepest accept queue $deepest" \
    "of $backlog; per second in $RESULTS/$name-ramp.csv"
[ $((ovf - ovf0 + ldrop - ldrop0 + reqdrop - reqdrop0 + softnet - softnet0)) -eq 0 ] ||
    say "where: $(awk -F, 'NR > 2 && ($3 > o || $4 > d || $5 > r || $7 > s) {
	    printf "%s s: %s connections, +%d overflows, +%d listen drops, +%d SYN queue drops, +%d backlog drops, accept queue %s; ",
		$1, $2, $3 - o, $4 - d, $5 - r, $7 - s, $8 }
	    NR > 1 { o = $3; d = $4; r = $5; s = $7 }' "$RESULTS/$name-ramp.csv" | head -c 2000)"
say "result: $established of $TARGET established, $verified verified by their last echo," \
    "errors $(jq -c .errors "$RESULTS/$name.json")"
if [ -n "$t_full" ]; then
	# when the last connection was established: the end of the last second
	# in which a loader counted one (the script, on busy CPUs, looks later)
	ramp=$(awk -v a="$t_start" -v b="$(jq .last_established_unix "$RESULTS/$name.json")" \
	    'BEGIN { printf "%.1f", b - a }')
	say "all $TARGET established within $ramp s (the loaders' seconds; the script saw it after" \
	    "$(awk -v a="$t_start" -v b="$t_full" 'BEGIN { printf "%.1f", b - a }') s):" \
	    "$(awk -v n="$TARGET" -v s="$ramp" 'BEGIN { printf "%.0f", n / s }') handshakes/s" \
	    "(asked: $rate/s); connect p99 $(jq '.connect_p99_us / 1000 | floor' "$RESULTS/$name.json") ms," \
	    "max $(jq '.connect_max_us / 1000 | floor' "$RESULTS/$name.json") ms"
	say "held $held s; $still still connected at the end of the hold;" \
	    "clients per synackd: ${clients[*]}"
	say "synackd RSS: $(((rss1 - rss0) / 1024)) MiB for $TARGET clients," \
	    "$(((rss1 - rss0) * 1024 / TARGET)) bytes per client"
	say "kernel: Slab $(printf %+d $(((slab1 - slab0) / 1024))) MiB," \
	    "$(((slab1 - slab0) * 1024 / TARGET)) bytes per connection (two sockets each);" \
	    "TCP buffer pages $(printf %+d $((tcpmem1 - tcpmem0)))"
	# the whole machine's: other work and reclaimable caches count too
	say "MemAvailable: $(printf %+d $(((avail1 - avail0) / 1024))) MiB," \
	    "$(((avail0 - avail1) * 1024 / TARGET)) bytes per connection, everything included"
	if [ -s "$TMP/slab0" ] && [ -s "$TMP/slab1" ]; then
		say "largest Slab growth (cache: bytes per connection):$(awk -v n="$TARGET" '
		    FNR == 1 { f++ } /^#|^slabinfo/ { next }
		    { b = $3 * $4; if (f == 1) d[$1] -= b; else d[$1] += b }
		    END { for (k in d) if (d[k] > 0) printf "%d %s\n", d[k] / n, k }' \
		    "$TMP/slab0" "$TMP/slab1" | sort -rn | head -8 | awk '{ printf " %s %s,", $2, $1 }')"
		# what a connection owns: its two sockets, their inodes, dentries,
		# files and epoll entries (the rest of the Slab may be other work)
		say "the connections' own caches (TCP, sock_inode_cache, dentry, filp, eventpoll_epi):" \
		    "$(awk -v n="$TARGET" 'FNR == 1 { f++ }
		    $1 ~ /^(TCP|sock_inode_cache|dentry|filp|eventpoll_epi)$/ {
			b = $3 * $4; d += (f == 1 ? -b : b) }
		    END { printf "%d", d / n }' "$TMP/slab0" "$TMP/slab1") bytes per connection"
	fi
fi
say "last echoes: $(((loaders + group - 1) / group)) group(s) of up to $group synack-load," \
    "all answered or given up in $(awk -v a="$t_last" -v b="$t_done" 'BEGIN { printf "%.1f", b - a }') s;" \
    "TCP buffer pages at most $peak_tcpmem (tcp_mem pressure at $tcp_pressure)"
say "CPU: synackd $cpu_servers s, synack-load $cpu_loaders s, in" \
    "$(awk -v a="$t_start" -v b="$t_end" 'BEGIN { printf "%.0f", b - a }') s;" \
    "lowest MemAvailable $((min_avail / 1024)) MiB"
if [ -n "$stop_reason" ]; then
	say "STOPPED: $stop_reason"
	exit 1
fi
[ "$rc" -eq 0 ] && [ "$established" -eq "$TARGET" ] && [ "$errors" -eq 0 ] &&
    [ "$verified" -eq "$TARGET" ] && [ "$held" -ge "$HOLD" ] ||
    { say "FAILED: not every connection was established, held and verified"; exit 1; }
say "PASSED: $TARGET clients established, held $held s and verified, no error"

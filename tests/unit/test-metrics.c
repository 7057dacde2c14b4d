/* SPDX-License-Identifier: ISC */
/*
 * test-metrics.c: the pure parts behind /metrics and /stats: which
 * SYN_RECV socket belongs to which listener (queue_syn_match), the
 * /proc parsers (procfs_netstat_value, procfs_stat_parse), the two
 * formats of a snapshot (metrics_format_prom, metrics_format_json), and
 * which requests say where they end in one way only (metrics_framing_error),
 * and the accept-wait histogram's buckets and percentiles (stats.c).
 */
#include "config.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/queue.h>

#include <cmocka.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>

#include "metrics.h"
#include "net.h"
#include "procfs.h"
#include "queues.h"
#include "stats.h"
#include "unit.h"

/* ---- queue_syn_match ---- */

/* A socket's local address as inet_diag gives it: network order, IPv4 in the first word. */
static void
diag_src(const char *text, uint32_t src[4])
{
	int family = strchr(text, ':') != NULL ? AF_INET6 : AF_INET;

	memset(src, 0, 4 * sizeof *src);
	if (inet_pton(family, text, src) != 1)
		fail_msg("inet_pton(%d, \"%s\")", family, text);
}

static void
test_syn_match(void **state)
{
	static const struct {
		const char *listen;
		int port;
		int family; /* of the SYN_RECV socket */
		const char *src;
		unsigned sport;
		int want;
	} cases[] = {
		/* IPv4, a specific address */
		{ "127.0.0.1", 7007, AF_INET, "127.0.0.1", 7007, 1 },
		{ "127.0.0.1", 7007, AF_INET, "127.0.0.2", 7007, 0 },
		{ "127.0.0.1", 7007, AF_INET, "127.0.0.1", 7008, 0 },
		{ "127.0.0.1", 7007, AF_INET6, "::ffff:127.0.0.1", 7007, 0 },
		{ "127.0.0.1", 7007, AF_INET6, "::1", 7007, 0 },
		/* the byte order of the address: 1.0.0.10 is not 10.0.0.1 */
		{ "1.0.0.10", 80, AF_INET, "10.0.0.1", 80, 0 },
		{ "10.0.0.1", 80, AF_INET, "10.0.0.1", 80, 1 },
		/* and of the port: 7007 is 0x1b5f, 0x5f1b is 24347 */
		{ "127.0.0.1", 7007, AF_INET, "127.0.0.1", 24347, 0 },
		{ "127.0.0.1", 65535, AF_INET, "127.0.0.1", 65535, 1 },
		/* IPv4, the wildcard: any address of the family, on its port */
		{ "0.0.0.0", 7007, AF_INET, "192.0.2.1", 7007, 1 },
		{ "0.0.0.0", 7007, AF_INET, "127.0.0.1", 7007, 1 },
		{ "0.0.0.0", 7007, AF_INET, "192.0.2.1", 7, 0 },
		{ "0.0.0.0", 7007, AF_INET6, "::1", 7007, 0 },
		{ "0.0.0.0", 7007, AF_INET6, "::", 7007, 0 },
		/* IPv6, a specific address */
		{ "::1", 7007, AF_INET6, "::1", 7007, 1 },
		{ "[::1]", 7007, AF_INET6, "::1", 7007, 1 },
		{ "::1", 7007, AF_INET6, "::2", 7007, 0 },
		{ "::1", 7007, AF_INET6, "::1", 7008, 0 },
		{ "::1", 7007, AF_INET, "127.0.0.1", 7007, 0 },
		{ "2001:db8::1", 443, AF_INET6, "2001:db8::1", 443, 1 },
		{ "2001:db8::1", 443, AF_INET6, "2001:db8::1:0", 443, 0 },
		{ "2001:db8::1", 443, AF_INET6, "2001:db8:0:0:1::", 443, 0 },
		/* IPv6, the wildcard "::": IPv6 only (IPV6_V6ONLY) */
		{ "::", 7007, AF_INET6, "2001:db8::1", 7007, 1 },
		{ "::", 7007, AF_INET6, "::1", 7007, 1 },
		{ "::", 7007, AF_INET6, "::1", 7006, 0 },
		{ "::", 7007, AF_INET, "127.0.0.1", 7007, 0 },
		/*
		 * dual stack "*": IPv6 and IPv4.  The kernel lists an IPv4
		 * connection to a dual-stack socket as AF_INET6 with a v4-mapped
		 * address; an AF_INET one is matched too.
		 */
		{ "*", 7007, AF_INET, "127.0.0.1", 7007, 1 },
		{ "*", 7007, AF_INET, "192.0.2.1", 7007, 1 },
		{ "*", 7007, AF_INET6, "::ffff:127.0.0.1", 7007, 1 },
		{ "*", 7007, AF_INET6, "::1", 7007, 1 },
		{ "*", 7007, AF_INET, "127.0.0.1", 7008, 0 },
		{ "*", 7007, AF_INET6, "::1", 7008, 0 },
		/* families that never hold SYN_RECV sockets */
		{ "*", 7007, AF_UNIX, "::1", 7007, 0 },
		{ "0.0.0.0", 7007, AF_UNIX, "127.0.0.1", 7007, 0 },
		{ "::1", 7007, AF_UNIX, "::1", 7007, 0 },
		/* a unix listener has no SYN queue: nothing matches */
		{ "unix:/run/synackd.sock", 0, AF_INET, "0.0.0.0", 0, 0 },
		{ "unix:/run/synackd.sock", 0, AF_INET6, "::", 0, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct net_addr l = unit_addr(cases[i].listen, cases[i].port);
		uint32_t src[4];
		int got;

		diag_src(cases[i].src, src);
		got = queue_syn_match(&l, cases[i].family, src, cases[i].sport);
		if (got != cases[i].want)
			fail_msg("case %zu: listener %s port %d, socket family %d %s port %u: "
				 "got %d, want %d",
			    i, cases[i].listen, cases[i].port, cases[i].family, cases[i].src,
			    cases[i].sport, got, cases[i].want);
	}
}

/* ---- procfs_netstat_value ---- */

/* /proc/net/netstat as Linux 6 writes it, the long lines cut short */
static const char netstat_text[] =
    "TcpExt: SyncookiesSent SyncookiesRecv SyncookiesFailed EmbryonicRsts PruneCalled "
    "RcvPruned OfoPruned OutOfWindowIcmps LockDroppedIcmps ArpFilter TW TWRecycled TWKilled "
    "PAWSActive PAWSEstab DelayedACKs DelayedACKLocked DelayedACKLost ListenOverflows "
    "ListenDrops TCPHPHits TCPReqQFullDrop TCPReqQFullDoCookies TCPMigrateReqSuccess\n"
    "TcpExt: 3 2 1 0 46059 1 0 0 0 0 26545 0 792 0 2 52026 8 34716 191 197 426578381 5 "
    "6 0\n"
    "IpExt: InNoRoutes InTruncatedPkts InMcastPkts OutMcastPkts InBcastPkts OutBcastPkts "
    "InOctets OutOctets InMcastOctets\n"
    "IpExt: 0 0 0 0 0 0 551009416622 550678601491 0\n"
    "MPTcpExt: MPCapableSYNRX MPCapableSYNTX ListenOverflows\n"
    "MPTcpExt: 0 0 77\n";

static void
test_netstat_value(void **state)
{
	static const struct {
		const char *group, *name;
		int ok;
		uint64_t want;
	} cases[] = {
		{ "TcpExt", "SyncookiesSent", 1, 3 }, /* the first */
		{ "TcpExt", "SyncookiesRecv", 1, 2 },
		{ "TcpExt", "ListenOverflows", 1, 191 },
		{ "TcpExt", "ListenDrops", 1, 197 },
		{ "TcpExt", "TCPReqQFullDrop", 1, 5 },
		{ "TcpExt", "TCPReqQFullDoCookies", 1, 6 },  /* not the one before it */
		{ "TcpExt", "TCPMigrateReqSuccess", 1, 0 },  /* the last */
		{ "IpExt", "InOctets", 1, 551009416622ULL }, /* over 32 bits */
		{ "IpExt", "InMcastOctets", 1, 0 },
		{ "MPTcpExt", "ListenOverflows", 1, 77 }, /* the same name in another group */
		/* not there */
		{ "TcpExt", "NoSuchCounter", 0, 0 },
		{ "TcpExt", "ListenOverflow", 0, 0 },   /* a prefix of a name */
		{ "TcpExt", "ListenOverflowsX", 0, 0 }, /* longer than a name */
		{ "TcpExt", "InOctets", 0, 0 },         /* in another group only */
		{ "TcpExt", "", 0, 0 },
		{ "Tcp", "ListenOverflows", 0, 0 }, /* a prefix of a group */
		{ "TcpExtX", "ListenOverflows", 0, 0 },
		{ "Ext", "ListenOverflows", 0, 0 },
		{ "", "ListenOverflows", 0, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t v = 424242;
		int r = procfs_netstat_value(netstat_text, cases[i].group, cases[i].name, &v);

		if (r != (cases[i].ok ? 0 : -1))
			fail_msg("%s %s: returned %d", cases[i].group, cases[i].name, r);
		if (cases[i].ok && v != cases[i].want)
			fail_msg("%s %s: got %llu, want %llu", cases[i].group, cases[i].name,
			    (unsigned long long)v, (unsigned long long)cases[i].want);
		if (!cases[i].ok && v != 424242)
			fail_msg("%s %s: failed but wrote %llu", cases[i].group, cases[i].name,
			    (unsigned long long)v);
	}
}

/* Lines that are not what /proc writes, or not all of it. */
static void
test_netstat_malformed(void **state)
{
	static const struct {
		const char *text, *group, *name;
		int ok;
		uint64_t want;
	} cases[] = {
		/* a group with a longer name sharing the prefix comes first */
		{ "TcpExtX: ListenOverflows\nTcpExtX: 999\nTcpExt: ListenOverflows\nTcpExt: 4\n",
		    "TcpExt", "ListenOverflows", 1, 4 },
		{ "TcpExtX: ListenOverflows\nTcpExtX: 999\nTcpExt: ListenOverflows\nTcpExt: 4\n",
		    "TcpExtX", "ListenOverflows", 1, 999 },
		{ "TcpExtX: ListenOverflows\nTcpExtX: 999\n", "TcpExt", "ListenOverflows", 0, 0 },
		/* the values line cut short: the names past its end have no value */
		{ "TcpExt: A B C\nTcpExt: 1 2\nIpExt: C\nIpExt: 3\n", "TcpExt", "B", 1, 2 },
		{ "TcpExt: A B C\nTcpExt: 1 2\nIpExt: C\nIpExt: 3\n", "TcpExt", "C", 0, 0 },
		{ "TcpExt: A B C\nTcpExt: 1 2 \nIpExt: C\nIpExt: 3\n", "TcpExt", "C", 0, 0 },
		{ "TcpExt: A B C\nTcpExt: 1 2", "TcpExt", "C", 0, 0 },
		{ "TcpExt: A B C\nTcpExt: 1 2", "TcpExt", "B", 1, 2 }, /* no final newline */
		{ "TcpExt: A B C\nTcpExt: ", "TcpExt", "A", 0, 0 },
		{ "TcpExt: A B C\nTcpExt:", "TcpExt", "A", 0, 0 },
		/* the file cut after a names line */
		{ "TcpExt: A B C\n", "TcpExt", "A", 0, 0 },
		{ "TcpExt: A B C", "TcpExt", "A", 0, 0 },
		{ "IpExt: X\nIpExt: 1\nTcpExt: A B C\n", "TcpExt", "A", 0, 0 },
		/* a values line of another group */
		{ "TcpExt: A B\nIpExt: 1 2\n", "TcpExt", "A", 0, 0 },
		/* the names line cut short: the values past it are nobody's */
		{ "TcpExt: A\nTcpExt: 1 2 3\n", "TcpExt", "A", 1, 1 },
		{ "TcpExt: A\nTcpExt: 1 2 3\n", "TcpExt", "B", 0, 0 },
		/* values that are not numbers, or too big */
		{ "TcpExt: A B\nTcpExt: x 2\n", "TcpExt", "A", 0, 0 },
		{ "TcpExt: A B\nTcpExt: 18446744073709551615 2\n", "TcpExt", "A", 1, UINT64_MAX },
		{ "TcpExt: A B\nTcpExt: 18446744073709551616 2\n", "TcpExt", "A", 0, 0 },
		/* a value missing in the middle does not take the next line's */
		{ "TcpExt: A B\nTcpExt: 1\n7\n", "TcpExt", "B", 0, 0 },
		{ "", "TcpExt", "A", 0, 0 },
		{ "\n", "TcpExt", "A", 0, 0 },
		{ "\n\n\n\n", "TcpExt", "A", 0, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		uint64_t v = 424242;
		int r = procfs_netstat_value(cases[i].text, cases[i].group, cases[i].name, &v);

		if (r != (cases[i].ok ? 0 : -1))
			fail_msg(
			    "case %zu (%s %s): returned %d", i, cases[i].group, cases[i].name, r);
		if (cases[i].ok && v != cases[i].want)
			fail_msg("case %zu (%s %s): got %llu, want %llu", i, cases[i].group,
			    cases[i].name, (unsigned long long)v,
			    (unsigned long long)cases[i].want);
	}
}

/* ---- procfs_stat_parse ---- */

/*
 * Fields 4 to 52 of /proc/PID/stat after "PID (COMM) S": utime 25 and
 * stime 13 ticks (fields 14, 15), starttime 4567 ticks (22), vsize (23),
 * rss 2048 pages (24); tpgid (8) is -1, as for a daemon.
 */
#define STAT_TAIL                                                                                  \
	" 1 1234 1234 0 -1 4194560 150 0 0 0 25 13 0 0 20 0 3 0 4567 123456789 2048 "              \
	"18446744073709551615 1 1 0 0 0 0 0 4096 16384 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0\n"

static void
check_stat(const char *text, int ok)
{
	struct proc_self p;
	int r;

	memset(&p, 0, sizeof p);
	r = procfs_stat_parse(text, 100, 4096, 1700000000, &p);
	if (r != (ok ? 0 : -1))
		fail_msg("\"%s\": returned %d", text, r);
	if (!ok)
		return;
	assert_true(p.cpu_seconds > 0.379 && p.cpu_seconds < 0.381);
	assert_true(p.start_time > 1700000045.66 && p.start_time < 1700000045.68);
	assert_int_equal(p.virtual_bytes, 123456789);
	assert_int_equal(p.resident_bytes, 2048 * 4096);
}

static void
test_stat_parse(void **state)
{
	struct proc_self p;

	check_stat("1234 (synackd) S" STAT_TAIL, 1);
	/* the comm is counted from the last ')': it may hold spaces and parentheses */
	check_stat("1234 (a) b) c) S" STAT_TAIL, 1);
	check_stat("1234 (my daemon) R" STAT_TAIL, 1);
	check_stat("1234 ()) S" STAT_TAIL, 1);
	check_stat("1234 (1 2 3 4 5 6 7 8 9 10 11 12 13) S" STAT_TAIL, 1);
	check_stat("1234 () S" STAT_TAIL, 1);
	/* exactly the fields needed, up to rss */
	check_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 25 13 0 0 20 0 1 0 4567 123456789 2048", 1);

	/* too few fields: cut after vsize, or in the middle */
	check_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 25 13 0 0 20 0 1 0 4567 123456789", 0);
	check_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 25 13 0 0 20 0 1 0 4567 123456789 \n", 0);
	check_stat("1 (x) S 1 1 1 0 -1 0 0 0 0", 0);
	check_stat("1 (x) S ", 0);
	check_stat("1 (x) S", 0);
	check_stat("1 (x) ", 0);
	check_stat("1 (x)", 0);
	check_stat("", 0);
	/* no comm at all, or a field that is not a number */
	check_stat("1 x S 1 1 1 0 -1 0 0 0 0 0 25 13 0 0 20 0 1 0 4567 123456789 2048", 0);
	check_stat("1 (x) S 1 1 1 0 -1 0 0 0 0 0 25 x 0 0 20 0 1 0 4567 123456789 2048", 0);

	/*
	 * The text ends at the ')': what lies beyond its terminating NUL
	 * (here a whole stat line) must not be read.
	 */
	{
		static const char cut[] = "1 (x)\0S" STAT_TAIL;

		check_stat(cut, 0);
	}
	{
		static const char cut[] = "1 (x) \0S" STAT_TAIL;

		check_stat(cut, 0);
	}

	memset(&p, 0, sizeof p);
	assert_int_equal(procfs_stat_parse("1 (x) S" STAT_TAIL, 0, 4096, 0, &p), -1);
}

/* ---- metrics_format_prom and metrics_format_json ---- */

#define WEIRD_NAME "we\"ird\\na\nme"
#define WEIRD_PROM "we\\\"ird\\\\na\\nme"
#define WEIRD_JSON "we\\\"ird\\\\na\\nme"

static char *
drain(struct evbuffer *b)
{
	size_t n = evbuffer_get_length(b);
	char *s = malloc(n + 1);

	if (s == NULL)
		abort();
	evbuffer_remove(b, s, n);
	s[n] = '\0';
	return s;
}

/*
 * Three listeners: a TCP one on two sockets with a name that needs
 * escaping, a TCP one whose queues could not be read, and a unix one
 * (no SYN queue).
 */
static struct metrics_snapshot *
snapshot_new(int have_host, int have_proc)
{
	struct metrics_snapshot *snap = calloc(1, sizeof *snap);
	struct metrics_listener *l;

	assert_non_null(snap);
	snap->version = "1.2.3";
	snap->uptime = 12.5;
	snap->workers = 2;
	snap->clients = 3;
	snap->max_clients = 10;
	snap->max_clients_reached = 4;
	snap->reloads_ok = 1;
	snap->reloads_failed = 2;
	snap->metrics_connections = 5;
	snap->metrics_max_connections = 32;
	snap->metrics_rejected = 21;
	snap->nlisteners = 3;
	snap->listeners = l = calloc(3, sizeof *snap->listeners);
	assert_non_null(l);

	l[0].name = WEIRD_NAME;
	l[0].service = "echo";
	l[0].address = "127.0.0.1:7007";
	l[0].port = 7007;
	l[0].backlog = 4;
	l[0].workers = 2;
	l[0].queues = 2;
	l[0].queue[0].len = 3;
	l[0].queue[0].max = 4;
	l[0].queue[1].len = 5;
	l[0].queue[1].max = 4;
	l[0].have_syn_recv = 1;
	l[0].syn_recv = 7;
	l[0].active = 2;
	l[0].stats.accepted = 11;
	l[0].stats.rejected[REJECT_PER_SOURCE] = 6;
	l[0].stats.bytes_in = 100;
	l[0].stats.bytes_out = 200;
	/* 11 waits: 6 of 1 ms, 4 of 150 ms, 1 over 5 s */
	l[0].stats.accept_wait[1] = 6;
	l[0].stats.accept_wait[8] = 4;
	l[0].stats.accept_wait[13] = 1;
	l[0].stats.accept_wait_ms = 7606;
	l[0].stats.syn_data = 5;

	l[1].name = "sleepy";
	l[1].service = "discard";
	l[1].address = "[::1]:9";
	l[1].port = 9;
	l[1].backlog = 511;
	l[1].workers = 2;
	l[1].queues = 0;
	l[1].have_syn_recv = 1;
	l[1].syn_recv = 0;

	l[2].name = "ux";
	l[2].service = "echo";
	l[2].address = "unix:/run/s\"ock";
	l[2].port = -1;
	l[2].backlog = 8;
	l[2].workers = 1;
	l[2].queues = 1;
	l[2].queue[0].len = 9;
	l[2].queue[0].max = 8;
	l[2].have_syn_recv = 0;

	snap->have_host = have_host;
	snap->host.listen_overflows = 17;
	snap->host.listen_drops = 18;
	snap->host.syncookies_sent = 19;
	snap->host.req_q_full_drop = 20;
	snap->host.somaxconn = 4096;
	snap->host.max_syn_backlog = -1; /* unknown */
	snap->host.syncookies = 1;
	snap->host.fastopen_passive = 21;
	snap->host.fastopen_passive_fail = 22;
	snap->host.fastopen_listen_overflow = 23;
	snap->host.fastopen_cookie_reqd = 24;
	snap->host.tcp_fastopen = 1;
	snap->have_proc = have_proc;
	snap->proc.start_time = 1700000000.5;
	snap->proc.cpu_seconds = 1.25;
	snap->proc.resident_bytes = 8192;
	snap->proc.virtual_bytes = 65536;
	snap->proc.open_fds = 12;
	snap->proc.max_fds = -1;
	return snap;
}

static void
snapshot_free(struct metrics_snapshot *snap)
{
	free(snap->listeners);
	free(snap);
}

static char *
format(const struct metrics_snapshot *snap, int json)
{
	struct evbuffer *b = evbuffer_new();
	char *s;

	assert_non_null(b);
	if (json)
		metrics_format_json(snap, b);
	else
		metrics_format_prom(snap, b);
	s = drain(b);
	evbuffer_free(b);
	return s;
}

/* The length of the word at p, up to a space, a newline or the end. */
static size_t
word_len(const char *p)
{
	size_t n = 0;

	while (p[n] != ' ' && p[n] != '\n' && p[n] != '\0')
		n++;
	return n;
}

/* What follows prefix at the start of s, or NULL. */
static const char *
after(const char *s, const char *prefix)
{
	size_t n = strlen(prefix);

	return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* Whether name is family's _bucket, _sum or _count. */
static int
histogram_sample(const char *name, const char *family)
{
	size_t n = strlen(family);

	return strncmp(name, family, n) == 0 &&
	    (strcmp(name + n, "_bucket") == 0 || strcmp(name + n, "_sum") == 0 ||
		strcmp(name + n, "_count") == 0);
}

/*
 * The text format 0.0.4, line by line: a family is announced by one HELP
 * and one TYPE line before its samples, and a sample is NAME, optional
 * {label="value",...} with \\, \" and \n the only escapes, a space and a
 * number.  Returns the samples seen.
 */
static int
prom_check(const char *text)
{
	char family[128] = "", names[64][128];
	int nfamilies = 0, samples = 0, lineno = 0, histogram = 0;
	const char *line = text, *end;

	assert_true(text[0] != '\0' && text[strlen(text) - 1] == '\n');
	for (; *line != '\0'; line = end + 1) {
		const char *p;
		char name[128], *num_end;
		size_t n;

		lineno++;
		if ((end = strchr(line, '\n')) == NULL) {
			fail_msg("line %d does not end", lineno);
			return samples;
		}
		if ((p = after(line, "# HELP ")) != NULL) {
			n = word_len(p);
			assert_true(n > 0 && n < sizeof family);
			for (int i = 0; i < nfamilies; i++)
				if (strlen(names[i]) == n && strncmp(names[i], p, n) == 0)
					fail_msg("line %d: family %.*s announced twice", lineno,
					    (int)n, p);
			memcpy(family, p, n);
			family[n] = '\0';
			assert_true(nfamilies < 64);
			strcpy(names[nfamilies++], family);
			assert_true(p[n] == ' ' && p + n + 1 < end); /* some help text */
			continue;
		}
		if ((p = after(line, "# TYPE ")) != NULL) {
			n = strlen(family);
			if (strncmp(p, family, n) != 0 || p[n] != ' ')
				fail_msg("line %d: TYPE is not for %s, the family just announced",
				    lineno, family);
			p += n + 1;
			histogram = end - p == 9 && strncmp(p, "histogram", 9) == 0;
			if (!((end - p == 5 && strncmp(p, "gauge", 5) == 0) ||
				(end - p == 7 && strncmp(p, "counter", 7) == 0) || histogram))
				fail_msg("line %d: type \"%.*s\"", lineno, (int)(end - p), p);
			n = strlen(family);
			if (n > 6 && strcmp(family + n - 6, "_total") == 0)
				assert_true(end - p == 7); /* a _total is a counter */
			continue;
		}
		assert_true(line[0] != '#');
		p = line;
		n = strcspn(p, "{ \n");
		assert_true(n > 0 && n < sizeof name);
		memcpy(name, p, n);
		name[n] = '\0';
		for (size_t i = 0; i < n; i++)
			assert_true(isalnum((unsigned char)name[i]) || name[i] == '_');
		/* a histogram's samples are its _bucket, _sum and _count */
		if (histogram ? !histogram_sample(name, family) : strcmp(name, family) != 0)
			fail_msg("line %d: sample %s under family %s", lineno, name, family);
		p += n;
		if (*p == '{') {
			p++;
			for (;;) {
				n = strspn(p, "abcdefghijklmnopqrstuvwxyz_");
				assert_true(n > 0 && p[n] == '=' && p[n + 1] == '"');
				p += n + 2;
				while (*p != '"') {
					assert_true(*p != '\n' && *p != '\0');
					if (*p == '\\') {
						p++;
						assert_true(*p == '\\' || *p == '"' || *p == 'n');
					}
					p++;
				}
				p++;
				if (*p == '}')
					break;
				assert_true(*p == ',');
				p++;
			}
			p++;
		}
		assert_true(*p == ' ');
		p++;
		(void)strtod(p, &num_end);
		if (num_end == p || num_end != end)
			fail_msg("line %d: the value \"%.*s\" is not a number", lineno,
			    (int)(end - p), p);
		samples++;
	}
	return samples;
}

/* A JSON value, by RFC 8259: returns what follows it, or NULL. */
static const char *json_value(const char *p, int depth);

static const char *
json_ws(const char *p)
{
	return p + strspn(p, " \t\r\n");
}

static const char *
json_str(const char *p)
{
	if (*p++ != '"')
		return NULL;
	for (; *p != '"'; p++) {
		if ((unsigned char)*p < 0x20)
			return NULL;
		if (*p == '\\') {
			p++;
			if (*p == 'u') {
				for (int i = 1; i <= 4; i++)
					if (!isxdigit((unsigned char)p[i]))
						return NULL;
				p += 4;
			} else if (strchr("\"\\/bfnrt", *p) == NULL || *p == '\0')
				return NULL;
		}
	}
	return p + 1;
}

static const char *
json_num(const char *p)
{
	const char *s = p;

	if (*p == '-')
		p++;
	if (*p == '0')
		p++;
	else if (*p >= '1' && *p <= '9')
		p += strspn(p, "0123456789");
	else
		return NULL;
	if (*p == '.') {
		p++;
		if (strspn(p, "0123456789") == 0)
			return NULL;
		p += strspn(p, "0123456789");
	}
	if (*p == 'e' || *p == 'E') {
		p++;
		if (*p == '+' || *p == '-')
			p++;
		if (strspn(p, "0123456789") == 0)
			return NULL;
		p += strspn(p, "0123456789");
	}
	return p > s ? p : NULL;
}

static const char *
json_value(const char *p, int depth)
{
	char close;

	if (depth > 32)
		return NULL;
	p = json_ws(p);
	if (*p == '"')
		return json_str(p);
	if (strncmp(p, "null", 4) == 0 || strncmp(p, "true", 4) == 0)
		return p + 4;
	if (strncmp(p, "false", 5) == 0)
		return p + 5;
	if (*p != '{' && *p != '[')
		return json_num(p);
	close = *p == '{' ? '}' : ']';
	p = json_ws(p + 1);
	if (*p == close)
		return p + 1;
	for (;;) {
		if (close == '}') {
			if ((p = json_str(json_ws(p))) == NULL)
				return NULL;
			p = json_ws(p);
			if (*p++ != ':')
				return NULL;
		}
		if ((p = json_value(p, depth + 1)) == NULL)
			return NULL;
		p = json_ws(p);
		if (*p == close)
			return p + 1;
		if (*p++ != ',')
			return NULL;
	}
}

static void
json_check(const char *text)
{
	const char *end = json_value(text, 0);

	if (end == NULL || *json_ws(end) != '\0')
		fail_msg("not one JSON value:\n%s", text);
	assert_true(json_ws(text)[0] == '{');
}

/* The validators themselves: they refuse what is broken. */
static char prom_sample[] = "# HELP a_b x y\n# TYPE a_b gauge\n"
			    "a_b{l=\"\\\"\\\\\\n\",m=\"\"} 1.5\na_b 2\n";

static void
test_validators(void **state)
{
	assert_non_null(json_value("{\"a\":[1,-2.5e3,\"x\\u00e9\\n\",null,true,{}]}", 0));
	assert_null(json_value("{\"a\":1,}", 0));
	assert_null(json_value("{\"a\" 1}", 0));
	assert_null(json_value("[01]", 0));
	assert_null(json_value("\"a\nb\"", 0));
	assert_null(json_value("\"a\\qb\"", 0));
	assert_null(json_value("[1 2]", 0));
	assert_null(json_value("{\"a\":\"b\\\"}", 0));
	assert_int_equal(prom_check(prom_sample), 2);
}

static void
test_prom(void **state)
{
	struct metrics_snapshot *snap = snapshot_new(1, 1);
	char *t = format(snap, 0);

	prom_check(t);
	unit_has(t, "# TYPE synackd_listener_accept_queue gauge\n");
	/* the odd name escaped, in every label of every family */
	unit_has(t,
	    "synackd_listener_info{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",address=\"127.0.0.1:7007\"} 1\n");
	unit_has(t,
	    "synackd_listener_info{listener=\"ux\",service=\"echo\","
	    "address=\"unix:/run/s\\\"ock\"} 1\n");
	unit_has(t, "synackd_listener_backlog{listener=\"" WEIRD_PROM "\",service=\"echo\"} 4\n");
	unit_has(t,
	    "synackd_listener_backlog_effective{listener=\"" WEIRD_PROM "\",service=\"echo\"} 4\n");
	unit_has(
	    t, "synackd_listener_accept_queue{listener=\"" WEIRD_PROM "\",service=\"echo\"} 8\n");
	/* the kernel queues backlog + 1 per socket: two sockets of backlog 4 hold 10 */
	unit_has(t,
	    "synackd_listener_accept_queue_limit{listener=\"" WEIRD_PROM
	    "\",service=\"echo\"} 10\n");
	unit_has(t, "synackd_listener_syn_recv{listener=\"" WEIRD_PROM "\",service=\"echo\"} 7\n");
	unit_has(t, "synackd_listener_workers{listener=\"" WEIRD_PROM "\",service=\"echo\"} 2\n");
	unit_has(t,
	    "synackd_listener_connections_accepted_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\"} 11\n");
	unit_has(t,
	    "synackd_listener_connections_rejected_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",reason=\"max_clients_per_source\"} 6\n");
	unit_has(t,
	    "synackd_listener_connections_rejected_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",reason=\"proxy_untrusted\"} 0\n");
	unit_lacks(t, "listener=\"we\"ird");
	unit_lacks(t, "we\"ird\\na\nme");

	/* no queues read: no queue samples, the rest as usual */
	unit_lacks(t, "synackd_listener_accept_queue{listener=\"sleepy\"");
	unit_lacks(t, "synackd_listener_accept_queue_limit{listener=\"sleepy\"");
	unit_lacks(t, "synackd_listener_backlog_effective{listener=\"sleepy\"");
	unit_has(t, "synackd_listener_backlog{listener=\"sleepy\",service=\"discard\"} 511\n");
	unit_has(t, "synackd_listener_syn_recv{listener=\"sleepy\",service=\"discard\"} 0\n");

	/* unix: the accept queue, no SYN queue */
	unit_has(t, "synackd_listener_accept_queue{listener=\"ux\",service=\"echo\"} 9\n");
	unit_has(t, "synackd_listener_accept_queue_limit{listener=\"ux\",service=\"echo\"} 9\n");
	unit_lacks(t, "synackd_listener_syn_recv{listener=\"ux\"");

	/* the accept wait: cumulative buckets in seconds, the sum, the count; not for unix */
	unit_has(t, "# TYPE synackd_listener_accept_wait_seconds histogram\n");
	unit_has(t,
	    "synackd_listener_accept_wait_seconds_bucket{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",le=\"0.001\"} 6\n");
	unit_has(t,
	    "synackd_listener_accept_wait_seconds_bucket{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",le=\"0.2\"} 10\n");
	unit_has(t,
	    "synackd_listener_accept_wait_seconds_bucket{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",le=\"+Inf\"} 11\n");
	unit_has(t,
	    "synackd_listener_accept_wait_seconds_sum{listener=\"" WEIRD_PROM
	    "\",service=\"echo\"} 7.606\n");
	unit_has(t,
	    "synackd_listener_accept_wait_seconds_count{listener=\"" WEIRD_PROM
	    "\",service=\"echo\"} 11\n");
	unit_has(t,
	    "synackd_listener_accept_wait_seconds_count{listener=\"sleepy\","
	    "service=\"discard\"} 0\n");
	unit_lacks(t, "synackd_listener_accept_wait_seconds_bucket{listener=\"ux\"");
	unit_lacks(t, "synackd_listener_accept_wait_seconds_count{listener=\"ux\"");

	unit_has(t, "synackd_build_info{version=\"1.2.3\"} 1\n");
	unit_has(t, "synackd_clients_active 3\n");
	unit_has(t, "synackd_clients_max 10\n");
	unit_has(t, "synackd_reloads_total{result=\"failed\"} 2\n");
	unit_has(t, "# TYPE synackd_metrics_connections_active gauge\n");
	unit_has(t, "synackd_metrics_connections_active 5\n");
	unit_has(t, "synackd_metrics_connections_max 32\n");
	unit_has(t, "# TYPE synackd_metrics_connections_rejected_total counter\n");
	unit_has(t, "synackd_metrics_connections_rejected_total 21\n");
	unit_has(t, "synackd_host_tcp_listen_overflows_total 17\n");
	unit_has(t, "synackd_host_tcp_listen_drops_total 18\n");
	unit_has(t, "synackd_host_tcp_syncookies_sent_total 19\n");
	unit_has(t, "synackd_host_tcp_req_q_full_drop_total 20\n");
	unit_has(t, "synackd_host_somaxconn 4096\n");
	unit_has(t, "synackd_host_tcp_syncookies 1\n");
	unit_has(t, "synackd_host_tcp_fastopen_passive_total 21\n");
	unit_has(t, "synackd_host_tcp_fastopen_passive_fail_total 22\n");
	unit_has(t, "synackd_host_tcp_fastopen_listen_overflow_total 23\n");
	unit_has(t, "synackd_host_tcp_fastopen_cookie_reqd_total 24\n");
	unit_has(t, "synackd_host_tcp_fastopen 1\n");
	unit_has(t, "synackd_listener_syn_data_total{listener=\"sleepy\",service=\"discard\"} 0\n");
	unit_lacks(t, "synackd_listener_syn_data_total{listener=\"ux\""); /* unix: no SYN */
	unit_lacks(t, "synackd_host_tcp_max_syn_backlog");                /* unknown: left out */
	unit_has(t, "process_open_fds 12\n");
	unit_lacks(t, "process_max_fds");
	free(t);

	/* without the host's counters and the process's figures */
	snap->have_host = 0;
	snap->have_proc = 0;
	t = format(snap, 0);
	prom_check(t);
	unit_lacks(t, "synackd_host_");
	unit_lacks(t, "process_");
	unit_has(t, "synackd_listener_accept_queue{listener=\"ux\",service=\"echo\"} 9\n");
	free(t);
	snapshot_free(snap);
}

static void
test_json(void **state)
{
	struct metrics_snapshot *snap = snapshot_new(1, 1);
	char *t = format(snap, 1);

	json_check(t);
	unit_has(t,
	    "{\"version\":\"1.2.3\",\"uptime_s\":12.500,\"workers\":2,"
	    "\"clients\":{\"active\":3,\"max\":10},\"max_clients_reached\":4,"
	    "\"reloads\":{\"ok\":1,\"failed\":2},"
	    "\"metrics\":{\"connections\":5,\"max_connections\":32,\"rejected\":21},"
	    "\"listeners\":[{");
	unit_has(t,
	    "{\"name\":\"" WEIRD_JSON "\",\"service\":\"echo\",\"address\":\"127.0.0.1:7007\","
	    "\"port\":7007,\"transport\":\"tcp\",\"backlog\":4,\"workers\":2,\"backlog_effective\":"
	    "4,"
	    "\"accept_queue\":8,\"accept_queue_limit\":10,\"accept_queue_per_socket\":[3,5],"
	    "\"syn_recv\":7,\"accept_wait\":{\"count\":11,\"sum_ms\":7606,\"p50_ms\":1,"
	    "\"p90_ms\":200,\"p99_ms\":null,\"buckets_ms\":{\"0\":0,\"1\":6,\"2\":0,\"5\":0,"
	    "\"10\":0,\"20\":0,\"50\":0,\"100\":0,\"200\":4,\"500\":0,\"1000\":0,\"2000\":0,"
	    "\"5000\":0,\"+Inf\":1}},\"syn_data\":5,\"syn\":null,\"accepted\":11,\"active\":2,"
	    "\"rejected_total\":6,");
	unit_has(t,
	    "\"rejected\":{\"max_clients\":0,\"max_clients_per_source\":6,"
	    "\"out_of_memory\":0,\"proxy_untrusted\":0}");
	unit_has(t, "\"bytes_in\":100,\"bytes_out\":200,\"datagrams\":null}");
	/* no queues read: null, and no sockets */
	unit_has(t,
	    "{\"name\":\"sleepy\",\"service\":\"discard\",\"address\":\"[::1]:9\",\"port\":9,"
	    "\"transport\":\"tcp\",\"backlog\":511,\"workers\":2,\"backlog_effective\":null,"
	    "\"accept_queue\":null,"
	    "\"accept_queue_limit\":null,\"accept_queue_per_socket\":[],\"syn_recv\":0,"
	    "\"accept_wait\":{\"count\":0,\"sum_ms\":0,\"p50_ms\":null,\"p90_ms\":null,"
	    "\"p99_ms\":null,");
	/* unix: no SYN queue */
	unit_has(t, "{\"name\":\"ux\",\"service\":\"echo\",\"address\":\"unix:/run/s\\\"ock\",");
	unit_has(t,
	    "\"backlog_effective\":8,\"accept_queue\":9,\"accept_queue_limit\":9,"
	    "\"accept_queue_per_socket\":[9],\"syn_recv\":null,\"accept_wait\":null,"
	    "\"syn_data\":null,\"syn\":null,");
	unit_has(t,
	    ",\"host\":{\"listen_overflows\":17,\"listen_drops\":18,\"syncookies_sent\":19,"
	    "\"req_q_full_drop\":20,\"fastopen_passive\":21,\"fastopen_passive_fail\":22,"
	    "\"fastopen_listen_overflow\":23,\"fastopen_cookie_reqd\":24,\"somaxconn\":4096,"
	    "\"tcp_max_syn_backlog\":-1,\"tcp_syncookies\":1,\"tcp_fastopen\":1}");
	unit_has(t,
	    ",\"process\":{\"start_time_seconds\":1700000000.50,\"cpu_seconds\":1.25,"
	    "\"resident_memory_bytes\":8192,\"virtual_memory_bytes\":65536,\"open_fds\":12,"
	    "\"max_fds\":-1}}\n");
	unit_lacks(t, "we\"ird");
	free(t);

	snap->have_host = 0;
	snap->have_proc = 0;
	t = format(snap, 1);
	json_check(t);
	unit_has(t, "],\"host\":null,\"process\":null}\n");
	unit_lacks(t, "listen_overflows");
	free(t);

	/* no listener at all */
	snap->nlisteners = 0;
	t = format(snap, 1);
	json_check(t);
	unit_has(t, "\"listeners\":[],\"host\":null");
	free(t);
	t = format(snap, 0);
	prom_check(t);
	unit_lacks(t, "{listener=");
	free(t);
	snapshot_free(snap);
}

/*
 * save_syn: the SYN counts of a listener in both formats, the MSS values
 * as counted (already cut to the top ones), the option sets seen only,
 * every reason; a kept SYN with its peer and fields; the unix listener
 * (no save_syn, nothing counted) shows none of it.
 */
static void
test_syn(void **state)
{
	struct metrics_snapshot *snap = snapshot_new(0, 0);
	struct metrics_listener *l = &snap->listeners[0];
	struct syn_seen *s = &l->syn.last[0];
	char *t;

	l->save_syn = 1;
	l->syn.saved = 5;
	l->syn.unread = 1;
	l->syn.invalid[SYN_ERR_OPT_LENGTH] = 2;
	l->syn.nmss = 2;
	l->syn.mss[0].mss = 1200;
	l->syn.mss[0].n = 3;
	l->syn.mss[1].mss = 65495;
	l->syn.mss[1].n = 1;
	l->syn.mss_other = 0;
	l->syn.mss_none = 1;
	l->syn.options[SYN_OPT_MSS | SYN_OPT_SACKOK | SYN_OPT_TS | SYN_OPT_WS] = 4;
	l->syn.options[0] = 1;
	l->syn.nlast = 1;
	s->peer.sin.sin_family = AF_INET;
	s->peer.sin.sin_port = htons(40212);
	s->peer.sin.sin_addr.s_addr = htonl(0x7f000001);
	s->peerlen = sizeof s->peer.sin;
	s->time_ms = 1700000000123;
	s->info = (struct syn_info){ .version = 4,
		.ttl = 64,
		.options = SYN_OPT_MSS | SYN_OPT_WS,
		.window = 65495,
		.mss = 1200,
		.wscale = 7,
		.unknown = 0 };

	t = format(snap, 0);
	prom_check(t);
	unit_has(t,
	    "synackd_listener_syn_saved_total{listener=\"" WEIRD_PROM "\",service=\"echo\"} 5\n");
	unit_has(t,
	    "synackd_listener_syn_unread_total{listener=\"" WEIRD_PROM "\",service=\"echo\"} 1\n");
	unit_has(t,
	    "synackd_listener_syn_invalid_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",reason=\"option_length\"} 2\n");
	unit_has(t,
	    "synackd_listener_syn_invalid_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",reason=\"not_syn\"} 0\n");
	unit_has(t,
	    "synackd_listener_syn_mss_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",mss=\"1200\"} 3\n"
	    "synackd_listener_syn_mss_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",mss=\"65495\"} 1\n"
	    "synackd_listener_syn_mss_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",mss=\"other\"} 0\n"
	    "synackd_listener_syn_mss_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",mss=\"none\"} 1\n");
	unit_has(t,
	    "synackd_listener_syn_options_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",options=\"none\"} 1\n"
	    "synackd_listener_syn_options_total{listener=\"" WEIRD_PROM
	    "\",service=\"echo\",options=\"mss,sackok,ts,ws\"} 4\n");
	unit_lacks(t, "options=\"mss\"");
	unit_lacks(t, "synackd_listener_syn_saved_total{listener=\"ux\"");
	unit_lacks(t, "synackd_listener_syn_mss_total{listener=\"sleepy\"");
	free(t);

	t = format(snap, 1);
	json_check(t);
	unit_has(t,
	    ",\"syn\":{\"enabled\":true,\"saved\":5,\"unread\":1,\"invalid\":{"
	    "\"ip_truncated\":0,");
	unit_has(t,
	    "\"option_length\":2,\"option_size\":0},\"mss\":{\"1200\":3,\"65495\":1,"
	    "\"other\":0,\"none\":1},\"options\":{\"none\":1,\"mss,sackok,ts,ws\":4},"
	    "\"last\":[{\"peer\":\"127.0.0.1:40212\",\"time\":1700000000.123,\"ip\":4,"
	    "\"ttl\":64,\"window\":65495,\"options\":\"mss,ws\",\"mss\":1200,"
	    "\"wscale\":7,\"sackok\":false,\"ts\":false,\"ecn\":false,"
	    "\"fastopen_cookie\":null,\"unknown\":0,\"unknown_kinds\":[]}]},");
	unit_has(t, "\"accept_wait\":null,\"syn_data\":null,\"syn\":null,");
	free(t);

	/* a reload turned it off: what was counted stays */
	l->save_syn = 0;
	t = format(snap, 1);
	unit_has(t, ",\"syn\":{\"enabled\":false,\"saved\":5,");
	free(t);
	snapshot_free(snap);
}

/*
 * A UDP listener: its datagram families with every drop reason, its
 * receive queue and buffer, and none of the TCP ones; in JSON its
 * transport, null backlog and accept wait, and "datagrams".  One whose
 * queues could not be read has no queue samples and nulls.
 */
static void
test_udp(void **state)
{
	struct metrics_snapshot snap = { .version = "1", .nlisteners = 2 };
	struct metrics_listener *l = calloc(2, sizeof *l);
	char *t;

	assert_non_null(l);
	snap.listeners = l;
	for (int i = 0; i < 2; i++) {
		l[i].name = i == 0 ? "dg" : "dg2";
		l[i].service = "chargen";
		l[i].address = "127.0.0.1:7019";
		l[i].port = 7019;
		l[i].workers = 2;
		l[i].udp = 1;
	}
	l[0].dgram.in = 40;
	l[0].dgram.out = 30;
	l[0].dgram.bytes_in = 400;
	l[0].dgram.bytes_out = 3000;
	l[0].dgram.dropped[DGRAM_DROP_BAD_SOURCE] = 1;
	l[0].dgram.dropped[DGRAM_DROP_OWN_PORT] = 2;
	l[0].dgram.dropped[DGRAM_DROP_RATE] = 3;
	l[0].dgram.dropped[DGRAM_DROP_TRUNCATED] = 4;
	l[0].dgram.kernel_drops = 9;
	l[0].have_recv_queue = 1;
	l[0].recv_queue.queued = 2304;
	l[0].recv_queue.buffer = 425984;
	l[0].recv_queue.sockets = 2;

	t = format(&snap, 0);
	prom_check(t);
	unit_has(t,
	    "synackd_listener_datagrams_received_total{listener=\"dg\",service=\"chargen\"} "
	    "40\n");
	unit_has(
	    t, "synackd_listener_datagrams_sent_total{listener=\"dg\",service=\"chargen\"} 30\n");
	unit_has(t,
	    "synackd_listener_datagram_received_bytes_total{listener=\"dg\",service=\"chargen\"} "
	    "400\n");
	unit_has(t,
	    "synackd_listener_datagram_sent_bytes_total{listener=\"dg\",service=\"chargen\"} "
	    "3000\n");
	unit_has(t,
	    "synackd_listener_datagrams_dropped_total{listener=\"dg\",service=\"chargen\","
	    "reason=\"bad_source\"} 1\n");
	unit_has(t,
	    "synackd_listener_datagrams_dropped_total{listener=\"dg\",service=\"chargen\","
	    "reason=\"own_port\"} 2\n");
	unit_has(t,
	    "synackd_listener_datagrams_dropped_total{listener=\"dg\",service=\"chargen\","
	    "reason=\"rate_limited\"} 3\n");
	unit_has(t,
	    "synackd_listener_datagrams_dropped_total{listener=\"dg\",service=\"chargen\","
	    "reason=\"truncated\"} 4\n");
	unit_has(t,
	    "synackd_listener_datagrams_dropped_total{listener=\"dg\",service=\"chargen\","
	    "reason=\"send_error\"} 0\n");
	unit_has(t,
	    "synackd_listener_datagram_kernel_drops_total{listener=\"dg\",service=\"chargen\"} "
	    "9\n");
	unit_has(t,
	    "synackd_listener_datagram_receive_queue_bytes{listener=\"dg\",service=\"chargen\"} "
	    "2304\n");
	unit_has(t,
	    "synackd_listener_datagram_receive_buffer_bytes{listener=\"dg\",service=\"chargen\"} "
	    "425984\n");
	assert_null(strstr(t, "synackd_listener_datagram_receive_queue_bytes{listener=\"dg2\""));
	assert_non_null(strstr(t, "synackd_listener_datagram_kernel_drops_total{listener=\"dg2\""));
	assert_null(strstr(t, "synackd_listener_connections_accepted_total{"));
	assert_null(strstr(t, "synackd_listener_backlog{"));
	assert_null(strstr(t, "synackd_listener_accept_wait_seconds_bucket{"));
	assert_null(strstr(t, "synackd_listener_syn_data_total{"));
	assert_null(strstr(t, "synackd_listener_connections_closed_total{"));
	free(t);

	t = format(&snap, 1);
	json_check(t);
	unit_has(t, "\"port\":7019,\"transport\":\"udp\",\"backlog\":null,\"workers\":2,");
	unit_has(t, "\"accept_wait\":null,\"syn_data\":null,");
	unit_has(t,
	    "\"datagrams\":{\"received\":40,\"sent\":30,\"bytes_received\":400,"
	    "\"bytes_sent\":3000,\"dropped_total\":10,\"dropped\":{\"bad_source\":1,"
	    "\"own_port\":2,\"rate_limited\":3,\"truncated\":4,\"send_error\":0},"
	    "\"kernel_drops\":9,\"receive_queue_bytes\":2304,\"receive_buffer_bytes\":425984}}");
	unit_has(
	    t, "\"kernel_drops\":0,\"receive_queue_bytes\":null,\"receive_buffer_bytes\":null}}");
	free(t);
	free(l);
}

/*
 * The whole text of both formats for snapshot_new(1, 1), byte for byte:
 * what synackd wrote for it before the formatters were reshaped, so that
 * a reshaping that changes a byte fails here.
 */
static const char exact_prom[] =
    "# HELP synackd_build_info The version of synackd running: always 1.\n"
    "# TYPE synackd_build_info gauge\n"
    "synackd_build_info{version=\"1.2.3\"} 1\n"
    "# HELP synackd_uptime_seconds Seconds since synackd started.\n"
    "# TYPE synackd_uptime_seconds gauge\n"
    "synackd_uptime_seconds 12.500\n"
    "# HELP synackd_workers Event-loop threads.\n"
    "# TYPE synackd_workers gauge\n"
    "synackd_workers 2\n"
    "# HELP synackd_clients_active Clients connected now, all listeners together (those o"
    "f listeners a reload removed included).\n"
    "# TYPE synackd_clients_active gauge\n"
    "synackd_clients_active 3\n"
    "# HELP synackd_clients_max max_clients: the limit on clients_active.\n"
    "# TYPE synackd_clients_max gauge\n"
    "synackd_clients_max 10\n"
    "# HELP synackd_max_clients_reached_total Times max_clients was reached and accepting"
    " paused.\n"
    "# TYPE synackd_max_clients_reached_total counter\n"
    "synackd_max_clients_reached_total 4\n"
    "# HELP synackd_reloads_total Configuration reloads (SIGHUP), by result: ok, or faile"
    "d (the file was refused).\n"
    "# TYPE synackd_reloads_total counter\n"
    "synackd_reloads_total{result=\"ok\"} 1\n"
    "synackd_reloads_total{result=\"failed\"} 2\n"
    "# HELP synackd_metrics_connections_active Connections to this endpoint now, the one "
    "asking included.\n"
    "# TYPE synackd_metrics_connections_active gauge\n"
    "synackd_metrics_connections_active 5\n"
    "# HELP synackd_metrics_connections_max metrics_max_connections: the limit on metrics"
    "_connections_active.\n"
    "# TYPE synackd_metrics_connections_max gauge\n"
    "synackd_metrics_connections_max 32\n"
    "# HELP synackd_metrics_connections_rejected_total Connections to this endpoint close"
    "d at once: metrics_max_connections were open.\n"
    "# TYPE synackd_metrics_connections_rejected_total counter\n"
    "synackd_metrics_connections_rejected_total 21\n"
    "# HELP synackd_listener_info A listener: its address (ADDR:PORT with the real port, "
    "or unix:PATH); always 1.\n"
    "# TYPE synackd_listener_info gauge\n"
    "synackd_listener_info{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\",address=\"1"
    "27.0.0.1:7007\"} 1\n"
    "synackd_listener_info{listener=\"sleepy\",service=\"discard\",address=\"[::1]:9\"} 1"
    "\n"
    "synackd_listener_info{listener=\"ux\",service=\"echo\",address=\"unix:/run/s\\\"ock"
    "\"} 1\n"
    "# HELP synackd_listener_workers Workers serving the listener, each with its own list"
    "ening socket.\n"
    "# TYPE synackd_listener_workers gauge\n"
    "synackd_listener_workers{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\"} 2\n"
    "synackd_listener_workers{listener=\"sleepy\",service=\"discard\"} 2\n"
    "synackd_listener_workers{listener=\"ux\",service=\"echo\"} 1\n"
    "# HELP synackd_listener_backlog The listen() backlog configured, per socket.\n"
    "# TYPE synackd_listener_backlog gauge\n"
    "synackd_listener_backlog{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\"} 4\n"
    "synackd_listener_backlog{listener=\"sleepy\",service=\"discard\"} 511\n"
    "synackd_listener_backlog{listener=\"ux\",service=\"echo\"} 8\n"
    "# HELP synackd_listener_backlog_effective The backlog in effect per socket: the conf"
    "igured one capped by somaxconn (TCP_INFO tcpi_sacked on the listening socket).\n"
    "# TYPE synackd_listener_backlog_effective gauge\n"
    "synackd_listener_backlog_effective{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo"
    "\"} 4\n"
    "synackd_listener_backlog_effective{listener=\"ux\",service=\"echo\"} 8\n"
    "# HELP synackd_listener_accept_queue Connections whose handshake completed, waiting "
    "for accept(), all the listener's sockets together (TCP_INFO tcpi_unacked).\n"
    "# TYPE synackd_listener_accept_queue gauge\n"
    "synackd_listener_accept_queue{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\"} 8"
    "\n"
    "synackd_listener_accept_queue{listener=\"ux\",service=\"echo\"} 9\n"
    "# HELP synackd_listener_accept_queue_limit What the accept queues hold at most, all "
    "sockets together: backlog_effective + 1 per socket (the kernel queues one connection"
    " beyond the backlog).\n"
    "# TYPE synackd_listener_accept_queue_limit gauge\n"
    "synackd_listener_accept_queue_limit{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo"
    "\"} 10\n"
    "synackd_listener_accept_queue_limit{listener=\"ux\",service=\"echo\"} 9\n"
    "# HELP synackd_listener_syn_recv Half-open connections: SYN received, SYN-ACK sent, "
    "no ACK yet (sockets in state SYN_RECV on the listener's address and port, from sock_"
    "diag).\n"
    "# TYPE synackd_listener_syn_recv gauge\n"
    "synackd_listener_syn_recv{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\"} 7\n"
    "synackd_listener_syn_recv{listener=\"sleepy\",service=\"discard\"} 0\n"
    "# HELP synackd_listener_connections_accepted_total Connections accepted and served a"
    "s clients.\n"
    "# TYPE synackd_listener_connections_accepted_total counter\n"
    "synackd_listener_connections_accepted_total{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\"} 11\n"
    "synackd_listener_connections_accepted_total{listener=\"sleepy\",service=\"discard\"}"
    " 0\n"
    "synackd_listener_connections_accepted_total{listener=\"ux\",service=\"echo\"} 0\n"
    "# HELP synackd_listener_connections_active Clients connected now.\n"
    "# TYPE synackd_listener_connections_active gauge\n"
    "synackd_listener_connections_active{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo"
    "\"} 2\n"
    "synackd_listener_connections_active{listener=\"sleepy\",service=\"discard\"} 0\n"
    "synackd_listener_connections_active{listener=\"ux\",service=\"echo\"} 0\n"
    "# HELP synackd_listener_connections_rejected_total Connections accepted and closed a"
    "t once without service, by reason.\n"
    "# TYPE synackd_listener_connections_rejected_total counter\n"
    "synackd_listener_connections_rejected_total{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",reason=\"max_clients\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",reason=\"max_clients_per_source\"} 6\n"
    "synackd_listener_connections_rejected_total{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",reason=\"out_of_memory\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",reason=\"proxy_untrusted\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"sleepy\",service=\"discard\","
    "reason=\"max_clients\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"sleepy\",service=\"discard\","
    "reason=\"max_clients_per_source\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"sleepy\",service=\"discard\","
    "reason=\"out_of_memory\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"sleepy\",service=\"discard\","
    "reason=\"proxy_untrusted\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"ux\",service=\"echo\",reason="
    "\"max_clients\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"ux\",service=\"echo\",reason="
    "\"max_clients_per_source\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"ux\",service=\"echo\",reason="
    "\"out_of_memory\"} 0\n"
    "synackd_listener_connections_rejected_total{listener=\"ux\",service=\"echo\",reason="
    "\"proxy_untrusted\"} 0\n"
    "# HELP synackd_listener_connections_closed_total Clients closed, by reason.\n"
    "# TYPE synackd_listener_connections_closed_total counter\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"peer\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"idle_timeout\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"slow_consumer\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"line_too_long\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"shutdown\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"error\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"done\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"out_of_memory\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"proxy_invalid\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"proxy_timeout\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\",reason=\"max_clients_per_source\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"peer\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"idle_timeout\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"slow_consumer\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"line_too_long\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"shutdown\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"error\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"done\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"out_of_memory\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"proxy_invalid\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"proxy_timeout\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"sleepy\",service=\"discard\",re"
    "ason=\"max_clients_per_source\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "peer\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "idle_timeout\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "slow_consumer\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "line_too_long\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "shutdown\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "error\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "done\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "out_of_memory\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "proxy_invalid\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "proxy_timeout\"} 0\n"
    "synackd_listener_connections_closed_total{listener=\"ux\",service=\"echo\",reason=\""
    "max_clients_per_source\"} 0\n"
    "# HELP synackd_listener_accept_errors_total accept() failures, by errno; EMFILE, ENF"
    "ILE, ENOBUFS and ENOMEM pause accepting for a second.\n"
    "# TYPE synackd_listener_accept_errors_total counter\n"
    "synackd_listener_accept_errors_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ech"
    "o\",errno=\"EMFILE\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ech"
    "o\",errno=\"ENFILE\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ech"
    "o\",errno=\"ENOBUFS\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ech"
    "o\",errno=\"ENOMEM\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ech"
    "o\",errno=\"EPERM\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ech"
    "o\",errno=\"other\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"sleepy\",service=\"discard\",errno="
    "\"EMFILE\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"sleepy\",service=\"discard\",errno="
    "\"ENFILE\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"sleepy\",service=\"discard\",errno="
    "\"ENOBUFS\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"sleepy\",service=\"discard\",errno="
    "\"ENOMEM\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"sleepy\",service=\"discard\",errno="
    "\"EPERM\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"sleepy\",service=\"discard\",errno="
    "\"other\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"ux\",service=\"echo\",errno=\"EMFILE"
    "\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"ux\",service=\"echo\",errno=\"ENFILE"
    "\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"ux\",service=\"echo\",errno=\"ENOBUF"
    "S\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"ux\",service=\"echo\",errno=\"ENOMEM"
    "\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"ux\",service=\"echo\",errno=\"EPERM"
    "\"} 0\n"
    "synackd_listener_accept_errors_total{listener=\"ux\",service=\"echo\",errno=\"other"
    "\"} 0\n"
    "# HELP synackd_listener_received_bytes_total Bytes read from clients.\n"
    "# TYPE synackd_listener_received_bytes_total counter\n"
    "synackd_listener_received_bytes_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"ec"
    "ho\"} 100\n"
    "synackd_listener_received_bytes_total{listener=\"sleepy\",service=\"discard\"} 0\n"
    "synackd_listener_received_bytes_total{listener=\"ux\",service=\"echo\"} 0\n"
    "# HELP synackd_listener_sent_bytes_total Bytes written to clients (taken by the kern"
    "el).\n"
    "# TYPE synackd_listener_sent_bytes_total counter\n"
    "synackd_listener_sent_bytes_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\""
    "} 200\n"
    "synackd_listener_sent_bytes_total{listener=\"sleepy\",service=\"discard\"} 0\n"
    "synackd_listener_sent_bytes_total{listener=\"ux\",service=\"echo\"} 0\n"
    "# HELP synackd_listener_accept_wait_seconds Time a connection waited in the accept q"
    "ueue, from its handshake's last ACK to accept() (TCP_INFO tcpi_last_ack_recv at acce"
    "pt; less for a client that sent data while it waited).\n"
    "# TYPE synackd_listener_accept_wait_seconds histogram\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.001\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.002\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.005\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.01\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.02\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.05\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.1\"} 6\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.2\"} 10\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"0.5\"} 10\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"1\"} 10\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"2\"} 10\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"5\"} 10\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"we\\\"ird\\\\na\\nme\",servic"
    "e=\"echo\",le=\"+Inf\"} 11\n"
    "synackd_listener_accept_wait_seconds_sum{listener=\"we\\\"ird\\\\na\\nme\",service="
    "\"echo\"} 7.606\n"
    "synackd_listener_accept_wait_seconds_count{listener=\"we\\\"ird\\\\na\\nme\",service"
    "=\"echo\"} 11\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.001\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.002\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.005\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.01\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.02\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.05\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.1\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.2\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"0.5\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"1\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"2\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"5\"} 0\n"
    "synackd_listener_accept_wait_seconds_bucket{listener=\"sleepy\",service=\"discard\","
    "le=\"+Inf\"} 0\n"
    "synackd_listener_accept_wait_seconds_sum{listener=\"sleepy\",service=\"discard\"} 0."
    "000\n"
    "synackd_listener_accept_wait_seconds_count{listener=\"sleepy\",service=\"discard\"} "
    "0\n"
    "# HELP synackd_listener_syn_data_total Clients whose SYN carried data the kernel too"
    "k (TCP Fast Open: TCP_INFO tcpi_options has TCPI_OPT_SYN_DATA at accept).\n"
    "# TYPE synackd_listener_syn_data_total counter\n"
    "synackd_listener_syn_data_total{listener=\"we\\\"ird\\\\na\\nme\",service=\"echo\"} "
    "5\n"
    "synackd_listener_syn_data_total{listener=\"sleepy\",service=\"discard\"} 0\n"
    "# HELP synackd_listener_syn_saved_total Clients whose SYN was read (save_syn: TCP_SA"
    "VED_SYN at accept) and parsed.\n"
    "# TYPE synackd_listener_syn_saved_total counter\n"
    "# HELP synackd_listener_syn_unread_total Clients of a save_syn listener whose SYN th"
    "e kernel had not saved (it arrived before a reload set save_syn).\n"
    "# TYPE synackd_listener_syn_unread_total counter\n"
    "# HELP synackd_listener_syn_invalid_total Clients whose saved SYN did not parse, by "
    "reason (never fatal: the client is served).\n"
    "# TYPE synackd_listener_syn_invalid_total counter\n"
    "# HELP synackd_listener_syn_mss_total Clients' SYNs by the MSS option they carried a"
    "s they arrived: the most frequent values, \"other\" for the rest, \"none\" without t"
    "he option.\n"
    "# TYPE synackd_listener_syn_mss_total counter\n"
    "# HELP synackd_listener_syn_options_total Clients' SYNs by the set of TCP options th"
    "ey carried (fastopen, mss, sackok, ts, ws, unknown; \"none\"), as they arrived.\n"
    "# TYPE synackd_listener_syn_options_total counter\n"
    "# HELP synackd_listener_datagrams_received_total Datagrams read, the dropped ones in"
    "cluded.\n"
    "# TYPE synackd_listener_datagrams_received_total counter\n"
    "# HELP synackd_listener_datagrams_sent_total Answers sent (taken by the kernel).\n"
    "# TYPE synackd_listener_datagrams_sent_total counter\n"
    "# HELP synackd_listener_datagram_received_bytes_total Bytes of the datagrams read (a"
    " truncated one counts what was read: max_datagram + 1).\n"
    "# TYPE synackd_listener_datagram_received_bytes_total counter\n"
    "# HELP synackd_listener_datagram_sent_bytes_total Bytes of the answers sent.\n"
    "# TYPE synackd_listener_datagram_sent_bytes_total counter\n"
    "# HELP synackd_listener_datagrams_dropped_total Datagrams read and not answered, by "
    "reason: bad_source (port 0, 7, 9, 13, 19, 37), own_port (a port of synackd's UDP lis"
    "teners), rate_limited (udp_rate), truncated (over max_datagram), send_error (the ans"
    "wer was refused).\n"
    "# TYPE synackd_listener_datagrams_dropped_total counter\n"
    "# HELP synackd_listener_datagram_kernel_drops_total Datagrams the kernel dropped bef"
    "ore synackd could read them: the socket's receive buffer was full (SO_RXQ_OVFL).\n"
    "# TYPE synackd_listener_datagram_kernel_drops_total counter\n"
    "# HELP synackd_listener_datagram_receive_queue_bytes Memory the datagrams waiting to"
    " be read take now, all the listener's sockets together (sock_diag idiag_rqueue: each"
    " datagram's truesize).\n"
    "# TYPE synackd_listener_datagram_receive_queue_bytes gauge\n"
    "# HELP synackd_listener_datagram_receive_buffer_bytes What the receive queues may ho"
    "ld, all the listener's sockets together (SO_RCVBUF, in the same bytes as receive_que"
    "ue_bytes); a datagram that finds its socket's queue full is a kernel drop.\n"
    "# TYPE synackd_listener_datagram_receive_buffer_bytes gauge\n"
    "# HELP synackd_host_tcp_listen_overflows_total TcpExt ListenOverflows of the host (i"
    "ts network namespace): a handshake completed while the listener's accept queue was f"
    "ull.\n"
    "# TYPE synackd_host_tcp_listen_overflows_total counter\n"
    "synackd_host_tcp_listen_overflows_total 17\n"
    "# HELP synackd_host_tcp_listen_drops_total TcpExt ListenDrops: connections a listene"
    "r dropped, overflows included.\n"
    "# TYPE synackd_host_tcp_listen_drops_total counter\n"
    "synackd_host_tcp_listen_drops_total 18\n"
    "# HELP synackd_host_tcp_syncookies_sent_total TcpExt SyncookiesSent: SYN queue full,"
    " a SYN answered with a cookie.\n"
    "# TYPE synackd_host_tcp_syncookies_sent_total counter\n"
    "synackd_host_tcp_syncookies_sent_total 19\n"
    "# HELP synackd_host_tcp_req_q_full_drop_total TcpExt TCPReqQFullDrop: SYN queue full"
    " and no cookies, a SYN dropped.\n"
    "# TYPE synackd_host_tcp_req_q_full_drop_total counter\n"
    "synackd_host_tcp_req_q_full_drop_total 20\n"
    "# HELP synackd_host_tcp_fastopen_passive_total TcpExt TCPFastOpenPassive: a TCP Fast"
    " Open SYN accepted with its data.\n"
    "# TYPE synackd_host_tcp_fastopen_passive_total counter\n"
    "synackd_host_tcp_fastopen_passive_total 21\n"
    "# HELP synackd_host_tcp_fastopen_passive_fail_total TcpExt TCPFastOpenPassiveFail: a"
    " Fast Open connection the server could not make.\n"
    "# TYPE synackd_host_tcp_fastopen_passive_fail_total counter\n"
    "synackd_host_tcp_fastopen_passive_fail_total 22\n"
    "# HELP synackd_host_tcp_fastopen_listen_overflow_total TcpExt TCPFastOpenListenOverf"
    "low: a listener's Fast Open queue was full: the SYN got a plain handshake, its data "
    "was sent again after it.\n"
    "# TYPE synackd_host_tcp_fastopen_listen_overflow_total counter\n"
    "synackd_host_tcp_fastopen_listen_overflow_total 23\n"
    "# HELP synackd_host_tcp_fastopen_cookie_reqd_total TcpExt TCPFastOpenCookieReqd: a S"
    "YN asked for a Fast Open cookie.\n"
    "# TYPE synackd_host_tcp_fastopen_cookie_reqd_total counter\n"
    "synackd_host_tcp_fastopen_cookie_reqd_total 24\n"
    "# HELP synackd_host_somaxconn net.core.somaxconn: the cap on every listen() backlog."
    "\n"
    "# TYPE synackd_host_somaxconn gauge\n"
    "synackd_host_somaxconn 4096\n"
    "# HELP synackd_host_tcp_syncookies net.ipv4.tcp_syncookies: 0 off, 1 when the SYN qu"
    "eue overflows, 2 always.\n"
    "# TYPE synackd_host_tcp_syncookies gauge\n"
    "synackd_host_tcp_syncookies 1\n"
    "# HELP synackd_host_tcp_fastopen net.ipv4.tcp_fastopen, a bit mask: 1 lets this host"
    "'s clients use Fast Open, 2 serves it.\n"
    "# TYPE synackd_host_tcp_fastopen gauge\n"
    "synackd_host_tcp_fastopen 1\n"
    "# HELP process_start_time_seconds Start time of the process since the epoch, in seco"
    "nds.\n"
    "# TYPE process_start_time_seconds gauge\n"
    "process_start_time_seconds 1700000000.50\n"
    "# HELP process_cpu_seconds_total User and system CPU time spent, in seconds.\n"
    "# TYPE process_cpu_seconds_total counter\n"
    "process_cpu_seconds_total 1.25\n"
    "# HELP process_resident_memory_bytes Resident memory size.\n"
    "# TYPE process_resident_memory_bytes gauge\n"
    "process_resident_memory_bytes 8192\n"
    "# HELP process_virtual_memory_bytes Virtual memory size.\n"
    "# TYPE process_virtual_memory_bytes gauge\n"
    "process_virtual_memory_bytes 65536\n"
    "# HELP process_open_fds Open file descriptors.\n"
    "# TYPE process_open_fds gauge\n"
    "process_open_fds 12\n";

static const char exact_json[] =
    "{\"version\":\"1.2.3\",\"uptime_s\":12.500,\"workers\":2,\"clients\":{\"active\":3,"
    "\"max\":10},\"max_clients_reached\":4,\"reloads\":{\"ok\":1,\"failed\":2},\"metrics"
    "\":{\"connections\":5,\"max_connections\":32,\"rejected\":21},\"listeners\":[{\"name"
    "\":\"we\\\"ird\\\\na\\nme\",\"service\":\"echo\",\"address\":\"127.0.0.1:7007\",\"po"
    "rt\":7007,\"transport\":\"tcp\",\"backlog\":4,\"workers\":2,\"backlog_effective\":4,"
    "\"accept_queue\":8,\"accept_queue_limit\":10,\"accept_queue_per_socket\":[3,5],\"syn"
    "_recv\":7,\"accept_wait\":{\"count\":11,\"sum_ms\":7606,\"p50_ms\":1,\"p90_ms\":200,"
    "\"p99_ms\":null,\"buckets_ms\":{\"0\":0,\"1\":6,\"2\":0,\"5\":0,\"10\":0,\"20\":0,\""
    "50\":0,\"100\":0,\"200\":4,\"500\":0,\"1000\":0,\"2000\":0,\"5000\":0,\"+Inf\":1}},"
    "\"syn_data\":5,\"syn\":null,\"accepted\":11,\"active\":2,\"rejected_total\":6,\"reje"
    "cted\":{\"max_clients\":0,\"max_clients_per_source\":6,\"out_of_memory\":0,\"proxy_u"
    "ntrusted\":0},\"closed\":{\"peer\":0,\"idle_timeout\":0,\"slow_consumer\":0,\"line_t"
    "oo_long\":0,\"shutdown\":0,\"error\":0,\"done\":0,\"out_of_memory\":0,\"proxy_invali"
    "d\":0,\"proxy_timeout\":0,\"max_clients_per_source\":0},\"accept_errors\":{\"EMFILE"
    "\":0,\"ENFILE\":0,\"ENOBUFS\":0,\"ENOMEM\":0,\"EPERM\":0,\"other\":0},\"bytes_in\":1"
    "00,\"bytes_out\":200,\"datagrams\":null},{\"name\":\"sleepy\",\"service\":\"discard"
    "\",\"address\":\"[::1]:9\",\"port\":9,\"transport\":\"tcp\",\"backlog\":511,\"worker"
    "s\":2,\"backlog_effective\":null,\"accept_queue\":null,\"accept_queue_limit\":null,"
    "\"accept_queue_per_socket\":[],\"syn_recv\":0,\"accept_wait\":{\"count\":0,\"sum_ms"
    "\":0,\"p50_ms\":null,\"p90_ms\":null,\"p99_ms\":null,\"buckets_ms\":{\"0\":0,\"1\":0"
    ",\"2\":0,\"5\":0,\"10\":0,\"20\":0,\"50\":0,\"100\":0,\"200\":0,\"500\":0,\"1000\":0"
    ",\"2000\":0,\"5000\":0,\"+Inf\":0}},\"syn_data\":0,\"syn\":null,\"accepted\":0,\"act"
    "ive\":0,\"rejected_total\":0,\"rejected\":{\"max_clients\":0,\"max_clients_per_sourc"
    "e\":0,\"out_of_memory\":0,\"proxy_untrusted\":0},\"closed\":{\"peer\":0,\"idle_timeo"
    "ut\":0,\"slow_consumer\":0,\"line_too_long\":0,\"shutdown\":0,\"error\":0,\"done\":0"
    ",\"out_of_memory\":0,\"proxy_invalid\":0,\"proxy_timeout\":0,\"max_clients_per_sourc"
    "e\":0},\"accept_errors\":{\"EMFILE\":0,\"ENFILE\":0,\"ENOBUFS\":0,\"ENOMEM\":0,\"EPE"
    "RM\":0,\"other\":0},\"bytes_in\":0,\"bytes_out\":0,\"datagrams\":null},{\"name\":\"u"
    "x\",\"service\":\"echo\",\"address\":\"unix:/run/s\\\"ock\",\"port\":null,\"transpor"
    "t\":\"tcp\",\"backlog\":8,\"workers\":1,\"backlog_effective\":8,\"accept_queue\":9,"
    "\"accept_queue_limit\":9,\"accept_queue_per_socket\":[9],\"syn_recv\":null,\"accept_"
    "wait\":null,\"syn_data\":null,\"syn\":null,\"accepted\":0,\"active\":0,\"rejected_to"
    "tal\":0,\"rejected\":{\"max_clients\":0,\"max_clients_per_source\":0,\"out_of_memory"
    "\":0,\"proxy_untrusted\":0},\"closed\":{\"peer\":0,\"idle_timeout\":0,\"slow_consume"
    "r\":0,\"line_too_long\":0,\"shutdown\":0,\"error\":0,\"done\":0,\"out_of_memory\":0,"
    "\"proxy_invalid\":0,\"proxy_timeout\":0,\"max_clients_per_source\":0},\"accept_error"
    "s\":{\"EMFILE\":0,\"ENFILE\":0,\"ENOBUFS\":0,\"ENOMEM\":0,\"EPERM\":0,\"other\":0},"
    "\"bytes_in\":0,\"bytes_out\":0,\"datagrams\":null}],\"host\":{\"listen_overflows\":1"
    "7,\"listen_drops\":18,\"syncookies_sent\":19,\"req_q_full_drop\":20,\"fastopen_passi"
    "ve\":21,\"fastopen_passive_fail\":22,\"fastopen_listen_overflow\":23,\"fastopen_cook"
    "ie_reqd\":24,\"somaxconn\":4096,\"tcp_max_syn_backlog\":-1,\"tcp_syncookies\":1,\"tc"
    "p_fastopen\":1},\"process\":{\"start_time_seconds\":1700000000.50,\"cpu_seconds\":1."
    "25,\"resident_memory_bytes\":8192,\"virtual_memory_bytes\":65536,\"open_fds\":12,\"m"
    "ax_fds\":-1}}\n";

/* Equal, or the first line that differs. */
static void
same_text(const char *got, const char *want)
{
	size_t i = 0, line = 1, start = 0;

	while (got[i] != '\0' && got[i] == want[i]) {
		if (got[i] == '\n') {
			line++;
			start = i + 1;
		}
		i++;
	}
	if (got[i] != want[i])
		fail_msg("line %zu differs:\n got: %.200s\nwant: %.200s", line, got + start,
		    want + start);
}

static void
test_exact(void **state)
{
	struct metrics_snapshot *snap = snapshot_new(1, 1);
	char *t = format(snap, 0);

	same_text(t, exact_prom);
	free(t);
	t = format(snap, 1);
	same_text(t, exact_json);
	free(t);
	snapshot_free(snap);
}

/* ---- accept_wait_bucket, accept_wait_percentile ---- */

static void
test_accept_wait_bucket(void **state)
{
	static const struct {
		uint32_t ms;
		int bucket;
	} cases[] = {
		{ 0, 0 },
		{ 1, 1 },
		{ 2, 2 },
		{ 3, 3 },
		{ 5, 3 },
		{ 6, 4 },
		{ 10, 4 },
		{ 11, 5 },
		{ 20, 5 },
		{ 21, 6 },
		{ 50, 6 },
		{ 99, 7 },
		{ 100, 7 },
		{ 101, 8 },
		{ 200, 8 },
		{ 201, 9 },
		{ 312, 9 },
		{ 500, 9 },
		{ 501, 10 },
		{ 1000, 10 },
		{ 2000, 11 },
		{ 5000, 12 },
		{ 5001, 13 },
		{ UINT32_MAX, 13 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		if (accept_wait_bucket(cases[i].ms) != cases[i].bucket)
			fail_msg("%" PRIu32 " ms: bucket %d, expected %d", cases[i].ms,
			    accept_wait_bucket(cases[i].ms), cases[i].bucket);
	/* every bound is in its own bucket, one more is in the next */
	for (int k = 0; k < ACCEPT_WAIT_BUCKETS - 1; k++) {
		assert_int_equal(accept_wait_bucket(accept_wait_bound_ms[k]), k);
		assert_int_equal(accept_wait_bucket(accept_wait_bound_ms[k] + 1), k + 1);
	}
}

static void
test_accept_wait_percentile(void **state)
{
	static const struct {
		const char *what;
		uint64_t buckets[ACCEPT_WAIT_BUCKETS];
		unsigned permille;
		int bucket; /* -1: nothing counted */
	} cases[] = {
		{ "empty", { 0 }, 500, -1 },
		{ "empty p99", { 0 }, 990, -1 },
		{ "one in the first", { 1 }, 990, 0 },
		{ "one, p0 still finds it", { [9] = 1 }, 0, 9 },
		{ "all in one bucket", { [9] = 5 }, 500, 9 },
		{ "all in one bucket p99", { [9] = 5 }, 990, 9 },
		/* 100 waits: 90 of 1 ms, 9 of 200, 1 of 500 */
		{ "p50", { [1] = 90, [8] = 9, [9] = 1 }, 500, 1 },
		{ "p90: the 90th is the last of 1 ms", { [1] = 90, [8] = 9, [9] = 1 }, 900, 1 },
		{ "p91", { [1] = 90, [8] = 9, [9] = 1 }, 910, 8 },
		{ "p99: the 99th", { [1] = 90, [8] = 9, [9] = 1 }, 990, 8 },
		{ "p100", { [1] = 90, [8] = 9, [9] = 1 }, 1000, 9 },
		/* 11 waits: the rank rounds up (5.5 -> 6, 9.9 -> 10, 10.89 -> 11) */
		{ "p50 of 11", { [1] = 6, [8] = 4, [13] = 1 }, 500, 1 },
		{ "p90 of 11", { [1] = 6, [8] = 4, [13] = 1 }, 900, 8 },
		{ "p99 of 11: over the last bound", { [1] = 6, [8] = 4, [13] = 1 }, 990, 13 },
		{ "only over the last bound", { [13] = 3 }, 500, 13 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int got = accept_wait_percentile(cases[i].buckets, cases[i].permille);

		if (got != cases[i].bucket)
			fail_msg("%s: bucket %d, expected %d", cases[i].what, got, cases[i].bucket);
	}
}

/* ---- metrics_framing_error ---- */

static void
test_framing(void **state)
{
	static const struct {
		const char *headers; /* "Key: value" lines, '|' between them */
		const char *error;   /* a word of the error, or NULL: accepted */
	} cases[] = {
		{ "", NULL },
		{ "Host: x|Accept: */*", NULL },
		{ "Content-Length: 0", NULL },
		{ "Content-Length: 4096", NULL },
		{ "content-length: 12", NULL },
		{ "Transfer-Encoding: chunked", NULL },
		{ "TRANSFER-ENCODING: Chunked", NULL },
		/* two lengths: equal or not, whatever their case, wherever they are */
		{ "Content-Length: 5|Content-Length: 5", "more than one Content-Length" },
		{ "Content-Length: 0|Host: x|Content-Length: 10", "more than one Content-Length" },
		{ "Content-Length: 5|content-LENGTH: 5", "more than one Content-Length" },
		/* a length and a coding: which one wins depends on who reads */
		{ "Content-Length: 5|Transfer-Encoding: chunked", "both" },
		{ "Transfer-Encoding: chunked|Content-Length: 0", "both" },
		{ "Transfer-Encoding: chunked|Transfer-Encoding: chunked",
		    "more than one Transfer" },
		/* what evhttp would not read as the length, or not as chunked */
		{ "Content-Length: 5, 5", "not a number" },
		{ "Content-Length: +5", "not a number" },
		{ "Content-Length: -1", "not a number" },
		{ "Content-Length: 0x10", "not a number" },
		{ "Content-Length: ", "not a number" },
		{ "Transfer-Encoding: gzip, chunked", "other than chunked" },
		{ "Transfer-Encoding: identity", "other than chunked" },
		{ "Transfer-Encoding: chunked, gzip", "other than chunked" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct evkeyvalq headers;
		char buf[256], *line, *next, *colon;
		const char *error;

		TAILQ_INIT(&headers);
		snprintf(buf, sizeof buf, "%s", cases[i].headers);
		for (line = buf; *line != '\0'; line = next) {
			next = line + strcspn(line, "|");
			if (*next == '|')
				*next++ = '\0';
			colon = strstr(line, ": ");
			assert_non_null(colon);
			*colon = '\0';
			assert_int_equal(evhttp_add_header(&headers, line, colon + 2), 0);
		}
		error = metrics_framing_error(&headers);
		if (cases[i].error == NULL && error != NULL)
			fail_msg("\"%s\": refused (%s)", cases[i].headers, error);
		if (cases[i].error != NULL &&
		    (error == NULL || strstr(error, cases[i].error) == NULL))
			fail_msg("\"%s\": expected \"%s\", got \"%s\"", cases[i].headers,
			    cases[i].error, error != NULL ? error : "(accepted)");
		evhttp_clear_headers(&headers);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_syn_match),
		cmocka_unit_test(test_netstat_value),
		cmocka_unit_test(test_netstat_malformed),
		cmocka_unit_test(test_stat_parse),
		cmocka_unit_test(test_validators),
		cmocka_unit_test(test_prom),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_syn),
		cmocka_unit_test(test_exact),
		cmocka_unit_test(test_udp),
		cmocka_unit_test(test_framing),
		cmocka_unit_test(test_accept_wait_bucket),
		cmocka_unit_test(test_accept_wait_percentile),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * metrics.c: the status and metrics endpoint: libevent's evhttp on the
 * main loop, serving /metrics (Prometheus text format 0.0.4), /stats
 * (the same as one JSON object) and / (an HTML page that reads /stats).
 *
 * Nothing is counted here: the workers count as they go, each into its
 * own acceptors' stats (plain stores, relaxed atomics), and a request
 * takes a snapshot: the owner's function (server.c) sums them per
 * listener with what the kernel says of the queues, and the endpoint adds
 * its own figures and what /proc says of the host and the process
 * (procfs.c).  The endpoint reads nothing of the daemon's itself.  The
 * formatters are functions of the snapshot alone.  So the hot path pays
 * nothing for a metric until it is read.
 *
 * The socket is made by hand like a listener's, before detaching, so
 * that a bad address fails the start.  Requests are bounded in size
 * (evhttp's limits) and in time: evhttp's timeout is for a silence, which
 * a client sending a byte now and then never lets come, so each
 * connection also has a deadline of its own (struct metrics_conn).  Only
 * GET and HEAD are served, and only requests whose length no two parsers
 * could read differently.
 *
 * Connections are bounded in number (metrics_max_connections, counted in
 * the descriptor budget).  evhttp accepts by itself and has no way to
 * refuse, so the limit is kept at the socket: below it evhttp's listener
 * accepts, at it a second listener on the same socket takes its place and
 * closes each new connection at once, before evhttp sees it.  A connection
 * is counted when evhttp asks for its bufferevent, and let go of when
 * evhttp frees it.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>

#include "conf.h"
#include "jsonesc.h"
#include "log.h"
#include "metrics.h"
#include "net.h"
#include "procfs.h"
#include "stats.h"

#define METRICS_BACKLOG 64
#define METRICS_TIMEOUT 5         /* seconds to send a request, or to take the answer */
#define METRICS_MAX_HEADERS 8192  /* bytes of request line and headers */
#define METRICS_MAX_BODY 4096     /* a body is read (then refused, 405) up to this */
#define METRICS_RETRY_SECONDS 1   /* out of descriptors: pause accepting */
#define METRICS_ALL_METHODS 0x1ff /* every method evhttp knows: the others get 405 here */

extern const char status_html[];

/*
 * A connection to the endpoint: it must have sent a whole request within
 * METRICS_TIMEOUT of its accept, or of its last request's answer, or it is
 * closed as evhttp closes a silent one.  evhttp makes the connection
 * object after asking us for its bufferevent, so the deadline's first run,
 * at once, only finds it (through the callbacks evhttp gave the
 * bufferevent) and asks to be told when evhttp frees it; until then a
 * reference keeps the bufferevent.
 */
struct metrics_conn {
	LIST_ENTRY(metrics_conn) entry; /* in its endpoint's conns */
	struct metrics *m;
	struct bufferevent *bev;         /* until evcon is known */
	struct evhttp_connection *evcon; /* NULL until then */
	struct event *deadline;
};

struct metrics {
	LIST_ENTRY(metrics) entry;     /* in metrics_all */
	metrics_snapshot_fn *snapshot; /* the daemon's part of what a request shows */
	void *arg;
	struct net_addr addr; /* bound: the real port */
	char addrstr[NET_ADDRSTRLEN];
	int fd; /* until evhttp owns it */
	struct evhttp *http;
	struct evhttp_bound_socket *bound; /* NULL once evhttp is being freed */
	struct evconnlistener *refuse;     /* at max_conns: closes what it accepts */
	struct event *retry;               /* pending: accepting paused */
	struct log_limit refuse_log;
	long max_conns;       /* metrics_max_connections */
	unsigned long nconns; /* in conns: the connections evhttp holds */
	uint64_t rejected;    /* connections closed at once: max_conns were open */
	LIST_HEAD(, metrics_conn) conns;
	int listed;
};

static void metrics_listen_update(struct metrics *);
static void metrics_pause(struct metrics *);

/*
 * The endpoints serving now: one, or two while a reload moves it.  The
 * accept error callback gets evhttp's pointer, not ours: it looks the
 * endpoint up here.  Main thread only.
 */
static LIST_HEAD(, metrics) metrics_all = LIST_HEAD_INITIALIZER(metrics_all);

/* Bind the endpoint's socket; nothing is served until metrics_start(). */
struct metrics *
metrics_new(const struct net_addr *addr, long max_conns, metrics_snapshot_fn *snapshot, void *arg,
    char *err, size_t errlen)
{
	struct net_listen_opts o = { .backlog = METRICS_BACKLOG, .nodelay = 1 };
	struct metrics *m;
	char e[ERRLEN];

	if ((m = calloc(1, sizeof *m)) == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return NULL;
	}
	m->snapshot = snapshot;
	m->arg = arg;
	m->addr = *addr;
	m->max_conns = max_conns;
	LIST_INIT(&m->conns);
	if ((m->fd = net_listen(&m->addr, &o, e, sizeof e)) == -1) {
		snprintf(err, errlen, "metrics: %s", e);
		free(m);
		return NULL;
	}
	net_addr_str(&m->addr, m->addrstr, sizeof m->addrstr);
	return m;
}

const struct net_addr *
metrics_addr(const struct metrics *m)
{
	return &m->addr;
}

/* What this endpoint refused: its owner keeps the sum when a reload replaces it. */
uint64_t
metrics_rejected(const struct metrics *m)
{
	return m->rejected;
}

/* ------------------------------------------------------------------ */
/* The snapshot */

/* Everything a request shows, read now; metrics_snapshot_free() after. */
static int
metrics_snapshot(struct metrics *m, struct metrics_snapshot *snap)
{
	char err[ERRLEN];

	memset(snap, 0, sizeof *snap);
	if (m->snapshot(m->arg, snap) == -1)
		return -1;
	snap->metrics_connections = m->nconns;
	snap->metrics_max_connections = m->max_conns;
	snap->metrics_rejected += m->rejected;
	snap->have_host = procfs_host_tcp(&snap->host, err, sizeof err) == 0;
	if (!snap->have_host)
		log_debug("metrics: %s", err);
	snap->have_proc = procfs_self(&snap->proc, err, sizeof err) == 0;
	if (!snap->have_proc)
		log_debug("metrics: %s", err);
	return 0;
}

void
metrics_snapshot_free(struct metrics_snapshot *snap)
{
	free(snap->listeners);
	snap->listeners = NULL;
}

/* ------------------------------------------------------------------ */
/* Prometheus text format 0.0.4 */

/* A label value: backslash, double quote and newline escaped. */
static void
prom_label(struct evbuffer *b, const char *v)
{
	for (; *v != '\0'; v++) {
		if (*v == '\\')
			evbuffer_add(b, "\\\\", 2);
		else if (*v == '"')
			evbuffer_add(b, "\\\"", 2);
		else if (*v == '\n')
			evbuffer_add(b, "\\n", 2);
		else
			evbuffer_add(b, v, 1);
	}
}

static void
prom_family(struct evbuffer *b, const char *name, const char *type, const char *help)
{
	evbuffer_add_printf(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* name{listener="..",service=".."[,key="value"]} value */
static void
prom_listener(struct evbuffer *b, const char *name, const struct metrics_listener *ml,
    const char *key, const char *value, uint64_t v)
{
	evbuffer_add_printf(b, "%s{listener=\"", name);
	prom_label(b, ml->name);
	evbuffer_add_printf(b, "\",service=\"");
	prom_label(b, ml->service);
	evbuffer_add(b, "\"", 1);
	if (key != NULL && value != NULL) {
		evbuffer_add_printf(b, ",%s=\"", key);
		prom_label(b, value);
		evbuffer_add(b, "\"", 1);
	}
	evbuffer_add_printf(b, "} %" PRIu64 "\n", v);
}

/*
 * The listener's accept queues together: what they hold now, or at most.
 * A socket holds one connection more than its backlog: the kernel turns
 * a connection away only when the queue is already longer than the
 * backlog (TCP and unix alike), so listen(fd, 4) queues 5.
 */
static unsigned
queue_sum(const struct metrics_listener *ml, int limit)
{
	unsigned n = 0;

	for (int i = 0; i < ml->queues; i++)
		n += limit ? ml->queue[i].max + 1 : ml->queue[i].len;
	return n;
}

/* A family of one sample without labels: its name, a space, the value as fmt prints it. */
static void __attribute__((format(printf, 5, 6))) prom_value(
    struct evbuffer *b, const char *name, const char *type, const char *help, const char *fmt, ...)
{
	va_list ap;

	prom_family(b, name, type, help);
	evbuffer_add_printf(b, "%s ", name);
	va_start(ap, fmt);
	evbuffer_add_vprintf(b, fmt, ap);
	va_end(ap);
	evbuffer_add(b, "\n", 1);
}

/* One per-listener family; fn picks the value, or returns 0 to leave a listener out. */
#define PROM_EACH(b, name, type, help, cond, value)                                                \
	do {                                                                                       \
		prom_family(b, name, type, help);                                                  \
		for (size_t i_ = 0; i_ < snap->nlisteners; i_++) {                                 \
			const struct metrics_listener *ml = &snap->listeners[i_];                  \
			if (cond)                                                                  \
				prom_listener(b, name, ml, NULL, NULL, (uint64_t)(value));         \
		}                                                                                  \
	} while (0)

/* The daemon as a whole. */
static void
prom_server(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	prom_family(b, "synackd_build_info", "gauge", "The version of synackd running: always 1.");
	evbuffer_add_printf(b, "synackd_build_info{version=\"");
	prom_label(b, snap->version);
	evbuffer_add_printf(b, "\"} 1\n");
	prom_value(b, "synackd_uptime_seconds", "gauge", "Seconds since synackd started.", "%.3f",
	    snap->uptime);
	prom_value(b, "synackd_workers", "gauge", "Event-loop threads.", "%d", snap->workers);
	prom_value(b, "synackd_clients_active", "gauge",
	    "Clients connected now, all listeners together (those of listeners a reload "
	    "removed included).",
	    "%lu", snap->clients);
	prom_value(b, "synackd_clients_max", "gauge", "max_clients: the limit on clients_active.",
	    "%ld", snap->max_clients);
	prom_value(b, "synackd_max_clients_reached_total", "counter",
	    "Times max_clients was reached and accepting paused.", "%" PRIu64,
	    snap->max_clients_reached);
	prom_family(b, "synackd_reloads_total", "counter",
	    "Configuration reloads (SIGHUP), by result: ok, or failed (the file was refused).");
	evbuffer_add_printf(
	    b, "synackd_reloads_total{result=\"ok\"} %" PRIu64 "\n", snap->reloads_ok);
	evbuffer_add_printf(
	    b, "synackd_reloads_total{result=\"failed\"} %" PRIu64 "\n", snap->reloads_failed);
	prom_value(b, "synackd_metrics_connections_active", "gauge",
	    "Connections to this endpoint now, the one asking included.", "%lu",
	    snap->metrics_connections);
	prom_value(b, "synackd_metrics_connections_max", "gauge",
	    "metrics_max_connections: the limit on metrics_connections_active.", "%ld",
	    snap->metrics_max_connections);
	prom_value(b, "synackd_metrics_connections_rejected_total", "counter",
	    "Connections to this endpoint closed at once: metrics_max_connections were open.",
	    "%" PRIu64, snap->metrics_rejected);
}

/*
 * The families counted per listener and reason: one sample per listener
 * and label, the counts at offset in struct listener_stats.
 */
static const struct prom_reasons {
	const char *name, *help, *key;
	const char *const *labels;
	int n;
	size_t offset;
} prom_reasons[] = {
	{ "synackd_listener_connections_rejected_total",
	    "Connections accepted and closed at once without service, by reason.", "reason",
	    reject_reason_label, REJECT_REASONS, offsetof(struct listener_stats, rejected) },
	{ "synackd_listener_connections_closed_total", "Clients closed, by reason.", "reason",
	    close_reason_label, CLOSE_REASONS, offsetof(struct listener_stats, closed) },
	{ "synackd_listener_accept_errors_total",
	    "accept() failures, by errno; EMFILE, ENFILE, ENOBUFS and ENOMEM pause accepting for "
	    "a second.",
	    "errno", accept_error_label, ACCEPT_ERRORS,
	    offsetof(struct listener_stats, accept_errors) },
};

/*
 * The accept-queue wait of each TCP listener, as a Prometheus histogram
 * in seconds: cumulative buckets, their sum and count.  A unix listener
 * has no handshake and no line.
 */
static void
prom_accept_wait(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	static const char name[] = "synackd_listener_accept_wait_seconds";

	prom_family(b, name, "histogram",
	    "Time a connection waited in the accept queue, from its handshake's last ACK to "
	    "accept() (TCP_INFO tcpi_last_ack_recv at accept; less for a client that sent data "
	    "while it waited).");
	for (size_t i = 0; i < snap->nlisteners; i++) {
		const struct metrics_listener *ml = &snap->listeners[i];
		const struct listener_stats *st = &ml->stats;
		uint64_t n = 0;
		char le[16];

		if (ml->port < 0 || ml->udp)
			continue;
		for (int k = 0; k < ACCEPT_WAIT_BUCKETS; k++) {
			n += st->accept_wait[k];
			if (k < ACCEPT_WAIT_BUCKETS - 1)
				snprintf(le, sizeof le, "%g", accept_wait_bound_ms[k] / 1000.0);
			else
				snprintf(le, sizeof le, "+Inf");
			prom_listener(
			    b, "synackd_listener_accept_wait_seconds_bucket", ml, "le", le, n);
		}
		evbuffer_add_printf(b, "%s_sum{listener=\"", name);
		prom_label(b, ml->name);
		evbuffer_add_printf(b, "\",service=\"");
		prom_label(b, ml->service);
		evbuffer_add_printf(b, "\"} %" PRIu64 ".%03u\n", st->accept_wait_ms / 1000,
		    (unsigned)(st->accept_wait_ms % 1000));
		prom_listener(b, "synackd_listener_accept_wait_seconds_count", ml, NULL, NULL, n);
	}
}

/* save_syn: shown while it is on, and after a reload turned it off, what was counted. */
static int
show_syn(const struct metrics_listener *ml)
{
	return ml->save_syn || syn_counts_any(&ml->syn);
}

/*
 * What the clients' SYNs carried (save_syn): bounded label sets, the top
 * SYN_MSS_SHOWN MSS values and "other", the option sets by canonical
 * name (at most SYN_OPT_SETS), the reasons a SYN did not parse.
 */
static void
prom_syn(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	char v[SYN_OPTIONS_NAMELEN];

	PROM_EACH(b, "synackd_listener_syn_saved_total", "counter",
	    "Clients whose SYN was read (save_syn: TCP_SAVED_SYN at accept) and parsed.",
	    show_syn(ml), ml->syn.saved);
	PROM_EACH(b, "synackd_listener_syn_unread_total", "counter",
	    "Clients of a save_syn listener whose SYN the kernel had not saved (it arrived "
	    "before a reload set save_syn).",
	    show_syn(ml), ml->syn.unread);
	prom_family(b, "synackd_listener_syn_invalid_total", "counter",
	    "Clients whose saved SYN did not parse, by reason (never fatal: the client is "
	    "served).");
	for (size_t i = 0; i < snap->nlisteners; i++)
		for (int r = 0; r < SYN_ERRORS && show_syn(&snap->listeners[i]); r++)
			prom_listener(b, "synackd_listener_syn_invalid_total", &snap->listeners[i],
			    "reason", syn_error_label[r], snap->listeners[i].syn.invalid[r]);
	prom_family(b, "synackd_listener_syn_mss_total", "counter",
	    "Clients' SYNs by the MSS option they carried as they arrived: the most frequent "
	    "values, \"other\" for the rest, \"none\" without the option.");
	for (size_t i = 0; i < snap->nlisteners; i++) {
		const struct metrics_listener *ml = &snap->listeners[i];

		if (!show_syn(ml))
			continue;
		for (int k = 0; k < ml->syn.nmss; k++) {
			snprintf(v, sizeof v, "%" PRIu32, ml->syn.mss[k].mss);
			prom_listener(
			    b, "synackd_listener_syn_mss_total", ml, "mss", v, ml->syn.mss[k].n);
		}
		prom_listener(
		    b, "synackd_listener_syn_mss_total", ml, "mss", "other", ml->syn.mss_other);
		prom_listener(
		    b, "synackd_listener_syn_mss_total", ml, "mss", "none", ml->syn.mss_none);
	}
	prom_family(b, "synackd_listener_syn_options_total", "counter",
	    "Clients' SYNs by the set of TCP options they carried (fastopen, mss, sackok, ts, "
	    "ws, unknown; \"none\"), as they arrived.");
	for (size_t i = 0; i < snap->nlisteners; i++)
		for (unsigned o = 0; o < SYN_OPT_SETS && show_syn(&snap->listeners[i]); o++)
			if (snap->listeners[i].syn.options[o] > 0)
				prom_listener(b, "synackd_listener_syn_options_total",
				    &snap->listeners[i], "options",
				    syn_options_name(o, v, sizeof v),
				    snap->listeners[i].syn.options[o]);
}

/*
 * A UDP listener's datagrams (transport = udp), where a TCP one has its
 * connections: counted over all its sockets, those a reload closed
 * included, and its sockets' receive queues now.
 */
static void
prom_datagrams(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	static const char dropped[] = "synackd_listener_datagrams_dropped_total";

	PROM_EACH(b, "synackd_listener_datagrams_received_total", "counter",
	    "Datagrams read, the dropped ones included.", ml->udp, ml->dgram.in);
	PROM_EACH(b, "synackd_listener_datagrams_sent_total", "counter",
	    "Answers sent (taken by the kernel).", ml->udp, ml->dgram.out);
	PROM_EACH(b, "synackd_listener_datagram_received_bytes_total", "counter",
	    "Bytes of the datagrams read (a truncated one counts what was read: max_datagram + "
	    "1).",
	    ml->udp, ml->dgram.bytes_in);
	PROM_EACH(b, "synackd_listener_datagram_sent_bytes_total", "counter",
	    "Bytes of the answers sent.", ml->udp, ml->dgram.bytes_out);
	prom_family(b, dropped, "counter",
	    "Datagrams read and not answered, by reason: bad_source (port 0, 7, 9, 13, 19, 37), "
	    "own_port (a port of synackd's UDP listeners), rate_limited (udp_rate), truncated "
	    "(over max_datagram), send_error (the answer was refused).");
	for (size_t i = 0; i < snap->nlisteners; i++)
		for (int r = 0; r < DGRAM_DROPS && snap->listeners[i].udp; r++)
			prom_listener(b, dropped, &snap->listeners[i], "reason",
			    datagram_drop_label[r], snap->listeners[i].dgram.dropped[r]);
	PROM_EACH(b, "synackd_listener_datagram_kernel_drops_total", "counter",
	    "Datagrams the kernel dropped before synackd could read them: the socket's receive "
	    "buffer was full (SO_RXQ_OVFL).",
	    ml->udp, ml->dgram.kernel_drops);
	PROM_EACH(b, "synackd_listener_datagram_receive_queue_bytes", "gauge",
	    "Memory the datagrams waiting to be read take now, all the listener's sockets "
	    "together (sock_diag idiag_rqueue: each datagram's truesize).",
	    ml->udp && ml->have_recv_queue, ml->recv_queue.queued);
	PROM_EACH(b, "synackd_listener_datagram_receive_buffer_bytes", "gauge",
	    "What the receive queues may hold, all the listener's sockets together (SO_RCVBUF, "
	    "in the same bytes as receive_queue_bytes); a datagram that finds its socket's "
	    "queue full is a kernel drop.",
	    ml->udp && ml->have_recv_queue, ml->recv_queue.buffer);
}

static void
prom_listeners(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	prom_family(b, "synackd_listener_info", "gauge",
	    "A listener: its address (ADDR:PORT with the real port, or unix:PATH); always 1.");
	for (size_t i = 0; i < snap->nlisteners; i++)
		prom_listener(b, "synackd_listener_info", &snap->listeners[i], "address",
		    snap->listeners[i].address, 1);
	PROM_EACH(b, "synackd_listener_workers", "gauge",
	    "Workers serving the listener, each with its own listening socket.", 1, ml->workers);
	PROM_EACH(b, "synackd_listener_backlog", "gauge",
	    "The listen() backlog configured, per socket.", !ml->udp, ml->backlog);
	PROM_EACH(b, "synackd_listener_backlog_effective", "gauge",
	    "The backlog in effect per socket: the configured one capped by somaxconn (TCP_INFO "
	    "tcpi_sacked on the listening socket).",
	    ml->queues > 0, ml->queue[0].max);
	PROM_EACH(b, "synackd_listener_accept_queue", "gauge",
	    "Connections whose handshake completed, waiting for accept(), all the listener's "
	    "sockets together (TCP_INFO tcpi_unacked).",
	    ml->queues > 0, queue_sum(ml, 0));
	PROM_EACH(b, "synackd_listener_accept_queue_limit", "gauge",
	    "What the accept queues hold at most, all sockets together: backlog_effective + 1 "
	    "per socket (the kernel queues one connection beyond the backlog).",
	    ml->queues > 0, queue_sum(ml, 1));
	PROM_EACH(b, "synackd_listener_syn_recv", "gauge",
	    "Half-open connections: SYN received, SYN-ACK sent, no ACK yet (sockets in state "
	    "SYN_RECV on the listener's address and port, from sock_diag).",
	    ml->have_syn_recv, ml->syn_recv);
	PROM_EACH(b, "synackd_listener_connections_accepted_total", "counter",
	    "Connections accepted and served as clients.", !ml->udp, ml->stats.accepted);
	PROM_EACH(b, "synackd_listener_connections_active", "gauge", "Clients connected now.",
	    !ml->udp, ml->active);
	for (size_t f = 0; f < sizeof prom_reasons / sizeof prom_reasons[0]; f++) {
		const struct prom_reasons *pr = &prom_reasons[f];

		prom_family(b, pr->name, "counter", pr->help);
		for (size_t i = 0; i < snap->nlisteners; i++) {
			const char *st = (const char *)&snap->listeners[i].stats;
			const uint64_t *v = (const uint64_t *)(const void *)(st + pr->offset);

			for (int r = 0; r < pr->n && !snap->listeners[i].udp; r++)
				prom_listener(
				    b, pr->name, &snap->listeners[i], pr->key, pr->labels[r], v[r]);
		}
	}
	PROM_EACH(b, "synackd_listener_received_bytes_total", "counter", "Bytes read from clients.",
	    !ml->udp, ml->stats.bytes_in);
	PROM_EACH(b, "synackd_listener_sent_bytes_total", "counter",
	    "Bytes written to clients (taken by the kernel).", !ml->udp, ml->stats.bytes_out);
	prom_accept_wait(snap, b);
	PROM_EACH(b, "synackd_listener_syn_data_total", "counter",
	    "Clients whose SYN carried data the kernel took (TCP Fast Open: TCP_INFO "
	    "tcpi_options has TCPI_OPT_SYN_DATA at accept).",
	    ml->port >= 0 && !ml->udp, ml->stats.syn_data);
	prom_syn(snap, b);
	prom_datagrams(snap, b);
}

/* The host's TCP counters and settings: read from /proc, if they could be. */
static void
prom_host(const struct host_tcp *h, struct evbuffer *b)
{
	prom_value(b, "synackd_host_tcp_listen_overflows_total", "counter",
	    "TcpExt ListenOverflows of the host (its network namespace): a handshake "
	    "completed while the listener's accept queue was full.",
	    "%" PRIu64, h->listen_overflows);
	prom_value(b, "synackd_host_tcp_listen_drops_total", "counter",
	    "TcpExt ListenDrops: connections a listener dropped, overflows included.", "%" PRIu64,
	    h->listen_drops);
	prom_value(b, "synackd_host_tcp_syncookies_sent_total", "counter",
	    "TcpExt SyncookiesSent: SYN queue full, a SYN answered with a cookie.", "%" PRIu64,
	    h->syncookies_sent);
	prom_value(b, "synackd_host_tcp_req_q_full_drop_total", "counter",
	    "TcpExt TCPReqQFullDrop: SYN queue full and no cookies, a SYN dropped.", "%" PRIu64,
	    h->req_q_full_drop);
	prom_value(b, "synackd_host_tcp_fastopen_passive_total", "counter",
	    "TcpExt TCPFastOpenPassive: a TCP Fast Open SYN accepted with its data.", "%" PRIu64,
	    h->fastopen_passive);
	prom_value(b, "synackd_host_tcp_fastopen_passive_fail_total", "counter",
	    "TcpExt TCPFastOpenPassiveFail: a Fast Open connection the server could not make.",
	    "%" PRIu64, h->fastopen_passive_fail);
	prom_value(b, "synackd_host_tcp_fastopen_listen_overflow_total", "counter",
	    "TcpExt TCPFastOpenListenOverflow: a listener's Fast Open queue was full: the SYN "
	    "got a plain handshake, its data was sent again after it.",
	    "%" PRIu64, h->fastopen_listen_overflow);
	prom_value(b, "synackd_host_tcp_fastopen_cookie_reqd_total", "counter",
	    "TcpExt TCPFastOpenCookieReqd: a SYN asked for a Fast Open cookie.", "%" PRIu64,
	    h->fastopen_cookie_reqd);
	if (h->somaxconn >= 0)
		prom_value(b, "synackd_host_somaxconn", "gauge",
		    "net.core.somaxconn: the cap on every listen() backlog.", "%ld", h->somaxconn);
	if (h->max_syn_backlog >= 0)
		prom_value(b, "synackd_host_tcp_max_syn_backlog", "gauge",
		    "net.ipv4.tcp_max_syn_backlog: the cap on a listener's SYN queue.", "%ld",
		    h->max_syn_backlog);
	if (h->syncookies >= 0)
		prom_value(b, "synackd_host_tcp_syncookies", "gauge",
		    "net.ipv4.tcp_syncookies: 0 off, 1 when the SYN queue overflows, 2 "
		    "always.",
		    "%ld", h->syncookies);
	if (h->tcp_fastopen >= 0)
		prom_value(b, "synackd_host_tcp_fastopen", "gauge",
		    "net.ipv4.tcp_fastopen, a bit mask: 1 lets this host's clients use Fast Open, "
		    "2 "
		    "serves it.",
		    "%ld", h->tcp_fastopen);
}

static void
prom_process(const struct proc_self *p, struct evbuffer *b)
{
	prom_value(b, "process_start_time_seconds", "gauge",
	    "Start time of the process since the epoch, in seconds.", "%.2f", p->start_time);
	prom_value(b, "process_cpu_seconds_total", "counter",
	    "User and system CPU time spent, in seconds.", "%.2f", p->cpu_seconds);
	prom_value(b, "process_resident_memory_bytes", "gauge", "Resident memory size.", "%" PRIu64,
	    p->resident_bytes);
	prom_value(b, "process_virtual_memory_bytes", "gauge", "Virtual memory size.", "%" PRIu64,
	    p->virtual_bytes);
	if (p->open_fds >= 0)
		prom_value(
		    b, "process_open_fds", "gauge", "Open file descriptors.", "%ld", p->open_fds);
	if (p->max_fds >= 0)
		prom_value(b, "process_max_fds", "gauge",
		    "The limit on open file descriptors (RLIMIT_NOFILE).", "%ld", p->max_fds);
}

void
metrics_format_prom(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	prom_server(snap, b);
	prom_listeners(snap, b);
	if (snap->have_host)
		prom_host(&snap->host, b);
	if (snap->have_proc)
		prom_process(&snap->proc, b);
}

/* ------------------------------------------------------------------ */
/* JSON */

static void
json_string(struct evbuffer *b, const char *v)
{
	size_t len = strlen(v), n = jsonesc(v, len, NULL, 0);
	struct evbuffer_iovec vec;

	evbuffer_add(b, "\"", 1);
	if (n > 0 && evbuffer_reserve_space(b, (ev_ssize_t)n, &vec, 1) == 1) {
		vec.iov_len = jsonesc(v, len, vec.iov_base, n);
		evbuffer_commit_space(b, &vec, 1);
	}
	evbuffer_add(b, "\"", 1);
}

/* "key": {"label": n, ...} */
static void
json_counts(
    struct evbuffer *b, const char *key, const char *const *labels, const uint64_t *v, int n)
{
	evbuffer_add_printf(b, ",\"%s\":{", key);
	for (int i = 0; i < n; i++)
		evbuffer_add_printf(b, "%s\"%s\":%" PRIu64, i > 0 ? "," : "", labels[i], v[i]);
	evbuffer_add(b, "}", 1);
}

/* A percentile as the bound of its bucket, in ms; null: none counted, or over the last bound. */
static void
json_wait_percentile(struct evbuffer *b, const char *key, const uint64_t *buckets, unsigned pm)
{
	int k = accept_wait_percentile(buckets, pm);

	if (k < 0 || k == ACCEPT_WAIT_BUCKETS - 1)
		evbuffer_add_printf(b, ",\"%s\":null", key);
	else
		evbuffer_add_printf(b, ",\"%s\":%" PRIu32, key, accept_wait_bound_ms[k]);
}

/*
 * "accept_wait": count, sum_ms, the percentiles, and each bucket's own
 * count by its bound in ms ("+Inf": over the last); null for a unix listener.
 */
static void
json_accept_wait(struct evbuffer *b, const struct metrics_listener *ml)
{
	const struct listener_stats *st = &ml->stats;
	uint64_t n = 0;

	if (ml->port < 0 || ml->udp) {
		evbuffer_add_printf(b, ",\"accept_wait\":null");
		return;
	}
	for (int k = 0; k < ACCEPT_WAIT_BUCKETS; k++)
		n += st->accept_wait[k];
	evbuffer_add_printf(b, ",\"accept_wait\":{\"count\":%" PRIu64 ",\"sum_ms\":%" PRIu64, n,
	    st->accept_wait_ms);
	json_wait_percentile(b, "p50_ms", st->accept_wait, 500);
	json_wait_percentile(b, "p90_ms", st->accept_wait, 900);
	json_wait_percentile(b, "p99_ms", st->accept_wait, 990);
	evbuffer_add_printf(b, ",\"buckets_ms\":{");
	for (int k = 0; k < ACCEPT_WAIT_BUCKETS - 1; k++)
		evbuffer_add_printf(b, "%s\"%" PRIu32 "\":%" PRIu64, k > 0 ? "," : "",
		    accept_wait_bound_ms[k], st->accept_wait[k]);
	evbuffer_add_printf(b, ",\"+Inf\":%" PRIu64 "}}", st->accept_wait[ACCEPT_WAIT_BUCKETS - 1]);
}

/* One kept SYN: its peer, when, and its fields; null for what it did not carry. */
static void
json_syn_seen(struct evbuffer *b, const struct syn_seen *s)
{
	const struct syn_info *i = &s->info;
	char peer[NET_ADDRSTRLEN], set[SYN_OPTIONS_NAMELEN];

	evbuffer_add_printf(b, "{\"peer\":");
	json_string(b, net_addr_format(&s->peer.sa, s->peerlen, peer, sizeof peer));
	evbuffer_add_printf(b,
	    ",\"time\":%" PRId64 ".%03d,\"ip\":%u,\"ttl\":%u,\"window\":%u,\"options\":\"%s\"",
	    s->time_ms / 1000, (int)(s->time_ms % 1000), i->version, i->ttl, i->window,
	    syn_options_name(i->options, set, sizeof set));
	if (i->options & SYN_OPT_MSS)
		evbuffer_add_printf(b, ",\"mss\":%u", i->mss);
	else
		evbuffer_add_printf(b, ",\"mss\":null");
	if (i->options & SYN_OPT_WS)
		evbuffer_add_printf(b, ",\"wscale\":%u", i->wscale);
	else
		evbuffer_add_printf(b, ",\"wscale\":null");
	evbuffer_add_printf(b, ",\"sackok\":%s,\"ts\":%s,\"ecn\":%s",
	    i->options & SYN_OPT_SACKOK ? "true" : "false",
	    i->options & SYN_OPT_TS ? "true" : "false", i->ecn ? "true" : "false");
	if (i->options & SYN_OPT_FASTOPEN)
		evbuffer_add_printf(b, ",\"fastopen_cookie\":%u", i->fastopen_cookie);
	else
		evbuffer_add_printf(b, ",\"fastopen_cookie\":null");
	evbuffer_add_printf(b, ",\"unknown\":%u,\"unknown_kinds\":[", i->unknown);
	for (unsigned k = 0; k < i->unknown && k < SYN_UNKNOWN_KEPT; k++)
		evbuffer_add_printf(b, "%s%u", k > 0 ? "," : "", i->unknown_kind[k]);
	evbuffer_add(b, "]}", 2);
}

/* save_syn: "syn", the counts and the last SYNs (oldest first); null when off. */
static void
json_syn(struct evbuffer *b, const struct metrics_listener *ml)
{
	const struct syn_counts *c = &ml->syn;
	char set[SYN_OPTIONS_NAMELEN];
	int first = 1;

	if (!show_syn(ml)) {
		evbuffer_add_printf(b, ",\"syn\":null");
		return;
	}
	evbuffer_add_printf(b, ",\"syn\":{\"enabled\":%s,\"saved\":%" PRIu64 ",\"unread\":%" PRIu64,
	    ml->save_syn ? "true" : "false", c->saved, c->unread);
	json_counts(b, "invalid", syn_error_label, c->invalid, SYN_ERRORS);
	evbuffer_add_printf(b, ",\"mss\":{");
	for (int k = 0; k < c->nmss; k++)
		evbuffer_add_printf(b, "\"%" PRIu32 "\":%" PRIu64 ",", c->mss[k].mss, c->mss[k].n);
	evbuffer_add_printf(b, "\"other\":%" PRIu64 ",\"none\":%" PRIu64 "},\"options\":{",
	    c->mss_other, c->mss_none);
	for (unsigned o = 0; o < SYN_OPT_SETS; o++)
		if (c->options[o] > 0) {
			evbuffer_add_printf(b, "%s\"%s\":%" PRIu64, first ? "" : ",",
			    syn_options_name(o, set, sizeof set), c->options[o]);
			first = 0;
		}
	evbuffer_add_printf(b, "},\"last\":[");
	for (unsigned k = 0; k < c->nlast; k++) {
		if (k > 0)
			evbuffer_add(b, ",", 1);
		json_syn_seen(b, &c->last[k]);
	}
	evbuffer_add(b, "]}", 2);
}

/*
 * A UDP listener's "datagrams": its counters, drops by reason, and its
 * receive queues now (null if they could not be read); null for TCP.
 */
static void
json_datagrams(struct evbuffer *b, const struct metrics_listener *ml)
{
	const struct datagram_stats *st = &ml->dgram;
	uint64_t dropped = 0;

	if (!ml->udp) {
		evbuffer_add_printf(b, ",\"datagrams\":null");
		return;
	}
	for (int r = 0; r < DGRAM_DROPS; r++)
		dropped += st->dropped[r];
	evbuffer_add_printf(b,
	    ",\"datagrams\":{\"received\":%" PRIu64 ",\"sent\":%" PRIu64
	    ",\"bytes_received\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ",\"dropped_total\":%" PRIu64,
	    st->in, st->out, st->bytes_in, st->bytes_out, dropped);
	json_counts(b, "dropped", datagram_drop_label, st->dropped, DGRAM_DROPS);
	evbuffer_add_printf(b, ",\"kernel_drops\":%" PRIu64, st->kernel_drops);
	if (ml->have_recv_queue)
		evbuffer_add_printf(b,
		    ",\"receive_queue_bytes\":%" PRIu64 ",\"receive_buffer_bytes\":%" PRIu64 "}",
		    ml->recv_queue.queued, ml->recv_queue.buffer);
	else
		evbuffer_add_printf(
		    b, ",\"receive_queue_bytes\":null,\"receive_buffer_bytes\":null}");
}

static void
json_listener(struct evbuffer *b, const struct metrics_listener *ml)
{
	const struct listener_stats *st = &ml->stats;
	uint64_t rejected = 0;

	evbuffer_add_printf(b, "{\"name\":");
	json_string(b, ml->name);
	evbuffer_add_printf(b, ",\"service\":");
	json_string(b, ml->service);
	evbuffer_add_printf(b, ",\"address\":");
	json_string(b, ml->address);
	/* a unix socket has no port */
	if (ml->port >= 0)
		evbuffer_add_printf(b, ",\"port\":%d", ml->port);
	else
		evbuffer_add_printf(b, ",\"port\":null");
	evbuffer_add_printf(b, ",\"transport\":\"%s\"", ml->udp ? "udp" : "tcp");
	if (ml->udp)
		evbuffer_add_printf(b, ",\"backlog\":null,\"workers\":%d", ml->workers);
	else
		evbuffer_add_printf(b, ",\"backlog\":%d,\"workers\":%d", ml->backlog, ml->workers);
	if (ml->queues > 0) {
		evbuffer_add_printf(b,
		    ",\"backlog_effective\":%u,\"accept_queue\":%u,\"accept_queue_limit\":%u,"
		    "\"accept_queue_per_socket\":[",
		    ml->queue[0].max, queue_sum(ml, 0), queue_sum(ml, 1));
		for (int i = 0; i < ml->queues; i++)
			evbuffer_add_printf(b, "%s%u", i > 0 ? "," : "", ml->queue[i].len);
		evbuffer_add(b, "]", 1);
	} else
		evbuffer_add_printf(b,
		    ",\"backlog_effective\":null,\"accept_queue\":null,"
		    "\"accept_queue_limit\":null,\"accept_queue_per_socket\":[]");
	if (ml->have_syn_recv)
		evbuffer_add_printf(b, ",\"syn_recv\":%lu", ml->syn_recv);
	else
		evbuffer_add_printf(b, ",\"syn_recv\":null");
	json_accept_wait(b, ml);
	if (ml->port >= 0 && !ml->udp)
		evbuffer_add_printf(b, ",\"syn_data\":%" PRIu64, st->syn_data);
	else
		evbuffer_add_printf(b, ",\"syn_data\":null");
	json_syn(b, ml);
	for (int r = 0; r < REJECT_REASONS; r++)
		rejected += st->rejected[r];
	evbuffer_add_printf(b,
	    ",\"accepted\":%" PRIu64 ",\"active\":%lu,\"rejected_total\":%" PRIu64, st->accepted,
	    ml->active, rejected);
	json_counts(b, "rejected", reject_reason_label, st->rejected, REJECT_REASONS);
	json_counts(b, "closed", close_reason_label, st->closed, CLOSE_REASONS);
	json_counts(b, "accept_errors", accept_error_label, st->accept_errors, ACCEPT_ERRORS);
	evbuffer_add_printf(
	    b, ",\"bytes_in\":%" PRIu64 ",\"bytes_out\":%" PRIu64, st->bytes_in, st->bytes_out);
	json_datagrams(b, ml);
	evbuffer_add(b, "}", 1);
}

void
metrics_format_json(const struct metrics_snapshot *snap, struct evbuffer *b)
{
	const struct host_tcp *h = &snap->host;
	const struct proc_self *p = &snap->proc;

	evbuffer_add_printf(b, "{\"version\":");
	json_string(b, snap->version);
	evbuffer_add_printf(b,
	    ",\"uptime_s\":%.3f,\"workers\":%d,\"clients\":{\"active\":%lu,\"max\":%ld},"
	    "\"max_clients_reached\":%" PRIu64 ",\"reloads\":{\"ok\":%" PRIu64
	    ",\"failed\":%" PRIu64 "},\"metrics\":{\"connections\":%lu,"
	    "\"max_connections\":%ld,\"rejected\":%" PRIu64 "},\"listeners\":[",
	    snap->uptime, snap->workers, snap->clients, snap->max_clients,
	    snap->max_clients_reached, snap->reloads_ok, snap->reloads_failed,
	    snap->metrics_connections, snap->metrics_max_connections, snap->metrics_rejected);
	for (size_t i = 0; i < snap->nlisteners; i++) {
		if (i > 0)
			evbuffer_add(b, ",", 1);
		json_listener(b, &snap->listeners[i]);
	}
	evbuffer_add(b, "]", 1);
	if (snap->have_host)
		evbuffer_add_printf(b,
		    ",\"host\":{\"listen_overflows\":%" PRIu64 ",\"listen_drops\":%" PRIu64
		    ",\"syncookies_sent\":%" PRIu64 ",\"req_q_full_drop\":%" PRIu64
		    ",\"fastopen_passive\":%" PRIu64 ",\"fastopen_passive_fail\":%" PRIu64
		    ",\"fastopen_listen_overflow\":%" PRIu64 ",\"fastopen_cookie_reqd\":%" PRIu64
		    ",\"somaxconn\":%ld,\"tcp_max_syn_backlog\":%ld,\"tcp_syncookies\":%ld"
		    ",\"tcp_fastopen\":%ld}",
		    h->listen_overflows, h->listen_drops, h->syncookies_sent, h->req_q_full_drop,
		    h->fastopen_passive, h->fastopen_passive_fail, h->fastopen_listen_overflow,
		    h->fastopen_cookie_reqd, h->somaxconn, h->max_syn_backlog, h->syncookies,
		    h->tcp_fastopen);
	else
		evbuffer_add_printf(b, ",\"host\":null");
	if (snap->have_proc)
		evbuffer_add_printf(b,
		    ",\"process\":{\"start_time_seconds\":%.2f,\"cpu_seconds\":%.2f,"
		    "\"resident_memory_bytes\":%" PRIu64 ",\"virtual_memory_bytes\":%" PRIu64
		    ",\"open_fds\":%ld,\"max_fds\":%ld}",
		    p->start_time, p->cpu_seconds, p->resident_bytes, p->virtual_bytes, p->open_fds,
		    p->max_fds);
	else
		evbuffer_add_printf(b, ",\"process\":null");
	evbuffer_add(b, "}\n", 2);
}

/* ------------------------------------------------------------------ */
/* HTTP */

/*
 * Whether a request says where it ends in one way only (RFC 9112 section
 * 6.3): at most one Content-Length, of digits alone, or one
 * Transfer-Encoding, chunked, and never both.  evhttp reads a body by the
 * first Content-Length and ignores the others, and by Content-Length when
 * Transfer-Encoding is anything but "chunked": a proxy in front that reads
 * the request otherwise would see another request where evhttp sees a body,
 * or the other way round.  Such a request is refused (400).  NULL, or what
 * is wrong.
 */
const char *
metrics_framing_error(const struct evkeyvalq *headers)
{
	const struct evkeyval *h;
	const char *length = NULL, *coding = NULL;

	TAILQ_FOREACH(h, headers, next) {
		if (strcasecmp(h->key, "Content-Length") == 0) {
			if (length != NULL)
				return "more than one Content-Length";
			length = h->value;
		} else if (strcasecmp(h->key, "Transfer-Encoding") == 0) {
			if (coding != NULL)
				return "more than one Transfer-Encoding";
			coding = h->value;
		}
	}
	if (length != NULL && coding != NULL)
		return "both Content-Length and Transfer-Encoding";
	if (length != NULL && (length[0] == '\0' || length[strspn(length, "0123456789")] != '\0'))
		return "a Content-Length that is not a number";
	if (coding != NULL && strcasecmp(coding, "chunked") != 0)
		return "a Transfer-Encoding other than chunked";
	return NULL;
}

/*
 * libevent 2.1 gives the answer to HEAD (and to CONNECT) no Content-Length,
 * and still sends HEAD's body after the headers, where a client that keeps
 * the connection reads it as the next answer: the length is set here, as
 * GET's, and HEAD's body is dropped.
 */
static void
metrics_reply(struct evhttp_request *req, int code, const char *reason, const char *type,
    struct evbuffer *body)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	char len[24];

	evhttp_add_header(hdr, "Content-Type", type);
	evhttp_add_header(hdr, "Cache-Control", "no-store");
	evhttp_add_header(hdr, "X-Content-Type-Options", "nosniff");
	if (body != NULL) {
		snprintf(len, sizeof len, "%zu", evbuffer_get_length(body));
		evhttp_add_header(hdr, "Content-Length", len);
		if (evhttp_request_get_command(req) == EVHTTP_REQ_HEAD)
			evbuffer_drain(body, evbuffer_get_length(body));
	}
	evhttp_send_reply(req, code, reason, body);
}

/* ------------------------------------------------------------------ */
/* Each connection: its count and its deadline */

static void
metrics_conn_free(struct metrics_conn *mc)
{
	struct metrics *m = mc->m;

	LIST_REMOVE(mc, entry);
	if (mc->deadline != NULL)
		event_free(mc->deadline);
	if (mc->bev != NULL)
		bufferevent_decref(mc->bev);
	free(mc);
	m->nconns--;
	metrics_listen_update(m);
}

/* evhttp frees the connection */
static void
metrics_conn_closed(struct evhttp_connection *evcon, void *arg)
{
	metrics_conn_free(arg);
}

static void
metrics_conn_deadline(struct metrics_conn *mc)
{
	struct timeval tv = { METRICS_TIMEOUT, 0 };

	evtimer_add(mc->deadline, &tv);
}

static void
metrics_deadline_cb(evutil_socket_t fd, short what, void *arg)
{
	struct metrics_conn *mc = arg;
	bufferevent_event_cb eventcb = NULL;
	void *cbarg = NULL;

	if (mc->evcon == NULL) {
		/* right after the accept: the connection evhttp made, if any */
		bufferevent_getcb(mc->bev, NULL, NULL, &eventcb, &cbarg);
		if (eventcb == NULL || cbarg == NULL) {
			metrics_conn_free(mc); /* evhttp gave it up already */
			return;
		}
		mc->evcon = cbarg;
		evhttp_connection_set_closecb(mc->evcon, metrics_conn_closed, mc);
		bufferevent_decref(mc->bev);
		mc->bev = NULL;
		metrics_conn_deadline(mc);
		return;
	}
	/* what evhttp's own timeout does: it frees the connection (and mc) */
	bufferevent_trigger_event(
	    evhttp_connection_get_bufferevent(mc->evcon), BEV_EVENT_READING | BEV_EVENT_TIMEOUT, 0);
}

/*
 * evhttp's bufferevent for a new connection, the one it would make itself:
 * the connection is counted from here, and at max_conns the refusing
 * listener takes over before evhttp's accepts another.  Without memory for
 * its record the connection cannot be counted, nor refused (evhttp has its
 * descriptor): it is served as evhttp serves one, and accepting pauses.
 */
static struct bufferevent *
metrics_bev_cb(struct event_base *base, void *arg)
{
	struct metrics *m = arg;
	struct metrics_conn *mc = NULL;
	struct bufferevent *bev;

	if ((bev = bufferevent_socket_new(base, -1, 0)) == NULL ||
	    (mc = calloc(1, sizeof *mc)) == NULL ||
	    (mc->deadline = evtimer_new(base, metrics_deadline_cb, mc)) == NULL) {
		free(mc);
		log_error("metrics: out of memory for a connection; accepting paused");
		metrics_pause(m);
		return bev;
	}
	mc->m = m;
	mc->bev = bev;
	bufferevent_incref(bev);
	LIST_INSERT_HEAD(&m->conns, mc, entry);
	m->nconns++;
	event_active(mc->deadline, EV_TIMEOUT, 0);
	metrics_listen_update(m);
	return bev;
}

/* A request arrived whole: the next one has METRICS_TIMEOUT from now. */
static struct metrics_conn *
metrics_conn_request(struct metrics *m, struct evhttp_request *req)
{
	struct evhttp_connection *evcon = evhttp_request_get_connection(req);
	struct metrics_conn *mc;

	LIST_FOREACH(mc, &m->conns, entry)
		if (mc->evcon == evcon && evcon != NULL) {
			metrics_conn_deadline(mc);
			return mc;
		}
	return NULL;
}

/*
 * An answer that refuses the request is the connection's last.  evhttp
 * closes after an answer with "Connection: close", except one to CONNECT:
 * that connection it keeps (for a proxy, a tunnel starts there), waiting
 * for another request until the deadline.  So once the answer is written
 * the deadline is now.
 */
static void
metrics_error_sent(struct evhttp_request *req, void *arg)
{
	struct metrics_conn *mc = arg;

	event_active(mc->deadline, EV_TIMEOUT, 0);
}

/* evhttp_send_error() would drop the headers set here (Allow) */
static void
metrics_error(struct metrics_conn *mc, struct evhttp_request *req, int code, const char *reason,
    const char *detail)
{
	struct evkeyvalq *hdr = evhttp_request_get_output_headers(req);
	struct evbuffer *body = evbuffer_new();

	if (body != NULL)
		evbuffer_add_printf(body, "%d %s%s%s\n", code, reason, detail != NULL ? ": " : "",
		    detail != NULL ? detail : "");
	evhttp_add_header(hdr, "Connection", "close");
	if (mc != NULL)
		evhttp_request_set_on_complete_cb(req, metrics_error_sent, mc);
	metrics_reply(req, code, reason, "text/plain; charset=utf-8", body);
	if (body != NULL)
		evbuffer_free(body);
}

/* ------------------------------------------------------------------ */
/* Requests */

static void
metrics_request_cb(struct evhttp_request *req, void *arg)
{
	struct metrics *m = arg;
	enum evhttp_cmd_type method = evhttp_request_get_command(req);
	const struct evhttp_uri *uri = evhttp_request_get_evhttp_uri(req);
	const char *path = uri != NULL ? evhttp_uri_get_path(uri) : NULL;
	struct metrics_conn *mc = metrics_conn_request(m, req);
	struct metrics_snapshot snap;
	struct evbuffer *body;
	const char *bad;

	if ((bad = metrics_framing_error(evhttp_request_get_input_headers(req))) != NULL) {
		metrics_error(mc, req, HTTP_BADREQUEST, "Bad Request", bad);
		return;
	}
	if (method != EVHTTP_REQ_GET && method != EVHTTP_REQ_HEAD) {
		evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", "GET, HEAD");
		metrics_error(mc, req, 405, "Method Not Allowed", NULL);
		return;
	}
	if (path == NULL ||
	    (strcmp(path, "/") != 0 && strcmp(path, "/metrics") != 0 &&
		strcmp(path, "/stats") != 0)) {
		metrics_error(mc, req, HTTP_NOTFOUND, "Not Found", NULL);
		return;
	}
	if ((body = evbuffer_new()) == NULL) {
		metrics_error(mc, req, HTTP_SERVUNAVAIL, "Out of memory", NULL);
		return;
	}
	if (strcmp(path, "/") == 0) {
		evbuffer_add_reference(body, status_html, strlen(status_html), NULL, NULL);
		evhttp_add_header(evhttp_request_get_output_headers(req), "Content-Security-Policy",
		    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
		    "connect-src 'self'");
		metrics_reply(req, HTTP_OK, "OK", "text/html; charset=utf-8", body);
	} else if (metrics_snapshot(m, &snap) == -1) {
		metrics_error(mc, req, HTTP_SERVUNAVAIL, "Out of memory", NULL);
	} else {
		if (strcmp(path, "/metrics") == 0) {
			metrics_format_prom(&snap, body);
			metrics_reply(
			    req, HTTP_OK, "OK", "text/plain; version=0.0.4; charset=utf-8", body);
		} else {
			metrics_format_json(&snap, body);
			metrics_reply(req, HTTP_OK, "OK", "application/json", body);
		}
		metrics_snapshot_free(&snap);
	}
	evbuffer_free(body);
}

/* ------------------------------------------------------------------ */
/* Accepting */

/*
 * Who takes the next connection: evhttp's listener below max_conns, the
 * refusing one at it, neither while accepting is paused.  Both are on the
 * main loop, so the switch is exact: evhttp's stops within the accept that
 * reached the limit.
 */
static void
metrics_listen_update(struct metrics *m)
{
	struct evconnlistener *serve;
	int full = m->nconns >= (unsigned long)m->max_conns;

	if (m->bound == NULL)
		return; /* not serving yet, or no more */
	serve = evhttp_bound_socket_get_listener(m->bound);
	if (evtimer_pending(m->retry, NULL)) {
		evconnlistener_disable(serve);
		evconnlistener_disable(m->refuse);
	} else if (full) {
		evconnlistener_disable(serve);
		evconnlistener_enable(m->refuse);
	} else {
		evconnlistener_disable(m->refuse);
		evconnlistener_enable(serve);
	}
}

/* Out of descriptors or memory: stop accepting for a while rather than spin. */
static void
metrics_pause(struct metrics *m)
{
	struct timeval tv = { METRICS_RETRY_SECONDS, 0 };

	evtimer_add(m->retry, &tv);
	metrics_listen_update(m);
}

static void
metrics_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	metrics_listen_update(arg);
}

/*
 * metrics_max_connections are open: a new connection is closed at once,
 * with a reset (so that no TIME_WAIT is left here), counted, and logged at
 * most once a second.
 */
static void
metrics_refuse_cb(
    struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	struct metrics *m = arg;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	char peer[NET_ADDRSTRLEN];
	unsigned long more;

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	evutil_closesocket(fd);
	m->rejected++;
	if (!log_limit_pass(&m->refuse_log, &more))
		return;
	net_addr_format(sa, (socklen_t)socklen, peer, sizeof peer);
	if (more > 0)
		log_warnx(
		    "metrics: connection from %s refused: metrics_max_connections %ld reached "
		    "(and %lu more refused since the last message)",
		    peer, m->max_conns, more);
	else
		log_warnx(
		    "metrics: connection from %s refused: metrics_max_connections %ld reached",
		    peer, m->max_conns);
}

static void
metrics_accept_failed(struct metrics *m, int error)
{
	errno = error;
	log_warn("metrics: accept");
	if (m != NULL &&
	    (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM))
		metrics_pause(m);
}

/*
 * An evconnlistener without an error callback retries at once, forever.
 * evhttp's passes evhttp's pointer, not ours: the endpoint is looked up.
 */
static void
metrics_accept_error_cb(struct evconnlistener *evl, void *arg)
{
	int error = EVUTIL_SOCKET_ERROR();
	struct metrics *m;

	LIST_FOREACH(m, &metrics_all, entry)
		if ((void *)m->http == arg)
			break;
	metrics_accept_failed(m, error);
}

static void
metrics_refuse_error_cb(struct evconnlistener *evl, void *arg)
{
	metrics_accept_failed(arg, EVUTIL_SOCKET_ERROR());
}

/* Serve on the main loop. */
int
metrics_start(struct metrics *m, struct event_base *base, char *err, size_t errlen)
{
	struct evhttp_bound_socket *bound;

	if ((m->http = evhttp_new(base)) == NULL ||
	    (m->retry = evtimer_new(base, metrics_retry_cb, m)) == NULL) {
		snprintf(err, errlen, "metrics: out of memory");
		return -1;
	}
	evhttp_set_timeout(m->http, METRICS_TIMEOUT);
	evhttp_set_max_headers_size(m->http, METRICS_MAX_HEADERS);
	evhttp_set_max_body_size(m->http, METRICS_MAX_BODY);
	evhttp_set_allowed_methods(m->http, METRICS_ALL_METHODS);
	evhttp_set_gencb(m->http, metrics_request_cb, m);
	evhttp_set_bevcb(m->http, metrics_bev_cb, m);
	if ((bound = evhttp_accept_socket_with_handle(m->http, m->fd)) == NULL) {
		snprintf(err, errlen, "metrics: cannot serve on %s", m->addrstr);
		return -1;
	}
	m->fd = -1; /* evhttp's now */
	/* the same socket, accepting only to close: evhttp's keeps it */
	m->refuse = evconnlistener_new(base, metrics_refuse_cb, m,
	    LEV_OPT_CLOSE_ON_EXEC | LEV_OPT_DISABLED, 0, evhttp_bound_socket_get_fd(bound));
	if (m->refuse == NULL) {
		snprintf(err, errlen, "metrics: cannot serve on %s: out of memory", m->addrstr);
		return -1;
	}
	evconnlistener_set_error_cb(m->refuse, metrics_refuse_error_cb);
	evconnlistener_set_error_cb(
	    evhttp_bound_socket_get_listener(bound), metrics_accept_error_cb);
	LIST_INSERT_HEAD(&metrics_all, m, entry);
	m->listed = 1;
	m->bound = bound;
	metrics_listen_update(m);
	log_info(
	    "metrics: listening on %s service=metrics backlog=%d", m->addrstr, METRICS_BACKLOG);
	return 0;
}

/* A reload changed metrics_max_connections: the connections open stay. */
void
metrics_set_max_connections(struct metrics *m, long max_conns)
{
	m->max_conns = max_conns;
	metrics_listen_update(m);
}

void
metrics_free(struct metrics *m)
{
	struct metrics_conn *mc, *next;

	if (m == NULL)
		return;
	if (m->listed)
		LIST_REMOVE(m, entry);
	/* first the listener that shares evhttp's socket; then nothing switches */
	if (m->refuse != NULL)
		evconnlistener_free(m->refuse);
	m->bound = NULL;
	if (m->http != NULL)
		evhttp_free(m->http); /* closes the socket it owns, and its connections */
	/* what is left was accepted and not yet looked at */
	for (mc = LIST_FIRST(&m->conns); mc != NULL; mc = next) {
		next = LIST_NEXT(mc, entry);
		metrics_conn_free(mc);
	}
	if (m->retry != NULL)
		event_free(m->retry);
	if (m->fd != -1)
		close(m->fd);
	free(m);
}

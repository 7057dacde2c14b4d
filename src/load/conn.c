/* SPDX-License-Identifier: ISC */
/*
 * conn.c: one client connection, made by hand, and the one way it ends.
 *
 * socket(), TCP_NODELAY, optionally bind() to a source address with
 * IP_BIND_ADDRESS_NO_PORT (the kernel then picks the port at connect()
 * time, per destination, instead of reserving one per source address at
 * bind() time), and a non-blocking connect().  Its outcome arrives as an
 * event on the socket, unless the connect timer fires first, and is read
 * with getsockopt(SO_ERROR): the errno the kernel reports is the cause
 * that gets counted.
 *
 * A conn is driven by one persistent, edge-triggered event for its socket
 * (and a timer for the connect timeout) rather than by a bufferevent.
 * The event is added once, when connect() is called, and deleted once, at
 * close: one epoll_ctl each, and none per request.  A bufferevent adds an
 * ioctl(FIONREAD) to every read and switches its write event on and off
 * around every request, and level-triggered read and write events would
 * have to be swapped after the handshake; a load generator pays for each
 * of those in the request rate it can reach.  Edge-triggered means input
 * is read until a read comes back short (the queue is empty then, and new
 * data makes a new edge), and output is sent straight with send(); only
 * when the kernel does not take everything does the rest wait for the next
 * writable edge.  Output is never copied: it points into the run's
 * payload, or into the mode's own buffer, which stays put until sent.
 *
 * conn_close() is the one way a conn ends: every failure goes through
 * conn_fail(), which counts the cause first.  By default (--close rst) the
 * socket is closed with SO_LINGER 0, a reset: the client closes first, so
 * a normal close would leave a TIME_WAIT socket per connection on this
 * host, and a handshake benchmark would run out of ports within a minute.
 * --close fin closes a connection that ends normally (crr after its echo,
 * every open one at the end of the run) with a plain close(), a FIN, as
 * real clients and netperf's TCP_CRR do; a failed or half-made connection
 * is still reset.  A conn that is opened again (crr) reuses its memory and
 * events; the reopen is deferred to its own restart event so that no
 * callback of the old socket is still on the stack when the events are
 * reassigned.
 *
 * Once connected, the connect timer is the mode's: rr --rate arms it with
 * conn_timer_at() for the conn's next request.
 *
 * A datagram mode (mode->dgram: udp-rr) gets a UDP socket instead,
 * connect()ed to the target so that only its datagrams are received and an
 * ICMP error comes back as an errno (ECONNREFUSED: refused); connect()
 * completes at once and the first writable edge makes it open, as for a
 * unix socket.  No TCP option, no handshake to read.
 *
 * Each TCP handshake is read once, from TCP_INFO, as soon as it is
 * complete: tcpi_total_retrans then counts only SYN retransmissions (no
 * data has been sent), tcpi_rtt holds the SYN-ACK's round trip, and
 * tcpi_options has TCPI_OPT_SYN_DATA if the server took data from a Fast
 * Open SYN.  That is when connect() completes, except with --fastopen:
 * TCP_FASTOPEN_CONNECT makes connect() return before any packet leaves
 * when a cookie is cached, and the first send() carries the request in the
 * SYN, so the handshake is read when the first answer arrives.  If the
 * server did not take that data (no Fast Open there, or a retransmitted
 * SYN, which goes without it), the kernel has sent it again after the
 * handshake: a retransmission of one segment that is no SYN's.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load.h"
#include "log.h"

#define CONN_VERIFY_LOG_MAX 10 /* verify messages shown per run */

#define CONN_READS_PER_EVENT 16 /* then let the other conns have a turn */
#define CONN_EVENTS (EV_READ | EV_WRITE | EV_PERSIST | EV_ET)

static void conn_io_cb(evutil_socket_t, short, void *);
static void conn_timeout_cb(evutil_socket_t, short, void *);
static void conn_restart_cb(evutil_socket_t, short, void *);

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

/* The conn and its three events in one allocation. */
struct conn *
conn_new(struct loader *w, unsigned id)
{
	size_t head = ALIGN16(sizeof(struct conn));
	size_t evsize = ALIGN16(event_get_struct_event_size());
	struct conn *c;
	char *p;

	if ((p = calloc(1, head + 3 * evsize)) == NULL)
		return NULL;
	c = (struct conn *)(void *)p;
	c->w = w;
	c->id = id;
	c->fd = -1;
	c->state = CONN_IDLE;
	c->io = (struct event *)(void *)(p + head);
	c->timer = (struct event *)(void *)(p + head + evsize);
	c->restart = (struct event *)(void *)(p + head + 2 * evsize);
	/* assigned now, so that event_del() is always safe */
	event_assign(c->io, w->base, -1, CONN_EVENTS, conn_io_cb, c);
	evtimer_assign(c->timer, w->base, conn_timeout_cb, c);
	evtimer_assign(c->restart, w->base, conn_restart_cb, c);
	return c;
}

void
conn_free(struct conn *c)
{
	if (c == NULL)
		return;
	conn_close(c);
	event_del(c->restart);
	free(c);
}

/*
 * The handshake's TCP_INFO, once, into the stats.  A socket that is not
 * past the handshake yet (a --fastopen connection reset before it) is not
 * counted.
 */
static void
conn_handshake(struct conn *c)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;
	struct handshake hs;

	c->hs_pending = 0;
	memset(&ti, 0, sizeof ti);
	if (getsockopt(c->fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1 ||
	    len < offsetof(struct tcp_info, tcpi_total_retrans) + sizeof ti.tcpi_total_retrans ||
	    ti.tcpi_state == TCP_SYN_SENT)
		return;
	hs.retrans = ti.tcpi_total_retrans;
	hs.rtt_ns = (uint64_t)ti.tcpi_rtt * 1000u;
	hs.syn_data = (ti.tcpi_options & TCPI_OPT_SYN_DATA) != 0;
	if (c->tfo_deferred && !hs.syn_data && hs.retrans > 0)
		hs.retrans--; /* the data of the SYN, sent again */
	hs.connect_ns = c->connect_ns;
	stats_record_handshake(&c->w->stats, &hs);
}

static void
conn_established(struct conn *c)
{
	struct loader *w = c->w;

	c->connect_ns = clock_ns() - c->t_connect;
	hist_record(&w->stats.connect, c->connect_ns);
	stat_add(&w->stats.established, 1);
	stat_add(&w->stats.active, 1);
	c->state = CONN_OPEN;
	evtimer_del(c->timer);
	if (w->run->opt.target.ss.ss_family != AF_UNIX && !w->mode->dgram) {
		if (c->tfo_deferred)
			c->hs_pending = 1;
		else
			conn_handshake(c);
	}
	w->mode->open(c);
}

static void
conn_fail_errno(struct conn *c, int err)
{
	conn_fail(c, stats_classify(err), err);
}

void
conn_start(struct conn *c)
{
	struct loader *w = c->w;
	struct run *r = w->run;
	const struct net_addr *t = &r->opt.target;
	int fd, one = 1;

	stat_add(&w->stats.attempted, 1);
	c->state = CONN_CONNECTING;
	c->failed = 0;
	c->wlen = 0;
	c->got = 0;
	c->t_send = 0;
	c->hs_pending = 0;
	c->tfo_deferred = 0;
	fd = socket(t->ss.ss_family,
	    (w->mode->dgram ? SOCK_DGRAM : SOCK_STREAM) | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		conn_fail_errno(c, errno);
		return;
	}
	c->fd = fd;
	if (t->ss.ss_family != AF_UNIX) {
		/* requests are small and latency is what is measured */
		if (!w->mode->dgram)
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		/* a kernel without it fails every connection: "other", by errno */
		if (r->opt.fastopen &&
		    setsockopt(fd, IPPROTO_TCP, TCP_FASTOPEN_CONNECT, &one, sizeof one) == -1) {
			conn_fail_errno(c, errno);
			return;
		}
		if (r->opt.srcaddrs.n > 0) {
			unsigned i = __atomic_fetch_add(&r->src_next, 1, __ATOMIC_RELAXED);
			const struct net_addr *src = &r->opt.srcaddrs.addrs[i % r->opt.srcaddrs.n];

			/* best effort: without it bind() picks the port, fewer fit */
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
			if (bind(fd, (const struct sockaddr *)&src->ss, src->len) == -1) {
				conn_fail_errno(c, errno);
				return;
			}
		}
	}
	c->t_connect = clock_ns();
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len) == 0)
		c->tfo_deferred = r->opt.fastopen; /* a TCP connect() done at once: deferred */
	else if (errno != EINPROGRESS) {
		/* a unix listener with a full queue says EAGAIN: "other" */
		conn_fail_errno(c, errno);
		return;
	}
	/* also when connected at once (unix): the first edge says so */
	event_assign(c->io, w->base, fd, CONN_EVENTS, conn_io_cb, c);
	event_add(c->io, NULL);
	evtimer_add(c->timer, w->connect_tv);
}

/*
 * A send() that took nothing but may later.  EINPROGRESS: --fastopen's
 * first send() when the SYN could carry none of the data (the kernel
 * sends it after the handshake, with the next writable edge).
 */
static int
conn_send_later(int err)
{
	return err == EAGAIN || err == EWOULDBLOCK || err == EINTR || err == EINPROGRESS;
}

static void
conn_flush(struct conn *c)
{
	ssize_t n;

	n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
	if (n == -1) {
		if (!conn_send_later(errno)) {
			conn_fail_errno(c, errno);
			return;
		}
		n = 0;
	}
	stat_add(&c->w->stats.bytes_sent, (uint64_t)n);
	c->wbuf += n;
	c->wlen -= (size_t)n;
	if (c->wlen > 0)
		return; /* the next writable edge */
	c->wbuf = NULL;
	if (c->w->mode->drained != NULL)
		c->w->mode->drained(c);
}

/*
 * Read until the queue is empty: with edge triggering nothing says later.
 * A UDP socket reads one datagram per recv(), of any length, 0 too, and
 * ECONNREFUSED is an ICMP port unreachable that answered one of them.
 */
static void
conn_input(struct conn *c, evutil_socket_t fd)
{
	struct loader *w = c->w;
	int dgram = w->mode->dgram;
	ssize_t n;

	for (int i = 0; i < CONN_READS_PER_EVENT; i++) {
		n = recv(fd, w->rbuf, sizeof w->rbuf, 0);
		if (n > 0 || (n == 0 && dgram)) {
			w->mode->read(c, w->rbuf, (size_t)n);
			if (c->state != CONN_OPEN || c->fd != fd)
				return; /* closed by the mode */
			if (!dgram && (size_t)n < sizeof w->rbuf)
				return; /* a short read: all read */
			continue;
		}
		if (n == 0) {
			conn_fail(c, LERR_CLOSED, 0);
			return;
		}
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			return;
		if (errno != EINTR) {
			conn_fail_errno(c, errno);
			return;
		}
	}
	/* more may be queued and no new edge would tell: come back to it */
	event_active(c->io, EV_READ, 0);
}

static void
conn_io_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	socklen_t len;
	int err = 0;

	if (c->state == CONN_CONNECTING) {
		len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			conn_fail_errno(c, err);
			return;
		}
		if (!(what & EV_WRITE))
			return; /* not connected yet */
		conn_established(c);
		what &= ~EV_WRITE; /* the mode has just written what it could */
	}
	if (c->state == CONN_OPEN && (what & EV_WRITE) && c->wlen > 0)
		conn_flush(c);
	if (c->state == CONN_OPEN && c->fd == fd && (what & EV_READ)) {
		if (c->hs_pending)
			conn_handshake(c);
		conn_input(c, fd);
	}
}

static void
conn_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (c->state == CONN_CONNECTING)
		conn_fail(c, LERR_TIMEOUT, ETIMEDOUT);
	else if (c->state == CONN_OPEN && c->w->mode->timer != NULL)
		c->w->mode->timer(c);
}

/*
 * The mode's timer at t_ns (clock_ns()'s clock), rounded up to the
 * microsecond.  A paced loader's loop caches no time (loader.c), so the
 * timeout counts from now, not from when the loop last woke up.
 */
void
conn_timer_at(struct conn *c, uint64_t t_ns)
{
	uint64_t now = clock_ns(), us = t_ns > now ? (t_ns - now + 999) / 1000 : 0;
	struct timeval tv;

	tv.tv_sec = (time_t)(us / 1000000u);
	tv.tv_usec = (suseconds_t)(us % 1000000u);
	evtimer_add(c->timer, &tv);
}

static void
conn_restart_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;

	if (!c->w->stopping && c->state == CONN_IDLE)
		conn_start(c);
}

/*
 * Send, or queue what the kernel did not take.  0: all sent; 1: the rest
 * follows when the socket is writable (mode->drained then); -1: the conn
 * failed and is closed.  The data must stay put until drained.
 */
int
conn_send(struct conn *c, const void *data, size_t len)
{
	ssize_t n;

	n = send(c->fd, data, len, MSG_NOSIGNAL);
	if (n == -1) {
		if (!conn_send_later(errno)) {
			conn_fail_errno(c, errno);
			return -1;
		}
		n = 0;
	}
	stat_add(&c->w->stats.bytes_sent, (uint64_t)n);
	if ((size_t)n == len)
		return 0;
	c->wbuf = (const unsigned char *)data + n;
	c->wlen = len - (size_t)n;
	return 1; /* the kernel says when there is room: a writable edge */
}

/* A reply of `bytes` verified bytes completed after latency_ns. */
void
conn_reply(struct conn *c, uint64_t latency_ns, size_t bytes)
{
	struct stats *s = &c->w->stats;

	stats_record_latency(s, latency_ns);
	stat_add(&s->requests, 1);
	stat_add(&s->bytes_received, bytes);
}

void
conn_fail(struct conn *c, enum load_error e, int err)
{
	if (c->state == CONN_IDLE)
		return;
	stats_count_error(&c->w->stats, e, err);
	c->failed = 1;
	conn_close(c);
}

/* Count a verify error, say what differed (the first few times), close. */
void
conn_verify_failed(struct conn *c, const char *fmt, ...)
{
	struct run *r = c->w->run;
	unsigned n = __atomic_fetch_add(&r->verify_logged, 1, __ATOMIC_RELAXED);
	char msg[512];
	va_list ap;

	if (n < CONN_VERIFY_LOG_MAX) {
		va_start(ap, fmt);
		vsnprintf(msg, sizeof msg, fmt, ap);
		va_end(ap);
		log_warnx("verify: connection %u: %s", c->id, msg);
		if (n == CONN_VERIFY_LOG_MAX - 1)
			log_warnx("verify: further errors are counted, not shown");
	}
	conn_fail(c, LERR_VERIFY, 0);
}

void
conn_close(struct conn *c)
{
	struct linger lg = { 1, 0 };
	int was_open;

	if (c->state == CONN_IDLE)
		return;
	was_open = c->state == CONN_OPEN;
	event_del(c->io);
	evtimer_del(c->timer);
	if (c->fd != -1) {
		/* also while connecting: the handshake may be complete already */
		if (c->w->run->opt.close == CLOSE_RST || !was_open || c->failed)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(c->fd);
		c->fd = -1;
	}
	c->wbuf = NULL;
	c->wlen = 0;
	c->state = CONN_IDLE;
	if (was_open)
		stat_sub(&c->w->stats.active, 1);
	if (c->w->mode->closed != NULL)
		c->w->mode->closed(c, was_open);
	loader_conn_closed(c->w, c);
}

/*
 * conn.c: one client connection, made by hand, and the one way it ends.
 *
 * socket(), TCP_NODELAY, optionally bind() to a source address with
 * IP_BIND_ADDRESS_NO_PORT (the kernel then picks the port at connect()
 * time, per destination, instead of reserving one per source address at
 * bind() time), and a non-blocking connect().  Its outcome arrives as
 * writability or as the connect timeout on the same event, and is read
 * with getsockopt(SO_ERROR): the errno the kernel reports is the cause
 * that gets counted.
 *
 * Once open, a conn is driven by two plain events rather than a
 * bufferevent.  A round trip is a send(), a wait and a recv(); a
 * bufferevent adds an ioctl(FIONREAD) to every read and switches its write
 * event on and off around every request (two epoll_ctl), which a load
 * generator pays for in the request rate it can reach.  Here send() is
 * called directly and the write event is armed only when the kernel did
 * not take everything; output is never copied (it points into the run's
 * payload, or into the mode's own buffer, which stays put until sent).
 *
 * conn_close() is the one way a conn ends: every failure goes through
 * conn_fail(), which counts the cause first.  The socket is closed with
 * SO_LINGER 0, a reset: the client closes first, so a normal close would
 * leave a TIME_WAIT socket per connection on this host, and a handshake
 * benchmark would run out of ports within a minute.  A conn that is opened
 * again (crr) reuses its memory and events; the reopen is deferred to its
 * own restart event so that no callback of the old socket is still on the
 * stack when the events are reassigned.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "load.h"
#include "log.h"

#define CONN_VERIFY_LOG_MAX 10	/* verify messages shown per run */

static void conn_read_cb(evutil_socket_t, short, void *);
static void conn_write_cb(evutil_socket_t, short, void *);
static void conn_restart_cb(evutil_socket_t, short, void *);

#define ALIGN16(n) (((n) + 15) & ~(size_t)15)

/* The conn and its three events in one allocation. */
struct conn *
conn_new(struct worker *w, unsigned id)
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
	c->rd = (struct event *)(void *)(p + head);
	c->wr = (struct event *)(void *)(p + head + evsize);
	c->restart = (struct event *)(void *)(p + head + 2 * evsize);
	/* assigned now, so that event_del() is always safe */
	event_assign(c->rd, w->base, -1, EV_READ | EV_PERSIST, conn_read_cb, c);
	event_assign(c->wr, w->base, -1, EV_WRITE, conn_write_cb, c);
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

static void
conn_established(struct conn *c)
{
	struct worker *w = c->w;

	hist_record(&w->stats.connect, now_ns() - c->t_connect);
	stat_add(&w->stats.established, 1);
	stat_add(&w->stats.active, 1);
	c->state = CONN_OPEN;
	event_add(c->rd, NULL);
	w->run->opt.mode->open(c);
}

static void
conn_fail_errno(struct conn *c, int err)
{
	conn_fail(c, stats_classify(err), err);
}

void
conn_start(struct conn *c)
{
	struct worker *w = c->w;
	struct run *r = w->run;
	const struct net_addr *t = &r->opt.target;
	int fd, one = 1;

	stat_add(&w->stats.attempted, 1);
	c->state = CONN_CONNECTING;
	c->failed = 0;
	c->wlen = 0;
	c->got = 0;
	fd = socket(t->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1) {
		conn_fail_errno(c, errno);
		return;
	}
	c->fd = fd;
	event_assign(c->rd, w->base, fd, EV_READ | EV_PERSIST, conn_read_cb, c);
	event_assign(c->wr, w->base, fd, EV_WRITE, conn_write_cb, c);
	if (t->ss.ss_family != AF_UNIX) {
		/* requests are small and latency is what is measured */
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
		if (r->opt.sources.n > 0) {
			unsigned i = __atomic_fetch_add(&r->src_next, 1, __ATOMIC_RELAXED);
			const struct net_addr *src = &r->opt.sources.addrs[i % r->opt.sources.n];

			/* best effort: without it bind() picks the port, fewer fit */
			setsockopt(fd, IPPROTO_IP, IP_BIND_ADDRESS_NO_PORT, &one, sizeof one);
			if (bind(fd, (const struct sockaddr *)&src->ss, src->len) == -1) {
				conn_fail_errno(c, errno);
				return;
			}
		}
	}
	c->t_connect = now_ns();
	if (connect(fd, (const struct sockaddr *)&t->ss, t->len) == 0) {
		conn_established(c);	/* unix sockets may connect at once */
		return;
	}
	if (errno != EINPROGRESS) {
		/* a unix listener with a full queue says EAGAIN: "other" */
		conn_fail_errno(c, errno);
		return;
	}
	event_add(c->wr, w->connect_tv);
}

static void
conn_flush(struct conn *c)
{
	ssize_t n;

	n = send(c->fd, c->wbuf, c->wlen, MSG_NOSIGNAL);
	if (n == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			conn_fail_errno(c, errno);
			return;
		}
		n = 0;
	}
	stat_add(&c->w->stats.bytes_sent, (uint64_t)n);
	c->wbuf += n;
	c->wlen -= (size_t)n;
	if (c->wlen > 0) {
		event_add(c->wr, NULL);
		return;
	}
	c->wbuf = NULL;
	if (c->w->run->opt.mode->drained != NULL)
		c->w->run->opt.mode->drained(c);
}

static void
conn_write_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	socklen_t len;
	int err = 0;

	if (c->state == CONN_CONNECTING) {
		if (what & EV_TIMEOUT) {
			conn_fail(c, LERR_TIMEOUT, ETIMEDOUT);
			return;
		}
		len = sizeof err;
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1)
			err = errno;
		if (err != 0) {
			conn_fail_errno(c, err);
			return;
		}
		conn_established(c);
		return;
	}
	if (c->state == CONN_OPEN && c->wlen > 0)
		conn_flush(c);
}

static void
conn_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct conn *c = arg;
	struct worker *w = c->w;
	ssize_t n;

	n = recv(fd, w->rbuf, sizeof w->rbuf, 0);
	if (n > 0) {
		w->run->opt.mode->read(c, w->rbuf, (size_t)n);
		return;
	}
	if (n == 0) {
		conn_fail(c, LERR_CLOSED, 0);
		return;
	}
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return;
	conn_fail_errno(c, errno);
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
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
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
	event_add(c->wr, NULL);
	return 1;
}

/* A reply of `bytes` verified bytes completed after latency_ns. */
void
conn_reply(struct conn *c, uint64_t latency_ns, size_t bytes)
{
	struct stats *s = &c->w->stats;

	hist_record(&s->latency, latency_ns);
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
	event_del(c->rd);
	event_del(c->wr);
	if (c->fd != -1) {
		if (was_open)
			setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
		close(c->fd);
		c->fd = -1;
	}
	c->wbuf = NULL;
	c->wlen = 0;
	c->state = CONN_IDLE;
	if (was_open)
		stat_sub(&c->w->stats.active, 1);
	if (c->w->run->opt.mode->closed != NULL)
		c->w->run->opt.mode->closed(c, was_open);
	worker_conn_closed(c->w, c);
}

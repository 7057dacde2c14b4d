/* SPDX-License-Identifier: ISC */
/*
 * client.c: one accepted connection, its bufferevent, its reads, and the
 * one way it ends.
 *
 * The bufferevent is the client's object: it owns the fd, the output
 * buffer, the write path with its watermarks (the service's drained()
 * and the resume after backpressure) and the drain bound of a close.
 * Each writev() may take up to CLIENT_WRITE_MAX bytes, not libevent's
 * 16 KiB.  Reading is the client's own.  libevent 2.1's evbuffer_read() takes at
 * most 4096 bytes (EVBUFFER_MAX_READ), asks ioctl(FIONREAD) first, and
 * allocates a chain for what it reads: four system calls per 4 KiB of an
 * echoed stream and a thousand instructions per round trip.  Instead,
 * client_read_cb() makes one recv() of up to CLIENT_READ_MAX bytes into
 * its worker's scratch space and hands the bytes to the service.  Nothing
 * is allocated per read; what a service keeps across reads (a partial
 * chat line, a partial PROXY header) it copies into the bufferevent's
 * input buffer, which is otherwise empty and holds no chain.
 *
 * The read event is the bufferevent's own (bev->ev_read), taken over: an
 * event of the client's own would make every client 128 bytes larger.
 * That holds while the bufferevent is never asked to read: no
 * bufferevent_enable/disable(EV_READ) and no read timeout through it; the
 * event's argument stays the bufferevent (libevent's finalizer reads it
 * when the bufferevent is freed), and bufferevent_set_timeouts() drops
 * the event's timer, so it comes before client_read_update().
 *
 * A client has no timer event of its own.  idle_timeout and proxy_timeout
 * are the worker's sweep over its idle list and its acceptors' lists of
 * clients in the header stage (worker.c); the read event's timeout carries
 * the quiet period of a graceful shutdown and the linger after the
 * half-close (client_read_update() sets reading on or off and the limit
 * of the client's stage); the drain bound is the bufferevent's write
 * timeout.  (A read timeout restarts with every byte: it could not make
 * proxy_timeout a deadline.)
 *
 * client_close(c, reason) is the way a client ends: it stops the service,
 * lets the pending output drain (bufferevent_free() would drop it:
 * daytime's line, an error line, the last echoed bytes), half-closes,
 * reads and drops whatever the peer still sends until it closes too (so
 * the kernel does not answer unread input with a reset that destroys what
 * we sent), and only then frees.  Every stage is bounded in time.  The
 * free itself is deferred to a later turn of the loop (a deferred event
 * callback of the bufferevent), so a service may close any client, itself
 * included, and keep using the pointer until it returns.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_struct.h>

#include "cidr.h"
#include "client-limits.h"
#include "conf.h"
#include "log.h"
#include "net.h"
#include "proxy.h"
#include "service.h"
#include "sources.h"
#include "stats.h"
#include "synackd.h"

#define CLIENT_DRAIN_TIMEOUT 10 /* seconds without write progress */
#define CLIENT_LINGER_TIMEOUT 2 /* seconds to wait for the peer's FIN */
#define CLIENT_QUIET_MS 100     /* no input this long: a stopping client is done */

static void client_read_cb(evutil_socket_t, short, void *);
static void client_write_cb(struct bufferevent *, void *);
static void client_event_cb(struct bufferevent *, short, void *);
static void client_fail(struct client *, int writing, int error);
static void client_timeout(struct client *);

/*
 * A read: the client is active now.  The write progress made so far is
 * marked with it, so that the idle sweep sees only the progress made since.
 */
static void
client_active(struct client *c)
{
	c->idle_mark = c->bytes_queued - client_pending(c);
	if (c->in_idle)
		client_idle_touch(c);
}

/*
 * Activity now: to the end of its worker's idle list, or onto it,
 * stamped with the worker's idle clock (see worker_sweep_idle).
 */
void
client_idle_touch(struct client *c)
{
	struct worker *w = c->acceptor->worker;

	/* stamped in this tick already: the list stays in order where it is */
	if (c->in_idle && c->last_tick == w->now)
		return;
	c->last_tick = w->now;
	if (c->in_idle)
		TAILQ_REMOVE(&w->idle, c, idle_entry);
	TAILQ_INSERT_TAIL(&w->idle, c, idle_entry);
	c->in_idle = 1;
}

/* The header stage: at the end of its acceptor's list, stamped now (proxy_timeout). */
static void
client_header_wait(struct client *c)
{
	/* the clock now, not at the last sweep: the deadline counts from this accept */
	c->last_tick = idle_clock();
	TAILQ_INSERT_TAIL(&c->acceptor->headers, c, idle_entry);
	c->in_idle = 1;
}

/*
 * recv() and send() without libc's wrappers: in a threaded process each
 * wrapper is a cancellation point, whose bookkeeping costs about 30
 * instructions per call (60 of the 500 an echoed round trip took with
 * them).  synackd never cancels a thread.  Errors are -1 with errno, as
 * from the wrappers.
 */
static inline ssize_t
client_sys_recv(int fd, void *buf, size_t len)
{
	return syscall(SYS_recvfrom, fd, buf, len, 0, NULL, NULL);
}

static inline ssize_t
client_sys_send(int fd, const void *buf, size_t len)
{
	return syscall(SYS_sendto, fd, buf, len, MSG_NOSIGNAL, NULL, 0);
}

/* The read event: the bufferevent's own, taken over (see the top). */
static inline struct event *
client_rev(struct client *c)
{
	return &c->bev->ev_read;
}

/*
 * Reading on or off as the client's stage says, with the time limit of
 * that stage.  Only called when the stage changes: a read re-arms the
 * limit by itself (the event is persistent), as it did the bufferevent's
 * read timeout.
 */
static void
client_read_update(struct client *c)
{
	struct event *ev = client_rev(c);
	long ms = 0;
	struct timeval tv;

	if (c->state == CLIENT_DEAD || c->peer_eof ||
	    (c->state == CLIENT_OPEN && (c->paused || c->read_max == 0))) {
		event_del(ev);
		return;
	}
	if (c->state == CLIENT_LINGERING)
		ms = CLIENT_LINGER_TIMEOUT * 1000L;
	else if (c->state == CLIENT_OPEN && c->stopping && !c->proxy_wait)
		ms = CLIENT_QUIET_MS;
	if (ms == 0) {
		/* event_add() without a time leaves the one it had */
		event_remove_timer(ev);
		event_add(ev, NULL);
		return;
	}
	tv.tv_sec = ms / 1000;
	tv.tv_usec = (ms % 1000) * 1000;
	event_add(ev, &tv);
}

static void
client_peer_set(struct client *c, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

	c->peer.family = (uint8_t)sa->sa_family;
	if (sa->sa_family == AF_INET) {
		memcpy(c->peer.addr, &sin->sin_addr, 4);
		c->peer.port = ntohs(sin->sin_port);
	} else if (sa->sa_family == AF_INET6) {
		memcpy(c->peer.addr, &sin6->sin6_addr, 16);
		c->peer.port = ntohs(sin6->sin6_port);
	}
}

/* "192.0.2.7:40212", "[2001:db8::7]:40212" or "unix:". */
const char *
client_peer_str(const struct client *c, char *buf, size_t size)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	socklen_t len;

	memset(&ss, 0, sizeof ss);
	ss.ss_family = c->peer.family;
	if (c->peer.family == AF_INET) {
		memcpy(&sin->sin_addr, c->peer.addr, 4);
		sin->sin_port = htons(c->peer.port);
		len = sizeof *sin;
	} else if (c->peer.family == AF_INET6) {
		memcpy(&sin6->sin6_addr, c->peer.addr, 16);
		sin6->sin6_port = htons(c->peer.port);
		len = sizeof *sin6;
	} else
		len = (socklen_t)offsetof(struct sockaddr_un, sun_path);
	return net_addr_format((struct sockaddr *)&ss, len, buf, size);
}

/*
 * A refused connection is reset at once, so that it costs neither a
 * client slot nor a TIME_WAIT socket here.
 */
static void
client_reset(evutil_socket_t fd)
{
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	evutil_closesocket(fd);
}

/*
 * A source over max_clients_per_source: reset, and logged at most once a
 * second, however hard the source floods.
 */
static void
client_refuse(struct acceptor *a, evutil_socket_t fd, const struct sockaddr *sa, int socklen,
    const struct source_key *k)
{
	struct limits *lim = a->worker->limits;
	long limit = a->worker->settings.max_clients_per_source;
	char peer[NET_ADDRSTRLEN], src[NET_ADDRSTRLEN];
	unsigned long more;

	stat_add(&a->stats.rejected[REJECT_PER_SOURCE], 1);
	client_reset(fd);
	if (!log_limit_pass(&lim->per_source_log, &more))
		return;
	net_addr_format(sa, (socklen_t)socklen, peer, sizeof peer);
	source_key_str(k, src, sizeof src);
	if (more > 0)
		log_warnx("listener %s: client %s refused: max_clients_per_source %ld reached for "
			  "%s (and %lu more refused since the last message)",
		    a->conf->name, peer, limit, src, more);
	else
		log_warnx(
		    "listener %s: client %s refused: max_clients_per_source %ld reached for %s",
		    a->conf->name, peer, limit, src);
}

/*
 * A peer not in proxy_from: whatever its header would claim is not
 * believed, so it gets no header stage at all.  Reset before a byte is
 * read, and logged at most once a second.
 */
static void
client_untrusted(struct acceptor *a, evutil_socket_t fd, const struct sockaddr *sa, int socklen)
{
	struct limits *lim = a->worker->limits;
	char peer[NET_ADDRSTRLEN];
	unsigned long more;

	stat_add(&a->stats.rejected[REJECT_PROXY_UNTRUSTED], 1);
	client_reset(fd);
	if (!log_limit_pass(&lim->untrusted_log, &more))
		return;
	net_addr_format(sa, (socklen_t)socklen, peer, sizeof peer);
	if (more > 0)
		log_warnx("listener %s: client %s refused: not in proxy_from (and %lu more "
			  "refused since the last message)",
		    a->conf->name, peer, more);
	else
		log_warnx("listener %s: client %s refused: not in proxy_from", a->conf->name, peer);
}

/* The client is the service's now: its peer is known. */
static void
client_open(struct client *c)
{
	const struct listener_conf *lc = c->acceptor->conf;
	struct worker *w = c->acceptor->worker;
	char peer[CLIENT_PEERSTRLEN];

	/* save_syn: the SYN's fields, when it opens as it is accepted (acceptor_take) */
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("client %s connected to %s%s%s", client_peer_str(c, peer, sizeof peer),
		    lc->name, c->acceptor->syn_field[0] != '\0' ? " syn=" : "",
		    c->acceptor->syn_field);
	c->idle_mark = 0;
	client_idle_touch(c);
	if (w->stopping)
		client_shutdown(c);
	if (lc->service->open != NULL)
		lc->service->open(c);
}

/*
 * A connection accepted by a: refused as a peer not in proxy_from or over
 * max_clients_per_source, or served as a new client.  Returns -1, and
 * leaves fd alone, when max_clients has no slot for it: the caller parks
 * it.
 */
int
client_accept(struct acceptor *a, evutil_socket_t fd, struct sockaddr *sa, int socklen)
{
	const struct listener_conf *lc = a->conf;
	struct worker *w = a->worker;
	struct limits *lim = w->limits;
	struct source_key key;
	/* behind a proxy, the source is the header's: counted once it is read */
	int has_source = !lc->proxy_protocol && source_key(sa, &key) == 0;
	struct client *c;

	if (lc->proxy_from.n > 0 && !cidr_list_match(&lc->proxy_from, sa)) {
		client_untrusted(a, fd, sa, socklen);
		return 0;
	}
	/* counted whether or not there is a limit: a reload may set one */
	if (has_source) {
		switch (limits_source_add(lim, &key, w->settings.max_clients_per_source)) {
		case 1:
			client_refuse(a, fd, sa, socklen, &key);
			return 0;
		case -1:
			log_warnx("listener %s: no memory for a new client", lc->name);
			stat_add(&a->stats.rejected[REJECT_NO_MEMORY], 1);
			evutil_closesocket(fd);
			return 0;
		}
	}
	if (!limits_admit(lim)) {
		if (has_source)
			limits_source_remove(lim, &key);
		return -1;
	}
	if ((c = calloc(1, sizeof *c)) == NULL ||
	    (c->bev = bufferevent_socket_new(w->base, fd, BEV_OPT_CLOSE_ON_FREE)) == NULL) {
		log_warnx("listener %s: no memory for a new client", lc->name);
		stat_add(&a->stats.rejected[REJECT_NO_MEMORY], 1);
		evutil_closesocket(fd);
		free(c);
		if (has_source)
			limits_source_remove(lim, &key);
		limits_release(lim);
		return 0;
	}
	c->fd = fd;
	c->out = bufferevent_get_output(c->bev);
	c->read_max = CLIENT_READ_MAX;
	(void)bufferevent_set_max_single_write(c->bev, CLIENT_WRITE_MAX);
	if (has_source)
		c->source = key;
	c->has_source = has_source;
	c->acceptor = a;
	c->state = CLIENT_OPEN;
	client_peer_set(c, sa);
	TAILQ_INSERT_TAIL(&a->clients, c, entry);
	stat_add(&a->stats.accepted, 1);
	__atomic_store_n(&a->active, a->active + 1, __ATOMIC_RELAXED);
	/*
	 * The bufferevent's EV_WRITE is enabled from the start, but its event
	 * is added only once output is queued: a reply the kernel takes at
	 * once never arms it.
	 */
	bufferevent_setcb(c->bev, NULL, client_write_cb, client_event_cb, c);
	/* its argument stays the bufferevent: libevent's finalizer reads it when freeing */
	event_assign(
	    client_rev(c), w->base, fd, EV_READ | EV_PERSIST | EV_FINALIZE, client_read_cb, c->bev);
	/* the bufferevent freezes its input's end for its own reads, which it never makes */
	evbuffer_unfreeze(c->bev->input, 0);
	client_read_update(c);
	if (lc->proxy_protocol) {
		/* nothing reaches the service before the header */
		c->proxy_wait = 1;
		client_header_wait(c);
		if (w->stopping)
			client_shutdown(c);
		return 0;
	}
	client_open(c);
	return 0;
}

/*
 * Off the idle list (or, in the header stage, its acceptor's list of
 * headers awaited): closing, or stopping (which has its own time limit).
 */
void
client_idle_stop(struct client *c)
{
	if (!c->in_idle)
		return;
	if (c->proxy_wait)
		TAILQ_REMOVE(&c->acceptor->headers, c, idle_entry);
	else
		TAILQ_REMOVE(&c->acceptor->worker->idle, c, idle_entry);
	c->in_idle = 0;
}

/*
 * Graceful shutdown of one client: it is served until it has sent nothing
 * for CLIENT_QUIET_MS, so that bytes sent before the signal but still in
 * flight are answered too, and then closed the draining way.  The
 * server's shutdown_timeout bounds a client that never goes quiet (a
 * client paused by backpressure is not read, so it is not quiet either).
 */
void
client_shutdown(struct client *c)
{
	if (c->state != CLIENT_OPEN || c->stopping)
		return;
	c->stopping = 1;
	c->reason = CLOSE_SHUTDOWN; /* also if shutdown_timeout cuts it short */
	if (c->proxy_wait)
		return; /* its header may be on its way: proxy_timeout still bounds it */
	client_idle_stop(c);
	client_read_update(c);
}

/* What the service keeps across reads (chat's partial line): empty, no chain, otherwise. */
struct evbuffer *
client_input(struct client *c)
{
	return c->bev->input;
}

/*
 * Output not sent yet.  Nothing is pending when all that was queued has
 * been counted as sent (bytes_counted never runs ahead of the kernel):
 * a client that keeps up is answered without asking its evbuffer.
 */
size_t
client_pending(const struct client *c)
{
	if (c->bytes_queued == c->bytes_counted)
		return 0;
	return evbuffer_get_length(c->out);
}

/*
 * Hand the pending output to the kernel now rather than when the loop
 * next polls; returns what is still pending.  A client that keeps up has
 * room in its socket buffer, so what is left after this is what it did
 * not take.
 */
size_t
client_flush(struct client *c)
{
	if (evbuffer_get_length(c->out) > 0) {
		/* the bufferevent keeps its output's start frozen between its own writes */
		evbuffer_unfreeze(c->out, 1);
		(void)evbuffer_write(c->out, c->fd); /* errors: the bev sees them */
		evbuffer_freeze(c->out, 1);
	}
	return evbuffer_get_length(c->out);
}

/*
 * What one read may take from now on, up to CLIENT_READ_MAX; 0 stops
 * reading until it is raised (chat_rate's token bucket).
 */
void
client_set_read_max(struct client *c, size_t max)
{
	int was = c->read_max > 0;

	c->read_max = (uint32_t)(max < CLIENT_READ_MAX ? max : CLIENT_READ_MAX);
	if (was != (c->read_max > 0))
		client_read_update(c);
}

void
client_write(struct client *c, const void *data, size_t len)
{
	if (evbuffer_add(c->out, data, len) == 0)
		c->bytes_queued += len;
}

/* data must outlive the client: chargen's static pattern. */
void
client_write_ref(struct client *c, const void *data, size_t len)
{
	if (evbuffer_add_reference(c->out, data, len, NULL, NULL) == 0)
		c->bytes_queued += len;
}

/*
 * Send data (echo's reply).  While nothing is pending it goes to the
 * socket at once, with one send(), and only what the kernel does not take
 * is copied into the output: EV_WRITE is armed only then, which saves the
 * two epoll_ctl() calls a queued reply costs (arm, then disarm once
 * drained).  While output is pending the bytes are copied behind it.
 */
void
client_send(struct client *c, const void *data, size_t len)
{
	ssize_t n;

	if (client_pending(c) == 0) {
		n = client_sys_send(c->fd, data, len);
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
			client_fail(c, 1, errno);
			return;
		}
		if (n > 0) {
			c->bytes_queued += (size_t)n;
			c->bytes_counted += (size_t)n; /* sent: counted now */
			stat_add(&c->acceptor->stats.bytes_out, (uint64_t)n);
			c->idle_mark += (size_t)n; /* activity of now, not of the next idle check */
			if ((size_t)n == len)
				return;
			data = (const char *)data + n;
			len -= (size_t)n;
		}
	}
	client_write(c, data, len);
}

/* The service's drained() runs when the output falls to this many bytes. */
void
client_set_lowat(struct client *c, size_t lowat)
{
	c->lowat = (uint32_t)lowat;
	if (!c->paused)
		bufferevent_setwatermark(c->bev, EV_WRITE, lowat, 0);
}

/* Stop reading until the output drains to half of output_limit. */
static void
client_pause(struct client *c)
{
	c->paused = 1;
	client_read_update(c);
	bufferevent_setwatermark(c->bev, EV_WRITE, (size_t)c->acceptor->conf->output_limit / 2, 0);
}

static void
client_resume(struct client *c)
{
	c->paused = 0;
	bufferevent_setwatermark(c->bev, EV_WRITE, c->lowat, 0);
	client_read_update(c);
}

/* Schedule the free; nothing more happens on this connection. */
static void
client_kill(struct client *c)
{
	if (c->state == CLIENT_DEAD)
		return;
	client_idle_stop(c);
	c->state = CLIENT_DEAD;
	client_read_update(c);
	bufferevent_disable(c->bev, EV_WRITE);
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	bufferevent_setcb(c->bev, NULL, NULL, client_event_cb, c);
	/* client_event_cb frees it on a later turn of the loop */
	bufferevent_trigger_event(c->bev, BEV_EVENT_EOF, BEV_TRIG_DEFER_CALLBACKS);
}

/*
 * Next step of closing: drain the output, then half-close and linger.
 * The bufferevent's timeouts go first: setting them drops the timer of
 * its read event, which is ours.
 */
static void
client_finish(struct client *c)
{
	struct timeval tv = { CLIENT_DRAIN_TIMEOUT, 0 };

	if (client_pending(c) > 0) {
		c->state = CLIENT_DRAINING;
		bufferevent_setwatermark(c->bev, EV_WRITE, 0, 0);
		bufferevent_set_timeouts(c->bev, NULL, &tv);
		client_read_update(c);
		return;
	}
	if (c->peer_eof || shutdown(c->fd, SHUT_WR) == -1) {
		client_kill(c);
		return;
	}
	c->state = CLIENT_LINGERING;
	bufferevent_set_timeouts(c->bev, NULL, NULL);
	client_read_update(c);
}

void
client_close(struct client *c, enum close_reason reason)
{
	struct evbuffer *in = c->bev->input;

	if (c->state != CLIENT_OPEN)
		return;
	c->reason = reason;
	c->paused = 0;
	client_idle_stop(c);
	evbuffer_drain(in, evbuffer_get_length(in));
	client_finish(c);
}

/* Close without sending what is pending: for a peer that does not read. */
void
client_abort(struct client *c, enum close_reason reason)
{
	if (c->state != CLIENT_OPEN)
		return;
	c->reason = reason;
	client_kill(c);
}

static void
client_fail(struct client *c, int writing, int error)
{
	if (c->state == CLIENT_OPEN || c->state == CLIENT_DRAINING) {
		c->reason = CLOSE_ERROR;
		c->error = error;
		c->write_error = writing;
	}
	client_kill(c);
}

/*
 * What the kernel took since the last count goes into the listener's
 * bytes_out: at each write callback (the output drained to its low
 * watermark) and at the end; a direct write counts itself.
 */
static void
client_count_out(struct client *c)
{
	uint64_t sent = c->bytes_queued - client_pending(c);

	stat_add(&c->acceptor->stats.bytes_out, sent - c->bytes_counted);
	c->bytes_counted = sent;
}

void
client_free(struct client *c)
{
	struct acceptor *a = c->acceptor;
	struct worker *w = a->worker;
	char peer[CLIENT_PEERSTRLEN];
	const char *why = close_reason_text[c->reason];

	client_count_out(c);
	if (c->reason == CLOSE_ERROR)
		why = c->write_error ? "write error" : "read error";
	if (log_enabled(LOG_LEVEL_DEBUG))
		log_debug("client %s disconnected from %s: %s%s%s, %llu bytes in, %llu bytes out",
		    client_peer_str(c, peer, sizeof peer), a->conf->name, why,
		    c->error != 0 ? ": " : "", c->error != 0 ? strerror(c->error) : "",
		    (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_counted);
	stat_add(&a->stats.closed[c->reason], 1);
	if (a->conf->service->close != NULL && !c->proxy_wait) /* not opened before its header */
		a->conf->service->close(c);
	TAILQ_REMOVE(&a->clients, c, entry);
	client_idle_stop(c);
	if (c->has_source)
		limits_source_remove(w->limits, &c->source);
	bufferevent_free(c->bev);
	free(c);
	limits_release(w->limits);
	acceptor_client_gone(a); /* and through it, its worker */
}

/* The bytes just read go to the service. */
static void
client_serve(struct client *c, const char *data, size_t len)
{
	const struct listener_conf *lc = c->acceptor->conf;

	if (lc->service->read != NULL)
		lc->service->read(c, data, len);
	if (c->state == CLIENT_OPEN && !c->paused && client_pending(c) >= (size_t)lc->output_limit)
		client_pause(c);
}

/*
 * proxy_protocol: the header, with the proxy's address as the peer until
 * it is read.  Its address becomes the client's peer and source (LOCAL
 * and UNKNOWN keep the connection's own); then the service opens, and
 * what came after the header is its first input.
 */
static void
client_proxy_done(struct client *c, const struct proxy_result *r)
{
	struct acceptor *a = c->acceptor;
	struct sockaddr_storage ss;
	socklen_t len = sizeof ss;
	struct source_key key;
	int stopping = c->stopping;

	memset(&ss, 0, sizeof ss);
	if (r->kind == PROXY_ADDRESSES) {
		ss = r->src;
		client_peer_set(c, (const struct sockaddr *)&ss);
	} else if (getpeername(c->fd, (struct sockaddr *)&ss, &len) == -1)
		ss.ss_family = AF_UNSPEC; /* the peer stays as accepted, without a source */
	if (source_key((const struct sockaddr *)&ss, &key) == 0) {
		switch (limits_source_add(
		    a->worker->limits, &key, a->worker->settings.max_clients_per_source)) {
		case 1:
			client_close(c, CLOSE_PROXY_PER_SOURCE);
			return;
		case -1:
			client_close(c, CLOSE_NO_MEMORY);
			return;
		default:
			c->source = key;
			c->has_source = 1;
		}
	}
	client_idle_stop(c); /* its deadline is met */
	c->proxy_wait = 0;
	c->stopping = 0;
	client_open(c);
	if (stopping)
		client_shutdown(c);
}

/*
 * The header stage's read: buf holds what an earlier read kept of a
 * header begun (copied back in front of the new bytes) and the new bytes,
 * len in all.  A header not complete yet is kept in the input buffer.
 */
static void
client_proxy_read(struct client *c, const char *buf, size_t kept, size_t len)
{
	struct evbuffer *in = c->bev->input;
	struct proxy_result r;
	char peer[CLIENT_PEERSTRLEN];

	switch (proxy_parse((const unsigned char *)buf, len < PROXY_MAX ? len : PROXY_MAX, &r)) {
	case PROXY_NEED_MORE:
		if (evbuffer_add(in, buf + kept, len - kept) == -1)
			client_close(c, CLOSE_NO_MEMORY);
		return;
	case PROXY_ERROR:
		if (log_enabled(LOG_LEVEL_DEBUG))
			log_debug("client %s: invalid PROXY header: %s",
			    client_peer_str(c, peer, sizeof peer), r.error);
		client_close(c, CLOSE_PROXY_INVALID);
		return;
	case PROXY_DONE:
		break;
	}
	evbuffer_drain(in, kept);
	client_proxy_done(c, &r);
	if (c->state == CLIENT_OPEN && len > r.len)
		client_serve(c, buf + r.len, len - r.len);
}

/* The peer closed its side (or, on the write side, a write of nothing). */
static void
client_eof(struct client *c)
{
	c->peer_eof = 1;
	client_read_update(c);
	/* a header begun but not finished is not one */
	if (c->state == CLIENT_OPEN && c->proxy_wait && c->bytes_in > 0)
		client_close(c, CLOSE_PROXY_INVALID);
	else if (c->state == CLIENT_OPEN)
		client_close(c, CLOSE_PEER);
	else if (c->state == CLIENT_LINGERING)
		client_kill(c);
	/* draining: the peer may still read what is left */
}

/*
 * One recv() into the worker's scratch space; the bytes go to the service,
 * or are dropped once the client is closing.  No FIONREAD first, no
 * second read: level-triggered, the loop comes back while there is more.
 */
static void
client_read_cb(evutil_socket_t fd, short what, void *arg)
{
	struct client *c = ((struct bufferevent *)arg)->cbarg;
	char *buf = c->acceptor->worker->scratch;
	size_t kept = 0, max = CLIENT_READ_MAX;
	ssize_t n;

	if (what == EV_TIMEOUT) {
		client_timeout(c);
		return;
	}
	if (c->state == CLIENT_OPEN) {
		max = c->read_max;
		if (c->proxy_wait) {
			kept = evbuffer_copyout(c->bev->input, buf, PROXY_MAX);
			max = CLIENT_READ_MAX - kept;
		}
	}
	n = client_sys_recv(fd, buf + kept, max);
	if (n <= 0) {
		if (n == 0)
			client_eof(c);
		else if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
			client_fail(c, 0, errno);
		return;
	}
	c->bytes_in += (size_t)n;
	stat_add(&c->acceptor->stats.bytes_in, (uint64_t)n);
	if (c->state != CLIENT_OPEN)
		return;
	if (c->proxy_wait) {
		client_proxy_read(c, buf, kept, kept + (size_t)n);
		return;
	}
	client_active(c);
	client_serve(c, buf, (size_t)n);
}

static void
client_write_cb(struct bufferevent *bev, void *arg)
{
	struct client *c = arg;

	client_count_out(c);
	if (c->state == CLIENT_DRAINING) {
		if (client_pending(c) == 0)
			client_finish(c);
		return;
	}
	if (c->state != CLIENT_OPEN)
		return;
	if (c->paused && client_pending(c) <= (size_t)c->acceptor->conf->output_limit / 2)
		client_resume(c);
	if (c->acceptor->conf->service->drained != NULL)
		c->acceptor->conf->service->drained(c);
}

/* A read or write timeout: which limit it is depends on the state. */
static void
client_timeout(struct client *c)
{
	char peer[CLIENT_PEERSTRLEN];

	switch (c->state) {
	case CLIENT_LINGERING:
		client_kill(c);
		return;
	case CLIENT_DRAINING:
		log_debug("client %s: output not drained in %d s, dropping it",
		    client_peer_str(c, peer, sizeof peer), CLIENT_DRAIN_TIMEOUT);
		client_kill(c);
		return;
	case CLIENT_DEAD:
		return;
	case CLIENT_OPEN:
		break;
	}
	/* open, only a stopping client has a timeout: it went quiet */
	if (c->stopping)
		client_close(c, CLOSE_SHUTDOWN);
}

/* The bufferevent's events: the write side's, and the deferred free. */
static void
client_event_cb(struct bufferevent *bev, short what, void *arg)
{
	struct client *c = arg;

	if (c->state == CLIENT_DEAD) {
		client_free(c); /* the deferred free client_kill() asked for */
		return;
	}
	if (what & BEV_EVENT_EOF)
		client_eof(c);
	else if (what & BEV_EVENT_ERROR)
		client_fail(c, 1, EVUTIL_SOCKET_ERROR());
	else if (what & BEV_EVENT_TIMEOUT)
		client_timeout(c);
}

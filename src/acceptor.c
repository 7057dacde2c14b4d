/* SPDX-License-Identifier: ISC */
/*
 * acceptor.c: one listening socket of a listener, on one worker's loop,
 * handed to libevent's evconnlistener, and the clients it accepted.
 *
 * evconnlistener_new() gets backlog 0, "already listening": any other
 * value would call listen() again and replace the configured backlog.
 * Accepting stops while the server is at max_clients (the new
 * connections wait in the kernel's backlog), and for a second after the
 * process runs out of descriptors or memory, or until a client leaves:
 * without the error callback a full descriptor table would make the
 * listener spin.  A connection accepted just as another worker took the
 * last slot is parked, unserved, until a slot comes free: as it would
 * have waited in the backlog.
 *
 * Closing a listening socket resets the connections the kernel has
 * queued on it, and those whose handshake completes a moment later.  So
 * a socket on its way out (shutdown, reload, a new address) first gets a
 * filter that drops new SYNs (net_drop_syns: the main thread attached it
 * when it decided; again here, for any other way out), keeps accepting
 * for ACCEPTOR_GRACE_MS while the handshakes already under way complete,
 * and then accepts what is queued and closes.  Everything here runs on
 * the acceptor's worker; the main thread frees it once the acceptor
 * reported it done (to the reply mailbox it was handed when made), or
 * after the worker's thread is gone.
 *
 * A socket inherited from the service manager (socket activation) may
 * still be open there: its filter comes off again just before it is
 * closed here, so that the manager's copy takes the next connections
 * (and starts the service again) instead of dropping them.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "client-limits.h"
#include "conf.h"
#include "datagram.h"
#include "log.h"
#include "net.h"
#include "service.h"
#include "stats.h"
#include "synackd.h"

#define ACCEPTOR_RETRY_SECONDS 1
#define ACCEPTOR_DRAIN_MAX 65536 /* connections taken from a closing socket's queue */
#define ACCEPTOR_GRACE_MS 200    /* for handshakes under way when a socket closes */

static void acceptor_accept_cb(
    struct evconnlistener *, evutil_socket_t, struct sockaddr *, int, void *);
static void acceptor_error_cb(struct evconnlistener *, void *);
static void acceptor_retry_cb(evutil_socket_t, short, void *);
static void acceptor_check(struct acceptor *);

struct acceptor *
acceptor_new(struct listener *l, struct worker *w, struct mailbox *reply,
    struct log_limit *wait_log, int fd, const struct net_addr *addr, const struct listener_conf *lc)
{
	struct acceptor *a;

	if ((a = calloc(1, sizeof *a)) == NULL)
		return NULL;
	if ((a->conf = listener_conf_dup(lc)) == NULL || (a->syn = syn_stats_new()) == NULL) {
		listener_conf_free(a->conf);
		free(a);
		return NULL;
	}
	a->listener = l;
	a->worker = w;
	a->reply = reply;
	a->wait_log = wait_log;
	a->fd = fd;
	a->addr = *addr;
	net_addr_str(addr, a->addrstr, sizeof a->addrstr);
	TAILQ_INIT(&a->clients);
	TAILQ_INIT(&a->headers);
	TAILQ_INIT(&a->parked);
	TAILQ_INIT(&a->closing);
	return a;
}

/*
 * What the kernel knows of a TCP connection's handshake, read at accept
 * with one TCP_INFO (asked for only up to tcpi_last_ack_recv: the kernel
 * copies no more).  Whatever else is to be learnt of each accepted
 * connection belongs here too, so that an accept costs one system call
 * more, not one per feature.
 *
 * How long it waited in the accept queue: tcpi_last_ack_recv, the
 * milliseconds since the last ACK from the client: the handshake's final
 * one for a client that sent nothing since, else its last segment (a
 * client that sent data while it waited shows less).  Counted in the histogram; over
 * accept_wait_warn, logged at most once a second for the listener (all its acceptors together).
 *
 * Whether its SYN carried data the kernel took (TCP Fast Open):
 * tcpi_options has TCPI_OPT_SYN_DATA.
 */
static void
acceptor_wait(struct acceptor *a, int fd, const struct sockaddr *sa, socklen_t len)
{
	struct tcp_info ti;
	socklen_t want =
	    offsetof(struct tcp_info, tcpi_last_ack_recv) + sizeof ti.tcpi_last_ack_recv;
	socklen_t tlen = want;
	long warn = a->worker->settings.accept_wait_warn;
	char peer[NET_ADDRSTRLEN];
	unsigned long more;
	uint32_t ms;

	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &tlen) == -1 || tlen < want)
		return;
	if (ti.tcpi_options & TCPI_OPT_SYN_DATA)
		stat_add(&a->stats.syn_data, 1);
	ms = ti.tcpi_last_ack_recv;
	stat_add(&a->stats.accept_wait[accept_wait_bucket(ms)], 1);
	stat_add(&a->stats.accept_wait_ms, ms);
	if (warn == 0 || ms <= (uint32_t)warn || !log_limit_pass(a->wait_log, &more))
		return;
	net_addr_format(sa, len, peer, sizeof peer);
	if (more > 0)
		log_warnx("client %s connected to %s: waited %" PRIu32 " ms in the accept queue "
			  "(and %lu more over accept_wait_warn since the last message)",
		    peer, a->conf->name, ms, more);
	else
		log_warnx("client %s connected to %s: waited %" PRIu32 " ms in the accept queue",
		    peer, a->conf->name, ms);
}

/*
 * A connection the kernel handed over: a client, refused by
 * max_clients_per_source, or parked at max_clients.  Returns -1 when it
 * had to be parked.
 */
static int
acceptor_take(struct acceptor *a, int fd, struct sockaddr *sa, socklen_t len)
{
	struct parked *p;
	int rc;

	if (a->addr.ss.ss_family != AF_UNIX) {
		acceptor_wait(a, fd, sa, len);
		if (a->conf->save_syn)
			syn_stats_take(a->syn, fd, sa, len, a->syn_field, sizeof a->syn_field);
	}
	rc = client_accept(a, fd, sa, (int)len);
	/* client_open's connect line took it; one opened later (PROXY header, parked) has none */
	a->syn_field[0] = '\0';
	if (rc == 0)
		return 0;
	if ((p = calloc(1, sizeof *p)) == NULL) {
		log_warnx("listener %s: no memory to park a connection", a->conf->name);
		stat_add(&a->stats.rejected[REJECT_NO_MEMORY], 1);
		close(fd);
		return 0;
	}
	p->fd = fd;
	memcpy(&p->ss, sa, len < sizeof p->ss ? len : sizeof p->ss);
	p->len = len;
	TAILQ_INSERT_TAIL(&a->parked, p, entry);
	return -1;
}

/* Serve parked connections, oldest first, while slots are free. */
static void
acceptor_unpark(struct acceptor *a)
{
	struct parked *p;

	while ((p = TAILQ_FIRST(&a->parked)) != NULL) {
		if (client_accept(a, p->fd, (struct sockaddr *)&p->ss, (int)p->len) == -1)
			return;
		TAILQ_REMOVE(&a->parked, p, entry);
		free(p);
	}
}

static void
acceptor_drop_parked(struct acceptor *a)
{
	struct parked *p;

	while ((p = TAILQ_FIRST(&a->parked)) != NULL) {
		TAILQ_REMOVE(&a->parked, p, entry);
		stat_add(&a->stats.rejected[REJECT_MAX_CLIENTS], 1);
		close(p->fd);
		free(p);
	}
}

/* Accept or not, as max_clients, shutdown and the back-off say now. */
void
acceptor_refresh(struct acceptor *a)
{
	int full = limits_full(a->worker->limits);
	int want = !full && !a->worker->stopping && !a->backoff && !a->retired;

	if (!full && !a->worker->stopping)
		acceptor_unpark(a);
	if (a->evl == NULL || want == a->enabled)
		return;
	if (want)
		evconnlistener_enable(a->evl);
	else
		evconnlistener_disable(a->evl);
	a->enabled = want;
}

static void
acceptor_accept_cb(
    struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	struct acceptor *a = arg;

	if (acceptor_take(a, fd, sa, (socklen_t)socklen) == -1)
		acceptor_refresh(a);
}

static void
acceptor_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	acceptor_set_backoff(arg, 0);
}

static void
acceptor_error_cb(struct evconnlistener *evl, void *arg)
{
	struct acceptor *a = arg;
	int error = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { ACCEPTOR_RETRY_SECONDS, 0 };

	stat_add(&a->stats.accept_errors[accept_error_index(error)], 1);
	errno = error;
	if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
		if (!a->backoff)
			log_warn("listener %s: accept: pausing for %d s or until a client leaves",
			    a->conf->name, ACCEPTOR_RETRY_SECONDS);
		acceptor_set_backoff(a, 1);
		evtimer_add(a->retry, &tv);
		return;
	}
	log_warn("listener %s: accept", a->conf->name);
}

/* Attach the socket to the worker's loop; on the worker. */
int
acceptor_start(struct acceptor *a)
{
	const struct listener_conf *lc = a->conf;
	struct event_base *base = a->worker->base;

	if (lc->service->acceptor_init != NULL && lc->service->acceptor_init(a) == -1) {
		log_error("listener %s: cannot start service %s", lc->name, lc->service->name);
		return -1;
	}
	if (lc->transport == TRANSPORT_UDP) {
		if ((a->dgram = datagram_new(
			 a->worker->dgram, base, a->fd, lc, a->addrstr, &a->dgram_stats)) == NULL) {
			log_error(
			    "listener %s: cannot start the datagram loop on %s: out of memory",
			    lc->name, a->addrstr);
			return -1;
		}
		a->fd = -1; /* the datagram loop owns it now */
		return 0;
	}
	if ((a->retry = evtimer_new(base, acceptor_retry_cb, a)) == NULL) {
		log_error("listener %s: evtimer_new failed", lc->name);
		return -1;
	}
	a->evl = evconnlistener_new(
	    base, acceptor_accept_cb, a, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, a->fd);
	if (a->evl == NULL) {
		log_error("listener %s: evconnlistener_new %s: %s", lc->name, a->addrstr,
		    strerror(errno));
		return -1;
	}
	a->fd = -1; /* the evconnlistener owns it now */
	evconnlistener_set_error_cb(a->evl, acceptor_error_cb);
	a->enabled = 1;
	acceptor_refresh(a);
	return 0;
}

/*
 * Take what the kernel queued on the socket before it closes: closing
 * would reset those connections, although their handshake completed.
 */
static void
acceptor_drain(struct acceptor *a, int fd)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int cfd;

	for (int i = 0; i < ACCEPTOR_DRAIN_MAX; i++) {
		len = sizeof ss;
		cfd = accept4(fd, (struct sockaddr *)&ss, &len, SOCK_NONBLOCK | SOCK_CLOEXEC);
		if (cfd == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return; /* EAGAIN: empty; anything else: nothing more to take */
		}
		acceptor_take(a, cfd, (struct sockaddr *)&ss, len);
	}
}

/* The end of a closing socket: take what is queued (unless all is being freed), close. */
static void
acceptor_closing_end(struct acceptor *a, struct closing *cl)
{
	if (!a->freeing)
		acceptor_drain(a, evconnlistener_get_fd(cl->evl));
	if (cl->inherited)
		net_allow_syns(evconnlistener_get_fd(cl->evl));
	evconnlistener_free(cl->evl);
	event_free(cl->timer);
	TAILQ_REMOVE(&a->closing, cl, entry);
	free(cl);
	a->worker->closing--;
}

static void
acceptor_closing_cb(evutil_socket_t fd, short what, void *arg)
{
	struct closing *cl = arg;
	struct acceptor *a = cl->acceptor;

	acceptor_closing_end(a, cl);
	acceptor_check(a);
}

/*
 * Close a listening socket without resetting a connection whose
 * handshake completed, or is completing: see the top of the file.
 * A unix socket has no handshake in flight: it closes at once.
 */
static void
acceptor_close_evl(struct acceptor *a, struct evconnlistener *evl)
{
	struct timeval tv = { 0, ACCEPTOR_GRACE_MS * 1000 };
	struct closing *cl;
	int fd = evconnlistener_get_fd(evl);
	char err[ERRLEN];

	if (a->addr.ss.ss_family != AF_UNIX && (cl = calloc(1, sizeof *cl)) != NULL) {
		cl->acceptor = a;
		cl->evl = evl;
		cl->inherited = a->inherited;
		cl->timer = evtimer_new(a->worker->base, acceptor_closing_cb, cl);
		if (cl->timer != NULL && net_drop_syns(fd, err, sizeof err) == 0 &&
		    evtimer_add(cl->timer, &tv) == 0) {
			evconnlistener_enable(evl);
			TAILQ_INSERT_TAIL(&a->closing, cl, entry);
			a->worker->closing++;
			return;
		}
		if (cl->timer != NULL)
			event_free(cl->timer);
		free(cl);
	}
	acceptor_drain(a, fd);
	if (a->inherited)
		net_allow_syns(fd);
	evconnlistener_free(evl);
}

/* Close every socket on its way out now: shutdown_timeout, or teardown. */
void
acceptor_close_now(struct acceptor *a)
{
	struct closing *cl;

	/* the analyzer loses TAILQ_REMOVE()'s write to the head through tqe_prev */
	while ((cl = TAILQ_FIRST(&a->closing)) != NULL)
		acceptor_closing_end(a, cl); /* NOLINT(clang-analyzer-unix.Malloc) */
}

/* Stop listening (see acceptor_close_evl); the clients stay. */
void
acceptor_close(struct acceptor *a)
{
	if (a->dgram != NULL) {
		datagram_drain(a->dgram);
		datagram_free(a->dgram);
		a->dgram = NULL;
	}
	if (a->evl != NULL) {
		acceptor_close_evl(a, a->evl);
		a->evl = NULL;
	} else if (a->fd != -1) {
		if (a->inherited)
			net_allow_syns(a->fd);
		close(a->fd);
	}
	a->fd = -1;
	a->inherited = 0;
	a->enabled = 0;
	if (a->retry != NULL) {
		event_free(a->retry);
		a->retry = NULL;
	}
	if (a->worker->stopping)
		acceptor_drop_parked(a);
}

/*
 * A new socket for a new address: attached before the old one closes, so
 * no moment is without a listening socket; the old one's queue is taken.
 */
void
acceptor_replace(
    struct acceptor *a, int fd, const struct net_addr *addr, struct listener_conf *conf)
{
	struct evconnlistener *evl;
	struct listener_conf *old = a->conf;

	evl = evconnlistener_new(a->worker->base, acceptor_accept_cb, a,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (evl == NULL) {
		log_error("listener %s: reload: evconnlistener_new: %s; still listening on %s",
		    a->conf->name, strerror(errno), a->addrstr);
		close(fd);
		listener_conf_free(conf);
		return;
	}
	evconnlistener_set_error_cb(evl, acceptor_error_cb);
	if (a->evl != NULL)
		acceptor_close_evl(a, a->evl);
	a->evl = evl;
	a->inherited = 0; /* the new socket is this process's own */
	a->enabled = 1;
	a->addr = *addr;
	net_addr_str(addr, a->addrstr, sizeof a->addrstr);
	a->conf = conf;
	if (conf->service->acceptor_reconfigure != NULL)
		conf->service->acceptor_reconfigure(a, old);
	listener_conf_free(old);
	acceptor_refresh(a);
}

static void
acceptor_setopt(struct acceptor *a, int level, int name, int value, const char *what)
{
	char err[ERRLEN];

	if (net_setopt(evconnlistener_get_fd(a->evl), level, name, value, what, &a->addr, err,
		sizeof err) == -1)
		log_warnx("listener %s: reload: %s", a->conf->name, err);
}

/* A reload's new settings for the same socket: applied to it in place. */
void
acceptor_reconfigure(struct acceptor *a, struct listener_conf *lc)
{
	struct listener_conf *old = a->conf;

	if (a->evl != NULL) {
		if (lc->backlog != old->backlog &&
		    listen(evconnlistener_get_fd(a->evl), lc->backlog) == -1)
			log_warn("listener %s: reload: listen %s", lc->name, a->addrstr);
		if (lc->addr.ss.ss_family != AF_UNIX) {
			if (lc->keepalive != old->keepalive)
				acceptor_setopt(
				    a, SOL_SOCKET, SO_KEEPALIVE, lc->keepalive, "SO_KEEPALIVE");
			if (lc->defer_accept != old->defer_accept)
				acceptor_setopt(a, IPPROTO_TCP, TCP_DEFER_ACCEPT, lc->defer_accept,
				    "TCP_DEFER_ACCEPT");
			if (lc->fastopen != old->fastopen)
				acceptor_setopt(
				    a, IPPROTO_TCP, TCP_FASTOPEN, lc->fastopen, "TCP_FASTOPEN");
			if (lc->save_syn != old->save_syn)
				acceptor_setopt(
				    a, IPPROTO_TCP, TCP_SAVE_SYN, lc->save_syn, "TCP_SAVE_SYN");
		}
	}
	a->conf = lc;
	if (a->dgram != NULL)
		datagram_set_conf(a->dgram, lc, a->addrstr);
	if (lc->service->acceptor_reconfigure != NULL)
		lc->service->acceptor_reconfigure(a, old);
	listener_conf_free(old);
}

void
acceptor_set_backoff(struct acceptor *a, int on)
{
	a->backoff = on;
	if (!on && a->retry != NULL)
		evtimer_del(a->retry);
	acceptor_refresh(a);
}

/*
 * Let go of an acceptor whose socket is closed and whose clients are
 * gone: its libevent objects go now, on its worker; the rest is the main
 * thread's to free.
 */
static void
acceptor_detach(struct acceptor *a)
{
	struct worker *w = a->worker;

	if (a->conf->service->acceptor_free != NULL)
		a->conf->service->acceptor_free(a);
	TAILQ_REMOVE(&w->acceptors, a, entry);
	a->done_msg = (struct server_msg){ .type = SERVER_ACCEPTOR_DONE, .acceptor = a };
	if (mailbox_post(a->reply, &a->done_msg) == -1)
		log_error("listener %s: cannot report an acceptor done to the main thread: %s",
		    a->conf->name, strerror(errno));
}

static int
acceptor_empty(const struct acceptor *a)
{
	return TAILQ_EMPTY(&a->clients) && TAILQ_EMPTY(&a->parked) && TAILQ_EMPTY(&a->closing);
}

/* A retired acceptor goes once nothing of it is left; a stopping worker may be done. */
static void
acceptor_check(struct acceptor *a)
{
	struct worker *w = a->worker;

	if (a->retired && !a->freeing && acceptor_empty(a))
		acceptor_detach(a);
	worker_check_done(w);
}

/* Removed by a reload: stop accepting now, go once the clients have. */
void
acceptor_retire(struct acceptor *a)
{
	a->retired = 1;
	acceptor_close(a);
	acceptor_check(a);
}

/* A client of this acceptor is gone: a stopping worker may be done. */
void
acceptor_client_gone(struct acceptor *a)
{
	struct worker *w = a->worker;
	struct acceptor *other;

	__atomic_store_n(&a->active, a->active - 1, __ATOMIC_RELAXED);
	if (!a->freeing) {
		/* a descriptor came free: retry the acceptors that ran out of them */
		TAILQ_FOREACH(other, &w->acceptors, entry)
			if (other->backoff)
				acceptor_set_backoff(other, 0);
		if (a->retired && acceptor_empty(a))
			acceptor_detach(a);
	}
	worker_check_done(w);
}

/* Free everything; on the main thread once the worker let go, or is gone. */
void
acceptor_free(struct acceptor *a)
{
	struct client *c;

	if (a == NULL)
		return;
	a->freeing = 1;
	acceptor_close_now(a);
	while ((c = TAILQ_FIRST(&a->clients)) != NULL)
		client_free(c);
	acceptor_drop_parked(a);
	datagram_free(a->dgram);
	if (a->inherited && (a->evl != NULL || a->fd != -1))
		net_allow_syns(a->evl != NULL ? evconnlistener_get_fd(a->evl) : a->fd);
	if (a->evl != NULL)
		evconnlistener_free(a->evl);
	else if (a->fd != -1)
		close(a->fd);
	if (a->retry != NULL)
		event_free(a->retry);
	if (a->service_state != NULL && a->conf->service->acceptor_free != NULL)
		a->conf->service->acceptor_free(a);
	listener_conf_free(a->conf);
	syn_stats_free(a->syn);
	free(a);
}

/*
 * listener.c: a listening socket made by hand (net_listen), handed to
 * libevent's evconnlistener, and the clients it accepted.
 *
 * evconnlistener_new() gets backlog 0, "already listening": any other
 * value would call listen() again and replace the configured backlog.
 * Accepting stops while the server is at max_clients (the new
 * connections wait in the kernel's backlog), and for a second after the
 * process runs out of descriptors or memory, or until a client leaves:
 * without the error callback a full descriptor table would make the
 * listener spin.
 */
#include "config.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "synackd.h"

#define LISTENER_RETRY_SECONDS 1

static void listener_unlink(struct listener *);

/* Accept or not, as max_clients, shutdown and the back-off say now. */
void
listener_refresh(struct listener *l)
{
	struct server *s = l->server;
	int want = !s->full && !s->stopping && !l->backoff;

	if (l->evl == NULL || want == l->enabled)
		return;
	if (want)
		evconnlistener_enable(l->evl);
	else
		evconnlistener_disable(l->evl);
	l->enabled = want;
}

static void
listener_accept_cb(
    struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa, int socklen, void *arg)
{
	client_accept(arg, fd, sa, socklen);
}

static void
listener_retry_cb(evutil_socket_t fd, short what, void *arg)
{
	listener_set_backoff(arg, 0);
}

static void
listener_error_cb(struct evconnlistener *evl, void *arg)
{
	struct listener *l = arg;
	int error = EVUTIL_SOCKET_ERROR();
	struct timeval tv = { LISTENER_RETRY_SECONDS, 0 };

	l->stats.accept_errors++;
	errno = error;
	if (error == EMFILE || error == ENFILE || error == ENOBUFS || error == ENOMEM) {
		if (!l->backoff)
			log_warn("listener %s: accept: pausing for %d s or until a client leaves",
			    l->conf->name, LISTENER_RETRY_SECONDS);
		listener_set_backoff(l, 1);
		evtimer_add(l->retry, &tv);
		return;
	}
	log_warn("listener %s: accept", l->conf->name);
}

static int
listener_open(const struct listener_conf *lc, struct net_addr *addr, char *err, size_t errlen)
{
	struct net_listen_opts o = {
		.backlog = lc->backlog,
		.reuseport = lc->reuseport,
		.keepalive = lc->keepalive,
		.nodelay = 1,
		.defer_accept = lc->defer_accept,
	};

	*addr = lc->addr;
	return net_listen(addr, &o, err, errlen);
}

/* Open the socket; nothing is accepted until listener_start(). */
struct listener *
listener_new(struct server *s, const struct listener_conf *lc, char *err, size_t errlen)
{
	struct listener *l;

	if ((l = calloc(1, sizeof *l)) == NULL || (l->conf = listener_conf_dup(lc)) == NULL) {
		snprintf(err, errlen, "listener %s: out of memory", lc->name);
		free(l);
		return NULL;
	}
	l->server = s;
	TAILQ_INIT(&l->clients);
	if ((l->fd = listener_open(lc, &l->addr, err, errlen)) == -1) {
		listener_conf_free(l->conf);
		free(l);
		return NULL;
	}
	net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
	return l;
}

/* Hand a listening socket to libevent and announce it. */
static struct evconnlistener *
listener_attach(struct listener *l, struct event_base *base, int fd, const struct net_addr *bound,
    char *err, size_t errlen)
{
	const struct listener_conf *lc = l->conf;
	struct evconnlistener *evl;
	int somaxconn = net_somaxconn();
	char addr[NET_ADDRSTRLEN];

	evl = evconnlistener_new(
	    base, listener_accept_cb, l, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, fd);
	if (evl == NULL) {
		snprintf(err, errlen, "evconnlistener_new %s: %s",
		    net_addr_str(bound, addr, sizeof addr), strerror(errno));
		return NULL;
	}
	evconnlistener_set_error_cb(evl, listener_error_cb);
	log_info("listener %s: listening on %s service=%s backlog=%d", lc->name,
	    net_addr_str(bound, addr, sizeof addr), lc->service->name, lc->backlog);
	if (somaxconn >= 0 && somaxconn < lc->backlog)
		log_warnx("listener %s: backlog %d is capped to %d by net.core.somaxconn", lc->name,
		    lc->backlog, somaxconn);
	return evl;
}

int
listener_start(struct listener *l, struct event_base *base, char *err, size_t errlen)
{
	const struct listener_conf *lc = l->conf;

	if (lc->service->listener_init != NULL && lc->service->listener_init(l) == -1) {
		snprintf(err, errlen, "listener %s: cannot start service %s", lc->name,
		    lc->service->name);
		return -1;
	}
	if ((l->retry = evtimer_new(base, listener_retry_cb, l)) == NULL) {
		snprintf(err, errlen, "listener %s: evtimer_new failed", lc->name);
		return -1;
	}
	if ((l->evl = listener_attach(l, base, l->fd, &l->addr, err, errlen)) == NULL)
		return -1;
	l->fd = -1; /* the evconnlistener owns it now */
	l->enabled = 1;
	listener_refresh(l);
	return 0;
}

static int
listener_setopt(struct listener *l, int level, int name, int value, const char *what)
{
	int fd = evconnlistener_get_fd(l->evl);

	if (setsockopt(fd, level, name, &value, sizeof value) == -1) {
		log_warn("listener %s: reload: setsockopt %s %s", l->conf->name, what, l->addrstr);
		return -1;
	}
	return 0;
}

/*
 * Apply a reloaded configuration of the same listener.  The clients stay.
 * A new address (or SO_REUSEPORT, which only bind() honours) takes a new
 * socket, opened before the old one closes: if it cannot be had, the old
 * one stays and the failure is logged.  The backlog and socket options
 * change in place, on the listening socket.  Returns 1 when the service
 * changed: the caller must replace the listener, since its clients speak
 * the old protocol.
 */
int
listener_reconfigure(struct listener *l, const struct listener_conf *lc)
{
	struct listener_conf *old = l->conf, *nc;
	struct evconnlistener *evl;
	struct net_addr addr;
	char err[ERRLEN];
	int fd;

	if (lc->service != old->service)
		return 1;
	if ((nc = listener_conf_dup(lc)) == NULL) {
		log_error("listener %s: reload: out of memory; unchanged", old->name);
		return -1;
	}
	if (!net_addr_equal(&lc->addr, &old->addr) || lc->reuseport != old->reuseport) {
		if ((fd = listener_open(lc, &addr, err, sizeof err)) == -1) {
			log_error("listener %s: reload: %s; still listening on %s", old->name, err,
			    l->addrstr);
			listener_conf_free(nc);
			return -1;
		}
		l->conf = nc;
		evl =
		    listener_attach(l, evconnlistener_get_base(l->evl), fd, &addr, err, sizeof err);
		if (evl == NULL) {
			l->conf = old;
			close(fd);
			log_error("listener %s: reload: %s; still listening on %s", old->name, err,
			    l->addrstr);
			listener_conf_free(nc);
			return -1;
		}
		listener_unlink(l);
		evconnlistener_free(l->evl);
		l->evl = evl;
		l->addr = addr;
		net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
		l->enabled = 1;
		listener_refresh(l);
	} else {
		l->conf = nc;
		if (lc->backlog != old->backlog) {
			if (listen(evconnlistener_get_fd(l->evl), lc->backlog) == -1)
				log_warn("listener %s: reload: listen %s", old->name, l->addrstr);
			else
				log_info("listener %s: backlog %d -> %d", old->name, old->backlog,
				    lc->backlog);
		}
		if (lc->addr.ss.ss_family != AF_UNIX) {
			if (lc->keepalive != old->keepalive)
				listener_setopt(
				    l, SOL_SOCKET, SO_KEEPALIVE, lc->keepalive, "SO_KEEPALIVE");
			if (lc->defer_accept != old->defer_accept)
				listener_setopt(l, IPPROTO_TCP, TCP_DEFER_ACCEPT, lc->defer_accept,
				    "TCP_DEFER_ACCEPT");
		}
	}
	if (lc->service->listener_reconfigure != NULL)
		lc->service->listener_reconfigure(l, old);
	listener_conf_free(old);
	return 0;
}

void
listener_set_backoff(struct listener *l, int on)
{
	l->backoff = on;
	if (!on && l->retry != NULL)
		evtimer_del(l->retry);
	listener_refresh(l);
}

/* A unix listener's socket file goes with it. */
static void
listener_unlink(struct listener *l)
{
	if (l->addr.ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path);
}

/* Stop listening at once; the clients stay until they are closed. */
void
listener_close(struct listener *l)
{
	/* once only: by now another listener may own the unix path */
	if (l->evl == NULL && l->fd == -1)
		return;
	if (l->evl != NULL) {
		evconnlistener_free(l->evl);
		l->evl = NULL;
	} else
		close(l->fd);
	l->fd = -1;
	listener_unlink(l);
	if (l->retry != NULL) {
		event_free(l->retry);
		l->retry = NULL;
	}
}

void
listener_free(struct listener *l)
{
	struct client *c;

	l->freeing = 1;
	listener_close(l);
	while ((c = TAILQ_FIRST(&l->clients)) != NULL)
		client_free(c);
	if (l->conf->service->listener_free != NULL)
		l->conf->service->listener_free(l);
	listener_conf_free(l->conf);
	free(l);
}

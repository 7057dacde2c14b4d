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
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>
#include <unistd.h>

#include "log.h"
#include "synackd.h"

#define LISTENER_RETRY_SECONDS 1

static void
listener_update(struct listener *l)
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
listener_accept_cb(struct evconnlistener *evl, evutil_socket_t fd, struct sockaddr *sa,
    int socklen, void *arg)
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

/* Open the socket; nothing is accepted until listener_start(). */
struct listener *
listener_new(struct server *s, const struct listener_conf *lc, char *err, size_t errlen)
{
	struct net_listen_opts o = {
		.backlog = lc->backlog,
		.reuseport = lc->reuseport,
		.keepalive = lc->keepalive,
		.nodelay = 1,
		.defer_accept = lc->defer_accept,
	};
	struct listener *l;

	if ((l = calloc(1, sizeof *l)) == NULL) {
		snprintf(err, errlen, "listener %s: out of memory", lc->name);
		return NULL;
	}
	l->server = s;
	l->conf = lc;
	l->addr = lc->addr;
	TAILQ_INIT(&l->clients);
	if ((l->fd = net_listen(&l->addr, &o, err, errlen)) == -1) {
		free(l);
		return NULL;
	}
	net_addr_str(&l->addr, l->addrstr, sizeof l->addrstr);
	return l;
}

int
listener_start(struct listener *l, struct event_base *base, char *err, size_t errlen)
{
	const struct listener_conf *lc = l->conf;
	int somaxconn = net_somaxconn();

	if (lc->service->listener_init != NULL && lc->service->listener_init(l) == -1) {
		snprintf(err, errlen, "listener %s: cannot start service %s", lc->name,
		    lc->service->name);
		return -1;
	}
	l->retry = evtimer_new(base, listener_retry_cb, l);
	l->evl = evconnlistener_new(base, listener_accept_cb, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, 0, l->fd);
	if (l->retry == NULL || l->evl == NULL) {
		snprintf(err, errlen, "evconnlistener_new %s: %s", l->addrstr, strerror(errno));
		return -1;
	}
	l->fd = -1;	/* the evconnlistener owns it now */
	l->enabled = 1;
	evconnlistener_set_error_cb(l->evl, listener_error_cb);
	listener_update(l);
	log_info("listener %s: listening on %s service=%s backlog=%d", lc->name, l->addrstr,
	    lc->service->name, lc->backlog);
	if (somaxconn >= 0 && somaxconn < lc->backlog)
		log_warnx("listener %s: backlog %d is capped to %d by net.core.somaxconn",
		    lc->name, lc->backlog, somaxconn);
	return 0;
}

/* Re-evaluate whether to accept: after max_clients or shutdown changed. */
void
listener_refresh(struct listener *l)
{
	listener_update(l);
}

void
listener_set_backoff(struct listener *l, int on)
{
	l->backoff = on;
	if (!on && l->retry != NULL)
		evtimer_del(l->retry);
	listener_update(l);
}

/* Stop listening at once; the clients stay until they are closed. */
void
listener_close(struct listener *l)
{
	if (l->evl != NULL) {
		evconnlistener_free(l->evl);
		l->evl = NULL;
	} else if (l->fd != -1)
		close(l->fd);
	l->fd = -1;
	if (l->addr.ss.ss_family == AF_UNIX)
		unlink(((struct sockaddr_un *)&l->addr.ss)->sun_path);
	if (l->retry != NULL) {
		event_free(l->retry);
		l->retry = NULL;
	}
}

void
listener_free(struct listener *l)
{
	struct client *c;

	listener_close(l);
	while ((c = TAILQ_FIRST(&l->clients)) != NULL)
		client_free(c);
	if (l->conf->service->listener_free != NULL)
		l->conf->service->listener_free(l);
	free(l);
}

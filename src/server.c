/*
 * server.c: the running daemon: its event loop, its listeners, the count
 * of clients against max_clients, signals and the graceful shutdown.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "synackd.h"

static void server_signal_cb(evutil_socket_t, short, void *);

static const int server_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

/*
 * Bind every listener, or none: on failure the ones already open are
 * closed again, so a failed start leaves nothing behind.
 */
struct server *
server_new(struct config *conf, char *err, size_t errlen)
{
	struct listener_conf *lc;
	struct listener *l;
	struct server *s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return NULL;
	}
	s->conf = conf;
	TAILQ_INIT(&s->listeners);
	if ((s->sources = sources_new()) == NULL) {
		snprintf(err, errlen, "out of memory");
		s->conf = NULL;
		server_free(s);
		return NULL;
	}
	TAILQ_FOREACH(lc, &conf->listeners, entry) {
		if ((l = listener_new(s, lc, err, errlen)) == NULL) {
			s->conf = NULL; /* the caller still owns it */
			server_free(s);
			return NULL;
		}
		TAILQ_INSERT_TAIL(&s->listeners, l, entry);
	}
	return s;
}

/*
 * Make the open-file limit fit the configuration (at start and at each
 * reload): raised when the hard limit allows, else a warning that says
 * what to change.  Not fatal: the accept back-off copes with EMFILE.
 */
void
server_fit_descriptors(const struct config *conf)
{
	char why[128], msg[ERRLEN];
	long need = config_descriptors(conf, why, sizeof why);

	switch (nofile_fit(need, why, msg, sizeof msg)) {
	case 1:
		log_info("%s", msg);
		break;
	case 2:
	case -1:
		log_warnx("%s", msg);
		break;
	default:
		break;
	}
}

/* Create the event loop and start accepting; call after detaching. */
int
server_start(struct server *s, char *err, size_t errlen)
{
	struct listener *l;
	size_t i;

	if ((s->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "event_base_new: cannot create the event loop");
		return -1;
	}
	for (i = 0; i < sizeof server_signals / sizeof server_signals[0]; i++) {
		s->signals[i] = evsignal_new(s->base, server_signals[i], server_signal_cb, s);
		if (s->signals[i] == NULL || evsignal_add(s->signals[i], NULL) == -1) {
			snprintf(
			    err, errlen, "evsignal_add %s: failed", strsignal(server_signals[i]));
			return -1;
		}
	}
	TAILQ_FOREACH(l, &s->listeners, entry)
		if (listener_start(l, s->base, err, errlen) == -1)
			return -1;
	return 0;
}

int
server_run(struct server *s)
{
	log_info("synackd %s started, max_clients=%ld", PACKAGE_VERSION, s->conf->max_clients);
	if (event_base_dispatch(s->base) == -1) {
		log_error("event_base_dispatch failed");
		return -1;
	}
	log_info("synackd stopped");
	return 0;
}

static void
server_listeners_refresh(struct server *s)
{
	struct listener *l;

	TAILQ_FOREACH(l, &s->listeners, entry)
		listener_refresh(l);
}

void
server_client_added(struct server *s)
{
	s->nclients++;
	if (!s->full && s->nclients >= (unsigned long)s->conf->max_clients) {
		s->full = 1;
		log_info("max_clients %ld reached, accepting paused", s->conf->max_clients);
		server_listeners_refresh(s);
	}
}

void
server_client_removed(struct server *s, struct listener *gone_from)
{
	struct listener *l;

	s->nclients--;
	if (gone_from->retired && !gone_from->freeing && !s->stopping &&
	    TAILQ_EMPTY(&gone_from->clients)) {
		TAILQ_REMOVE(&s->listeners, gone_from, entry);
		listener_free(gone_from);
	}
	/* a descriptor came free: retry listeners that ran out of them */
	TAILQ_FOREACH(l, &s->listeners, entry)
		if (l->backoff)
			listener_set_backoff(l, 0);
	if (s->full && s->nclients < (unsigned long)s->conf->max_clients) {
		s->full = 0;
		if (!s->stopping)
			log_info("accepting resumed, %lu clients", s->nclients);
		server_listeners_refresh(s);
	}
	if (s->stopping && s->nclients == 0 && s->base != NULL)
		event_base_loopbreak(s->base);
}

static void
server_shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;
	struct listener *l;
	struct client *c;

	log_warnx("shutdown_timeout: closing %lu clients that are still open", s->nclients);
	TAILQ_FOREACH(l, &s->listeners, entry)
		while ((c = TAILQ_FIRST(&l->clients)) != NULL)
			client_free(c);
	event_base_loopbreak(s->base);
}

/*
 * Graceful shutdown: stop listening at once (a new connect is refused),
 * close every client through the draining close, and give them
 * shutdown_timeout seconds.
 */
void
server_stop(struct server *s)
{
	struct timeval tv = { s->conf->shutdown_timeout, 0 };
	struct listener *l;
	struct client *c, *next;

	if (s->stopping)
		return;
	s->stopping = 1;
	TAILQ_FOREACH(l, &s->listeners, entry) {
		listener_close(l);
		for (c = TAILQ_FIRST(&l->clients); c != NULL; c = next) {
			next = TAILQ_NEXT(c, entry);
			client_shutdown(c);
		}
	}
	if (s->nclients == 0) {
		event_base_loopbreak(s->base);
		return;
	}
	log_info("waiting up to %ld s for %lu clients", s->conf->shutdown_timeout, s->nclients);
	s->shutdown_timer = evtimer_new(s->base, server_shutdown_timeout_cb, s);
	if (s->shutdown_timer == NULL || evtimer_add(s->shutdown_timer, &tv) == -1)
		server_shutdown_timeout_cb(-1, 0, s);
}

static struct listener *
server_find_listener(struct server *s, const char *name)
{
	struct listener *l;

	TAILQ_FOREACH(l, &s->listeners, entry)
		if (!l->retired && strcmp(l->conf->name, name) == 0)
			return l;
	return NULL;
}

static struct listener_conf *
config_find_listener(struct config *conf, const char *name)
{
	struct listener_conf *lc;

	TAILQ_FOREACH(lc, &conf->listeners, entry)
		if (strcmp(lc->name, name) == 0)
			return lc;
	return NULL;
}

/*
 * Stop a listener that a reload removed (or whose service changed): it
 * accepts no more, but its established clients are served to their end
 * with the service and limits they started with.
 */
static void
server_retire(struct server *s, struct listener *l, const char *reason)
{
	log_info("listener %s: %s, closing %s; %u clients stay", l->conf->name, reason, l->addrstr,
	    l->stats.active);
	listener_close(l);
	l->retired = 1;
	if (TAILQ_EMPTY(&l->clients)) {
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_free(l);
	}
}

static void
server_add_listener(struct server *s, const struct listener_conf *lc)
{
	struct listener *l;
	char err[ERRLEN];

	if ((l = listener_new(s, lc, err, sizeof err)) == NULL) {
		log_error("listener %s: reload: %s; not added", lc->name, err);
		return;
	}
	TAILQ_INSERT_TAIL(&s->listeners, l, entry);
	if (listener_start(l, s->base, err, sizeof err) == -1) {
		log_error("listener %s: reload: %s; not added", lc->name, err);
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_free(l);
	}
}

static int
strdiff(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

/* Server settings: apply what can change at run time, name the rest. */
static void
server_reload_settings(struct server *s, const struct config *old, const struct config *nc)
{
	struct listener *l;
	struct client *c;
	char err[ERRLEN];

	if (old->daemon != nc->daemon)
		log_warnx("reload: daemon changed; takes effect at the next start");
	if (strdiff(old->pidfile, nc->pidfile))
		log_warnx("reload: pidfile changed; takes effect at the next start");
	if (strdiff(old->user, nc->user) || strdiff(old->group, nc->group))
		log_warnx("reload: user or group changed; takes effect at the next start");
	if (old->workers != nc->workers)
		log_warnx("reload: workers changed; takes effect at the next start");
	if (strdiff(old->log, nc->log)) {
		if (log_open(nc->log, "synackd", err, sizeof err) == -1)
			log_error("reload: log: %s; still logging as before", err);
		else
			log_info("reload: now logging to %s", nc->log);
	}
	log_set_level(nc->log_level);
	s->conf = (struct config *)nc;
	if (old->idle_timeout != nc->idle_timeout) {
		TAILQ_FOREACH(l, &s->listeners, entry)
			TAILQ_FOREACH(c, &l->clients, entry)
				client_idle_start(c);
	}
	/* max_clients: pause or resume accepting under the new limit */
	if (s->nclients >= (unsigned long)nc->max_clients && !s->full) {
		s->full = 1;
		log_info("max_clients %ld reached, accepting paused", nc->max_clients);
	} else if (s->nclients < (unsigned long)nc->max_clients && s->full) {
		s->full = 0;
		log_info("accepting resumed, %lu clients", s->nclients);
	}
	server_listeners_refresh(s);
}

/*
 * SIGHUP: read the file again.  An invalid file changes nothing.
 * Otherwise listeners are matched by name: removed ones close, changed
 * ones are reconfigured (a listener whose new socket cannot be had keeps
 * the old one), new ones open.  Established clients of the listeners
 * that stay are not touched.
 */
static void
server_reload(struct server *s)
{
	struct config *old = s->conf, *nc;
	struct listener *l, *next;
	struct listener_conf *lc;
	char err[ERRLEN];

	if ((nc = config_load(old->path, err, sizeof err)) == NULL) {
		log_error("reload: %s; the running configuration stays", err);
		return;
	}
	log_info("reload: %s", old->path);
	server_fit_descriptors(nc);
	for (l = TAILQ_FIRST(&s->listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->retired)
			continue;
		if ((lc = config_find_listener(nc, l->conf->name)) == NULL)
			server_retire(s, l, "removed by reload");
		else if (listener_reconfigure(l, lc) == 1)
			server_retire(s, l, "service changed by reload");
	}
	TAILQ_FOREACH(lc, &nc->listeners, entry)
		if (server_find_listener(s, lc->name) == NULL)
			server_add_listener(s, lc);
	server_reload_settings(s, old, nc);
	config_free(old);
	log_info("reload: done");
}

static void
server_signal_cb(evutil_socket_t sig, short what, void *arg)
{
	struct server *s = arg;
	char err[ERRLEN];

	switch (sig) {
	case SIGTERM:
	case SIGINT:
		log_info("%s: shutting down", strsignal((int)sig));
		server_stop(s);
		break;
	case SIGHUP:
		if (!s->stopping)
			server_reload(s);
		break;
	case SIGUSR1:
		if (log_reopen(err, sizeof err) == -1)
			log_error("SIGUSR1: cannot reopen the log: %s", err);
		else
			log_info("SIGUSR1: log reopened");
		break;
	}
}

void
server_free(struct server *s)
{
	struct listener *l;
	size_t i;

	if (s == NULL)
		return;
	s->stopping = 1;
	while ((l = TAILQ_FIRST(&s->listeners)) != NULL) {
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_free(l);
	}
	for (i = 0; i < sizeof s->signals / sizeof s->signals[0]; i++)
		if (s->signals[i] != NULL)
			event_free(s->signals[i]);
	if (s->shutdown_timer != NULL)
		event_free(s->shutdown_timer);
	if (s->base != NULL)
		event_base_free(s->base);
	sources_free(s->sources);
	config_free(s->conf);
	free(s);
}

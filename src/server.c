/*
 * server.c: the running daemon's main thread: its listeners, its workers,
 * signals, reload, the graceful shutdown, and the limits that hold for
 * all workers together (max_clients, max_clients_per_source).
 *
 * The main loop only handles signals, the shutdown timer and the
 * workers' reports; clients live on the workers.  max_clients is exact
 * across workers: a slot is taken with a compare-and-swap before a client
 * is served (server_admit), and the worker that takes the last one, or
 * frees it, pauses or resumes every worker's accepting.
 */
#include "config.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "synackd.h"

static void server_signal_cb(evutil_socket_t, short, void *);
static void server_handle(void *, void *);

static const int server_signals[] = { SIGTERM, SIGINT, SIGHUP, SIGUSR1 };

/* workers = 0: one per online CPU. */
int
server_workers(const struct config *conf)
{
	long n = conf->workers;

	if (n == 0 && (n = sysconf(_SC_NPROCESSORS_ONLN)) < 1)
		n = 1;
	return (int)n;
}

/*
 * Bind every listener, or none: on failure the ones already open are
 * closed again, so a failed start leaves nothing behind.  No thread and
 * no event loop yet: this happens before detaching.
 */
struct server *
server_new(struct config *conf, struct activation *act, char *err, size_t errlen)
{
	struct listener_conf *lc;
	struct listener *l;
	struct server *s;

	if ((s = calloc(1, sizeof *s)) == NULL) {
		snprintf(err, errlen, "out of memory");
		activation_finish(act);
		return NULL;
	}
	s->activation = act; /* the listeners adopt from it; the rest closes in server_start */
	s->conf = conf;
	s->max_clients = conf->max_clients;
	TAILQ_INIT(&s->listeners);
	pthread_mutex_init(&s->sources_mu, NULL);
	s->nworkers = server_workers(conf);
	if ((s->sources = sources_new()) == NULL ||
	    (s->workers = calloc((size_t)s->nworkers, sizeof *s->workers)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* made before the workers, which are handed it: watched in server_start() */
	if ((s->msgs = mailbox_new(server_handle, s, err, errlen)) == NULL)
		goto fail;
	for (int i = 0; i < s->nworkers; i++)
		if ((s->workers[i] = worker_new(s, i, s->msgs, err, errlen)) == NULL)
			goto fail;
	TAILQ_FOREACH(lc, &conf->listeners, entry) {
		if ((l = listener_new(s, lc, err, errlen)) == NULL)
			goto fail;
		TAILQ_INSERT_TAIL(&s->listeners, l, entry);
	}
	if (conf->metrics[0] != '\0' &&
	    (s->metrics = metrics_new(
		 s, &conf->metrics_addr, conf->metrics_max_connections, err, errlen)) == NULL)
		goto fail;
	return s;
fail:
	s->conf = NULL; /* the caller still owns it */
	server_free(s);
	return NULL;
}

/*
 * A TCP listener that takes the PROXY header from any peer lets any client
 * claim any address: said at start and at each reload until proxy_from
 * names the proxies.  (A unix socket's peers are local: its file's
 * permissions say who may connect.)
 */
static void
server_warn_untrusted(const struct config *conf)
{
	const struct listener_conf *lc;

	TAILQ_FOREACH(lc, &conf->listeners, entry)
		if (lc->proxy_protocol && lc->proxy_from.n == 0 && lc->addr.ss.ss_family != AF_UNIX)
			log_warnx("listener %s: proxy_protocol without proxy_from: any client "
				  "that reaches it can claim any address (set proxy_from to the "
				  "proxies' addresses)",
			    lc->name);
}

/* Create the event loops and start accepting; call after detaching. */
int
server_start(struct server *s, char *err, size_t errlen)
{
	struct listener *l;
	size_t i;

	if ((s->base = event_base_new()) == NULL) {
		snprintf(err, errlen, "event_base_new: cannot create the event loop");
		return -1;
	}
	s->started = clock_seconds();
	for (i = 0; i < sizeof server_signals / sizeof server_signals[0]; i++) {
		s->signals[i] = evsignal_new(s->base, server_signals[i], server_signal_cb, s);
		if (s->signals[i] == NULL || evsignal_add(s->signals[i], NULL) == -1) {
			snprintf(
			    err, errlen, "evsignal_add %s: failed", strsignal(server_signals[i]));
			return -1;
		}
	}
	if (mailbox_start(s->msgs, s->base, err, errlen) == -1)
		return -1;
	for (int w = 0; w < s->nworkers; w++)
		if (worker_start(s->workers[w], err, errlen) == -1)
			return -1;
	TAILQ_FOREACH(l, &s->listeners, entry)
		listener_start(l);
	server_warn_untrusted(s->conf);
	activation_finish(s->activation);
	s->activation = NULL;
	if (s->metrics != NULL && metrics_start(s->metrics, s->base, err, errlen) == -1)
		return -1;
	return 0;
}

int
server_run(struct server *s)
{
	log_info("synackd %s started, workers=%d max_clients=%ld", PACKAGE_VERSION, s->nworkers,
	    s->conf->max_clients);
	if (event_base_dispatch(s->base) == -1) {
		log_error("event_base_dispatch failed");
		return -1;
	}
	log_info("synackd stopped");
	return 0;
}

/* A report from a worker or an acceptor, on the main thread (s->msgs). */
static void
server_handle(void *msg, void *arg)
{
	struct server_msg *m = msg;
	struct server *s = arg;

	switch (m->type) {
	case SERVER_ACCEPTOR_DONE:
		listener_acceptor_done(m->acceptor->listener, m->acceptor);
		break;
	case SERVER_WORKER_DONE:
		if (++s->workers_done == s->nworkers && s->stopping)
			event_base_loopbreak(s->base);
		break;
	}
}

static void
server_refresh_all(struct server *s)
{
	for (int i = 0; i < s->nworkers; i++)
		worker_refresh(s->workers[i]);
}

/*
 * Bring `full` in line with the count.  Workers race here, so it loops
 * until what it read is what it set: the last to change the count always
 * leaves the right state behind.
 */
static void
server_update_full(struct server *s)
{
	unsigned long n;
	long max;
	int want, cur;

	for (;;) {
		n = __atomic_load_n(&s->nclients, __ATOMIC_ACQUIRE);
		max = __atomic_load_n(&s->max_clients, __ATOMIC_RELAXED);
		want = n >= (unsigned long)max;
		cur = __atomic_load_n(&s->full, __ATOMIC_ACQUIRE);
		if (want == cur)
			return;
		if (!__atomic_compare_exchange_n(
			&s->full, &cur, want, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		if (want)
			__atomic_add_fetch(&s->full_count, 1, __ATOMIC_RELAXED);
		if (!__atomic_load_n(&s->stopping, __ATOMIC_RELAXED)) {
			if (want)
				log_info("max_clients %ld reached, accepting paused", max);
			else
				log_info("accepting resumed, %lu clients", n);
			server_refresh_all(s);
		}
	}
}

/* Take a client slot, if one is free under max_clients; any thread. */
int
server_admit(struct server *s)
{
	unsigned long n = __atomic_load_n(&s->nclients, __ATOMIC_RELAXED);

	do {
		if (n >= (unsigned long)__atomic_load_n(&s->max_clients, __ATOMIC_RELAXED))
			return 0;
	} while (!__atomic_compare_exchange_n(
	    &s->nclients, &n, n + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	server_update_full(s);
	return 1;
}

void
server_release(struct server *s)
{
	__atomic_sub_fetch(&s->nclients, 1, __ATOMIC_ACQ_REL);
	server_update_full(s);
}

/*
 * Count a client from source k: 0, or 1 when the source is at `limit`
 * (0 = none) and the client must be refused, -1 without memory.
 * Accepts and closes only, never per byte: a mutex is fine.
 */
int
server_source_add(struct server *s, const struct source_key *k, long limit)
{
	int r = 0;

	pthread_mutex_lock(&s->sources_mu);
	if (limit > 0 && sources_count(s->sources, k) >= (unsigned long)limit)
		r = 1;
	else if (sources_add(s->sources, k) == -1)
		r = -1;
	pthread_mutex_unlock(&s->sources_mu);
	return r;
}

void
server_source_remove(struct server *s, const struct source_key *k)
{
	pthread_mutex_lock(&s->sources_mu);
	sources_remove(s->sources, k);
	pthread_mutex_unlock(&s->sources_mu);
}

/*
 * Make the open-file limit fit the configuration (at start and at each
 * reload): raised when the hard limit allows, else a warning that says
 * what to change.  Not fatal: the accept back-off copes with EMFILE.
 */
void
server_fit_descriptors(const struct config *conf)
{
	char why[160], msg[ERRLEN];
	long need = config_descriptors(conf, why, sizeof why);

	switch (nofile_fit(need, why, 1, msg, sizeof msg)) {
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

static void
server_post_all(struct server *s, enum worker_cmd_type type)
{
	for (int i = 0; i < s->nworkers; i++)
		worker_post_type(s->workers[i], type);
}

/* The drain is over: the workers drop what is left; the main loop ends. */
static void
server_abort(struct server *s)
{
	server_post_all(s, WORKER_ABORT);
	event_base_loopbreak(s->base);
}

static void
server_shutdown_timeout_cb(evutil_socket_t fd, short what, void *arg)
{
	struct server *s = arg;

	log_warnx("shutdown_timeout: closing %lu clients that are still open",
	    __atomic_load_n(&s->nclients, __ATOMIC_RELAXED));
	server_abort(s);
}

/*
 * Graceful shutdown: every worker stops listening at once (after taking
 * what the kernel had queued), serves each client until it goes quiet,
 * and reports when it has none left; shutdown_timeout bounds it all.
 */
void
server_stop(struct server *s)
{
	struct timeval tv = { s->conf->shutdown_timeout, 0 };
	struct listener *l;
	unsigned long n = __atomic_load_n(&s->nclients, __ATOMIC_RELAXED);

	if (s->stopping)
		return;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
	TAILQ_FOREACH(l, &s->listeners, entry)
		listener_stop_accepting(l);
	server_post_all(s, WORKER_STOP);
	if (n > 0)
		log_info("waiting up to %ld s for %lu clients", s->conf->shutdown_timeout, n);
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
	listener_start(l);
}

static int
strdiff(const char *a, const char *b)
{
	return strcmp(a != NULL ? a : "", b != NULL ? b : "") != 0;
}

/*
 * A new metrics address opens the new endpoint before the old one
 * closes; if it cannot be had, the old one stays (and the configuration
 * is made to say so, so that the next reload tries again).  An endpoint
 * that stays takes the new metrics_max_connections.
 */
static void
server_reload_metrics(struct server *s, const struct config *old, struct config *nc)
{
	struct metrics *m = NULL;
	char err[ERRLEN];

	if (strdiff(old->metrics, nc->metrics)) {
		if (nc->metrics[0] == '\0' ||
		    ((m = metrics_new(s, &nc->metrics_addr, nc->metrics_max_connections, err,
			  sizeof err)) != NULL &&
			metrics_start(m, s->base, err, sizeof err) == 0)) {
			metrics_free(s->metrics);
			s->metrics = m;
			if (m == NULL)
				log_info("reload: metrics endpoint off");
			return;
		}
		metrics_free(m);
		log_error("reload: %s; the metrics endpoint stays as it was", err);
		free(nc->metrics);
		nc->metrics = strdup(old->metrics); /* NULL reads as "" */
		nc->metrics_addr = old->metrics_addr;
	}
	if (s->metrics != NULL)
		metrics_set_max_connections(s->metrics, nc->metrics_max_connections);
}

/* Server settings: apply what can change at run time, name the rest. */
static void
server_reload_settings(struct server *s, const struct config *old, struct config *nc)
{
	struct worker_cmd *cmd;
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
	server_reload_metrics(s, old, nc);
	for (int i = 0; i < s->nworkers; i++) {
		if ((cmd = calloc(1, sizeof *cmd)) == NULL) {
			log_error("reload: out of memory");
			continue;
		}
		cmd->type = WORKER_SETTINGS;
		cmd->fd = -1;
		cmd->settings.idle_timeout = nc->idle_timeout;
		cmd->settings.max_clients_per_source = nc->max_clients_per_source;
		worker_post(s->workers[i], cmd);
	}
	/* max_clients: pause or resume accepting under the new limit */
	__atomic_store_n(&s->max_clients, nc->max_clients, __ATOMIC_RELEASE);
	server_update_full(s);
}

/*
 * SIGHUP: read the file again.  An invalid file changes nothing.
 * Otherwise listeners are matched by name: removed ones close, changed
 * ones are reconfigured (a listener whose new sockets cannot be had keeps
 * the old ones), new ones open.  Established clients are not touched.
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
		s->reloads_failed++;
		return;
	}
	log_info("reload: %s", old->path);
	server_fit_descriptors(nc);
	for (l = TAILQ_FIRST(&s->listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->retired)
			continue;
		if ((lc = config_find_listener(nc, l->conf->name)) == NULL)
			listener_retire(l, "removed by reload");
		else if (listener_reconfigure(l, lc) == 1)
			listener_retire(l, "service changed by reload");
	}
	TAILQ_FOREACH(lc, &nc->listeners, entry)
		if (server_find_listener(s, lc->name) == NULL)
			server_add_listener(s, lc);
	server_warn_untrusted(nc);
	s->conf = nc;
	server_reload_settings(s, old, nc);
	config_free(old);
	s->reloads_ok++;
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
		/* a second one means now, as for most daemons: the drain is skipped */
		if (s->stopping) {
			log_warnx("%s during the shutdown: closing %lu clients now, without "
				  "waiting for them",
			    strsignal((int)sig), __atomic_load_n(&s->nclients, __ATOMIC_RELAXED));
			server_abort(s);
			break;
		}
		log_info("%s: shutting down", strsignal((int)sig));
		server_stop(s);
		break;
	case SIGHUP:
		if (s->stopping)
			log_warnx("SIGHUP during the shutdown: ignored, no reload");
		else
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
	struct server_msg *m;
	struct listener *l;
	size_t i;

	if (s == NULL)
		return;
	activation_finish(s->activation);
	s->activation = NULL;
	__atomic_store_n(&s->stopping, 1, __ATOMIC_RELAXED);
	for (int w = 0; s->workers != NULL && w < s->nworkers; w++)
		if (s->workers[w] != NULL && s->workers[w]->running)
			worker_post_type(s->workers[w], WORKER_ABORT);
	/* the threads first: then nothing runs but this thread */
	for (int w = 0; s->workers != NULL && w < s->nworkers; w++)
		worker_join(s->workers[w]);
	while ((m = mailbox_take(s->msgs)) != NULL)
		if (m->type == SERVER_ACCEPTOR_DONE)
			listener_acceptor_done(m->acceptor->listener, m->acceptor);
	for (int w = 0; s->workers != NULL && w < s->nworkers; w++)
		worker_free(s->workers[w]);
	while ((l = TAILQ_FIRST(&s->listeners)) != NULL) {
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_free(l);
	}
	metrics_free(s->metrics);
	for (i = 0; i < sizeof s->signals / sizeof s->signals[0]; i++)
		if (s->signals[i] != NULL)
			event_free(s->signals[i]);
	if (s->shutdown_timer != NULL)
		event_free(s->shutdown_timer);
	mailbox_free(s->msgs);
	if (s->base != NULL)
		event_base_free(s->base);
	free(s->workers);
	sources_free(s->sources);
	pthread_mutex_destroy(&s->sources_mu);
	config_free(s->conf);
	free(s);
}

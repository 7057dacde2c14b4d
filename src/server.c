/* SPDX-License-Identifier: ISC */
/*
 * server.c: the running daemon's main thread: its listeners, its workers,
 * signals, reload, the graceful shutdown, and what the metrics endpoint
 * shows of it all (server_snapshot).
 *
 * The main loop only handles signals, the shutdown timer and the
 * workers' reports; clients live on the workers.  The limits that hold
 * for all workers together are limits.c's: when max_clients is reached,
 * or a slot comes free again, the worker that changed it has every
 * worker look again (server_full_changed).
 */
#include "config.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "activation.h"
#include "client-limits.h"
#include "clock.h"
#include "conf.h"
#include "daemon.h"
#include "log.h"
#include "metrics.h"
#include "procfs.h"
#include "queues.h"
#include "synackd.h"

static void server_signal_cb(evutil_socket_t, short, void *);
static void server_handle(void *, void *);
static void server_full_changed(void *, int, unsigned long, long);
static int server_snapshot(void *, struct metrics_snapshot *);

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
 * What the metrics endpoint shows of the daemon, read now: the limits'
 * counts, the reloads, and each listener that is not retired, with the
 * half-open connections on its address.
 */
static int
server_snapshot(void *arg, struct metrics_snapshot *snap)
{
	struct server *s = arg;
	struct net_addr *addrs = NULL;
	unsigned long *syn = NULL;
	struct listener *l;
	char err[ERRLEN];
	size_t n = 0, i;

	snap->version = PACKAGE_VERSION;
	snap->uptime = clock_seconds() - s->started;
	snap->workers = s->nworkers;
	snap->clients = limits_clients(s->limits);
	snap->max_clients = limits_max(s->limits);
	snap->max_clients_reached = limits_full_count(s->limits);
	snap->reloads_ok = s->reloads_ok;
	snap->reloads_failed = s->reloads_failed;
	snap->metrics_rejected = s->metrics_rejected;
	TAILQ_FOREACH(l, &s->listeners, entry)
		if (!l->retired)
			n++;
	if (n > 0 &&
	    ((snap->listeners = calloc(n, sizeof *snap->listeners)) == NULL ||
		(addrs = calloc(n, sizeof *addrs)) == NULL ||
		(syn = calloc(n, sizeof *syn)) == NULL)) {
		free(snap->listeners);
		snap->listeners = NULL;
		free(addrs);
		return -1;
	}
	i = 0;
	TAILQ_FOREACH(l, &s->listeners, entry) {
		if (l->retired)
			continue;
		listener_snapshot(l, &snap->listeners[i]);
		addrs[i] = l->addr;
		i++;
	}
	snap->nlisteners = n;
	if (n > 0) {
		if (queue_syn_recv(addrs, n, syn, err, sizeof err) == 0) {
			for (i = 0; i < n; i++)
				if (addrs[i].ss.ss_family != AF_UNIX && !snap->listeners[i].udp) {
					snap->listeners[i].syn_recv = syn[i];
					snap->listeners[i].have_syn_recv = 1;
				}
		} else
			log_debug("metrics: SYN_RECV count: %s", err);
	}
	free(addrs);
	free(syn);
	return 0;
}

/*
 * Bind every listener, or none: on failure the ones already open are
 * closed again, so a failed start leaves nothing behind.  No thread and
 * no event loop yet: this happens before detaching.
 */
struct server *
server_new(struct config *conf, struct activation *act, char *err, size_t errlen)
{
	struct worker_settings ws = {
		.idle_timeout = conf->idle_timeout,
		.max_clients_per_source = conf->max_clients_per_source,
		.accept_wait_warn = conf->accept_wait_warn,
	};
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
	TAILQ_INIT(&s->listeners);
	s->nworkers = server_workers(conf);
	if ((s->limits = limits_new(conf->max_clients, server_full_changed, s)) == NULL ||
	    (s->workers = calloc((size_t)s->nworkers, sizeof *s->workers)) == NULL ||
	    (s->synced = calloc((size_t)s->nworkers, sizeof *s->synced)) == NULL) {
		snprintf(err, errlen, "out of memory");
		goto fail;
	}
	/* made before the workers, which are handed it: watched in server_start() */
	if ((s->msgs = mailbox_new(server_handle, s, err, errlen)) == NULL)
		goto fail;
	for (int i = 0; i < s->nworkers; i++)
		if ((s->workers[i] = worker_new(i, &ws, s->limits, s->msgs, err, errlen)) == NULL)
			goto fail;
	TAILQ_FOREACH(lc, &conf->listeners, entry) {
		if ((l = listener_new(lc, s->workers, s->nworkers, s->activation, err, errlen)) ==
		    NULL)
			goto fail;
		TAILQ_INSERT_TAIL(&s->listeners, l, entry);
	}
	if (conf->metrics[0] != '\0' &&
	    (s->metrics = metrics_new(&conf->metrics_addr, conf->metrics_max_connections,
		 server_snapshot, s, err, errlen)) == NULL)
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

/*
 * A listener with fastopen > 0 on a host whose net.ipv4.tcp_fastopen lacks
 * the server bit gets no Fast Open at all (its clients fall back to a
 * plain handshake, unseen): said once, at start and at each reload, with
 * the sysctl that would serve it.
 */
static void
server_warn_fastopen(const struct config *conf)
{
	long v = procfs_tcp_fastopen();
	const struct listener_conf *lc = config_fastopen_unserved(conf, v);

	if (lc != NULL)
		log_warnx("listener %s: fastopen = %d, but net.ipv4.tcp_fastopen = %ld does not "
			  "serve TCP Fast Open (no server bit, 2): clients fall back to a plain "
			  "handshake; to serve it: sysctl -w net.ipv4.tcp_fastopen=%ld",
		    lc->name, lc->fastopen, v, v | CONFIG_TFO_SERVER);
}

static int
server_port_cmp(const void *a, const void *b)
{
	return (int)*(const uint16_t *)a - (int)*(const uint16_t *)b;
}

/*
 * The ports synackd's UDP listeners are bound to (the real ones, port 0
 * resolved), never answered by any of them: two listeners, or two
 * synackd, cannot be made to answer each other forever.  The set is the
 * main thread's; each worker gets a copy whenever it changes, before the
 * new listeners' sockets are handed to it (its mailbox keeps the order).
 */
static void
server_post_own_ports(struct server *s)
{
	struct listener *l;
	uint16_t *ports;
	size_t n = 0, k = 0;

	TAILQ_FOREACH(l, &s->listeners, entry)
		n++;
	if ((ports = calloc(n > 0 ? n : 1, sizeof *ports)) == NULL) {
		log_error(
		    "out of memory for the UDP listeners' ports; the workers keep the old set");
		return;
	}
	TAILQ_FOREACH(l, &s->listeners, entry)
		if (!l->retired && l->conf->transport == TRANSPORT_UDP)
			ports[k++] = (uint16_t)net_addr_port(&l->addr);
	qsort(ports, k, sizeof *ports, server_port_cmp);
	n = 0;
	for (size_t i = 0; i < k; i++) /* two listeners may share a port */
		if (n == 0 || ports[i] != ports[n - 1])
			ports[n++] = ports[i];
	if (n == s->nown_ports && (n == 0 || memcmp(ports, s->own_ports, n * sizeof *ports) == 0)) {
		free(ports);
		return;
	}
	for (int w = 0; w < s->nworkers; w++)
		worker_post_ports(s->workers[w], ports, n);
	free(s->own_ports);
	s->own_ports = ports;
	s->nown_ports = n;
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
	server_post_own_ports(s);
	TAILQ_FOREACH(l, &s->listeners, entry)
		listener_start(l);
	server_warn_untrusted(s->conf);
	server_warn_fastopen(s->conf);
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

/*
 * A worker let go of an acceptor (or is gone): its listener frees it, and
 * a retired listener whose last acceptor it was goes too.
 */
static void
server_acceptor_done(void *arg, struct acceptor *a)
{
	struct server *s = arg;
	struct listener *l = a->listener;

	if (listener_acceptor_done(l, a) && !s->stopping) {
		TAILQ_REMOVE(&s->listeners, l, entry);
		listener_free(l);
	}
}

/*
 * Worker `id` answered a WORKER_SYNC (or could not be asked): each reload
 * whose sync every worker has answered is done, its changes all taken.
 */
static void
server_synced(struct server *s, int id)
{
	uint64_t all;

	s->synced[id]++;
	all = s->synced[0];
	for (int i = 1; i < s->nworkers; i++)
		if (s->synced[i] < all)
			all = s->synced[i];
	for (; s->syncs_done < all; s->syncs_done++)
		log_info("reload: done");
}

/*
 * After a reload has posted its changes: ask each worker to say when it
 * has taken them (a mailbox keeps the order), so that "reload: done"
 * means the new configuration is what the workers serve.
 */
static void
server_sync(struct server *s)
{
	for (int i = 0; i < s->nworkers; i++)
		if (worker_post_type(s->workers[i], WORKER_SYNC) == -1)
			server_synced(s, i); /* logged: "reload: done" cannot wait for it */
}

/* A report from a worker or an acceptor, on the main thread (s->msgs). */
static void
server_handle(void *msg, void *arg)
{
	struct server_msg *m = msg;
	struct server *s = arg;

	switch (m->type) {
	case SERVER_ACCEPTOR_DONE:
		server_acceptor_done(s, m->acceptor);
		break;
	case SERVER_WORKER_DONE:
		if (++s->workers_done == s->nworkers && s->stopping)
			event_base_loopbreak(s->base);
		break;
	case SERVER_WORKER_SYNCED:
		server_synced(s, m->worker->id);
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
 * max_clients was reached, or a slot came free again: every worker
 * pauses or resumes accepting.  On the worker that changed it.
 */
static void
server_full_changed(void *arg, int full, unsigned long n, long max)
{
	struct server *s = arg;

	if (__atomic_load_n(&s->stopping, __ATOMIC_RELAXED))
		return;
	if (full)
		log_info("max_clients %ld reached, accepting paused", max);
	else
		log_info("accepting resumed, %lu clients", n);
	server_refresh_all(s);
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

	log_warnx(
	    "shutdown_timeout: closing %lu clients that are still open", limits_clients(s->limits));
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
	unsigned long n = limits_clients(s->limits);

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

/* A listener a reload adds, bound but not started (the own ports first); NULL if it failed. */
static struct listener *
server_add_listener(struct server *s, const struct listener_conf *lc)
{
	struct listener *l;
	char err[ERRLEN];

	if ((l = listener_new(lc, s->workers, s->nworkers, s->activation, err, sizeof err)) ==
	    NULL) {
		log_error("reload: %s; not added", err); /* err names the listener */
		return NULL;
	}
	TAILQ_INSERT_TAIL(&s->listeners, l, entry);
	return l;
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
		    ((m = metrics_new(&nc->metrics_addr, nc->metrics_max_connections,
			  server_snapshot, s, err, sizeof err)) != NULL &&
			metrics_start(m, s->base, err, sizeof err) == 0)) {
			if (s->metrics != NULL)
				s->metrics_rejected += metrics_rejected(s->metrics);
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
		cmd->settings.accept_wait_warn = nc->accept_wait_warn;
		worker_post(s->workers[i], cmd);
	}
	/* max_clients: pause or resume accepting under the new limit */
	limits_set_max(s->limits, nc->max_clients);
}

/*
 * A listener that a reload changed beyond what it takes in place (its
 * service or its transport; for UDP also its address or max_datagram).
 * Its successor is had first, then it retires, and the successor starts
 * once the retirements are posted (on `fresh`): if the successor cannot
 * be had, the old listener stays as it was, and the log says why.  A UDP
 * one at the same address runs on the very same sockets
 * (listener_successor).  A TCP one opens sockets of its own, which on the
 * same port takes SO_REUSEPORT on both (reuseport = yes, or more than one
 * worker); without it the bind fails while the old socket is open.  A
 * unix socket's path is the old one's until it goes: that one retires
 * first, and the new one opens with the listeners added.
 */
static void
server_replace_listener(
    struct server *s, struct listener *l, const struct listener_conf *lc, struct listeners *fresh)
{
	struct listener *n;
	char err[ERRLEN];

	if (l->conf->addr.ss.ss_family == AF_UNIX || lc->addr.ss.ss_family == AF_UNIX) {
		listener_retire(l, "service changed by reload");
		return;
	}
	if (l->conf->transport == TRANSPORT_UDP && lc->transport == TRANSPORT_UDP)
		n = listener_successor(l, lc, s->workers, s->nworkers, err, sizeof err);
	else
		n = listener_new(lc, s->workers, s->nworkers, s->activation, err, sizeof err);
	if (n == NULL) {
		log_error("reload: %s; still listening on %s as before", err, l->addrstr);
		return;
	}
	listener_retire(l,
	    l->conf->transport == TRANSPORT_UDP && lc->transport == TRANSPORT_UDP &&
		    listener_at(l, &lc->addr)
		? "changed by reload (its sockets go to the new configuration)"
		: "changed by reload");
	TAILQ_INSERT_TAIL(fresh, n, entry);
}

/*
 * SIGHUP: read the file again.  An invalid file changes nothing.
 * Otherwise listeners are matched by name: removed ones close, changed
 * ones are reconfigured (a listener whose new sockets cannot be had keeps
 * the old ones), new ones open.  Established clients are not touched.
 * "reload: done" comes once every worker has taken it (server_sync).
 */
static void
server_reload(struct server *s)
{
	struct config *old = s->conf, *nc;
	struct listener *l, *next, **added;
	struct listeners fresh;
	struct listener_conf *lc;
	size_t nadded = 0;
	char err[ERRLEN];

	if ((nc = config_load(old->path, err, sizeof err)) == NULL) {
		log_error("reload: %s; the running configuration stays", err);
		s->reloads_failed++;
		return;
	}
	log_info("reload: %s", old->path);
	server_fit_descriptors(nc);
	TAILQ_INIT(&fresh);
	for (l = TAILQ_FIRST(&s->listeners); l != NULL; l = next) {
		next = TAILQ_NEXT(l, entry);
		if (l->retired)
			continue;
		if ((lc = config_find_listener(nc, l->conf->name)) == NULL)
			listener_retire(l, "removed by reload");
		else if (listener_reconfigure(l, lc) == 1)
			server_replace_listener(s, l, lc, &fresh);
	}
	/*
	 * The successors and the new listeners start once the workers know
	 * the new set of UDP ports, and after the retirements are posted
	 * (the same sockets change hands).  Each is one of nc's listeners.
	 */
	TAILQ_FOREACH(lc, &nc->listeners, entry)
		nadded++;
	added = calloc(nadded > 0 ? nadded : 1, sizeof *added);
	nadded = 0;
	while ((l = TAILQ_FIRST(&fresh)) != NULL) {
		TAILQ_REMOVE(&fresh, l, entry);
		TAILQ_INSERT_TAIL(&s->listeners, l, entry);
		if (added != NULL)
			added[nadded++] = l;
		else
			listener_start(l); /* no memory to defer it: started at once */
	}
	TAILQ_FOREACH(lc, &nc->listeners, entry)
		if (server_find_listener(s, lc->name) == NULL &&
		    (l = server_add_listener(s, lc)) != NULL) {
			if (added != NULL)
				added[nadded++] = l;
			else
				listener_start(l);
		}
	server_post_own_ports(s);
	for (size_t i = 0; i < nadded; i++)
		listener_start(added[i]);
	free(added);
	server_warn_untrusted(nc);
	server_warn_fastopen(nc);
	s->conf = nc;
	server_reload_settings(s, old, nc);
	config_free(old);
	s->reloads_ok++;
	server_sync(s);
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
			    strsignal((int)sig), limits_clients(s->limits));
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
			server_acceptor_done(s, m->acceptor);
	for (int w = 0; s->workers != NULL && w < s->nworkers; w++)
		worker_free(s->workers[w], server_acceptor_done, s);
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
	free(s->synced);
	free(s->own_ports);
	limits_free(s->limits);
	config_free(s->conf);
	free(s);
}

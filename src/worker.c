/* SPDX-License-Identifier: ISC */
/*
 * worker.c: one event loop on its own thread, with its acceptors and
 * their clients.
 *
 * Nothing of libevent's is shared between threads: each worker's
 * event_base, evconnlisteners, bufferevents and timers are touched by its
 * own thread only.  The main thread (and another worker, to pause or
 * resume accepting) talk to a worker by posting a struct worker_cmd to
 * its mailbox; the worker carries it out on its loop and frees it.  The
 * worker answers through the reply mailbox it was handed when made (the
 * main thread's).  Signals are blocked on worker threads: only the main
 * loop handles them.
 */
#include "config.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "conf.h"
#include "datagram.h"
#include "log.h"
#include "stats.h"
#include "synackd.h"

static void worker_run_cmd(void *, void *);
static void worker_sweep_cb(evutil_socket_t, short, void *);
static void worker_sweep_arm(struct worker *);

/*
 * The structure and its mailbox, which can take commands from now on:
 * the loop and the thread come in worker_start().
 */
struct worker *
worker_new(int id, const struct worker_settings *settings, struct limits *limits,
    struct mailbox *reply, char *err, size_t errlen)
{
	char why[ERRLEN];
	struct worker *w;

	if ((w = calloc(1, sizeof *w)) == NULL) {
		snprintf(err, errlen, "worker %d: out of memory", id);
		return NULL;
	}
	if ((w->dgram = datagram_area_new()) == NULL) {
		snprintf(err, errlen, "worker %d: out of memory", id);
		free(w);
		return NULL;
	}
	if ((w->cmds = mailbox_new(worker_run_cmd, w, why, sizeof why)) == NULL) {
		snprintf(err, errlen, "worker %d: %s", id, why);
		datagram_area_free(w->dgram);
		free(w);
		return NULL;
	}
	w->limits = limits;
	w->id = id;
	w->reply = reply;
	w->sync_msg = (struct server_msg){ .type = SERVER_WORKER_SYNCED, .worker = w };
	TAILQ_INIT(&w->acceptors);
	TAILQ_INIT(&w->idle);
	w->settings = *settings;
	return w;
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	if (event_base_dispatch(w->base) == -1)
		log_error("worker %d: event_base_dispatch failed", w->id);
	return NULL;
}

/*
 * Create the loop and its mailbox, and start the thread with every
 * signal blocked: they are the main loop's.  After detaching: a loop
 * must not cross a fork().
 */
int
worker_start(struct worker *w, char *err, size_t errlen)
{
	char why[ERRLEN];
	sigset_t all, old;
	int e;

	/* allocated once: no read allocates anything */
	if ((w->scratch = malloc(CLIENT_READ_MAX)) == NULL) {
		snprintf(err, errlen, "worker %d: out of memory for its read space", w->id);
		return -1;
	}
	if ((w->base = event_base_new()) == NULL) {
		snprintf(
		    err, errlen, "worker %d: event_base_new: cannot create the event loop", w->id);
		return -1;
	}
	if (mailbox_start(w->cmds, w->base, why, sizeof why) == -1) {
		snprintf(err, errlen, "worker %d: %s", w->id, why);
		return -1;
	}
	if ((w->sweep = event_new(w->base, -1, EV_PERSIST, worker_sweep_cb, w)) == NULL) {
		snprintf(err, errlen, "worker %d: cannot create its idle timer", w->id);
		return -1;
	}
	worker_sweep_arm(w);
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	e = pthread_create(&w->thread, NULL, worker_main, w);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (e != 0) {
		snprintf(err, errlen, "worker %d: pthread_create: %s", w->id, strerror(e));
		return -1;
	}
	w->running = 1;
	return 0;
}

/* Hand a command to the worker; from any thread.  The worker frees it. */
void
worker_post(struct worker *w, struct worker_cmd *cmd)
{
	if (mailbox_post(w->cmds, cmd) == -1) {
		/* only a broken pipe gets here: the worker is gone */
		log_error("worker %d: cannot post a command: %s", w->id, strerror(errno));
		free(cmd->conf);
		free(cmd->ports);
		free(cmd);
	}
}

int
worker_post_type(struct worker *w, enum worker_cmd_type type)
{
	struct worker_cmd *cmd = calloc(1, sizeof *cmd);

	if (cmd == NULL) {
		log_error("worker %d: out of memory for a command", w->id);
		return -1;
	}
	cmd->type = type;
	cmd->fd = -1;
	worker_post(w, cmd);
	return 0;
}

/*
 * The ports of synackd's UDP listeners (sorted): the worker's datagram
 * sockets answer none of them.  The worker gets a copy of its own.
 */
void
worker_post_ports(struct worker *w, const uint16_t *ports, size_t n)
{
	struct worker_cmd *cmd = calloc(1, sizeof *cmd);

	if (cmd == NULL || (n > 0 && (cmd->ports = malloc(n * sizeof *ports)) == NULL)) {
		log_error("worker %d: out of memory for the own ports", w->id);
		free(cmd);
		return;
	}
	if (n > 0)
		memcpy(cmd->ports, ports, n * sizeof *ports);
	cmd->type = WORKER_OWN_PORTS;
	cmd->fd = -1;
	cmd->nports = n;
	worker_post(w, cmd);
}

/* Ask the worker to look at max_clients again; one request in flight is enough. */
void
worker_refresh(struct worker *w)
{
	if (__atomic_exchange_n(&w->refresh_posted, 1, __ATOMIC_ACQ_REL) == 0)
		worker_post_type(w, WORKER_REFRESH);
}

/*
 * Its acceptors' clients: an acceptor leaves the list only once it has
 * none.  Asked only while stopping, never per client.
 */
static int
worker_has_clients(const struct worker *w)
{
	const struct acceptor *a;

	TAILQ_FOREACH(a, &w->acceptors, entry)
		if (a->active > 0)
			return 1;
	return 0;
}

/*
 * A stopping worker without clients, and whose listening sockets are all
 * closed, is done: tell the main thread, end the loop.  Told by an
 * acceptor when one of its clients is gone.
 */
void
worker_check_done(struct worker *w)
{
	if (!w->stopping || w->done || worker_has_clients(w) || w->closing > 0)
		return;
	w->done = 1;
	w->done_msg = (struct server_msg){ .type = SERVER_WORKER_DONE, .worker = w };
	if (mailbox_post(w->reply, &w->done_msg) == -1)
		log_error(
		    "worker %d: cannot report to the main thread: %s", w->id, strerror(errno));
	event_base_loopbreak(w->base);
}

/* Graceful shutdown: stop accepting, let each client finish. */
static void
worker_stop(struct worker *w)
{
	struct acceptor *a, *next;
	struct client *c, *cnext;

	w->stopping = 1;
	for (a = TAILQ_FIRST(&w->acceptors); a != NULL; a = next) {
		next = TAILQ_NEXT(a, entry);
		acceptor_close(a);
		for (c = TAILQ_FIRST(&a->clients); c != NULL; c = cnext) {
			cnext = TAILQ_NEXT(c, entry);
			client_shutdown(c);
		}
	}
	worker_check_done(w);
}

/* shutdown_timeout: whatever is still open is dropped, and the loop ends. */
static void
worker_abort(struct worker *w)
{
	struct acceptor *a;
	struct client *c;

	w->stopping = 1;
	TAILQ_FOREACH(a, &w->acceptors, entry) {
		acceptor_close_now(a);
		while ((c = TAILQ_FIRST(&a->clients)) != NULL)
			client_free(c);
	}
	worker_check_done(w);
}

/*
 * idle_timeout.  Every open client is on the worker's idle list, the one
 * read from longest ago first: a read stamps it with the worker's clock
 * and moves it to the end (a few instructions, where re-arming a timer
 * per client per read costs hundreds, and a timer per client costs a
 * hundred and fifty bytes).  Every WORKER_SWEEP_MS the sweep ticks the
 * worker's clock and, with idle_timeout set, closes, from
 * the head, the clients idle for idle_timeout: no byte read, and no
 * output written since their last read (writes complete without a
 * callback, so progress found here counts as activity now).
 */
static void
worker_sweep_idle(struct worker *w)
{
	uint32_t limit = (uint32_t)w->settings.idle_timeout * (1000 / WORKER_SWEEP_MS);
	uint64_t out;
	struct client *c;

	if (limit == 0)
		return; /* the clock still runs: a reload may set idle_timeout */
	while ((c = TAILQ_FIRST(&w->idle)) != NULL && w->now - c->last_tick >= limit) {
		out = c->bytes_queued - client_pending(c);
		if (out != c->idle_mark) {
			c->idle_mark = out;
			client_idle_touch(c);
			continue;
		}
		client_close(c, CLOSE_IDLE); /* takes it off the list */
	}
}

/*
 * proxy_timeout, a deadline from accept whatever arrives: each acceptor
 * keeps its clients in the header stage in the order they came, stamped
 * with the clock at accept, so the sweep closes from the head those whose
 * time is up.  "More than" the limit: the stamp is a tick started up to
 * WORKER_SWEEP_MS before the accept, so no header is cut short, and none
 * waits more than two ticks beyond its deadline.
 */
static void
worker_sweep_headers(struct worker *w)
{
	struct acceptor *a;
	struct client *c;
	uint32_t limit;

	TAILQ_FOREACH(a, &w->acceptors, entry) {
		limit = (uint32_t)a->conf->proxy_timeout * (1000 / WORKER_SWEEP_MS);
		while ((c = TAILQ_FIRST(&a->headers)) != NULL && w->now - c->last_tick > limit)
			client_close(c, CLOSE_PROXY_TIMEOUT); /* takes it off the list */
	}
}

static void
worker_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	w->now = idle_clock();
	worker_sweep_idle(w);
	worker_sweep_headers(w);
}

static void
worker_sweep_arm(struct worker *w)
{
	struct timeval tv = { 0, WORKER_SWEEP_MS * 1000 };

	w->now = idle_clock();
	event_add(w->sweep, &tv);
}

static void
worker_settings(struct worker *w, const struct worker_settings *ws)
{
	/* a new idle_timeout counts from each client's last activity */
	w->settings = *ws;
	worker_sweep_arm(w);
}

/* A command from the mailbox, on the worker's thread. */
static void
worker_run_cmd(void *msg, void *arg)
{
	struct worker_cmd *cmd = msg;
	struct worker *w = arg;
	struct acceptor *a = cmd->acceptor;

	switch (cmd->type) {
	case WORKER_ADD:
		TAILQ_INSERT_TAIL(&w->acceptors, a, entry);
		if (acceptor_start(a) == -1)
			acceptor_retire(a);
		break;
	case WORKER_REPLACE:
		acceptor_replace(a, cmd->fd, &cmd->addr, cmd->conf);
		cmd->conf = NULL;
		break;
	case WORKER_RECONFIGURE:
		acceptor_reconfigure(a, cmd->conf);
		cmd->conf = NULL;
		break;
	case WORKER_RETIRE:
		acceptor_retire(a);
		break;
	case WORKER_SETTINGS:
		worker_settings(w, &cmd->settings);
		break;
	case WORKER_REFRESH:
		__atomic_store_n(&w->refresh_posted, 0, __ATOMIC_RELEASE);
		TAILQ_FOREACH(a, &w->acceptors, entry)
			acceptor_refresh(a);
		break;
	case WORKER_STOP:
		worker_stop(w);
		break;
	case WORKER_ABORT:
		worker_abort(w);
		break;
	case WORKER_OWN_PORTS:
		datagram_area_set_ports(w->dgram, cmd->ports, cmd->nports);
		cmd->ports = NULL;
		break;
	case WORKER_SYNC:
		if (mailbox_post(w->reply, &w->sync_msg) == -1)
			log_error("worker %d: cannot report to the main thread: %s", w->id,
			    strerror(errno));
		break;
	}
	free(cmd->conf);
	free(cmd->ports);
	free(cmd);
}

void
worker_join(struct worker *w)
{
	if (!w->running)
		return;
	pthread_join(w->thread, NULL);
	w->running = 0;
}

/*
 * After the thread is gone: its own things are freed here, and each
 * acceptor it still had (or was about to be given) goes back to its
 * owner through done(arg, a), while the worker still exists: freeing an
 * acceptor frees its clients, which tell the worker.
 */
void
worker_free(struct worker *w, worker_acceptor_fn *done, void *arg)
{
	struct worker_cmd *cmd;
	struct acceptor *a;

	if (w == NULL)
		return;
	worker_join(w);
	/* commands posted after the loop ended */
	while ((cmd = mailbox_take(w->cmds)) != NULL) {
		if (cmd->type == WORKER_ADD)
			TAILQ_INSERT_TAIL(&w->acceptors, cmd->acceptor, entry);
		else if (cmd->type == WORKER_REPLACE && cmd->fd != -1)
			close(cmd->fd);
		free(cmd->conf);
		free(cmd->ports);
		free(cmd);
	}
	/* nothing is reported any more: the main thread is tearing down */
	w->stopping = w->done = 1;
	while ((a = TAILQ_FIRST(&w->acceptors)) != NULL) {
		TAILQ_REMOVE(&w->acceptors, a, entry);
		done(arg, a);
	}
	mailbox_free(w->cmds);
	if (w->sweep != NULL)
		event_free(w->sweep);
	if (w->base != NULL)
		event_base_free(w->base);
	free(w->scratch);
	datagram_area_free(w->dgram); /* after its acceptors: their sockets' buckets are in it */
	free(w);
}

/*
 * worker.c: one thread, one event_base, a share of the connections.
 *
 * The worker opens its connections (all at once, or at its share of
 * --rate), lets the mode drive them, and when the main thread says stop it
 * closes them, or, for a mode with a last exchange (hold), waits for that
 * until the deadline.  Nothing here is shared with other workers except
 * through the run's atomics and worker_kick(); the main thread only reads
 * the counters and activates stop_ev.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define RESTART_PAUSE_US 1000 /* after a failed connect, before the next (crr) */

static void
worker_done(struct worker *w)
{
	event_base_loopbreak(w->base);
}

static void
worker_check_idle(struct worker *w)
{
	if (w->stopping || w->idle_reported || w->opened < w->nconns || w->live > 0)
		return;
	w->idle_reported = 1;
	__atomic_add_fetch(&w->run->workers_idle, 1, __ATOMIC_SEQ_CST);
	run_notify(w->run);
}

/*
 * Open the connections that are due: all of them without --rate, else as
 * many as the rate allows by now; then wake up when the next one is due.
 */
static void
worker_ramp(struct worker *w)
{
	uint64_t due = w->nconns, elapsed, next;
	struct timeval tv;

	if (w->stopping)
		return;
	if (w->rate > 0) {
		elapsed = now_ns() - w->t_ramp;
		due = (uint64_t)((double)elapsed / 1e9 * w->rate) + 1;
		if (due > w->nconns)
			due = w->nconns;
	}
	while (w->opened < due && !w->stopping)
		conn_start(w->conns[w->opened++]);
	if (w->opened < w->nconns && !w->stopping) {
		next = (uint64_t)ceil((double)w->opened / w->rate * 1e9);
		elapsed = now_ns() - w->t_ramp;
		next = next > elapsed ? next - elapsed : 0;
		tv.tv_sec = (time_t)(next / 1000000000u);
		tv.tv_usec = (suseconds_t)(next % 1000000000u / 1000u);
		evtimer_add(w->ramp_ev, &tv);
		return;
	}
	worker_check_idle(w);
}

static void
worker_ramp_cb(evutil_socket_t fd, short what, void *arg)
{
	worker_ramp(arg);
}

/* The deadline of the last exchange: whoever did not answer, did not. */
static void
worker_final_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	for (unsigned i = 0; i < w->nconns && w->finishing > 0; i++)
		if (w->conns[i]->finishing)
			conn_fail(w->conns[i], LERR_NOREPLY, 0);
	worker_done(w);
}

static void
worker_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;
	const struct mode *m = w->run->opt.mode;
	int force = __atomic_load_n(&w->run->force, __ATOMIC_SEQ_CST);
	struct timeval tv;

	if (w->stopping) {
		/* a second interrupt: do not wait for the last exchange */
		if (force) {
			for (unsigned i = 0; i < w->nconns; i++)
				conn_close(w->conns[i]);
			worker_done(w);
		}
		return;
	}
	w->stopping = 1;
	event_del(w->ramp_ev);
	event_del(w->kick_ev);
	event_del(w->tick_ev);
	stats_interval_post(&w->stats); /* the last, partial second */
	for (unsigned i = 0; i < w->nconns; i++) {
		struct conn *c = w->conns[i];

		event_del(c->restart);
		if (c->state == CONN_IDLE)
			continue;
		if (!force && c->state == CONN_OPEN && m->finish != NULL && m->finish(c)) {
			c->finishing = 1;
			w->finishing++;
		} else
			conn_close(c);
	}
	if (w->finishing == 0) {
		worker_done(w);
		return;
	}
	tv.tv_sec = w->run->opt.connect_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(w->run->opt.connect_timeout_ms % 1000 * 1000);
	evtimer_add(w->final_ev, &tv);
}

static void
worker_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	if (!w->stopping && w->run->opt.mode->kick != NULL)
		w->run->opt.mode->kick(w);
}

static void
worker_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	stats_interval_post(&w->stats);
}

static void
worker_warmup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct worker *w = arg;

	stats_reset_measures(&w->stats);
	event_add(w->tick_ev, &(const struct timeval){ 1, 0 }); /* seconds from now on */
}

/* From the main thread: forget what was measured so far. */
void
worker_warmup_over(struct worker *w)
{
	event_active(w->warmup_ev, EV_READ, 0);
}

/* From any thread: run the mode's kick() on this worker's loop. */
void
worker_kick(struct worker *w)
{
	event_active(w->kick_ev, EV_READ, 0);
}

/* Called by conn_close() for every conn that ends. */
void
worker_conn_closed(struct worker *w, struct conn *c)
{
	static const struct timeval pause = { 0, RESTART_PAUSE_US };

	if (c->finishing) {
		c->finishing = 0;
		if (--w->finishing == 0 && w->stopping)
			worker_done(w);
		return;
	}
	if (w->stopping)
		return;
	if (w->run->opt.mode->reconnect) {
		if (c->failed)
			evtimer_add(c->restart, &pause);
		else
			event_active(c->restart, EV_TIMEOUT, 1);
		return;
	}
	w->live--;
	worker_check_idle(w);
}

int
worker_init(struct worker *w, struct run *r, int index, unsigned nconns, char *err, size_t errlen)
{
	struct timeval tv;

	w->run = r;
	w->index = index;
	stats_init(&w->stats);
	if ((w->base = event_base_new()) == NULL ||
	    (w->stop_ev = event_new(w->base, -1, 0, worker_stop_cb, w)) == NULL ||
	    (w->ramp_ev = evtimer_new(w->base, worker_ramp_cb, w)) == NULL ||
	    (w->final_ev = evtimer_new(w->base, worker_final_cb, w)) == NULL ||
	    (w->kick_ev = event_new(w->base, -1, 0, worker_kick_cb, w)) == NULL ||
	    (w->tick_ev = event_new(w->base, -1, EV_PERSIST, worker_tick_cb, w)) == NULL ||
	    (w->warmup_ev = event_new(w->base, -1, 0, worker_warmup_cb, w)) == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		return -1;
	}
	tv.tv_sec = r->opt.connect_timeout_ms / 1000;
	tv.tv_usec = (suseconds_t)(r->opt.connect_timeout_ms % 1000 * 1000);
	w->connect_tv = event_base_init_common_timeout(w->base, &tv);
	if (w->connect_tv == NULL)
		w->connect_tv = &r->connect_tv;
	if (nconns > 0 && (w->conns = calloc(nconns, sizeof *w->conns)) == NULL) {
		snprintf(err, errlen, "no memory for %u connections", nconns);
		return -1;
	}
	for (unsigned i = 0; i < nconns; i++) {
		/* conn ids interleave across workers: 0, T, 2T... on worker 0 */
		w->conns[i] = conn_new(w, (unsigned)index + i * (unsigned)r->nworkers);
		if (w->conns[i] == NULL) {
			snprintf(err, errlen, "no memory for %u connections", nconns);
			return -1;
		}
		w->nconns++;
	}
	w->live = nconns;
	w->rate = r->opt.ramp_rate * nconns / r->opt.connections;
	return 0;
}

static void *
worker_main(void *arg)
{
	static const struct timeval second = { 1, 0 };
	struct worker *w = arg;

	event_add(w->tick_ev, &second);
	w->t_ramp = now_ns();
	worker_ramp(w);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	__atomic_add_fetch(&w->run->workers_done, 1, __ATOMIC_SEQ_CST);
	run_notify(w->run);
	return NULL;
}

int
worker_start(struct worker *w, char *err, size_t errlen)
{
	int rc = pthread_create(&w->thread, NULL, worker_main, w);

	if (rc != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		return -1;
	}
	w->started = 1;
	return 0;
}

/* From the main thread: the run is over (or, a second time, forced). */
void
worker_stop(struct worker *w)
{
	event_active(w->stop_ev, EV_READ, 0);
}

void
worker_free(struct worker *w)
{
	for (unsigned i = 0; i < w->nconns; i++)
		conn_free(w->conns[i]);
	free(w->conns);
	if (w->stop_ev != NULL)
		event_free(w->stop_ev);
	if (w->ramp_ev != NULL)
		event_free(w->ramp_ev);
	if (w->final_ev != NULL)
		event_free(w->final_ev);
	if (w->kick_ev != NULL)
		event_free(w->kick_ev);
	if (w->tick_ev != NULL)
		event_free(w->tick_ev);
	if (w->warmup_ev != NULL)
		event_free(w->warmup_ev);
	stats_destroy(&w->stats);
	if (w->base != NULL)
		event_base_free(w->base);
}

/* SPDX-License-Identifier: ISC */
/*
 * loader.c: one thread, one event_base, a share of the connections.
 *
 * The loader opens its connections (all at once, at its share of
 * --ramp-rate, or each at its slot's time with --connect-rate), lets the
 * mode drive them, and when the main thread says stop it closes them, or,
 * for a mode with a last exchange (hold's echo, udp-rr's datagrams in
 * flight), waits for that until the deadline.  Nothing here is shared
 * with other loaders except through the run's atomics and loader_kick();
 * the main thread only reads the counters and activates stop_ev.
 *
 * --connect-rate is a schedule (schedule.h) over the conns of the whole
 * run, one slot each: slot i's k-th connection is due at (i + k*C)/N s, so
 * N connections a second are attempted in all, whichever loader has the
 * slot.  A crr conn that ends waits for its slot's next time on its
 * restart timer (one timer per conn, nothing done per tick); behind its
 * schedule (the server is slower than the rate), it reconnects at once.
 *
 * --request-timeout is checked by a sweep over the loader's conns every
 * 100 ms rather than by a timer per request: a conn whose oldest request
 * in flight was sent (rr --rate: due) longer ago than that fails with
 * "noreply".  hold's last echo has the same deadline, on final_ev.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define RESTART_PAUSE_US 1000 /* after a failed connect, before the next (crr) */
#define SWEEP_MS 100          /* --request-timeout is checked this often */
#define RAMP_BATCH 64         /* connect() calls in a row, then the loop has a turn */

static void
loader_done(struct loader *w)
{
	event_base_loopbreak(w->base);
}

static void
loader_check_idle(struct loader *w)
{
	if (w->stopping || w->idle_reported || w->opened < w->nconns || w->live > 0)
		return;
	w->idle_reported = 1;
	__atomic_add_fetch(&w->run->loaders_idle, 1, __ATOMIC_SEQ_CST);
	run_notify(w->run);
}

/*
 * Open the connections that are due: all of them without --rate, else as
 * many as the rate allows by now; then wake up when the next one is due.
 * At most RAMP_BATCH at a time: a loader that fell behind (a slow machine,
 * a hundred processes on two CPUs) would otherwise make thousands of
 * connect() calls in a row while the handshakes it started wait for it,
 * counting its own backlog as connect latency, and past --connect-timeout
 * as timeouts of connections the kernel had long established.  The rest
 * follows once the loop has looked at the sockets (a timer of 0 runs after
 * the next poll).
 */
static void
loader_ramp(struct loader *w)
{
	uint64_t due = w->nconns, elapsed, next;
	struct timeval tv;
	int batched = 0;

	if (w->stopping)
		return;
	if (w->rate > 0) {
		elapsed = clock_ns() - w->t_ramp;
		due = (uint64_t)((double)elapsed / 1e9 * w->rate) + 1;
		if (due > w->nconns)
			due = w->nconns;
	}
	if (due > (uint64_t)w->opened + RAMP_BATCH) {
		due = (uint64_t)w->opened + RAMP_BATCH;
		batched = 1;
	}
	while (w->opened < due && !w->stopping) {
		struct conn *c = w->conns[w->opened++];

		/* with --connect-rate, the slot's schedule starts here: what passed is not owed */
		if (w->run->opt.connect_rate > 0) {
			c->k_conn = sched_due(&w->connects, c->id, clock_ns() - w->run->t_load);
			if (c->k_conn == 0)
				c->k_conn = 1; /* early: this one stands for the first */
		}
		conn_start(c);
	}
	if (batched && !w->stopping) {
		tv.tv_sec = 0;
		tv.tv_usec = 0;
		evtimer_add(w->ramp_ev, &tv);
		return;
	}
	if (w->opened < w->nconns && !w->stopping) {
		next = (uint64_t)ceil((double)w->opened / w->rate * 1e9);
		elapsed = clock_ns() - w->t_ramp;
		next = next > elapsed ? next - elapsed : 0;
		tv.tv_sec = (time_t)(next / 1000000000u);
		tv.tv_usec = (suseconds_t)(next % 1000000000u / 1000u);
		evtimer_add(w->ramp_ev, &tv);
		return;
	}
	loader_check_idle(w);
}

static void
loader_ramp_cb(evutil_socket_t fd, short what, void *arg)
{
	loader_ramp(arg);
}

/*
 * --connect-rate: (re)connect c at its slot's next time, or at once if
 * that has passed; after a failure not before the usual pause.
 */
static void
loader_connect_next(struct loader *w, struct conn *c, int failed)
{
	uint64_t now = clock_ns(), at, d;
	struct timeval tv;

	at = w->run->t_load + sched_time(&w->connects, c->id, c->k_conn++);
	if (failed && at < now + RESTART_PAUSE_US * 1000u)
		at = now + RESTART_PAUSE_US * 1000u;
	if (at <= now) {
		event_active(c->restart, EV_TIMEOUT, 1);
		return;
	}
	d = (at - now + 999) / 1000; /* us, rounded up */
	tv.tv_sec = (time_t)(d / 1000000u);
	tv.tv_usec = (suseconds_t)(d % 1000000u);
	evtimer_add(c->restart, &tv);
}

/* Every conn waits for its slot's first time. */
static void
loader_connect_all(struct loader *w)
{
	for (unsigned i = 0; i < w->nconns; i++)
		loader_connect_next(w, w->conns[i], 0);
	w->opened = w->nconns;
}

/* Requests in flight for longer than --request-timeout: no reply. */
static void
loader_sweep_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loader *w = arg;
	uint64_t now = clock_ns(), limit = (uint64_t)w->run->opt.request_timeout_ms * 1000000u;

	for (unsigned i = 0; i < w->nconns; i++) {
		struct conn *c = w->conns[i];

		if (c->state == CONN_OPEN && c->t_send != 0 && now - c->t_send > limit)
			conn_fail(c, LERR_NOREPLY, 0);
	}
}

/* The deadline of the last exchange: whoever did not answer, did not. */
static void
loader_final_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loader *w = arg;

	for (unsigned i = 0; i < w->nconns && w->finishing > 0; i++)
		if (w->conns[i]->finishing)
			conn_fail(w->conns[i], LERR_NOREPLY, 0);
	loader_done(w);
}

static void
loader_stop_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loader *w = arg;
	const struct mode *m = w->mode;
	long deadline_ms = w->run->opt.request_timeout_ms;
	int force = __atomic_load_n(&w->run->force, __ATOMIC_SEQ_CST);
	struct timeval tv;

	if (w->stopping) {
		/* a second interrupt: do not wait for the last exchange */
		if (force) {
			for (unsigned i = 0; i < w->nconns; i++)
				conn_close(w->conns[i]);
			loader_done(w);
		}
		return;
	}
	w->stopping = 1;
	event_del(w->ramp_ev);
	event_del(w->kick_ev);
	event_del(w->tick_ev);
	event_del(w->sweep_ev);
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
		loader_done(w);
		return;
	}
	/*
	 * The last echo is a request: --request-timeout, or if none the
	 * connect timeout.  Datagrams in flight end at their own deadlines
	 * (the mode's timer): this only stops a loop that is very late.
	 */
	if (deadline_ms == 0)
		deadline_ms =
		    m->dgram ? (long)UDP_RR_DEFAULT_TIMEOUT_MS : w->run->opt.connect_timeout_ms;
	if (m->dgram)
		deadline_ms += SWEEP_MS;
	tv.tv_sec = deadline_ms / 1000;
	tv.tv_usec = (suseconds_t)(deadline_ms % 1000 * 1000);
	evtimer_add(w->final_ev, &tv);
}

static void
loader_kick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loader *w = arg;

	if (!w->stopping && w->mode->kick != NULL)
		w->mode->kick(w);
}

static void
loader_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loader *w = arg;

	stats_interval_post(&w->stats);
}

static void
loader_warmup_cb(evutil_socket_t fd, short what, void *arg)
{
	struct loader *w = arg;

	stats_reset_measures(&w->stats);
	event_add(w->tick_ev, &(const struct timeval){ 1, 0 }); /* seconds from now on */
}

/* From the main thread: forget what was measured so far. */
void
loader_warmup_over(struct loader *w)
{
	event_active(w->warmup_ev, EV_READ, 0);
}

/* From any thread: run the mode's kick() on this loader's loop. */
void
loader_kick(struct loader *w)
{
	event_active(w->kick_ev, EV_READ, 0);
}

/* Called by conn_close() for every conn that ends. */
void
loader_conn_closed(struct loader *w, struct conn *c)
{
	static const struct timeval pause = { 0, RESTART_PAUSE_US };

	if (c->finishing) {
		c->finishing = 0;
		if (--w->finishing == 0 && w->stopping)
			loader_done(w);
		return;
	}
	if (w->stopping)
		return;
	if (w->mode->reconnect) {
		if (w->run->opt.connect_rate > 0)
			loader_connect_next(w, c, c->failed);
		else if (c->failed)
			evtimer_add(c->restart, &pause);
		else
			event_active(c->restart, EV_TIMEOUT, 1);
		return;
	}
	w->live--;
	loader_check_idle(w);
}

int
loader_init(struct loader *w, struct run *r, int index, unsigned nconns, char *err, size_t errlen)
{
	struct event_config *cfg;
	struct timeval tv;

	w->run = r;
	w->index = index;
	w->mode = r->opt.mode;
	if (r->opt.mode == &mode_rr && r->opt.rate > 0)
		w->mode = &mode_rr_paced;
	if (r->opt.mode == &mode_udp_rr && r->opt.rate > 0)
		w->mode = &mode_udp_rr_paced;
	stats_init(&w->stats);
	if ((r->opt.rate > 0 && sched_init(&w->requests, r->opt.rate, r->opt.connections) == -1) ||
	    (r->opt.connect_rate > 0 &&
		sched_init(&w->connects, r->opt.connect_rate, r->opt.connections) == -1)) {
		snprintf(
		    err, errlen, "a rate must be above 0 and at most %g a second", SCHED_RATE_MAX);
		return -1;
	}
	/*
	 * A schedule needs timers to the microsecond: libevent's default clock
	 * on Linux is the coarse one (a few ms) and epoll_wait() counts in ms;
	 * PRECISE_TIMER has a timerfd instead, one more syscall per loop.  And
	 * a timeout counts from the time the loop cached when it woke up, late
	 * by every callback run since: NO_CACHE_TIME reads the clock (vDSO, no
	 * syscall) instead.  Only paced runs pay for either.
	 */
	if ((cfg = event_config_new()) == NULL) {
		snprintf(err, errlen, "cannot create an event loop");
		return -1;
	}
	if (r->opt.rate > 0 || r->opt.connect_rate > 0) {
		event_config_set_flag(cfg, EVENT_BASE_FLAG_PRECISE_TIMER);
		event_config_set_flag(cfg, EVENT_BASE_FLAG_NO_CACHE_TIME);
	}
	w->base = event_base_new_with_config(cfg);
	event_config_free(cfg);
	if (w->base == NULL ||
	    (w->stop_ev = event_new(w->base, -1, 0, loader_stop_cb, w)) == NULL ||
	    (w->ramp_ev = evtimer_new(w->base, loader_ramp_cb, w)) == NULL ||
	    (w->final_ev = evtimer_new(w->base, loader_final_cb, w)) == NULL ||
	    (w->kick_ev = event_new(w->base, -1, 0, loader_kick_cb, w)) == NULL ||
	    (w->tick_ev = event_new(w->base, -1, EV_PERSIST, loader_tick_cb, w)) == NULL ||
	    (w->warmup_ev = event_new(w->base, -1, 0, loader_warmup_cb, w)) == NULL ||
	    (w->sweep_ev = event_new(w->base, -1, EV_PERSIST, loader_sweep_cb, w)) == NULL) {
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
		/* conn ids interleave across loaders: 0, T, 2T... on loader 0 */
		w->conns[i] = conn_new(w, (unsigned)index + i * (unsigned)r->nloaders);
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
loader_main(void *arg)
{
	static const struct timeval second = { 1, 0 };
	struct loader *w = arg;
	long sweep_ms = w->run->opt.request_timeout_ms;
	struct timeval tv;

	event_add(w->tick_ev, &second);
	if (sweep_ms > 0 && w->mode->timed) {
		if (sweep_ms > SWEEP_MS)
			sweep_ms = SWEEP_MS;
		tv.tv_sec = 0;
		tv.tv_usec = (suseconds_t)(sweep_ms * 1000);
		event_add(w->sweep_ev, &tv);
	}
	w->t_ramp = clock_ns();
	if (w->run->opt.connect_rate > 0 && w->rate == 0)
		loader_connect_all(w);
	else
		loader_ramp(w);
	event_base_loop(w->base, EVLOOP_NO_EXIT_ON_EMPTY);
	__atomic_add_fetch(&w->run->loaders_done, 1, __ATOMIC_SEQ_CST);
	run_notify(w->run);
	return NULL;
}

int
loader_start(struct loader *w, char *err, size_t errlen)
{
	int rc = pthread_create(&w->thread, NULL, loader_main, w);

	if (rc != 0) {
		snprintf(err, errlen, "pthread_create: %s", strerror(rc));
		return -1;
	}
	w->started = 1;
	return 0;
}

/* From the main thread: the run is over (or, a second time, forced). */
void
loader_stop(struct loader *w)
{
	event_active(w->stop_ev, EV_READ, 0);
}

void
loader_free(struct loader *w)
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
	if (w->sweep_ev != NULL)
		event_free(w->sweep_ev);
	stats_destroy(&w->stats);
	if (w->base != NULL)
		event_base_free(w->base);
}

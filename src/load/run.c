/* SPDX-License-Identifier: ISC */
/*
 * run.c: one run of load, on the main thread, and what the loaders tell it.
 *
 * The main thread does no network I/O.  It starts the loaders, then runs
 * its own event loop for what concerns the whole run: the warm-up and the
 * duration, the time series and the progress line, SIGINT/SIGTERM (the
 * first stops the run and still reports, a second one stops waiting), and
 * the loaders' notices (all of them idle: nothing left to measure; all
 * done: report).  Signals are blocked in the loaders so that only this
 * loop sees them.
 *
 * The time series: a timer of this loop, aligned to the start of
 * measurement, takes the counters at each whole second, and 50 ms later
 * the latencies that each loader posted at its own tick of that second
 * (its tick is aligned to the same start); the deltas and that histogram
 * make one interval.  The last interval ends with the run: it is
 * collected once the loaders have stopped, with whatever they did while
 * stopping, so that the intervals add up to the totals.
 */
#include "config.h"

#include <errno.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "load.h"
#include "log.h"
#include "nofile.h"

#define NS_PER_S 1000000000u
#define TAKE_DELAY_NS 50000000u /* after a second's end: the loaders have posted */

/* From any thread: the main loop should look at the loaders' state. */
void
run_notify(struct run *r)
{
	event_active(r->notify_ev, EV_READ, 0);
}

/* From any thread: the mode has nothing left to measure. */
void
run_request_stop(struct run *r)
{
	__atomic_store_n(&r->stop_requested, 1, __ATOMIC_SEQ_CST);
	run_notify(r);
}

/*
 * Each connection is a descriptor: raise the soft limit to what the run
 * needs (as far as the hard limit allows) rather than fail with EMFILE
 * halfway through.
 */
static void
raise_nofile(unsigned connections)
{
	struct nofile nf;
	char err[LOAD_ERRLEN];

	switch (nofile_raise((rlim_t)connections + 64, 1, &nf, err, sizeof err)) {
	case NOFILE_SHORT:
		log_warnx("open files are limited to %llu: some of the %u connections will fail "
			  "with EMFILE (see ulimit -n)",
		    (unsigned long long)nf.fit, connections);
		break;
	case -1:
		log_warnx("%s: some of the %u connections may fail with EMFILE (see ulimit -n)",
		    err, connections);
		break;
	default:
		break;
	}
}

/*
 * The main thread's clock for the intervals: second k of the current phase
 * (the warm-up, then the measurement) ends at base + k s.
 */
static struct ticker {
	struct event *ev;
	uint64_t base;
	unsigned k;            /* seconds completed in this phase */
	int take;              /* 0: the counters are next; 1: the latencies */
	int progress, tty;     /* the live line, and whether it overwrites itself */
	struct stats *last;    /* the counters at the end of the last interval */
	struct stats *pending; /* at the end of this second, before its latencies */
	struct histogram *second;
	struct histogram *warm; /* the warm-up's latencies: kept if it never ends */
	double load_unix;       /* wall clock when the load began */
	uint64_t open_at_stop;  /* connections open when the run was stopped */
	FILE *csv;              /* --timeseries */
	int nomem_warned;
} tick;
static struct stats tick_stats[2];
static struct histogram tick_hists[2];

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
delta(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

/* One interval: the counters from `last` to `now`, and its latencies. */
static void
interval_add(struct run *r, const struct stats *now, const struct stats *last,
    const struct histogram *second, double elapsed, int is_last)
{
	struct interval *iv;

	if (r->nintervals == r->intervals_cap) {
		size_t cap = r->intervals_cap ? r->intervals_cap * 2 : 64;
		struct interval *p = realloc(r->intervals, cap * sizeof *p);

		if (p == NULL) {
			if (!tick.nomem_warned++)
				log_warnx("no memory for the time series: intervals left out");
			return;
		}
		r->intervals = p;
		r->intervals_cap = cap;
	}
	iv = &r->intervals[r->nintervals];
	memset(iv, 0, sizeof *iv);
	if (hist_pack(&iv->latency, second) == -1) {
		if (!tick.nomem_warned++)
			log_warnx("no memory for the time series: intervals left out");
		return;
	}
	r->nintervals++;
	/* from start_unix as the report prints it (to the millisecond): a start
	 * of X.9996 is printed X+1.000, and its first second must not be X */
	iv->t =
	    (int64_t)floor(round(r->start_unix * 1000.0) / 1000.0 + (double)(r->nintervals - 1));
	iv->elapsed_s = elapsed;
	iv->last = is_last;
	iv->open = now->active;
	iv->attempted = delta(now->attempted, last->attempted);
	iv->established = delta(now->established, last->established);
	iv->requests = delta(now->requests, last->requests);
	iv->bytes_sent = delta(now->bytes_sent, last->bytes_sent);
	iv->bytes_received = delta(now->bytes_received, last->bytes_received);
	for (int e = 0; e < LERR_MAX; e++)
		iv->errors[e] = delta(now->errors[e], last->errors[e]);
	iv->syn_retransmits = delta(now->syn_retransmits, last->syn_retransmits);
	iv->dgram_lost = delta(now->dgram.lost, last->dgram.lost);
	iv->p50 = hist_percentile(second, 50);
	iv->p99 = hist_percentile(second, 99);
	if (tick.csv != NULL) {
		export_csv_row(tick.csv, iv);
		fflush(tick.csv);
	}
}

/* --close fin: the TIME_WAIT warning, clear of the live line. */
static void
check_timewait(struct run *r)
{
	char msg[LOAD_ERRLEN];

	if (timewait_check(r, msg, sizeof msg) == 0)
		return;
	if (tick.progress && tick.tty)
		report_progress_clear();
	log_warnx("%s", msg);
}

/*
 * Arm the timer for what is next.  While measuring, no second is taken
 * that would end too close to the end of the run: the last interval is
 * collected at the end and runs to it.
 */
static void
tick_schedule(struct run *r)
{
	uint64_t at, now = clock_ns();
	struct timeval tv;

	if (!tick.take && r->measuring &&
	    (double)(tick.k + 1) * 1e9 + TAKE_DELAY_NS > r->opt.duration * 1e9)
		return;
	at = tick.base + (uint64_t)(tick.k + 1) * NS_PER_S + (tick.take ? TAKE_DELAY_NS : 0);
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / NS_PER_S);
	tv.tv_usec = (suseconds_t)(at % NS_PER_S / 1000u);
	evtimer_add(tick.ev, &tv);
}

/* A new phase (the start, the end of the warm-up): second 0 is now. */
static void
tick_restart(struct run *r, uint64_t base)
{
	event_del(tick.ev);
	tick.base = base;
	tick.k = 0;
	tick.take = 0;
	stats_init(tick.last); /* the loaders' counters start from 0 too */
	tick_schedule(r);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct stats *t;

	if (r->stopping)
		return;
	if (!tick.take) {
		stats_snapshot(tick.pending, r);
		tick.take = 1;
		tick_schedule(r);
		return;
	}
	hist_init(tick.second);
	for (int i = 0; i < r->nloaders; i++)
		stats_interval_take(&r->loaders[i].stats, tick.second);
	tick.k++;
	if (r->measuring)
		interval_add(r, tick.pending, tick.last, tick.second, tick.k, 0);
	else
		hist_merge(tick.warm, tick.second);
	check_timewait(r);
	if (tick.progress)
		report_progress(
		    r, tick.k, !r->measuring, tick.pending, tick.last, tick.second, tick.tty);
	t = tick.last;
	tick.last = tick.pending;
	tick.pending = t;
	tick.take = 0;
	tick_schedule(r);
}

/* After the loaders stopped: the last interval, up to the end of the run. */
static void
tick_finish(struct run *r)
{
	hist_init(tick.second);
	if (!r->measuring) {
		/* the run ended in the warm-up: what there was is the measurement */
		r->t_start = r->t_load;
		r->start_unix = tick.load_unix;
		stats_init(tick.last);
		hist_merge(tick.second, tick.warm);
	}
	stats_snapshot(tick.pending, r);
	tick.pending->active = tick.open_at_stop;
	for (int i = 0; i < r->nloaders; i++)
		stats_interval_rest(&r->loaders[i].stats, tick.second);
	interval_add(
	    r, tick.pending, tick.last, tick.second, (double)(r->t_stop - r->t_start) / 1e9, 1);
}

static void
run_stop(struct run *r)
{
	if (r->stopping)
		return;
	r->t_stop = clock_ns();
	stats_snapshot(tick.pending, r);
	tick.open_at_stop = tick.pending->active; /* the loaders are about to close them */
	__atomic_store_n(&r->stopping, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < r->nloaders; i++)
		loader_stop(&r->loaders[i]);
}

static void
on_duration(evutil_socket_t fd, short what, void *arg)
{
	run_stop(arg);
}

static void
start_duration(struct run *r, struct event *ev_duration)
{
	struct timeval tv;

	tv.tv_sec = (time_t)r->opt.duration;
	tv.tv_usec = (suseconds_t)((r->opt.duration - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev_duration, &tv);
}

/*
 * --warmup is over: the loaders forget what they measured (each on its
 * own thread), and the measurement, its duration and its seconds start.
 */
static void
on_warmup(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev_duration = arg;
	struct run *r = event_get_callback_arg(ev_duration);

	if (r->stopping)
		return;
	r->t_start = clock_ns();
	r->start_unix = wall_now();
	for (int i = 0; i < r->nloaders; i++)
		loader_warmup_over(&r->loaders[i]);
	r->measuring = 1;
	hist_init(tick.warm);
	start_duration(r, ev_duration);
	tick_restart(r, r->t_start);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	if (!r->stopping) {
		r->interrupted = 1;
		run_stop(r);
		return;
	}
	__atomic_store_n(&r->force, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < r->nloaders; i++)
		loader_stop(&r->loaders[i]);
}

static void
on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	if (__atomic_load_n(&r->loaders_done, __ATOMIC_SEQ_CST) == r->nloaders) {
		event_base_loopbreak(r->base);
		return;
	}
	if (__atomic_load_n(&r->loaders_idle, __ATOMIC_SEQ_CST) == r->nloaders ||
	    __atomic_load_n(&r->stop_requested, __ATOMIC_SEQ_CST))
		run_stop(r);
}

/* --hgrm, --timeseries: opened before the run, so that a bad path is a usage error. */
static FILE *
open_output(const char *opt, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");

	if (f == NULL)
		snprintf(err, errlen, "%s \"%s\": %s", opt, path, strerror(errno));
	return f;
}

static void
close_output(const char *opt, const char *path, FILE *f)
{
	if (f == NULL)
		return;
	if (ferror(f) | fclose(f))
		log_warnx("%s %s: could not write all of it", opt, path);
}

/* The main loop's events and what the run writes besides the report. */
static struct mainloop {
	struct event *sigint, *sigterm, *duration, *warmup;
	struct stats *total; /* every loader's, at the end */
	FILE *hgrm;          /* --hgrm */
} loop;

/* --hgrm and --timeseries, opened first: a path that cannot be written is a usage error. */
static int
run_open_outputs(struct run *r, char *err, size_t errlen)
{
	if ((r->opt.hgrm_path != NULL &&
		(loop.hgrm = open_output("--hgrm", r->opt.hgrm_path, err, errlen)) == NULL) ||
	    (r->opt.timeseries_path != NULL &&
		(tick.csv = open_output("--timeseries", r->opt.timeseries_path, err, errlen)) ==
		    NULL))
		return -1;
	if (tick.csv != NULL)
		export_csv_header(tick.csv);
	return 0;
}

/* The main thread's loop, its events and the counters of the time series. */
static int
run_loop_new(struct run *r)
{
	r->nloaders = r->opt.threads;
	r->connect_tv.tv_sec = r->opt.connect_timeout_ms / 1000;
	r->connect_tv.tv_usec = (suseconds_t)(r->opt.connect_timeout_ms % 1000 * 1000);
	if ((r->loaders = calloc((size_t)r->nloaders, sizeof *r->loaders)) == NULL ||
	    (loop.total = calloc(1, sizeof *loop.total)) == NULL) {
		fprintf(stderr, "synack-load: out of memory\n");
		return -1;
	}
	stats_init(loop.total);
	tick.last = &tick_stats[0];
	tick.pending = &tick_stats[1];
	tick.second = &tick_hists[0];
	tick.warm = &tick_hists[1];
	stats_init(tick.last);
	stats_init(tick.pending);
	hist_init(tick.second);
	hist_init(tick.warm);
	if ((r->base = event_base_new()) == NULL ||
	    (r->notify_ev = event_new(r->base, -1, 0, on_notify, r)) == NULL ||
	    (loop.sigint = evsignal_new(r->base, SIGINT, on_signal, r)) == NULL ||
	    (loop.sigterm = evsignal_new(r->base, SIGTERM, on_signal, r)) == NULL ||
	    (loop.duration = evtimer_new(r->base, on_duration, r)) == NULL ||
	    (loop.warmup = evtimer_new(r->base, on_warmup, loop.duration)) == NULL ||
	    (tick.ev = evtimer_new(r->base, on_tick, r)) == NULL) {
		fprintf(stderr, "synack-load: cannot create the main event loop\n");
		return -1;
	}
	return 0;
}

/* The payload, the mode's state and the loaders, each with its share of the connections. */
static int
run_loaders_new(struct run *r)
{
	char err[LOAD_ERRLEN];

	if (payload_init(r, err, sizeof err) == -1 ||
	    (r->opt.mode->init != NULL && r->opt.mode->init(r, err, sizeof err) == -1)) {
		fprintf(stderr, "synack-load: %s\n", err);
		return -1;
	}
	for (int i = 0; i < r->nloaders; i++) {
		unsigned share = r->opt.connections / (unsigned)r->nloaders +
		    ((unsigned)i < r->opt.connections % (unsigned)r->nloaders);

		if (loader_init(&r->loaders[i], r, i, share, err, sizeof err) == -1) {
			fprintf(stderr, "synack-load: %s\n", err);
			return -1;
		}
	}
	return 0;
}

/* Start the clocks and the loaders, and run until they are all done. */
static void
run_go(struct run *r)
{
	char err[LOAD_ERRLEN];
	sigset_t block, old;
	struct timeval tv;

	evsignal_add(loop.sigint, NULL);
	evsignal_add(loop.sigterm, NULL);
	check_timewait(r);

	/* the loaders start with SIGINT and SIGTERM blocked: only this loop sees them */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r->t_load = r->t_start = clock_ns();
	r->start_unix = tick.load_unix = wall_now();
	r->measuring = !(r->opt.warmup > 0);
	if (r->measuring)
		start_duration(r, loop.duration);
	else {
		tv.tv_sec = (time_t)r->opt.warmup;
		tv.tv_usec = (suseconds_t)((r->opt.warmup - (double)tv.tv_sec) * 1e6);
		evtimer_add(loop.warmup, &tv);
	}
	tick_restart(r, r->t_load);
	for (int i = 0; i < r->nloaders; i++)
		if (loader_start(&r->loaders[i], err, sizeof err) == -1) {
			log_error("%s", err);
			r->nloaders = i; /* run with those that started */
			break;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (r->nloaders > 0)
		event_base_dispatch(r->base);
	if (r->t_stop == 0)
		r->t_stop = clock_ns();
	for (int i = 0; i < r->nloaders; i++)
		pthread_join(r->loaders[i].thread, NULL);
	if (tick.progress && tick.tty)
		report_progress_clear();
}

/* The report, the exports, and the exit status. */
static int
run_report(struct run *r)
{
	struct outcome outcome;
	double duration_s;

	tick_finish(r);
	for (int i = 0; i < r->nloaders; i++)
		stats_merge(loop.total, &r->loaders[i].stats);
	duration_s = (double)(r->t_stop - r->t_start) / 1e9;
	report_run(stdout, r, loop.total, duration_s, r->opt.json);
	fflush(stdout);
	report_outcome(&outcome, r, loop.total);
	if (loop.hgrm != NULL)
		export_hgrm(loop.hgrm, &loop.total->latency, 1e6);
	close_output("--hgrm", r->opt.hgrm_path, loop.hgrm);
	close_output("--timeseries", r->opt.timeseries_path, tick.csv);
	return outcome.code;
}

static void
run_free(struct run *r)
{
	for (int i = 0; i < r->opt.threads; i++)
		loader_free(&r->loaders[i]);
	if (r->opt.mode->free != NULL)
		r->opt.mode->free(r);
	event_free(tick.ev);
	event_free(loop.warmup);
	event_free(loop.duration);
	event_free(loop.sigterm);
	event_free(loop.sigint);
	event_free(r->notify_ev);
	event_base_free(r->base);
	free(r->loaders);
	free(r->payload);
	free(loop.total);
	for (size_t i = 0; i < r->nintervals; i++)
		hist_packed_free(&r->intervals[i].latency);
	free(r->intervals);
	options_free(&r->opt);
}

int
run_main(struct run *r)
{
	char err[LOAD_ERRLEN];
	int code;

	if (run_open_outputs(r, err, sizeof err) == -1) {
		fprintf(stderr, "synack-load: %s\n", err);
		fprintf(stderr, "Try 'synack-load --help' for the options.\n");
		return LOAD_EXIT_USAGE;
	}
	tick.tty = isatty(STDERR_FILENO);
	tick.progress = r->opt.progress == 1 || (r->opt.progress == -1 && tick.tty);
	signal(SIGPIPE, SIG_IGN);
	log_route_libevent();
	raise_nofile(r->opt.connections);
	if (evthread_use_pthreads() == -1) {
		fprintf(stderr, "synack-load: libevent has no thread support\n");
		return LOAD_EXIT_NOCONN;
	}
	if (run_loop_new(r) == -1 || run_loaders_new(r) == -1)
		return LOAD_EXIT_NOCONN;
	run_go(r);
	code = run_report(r);
	run_free(r);
	return code;
}

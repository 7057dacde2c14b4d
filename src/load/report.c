/* SPDX-License-Identifier: ISC */
/*
 * report.c: a run's report as data (struct report_data, which
 * report-write.c writes), its exit status, and the live progress line.
 *
 * The exit status and the error rates behind it (struct outcome) follow
 * one rule, outcome_of(), for a run and for reports merged.
 */
#include "config.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common/jsonesc.h"
#include "load.h"

#define SCHEDULE_LAG_MAX_NS 1000000u /* lag p99 above this: the schedule was not kept */
#define SCHEDULE_SENT_MIN 0.99       /* nor if fewer of the requests due were sent */

static uint64_t
report_errors(const struct stats *s)
{
	uint64_t n = 0;

	for (int e = 0; e < LERR_MAX; e++)
		n += s->errors[e];
	return n;
}

/* Whether the stream only sends: nothing comes back, the sent bytes are the measure. */
static int
report_send_only(const struct run *r)
{
	return r->opt.mode == &mode_stream && r->opt.direction == STREAM_SEND;
}

/*
 * Whether something completed: requests; for stream a byte that came back
 * (echoed, or from the chargen), or with --direction send a byte sent.
 */
static int
report_completed(const struct run *r, const struct stats *s)
{
	if (report_send_only(r))
		return s->bytes_sent > 0;
	if (r->opt.mode == &mode_stream)
		return s->bytes_received > 0;
	return s->requests > 0;
}

/*
 * The exit status and the error rates behind it.  A connection failure is
 * an attempt that did not connect (timeout, refused, unreachable,
 * addrnotavail, other); a request failure is a request that got no answer
 * (reset, closed, noreply) -- except in chat, where noreply is a member
 * the room never took in: a connection that did not work, not one line of
 * thousands.  Verify errors have their own status, which comes first: a
 * server that answers wrongly is the finding, whatever else happened.
 * Then nothing completed (3), then too many failures (4).
 */
/*
 * The outcome of counts: a run's, or reports' merged.  errors[] by cause;
 * completed: a request completed (stream: a byte came back); connected:
 * a connection was established.
 */
void
outcome_of(struct outcome *o, const uint64_t *e, uint64_t attempted, uint64_t requests, int chat,
    int completed, int connected, double max_error_rate)
{
	memset(o, 0, sizeof *o);
	o->connection_failures = e[LERR_TIMEOUT] + e[LERR_REFUSED] + e[LERR_UNREACHABLE] +
	    e[LERR_ADDRNOTAVAIL] + e[LERR_OTHER];
	o->request_failures = e[LERR_RESET] + e[LERR_CLOSED] + e[LERR_NOREPLY];
	if (chat) {
		o->connection_failures += e[LERR_NOREPLY];
		o->request_failures -= e[LERR_NOREPLY];
	}
	if (attempted > 0)
		o->connection_error_rate = (double)o->connection_failures / (double)attempted;
	if (o->connection_error_rate > 1.0)
		o->connection_error_rate = 1.0;
	if (o->request_failures > 0)
		o->request_error_rate =
		    (double)o->request_failures / (double)(requests + o->request_failures);
	o->error_rate = o->connection_error_rate > o->request_error_rate ? o->connection_error_rate
									 : o->request_error_rate;
	o->nothing_connected = !connected;
	if (e[LERR_VERIFY] > 0)
		o->code = LOAD_EXIT_VERIFY;
	else if (!completed)
		o->code = LOAD_EXIT_NOCONN;
	else if (o->error_rate > max_error_rate)
		o->code = LOAD_EXIT_ERRORS;
	else
		o->code = LOAD_EXIT_OK;
}

void
report_outcome(struct outcome *o, const struct run *r, const struct stats *s)
{
	int open_seen = 0;

	/* connections opened during --warmup count as connected */
	for (size_t i = 0; i < r->nintervals; i++)
		open_seen |= r->intervals[i].open > 0;
	outcome_of(o, s->errors, s->attempted, s->requests, r->opt.mode == &mode_chat,
	    report_completed(r, s), s->established > 0 || open_seen, r->opt.max_error_rate);
}

/* Whether the open loop kept its schedule; 1 without one. */
static int
report_schedule_kept(const struct stats *s)
{
	if (s->lag.count > 0 && hist_percentile(&s->lag, 99) > SCHEDULE_LAG_MAX_NS)
		return 0;
	return (double)s->sent >= SCHEDULE_SENT_MIN * (double)s->due;
}

/*
 * One line a second: on a terminal it overwrites itself, on a pipe (when
 * asked with --progress) it is one line per second.  Rates, latencies and
 * errors are those of the last second; during --warmup the line says so.
 */
void
report_progress(const struct run *r, double elapsed, int warmup, const struct stats *now,
    const struct stats *prev, const struct histogram *second, int tty)
{
	char rate[32], p50[32], p99[32], line[512];
	size_t n = 0;
	uint64_t errors = report_errors(now), before = report_errors(prev);

	if (warmup)
		n += (size_t)snprintf(line + n, sizeof line - n, "[warm-up %5.1fs]", elapsed);
	else
		n += (size_t)snprintf(line + n, sizeof line - n, "[%5.1fs]", elapsed);
	n += (size_t)snprintf(line + n, sizeof line - n, " %llu/%llu open, %llu req/s, %s",
	    (unsigned long long)now->active, (unsigned long long)r->opt.connections,
	    (unsigned long long)(now->requests - prev->requests),
	    report_rate(report_send_only(r) ? (double)(now->bytes_sent - prev->bytes_sent)
					    : (double)(now->bytes_received - prev->bytes_received),
		1.0, rate, sizeof rate));
	if (second->count > 0)
		n += (size_t)snprintf(line + n, sizeof line - n, ", p50 %s p99 %s",
		    report_time(hist_percentile(second, 50), p50, sizeof p50),
		    report_time(hist_percentile(second, 99), p99, sizeof p99));
	if (errors == 0)
		snprintf(line + n, sizeof line - n, ", no errors");
	else {
		int first = 1;

		n += (size_t)snprintf(line + n, sizeof line - n, ", errors %llu/s",
		    (unsigned long long)(errors - before));
		for (int e = 0; e < LERR_MAX && n < sizeof line; e++) {
			if (now->errors[e] == prev->errors[e])
				continue;
			n += (size_t)snprintf(line + n, sizeof line - n, "%s%s %llu",
			    first ? " (" : ", ", stats_error_name(e),
			    (unsigned long long)(now->errors[e] - prev->errors[e]));
			first = 0;
		}
		if (!first && n < sizeof line)
			n += (size_t)snprintf(line + n, sizeof line - n, ")");
		if (n < sizeof line)
			snprintf(
			    line + n, sizeof line - n, ", %llu in all", (unsigned long long)errors);
	}
	if (tty)
		fprintf(stderr, "\r%s\033[K", line);
	else
		fprintf(stderr, "%s\n", line);
	fflush(stderr);
}

void
report_progress_clear(void)
{
	fprintf(stderr, "\r\033[K");
	fflush(stderr);
}

/* "2026-11-29T11:57:59.123Z" */
static void
start_time(double unix_s, char *out, size_t size)
{
	time_t sec = (time_t)floor(unix_s);
	long ms = (long)((unix_s - (double)sec) * 1000.0);
	char buf[32];
	struct tm tm;

	if (ms > 999)
		ms = 999;
	gmtime_r(&sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(out, size, "%s.%03ldZ", buf, ms);
}

/* The options of the run as a JSON object, malloc'd; NULL: out of memory. */
static char *
options_json(const struct options *o)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	if (f == NULL)
		return NULL;
	fprintf(f, "{\"mode\":\"%s\",\"target\":", o->mode->name);
	jsonesc_write(f, o->target_str, strlen(o->target_str));
	fprintf(f,
	    ",\"connections\":%u,\"duration_s\":%.10g,\"rate\":%.10g,\"connect_rate\":%.10g,"
	    "\"ramp_rate\":%.10g,\"size\":%zu,\"threads\":%d,\"warmup_s\":%.10g,"
	    "\"close\":\"%s\",\"request_timeout_ms\":%ld,\"connect_timeout_ms\":%ld,"
	    "\"max_error_rate\":%.10g,\"direction\":\"%s\",\"fastopen\":%s,\"percentiles\":[",
	    o->connections, o->duration, o->rate, o->connect_rate, o->ramp_rate, o->size,
	    o->threads, o->warmup, o->close == CLOSE_FIN ? "fin" : "rst", o->request_timeout_ms,
	    o->connect_timeout_ms, o->max_error_rate, stream_direction_name(o->direction),
	    o->fastopen ? "true" : "false");
	for (int i = 0; i < o->npercentiles; i++)
		fprintf(f, "%s%.10g", i == 0 ? "" : ",", o->percentiles[i]);
	fprintf(f, "]}");
	if (fclose(f) != 0) {
		free(text);
		return NULL;
	}
	return text;
}

/* What a run's report_data points to. */
struct run_report {
	struct report_data d;
	struct report_count errors[LERR_MAX];
	struct report_count syn_retrans[SYN_RETRANS_BUCKETS];
	struct report_count other_errno[LOAD_ERRNO_MAX + 1];
	char errno_names[LOAD_ERRNO_MAX + 1][48];
	char start_time[64];
	char *options;
	struct report_interval *intervals;
	struct report_count *interval_errors; /* LERR_MAX for each interval */
};

/* The run's errors by cause, every cause in order, and "other" by errno. */
static void
run_report_errors(struct run_report *rr, const struct stats *s)
{
	struct report_data *d = &rr->d;

	for (int e = 0; e < LERR_MAX; e++) {
		rr->errors[e].name = stats_error_name((enum load_error)e);
		rr->errors[e].n = s->errors[e];
	}
	d->errors = rr->errors;
	d->nerrors = LERR_MAX;
	for (int i = 0; i <= LOAD_ERRNO_MAX; i++) {
		struct report_count *c = &rr->other_errno[d->nother_errno];

		if (s->other_errno[i] == 0)
			continue;
		c->name = stats_errno_name(i, rr->errno_names[i], sizeof rr->errno_names[i]);
		c->n = s->other_errno[i];
		d->nother_errno++;
	}
	d->other_errno = rr->other_errno;
}

/* The time series; none if there is no memory for it. */
static void
run_report_intervals(struct run_report *rr, const struct run *r)
{
	if (r->nintervals == 0 ||
	    (rr->intervals = calloc(r->nintervals, sizeof *rr->intervals)) == NULL ||
	    (rr->interval_errors = calloc(r->nintervals * LERR_MAX, sizeof *rr->interval_errors)) ==
		NULL)
		return;
	for (size_t i = 0; i < r->nintervals; i++) {
		const struct interval *iv = &r->intervals[i];
		struct report_interval *out = &rr->intervals[i];

		out->t = iv->t;
		out->elapsed_s = iv->elapsed_s;
		out->last = iv->last;
		out->open = iv->open;
		out->attempted = iv->attempted;
		out->established = iv->established;
		out->requests = iv->requests;
		out->bytes_sent = iv->bytes_sent;
		out->bytes_received = iv->bytes_received;
		out->syn_retransmits = iv->syn_retransmits;
		out->dgram_lost = iv->dgram_lost;
		out->errors = rr->interval_errors + i * LERR_MAX;
		out->nerrors = LERR_MAX;
		for (int e = 0; e < LERR_MAX; e++) {
			out->errors[e].name = stats_error_name((enum load_error)e);
			out->errors[e].n = iv->errors[e];
		}
		out->latency = iv->latency; /* still the run's */
	}
	rr->d.intervals = rr->intervals;
	rr->d.nintervals = r->nintervals;
}

/* The run's report as data: what the options asked, what the stats counted. */
static void
run_report_fill(struct run_report *rr, const struct run *r, const struct stats *s, double secs)
{
	struct report_data *d = &rr->d;

	d->mode = r->opt.mode;
	d->direction = r->opt.direction;
	d->target = r->opt.target_str;
	d->ntargets = 1;
	start_time(r->start_unix, rr->start_time, sizeof rr->start_time);
	d->start_time = rr->start_time;
	d->start_unix = r->start_unix;
	d->duration_s = secs;
	d->warmup_s = r->opt.warmup;
	d->ended_in_warmup = r->opt.warmup > 0 && !r->measuring;
	d->interrupted = r->interrupted;
	d->threads = (uint64_t)r->nloaders;
	d->size = r->opt.size;
	d->requested = r->opt.connections;
	d->attempted = s->attempted;
	d->established = s->established;
	d->requests = s->requests;
	d->bytes_sent = s->bytes_sent;
	d->bytes_received = s->bytes_received;
	d->latency = &s->latency;
	d->connect = &s->connect;
	d->lag = &s->lag;
	for (unsigned i = 0; i < SYN_RETRANS_BUCKETS; i++) {
		rr->syn_retrans[i].name = stats_retrans_name(i);
		rr->syn_retrans[i].n = s->syn_retrans[i];
	}
	d->syn_retrans = rr->syn_retrans;
	d->syn_data = s->syn_data;
	d->fastopen = r->opt.fastopen;
	d->connect_clean = &s->connect_clean;
	d->connect_retrans = &s->connect_retrans;
	d->rtt = &s->rtt;
	d->dgram = r->opt.mode->dgram ? &s->dgram : NULL;
	d->model = r->opt.rate > 0 ? "open" : "closed";
	d->scheduled = r->opt.rate > 0;
	d->rate = r->opt.rate;
	d->due = s->due;
	d->sent = s->sent;
	d->kept = report_schedule_kept(s);
	d->percentiles = r->opt.percentiles;
	d->npercentiles = r->opt.npercentiles;
	d->max_error_rate = r->opt.max_error_rate;
	report_outcome(&d->outcome, r, s);
	rr->options = options_json(&r->opt);
	d->options = rr->options != NULL ? rr->options : "{}";
	run_report_errors(rr, s);
	run_report_intervals(rr, r);
}

void
report_run(FILE *f, const struct run *r, const struct stats *s, double duration_s, int json)
{
	struct run_report *rr = calloc(1, sizeof *rr);

	if (rr == NULL) {
		fprintf(stderr, "synack-load: out of memory for the report\n");
		return;
	}
	run_report_fill(rr, r, s, duration_s);
	report_write(f, &rr->d, json);
	free(rr->options);
	free(rr->intervals);
	free(rr->interval_errors);
	free(rr);
}

/*
 * report.c: what the engineer reads: the live line, the summary, the JSON.
 *
 * The summary names each failure cause with what it usually means, since
 * "why did connections fail" is the question a load test is run to answer,
 * says which load model ran (closed loop, or open loop and whether the
 * client kept its schedule), and why the exit status is not 0 when it is
 * not.  Latencies are kept in nanoseconds and shown in microseconds.
 *
 * The JSON report is a contract: keys are added, never renamed or
 * removed (tests, scripts and `synack-load merge` read them).
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

#define BAR_WIDTH 40
#define SCHEDULE_LAG_MAX_NS 1000000u /* lag p99 above this: the schedule was not kept */
#define SCHEDULE_SENT_MIN 0.99       /* nor if fewer of the requests due were sent */

static const char *const report_error_hints[LERR_MAX] = {
	[LERR_TIMEOUT] = "no SYN-ACK in time: a full listen queue drops SYNs, or packets are lost",
	[LERR_REFUSED] = "a reset answered the SYN: nothing listens there",
	[LERR_UNREACHABLE] = "no route to the network or host (local route or ICMP)",
	[LERR_RESET] = "the server reset the connection",
	/* NOLINTNEXTLINE(bugprone-suspicious-missing-comma): one hint in two pieces */
	[LERR_ADDRNOTAVAIL] = "no source address or port left: ephemeral ports used up, "
			      "or a --bind address is not local",
	[LERR_OTHER] = NULL,
	[LERR_VERIFY] = "echoed bytes differ from the bytes sent",
	[LERR_CLOSED] = "the server closed connections it should have kept",
	[LERR_NOREPLY] = "no answer by the deadline",
};

/* The errno values counted under "other" that have a usual meaning. */
static const char *
report_errno_hint(int err)
{
	switch (err) {
	case ENOENT:
		return "no such socket file: is the server running, is the path right?";
	case EACCES:
		return "no permission to connect to the socket file";
	case EAGAIN:
		return "a unix listener's queue is full";
	case EMFILE:
		return "out of file descriptors: raise ulimit -n";
	case ENFILE:
		return "the system is out of file descriptors (fs.file-max)";
	default:
		return NULL;
	}
}

/* "812.3us", "12.45ms", "1.234s" */
const char *
report_time(uint64_t ns, char *buf, size_t size)
{
	if (ns < 1000000u)
		snprintf(buf, size, "%.1fus", (double)ns / 1e3);
	else if (ns < 1000000000u)
		snprintf(buf, size, "%.2fms", (double)ns / 1e6);
	else
		snprintf(buf, size, "%.3fs", (double)ns / 1e9);
	return buf;
}

/*
 * bytes over secs as "2.90 MB/s", with decimal prefixes as network people
 * count; "n/a" over no time (a merge of reports that say 0 s).
 */
static const char *
report_rate(double bytes, double secs, char *buf, size_t size)
{
	double bytes_per_s = secs > 0 ? bytes / secs : 0;

	if (!(secs > 0))
		snprintf(buf, size, "n/a");
	else if (bytes_per_s >= 1e9)
		snprintf(buf, size, "%.2f GB/s", bytes_per_s / 1e9);
	else if (bytes_per_s >= 1e6)
		snprintf(buf, size, "%.2f MB/s", bytes_per_s / 1e6);
	else if (bytes_per_s >= 1e3)
		snprintf(buf, size, "%.2f kB/s", bytes_per_s / 1e3);
	else
		snprintf(buf, size, "%.0f B/s", bytes_per_s);
	return buf;
}

/* n per second of secs as "%.1f", or "n/a" over no time. */
static const char *
report_per_s(double n, double secs, char *buf, size_t size)
{
	if (secs > 0)
		snprintf(buf, size, "%.1f", n / secs);
	else
		snprintf(buf, size, "n/a");
	return buf;
}

/* The same in JSON: a number, or null over no time. */
void
report_json_per_s(FILE *f, double n, double secs)
{
	if (secs > 0)
		fprintf(f, "%.1f", n / secs);
	else
		fputs("null", f);
}

static uint64_t
report_errors(const struct stats *s)
{
	uint64_t n = 0;

	for (int e = 0; e < LERR_MAX; e++)
		n += s->errors[e];
	return n;
}

static const char *
report_latency_label(const struct run *r)
{
	if (r->opt.mode == &mode_chat)
		return "fan-out";
	if (r->opt.mode == &mode_stream)
		return "in pipe";
	return "request";
}

/* "99.9": a percentile as given, for labels and JSON keys */
static const char *
report_q(double q, char *buf, size_t size)
{
	snprintf(buf, size, "%.10g", q);
	return buf;
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

/* One row of the latency table: a statistic of each histogram. */
static void
report_latency_row(
    FILE *f, const char *label, const struct histogram *const *h, int nh, int what, double q)
{
	char buf[32];

	fprintf(f, "  %-10s", label);
	for (int i = 0; i < nh; i++) {
		uint64_t v;

		if (h[i]->count == 0) {
			fprintf(f, "%12s", "-");
			continue;
		}
		switch (what) {
		case 'q':
			v = hist_percentile(h[i], q);
			break;
		case 'x':
			v = hist_max(h[i]);
			break;
		case 'm':
			v = (uint64_t)llround(hist_mean(h[i]));
			break;
		case 's':
			v = (uint64_t)llround(hist_stddev(h[i]));
			break;
		default:
			fprintf(f, "%12llu", (unsigned long long)h[i]->count);
			continue;
		}
		fprintf(f, "%12s", report_time(v, buf, sizeof buf));
	}
	fputc('\n', f);
}

/*
 * The latency table: one column per histogram, one row per percentile
 * asked for (--percentiles), then max, mean, standard deviation, count.
 */
static void
report_latency_table(FILE *f, const struct run *r, const struct stats *s)
{
	const struct histogram *h[2] = { &s->latency, &s->connect };
	char label[32], q[24];

	fprintf(f, "\n%-12s%12s%12s\n", "latency", report_latency_label(r), "connect");
	for (int i = 0; i < r->opt.npercentiles; i++) {
		snprintf(label, sizeof label, "p%s", report_q(r->opt.percentiles[i], q, sizeof q));
		report_latency_row(f, label, h, 2, 'q', r->opt.percentiles[i]);
	}
	report_latency_row(f, "max", h, 2, 'x', 0);
	report_latency_row(f, "mean", h, 2, 'm', 0);
	report_latency_row(f, "stddev", h, 2, 's', 0);
	report_latency_row(f, "count", h, 2, 'n', 0);
}

/*
 * The distribution in bins of 1-2-5 steps (1us, 2us, 5us, 10us...), each
 * bucket of the histogram counted in the bin its midpoint falls in.
 */
static void
report_distribution(FILE *f, const char *label, const struct histogram *h)
{
	static const unsigned steps[] = { 1, 2, 5 };
	uint64_t bounds[40], counts[40] = { 0 }, cum = 0, decade = 1000;
	size_t nb, first = 40, last = 0;
	char lo[32], hi[32];

	if (h->count == 0)
		return;
	for (nb = 0; nb < 39; nb++) {
		bounds[nb] = decade * steps[nb % 3];
		if (nb % 3 == 2)
			decade *= 10;
	}
	bounds[nb++] = UINT64_MAX;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		uint64_t mid, n = h->buckets[i];
		size_t k = 0;

		if (n == 0)
			continue;
		mid = hist_bucket_low(i) + (hist_bucket_high(i) - hist_bucket_low(i)) / 2;
		while (k + 1 < nb && mid > bounds[k])
			k++;
		counts[k] += n;
		if (k < first)
			first = k;
		if (k > last)
			last = k;
	}
	fprintf(f, "\n%s latency distribution\n", label);
	for (size_t k = first; k <= last; k++) {
		double pct = 100.0 * (double)counts[k] / (double)h->count;
		int bar = (int)(pct / 100.0 * BAR_WIDTH + 0.5);

		cum += counts[k];
		if (k == 0)
			snprintf(lo, sizeof lo, "0");
		else
			report_time(bounds[k - 1], lo, sizeof lo);
		if (bounds[k] == UINT64_MAX)
			snprintf(hi, sizeof hi, "max");
		else
			report_time(bounds[k], hi, sizeof hi);
		fprintf(f, "  %8s - %-8s %6.2f%% %6.2f%%  %.*s\n", lo, hi, pct,
		    100.0 * (double)cum / (double)h->count, bar,
		    "########################################");
	}
}

static void
report_model(FILE *f, const struct run *r, const struct stats *s)
{
	char p99[32], max[32];

	if (r->opt.rate <= 0) {
		fprintf(f, "load model   closed loop: each connection waits for its answer\n");
		return;
	}
	fprintf(f,
	    "load model   open loop at %.10g requests/s, latency from each request's "
	    "scheduled time\n",
	    r->opt.rate);
	fprintf(f, "schedule     %llu due, %llu sent, lag p99 %s, max %s\n",
	    (unsigned long long)s->due, (unsigned long long)s->sent,
	    report_time(hist_percentile(&s->lag, 99), p99, sizeof p99),
	    report_time(hist_max(&s->lag), max, sizeof max));
	if (!report_schedule_kept(s))
		fprintf(f,
		    "  warning: the client could not keep the schedule: its own results "
		    "understate the load\n"
		    "  (kept means lag p99 at most 1ms and at least 99%% of the requests due "
		    "sent: %.1f%% were)\n",
		    s->due > 0 ? 100.0 * (double)s->sent / (double)s->due : 100.0);
}

/* Why the exit status is not 0, in one line. */
static void
report_result(FILE *f, const struct run *r, const struct stats *s, const struct outcome *o)
{
	switch (o->code) {
	case LOAD_EXIT_VERIFY:
		fprintf(f, "result       exit 1: %llu verify error%s: echoed bytes differ\n",
		    (unsigned long long)s->errors[LERR_VERIFY],
		    s->errors[LERR_VERIFY] == 1 ? "" : "s");
		break;
	case LOAD_EXIT_NOCONN:
		if (o->nothing_connected)
			fprintf(f, "result       exit 3: no connection was established\n");
		else if (r->opt.mode != &mode_stream)
			fprintf(f, "result       exit 3: no request completed\n");
		else if (r->opt.direction == STREAM_SEND)
			fprintf(f, "result       exit 3: no byte was sent\n");
		else if (r->opt.direction == STREAM_RECEIVE)
			fprintf(f, "result       exit 3: no byte was received\n");
		else
			fprintf(f,
			    "result       exit 3: no byte came back (into a discard server, "
			    "--direction send measures what was sent)\n");
		break;
	case LOAD_EXIT_ERRORS:
		if (o->connection_error_rate >= o->request_error_rate)
			fprintf(f,
			    "result       exit 4: %.2f%% of the connections failed, over "
			    "--max-error-rate %.10g%%\n",
			    100.0 * o->connection_error_rate, 100.0 * r->opt.max_error_rate);
		else
			fprintf(f,
			    "result       exit 4: %.2f%% of the requests got no answer, over "
			    "--max-error-rate %.10g%%\n",
			    100.0 * o->request_error_rate, 100.0 * r->opt.max_error_rate);
		break;
	default:
		break;
	}
}

static void
report_errors_human(FILE *f, const struct stats *s, const struct outcome *o)
{
	uint64_t errors = report_errors(s);
	char name[48];

	if (errors == 0) {
		fprintf(f, "errors       none\n");
		return;
	}
	fprintf(f, "errors       %llu\n", (unsigned long long)errors);
	for (int e = 0; e < LERR_MAX; e++) {
		if (s->errors[e] == 0)
			continue;
		if (report_error_hints[e] != NULL) {
			fprintf(f, "  %-13s%10llu  %s\n", stats_error_name(e),
			    (unsigned long long)s->errors[e], report_error_hints[e]);
			continue;
		}
		fprintf(
		    f, "  %-13s%10llu\n", stats_error_name(e), (unsigned long long)s->errors[e]);
		for (int i = 0; i <= LOAD_ERRNO_MAX; i++) {
			const char *hint = i < LOAD_ERRNO_MAX ? report_errno_hint(i) : NULL;

			if (s->other_errno[i] == 0)
				continue;
			fprintf(f, "    %-11s%10llu", stats_errno_name(i, name, sizeof name),
			    (unsigned long long)s->other_errno[i]);
			fprintf(f, "%s%s\n", hint != NULL ? "  " : "", hint != NULL ? hint : "");
		}
	}
	fprintf(f, "error rate   %.2f%% of the connections failed (%" PRIu64 " of %" PRIu64 ")",
	    100.0 * o->connection_error_rate, o->connection_failures, s->attempted);
	fprintf(f, ", %.2f%% of the requests got no answer (%" PRIu64 " of %" PRIu64 ")\n",
	    100.0 * o->request_error_rate, o->request_failures, s->requests + o->request_failures);
}

/*
 * The rate the run measured comes first: what came back (echoed and
 * verified), or for a stream in one direction what was sent or received;
 * a stream also in Gbit/s, as iperf3 and netperf count.
 */
static void
report_throughput(FILE *f, const struct run *r, const struct stats *s, double secs)
{
	int stream = r->opt.mode == &mode_stream;
	enum stream_direction d = stream ? r->opt.direction : STREAM_BOTH;
	uint64_t head = d == STREAM_SEND ? s->bytes_sent : s->bytes_received;
	char rate[32], rate2[32];

	fprintf(f, "throughput   %s", report_rate((double)head, secs, rate, sizeof rate));
	if (stream && secs > 0)
		fprintf(f, " (%.2f Gbit/s)", (double)head * 8 / secs / 1e9);
	switch (d) {
	case STREAM_SEND:
		fprintf(f, " sent\n");
		break;
	case STREAM_RECEIVE:
		fprintf(f, " received, verified as RFC 864's chargen pattern\n");
		break;
	case STREAM_BOTH:
		fprintf(f, " echoed and verified, %s sent\n",
		    report_rate((double)s->bytes_sent, secs, rate2, sizeof rate2));
		break;
	}
}

void
report_human(FILE *f, const struct run *r, const struct stats *s, double duration_s)
{
	char rate[32];
	double secs = duration_s; /* 0 in a merge of reports that say so: no rates */
	struct outcome o;

	report_outcome(&o, r, s);
	fprintf(f, "synack-load %s to %s: %u connection%s, %d thread%s, %zu-byte messages, %.2f s",
	    r->opt.mode->name, r->opt.target_str, r->opt.connections,
	    r->opt.connections == 1 ? "" : "s", r->nloaders, r->nloaders == 1 ? "" : "s",
	    r->opt.size, duration_s);
	if (r->opt.warmup > 0)
		fprintf(f, r->measuring ? " after a %.10g s warm-up" : " (ended in the warm-up)",
		    r->opt.warmup);
	fprintf(f, "%s\n\n", r->interrupted ? " (interrupted)" : "");
	report_result(f, r, s, &o);
	report_model(f, r, s);
	fprintf(f, "connections  %llu attempted, %llu established",
	    (unsigned long long)s->attempted, (unsigned long long)s->established);
	if (r->opt.mode == &mode_crr)
		fprintf(f, ", %s connections/s",
		    report_per_s((double)s->established, secs, rate, sizeof rate));
	fputc('\n', f);
	if (r->opt.mode == &mode_hold)
		fprintf(f, "requests     %llu (the last echo of each connection)\n",
		    (unsigned long long)s->requests);
	else if (r->opt.mode == &mode_crr)
		fprintf(
		    f, "requests     %llu (one per connection)\n", (unsigned long long)s->requests);
	else if (secs > 0)
		fprintf(f, "requests     %llu, %.1f/s\n", (unsigned long long)s->requests,
		    (double)s->requests / secs);
	else
		fprintf(f, "requests     %llu, n/a\n", (unsigned long long)s->requests);
	report_throughput(f, r, s, secs);
	report_errors_human(f, s, &o);
	report_latency_table(f, r, s);
	report_distribution(f, report_latency_label(r), &s->latency);
	if (r->opt.mode->reconnect)
		report_distribution(f, "connect", &s->connect);
}

static void
json_string(FILE *f, const char *s)
{
	jsonesc_write(f, s, strlen(s));
}

/* Latencies in microseconds, to the nanosecond. */
static void
json_us(FILE *f, uint64_t ns)
{
	fprintf(f, "%.3f", (double)ns / 1000.0);
}

static void
json_latency(FILE *f, const struct run *r, const char *key, const struct histogram *h)
{
	static const struct {
		const char *key;
		double q;
	} fixed[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
		{ "p9999", 99.99 } };
	char q[24];

	fprintf(f, "\"%s\":{\"count\":%llu,\"min\":", key, (unsigned long long)h->count);
	json_us(f, hist_min(h));
	fprintf(f, ",\"mean\":%.3f", hist_mean(h) / 1000.0);
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		fprintf(f, ",\"%s\":", fixed[i].key);
		json_us(f, hist_percentile(h, fixed[i].q));
	}
	fprintf(f, ",\"max\":");
	json_us(f, hist_max(h));
	fprintf(f, ",\"stddev\":%.3f,\"percentiles\":{", hist_stddev(h) / 1000.0);
	for (int i = 0; i < r->opt.npercentiles; i++) {
		fprintf(f, "%s\"%s\":", i == 0 ? "" : ",",
		    report_q(r->opt.percentiles[i], q, sizeof q));
		json_us(f, hist_percentile(h, r->opt.percentiles[i]));
	}
	fprintf(f, "}}");
}

/* "2026-11-29T11:57:59.123Z" */
static void
json_time(FILE *f, double unix_s)
{
	time_t sec = (time_t)floor(unix_s);
	long ms = (long)((unix_s - (double)sec) * 1000.0);
	char buf[32];
	struct tm tm;

	if (ms > 999)
		ms = 999;
	gmtime_r(&sec, &tm);
	strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%S", &tm);
	fprintf(f, "\"%s.%03ldZ\"", buf, ms);
}

static void
json_options(FILE *f, const struct run *r)
{
	const struct options *o = &r->opt;
	char q[24];

	fprintf(f, "\"options\":{\"mode\":\"%s\",\"target\":", o->mode->name);
	json_string(f, o->target_str);
	fprintf(f,
	    ",\"connections\":%u,\"duration_s\":%.10g,\"rate\":%.10g,\"connect_rate\":%.10g,"
	    "\"ramp_rate\":%.10g,\"size\":%zu,\"threads\":%d,\"warmup_s\":%.10g,"
	    "\"close\":\"%s\",\"request_timeout_ms\":%ld,\"connect_timeout_ms\":%ld,"
	    "\"max_error_rate\":%.10g,\"direction\":\"%s\",\"percentiles\":[",
	    o->connections, o->duration, o->rate, o->connect_rate, o->ramp_rate, o->size,
	    o->threads, o->warmup, o->close == CLOSE_FIN ? "fin" : "rst", o->request_timeout_ms,
	    o->connect_timeout_ms, o->max_error_rate, stream_direction_name(o->direction));
	for (int i = 0; i < o->npercentiles; i++)
		fprintf(f, "%s%s", i == 0 ? "" : ",", report_q(o->percentiles[i], q, sizeof q));
	fprintf(f, "]}");
}

static void
json_schedule(FILE *f, const struct run *r, const struct stats *s)
{
	if (r->opt.rate <= 0) {
		fprintf(f, "\"schedule\":null");
		return;
	}
	fprintf(f, "\"schedule\":{\"rate\":%.10g,\"due\":%llu,\"sent\":%llu,\"lag_us\":{\"p50\":",
	    r->opt.rate, (unsigned long long)s->due, (unsigned long long)s->sent);
	json_us(f, hist_percentile(&s->lag, 50));
	fprintf(f, ",\"p99\":");
	json_us(f, hist_percentile(&s->lag, 99));
	fprintf(f, ",\"max\":");
	json_us(f, hist_max(&s->lag));
	fprintf(f, "},\"kept\":%s}", report_schedule_kept(s) ? "true" : "false");
}

/* A second's latency: null for a second in which none completed. */
static void
json_interval_latency(FILE *f, const struct interval *iv, uint64_t ns)
{
	if (iv->latency.count == 0)
		fprintf(f, "null");
	else
		json_us(f, ns);
}

static void
json_intervals(FILE *f, const struct run *r)
{
	struct histogram *h = malloc(sizeof *h);

	fprintf(f, "\"intervals\":[");
	for (size_t i = 0; i < r->nintervals; i++) {
		const struct interval *iv = &r->intervals[i];

		fprintf(f, "%s{\"t\":%lld,\"elapsed_s\":", i == 0 ? "" : ",", (long long)iv->t);
		export_elapsed(f, iv);
		fprintf(f,
		    ",\"open\":%" PRIu64 ",\"attempted\":%" PRIu64 ",\"established\":%" PRIu64
		    ",\"requests\":%" PRIu64 ",\"bytes_sent\":%" PRIu64
		    ",\"bytes_received\":%" PRIu64 ",\"errors\":{",
		    iv->open, iv->attempted, iv->established, iv->requests, iv->bytes_sent,
		    iv->bytes_received);
		for (int e = 0; e < LERR_MAX; e++)
			fprintf(f, "%s\"%s\":%" PRIu64, e == 0 ? "" : ",", stats_error_name(e),
			    iv->errors[e]);
		fprintf(f, "},\"latency_us\":{\"p50\":");
		json_interval_latency(f, iv, iv->p50);
		fprintf(f, ",\"p99\":");
		json_interval_latency(f, iv, iv->p99);
		fprintf(f, ",\"max\":");
		json_interval_latency(f, iv, iv->latency.max);
		fprintf(f, "},\"histogram\":");
		if (h != NULL) {
			hist_unpack(h, &iv->latency);
			export_json_hist(f, h);
		} else
			fprintf(f, "null");
		fputc('}', f);
	}
	fputc(']', f);
	free(h);
}

void
report_json(FILE *f, const struct run *r, const struct stats *s, double duration_s)
{
	char name[48];
	int first = 1;
	struct outcome o;

	report_outcome(&o, r, s);
	fprintf(f, "{\"mode\":\"%s\",\"target\":", r->opt.mode->name);
	json_string(f, r->opt.target_str);
	fprintf(f, ",\"threads\":%d,\"size\":%zu,\"duration_s\":%.3f,\"interrupted\":%s,",
	    r->nloaders, r->opt.size, duration_s, r->interrupted ? "true" : "false");
	fprintf(f, "\"connections\":{\"requested\":%u,\"attempted\":%llu,\"established\":%llu},",
	    r->opt.connections, (unsigned long long)s->attempted,
	    (unsigned long long)s->established);
	fprintf(f, "\"errors\":{");
	for (int e = 0; e < LERR_MAX; e++)
		fprintf(f, "%s\"%s\":%llu", e == 0 ? "" : ",", stats_error_name(e),
		    (unsigned long long)s->errors[e]);
	fprintf(f, "},\"other_errno\":{");
	for (int i = 0; i <= LOAD_ERRNO_MAX; i++) {
		if (s->other_errno[i] == 0)
			continue;
		fprintf(f, "%s", first ? "" : ",");
		json_string(f, stats_errno_name(i, name, sizeof name));
		fprintf(f, ":%llu", (unsigned long long)s->other_errno[i]);
		first = 0;
	}
	fprintf(f, "},\"requests\":%llu,\"requests_per_s\":", (unsigned long long)s->requests);
	report_json_per_s(f, (double)s->requests, duration_s);
	fputs(",\"connections_per_s\":", f);
	report_json_per_s(f, (double)s->established, duration_s);
	fprintf(f, ",\"bytes_sent\":%llu,\"bytes_received\":%llu,\"bytes_per_s\":",
	    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received);
	report_json_per_s(f, (double)s->bytes_received, duration_s);
	fputs(",\"bytes_sent_per_s\":", f);
	report_json_per_s(f, (double)s->bytes_sent, duration_s);
	fputs(",\"bytes_received_per_s\":", f);
	report_json_per_s(f, (double)s->bytes_received, duration_s);
	fputc(',', f);
	json_latency(f, r, "latency_us", &s->latency);
	fputc(',', f);
	json_latency(f, r, "connect_latency_us", &s->connect);
	fprintf(f, ",\"version\":\"%s\",\"start_time\":", PACKAGE_VERSION);
	json_time(f, r->start_unix);
	fprintf(f, ",\"start_unix\":%.3f,\"model\":\"%s\",\"ended_in_warmup\":%s,", r->start_unix,
	    r->opt.rate > 0 ? "open" : "closed",
	    r->opt.warmup > 0 && !r->measuring ? "true" : "false");
	json_options(f, r);
	fprintf(f,
	    ",\"exit_code\":%d,\"error_rate\":%.6g,\"max_error_rate\":%.10g,"
	    "\"connection_error_rate\":%.6g,\"request_error_rate\":%.6g,",
	    o.code, o.error_rate, r->opt.max_error_rate, o.connection_error_rate,
	    o.request_error_rate);
	json_schedule(f, r, s);
	fprintf(f, ",\"histograms\":{\"latency\":");
	export_json_hist(f, &s->latency);
	fprintf(f, ",\"connect\":");
	export_json_hist(f, &s->connect);
	fprintf(f, ",\"lag\":");
	export_json_hist(f, &s->lag);
	fprintf(f, "},");
	json_intervals(f, r);
	fprintf(f, "}\n");
}

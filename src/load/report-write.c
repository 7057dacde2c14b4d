/* SPDX-License-Identifier: ISC */
/*
 * report-write.c: the one writer of a report, from struct report_data:
 * the summary an engineer reads, or the --json object that scripts, tests
 * and `synack-load merge` read.  A run's report (report.c) and a merge's
 * (merge.c) are written here alike, so that both documents have the same
 * keys, formats and meaning; a merge's summary adds the reports merged,
 * and its JSON fills "merged_from" and "sources" (0 and [] for a run).
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

#include "common/jsonesc.h"
#include "load.h"

#define BAR_WIDTH 40

static const char *const error_hints[LERR_MAX] = {
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

/* A UDP socket has no SYN: ICMP says what a reset says for TCP. */
static const char *
error_hint(const struct report_data *d, enum load_error e)
{
	if (d->mode->dgram && e == LERR_REFUSED)
		return "ICMP port unreachable answered a datagram: nothing listens there";
	return error_hints[e];
}

/* The cause stats_error_name() names so, or LERR_MAX: one this synack-load does not know. */
static enum load_error
cause_of(const char *name)
{
	int e;

	for (e = 0; e < LERR_MAX; e++)
		if (strcmp(stats_error_name((enum load_error)e), name) == 0)
			break;
	return (enum load_error)e;
}

/* The errno values counted under "other" that have a usual meaning, by their name. */
static const char *
errno_hint(const char *name)
{
	static const int known[] = { ENOENT, EACCES, EAGAIN, EMFILE, ENFILE };
	static const char *const hints[] = {
		"no such socket file: is the server running, is the path right?",
		"no permission to connect to the socket file",
		"a unix listener's queue is full",
		"out of file descriptors: raise ulimit -n",
		"the system is out of file descriptors (fs.file-max)",
	};
	char buf[48];

	for (size_t i = 0; i < sizeof known / sizeof known[0]; i++)
		if (strcmp(stats_errno_name(known[i], buf, sizeof buf), name) == 0)
			return hints[i];
	return NULL;
}

/* The count named so in c, 0 if there is none. */
static uint64_t
count_of(const struct report_count *c, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(c[i].name, name) == 0)
			return c[i].n;
	return 0;
}

static uint64_t
count_total(const struct report_count *c, size_t n)
{
	uint64_t total = 0;

	for (size_t i = 0; i < n; i++)
		total += c[i].n;
	return total;
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
const char *
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
per_s(double n, double secs, char *buf, size_t size)
{
	if (secs > 0)
		snprintf(buf, size, "%.1f", n / secs);
	else
		snprintf(buf, size, "n/a");
	return buf;
}

static const char *
latency_label(const struct report_data *d)
{
	if (d->mode == &mode_chat)
		return "fan-out";
	if (d->mode == &mode_stream)
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

/* One row of the latency table: a statistic of each histogram. */
static void
latency_row(
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
latency_table(FILE *f, const struct report_data *d)
{
	const struct histogram *h[2] = { d->latency, d->connect };
	char label[32], q[24];

	fprintf(f, "\n%-12s%12s%12s\n", "latency", latency_label(d), "connect");
	for (int i = 0; i < d->npercentiles; i++) {
		snprintf(label, sizeof label, "p%s", report_q(d->percentiles[i], q, sizeof q));
		latency_row(f, label, h, 2, 'q', d->percentiles[i]);
	}
	latency_row(f, "max", h, 2, 'x', 0);
	latency_row(f, "mean", h, 2, 'm', 0);
	latency_row(f, "stddev", h, 2, 's', 0);
	latency_row(f, "count", h, 2, 'n', 0);
}

/*
 * The distribution in bins of 1-2-5 steps (1us, 2us, 5us, 10us...), each
 * bucket of the histogram counted in the bin its midpoint falls in.
 */
static void
distribution(FILE *f, const char *label, const struct histogram *h)
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
model(FILE *f, const struct report_data *d)
{
	char p99[32], max[32];

	if (!d->scheduled) {
		fprintf(f, "load model   closed loop: each connection waits for its answer\n");
		return;
	}
	if (d->mode == &mode_udp_stream)
		/* the datagram carries when it left, not when it was due: the lag says that */
		fprintf(f,
		    "load model   open loop at %.10g datagrams/s, latency from each datagram's "
		    "actual send\n",
		    d->rate);
	else
		fprintf(f,
		    "load model   open loop at %.10g requests/s, latency from each request's "
		    "scheduled time\n",
		    d->rate);
	fprintf(f, "schedule     %llu due, %llu sent, lag p99 %s, max %s\n",
	    (unsigned long long)d->due, (unsigned long long)d->sent,
	    report_time(hist_percentile(d->lag, 99), p99, sizeof p99),
	    report_time(hist_max(d->lag), max, sizeof max));
	if (!d->kept)
		fprintf(f,
		    "  warning: the client could not keep the schedule: its own results "
		    "understate the load\n"
		    "  (kept means lag p99 at most 1ms and at least 99%% of the requests due "
		    "sent: %.1f%% were)\n",
		    d->due > 0 ? 100.0 * (double)d->sent / (double)d->due : 100.0);
}

/* Why there was nothing to measure (exit 3), in one line. */
static void
result_nothing(FILE *f, const struct report_data *d)
{
	if (d->outcome.nothing_connected)
		fprintf(f, "result       exit 3: no connection was established\n");
	else if (d->mode != &mode_stream)
		fprintf(f, "result       exit 3: no request completed\n");
	else if (d->direction == STREAM_SEND)
		fprintf(f, "result       exit 3: no byte was sent\n");
	else if (d->direction == STREAM_RECEIVE)
		fprintf(f, "result       exit 3: no byte was received\n");
	else
		fprintf(f,
		    "result       exit 3: no byte came back (into a discard server, "
		    "--direction send measures what was sent)\n");
}

/* Why the exit status is not 0, in one line. */
static void
result(FILE *f, const struct report_data *d)
{
	const struct outcome *o = &d->outcome;
	uint64_t verify = count_of(d->errors, d->nerrors, stats_error_name(LERR_VERIFY));

	switch (o->code) {
	case LOAD_EXIT_VERIFY:
		fprintf(f, "result       exit 1: %llu verify error%s: echoed bytes differ\n",
		    (unsigned long long)verify, verify == 1 ? "" : "s");
		break;
	case LOAD_EXIT_NOCONN:
		result_nothing(f, d);
		break;
	case LOAD_EXIT_ERRORS:
		if (o->connection_error_rate >= o->request_error_rate)
			fprintf(f,
			    "result       exit 4: %.2f%% of the connections failed, over "
			    "--max-error-rate %.10g%%\n",
			    100.0 * o->connection_error_rate, 100.0 * d->max_error_rate);
		else
			fprintf(f,
			    "result       exit 4: %.2f%% of the requests got no answer, over "
			    "--max-error-rate %.10g%%\n",
			    100.0 * o->request_error_rate, 100.0 * d->max_error_rate);
		break;
	default:
		break;
	}
}

/* The causes, each with what it usually means; "other" by errno. */
static void
errors_human(FILE *f, const struct report_data *d)
{
	const struct outcome *o = &d->outcome;
	uint64_t errors = count_total(d->errors, d->nerrors);

	if (errors == 0) {
		fprintf(f, "errors       none\n");
		return;
	}
	fprintf(f, "errors       %llu\n", (unsigned long long)errors);
	for (size_t i = 0; i < d->nerrors; i++) {
		const struct report_count *c = &d->errors[i];
		enum load_error e = cause_of(c->name);

		if (c->n == 0)
			continue;
		if (e < LERR_MAX && error_hint(d, e) != NULL) {
			fprintf(f, "  %-13s%10llu  %s\n", c->name, (unsigned long long)c->n,
			    error_hint(d, e));
			continue;
		}
		fprintf(f, "  %-13s%10llu\n", c->name, (unsigned long long)c->n);
		for (size_t k = 0; e == LERR_OTHER && k < d->nother_errno; k++) {
			const struct report_count *x = &d->other_errno[k];
			const char *hint = errno_hint(x->name);

			if (x->n == 0)
				continue;
			fprintf(f, "    %-11s%10llu", x->name, (unsigned long long)x->n);
			fprintf(f, "%s%s\n", hint != NULL ? "  " : "", hint != NULL ? hint : "");
		}
	}
	fprintf(f, "error rate   %.2f%% of the connections failed (%" PRIu64 " of %" PRIu64 ")",
	    100.0 * o->connection_error_rate, o->connection_failures, d->attempted);
	fprintf(f, ", %.2f%% of the requests got no answer (%" PRIu64 " of %" PRIu64 ")\n",
	    100.0 * o->request_error_rate, o->request_failures, d->requests + o->request_failures);
}

/*
 * The rate measured comes first: what came back (echoed and verified), or
 * for a stream in one direction what was sent or received; a stream also
 * in Gbit/s, as iperf3 and netperf count.
 */
static void
throughput(FILE *f, const struct report_data *d)
{
	int stream = d->mode == &mode_stream;
	enum stream_direction dir = stream ? d->direction : STREAM_BOTH;
	uint64_t head = dir == STREAM_SEND ? d->bytes_sent : d->bytes_received;
	double secs = d->duration_s;
	char rate[32], rate2[32];

	fprintf(f, "throughput   %s", report_rate((double)head, secs, rate, sizeof rate));
	if (stream && secs > 0)
		fprintf(f, " (%.2f Gbit/s)", (double)head * 8 / secs / 1e9);
	switch (dir) {
	case STREAM_SEND:
		fprintf(f, " sent\n");
		break;
	case STREAM_RECEIVE:
		fprintf(f, " received, verified as RFC 864's chargen pattern\n");
		break;
	case STREAM_BOTH:
		fprintf(f, " echoed and verified, %s sent\n",
		    report_rate((double)d->bytes_sent, secs, rate2, sizeof rate2));
		break;
	}
}

/* What only a merge has: the reports merged, one line each. */
static void
sources_human(FILE *f, const struct report_data *d)
{
	char buf[32];

	fprintf(f, "\nmerged from %zu report%s, the earliest started %s\n", d->nsources,
	    d->nsources == 1 ? "" : "s", d->start_time);
	fprintf(f, "  %-24s %-24s %9s %12s %12s %9s %10s\n", "report", "target", "duration",
	    "established", "requests", "errors", "p99");
	for (size_t i = 0; i < d->nsources; i++) {
		const struct report_source *src = &d->sources[i];

		fprintf(f, "  %-24s %-24s %7.2f s %12llu %12llu %9llu %10s\n", src->name,
		    src->target, src->duration_s, (unsigned long long)src->established,
		    (unsigned long long)src->requests, (unsigned long long)src->errors,
		    src->requests > 0 ? report_time(src->p99_ns, buf, sizeof buf) : "-");
	}
	if (d->nintervals > 0)
		fprintf(f, "per second   %zu seconds aligned on the wall clock (in --json)\n",
		    d->nintervals);
}

/*
 * The share of datagrams lost, in percent: of those whose fate is known,
 * answered in time or declared lost (udp-rr waits for those in flight at
 * the end; a second interrupt stops that wait, and leaves them neither).
 */
double
report_loss_pct(const struct dgram_counts *g, uint64_t answered)
{
	uint64_t known = answered + g->lost;

	return known > 0 ? 100.0 * (double)g->lost / (double)known : 0.0;
}

/* udp-stream: the mean of the sockets' RFC 3550 jitter, in microseconds */
static double
report_jitter_us(const struct dgram_counts *g)
{
	return g->jitter_conns > 0 ? (double)g->jitter16_sum / 16.0 / (double)g->jitter_conns / 1e3
				   : 0.0;
}

static void
json_dgram(FILE *f, const struct report_data *d)
{
	const struct dgram_counts *g = d->dgram;

	if (g == NULL)
		return;
	fprintf(f,
	    ",\"datagrams\":{\"sent\":%llu,\"answered\":%llu,\"lost\":%llu,\"loss_pct\":%.4f,"
	    "\"late\":%llu,\"duplicate\":%llu,\"reordered\":%llu",
	    (unsigned long long)g->sent, (unsigned long long)d->requests,
	    (unsigned long long)g->lost, report_loss_pct(g, d->requests),
	    (unsigned long long)g->late, (unsigned long long)g->duplicate,
	    (unsigned long long)g->reordered);
	if (d->mode == &mode_udp_stream)
		fprintf(f, ",\"jitter_us\":%.3f,\"jitter_sockets\":%llu", report_jitter_us(g),
		    (unsigned long long)g->jitter_conns);
	fputc('}', f);
}

static void
dgram_human(FILE *f, const struct report_data *d)
{
	const struct dgram_counts *g = d->dgram;

	if (g == NULL)
		return;
	fprintf(f,
	    "datagrams    %llu sent, %llu answered, %llu lost (loss %.2f%%), %llu late, "
	    "%llu duplicate, %llu reordered\n",
	    (unsigned long long)g->sent, (unsigned long long)d->requests,
	    (unsigned long long)g->lost, report_loss_pct(g, d->requests),
	    (unsigned long long)g->late, (unsigned long long)g->duplicate,
	    (unsigned long long)g->reordered);
	if (d->mode == &mode_udp_stream)
		fprintf(f, "jitter       %.3f us (RFC 3550, the mean of the sockets')\n",
		    report_jitter_us(g));
}

/* The head line, and the counts of connections and requests. */
static void
counts_human(FILE *f, const struct report_data *d)
{
	double secs = d->duration_s; /* 0 in a merge of reports that say so: no rates */
	char rate[32];

	if (d->ntargets > 1)
		snprintf(rate, sizeof rate, "%zu targets", d->ntargets);
	fprintf(f,
	    "synack-load %s to %s: %llu connection%s, %llu thread%s, %llu-byte messages, %.2f s",
	    d->mode->name, d->ntargets > 1 ? rate : d->target, (unsigned long long)d->requested,
	    d->requested == 1 ? "" : "s", (unsigned long long)d->threads,
	    d->threads == 1 ? "" : "s", (unsigned long long)d->size, d->duration_s);
	if (d->ended_in_warmup)
		fprintf(f, " (ended in the warm-up)");
	else if (d->warmup_s > 0)
		fprintf(f, " after a %.10g s warm-up", d->warmup_s);
	fprintf(f, "%s\n\n", d->interrupted ? " (interrupted)" : "");
	result(f, d);
	model(f, d);
	fprintf(f, "connections  %llu attempted, %llu established",
	    (unsigned long long)d->attempted, (unsigned long long)d->established);
	if (d->mode == &mode_crr)
		fprintf(f, ", %s connections/s",
		    per_s((double)d->established, secs, rate, sizeof rate));
	fputc('\n', f);
	if (d->mode == &mode_hold)
		fprintf(f, "requests     %llu (the %s echo of each connection)\n",
		    (unsigned long long)d->requests, d->fastopen ? "first and the last" : "last");
	else if (d->mode == &mode_crr)
		fprintf(
		    f, "requests     %llu (one per connection)\n", (unsigned long long)d->requests);
	else if (secs > 0)
		fprintf(f, "requests     %llu, %.1f/s\n", (unsigned long long)d->requests,
		    (double)d->requests / secs);
	else
		fprintf(f, "requests     %llu, n/a\n", (unsigned long long)d->requests);
}

/*
 * The handshakes as the client saw them: connections by SYN
 * retransmissions and, if any needed one, what that means; then Fast
 * Open.  Nothing for a unix socket target: it has no handshake.
 */
static void
handshake_human(FILE *f, const struct report_data *d)
{
	uint64_t total = count_total(d->syn_retrans, SYN_RETRANS_BUCKETS), retried;

	if (total == 0)
		return;
	retried = total - d->syn_retrans[0].n;
	fprintf(f, "SYN retrans ");
	for (size_t i = 0; i < SYN_RETRANS_BUCKETS; i++)
		fprintf(f, "%s %s: %llu", i == 0 ? "" : ",", d->syn_retrans[i].name,
		    (unsigned long long)d->syn_retrans[i].n);
	fprintf(f, " (connections by SYN retransmissions)\n");
	if (retried > 0)
		fprintf(f,
		    "  hint: %llu of %llu connections had their SYN retransmitted: the listen "
		    "queue overflowed\n"
		    "  or the path dropped SYNs; each retransmission costs the initial RTO, 1 s, "
		    "doubling each time\n",
		    (unsigned long long)retried, (unsigned long long)total);
	if (d->fastopen)
		fprintf(f,
		    "fastopen     %llu of %llu connections sent their first request in the "
		    "SYN\n",
		    (unsigned long long)d->syn_data, (unsigned long long)total);
}

/*
 * The connect latency without and with a SYN retransmission, beside the
 * handshake's RTT: a connect p99 of a second explains itself.
 */
static void
handshake_table(FILE *f, const struct report_data *d)
{
	const struct histogram *h[3] = { d->rtt, d->connect_clean, d->connect_retrans };
	char label[32], q[24];

	if (count_total(d->syn_retrans, SYN_RETRANS_BUCKETS) == 0)
		return;
	fprintf(f, "\n%-12s%12s%12s%12s\n", "handshake", "rtt", "connect", "connect");
	fprintf(f, "%-12s%12s%12s%12s\n", "", "", "no retrans", "retrans");
	for (int i = 0; i < d->npercentiles; i++) {
		snprintf(label, sizeof label, "p%s", report_q(d->percentiles[i], q, sizeof q));
		latency_row(f, label, h, 3, 'q', d->percentiles[i]);
	}
	latency_row(f, "max", h, 3, 'x', 0);
	latency_row(f, "count", h, 3, 'n', 0);
}

static void
write_human(FILE *f, const struct report_data *d)
{
	counts_human(f, d);
	dgram_human(f, d);
	throughput(f, d);
	errors_human(f, d);
	handshake_human(f, d);
	latency_table(f, d);
	handshake_table(f, d);
	distribution(f, latency_label(d), d->latency);
	if (d->mode->reconnect)
		distribution(f, "connect", d->connect);
	if (d->nsources > 0)
		sources_human(f, d);
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

/* The same as a rate: a number, or null over no time. */
static void
json_per_s(FILE *f, const char *key, double n, double secs)
{
	fprintf(f, ",\"%s\":", key);
	if (secs > 0)
		fprintf(f, "%.1f", n / secs);
	else
		fputs("null", f);
}

static void
json_counts(FILE *f, const char *key, const struct report_count *c, size_t n)
{
	fprintf(f, ",\"%s\":{", key);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		json_string(f, c[i].name);
		fprintf(f, ":%llu", (unsigned long long)c[i].n);
	}
	fputc('}', f);
}

static void
json_latency(FILE *f, const struct report_data *d, const char *key, const struct histogram *h)
{
	static const struct {
		const char *key;
		double q;
	} fixed[] = { { "p50", 50 }, { "p90", 90 }, { "p99", 99 }, { "p999", 99.9 },
		{ "p9999", 99.99 } };
	char q[24];

	fprintf(f, ",\"%s\":{\"count\":%llu,\"min\":", key, (unsigned long long)h->count);
	json_us(f, hist_min(h));
	fprintf(f, ",\"mean\":%.3f", hist_mean(h) / 1000.0);
	for (size_t i = 0; i < sizeof fixed / sizeof fixed[0]; i++) {
		fprintf(f, ",\"%s\":", fixed[i].key);
		json_us(f, hist_percentile(h, fixed[i].q));
	}
	fprintf(f, ",\"max\":");
	json_us(f, hist_max(h));
	fprintf(f, ",\"stddev\":%.3f,\"percentiles\":{", hist_stddev(h) / 1000.0);
	for (int i = 0; i < d->npercentiles; i++) {
		fprintf(
		    f, "%s\"%s\":", i == 0 ? "" : ",", report_q(d->percentiles[i], q, sizeof q));
		json_us(f, hist_percentile(h, d->percentiles[i]));
	}
	fprintf(f, "}}");
}

static void
json_schedule(FILE *f, const struct report_data *d)
{
	if (!d->scheduled) {
		fprintf(f, ",\"schedule\":null");
		return;
	}
	fprintf(f, ",\"schedule\":{\"rate\":%.10g,\"due\":%llu,\"sent\":%llu,\"lag_us\":{\"p50\":",
	    d->rate, (unsigned long long)d->due, (unsigned long long)d->sent);
	json_us(f, hist_percentile(d->lag, 50));
	fprintf(f, ",\"p99\":");
	json_us(f, hist_percentile(d->lag, 99));
	fprintf(f, ",\"max\":");
	json_us(f, hist_max(d->lag));
	fprintf(f, "},\"kept\":%s}", d->kept ? "true" : "false");
}

/* A second's latency: null for a second in which none completed. */
static void
json_interval_latency(FILE *f, const struct histogram *h, uint64_t ns)
{
	if (h->count == 0)
		fprintf(f, "null");
	else
		json_us(f, ns);
}

/* One second; h is scratch space for its histogram. */
static void
json_interval(FILE *f, const struct report_interval *iv, struct histogram *h)
{
	hist_unpack(h, &iv->latency);
	fprintf(f, "{\"t\":%lld,\"elapsed_s\":", (long long)iv->t);
	/* whole seconds as integers, the last (partial) one in ms */
	if (iv->last || iv->elapsed_s != floor(iv->elapsed_s))
		fprintf(f, "%.3f", iv->elapsed_s);
	else
		fprintf(f, "%.0f", iv->elapsed_s);
	fprintf(f,
	    ",\"open\":%" PRIu64 ",\"attempted\":%" PRIu64 ",\"established\":%" PRIu64
	    ",\"requests\":%" PRIu64 ",\"bytes_sent\":%" PRIu64 ",\"bytes_received\":%" PRIu64
	    ",\"syn_retransmits\":%" PRIu64 ",\"datagrams_lost\":%" PRIu64,
	    iv->open, iv->attempted, iv->established, iv->requests, iv->bytes_sent,
	    iv->bytes_received, iv->syn_retransmits, iv->dgram_lost);
	json_counts(f, "errors", iv->errors, iv->nerrors);
	fprintf(f, ",\"latency_us\":{\"p50\":");
	json_interval_latency(f, h, hist_percentile(h, 50));
	fprintf(f, ",\"p99\":");
	json_interval_latency(f, h, hist_percentile(h, 99));
	fprintf(f, ",\"max\":");
	json_interval_latency(f, h, hist_max(h));
	fprintf(f, "},\"histogram\":");
	export_json_hist(f, h);
	fputc('}', f);
}

static void
json_intervals(FILE *f, const struct report_data *d)
{
	struct histogram *h = malloc(sizeof *h);

	fprintf(f, ",\"intervals\":[");
	for (size_t i = 0; i < d->nintervals && h != NULL; i++) {
		if (i > 0)
			fputc(',', f);
		json_interval(f, &d->intervals[i], h);
	}
	fputc(']', f);
	free(h);
}

/* What the run did: connections, requests and bytes, their rates, the latencies. */
static void
json_counts_top(FILE *f, const struct report_data *d)
{
	double secs = d->duration_s;

	fprintf(f, ",\"connections\":{\"requested\":%llu,\"attempted\":%llu,\"established\":%llu}",
	    (unsigned long long)d->requested, (unsigned long long)d->attempted,
	    (unsigned long long)d->established);
	json_counts(f, "errors", d->errors, d->nerrors);
	json_counts(f, "other_errno", d->other_errno, d->nother_errno);
	fprintf(f, ",\"requests\":%llu", (unsigned long long)d->requests);
	json_per_s(f, "requests_per_s", (double)d->requests, secs);
	json_per_s(f, "connections_per_s", (double)d->established, secs);
	fprintf(f, ",\"bytes_sent\":%llu,\"bytes_received\":%llu",
	    (unsigned long long)d->bytes_sent, (unsigned long long)d->bytes_received);
	json_per_s(f, "bytes_per_s", (double)d->bytes_received, secs);
	json_per_s(f, "bytes_sent_per_s", (double)d->bytes_sent, secs);
	json_per_s(f, "bytes_received_per_s", (double)d->bytes_received, secs);
	json_latency(f, d, "latency_us", d->latency);
	json_latency(f, d, "connect_latency_us", d->connect);
	json_counts(f, "syn_retrans", d->syn_retrans, SYN_RETRANS_BUCKETS);
	fprintf(f, ",\"syn_data\":%llu", (unsigned long long)d->syn_data);
	json_latency(f, d, "connect_latency_no_retrans_us", d->connect_clean);
	json_latency(f, d, "connect_latency_retrans_us", d->connect_retrans);
	json_latency(f, d, "handshake_rtt_us", d->rtt);
}

static void
write_json(FILE *f, const struct report_data *d)
{
	const struct outcome *o = &d->outcome;

	fprintf(f, "{\"mode\":");
	json_string(f, d->mode->name);
	fprintf(f, ",\"target\":");
	json_string(f, d->target);
	fprintf(f, ",\"threads\":%llu,\"size\":%llu,\"duration_s\":%.3f,\"interrupted\":%s",
	    (unsigned long long)d->threads, (unsigned long long)d->size, d->duration_s,
	    d->interrupted ? "true" : "false");
	json_counts_top(f, d);
	json_dgram(f, d);
	fprintf(f, ",\"version\":\"%s\",\"start_time\":", PACKAGE_VERSION);
	json_string(f, d->start_time);
	fprintf(f, ",\"start_unix\":%.3f,\"model\":\"%s\",\"ended_in_warmup\":%s,\"options\":%s",
	    d->start_unix, d->model, d->ended_in_warmup ? "true" : "false", d->options);
	fprintf(f,
	    ",\"exit_code\":%d,\"error_rate\":%.6g,\"max_error_rate\":%.10g,"
	    "\"connection_error_rate\":%.6g,\"request_error_rate\":%.6g",
	    o->code, o->error_rate, d->max_error_rate, o->connection_error_rate,
	    o->request_error_rate);
	json_schedule(f, d);
	fprintf(f, ",\"histograms\":{\"latency\":");
	export_json_hist(f, d->latency);
	fprintf(f, ",\"connect\":");
	export_json_hist(f, d->connect);
	fprintf(f, ",\"lag\":");
	export_json_hist(f, d->lag);
	fprintf(f, ",\"connect_no_retrans\":");
	export_json_hist(f, d->connect_clean);
	fprintf(f, ",\"connect_retrans\":");
	export_json_hist(f, d->connect_retrans);
	fprintf(f, ",\"handshake_rtt\":");
	export_json_hist(f, d->rtt);
	fputc('}', f);
	json_intervals(f, d);
	fprintf(f, ",\"merged_from\":%zu,\"sources\":[", d->nsources);
	for (size_t i = 0; i < d->nsources; i++) {
		if (i > 0)
			fputc(',', f);
		json_string(f, d->sources[i].name);
	}
	fprintf(f, "]}\n");
}

void
report_write(FILE *f, const struct report_data *d, int json)
{
	if (json)
		write_json(f, d);
	else
		write_human(f, d);
}

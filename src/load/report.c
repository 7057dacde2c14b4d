/*
 * report.c: what the engineer reads: the live line, the summary, the JSON.
 *
 * The summary names each failure cause with what it usually means, since
 * "why did connections fail" is the question a load test is run to answer.
 * Latencies are kept in nanoseconds and shown in microseconds.
 */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include "load.h"

#define BAR_WIDTH 40

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

static double
report_us(uint64_t ns)
{
	return (double)ns / 1000.0;
}

/* "812.3us", "12.45ms", "1.234s" */
static const char *
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

/* "2.90 MB/s" with decimal prefixes, as network people count. */
static const char *
report_rate(double bytes_per_s, char *buf, size_t size)
{
	if (bytes_per_s >= 1e9)
		snprintf(buf, size, "%.2f GB/s", bytes_per_s / 1e9);
	else if (bytes_per_s >= 1e6)
		snprintf(buf, size, "%.2f MB/s", bytes_per_s / 1e6);
	else if (bytes_per_s >= 1e3)
		snprintf(buf, size, "%.2f kB/s", bytes_per_s / 1e3);
	else
		snprintf(buf, size, "%.0f B/s", bytes_per_s);
	return buf;
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

/*
 * One line a second: on a terminal it overwrites itself, on a pipe (when
 * asked with --progress) it is one line per second.
 */
void
report_progress(
    const struct run *r, double elapsed, const struct stats *now, const struct stats *prev, int tty)
{
	char rate[32], line[256];
	size_t n = 0;
	uint64_t errors = report_errors(now);

	n += (size_t)snprintf(line + n, sizeof line - n, "[%5.1fs] %llu/%llu open, %llu req/s, %s",
	    elapsed, (unsigned long long)now->active, (unsigned long long)r->opt.connections,
	    (unsigned long long)(now->requests - prev->requests),
	    report_rate((double)(now->bytes_received - prev->bytes_received), rate, sizeof rate));
	if (errors == 0)
		n += (size_t)snprintf(line + n, sizeof line - n, ", no errors");
	for (int e = 0; e < LERR_MAX && n < sizeof line; e++)
		if (now->errors[e] > 0)
			n += (size_t)snprintf(line + n, sizeof line - n, ", %s %llu",
			    stats_error_name(e), (unsigned long long)now->errors[e]);
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

static void
report_percentiles(FILE *f, const char *label, const struct histogram *h)
{
	static const double qs[] = { 50, 90, 99, 99.9 };
	char buf[32];

	fprintf(f, "  %-9s", label);
	if (h->count == 0) {
		fprintf(f, "%10s\n", "-");
		return;
	}
	for (size_t i = 0; i < sizeof qs / sizeof qs[0]; i++)
		fprintf(f, "%10s", report_time(hist_percentile(h, qs[i]), buf, sizeof buf));
	fprintf(f, "%10s", report_time(hist_max(h), buf, sizeof buf));
	fprintf(f, "%10s", report_time((uint64_t)hist_mean(h), buf, sizeof buf));
	fprintf(f, "%12llu\n", (unsigned long long)h->count);
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

void
report_human(FILE *f, const struct run *r, const struct stats *s, double duration_s)
{
	char rate[32], rate2[32], name[48];
	uint64_t errors = report_errors(s);
	double secs = duration_s > 0 ? duration_s : 1e-9;

	fprintf(f,
	    "synack-load %s to %s: %u connection%s, %d thread%s, %zu-byte messages, %.2f s%s\n\n",
	    r->opt.mode->name, r->opt.target_str, r->opt.connections,
	    r->opt.connections == 1 ? "" : "s", r->nworkers, r->nworkers == 1 ? "" : "s",
	    r->opt.size, duration_s, r->interrupted ? " (interrupted)" : "");
	fprintf(f, "connections  %llu attempted, %llu established\n",
	    (unsigned long long)s->attempted, (unsigned long long)s->established);
	fprintf(f, "requests     %llu, %.1f/s\n", (unsigned long long)s->requests,
	    (double)s->requests / secs);
	fprintf(f, "throughput   %s echoed and verified, %s sent\n",
	    report_rate((double)s->bytes_received / secs, rate, sizeof rate),
	    report_rate((double)s->bytes_sent / secs, rate2, sizeof rate2));
	if (errors == 0)
		fprintf(f, "errors       none\n");
	else
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
		for (int i = 0; i <= LOAD_ERRNO_MAX; i++)
			if (s->other_errno[i] > 0)
				fprintf(f, "    %-11s%10llu\n",
				    stats_errno_name(i, name, sizeof name),
				    (unsigned long long)s->other_errno[i]);
	}
	fprintf(f,
	    "\nlatency           p50       p90       p99     p99.9       max      mean       "
	    "count\n");
	report_percentiles(f, report_latency_label(r), &s->latency);
	report_percentiles(f, "connect", &s->connect);
	report_distribution(f, report_latency_label(r), &s->latency);
	if (r->opt.mode->reconnect)
		report_distribution(f, "connect", &s->connect);
}

static void
json_string(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s != '\0'; s++) {
		unsigned char ch = (unsigned char)*s;

		if (ch == '"' || ch == '\\')
			fprintf(f, "\\%c", ch);
		else if (ch < 0x20)
			fprintf(f, "\\u%04x", ch);
		else
			fputc(ch, f);
	}
	fputc('"', f);
}

static void
json_latency(FILE *f, const char *key, const struct histogram *h)
{
	fprintf(f,
	    "\"%s\":{\"count\":%llu,\"min\":%.1f,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,"
	    "\"p99\":%.1f,\"p999\":%.1f,\"max\":%.1f}",
	    key, (unsigned long long)h->count, report_us(hist_min(h)), hist_mean(h) / 1000.0,
	    report_us(hist_percentile(h, 50)), report_us(hist_percentile(h, 90)),
	    report_us(hist_percentile(h, 99)), report_us(hist_percentile(h, 99.9)),
	    report_us(hist_max(h)));
}

void
report_json(FILE *f, const struct run *r, const struct stats *s, double duration_s)
{
	double secs = duration_s > 0 ? duration_s : 1e-9;
	char name[48];
	int first = 1;

	fprintf(f, "{\"mode\":\"%s\",\"target\":", r->opt.mode->name);
	json_string(f, r->opt.target_str);
	fprintf(f, ",\"threads\":%d,\"size\":%zu,\"duration_s\":%.3f,\"interrupted\":%s,",
	    r->nworkers, r->opt.size, duration_s, r->interrupted ? "true" : "false");
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
	fprintf(f, "},\"requests\":%llu,\"requests_per_s\":%.1f,", (unsigned long long)s->requests,
	    (double)s->requests / secs);
	fprintf(f, "\"bytes_sent\":%llu,\"bytes_received\":%llu,\"bytes_per_s\":%.1f,",
	    (unsigned long long)s->bytes_sent, (unsigned long long)s->bytes_received,
	    (double)s->bytes_received / secs);
	json_latency(f, "latency_us", &s->latency);
	fputc(',', f);
	json_latency(f, "connect_latency_us", &s->connect);
	fprintf(f, "}\n");
}

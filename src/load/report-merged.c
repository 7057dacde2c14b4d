/*
 * report-merged.c: report_print(), a report from data (struct report_data)
 * rather than from a run of this process: what `synack-load merge` prints.
 *
 * The summary is report_human()'s, from a run and stats made up of the
 * merged data, followed by what only a merge has: the reports merged,
 * one line each, and the error causes or errno names that this
 * synack-load has no slot for.  The JSON has the keys of a run's --json
 * report, every statistic computed from the merged histograms, with
 * "merged_from" and "sources"; it can itself be merged again.
 */
#include "config.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonesc.h"
#include "json.h"
#include "load.h"

#define US(ns) ((double)(ns) / 1000.0) /* reported in microseconds */

static void
json_key_number(FILE *f, double q)
{
	fputc('"', f);
	json_write_double(f, q);
	fputc('"', f);
}

/* {"count",...,"percentiles":{"50":v,...}}: microseconds */
static void
json_summary(FILE *f, const char *key, const struct histogram *h, const struct report_data *d)
{
	fprintf(f,
	    "\"%s\":{\"count\":%llu,\"min\":%.1f,\"mean\":%.1f,\"p50\":%.1f,\"p90\":%.1f,"
	    "\"p99\":%.1f,\"p999\":%.1f,\"p9999\":%.1f,\"max\":%.1f,\"stddev\":%.1f,"
	    "\"percentiles\":{",
	    key, (unsigned long long)h->count, US(hist_min(h)), hist_mean(h) / 1000.0,
	    US(hist_percentile(h, 50)), US(hist_percentile(h, 90)), US(hist_percentile(h, 99)),
	    US(hist_percentile(h, 99.9)), US(hist_percentile(h, 99.99)), US(hist_max(h)),
	    hist_stddev(h) / 1000.0);
	for (int i = 0; i < d->npercentiles; i++) {
		if (i > 0)
			fputc(',', f);
		json_key_number(f, d->percentiles[i]);
		fprintf(f, ":%.1f", US(hist_percentile(h, d->percentiles[i])));
	}
	fputs("}}", f);
}

static void
json_hist_head(FILE *f, uint64_t count, uint64_t sum, uint64_t min, uint64_t max, double sumsq)
{
	fprintf(f,
	    "{\"unit\":\"ns\",\"sub_bits\":%d,\"count\":%llu,\"sum\":%llu,\"min\":%llu,"
	    "\"max\":%llu,\"sumsq\":",
	    HIST_SUB_BITS, (unsigned long long)count, (unsigned long long)sum,
	    (unsigned long long)(count == 0 ? 0 : min), (unsigned long long)max);
	json_write_double(f, sumsq);
	fputs(",\"buckets\":[", f);
}

static void
json_sparse(FILE *f, const struct hist_packed *h)
{
	json_hist_head(f, h->count, h->sum, h->min, h->max, h->sumsq);
	for (size_t i = 0; i < h->n; i++)
		fprintf(f, "%s[%u,%llu]", i == 0 ? "" : ",", h->b[i].index,
		    (unsigned long long)h->b[i].count);
	fputs("]}", f);
}

static void
json_counts(FILE *f, const struct report_count *c, size_t n)
{
	fputc('{', f);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputc(',', f);
		jsonesc_write(f, c[i].name, strlen(c[i].name));
		fprintf(f, ":%llu", (unsigned long long)c[i].n);
	}
	fputc('}', f);
}

static void
json_interval(FILE *f, const struct report_interval *r, struct histogram *scratch)
{
	hist_unpack(scratch, &r->latency);
	fprintf(f,
	    "{\"t\":%lld,\"elapsed_s\":%.3f,\"open\":%llu,\"attempted\":%llu,\"established\":%llu,"
	    "\"requests\":%llu,\"bytes_sent\":%llu,\"bytes_received\":%llu,\"errors\":",
	    (long long)r->t, r->elapsed_s, (unsigned long long)r->open,
	    (unsigned long long)r->attempted, (unsigned long long)r->established,
	    (unsigned long long)r->requests, (unsigned long long)r->bytes_sent,
	    (unsigned long long)r->bytes_received);
	json_counts(f, r->errors, r->nerrors);
	fprintf(f, ",\"latency_us\":{\"p50\":%.1f,\"p99\":%.1f,\"max\":%.1f},\"histogram\":",
	    US(hist_percentile(scratch, 50)), US(hist_percentile(scratch, 99)),
	    US(hist_max(scratch)));
	json_sparse(f, &r->latency);
	fputc('}', f);
}

static void
print_json(FILE *f, const struct report_data *d)
{
	struct histogram *scratch = malloc(sizeof *scratch);

	fprintf(f, "{\"version\":\"%s\",\"mode\":", PACKAGE_VERSION);
	jsonesc_write(f, d->mode, strlen(d->mode));
	fprintf(f, ",\"model\":\"%s\",\"target\":", d->model);
	jsonesc_write(f, d->target, strlen(d->target));
	fprintf(f,
	    ",\"threads\":%llu,\"size\":%llu,\"start_time\":", (unsigned long long)d->threads,
	    (unsigned long long)d->size);
	jsonesc_write(f, d->start_time, strlen(d->start_time));
	fputs(",\"start_unix\":", f);
	json_write_double(f, d->start_unix);
	fprintf(f, ",\"duration_s\":%.3f,\"interrupted\":%s,\"merged_from\":%zu,\"sources\":[",
	    d->duration_s, d->interrupted ? "true" : "false", d->nsources);
	for (size_t i = 0; i < d->nsources; i++) {
		if (i > 0)
			fputc(',', f);
		jsonesc_write(f, d->sources[i].name, strlen(d->sources[i].name));
	}
	fprintf(f,
	    "],\"connections\":{\"requested\":%llu,\"attempted\":%llu,\"established\":%llu},",
	    (unsigned long long)d->requested, (unsigned long long)d->attempted,
	    (unsigned long long)d->established);
	fputs("\"errors\":", f);
	json_counts(f, d->errors, d->nerrors);
	fputs(",\"other_errno\":", f);
	json_counts(f, d->other_errno, d->nother_errno);
	fprintf(f, ",\"requests\":%llu,\"requests_per_s\":", (unsigned long long)d->requests);
	report_json_per_s(f, (double)d->requests, d->duration_s);
	fprintf(f, ",\"bytes_sent\":%llu,\"bytes_received\":%llu,\"bytes_per_s\":",
	    (unsigned long long)d->bytes_sent, (unsigned long long)d->bytes_received);
	report_json_per_s(f, (double)d->bytes_received, d->duration_s);
	fputc(',', f);
	json_summary(f, "latency_us", d->latency, d);
	fputc(',', f);
	json_summary(f, "connect_latency_us", d->connect, d);
	fprintf(f, ",\"options\":%s,\"schedule\":", d->options != NULL ? d->options : "{}");
	if (d->scheduled) {
		fputs("{\"rate\":", f);
		json_write_double(f, d->rate);
		fprintf(f, ",\"due\":%llu,\"sent\":%llu,", (unsigned long long)d->due,
		    (unsigned long long)d->sent);
		json_summary(f, "lag_us", d->lag, d);
		fprintf(f, ",\"kept\":%s}", d->kept ? "true" : "false");
	} else
		fputs("null", f);
	fputs(",\"histograms\":{\"latency\":", f);
	export_json_hist(f, d->latency);
	fputs(",\"connect\":", f);
	export_json_hist(f, d->connect);
	fputs(",\"lag\":", f);
	export_json_hist(f, d->lag);
	fputs("},\"intervals\":[", f);
	for (size_t i = 0; i < d->nintervals && scratch != NULL; i++) {
		if (i > 0)
			fputc(',', f);
		json_interval(f, &d->intervals[i], scratch);
	}
	fputs("]}\n", f);
	free(scratch);
}

/* The slot of stats.other_errno[] that stats_errno_name() names so, or -1. */
static int
errno_slot(const char *name)
{
	char buf[48];

	for (int i = 0; i <= LOAD_ERRNO_MAX; i++)
		if (strcmp(stats_errno_name(i == 0 ? -1 : i, buf, sizeof buf), name) == 0)
			return i == 0 ? LOAD_ERRNO_MAX : i;
	return -1;
}

/* The merged data as a run and its stats, for report_human(). */
static void
print_human(FILE *f, const struct report_data *d)
{
	struct stats *s = malloc(sizeof *s);
	struct run *r = calloc(1, sizeof *r);
	char buf[32], rate[32];
	size_t unknown = 0, unnamed = 0;

	if (s == NULL || r == NULL) {
		free(s);
		free(r);
		fprintf(stderr, "synack-load merge: out of memory\n");
		return;
	}
	stats_init(s);
	r->opt.mode = mode_find(d->mode);
	if (r->opt.mode == NULL)
		r->opt.mode = &mode_rr;
	if (d->ntargets == 1)
		snprintf(r->opt.target_str, sizeof r->opt.target_str, "%s", d->target);
	else
		snprintf(r->opt.target_str, sizeof r->opt.target_str, "%zu targets", d->ntargets);
	r->opt.connections = d->requested > UINT_MAX ? UINT_MAX : (unsigned)d->requested;
	r->opt.size = (size_t)d->size;
	r->opt.npercentiles = d->npercentiles;
	memcpy(
	    r->opt.percentiles, d->percentiles, (size_t)d->npercentiles * sizeof d->percentiles[0]);
	r->nloaders = d->threads > INT_MAX ? INT_MAX : (int)d->threads;
	r->interrupted = d->interrupted;
	s->attempted = d->attempted;
	s->established = d->established;
	s->requests = d->requests;
	s->bytes_sent = d->bytes_sent;
	s->bytes_received = d->bytes_received;
	s->due = d->due;
	s->sent = d->sent;
	for (size_t i = 0; i < d->nerrors; i++) {
		int e;

		for (e = 0; e < LERR_MAX; e++)
			if (strcmp(stats_error_name(e), d->errors[i].name) == 0)
				break;
		if (e < LERR_MAX)
			s->errors[e] = d->errors[i].n;
		else if (d->errors[i].n > 0)
			unknown++;
	}
	for (size_t i = 0; i < d->nother_errno; i++) {
		int slot = errno_slot(d->other_errno[i].name);

		if (slot >= 0)
			s->other_errno[slot] += d->other_errno[i].n;
		else if (d->other_errno[i].n > 0)
			unnamed++;
	}
	s->latency = *d->latency;
	s->connect = *d->connect;
	s->lag = *d->lag;
	report_human(f, r, s, d->duration_s);

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
	if (unknown > 0) {
		fprintf(f, "errors of causes this synack-load does not know:\n");
		for (size_t i = 0; i < d->nerrors; i++) {
			int e;

			for (e = 0; e < LERR_MAX; e++)
				if (strcmp(stats_error_name(e), d->errors[i].name) == 0)
					break;
			if (e == LERR_MAX && d->errors[i].n > 0)
				fprintf(f, "  %-13s%10llu\n", d->errors[i].name,
				    (unsigned long long)d->errors[i].n);
		}
	}
	if (unnamed > 0) {
		fprintf(f, "other errors by an errno this system does not name:\n");
		for (size_t i = 0; i < d->nother_errno; i++)
			if (errno_slot(d->other_errno[i].name) < 0 && d->other_errno[i].n > 0)
				fprintf(f, "  %-13s%10llu\n", d->other_errno[i].name,
				    (unsigned long long)d->other_errno[i].n);
	}
	if (d->scheduled) {
		snprintf(rate, sizeof rate, "%.0f", d->rate);
		fprintf(f,
		    "schedule     %s requests/s in all, %llu due, %llu sent, %s (lag p99 %s)\n",
		    rate, (unsigned long long)d->due, (unsigned long long)d->sent,
		    d->kept ? "kept" : "not kept",
		    report_time(hist_percentile(d->lag, 99), buf, sizeof buf));
	}
	if (d->nintervals > 0)
		fprintf(f, "per second   %zu seconds aligned on the wall clock (in --json)\n",
		    d->nintervals);
	stats_destroy(s);
	free(s);
	free(r);
}

void
report_print(FILE *f, const struct report_data *d, int json)
{
	if (json)
		print_json(f, d);
	else
		print_human(f, d);
}

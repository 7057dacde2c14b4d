/* SPDX-License-Identifier: ISC */
/*
 * export.c: the run's numbers in the formats other tools read.  Pure
 * writers: a histogram or an interval in, text on a FILE out.
 *
 * .hgrm (--hgrm) is HdrHistogram's percentile distribution as text, the
 * format its plotter (plotFiles.html) and many scripts read: a header
 * line and a blank line, then one row per percentile tick -- value,
 * percentile as a fraction with 12 decimals, the count up to that value,
 * and 1/(1-percentile) -- and three "#[...]" summary lines.  The ticks
 * halve the remaining distance to 100% every 5 ticks (0%, 10% ... 50%,
 * 55% ... 75%, 77.5% ...); a tick is printed at the first non-empty bucket
 * whose cumulative count reaches it, with that bucket's highest value
 * (its upper bound, as HdrHistogram prints it, but never above the exact
 * maximum).  The ticks end at the bucket that holds the maximum, followed
 * by the 100% row, which has no fourth column.  Our buckets are
 * HdrHistogram's with 128 sub-buckets (values below 128 exact, then 64
 * buckets per power of two), so "SubBuckets" is 128 and "Buckets" the
 * 58 powers of two that cover 64-bit values.
 *
 * The time series (--timeseries) is one CSV row per interval: the same
 * fields as the JSON report's "intervals", errors by cause in the order of
 * enum load_error.
 */
#include "config.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>

#include "load.h"

#define HGRM_TICKS_PER_HALF 5
#define HGRM_BUCKETS (64 - HIST_SUB_BITS + 1) /* HdrHistogram's bucketCount */

/*
 * The tick after `level` (percent): 100 / (ticks per half * 2^(h+1)),
 * with h the number of halvings of the distance to 100% behind it.
 */
static double
hgrm_next_level(double level)
{
	double halvings = floor(log2(100.0 / (100.0 - level)));

	return level + 100.0 / (HGRM_TICKS_PER_HALF * pow(2.0, halvings + 1.0));
}

static void
hgrm_row(FILE *f, uint64_t value, double unit, double level, uint64_t cum, int last)
{
	double p = level / 100.0;

	fprintf(f, "%12.3f %2.12f %10" PRIu64, (double)value / unit, p, cum);
	if (last)
		fputc('\n', f);
	else
		fprintf(f, " %14.2f\n", 1.0 / (1.0 - p));
}

/* The distribution of h, values divided by unit (1e6: ns shown as ms). */
void
export_hgrm(FILE *f, const struct histogram *h, double unit)
{
	uint64_t cum = 0, value = 0;
	double level = 0.0;

	fprintf(
	    f, "%12s %14s %10s %14s\n\n", "Value", "Percentile", "TotalCount", "1/(1-Percentile)");
	for (size_t i = 0; i < HIST_BUCKETS && h->count > 0; i++) {
		if (h->buckets[i] == 0)
			continue;
		cum += h->buckets[i];
		value = hist_bucket_high(i);
		if (value > h->max)
			value = h->max;
		while (level < 100.0 && 100.0 * (double)cum / (double)h->count >= level) {
			hgrm_row(f, value, unit, level, cum, 0);
			level = hgrm_next_level(level);
			if (cum >= h->count)
				break; /* one tick in the last bucket, then 100% */
		}
		if (cum >= h->count)
			break;
	}
	if (h->count > 0)
		hgrm_row(f, value, unit, 100.0, h->count, 1);
	fprintf(f, "#[Mean    = %12.3f, StdDeviation   = %12.3f]\n", hist_mean(h) / unit,
	    hist_stddev(h) / unit);
	fprintf(f, "#[Max     = %12.3f, Total count    = %12" PRIu64 "]\n",
	    (double)hist_max(h) / unit, h->count);
	fprintf(f, "#[Buckets = %12d, SubBuckets     = %12u]\n", HGRM_BUCKETS, HIST_SUB_COUNT);
}

/*
 * A histogram as the JSON report gives it: exact count, sum, min, max and
 * sum of squares, and the non-empty buckets as [index, count] pairs, the
 * index as hist_bucket_index() computes it.
 */
void
export_json_hist(FILE *f, const struct histogram *h)
{
	int first = 1;

	fprintf(f,
	    "{\"unit\":\"ns\",\"sub_bits\":%d,\"count\":%" PRIu64 ",\"sum\":%" PRIu64
	    ",\"min\":%" PRIu64 ",\"max\":%" PRIu64 ",\"sumsq\":%.17g,\"buckets\":[",
	    HIST_SUB_BITS, h->count, h->sum, hist_min(h), hist_max(h), h->sumsq);
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		if (h->buckets[i] == 0)
			continue;
		fprintf(f, "%s[%zu,%" PRIu64 "]", first ? "" : ",", i, h->buckets[i]);
		first = 0;
	}
	fprintf(f, "]}");
}

/* "elapsed_s": whole seconds as integers, the last (partial) one in ms. */
void
export_elapsed(FILE *f, const struct interval *iv)
{
	if (iv->last)
		fprintf(f, "%.3f", iv->elapsed_s);
	else
		fprintf(f, "%.0f", iv->elapsed_s);
}

uint64_t
interval_failures(const struct interval *iv)
{
	uint64_t n = 0;

	for (int e = 0; e < LERR_MAX; e++)
		n += iv->errors[e];
	return n;
}

void
export_csv_header(FILE *f)
{
	fprintf(f, "time,elapsed_s,open,attempted,established,failures");
	for (int e = 0; e < LERR_MAX; e++)
		fprintf(f, ",%s", stats_error_name((enum load_error)e));
	fprintf(f,
	    ",requests,bytes_sent,bytes_received,p50_us,p99_us,max_us,syn_retrans,"
	    "datagrams_lost\n");
}

/* One interval; the latency columns are empty for a second without any. */
void
export_csv_row(FILE *f, const struct interval *iv)
{
	fprintf(f, "%lld,", (long long)iv->t);
	export_elapsed(f, iv);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, iv->open, iv->attempted,
	    iv->established, interval_failures(iv));
	for (int e = 0; e < LERR_MAX; e++)
		fprintf(f, ",%" PRIu64, iv->errors[e]);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 ",%" PRIu64, iv->requests, iv->bytes_sent,
	    iv->bytes_received);
	if (iv->latency.count == 0)
		fprintf(f, ",,,");
	else
		fprintf(f, ",%.3f,%.3f,%.3f", (double)iv->p50 / 1e3, (double)iv->p99 / 1e3,
		    (double)iv->latency.max / 1e3);
	fprintf(f, ",%" PRIu64 ",%" PRIu64 "\n", iv->syn_retransmits, iv->dgram_lost);
}

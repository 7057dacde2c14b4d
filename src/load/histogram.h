/* SPDX-License-Identifier: ISC */
/*
 * histogram.h: a latency histogram with bounded relative error and no
 * per-sample storage.
 *
 * Buckets are log-linear: values below 2^HIST_SUB_BITS each have their own
 * bucket; above that every power of two is cut into 2^(HIST_SUB_BITS-1)
 * equal buckets.  A bucket is then never wider than 1/64 of its lower bound,
 * and a percentile reported as the bucket's midpoint is within 1/128 (0.8%)
 * of a value that was recorded.  The whole uint64_t range fits in a fixed
 * array, so recording is a few shifts and one increment, merging is an
 * addition per bucket, and the memory does not grow with the sample count.
 *
 * The unit is the caller's (synack-load records nanoseconds).  Count, sum,
 * min and max are exact.  In practice: every latency from 1 us to 60 s
 * (in ns) is reported within 1% (test-histogram checks the bound at both
 * ends of every bucket in that range, and on a uniform distribution).  Nothing here allocates or
 * locks: one histogram per thread, merged at the end.
 */
#ifndef SYNACK_HISTOGRAM_H
#define SYNACK_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>

#define HIST_SUB_BITS 7
#define HIST_SUB_COUNT (1u << HIST_SUB_BITS) /* exact buckets below this */
#define HIST_HALF (HIST_SUB_COUNT / 2)       /* buckets per power of two */
#define HIST_BUCKETS ((64 - HIST_SUB_BITS) * HIST_HALF + HIST_SUB_COUNT)

struct histogram {
	uint64_t count;
	uint64_t sum; /* saturates instead of wrapping */
	double sumsq; /* of the values: the standard deviation */
	uint64_t min;
	uint64_t max;
	uint64_t buckets[HIST_BUCKETS];
};

void hist_init(struct histogram *);
void hist_record(struct histogram *, uint64_t value);
void hist_record_n(struct histogram *, uint64_t value, uint64_t n);
/*
 * src added to dst.  A count that would pass 2^64 - 1 stays there, and
 * the return is 1 (else 0); the sum saturates without saying so.
 */
int hist_merge(struct histogram *dst, const struct histogram *src);

/* 0 for an empty histogram. */
uint64_t hist_min(const struct histogram *);
uint64_t hist_max(const struct histogram *);
double hist_mean(const struct histogram *);
double hist_stddev(const struct histogram *); /* population standard deviation */

/*
 * The value at percentile q (0 to 100) by nearest rank: the smallest
 * recorded value such that at least q% of the samples are at or below it,
 * to within the bucket's relative error, and never outside [min, max].
 */
uint64_t hist_percentile(const struct histogram *, double q);

/* Bucket arithmetic, for tests and for printing a distribution. */
size_t hist_bucket_index(uint64_t value);
uint64_t hist_bucket_low(size_t index);
uint64_t hist_bucket_high(size_t index); /* inclusive */

/*
 * A histogram without its empty buckets, for keeping many of them (one a
 * second for the time series): a second's latencies fill a few hundred
 * buckets of the thousands.  Unpacked, it is the histogram it was packed
 * from, to the bit.
 */
struct hist_bucket {
	uint32_t index;
	uint64_t count;
};

struct hist_packed {
	uint64_t count, sum, min, max;
	double sumsq;
	size_t n;
	struct hist_bucket *b; /* NULL when n is 0 */
};

int hist_pack(struct hist_packed *, const struct histogram *); /* -1: no memory */
void hist_unpack(struct histogram *, const struct hist_packed *);
int hist_merge_packed(struct histogram *dst, const struct hist_packed *src); /* as hist_merge() */
void hist_packed_free(struct hist_packed *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * histogram.c: log-linear buckets (see histogram.h for the error bound).
 *
 * Index of a value v: below 2^B (B = HIST_SUB_BITS) the value itself.
 * Above, with e the position of v's highest set bit, v is shifted right by
 * s = e - B + 1 so that its top B bits m remain (2^(B-1) <= m < 2^B); the
 * bucket is s * 2^(B-1) + m.  Consecutive powers of two thus follow each
 * other without gaps, and the last bucket ends at UINT64_MAX.
 */
#include "config.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"

void
hist_init(struct histogram *h)
{
	memset(h, 0, sizeof *h);
	h->min = UINT64_MAX;
}

size_t
hist_bucket_index(uint64_t v)
{
	unsigned shift;

	if (v < HIST_SUB_COUNT)
		return (size_t)v;
	shift = (unsigned)(63 - __builtin_clzll(v)) - HIST_SUB_BITS + 1;
	return (size_t)shift * HIST_HALF + (size_t)(v >> shift);
}

uint64_t
hist_bucket_low(size_t i)
{
	unsigned shift;

	if (i < HIST_SUB_COUNT)
		return i;
	shift = (unsigned)(i / HIST_HALF) - 1;
	return (uint64_t)(i - (size_t)shift * HIST_HALF) << shift;
}

uint64_t
hist_bucket_high(size_t i)
{
	unsigned shift;

	if (i < HIST_SUB_COUNT)
		return i;
	shift = (unsigned)(i / HIST_HALF) - 1;
	return hist_bucket_low(i) + ((UINT64_C(1) << shift) - 1);
}

void
hist_record_n(struct histogram *h, uint64_t v, uint64_t n)
{
	uint64_t add;

	if (n == 0)
		return;
	h->buckets[hist_bucket_index(v)] += n;
	h->count += n;
	h->sumsq += (double)v * (double)v * (double)n;
	if (__builtin_mul_overflow(v, n, &add) || __builtin_add_overflow(h->sum, add, &h->sum))
		h->sum = UINT64_MAX;
	if (v < h->min)
		h->min = v;
	if (v > h->max)
		h->max = v;
}

void
hist_record(struct histogram *h, uint64_t v)
{
	hist_record_n(h, v, 1);
}

/* *dst + n, or UINT64_MAX and 1 if that does not fit. */
static int
add_count(uint64_t *dst, uint64_t n)
{
	if (!__builtin_add_overflow(*dst, n, dst))
		return 0;
	*dst = UINT64_MAX;
	return 1;
}

/* What a histogram and a packed one have besides their buckets, added to dst. */
static int
merge_totals(
    struct histogram *dst, uint64_t count, uint64_t sum, double sumsq, uint64_t min, uint64_t max)
{
	int overflow = add_count(&dst->count, count);

	dst->sumsq += sumsq;
	if (__builtin_add_overflow(dst->sum, sum, &dst->sum))
		dst->sum = UINT64_MAX;
	if (min < dst->min)
		dst->min = min;
	if (max > dst->max)
		dst->max = max;
	return overflow;
}

int
hist_merge(struct histogram *dst, const struct histogram *src)
{
	int overflow = 0;

	if (src->count == 0)
		return 0;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		overflow |= add_count(&dst->buckets[i], src->buckets[i]);
	return overflow | merge_totals(dst, src->count, src->sum, src->sumsq, src->min, src->max);
}

int
hist_merge_packed(struct histogram *dst, const struct hist_packed *src)
{
	int overflow = 0;

	if (src->count == 0)
		return 0;
	for (size_t i = 0; i < src->n; i++)
		overflow |= add_count(&dst->buckets[src->b[i].index], src->b[i].count);
	return overflow | merge_totals(dst, src->count, src->sum, src->sumsq, src->min, src->max);
}

uint64_t
hist_min(const struct histogram *h)
{
	return h->count == 0 ? 0 : h->min;
}

uint64_t
hist_max(const struct histogram *h)
{
	return h->max;
}

double
hist_mean(const struct histogram *h)
{
	return h->count == 0 ? 0.0 : (double)h->sum / (double)h->count;
}

double
hist_stddev(const struct histogram *h)
{
	double mean, var;

	if (h->count == 0)
		return 0.0;
	mean = (double)h->sum / (double)h->count;
	var = h->sumsq / (double)h->count - mean * mean;
	return var > 0 ? sqrt(var) : 0.0;
}

uint64_t
hist_percentile(const struct histogram *h, double q)
{
	uint64_t rank, seen = 0, low, high, mid;
	double r;

	if (h->count == 0)
		return 0;
	if (!(q > 0.0))
		q = 0.0;
	if (q > 100.0)
		q = 100.0;
	r = q / 100.0 * (double)h->count;
	rank = (uint64_t)r;
	if ((double)rank < r)
		rank++;
	if (rank <= 1)
		return h->min;
	if (rank >= h->count)
		return h->max;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen < rank)
			continue;
		low = hist_bucket_low(i);
		high = hist_bucket_high(i);
		mid = low + (high - low) / 2;
		if (mid < h->min)
			mid = h->min;
		if (mid > h->max)
			mid = h->max;
		return mid;
	}
	return h->max;
}

int
hist_pack(struct hist_packed *p, const struct histogram *h)
{
	size_t n = 0;

	memset(p, 0, sizeof *p);
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		n += h->buckets[i] != 0;
	if (n > 0 && (p->b = calloc(n, sizeof *p->b)) == NULL)
		return -1;
	for (size_t i = 0; i < HIST_BUCKETS; i++)
		if (h->buckets[i] != 0) {
			p->b[p->n].index = (uint32_t)i;
			p->b[p->n++].count = h->buckets[i];
		}
	p->count = h->count;
	p->sum = h->sum;
	p->sumsq = h->sumsq;
	p->min = h->min;
	p->max = h->max;
	return 0;
}

void
hist_unpack(struct histogram *h, const struct hist_packed *p)
{
	hist_init(h);
	for (size_t k = 0; k < p->n; k++)
		h->buckets[p->b[k].index] = p->b[k].count;
	h->count = p->count;
	h->sum = p->sum;
	h->sumsq = p->sumsq;
	h->min = p->min;
	h->max = p->max;
}

void
hist_packed_free(struct hist_packed *p)
{
	free(p->b);
	memset(p, 0, sizeof *p);
}

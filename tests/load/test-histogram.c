/* SPDX-License-Identifier: ISC */
/*
 * test-histogram.c: the latency histogram's promises.  Buckets tile the
 * whole uint64_t range without gaps or overlaps; small values are exact;
 * every percentile is within the stated relative error of the true
 * nearest-rank percentile of the samples; min, max, count and mean are
 * exact; merging equals recording everything in one.  The documented
 * bound: every latency from 1 us to 60 s (in ns) is reported within 1%,
 * alone or among others, and so are the percentiles of a uniform
 * distribution.  A packed histogram unpacks to the same bits.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "../unit/unit.h"
#include "load/histogram.h"

/* Half a bucket's width over its lower bound: 1/2^HIST_SUB_BITS. */
#define REL_ERROR (1.0 / HIST_SUB_COUNT)

static uint64_t rng = 0x2545f4914f6cdd1dULL;

/* Spread over every magnitude, as latencies from ns to minutes are. */
static uint64_t
random_value(void)
{
	unsigned bits = (unsigned)(unit_random(&rng) % 41);

	return bits == 0 ? 0 : unit_random(&rng) >> (64 - bits);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void
test_buckets_tile_the_range(void **state)
{
	(void)state;
	assert_int_equal(hist_bucket_low(0), 0);
	for (size_t i = 0; i + 1 < HIST_BUCKETS; i++) {
		assert_true(hist_bucket_low(i) <= hist_bucket_high(i));
		assert_int_equal(hist_bucket_high(i) + 1, hist_bucket_low(i + 1));
		assert_int_equal(hist_bucket_index(hist_bucket_low(i)), i);
		assert_int_equal(hist_bucket_index(hist_bucket_high(i)), i);
	}
	assert_true(hist_bucket_high(HIST_BUCKETS - 1) == UINT64_MAX);
	assert_int_equal(hist_bucket_index(UINT64_MAX), HIST_BUCKETS - 1);
}

static void
test_bucket_width_is_bounded(void **state)
{
	(void)state;
	for (size_t i = 0; i < HIST_BUCKETS; i++) {
		uint64_t low = hist_bucket_low(i), width = hist_bucket_high(i) - low + 1;

		if (low < HIST_SUB_COUNT)
			assert_int_equal(width, 1);
		else
			assert_true((double)width / (double)low <= 2 * REL_ERROR);
	}
	for (int k = 0; k < 100000; k++) {
		uint64_t v = random_value();
		size_t i = hist_bucket_index(v);

		assert_true(hist_bucket_low(i) <= v && v <= hist_bucket_high(i));
	}
}

static void
test_small_values_are_exact(void **state)
{
	struct histogram h;

	(void)state;
	hist_init(&h);
	for (uint64_t v = 1; v <= 100; v++)
		hist_record(&h, v);
	assert_int_equal(h.count, 100);
	assert_int_equal(hist_min(&h), 1);
	assert_int_equal(hist_max(&h), 100);
	assert_int_equal(hist_percentile(&h, 50), 50);
	assert_int_equal(hist_percentile(&h, 90), 90);
	assert_int_equal(hist_percentile(&h, 99), 99);
	assert_int_equal(hist_percentile(&h, 99.9), 100);
	assert_int_equal(hist_percentile(&h, 100), 100);
	assert_int_equal(hist_percentile(&h, 0), 1);
	assert_true(hist_mean(&h) > 50.49 && hist_mean(&h) < 50.51);
}

static void
test_empty(void **state)
{
	struct histogram h;

	(void)state;
	hist_init(&h);
	assert_int_equal(h.count, 0);
	assert_int_equal(hist_min(&h), 0);
	assert_int_equal(hist_max(&h), 0);
	assert_int_equal(hist_percentile(&h, 50), 0);
	assert_true(hist_mean(&h) == 0.0);
}

/* Percentiles against the sorted samples, for several distributions. */
static void
test_percentiles_within_error(void **state)
{
	static const double qs[] = { 1, 10, 25, 50, 75, 90, 99, 99.9, 99.99 };
	enum { N = 200000 };
	uint64_t *v = malloc(N * sizeof *v);
	struct histogram *h = malloc(sizeof *h);

	(void)state;
	assert_non_null(v);
	assert_non_null(h);
	for (int dist = 0; dist < 3; dist++) {
		hist_init(h);
		for (size_t i = 0; i < N; i++) {
			if (dist == 0)
				v[i] = random_value();
			else if (dist == 1) /* a latency-like hump around 20 us */
				v[i] = 15000 + unit_random(&rng) % 10000 +
				    (unit_random(&rng) % 100 == 0 ? unit_random(&rng) % 5000000
								  : 0);
			else /* heavy ties */
				v[i] = 1000 * (1 + unit_random(&rng) % 4);
			hist_record(h, v[i]);
		}
		qsort(v, N, sizeof *v, cmp_u64);
		assert_int_equal(hist_min(h), v[0]);
		assert_int_equal(hist_max(h), v[N - 1]);
		for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
			size_t rank = (size_t)(qs[k] / 100.0 * N + 0.999999);
			uint64_t want = v[rank - 1], got = hist_percentile(h, qs[k]);
			double err =
			    want == 0 ? (double)got : ((double)got - (double)want) / (double)want;

			if (err < 0)
				err = -err;
			if (want < HIST_SUB_COUNT)
				assert_int_equal(got, want);
			else if (err > REL_ERROR)
				fail_msg("distribution %d p%g: got %llu, want %llu (error %.4f)",
				    dist, qs[k], (unsigned long long)got, (unsigned long long)want,
				    err);
		}
	}
	free(v);
	free(h);
}

static void
test_merge_equals_one(void **state)
{
	struct histogram *a = malloc(sizeof *a), *b = malloc(sizeof *b), *all = malloc(sizeof *all);

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(all);
	hist_init(a);
	hist_init(b);
	hist_init(all);
	for (int i = 0; i < 50000; i++) {
		uint64_t x = random_value();

		hist_record(i % 3 ? a : b, x);
		hist_record(all, x);
	}
	assert_int_equal(hist_merge(a, b), 0);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->sum, all->sum);
	assert_int_equal(a->min, all->min);
	assert_int_equal(a->max, all->max);
	assert_memory_equal(a->buckets, all->buckets, sizeof a->buckets);

	/* merging an empty one changes nothing, into an empty one copies */
	hist_init(b);
	hist_merge(a, b);
	assert_int_equal(a->count, all->count);
	assert_int_equal(a->min, all->min);
	hist_merge(b, all);
	assert_int_equal(b->min, all->min);
	assert_int_equal(hist_percentile(b, 99), hist_percentile(all, 99));
	free(a);
	free(b);
	free(all);
}

/*
 * A packed histogram merges as the one it was packed from; a count that
 * would pass 2^64 - 1 stays at it and is reported, by both merges.
 */
static void
test_merge_packed(void **state)
{
	struct histogram *a = malloc(sizeof *a), *b = malloc(sizeof *b), *c = malloc(sizeof *c);
	struct hist_packed p;

	(void)state;
	assert_non_null(a);
	assert_non_null(b);
	assert_non_null(c);
	hist_init(a);
	hist_init(b);
	for (int i = 0; i < 20000; i++)
		hist_record(i % 2 ? a : b, random_value());
	*c = *a;
	assert_int_equal(hist_pack(&p, b), 0);
	assert_int_equal(hist_merge(a, b), 0);
	assert_int_equal(hist_merge_packed(c, &p), 0);
	assert_memory_equal(a, c, sizeof *a);
	hist_packed_free(&p);

	hist_init(a);
	hist_init(b);
	hist_record_n(a, 1000, UINT64_MAX - 1);
	hist_record_n(b, 1000, 2);
	*c = *a;
	assert_int_equal(hist_pack(&p, b), 0);
	assert_int_equal(hist_merge(a, b), 1);
	assert_int_equal(hist_merge_packed(c, &p), 1);
	assert_int_equal(a->count, UINT64_MAX);
	assert_int_equal(a->buckets[hist_bucket_index(1000)], UINT64_MAX);
	assert_memory_equal(a, c, sizeof *a);
	hist_packed_free(&p);
	free(a);
	free(b);
	free(c);
}

static void
test_record_n_and_extremes(void **state)
{
	struct histogram h, g;

	(void)state;
	hist_init(&h);
	hist_init(&g);
	hist_record_n(&h, 12345, 1000);
	for (int i = 0; i < 1000; i++)
		hist_record(&g, 12345);
	assert_memory_equal(&h, &g, sizeof h);
	hist_record_n(&h, 7, 0); /* nothing */
	assert_int_equal(h.count, 1000);
	assert_int_equal(hist_min(&h), 12345);

	hist_init(&h);
	hist_record(&h, UINT64_MAX);
	hist_record(&h, UINT64_MAX);
	assert_true(h.sum == UINT64_MAX); /* saturates */
	assert_true(hist_max(&h) == UINT64_MAX);
	assert_true(hist_percentile(&h, 50) == UINT64_MAX);
	hist_record(&h, 0);
	assert_int_equal(hist_min(&h), 0);
	assert_int_equal(hist_percentile(&h, 10), 0);
}

#define NS_1US UINT64_C(1000)
#define NS_60S UINT64_C(60000000000)
#define DOC_BOUND 0.01 /* what the man page promises */

static double
rel_error(uint64_t got, uint64_t want)
{
	return fabs((double)got - (double)want) / (double)want;
}

/*
 * Every value from 1 us to 60 s.  A bucket reports one value for all the
 * values in it (its midpoint, within [min, max]), so the error is largest
 * at the bucket's two ends: checking both ends of every bucket that meets
 * the range, and a value inside, covers every value of the range.  Alone
 * in a histogram a value comes back exactly (min = max); among values
 * far below and above it, the bucket's midpoint is what comes back.
 */
static void
test_error_bound_1us_to_60s(void **state)
{
	static const double qs[] = { 0, 1, 50, 99, 99.99, 100 };
	struct histogram *h = malloc(sizeof *h);
	size_t first = hist_bucket_index(NS_1US), last = hist_bucket_index(NS_60S);
	double worst = 0;

	(void)state;
	assert_non_null(h);
	for (size_t i = first; i <= last; i++) {
		uint64_t low = hist_bucket_low(i), high = hist_bucket_high(i);
		uint64_t vs[3];

		vs[0] = low < NS_1US ? NS_1US : low;
		vs[1] = high > NS_60S ? NS_60S : high;
		vs[2] = vs[0] + unit_random(&rng) % (vs[1] - vs[0] + 1);
		for (int k = 0; k < 3; k++) {
			uint64_t v = vs[k], got;
			double err;

			hist_init(h);
			hist_record(h, v);
			for (size_t j = 0; j < sizeof qs / sizeof qs[0]; j++) {
				got = hist_percentile(h, qs[j]);
				if (rel_error(got, v) > DOC_BOUND)
					fail_msg("%llu alone: p%g is %llu", (unsigned long long)v,
					    qs[j], (unsigned long long)got);
			}
			/* 1 ns and 1 hour around it: p50 is v's bucket, not a clamp */
			hist_record_n(h, v, 98);
			hist_record(h, 1);
			hist_record(h, UINT64_C(3600000000000));
			got = hist_percentile(h, 50);
			err = rel_error(got, v);
			if (err > worst)
				worst = err;
			if (err > DOC_BOUND || err > REL_ERROR)
				fail_msg("%llu among others: p50 is %llu (error %.5f)",
				    (unsigned long long)v, (unsigned long long)got, err);
		}
	}
	assert_true(worst > 0 && worst <= REL_ERROR);
	free(h);
}

/* 1..100000 once each, as counts and as microseconds in ns. */
static void
test_uniform_within_one_percent(void **state)
{
	static const double qs[] = { 0.1, 1, 5, 10, 25, 50, 75, 90, 95, 99, 99.5, 99.9, 99.99,
		99.999, 100 };
	enum { N = 100000 };
	struct histogram *h = malloc(sizeof *h);

	(void)state;
	assert_non_null(h);
	for (int scale = 0; scale < 2; scale++) {
		uint64_t unit = scale == 0 ? 1 : NS_1US;

		hist_init(h);
		for (uint64_t v = 1; v <= N; v++)
			hist_record(h, v * unit);
		for (size_t k = 0; k < sizeof qs / sizeof qs[0]; k++) {
			uint64_t want = (uint64_t)ceil(qs[k] / 100.0 * N) * unit;
			uint64_t got = hist_percentile(h, qs[k]);

			if (rel_error(got, want) > DOC_BOUND)
				fail_msg("uniform x%llu: p%g is %llu, want %llu",
				    (unsigned long long)unit, qs[k], (unsigned long long)got,
				    (unsigned long long)want);
		}
		assert_true(
		    fabs(hist_mean(h) - (N + 1) / 2.0 * (double)unit) < 1e-6 * (double)unit);
		/* population standard deviation of 1..N: sqrt((N^2 - 1) / 12) */
		assert_true(
		    fabs(hist_stddev(h) / (double)unit - sqrt((N * (double)N - 1) / 12.0)) < 1e-3);
	}
	free(h);
}

static void
test_pack_unpack(void **state)
{
	struct histogram *h = malloc(sizeof *h), *g = malloc(sizeof *g);
	struct hist_packed p;

	(void)state;
	assert_non_null(h);
	assert_non_null(g);
	hist_init(h);
	assert_int_equal(hist_pack(&p, h), 0);
	assert_int_equal(p.n, 0);
	assert_null(p.b);
	hist_unpack(g, &p);
	assert_memory_equal(g, h, sizeof *h);
	hist_packed_free(&p);

	for (int i = 0; i < 20000; i++)
		hist_record(h, random_value());
	assert_int_equal(hist_pack(&p, h), 0);
	assert_true(p.n > 0 && p.n < HIST_BUCKETS);
	for (size_t k = 1; k < p.n; k++)
		assert_true(p.b[k - 1].index < p.b[k].index);
	hist_unpack(g, &p);
	assert_memory_equal(g, h, sizeof *h);
	hist_packed_free(&p);
	assert_int_equal(p.n, 0);
	free(h);
	free(g);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_buckets_tile_the_range),
		cmocka_unit_test(test_bucket_width_is_bounded),
		cmocka_unit_test(test_small_values_are_exact),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_percentiles_within_error),
		cmocka_unit_test(test_merge_equals_one),
		cmocka_unit_test(test_merge_packed),
		cmocka_unit_test(test_record_n_and_extremes),
		cmocka_unit_test(test_error_bound_1us_to_60s),
		cmocka_unit_test(test_uniform_within_one_percent),
		cmocka_unit_test(test_pack_unpack),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

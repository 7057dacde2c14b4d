/* SPDX-License-Identifier: ISC */
/*
 * test-schedule.c: the open-loop schedule's promises.  Slot i's k-th event
 * is due at (i + k*slots)/rate seconds, to the nanosecond (rounded down);
 * sched_due() counts exactly the events whose time has come, so the event
 * at time t is due at t and not a nanosecond before; the slots together
 * are due at the rate, evenly spread; a time far in the run is as exact as
 * the first (no drift: nothing is accumulated); bad rates are refused.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "../unit/unit.h"
#include "load/schedule.h"

static uint64_t rng = 0x9e3779b97f4a7c15ULL;

static void
test_times(void **state)
{
	struct schedule s;

	(void)state;
	/* 2000/s over 10 connections: slot 3's 5th request at 53 * 0.5 ms */
	assert_int_equal(sched_init(&s, 2000, 10), 0);
	assert_int_equal(sched_time(&s, 0, 0), 0);
	assert_int_equal(sched_time(&s, 3, 0), 1500000);
	assert_int_equal(sched_time(&s, 3, 5), 53 * 500000ull);
	assert_int_equal(sched_time(&s, 9, 1), 19 * 500000ull);

	/* a period that is no whole number of nanoseconds: rounded down */
	assert_int_equal(sched_init(&s, 3, 1), 0);
	assert_int_equal(sched_time(&s, 0, 1), 333333333);
	assert_int_equal(sched_time(&s, 0, 2), 666666666);
	assert_int_equal(sched_time(&s, 0, 3), 1000000000);

	/* below one a second, and a fraction */
	assert_int_equal(sched_init(&s, 0.5, 4), 0);
	assert_int_equal(sched_time(&s, 1, 0), 2000000000);
	assert_int_equal(sched_time(&s, 1, 1), 10000000000ull);
	assert_int_equal(sched_init(&s, 1500.5, 1), 0);
	assert_int_equal(sched_time(&s, 0, 3001), 2000000000); /* 3001 / 1500.5 s */
}

/* The k-th event is due at its time and not one nanosecond before. */
static void
test_due_agrees_with_time(void **state)
{
	static const double rates[] = { 1, 3, 7, 1000, 2000, 4999.5, 33333, 1e6, 1e9 };
	struct schedule s;

	(void)state;
	for (size_t r = 0; r < sizeof rates / sizeof rates[0]; r++) {
		unsigned slots = (unsigned)(unit_random(&rng) % 1000) + 1;

		assert_int_equal(sched_init(&s, rates[r], slots), 0);
		for (int i = 0; i < 20000; i++) {
			unsigned slot = (unsigned)(unit_random(&rng) % slots);
			uint64_t k = unit_random(&rng) % 10000000;
			uint64_t t = sched_time(&s, slot, k);

			assert_int_equal(sched_due(&s, slot, t), k + 1);
			if (t > 0)
				assert_int_equal(sched_due(&s, slot, t - 1), k);
		}
		/* before a slot's first event: none due */
		if (slots > 1) {
			assert_int_equal(sched_due(&s, slots - 1, 0), 0);
			assert_int_equal(
			    sched_due(&s, slots - 1, sched_time(&s, slots - 1, 0) - 1), 0);
		}
		assert_int_equal(sched_due(&s, 0, 0), 1); /* slot 0 starts at once */
	}
}

/* All slots together: the rate, whatever the number of slots. */
static void
test_slots_add_up_to_the_rate(void **state)
{
	static const unsigned slot_counts[] = { 1, 7, 10, 100, 999 };
	struct schedule s;

	(void)state;
	for (size_t j = 0; j < sizeof slot_counts / sizeof slot_counts[0]; j++) {
		unsigned slots = slot_counts[j];
		uint64_t total = 0, before = 0;

		assert_int_equal(sched_init(&s, 5000, slots), 0);
		for (unsigned i = 0; i < slots; i++) {
			total += sched_due(&s, i, 3000000000ull - 1);
			before += sched_due(&s, i, 3000000000ull);
		}
		assert_int_equal(total, 15000);  /* events 0 .. 14999 in [0, 3 s) */
		assert_int_equal(before, 15001); /* and event 15000 at 3 s */
	}

	/* the n-th event of the run, whichever slot has it, at n / rate */
	assert_int_equal(sched_init(&s, 5000, 7), 0);
	for (uint64_t n = 0; n < 100000; n++)
		assert_int_equal(sched_time(&s, (unsigned)(n % 7), n / 7), n * 200000);
}

/*
 * A century at 7 a second: the 7 * 3153600000-th event is due at exactly
 * 3153600000 s (a period of 1/7 s added up that many times would not be).
 */
static void
test_no_drift(void **state)
{
	const uint64_t secs = 3153600000ull, n = 7 * secs;
	struct schedule s;

	(void)state;
	assert_int_equal(sched_init(&s, 7, 1), 0);
	assert_int_equal(sched_time(&s, 0, n), secs * 1000000000ull);
	assert_int_equal(sched_due(&s, 0, secs * 1000000000ull), n + 1);
	assert_int_equal(sched_due(&s, 0, secs * 1000000000ull - 1), n);

	/* over ten slots the same: slot 3's event at (3 + 10k) / 7 s */
	assert_int_equal(sched_init(&s, 7, 10), 0);
	assert_int_equal(
	    sched_time(&s, 3, 7000000000ull), 10000000000000000000ull + 3000000000ull / 7);
	assert_int_equal(sched_time(&s, 0, 7 * 86400), 864000ull * 1000000000ull);
}

static void
test_bad_rates_and_extremes(void **state)
{
	struct schedule s;

	(void)state;
	assert_int_equal(sched_init(&s, 0, 10), -1);
	assert_int_equal(sched_init(&s, -5, 10), -1);
	assert_int_equal(sched_init(&s, 2e9, 10), -1);
	assert_int_equal(sched_init(&s, 100, 0), -1);

	/* the fastest: one a nanosecond */
	assert_int_equal(sched_init(&s, 1e9, 1), 0);
	assert_int_equal(sched_time(&s, 0, 123456789), 123456789);
	assert_int_equal(sched_due(&s, 0, 123456789), 123456790);

	/* beyond 2^64 ns: saturates instead of wrapping */
	assert_int_equal(sched_init(&s, 1, 1000), 0);
	assert_true(sched_time(&s, 999, UINT64_MAX / 2) == UINT64_MAX);
	assert_true(sched_time(&s, 0, UINT64_MAX) == UINT64_MAX);
	assert_int_equal(sched_due(&s, 999, UINT64_MAX - 1), UINT64_MAX / 1000000000 / 1000);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_due_agrees_with_time),
		cmocka_unit_test(test_slots_add_up_to_the_rate),
		cmocka_unit_test(test_no_drift),
		cmocka_unit_test(test_bad_rates_and_extremes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

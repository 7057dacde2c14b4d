/* SPDX-License-Identifier: ISC */
/*
 * test-clock.c: the one clock is CLOCK_MONOTONIC (what the kernel's own
 * reading brackets), never goes back, and its seconds are its
 * nanoseconds.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <cmocka.h>

#include "clock.h"

static uint64_t
monotonic_ns(void)
{
	struct timespec ts;

	assert_int_equal(clock_gettime(CLOCK_MONOTONIC, &ts), 0);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void
test_is_monotonic_clock(void **state)
{
	for (int i = 0; i < 1000; i++) {
		uint64_t before = monotonic_ns(), t = clock_ns(), after = monotonic_ns();

		assert_true(before <= t);
		assert_true(t <= after);
	}
}

static void
test_never_back(void **state)
{
	uint64_t last = clock_ns(), t;

	for (int i = 0; i < 1000000; i++) {
		t = clock_ns();
		assert_true(t >= last);
		last = t;
	}
}

static void
test_seconds(void **state)
{
	double before = (double)clock_ns() / 1e9, s = clock_seconds(),
	       after = (double)clock_ns() / 1e9;

	assert_true(before <= s);
	assert_true(s <= after);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_is_monotonic_clock),
		cmocka_unit_test(test_never_back),
		cmocka_unit_test(test_seconds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * test-nofile.c: the open-file limit's plan (what soft limit fits a need
 * under a hard limit) for every case both programs meet, and the real
 * limit read without changing it.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/resource.h>

#include <cmocka.h>

#include "nofile.h"

#define INF RLIM_INFINITY

static void
test_plan(void **state)
{
	static const struct {
		rlim_t soft, hard, need;
		enum nofile_result result;
		rlim_t fit;
	} cases[] = {
		{ 1024, 4096, 100, NOFILE_ENOUGH, 1024 },
		{ 1024, 4096, 1024, NOFILE_ENOUGH, 1024 },
		{ 1024, 4096, 1025, NOFILE_RAISED, 1025 },
		{ 1024, 4096, 4096, NOFILE_RAISED, 4096 },
		{ 1024, 4096, 4097, NOFILE_SHORT, 4096 }, /* as far as the hard limit goes */
		{ 1024, 1024, 5000, NOFILE_SHORT, 1024 }, /* nowhere to go */
		{ 1024, INF, 1000000, NOFILE_RAISED, 1000000 },
		{ INF, INF, 1000000, NOFILE_ENOUGH, INF },
		{ 0, 0, 1, NOFILE_SHORT, 0 },
	};
	rlim_t fit;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fit = 12345;
		assert_int_equal(nofile_plan(cases[i].soft, cases[i].hard, cases[i].need, &fit),
		    cases[i].result);
		assert_true(fit == cases[i].fit);
	}
}

/* Not applied: the limit is read, the answer given, nothing changed. */
static void
test_raise_not_applied(void **state)
{
	struct rlimit before, after;
	struct nofile nf;
	char err[256];

	assert_int_equal(getrlimit(RLIMIT_NOFILE, &before), 0);
	assert_int_equal(nofile_raise(before.rlim_cur, 0, &nf, err, sizeof err), NOFILE_ENOUGH);
	assert_true(nf.soft == before.rlim_cur && nf.hard == before.rlim_max);
	assert_true(nf.fit == before.rlim_cur);
	if (before.rlim_max != INF && before.rlim_max > before.rlim_cur) {
		assert_int_equal(
		    nofile_raise(before.rlim_max + 1, 0, &nf, err, sizeof err), NOFILE_SHORT);
		assert_true(nf.fit == before.rlim_max);
	}
	assert_int_equal(getrlimit(RLIMIT_NOFILE, &after), 0);
	assert_true(after.rlim_cur == before.rlim_cur && after.rlim_max == before.rlim_max);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plan),
		cmocka_unit_test(test_raise_not_applied),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

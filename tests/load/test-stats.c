/* SPDX-License-Identifier: ISC */
/*
 * test-stats.c: the handshakes in a loader's counters: SYN retransmissions
 * into their buckets (0, 1, 2, 3 or more) and names, each handshake's
 * connect latency into the row its retransmissions decide, the RTT only
 * when the kernel had a sample, and the loaders' counters summed.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "load/load.h"

static void
test_bucket(void **state)
{
	static const struct {
		unsigned retrans, bucket;
		const char *name;
	} cases[] = {
		{ 0, 0, "0" },
		{ 1, 1, "1" },
		{ 2, 2, "2" },
		{ 3, 3, "3+" },
		{ 4, 3, "3+" },
		{ 6, 3, "3+" },
		{ 4294967295u, 3, "3+" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		unsigned b = stats_retrans_bucket(cases[i].retrans);

		assert_int_equal(b, cases[i].bucket);
		assert_string_equal(stats_retrans_name(b), cases[i].name);
	}
	assert_string_equal(stats_retrans_name(SYN_RETRANS_BUCKETS), "?");
}

static void
test_record(void **state)
{
	/* retransmissions, rtt (ns), syn_data, connect (ns) */
	static const struct handshake hs[] = {
		{ 0, 30000, 0, 40000 },
		{ 0, 0, 1, 50000 }, /* no RTT sample: not in the RTT histogram */
		{ 1, 31000, 0, 1002000000 },
		{ 2, 32000, 1, 3004000000 },
		{ 5, 33000, 0, 63000000000 },
	};
	struct stats *s = malloc(sizeof *s), *sum = malloc(sizeof *sum);

	(void)state;
	assert_non_null(s);
	assert_non_null(sum);
	stats_init(s);
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		stats_record_handshake(s, &hs[i]);
	assert_int_equal(s->syn_retrans[0], 2);
	assert_int_equal(s->syn_retrans[1], 1);
	assert_int_equal(s->syn_retrans[2], 1);
	assert_int_equal(s->syn_retrans[3], 1);
	assert_int_equal(s->syn_retransmits, 8);
	assert_int_equal(s->syn_data, 2);
	assert_int_equal(s->connect_clean.count, 2);
	assert_int_equal(hist_max(&s->connect_clean), 50000);
	assert_int_equal(s->connect_retrans.count, 3);
	assert_int_equal(hist_min(&s->connect_retrans), 1002000000);
	assert_int_equal(s->rtt.count, 4);
	assert_int_equal(hist_min(&s->rtt), 30000);

	/* two loaders' counters add up */
	stats_init(sum);
	stats_merge(sum, s);
	stats_merge(sum, s);
	assert_int_equal(sum->syn_retrans[0], 4);
	assert_int_equal(sum->syn_retrans[3], 2);
	assert_int_equal(sum->syn_retransmits, 16);
	assert_int_equal(sum->syn_data, 4);
	assert_int_equal(sum->connect_clean.count, 4);
	assert_int_equal(sum->connect_retrans.count, 6);
	assert_int_equal(sum->rtt.count, 8);

	/* the warm-up's handshakes are forgotten with the rest */
	stats_reset_measures(s);
	assert_int_equal(s->syn_retrans[1], 0);
	assert_int_equal(s->syn_retransmits, 0);
	assert_int_equal(s->syn_data, 0);
	assert_int_equal(s->connect_retrans.count, 0);
	assert_int_equal(s->rtt.count, 0);
	stats_destroy(s);
	stats_destroy(sum);
	free(s);
	free(sum);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_record),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

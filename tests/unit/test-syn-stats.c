/* SPDX-License-Identifier: ISC */
/*
 * test-syn-stats.c: a save_syn listener's SYN counts added up as a
 * request reads them: MSS tables merged (a value counted by two workers
 * once, values past the merged table's room "other"), the top values
 * kept for showing with the rest in "other", the last SYNs of two
 * workers merged newest-kept and oldest-first; and a socket that has no
 * saved SYN counted as unread, its connect-line field empty.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cmocka.h>

#include "syn-stats.h"

/* A worker's table: values given in order, with their counts. */
static void
table(struct syn_counts *c, const uint32_t *mss, const uint64_t *n, int k)
{
	memset(c, 0, sizeof *c);
	for (int i = 0; i < k; i++) {
		c->mss[i].mss = mss[i];
		c->mss[i].n = n[i];
	}
	c->nmss = k;
}

static uint64_t
count_of(const struct syn_counts *c, uint32_t mss)
{
	for (int i = 0; i < c->nmss; i++)
		if (c->mss[i].mss == mss)
			return c->mss[i].n;
	return 0;
}

static void
test_mss_merge_top(void **state)
{
	static const uint32_t m1[] = { 1460, 1200, 536, 1400, 1380, 1360, 1340, 1320 };
	static const uint64_t n1[] = { 50, 10, 1, 2, 3, 4, 5, 6 };
	static const uint32_t m2[] = { 1200, 9000, 1300 };
	static const uint64_t n2[] = { 45, 7, 8 };
	struct syn_counts a, b, sum;
	uint64_t total = 0;

	table(&a, m1, n1, 8);
	a.mss_other = 3;
	a.mss_none = 2;
	table(&b, m2, n2, 3);
	memset(&sum, 0, sizeof sum);
	syn_counts_add(&sum, &a);
	syn_counts_add(&sum, &b);
	assert_int_equal(sum.nmss, 10);
	assert_int_equal(count_of(&sum, 1200), 55);
	syn_counts_top(&sum);
	assert_int_equal(sum.nmss, SYN_MSS_SHOWN);
	/* by count, most first: 1200 (55), 1460 (50), 1300 (8), 9000 (7), 1320 (6), ... */
	assert_int_equal(sum.mss[0].mss, 1200);
	assert_int_equal(sum.mss[1].mss, 1460);
	assert_int_equal(sum.mss[2].mss, 1300);
	assert_int_equal(sum.mss[3].mss, 9000);
	for (int i = 1; i < sum.nmss; i++)
		assert_true(sum.mss[i - 1].n >= sum.mss[i].n);
	/* 536 (1) and 1400 (2) did not make it: "other", with the workers' own */
	assert_int_equal(count_of(&sum, 536), 0);
	assert_int_equal(sum.mss_other, 3 + 1 + 2);
	assert_int_equal(sum.mss_none, 2);
	for (int i = 0; i < sum.nmss; i++)
		total += sum.mss[i].n;
	assert_int_equal(total + sum.mss_other, 50 + 10 + 1 + 2 + 3 + 4 + 5 + 6 + 3 + 45 + 7 + 8);
}

/* More distinct values than the merged table holds: the rest are "other". */
static void
test_mss_merge_full(void **state)
{
	struct syn_counts one, sum;

	memset(&sum, 0, sizeof sum);
	for (uint32_t v = 0; v < SYN_MSS_MERGED + 6; v++) {
		table(&one, &v, &(uint64_t){ 1 }, 1);
		syn_counts_add(&sum, &one);
	}
	assert_int_equal(sum.nmss, SYN_MSS_MERGED);
	assert_int_equal(sum.mss_other, 6);
}

/* Two workers' last SYNs: the newest SYN_LAST of both, oldest first. */
static void
test_last_merge(void **state)
{
	struct syn_counts a, b, sum;

	memset(&a, 0, sizeof a);
	memset(&b, 0, sizeof b);
	/* a: times 0, 2, ..., 30 in a ring whose oldest is at next = 5 */
	for (unsigned i = 0; i < SYN_LAST; i++)
		a.last[(5 + i) % SYN_LAST].time_ms = 2 * (int64_t)i;
	a.nlast = SYN_LAST;
	a.next = 5;
	/* b: times 1, 3, 5, 7: four kept */
	for (unsigned i = 0; i < 4; i++)
		b.last[i].time_ms = 2 * (int64_t)i + 1;
	b.nlast = 4;
	b.next = 4;
	memset(&sum, 0, sizeof sum);
	syn_counts_add(&sum, &a);
	syn_counts_add(&sum, &b);
	assert_int_equal(sum.nlast, SYN_LAST);
	assert_int_equal(sum.next, 0);
	/* of 0, 2, ..., 30 and 1, 3, 5, 7 (20), the newest 16: from 4 on */
	for (unsigned i = 1; i < SYN_LAST; i++)
		assert_true(sum.last[i - 1].time_ms <= sum.last[i].time_ms);
	assert_int_equal(sum.last[SYN_LAST - 1].time_ms, 30);
	assert_int_equal(sum.last[0].time_ms, 4);
}

/* A socket without a saved SYN (here not TCP at all): unread, no field. */
static void
test_take_unread(void **state)
{
	struct syn_stats *st = syn_stats_new();
	struct syn_counts sum;
	struct sockaddr_storage ss = { .ss_family = AF_UNIX };
	char field[SYN_FIELDSLEN] = "stale";
	int sv[2];

	assert_non_null(st);
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	syn_stats_take(st, sv[0], (struct sockaddr *)&ss, sizeof ss.ss_family, field, sizeof field);
	assert_string_equal(field, "");
	memset(&sum, 0, sizeof sum);
	syn_stats_add(&sum, st);
	assert_int_equal(sum.unread, 1);
	assert_int_equal(sum.saved, 0);
	assert_true(syn_counts_any(&sum));
	close(sv[0]);
	close(sv[1]);
	syn_stats_free(st);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mss_merge_top),
		cmocka_unit_test(test_mss_merge_full),
		cmocka_unit_test(test_last_merge),
		cmocka_unit_test(test_take_unread),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * test-ratelimit.c: udp_rate's token buckets: one second's worth at once,
 * refilled at the rate, per IPv4 address and per IPv6 /64, in a table
 * that stays the same size whatever the number of sources.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "ratelimit.h"
#include "sources.h"

static struct source_key
key(const char *addr)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct source_key k;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1)
		ss.ss_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		ss.ss_family = AF_INET6;
	}
	assert_int_equal(source_key((struct sockaddr *)&ss, &k), 0);
	return k;
}

/* How many of n datagrams at now_ms get an answer. */
static int
burst_in(struct rate_table *t, uint32_t scope, const char *addr, uint64_t now_ms, long rate, int n)
{
	struct source_key k = key(addr);
	int allowed = 0;

	for (int i = 0; i < n; i++)
		allowed += rate_allow(t, scope, &k, now_ms, rate);
	return allowed;
}

static int
burst(struct rate_table *t, const char *addr, uint64_t now_ms, long rate, int n)
{
	return burst_in(t, 1, addr, now_ms, rate, n);
}

static void
test_rate(void **state)
{
	struct rate_table *t = calloc(1, sizeof *t);

	assert_non_null(t);
	/* 0: no limit */
	assert_int_equal(burst(t, "192.0.2.1", 1000, 0, 10000), 10000);
	/* a new source: one second's worth at once, then nothing */
	assert_int_equal(burst(t, "192.0.2.1", 1000, 5, 100), 5);
	assert_int_equal(burst(t, "192.0.2.1", 1100, 5, 100), 0);
	/* 200 ms refill one answer at 5 a second */
	assert_int_equal(burst(t, "192.0.2.1", 1200, 5, 100), 1);
	/* long quiet: full again, never more than a second's worth */
	assert_int_equal(burst(t, "192.0.2.1", 60000, 5, 100), 5);
	/* another source is not charged for the first */
	assert_int_equal(burst(t, "192.0.2.2", 60000, 5, 100), 5);
	/* IPv6: one /64 shares a bucket, another /64 has its own */
	assert_int_equal(burst(t, "2001:db8::1", 60000, 3, 2), 2);
	assert_int_equal(burst(t, "2001:db8::ffff:1", 60000, 3, 100), 1);
	assert_int_equal(burst(t, "2001:db8:0:1::1", 60000, 3, 100), 3);
	/* an IPv4-mapped peer is its IPv4 address */
	assert_int_equal(burst(t, "::ffff:192.0.2.2", 60000, 5, 100), 0);
	/* a rate of 1000 and more refills each millisecond */
	assert_int_equal(burst(t, "198.51.100.1", 1000, 100000, 200000), 100000);
	assert_int_equal(burst(t, "198.51.100.1", 1001, 100000, 200000), 100);
	/* a lower rate after a reload caps what was kept */
	assert_int_equal(burst(t, "198.51.100.9", 1000, 50, 1), 1);
	assert_int_equal(burst(t, "198.51.100.9", 1000, 2, 100), 2);
	free(t);
}

/* Many more sources than slots: the table is what it is; each new source starts full. */
static void
test_rate_bounded(void **state)
{
	struct rate_table *t = calloc(1, sizeof *t);
	char addr[64];
	int allowed = 0;

	assert_non_null(t);
	for (int i = 0; i < 4 * RATE_TABLE_SIZE; i++) {
		snprintf(
		    addr, sizeof addr, "10.%d.%d.%d", (i >> 16) & 255, (i >> 8) & 255, i & 255);
		allowed += burst(t, addr, 5000, 1, 3);
	}
	assert_int_equal(allowed, 4 * RATE_TABLE_SIZE);
	/* the most recent are still remembered: no second answer this second */
	assert_int_equal(burst(t, addr, 5000, 1, 3), 0);
	free(t);
}

/* One table per worker: each socket (scope) keeps its own buckets, and forgets them when it goes.
 */
static void
test_rate_scopes(void **state)
{
	struct rate_table *t = calloc(1, sizeof *t);

	assert_non_null(t);
	assert_int_equal(burst_in(t, 1, "192.0.2.1", 1000, 5, 100), 5);
	/* the same source on another socket of the worker: a bucket of its own */
	assert_int_equal(burst_in(t, 2, "192.0.2.1", 1000, 3, 100), 3);
	assert_int_equal(burst_in(t, 1, "192.0.2.1", 1000, 5, 100), 0);
	assert_int_equal(burst_in(t, 2, "192.0.2.1", 1000, 3, 100), 0);
	/* socket 1 is gone: a new socket numbered 1 starts full; socket 2 still remembers */
	rate_forget(t, 1);
	assert_int_equal(burst_in(t, 1, "192.0.2.1", 1000, 5, 100), 5);
	assert_int_equal(burst_in(t, 2, "192.0.2.1", 1000, 3, 100), 0);
	free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rate),
		cmocka_unit_test(test_rate_bounded),
		cmocka_unit_test(test_rate_scopes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

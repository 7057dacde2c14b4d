/* SPDX-License-Identifier: ISC */
/*
 * test-sources.c: the per-source client counts behind
 * max_clients_per_source: what a source is, and the table's counting.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/un.h>

#include <cmocka.h>

#include "sources.h"

static struct source_key
key_of(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
	struct source_key k;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else {
		assert_int_equal(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
	}
	assert_int_equal(source_key((struct sockaddr *)&ss, &k), 0);
	return k;
}

static int
same(const char *a, const char *b)
{
	struct source_key ka = key_of(a), kb = key_of(b);

	return memcmp(&ka, &kb, sizeof ka) == 0;
}

/* IPv4 by address, IPv6 by /64, an IPv4-mapped client as its IPv4 address. */
static void
test_source_key(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct source_key k;
	char buf[64];

	assert_true(same("192.0.2.7", "192.0.2.7"));
	assert_false(same("192.0.2.7", "192.0.2.8"));
	assert_true(same("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff"));
	assert_false(same("2001:db8:1:2::1", "2001:db8:1:3::1"));
	assert_true(same("::ffff:192.0.2.7", "192.0.2.7"));
	assert_false(same("::ffff:192.0.2.7", "::ffff:192.0.2.8"));
	/* a v4-mapped address is not lumped with the whole ::ffff:0:0/64 */
	assert_false(same("::ffff:192.0.2.7", "::ffff:0:1"));
	assert_false(same("::1", "0.0.0.1"));

	k = key_of("192.0.2.7");
	assert_string_equal(source_key_str(&k, buf, sizeof buf), "192.0.2.7");
	k = key_of("::ffff:10.1.2.3");
	assert_string_equal(source_key_str(&k, buf, sizeof buf), "10.1.2.3");
	k = key_of("2001:db8:1:2:3:4:5:6");
	assert_string_equal(source_key_str(&k, buf, sizeof buf), "2001:db8:1:2::/64");

	assert_int_equal(source_key((struct sockaddr *)&sun, &k), -1);
}

static void
test_counts(void **state)
{
	struct sources *t = sources_new();
	struct source_key a = key_of("10.0.0.1"), b = key_of("10.0.0.2");

	assert_non_null(t);
	assert_int_equal(sources_count(t, &a), 0);
	assert_int_equal(sources_add(t, &a), 0);
	assert_int_equal(sources_add(t, &a), 0);
	assert_int_equal(sources_add(t, &b), 0);
	assert_int_equal(sources_count(t, &a), 2);
	assert_int_equal(sources_count(t, &b), 1);
	assert_int_equal(sources_size(t), 2);
	sources_remove(t, &a);
	assert_int_equal(sources_count(t, &a), 1);
	sources_remove(t, &a);
	assert_int_equal(sources_count(t, &a), 0);
	assert_int_equal(sources_size(t), 1); /* a source without clients is forgotten */
	sources_remove(t, &a);                /* not counted: nothing happens */
	assert_int_equal(sources_count(t, &b), 1);
	sources_free(t);
}

/* Many sources: the table grows and every count stays right. */
static void
test_many(void **state)
{
	struct sources *t = sources_new();
	enum { N = 20000 };
	struct source_key k;
	char text[32];

	assert_non_null(t);
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof text, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		k = key_of(text);
		for (int j = 0; j <= i % 3; j++)
			assert_int_equal(sources_add(t, &k), 0);
	}
	assert_int_equal(sources_size(t), N);
	for (int i = 0; i < N; i++) {
		snprintf(text, sizeof text, "10.%d.%d.%d", i >> 16, (i >> 8) & 255, i & 255);
		k = key_of(text);
		assert_int_equal(sources_count(t, &k), (unsigned)(i % 3 + 1));
		if (i % 2 == 0)
			for (int j = 0; j <= i % 3; j++)
				sources_remove(t, &k);
	}
	assert_int_equal(sources_size(t), N / 2);
	sources_free(t);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source_key),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_many),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

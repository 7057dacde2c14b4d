/* SPDX-License-Identifier: ISC */
/*
 * test-srcaddr.c: --bind's address lists (srcaddr_parse): single addresses,
 * lists and inclusive ranges in order, IPv4 and IPv6, a range that
 * carries into the next byte; the refusals, each naming --bind; and the
 * largest range, 65,536 addresses, parsed with a handful of reallocations
 * (the array grows geometrically: one realloc per address was quadratic,
 * two minutes under AddressSanitizer) and in well under a second.
 *
 * realloc is counted through the linker's --wrap (include.am).
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "load/load.h"

void *__real_realloc(void *, size_t);
void *__wrap_realloc(void *, size_t);

static unsigned reallocs;

void *
__wrap_realloc(void *p, size_t n)
{
	reallocs++;
	return __real_realloc(p, n);
}

/* The address i of src, formatted. */
static const char *
addr_at(const struct srcaddrs *src, size_t i, char *buf, size_t size)
{
	const struct sockaddr_storage *ss = &src->addrs[i].ss;

	if (ss->ss_family == AF_INET)
		return inet_ntop(
		    AF_INET, &((const struct sockaddr_in *)ss)->sin_addr, buf, (socklen_t)size);
	return inet_ntop(
	    AF_INET6, &((const struct sockaddr_in6 *)ss)->sin6_addr, buf, (socklen_t)size);
}

static void
test_lists(void **state)
{
	static const struct {
		const char *spec;
		const char *want[8];
	} cases[] = {
		{ "127.0.0.1", { "127.0.0.1" } },
		{ "10.0.0.1,10.0.0.5-10.0.0.9",
		    { "10.0.0.1", "10.0.0.5", "10.0.0.6", "10.0.0.7", "10.0.0.8", "10.0.0.9" } },
		{ "10.0.0.254-10.0.1.1", { "10.0.0.254", "10.0.0.255", "10.0.1.0", "10.0.1.1" } },
		{ "10.0.0.3-10.0.0.3", { "10.0.0.3" } },
		{ "::1-::3,2001:db8::ffff-2001:db8::1:0",
		    { "::1", "::2", "::3", "2001:db8::ffff", "2001:db8::1:0" } },
	};
	struct srcaddrs src;
	char err[LOAD_ERRLEN], buf[INET6_ADDRSTRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t n = 0;

		while (n < 8 && cases[i].want[n] != NULL)
			n++;
		memset(&src, 0, sizeof src);
		if (srcaddr_parse(&src, cases[i].spec, err, sizeof err) == -1)
			fail_msg("\"%s\": %s", cases[i].spec, err);
		assert_int_equal(src.n, n);
		for (size_t k = 0; k < n; k++)
			assert_string_equal(addr_at(&src, k, buf, sizeof buf), cases[i].want[k]);
		srcaddr_free(&src);
		assert_null(src.addrs);
		assert_int_equal(src.n, 0);
	}
}

static void
test_refused(void **state)
{
	static const struct {
		const char *spec, *why;
	} cases[] = {
		{ "nonsense", "--bind" },
		{ "", "no address" },
		{ ",", "no address" },
		{ "10.0.0.9-10.0.0.1", "ends before it starts" },
		{ "127.0.0.1-::1", "must be IPv4 or both IPv6" },
		{ "127.0.0.1,::1", "mixes IPv4 and IPv6" },
		{ "unix:/tmp/x", "numeric IPv4 or IPv6" },
		{ "10.0.0.0-10.1.0.0", "more than 65536 source addresses" },
		{ "10.0.0.0-10.0.255.255,10.1.0.0", "more than 65536 source addresses" },
	};
	struct srcaddrs src;
	char err[LOAD_ERRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&src, 0, sizeof src);
		err[0] = '\0';
		if (srcaddr_parse(&src, cases[i].spec, err, sizeof err) != -1)
			fail_msg("\"%s\" accepted", cases[i].spec);
		if (strncmp(err, "--bind", 6) != 0 || strstr(err, cases[i].why) == NULL)
			fail_msg(
			    "\"%s\": \"%s\" does not say \"%s\"", cases[i].spec, err, cases[i].why);
		/* nothing is left allocated */
		assert_null(src.addrs);
		assert_int_equal(src.n, 0);
	}
}

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void
test_largest_range(void **state)
{
	struct srcaddrs src;
	char err[LOAD_ERRLEN], buf[INET6_ADDRSTRLEN];
	double t0, took;

	(void)state;
	memset(&src, 0, sizeof src);
	reallocs = 0;
	t0 = now_s();
	if (srcaddr_parse(&src, "10.0.0.0-10.0.255.255", err, sizeof err) == -1)
		fail_msg("%s", err);
	took = now_s() - t0;
	assert_int_equal(src.n, 65536);
	assert_string_equal(addr_at(&src, 0, buf, sizeof buf), "10.0.0.0");
	assert_string_equal(addr_at(&src, 300, buf, sizeof buf), "10.0.1.44");
	assert_string_equal(addr_at(&src, 65535, buf, sizeof buf), "10.0.255.255");
	/* doubling from 16: 12 reallocations; one per address would be 65,536 */
	if (reallocs > 20)
		fail_msg("65,536 addresses took %u reallocations", reallocs);
	if (took > 2.0)
		fail_msg("65,536 addresses took %.2f s to parse", took);
	srcaddr_free(&src);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lists),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_largest_range),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * test-cidr.c: network lists (proxy_from): what parses, what is refused
 * and why, and which peers match, IPv4-mapped IPv6 peers included.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <cmocka.h>

#include "cidr.h"

static void
parse_or_fail(struct cidr_list *l, const char *s)
{
	char err[256];

	if (cidr_list_parse(l, s, err, sizeof err) != 0)
		fail_msg("cidr_list_parse(\"%s\"): %s", s, err);
}

/* The list, formatted back: "a/b, c/d". */
static const char *
list_str(const struct cidr_list *l)
{
	static char buf[1024];
	char one[CIDR_STRLEN];
	size_t off = 0;

	buf[0] = '\0';
	for (size_t i = 0; i < l->n; i++)
		off += (size_t)snprintf(buf + off, sizeof buf - off, "%s%s", i > 0 ? ", " : "",
		    cidr_format(&l->v[i], one, sizeof one));
	return buf;
}

static void
test_parse_good(void **state)
{
	static const struct {
		const char *text;
		const char *want; /* formatted back */
	} cases[] = {
		{ "127.0.0.2", "127.0.0.2/32" },
		{ "10.0.0.0/8", "10.0.0.0/8" },
		{ "0.0.0.0/0", "0.0.0.0/0" },
		{ "192.0.2.128/25", "192.0.2.128/25" },
		{ "192.0.2.7/32", "192.0.2.7/32" },
		{ "::1", "::1/128" },
		{ "[::1]", "::1/128" },
		{ "::1/128", "::1/128" },
		{ "[2001:DB8::]/32", "2001:db8::/32" },
		{ "2001:db8:0:8000::/49", "2001:db8:0:8000::/49" },
		{ "::/0", "::/0" },
		{ "::ffff:127.0.0.1", "::ffff:127.0.0.1/128" },
		{ "10.0.0.0/008", "10.0.0.0/8" },
		/* blanks around entries and commas */
		{ "127.0.0.2,10.0.0.0/8", "127.0.0.2/32, 10.0.0.0/8" },
		{ " \t127.0.0.2 ,\t::1/128 , 192.0.2.0/24\t ",
		    "127.0.0.2/32, ::1/128, 192.0.2.0/24" },
		{ "127.0.0.2, 127.0.0.2", "127.0.0.2/32, 127.0.0.2/32" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cidr_list l;

		parse_or_fail(&l, cases[i].text);
		if (strcmp(list_str(&l), cases[i].want) != 0)
			fail_msg("\"%s\": got \"%s\", want \"%s\"", cases[i].text, list_str(&l),
			    cases[i].want);
		cidr_list_free(&l);
		assert_null(l.v);
		assert_int_equal(l.n, 0);
	}
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *text;
		const char *error;
	} cases[] = {
		{ "", "no address (ADDR[/PREFIX], separated by commas)" },
		{ " \t ", "no address" },
		{ "127.0.0.2,", "an empty entry in \"127.0.0.2,\"" },
		{ ",127.0.0.2", "an empty entry in" },
		{ "127.0.0.2, ,::1", "an empty entry in" },
		{ "localhost", "\"localhost\" is not a numeric IPv4 or IPv6 address" },
		{ "127.0.0.256", "\"127.0.0.256\" is not a numeric IPv4 or IPv6 address" },
		{ "127.1", "\"127.1\" is not a numeric" },
		{ "[127.0.0.1]", "\"[127.0.0.1]\" is not a numeric" },
		{ "fe80::1%lo", "\"fe80::1%lo\" is not a numeric" },
		{ "127.0.0.1 ::1", "\"127.0.0.1 ::1\" is not a numeric" },
		{ "*", "\"*\" is not a numeric" },
		{ "unix:/run/s", "\"unix:/run/s\" is not a numeric" },
		{ "[::1", "\"[::1\" is not [IPV6] or [IPV6]/PREFIX" },
		{ "[::1]64", "\"[::1]64\" is not [IPV6] or [IPV6]/PREFIX" },
		{ "10.0.0.0/33", "\"10.0.0.0/33\": the prefix is not a number from 0 to 32" },
		{ "::/129", "\"::/129\": the prefix is not a number from 0 to 128" },
		{ "10.0.0.0/", "the prefix is not a number from 0 to 32" },
		{ "10.0.0.0/-8", "the prefix is not a number" },
		{ "10.0.0.0/+8", "the prefix is not a number" },
		{ "10.0.0.0/ 8", "the prefix is not a number" },
		{ "10.0.0.0/0x8", "the prefix is not a number" },
		{ "10.0.0.0/0008", "the prefix is not a number" },
		{ "10.0.0.0/8/8", "the prefix is not a number" },
		{ "[::1]/", "the prefix is not a number from 0 to 128" },
		{ "10.0.0.1/8",
		    "\"10.0.0.1/8\": bits set past the /8 prefix (the network is "
		    "10.0.0.0/8)" },
		{ "192.0.2.129/25", "(the network is 192.0.2.128/25)" },
		{ "0.0.0.1/0", "(the network is 0.0.0.0/0)" },
		{ "2001:db8::1/32", "(the network is 2001:db8::/32)" },
		{ "::1/127", "(the network is ::/127)" },
		{ "127.0.0.2, 10.0.0.1/8, ::1", "\"10.0.0.1/8\": bits set past" },
		{ "0123456789012345678901234567890123456789012345678901234567890123456789",
		    "\"01234567890123456789012345678901...\" is not an address" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct cidr_list l = { (struct cidr *)&l, 99 }; /* overwritten */
		char err[256];

		memset(err, 'x', sizeof err);
		if (cidr_list_parse(&l, cases[i].text, err, sizeof err) != -1) {
			cidr_list_free(&l);
			fail_msg("\"%s\": accepted", cases[i].text);
		}
		if (strstr(err, cases[i].error) == NULL)
			fail_msg(
			    "\"%s\": got \"%s\", want \"%s\"", cases[i].text, err, cases[i].error);
		/* a refusal leaves nothing to free */
		assert_null(l.v);
		assert_int_equal(l.n, 0);
	}
}

static struct sockaddr_storage
peer(const char *text)
{
	struct sockaddr_storage ss;
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	memset(&ss, 0, sizeof ss);
	if (inet_pton(AF_INET, text, &sin->sin_addr) == 1)
		sin->sin_family = AF_INET;
	else if (inet_pton(AF_INET6, text, &sin6->sin6_addr) == 1)
		sin6->sin6_family = AF_INET6;
	else
		fail_msg("bad test peer \"%s\"", text);
	return ss;
}

static void
test_match(void **state)
{
	static const struct {
		const char *list;
		const char *peer;
		int match;
	} cases[] = {
		{ "127.0.0.2", "127.0.0.2", 1 },
		{ "127.0.0.2", "127.0.0.3", 0 },
		{ "127.0.0.2", "127.0.0.1", 0 },
		/* a dual-stack listener's IPv4 peers */
		{ "127.0.0.2", "::ffff:127.0.0.2", 1 },
		{ "127.0.0.2", "::ffff:127.0.0.3", 0 },
		{ "10.0.0.0/8", "::ffff:10.200.3.4", 1 },
		{ "10.0.0.0/8", "::ffff:11.0.0.0", 0 },
		/* an IPv4 address is not its IPv6 namesakes */
		{ "127.0.0.2", "::127.0.0.2", 0 },
		{ "127.0.0.2", "::1", 0 },
		{ "0.0.0.0/0", "::1", 0 },
		{ "0.0.0.0/0", "198.51.100.1", 1 },
		/* IPv6 entries see an IPv4 peer as its mapped address */
		{ "::ffff:127.0.0.2", "127.0.0.2", 1 },
		{ "::ffff:0.0.0.0/96", "203.0.113.9", 1 },
		{ "::/0", "203.0.113.9", 1 },
		{ "::1/128", "127.0.0.1", 0 },
		{ "2001:db8::/32", "127.0.0.1", 0 },
		/* IPv6 */
		{ "::1/128", "::1", 1 },
		{ "::1", "::2", 0 },
		{ "2001:db8::/32", "2001:db8:ffff::1", 1 },
		{ "2001:db8::/32", "2001:db9::1", 0 },
		{ "::/0", "2001:db8::1", 1 },
		/* prefixes that end inside a byte */
		{ "192.0.2.128/25", "192.0.2.128", 1 },
		{ "192.0.2.128/25", "192.0.2.255", 1 },
		{ "192.0.2.128/25", "192.0.2.127", 0 },
		{ "10.0.0.0/9", "10.127.255.255", 1 },
		{ "10.0.0.0/9", "10.128.0.0", 0 },
		{ "2001:db8:0:8000::/49", "2001:db8:0:ffff::1", 1 },
		{ "2001:db8:0:8000::/49", "2001:db8:0:7fff::1", 0 },
		{ "0.0.0.0/1", "127.255.255.255", 1 },
		{ "0.0.0.0/1", "128.0.0.0", 0 },
		/* any entry of a list */
		{ "192.0.2.0/24, ::1, 127.0.0.2", "127.0.0.2", 1 },
		{ "192.0.2.0/24, ::1, 127.0.0.2", "::1", 1 },
		{ "192.0.2.0/24, ::1, 127.0.0.2", "192.0.2.99", 1 },
		{ "192.0.2.0/24, ::1, 127.0.0.2", "127.0.0.1", 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct sockaddr_storage ss = peer(cases[i].peer);
		struct cidr_list l;
		int got;

		parse_or_fail(&l, cases[i].list);
		got = cidr_list_match(&l, (struct sockaddr *)&ss);
		cidr_list_free(&l);
		if (got != cases[i].match)
			fail_msg("\"%s\" against %s: got %d, want %d", cases[i].list, cases[i].peer,
			    got, cases[i].match);
	}
}

/* A unix peer has no address: no list holds it. */
static void
test_match_unix(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	struct cidr_list l;

	parse_or_fail(&l, "0.0.0.0/0, ::/0");
	assert_int_equal(cidr_list_match(&l, (struct sockaddr *)&sun), 0);
	cidr_list_free(&l);
}

static void
test_copy(void **state)
{
	struct cidr_list a, b, empty = { NULL, 0 };

	parse_or_fail(&a, "127.0.0.2, 2001:db8::/32");
	assert_int_equal(cidr_list_copy(&b, &a), 0);
	assert_int_equal(b.n, 2);
	assert_ptr_not_equal(b.v, a.v);
	assert_memory_equal(b.v, a.v, 2 * sizeof *a.v);
	cidr_list_free(&a);
	assert_string_equal(list_str(&b), "127.0.0.2/32, 2001:db8::/32");
	cidr_list_free(&b);
	assert_int_equal(cidr_list_copy(&b, &empty), 0);
	assert_null(b.v);
	assert_int_equal(b.n, 0);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_match_unix),
		cmocka_unit_test(test_copy),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

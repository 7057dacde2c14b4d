/*
 * test-activation.c: socket activation's pure parts: LISTEN_PID and
 * LISTEN_FDS, the names in LISTEN_FDNAMES, and which inherited address a
 * listener's address matches.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "synackd.h"

static void
test_count(void **state)
{
	char err[256];

	(void)state;
	/* not for us */
	assert_int_equal(activation_count(NULL, NULL, 42, err, sizeof err), 0);
	assert_int_equal(activation_count(NULL, "2", 42, err, sizeof err), 0);
	assert_int_equal(activation_count("42", NULL, 42, err, sizeof err), 0);
	assert_int_equal(activation_count("41", "2", 42, err, sizeof err), 0);
	/* ours */
	assert_int_equal(activation_count("42", "0", 42, err, sizeof err), 0);
	assert_int_equal(activation_count("42", "1", 42, err, sizeof err), 1);
	assert_int_equal(activation_count("42", "3", 42, err, sizeof err), 3);
	assert_int_equal(activation_count("42", "4096", 42, err, sizeof err), ACTIVATION_FDS_MAX);
	/* not numbers */
	assert_int_equal(activation_count("", "1", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("0", "1", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("-42", "1", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("42x", "1", 42, err, sizeof err), -1);
	assert_non_null(strstr(err, "LISTEN_PID=\"42x\""));
	assert_int_equal(activation_count("99999999999999999999", "1", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("42", "", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("42", "-1", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("42", " 1", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("42", "1 ", 42, err, sizeof err), -1);
	assert_int_equal(activation_count("42", "4097", 42, err, sizeof err), -1);
	assert_non_null(strstr(err, "LISTEN_FDS=\"4097\""));
}

static void
test_names(void **state)
{
	char buf[ACTIVATION_NAME_MAX], small[4];

	(void)state;
	assert_string_equal(activation_name(NULL, 0, buf, sizeof buf), "");
	assert_string_equal(activation_name("", 0, buf, sizeof buf), "");
	assert_string_equal(activation_name("echo", 0, buf, sizeof buf), "echo");
	assert_string_equal(activation_name("echo", 1, buf, sizeof buf), "");
	assert_string_equal(activation_name("echo:chat", 0, buf, sizeof buf), "echo");
	assert_string_equal(activation_name("echo:chat", 1, buf, sizeof buf), "chat");
	assert_string_equal(activation_name("echo:chat", 2, buf, sizeof buf), "");
	assert_string_equal(activation_name(":chat", 0, buf, sizeof buf), "");
	assert_string_equal(activation_name(":chat", 1, buf, sizeof buf), "chat");
	assert_string_equal(activation_name("a::c", 1, buf, sizeof buf), "");
	assert_string_equal(activation_name("a::c", 2, buf, sizeof buf), "c");
	assert_string_equal(activation_name("a:", 1, buf, sizeof buf), "");
	assert_string_equal(activation_name("daytime:x", 0, small, sizeof small), "day");
}

static struct net_addr
addr(const char *host, int port)
{
	struct net_addr a;
	char err[256];

	if (net_addr_parse(&a, host, port, err, sizeof err) != 0)
		fail_msg("net_addr_parse(\"%s\", %d): %s", host, port, err);
	return a;
}

static void
test_match(void **state)
{
	struct net_addr want, got;

	(void)state;
	want = addr("127.0.0.1", 7007);
	got = addr("127.0.0.1", 7007);
	assert_true(activation_addr_match(&want, &got));
	got = addr("127.0.0.1", 7008);
	assert_false(activation_addr_match(&want, &got));
	assert_true(activation_family_ok(&want, &got));
	got = addr("127.0.0.2", 7007);
	assert_false(activation_addr_match(&want, &got));
	got = addr("0.0.0.0", 7007);
	assert_false(activation_addr_match(&want, &got));
	got = addr("::1", 7007);
	assert_false(activation_addr_match(&want, &got));
	assert_false(activation_family_ok(&want, &got));
	got = addr("unix:/run/echo", 0);
	assert_false(activation_addr_match(&want, &got));
	assert_false(activation_family_ok(&want, &got));

	/* port 0 matches no address: only a name */
	want = addr("127.0.0.1", 0);
	got = addr("127.0.0.1", 0);
	assert_false(activation_addr_match(&want, &got));
	got = addr("127.0.0.1", 7007);
	assert_false(activation_addr_match(&want, &got));

	/* "*": the wildcard of either family */
	want = addr("*", 7007);
	got = addr("::", 7007);
	assert_true(activation_addr_match(&want, &got));
	got = addr("0.0.0.0", 7007);
	assert_true(activation_addr_match(&want, &got));
	assert_true(activation_family_ok(&want, &got));
	got = addr("::1", 7007);
	assert_false(activation_addr_match(&want, &got));
	got = addr("::", 7008);
	assert_false(activation_addr_match(&want, &got));

	want = addr("::1", 7007);
	got = addr("::1", 7007);
	assert_true(activation_addr_match(&want, &got));
	got = addr("127.0.0.1", 7007);
	assert_false(activation_addr_match(&want, &got));

	want = addr("unix:/run/echo", 0);
	got = addr("unix:/run/echo", 0);
	assert_true(activation_addr_match(&want, &got));
	assert_true(activation_family_ok(&want, &got));
	got = addr("unix:/run/echo2", 0);
	assert_false(activation_addr_match(&want, &got));
	got = addr("127.0.0.1", 7007);
	assert_false(activation_addr_match(&want, &got));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_match),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
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

#include "activation.h"
#include "net.h"
#include "unit.h"

/* What activation_count() makes of LISTEN_PID and LISTEN_FDS, for pid 42. */
static void
test_count(void **state)
{
	static const struct {
		const char *pid, *fds;
		int n, ours;
		const char *err; /* in the message when n is -1 */
	} cases[] = {
		/* not for us */
		{ NULL, NULL, 0, 0, NULL },
		{ NULL, "2", 0, 0, NULL },
		{ "42", NULL, 0, 0, NULL },
		{ "41", "2", 0, 0, NULL },
		{ "41", "-1", 0, 0, NULL }, /* another's LISTEN_FDS is not ours to judge */
		/* ours */
		{ "42", "0", 0, 1, NULL },
		{ "42", "1", 1, 1, NULL },
		{ "42", "3", 3, 1, NULL },
		{ "42", "4096", ACTIVATION_FDS_MAX, 1, NULL },
		/* LISTEN_PID no process id: whose the sockets are is not known */
		{ "", "1", -1, 0, "LISTEN_PID=\"\"" },
		{ "0", "1", -1, 0, "LISTEN_PID=\"0\"" },
		{ "-42", "1", -1, 0, "LISTEN_PID=\"-42\"" },
		{ "42x", "1", -1, 0, "LISTEN_PID=\"42x\"" },
		{ "99999999999999999999", "1", -1, 0, "is not a process id" },
		/* ours, but no count: -1, and still ours */
		{ "42", "", -1, 1, "LISTEN_FDS=\"\"" },
		{ "42", "-1", -1, 1, "LISTEN_FDS=\"-1\" is not a number from 0 to 4096" },
		{ "42", " 1", -1, 1, "LISTEN_FDS=\" 1\"" },
		{ "42", "1 ", -1, 1, "LISTEN_FDS=\"1 \"" },
		{ "42", "three", -1, 1, "LISTEN_FDS=\"three\"" },
		{ "42", "4097", -1, 1, "LISTEN_FDS=\"4097\"" },
		{ "42", "99999999999999999999", -1, 1, "is not a number from 0 to 4096" },
	};
	char err[256];
	int ours;

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		err[0] = '\0';
		ours = -1;
		assert_int_equal(
		    activation_count(cases[i].pid, cases[i].fds, 42, &ours, err, sizeof err),
		    cases[i].n);
		assert_int_equal(ours, cases[i].ours);
		if (cases[i].err != NULL && strstr(err, cases[i].err) == NULL)
			fail_msg("case %zu: \"%s\" not in \"%s\"", i, cases[i].err, err);
	}
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

static void
test_match(void **state)
{
	struct net_addr want, got;

	(void)state;
	want = unit_addr("127.0.0.1", 7007);
	got = unit_addr("127.0.0.1", 7007);
	assert_true(activation_addr_match(&want, &got));
	got = unit_addr("127.0.0.1", 7008);
	assert_false(activation_addr_match(&want, &got));
	assert_true(activation_family_ok(&want, &got));
	got = unit_addr("127.0.0.2", 7007);
	assert_false(activation_addr_match(&want, &got));
	got = unit_addr("0.0.0.0", 7007);
	assert_false(activation_addr_match(&want, &got));
	got = unit_addr("::1", 7007);
	assert_false(activation_addr_match(&want, &got));
	assert_false(activation_family_ok(&want, &got));
	got = unit_addr("unix:/run/echo", 0);
	assert_false(activation_addr_match(&want, &got));
	assert_false(activation_family_ok(&want, &got));

	/* port 0 matches no address: only a name */
	want = unit_addr("127.0.0.1", 0);
	got = unit_addr("127.0.0.1", 0);
	assert_false(activation_addr_match(&want, &got));
	got = unit_addr("127.0.0.1", 7007);
	assert_false(activation_addr_match(&want, &got));

	/* "*": the wildcard of either family */
	want = unit_addr("*", 7007);
	got = unit_addr("::", 7007);
	assert_true(activation_addr_match(&want, &got));
	got = unit_addr("0.0.0.0", 7007);
	assert_true(activation_addr_match(&want, &got));
	assert_true(activation_family_ok(&want, &got));
	got = unit_addr("::1", 7007);
	assert_false(activation_addr_match(&want, &got));
	got = unit_addr("::", 7008);
	assert_false(activation_addr_match(&want, &got));

	want = unit_addr("::1", 7007);
	got = unit_addr("::1", 7007);
	assert_true(activation_addr_match(&want, &got));
	got = unit_addr("127.0.0.1", 7007);
	assert_false(activation_addr_match(&want, &got));

	want = unit_addr("unix:/run/echo", 0);
	got = unit_addr("unix:/run/echo", 0);
	assert_true(activation_addr_match(&want, &got));
	assert_true(activation_family_ok(&want, &got));
	got = unit_addr("unix:/run/echo2", 0);
	assert_false(activation_addr_match(&want, &got));
	got = unit_addr("127.0.0.1", 7007);
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

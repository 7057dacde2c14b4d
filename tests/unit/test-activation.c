/* SPDX-License-Identifier: ISC */
/*
 * test-activation.c: socket activation's pure parts: LISTEN_PID and
 * LISTEN_FDS, the names in LISTEN_FDNAMES, which inherited address a
 * listener's address matches, and which inherited socket a listener takes
 * (by name, else by address, and only of its transport).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <cmocka.h>

#include "activation.h"
#include "conf.h"
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

/*
 * activation_take(): four inherited sockets, a stream and a datagram one
 * on 127.0.0.1:7007, a datagram one named "dns" on 127.0.0.1:7008 and a
 * stream one on ::1:7009; which one each listener takes, in order, and
 * which listener of the other transport a socket left over fitted.
 */
static void
test_take(void **state)
{
	static const struct {
		const char *name, *addr;
		int port;
		enum transport transport;
		int fd; /* taken, or -1 */
	} cases[] = {
		{ "u7", "127.0.0.1", 7007, TRANSPORT_UDP, 4 },   /* the datagram one */
		{ "t7", "127.0.0.1", 7007, TRANSPORT_TCP, 3 },   /* the stream one */
		{ "u7b", "127.0.0.1", 7007, TRANSPORT_UDP, -1 }, /* both taken */
		{ "dns", "127.0.0.1", 0, TRANSPORT_TCP, -1 },    /* its name, not its type */
		{ "u9", "::1", 7009, TRANSPORT_UDP, -1 },        /* its address, not its type */
		{ "dns", "127.0.0.1", 0, TRANSPORT_UDP, 5 },     /* by name */
		{ "t9", "*", 7009, TRANSPORT_TCP, -1 },          /* "*" is no ::1 */
	};
	static const struct {
		const char *name, *addr;
		int port, type;
	} fds[] = {
		{ "", "127.0.0.1", 7007, SOCK_STREAM },
		{ "", "127.0.0.1", 7007, SOCK_DGRAM },
		{ "dns", "127.0.0.1", 7008, SOCK_DGRAM },
		{ "", "::1", 7009, SOCK_STREAM },
	};
	struct activation_fd f[sizeof fds / sizeof fds[0]];
	struct activation act = { .n = (int)(sizeof fds / sizeof fds[0]), .fds = f };
	struct listener_conf lc;
	struct activation_fd *got;

	(void)state;
	memset(f, 0, sizeof f);
	for (size_t i = 0; i < sizeof fds / sizeof fds[0]; i++) {
		f[i].fd = 3 + (int)i;
		f[i].type = fds[i].type;
		f[i].addr = unit_addr(fds[i].addr, fds[i].port);
		snprintf(f[i].name, sizeof f[i].name, "%s", fds[i].name);
	}
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(&lc, 0, sizeof lc);
		lc.name = (char *)cases[i].name;
		lc.addr = unit_addr(cases[i].addr, cases[i].port);
		lc.transport = cases[i].transport;
		got = activation_take(&act, &lc);
		assert_int_equal(got != NULL ? got->fd : -1, cases[i].fd);
		if (got != NULL)
			assert_int_equal(got->state, ACTIVATION_ADOPTED);
	}
	assert_int_equal(f[3].state, ACTIVATION_FREE);
	assert_string_equal(f[3].other, "u9");
	assert_null(activation_take(NULL, &lc));
	assert_int_equal(activation_type(TRANSPORT_UDP), SOCK_DGRAM);
	assert_int_equal(activation_type(TRANSPORT_TCP), SOCK_STREAM);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_count),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_take),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

/* SPDX-License-Identifier: ISC */
/*
 * test-datagram.c: which sources a UDP listener never answers: port 0,
 * the ports of echo, discard, daytime, chargen and time (bad_source), and
 * the ports of synackd's own UDP listeners (own_port), IPv4 and IPv6.
 */
#include "config.h"

#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "datagram.h"
#include "stats.h"

static int
drop(const char *addr, uint16_t port, const uint16_t *own, size_t nown)
{
	struct sockaddr_storage ss = { 0 };
	struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;

	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons(port);
	} else {
		assert_int_equal(inet_pton(AF_INET6, addr, &sin6->sin6_addr), 1);
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons(port);
	}
	return datagram_source_drop((struct sockaddr *)&ss, own, nown);
}

static void
test_source(void **state)
{
	static const uint16_t own[] = { 7000, 40001, 65535 }; /* sorted, as the workers get them */
	static const struct {
		const char *addr;
		uint16_t port;
		int want;
	} cases[] = {
		{ "192.0.2.1", 0, DGRAM_DROP_BAD_SOURCE },
		{ "192.0.2.1", 7, DGRAM_DROP_BAD_SOURCE },
		{ "192.0.2.1", 9, DGRAM_DROP_BAD_SOURCE },
		{ "192.0.2.1", 13, DGRAM_DROP_BAD_SOURCE },
		{ "192.0.2.1", 19, DGRAM_DROP_BAD_SOURCE },
		{ "2001:db8::1", 37, DGRAM_DROP_BAD_SOURCE },
		{ "192.0.2.1", 7000, DGRAM_DROP_OWN_PORT },
		{ "2001:db8::1", 40001, DGRAM_DROP_OWN_PORT },
		{ "::ffff:192.0.2.1", 65535, DGRAM_DROP_OWN_PORT },
		{ "192.0.2.1", 8, -1 },
		{ "192.0.2.1", 6999, -1 },
		{ "192.0.2.1", 7001, -1 },
		{ "2001:db8::1", 40000, -1 },
		{ "192.0.2.1", 65534, -1 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++)
		assert_int_equal(drop(cases[i].addr, cases[i].port, own, 3), cases[i].want);
	/* no own ports (none yet): only the fixed ones */
	assert_int_equal(drop("192.0.2.1", 7000, NULL, 0), -1);
	assert_int_equal(drop("192.0.2.1", 19, NULL, 0), DGRAM_DROP_BAD_SOURCE);
}

/* Every port, against own sets of every size from 0 to 5: only the six and the set's. */
static void
test_every_port(void **state)
{
	static const uint16_t bad[] = { 0, 7, 9, 13, 19, 37 };
	static const uint16_t own[] = { 38, 63, 64, 7000, 65535 };

	for (size_t n = 0; n <= sizeof own / sizeof own[0]; n++)
		for (unsigned port = 0; port <= 65535; port++) {
			int want = -1;

			for (size_t i = 0; i < n; i++)
				if (own[i] == port)
					want = DGRAM_DROP_OWN_PORT;
			for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++)
				if (bad[i] == port)
					want = DGRAM_DROP_BAD_SOURCE;
			if (drop("192.0.2.1", (uint16_t)port, own, n) != want)
				fail_msg("port %u with %zu own ports: %d, not %d", port, n,
				    drop("192.0.2.1", (uint16_t)port, own, n), want);
		}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_source),
		cmocka_unit_test(test_every_port),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

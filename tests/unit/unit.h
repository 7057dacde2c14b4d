/* SPDX-License-Identifier: ISC */
/*
 * unit.h: what the cmocka unit tests (tests/unit, tests/load) share: an
 * address from its text or a failed test, text that must or must not hold
 * a piece (saying what it held), and a repeatable pseudo-random sequence.
 * Static inline, so that each test program takes only what it uses.
 */
#ifndef SYNACK_UNIT_H
#define SYNACK_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "net.h"

/* host and port as a listener's config gives them ("*", "::", an address,
 * unix:PATH); a parse failure fails the test, naming the input. */
static inline struct net_addr
unit_addr(const char *host, int port)
{
	struct net_addr a;
	char err[256];

	if (net_addr_parse(&a, host, port, err, sizeof err) != 0)
		fail_msg("net_addr_parse(\"%s\", %d): %s", host, port, err);
	return a;
}

/* text holds want; else the test fails, showing the text. */
static inline void
unit_has(const char *text, const char *want)
{
	if (text == NULL || want == NULL)
		abort();
	if (strstr(text, want) == NULL)
		fail_msg("expected \"%s\" in:\n%s", want, text);
}

/* text does not hold unwanted; else the test fails, showing the text. */
static inline void
unit_lacks(const char *text, const char *unwanted)
{
	if (text == NULL || unwanted == NULL)
		abort();
	if (strstr(text, unwanted) != NULL)
		fail_msg("did not expect \"%s\" in:\n%s", unwanted, text);
}

/* xorshift64: the same sequence on every run from the same non-zero seed,
 * so that a failure can be run again. */
static inline uint64_t
unit_random(uint64_t *state)
{
	uint64_t x = *state;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*state = x;
	return x;
}

#endif

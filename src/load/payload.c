/* SPDX-License-Identifier: ISC */
/*
 * payload.c: the bytes every mode but chat sends.
 *
 * One read-only buffer for the whole run: pseudo-random bytes repeating
 * with a prime period, long enough that any message (or stream write)
 * starting at any offset of the period is one contiguous slice.  Requests
 * start at different offsets, so an echo that comes back stale, shifted,
 * duplicated or from another connection differs from what is expected,
 * and checking it is a memcmp() against the same buffer: no per-request
 * generation, no copy.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

int
payload_init(struct run *r, char *err, size_t errlen)
{
	size_t span = r->opt.size > LOAD_READ_MAX ? r->opt.size : LOAD_READ_MAX;
	uint64_t x = 0x9e3779b97f4a7c15ULL;

	if (span < LOAD_WRITE_MAX)
		span = LOAD_WRITE_MAX;
	r->payload_len = PAYLOAD_PERIOD + span;
	if ((r->payload = malloc(r->payload_len)) == NULL) {
		snprintf(err, errlen, "no memory for %zu bytes of payload", r->payload_len);
		return -1;
	}
	for (size_t i = 0; i < PAYLOAD_PERIOD; i++) {
		/* xorshift64: cheap, and no byte pattern a server could fake */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		r->payload[i] = (unsigned char)(x >> 32);
	}
	for (size_t i = PAYLOAD_PERIOD; i < r->payload_len; i++)
		r->payload[i] = r->payload[i - PAYLOAD_PERIOD];
	return 0;
}

/* The bytes at stream position pos; valid for max(size, LOAD_WRITE_MAX) bytes. */
const unsigned char *
payload_at(const struct run *r, uint64_t pos)
{
	return r->payload + pos % PAYLOAD_PERIOD;
}

/* Index of the first byte that differs, or n if none does. */
size_t
payload_mismatch(const unsigned char *got, const unsigned char *want, size_t n)
{
	size_t i;

	if (memcmp(got, want, n) == 0)
		return n;
	for (i = 0; i < n; i++)
		if (got[i] != want[i])
			break;
	return i;
}

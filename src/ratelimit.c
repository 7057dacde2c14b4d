/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.c: udp_rate's token buckets, a pure function of the table,
 * the source and the time.
 *
 * A source may have `rate` answers a second, and as many at once (a
 * bucket of one second's worth, full for a source not seen before).
 * Tokens are counted in thousandths so that a rate below 1000 a second
 * still refills by whole units each millisecond.  The table has a fixed
 * size (one per worker, shared by its sockets: each bucket belongs to a
 * scope, the socket's number, so that every listener keeps its own rate
 * per source): a scope and source hash to RATE_PROBE slots, and when none is its own or
 * free the one counted longest ago is taken over.  So the memory is
 * bounded whatever the sources; a flood of spoofed sources can at worst
 * make a real one start over with a full bucket, one second's worth.
 */
#include "config.h"

#include <string.h>

#include "ratelimit.h"

static uint32_t
rate_hash(uint32_t scope, const struct source_key *k)
{
	uint32_t h = 2166136261u; /* FNV-1a */

	for (int i = 0; i < 4; i++)
		h = (h ^ ((scope >> (8 * i)) & 0xff)) * 16777619u;
	h = (h ^ k->family) * 16777619u;
	for (size_t i = 0; i < sizeof k->addr; i++)
		h = (h ^ k->addr[i]) * 16777619u;
	return h;
}

static struct rate_entry *
rate_slot(
    struct rate_table *t, uint32_t scope, const struct source_key *k, long rate, uint64_t now_ms)
{
	uint32_t h = rate_hash(scope, k);
	struct rate_entry *oldest = NULL;

	for (uint32_t i = 0; i < RATE_PROBE; i++) {
		struct rate_entry *e = &t->e[(h + i) % RATE_TABLE_SIZE];

		if (e->used && e->scope == scope && memcmp(&e->key, k, sizeof *k) == 0)
			return e;
		if (!e->used) {
			oldest = e;
			break;
		}
		if (oldest == NULL || e->last_ms < oldest->last_ms)
			oldest = e;
	}
	/* NOLINTNEXTLINE(clang-analyzer-core.NullDereference): RATE_PROBE > 0 */
	*oldest = (struct rate_entry){ .key = *k, .used = 1, .scope = scope, .last_ms = now_ms };
	oldest->tokens = (uint64_t)rate * 1000;
	return oldest;
}

/* 1: this source may have an answer now (and is charged one); 0: not. rate 0: any. */
int
rate_allow(
    struct rate_table *t, uint32_t scope, const struct source_key *k, uint64_t now_ms, long rate)
{
	struct rate_entry *e;
	uint64_t cap = (uint64_t)rate * 1000;

	if (rate <= 0)
		return 1;
	e = rate_slot(t, scope, k, rate, now_ms);
	if (now_ms > e->last_ms) {
		uint64_t add = (now_ms - e->last_ms) * (uint64_t)rate;

		e->tokens = e->tokens + add > cap ? cap : e->tokens + add;
		e->last_ms = now_ms;
	}
	if (e->tokens > cap)
		e->tokens = cap; /* a reload lowered the rate */
	if (e->tokens < 1000)
		return 0;
	e->tokens -= 1000;
	return 1;
}

/*
 * A socket is gone: its buckets are free again, so that a later socket
 * given the same number starts with full ones.
 */
void
rate_forget(struct rate_table *t, uint32_t scope)
{
	for (size_t i = 0; i < RATE_TABLE_SIZE; i++)
		if (t->e[i].used && t->e[i].scope == scope)
			t->e[i].used = 0;
}

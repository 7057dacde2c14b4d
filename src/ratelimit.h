/* SPDX-License-Identifier: ISC */
/*
 * ratelimit.h: ratelimit.c's interface: udp_rate, a token bucket per
 * socket and source (an IPv4 address or an IPv6 /64) in a table of fixed
 * size, one per worker.
 */
#ifndef SYNACK_RATELIMIT_H
#define SYNACK_RATELIMIT_H

#include <stdint.h>

#include "sources.h"

#define RATE_TABLE_SIZE 4096 /* sources remembered per worker; more evict the oldest */
#define RATE_PROBE 8         /* slots looked at per source */

struct rate_entry {
	struct source_key key;
	uint8_t used;
	uint32_t scope;   /* whose bucket: the socket's number on its worker */
	uint64_t last_ms; /* when its tokens were last counted */
	uint64_t tokens;  /* in thousandths of an answer */
};

struct rate_table {
	struct rate_entry e[RATE_TABLE_SIZE];
};

int rate_allow(
    struct rate_table *, uint32_t scope, const struct source_key *, uint64_t now_ms, long rate);
void rate_forget(struct rate_table *, uint32_t scope);

#endif

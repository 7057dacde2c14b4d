/* SPDX-License-Identifier: ISC */
/*
 * syn-stats.h: what a save_syn listener learnt of its clients' SYNs
 * (syn.h parses each): counts by MSS and by option set, the SYNs that
 * did not parse by reason, and the last few SYNs with their peers.
 */
#ifndef SYNACK_SYN_STATS_H
#define SYNACK_SYN_STATS_H

#include <netinet/in.h>
#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#include "syn.h"

#define SYN_MSS_SLOTS 8   /* MSS values an acceptor counts apart, the first seen */
#define SYN_MSS_MERGED 64 /* ... its listener, all acceptors together, when read */
#define SYN_MSS_SHOWN 8   /* ... shown: the most counted; the rest are "other" */
#define SYN_LAST 16       /* the last SYNs kept */

struct syn_mss_count {
	uint32_t mss;
	uint64_t n;
};

struct syn_seen {
	struct syn_info info;
	union {
		struct sockaddr sa;
		struct sockaddr_in sin;
		struct sockaddr_in6 sin6;
	} peer;
	socklen_t peerlen;
	int64_t time_ms; /* wall clock, milliseconds since the epoch */
};

struct syn_counts {
	uint64_t saved;  /* SYNs read and parsed */
	uint64_t unread; /* clients whose SYN the kernel had not saved */
	uint64_t invalid[SYN_ERRORS];
	int nmss;
	struct syn_mss_count mss[SYN_MSS_MERGED]; /* in the order first seen, or by count */
	uint64_t mss_other, mss_none;
	uint64_t options[SYN_OPT_SETS]; /* by set of SYN_OPT_* bits */
	unsigned nlast;                 /* SYNs kept in last[] */
	unsigned next;                  /* where the next one goes, over the oldest */
	struct syn_seen last[SYN_LAST]; /* in a sum (syn_counts_add): oldest first */
};

struct syn_stats;

struct syn_stats *syn_stats_new(void);
void syn_stats_free(struct syn_stats *);
void syn_stats_take(
    struct syn_stats *, int fd, const struct sockaddr *, socklen_t, char *field, size_t fieldlen);
void syn_stats_add(struct syn_counts *sum, struct syn_stats *);
void syn_counts_add(struct syn_counts *sum, const struct syn_counts *);
void syn_counts_top(struct syn_counts *);
int syn_counts_any(const struct syn_counts *);

#endif

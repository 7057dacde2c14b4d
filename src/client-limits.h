/* SPDX-License-Identifier: ISC */
/*
 * client-limits.h: limits.c's interface: the limits that hold for all
 * workers together.  (Not limits.h: that name is the C library's, and
 * -Isrc would put this one in its place.)
 */
#ifndef SYNACK_CLIENT_LIMITS_H
#define SYNACK_CLIENT_LIMITS_H

#include <pthread.h>
#include <stdint.h>

#include "log.h"
#include "sources.h"

/*
 * Told when `full` changes (max_clients reached, or a slot free again),
 * on the thread that changed it: n clients now, under max.
 */
typedef void limits_full_fn(void *arg, int full, unsigned long n, long max);

struct limits {
	unsigned long nclients; /* all workers together (atomic) */
	long max_clients;       /* (atomic) */
	int full;               /* max_clients reached: accepting paused (atomic) */
	uint64_t full_count;    /* times it was reached (atomic) */
	limits_full_fn *full_changed;
	void *arg;
	pthread_mutex_t sources_mu;
	struct sources *sources;         /* clients per source address, under sources_mu */
	struct log_limit per_source_log; /* sources refused by max_clients_per_source */
	struct log_limit untrusted_log;  /* peers refused by proxy_from */
};

struct limits *limits_new(long max_clients, limits_full_fn *, void *arg);
void limits_free(struct limits *);
int limits_admit(struct limits *);
void limits_release(struct limits *);
void limits_set_max(struct limits *, long max_clients);
int limits_full(const struct limits *);
unsigned long limits_clients(const struct limits *);
long limits_max(const struct limits *);
uint64_t limits_full_count(const struct limits *);
int limits_source_add(struct limits *, const struct source_key *, long limit);
void limits_source_remove(struct limits *, const struct source_key *);

#endif

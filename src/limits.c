/* SPDX-License-Identifier: ISC */
/*
 * limits.c: admission: the limits that hold for all workers together
 * (max_clients, max_clients_per_source), and the `full` flag that pauses
 * every worker's accepting.
 *
 * max_clients is exact across workers: a slot is taken with a
 * compare-and-swap before a client is served (limits_admit), and the
 * thread that takes the last one, or frees it, changes `full` and tells
 * the owner (full_changed), which has every worker look again.  The
 * per-source counts are touched at accept and close only, never per
 * byte: a mutex is fine there.
 */
#include "config.h"

#include <stdlib.h>

#include "client-limits.h"

struct limits *
limits_new(long max_clients, limits_full_fn *full_changed, void *arg)
{
	struct limits *l;

	if ((l = calloc(1, sizeof *l)) == NULL)
		return NULL;
	if ((l->sources = sources_new()) == NULL) {
		free(l);
		return NULL;
	}
	l->max_clients = max_clients;
	l->full_changed = full_changed;
	l->arg = arg;
	pthread_mutex_init(&l->sources_mu, NULL);
	return l;
}

void
limits_free(struct limits *l)
{
	if (l == NULL)
		return;
	sources_free(l->sources);
	pthread_mutex_destroy(&l->sources_mu);
	free(l);
}

/*
 * Bring `full` in line with the count.  Workers race here, so it loops
 * until what it read is what it set: the last to change the count always
 * leaves the right state behind.
 */
static void
limits_update_full(struct limits *l)
{
	unsigned long n;
	long max;
	int want, cur;

	for (;;) {
		n = __atomic_load_n(&l->nclients, __ATOMIC_ACQUIRE);
		max = __atomic_load_n(&l->max_clients, __ATOMIC_RELAXED);
		want = n >= (unsigned long)max;
		cur = __atomic_load_n(&l->full, __ATOMIC_ACQUIRE);
		if (want == cur)
			return;
		if (!__atomic_compare_exchange_n(
			&l->full, &cur, want, 0, __ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE))
			continue;
		if (want)
			__atomic_add_fetch(&l->full_count, 1, __ATOMIC_RELAXED);
		l->full_changed(l->arg, want, n, max);
	}
}

/* Take a client slot, if one is free under max_clients; any thread. */
int
limits_admit(struct limits *l)
{
	unsigned long n = __atomic_load_n(&l->nclients, __ATOMIC_RELAXED);

	do {
		if (n >= (unsigned long)__atomic_load_n(&l->max_clients, __ATOMIC_RELAXED))
			return 0;
	} while (!__atomic_compare_exchange_n(
	    &l->nclients, &n, n + 1, 0, __ATOMIC_ACQ_REL, __ATOMIC_RELAXED));
	limits_update_full(l);
	return 1;
}

void
limits_release(struct limits *l)
{
	__atomic_sub_fetch(&l->nclients, 1, __ATOMIC_ACQ_REL);
	limits_update_full(l);
}

/* A reload's max_clients: accepting pauses or resumes under it. */
void
limits_set_max(struct limits *l, long max_clients)
{
	__atomic_store_n(&l->max_clients, max_clients, __ATOMIC_RELEASE);
	limits_update_full(l);
}

int
limits_full(const struct limits *l)
{
	return __atomic_load_n(&l->full, __ATOMIC_ACQUIRE);
}

unsigned long
limits_clients(const struct limits *l)
{
	return __atomic_load_n(&l->nclients, __ATOMIC_RELAXED);
}

long
limits_max(const struct limits *l)
{
	return __atomic_load_n(&l->max_clients, __ATOMIC_RELAXED);
}

uint64_t
limits_full_count(const struct limits *l)
{
	return __atomic_load_n(&l->full_count, __ATOMIC_RELAXED);
}

/*
 * Count a client from source k: 0, or 1 when the source is at `limit`
 * (0 = none) and the client must be refused, -1 without memory.
 */
int
limits_source_add(struct limits *l, const struct source_key *k, long limit)
{
	int r = 0;

	pthread_mutex_lock(&l->sources_mu);
	if (limit > 0 && sources_count(l->sources, k) >= (unsigned long)limit)
		r = 1;
	else if (sources_add(l->sources, k) == -1)
		r = -1;
	pthread_mutex_unlock(&l->sources_mu);
	return r;
}

void
limits_source_remove(struct limits *l, const struct source_key *k)
{
	pthread_mutex_lock(&l->sources_mu);
	sources_remove(l->sources, k);
	pthread_mutex_unlock(&l->sources_mu);
}

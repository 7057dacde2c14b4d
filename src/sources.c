/* SPDX-License-Identifier: ISC */
/*
 * sources.c: how many clients each source has open, for
 * max_clients_per_source.
 *
 * A source is an IPv4 address, or an IPv6 /64: one IPv6 host usually owns
 * a whole /64, so counting single IPv6 addresses would limit nothing.  An
 * IPv4 client of a dual-stack socket arrives as ::ffff:a.b.c.d and is
 * counted as the IPv4 address it is.  Unix socket clients have no source.
 *
 * A chained hash table that doubles when it holds more sources than
 * buckets; an entry goes when its count falls to zero, so the table holds
 * only the sources that have clients now.  Touched only at accept and
 * close, never per byte.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sources.h"

#define SOURCES_MIN_BUCKETS 64

struct source {
	struct source *next;
	struct source_key key;
	unsigned count;
};

struct sources {
	struct source **buckets;
	size_t nbuckets; /* a power of two */
	size_t nsources;
};

/* The source of a peer address; -1 for a peer that has none (unix). */
int
source_key(const struct sockaddr *sa, struct source_key *k)
{
	static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

	memset(k, 0, sizeof *k);
	switch (sa->sa_family) {
	case AF_INET:
		k->family = AF_INET;
		memcpy(k->addr, &sin->sin_addr, 4);
		return 0;
	case AF_INET6:
		if (memcmp(sin6->sin6_addr.s6_addr, v4mapped, sizeof v4mapped) == 0) {
			k->family = AF_INET;
			memcpy(k->addr, sin6->sin6_addr.s6_addr + 12, 4);
		} else {
			k->family = AF_INET6;
			memcpy(k->addr, sin6->sin6_addr.s6_addr, 8); /* the /64 */
		}
		return 0;
	default:
		return -1;
	}
}

/* "192.0.2.7" or "2001:db8::/64". */
const char *
source_key_str(const struct source_key *k, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];
	uint8_t a6[16] = { 0 };

	if (k->family == AF_INET) {
		inet_ntop(AF_INET, k->addr, host, sizeof host);
		snprintf(buf, size, "%s", host);
	} else {
		memcpy(a6, k->addr, 8);
		inet_ntop(AF_INET6, a6, host, sizeof host);
		snprintf(buf, size, "%s/64", host);
	}
	return buf;
}

/* FNV-1a over the key's bytes. */
static size_t
source_hash(const struct source_key *k)
{
	const uint8_t *p = (const uint8_t *)k;
	uint32_t h = 2166136261u;

	for (size_t i = 0; i < sizeof *k; i++)
		h = (h ^ p[i]) * 16777619u;
	return h;
}

struct sources *
sources_new(void)
{
	struct sources *t = calloc(1, sizeof *t);

	if (t == NULL)
		return NULL;
	t->nbuckets = SOURCES_MIN_BUCKETS;
	if ((t->buckets = calloc(t->nbuckets, sizeof *t->buckets)) == NULL) {
		free(t);
		return NULL;
	}
	return t;
}

void
sources_free(struct sources *t)
{
	struct source *e, *next;

	if (t == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			free(e);
		}
	free(t->buckets);
	free(t);
}

static struct source **
sources_slot(const struct sources *t, const struct source_key *k)
{
	struct source **p = &t->buckets[source_hash(k) & (t->nbuckets - 1)];

	while (*p != NULL && memcmp(&(*p)->key, k, sizeof *k) != 0)
		p = &(*p)->next;
	return p;
}

/* Twice the buckets; when memory is short the chains just grow longer. */
static void
sources_grow(struct sources *t)
{
	size_t n = t->nbuckets * 2;
	struct source **b = calloc(n, sizeof *b), *e, *next;

	if (b == NULL)
		return;
	for (size_t i = 0; i < t->nbuckets; i++)
		for (e = t->buckets[i]; e != NULL; e = next) {
			next = e->next;
			e->next = b[source_hash(&e->key) & (n - 1)];
			b[source_hash(&e->key) & (n - 1)] = e;
		}
	free(t->buckets);
	t->buckets = b;
	t->nbuckets = n;
}

unsigned
sources_count(const struct sources *t, const struct source_key *k)
{
	struct source *e = *sources_slot(t, k);

	return e != NULL ? e->count : 0;
}

/* One more client from k: returns -1 when there is no memory to count it. */
int
sources_add(struct sources *t, const struct source_key *k)
{
	struct source **p = sources_slot(t, k), *e;

	if (*p != NULL) {
		(*p)->count++;
		return 0;
	}
	if ((e = calloc(1, sizeof *e)) == NULL)
		return -1;
	e->key = *k;
	e->count = 1;
	*p = e;
	if (++t->nsources > t->nbuckets)
		sources_grow(t);
	return 0;
}

/* One client fewer from k (which sources_add counted). */
void
sources_remove(struct sources *t, const struct source_key *k)
{
	struct source **p = sources_slot(t, k), *e = *p;

	if (e == NULL)
		return;
	if (--e->count > 0)
		return;
	*p = e->next;
	free(e);
	t->nsources--;
}

size_t
sources_size(const struct sources *t)
{
	return t->nsources;
}

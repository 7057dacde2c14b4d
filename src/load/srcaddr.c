/* SPDX-License-Identifier: ISC */
/*
 * srcaddr.c: the source addresses of --bind.
 *
 * One client address has at most ~28,000 ephemeral ports towards one
 * server port; a load generator that needs more connections than that, or
 * that wants a server or a balancer to see many clients, binds its sockets
 * to several local addresses in turn.  The spec is a comma-separated list
 * of numeric addresses and inclusive ranges, e.g. "127.0.0.1-127.0.0.8" or
 * "10.0.0.1,10.0.0.5-10.0.0.9"; IPv6 ranges count in the address's last
 * bits like IPv4 ones.
 */
#include "config.h"

#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define SRCADDR_MAX 65536

/* The address bytes (4 or 16) of an IPv4 or IPv6 net_addr. */
static unsigned char *
srcaddr_bytes(struct net_addr *a, size_t *len)
{
	if (a->ss.ss_family == AF_INET) {
		*len = 4;
		return (unsigned char *)&((struct sockaddr_in *)&a->ss)->sin_addr;
	}
	*len = 16;
	return (unsigned char *)&((struct sockaddr_in6 *)&a->ss)->sin6_addr;
}

static int
srcaddr_parse_one(struct net_addr *a, const char *s, char *err, size_t errlen)
{
	char why[LOAD_ERRLEN];

	if (net_addr_parse(a, s, 0, why, sizeof why) == -1) {
		snprintf(err, errlen, "--bind: %s", why);
		return -1;
	}
	if (a->ss.ss_family == AF_UNIX || a->dual) {
		snprintf(err, errlen,
		    "--bind \"%s\": a source address is a numeric IPv4 or IPv6 address", s);
		return -1;
	}
	return 0;
}

/*
 * The array doubles when full: a range of 65,536 addresses costs a dozen
 * reallocations, not one per address (each of which may copy them all).
 */
static int
srcaddr_add(struct srcaddrs *src, const struct net_addr *a, char *err, size_t errlen)
{
	struct net_addr *n;
	size_t cap = src->cap == 0 ? 16 : src->cap * 2;

	if (src->n >= SRCADDR_MAX) {
		snprintf(err, errlen, "--bind: more than %d source addresses", SRCADDR_MAX);
		return -1;
	}
	if (src->n == src->cap) {
		if ((n = realloc(src->addrs, cap * sizeof *n)) == NULL) {
			snprintf(err, errlen, "--bind: out of memory");
			return -1;
		}
		src->addrs = n;
		src->cap = cap;
	}
	src->addrs[src->n++] = *a;
	return 0;
}

/* "A" or "A-B" (inclusive). */
static int
srcaddr_parse_range(struct srcaddrs *src, char *item, char *err, size_t errlen)
{
	struct net_addr lo, hi;
	unsigned char *pl, *ph;
	size_t len, lenh;
	char *dash = strchr(item, '-');

	if (dash != NULL)
		*dash = '\0';
	if (srcaddr_parse_one(&lo, item, err, errlen) == -1)
		return -1;
	if (dash == NULL)
		return srcaddr_add(src, &lo, err, errlen);
	if (srcaddr_parse_one(&hi, dash + 1, err, errlen) == -1)
		return -1;
	pl = srcaddr_bytes(&lo, &len);
	ph = srcaddr_bytes(&hi, &lenh);
	if (lo.ss.ss_family != hi.ss.ss_family || len != lenh) {
		snprintf(err, errlen,
		    "--bind %s-%s: both ends of a range must be IPv4 or both IPv6", item, dash + 1);
		return -1;
	}
	if (memcmp(pl, ph, len) > 0) {
		snprintf(
		    err, errlen, "--bind %s-%s: the range ends before it starts", item, dash + 1);
		return -1;
	}
	for (;;) {
		if (srcaddr_add(src, &lo, err, errlen) == -1)
			return -1;
		if (memcmp(pl, ph, len) == 0)
			return 0;
		/* next address: a big-endian increment */
		for (size_t i = len; i-- > 0;)
			if (++pl[i] != 0)
				break;
	}
}

int
srcaddr_parse(struct srcaddrs *src, const char *spec, char *err, size_t errlen)
{
	char *copy, *item, *save = NULL;
	int rc = 0;

	if ((copy = strdup(spec)) == NULL) {
		snprintf(err, errlen, "--bind: out of memory");
		return -1;
	}
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save))
		rc = srcaddr_parse_range(src, item, err, errlen);
	free(copy);
	if (rc == 0 && src->n == 0) {
		snprintf(err, errlen, "--bind: no address in \"%s\"", spec);
		rc = -1;
	}
	for (size_t i = 1; rc == 0 && i < src->n; i++)
		if (src->addrs[i].ss.ss_family != src->addrs[0].ss.ss_family) {
			snprintf(err, errlen, "--bind: mixes IPv4 and IPv6 addresses");
			rc = -1;
		}
	if (rc == -1)
		srcaddr_free(src);
	return rc;
}

void
srcaddr_free(struct srcaddrs *src)
{
	free(src->addrs);
	src->addrs = NULL;
	src->n = src->cap = 0;
}

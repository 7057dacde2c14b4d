/* SPDX-License-Identifier: ISC */
/*
 * cidr.c: lists of networks, "ADDR[/PREFIX], ...", and whether an address
 * is in one.
 *
 * An address without a prefix is one host (/32 or /128).  A network whose
 * address has bits set past its prefix ("10.0.0.1/8") is refused rather
 * than masked: it is a typo for a host or for another prefix, and guessing
 * which would trust the wrong peers.  An IPv4 peer is the same peer
 * whether it arrives as IPv4 or, on a dual-stack socket, as the
 * IPv4-mapped IPv6 address ::ffff:a.b.c.d: IPv4 entries match both forms,
 * and IPv6 entries see both as the mapped address.
 */
#include "config.h"

#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cidr.h"

#define CIDR_ITEM_MAX 64 /* longer than any ADDR/PREFIX, with brackets */

static const uint8_t v4mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };

/* Whether the first bits of addr are the network's. */
static int
cidr_contains(const struct cidr *c, const uint8_t *addr)
{
	unsigned full = c->bits / 8U, rest = c->bits % 8U;
	uint8_t mask;

	if (memcmp(c->addr, addr, full) != 0)
		return 0;
	if (rest == 0)
		return 1;
	mask = (uint8_t)(0xffU << (8U - rest));
	return (addr[full] & mask) == c->addr[full];
}

/* Whether any bit past the prefix is set; *masked is c without them. */
static int
cidr_host_bits(const struct cidr *c, struct cidr *masked)
{
	unsigned len = c->family == AF_INET ? 4U : 16U;
	int set = 0;

	*masked = *c;
	for (unsigned i = 0; i < len; i++) {
		unsigned keep = c->bits >= 8 * (i + 1) ? 8U
		    : c->bits > 8 * i                  ? c->bits - 8 * i
						       : 0U;
		uint8_t mask = keep == 0 ? 0 : (uint8_t)(0xffU << (8U - keep));

		masked->addr[i] = c->addr[i] & mask;
		set |= masked->addr[i] != c->addr[i];
	}
	return set;
}

/* "ADDR", "ADDR/PREFIX", "[V6]" or "[V6]/PREFIX": one entry, trimmed. */
static int
cidr_parse_one(struct cidr *c, const char *s, size_t n, char *err, size_t errlen)
{
	char text[CIDR_ITEM_MAX], *addr = text, *prefix = NULL, *end;
	struct cidr masked;
	char net[CIDR_STRLEN];
	unsigned max;
	long bits;

	if (n >= sizeof text) {
		snprintf(err, errlen, "\"%.*s...\" is not an address", (int)(sizeof text / 2), s);
		return -1;
	}
	memcpy(text, s, n);
	text[n] = '\0';
	if (text[0] == '[') {
		if ((end = strchr(text, ']')) == NULL || (end[1] != '\0' && end[1] != '/')) {
			snprintf(err, errlen, "\"%s\" is not [IPV6] or [IPV6]/PREFIX", text);
			return -1;
		}
		addr = text + 1;
		if (end[1] == '/')
			prefix = end + 2;
		*end = '\0';
	} else if ((prefix = strchr(text, '/')) != NULL)
		*prefix++ = '\0';
	memset(c, 0, sizeof *c);
	if (addr == text && inet_pton(AF_INET, addr, c->addr) == 1) {
		c->family = AF_INET;
		max = 32;
	} else if (inet_pton(AF_INET6, addr, c->addr) == 1) {
		c->family = AF_INET6;
		max = 128;
	} else {
		snprintf(err, errlen, "\"%.*s\" is not a numeric IPv4 or IPv6 address", (int)n, s);
		return -1;
	}
	bits = max;
	if (prefix != NULL) {
		/* digits only: strtol() would take a sign and leading blanks */
		if (prefix[0] == '\0' || strspn(prefix, "0123456789") != strlen(prefix) ||
		    strlen(prefix) > 3 || (bits = strtol(prefix, NULL, 10)) > (long)max) {
			snprintf(err, errlen, "\"%.*s\": the prefix is not a number from 0 to %u",
			    (int)n, s, max);
			return -1;
		}
	}
	c->bits = (uint8_t)bits;
	if (cidr_host_bits(c, &masked)) {
		snprintf(err, errlen, "\"%.*s\": bits set past the /%u prefix (the network is %s)",
		    (int)n, s, c->bits, cidr_format(&masked, net, sizeof net));
		return -1;
	}
	return 0;
}

/*
 * Parse "ADDR[/PREFIX], ..." (blanks around entries are ignored) into l,
 * which the caller frees with cidr_list_free().  On failure l is empty and
 * err says which entry is wrong.
 */
int
cidr_list_parse(struct cidr_list *l, const char *s, char *err, size_t errlen)
{
	const char *p = s, *item, *end;
	size_t n = 1;

	l->v = NULL;
	l->n = 0;
	if (s[strspn(s, " \t")] == '\0') {
		snprintf(err, errlen, "no address (ADDR[/PREFIX], separated by commas)");
		return -1;
	}
	for (const char *q = s; *q != '\0'; q++)
		n += *q == ',';
	if ((l->v = calloc(n, sizeof *l->v)) == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	for (;;) {
		for (item = p; *item == ' ' || *item == '\t'; item++)
			;
		if ((p = strchr(item, ',')) == NULL)
			p = item + strlen(item);
		for (end = p; end > item && (end[-1] == ' ' || end[-1] == '\t'); end--)
			;
		if (end == item) {
			snprintf(err, errlen,
			    "an empty entry in \"%s\" (ADDR[/PREFIX], separated by commas)", s);
			goto fail;
		}
		if (cidr_parse_one(&l->v[l->n], item, (size_t)(end - item), err, errlen) == -1)
			goto fail;
		l->n++;
		if (*p == '\0')
			return 0;
		p++;
	}
fail:
	cidr_list_free(l);
	return -1;
}

/* Whether the peer at sa is in one of l's networks; never for a unix peer. */
int
cidr_list_match(const struct cidr_list *l, const struct sockaddr *sa)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;
	uint8_t v6[16];
	const uint8_t *v4 = NULL;

	switch (sa->sa_family) {
	case AF_INET:
		memcpy(v6, v4mapped, sizeof v4mapped);
		memcpy(v6 + 12, &sin->sin_addr, 4);
		v4 = v6 + 12;
		break;
	case AF_INET6:
		memcpy(v6, &sin6->sin6_addr, 16);
		if (memcmp(v6, v4mapped, sizeof v4mapped) == 0)
			v4 = v6 + 12;
		break;
	default:
		return 0;
	}
	for (size_t i = 0; i < l->n; i++) {
		if (l->v[i].family == AF_INET ? v4 != NULL && cidr_contains(&l->v[i], v4)
					      : cidr_contains(&l->v[i], v6))
			return 1;
	}
	return 0;
}

int
cidr_list_copy(struct cidr_list *dst, const struct cidr_list *src)
{
	dst->v = NULL;
	dst->n = 0;
	if (src->n == 0)
		return 0;
	if ((dst->v = malloc(src->n * sizeof *src->v)) == NULL)
		return -1;
	memcpy(dst->v, src->v, src->n * sizeof *src->v);
	dst->n = src->n;
	return 0;
}

void
cidr_list_free(struct cidr_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

/* "192.0.2.0/24", "2001:db8::/32": what cidr_list_parse() reads back. */
const char *
cidr_format(const struct cidr *c, char *buf, size_t size)
{
	char host[INET6_ADDRSTRLEN];

	inet_ntop(c->family, c->addr, host, sizeof host);
	snprintf(buf, size, "%s/%u", host, c->bits);
	return buf;
}

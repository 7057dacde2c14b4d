/* SPDX-License-Identifier: ISC */
/*
 * address-fuzzer.c: net_addr_parse() and net_addr_parse_hostport().
 *
 * The first byte picks the parser, the next four the port handed to
 * net_addr_parse() (out of range on purpose too), the rest is the text.
 * Whatever parses must format with net_addr_str() into something that
 * parses back as HOST:PORT to the same address: that is how the daemon
 * logs its listeners and how synack-load reads them back.  The one
 * exception is "*": it formats as "[::]:PORT", the same socket address
 * without the dual-stack flag.  With the second bit of the first byte set,
 * the text is two HOST:PORT forms on two lines, and whether they overlap
 * must not depend on their order.  With the third bit set, the text is a
 * proxy_from list (cidr_list_parse): what parses formats back into a
 * list that parses to the same networks, and each network holds its own
 * address, also in the IPv4-mapped form a dual-stack socket reports.
 */
#include "config.h"

#include <string.h>

#include <arpa/inet.h>

#include "cidr.h"
#include "fuzz.h"
#include "net.h"

#define ERRSIZE 512

static void
check_error(int r, const char *err)
{
	FUZZ_CHECK(r == -1, "returned %d", r);
	FUZZ_CHECK(strnlen(err, ERRSIZE) < ERRSIZE, "error message not terminated");
	FUZZ_CHECK(err[0] != '\0', "refused without a message");
}

static void
check_roundtrip(const struct net_addr *a, int port)
{
	struct net_addr b, expect = *a;
	char s[NET_ADDRSTRLEN], s2[NET_ADDRSTRLEN], err[ERRSIZE];
	int family = a->ss.ss_family;

	FUZZ_CHECK(
	    family == AF_INET || family == AF_INET6 || family == AF_UNIX, "family %d", family);
	FUZZ_CHECK(a->len > 0 && a->len <= sizeof a->ss, "len %u", (unsigned)a->len);
	FUZZ_CHECK(!a->dual || family == AF_INET6, "dual but family %d", family);
	if (family != AF_UNIX && port >= 0)
		FUZZ_CHECK(net_addr_port(a) == port, "port %d, want %d", net_addr_port(a), port);
	FUZZ_CHECK(net_addr_equal(a, a), "not equal to itself");
	/* a port-0 IP address never collides, even with itself */
	FUZZ_CHECK(net_addr_overlap(a, a) == (family == AF_UNIX || net_addr_port(a) != 0),
	    "overlap with itself");

	net_addr_str(a, s, sizeof s);
	FUZZ_CHECK(strlen(s) < sizeof s - 1, "\"%s\" may be cut short", s);
	memset(err, 'x', sizeof err);
	if (net_addr_parse_hostport(&b, s, err, sizeof err) != 0)
		FUZZ_CHECK(0, "\"%s\" does not parse back: %s", s, err);
	expect.dual = 0;
	FUZZ_CHECK(net_addr_equal(&b, &expect), "\"%s\" parses back to another address", s);
	net_addr_str(&b, s2, sizeof s2);
	FUZZ_CHECK(strcmp(s, s2) == 0, "\"%s\" formats again as \"%s\"", s, s2);
}

static void
check_pair(char *text)
{
	struct net_addr a, b;
	char err[ERRSIZE], *second = strchr(text, '\n');

	if (second == NULL)
		return;
	*second++ = '\0';
	if (net_addr_parse_hostport(&a, text, err, sizeof err) != 0 ||
	    net_addr_parse_hostport(&b, second, err, sizeof err) != 0)
		return;
	FUZZ_CHECK(net_addr_overlap(&a, &b) == net_addr_overlap(&b, &a),
	    "\"%s\" and \"%s\" overlap one way only", text, second);
	if (net_addr_equal(&a, &b))
		FUZZ_CHECK(net_addr_overlap(&a, &b) == (net_addr_port(&a) != 0),
		    "\"%s\" and \"%s\" are equal", text, second);
}

/* A network's own address, as a peer: IPv4 also as ::ffff:a.b.c.d. */
static void
check_cidr_holds_itself(const struct cidr *c)
{
	struct cidr_list one = { (struct cidr *)c, 1 };
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	char s[CIDR_STRLEN];

	cidr_format(c, s, sizeof s);
	if (c->family == AF_INET) {
		memcpy(&sin.sin_addr, c->addr, 4);
		FUZZ_CHECK(cidr_list_match(&one, (struct sockaddr *)&sin), "%s: not itself", s);
		sin6.sin6_addr.s6_addr[10] = sin6.sin6_addr.s6_addr[11] = 0xff;
		memcpy(&sin6.sin6_addr.s6_addr[12], c->addr, 4);
	} else
		memcpy(&sin6.sin6_addr, c->addr, 16);
	FUZZ_CHECK(cidr_list_match(&one, (struct sockaddr *)&sin6), "%s: not itself as IPv6", s);
}

static void
check_cidrs(const char *text)
{
	struct cidr_list l, again;
	char err[ERRSIZE], s[CIDR_STRLEN], *all;
	size_t size, off = 0;
	int r;

	memset(err, 'x', sizeof err);
	if ((r = cidr_list_parse(&l, text, err, sizeof err)) != 0) {
		check_error(r, err);
		FUZZ_CHECK(l.v == NULL && l.n == 0, "refused, but %zu entries left", l.n);
		return;
	}
	FUZZ_CHECK(l.n > 0 && l.v != NULL, "accepted without an entry");
	size = l.n * (CIDR_STRLEN + 2);
	if ((all = malloc(size)) == NULL) {
		cidr_list_free(&l);
		return;
	}
	all[0] = '\0';
	for (size_t i = 0; i < l.n; i++) {
		const struct cidr *c = &l.v[i];

		FUZZ_CHECK((c->family == AF_INET && c->bits <= 32) ||
			(c->family == AF_INET6 && c->bits <= 128),
		    "entry %zu: family %d, /%d", i, c->family, c->bits);
		check_cidr_holds_itself(c);
		off += (size_t)snprintf(
		    all + off, size - off, "%s%s", i > 0 ? ", " : "", cidr_format(c, s, sizeof s));
	}
	if (cidr_list_parse(&again, all, err, sizeof err) != 0)
		FUZZ_CHECK(0, "\"%s\" does not parse back: %s", all, err);
	FUZZ_CHECK(again.n == l.n && memcmp(again.v, l.v, l.n * sizeof *l.v) == 0,
	    "\"%s\" parses back to other networks", all);
	cidr_list_free(&again);
	cidr_list_free(&l);
	free(all);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct net_addr a;
	char err[ERRSIZE], *text;
	uint32_t u;
	int port, r;

	if (size < 5)
		return 0;
	memcpy(&u, data + 1, sizeof u);
	/* mostly in range, with the edges and beyond in both directions */
	port = (int)(u % 65600) - 32;
	if ((text = malloc(size - 5 + 1)) == NULL)
		return 0;
	memcpy(text, data + 5, size - 5);
	text[size - 5] = '\0';

	if (data[0] & 4) {
		check_cidrs(text);
		free(text);
		return 0;
	}
	if (data[0] & 2) {
		check_pair(text);
		free(text);
		return 0;
	}
	memset(err, 'x', sizeof err);
	if (data[0] & 1) {
		r = net_addr_parse_hostport(&a, text, err, sizeof err);
		port = -1;
	} else
		r = net_addr_parse(&a, text, port, err, sizeof err);
	if (r == 0)
		check_roundtrip(&a, port);
	else
		check_error(r, err);
	free(text);
	return 0;
}

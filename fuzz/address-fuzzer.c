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
 * must not depend on their order.
 */
#include "config.h"

#include <string.h>

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

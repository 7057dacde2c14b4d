/* SPDX-License-Identifier: ISC */
/*
 * test-net.c: address parsing, formatting, overlap, socket options, and
 * the hand-made listening socket of net.c.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "net.h"
#include "unit.h"

static const char *
addr_str(const struct net_addr *a)
{
	static char buf[NET_ADDRSTRLEN];

	return net_addr_str(a, buf, sizeof buf);
}

/* ---- net_addr_parse ---- */

static void
test_parse_good(void **state)
{
	static const struct {
		const char *host;
		int port;
		int family, dual;
		const char *str;
	} cases[] = {
		{ "*", 7, AF_INET6, 1, "[::]:7" },
		{ "0.0.0.0", 7, AF_INET, 0, "0.0.0.0:7" },
		{ "::", 7, AF_INET6, 0, "[::]:7" },
		{ "[::]", 7, AF_INET6, 0, "[::]:7" },
		{ "127.0.0.1", 80, AF_INET, 0, "127.0.0.1:80" },
		{ "192.0.2.255", 0, AF_INET, 0, "192.0.2.255:0" },
		{ "::1", 0, AF_INET6, 0, "[::1]:0" },
		{ "[::1]", 65535, AF_INET6, 0, "[::1]:65535" },
		{ "2001:DB8::A", 443, AF_INET6, 0, "[2001:db8::a]:443" },
		{ "::ffff:10.0.0.1", 1, AF_INET6, 0, "[::ffff:10.0.0.1]:1" },
		{ "fe80::1", 1, AF_INET6, 0, "[fe80::1]:1" },
		{ "unix:/tmp/s", 0, AF_UNIX, 0, "unix:/tmp/s" },
		{ "unix:/run/synackd/echo.sock", -1, AF_UNIX, 0, "unix:/run/synackd/echo.sock" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct net_addr a;

		memset(&a, 0xa5, sizeof a); /* the parser must clear what it does not set */
		a = unit_addr(cases[i].host, cases[i].port);
		assert_int_equal(a.ss.ss_family, cases[i].family);
		assert_int_equal(a.dual, cases[i].dual);
		assert_string_equal(addr_str(&a), cases[i].str);
		switch (cases[i].family) {
		case AF_INET:
			assert_int_equal(a.len, sizeof(struct sockaddr_in));
			assert_int_equal(net_addr_port(&a), cases[i].port);
			break;
		case AF_INET6:
			assert_int_equal(a.len, sizeof(struct sockaddr_in6));
			assert_int_equal(net_addr_port(&a), cases[i].port);
			assert_int_equal(((struct sockaddr_in6 *)&a.ss)->sin6_scope_id, 0);
			assert_int_equal(((struct sockaddr_in6 *)&a.ss)->sin6_flowinfo, 0);
			break;
		case AF_UNIX:
			assert_int_equal(a.len,
			    offsetof(struct sockaddr_un, sun_path) + strlen(cases[i].host + 5) + 1);
			assert_string_equal(
			    ((struct sockaddr_un *)&a.ss)->sun_path, cases[i].host + 5);
			assert_int_equal(net_addr_port(&a), -1);
			break;
		}
	}
}

static void
test_parse_bad(void **state)
{
	static const struct {
		const char *host;
		int port;
		const char *error;
	} cases[] = {
		{ "", 7, "\"\" is not a numeric IPv4 or IPv6 address, \"*\" or unix:/path" },
		{ "localhost", 7, "\"localhost\" is not a numeric" },
		{ "127.0.0.256", 7, "is not a numeric" },
		{ "1.2.3", 7, "is not a numeric" },
		{ "127.0.0.1:80", 7, "is not a numeric" },
		{ " 127.0.0.1", 7, "is not a numeric" },
		{ "[127.0.0.1]", 7, "is not a numeric" },
		{ "[::1", 7, "is not a numeric" },
		{ "::1]", 7, "is not a numeric" },
		{ "[]", 7, "is not a numeric" },
		{ "[", 7, "is not a numeric" },
		{ "::1::2", 7, "is not a numeric" },
		{ "fe80::1%lo", 7, "is not a numeric" },
		{ "**", 7, "is not a numeric" },
		{ "[1111:2222:3333:4444:5555:6666:7777:8888:9999:0000:aaaa:bbbb]", 7,
		    "is not a numeric" },
		{ "*", 65536, "port 65536 out of range 0-65535" },
		{ "127.0.0.1", -1, "port -1 out of range 0-65535" },
		{ "::1", 100000, "port 100000 out of range" },
		{ "unix:", 0, "unix socket path must be absolute: \"\"" },
		{ "unix:run/s", 0, "unix socket path must be absolute: \"run/s\"" },
		{ "UNIX:/tmp/s", 0, "is not a numeric" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct net_addr a;

		err[0] = '\0';
		if (net_addr_parse(&a, cases[i].host, cases[i].port, err, sizeof err) != -1)
			fail_msg("\"%s\" port %d: accepted as %s", cases[i].host, cases[i].port,
			    addr_str(&a));
		if (strstr(err, cases[i].error) == NULL)
			fail_msg("\"%s\": error \"%s\", expected \"%s\"", cases[i].host, err,
			    cases[i].error);
	}
}

static void
test_parse_long_inputs(void **state)
{
	struct sockaddr_un sun;
	char host[300], err[512], want[64];
	size_t max = sizeof sun.sun_path - 1;
	struct net_addr a;

	/* longer than any numeric address: refused, not overrun */
	memset(host, '1', sizeof host - 1);
	host[sizeof host - 1] = '\0';
	assert_int_equal(net_addr_parse(&a, host, 7, err, sizeof err), -1);
	assert_non_null(strstr(err, "is not a numeric"));
	host[0] = '[';
	host[sizeof host - 2] = ']';
	assert_int_equal(net_addr_parse(&a, host, 7, err, sizeof err), -1);

	/* unix paths: sun_path - 1 bytes fit, one more does not */
	memcpy(host, "unix:/", 6);
	memset(host + 6, 'x', max - 1);
	host[5 + max] = '\0';
	a = unit_addr(host, 0);
	assert_int_equal(strlen(((struct sockaddr_un *)&a.ss)->sun_path), max);
	assert_int_equal(a.len, sizeof(struct sockaddr_un));

	host[5 + max] = 'x';
	host[5 + max + 1] = '\0';
	assert_int_equal(net_addr_parse(&a, host, 0, err, sizeof err), -1);
	snprintf(want, sizeof want, "unix socket path longer than %zu bytes", max);
	assert_non_null(strstr(err, want));
}

/* ---- net_addr_parse_hostport ---- */

static void
test_hostport(void **state)
{
	static const struct {
		const char *s;
		const char *str; /* NULL: refused */
		const char *error;
	} cases[] = {
		{ "127.0.0.1:7007", "127.0.0.1:7007", NULL },
		{ "0.0.0.0:0", "0.0.0.0:0", NULL },
		{ "[::1]:7007", "[::1]:7007", NULL },
		{ "[2001:db8::1]:443", "[2001:db8::1]:443", NULL },
		{ "*:80", "[::]:80", NULL },
		{ "127.0.0.1:65535", "127.0.0.1:65535", NULL },
		{ "unix:/run/synackd.sock", "unix:/run/synackd.sock", NULL },
		{ "127.0.0.1", NULL, "\"127.0.0.1\" is not HOST:PORT, [IPV6]:PORT or unix:/path" },
		{ ":80", NULL, "is not HOST:PORT" },
		{ "127.0.0.1:", NULL, "is not HOST:PORT" },
		{ "", NULL, "is not HOST:PORT" },
		{ "::1:80", NULL, "\"::1:80\": put an IPv6 address in brackets, [ADDR]:PORT" },
		{ "::1", NULL, "put an IPv6 address in brackets" },
		{ "127.0.0.1:65536", NULL,
		    "\"127.0.0.1:65536\": port \"65536\" is not a number from 0 to 65535" },
		{ "127.0.0.1:-1", NULL, "port \"-1\" is not a number" },
		{ "127.0.0.1:http", NULL, "port \"http\" is not a number" },
		{ "127.0.0.1:80x", NULL, "port \"80x\" is not a number" },
		{ "127.0.0.1:99999999999999999999", NULL, "is not a number from 0 to 65535" },
		{ "[::1]", NULL, "is not a number" },
		{ "localhost:80", NULL, "\"localhost\" is not a numeric" },
		{ "[127.0.0.1]:80", NULL, "is not a numeric" },
		{ "1234567890123456789012345678901234567890123456789012345678901234:80", NULL,
		    "address too long" },
		{ "unix:relative", NULL, "unix socket path must be absolute" },
	};
	char err[512];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct net_addr a;
		int r;

		err[0] = '\0';
		r = net_addr_parse_hostport(&a, cases[i].s, err, sizeof err);
		if (cases[i].str != NULL) {
			if (r != 0)
				fail_msg("\"%s\": %s", cases[i].s, err);
			assert_string_equal(addr_str(&a), cases[i].str);
		} else {
			if (r != -1)
				fail_msg("\"%s\": accepted as %s", cases[i].s, addr_str(&a));
			if (strstr(err, cases[i].error) == NULL)
				fail_msg("\"%s\": error \"%s\", expected \"%s\"", cases[i].s, err,
				    cases[i].error);
		}
	}
}

static void
test_hostport_dual(void **state)
{
	struct net_addr a, b;
	char err[256];

	assert_int_equal(net_addr_parse_hostport(&a, "*:80", err, sizeof err), 0);
	assert_int_equal(a.dual, 1);
	b = unit_addr("*", 80);
	assert_true(net_addr_equal(&a, &b));
}

/* ---- net_addr_format ---- */

static void
test_format_inet(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET, .sin_port = htons(8080) };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_port = htons(7) };
	char buf[NET_ADDRSTRLEN], small[8];

	assert_int_equal(inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr), 1);
	assert_string_equal(net_addr_format((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf),
	    "192.0.2.1:8080");
	/* the result is the buffer */
	assert_ptr_equal(
	    net_addr_format((struct sockaddr *)&sin, sizeof sin, buf, sizeof buf), buf);

	sin6.sin6_addr = in6addr_loopback;
	assert_string_equal(
	    net_addr_format((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf), "[::1]:7");
	sin6.sin6_addr = in6addr_any;
	sin6.sin6_port = htons(65535);
	assert_string_equal(
	    net_addr_format((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf), "[::]:65535");
	assert_int_equal(inet_pton(AF_INET6, "2001:db8:0:0:1:0:0:1", &sin6.sin6_addr), 1);
	sin6.sin6_port = htons(0);
	assert_string_equal(net_addr_format((struct sockaddr *)&sin6, sizeof sin6, buf, sizeof buf),
	    "[2001:db8::1:0:0:1]:0");

	/* a short buffer truncates, still a string */
	memset(small, 'x', sizeof small);
	assert_string_equal(
	    net_addr_format((struct sockaddr *)&sin, sizeof sin, small, sizeof small), "192.0.2");
}

static void
test_format_unix(void **state)
{
	struct sockaddr_un sun = { .sun_family = AF_UNIX };
	size_t base = offsetof(struct sockaddr_un, sun_path);
	char buf[NET_ADDRSTRLEN], want[NET_ADDRSTRLEN];

	strcpy(sun.sun_path, "/tmp/echo.sock");
	/* named, length with and without the terminating NUL */
	assert_string_equal(net_addr_format((struct sockaddr *)&sun,
				(socklen_t)(base + strlen(sun.sun_path) + 1), buf, sizeof buf),
	    "unix:/tmp/echo.sock");
	assert_string_equal(net_addr_format((struct sockaddr *)&sun,
				(socklen_t)(base + strlen(sun.sun_path)), buf, sizeof buf),
	    "unix:/tmp/echo.sock");
	/* the length bounds the path */
	assert_string_equal(
	    net_addr_format((struct sockaddr *)&sun, (socklen_t)(base + 4), buf, sizeof buf),
	    "unix:/tmp");

	/* unnamed: what accept() reports for a client of a unix listener */
	assert_string_equal(net_addr_format((struct sockaddr *)&sun, (socklen_t)sizeof(sa_family_t),
				buf, sizeof buf),
	    "unix:");
	assert_string_equal(net_addr_format((struct sockaddr *)&sun, 0, buf, sizeof buf), "unix:");
	/* abstract */
	memcpy(sun.sun_path, "\0abstract", 9);
	assert_string_equal(
	    net_addr_format((struct sockaddr *)&sun, (socklen_t)(base + 9), buf, sizeof buf),
	    "unix:");

	/* a full sun_path without a NUL fits NET_ADDRSTRLEN */
	memset(sun.sun_path, 'z', sizeof sun.sun_path);
	sun.sun_path[0] = '/';
	snprintf(want, sizeof want, "unix:%.*s", (int)sizeof sun.sun_path, sun.sun_path);
	assert_int_equal(strlen(want), sizeof sun.sun_path + 5);
	assert_string_equal(
	    net_addr_format((struct sockaddr *)&sun, sizeof sun, buf, sizeof buf), want);
}

static void
test_format_other_family(void **state)
{
	struct sockaddr sa = { .sa_family = AF_APPLETALK };
	char buf[NET_ADDRSTRLEN], want[32];

	snprintf(want, sizeof want, "(family %d)", AF_APPLETALK);
	assert_string_equal(net_addr_format(&sa, sizeof sa, buf, sizeof buf), want);
}

/* ---- net_addr_equal, net_addr_overlap ---- */

static void
test_equal(void **state)
{
	struct net_addr a, b;

	a = unit_addr("127.0.0.1", 7);
	b = unit_addr("127.0.0.1", 7);
	assert_true(net_addr_equal(&a, &b));
	b = unit_addr("127.0.0.1", 8);
	assert_false(net_addr_equal(&a, &b));
	b = unit_addr("127.0.0.2", 7);
	assert_false(net_addr_equal(&a, &b));
	/* "*" and "::" bind the same address but are not the same socket */
	a = unit_addr("*", 7);
	b = unit_addr("::", 7);
	assert_false(net_addr_equal(&a, &b));
	a = unit_addr("[::1]", 7);
	b = unit_addr("0:0::1", 7);
	assert_true(net_addr_equal(&a, &b));
	a = unit_addr("unix:/a", 0);
	b = unit_addr("unix:/a", 0);
	assert_true(net_addr_equal(&a, &b));
	b = unit_addr("unix:/b", 0);
	assert_false(net_addr_equal(&a, &b));
}

static void
test_overlap(void **state)
{
	static const struct {
		const char *a;
		int pa;
		const char *b;
		int pb;
		int overlap;
	} cases[] = {
		{ "127.0.0.1", 7, "127.0.0.1", 7, 1 },
		{ "127.0.0.1", 7, "127.0.0.1", 8, 0 },
		{ "127.0.0.1", 7, "127.0.0.2", 7, 0 },
		{ "127.0.0.1", 0, "127.0.0.1", 0, 0 },
		{ "127.0.0.1", 0, "127.0.0.1", 7, 0 },
		{ "*", 7, "127.0.0.1", 7, 1 },
		{ "*", 7, "::1", 7, 1 },
		{ "*", 7, "*", 7, 1 },
		{ "*", 7, "0.0.0.0", 7, 1 },
		{ "*", 7, "::", 7, 1 },
		{ "*", 0, "*", 0, 0 },
		{ "*", 7, "127.0.0.1", 8, 0 },
		{ "0.0.0.0", 7, "127.0.0.1", 7, 1 },
		{ "0.0.0.0", 7, "0.0.0.0", 7, 1 },
		{ "0.0.0.0", 7, "::1", 7, 0 },
		{ "0.0.0.0", 7, "::", 7, 0 }, /* "::" is IPv6 only */
		{ "::", 7, "::1", 7, 1 },
		{ "::", 7, "2001:db8::1", 7, 1 },
		{ "::", 7, "::", 8, 0 },
		{ "::1", 7, "127.0.0.1", 7, 0 },
		{ "::1", 7, "[::1]", 7, 1 },
		{ "::1", 7, "::2", 7, 0 },
		{ "unix:/a", 0, "unix:/a", 0, 1 },
		{ "unix:/a", 0, "unix:/b", 0, 0 },
		{ "unix:/a", 0, "*", 0, 0 },
		{ "unix:/a", 0, "127.0.0.1", 7, 0 },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct net_addr a, b;

		a = unit_addr(cases[i].a, cases[i].pa);
		b = unit_addr(cases[i].b, cases[i].pb);
		if (net_addr_overlap(&a, &b) != cases[i].overlap ||
		    net_addr_overlap(&b, &a) != cases[i].overlap)
			fail_msg("%s port %d vs %s port %d: expected overlap=%d, got %d/%d",
			    cases[i].a, cases[i].pa, cases[i].b, cases[i].pb, cases[i].overlap,
			    net_addr_overlap(&a, &b), net_addr_overlap(&b, &a));
	}
}

/* ---- net_listen ---- */

static int
getopt_int(int fd, int level, int name)
{
	int v = -1;
	socklen_t len = sizeof v;

	assert_int_equal(getsockopt(fd, level, name, &v, &len), 0);
	return v;
}

static int
have_ipv6_loopback(void)
{
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	int fd = socket(AF_INET6, SOCK_STREAM, 0), ok;

	if (fd == -1)
		return 0;
	ok = bind(fd, (struct sockaddr *)&sin6, sizeof sin6) == 0;
	close(fd);
	return ok;
}

static int
connect_to(const struct net_addr *a)
{
	int fd = socket(a->ss.ss_family, SOCK_STREAM, 0), r;

	assert_true(fd != -1);
	r = connect(fd, (const struct sockaddr *)&a->ss, a->len);
	close(fd);
	return r;
}

static void
test_listen_loopback(void **state)
{
	struct net_listen_opts o = { .backlog = 7 };
	struct sockaddr_in sin;
	socklen_t len = sizeof sin;
	struct net_addr a, b;
	struct tcp_info ti;
	char err[256], want[256];
	int fd, fd2, port;

	a = unit_addr("127.0.0.1", 0);
	fd = net_listen(&a, &o, err, sizeof err);
	if (fd == -1)
		fail_msg("net_listen: %s", err);

	/* the address now holds the port the kernel chose */
	port = net_addr_port(&a);
	assert_int_not_equal(port, 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	assert_int_equal(sin.sin_family, AF_INET);
	assert_int_equal(ntohs(sin.sin_port), port);
	assert_int_equal(sin.sin_addr.s_addr, htonl(INADDR_LOOPBACK));

	/* listening, non-blocking, close-on-exec, SO_REUSEADDR */
	assert_int_equal(getopt_int(fd, SOL_SOCKET, SO_ACCEPTCONN), 1);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_not_equal(getopt_int(fd, SOL_SOCKET, SO_REUSEADDR), 0);
	assert_int_equal(getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_equal(getopt_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);

	/* the configured backlog is the one listen() got (Linux: TCP_INFO of a listener) */
	len = sizeof ti;
	memset(&ti, 0, sizeof ti);
	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	if (net_somaxconn() >= 7)
		assert_int_equal(ti.tcpi_sacked, 7);

	/* it accepts connections */
	assert_int_equal(connect_to(&a), 0);

	/* the same port again: the error names the call, the address and errno */
	b = unit_addr("127.0.0.1", port);
	errno = 0;
	fd2 = net_listen(&b, &o, err, sizeof err);
	assert_int_equal(fd2, -1);
	assert_int_equal(errno, EADDRINUSE);
	snprintf(want, sizeof want, "bind 127.0.0.1:%d: %s", port, strerror(EADDRINUSE));
	assert_string_equal(err, want);
	assert_string_equal(
	    err + strlen(err) - strlen("Address already in use"), "Address already in use");

	/* "*" on the same port collides with it too */
	if (have_ipv6_loopback()) {
		b = unit_addr("*", port);
		assert_int_equal(net_listen(&b, &o, err, sizeof err), -1);
		snprintf(want, sizeof want, "bind [::]:%d: %s", port, strerror(EADDRINUSE));
		assert_string_equal(err, want);
	}
	close(fd);
}

static void
test_listen_options(void **state)
{
	struct net_listen_opts o = {
		.backlog = 16,
		.reuseport = 1,
		.keepalive = 1,
		.nodelay = 1,
		.defer_accept = 5,
	};
	struct net_addr a, b;
	char err[256];
	int fd, fd2;

	a = unit_addr("127.0.0.1", 0);
	if ((fd = net_listen(&a, &o, err, sizeof err)) == -1)
		fail_msg("net_listen: %s", err);
	assert_int_not_equal(getopt_int(fd, SOL_SOCKET, SO_REUSEPORT), 0);
	assert_int_not_equal(getopt_int(fd, SOL_SOCKET, SO_KEEPALIVE), 0);
	assert_int_not_equal(getopt_int(fd, IPPROTO_TCP, TCP_NODELAY), 0);
	assert_int_not_equal(getopt_int(fd, IPPROTO_TCP, TCP_DEFER_ACCEPT), 0);

	/* with SO_REUSEPORT on both, a second socket shares the port */
	b = unit_addr("127.0.0.1", net_addr_port(&a));
	if ((fd2 = net_listen(&b, &o, err, sizeof err)) == -1)
		fail_msg("second SO_REUSEPORT listener: %s", err);
	assert_int_equal(net_addr_port(&b), net_addr_port(&a));
	close(fd2);
	close(fd);
}

static void
test_listen_ipv6(void **state)
{
	struct net_listen_opts o = { .backlog = 8 };
	struct net_addr a, v4;
	char err[256];
	int fd;

	if (!have_ipv6_loopback())
		skip();

	/* a specific IPv6 address: IPv6 only */
	a = unit_addr("::1", 0);
	if ((fd = net_listen(&a, &o, err, sizeof err)) == -1)
		fail_msg("net_listen ::1: %s", err);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_not_equal(net_addr_port(&a), 0);
	assert_int_equal(getopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	assert_int_equal(connect_to(&a), 0);
	close(fd);

	/* "*": one dual-stack socket, reachable over IPv4 too */
	a = unit_addr("*", 0);
	if ((fd = net_listen(&a, &o, err, sizeof err)) == -1)
		fail_msg("net_listen *: %s", err);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_equal(getopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 0);
	v4 = unit_addr("127.0.0.1", net_addr_port(&a));
	assert_int_equal(connect_to(&v4), 0);
	close(fd);

	/* "::" is IPv6 only */
	a = unit_addr("::", 0);
	if ((fd = net_listen(&a, &o, err, sizeof err)) == -1)
		fail_msg("net_listen ::: %s", err);
	assert_int_equal(getopt_int(fd, IPPROTO_IPV6, IPV6_V6ONLY), 1);
	close(fd);
}

/* A private directory for unix sockets, removed even when a test fails. */
static int
tmpdir_setup(void **state)
{
	static char dir[64];

	snprintf(dir, sizeof dir, "%s", "/tmp/synack-test-net-XXXXXX");
	if (mkdtemp(dir) == NULL)
		return -1;
	*state = dir;
	return 0;
}

static int
tmpdir_teardown(void **state)
{
	const char *dir = *state;
	char path[128];

	snprintf(path, sizeof path, "%s/s", dir);
	unlink(path);
	return rmdir(dir);
}

static void
test_listen_unix(void **state)
{
	struct net_listen_opts o = { .backlog = 4 };
	const char *dir = *state;
	char host[128], path[64], err[512], want[512];
	struct net_addr a;
	struct stat st;
	int fd, fd2, f;

	snprintf(path, sizeof path, "%s/s", dir);
	snprintf(host, sizeof host, "unix:%s", path);

	a = unit_addr(host, 0);
	if ((fd = net_listen(&a, &o, err, sizeof err)) == -1)
		fail_msg("net_listen %s: %s", host, err);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISSOCK(st.st_mode));
	assert_string_equal(addr_str(&a), host);
	assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
	assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
	assert_int_equal(connect_to(&a), 0);

	/* a live listener's socket is not taken over */
	a = unit_addr(host, 0);
	assert_int_equal(net_listen(&a, &o, err, sizeof err), -1);
	snprintf(want, sizeof want, "bind %s: %s", host, strerror(EADDRINUSE));
	assert_string_equal(err, want);

	/* once it is gone, its stale file is replaced */
	close(fd);
	assert_int_equal(stat(path, &st), 0);
	a = unit_addr(host, 0);
	if ((fd2 = net_listen(&a, &o, err, sizeof err)) == -1)
		fail_msg("over a stale socket file: %s", err);
	assert_int_equal(connect_to(&a), 0);
	close(fd2);
	assert_int_equal(unlink(path), 0);

	/* a file that is not a socket stays */
	assert_true((f = open(path, O_WRONLY | O_CREAT | O_EXCL, 0600)) != -1);
	close(f);
	a = unit_addr(host, 0);
	assert_int_equal(net_listen(&a, &o, err, sizeof err), -1);
	assert_string_equal(err, want);
	assert_int_equal(stat(path, &st), 0);
	assert_true(S_ISREG(st.st_mode));
	assert_int_equal(unlink(path), 0);

	/* a missing directory */
	snprintf(host, sizeof host, "unix:%s/no/such/dir", dir);
	a = unit_addr(host, 0);
	assert_int_equal(net_listen(&a, &o, err, sizeof err), -1);
	snprintf(want, sizeof want, "bind %s: %s", host, strerror(ENOENT));
	assert_string_equal(err, want);
}

/* ---- net_setopt ---- */

/*
 * The error names the call, the option and the address, as the
 * listeners' and the acceptors' messages (and the tests that read them)
 * expect; errno is the failure's.
 */
static void
test_setopt(void **state)
{
	static const struct {
		int family; /* of the socket; 0: no socket (fd -1) */
		int level, name, value;
		const char *what, *addr;
		int error; /* 0: it works */
	} cases[] = {
		{ AF_INET, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE", "127.0.0.1:7", 0 },
		{ AF_INET, IPPROTO_TCP, TCP_DEFER_ACCEPT, 5, "TCP_DEFER_ACCEPT", "127.0.0.1:7", 0 },
		{ 0, SOL_SOCKET, SO_KEEPALIVE, 1, "SO_KEEPALIVE", "127.0.0.1:7", EBADF },
		{ 0, IPPROTO_TCP, TCP_NODELAY, 1, "TCP_NODELAY", "[::1]:8080", EBADF },
		{ AF_INET, IPPROTO_TCP, -1, 1, "NOT_AN_OPTION", "127.0.0.1:7", ENOPROTOOPT },
	};
	char err[256], want[256];
	struct net_addr a;
	socklen_t len;
	int fd, v;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		fd = cases[i].family ? socket(cases[i].family, SOCK_STREAM, 0) : -1;
		if (cases[i].family)
			assert_true(fd != -1);
		if (net_addr_parse_hostport(&a, cases[i].addr, err, sizeof err) != 0)
			fail_msg("%s: %s", cases[i].addr, err);
		errno = 0;
		err[0] = '\0';
		if (cases[i].error == 0) {
			assert_int_equal(net_setopt(fd, cases[i].level, cases[i].name,
					     cases[i].value, cases[i].what, &a, err, sizeof err),
			    0);
			len = sizeof v;
			assert_int_equal(
			    getsockopt(fd, cases[i].level, cases[i].name, &v, &len), 0);
			assert_true(v != 0);
			assert_string_equal(err, "");
		} else {
			assert_int_equal(net_setopt(fd, cases[i].level, cases[i].name,
					     cases[i].value, cases[i].what, &a, err, sizeof err),
			    -1);
			assert_int_equal(errno, cases[i].error);
			snprintf(want, sizeof want, "setsockopt %s %s: %s", cases[i].what,
			    cases[i].addr, strerror(cases[i].error));
			assert_string_equal(err, want);
		}
		if (fd != -1)
			close(fd);
	}
}

static void
test_somaxconn(void **state)
{
	FILE *f = fopen("/proc/sys/net/core/somaxconn", "r");
	int v;

	if (f == NULL) {
		assert_int_equal(net_somaxconn(), -1);
		return;
	}
	assert_int_equal(fscanf(f, "%d", &v), 1);
	fclose(f);
	assert_int_equal(net_somaxconn(), v);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_long_inputs),
		cmocka_unit_test(test_hostport),
		cmocka_unit_test(test_hostport_dual),
		cmocka_unit_test(test_format_inet),
		cmocka_unit_test(test_format_unix),
		cmocka_unit_test(test_format_other_family),
		cmocka_unit_test(test_equal),
		cmocka_unit_test(test_overlap),
		cmocka_unit_test(test_listen_loopback),
		cmocka_unit_test(test_listen_options),
		cmocka_unit_test(test_listen_ipv6),
		cmocka_unit_test_setup_teardown(test_listen_unix, tmpdir_setup, tmpdir_teardown),
		cmocka_unit_test(test_setopt),
		cmocka_unit_test(test_somaxconn),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

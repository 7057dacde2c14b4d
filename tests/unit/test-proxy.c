/* SPDX-License-Identifier: ISC */
/*
 * test-proxy.c: the PROXY protocol parser, versions 1 and 2: the
 * specification's examples, malformed headers, and every cut of a valid
 * header asking for more.
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "proxy.h"

#define SIG "\r\n\r\n\0\r\nQUIT\n"

struct example {
	const char *name;
	const char *data;
	size_t len; /* 0: strlen(data) */
	enum proxy_status status;
	size_t header; /* the header's length, when done */
	enum proxy_kind kind;
	const char *src, *dst; /* "ADDR:PORT" or "[ADDR]:PORT" */
};

#define V1(text, kind, src, dst)                                                                   \
	{                                                                                          \
		text, text, 0, PROXY_DONE, sizeof(text) - 1, kind, src, dst                        \
	}
#define BAD(name, text)                                                                            \
	{                                                                                          \
		name, text, 0, PROXY_ERROR, 0, 0, NULL, NULL                                       \
	}
#define BIN(name, bytes, status, hdr, kind, src, dst)                                              \
	{                                                                                          \
		name, bytes, sizeof(bytes) - 1, status, hdr, kind, src, dst                        \
	}

static const struct example examples[] = {
	V1("PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", PROXY_ADDRESSES,
	    "192.168.0.1:56324", "192.168.0.11:443"),
	V1("PROXY TCP6 2001:db8::1 2001:db8::11 56324 443\r\n", PROXY_ADDRESSES,
	    "[2001:db8::1]:56324", "[2001:db8::11]:443"),
	V1("PROXY TCP4 255.255.255.255 255.255.255.255 65535 65535\r\n", PROXY_ADDRESSES,
	    "255.255.255.255:65535", "255.255.255.255:65535"),
	V1("PROXY TCP4 0.0.0.0 0.0.0.0 0 0\r\n", PROXY_ADDRESSES, "0.0.0.0:0", "0.0.0.0:0"),
	V1("PROXY UNKNOWN\r\n", PROXY_UNKNOWN, NULL, NULL),
	V1("PROXY UNKNOWN ffff:f...f:ffff ffff:f...f:ffff 65535 65535\r\n", PROXY_UNKNOWN, NULL,
	    NULL),
	/* the worst case of the specification: 107 bytes */
	V1("PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
	   "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
	    PROXY_ADDRESSES, "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
	    "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535"),
	BAD("plain data", "hello\r\n"),
	BAD("lower case", "proxy TCP4 1.2.3.4 5.6.7.8 1 2\r\n"),
	BAD("bare line feed", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n"),
	BAD("carriage return alone", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX"),
	BAD("TCP5", "PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n"),
	BAD("IPv6 as TCP4", "PROXY TCP4 ::1 ::1 1 2\r\n"),
	BAD("IPv4 as TCP6", "PROXY TCP6 1.2.3.4 5.6.7.8 1 2\r\n"),
	BAD("port too big", "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n"),
	BAD("port leading zero", "PROXY TCP4 1.2.3.4 5.6.7.8 01 2\r\n"),
	BAD("port sign", "PROXY TCP4 1.2.3.4 5.6.7.8 +1 2\r\n"),
	BAD("port empty", "PROXY TCP4 1.2.3.4 5.6.7.8  2\r\n"),
	BAD("four fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n"),
	BAD("six fields", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 3\r\n"),
	BAD("two spaces", "PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n"),
	BAD("trailing space", "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n"),
	BAD("short address", "PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n"),
	BAD("address octet", "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n"),
	BAD("hostname", "PROXY TCP4 localhost 5.6.7.8 1 2\r\n"),
	BAD("nothing after PROXY", "PROXY \r\n"),
	BAD("UNKNOWNX", "PROXY UNKNOWNX\r\n"),
	BAD("108 bytes without an end",
	    "PROXY UNKNOWN xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxx"),
	BAD("HTTP", "GET / HTTP/1.0\r\n\r\n"),
	BIN("v2 signature broken", "\r\n\r\n\0\r\nQUIX\n\x21\x11\x00\x0c", PROXY_ERROR, 0, 0, NULL,
	    NULL),
	BIN("v2 PROXY TCP4",
	    SIG "\x21\x11\x00\x0c"
		"\xc0\x00\x02\x07\xc6\x33\x64\x01\x9d\x54\x01\xbb",
	    PROXY_DONE, 28, PROXY_ADDRESSES, "192.0.2.7:40276", "198.51.100.1:443"),
	BIN("v2 PROXY TCP6",
	    SIG "\x21\x21\x00\x24"
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
		"\x9d\x54\x01\xbb",
	    PROXY_DONE, 52, PROXY_ADDRESSES, "[2001:db8::7]:40276", "[2001:db8::1]:443"),
	BIN("v2 PROXY TCP4 with TLVs",
	    SIG "\x21\x11\x00\x1e"
		"\x7f\x00\x00\x09\x7f\x00\x00\x01\x9d\x54\x00\x07"
		"\x01\x00\x02h2"               /* ALPN */
		"\x04\x00\x00"                 /* NOOP, empty */
		"\x03\x00\x04\x01\x02\x03\x04" /* CRC32C */
		"\x05\x00\x00",
	    PROXY_DONE, 46, PROXY_ADDRESSES, "127.0.0.9:40276", "127.0.0.1:7"),
	BIN("v2 LOCAL", SIG "\x20\x00\x00\x00", PROXY_DONE, 16, PROXY_LOCAL, NULL, NULL),
	BIN("v2 LOCAL with addresses",
	    SIG "\x20\x11\x00\x0c"
		"\x7f\x00\x00\x09\x7f\x00\x00\x01\x9d\x54\x00\x07",
	    PROXY_DONE, 28, PROXY_LOCAL, NULL, NULL),
	BIN("v2 PROXY UNSPEC", SIG "\x21\x00\x00\x00", PROXY_DONE, 16, PROXY_UNKNOWN, NULL, NULL),
	BIN("v2 PROXY UDP4",
	    SIG "\x21\x12\x00\x0c"
		"\x7f\x00\x00\x09\x7f\x00\x00\x01\x9d\x54\x00\x07",
	    PROXY_DONE, 28, PROXY_UNKNOWN, NULL, NULL),
	BIN("v2 PROXY UDP6",
	    SIG "\x21\x22\x00\x24"
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x07"
		"\x20\x01\x0d\xb8\0\0\0\0\0\0\0\0\0\0\0\x01"
		"\x9d\x54\x01\xbb",
	    PROXY_DONE, 52, PROXY_UNKNOWN, NULL, NULL),
	BIN("v2 version 1", SIG "\x11\x11\x00\x0c", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 command 2", SIG "\x22\x11\x00\x0c", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 family 4", SIG "\x21\x41\x00\x0c", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 transport 3", SIG "\x21\x13\x00\x0c", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 TCP4 too short", SIG "\x21\x11\x00\x0b", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 TCP6 too short", SIG "\x21\x21\x00\x0c", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 unix too short", SIG "\x21\x31\x00\x24", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 too long", SIG "\x21\x11\x08\x01", PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 family without transport",
	    SIG "\x21\x10\x00\x0c"
		"\x7f\x00\x00\x09\x7f\x00\x00\x01\x9d\x54\x00\x07",
	    PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 truncated TLV",
	    SIG "\x21\x11\x00\x0e"
		"\x7f\x00\x00\x09\x7f\x00\x00\x01\x9d\x54\x00\x07"
		"\x04\x00",
	    PROXY_ERROR, 0, 0, NULL, NULL),
	BIN("v2 TLV past the end",
	    SIG "\x21\x11\x00\x10"
		"\x7f\x00\x00\x09\x7f\x00\x00\x01\x9d\x54\x00\x07"
		"\x04\x00\x02x",
	    PROXY_ERROR, 0, 0, NULL, NULL),
};

static void
format(const struct sockaddr_storage *ss, char *buf, size_t size)
{
	char a[INET6_ADDRSTRLEN];

	if (ss->ss_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)ss;

		inet_ntop(AF_INET, &sin->sin_addr, a, sizeof a);
		snprintf(buf, size, "%s:%u", a, ntohs(sin->sin_port));
	} else {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)ss;

		inet_ntop(AF_INET6, &sin6->sin6_addr, a, sizeof a);
		snprintf(buf, size, "[%s]:%u", a, ntohs(sin6->sin6_port));
	}
}

static size_t
example_len(const struct example *e)
{
	return e->len != 0 ? e->len : strlen(e->data);
}

static void
test_examples(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
		const struct example *e = &examples[i];
		struct proxy_result r;
		char buf[80];
		enum proxy_status st;

		print_message("%s\n", e->name);
		st = proxy_parse((const unsigned char *)e->data, example_len(e), &r);
		assert_int_equal(st, e->status);
		if (st == PROXY_ERROR) {
			assert_non_null(r.error);
			continue;
		}
		assert_int_equal(r.len, e->header);
		assert_int_equal(r.kind, e->kind);
		if (e->kind != PROXY_ADDRESSES)
			continue;
		format(&r.src, buf, sizeof buf);
		assert_string_equal(buf, e->src);
		format(&r.dst, buf, sizeof buf);
		assert_string_equal(buf, e->dst);
	}
}

/* Every cut of a valid header asks for more; bytes after it are not its. */
static void
test_cuts(void **state)
{
	(void)state;
	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
		const struct example *e = &examples[i];
		unsigned char buf[512];
		size_t len = example_len(e);
		struct proxy_result r;

		if (e->status != PROXY_DONE)
			continue;
		print_message("%s\n", e->name);
		for (size_t cut = 0; cut < len; cut++)
			assert_int_equal(
			    proxy_parse((const unsigned char *)e->data, cut, &r), PROXY_NEED_MORE);
		memcpy(buf, e->data, len);
		memcpy(buf + len, "PROXY x\r\n", 9);
		assert_int_equal(proxy_parse(buf, len + 9, &r), PROXY_DONE);
		assert_int_equal(r.len, len);
	}
}

/* The longest v2 header taken, and one byte more refused. */
static void
test_v2_bounds(void **state)
{
	static unsigned char buf[PROXY_MAX + 1];
	struct proxy_result r;
	size_t payload = PROXY_V2_MAX_PAYLOAD;

	(void)state;
	memcpy(buf, SIG, 12);
	buf[12] = 0x21;
	buf[13] = 0x11;
	buf[14] = (unsigned char)(payload >> 8);
	buf[15] = (unsigned char)payload;
	memset(buf + 16, 0, 12);
	/* one NOOP TLV fills the rest */
	buf[28] = 0x04;
	buf[29] = (unsigned char)((payload - 15) >> 8);
	buf[30] = (unsigned char)(payload - 15);
	assert_int_equal(proxy_parse(buf, PROXY_MAX, &r), PROXY_DONE);
	assert_int_equal(r.len, PROXY_MAX);
	assert_int_equal(proxy_parse(buf, PROXY_MAX - 1, &r), PROXY_NEED_MORE);
	payload++;
	buf[14] = (unsigned char)(payload >> 8);
	buf[15] = (unsigned char)payload;
	assert_int_equal(proxy_parse(buf, 16, &r), PROXY_ERROR);
}

/* v2 PROXY over unix sockets (216 bytes of addresses) keeps the peer. */
static void
test_v2_unix(void **state)
{
	unsigned char buf[16 + 216 + 3];
	struct proxy_result r;

	(void)state;
	memset(buf, 0, sizeof buf);
	memcpy(buf, SIG, 12);
	buf[12] = 0x21;
	buf[13] = 0x31; /* AF_UNIX, STREAM */
	buf[14] = 0;
	buf[15] = 216 + 3;
	memcpy(buf + 16, "/run/client.sock", 16);
	memcpy(buf + 16 + 108, "/run/server.sock", 16);
	buf[16 + 216] = 0x04; /* an empty NOOP */
	assert_int_equal(proxy_parse(buf, sizeof buf, &r), PROXY_DONE);
	assert_int_equal(r.len, sizeof buf);
	assert_int_equal(r.kind, PROXY_UNKNOWN);
	for (size_t cut = 0; cut < sizeof buf; cut++)
		assert_int_equal(proxy_parse(buf, cut, &r), PROXY_NEED_MORE);
	buf[13] = 0x32; /* AF_UNIX, DGRAM */
	assert_int_equal(proxy_parse(buf, sizeof buf, &r), PROXY_DONE);
	assert_int_equal(r.kind, PROXY_UNKNOWN);
	buf[15] = 215; /* no room for both paths */
	assert_int_equal(proxy_parse(buf, sizeof buf, &r), PROXY_ERROR);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_cuts),
		cmocka_unit_test(test_v2_bounds),
		cmocka_unit_test(test_v2_unix),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

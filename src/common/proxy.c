/* SPDX-License-Identifier: ISC */
/*
 * proxy.c: the PROXY protocol header, versions 1 and 2.
 *
 * Version 1 is one line: "PROXY TCP4 SRC DST SPORT DPORT\r\n" (TCP6 with
 * IPv6 addresses), or "PROXY UNKNOWN" with anything up to CRLF, at most
 * PROXY_V1_MAX bytes in all.  Fields are separated by single spaces,
 * addresses are what inet_pton() takes, ports are decimal 0..65535
 * without a leading zero.
 *
 * Version 2 is binary: a 12-byte signature, the version (2) and command
 * (LOCAL or PROXY) in one byte, the address family and transport in the
 * next, a 16-bit big-endian length of what follows: the addresses (12
 * bytes for IPv4, 36 for IPv6, 216 for unix sockets) and then TLVs, each
 * a type byte, a 16-bit length and its value, which are checked to fit
 * and skipped.
 *
 * A buffer that is a strict prefix of a valid header asks for more; one
 * that cannot become a valid header is an error as soon as that shows.
 */
#include "config.h"

#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>

#include "proxy.h"

static const unsigned char v2_signature[12] = { 0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51,
	0x55, 0x49, 0x54, 0x0A };
static const char v1_prefix[] = "PROXY ";

static enum proxy_status
fail(struct proxy_result *out, const char *why)
{
	out->error = why;
	return PROXY_ERROR;
}

/* The next field of a v1 line, up to a space (or the end for the last). */
static int
v1_field(const char **p, const char *end, int last, char *buf, size_t size)
{
	const char *s = *p, *e = s;

	while (e < end && *e != ' ')
		e++;
	if (e == s || (size_t)(e - s) >= size)
		return -1;
	if (last ? e != end : e == end)
		return -1;
	memcpy(buf, s, (size_t)(e - s));
	buf[e - s] = '\0';
	*p = last ? e : e + 1;
	return 0;
}

static int
v1_port(const char *s, unsigned *port)
{
	unsigned long v = 0;

	if (s[0] == '\0' || (s[0] == '0' && s[1] != '\0'))
		return -1;
	for (; *s != '\0'; s++) {
		if (*s < '0' || *s > '9')
			return -1;
		v = v * 10 + (unsigned long)(*s - '0');
		if (v > 65535)
			return -1;
	}
	*port = (unsigned)v;
	return 0;
}

static int
v1_address(int family, const char *text, unsigned port, struct sockaddr_storage *ss)
{
	memset(ss, 0, sizeof *ss);
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		if (inet_pton(AF_INET, text, &sin->sin_addr) != 1)
			return -1;
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
	} else {
		struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

		if (inet_pton(AF_INET6, text, &sin6->sin6_addr) != 1)
			return -1;
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
	}
	return 0;
}

static enum proxy_status
parse_v1(const unsigned char *buf, size_t len, struct proxy_result *out)
{
	const char *line = (const char *)buf, *p, *end;
	char proto[8], src[64], dst[64], sport[8], dport[8];
	unsigned sp, dp;
	int family;
	size_t n = len < PROXY_V1_MAX ? len : PROXY_V1_MAX, i;

	for (i = 0; i < n; i++) {
		if (buf[i] == '\n')
			return fail(out, "a line feed without a carriage return");
		if (buf[i] == '\r')
			break;
	}
	if (i == n)
		return len >= PROXY_V1_MAX ? fail(out, "version 1 line too long") : PROXY_NEED_MORE;
	if (i + 1 == len)
		return PROXY_NEED_MORE;
	if (i + 1 >= PROXY_V1_MAX || buf[i + 1] != '\n')
		return fail(out, "a carriage return without a line feed");
	out->version = 1;
	out->len = i + 2;
	p = line + sizeof v1_prefix - 1;
	end = line + i;
	if (end - p >= 7 && memcmp(p, "UNKNOWN", 7) == 0 && (end - p == 7 || p[7] == ' ')) {
		out->kind = PROXY_UNKNOWN; /* the rest of the line is ignored */
		return PROXY_DONE;
	}
	if (v1_field(&p, end, 0, proto, sizeof proto) == -1)
		return fail(out, "no protocol");
	if (strcmp(proto, "TCP4") == 0)
		family = AF_INET;
	else if (strcmp(proto, "TCP6") == 0)
		family = AF_INET6;
	else
		return fail(out, "protocol not TCP4, TCP6 or UNKNOWN");
	if (v1_field(&p, end, 0, src, sizeof src) == -1 ||
	    v1_field(&p, end, 0, dst, sizeof dst) == -1 ||
	    v1_field(&p, end, 0, sport, sizeof sport) == -1 ||
	    v1_field(&p, end, 1, dport, sizeof dport) == -1)
		return fail(out, "not five fields");
	if (v1_port(sport, &sp) == -1 || v1_port(dport, &dp) == -1)
		return fail(out, "bad port");
	if (v1_address(family, src, sp, &out->src) == -1 ||
	    v1_address(family, dst, dp, &out->dst) == -1)
		return fail(out, "bad address");
	out->kind = PROXY_ADDRESSES;
	return PROXY_DONE;
}

static enum proxy_status
parse_v2(const unsigned char *buf, size_t len, struct proxy_result *out)
{
	size_t payload, addrlen, pos;
	unsigned cmd, family, transport;

	if (buf[12] >> 4 != 2)
		return fail(out, "version 2 signature, version not 2");
	cmd = buf[12] & 0x0F;
	if (cmd > 1)
		return fail(out, "command not LOCAL or PROXY");
	if (len < 14)
		return PROXY_NEED_MORE;
	family = buf[13] >> 4;
	transport = buf[13] & 0x0F;
	if (family > 3 || transport > 2)
		return fail(out, "unknown address family or transport");
	if (len < PROXY_V2_HEAD)
		return PROXY_NEED_MORE;
	payload = ((size_t)buf[14] << 8) | buf[15];
	if (payload > PROXY_V2_MAX_PAYLOAD)
		return fail(out, "version 2 header too long");
	switch (family) {
	case 1:
		addrlen = 12;
		break;
	case 2:
		addrlen = 36;
		break;
	case 3:
		addrlen = 216;
		break;
	default:
		addrlen = 0;
		break;
	}
	/* LOCAL ignores the addresses, but a PROXY without room for them is wrong */
	if (cmd == 1 && payload < addrlen)
		return fail(out, "length too short for the addresses");
	if (len < PROXY_V2_HEAD + payload)
		return PROXY_NEED_MORE;
	if (cmd == 1 && (family == 0) != (transport == 0))
		return fail(out, "address family and transport disagree");
	pos = PROXY_V2_HEAD + (cmd == 1 ? addrlen : 0);
	if (cmd == 1) { /* TLVs are only defined after the addresses */
		while (pos < PROXY_V2_HEAD + payload) {
			size_t tlv;

			if (PROXY_V2_HEAD + payload - pos < 3)
				return fail(out, "truncated TLV");
			tlv = ((size_t)buf[pos + 1] << 8) | buf[pos + 2];
			if (PROXY_V2_HEAD + payload - pos - 3 < tlv)
				return fail(out, "TLV longer than the header");
			pos += 3 + tlv;
		}
	}
	out->version = 2;
	out->len = PROXY_V2_HEAD + payload;
	if (cmd == 0) {
		out->kind = PROXY_LOCAL;
		return PROXY_DONE;
	}
	out->kind = PROXY_UNKNOWN;
	if (transport != 1) /* UNSPEC, or DGRAM: no TCP client behind it */
		return PROXY_DONE;
	if (family == 1) {
		struct sockaddr_in *s = (struct sockaddr_in *)&out->src;
		struct sockaddr_in *d = (struct sockaddr_in *)&out->dst;

		memset(&out->src, 0, sizeof out->src);
		memset(&out->dst, 0, sizeof out->dst);
		s->sin_family = d->sin_family = AF_INET;
		memcpy(&s->sin_addr, buf + 16, 4);
		memcpy(&d->sin_addr, buf + 20, 4);
		memcpy(&s->sin_port, buf + 24, 2);
		memcpy(&d->sin_port, buf + 26, 2);
		out->kind = PROXY_ADDRESSES;
	} else if (family == 2) {
		struct sockaddr_in6 *s = (struct sockaddr_in6 *)&out->src;
		struct sockaddr_in6 *d = (struct sockaddr_in6 *)&out->dst;

		memset(&out->src, 0, sizeof out->src);
		memset(&out->dst, 0, sizeof out->dst);
		s->sin6_family = d->sin6_family = AF_INET6;
		memcpy(&s->sin6_addr, buf + 16, 16);
		memcpy(&d->sin6_addr, buf + 32, 16);
		memcpy(&s->sin6_port, buf + 48, 2);
		memcpy(&d->sin6_port, buf + 50, 2);
		out->kind = PROXY_ADDRESSES;
	}
	/* a unix socket client: no address to show, keep the peer */
	return PROXY_DONE;
}

enum proxy_status
proxy_parse(const unsigned char *buf, size_t len, struct proxy_result *out)
{
	size_t n;

	memset(out, 0, sizeof *out);
	if (len == 0)
		return PROXY_NEED_MORE;
	if (buf[0] == v2_signature[0]) {
		n = len < sizeof v2_signature ? len : sizeof v2_signature;
		if (memcmp(buf, v2_signature, n) != 0)
			return fail(out, "not a PROXY header");
		if (len <= sizeof v2_signature)
			return PROXY_NEED_MORE;
		return parse_v2(buf, len, out);
	}
	n = len < sizeof v1_prefix - 1 ? len : sizeof v1_prefix - 1;
	if (memcmp(buf, v1_prefix, n) != 0)
		return fail(out, "not a PROXY header");
	if (len < sizeof v1_prefix - 1)
		return PROXY_NEED_MORE;
	return parse_v1(buf, len, out);
}

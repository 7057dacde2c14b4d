/* SPDX-License-Identifier: ISC */
/*
 * syn.c: a saved SYN's headers parsed (syn.h).  Every length read from
 * the bytes is checked against what is left of them before it is used:
 * the input is what a peer sent, and a SYN that fails here is counted,
 * never trusted.
 */
#include "config.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "syn.h"

#define IPPROTO_TCP_ 6 /* the protocol numbers, as on the wire */
#define IP6_HOPOPTS 0
#define IP6_ROUTING 43
#define IP6_FRAGMENT 44
#define IP6_AH 51
#define IP6_DSTOPTS 60
#define IP6_MOBILITY 135
#define IP6_HIP 139
#define IP6_SHIM6 140

#define TCP_FIN 0x01
#define TCP_SYN 0x02
#define TCP_RST 0x04
#define TCP_ACK 0x10
#define TCP_ECE 0x40
#define TCP_CWR 0x80

#define OPT_EOL 0
#define OPT_NOP 1
#define OPT_MSS 2
#define OPT_WS 3
#define OPT_SACKOK 4
#define OPT_TS 8
#define OPT_FASTOPEN 34
#define FASTOPEN_COOKIE_MAX 16 /* RFC 7413 section 4.1.1 */

const char *const syn_error_label[SYN_ERRORS] = {
	[SYN_ERR_IP_TRUNCATED] = "ip_truncated",
	[SYN_ERR_IP_VERSION] = "ip_version",
	[SYN_ERR_IP_LENGTH] = "ip_length",
	[SYN_ERR_IP6_EXTENSION] = "ipv6_extension",
	[SYN_ERR_NOT_TCP] = "not_tcp",
	[SYN_ERR_TCP_TRUNCATED] = "tcp_truncated",
	[SYN_ERR_TCP_OFFSET] = "tcp_offset",
	[SYN_ERR_NOT_SYN] = "not_syn",
	[SYN_ERR_OPT_LENGTH] = "option_length",
	[SYN_ERR_OPT_SIZE] = "option_size",
};

const char *const syn_error_text[SYN_ERRORS] = {
	[SYN_ERR_IP_TRUNCATED] = "truncated IP header",
	[SYN_ERR_IP_VERSION] = "neither IPv4 nor IPv6",
	[SYN_ERR_IP_LENGTH] = "IPv4 header length under 20 or past the end",
	[SYN_ERR_IP6_EXTENSION] = "IPv6 extension header past the end",
	[SYN_ERR_NOT_TCP] = "not TCP",
	[SYN_ERR_TCP_TRUNCATED] = "truncated TCP header",
	[SYN_ERR_TCP_OFFSET] = "TCP data offset under 5 or past the end",
	[SYN_ERR_NOT_SYN] = "not a SYN",
	[SYN_ERR_OPT_LENGTH] = "TCP option length 0, 1 or past the end",
	[SYN_ERR_OPT_SIZE] = "TCP option of a wrong size",
};

static unsigned
get16(const uint8_t *p)
{
	return (unsigned)p[0] << 8 | p[1];
}

/*
 * The IP header(s): where the TCP header starts (*off), the TTL or hop
 * limit.  An IPv6 extension header is at least 8 bytes, so the walk ends
 * within len / 8 steps.
 */
static int
syn_ip(const uint8_t *buf, size_t len, struct syn_info *out, size_t *off, enum syn_error *err)
{
	size_t hl, at;
	unsigned next;

	if (len < 1) {
		*err = SYN_ERR_IP_TRUNCATED;
		return -1;
	}
	out->version = buf[0] >> 4;
	if (out->version == 4) {
		if (len < 20) {
			*err = SYN_ERR_IP_TRUNCATED;
			return -1;
		}
		hl = (size_t)(buf[0] & 0x0f) * 4;
		if (hl < 20 || hl > len) {
			*err = SYN_ERR_IP_LENGTH;
			return -1;
		}
		out->ttl = buf[8];
		if (buf[9] != IPPROTO_TCP_) {
			*err = SYN_ERR_NOT_TCP;
			return -1;
		}
		*off = hl;
		return 0;
	}
	if (out->version != 6) {
		*err = SYN_ERR_IP_VERSION;
		return -1;
	}
	if (len < 40) {
		*err = SYN_ERR_IP_TRUNCATED;
		return -1;
	}
	out->ttl = buf[7];
	next = buf[6];
	at = 40;
	for (;;) {
		switch (next) {
		case IPPROTO_TCP_:
			*off = at;
			return 0;
		case IP6_HOPOPTS:
		case IP6_ROUTING:
		case IP6_DSTOPTS:
		case IP6_MOBILITY:
		case IP6_HIP:
		case IP6_SHIM6:
		case IP6_FRAGMENT:
		case IP6_AH:
			break;
		default:
			*err = SYN_ERR_NOT_TCP;
			return -1;
		}
		if (len - at < 8) {
			*err = SYN_ERR_IP6_EXTENSION;
			return -1;
		}
		if (next == IP6_FRAGMENT)
			hl = 8;
		else if (next == IP6_AH)
			hl = ((size_t)buf[at + 1] + 2) * 4; /* RFC 4302: in 4-byte units, minus 2 */
		else
			hl = ((size_t)buf[at + 1] + 1) * 8; /* RFC 8200: in 8-byte units, minus 1 */
		if (hl > len - at) {
			*err = SYN_ERR_IP6_EXTENSION;
			return -1;
		}
		next = buf[at];
		at += hl;
	}
}

/* One option of a known kind: its size checked, its value taken. */
static int
syn_option(const uint8_t *o, size_t olen, struct syn_info *out)
{
	switch (o[0]) {
	case OPT_MSS:
		if (olen != 4)
			return -1;
		out->options |= SYN_OPT_MSS;
		out->mss = (uint16_t)get16(o + 2);
		return 0;
	case OPT_WS:
		if (olen != 3)
			return -1;
		out->options |= SYN_OPT_WS;
		out->wscale = o[2];
		return 0;
	case OPT_SACKOK:
		if (olen != 2)
			return -1;
		out->options |= SYN_OPT_SACKOK;
		return 0;
	case OPT_TS:
		if (olen != 10)
			return -1;
		out->options |= SYN_OPT_TS;
		return 0;
	case OPT_FASTOPEN:
		if (olen > 2 + FASTOPEN_COOKIE_MAX)
			return -1;
		out->options |= SYN_OPT_FASTOPEN;
		out->fastopen_cookie = (uint8_t)(olen - 2);
		return 0;
	default:
		out->options |= SYN_OPT_UNKNOWN;
		if (out->unknown < SYN_UNKNOWN_KEPT)
			out->unknown_kind[out->unknown] = o[0];
		if (out->unknown < UINT8_MAX)
			out->unknown++;
		return 0;
	}
}

/* The TCP options: from o, n bytes (the data offset's, checked). */
static int
syn_options(const uint8_t *o, size_t n, struct syn_info *out, enum syn_error *err)
{
	size_t i = 0, olen;

	while (i < n) {
		if (o[i] == OPT_EOL)
			break;
		if (o[i] == OPT_NOP) {
			i++;
			continue;
		}
		if (n - i < 2 || (olen = o[i + 1]) < 2 || olen > n - i) {
			*err = SYN_ERR_OPT_LENGTH;
			return -1;
		}
		if (syn_option(o + i, olen, out) == -1) {
			*err = SYN_ERR_OPT_SIZE;
			return -1;
		}
		i += olen;
	}
	return 0;
}

int
syn_parse(const uint8_t *buf, size_t len, struct syn_info *out, enum syn_error *err)
{
	const uint8_t *t;
	size_t off, doff;
	unsigned flags;

	memset(out, 0, sizeof *out);
	if (syn_ip(buf, len, out, &off, err) == -1)
		return -1;
	if (len - off < 20) {
		*err = SYN_ERR_TCP_TRUNCATED;
		return -1;
	}
	t = buf + off;
	doff = (size_t)(t[12] >> 4) * 4;
	if (doff < 20 || doff > len - off) {
		*err = SYN_ERR_TCP_OFFSET;
		return -1;
	}
	flags = t[13];
	if (!(flags & TCP_SYN) || (flags & (TCP_ACK | TCP_RST | TCP_FIN))) {
		*err = SYN_ERR_NOT_SYN;
		return -1;
	}
	out->ecn = (flags & (TCP_ECE | TCP_CWR)) == (TCP_ECE | TCP_CWR);
	out->window = (uint16_t)get16(t + 14);
	return syn_options(t + 20, doff - 20, out, err);
}

/* Appends to buf what fmt says, as far as it fits; the length so far. */
static size_t __attribute__((format(printf, 4, 5)))
syn_cat(char *buf, size_t size, size_t n, const char *fmt, ...)
{
	va_list ap;
	int r;

	if (n >= size)
		return n;
	va_start(ap, fmt);
	r = vsnprintf(buf + n, size - n, fmt, ap);
	va_end(ap);
	if (r < 0)
		return n;
	return (size_t)r >= size - n ? size - 1 : n + (size_t)r;
}

const char *
syn_options_name(unsigned options, char *buf, size_t size)
{
	static const char *const names[] = { "fastopen", "mss", "sackok", "ts", "ws", "unknown" };
	size_t n = 0;

	if (size == 0)
		return buf;
	buf[0] = '\0';
	for (unsigned i = 0; i < sizeof names / sizeof names[0]; i++)
		if (options & (1u << i))
			n = syn_cat(buf, size, n, "%s%s", n > 0 ? "," : "", names[i]);
	if (n == 0)
		syn_cat(buf, size, 0, "none");
	return buf;
}

const char *
syn_format(const struct syn_info *s, char *buf, size_t size)
{
	size_t n;

	if (size == 0)
		return buf;
	n = syn_cat(buf, size, 0, "v%u,ttl=%u,win=%u", s->version, s->ttl, s->window);
	if (s->options & SYN_OPT_MSS)
		n = syn_cat(buf, size, n, ",mss=%u", s->mss);
	if (s->options & SYN_OPT_WS)
		n = syn_cat(buf, size, n, ",ws=%u", s->wscale);
	if (s->options & SYN_OPT_SACKOK)
		n = syn_cat(buf, size, n, ",sackok");
	if (s->options & SYN_OPT_TS)
		n = syn_cat(buf, size, n, ",ts");
	if (s->ecn)
		n = syn_cat(buf, size, n, ",ecn");
	if (s->options & SYN_OPT_FASTOPEN)
		n = syn_cat(buf, size, n, ",fastopen=%u", s->fastopen_cookie);
	if (s->unknown > 0) {
		n = syn_cat(buf, size, n, ",unknown=%u:", s->unknown);
		for (unsigned i = 0; i < s->unknown && i < SYN_UNKNOWN_KEPT; i++)
			n = syn_cat(buf, size, n, "%s%u", i > 0 ? "+" : "", s->unknown_kind[i]);
	}
	return buf;
}

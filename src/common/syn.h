/* SPDX-License-Identifier: ISC */
/*
 * syn.h: a client's SYN as the kernel saved it (TCP_SAVE_SYN on the
 * listening socket, getsockopt(TCP_SAVED_SYN) on the accepted one): its
 * IPv4 or IPv6 header, any IPv6 extension headers, and its TCP header with
 * the options, parsed without any state: what the handshake carried by
 * the time it reached this host (an MSS a middlebox clamped, window
 * scaling stripped).
 */
#ifndef SYN_H
#define SYN_H

#include <stddef.h>
#include <stdint.h>

/*
 * The known options a SYN may carry, as bits of syn_info.options and in
 * the order of their names in a set's canonical name (syn_options_name):
 * alphabetical, so that one set has one name.
 */
#define SYN_OPT_FASTOPEN 0x01 /* kind 34: TCP Fast Open (a cookie, or a request for one) */
#define SYN_OPT_MSS 0x02      /* kind 2 */
#define SYN_OPT_SACKOK 0x04   /* kind 4: SACK permitted */
#define SYN_OPT_TS 0x08       /* kind 8: timestamps */
#define SYN_OPT_WS 0x10       /* kind 3: window scale */
#define SYN_OPT_UNKNOWN 0x20  /* any other kind */
#define SYN_OPT_SETS 64       /* every combination of the bits above */

#define SYN_UNKNOWN_KEPT 4     /* unknown kinds kept, in the order they came */
#define SYN_OPTIONS_NAMELEN 48 /* "fastopen,mss,sackok,ts,ws,unknown" and its NUL */
#define SYN_FIELDSLEN 128      /* what syn_format() writes at most, its NUL too */
#define SYN_SAVED_MAX 512      /* more than any IP and TCP header with options */

struct syn_info {
	uint8_t version; /* 4 or 6 */
	uint8_t ttl;     /* IPv4 TTL or IPv6 hop limit, as it arrived */
	uint8_t ecn;     /* ECN setup: ECE and CWR both set */
	uint8_t options; /* SYN_OPT_* bits */
	uint16_t window; /* as sent: a SYN's window is never scaled */
	uint16_t mss;    /* with SYN_OPT_MSS */
	uint8_t wscale;  /* with SYN_OPT_WS: the shift, as sent (the kernel caps it at 14) */
	uint8_t fastopen_cookie; /* with SYN_OPT_FASTOPEN: the cookie's length; 0 asks for one */
	uint8_t unknown;         /* unknown options counted */
	uint8_t unknown_kind[SYN_UNKNOWN_KEPT]; /* the first of them */
};

/* Why bytes are not a SYN: syn_error_label[] names each, syn_error_text[] says it. */
enum syn_error {
	SYN_ERR_IP_TRUNCATED,  /* shorter than its IP header */
	SYN_ERR_IP_VERSION,    /* neither IPv4 nor IPv6 */
	SYN_ERR_IP_LENGTH,     /* an IPv4 header length under 20 or past the end */
	SYN_ERR_IP6_EXTENSION, /* an IPv6 extension header past the end */
	SYN_ERR_NOT_TCP,       /* the last header is not TCP's */
	SYN_ERR_TCP_TRUNCATED, /* shorter than a TCP header */
	SYN_ERR_TCP_OFFSET,    /* a data offset under 5 or past the end */
	SYN_ERR_NOT_SYN,       /* SYN not set, or ACK, RST or FIN set */
	SYN_ERR_OPT_LENGTH,    /* an option length of 0 or 1, or past the options' end */
	SYN_ERR_OPT_SIZE,      /* a known option of a size it cannot have */
	SYN_ERRORS
};

extern const char *const syn_error_label[SYN_ERRORS];
extern const char *const syn_error_text[SYN_ERRORS];

/*
 * Parse len bytes of a saved SYN into *out: 0, or -1 with *err why the
 * bytes are not one.  Reads nothing past buf + len.
 */
int syn_parse(const uint8_t *buf, size_t len, struct syn_info *out, enum syn_error *err);

/* The canonical name of a set of SYN_OPT_* bits: "mss,sackok,ts,ws", "none". */
const char *syn_options_name(unsigned options, char *buf, size_t size);

/*
 * The parsed fields in one word, for a log line:
 * "v4,ttl=64,win=65495,mss=1200,ws=10,sackok,ts,ecn,fastopen=8,unknown=2:99+200".
 */
const char *syn_format(const struct syn_info *, char *buf, size_t size);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * test-syn.c: the saved-SYN parser: IPv4 and IPv6 (with extension
 * headers), every option kind it knows, NOPs and EOL, unknown kinds, and
 * what it must refuse: truncated headers, lengths past the end, option
 * lengths 0 and 1, wrong option sizes, not TCP, not a SYN.  Each case is
 * also parsed from a buffer of exactly its size cut at every length: a
 * cut SYN is refused, never read past.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "syn.h"

#define OPTS_MAX 40
#define EXT_MAX 64

struct example {
	const char *name;
	int version;          /* 4 or 6; anything else is written as is */
	uint8_t ihl;          /* IPv4 header length in words; 0: 5 */
	uint8_t proto;        /* IPv4 protocol, or IPv6 next header, before ext; 0: TCP */
	uint8_t ext[EXT_MAX]; /* IPv6 extension headers, as on the wire */
	size_t extlen;
	uint8_t flags; /* TCP flags; 0: SYN */
	uint8_t doff;  /* TCP data offset in words; 0: fits the options */
	uint8_t opts[OPTS_MAX];
	size_t optlen;
	int ok;
	enum syn_error err; /* when !ok */
	const char *fields; /* syn_format() of it, when ok */
	const char *set;    /* syn_options_name() of it, when ok */
};

/* The options Linux sends on loopback: MSS 65495, SACK permitted, timestamps, ws 7 */
#define LINUX_OPTS { 2, 4, 0xff, 0xd7, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7 }, 20

static const struct example examples[] = {
	{ "linux ipv4", 4, 0, 0, { 0 }, 0, 0, 0, LINUX_OPTS, 1, 0,
	    "v4,ttl=64,win=65495,mss=65495,ws=7,sackok,ts", "mss,sackok,ts,ws" },
	{ "linux ipv6", 6, 0, 0, { 0 }, 0, 0, 0, LINUX_OPTS, 1, 0,
	    "v6,ttl=64,win=65495,mss=65495,ws=7,sackok,ts", "mss,sackok,ts,ws" },
	{ "no options", 4, 0, 0, { 0 }, 0, 0, 0, { 0 }, 0, 1, 0, "v4,ttl=64,win=65495", "none" },
	{ "ipv4 options", 4, 6, 0, { 0 }, 0, 0, 0, { 2, 4, 0x04, 0xb0 }, 4, 1, 0,
	    "v4,ttl=64,win=65495,mss=1200", "mss" },
	{ "nops and eol", 4, 0, 0, { 0 }, 0, 0, 0, { 1, 1, 2, 4, 0x05, 0xb4, 1, 0, 99, 0, 0, 0 },
	    12, 1, 0, "v4,ttl=64,win=65495,mss=1460", "mss" },
	{ "after eol, nothing", 4, 0, 0, { 0 }, 0, 0, 0, { 0, 1, 0, 0 }, 4, 1, 0,
	    "v4,ttl=64,win=65495", "none" },
	{ "ecn setup", 4, 0, 0, { 0 }, 0, 0x02 | 0x40 | 0x80, 0, { 0 }, 0, 1, 0,
	    "v4,ttl=64,win=65495,ecn", "none" },
	{ "ece alone", 4, 0, 0, { 0 }, 0, 0x02 | 0x40, 0, { 0 }, 0, 1, 0, "v4,ttl=64,win=65495",
	    "none" },
	{ "fastopen request", 4, 0, 0, { 0 }, 0, 0, 0, { 34, 2, 1, 1 }, 4, 1, 0,
	    "v4,ttl=64,win=65495,fastopen=0", "fastopen" },
	{ "fastopen cookie", 6, 0, 0, { 0 }, 0, 0, 0, { 34, 10, 1, 2, 3, 4, 5, 6, 7, 8, 1, 1 }, 12,
	    1, 0, "v6,ttl=64,win=65495,fastopen=8", "fastopen" },
	{ "fastopen longest cookie", 4, 0, 0, { 0 }, 0, 0, 0,
	    { 34, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1 }, 20, 1, 0,
	    "v4,ttl=64,win=65495,fastopen=16", "fastopen" },
	{ "unknown kinds", 4, 0, 0, { 0 }, 0, 0, 0,
	    { 30, 4, 0, 0, 254, 4, 0xf9, 0x89, 19, 18, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
		0, 5, 2, 6, 2, 7, 2, 0, 0 },
	    32, 1, 0, "v4,ttl=64,win=65495,unknown=6:30+254+19+5", "unknown" },
	{ "every kind", 4, 0, 0, { 0 }, 0, 0, 0,
	    { 2, 4, 0x04, 0xb0, 3, 3, 14, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 34, 6, 1, 2, 3, 4,
		99, 2, 1, 1 },
	    28, 1, 0, "v4,ttl=64,win=65495,mss=1200,ws=14,sackok,ts,fastopen=4,unknown=1:99",
	    "fastopen,mss,sackok,ts,ws,unknown" },
	/* destination options, hop-by-hop, routing: 8, 16 and 8 bytes */
	{ "ipv6 extension headers", 6, 0, 60,
	    { 0, 0, 1, 4, 0, 0, 0, 0, 43, 1, 1, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 6, 0, 0, 0,
		0, 0, 0, 0 },
	    32, 0, 0, LINUX_OPTS, 1, 0, "v6,ttl=64,win=65495,mss=65495,ws=7,sackok,ts",
	    "mss,sackok,ts,ws" },
	{ "ipv6 fragment, ah", 6, 0, 44,
	    { 51, 0, 0, 0, 0, 0, 0, 0, 6, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 20, 0, 0,
	    { 2, 4, 0x04, 0xb0 }, 4, 1, 0, "v6,ttl=64,win=65495,mss=1200", "mss" },
	/* refused */
	{ "not ip", 5, 0, 0, { 0 }, 0, 0, 0, { 0 }, 0, 0, SYN_ERR_IP_VERSION, NULL, NULL },
	{ "ipv4 ihl 4", 4, 4, 0, { 0 }, 0, 0, 0, { 0 }, 0, 0, SYN_ERR_IP_LENGTH, NULL, NULL },
	{ "ipv4 ihl past the end", 4, 15, 0, { 0 }, 0, 0, 0, { 0 }, 0, 0, SYN_ERR_IP_LENGTH, NULL,
	    NULL },
	{ "udp", 4, 0, 17, { 0 }, 0, 0, 0, { 0 }, 0, 0, SYN_ERR_NOT_TCP, NULL, NULL },
	{ "ipv6 udp", 6, 0, 17, { 0 }, 0, 0, 0, { 0 }, 0, 0, SYN_ERR_NOT_TCP, NULL, NULL },
	{ "ipv6 no next header", 6, 0, 59, { 0 }, 0, 0, 0, { 0 }, 0, 0, SYN_ERR_NOT_TCP, NULL,
	    NULL },
	{ "ipv6 extension past the end", 6, 0, 60, { 6, 200, 0, 0, 0, 0, 0, 0 }, 8, 0, 0, { 0 }, 0,
	    0, SYN_ERR_IP6_EXTENSION, NULL, NULL },
	{ "tcp data offset 4", 4, 0, 0, { 0 }, 0, 0, 4, { 0 }, 0, 0, SYN_ERR_TCP_OFFSET, NULL,
	    NULL },
	{ "tcp data offset 0", 6, 0, 0, { 0 }, 0, 0, 0x10, { 0 }, 0, 0, SYN_ERR_TCP_OFFSET, NULL,
	    NULL },
	{ "tcp data offset past the end", 4, 0, 0, { 0 }, 0, 0, 15, { 2, 4, 1, 1 }, 4, 0,
	    SYN_ERR_TCP_OFFSET, NULL, NULL },
	{ "syn-ack", 4, 0, 0, { 0 }, 0, 0x12, 0, { 0 }, 0, 0, SYN_ERR_NOT_SYN, NULL, NULL },
	{ "rst", 4, 0, 0, { 0 }, 0, 0x04, 0, { 0 }, 0, 0, SYN_ERR_NOT_SYN, NULL, NULL },
	{ "syn-fin", 4, 0, 0, { 0 }, 0, 0x03, 0, { 0 }, 0, 0, SYN_ERR_NOT_SYN, NULL, NULL },
	{ "no syn", 4, 0, 0, { 0 }, 0, 0x08, 0, { 0 }, 0, 0, SYN_ERR_NOT_SYN, NULL, NULL },
	{ "option length 0", 4, 0, 0, { 0 }, 0, 0, 0, { 99, 0, 1, 1 }, 4, 0, SYN_ERR_OPT_LENGTH,
	    NULL, NULL },
	{ "option length 1", 4, 0, 0, { 0 }, 0, 0, 0, { 2, 1, 1, 1 }, 4, 0, SYN_ERR_OPT_LENGTH,
	    NULL, NULL },
	{ "option length past the end", 4, 0, 0, { 0 }, 0, 0, 0, { 1, 1, 8, 10 }, 4, 0,
	    SYN_ERR_OPT_LENGTH, NULL, NULL },
	{ "option kind last, no length", 4, 0, 0, { 0 }, 0, 0, 0, { 1, 1, 1, 2 }, 4, 0,
	    SYN_ERR_OPT_LENGTH, NULL, NULL },
	{ "mss of 3", 4, 0, 0, { 0 }, 0, 0, 0, { 2, 3, 1, 1 }, 4, 0, SYN_ERR_OPT_SIZE, NULL, NULL },
	{ "ws of 4", 4, 0, 0, { 0 }, 0, 0, 0, { 3, 4, 7, 1 }, 4, 0, SYN_ERR_OPT_SIZE, NULL, NULL },
	{ "sackok of 3", 4, 0, 0, { 0 }, 0, 0, 0, { 4, 3, 0, 1 }, 4, 0, SYN_ERR_OPT_SIZE, NULL,
	    NULL },
	{ "ts of 8", 4, 0, 0, { 0 }, 0, 0, 0, { 8, 8, 0, 0, 0, 0, 0, 0 }, 8, 0, SYN_ERR_OPT_SIZE,
	    NULL, NULL },
	{ "fastopen cookie of 17", 4, 0, 0, { 0 }, 0, 0, 0,
	    { 34, 19, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, 20, 0,
	    SYN_ERR_OPT_SIZE, NULL, NULL },
};

/* The example's bytes into buf: its IP header(s), then TCP's with the options. */
static size_t
build(const struct example *e, uint8_t *buf, size_t size)
{
	size_t n = 0, tcp, doff;

	memset(buf, 0, size);
	if (e->version == 6) {
		buf[0] = 0x60;
		buf[6] = e->proto != 0 ? e->proto : 6;
		buf[7] = 64;
		n = 40;
		memcpy(buf + n, e->ext, e->extlen);
		n += e->extlen;
	} else {
		uint8_t ihl = e->ihl != 0 ? e->ihl : 5;

		buf[0] = (uint8_t)(e->version << 4 | ihl);
		buf[8] = 64;
		buf[9] = e->proto != 0 ? e->proto : 6;
		n = ihl >= 5 && ihl * 4u <= 60 ? ihl * 4u : 20;
		if (ihl == 15)
			n = 20; /* says 60 bytes, has 20 + TCP's */
	}
	tcp = n;
	buf[tcp + 13] = e->flags != 0 ? e->flags : 0x02;
	buf[tcp + 14] = 0xff;
	buf[tcp + 15] = 0xd7;
	doff = e->doff != 0 ? (e->doff & 0x0f) : (20 + e->optlen + 3) / 4;
	buf[tcp + 12] = (uint8_t)(doff << 4);
	memcpy(buf + tcp + 20, e->opts, e->optlen);
	n = tcp + 20 + (e->optlen + 3) / 4 * 4;
	return n;
}

static void
test_examples(void **state)
{
	uint8_t wire[SYN_SAVED_MAX];
	char fields[SYN_FIELDSLEN], set[SYN_OPTIONS_NAMELEN];
	struct syn_info s;
	enum syn_error err;

	for (size_t i = 0; i < sizeof examples / sizeof examples[0]; i++) {
		const struct example *e = &examples[i];
		size_t n = build(e, wire, sizeof wire);
		uint8_t *exact = malloc(n);
		int r;

		assert_non_null(exact);
		memcpy(exact, wire, n);
		err = SYN_ERRORS;
		r = syn_parse(exact, n, &s, &err);
		if (e->ok) {
			if (r != 0)
				fail_msg("%s: refused: %s", e->name, syn_error_text[err]);
			syn_format(&s, fields, sizeof fields);
			syn_options_name(s.options, set, sizeof set);
			if (strcmp(fields, e->fields) != 0 || strcmp(set, e->set) != 0)
				fail_msg("%s: \"%s\" \"%s\", not \"%s\" \"%s\"", e->name, fields,
				    set, e->fields, e->set);
		} else if (r != -1 || err != e->err)
			fail_msg("%s: %d %s, not -1 %s", e->name, r,
			    r == -1 ? syn_error_label[err] : "-", syn_error_label[e->err]);
		/* every cut of it: refused, and read no further (ASan would say) */
		for (size_t cut = 0; cut < n && e->ok; cut++) {
			uint8_t *part = malloc(cut > 0 ? cut : 1);

			assert_non_null(part);
			memcpy(part, wire, cut);
			if (syn_parse(part, cut, &s, &err) != -1)
				fail_msg("%s: cut at %zu of %zu parsed", e->name, cut, n);
			free(part);
		}
		free(exact);
	}
}

/* Every error has a label and a text. */
static void
test_error_names(void **state)
{
	for (int i = 0; i < SYN_ERRORS; i++) {
		assert_non_null(syn_error_label[i]);
		assert_non_null(syn_error_text[i]);
	}
}

/* Every set of options has a name of its own, and each fits. */
static void
test_option_set_names(void **state)
{
	char a[SYN_OPTIONS_NAMELEN], b[SYN_OPTIONS_NAMELEN];

	for (unsigned i = 0; i < SYN_OPT_SETS; i++) {
		syn_options_name(i, a, sizeof a);
		assert_true(strlen(a) < sizeof a - 1 || i == SYN_OPT_SETS - 1);
		for (unsigned j = 0; j < i; j++)
			assert_string_not_equal(a, syn_options_name(j, b, sizeof b));
	}
	assert_string_equal(
	    syn_options_name(SYN_OPT_SETS - 1, a, sizeof a), "fastopen,mss,sackok,ts,ws,unknown");
	assert_string_equal(syn_options_name(0, a, sizeof a), "none");
	/* a short buffer: cut, terminated */
	assert_string_equal(syn_options_name(SYN_OPT_MSS | SYN_OPT_TS, a, 6), "mss,t");
}

/* The longest line syn_format() can make fits SYN_FIELDSLEN. */
static void
test_format_longest(void **state)
{
	struct syn_info s = {
		.version = 6,
		.ttl = 255,
		.ecn = 1,
		.options = SYN_OPT_SETS - 1,
		.window = 65535,
		.mss = 65535,
		.wscale = 255,
		.fastopen_cookie = 16,
		.unknown = 255,
		.unknown_kind = { 255, 255, 255, 255 },
	};
	char buf[SYN_FIELDSLEN + 1];

	memset(buf, 'x', sizeof buf);
	syn_format(&s, buf, sizeof buf);
	assert_true(strlen(buf) < SYN_FIELDSLEN - 1);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_examples),
		cmocka_unit_test(test_error_names),
		cmocka_unit_test(test_option_set_names),
		cmocka_unit_test(test_format_longest),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

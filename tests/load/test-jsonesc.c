/* SPDX-License-Identifier: ISC */
/*
 * test-jsonesc.c: the one JSON string escaper (src/common/jsonesc.h).
 *
 * '"' and '\' escaped; control characters as their short form or as
 * \u00XX; DEL as \u007f; valid UTF-8 of 2, 3 and 4 bytes passes as it
 * is; every byte that begins no valid sequence (a lone continuation, a
 * truncated sequence, an overlong form, a surrogate, above U+10FFFF, 0xff)
 * becomes one \ufffd; NUL bytes are input like any other.  The length is
 * counted as snprintf() does, output cut at the size given.  And every
 * string of one or two bytes escapes into JSON that the strict reader
 * (json.c) takes, as a string of valid UTF-8.
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

#include "common/jsonesc.h"
#include "load/json.h"

#define IN(s) s, sizeof s - 1

static const struct {
	const char *in;
	size_t len;
	const char *out;
} cases[] = {
	{ IN(""), "" },
	{ IN("127.0.0.1:7007"), "127.0.0.1:7007" },
	{ IN("a\"b\\c/d"), "a\\\"b\\\\c/d" },
	{ IN("\b\f\n\r\t"), "\\b\\f\\n\\r\\t" },
	{ IN("\x01\x0b\x1b\x1f"), "\\u0001\\u000b\\u001b\\u001f" },
	{ IN("a\0b"), "a\\u0000b" },
	{ IN("\x7f"), "\\u007f" },
	{ IN(" ~"), " ~" },
	/* valid UTF-8 passes: 2, 3 and 4 bytes, the ends of the ranges */
	{ IN("caf\xc3\xa9"), "caf\xc3\xa9" },
	{ IN("\xc2\x80\xdf\xbf"), "\xc2\x80\xdf\xbf" },
	{ IN("\xe2\x82\xac \xe0\xa0\x80 \xef\xbf\xbf"), "\xe2\x82\xac \xe0\xa0\x80 \xef\xbf\xbf" },
	{ IN("\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf"), "\xf0\x9f\x98\x80\xf4\x8f\xbf\xbf" },
	/* invalid bytes: one U+FFFD each */
	{ IN("\xe9t\xe9"), "\\ufffdt\\ufffd" },
	{ IN("\x80"), "\\ufffd" },
	{ IN("\xff\xfe"), "\\ufffd\\ufffd" },
	{ IN("\xc3"), "\\ufffd" },
	{ IN("\xe2\x82"), "\\ufffd\\ufffd" },
	{ IN("\xc0\xaf"), "\\ufffd\\ufffd" },
	{ IN("\xe0\x80\xaf"), "\\ufffd\\ufffd\\ufffd" },
	{ IN("\xed\xa0\x80"), "\\ufffd\\ufffd\\ufffd" },
	{ IN("\xf4\x90\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ IN("\xf5\x80\x80\x80"), "\\ufffd\\ufffd\\ufffd\\ufffd" },
	{ IN("\xc3\x28"), "\\ufffd(" },
	{ IN("ok\xc3\xa9\xc3\n"), "ok\xc3\xa9\\ufffd\\n" },
};

static void
test_cases(void **state)
{
	char out[128];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t want = strlen(cases[i].out);
		size_t n = jsonesc(cases[i].in, cases[i].len, out, sizeof out);

		if (n != want || memcmp(out, cases[i].out, n) != 0)
			fail_msg("case %zu: got \"%.*s\" (%zu), want \"%s\" (%zu)", i, (int)n, out,
			    n, cases[i].out, want);
		assert_int_equal(jsonesc(cases[i].in, cases[i].len, NULL, 0), want);
	}
}

/* Cut at the size given, the whole length counted, nothing written past it. */
static void
test_size(void **state)
{
	static const char in[] = "a\"\x01\xe9z";
	static const char full[] = "a\\\"\\u0001\\ufffdz";
	char out[sizeof full + 4];

	(void)state;
	for (size_t size = 0; size <= sizeof full - 1; size++) {
		memset(out, '#', sizeof out);
		assert_int_equal(jsonesc(in, sizeof in - 1, out, size), sizeof full - 1);
		assert_memory_equal(out, full, size);
		assert_int_equal(out[size], '#');
	}
}

static void
test_write(void **state)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_non_null(f);
	assert_int_equal(jsonesc_write(f, IN("tab\there \xff")), 0);
	assert_int_equal(fclose(f), 0);
	assert_string_equal(text, "\"tab\\there \\ufffd\"");
	free(text);
}

/* in, escaped and quoted, is one JSON string that reads back as UTF-8. */
static void
check_reads_back(const unsigned char *in, size_t len)
{
	char out[64];
	size_t n;
	struct json_error err;
	struct json_doc *doc;

	out[0] = '"';
	n = jsonesc((const char *)in, len, out + 1, sizeof out - 2);
	assert_true(n <= 6 * len);
	out[n + 1] = '"';
	if ((doc = json_parse(out, n + 2, NULL, &err)) == NULL)
		fail_msg("bytes %02x %02x (%zu) escape to %.*s: %s", in[0], len > 1 ? in[1] : 0,
		    len, (int)n + 2, out, err.msg);
	assert_int_equal(json_root(doc)->type, JSON_STRING);
	json_free(doc);
}

static void
test_every_short_string(void **state)
{
	unsigned char in[2];

	(void)state;
	for (unsigned a = 0; a < 256; a++) {
		in[0] = (unsigned char)a;
		check_reads_back(in, 1);
		for (unsigned b = 0; b < 256; b++) {
			in[1] = (unsigned char)b;
			check_reads_back(in, 2);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_size),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_every_short_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

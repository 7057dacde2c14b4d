/*
 * test-services.c: the pure parts of the services: the chargen pattern
 * (RFC 864) and the daytime line (RFC 867).
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#include "synackd.h"

#define RING 95 /* printable ASCII, ' ' to '~' */
#define WIDTH 72
#define LINE (WIDTH + 2) /* with CRLF */
#define CYCLE (RING * LINE)

/* Line n of the pattern, written out independently of chargen.c. */
static void
expected_line(size_t n, char *buf)
{
	for (size_t c = 0; c < WIDTH; c++)
		buf[c] = (char)(' ' + (n + c) % RING);
	buf[WIDTH] = '\r';
	buf[WIDTH + 1] = '\n';
}

/* Two cycles and a bit of the stream, from offset 0. */
static char *
stream(size_t len)
{
	char *buf = malloc(len);

	assert_non_null(buf);
	assert_int_equal(chargen_pattern(0, buf, len), len);
	return buf;
}

static void
test_chargen_first_lines(void **state)
{
	static const char line0[] =
	    " !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefg\r\n";
	static const char line1[] =
	    "!\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdefgh\r\n";
	/* the last line of the cycle wraps around from '~' to ' ' */
	static const char line94[] =
	    "~ !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\\]^_`abcdef\r\n";
	char *s = stream(CYCLE);

	assert_int_equal(sizeof line0 - 1, LINE);
	assert_memory_equal(s, line0, LINE);
	assert_memory_equal(s + LINE, line1, LINE);
	assert_memory_equal(s + 94 * LINE, line94, LINE);
	free(s);
}

static void
test_chargen_lines(void **state)
{
	size_t nlines = 3 * RING + 7;
	char *s = stream(nlines * LINE), want[LINE];

	for (size_t n = 0; n < nlines; n++) {
		const char *line = s + n * LINE;

		/* 72 printable characters, then CRLF */
		for (size_t c = 0; c < WIDTH; c++)
			if (line[c] < ' ' || line[c] > '~')
				fail_msg("line %zu column %zu: byte %d", n, c, line[c]);
		assert_int_equal(line[WIDTH], '\r');
		assert_int_equal(line[WIDTH + 1], '\n');
		/* line n starts at ring index n mod 95 and rotates by one each column */
		assert_int_equal(line[0], ' ' + (int)(n % RING));
		expected_line(n, want);
		if (memcmp(line, want, LINE) != 0)
			fail_msg("line %zu: \"%.*s\"", n, WIDTH, line);
	}
	free(s);
}

static void
test_chargen_cycle(void **state)
{
	char *s = stream(2 * CYCLE + LINE);
	int seen[RING] = { 0 };

	/* the pattern repeats after 95 lines ... */
	assert_memory_equal(s, s + CYCLE, CYCLE);
	assert_memory_equal(s, s + 2 * CYCLE, LINE);
	/* ... and not before */
	for (size_t n = 1; n < RING; n++)
		if (memcmp(s, s + n * LINE, LINE) == 0)
			fail_msg("line %zu equals line 0", n);
	/* every printable character starts exactly one line of the cycle */
	for (size_t n = 0; n < RING; n++)
		seen[s[n * LINE] - ' ']++;
	for (size_t i = 0; i < RING; i++)
		assert_int_equal(seen[i], 1);
	free(s);
}

static void
test_chargen_offsets(void **state)
{
	static const struct {
		size_t offset, len;
	} cases[] = {
		{ 0, 0 },
		{ 0, 1 },
		{ 1, 1 },
		{ 71, 5 },  /* across the CRLF */
		{ 72, 1 },  /* the CR */
		{ 73, 1 },  /* the LF */
		{ 74, 74 }, /* exactly line 1 */
		{ 100, 1000 },
		{ CYCLE - 3, 10 }, /* across the end of the cycle */
		{ CYCLE, LINE },
		{ CYCLE + 5, 3 * CYCLE },
		{ 12345, 4321 },
		{ 1000000007, 777 },
		{ (size_t)3 << 30, 2 * CYCLE },
	};
	size_t maxlen = 3 * CYCLE + 16;
	char *ref = stream(CYCLE + maxlen), *buf = malloc(maxlen + 2);

	assert_non_null(buf);
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		size_t off = cases[i].offset, len = cases[i].len;

		assert_true(len <= maxlen);
		/* guard bytes around the slice: nothing written outside it */
		memset(buf, 0x7f, len + 2);
		assert_int_equal(chargen_pattern(off, buf + 1, len), len);
		assert_int_equal(buf[0], 0x7f);
		assert_int_equal(buf[len + 1], 0x7f);
		/* the stream at any offset is the stream from 0, cut there */
		if (memcmp(buf + 1, ref + off % CYCLE, len) != 0)
			fail_msg("offset %zu length %zu differs", off, len);
	}
	free(buf);
	free(ref);
}

/* Reading the stream in odd-sized pieces gives the same bytes. */
static void
test_chargen_pieces(void **state)
{
	size_t total = 2 * CYCLE + 99, off = 0, step = 1;
	char *ref = stream(total), *buf = malloc(total);

	assert_non_null(buf);
	while (off < total) {
		size_t n = step < total - off ? step : total - off;

		chargen_pattern(off, buf + off, n);
		off += n;
		step = step * 3 % 997 + 1;
	}
	assert_memory_equal(buf, ref, total);
	free(buf);
	free(ref);
}

/* ---- daytime ---- */

static void
set_tz(const char *tz)
{
	assert_int_equal(setenv("TZ", tz, 1), 0);
	tzset();
}

static void
test_daytime_utc(void **state)
{
	static const struct {
		time_t t;
		const char *line;
	} cases[] = {
		{ 0, "Thursday, January 01, 1970 00:00:00-UTC\r\n" },
		{ 1700000000, "Tuesday, November 14, 2023 22:13:20-UTC\r\n" },
		{ 951782400, "Tuesday, February 29, 2000 00:00:00-UTC\r\n" },
		{ 1767225599, "Wednesday, December 31, 2025 23:59:59-UTC\r\n" },
	};
	char buf[128];

	set_tz("UTC");
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		memset(buf, 'x', sizeof buf);
		assert_int_equal(
		    daytime_format(cases[i].t, buf, sizeof buf), strlen(cases[i].line));
		assert_string_equal(buf, cases[i].line);
	}
}

/* Local time, not UTC. */
static void
test_daytime_local(void **state)
{
	char buf[128];
	size_t n;

	set_tz("JST-9");
	n = daytime_format(0, buf, sizeof buf);
	assert_string_equal(buf, "Thursday, January 01, 1970 09:00:00-JST\r\n");
	assert_int_equal(n, strlen(buf));
	set_tz("EST5");
	daytime_format(0, buf, sizeof buf);
	assert_string_equal(buf, "Wednesday, December 31, 1969 19:00:00-EST\r\n");
	set_tz("UTC");
}

/* Now, in whatever zone the test runs: one line with this year. */
static void
test_daytime_now(void **state)
{
	char buf[128], year[16];
	time_t now = time(NULL);
	struct tm tm;
	size_t n;

	unsetenv("TZ");
	tzset();
	n = daytime_format(now, buf, sizeof buf);
	assert_true(n > 2);
	assert_int_equal(n, strlen(buf));
	assert_string_equal(buf + n - 2, "\r\n");
	assert_ptr_equal(strchr(buf, '\r'), buf + n - 2);
	assert_ptr_equal(strchr(buf, '\n'), buf + n - 1);
	assert_non_null(localtime_r(&now, &tm));
	snprintf(year, sizeof year, " %d ", tm.tm_year + 1900);
	if (strstr(buf, year) == NULL)
		fail_msg("\"%s\" does not contain the year%s", buf, year);
	set_tz("UTC");
}

/* The buffer size is respected: the line fits exactly or not at all. */
static void
test_daytime_buffer(void **state)
{
	const char *line = "Thursday, January 01, 1970 00:00:00-UTC\r\n";
	size_t len = strlen(line);
	char buf[128];

	set_tz("UTC");
	memset(buf, 'x', sizeof buf);
	assert_int_equal(daytime_format(0, buf, len + 1), len);
	assert_string_equal(buf, line);
	assert_int_equal(buf[len + 1], 'x');

	memset(buf, 'x', sizeof buf);
	assert_int_equal(daytime_format(0, buf, len), 0);
	for (size_t i = len; i < sizeof buf; i++)
		assert_int_equal(buf[i], 'x');

	assert_int_equal(daytime_format(0, buf, 2), 0);
	assert_int_equal(daytime_format(0, buf, 0), 0);
}

/* chat_frame: one line at a time, the bound checked on the text alone. */
static void
test_chat_frame(void **state)
{
	static const struct {
		const char *buf;
		size_t max;
		enum chat_frame want;
		size_t textlen, used;
	} cases[] = {
		{ "", 4, CHAT_NEED_MORE, 0, 0 }, { "abc", 4, CHAT_NEED_MORE, 0, 0 },
		{ "abcd\r", 4, CHAT_NEED_MORE, 0, 0 }, /* max text and a CR: the LF may follow */
		{ "abcde\r", 4, CHAT_TOO_LONG, 0, 0 },
		{ "abcde", 4, CHAT_NEED_MORE, 0, 0 }, /* max + 1 bytes: could be text and CR */
		{ "abcdef", 4, CHAT_TOO_LONG, 0, 0 }, { "\n", 4, CHAT_LINE, 0, 1 },
		{ "\r\n", 4, CHAT_LINE, 0, 2 }, { "hi\nthere\n", 4, CHAT_LINE, 2, 3 },
		{ "abcd\n", 4, CHAT_LINE, 4, 5 }, { "abcd\r\n", 4, CHAT_LINE, 4, 6 },
		{ "abcde\n", 4, CHAT_TOO_LONG, 0, 0 },
		{ "a\rb\n", 4, CHAT_LINE, 3, 4 }, /* a CR inside a line is text */
		{ "abcd\r\r\n", 4, CHAT_TOO_LONG, 0, 0 },
		{ "abcdefgh\n", 4, CHAT_TOO_LONG, 0, 0 }, /* LF beyond the window */
	};
	size_t textlen, used;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		textlen = used = 99;
		enum chat_frame got =
		    chat_frame(cases[i].buf, strlen(cases[i].buf), cases[i].max, &textlen, &used);
		if (got != cases[i].want)
			fail_msg("case %zu: got %d, want %d", i, got, cases[i].want);
		if (got == CHAT_LINE && (textlen != cases[i].textlen || used != cases[i].used))
			fail_msg("case %zu: text %zu used %zu, want %zu %zu", i, textlen, used,
			    cases[i].textlen, cases[i].used);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chat_frame),
		cmocka_unit_test(test_chargen_first_lines),
		cmocka_unit_test(test_chargen_lines),
		cmocka_unit_test(test_chargen_cycle),
		cmocka_unit_test(test_chargen_offsets),
		cmocka_unit_test(test_chargen_pieces),
		cmocka_unit_test(test_daytime_utc),
		cmocka_unit_test(test_daytime_local),
		cmocka_unit_test(test_daytime_now),
		cmocka_unit_test(test_daytime_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

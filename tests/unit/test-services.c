/* SPDX-License-Identifier: ISC */
/*
 * test-services.c: the pure parts of the services: the chargen pattern
 * (RFC 864), the daytime line (RFC 867), and chat's framing and escaping.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <time.h>

#include <cmocka.h>

#include "service.h"

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

/* chat_escape: what the other members get of a line's text. */
#define B(s) s, sizeof s - 1 /* a literal with its NULs */
static const struct {
	const char *in;
	size_t len;
	const char *out;
} escapes[] = {
	{ B(""), "" },
	{ B("hello, world"), "hello, world" },
	{ B("tab\there"), "tab\there" }, /* TAB is text */
	{ B("a\rb"), "a\\rb" },          /* a CR that is not the line end */
	{ B("\r\r"), "\\r\\r" },
	{ B("fake\r192.0.2.1:7: hi"), "fake\\r192.0.2.1:7: hi" },
	{ B("\x1b[2J\x1b[31mred"), "\\x1b[2J\\x1b[31mred" },
	{ B("a\0b"), "a\\x00b" },
	{ B("\x7f"), "\\x7f" },
	{ B("\x01\x08\x0b\x0c\x1f"), "\\x01\\x08\\x0b\\x0c\\x1f" },
	/* the backslash is escaped, so that typed escapes stay apart from real ones */
	{ B("\\"), "\\\\" },
	{ B("C:\\dir"), "C:\\\\dir" },
	{ B("\\x1b"), "\\\\x1b" },
	{ B("\\r"), "\\\\r" },
	/* well-formed UTF-8 passes, from 2 to 4 bytes and at the bounds */
	{ B("h\xc3\xa9llo"), "h\xc3\xa9llo" },           /* U+00E9 */
	{ B("\xc2\xa0"), "\xc2\xa0" },                   /* U+00A0, past the C1 */
	{ B("\xdf\xbf"), "\xdf\xbf" },                   /* U+07FF */
	{ B("\xe0\xa0\x80"), "\xe0\xa0\x80" },           /* U+0800 */
	{ B("\xe2\x82\xac 5"), "\xe2\x82\xac 5" },       /* U+20AC */
	{ B("\xed\x9f\xbf"), "\xed\x9f\xbf" },           /* U+D7FF */
	{ B("\xee\x80\x80"), "\xee\x80\x80" },           /* U+E000 */
	{ B("\xef\xbf\xbd"), "\xef\xbf\xbd" },           /* U+FFFD */
	{ B("\xf0\x90\x80\x80"), "\xf0\x90\x80\x80" },   /* U+10000 */
	{ B("\xf0\x9f\x98\x80!"), "\xf0\x9f\x98\x80!" }, /* U+1F600 */
	{ B("\xf4\x8f\xbf\xbf"), "\xf4\x8f\xbf\xbf" },   /* U+10FFFF */
	/* C1 controls, encoded (U+0080..U+009F) or raw: CSI is 0x9b */
	{ B("\xc2\x80"), "\\xc2\\x80" },
	{ B("\xc2\x9b"
	    "2J"),
	    "\\xc2\\x9b2J" },
	{ B("\xc2\x9f"), "\\xc2\\x9f" },
	{ B("\x9b"
	    "2J"),
	    "\\x9b2J" },
	{ B("\x80\xbf"), "\\x80\\xbf" }, /* continuation bytes alone */
	/* not UTF-8: overlong forms, surrogates, above U+10FFFF, bytes never used */
	{ B("\xc0\x80"), "\\xc0\\x80" }, /* NUL, overlong */
	{ B("\xc1\xbf"), "\\xc1\\xbf" },
	{ B("\xe0\x80\x80"), "\\xe0\\x80\\x80" },
	{ B("\xe0\x9f\xbf"), "\\xe0\\x9f\\xbf" },
	{ B("\xed\xa0\x80"), "\\xed\\xa0\\x80" }, /* U+D800 */
	{ B("\xed\xbf\xbf"), "\\xed\\xbf\\xbf" }, /* U+DFFF */
	{ B("\xf0\x8f\xbf\xbf"), "\\xf0\\x8f\\xbf\\xbf" },
	{ B("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80" }, /* U+110000 */
	{ B("\xf5\x80\x80\x80"), "\\xf5\\x80\\x80\\x80" },
	{ B("\xfe\xff"), "\\xfe\\xff" },
	/* cut short: at the end, or by a byte that does not continue it */
	{ B("a\xe2\x82"), "a\\xe2\\x82" },
	{ B("\xe2\x82"
	    "a"),
	    "\\xe2\\x82a" },
	{ B("\xf0\x9f\x98"), "\\xf0\\x9f\\x98" },
	{ B("\xc3\xc3\xa9"), "\\xc3\xc3\xa9" }, /* the second lead byte starts over */
	{ B("\xe2\x82\xac\x1b"), "\xe2\x82\xac\\x1b" },
	{ B("\xc3"), "\\xc3" },
};

static void
test_chat_escape(void **state)
{
	char out[256];

	for (size_t i = 0; i < sizeof escapes / sizeof escapes[0]; i++) {
		size_t want = strlen(escapes[i].out), n;

		assert_int_equal(chat_escape(escapes[i].in, escapes[i].len, NULL, 0), want);
		memset(out, '#', sizeof out);
		n = chat_escape(escapes[i].in, escapes[i].len, out, sizeof out);
		if (n != want || memcmp(out, escapes[i].out, want) != 0)
			fail_msg(
			    "case %zu: got \"%.*s\", want \"%s\"", i, (int)n, out, escapes[i].out);
		assert_int_equal(out[want], '#'); /* no NUL added */
	}
}

/* With too small a buffer: the start of the result, nothing past size. */
static void
test_chat_escape_size(void **state)
{
	static const char in[] = "ab\x1b\xc3\xa9\\";
	static const char full[] = "ab\\x1b\xc3\xa9\\\\";
	char out[32];

	for (size_t size = 0; size <= sizeof full; size++) {
		memset(out, '#', sizeof out);
		assert_int_equal(chat_escape(in, sizeof in - 1, out, size), sizeof full - 1);
		assert_memory_equal(out, full, size < sizeof full - 1 ? size : sizeof full - 1);
		for (size_t i = size < sizeof full - 1 ? size : sizeof full - 1; i < sizeof out;
		     i++)
			assert_int_equal(out[i], '#');
	}
}

/* Undo chat_escape(); -1 if s is not something it can produce. */
static int
unescape(const char *s, size_t len, char *out, size_t *outlen)
{
	size_t n = 0;
	unsigned v;

	for (size_t i = 0; i < len; i++) {
		if (s[i] != '\\') {
			out[n++] = s[i];
			continue;
		}
		if (i + 1 < len && (s[i + 1] == '\\' || s[i + 1] == 'r')) {
			out[n++] = s[i + 1] == 'r' ? '\r' : '\\';
			i++;
		} else if (i + 3 < len && s[i + 1] == 'x' && sscanf(s + i + 2, "%2x", &v) == 1) {
			out[n++] = (char)v;
			i += 3;
		} else
			return -1;
	}
	*outlen = n;
	return 0;
}

/*
 * Is s[0..len) UTF-8 text without a control character (TAB aside)?
 * Decoded to code points, independently of chat_escape()'s byte ranges.
 */
static int
clean_text(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	static const unsigned long least[] = { 0, 0, 0x80, 0x800, 0x10000 };

	for (size_t i = 0; i < len;) {
		size_t n = s[i] < 0x80 ? 1
		    : s[i] >> 5 == 6   ? 2
		    : s[i] >> 4 == 14  ? 3
		    : s[i] >> 3 == 30  ? 4
				       : 0;
		unsigned long cp;

		if (n == 0 || i + n > len)
			return 0;
		cp = n == 1 ? s[i] : s[i] & (0x7f >> n);
		for (size_t k = 1; k < n; k++) {
			if (s[i + k] >> 6 != 2)
				return 0;
			cp = cp << 6 | (s[i + k] & 0x3f);
		}
		if (cp < least[n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
			return 0;
		if ((cp < 0x20 && cp != '\t') || (cp >= 0x7f && cp <= 0x9f))
			return 0;
		i += n;
	}
	return 1;
}

/*
 * What comes out is clean text at most 4 times as long, the line itself
 * when it was clean text without a backslash, and unescaping it gives the
 * line back.
 */
static void
check_escape(const unsigned char *in, size_t len)
{
	char out[16], back[16];
	size_t n, blen;

	n = chat_escape((const char *)in, len, out, sizeof out);
	if (n > 4 * len || !clean_text(out, n))
		fail_msg("%02x %02x %02x (%zu bytes): \"%.*s\" is not clean text", in[0], in[1],
		    in[2], len, (int)n, out);
	if (clean_text((const char *)in, len) && memchr(in, '\\', len) == NULL &&
	    (n != len || memcmp(out, in, len) != 0))
		fail_msg("%02x %02x %02x (%zu bytes): text changed", in[0], in[1], in[2], len);
	if (unescape(out, n, back, &blen) == -1 || blen != len || memcmp(back, in, len) != 0)
		fail_msg("%02x %02x %02x (%zu bytes): \"%.*s\" does not give it back", in[0], in[1],
		    in[2], len, (int)n, out);
}

/* Every line of one or two bytes, and of three that start as a 3- or 4-byte sequence. */
static void
test_chat_escape_all_short(void **state)
{
	unsigned char in[3] = { 0 };

	for (unsigned v = 0; v < 256; v++) {
		in[0] = (unsigned char)v;
		check_escape(in, 1);
	}
	for (unsigned v = 0; v < 65536; v++) {
		in[0] = (unsigned char)(v >> 8);
		in[1] = (unsigned char)v;
		check_escape(in, 2);
	}
	for (unsigned v = 0xe00000; v <= 0xffffff; v++) {
		in[0] = (unsigned char)(v >> 16);
		in[1] = (unsigned char)(v >> 8);
		in[2] = (unsigned char)v;
		check_escape(in, 3);
	}
}

/* The datagram callbacks, as transport = udp calls them. */
static ssize_t
answer(const char *service, const char *in, size_t inlen, char *out, size_t outmax, uint32_t seq,
    time_t now)
{
	const struct service *svc = service_find(service);
	struct datagram_ctx ctx = { .now = now, .seq = seq };

	assert_non_null(svc);
	assert_non_null(svc->datagram);
	return svc->datagram(in, inlen, out, outmax, &ctx);
}

/* RFC 862: the datagram back, byte for byte, whatever it holds. */
static void
test_echo_datagram(void **state)
{
	char in[1024], out[1024];

	for (size_t i = 0; i < sizeof in; i++)
		in[i] = (char)(i * 7);
	for (size_t len = 0; len <= sizeof in; len += 257) {
		assert_int_equal(answer("echo", in, len, out, sizeof out, 0, 0), (ssize_t)len);
		assert_memory_equal(in, out, len);
	}
	assert_int_equal(answer("echo", in, 1, out, sizeof out, 0, 0), 1);
	/* never more than the room given */
	assert_int_equal(answer("echo", in, sizeof in, out, 10, 0, 0), 10);
}

/* RFC 863: nothing back. */
static void
test_discard_datagram(void **state)
{
	char out[64];

	assert_int_equal(answer("discard", "x", 1, out, sizeof out, 0, 0), -1);
	assert_int_equal(answer("discard", "", 0, out, sizeof out, 0, 0), -1);
}

/* RFC 867: one line, whatever the datagram held. */
static void
test_daytime_datagram(void **state)
{
	char out[128], line[128];
	size_t n = daytime_format(86400, line, sizeof line);

	assert_true(n > 0);
	assert_int_equal(answer("daytime", "hello", 5, out, sizeof out, 0, 86400), (ssize_t)n);
	assert_memory_equal(out, line, n);
	assert_int_equal(answer("daytime", NULL, 0, out, sizeof out, 3, 86400), (ssize_t)n);
	assert_int_equal(answer("daytime", NULL, 0, out, 2, 3, 86400), -1);
}

/* RFC 864: 0 to 512 characters of the pattern, each answer on the next line. */
static void
test_chargen_datagram(void **state)
{
	char out[1024], want[1024];
	size_t seen_short = 0, seen_long = 0;

	for (uint32_t seq = 0; seq < 2000; seq++) {
		ssize_t n = answer("chargen", "in", 2, out, sizeof out, seq, 0);
		size_t line = seq % RING, done = 0;

		assert_true(n >= 0 && n <= 512);
		assert_int_equal((size_t)n, chargen_datagram_len(seq));
		while (done < (size_t)n) {
			expected_line(line++, want + done);
			done += LINE;
		}
		assert_memory_equal(out, want, (size_t)n);
		seen_short += n < 64;
		seen_long += n > 448;
	}
	/* spread over the range, not stuck at one length */
	assert_true(seen_short > 100);
	assert_true(seen_long > 100);
	assert_int_equal(answer("chargen", NULL, 0, out, 5, 1, 0) <= 5, 1);
	/* TCP only */
	assert_null(service_find("chat")->datagram);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chat_frame),
		cmocka_unit_test(test_chat_escape),
		cmocka_unit_test(test_chat_escape_size),
		cmocka_unit_test(test_chat_escape_all_short),
		cmocka_unit_test(test_chargen_first_lines),
		cmocka_unit_test(test_chargen_lines),
		cmocka_unit_test(test_chargen_cycle),
		cmocka_unit_test(test_chargen_offsets),
		cmocka_unit_test(test_chargen_pieces),
		cmocka_unit_test(test_daytime_utc),
		cmocka_unit_test(test_daytime_local),
		cmocka_unit_test(test_daytime_now),
		cmocka_unit_test(test_daytime_buffer),
		cmocka_unit_test(test_echo_datagram),
		cmocka_unit_test(test_discard_datagram),
		cmocka_unit_test(test_daytime_datagram),
		cmocka_unit_test(test_chargen_datagram),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

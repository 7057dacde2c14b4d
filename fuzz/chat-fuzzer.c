/* SPDX-License-Identifier: ISC */
/*
 * chat-fuzzer.c: chat_frame(), the chat service's line framing, and
 * chat_escape(), what the other members get of a line's text.
 *
 * The first two bytes give max_line (1 to 8192), the rest is what a client
 * sent.  The input is consumed line by line as chat_read() does: each call
 * sees only the window the service pulls up, in a buffer of exactly that
 * size so that AddressSanitizer catches a read past it, and must agree
 * with a call on all that is left.  Every answer is checked against the
 * bytes themselves.  Each line's text is escaped, into buffers of exactly
 * the size given, and compared with an escape written here from code
 * points rather than byte ranges.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "service.h"

/* The line at buf: its text length and the bytes it takes, or 0 without LF. */
static size_t
line_end(const char *buf, size_t len, size_t *text)
{
	const char *lf = memchr(buf, '\n', len);

	if (lf == NULL)
		return 0;
	*text = (size_t)(lf - buf);
	if (*text > 0 && buf[*text - 1] == '\r')
		(*text)--;
	return (size_t)(lf - buf) + 1;
}

static enum chat_frame
frame_exact(const char *buf, size_t len, size_t max, size_t *textlen, size_t *used)
{
	char *copy = malloc(len > 0 ? len : 1);
	enum chat_frame r;

	if (copy == NULL)
		abort();
	memcpy(copy, buf, len);
	r = chat_frame(copy, len, max, textlen, used);
	free(copy);
	return r;
}

static void
check_frame(const char *buf, size_t len, size_t max, enum chat_frame r, size_t textlen, size_t used)
{
	size_t text = 0, end = line_end(buf, len, &text);

	switch (r) {
	case CHAT_LINE:
		FUZZ_CHECK(used >= 1 && used <= len, "used %zu of %zu", used, len);
		FUZZ_CHECK(buf[used - 1] == '\n', "line does not end with LF");
		FUZZ_CHECK(textlen <= max, "text %zu > max %zu", textlen, max);
		FUZZ_CHECK(textlen == used - 1 || (textlen == used - 2 && buf[used - 2] == '\r'),
		    "text %zu, used %zu", textlen, used);
		/* a CR right before the LF is never text */
		FUZZ_CHECK(textlen == 0 || textlen < used - 1 || buf[textlen - 1] != '\r',
		    "CR before LF kept");
		FUZZ_CHECK(memchr(buf, '\n', textlen) == NULL, "LF inside the text");
		FUZZ_CHECK(end == used && text == textlen, "line is %zu/%zu, got %zu/%zu", text,
		    end, textlen, used);
		break;
	case CHAT_NEED_MORE:
		FUZZ_CHECK(len <= max + 1, "waits with %zu bytes, max %zu", len, max);
		FUZZ_CHECK(end == 0, "waits with a whole line of %zu bytes", end);
		break;
	case CHAT_TOO_LONG:
		/* without its LF yet, a line's text is at least all but a final CR */
		if (end > 0)
			FUZZ_CHECK(text > max, "line of %zu bytes, max %zu refused", text, max);
		else
			FUZZ_CHECK(
			    len > max + 1, "%zu bytes without LF, max %zu refused", len, max);
		break;
	default:
		FUZZ_CHECK(0, "unknown answer %d", (int)r);
	}
}

/* The code point of the well-formed UTF-8 sequence at s, its length in *n; -1 if none. */
static long
decode(const unsigned char *s, size_t len, size_t *n)
{
	static const long least[] = { 0, 0, 0x80, 0x800, 0x10000 };
	long cp;

	*n = s[0] >> 5 == 6 ? 2 : s[0] >> 4 == 14 ? 3 : s[0] >> 3 == 30 ? 4 : 0;
	if (*n == 0 || *n > len)
		return -1;
	cp = s[0] & (0x7f >> *n);
	for (size_t k = 1; k < *n; k++) {
		if (s[k] >> 6 != 2)
			return -1;
		cp = cp << 6 | (s[k] & 0x3f);
	}
	if (cp < least[*n] || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
		return -1;
	return cp;
}

/* The escape as documented, one code point at a time; out holds 4 * len. */
static size_t
escape_ref(const unsigned char *s, size_t len, char *out)
{
	size_t o = 0, n;
	long cp;

	for (size_t i = 0; i < len;) {
		if (s[i] == '\\' || s[i] == '\r') {
			out[o++] = '\\';
			out[o++] = s[i++] == '\r' ? 'r' : '\\';
		} else if (s[i] == '\t' || (s[i] >= 0x20 && s[i] < 0x7f)) {
			out[o++] = (char)s[i++];
		} else if (s[i] >= 0x80 && (cp = decode(s + i, len - i, &n)) > 0x9f) {
			memcpy(out + o, s + i, n);
			o += n;
			i += n;
		} else {
			/* a C1 control is escaped whole, any other byte alone */
			if (s[i] < 0x80 || decode(s + i, len - i, &n) < 0)
				n = 1;
			for (size_t k = 0; k < n; k++, i++)
				o += (size_t)sprintf(out + o, "\\x%02x", s[i]);
		}
	}
	return o;
}

static void
check_escape(const char *text, size_t len)
{
	char *in = malloc(len > 0 ? len : 1), *ref = malloc(4 * len + 1), *out;
	size_t n, want, cut;

	if (in == NULL || ref == NULL)
		abort();
	memcpy(in, text, len);
	want = escape_ref((const unsigned char *)in, len, ref);
	n = chat_escape(in, len, NULL, 0);
	FUZZ_CHECK(n == want, "escaped length %zu, want %zu", n, want);
	FUZZ_CHECK(n <= 4 * len, "escaped length %zu of %zu bytes", n, len);
	if ((out = malloc(n > 0 ? n : 1)) == NULL)
		abort();
	FUZZ_CHECK(chat_escape(in, len, out, n) == n, "length changed");
	FUZZ_CHECK(memcmp(out, ref, n) == 0, "escape differs from the reference");
	/* too small a buffer: its start, and nothing written past it */
	cut = n / 2;
	free(out);
	if ((out = malloc(cut > 0 ? cut : 1)) == NULL)
		abort();
	FUZZ_CHECK(chat_escape(in, len, out, cut) == n, "length with %zu bytes", cut);
	FUZZ_CHECK(memcmp(out, ref, cut) == 0, "cut escape differs");
	free(out);
	free(ref);
	free(in);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *buf = (const char *)data + 2;
	size_t len, max, want, off = 0, textlen = 0, used = 0, textlen2 = 0, used2 = 0;
	enum chat_frame r, r2;

	if (size < 2)
		return 0;
	max = 1 + (((size_t)data[0] << 8 | data[1]) % 8192);
	len = size - 2;
	for (;;) {
		/* as chat_read(): only the window is pulled up */
		want = len - off < max + 2 ? len - off : max + 2;
		r = frame_exact(buf + off, want, max, &textlen, &used);
		check_frame(buf + off, want, max, r, textlen, used);
		r2 = frame_exact(buf + off, len - off, max, &textlen2, &used2);
		FUZZ_CHECK(r == r2, "window says %d, all the input %d", (int)r, (int)r2);
		if (r != CHAT_LINE)
			break;
		FUZZ_CHECK(textlen == textlen2 && used == used2, "window and all the input differ");
		check_escape(buf + off, textlen);
		off += used;
		if (off == len)
			break;
	}
	return 0;
}

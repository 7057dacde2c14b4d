/* SPDX-License-Identifier: ISC */
/*
 * jsonesc.c: JSON string escaping, as jsonesc.h describes it.
 *
 * One walk over the input hands each piece of the output (a run of bytes
 * that pass as they are, or one escape) to a sink: a buffer for jsonesc(),
 * a FILE for jsonesc_write().  The walk is the only place that decides
 * what is escaped and how.
 */
#include "config.h"

#include <string.h>

#include "common/jsonesc.h"
#include "utf8.h"

typedef void sink_fn(void *arg, const char *piece, size_t n);

/* The escape of an ASCII byte into esc (7 bytes), or 0 if it passes as it is. */
static size_t
ascii_escape(unsigned char c, char *esc)
{
	static const char hex[] = "0123456789abcdef";
	static const char shorts[] = {
		['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't'
	};

	if (c == '"' || c == '\\') {
		esc[0] = '\\';
		esc[1] = (char)c;
		return 2;
	}
	if (c < sizeof shorts && shorts[c] != '\0') {
		esc[0] = '\\';
		esc[1] = shorts[c];
		return 2;
	}
	if (c >= 0x20 && c != 0x7f)
		return 0;
	esc[0] = '\\';
	esc[1] = 'u';
	esc[2] = '0';
	esc[3] = '0';
	esc[4] = hex[c >> 4];
	esc[5] = hex[c & 0xf];
	return 6;
}

/* in, escaped, piece by piece to sink; the output's length. */
static size_t
escape(const char *in, size_t len, sink_fn *sink, void *arg)
{
	static const char replacement[] = "\\ufffd"; /* U+FFFD */
	const unsigned char *s = (const unsigned char *)in;
	size_t total = 0, i = 0, run, n;
	char esc[8];

	while (i < len) {
		/* a run of bytes that pass as they are, handed over at once */
		for (run = i; run < len; run += n) {
			if (s[run] < 0x80)
				n = ascii_escape(s[run], esc) == 0 ? 1 : 0;
			else
				n = utf8_length(s + run, len - run);
			if (n == 0)
				break;
		}
		if (run > i) {
			sink(arg, in + i, run - i);
			total += run - i;
			i = run;
			continue;
		}
		if (s[i] < 0x80) {
			n = ascii_escape(s[i], esc);
			sink(arg, esc, n);
		} else {
			n = sizeof replacement - 1;
			sink(arg, replacement, n);
		}
		total += n;
		i++;
	}
	return total;
}

struct buffer {
	char *out;
	size_t size, pos;
};

static void
to_buffer(void *arg, const char *piece, size_t n)
{
	struct buffer *b = arg;

	if (b->pos < b->size)
		memcpy(b->out + b->pos, piece, b->size - b->pos < n ? b->size - b->pos : n);
	b->pos += n;
}

/* out is written through struct buffer, which clang-tidy does not follow */
size_t
/* NOLINTNEXTLINE(readability-non-const-parameter) */
jsonesc(const char *in, size_t len, char *out, size_t size)
{
	struct buffer b = { out, size, 0 };

	return escape(in, len, to_buffer, &b);
}

static void
to_file(void *arg, const char *piece, size_t n)
{
	fwrite(piece, 1, n, arg);
}

int
jsonesc_write(FILE *f, const char *in, size_t len)
{
	fputc('"', f);
	escape(in, len, to_file, f);
	fputc('"', f);
	return ferror(f) ? -1 : 0;
}

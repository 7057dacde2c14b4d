/*
 * chat-fuzzer.c: chat_frame(), the chat service's line framing.
 *
 * The first two bytes give max_line (1 to 8192), the rest is what a client
 * sent.  The input is consumed line by line as chat_read() does: each call
 * sees only the window the service pulls up, in a buffer of exactly that
 * size so that AddressSanitizer catches a read past it, and must agree
 * with a call on all that is left.  Every answer is checked against the
 * bytes themselves.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "synackd.h"

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
		off += used;
		if (off == len)
			break;
	}
	return 0;
}

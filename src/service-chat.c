/*
 * service-chat.c: line-based broadcast among the clients of one listener.
 *
 * A line (LF-terminated, a CR before the LF dropped) goes to every other
 * member as "ADDR:PORT: text\n".  A line longer than max_line gets an
 * error line and the sender is closed.  A member whose pending output
 * passes output_limit cannot keep up and is closed, so one slow reader
 * holds neither memory nor the room.  The room is the listener's client
 * list, which lives on the listener's event loop.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "synackd.h"

static void
chat_broadcast(struct client *from, const char *msg, size_t len)
{
	struct listener *l = from->listener;
	size_t limit = (size_t)l->conf->output_limit;
	struct client *c, *next;

	for (c = TAILQ_FIRST(&l->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c == from || c->state != CLIENT_OPEN)
			continue;
		if (client_pending(c) + len > limit) {
			/* the kernel's buffers are full too: no error line would arrive */
			client_abort(c, "slow consumer");
			continue;
		}
		client_write(c, msg, len);
	}
}

static void
chat_too_long(struct client *c, size_t max)
{
	struct evbuffer *in = client_input(c);
	char err[64];

	evbuffer_drain(in, evbuffer_get_length(in));
	snprintf(err, sizeof err, "error: line too long (max %zu bytes)\n", max);
	client_write(c, err, strlen(err));
	client_close(c, "line too long");
}

/*
 * Framing, apart from the I/O so that it is tested and fuzzed directly:
 * the first line of buf[0..len), at most max bytes of text before its LF
 * (a CR before the LF is not text).  On CHAT_LINE, *textlen is the text's
 * length and *used the bytes the line takes, its end included.  Only the
 * first max + 2 bytes are ever looked at.
 */
enum chat_frame
chat_frame(const char *buf, size_t len, size_t max, size_t *textlen, size_t *used)
{
	size_t window = len < max + 2 ? len : max + 2, n;
	const char *lf = memchr(buf, '\n', window);

	if (lf == NULL)
		/* max + 1 bytes may still be max of text and the CR of a CRLF */
		return len > max + 1 ? CHAT_TOO_LONG : CHAT_NEED_MORE;
	n = (size_t)(lf - buf);
	*used = n + 1;
	if (n > 0 && buf[n - 1] == '\r')
		n--;
	if (n > max)
		return CHAT_TOO_LONG;
	*textlen = n;
	return CHAT_LINE;
}

static void
chat_read(struct client *c)
{
	struct evbuffer *in = client_input(c);
	size_t max = (size_t)c->listener->conf->max_line;
	size_t plen = strlen(c->peer), len, want, textlen = 0, used = 0;
	const char *buf;
	char *out;

	while (c->state == CLIENT_OPEN && (len = evbuffer_get_length(in)) > 0) {
		want = len < max + 2 ? len : max + 2;
		if ((buf = (const char *)evbuffer_pullup(in, (ssize_t)want)) == NULL) {
			client_close(c, "out of memory");
			return;
		}
		switch (chat_frame(buf, want, max, &textlen, &used)) {
		case CHAT_NEED_MORE:
			/* all the input is the start of a line */
			return;
		case CHAT_TOO_LONG:
			chat_too_long(c, max);
			return;
		case CHAT_LINE:
			break;
		}
		if ((out = malloc(plen + 2 + textlen + 1)) == NULL) {
			client_close(c, "out of memory");
			return;
		}
		memcpy(out, c->peer, plen);
		memcpy(out + plen, ": ", 2);
		memcpy(out + plen + 2, buf, textlen);
		out[plen + 2 + textlen] = '\n';
		evbuffer_drain(in, used);
		chat_broadcast(c, out, plen + 2 + textlen + 1);
		free(out);
	}
}

const struct service service_chat = {
	.name = "chat",
	.read = chat_read,
};

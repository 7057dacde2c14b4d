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

static void
chat_read(struct client *c)
{
	struct evbuffer *in = client_input(c);
	size_t max = (size_t)c->listener->conf->max_line;
	size_t plen = strlen(c->peer), eol_len, n, len;
	struct evbuffer_ptr eol;
	const char *text;
	char *out;

	while (c->state == CLIENT_OPEN) {
		eol = evbuffer_search_eol(in, NULL, &eol_len, EVBUFFER_EOL_LF);
		if (eol.pos < 0) {
			/* max + 1: the CR of a CRLF may still be followed by its LF */
			if (evbuffer_get_length(in) > max + 1)
				chat_too_long(c, max);
			return;
		}
		n = (size_t)eol.pos;
		if (n > max + 1) {
			chat_too_long(c, max);
			return;
		}
		text = (const char *)evbuffer_pullup(in, (ssize_t)(n + eol_len));
		len = n;
		if (len > 0 && text[len - 1] == '\r')
			len--;
		if (len > max) {
			chat_too_long(c, max);
			return;
		}
		if ((out = malloc(plen + 2 + len + 1)) == NULL) {
			client_close(c, "out of memory");
			return;
		}
		memcpy(out, c->peer, plen);
		memcpy(out + plen, ": ", 2);
		memcpy(out + plen + 2, text, len);
		out[plen + 2 + len] = '\n';
		evbuffer_drain(in, n + eol_len);
		chat_broadcast(c, out, plen + 2 + len + 1);
		free(out);
	}
}

const struct service service_chat = {
	.name = "chat",
	.read = chat_read,
};

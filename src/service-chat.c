/*
 * service-chat.c: line-based broadcast among the clients of one listener.
 *
 * A line (LF-terminated, a CR before the LF dropped) goes to every other
 * member as "ADDR:PORT: text\n".  A line longer than max_line gets an
 * error line and the sender is closed.
 *
 * Fairness works from both ends.  Each member's input is read at most at
 * chat_rate bytes per second (libevent's token bucket, refilled every
 * CHAT_TICK_MS), so a flood slows the flooder: the rest waits in its own
 * socket.  And a member is closed as a slow consumer only when a line
 * arrives while its pending output is over output_limit even after handing
 * what the kernel takes to its socket: one line, however long, never
 * evicts a member that keeps up, and what one member holds is bounded by
 * output_limit plus one line.  The room is the client list of the
 * listener's one acceptor (service.one_loop): every member is on the same
 * worker, so the room needs no lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>

#include "log.h"
#include "synackd.h"

struct chat_room {
	struct ev_token_bucket_cfg *rate; /* NULL: chat_rate = 0, no limit */
};

static struct ev_token_bucket_cfg *
chat_rate_new(const struct listener_conf *lc)
{
	struct timeval tick = { 0, CHAT_TICK_MS * 1000 };

	return ev_token_bucket_cfg_new((size_t)chat_rate_per_tick(lc->chat_rate),
	    (size_t)lc->chat_burst, EV_RATE_LIMIT_MAX, EV_RATE_LIMIT_MAX, &tick);
}

static int
chat_acceptor_init(struct acceptor *a)
{
	struct chat_room *room;

	if ((room = calloc(1, sizeof *room)) == NULL)
		return -1;
	if (a->conf->chat_rate > 0 && (room->rate = chat_rate_new(a->conf)) == NULL) {
		free(room);
		return -1;
	}
	a->service_state = room;
	return 0;
}

static void
chat_acceptor_free(struct acceptor *a)
{
	struct chat_room *room = a->service_state;

	if (room == NULL)
		return;
	if (room->rate != NULL)
		ev_token_bucket_cfg_free(room->rate);
	free(room);
	a->service_state = NULL;
}

/*
 * A reload changed the rate: every member gets the new bucket at once
 * (the bufferevents keep a pointer to it, so the old one is freed only
 * after the last of them has let go).
 */
static void
chat_acceptor_reconfigure(struct acceptor *a, const struct listener_conf *old)
{
	struct chat_room *room = a->service_state;
	struct ev_token_bucket_cfg *rate = NULL;
	struct client *c;

	if (room == NULL ||
	    (a->conf->chat_rate == old->chat_rate && a->conf->chat_burst == old->chat_burst))
		return;
	if (a->conf->chat_rate > 0 && (rate = chat_rate_new(a->conf)) == NULL) {
		log_error("listener %s: reload: cannot make the chat_rate limit; members keep "
			  "the old one",
		    a->conf->name);
		return;
	}
	TAILQ_FOREACH(c, &a->clients, entry)
		client_set_read_rate(c, rate);
	if (room->rate != NULL)
		ev_token_bucket_cfg_free(room->rate);
	room->rate = rate;
	log_info("listener %s: chat_rate %ld burst %ld", a->conf->name, a->conf->chat_rate,
	    a->conf->chat_burst);
}

static void
chat_open(struct client *c)
{
	struct chat_room *room = c->acceptor->service_state;

	if (room->rate != NULL)
		client_set_read_rate(c, room->rate);
}

static void
chat_broadcast(struct client *from, const char *msg, size_t len)
{
	struct acceptor *l = from->acceptor;
	size_t limit = (size_t)l->conf->output_limit;
	struct client *c, *next;

	for (c = TAILQ_FIRST(&l->clients); c != NULL; c = next) {
		next = TAILQ_NEXT(c, entry);
		if (c == from || c->state != CLIENT_OPEN)
			continue;
		if (client_pending(c) > limit && client_flush(c) > limit) {
			/* the kernel's buffers are full too: no error line would arrive */
			client_abort(c, CLOSE_SLOW_CONSUMER);
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
	client_close(c, CLOSE_LINE_TOO_LONG);
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
	size_t max = (size_t)c->acceptor->conf->max_line;
	char peer[CLIENT_PEERSTRLEN];
	size_t plen = strlen(client_peer_str(c, peer, sizeof peer)), len, want;
	size_t textlen = 0, used = 0;
	const char *buf;
	char *out;

	while (c->state == CLIENT_OPEN && (len = evbuffer_get_length(in)) > 0) {
		want = len < max + 2 ? len : max + 2;
		if ((buf = (const char *)evbuffer_pullup(in, (ssize_t)want)) == NULL) {
			client_close(c, CLOSE_NO_MEMORY);
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
			client_close(c, CLOSE_NO_MEMORY);
			return;
		}
		memcpy(out, peer, plen);
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): counted, not a string */
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
	.one_loop = 1,
	.acceptor_init = chat_acceptor_init,
	.acceptor_free = chat_acceptor_free,
	.acceptor_reconfigure = chat_acceptor_reconfigure,
	.open = chat_open,
	.read = chat_read,
};

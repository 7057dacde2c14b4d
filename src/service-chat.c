/* SPDX-License-Identifier: ISC */
/*
 * service-chat.c: line-based broadcast among the clients of one listener.
 *
 * A line (LF-terminated, a CR before the LF dropped) goes to every other
 * member as "ADDR:PORT: text\n", the text escaped so that it cannot drive
 * a terminal (chat_escape).  A line longer than max_line gets an error
 * line and the sender is closed.
 *
 * Fairness works from both ends.  Each member's input is read at most at
 * chat_rate bytes per second (a token bucket per member, refilled every
 * CHAT_TICK_MS), so a flood slows the flooder: the rest waits in its own
 * socket.  And a member is closed as a slow consumer only when a line
 * arrives while its pending output is over output_limit even after handing
 * what the kernel takes to its socket: one line, however long, never
 * evicts a member that keeps up, and what one member holds is bounded by
 * output_limit plus one line (4 x max_line and the prefix, escaped).  The
 * room is the client list of the listener's one acceptor
 * (service.one_loop): every member is on the same worker, so the room
 * needs no lock.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <event2/buffer.h>

#include "conf.h"
#include "log.h"
#include "service.h"
#include "stats.h"
#include "synackd.h"
#include "utf8.h"

/*
 * chat_rate: each member has a bucket of the bytes it may send, filled
 * with chat_rate's share for each CHAT_TICK_MS elapsed, up to chat_burst,
 * and spent by what is read from it; a read takes at most what the bucket
 * holds (client_set_read_max).  A member whose bucket is empty is not
 * read until the room's timer, armed only while some member waits, finds
 * it refilled.  A new member starts with one tick's share.
 */
struct chat_room {
	struct acceptor *acceptor;
	struct event *tick; /* refills the members that wait */
};

struct chat_member {
	int64_t tokens;    /* bytes it may send now; below 0 after a read took more */
	uint32_t refilled; /* the chat clock when the bucket was last filled */
};

/* Ticks of CHAT_TICK_MS on the monotonic clock. */
static uint32_t
chat_clock(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (
	    uint32_t)(ts.tv_sec * (1000 / CHAT_TICK_MS) + ts.tv_nsec / (CHAT_TICK_MS * 1000000L));
}

static void
chat_refill(const struct listener_conf *lc, struct chat_member *m)
{
	uint32_t now = chat_clock(), ticks = now - m->refilled;
	int64_t room = lc->chat_burst - m->tokens;

	if (ticks == 0 || ticks > INT32_MAX)
		return; /* none elapsed, or the clock went back */
	m->refilled = now;
	if (room <= 0)
		return;
	if ((int64_t)ticks * chat_rate_per_tick(lc->chat_rate) >= room)
		m->tokens = lc->chat_burst;
	else
		m->tokens += (int64_t)ticks * chat_rate_per_tick(lc->chat_rate);
}

/* Read what the member may send; an empty bucket waits for the room's timer. */
static void
chat_allow(struct client *c)
{
	struct chat_room *room = c->acceptor->service_state;
	const struct chat_member *m = c->state_data;
	struct timeval tv = { 0, CHAT_TICK_MS * 1000 };

	if (c->acceptor->conf->chat_rate == 0) {
		client_set_read_max(c, CLIENT_READ_MAX);
		return;
	}
	client_set_read_max(c, m->tokens > 0 ? (size_t)m->tokens : 0);
	if (m->tokens <= 0 && !evtimer_pending(room->tick, NULL))
		evtimer_add(room->tick, &tv);
}

static void
chat_tick_cb(evutil_socket_t fd, short what, void *arg)
{
	struct chat_room *room = arg;
	struct acceptor *a = room->acceptor;
	struct chat_member *m;
	struct client *c;

	TAILQ_FOREACH(c, &a->clients, entry) {
		if (c->state != CLIENT_OPEN || (m = c->state_data) == NULL || m->tokens > 0)
			continue;
		chat_refill(a->conf, m);
		chat_allow(c); /* re-arms the timer while one still waits */
	}
}

static int
chat_acceptor_init(struct acceptor *a)
{
	struct chat_room *room;

	if ((room = calloc(1, sizeof *room)) == NULL)
		return -1;
	room->acceptor = a;
	if ((room->tick = evtimer_new(a->worker->base, chat_tick_cb, room)) == NULL) {
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
	event_free(room->tick);
	free(room);
	a->service_state = NULL;
}

/*
 * A reload changed the rate: it applies to every member at once.  A
 * bucket holding more than the new burst is cut down to it; members that
 * had no limit start with one tick's share; with no limit, every member
 * is read again at once.
 */
static void
chat_acceptor_reconfigure(struct acceptor *a, const struct listener_conf *old)
{
	struct chat_member *m;
	struct client *c;

	if (a->service_state == NULL ||
	    (a->conf->chat_rate == old->chat_rate && a->conf->chat_burst == old->chat_burst))
		return;
	TAILQ_FOREACH(c, &a->clients, entry) {
		if (c->state != CLIENT_OPEN || (m = c->state_data) == NULL)
			continue;
		if (old->chat_rate == 0) {
			m->tokens = chat_rate_per_tick(a->conf->chat_rate);
			m->refilled = chat_clock();
		} else if (m->tokens > a->conf->chat_burst)
			m->tokens = a->conf->chat_burst;
		chat_allow(c);
	}
	log_info("listener %s: chat_rate %ld burst %ld", a->conf->name, a->conf->chat_rate,
	    a->conf->chat_burst);
}

static void
chat_open(struct client *c)
{
	struct chat_member *m;

	if ((m = calloc(1, sizeof *m)) == NULL) {
		client_close(c, CLOSE_NO_MEMORY);
		return;
	}
	m->tokens = chat_rate_per_tick(c->acceptor->conf->chat_rate);
	m->refilled = chat_clock();
	c->state_data = m;
	chat_allow(c);
}

static void
chat_close(struct client *c)
{
	free(c->state_data);
	c->state_data = NULL;
}

/* What was just read is spent from the member's bucket. */
static void
chat_spend(struct client *c, size_t len)
{
	struct chat_member *m = c->state_data;

	if (c->acceptor->conf->chat_rate == 0)
		return;
	m->tokens -= (int64_t)len;
	chat_refill(c->acceptor->conf, m);
	chat_allow(c);
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

/* One line of text from c goes to the others, prefixed with its peer, escaped. */
static void
chat_line(struct client *c, const char *peer, size_t plen, const char *text, size_t textlen)
{
	/* formatted once, whatever the number of members */
	size_t esclen = chat_escape(text, textlen, NULL, 0);
	char *out;

	if ((out = malloc(plen + 2 + esclen + 1)) == NULL) {
		client_close(c, CLOSE_NO_MEMORY);
		return;
	}
	memcpy(out, peer, plen);
	/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): counted, not a string */
	memcpy(out + plen, ": ", 2);
	chat_escape(text, textlen, out + plen + 2, esclen);
	out[plen + 2 + esclen] = '\n';
	/*
	 * The sender pays chat_rate for what its escapes add, so that a
	 * flood of control bytes reaches the room no faster than text.
	 */
	if (esclen > textlen)
		chat_spend(c, esclen - textlen);
	chat_broadcast(c, out, plen + 2 + esclen + 1);
	free(out);
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

/* Bytes that pass as they are: printable ASCII but the backslash, and TAB. */
static int
chat_plain(unsigned char b)
{
	return (b >= 0x20 && b < 0x7f && b != '\\') || b == '\t';
}

/* Append s[0..n) at out[pos], as much of it as fits in size; the new pos. */
static size_t
chat_put(char *out, size_t size, size_t pos, const void *s, size_t n)
{
	if (out != NULL && pos < size)
		memcpy(out + pos, s, n < size - pos ? n : size - pos);
	return pos + n;
}

static size_t
chat_put_hex(char *out, size_t size, size_t pos, unsigned char b)
{
	static const char hex[] = "0123456789abcdef";
	char e[4] = { '\\', 'x', hex[b >> 4], hex[b & 0xf] };

	return chat_put(out, size, pos, e, sizeof e);
}

/*
 * A line's text as the other members get it: nothing in it can drive
 * their terminals.  Printable ASCII, TAB and well-formed UTF-8 pass as
 * they are; a CR becomes "\r", a backslash "\\", and every other byte
 * that is not text becomes "\xNN" (two lowercase hex digits): the C0
 * controls and DEL, the C1 controls even when encoded in UTF-8 (U+0080 to
 * U+009F, each of its two bytes: a terminal takes U+009B as CSI just as it
 * takes ESC [), and every byte that is not part of a well-formed UTF-8
 * sequence (a stray 0x9b is CSI to a terminal not in UTF-8 mode, and a
 * broken sequence can swallow the bytes after it).  Escaping the
 * backslash makes it unambiguous: a member who types the four characters
 * \x1b arrives as \\x1b, and the original bytes can be recovered.
 *
 * Writes at most size bytes of the result to out (no NUL) and returns its
 * whole length, as snprintf() does: call it with size 0 to learn the
 * length.  That is at most 4 * len, when every byte becomes \xNN.
 */
size_t
chat_escape(const char *in, size_t len, char *out, size_t size)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t pos = 0, i = 0, run, n;

	while (i < len) {
		/* the common case: a run of plain bytes, copied at once */
		for (run = i; run < len && chat_plain(s[run]); run++)
			;
		pos = chat_put(out, size, pos, s + i, run - i);
		if ((i = run) == len)
			break;
		if (s[i] == '\\' || s[i] == '\r') {
			pos = chat_put(out, size, pos, s[i] == '\r' ? "\\r" : "\\\\", 2);
			i++;
		} else if (s[i] < 0x80 || (n = utf8_length(s + i, len - i)) == 0) {
			pos = chat_put_hex(out, size, pos, s[i]);
			i++;
		} else if (s[i] == 0xc2 && s[i + 1] <= 0x9f) {
			pos = chat_put_hex(out, size, pos, s[i]);
			pos = chat_put_hex(out, size, pos, s[i + 1]);
			i += 2;
		} else {
			pos = chat_put(out, size, pos, s + i, n);
			i += n;
		}
	}
	return pos;
}

/*
 * The bytes a member just sent.  The line it had begun (kept in its input)
 * is completed first; then each line is framed where it lies in data, and
 * only an unfinished last line is copied into the input.  The input never
 * holds more than max_line + 1 bytes.
 */
static void
chat_read(struct client *c, const char *data, size_t len)
{
	struct evbuffer *in = client_input(c);
	size_t max = (size_t)c->acceptor->conf->max_line;
	char peer[CLIENT_PEERSTRLEN];
	size_t plen = strlen(client_peer_str(c, peer, sizeof peer)), have, take;
	size_t textlen = 0, used = 0;
	const char *buf, *lf;

	chat_spend(c, len);
	if ((have = evbuffer_get_length(in)) > 0) {
		/* up to its LF, or as far as framing looks: max + 2 bytes */
		take = len < max + 2 - have ? len : max + 2 - have;
		if ((lf = memchr(data, '\n', take)) != NULL)
			take = (size_t)(lf - data) + 1;
		if (evbuffer_add(in, data, take) == -1 ||
		    (buf = (const char *)evbuffer_pullup(in, -1)) == NULL) {
			client_close(c, CLOSE_NO_MEMORY);
			return;
		}
		data += take;
		len -= take;
		switch (chat_frame(buf, have + take, max, &textlen, &used)) {
		case CHAT_NEED_MORE:
			return; /* all of data went into the line */
		case CHAT_TOO_LONG:
			chat_too_long(c, max);
			return;
		case CHAT_LINE:
			break;
		}
		chat_line(c, peer, plen, buf, textlen);
		evbuffer_drain(in, used);
	}
	while (c->state == CLIENT_OPEN && len > 0) {
		switch (chat_frame(data, len, max, &textlen, &used)) {
		case CHAT_NEED_MORE:
			/* the start of a line: at most max + 1 bytes */
			if (evbuffer_add(in, data, len) == -1)
				client_close(c, CLOSE_NO_MEMORY);
			return;
		case CHAT_TOO_LONG:
			chat_too_long(c, max);
			return;
		case CHAT_LINE:
			break;
		}
		chat_line(c, peer, plen, data, textlen);
		data += used;
		len -= used;
	}
}

/* chat_rate and chat_burst are chat's alone */
static const char *const chat_keys[] = { "chat_rate", "chat_burst", NULL };

/* The bucket is refilled every CHAT_TICK_MS with chat_rate's share: a burst holds one. */
static int
chat_check(const struct listener_conf *lc, const char **key, char *err, size_t errlen)
{
	if (lc->chat_rate > 0 && lc->chat_burst < chat_rate_per_tick(lc->chat_rate)) {
		*key = "chat_burst";
		snprintf(err, errlen,
		    "chat_burst %ld is less than one tick's share of chat_rate (%ld bytes per %d "
		    "ms)",
		    lc->chat_burst, chat_rate_per_tick(lc->chat_rate), CHAT_TICK_MS);
		return -1;
	}
	return 0;
}

const struct service service_chat = {
	.name = "chat",
	.one_loop = 1,
	.keys = chat_keys,
	.check = chat_check,
	.acceptor_init = chat_acceptor_init,
	.acceptor_free = chat_acceptor_free,
	.acceptor_reconfigure = chat_acceptor_reconfigure,
	.open = chat_open,
	.read = chat_read,
	.close = chat_close,
};

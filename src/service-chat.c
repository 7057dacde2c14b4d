/*
 * service-chat.c: line-based broadcast among the clients of one listener.
 *
 * A line (LF-terminated, a CR before the LF dropped) goes to every other
 * member as "ADDR:PORT: text\n", the text escaped so that it cannot drive
 * a terminal (chat_escape).  A line longer than max_line gets an error
 * line and the sender is closed.
 *
 * Fairness works from both ends.  Each member's input is read at most at
 * chat_rate bytes per second (libevent's token bucket, refilled every
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

/*
 * The length of the UTF-8 sequence at s[0..len) (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), 0 if it is not one.
 * Called only for s[0] >= 0x80.
 */
static size_t
chat_utf8_len(const unsigned char *s, size_t len)
{
	unsigned char lo = 0x80, hi = 0xbf; /* the range of the second byte */
	size_t n;

	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0; /* a continuation byte, 0xc0 and 0xc1 (overlong), 0xf5..0xff */
	if (s[0] == 0xe0)
		lo = 0xa0; /* overlong below U+0800 */
	else if (s[0] == 0xed)
		hi = 0x9f; /* U+D800..U+DFFF, the surrogates */
	else if (s[0] == 0xf0)
		lo = 0x90; /* overlong below U+10000 */
	else if (s[0] == 0xf4)
		hi = 0x8f; /* above U+10FFFF */
	if (len < n || s[1] < lo || s[1] > hi)
		return 0;
	for (size_t i = 2; i < n; i++)
		if (s[i] < 0x80 || s[i] > 0xbf)
			return 0;
	return n;
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
		} else if (s[i] < 0x80 || (n = chat_utf8_len(s + i, len - i)) == 0) {
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

static void
chat_read(struct client *c)
{
	struct evbuffer *in = client_input(c);
	size_t max = (size_t)c->acceptor->conf->max_line;
	char peer[CLIENT_PEERSTRLEN];
	size_t plen = strlen(client_peer_str(c, peer, sizeof peer)), len, want;
	size_t textlen = 0, used = 0, esclen;
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
		/* formatted once, whatever the number of members */
		esclen = chat_escape(buf, textlen, NULL, 0);
		if ((out = malloc(plen + 2 + esclen + 1)) == NULL) {
			client_close(c, CLOSE_NO_MEMORY);
			return;
		}
		memcpy(out, peer, plen);
		/* NOLINTNEXTLINE(bugprone-not-null-terminated-result): counted, not a string */
		memcpy(out + plen, ": ", 2);
		chat_escape(buf, textlen, out + plen + 2, esclen);
		out[plen + 2 + esclen] = '\n';
		evbuffer_drain(in, used);
		/*
		 * The sender pays chat_rate for what its escapes add, so that a
		 * flood of control bytes reaches the room no faster than text.
		 */
		client_charge_read(c, esclen - textlen);
		chat_broadcast(c, out, plen + 2 + esclen + 1);
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

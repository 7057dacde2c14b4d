/* SPDX-License-Identifier: ISC */
/*
 * mode-chat.c: N clients in one chat room; one line is published at a
 * time, by each member in turn, and the time until every other member has
 * it is the fan-out latency.
 *
 * The protocol is synackd's chat: a line goes to every other member as
 * "ADDR:PORT: text\n", ADDR:PORT being the sender as the server sees it
 * ("unix:" for unix sockets), and not back to the sender.  Each received
 * line is checked whole: the prefix must name the member that published
 * it (its own address, IPv4-mapped forms accepted), the text must be the
 * text published, sequence number and all.
 *
 * A member counts only once the server has it in the room, and a TCP
 * handshake does not say that (the server may not have accepted yet).  So
 * once every connection has succeeded or failed, the first member (the
 * leader) sends "sync N" lines every 20 ms until every other member has
 * heard one; members that have not within --connect-timeout are left out
 * and counted as noreply.  Sync lines that arrive later are ignored.
 *
 * Members live on every loader; the room is shared, under one mutex (a
 * line is published only when the last one arrived everywhere, so the lock
 * is taken once per received line, never contended for long).  Whoever
 * completes a line picks the next sender and kicks that sender's loader,
 * which publishes it from its own thread.
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define CHAT_SYNC_US 20000 /* between two sync lines while joining */
#define CHAT_HEADER_MAX 48 /* "s<seq> m<id> " */

enum chat_phase { CHAT_CONNECTING, CHAT_JOINING, CHAT_RUNNING, CHAT_OVER };

struct chat_member {
	struct conn *c;
	unsigned index;                /* in room->members */
	int alive;                     /* open and taking part */
	int joined;                    /* heard a sync line: the server has it in the room */
	int excluded;                  /* did not join in time: ignored from then on */
	uint64_t last_seq;             /* of the last line it received */
	struct sockaddr_storage local; /* what the server's prefix must name */
	char *in;                      /* a line not complete yet */
	size_t inlen;
	char *out; /* the line being sent; stays put until it is */
};

struct chat_room {
	pthread_mutex_t mu;
	enum chat_phase phase;
	unsigned unresolved; /* connections neither open nor failed yet */
	struct chat_member **members;
	unsigned nmembers, cap;
	unsigned alive;
	struct chat_member *leader;
	unsigned joined; /* not counting the leader */
	uint64_t sync_seq;
	uint64_t t_join;
	/* the line in flight */
	uint64_t seq;       /* from 1 */
	uint64_t abandoned; /* the last seq given up because its sender left */
	struct chat_member *sender;
	unsigned next; /* members index to try as the next sender */
	int sent;
	uint64_t t_send;
	unsigned pending; /* members that have not got it yet */
	size_t size;      /* payload bytes */
	size_t line_max;  /* longest line expected, LF included */
};

static struct chat_room *
chat_room(const struct conn *c)
{
	return c->w->run->mode_state;
}

static int
chat_init(struct run *r, char *err, size_t errlen)
{
	struct chat_room *room;

	if ((room = calloc(1, sizeof *room)) == NULL ||
	    (room->members = calloc(r->opt.connections, sizeof *room->members)) == NULL) {
		free(room);
		snprintf(err, errlen, "no memory for the chat room");
		return -1;
	}
	pthread_mutex_init(&room->mu, NULL);
	room->cap = r->opt.connections;
	room->unresolved = r->opt.connections;
	room->size = r->opt.size;
	room->line_max = NET_ADDRSTRLEN + 2 + CHAT_HEADER_MAX + r->opt.size + 1;
	r->mode_state = room;
	return 0;
}

static void
chat_free(struct run *r)
{
	struct chat_room *room = r->mode_state;

	if (room == NULL)
		return;
	for (unsigned i = 0; i < room->nmembers; i++) {
		free(room->members[i]->in);
		free(room->members[i]->out);
		free(room->members[i]);
	}
	free(room->members);
	pthread_mutex_destroy(&room->mu);
	free(room);
	r->mode_state = NULL;
}

/* The text of line seq by member id: a header, then letters up to size. */
static size_t
chat_payload(char *buf, uint64_t seq, unsigned id, size_t size)
{
	int n = snprintf(buf, CHAT_HEADER_MAX, "s%" PRIu64 " m%u ", seq, id);
	size_t len = (size_t)n;

	for (; len < size; len++)
		buf[len] = (char)('a' + (seq + len) % 26);
	return len;
}

static int
chat_payload_is(const char *p, size_t len, uint64_t seq, unsigned id, size_t size)
{
	char head[CHAT_HEADER_MAX];
	size_t n = (size_t)snprintf(head, sizeof head, "s%" PRIu64 " m%u ", seq, id);
	size_t want = n > size ? n : size;

	if (len != want || memcmp(p, head, n) != 0)
		return 0;
	for (size_t i = n; i < len; i++)
		if (p[i] != (char)('a' + (seq + i) % 26))
			return 0;
	return 1;
}

/* Does the prefix name this address?  "1.2.3.4:5", "[::ffff:1.2.3.4]:5", "unix:". */
static int
chat_prefix_is(const char *prefix, size_t len, const struct sockaddr_storage *ss)
{
	unsigned char want[16], got[16];
	char buf[NET_ADDRSTRLEN], err[160];
	struct net_addr a;
	int wport, gport;

	if (ss->ss_family == AF_UNIX)
		return len == 5 && memcmp(prefix, "unix:", 5) == 0;
	if (len >= sizeof buf)
		return 0;
	memcpy(buf, prefix, len);
	buf[len] = '\0';
	if (net_addr_parse_hostport(&a, buf, err, sizeof err) == -1 || a.ss.ss_family == AF_UNIX)
		return 0;
	/* both as IPv6 (IPv4 mapped), so a dual-stack server's view compares equal */
	memset(want, 0, 10);
	memset(got, 0, 10);
	want[10] = want[11] = got[10] = got[11] = 0xff;
	if (ss->ss_family == AF_INET) {
		memcpy(want + 12, &((const struct sockaddr_in *)ss)->sin_addr, 4);
		wport = ntohs(((const struct sockaddr_in *)ss)->sin_port);
	} else {
		memcpy(want, &((const struct sockaddr_in6 *)ss)->sin6_addr, 16);
		wport = ntohs(((const struct sockaddr_in6 *)ss)->sin6_port);
	}
	if (a.ss.ss_family == AF_INET)
		memcpy(got + 12, &((struct sockaddr_in *)&a.ss)->sin_addr, 4);
	else
		memcpy(got, &((struct sockaddr_in6 *)&a.ss)->sin6_addr, 16);
	gport = net_addr_port(&a);
	return wport == gport && memcmp(want, got, 16) == 0;
}

/* The next alive member after the last sender; the line is seq + 1. */
static struct loader *
chat_next_line(struct chat_room *room)
{
	struct chat_member *m;

	for (unsigned k = 0; k < room->nmembers; k++) {
		m = room->members[(room->next + k) % room->nmembers];
		if (!m->alive)
			continue;
		room->next = (m->index + 1) % room->nmembers;
		room->sender = m;
		room->seq++;
		room->sent = 0;
		room->pending = room->alive - 1;
		return m->c->w;
	}
	room->sender = NULL;
	return NULL;
}

/* Fewer than two members left: nothing more to measure. */
static int
chat_over(struct chat_room *room)
{
	if (room->alive >= 2 || room->phase == CHAT_OVER)
		return 0;
	room->phase = CHAT_OVER;
	room->sender = NULL;
	return 1;
}

/* Everyone but the leader heard a sync line: publish the first line. */
static struct loader *
chat_check_joined(struct chat_room *room)
{
	if (room->phase != CHAT_JOINING || room->joined + 1 < room->alive)
		return NULL;
	room->phase = CHAT_RUNNING;
	return chat_next_line(room);
}

static struct loader *
chat_start_joining(struct chat_room *room)
{
	if (room->phase != CHAT_CONNECTING || room->unresolved > 0)
		return NULL;
	if (chat_over(room))
		return NULL;
	room->phase = CHAT_JOINING;
	room->t_join = clock_ns();
	for (unsigned i = 0; i < room->nmembers; i++)
		if (room->members[i]->alive) {
			room->leader = room->members[i];
			break;
		}
	return room->leader->c->w;
}

/* Drop the members that never heard the room: counted as noreply. */
static void
chat_exclude_silent(struct chat_room *room, struct loader *w)
{
	for (unsigned i = 0; i < room->nmembers; i++) {
		struct chat_member *m = room->members[i];

		if (!m->alive || m->joined || m == room->leader)
			continue;
		m->alive = 0;
		m->excluded = 1;
		room->alive--;
		stats_count_error(&w->stats, LERR_NOREPLY, 0);
	}
}

static void
chat_after(struct run *r, struct loader *kick, int stop)
{
	if (kick != NULL)
		loader_kick(kick);
	if (stop)
		run_request_stop(r);
}

static void
chat_open(struct conn *c)
{
	struct chat_room *room = chat_room(c);
	struct chat_member *m;
	struct loader *kick;
	socklen_t len = sizeof m->local;
	int stop;

	if ((m = calloc(1, sizeof *m)) == NULL || (m->in = malloc(room->line_max)) == NULL ||
	    (m->out = malloc(room->line_max)) == NULL) {
		if (m != NULL) {
			free(m->in);
			free(m);
		}
		conn_fail(c, LERR_OTHER, ENOMEM);
		return;
	}
	if (getsockname(c->fd, (struct sockaddr *)&m->local, &len) == -1)
		m->local.ss_family = AF_UNSPEC;
	m->c = c;
	m->alive = 1;
	c->mode_data = m;
	pthread_mutex_lock(&room->mu);
	m->index = room->nmembers;
	room->members[room->nmembers++] = m;
	room->alive++;
	room->unresolved--;
	kick = chat_start_joining(room);
	stop = room->phase == CHAT_OVER;
	pthread_mutex_unlock(&room->mu);
	chat_after(c->w->run, kick, stop);
}

static void
chat_closed(struct conn *c, int was_open)
{
	struct chat_room *room = chat_room(c);
	struct chat_member *m = c->mode_data;
	struct run *r = c->w->run;
	struct loader *kick = NULL, *next;
	int stop = 0;

	pthread_mutex_lock(&room->mu);
	if (__atomic_load_n(&r->stopping, __ATOMIC_RELAXED)) {
		room->phase = CHAT_OVER;
		if (m != NULL)
			m->alive = 0;
		pthread_mutex_unlock(&room->mu);
		return;
	}
	if (m == NULL) {
		/* the connect failed (or chat_open could not set it up) */
		room->unresolved--;
		kick = chat_start_joining(room);
		stop = room->phase == CHAT_OVER;
		pthread_mutex_unlock(&room->mu);
		chat_after(r, kick, stop);
		return;
	}
	if (!m->alive) {
		pthread_mutex_unlock(&room->mu);
		return;
	}
	m->alive = 0;
	room->alive--;
	if (chat_over(room)) {
		pthread_mutex_unlock(&room->mu);
		chat_after(r, NULL, 1);
		return;
	}
	switch (room->phase) {
	case CHAT_JOINING:
		if (m->joined)
			room->joined--;
		if (m == room->leader) {
			room->leader = NULL;
			for (unsigned i = 0; i < room->nmembers; i++)
				if (room->members[i]->alive) {
					room->leader = room->members[i];
					break;
				}
			/* always found: chat_over() said two members are alive */
			if (room->leader != NULL) {
				if (room->leader->joined) {
					room->leader->joined = 0;
					room->joined--;
				}
				kick = room->leader->c->w;
			}
		}
		if ((next = chat_check_joined(room)) != NULL)
			kick = next;
		break;
	case CHAT_RUNNING:
		if (m == room->sender) {
			/* its line may or may not have reached some: give it up */
			room->abandoned = room->seq;
			kick = chat_next_line(room);
		} else if (m->last_seq != room->seq && --room->pending == 0) {
			if (room->sent)
				conn_reply(c, clock_ns() - room->t_send, 0);
			kick = chat_next_line(room);
		}
		break;
	default:
		break;
	}
	pthread_mutex_unlock(&room->mu);
	chat_after(r, kick, 0);
}

/* On the loader that was kicked: send a sync line, or publish a line. */
static void
chat_kick(struct loader *w)
{
	static const struct timeval sync_tv = { 0, CHAT_SYNC_US };
	struct chat_room *room = w->run->mode_state;
	struct chat_member *m = NULL;
	struct loader *kick = NULL;
	size_t len = 0;
	int stop = 0;

	pthread_mutex_lock(&room->mu);
	if (room->phase == CHAT_JOINING && room->leader != NULL && room->leader->c->w == w) {
		if (clock_ns() - room->t_join >
		    (uint64_t)w->run->opt.connect_timeout_ms * 1000000u) {
			chat_exclude_silent(room, w);
			stop = chat_over(room);
			if (!stop)
				kick = chat_check_joined(room);
		} else {
			if (room->leader->c->wlen == 0) {
				m = room->leader;
				len = (size_t)snprintf(
				    m->out, room->line_max, "sync %" PRIu64 "\n", ++room->sync_seq);
			}
			event_add(w->kick_ev, &sync_tv);
		}
	} else if (room->phase == CHAT_RUNNING && room->sender != NULL && room->sender->c->w == w &&
	    !room->sent && room->sender->c->wlen == 0) {
		m = room->sender;
		len = chat_payload(m->out, room->seq, m->c->id, room->size);
		m->out[len++] = '\n';
		room->sent = 1;
		room->t_send = clock_ns();
	}
	pthread_mutex_unlock(&room->mu);
	if (m != NULL)
		conn_send(m->c, m->out, len);
	chat_after(w->run, kick, stop);
}

/* A pending line went out: a line to publish may have waited for it. */
static void
chat_drained(struct conn *c)
{
	chat_kick(c->w);
}

/* One received line (without its LF).  -1: the conn failed and is closed. */
static int
chat_line(struct conn *c, struct chat_member *m, const char *line, size_t len)
{
	struct chat_room *room = chat_room(c);
	const char *sep = NULL, *text;
	struct loader *kick = NULL;
	char addr[NET_ADDRSTRLEN];
	size_t plen, tlen;
	unsigned long long seq;
	unsigned id;
	int ok, n = 0;

	for (size_t i = 0; i + 1 < len; i++)
		if (line[i] == ':' && line[i + 1] == ' ') {
			sep = line + i;
			break;
		}
	if (sep == NULL) {
		conn_verify_failed(c, "line without an \"ADDR:PORT: \" prefix: \"%.*s\"",
		    (int)(len > 80 ? 80 : len), line);
		return -1;
	}
	plen = (size_t)(sep - line);
	text = sep + 2;
	tlen = len - plen - 2;

	pthread_mutex_lock(&room->mu);
	if (m->excluded || room->phase == CHAT_OVER) {
		pthread_mutex_unlock(&room->mu);
		return 0;
	}
	if (tlen > 5 && memcmp(text, "sync ", 5) == 0) {
		if (room->phase == CHAT_JOINING && !m->joined && m != room->leader) {
			m->joined = 1;
			room->joined++;
			kick = chat_check_joined(room);
		}
		pthread_mutex_unlock(&room->mu);
		chat_after(c->w->run, kick, 0);
		return 0;
	}
	/* NOLINTNEXTLINE(cert-err34-c): chat_payload_is() below compares the whole text */
	ok = sscanf(text, "s%llu m%u %n", &seq, &id, &n) >= 2 && n > 0;
	if (ok && seq <= room->abandoned && seq != room->seq) {
		pthread_mutex_unlock(&room->mu); /* its sender left: late, not wrong */
		return 0;
	}
	ok = ok && room->phase == CHAT_RUNNING && room->sender != NULL && seq == room->seq &&
	    m->last_seq != seq && id == room->sender->c->id &&
	    chat_prefix_is(line, plen, &room->sender->local) &&
	    chat_payload_is(text, tlen, seq, id, room->size);
	if (!ok) {
		seq = room->seq;
		if (room->sender != NULL)
			net_addr_format((struct sockaddr *)&room->sender->local,
			    sizeof room->sender->local, addr, sizeof addr);
		else
			snprintf(addr, sizeof addr, "nobody");
		pthread_mutex_unlock(&room->mu);
		conn_verify_failed(c, "expected line %llu from %s, got \"%.*s\"", seq, addr,
		    (int)(len > 80 ? 80 : len), line);
		return -1;
	}
	m->last_seq = seq;
	stat_add(&c->w->stats.bytes_received, len + 1);
	if (--room->pending == 0) {
		conn_reply(c, clock_ns() - room->t_send, 0);
		kick = chat_next_line(room);
	}
	pthread_mutex_unlock(&room->mu);
	chat_after(c->w->run, kick, 0);
	return 0;
}

static void
chat_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct chat_room *room = chat_room(c);
	struct chat_member *m = c->mode_data;
	const unsigned char *lf;
	size_t take;

	while (n > 0) {
		lf = memchr(p, '\n', n);
		take = lf != NULL ? (size_t)(lf - p) : n;
		if (m->inlen + take >= room->line_max) {
			conn_verify_failed(
			    c, "a line longer than the %zu bytes expected", room->line_max);
			return;
		}
		memcpy(m->in + m->inlen, p, take);
		m->inlen += take;
		if (lf == NULL)
			return;
		p += take + 1;
		n -= take + 1;
		take = m->inlen;
		m->inlen = 0;
		m->in[take] = '\0'; /* for sscanf(); there is room, see above */
		if (chat_line(c, m, m->in, take) == -1)
			return;
	}
}

const struct mode mode_chat = {
	.name = "chat",
	.init = chat_init,
	.free = chat_free,
	.open = chat_open,
	.read = chat_read,
	.drained = chat_drained,
	.closed = chat_closed,
	.kick = chat_kick,
};

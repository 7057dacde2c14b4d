/* SPDX-License-Identifier: ISC */
/*
 * mode-stream.c: bulk data, as fast as the server takes or gives it.
 *
 * --direction both (the default, tcpkali's way): send continuously and
 * read everything back, verified.  The stream is the run's payload read
 * from position 0 on; byte k of what comes back must be byte k of what
 * went out.  --direction send: the same writes, into a server that must
 * send nothing back (discard, RFC 863): a byte that comes back is a verify
 * error.  --direction receive: send nothing, read what the server sends
 * (chargen, RFC 864) and hold every byte to the pattern (chargen.c).
 *
 * A write offers as many whole messages of --size bytes as fit in 256 KiB
 * (at least one), so the default size does not turn a throughput test into
 * a syscall test (256 KiB rather than 64 cost a quarter less CPU per byte
 * sent, measured against a discard; the reads stay at 64 KiB, whose
 * buffer and the pattern they are checked against stay in the cache:
 * larger ones cost more per byte received); a "request" is one message through the pipe: echoed
 * back (both), taken by the kernel (send), received (receive).  Writing stops when the kernel takes
 * no more and resumes when it does; the reads keep the echo server's output moving, so the two
 * directions cannot block each other.  Every check is a memcmp() against a buffer made once.
 *
 * Latency (both only) is the time a byte spends in the pipe, queueing
 * included: the send time of up to 16 writes is remembered, and each is
 * counted when the last byte of that write has come back.
 */
#include "config.h"

#include <stdio.h>
#include <stdlib.h>

#include "load.h"

#define MARKS (sizeof((struct conn *)0)->marks / sizeof((struct conn *)0)->marks[0])

/* The messages whose last byte the kernel has taken since the last count. */
static void
stream_acked(struct conn *c)
{
	uint64_t size = c->w->run->opt.size, before = c->acked_pos / size;

	c->acked_pos = c->sent_pos;
	stat_add(&c->w->stats.requests, c->acked_pos / size - before);
}

static void
stream_write(struct conn *c)
{
	struct run *r = c->w->run;
	size_t size = r->opt.size;
	size_t n = size >= LOAD_WRITE_MAX ? size : LOAD_WRITE_MAX / size * size;
	int send_only = r->opt.direction == STREAM_SEND, rc;

	if (send_only)
		stream_acked(c); /* drained: the last write is all taken */
	do {
		if (!send_only && c->mark_head - c->mark_tail < MARKS) {
			c->marks[c->mark_head % MARKS].pos = c->sent_pos + n;
			c->marks[c->mark_head % MARKS].t = clock_ns();
			c->mark_head++;
		}
		rc = conn_send(c, payload_at(r, c->sent_pos), n);
		if (rc == -1)
			return;
		c->sent_pos += n;
		if (send_only && rc == 0)
			stream_acked(c);
	} while (rc == 0);
}

static void
stream_open(struct conn *c)
{
	c->sent_pos = c->acked_pos = c->recv_pos = c->recv_base = 0;
	c->mark_head = c->mark_tail = 0;
	if (c->w->run->opt.direction != STREAM_RECEIVE)
		stream_write(c);
}

/* receive: every byte is the chargen pattern's, from the phase of the first. */
static void
stream_read_chargen(struct conn *c, const unsigned char *p, size_t n)
{
	struct loader *w = c->w;
	const unsigned char *cycle = w->run->mode_state;
	uint64_t size = w->run->opt.size, before = c->recv_pos / size;
	long phase;
	size_t i;

	if (c->recv_pos == 0) {
		if ((phase = chargen_phase(p[0])) < 0) {
			conn_verify_failed(c,
			    "the stream starts with 0x%02x, which starts no line of RFC 864's "
			    "chargen pattern",
			    p[0]);
			return;
		}
		c->recv_base = (uint64_t)phase;
	}
	if ((i = payload_mismatch(p, cycle + (c->recv_base + c->recv_pos) % CHARGEN_CYCLE, n)) <
	    n) {
		conn_verify_failed(c,
		    "byte %llu of the stream is 0x%02x, RFC 864's pattern has 0x%02x",
		    (unsigned long long)c->recv_pos + i, p[i],
		    cycle[(c->recv_base + c->recv_pos + i) % CHARGEN_CYCLE]);
		return;
	}
	c->recv_pos += n;
	stat_add(&w->stats.bytes_received, n);
	stat_add(&w->stats.requests, c->recv_pos / size - before);
}

static void
stream_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct loader *w = c->w;
	size_t size = w->run->opt.size, i;
	const unsigned char *want;
	uint64_t before = c->recv_pos / size, t;

	switch (w->run->opt.direction) {
	case STREAM_RECEIVE:
		stream_read_chargen(c, p, n);
		return;
	case STREAM_SEND:
		conn_verify_failed(c,
		    "%zu bytes came back, where a send-only stream expects none (a discard "
		    "server)",
		    n);
		return;
	case STREAM_BOTH:
		break;
	}
	if (c->recv_pos + n > c->sent_pos) {
		conn_verify_failed(c, "%llu bytes came back, %llu were sent",
		    (unsigned long long)c->recv_pos + n, (unsigned long long)c->sent_pos);
		return;
	}
	want = payload_at(w->run, c->recv_pos);
	if ((i = payload_mismatch(p, want, n)) < n) {
		conn_verify_failed(c, "byte %llu of the stream is 0x%02x, expected 0x%02x",
		    (unsigned long long)c->recv_pos + i, p[i], want[i]);
		return;
	}
	c->recv_pos += n;
	stat_add(&w->stats.bytes_received, n);
	stat_add(&w->stats.requests, c->recv_pos / size - before);
	if (c->mark_tail != c->mark_head && c->marks[c->mark_tail % MARKS].pos <= c->recv_pos) {
		t = clock_ns();
		while (c->mark_tail != c->mark_head &&
		    c->marks[c->mark_tail % MARKS].pos <= c->recv_pos) {
			stats_record_latency(&w->stats, t - c->marks[c->mark_tail % MARKS].t);
			c->mark_tail++;
		}
	}
}

/* receive: the pattern, made once for the run and shared by every loader. */
static int
stream_init(struct run *r, char *err, size_t errlen)
{
	if (r->opt.direction != STREAM_RECEIVE)
		return 0;
	if ((r->mode_state = chargen_new()) == NULL) {
		snprintf(err, errlen, "no memory for the chargen pattern");
		return -1;
	}
	return 0;
}

static void
stream_free(struct run *r)
{
	free(r->mode_state);
	r->mode_state = NULL;
}

const struct mode mode_stream = {
	.name = "stream",
	.init = stream_init,
	.free = stream_free,
	.open = stream_open,
	.read = stream_read,
	.drained = stream_write,
};

/* The option's words, in the order of enum stream_direction. */
const char *
stream_direction_name(enum stream_direction d)
{
	static const char *const names[] = { "both", "send", "receive" };

	return names[d];
}

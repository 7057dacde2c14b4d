/* SPDX-License-Identifier: ISC */
/*
 * mode-udp-stream.c: a stream of datagrams (iperf3 -u).  Each connection
 * is a connected UDP socket (conn.c) that sends at its share of --rate
 * datagrams per second, or as fast as it can without it, whatever comes
 * back.  A datagram is --size bytes: its number on the socket and the
 * time it was sent (8 bytes each, big-endian), then the run's payload, so
 * that an echo is checked byte for byte and says when it left.
 *
 * With an echo server, what comes back is measured as RFC 3550 does for
 * RTP: loss within what was received (numbers skipped; the tail still in
 * flight at the end is not), duplicates and reordering with a window of 64
 * numbers below the highest received, the round trip of each datagram
 * (from its actual send, which it carries) as its latency, and the
 * interarrival
 * jitter, J += (|D| - J) / 16, D the difference of two successive
 * datagrams' transit times, kept per socket in units of 1/16 ns as the
 * RFC's code does.  The report's jitter is the mean of the sockets' J.
 *
 * A number skipped is lost once it leaves the window unanswered (or when
 * the socket closes with it still missing); one that arrives after that is
 * late, like udp-rr's.  So the count of lost datagrams only grows: a
 * second of the time series never has a negative loss, and --warmup's
 * reset cannot be undone by a datagram skipped before it and arriving
 * after it.
 *
 * Pacing follows the clock, not a schedule per datagram: each wakeup sends
 * what fell due since the socket opened (at most a batch, so that reads
 * get their turn, with one sendmmsg(), which is what lets one socket keep
 * up with iperf3 -u's write() a datagram) and sets the timer for the next
 * one.  The datagrams of a batch carry the time of its call.  A datagram the
 * socket does not take (its queue is full) is not sent again: it was due,
 * and counts as sent and so as lost, as a datagram dropped on the path.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "load.h"

#define UDP_STREAM_WINDOW 64
#define UDP_STREAM_BATCH 32          /* datagrams per wakeup at most */
#define UDP_STREAM_BACKOFF_NS 100000 /* flat out, the socket's queue full: try again */

static inline uint64_t
stream_offset(unsigned id, uint64_t k)
{
	return ((uint64_t)id * 7919u + k * 104729u) % PAYLOAD_PERIOD;
}

static void
put64(unsigned char *p, uint64_t v)
{
	for (int i = 0; i < 8; i++)
		p[i] = (unsigned char)(v >> (8 * (7 - i)));
}

static uint64_t
get64(const unsigned char *p)
{
	uint64_t v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

/* This socket's share of --rate, per ns; 0: as fast as it can. */
static double
stream_rate_ns(const struct conn *c)
{
	const struct options *o = &c->w->run->opt;

	return o->rate > 0 ? o->rate / (double)o->connections / 1e9 : 0;
}

/*
 * Send the next n datagrams (n <= UDP_STREAM_BATCH) with one sendmmsg(),
 * all stamped with the time of the call.  0: all sent; 1: the socket's
 * queue took fewer; -1: the conn failed and is closed.  Paced, a datagram
 * the socket refused was due and counts as sent (and so lost); flat out,
 * it is not sent and keeps its number.
 */
static int
stream_send_batch(struct conn *c, unsigned n, int paced)
{
	struct loader *w = c->w;
	struct run *r = w->run;
	unsigned char head[UDP_STREAM_BATCH][UDP_STREAM_HEADER];
	struct iovec iov[UDP_STREAM_BATCH][2];
	struct mmsghdr m[UDP_STREAM_BATCH];
	uint64_t now = clock_ns(), k0 = c->k_sent;
	int sent;

	memset(m, 0, n * sizeof m[0]);
	for (unsigned i = 0; i < n; i++) {
		put64(head[i], k0 + i);
		put64(head[i] + 8, now);
		iov[i][0].iov_base = head[i];
		iov[i][0].iov_len = UDP_STREAM_HEADER;
		/* the payload is read only: sendmmsg does not write through iov_base */
		iov[i][1].iov_base = (void *)(uintptr_t)payload_at(
		    r, stream_offset(c->id, k0 + i) + UDP_STREAM_HEADER);
		iov[i][1].iov_len = r->opt.size - UDP_STREAM_HEADER;
		m[i].msg_hdr.msg_iov = iov[i];
		m[i].msg_hdr.msg_iovlen = 2;
	}
	do
		sent = sendmmsg(c->fd, m, n, MSG_NOSIGNAL);
	while (sent == -1 && errno == EINTR);
	if (sent == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS) {
			conn_fail(c, stats_classify(errno), errno);
			return -1;
		}
		sent = 0;
	}
	stat_add(&w->stats.bytes_sent, (uint64_t)sent * r->opt.size);
	if (paced) {
		c->k_sent += n;
		stat_add(&w->stats.dgram.sent, n);
	} else {
		c->k_sent += (unsigned)sent;
		stat_add(&w->stats.dgram.sent, (unsigned)sent);
	}
	return (unsigned)sent < n;
}

static void
stream_send(struct conn *c)
{
	struct loader *w = c->w;
	double rate = stream_rate_ns(c);
	uint64_t now = clock_ns(), due;
	unsigned n = 0;
	int rc;

	if (rate == 0) {
		if ((rc = stream_send_batch(c, UDP_STREAM_BATCH, 0)) == -1)
			return;
		/* a full queue: try again a little later; else at once, after the other events */
		conn_timer_at(c, rc == 1 ? now + UDP_STREAM_BACKOFF_NS : now);
		return;
	}
	due = (uint64_t)((double)(now - c->t_connect) * rate) + 1;
	if (due > c->k_due) {
		stat_add(&w->stats.due, due - c->k_due);
		c->k_due = due;
	}
	for (; n < UDP_STREAM_BATCH && c->k_sent + n < due; n++) {
		uint64_t at = c->t_connect + (uint64_t)((double)(c->k_sent + n) / rate);

		hist_record(&w->stats.lag, now > at ? now - at : 0);
		stat_add(&w->stats.sent, 1);
	}
	if (n > 0 && stream_send_batch(c, n, 1) == -1)
		return;
	conn_timer_at(c, c->t_connect + (uint64_t)((double)c->k_sent / rate));
}

static void
stream_open(struct conn *c)
{
	c->k_sent = 0;
	c->k_due = 0;
	c->dg_answered = 0;
	c->dg_high = 0;
	c->dg_transit = 0;
	c->dg_jitter16 = 0;
	stream_send(c);
}

/*
 * The window's numbers not answered: bit i of dg_answered is number
 * dg_high-1-i, and only the bits of numbers sent (below dg_high) count.
 */
static uint64_t
stream_holes(const struct conn *c, uint64_t bits)
{
	uint64_t valid =
	    c->dg_high < UDP_STREAM_WINDOW ? ((uint64_t)1 << c->dg_high) - 1 : ~(uint64_t)0;

	return (uint64_t)__builtin_popcountll(~c->dg_answered & valid & bits);
}

/*
 * Number k, above all received so far, arrived: the window moves up to it,
 * and the numbers that leave it unanswered, or that it skips over entirely,
 * are lost.
 */
static void
stream_advance(struct conn *c, uint64_t k)
{
	uint64_t old = c->dg_high, shift = k - old + 1, lost;

	lost = stream_holes(c,
	    shift >= UDP_STREAM_WINDOW ? ~(uint64_t)0
				       : ~(uint64_t)0 << (UDP_STREAM_WINDOW - shift));
	if (k + 1 > old + UDP_STREAM_WINDOW)
		lost += k + 1 - UDP_STREAM_WINDOW - old;
	if (lost > 0)
		stat_add(&c->w->stats.dgram.lost, lost);
	c->dg_answered = (shift >= UDP_STREAM_WINDOW ? 0 : c->dg_answered << shift) | 1;
	c->dg_high = k + 1;
}

/* RFC 3550, 6.4.1 and A.8: J += (|D| - J) / 16, J kept times 16. */
static void
stream_jitter(struct conn *c, uint64_t transit)
{
	struct stats *s = &c->w->stats;
	uint64_t d, old = c->dg_jitter16;

	if (c->dg_transit == 0) {
		c->dg_transit = transit;
		stat_add(&s->dgram.jitter_conns, 1);
		return;
	}
	d = transit > c->dg_transit ? transit - c->dg_transit : c->dg_transit - transit;
	c->dg_transit = transit;
	c->dg_jitter16 = c->dg_jitter16 + d - ((c->dg_jitter16 + 8) >> 4);
	if (c->dg_jitter16 >= old)
		stat_add(&s->dgram.jitter16_sum, c->dg_jitter16 - old);
	else
		stat_sub(&s->dgram.jitter16_sum, old - c->dg_jitter16);
}

static void
stream_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct loader *w = c->w;
	struct run *r = w->run;
	uint64_t now = clock_ns(), k, t, behind;
	const unsigned char *want;
	size_t i;

	if (n != r->opt.size) {
		conn_verify_failed(
		    c, "a datagram of %zu bytes came back for %zu sent", n, r->opt.size);
		return;
	}
	k = get64(p);
	t = get64(p + 8);
	if (k >= c->k_sent || t > now || t < c->t_connect) {
		conn_verify_failed(c, "an answer to datagram %llu sent at %llu, of %llu sent",
		    (unsigned long long)k + 1, (unsigned long long)t,
		    (unsigned long long)c->k_sent);
		return;
	}
	want = payload_at(r, stream_offset(c->id, k) + UDP_STREAM_HEADER);
	if ((i = payload_mismatch(p + UDP_STREAM_HEADER, want, n - UDP_STREAM_HEADER)) <
	    n - UDP_STREAM_HEADER) {
		conn_verify_failed(c, "datagram %llu: byte %zu of %zu is 0x%02x, expected 0x%02x",
		    (unsigned long long)k + 1, UDP_STREAM_HEADER + i, n, p[UDP_STREAM_HEADER + i],
		    want[i]);
		return;
	}
	if (k >= c->dg_high) {
		stream_advance(c, k);
	} else {
		behind = c->dg_high - 1 - k;
		if (behind < UDP_STREAM_WINDOW && (c->dg_answered >> behind & 1)) {
			stat_add(&w->stats.dgram.duplicate, 1);
			return;
		}
		stat_add(&w->stats.dgram.reordered, 1);
		if (behind >= UDP_STREAM_WINDOW) {
			/* counted lost when it left the window */
			stat_add(&w->stats.dgram.late, 1);
			return;
		}
		c->dg_answered |= (uint64_t)1 << behind;
	}
	conn_reply(c, now - t, n);
	stream_jitter(c, now - t);
}

static void
stream_timer(struct conn *c)
{
	stream_send(c);
}

/* The numbers still missing below the highest received are lost. */
static void
stream_closed(struct conn *c, int was_open)
{
	uint64_t lost = stream_holes(c, ~(uint64_t)0);

	if (was_open && lost > 0)
		stat_add(&c->w->stats.dgram.lost, lost);
}

const struct mode mode_udp_stream = {
	.name = "udp-stream",
	.dgram = 1,
	.open = stream_open,
	.read = stream_read,
	.timer = stream_timer,
	.closed = stream_closed,
};

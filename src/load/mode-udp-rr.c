/* SPDX-License-Identifier: ISC */
/*
 * mode-udp-rr.c: request/response over UDP.  Each "connection" is a UDP
 * socket connect()ed to the target (conn.c), so that only the target's
 * datagrams reach it and an ICMP port unreachable comes back as
 * ECONNREFUSED on the next call (counted as refused, like a TCP reset).
 *
 * Closed loop: one datagram in flight per socket.  A datagram is --size
 * bytes: its number on the socket (8 bytes, big-endian), then the run's
 * payload from an offset that depends on the socket and the number, so
 * that an echo is checked byte for byte and tells which datagram it
 * answers.  The answer to the datagram in flight completes it (latency as
 * for TCP); one not answered within --request-timeout is lost, and the
 * next goes.  Answers that come anyway are told apart with a window of
 * the last 64 numbers: a second answer to one already answered is a
 * duplicate, an answer to one declared lost is late, and an answer to a
 * number below the highest answered so far is also reordered.  A wrong
 * length or byte is a verify error, which ends the socket as it ends a
 * TCP connection.
 *
 * A datagram the socket does not take (EAGAIN, ENOBUFS: the client's own
 * queue is full) is never answered, and so is counted lost: the loss is
 * on this host's side of the path, but it is loss all the same.
 */
#include "config.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "load.h"

#define UDP_RR_WINDOW 64
#define UDP_RR_DEFAULT_TIMEOUT_NS 10000000000u /* --request-timeout 0: a loss is still a loss */

static inline uint64_t
udp_offset(unsigned id, uint64_t k)
{
	return ((uint64_t)id * 7919u + k * 104729u) % PAYLOAD_PERIOD;
}

static uint64_t
udp_timeout_ns(const struct run *r)
{
	return r->opt.request_timeout_ms > 0 ? (uint64_t)r->opt.request_timeout_ms * 1000000u
					     : UDP_RR_DEFAULT_TIMEOUT_NS;
}

static void
udp_rr_send(struct conn *c)
{
	struct loader *w = c->w;
	struct run *r = w->run;
	uint64_t k = c->k_sent++;
	unsigned char head[UDP_HEADER];
	struct iovec iov[2];
	struct msghdr m;

	for (int i = 0; i < UDP_HEADER; i++)
		head[i] = (unsigned char)(k >> (8 * (UDP_HEADER - 1 - i)));
	iov[0].iov_base = head;
	iov[0].iov_len = sizeof head;
	/* the payload is read only: sendmsg does not write through iov_base */
	iov[1].iov_base = (void *)(uintptr_t)(payload_at(r, udp_offset(c->id, k) + UDP_HEADER));
	iov[1].iov_len = r->opt.size - UDP_HEADER;
	memset(&m, 0, sizeof m);
	m.msg_iov = iov;
	m.msg_iovlen = 2;
	c->dg_answered <<= 1; /* bit 0 is k now, not answered */
	c->t_send = clock_ns();
	stat_add(&w->stats.dgram.sent, 1);
	if (sendmsg(c->fd, &m, MSG_NOSIGNAL) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR) {
			conn_fail(c, stats_classify(errno), errno);
			return;
		}
	} else {
		stat_add(&w->stats.bytes_sent, r->opt.size);
	}
	conn_timer_at(c, c->t_send + udp_timeout_ns(r));
}

static void
udp_rr_open(struct conn *c)
{
	c->k_sent = 0;
	c->dg_answered = 0;
	c->dg_high = 0;
	udp_rr_send(c);
}

static void
udp_rr_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct loader *w = c->w;
	struct run *r = w->run;
	uint64_t k = 0, age, now = clock_ns();
	const unsigned char *want;
	size_t i;

	if (n != r->opt.size) {
		conn_verify_failed(
		    c, "a datagram of %zu bytes came back for %zu sent", n, r->opt.size);
		return;
	}
	for (i = 0; i < UDP_HEADER; i++)
		k = k << 8 | p[i];
	if (k >= c->k_sent) {
		conn_verify_failed(c, "an answer to datagram %llu, of %llu sent",
		    (unsigned long long)k + 1, (unsigned long long)c->k_sent);
		return;
	}
	age = c->k_sent - 1 - k;
	if (age < UDP_RR_WINDOW && (c->dg_answered >> age & 1)) {
		stat_add(&w->stats.dgram.duplicate, 1);
		return;
	}
	want = payload_at(r, udp_offset(c->id, k) + UDP_HEADER);
	if ((i = payload_mismatch(p + UDP_HEADER, want, n - UDP_HEADER)) < n - UDP_HEADER) {
		conn_verify_failed(c, "datagram %llu: byte %zu of %zu is 0x%02x, expected 0x%02x",
		    (unsigned long long)k + 1, UDP_HEADER + i, n, p[UDP_HEADER + i], want[i]);
		return;
	}
	if (age < UDP_RR_WINDOW)
		c->dg_answered |= (uint64_t)1 << age;
	if (k + 1 < c->dg_high)
		stat_add(&w->stats.dgram.reordered, 1);
	else
		c->dg_high = k + 1;
	if (age != 0 || c->t_send == 0) {
		/* declared lost already (or older than the window can tell) */
		stat_add(&w->stats.dgram.late, 1);
		return;
	}
	conn_reply(c, now - c->t_send, n);
	c->t_send = 0;
	udp_rr_send(c);
}

/* --request-timeout passed without an answer: lost; the next one goes. */
static void
udp_rr_timer(struct conn *c)
{
	uint64_t now = clock_ns();

	if (c->t_send == 0)
		return;
	if (now - c->t_send < udp_timeout_ns(c->w->run)) {
		conn_timer_at(c, c->t_send + udp_timeout_ns(c->w->run));
		return;
	}
	stat_add(&c->w->stats.dgram.lost, 1);
	c->t_send = 0;
	udp_rr_send(c);
}

const struct mode mode_udp_rr = {
	.name = "udp-rr",
	.dgram = 1,
	.open = udp_rr_open,
	.read = udp_rr_read,
	.timer = udp_rr_timer,
};

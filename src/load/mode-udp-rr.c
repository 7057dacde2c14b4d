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
 *
 * Open loop (--rate, the loader's mode_udp_rr_paced): the socket's
 * datagrams go at the times of its slot in the run's schedule, as rr
 * --rate's requests do, whether or not the earlier ones were answered.
 * Several are in flight; a ring per socket, as long as the datagrams in
 * flight until their deadline need and more (udp_rr_window), keeps when
 * each left and whether it was answered, and tells answers apart.  The
 * schedule gives each one's latency (from its scheduled time, not from
 * when it could leave: a stalled server makes all those due meanwhile
 * late), and its deadline is --request-timeout after it actually left: a
 * client late to send
 * says so in its lag, and does not make the path look lossy.  `seq` is the oldest
 * datagram neither answered nor lost yet: it becomes lost when its
 * deadline passes, or when its slot is needed again (half the ring later:
 * only if the timer is very late).  An answer to a datagram already lost
 * is late.
 *
 * When the run ends, a socket with datagrams in flight sends no more and
 * waits for them (finish): each is answered or lost by its deadline, so
 * that sent = answered + lost.  Leaving them out would understate the
 * loss: the answered ones of the last --request-timeout are counted, the
 * lost ones of that time are not yet.
 */
#include "config.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/uio.h>

#include "load.h"

static inline uint64_t
udp_offset(unsigned id, uint64_t k)
{
	return ((uint64_t)id * 7919u + k * 104729u) % PAYLOAD_PERIOD;
}

static uint64_t
udp_timeout_ns(const struct run *r)
{
	return r->opt.request_timeout_ms > 0 ? (uint64_t)r->opt.request_timeout_ms * 1000000u
					     : UDP_RR_DEFAULT_TIMEOUT_MS * 1000000u;
}

/*
 * Send datagram k_sent (and count it): 0, or -1 if the conn failed and is
 * closed.  A datagram the socket refused counts as sent: it will be lost.
 */
static int
udp_rr_send_next(struct conn *c)
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
	stat_add(&w->stats.dgram.sent, 1);
	if (sendmsg(c->fd, &m, MSG_NOSIGNAL) == -1) {
		if (errno != EAGAIN && errno != EWOULDBLOCK && errno != ENOBUFS && errno != EINTR) {
			conn_fail(c, stats_classify(errno), errno);
			return -1;
		}
	} else {
		stat_add(&w->stats.bytes_sent, r->opt.size);
	}
	return 0;
}

/* Closed loop: the next datagram, timed from now. */
static void
udp_rr_send(struct conn *c)
{
	c->t_send = clock_ns();
	if (udp_rr_send_next(c) == 0)
		conn_timer_at(c, c->t_send + udp_timeout_ns(c->w->run));
}

/* Closed loop: the datagram in flight was answered or lost; after the run, that was the last. */
static void
udp_rr_next(struct conn *c)
{
	if (c->finishing)
		conn_close(c);
	else
		udp_rr_send(c);
}

/* The run is over: wait for the datagram in flight, if there is one. */
static int
udp_rr_finish(struct conn *c)
{
	return c->t_send != 0;
}

static void
udp_rr_open(struct conn *c)
{
	c->k_sent = 0;
	c->dg_answered = 0;
	c->dg_high = 0;
	udp_rr_send(c);
}

/*
 * The number k of an answer of n bytes, and its bytes checked: 0, or -1
 * after a verify error (the conn is closed).
 */
static int
udp_rr_check(struct conn *c, const unsigned char *p, size_t n, uint64_t *kp)
{
	struct run *r = c->w->run;
	uint64_t k = 0;
	const unsigned char *want;
	size_t i;

	if (n != r->opt.size) {
		conn_verify_failed(
		    c, "a datagram of %zu bytes came back for %zu sent", n, r->opt.size);
		return -1;
	}
	for (i = 0; i < UDP_HEADER; i++)
		k = k << 8 | p[i];
	if (k >= c->k_sent) {
		conn_verify_failed(c, "an answer to datagram %llu, of %llu sent",
		    (unsigned long long)k + 1, (unsigned long long)c->k_sent);
		return -1;
	}
	want = payload_at(r, udp_offset(c->id, k) + UDP_HEADER);
	if ((i = payload_mismatch(p + UDP_HEADER, want, n - UDP_HEADER)) < n - UDP_HEADER) {
		conn_verify_failed(c, "datagram %llu: byte %zu of %zu is 0x%02x, expected 0x%02x",
		    (unsigned long long)k + 1, UDP_HEADER + i, n, p[UDP_HEADER + i], want[i]);
		return -1;
	}
	*kp = k;
	return 0;
}

/* The first answer to k: below the highest answered so far, it is reordered. */
static void
udp_rr_order(struct conn *c, uint64_t k)
{
	if (k + 1 < c->dg_high)
		stat_add(&c->w->stats.dgram.reordered, 1);
	else
		c->dg_high = k + 1;
}

/*
 * Closed loop: an answer came; check it and mark its number k answered.
 * 1: the first answer to k; 0: a duplicate (counted); -1: a verify error,
 * the conn is closed.
 */
static int
udp_rr_take(struct conn *c, const unsigned char *p, size_t n, uint64_t *kp)
{
	uint64_t age;

	if (udp_rr_check(c, p, n, kp) == -1)
		return -1;
	age = c->k_sent - 1 - *kp;
	if (age < UDP_RR_WINDOW && (c->dg_answered >> age & 1)) {
		stat_add(&c->w->stats.dgram.duplicate, 1);
		return 0;
	}
	if (age < UDP_RR_WINDOW)
		c->dg_answered |= (uint64_t)1 << age;
	udp_rr_order(c, *kp);
	return 1;
}

static void
udp_rr_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct loader *w = c->w;
	uint64_t k = 0, now = clock_ns();

	if (udp_rr_take(c, p, n, &k) != 1)
		return;
	if (c->k_sent - 1 - k != 0 || c->t_send == 0) {
		/* declared lost already (or older than the window can tell) */
		stat_add(&w->stats.dgram.late, 1);
		return;
	}
	conn_reply(c, now - c->t_send, n);
	c->t_send = 0;
	udp_rr_next(c);
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
	udp_rr_next(c);
}

/*
 * --rate: each socket's ring of its last `window` datagrams: when each
 * left, with PACED_ANSWERED set once it is answered.  The window is
 * udp_rr_window()'s, sized for the datagrams in flight until their
 * deadline.
 */
#define PACED_ANSWERED ((uint64_t)1 << 63)

struct paced_rings {
	uint64_t window;
	uint64_t *t; /* window per socket, by conn id */
};

/*
 * The window for --rate: a power of two, at least UDP_RR_WINDOW and twice
 * the datagrams a socket has in flight until their deadline (the other
 * half for a late timer); 0 if that is more than UDP_RR_PACED_WINDOW_MAX
 * or all the rings would take more than UDP_RR_PACED_BYTES_MAX.
 */
uint64_t
udp_rr_window(const struct options *o)
{
	double ms = o->request_timeout_ms > 0 ? (double)o->request_timeout_ms
					      : (double)UDP_RR_DEFAULT_TIMEOUT_MS;
	double in_flight = o->rate / (double)o->connections * ms / 1000.0;
	uint64_t w = UDP_RR_WINDOW;

	while ((double)w < 2 * in_flight && w <= UDP_RR_PACED_WINDOW_MAX)
		w *= 2;
	if (w > UDP_RR_PACED_WINDOW_MAX ||
	    (double)w * sizeof(uint64_t) * o->connections > UDP_RR_PACED_BYTES_MAX)
		return 0;
	return w;
}

static int
udp_rr_init(struct run *r, char *err, size_t errlen)
{
	struct paced_rings *pr;

	if (r->opt.rate == 0)
		return 0;
	if ((pr = calloc(1, sizeof *pr)) == NULL || (pr->window = udp_rr_window(&r->opt)) == 0 ||
	    (pr->t = calloc((size_t)r->opt.connections * pr->window, sizeof(uint64_t))) == NULL) {
		snprintf(
		    err, errlen, "no memory for the send times of %u sockets", r->opt.connections);
		free(pr);
		return -1;
	}
	r->mode_state = pr;
	return 0;
}

static void
udp_rr_free(struct run *r)
{
	struct paced_rings *pr = r->mode_state;

	if (pr != NULL)
		free(pr->t);
	free(pr);
	r->mode_state = NULL;
}

static uint64_t
paced_window(const struct conn *c)
{
	return ((const struct paced_rings *)c->w->run->mode_state)->window;
}

/* Datagram k's entry in the ring: its send time, and PACED_ANSWERED. */
static uint64_t *
paced_slot(const struct conn *c, uint64_t k)
{
	const struct paced_rings *pr = c->w->run->mode_state;

	return &pr->t[(size_t)c->id * pr->window + k % pr->window];
}

/*
 * Move seq past the datagrams answered, and past those lost: unanswered at
 * their deadline, or numbered below `below` (about to leave the ring).
 */
static void
paced_resolve(struct conn *c, uint64_t now, uint64_t below)
{
	uint64_t timeout = udp_timeout_ns(c->w->run);

	while (c->seq < c->k_sent) {
		uint64_t t = *paced_slot(c, c->seq);

		if (!(t & PACED_ANSWERED)) {
			if (c->seq >= below && now < t + timeout)
				break;
			stat_add(&c->w->stats.dgram.lost, 1);
		}
		c->seq++;
	}
}

/*
 * Send every datagram that is due, declare lost those past their deadline,
 * and set the timer for whichever comes first: the next one due or the
 * oldest one's deadline.
 */
static void
paced_send(struct conn *c)
{
	struct loader *w = c->w;
	uint64_t now = clock_ns(), due = rr_count_due(c, now), window = paced_window(c), next;

	while (c->k_sent < due) {
		uint64_t k = c->k_sent;

		if (k + 1 > window)
			paced_resolve(c, now, k + 1 - window);
		hist_record(&w->stats.lag, now - rr_due_at(c, k));
		stat_add(&w->stats.sent, 1);
		*paced_slot(c, k) = now;
		if (udp_rr_send_next(c) == -1)
			return;
		now = clock_ns();
	}
	paced_resolve(c, now, 0);
	next = rr_due_at(c, c->k_sent);
	if (c->seq < c->k_sent) {
		uint64_t deadline = *paced_slot(c, c->seq) + udp_timeout_ns(w->run);

		if (deadline < next)
			next = deadline;
	}
	conn_timer_at(c, next);
}

/*
 * Open: the socket's schedule starts now; times that passed before -r
 * opened it are not owed.
 */
static void
paced_open(struct conn *c)
{
	uint64_t k = sched_due(&c->w->requests, c->id, clock_ns() - c->w->run->t_load);

	c->seq = c->k_sent = c->k_due = k;
	c->dg_high = k;
	paced_send(c);
}

/*
 * An answer: a second one to k is a duplicate (while k is in the ring; an
 * answer older than that is late, whatever it is), one to a datagram lost
 * already is late; else it completes k, latency from k's scheduled time.
 */
static void
paced_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct stats *s = &c->w->stats;
	uint64_t k = 0, now = clock_ns(), *slot;

	if (udp_rr_check(c, p, n, &k) == -1)
		return;
	if (c->k_sent - k > paced_window(c)) {
		udp_rr_order(c, k);
		stat_add(&s->dgram.late, 1);
		return;
	}
	slot = paced_slot(c, k);
	if (*slot & PACED_ANSWERED) {
		stat_add(&s->dgram.duplicate, 1);
		return;
	}
	*slot |= PACED_ANSWERED;
	udp_rr_order(c, k);
	if (k < c->seq) {
		stat_add(&s->dgram.late, 1);
		return;
	}
	conn_reply(c, now - rr_due_at(c, k), n);
	paced_resolve(c, now, 0);
	if (c->finishing && c->seq == c->k_sent)
		conn_close(c);
}

/*
 * After the run: declare lost those past their deadline; close once none
 * is in flight, else wake up at the oldest one's deadline.  1 while some
 * are in flight.
 */
static int
paced_drain(struct conn *c)
{
	paced_resolve(c, clock_ns(), 0);
	if (c->seq == c->k_sent)
		return 0;
	conn_timer_at(c, *paced_slot(c, c->seq) + udp_timeout_ns(c->w->run));
	return 1;
}

/* The timer may fire a little early: then nothing is due yet, and it is set again. */
static void
paced_timer(struct conn *c)
{
	if (!c->finishing)
		paced_send(c);
	else if (paced_drain(c) == 0)
		conn_close(c);
}

/* The run is over: the datagrams due until now were due; wait for those in flight. */
static int
paced_finish(struct conn *c)
{
	rr_count_due(c, clock_ns());
	return paced_drain(c);
}

/*
 * The datagrams due until the socket closed were due, sent or not (one
 * that waited for its last answers counted them when the run ended).
 */
static void
paced_closed(struct conn *c, int was_open)
{
	if (was_open && !c->finishing)
		rr_count_due(c, clock_ns());
}

const struct mode mode_udp_rr_paced = {
	.name = "udp-rr",
	.dgram = 1,
	.open = paced_open,
	.read = paced_read,
	.timer = paced_timer,
	.finish = paced_finish,
	.closed = paced_closed,
};

const struct mode mode_udp_rr = {
	.name = "udp-rr",
	.dgram = 1,
	.init = udp_rr_init,
	.free = udp_rr_free,
	.open = udp_rr_open,
	.read = udp_rr_read,
	.timer = udp_rr_timer,
	.finish = udp_rr_finish,
};

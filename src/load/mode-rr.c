/* SPDX-License-Identifier: ISC */
/*
 * mode-rr.c: request/response.  rr keeps each connection and sends the
 * next request as soon as the echo of the last one is complete and
 * verified (netperf's TCP_RR, sockperf's ping-pong); crr opens a
 * connection per request and closes it after the echo (TCP_CRR), which
 * measures the server's and the kernel's handshake rate.
 *
 * A request is --size bytes of the run's payload, starting at an offset
 * that differs from request to request and from connection to connection;
 * the echo must be those bytes exactly, in order, and no more.
 *
 * rr with --rate is open loop (wrk2's -R): the connection's requests go at
 * the times of its slot in the run's schedule (schedule.h), whether or not
 * the earlier ones were answered, so several may be in flight; the echo
 * keeps their order, so the bytes that come back complete them one after
 * the other.  A request's number k on the connection gives its payload
 * offset and its scheduled time, so nothing is kept per request.  Its
 * latency counts from its scheduled time, not from when it could be sent:
 * a server that stalls makes every request due during the stall late
 * (closed loop would just send fewer, and measure only the few in flight:
 * coordinated omission).  The conn's timer wakes it for its next due
 * request; if the socket does not take a request, the later due ones wait
 * until it drains, and their latency still counts from their schedule.
 * How late each request left (stats.lag), and how many were due and sent,
 * tell whether the client itself kept the schedule.
 */
#include "config.h"

#include "load.h"

/* Request k of connection id starts at this payload offset. */
static inline uint64_t
rr_offset(unsigned id, uint64_t k)
{
	return ((uint64_t)id * 7919u + k * 104729u) % PAYLOAD_PERIOD;
}

/* Send the next request on c: its payload offset, its clock. */
void
rr_request(struct conn *c)
{
	struct run *r = c->w->run;

	c->off = rr_offset(c->id, c->seq);
	c->got = 0;
	c->t_send = clock_ns();
	conn_send(c, payload_at(r, c->off), r->opt.size);
}

/*
 * Check echoed bytes against the request in flight.  1: the echo is
 * complete (counted, with its latency); 0: more to come; -1: it differs
 * and the conn is closed.
 */
int
rr_check(struct conn *c, const unsigned char *p, size_t n)
{
	struct run *r = c->w->run;
	size_t size = r->opt.size;
	const unsigned char *want;
	size_t i;

	if (c->got + n > size) {
		conn_verify_failed(c, "request %llu: %zu bytes came back for %zu sent",
		    (unsigned long long)c->seq + 1, c->got + n, size);
		return -1;
	}
	want = payload_at(r, c->off + c->got);
	if ((i = payload_mismatch(p, want, n)) < n) {
		conn_verify_failed(c, "request %llu: byte %zu of %zu is 0x%02x, expected 0x%02x",
		    (unsigned long long)c->seq + 1, c->got + i, size, p[i], want[i]);
		return -1;
	}
	c->got += n;
	if (c->got < size)
		return 0;
	conn_reply(c, clock_ns() - c->t_send, size);
	c->seq++;
	return 1;
}

static void
rr_read(struct conn *c, const unsigned char *p, size_t n)
{
	if (rr_check(c, p, n) == 1)
		rr_request(c);
}

static void
crr_read(struct conn *c, const unsigned char *p, size_t n)
{
	if (rr_check(c, p, n) == 1)
		conn_close(c); /* and the loader opens the next one */
}

/* When request k of c is due, on clock_ns()'s clock (--rate: udp-rr's too). */
uint64_t
rr_due_at(const struct conn *c, uint64_t k)
{
	const struct loader *w = c->w;

	return w->run->t_load + sched_time(&w->requests, c->id, k);
}

/* Count the requests of c that came due by now (once each). */
uint64_t
rr_count_due(struct conn *c, uint64_t now)
{
	struct loader *w = c->w;
	uint64_t due = sched_due(&w->requests, c->id, now - w->run->t_load);

	if (due > c->k_due) {
		stat_add(&w->stats.due, due - c->k_due);
		c->k_due = due;
	}
	return due;
}

/*
 * Send every request that is due, then set the timer for the next one;
 * when the socket takes no more, the rest waits for paced_drained().
 */
static void
paced_send(struct conn *c)
{
	struct loader *w = c->w;
	struct run *r = w->run;
	uint64_t now = clock_ns(), due = rr_count_due(c, now), first = c->k_sent;

	while (c->k_sent < due) {
		uint64_t k = c->k_sent++, at = rr_due_at(c, k);

		if (k != first)
			now = clock_ns(); /* after the send before it */
		hist_record(&w->stats.lag, now - at);
		stat_add(&w->stats.sent, 1);
		if (c->seq == k)
			c->t_send = at; /* the oldest in flight */
		if (conn_send(c, payload_at(r, rr_offset(c->id, k)), r->opt.size) != 0)
			return; /* closed, or wait for the socket to drain */
	}
	conn_timer_at(c, rr_due_at(c, c->k_sent));
}

/*
 * Established: the conn's schedule starts now.  Times that passed while it
 * was connecting (or before -r opened it) are not owed.
 */
static void
paced_open(struct conn *c)
{
	uint64_t k = sched_due(&c->w->requests, c->id, clock_ns() - c->w->run->t_load);

	c->seq = c->k_sent = c->k_due = k;
	c->off = rr_offset(c->id, k);
	c->got = 0;
	c->t_send = 0;
	paced_send(c);
}

/* The timer may fire a little early: then paced_send() sends nothing, re-arms. */
static void
paced_timer(struct conn *c)
{
	if (c->wlen == 0)
		paced_send(c);
}

/* The echo completes the requests in flight in order. */
static void
paced_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct run *r = c->w->run;
	size_t size = r->opt.size, take, i;
	uint64_t now = clock_ns();
	const unsigned char *want;

	while (n > 0) {
		if (c->seq == c->k_sent) {
			conn_verify_failed(c, "%zu bytes came back with no request in flight", n);
			return;
		}
		take = size - c->got < n ? size - c->got : n;
		want = payload_at(r, c->off + c->got);
		if ((i = payload_mismatch(p, want, take)) < take) {
			conn_verify_failed(c,
			    "request %llu: byte %zu of %zu is 0x%02x, expected 0x%02x",
			    (unsigned long long)c->seq + 1, c->got + i, size, p[i], want[i]);
			return;
		}
		c->got += take;
		p += take;
		n -= take;
		if (c->got < size)
			return;
		conn_reply(c, now - c->t_send, size);
		c->seq++;
		c->off = rr_offset(c->id, c->seq);
		c->got = 0;
		c->t_send = c->seq < c->k_sent ? rr_due_at(c, c->seq) : 0;
	}
}

/* The socket took the rest: what fell due meanwhile goes now. */
static void
paced_drained(struct conn *c)
{
	paced_send(c);
}

/* The requests due until the conn closed were due, sent or not. */
static void
paced_closed(struct conn *c, int was_open)
{
	if (was_open)
		rr_count_due(c, clock_ns());
}

const struct mode mode_rr = {
	.name = "rr",
	.open = rr_request,
	.read = rr_read,
	.timed = 1,
};

const struct mode mode_rr_paced = {
	.name = "rr",
	.open = paced_open,
	.read = paced_read,
	.drained = paced_drained,
	.closed = paced_closed,
	.timer = paced_timer,
	.timed = 1,
};

const struct mode mode_crr = {
	.name = "crr",
	.reconnect = 1,
	.open = rr_request,
	.read = crr_read,
	.timed = 1,
};

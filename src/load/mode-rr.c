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
 */
#include "config.h"

#include "load.h"

/* Send the next request on c: its payload offset, its clock. */
void
rr_request(struct conn *c)
{
	struct run *r = c->w->run;

	c->off = ((uint64_t)c->id * 7919u + c->seq * 104729u) % PAYLOAD_PERIOD;
	c->got = 0;
	c->t_send = now_ns();
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
	conn_reply(c, now_ns() - c->t_send, size);
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
		conn_close(c); /* and the worker opens the next one */
}

const struct mode mode_rr = {
	.name = "rr",
	.open = rr_request,
	.read = rr_read,
};

const struct mode mode_crr = {
	.name = "crr",
	.reconnect = 1,
	.open = rr_request,
	.read = crr_read,
};

/*
 * mode-stream.c: send continuously and read everything back (tcpkali's
 * way): throughput through the server, every byte verified.
 *
 * The stream is the run's payload read from position 0 on; byte k of what
 * comes back must be byte k of what went out.  A write offers as many
 * whole messages of --size bytes as fit in 64 KiB (at least one), so the
 * default size does not turn a throughput test into a syscall test; a
 * "request" is one message echoed back.  Writing stops when the kernel
 * takes no more and resumes when it does; the reads keep the echo server's
 * output moving, so the two directions cannot block each other.
 *
 * Latency here is the time a byte spends in the pipe, queueing included:
 * the send time of up to 16 writes is remembered, and each is counted when
 * the last byte of that write has come back.
 */
#include "config.h"

#include "load.h"

#define MARKS (sizeof((struct conn *)0)->marks / sizeof((struct conn *)0)->marks[0])

static void
stream_write(struct conn *c)
{
	struct run *r = c->w->run;
	size_t size = r->opt.size;
	size_t n = size >= LOAD_WRITE_MAX ? size : LOAD_WRITE_MAX / size * size;
	int rc;

	do {
		if (c->mark_head - c->mark_tail < MARKS) {
			c->marks[c->mark_head % MARKS].pos = c->sent_pos + n;
			c->marks[c->mark_head % MARKS].t = now_ns();
			c->mark_head++;
		}
		rc = conn_send(c, payload_at(r, c->sent_pos), n);
		if (rc == -1)
			return;
		c->sent_pos += n;
	} while (rc == 0);
}

static void
stream_open(struct conn *c)
{
	c->sent_pos = c->recv_pos = 0;
	c->mark_head = c->mark_tail = 0;
	stream_write(c);
}

static void
stream_read(struct conn *c, const unsigned char *p, size_t n)
{
	struct worker *w = c->w;
	size_t size = w->run->opt.size, i;
	const unsigned char *want = payload_at(w->run, c->recv_pos);
	uint64_t before = c->recv_pos / size, t;

	if (c->recv_pos + n > c->sent_pos) {
		conn_verify_failed(c, "%llu bytes came back, %llu were sent",
		    (unsigned long long)c->recv_pos + n, (unsigned long long)c->sent_pos);
		return;
	}
	if ((i = payload_mismatch(p, want, n)) < n) {
		conn_verify_failed(c, "byte %llu of the stream is 0x%02x, expected 0x%02x",
		    (unsigned long long)c->recv_pos + i, p[i], want[i]);
		return;
	}
	c->recv_pos += n;
	stat_add(&w->stats.bytes_received, n);
	stat_add(&w->stats.requests, c->recv_pos / size - before);
	if (c->mark_tail != c->mark_head && c->marks[c->mark_tail % MARKS].pos <= c->recv_pos) {
		t = now_ns();
		while (c->mark_tail != c->mark_head &&
		    c->marks[c->mark_tail % MARKS].pos <= c->recv_pos) {
			stats_record_latency(&w->stats, t - c->marks[c->mark_tail % MARKS].t);
			c->mark_tail++;
		}
	}
}

const struct mode mode_stream = {
	.name = "stream",
	.open = stream_open,
	.read = stream_read,
	.drained = stream_write,
};

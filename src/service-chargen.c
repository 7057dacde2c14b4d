/* SPDX-License-Identifier: ISC */
/*
 * service-chargen.c: RFC 864, the rotating 72-character lines of the 95
 * printable ASCII characters, as fast as the client reads them.
 *
 * The pattern repeats every 95 lines (7,030 bytes), so one block of it
 * is built once, a cycle and CHARGEN_SLICE bytes long, so that a slice of
 * CHARGEN_SLICE bytes starting anywhere in the first cycle lies within it.  The
 * output holds references to slices of the block: no per-client copy, and
 * one small reference (one allocation) per 64 KiB queued.  The output is
 * kept between output_limit/2 and output_limit.
 */
#include "config.h"

#include <stdlib.h>

#include "conf.h"
#include "service.h"
#include "stats.h"
#include "synackd.h"

#define CHARGEN_RING 95
#define CHARGEN_WIDTH 72
#define CHARGEN_LINE (CHARGEN_WIDTH + 2)
#define CHARGEN_CYCLE (CHARGEN_RING * CHARGEN_LINE)
#define CHARGEN_SLICE 65536 /* the most one reference holds */

static char chargen_block[CHARGEN_CYCLE + CHARGEN_SLICE]; /* written once, then read only */

/* Copy len bytes of the endless stream, starting at offset, into buf. */
size_t
chargen_pattern(size_t offset, char *buf, size_t len)
{
	for (size_t i = 0; i < len; i++) {
		size_t pos = (offset + i) % CHARGEN_CYCLE;
		size_t line = pos / CHARGEN_LINE, col = pos % CHARGEN_LINE;

		if (col < CHARGEN_WIDTH)
			buf[i] = (char)(' ' + (line + col) % CHARGEN_RING);
		else
			buf[i] = col == CHARGEN_WIDTH ? '\r' : '\n';
	}
	return len;
}

struct chargen {
	size_t offset; /* into the cycle */
};

static void
chargen_fill(struct client *c)
{
	struct chargen *cg = c->state_data;
	size_t limit = (size_t)c->acceptor->conf->output_limit;
	size_t pending = client_pending(c);

	while (pending < limit) {
		size_t n = CHARGEN_SLICE;

		if (n > limit - pending)
			n = limit - pending;
		client_write_ref(c, chargen_block + cg->offset, n);
		cg->offset = (cg->offset + n) % CHARGEN_CYCLE;
		pending += n;
	}
}

static void
chargen_block_init(void)
{
	chargen_pattern(0, chargen_block, sizeof chargen_block);
}

/* The block is made once, by whichever worker starts a chargen first. */
static int
chargen_acceptor_init(struct acceptor *a)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	return pthread_once(&once, chargen_block_init) == 0 ? 0 : -1;
}

static void
chargen_open(struct client *c)
{
	struct chargen *cg = calloc(1, sizeof *cg);

	if (cg == NULL) {
		client_close(c, CLOSE_NO_MEMORY);
		return;
	}
	c->state_data = cg;
	client_set_lowat(c, (size_t)c->acceptor->conf->output_limit / 2);
	chargen_fill(c);
}

static void
chargen_close(struct client *c)
{
	free(c->state_data);
	c->state_data = NULL;
}

/*
 * RFC 864 over UDP: "a random number (between 0 and 512) of characters".
 * Spread over 0..512 by a multiplicative hash of the socket's count, so
 * that the function stays pure (and testable) and no random source is
 * read per datagram.
 */
size_t
chargen_datagram_len(uint32_t seq)
{
	return (size_t)((seq * 2654435761u) >> 16) % (CHARGEN_DATAGRAM_MAX + 1);
}

/* Each answer starts on the next line of the pattern, as the stream's lines rotate. */
static ssize_t
chargen_datagram(
    const char *in, size_t inlen, char *out, size_t outmax, const struct datagram_ctx *ctx)
{
	size_t n = chargen_datagram_len(ctx->seq);

	(void)in;
	(void)inlen;
	if (n > outmax)
		n = outmax;
	return (ssize_t)chargen_pattern((size_t)(ctx->seq % CHARGEN_RING) * CHARGEN_LINE, out, n);
}

const struct service service_chargen = {
	.name = "chargen",
	.speaks_first = 1,
	.datagram = chargen_datagram,
	.acceptor_init = chargen_acceptor_init,
	.open = chargen_open,
	.drained = chargen_fill,
	.close = chargen_close,
};

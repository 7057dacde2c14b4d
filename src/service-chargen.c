/*
 * service-chargen.c: RFC 864, the rotating 72-character lines of the 95
 * printable ASCII characters, as fast as the client reads them.
 *
 * The pattern repeats every 95 lines, so one copy of the cycle is built
 * once and handed to the output by reference: no per-client copy.  The
 * output is kept between output_limit/2 and output_limit.
 */
#include "config.h"

#include <stdlib.h>

#include <event2/buffer.h>

#include "synackd.h"

#define CHARGEN_RING 95
#define CHARGEN_WIDTH 72
#define CHARGEN_LINE (CHARGEN_WIDTH + 2)
#define CHARGEN_CYCLE (CHARGEN_RING * CHARGEN_LINE)

static char chargen_cycle[CHARGEN_CYCLE];

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
		size_t n = CHARGEN_CYCLE - cg->offset;

		if (n > limit - pending)
			n = limit - pending;
		client_write_ref(c, chargen_cycle + cg->offset, n);
		cg->offset = (cg->offset + n) % CHARGEN_CYCLE;
		pending += n;
	}
}

static void
chargen_cycle_init(void)
{
	chargen_pattern(0, chargen_cycle, CHARGEN_CYCLE);
}

/* The pattern is made once, by whichever worker starts a chargen first. */
static int
chargen_acceptor_init(struct acceptor *a)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	return pthread_once(&once, chargen_cycle_init) == 0 ? 0 : -1;
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

const struct service service_chargen = {
	.name = "chargen",
	.speaks_first = 1,
	.acceptor_init = chargen_acceptor_init,
	.open = chargen_open,
	.read = service_drop_input,
	.drained = chargen_fill,
	.close = chargen_close,
};

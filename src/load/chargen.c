/* SPDX-License-Identifier: ISC */
/*
 * chargen.c: the bytes a character generator sends (RFC 864), which
 * stream --direction receive checks.
 *
 * Line k of the stream is 72 printable ASCII characters starting with
 * character k of the 95 (0x20 to 0x7e, rotating), then CR LF; the whole
 * repeats every 95 lines.  One copy of the cycle, followed by as much of
 * it again as one read can hold, makes any read at any offset one
 * contiguous slice: checking it is a memcmp() and nothing is generated
 * per read, as for the payload.  Servers differ in the line they start
 * with (BSD inetd and synackd begin with the space, the RFC's example
 * with "!"), so the first byte received sets the phase; from there on
 * every byte is held to the pattern.
 */
#include "config.h"

#include <stdlib.h>

#include "load.h"

#define CHARGEN_FIRST 0x20 /* the space */
#define CHARGEN_CHARS 95   /* the printable characters, 0x20 .. 0x7e */
#define CHARGEN_WIDTH 72
#define CHARGEN_LINE (CHARGEN_WIDTH + 2)

/* The cycle and LOAD_READ_MAX bytes more; NULL when out of memory. */
unsigned char *
chargen_new(void)
{
	unsigned char *p = malloc(CHARGEN_CYCLE + LOAD_READ_MAX);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < CHARGEN_CYCLE + LOAD_READ_MAX; i++) {
		size_t pos = i % CHARGEN_CYCLE, line = pos / CHARGEN_LINE, col = pos % CHARGEN_LINE;

		if (col < CHARGEN_WIDTH)
			p[i] = (unsigned char)(CHARGEN_FIRST + (line + col) % CHARGEN_CHARS);
		else
			p[i] = col == CHARGEN_WIDTH ? '\r' : '\n';
	}
	return p;
}

/*
 * The offset in the cycle of a stream whose first byte is `first`: the
 * start of the line that begins with it; -1 if no line does.
 */
long
chargen_phase(unsigned char first)
{
	if (first < CHARGEN_FIRST || first >= CHARGEN_FIRST + CHARGEN_CHARS)
		return -1;
	return (long)(first - CHARGEN_FIRST) * CHARGEN_LINE;
}

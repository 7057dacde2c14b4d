/* SPDX-License-Identifier: ISC */
/*
 * mode-hold.c: open the connections, keep them idle for the duration,
 * then prove each one still works with one echo.
 *
 * This is how a server's (or a firewall's, or a balancer's) concurrent
 * connection limit and idle handling are tested: a connection the server
 * dropped while idle shows up as "closed" or "reset", one it no longer
 * serves as "noreply" (the last echo has --connect-timeout to come back),
 * and one that answers with the wrong bytes as "verify".  A byte that
 * arrives while nobody asked is a verify error too.
 *
 * With --fastopen the connection is not made until something is sent
 * (connect() returns at once, the SYN leaves with the first send()), so
 * hold sends one echo as it opens: it goes in the SYN, and holding then
 * starts once it is back.
 */
#include "config.h"

#include "load.h"

static void
hold_open(struct conn *c)
{
	if (c->w->run->opt.fastopen)
		rr_request(c);
}

static void
hold_read(struct conn *c, const unsigned char *p, size_t n)
{
	if (c->t_send == 0) {
		conn_verify_failed(c, "%zu bytes arrived on an idle connection", n);
		return;
	}
	if (rr_check(c, p, n) != 1)
		return;
	c->t_send = 0; /* idle again */
	if (c->finishing)
		conn_close(c);
}

/* The last echo; or, if the opening one is still out, that one ends it. */
static int
hold_finish(struct conn *c)
{
	if (c->t_send == 0)
		rr_request(c);
	return c->state == CONN_OPEN;
}

const struct mode mode_hold = {
	.name = "hold",
	.open = hold_open,
	.read = hold_read,
	.finish = hold_finish,
};

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
 */
#include "config.h"

#include "load.h"

static void
hold_open(struct conn *c)
{
}

static void
hold_read(struct conn *c, const unsigned char *p, size_t n)
{
	if (!c->finishing) {
		conn_verify_failed(c, "%zu bytes arrived on an idle connection", n);
		return;
	}
	if (rr_check(c, p, n) == 1)
		conn_close(c);
}

static int
hold_finish(struct conn *c)
{
	rr_request(c);
	return c->state == CONN_OPEN;
}

const struct mode mode_hold = {
	.name = "hold",
	.open = hold_open,
	.read = hold_read,
	.finish = hold_finish,
};

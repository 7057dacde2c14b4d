/* SPDX-License-Identifier: ISC */
/*
 * service-echo.c: RFC 862, every byte back in order.  The reply goes
 * straight to the socket when nothing is pending (client_send);
 * backpressure is the client's job (client.c stops reading when the
 * output passes output_limit), so echo only moves bytes.
 */
#include "config.h"

#include "service.h"
#include "synackd.h"

static void
echo_read(struct client *c, const char *data, size_t len)
{
	client_send(c, data, len);
}

const struct service service_echo = {
	.name = "echo",
	.read = echo_read,
};

/*
 * service-echo.c: RFC 862, every byte back in order.  Backpressure is the
 * client's job (client.c stops reading when the output passes
 * output_limit), so echo only moves bytes: no copy, the chains move.
 */
#include "config.h"

#include "synackd.h"

static void
echo_read(struct client *c)
{
	client_write_buffer(c, client_input(c));
}

const struct service service_echo = {
	.name = "echo",
	.read = echo_read,
};

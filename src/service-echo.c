/* SPDX-License-Identifier: ISC */
/*
 * service-echo.c: RFC 862, every byte back in order.  The reply goes
 * straight to the socket when nothing is pending (client_send);
 * backpressure is the client's job (client.c stops reading when the
 * output passes output_limit), so echo only moves bytes.
 */
#include "config.h"

#include <string.h>

#include "service.h"
#include "synackd.h"

static void
echo_read(struct client *c, const char *data, size_t len)
{
	client_send(c, data, len);
}

/* A datagram back as it came; never larger than the request. */
static ssize_t
echo_datagram(
    const char *in, size_t inlen, char *out, size_t outmax, const struct datagram_ctx *ctx)
{
	(void)ctx;
	if (inlen > outmax)
		inlen = outmax;
	memcpy(out, in, inlen);
	return (ssize_t)inlen;
}

const struct service service_echo = {
	.name = "echo",
	.read = echo_read,
	.datagram = echo_datagram,
};

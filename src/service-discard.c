/* SPDX-License-Identifier: ISC */
/* service-discard.c: RFC 863, read and drop (no read callback: the client drops it). */
#include "config.h"

#include "service.h"

/* Nothing back: the datagram is counted and dropped. */
static ssize_t
discard_datagram(
    const char *in, size_t inlen, char *out, size_t outmax, const struct datagram_ctx *ctx)
{
	(void)in;
	(void)inlen;
	(void)out;
	(void)outmax;
	(void)ctx;
	return -1;
}

const struct service service_discard = {
	.name = "discard",
	.datagram = discard_datagram,
};

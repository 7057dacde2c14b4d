/* SPDX-License-Identifier: ISC */
/* service-discard.c: RFC 863, read and drop (no read callback: the client drops it). */
#include "config.h"

#include "service.h"

/* Nothing back: the datagram is counted and dropped. */
/* struct service's signature: out is the other services' to write */
/* NOLINTBEGIN(readability-non-const-parameter) */
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
/* NOLINTEND(readability-non-const-parameter) */

const struct service service_discard = {
	.name = "discard",
	.datagram = discard_datagram,
};

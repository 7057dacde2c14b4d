/* SPDX-License-Identifier: ISC */
/*
 * service-daytime.c: RFC 867, one line with the date and time, then close.
 * The close waits until the line is sent (client_close drains).
 */
#include "config.h"

#include <time.h>

#include "service.h"
#include "stats.h"
#include "synackd.h"

/* "Wednesday, November 25, 2026 15:47:22-UTC\r\n", in local time. */
size_t
daytime_format(time_t t, char *buf, size_t size)
{
	struct tm tm;
	size_t n;

	if (size < 3 || localtime_r(&t, &tm) == NULL)
		return 0;
	n = strftime(buf, size - 2, "%A, %B %d, %Y %H:%M:%S-%Z", &tm);
	if (n == 0)
		return 0;
	buf[n++] = '\r';
	buf[n++] = '\n';
	buf[n] = '\0';
	return n;
}

static void
daytime_open(struct client *c)
{
	char line[128];
	size_t n = daytime_format(time(NULL), line, sizeof line);

	client_write(c, line, n);
	client_close(c, CLOSE_DONE);
}

/* RFC 867 over UDP: whatever the datagram holds, one line back. */
static ssize_t
daytime_datagram(
    const char *in, size_t inlen, char *out, size_t outmax, const struct datagram_ctx *ctx)
{
	size_t n;

	(void)in;
	(void)inlen;
	/* daytime_format() ends the line with a NUL it does not count */
	if ((n = daytime_format(ctx->now, out, outmax)) == 0)
		return -1;
	return (ssize_t)n;
}

const struct service service_daytime = {
	.name = "daytime",
	.speaks_first = 1,
	.open = daytime_open,
	.datagram = daytime_datagram,
};

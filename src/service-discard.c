/* service-discard.c: RFC 863, read and drop. */
#include "config.h"

#include <event2/buffer.h>

#include "synackd.h"

static void
discard_read(struct client *c)
{
	struct evbuffer *in = client_input(c);

	evbuffer_drain(in, evbuffer_get_length(in));
}

const struct service service_discard = {
	.name = "discard",
	.read = discard_read,
};

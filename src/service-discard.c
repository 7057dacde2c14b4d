/* service-discard.c: RFC 863, read and drop. */
#include "config.h"

#include "synackd.h"

const struct service service_discard = {
	.name = "discard",
	.read = service_drop_input,
};

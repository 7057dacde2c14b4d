/* SPDX-License-Identifier: ISC */
/* service-discard.c: RFC 863, read and drop (no read callback: the client drops it). */
#include "config.h"

#include "service.h"

const struct service service_discard = {
	.name = "discard",
};

/* SPDX-License-Identifier: ISC */
/*
 * mode.c: the table of modes, found by the name given to --mode.
 */
#include "config.h"

#include <string.h>

#include "load.h"

static const struct mode *const modes[] = {
	&mode_rr,
	&mode_crr,
	&mode_hold,
	&mode_stream,
	&mode_chat,
	&mode_udp_rr,
	&mode_udp_stream,
};

const struct mode *
mode_find(const char *name)
{
	for (size_t i = 0; i < sizeof modes / sizeof modes[0]; i++)
		if (strcmp(modes[i]->name, name) == 0)
			return modes[i];
	return NULL;
}

const char *
mode_names(void)
{
	return "rr, crr, hold, stream, chat, udp-rr, udp-stream";
}

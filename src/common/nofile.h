/* SPDX-License-Identifier: ISC */
/*
 * nofile.h: the open-file limit (RLIMIT_NOFILE) made to fit what a
 * program needs.  Each program words its own messages from the result.
 */
#ifndef SYNACK_NOFILE_H
#define SYNACK_NOFILE_H

#include <stddef.h>
#include <sys/resource.h>

enum nofile_result {
	NOFILE_ENOUGH, /* the soft limit was enough already */
	NOFILE_RAISED, /* raised to the need */
	NOFILE_SHORT   /* even the hard limit is below the need: as far as it goes */
};

struct nofile {
	rlim_t soft, hard; /* as found */
	rlim_t fit;        /* the soft limit after: set, or that would be set */
};

enum nofile_result nofile_plan(rlim_t soft, rlim_t hard, rlim_t need, rlim_t *fit);
int nofile_raise(rlim_t need, int apply, struct nofile *, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * nofile.c: raise the soft RLIMIT_NOFILE towards the hard one when it is
 * below what is needed; never lower it.  The decision (nofile_plan) is
 * apart from the system calls, to be tested without changing a limit.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nofile.h"

/* The soft limit that fits `need` under `hard`, and whether it does. */
enum nofile_result
nofile_plan(rlim_t soft, rlim_t hard, rlim_t need, rlim_t *fit)
{
	*fit = soft;
	if (soft == RLIM_INFINITY || soft >= need)
		return NOFILE_ENOUGH;
	if (hard == RLIM_INFINITY || need <= hard)
		*fit = need;
	else if (hard > soft)
		*fit = hard;
	return *fit >= need ? NOFILE_RAISED : NOFILE_SHORT;
}

/*
 * Make room for `need` descriptors.  With apply 0 nothing changes, and
 * nf says what a start would find.  -1 when the limit cannot be read or
 * set, err naming the call.
 */
int
nofile_raise(rlim_t need, int apply, struct nofile *nf, char *err, size_t errlen)
{
	struct rlimit rl;
	enum nofile_result r;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1) {
		snprintf(err, errlen, "getrlimit RLIMIT_NOFILE: %s", strerror(errno));
		return -1;
	}
	nf->soft = rl.rlim_cur;
	nf->hard = rl.rlim_max;
	r = nofile_plan(rl.rlim_cur, rl.rlim_max, need, &nf->fit);
	if (apply && nf->fit != rl.rlim_cur) {
		rl.rlim_cur = nf->fit;
		if (setrlimit(RLIMIT_NOFILE, &rl) == -1) {
			snprintf(err, errlen, "setrlimit RLIMIT_NOFILE %llu: %s",
			    (unsigned long long)rl.rlim_cur, strerror(errno));
			return -1;
		}
	}
	return (int)r;
}

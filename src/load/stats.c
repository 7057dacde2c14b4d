/*
 * stats.c: the counters of one worker, how a failure is classified, and
 * how the workers' counters add up.
 *
 * The classification is the kernel's: whatever errno connect() (or
 * SO_ERROR after a non-blocking connect, or a later read or write) gave is
 * mapped to one cause, so that the report says why connections failed and
 * not just that they did.  What fits no cause is kept by errno.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "load.h"

static const char *const stats_error_names[LERR_MAX] = {
	[LERR_TIMEOUT] = "timeout",
	[LERR_REFUSED] = "refused",
	[LERR_UNREACHABLE] = "unreachable",
	[LERR_RESET] = "reset",
	[LERR_ADDRNOTAVAIL] = "addrnotavail",
	[LERR_OTHER] = "other",
	[LERR_VERIFY] = "verify",
	[LERR_CLOSED] = "closed",
	[LERR_NOREPLY] = "noreply",
};

void
stats_init(struct stats *s)
{
	memset(s, 0, sizeof *s);
	hist_init(&s->latency);
	hist_init(&s->connect);
}

const char *
stats_error_name(enum load_error e)
{
	return e < LERR_MAX ? stats_error_names[e] : "?";
}

enum load_error
stats_classify(int err)
{
	switch (err) {
	case ETIMEDOUT:
		return LERR_TIMEOUT;
	case ECONNREFUSED:
		return LERR_REFUSED;
	case ENETUNREACH:
	case EHOSTUNREACH:
		return LERR_UNREACHABLE;
	case ECONNRESET:
	case EPIPE:
		return LERR_RESET;
	case EADDRNOTAVAIL:
		return LERR_ADDRNOTAVAIL;
	default:
		return LERR_OTHER;
	}
}

void
stats_count_error(struct stats *s, enum load_error e, int err)
{
	stat_add(&s->errors[e], 1);
	if (e == LERR_OTHER)
		stat_add(
		    &s->other_errno[err > 0 && err < LOAD_ERRNO_MAX ? err : LOAD_ERRNO_MAX], 1);
}

const char *
stats_errno_name(int err, char *buf, size_t size)
{
	const char *name = NULL;

#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
	if (err > 0 && err < LOAD_ERRNO_MAX)
		name = strerrorname_np(err);
#endif
	if (name != NULL)
		snprintf(buf, size, "%s", name);
	else if (err > 0 && err < LOAD_ERRNO_MAX)
		snprintf(buf, size, "errno %d", err);
	else
		snprintf(buf, size, "errno out of range");
	return buf;
}

void
stats_merge(struct stats *dst, const struct stats *src)
{
	dst->attempted += src->attempted;
	dst->established += src->established;
	dst->active += src->active;
	dst->requests += src->requests;
	dst->bytes_sent += src->bytes_sent;
	dst->bytes_received += src->bytes_received;
	for (int i = 0; i < LERR_MAX; i++)
		dst->errors[i] += src->errors[i];
	for (int i = 0; i <= LOAD_ERRNO_MAX; i++)
		dst->other_errno[i] += src->other_errno[i];
	hist_merge(&dst->latency, &src->latency);
	hist_merge(&dst->connect, &src->connect);
}

/* The counters of every worker while they run; the histograms stay empty. */
void
stats_snapshot(struct stats *dst, const struct run *r)
{
	stats_init(dst);
	for (int i = 0; i < r->nworkers; i++) {
		const struct stats *s = &r->workers[i].stats;

		dst->attempted += stat_get(&s->attempted);
		dst->established += stat_get(&s->established);
		dst->active += stat_get(&s->active);
		dst->requests += stat_get(&s->requests);
		dst->bytes_sent += stat_get(&s->bytes_sent);
		dst->bytes_received += stat_get(&s->bytes_received);
		for (int e = 0; e < LERR_MAX; e++)
			dst->errors[e] += stat_get(&s->errors[e]);
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * clock.c: CLOCK_MONOTONIC in nanoseconds, and in seconds for what is
 * shown to people (the daemon's uptime).  64 bits of nanoseconds hold
 * 584 years of uptime.
 */
#include "config.h"

#include <time.h>

#include "clock.h"

uint64_t
clock_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

double
clock_seconds(void)
{
	return (double)clock_ns() / 1e9;
}

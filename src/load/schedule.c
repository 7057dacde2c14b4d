/* SPDX-License-Identifier: ISC */
/*
 * schedule.c: the times of an open-loop load, from the event's number.
 *
 * Event n is due at floor(n * 10^15 / rate) ns, rate being in events per
 * 10^6 s.  The product needs more than 64 bits (n * 10^15 passes 2^64 for
 * n above 18446), so it is done in 128 bits where the compiler has them
 * (64-bit targets); elsewhere in long double, not always exact to the
 * nanosecond, but sched_due() is then adjusted to agree with sched_time().
 */
#include "config.h"

#include <math.h>

#include "schedule.h"

#define NS_PER_MICRO_EVENT 1000000000000000ull /* 10^9 ns * 10^6 */

/* Event n of the run: due at floor(n * 10^15 / rate) ns, saturating. */
static uint64_t
sched_at(const struct schedule *s, uint64_t n)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 q = (unsigned __int128)n * NS_PER_MICRO_EVENT / s->rate;
#else
	long double q = floorl((long double)n * NS_PER_MICRO_EVENT / s->rate);
#endif

	return q >= UINT64_MAX ? UINT64_MAX : (uint64_t)q;
}

/*
 * The last event of the run due at t: floor(n * 10^15 / rate) <= t, that
 * is n * 10^15 < (t + 1) * rate, so n <= ((t + 1) * rate - 1) / 10^15.
 * Event 0 is due at 0, so there is always one.
 */
static uint64_t
sched_last(const struct schedule *s, uint64_t t)
{
#ifdef __SIZEOF_INT128__
	unsigned __int128 q = (((unsigned __int128)t + 1) * s->rate - 1) / NS_PER_MICRO_EVENT;

	return q >= UINT64_MAX ? UINT64_MAX : (uint64_t)q;
#else
	/* inexact: moved to agree with sched_at(), which is monotonic */
	long double q = floorl(((long double)t + 1) * s->rate / NS_PER_MICRO_EVENT);
	uint64_t n = q >= UINT64_MAX ? UINT64_MAX : (uint64_t)q;

	while (n > 0 && sched_at(s, n) > t)
		n--;
	while (n < UINT64_MAX && sched_at(s, n + 1) <= t)
		n++;
	return n;
#endif
}

int
sched_init(struct schedule *s, double per_second, unsigned slots)
{
	double micro = per_second * 1e6;

	if (!(per_second > 0 && per_second <= SCHED_RATE_MAX) || slots == 0)
		return -1;
	s->rate = micro < 1 ? 1 : (uint64_t)llround(micro);
	s->slots = slots;
	return 0;
}

uint64_t
sched_time(const struct schedule *s, unsigned slot, uint64_t k)
{
	if (k > (UINT64_MAX - slot) / s->slots)
		return UINT64_MAX;
	return sched_at(s, slot + k * s->slots);
}

/* The slot's events among 0 .. last: slot, slot + slots, ... */
uint64_t
sched_due(const struct schedule *s, unsigned slot, uint64_t t)
{
	uint64_t last = sched_last(s, t);

	return last < slot ? 0 : (last - slot) / s->slots + 1;
}

/* SPDX-License-Identifier: ISC */
/*
 * schedule.h: when events of an open-loop load are due.
 *
 * N events per second in all, spread evenly over `slots` slots (the
 * connections): event n of the run (n = 0, 1, 2...) is due n/N seconds
 * after the start and belongs to slot n mod slots, so slot i's k-th event
 * is event i + k*slots.  Requests of rr --rate and connections of
 * --connect-rate are both paced this way.
 *
 * A time is computed from n alone, in integers (the rate is kept to a
 * millionth of an event per second), never by adding up a period: the
 * event due after a year is as exactly on time as the first, and
 * sched_due() agrees with sched_time() to the nanosecond, so an event
 * whose time has come is always counted as due.  Nothing here allocates,
 * locks or reads a clock.
 */
#ifndef SYNACK_SCHEDULE_H
#define SYNACK_SCHEDULE_H

#include <stdint.h>

#define SCHED_RATE_MAX 1e9 /* events per second: one a nanosecond */

struct schedule {
	uint64_t rate; /* events per 10^6 seconds */
	uint64_t slots;
};

/* -1 if per_second is not above 0 and at most SCHED_RATE_MAX, or no slot */
int sched_init(struct schedule *, double per_second, unsigned slots);

/* Nanoseconds after the start at which slot's k-th event is due (saturates). */
uint64_t sched_time(const struct schedule *, unsigned slot, uint64_t k);

/*
 * How many of slot's events are due at t nanoseconds after the start:
 * those with sched_time() <= t; the next one to come is this number.
 */
uint64_t sched_due(const struct schedule *, unsigned slot, uint64_t t);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * clock.h: the one monotonic clock of both programs (CLOCK_MONOTONIC):
 * uptimes, idle and header deadlines, latencies and schedules all read
 * it, so that a step of the wall clock moves none of them.
 */
#ifndef SYNACK_CLOCK_H
#define SYNACK_CLOCK_H

#include <stdint.h>

uint64_t clock_ns(void);
double clock_seconds(void);

#endif

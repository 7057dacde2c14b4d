/* SPDX-License-Identifier: ISC */
/*
 * stat.h: counters written by one thread and read by any, with relaxed
 * atomics: no lock and no locked instruction on the hot path (on the
 * usual machines they are plain loads and stores).  *p is written by
 * __atomic_store_n(), which clang-tidy does not see.
 */
#ifndef SYNACK_STAT_H
#define SYNACK_STAT_H

#include <stdint.h>

static inline void
stat_add(uint64_t *p, uint64_t n) /* NOLINT(readability-non-const-parameter) */
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline void
stat_sub(uint64_t *p, uint64_t n) /* NOLINT(readability-non-const-parameter) */
{
	__atomic_store_n(p, __atomic_load_n(p, __ATOMIC_RELAXED) - n, __ATOMIC_RELAXED);
}

static inline uint64_t
stat_get(const uint64_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

#endif

/* SPDX-License-Identifier: ISC */
/*
 * stats.c: the counters of one loader, how a failure is classified, and
 * how the loaders' counters add up.
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
	hist_init(&s->lag);
	hist_init(&s->interval);
	hist_init(&s->posted);
	hist_init(&s->connect_clean);
	hist_init(&s->connect_retrans);
	hist_init(&s->rtt);
	pthread_mutex_init(&s->mu, NULL);
}

void
stats_destroy(struct stats *s)
{
	pthread_mutex_destroy(&s->mu);
}

/* A completed request's latency: into the run's histogram and this second's. */
void
stats_record_latency(struct stats *s, uint64_t ns)
{
	hist_record(&s->latency, ns);
	hist_record(&s->interval, ns);
}

/* On the loader, each second: hand this second's latencies over. */
void
stats_interval_post(struct stats *s)
{
	if (s->interval.count == 0)
		return;
	pthread_mutex_lock(&s->mu);
	hist_merge(&s->posted, &s->interval);
	pthread_mutex_unlock(&s->mu);
	hist_init(&s->interval);
}

/* From the main thread, once a second: what the loader posted, then none. */
void
stats_interval_take(struct stats *s, struct histogram *into)
{
	pthread_mutex_lock(&s->mu);
	hist_merge(into, &s->posted);
	hist_init(&s->posted);
	pthread_mutex_unlock(&s->mu);
}

/*
 * After the loader's thread has ended: what it posted and what it did not
 * (its last exchange, in hold, comes after its last post).
 */
void
stats_interval_rest(struct stats *s, struct histogram *into)
{
	stats_interval_take(s, into);
	hist_merge(into, &s->interval);
	hist_init(&s->interval);
}

/*
 * The warm-up is over: everything measured so far is forgotten, on the
 * loader's own thread.  What is open stays open, and stays counted as
 * such (active); the attempts and connections established during the
 * warm-up no longer count.
 */
void
stats_reset_measures(struct stats *s)
{
	uint64_t active = stat_get(&s->active);

	__atomic_store_n(&s->attempted, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->established, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->requests, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bytes_sent, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->bytes_received, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->due, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->sent, 0, __ATOMIC_RELAXED);
	for (int e = 0; e < LERR_MAX; e++)
		__atomic_store_n(&s->errors[e], 0, __ATOMIC_RELAXED);
	for (int i = 0; i <= LOAD_ERRNO_MAX; i++)
		__atomic_store_n(&s->other_errno[i], 0, __ATOMIC_RELAXED);
	for (int i = 0; i < SYN_RETRANS_BUCKETS; i++)
		__atomic_store_n(&s->syn_retrans[i], 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->syn_retransmits, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->syn_data, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dgram.sent, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dgram.lost, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dgram.late, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dgram.duplicate, 0, __ATOMIC_RELAXED);
	__atomic_store_n(&s->dgram.reordered, 0, __ATOMIC_RELAXED);
	hist_init(&s->latency);
	hist_init(&s->connect);
	hist_init(&s->lag);
	hist_init(&s->interval);
	hist_init(&s->connect_clean);
	hist_init(&s->connect_retrans);
	hist_init(&s->rtt);
	pthread_mutex_lock(&s->mu);
	hist_init(&s->posted);
	pthread_mutex_unlock(&s->mu);
	__atomic_store_n(&s->active, active, __ATOMIC_RELAXED);
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

/* Connections with 3 SYN retransmissions or more share the last bucket. */
unsigned
stats_retrans_bucket(unsigned retrans)
{
	return retrans < SYN_RETRANS_BUCKETS - 1 ? retrans : SYN_RETRANS_BUCKETS - 1;
}

/* The bucket's name in the report: "0", "1", "2", "3+". */
const char *
stats_retrans_name(unsigned bucket)
{
	static const char *const names[SYN_RETRANS_BUCKETS] = { "0", "1", "2", "3+" };

	return bucket < SYN_RETRANS_BUCKETS ? names[bucket] : "?";
}

/*
 * One handshake: its SYN retransmissions, its connect latency in the row
 * they decide (a bimodal connect time is the connections that waited for
 * the retransmission timer, and the split shows it), its RTT if the
 * kernel took a sample, and whether its SYN carried data.
 */
void
stats_record_handshake(struct stats *s, const struct handshake *hs)
{
	stat_add(&s->syn_retrans[stats_retrans_bucket(hs->retrans)], 1);
	stat_add(&s->syn_retransmits, hs->retrans);
	hist_record(hs->retrans > 0 ? &s->connect_retrans : &s->connect_clean, hs->connect_ns);
	if (hs->rtt_ns > 0)
		hist_record(&s->rtt, hs->rtt_ns);
	if (hs->syn_data)
		stat_add(&s->syn_data, 1);
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
	for (int i = 0; i < SYN_RETRANS_BUCKETS; i++)
		dst->syn_retrans[i] += src->syn_retrans[i];
	dst->syn_retransmits += src->syn_retransmits;
	dst->syn_data += src->syn_data;
	dst->dgram.sent += src->dgram.sent;
	dst->dgram.lost += src->dgram.lost;
	dst->dgram.late += src->dgram.late;
	dst->dgram.duplicate += src->dgram.duplicate;
	dst->dgram.reordered += src->dgram.reordered;
	dst->dgram.jitter16_sum += src->dgram.jitter16_sum;
	dst->dgram.jitter_conns += src->dgram.jitter_conns;
	dst->due += src->due;
	dst->sent += src->sent;
	hist_merge(&dst->latency, &src->latency);
	hist_merge(&dst->connect, &src->connect);
	hist_merge(&dst->lag, &src->lag);
	hist_merge(&dst->connect_clean, &src->connect_clean);
	hist_merge(&dst->connect_retrans, &src->connect_retrans);
	hist_merge(&dst->rtt, &src->rtt);
}

/* The counters of every loader while they run; the histograms stay empty. */
void
stats_snapshot(struct stats *dst, const struct run *r)
{
	stats_init(dst);
	for (int i = 0; i < r->nloaders; i++) {
		const struct stats *s = &r->loaders[i].stats;

		dst->attempted += stat_get(&s->attempted);
		dst->established += stat_get(&s->established);
		dst->active += stat_get(&s->active);
		dst->requests += stat_get(&s->requests);
		dst->bytes_sent += stat_get(&s->bytes_sent);
		dst->bytes_received += stat_get(&s->bytes_received);
		dst->due += stat_get(&s->due);
		dst->sent += stat_get(&s->sent);
		dst->syn_retransmits += stat_get(&s->syn_retransmits);
		dst->dgram.lost += stat_get(&s->dgram.lost);
		for (int e = 0; e < LERR_MAX; e++)
			dst->errors[e] += stat_get(&s->errors[e]);
	}
}

/* SPDX-License-Identifier: ISC */
/*
 * stats.c: the reasons the counters are kept by, with their names: the
 * label a metric carries and the words a log line uses.
 */
#include "config.h"

#include <errno.h>

#include "stats.h"

const char *const close_reason_label[CLOSE_REASONS] = {
	[CLOSE_PEER] = "peer",
	[CLOSE_IDLE] = "idle_timeout",
	[CLOSE_SLOW_CONSUMER] = "slow_consumer",
	[CLOSE_LINE_TOO_LONG] = "line_too_long",
	[CLOSE_SHUTDOWN] = "shutdown",
	[CLOSE_ERROR] = "error",
	[CLOSE_DONE] = "done",
	[CLOSE_NO_MEMORY] = "out_of_memory",
	[CLOSE_PROXY_INVALID] = "proxy_invalid",
	[CLOSE_PROXY_TIMEOUT] = "proxy_timeout",
	[CLOSE_PROXY_PER_SOURCE] = "max_clients_per_source",
};

/* CLOSE_ERROR's words are "read error" or "write error", with strerror */
const char *const close_reason_text[CLOSE_REASONS] = {
	[CLOSE_PEER] = "closed by peer",
	[CLOSE_IDLE] = "idle timeout",
	[CLOSE_SLOW_CONSUMER] = "slow consumer",
	[CLOSE_LINE_TOO_LONG] = "line too long",
	[CLOSE_SHUTDOWN] = "shutdown",
	[CLOSE_ERROR] = "error",
	[CLOSE_DONE] = "done",
	[CLOSE_NO_MEMORY] = "out of memory",
	[CLOSE_PROXY_INVALID] = "invalid PROXY header",
	[CLOSE_PROXY_TIMEOUT] = "no PROXY header in time",
	[CLOSE_PROXY_PER_SOURCE] = "max_clients_per_source reached",
};

const char *const reject_reason_label[REJECT_REASONS] = {
	[REJECT_MAX_CLIENTS] = "max_clients",
	[REJECT_PER_SOURCE] = "max_clients_per_source",
	[REJECT_NO_MEMORY] = "out_of_memory",
	[REJECT_PROXY_UNTRUSTED] = "proxy_untrusted",
};

const char *const accept_error_label[ACCEPT_ERRORS] = {
	[ACCEPT_EMFILE] = "EMFILE",
	[ACCEPT_ENFILE] = "ENFILE",
	[ACCEPT_ENOBUFS] = "ENOBUFS",
	[ACCEPT_ENOMEM] = "ENOMEM",
	[ACCEPT_EPERM] = "EPERM",
	[ACCEPT_OTHER] = "other",
};

enum accept_error
accept_error_index(int error)
{
	switch (error) {
	case EMFILE:
		return ACCEPT_EMFILE;
	case ENFILE:
		return ACCEPT_ENFILE;
	case ENOBUFS:
		return ACCEPT_ENOBUFS;
	case ENOMEM:
		return ACCEPT_ENOMEM;
	case EPERM:
		return ACCEPT_EPERM;
	default:
		return ACCEPT_OTHER;
	}
}

const uint32_t accept_wait_bound_ms[ACCEPT_WAIT_BUCKETS - 1] = {
	0,
	1,
	2,
	5,
	10,
	20,
	50,
	100,
	200,
	500,
	1000,
	2000,
	5000,
};

/* The bucket of a wait: the first whose bound it does not exceed. */
int
accept_wait_bucket(uint32_t ms)
{
	int i = 0;

	while (i < ACCEPT_WAIT_BUCKETS - 1 && ms > accept_wait_bound_ms[i])
		i++;
	return i;
}

/*
 * The bucket that holds the permille-th per-mille of the waits counted
 * (the smallest bucket with at least that share of them at or below its
 * bound): its bound is the percentile as far as the histogram tells it.
 * -1 when nothing was counted.
 */
int
accept_wait_percentile(const uint64_t buckets[ACCEPT_WAIT_BUCKETS], unsigned permille)
{
	uint64_t total = 0, rank, seen = 0;

	for (int i = 0; i < ACCEPT_WAIT_BUCKETS; i++)
		total += buckets[i];
	if (total == 0)
		return -1;
	/* the rank of that wait among them, from 1: ceil(total * permille / 1000) */
	rank = (total * permille + 999) / 1000;
	if (rank == 0)
		rank = 1;
	for (int i = 0; i < ACCEPT_WAIT_BUCKETS - 1; i++) {
		seen += buckets[i];
		if (seen >= rank)
			return i;
	}
	return ACCEPT_WAIT_BUCKETS - 1;
}

void
listener_stats_add(struct listener_stats *sum, const struct listener_stats *st)
{
	sum->accepted += stat_get(&st->accepted);
	for (int i = 0; i < CLOSE_REASONS; i++)
		sum->closed[i] += stat_get(&st->closed[i]);
	for (int i = 0; i < REJECT_REASONS; i++)
		sum->rejected[i] += stat_get(&st->rejected[i]);
	for (int i = 0; i < ACCEPT_ERRORS; i++)
		sum->accept_errors[i] += stat_get(&st->accept_errors[i]);
	sum->bytes_in += stat_get(&st->bytes_in);
	sum->bytes_out += stat_get(&st->bytes_out);
	for (int i = 0; i < ACCEPT_WAIT_BUCKETS; i++)
		sum->accept_wait[i] += stat_get(&st->accept_wait[i]);
	sum->accept_wait_ms += stat_get(&st->accept_wait_ms);
	sum->syn_data += stat_get(&st->syn_data);
}

const char *const datagram_drop_label[DGRAM_DROPS] = {
	[DGRAM_DROP_BAD_SOURCE] = "bad_source",
	[DGRAM_DROP_OWN_PORT] = "own_port",
	[DGRAM_DROP_RATE] = "rate_limited",
	[DGRAM_DROP_TRUNCATED] = "truncated",
	[DGRAM_DROP_SEND_ERROR] = "send_error",
};

void
datagram_stats_add(struct datagram_stats *sum, const struct datagram_stats *st)
{
	sum->in += stat_get(&st->in);
	sum->bytes_in += stat_get(&st->bytes_in);
	sum->out += stat_get(&st->out);
	sum->bytes_out += stat_get(&st->bytes_out);
	for (int i = 0; i < DGRAM_DROPS; i++)
		sum->dropped[i] += stat_get(&st->dropped[i]);
	sum->kernel_drops += stat_get(&st->kernel_drops);
}

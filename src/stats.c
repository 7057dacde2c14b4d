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
}

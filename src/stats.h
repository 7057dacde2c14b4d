/* SPDX-License-Identifier: ISC */
/*
 * stats.h: what the counters count, their names in logs and metrics
 * (stats.c), and a listener's counters.
 */
#ifndef SYNACK_STATS_H
#define SYNACK_STATS_H

#include <stdint.h>

#include "stat.h" /* the counters' stat_add()/stat_get() */

enum close_reason {
	CLOSE_PEER,          /* the peer closed */
	CLOSE_IDLE,          /* idle_timeout */
	CLOSE_SLOW_CONSUMER, /* chat: output over output_limit */
	CLOSE_LINE_TOO_LONG, /* chat: max_line */
	CLOSE_SHUTDOWN,      /* graceful shutdown */
	CLOSE_ERROR,         /* a read or write error */
	CLOSE_DONE,          /* the service finished (daytime) */
	CLOSE_NO_MEMORY,
	CLOSE_PROXY_INVALID,    /* proxy_protocol: no valid PROXY header */
	CLOSE_PROXY_TIMEOUT,    /* proxy_protocol: the header did not arrive in time */
	CLOSE_PROXY_PER_SOURCE, /* proxy_protocol: the header's source is over its limit */
	CLOSE_REASONS
};
enum reject_reason {
	REJECT_MAX_CLIENTS, /* parked for a slot at max_clients, dropped at shutdown */
	REJECT_PER_SOURCE,  /* over max_clients_per_source */
	REJECT_NO_MEMORY,
	REJECT_PROXY_UNTRUSTED, /* proxy_protocol: the peer is not in proxy_from */
	REJECT_REASONS
};
/* accept() errors worth telling apart; the rest are "other" */
enum accept_error {
	ACCEPT_EMFILE,
	ACCEPT_ENFILE,
	ACCEPT_ENOBUFS,
	ACCEPT_ENOMEM,
	ACCEPT_EPERM,
	ACCEPT_OTHER,
	ACCEPT_ERRORS
};

extern const char *const close_reason_label[CLOSE_REASONS];
extern const char *const close_reason_text[CLOSE_REASONS];
extern const char *const reject_reason_label[REJECT_REASONS];
extern const char *const accept_error_label[ACCEPT_ERRORS];
enum accept_error accept_error_index(int error);

/*
 * The time a connection waited in the accept queue, in milliseconds
 * (TCP_INFO tcpi_last_ack_recv at accept): a histogram whose buckets hold
 * waits up to each bound, the last one any longer wait (+Inf).
 */
#define ACCEPT_WAIT_BUCKETS 14
extern const uint32_t accept_wait_bound_ms[ACCEPT_WAIT_BUCKETS - 1];
int accept_wait_bucket(uint32_t ms);
int accept_wait_percentile(const uint64_t buckets[ACCEPT_WAIT_BUCKETS], unsigned permille);

/*
 * A listener's counters.  Each acceptor has its own, written by its
 * worker alone (stat_add); the main thread sums them when they are read,
 * with what its freed acceptors had counted.
 */
struct listener_stats {
	uint64_t accepted;
	uint64_t closed[CLOSE_REASONS];
	uint64_t rejected[REJECT_REASONS];
	uint64_t accept_errors[ACCEPT_ERRORS];
	uint64_t bytes_in;
	uint64_t bytes_out;
	uint64_t accept_wait[ACCEPT_WAIT_BUCKETS]; /* TCP listeners only */
	uint64_t accept_wait_ms;                   /* the waits added up */
	uint64_t syn_data; /* TCP Fast Open: clients whose SYN carried data (TCPI_OPT_SYN_DATA) */
};

void listener_stats_add(struct listener_stats *sum, const struct listener_stats *);

/* Why a UDP listener read a datagram and did not answer it */
enum datagram_drop {
	DGRAM_DROP_BAD_SOURCE, /* from port 0 or a port of echo, discard, daytime, chargen, time */
	DGRAM_DROP_OWN_PORT,   /* from a port one of synackd's own UDP listeners uses */
	DGRAM_DROP_RATE,       /* over udp_rate for its source */
	DGRAM_DROP_TRUNCATED,  /* longer than max_datagram */
	DGRAM_DROP_SEND_ERROR, /* its answer was refused by sendmmsg() */
	DGRAM_DROPS
};
extern const char *const datagram_drop_label[DGRAM_DROPS];

/*
 * A UDP listener's counters, kept like struct listener_stats: each socket
 * has its own, in its acceptor, written by its worker alone (stat_add);
 * summed by the main thread with what its freed acceptors counted.
 */
struct datagram_stats {
	uint64_t in, bytes_in;   /* datagrams read (the dropped ones too), their bytes */
	uint64_t out, bytes_out; /* answers the kernel took, their bytes */
	uint64_t dropped[DGRAM_DROPS];
	uint64_t kernel_drops; /* the receive queue was full: SO_RXQ_OVFL's count */
};

void datagram_stats_add(struct datagram_stats *sum, const struct datagram_stats *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * datagram.h: datagram.c's interface: one UDP socket of a listener and
 * its read-answer loop on a worker (see datagram.c).
 */
#ifndef SYNACK_DATAGRAM_H
#define SYNACK_DATAGRAM_H

#include <stdint.h>
#include <sys/socket.h>

#define DATAGRAM_BATCH 32 /* datagrams one recvmmsg() reads, one sendmmsg() sends */

struct event_base;
struct listener_conf;

/* What a socket saw; each counter only grows. */
struct datagram_stats {
	uint64_t in, bytes_in;   /* datagrams read, bytes of them */
	uint64_t out, bytes_out; /* answers sent */
	uint64_t drop_source;    /* from a port never answered */
	uint64_t drop_rate;      /* over udp_rate for its source */
	uint64_t drop_truncated; /* longer than max_datagram */
	uint64_t drop_send;      /* sendmmsg refused them */
	uint64_t rxq_overflow;   /* the kernel dropped them: receive buffer full (SO_RXQ_OVFL) */
};

struct datagram;

int datagram_source_ok(const struct sockaddr *);
struct datagram *datagram_new(
    struct event_base *, int fd, const struct listener_conf *, const char *addrstr);
void datagram_set_conf(struct datagram *, const struct listener_conf *, const char *addrstr);
void datagram_drain(struct datagram *);
void datagram_free(struct datagram *);

#endif

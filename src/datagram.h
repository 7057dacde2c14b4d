/* SPDX-License-Identifier: ISC */
/*
 * datagram.h: datagram.c's interface: one UDP socket of a listener and
 * its read-answer loop on a worker (see datagram.c).
 */
#ifndef SYNACK_DATAGRAM_H
#define SYNACK_DATAGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

#define DATAGRAM_BATCH 32 /* datagrams one recvmmsg() reads, one sendmmsg() sends */

struct event_base;
struct listener_conf;
struct datagram_stats;

/* What a worker's datagram sockets share: the scratch space, udp_rate's table, the own ports. */
struct datagram_area;
/* One UDP socket and its loop */
struct datagram;

struct datagram_area *datagram_area_new(void);
void datagram_area_set_ports(struct datagram_area *, uint16_t *ports, size_t n);
void datagram_area_free(struct datagram_area *);
int datagram_source_drop(const struct sockaddr *, const uint16_t *own, size_t nown);
struct datagram *datagram_new(struct datagram_area *, struct event_base *, int fd,
    const struct listener_conf *, const char *addrstr, struct datagram_stats *);
void datagram_set_conf(struct datagram *, const struct listener_conf *, const char *addrstr);
void datagram_drain(struct datagram *);
void datagram_free(struct datagram *);

#endif

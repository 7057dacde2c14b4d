/* SPDX-License-Identifier: ISC */
/*
 * queues.h: a listening socket's accept queue and SYN queue, and a UDP
 * socket's receive queue, read from the kernel (TCP_INFO, sock_diag,
 * SO_RCVBUF).  No state; errors as in net.h.
 */
#ifndef SYNACK_QUEUES_H
#define SYNACK_QUEUES_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"

struct queue_len {
	unsigned len; /* connections waiting in it now */
	unsigned max; /* the backlog in effect: the configured one, capped by somaxconn */
};

/* UDP sockets together: what their receive queues hold, and what they may */
struct queue_recv {
	uint64_t queued; /* bytes of memory the queued datagrams take (their truesize) */
	uint64_t buffer; /* SO_RCVBUF: the most that may be queued, in the same bytes */
	int sockets;     /* sockets found */
};

int queue_accept(int fd, int family, struct queue_len *, char *err, size_t errlen);
int queue_accept_unix(int fd, struct queue_len *, char *err, size_t errlen);
int queue_syn_match(const struct net_addr *, int family, const uint32_t src[4], unsigned port);
int queue_syn_recv(
    const struct net_addr *, size_t n, unsigned long *counts, char *err, size_t errlen);
int queue_datagram(const int *fds, size_t n, int family, unsigned port, struct queue_recv *,
    char *err, size_t errlen);

#endif

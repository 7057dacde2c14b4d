/* SPDX-License-Identifier: ISC */
/*
 * queues.h: a listening socket's accept queue and SYN queue, read from
 * the kernel (TCP_INFO, sock_diag).  No state; errors as in net.h.
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

int queue_accept(int fd, int family, struct queue_len *, char *err, size_t errlen);
int queue_accept_unix(int fd, struct queue_len *, char *err, size_t errlen);
int queue_syn_match(const struct net_addr *, int family, const uint32_t src[4], unsigned port);
int queue_syn_recv(
    const struct net_addr *, size_t n, unsigned long *counts, char *err, size_t errlen);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * metrics.h: metrics.c's interface: the status and metrics endpoint on
 * the main thread, and the snapshot it formats.  The endpoint reads
 * nothing of the daemon's itself: its owner hands it a function that
 * fills a snapshot (metrics_new).
 */
#ifndef SYNACK_METRICS_H
#define SYNACK_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "net.h"
#include "procfs.h"
#include "queues.h"
#include "stats.h"
#include "syn-stats.h"

struct evbuffer;
struct event_base;
struct evkeyvalq;

#define METRICS_SOCKETS_MAX 1024 /* as many as workers */

struct metrics_listener {
	const char *name, *service, *address; /* the listener's: valid while it lives */
	const struct net_addr *addr;
	int port, backlog, workers;
	struct listener_stats stats; /* summed over its acceptors */
	unsigned long active;
	int queues; /* sockets whose accept queue was read */
	struct {
		unsigned len, max;
	} queue[METRICS_SOCKETS_MAX];
	int have_syn_recv;
	unsigned long syn_recv;
	int save_syn;          /* configured now */
	struct syn_counts syn; /* syn_counts_top()ed */
	int udp;               /* transport = udp: the datagram figures below, not the TCP ones */
	struct datagram_stats dgram; /* summed over its acceptors */
	int have_recv_queue;         /* its sockets' receive queues could be read */
	struct queue_recv recv_queue;
};

struct metrics_snapshot {
	const char *version;
	double uptime;
	int workers;
	unsigned long clients;
	long max_clients;
	uint64_t max_clients_reached, reloads_ok, reloads_failed;
	unsigned long metrics_connections; /* the endpoint's, now */
	long metrics_max_connections;
	uint64_t metrics_rejected;
	size_t nlisteners;
	struct metrics_listener *listeners; /* calloc()ed: metrics_snapshot_free() */
	int have_host, have_proc;
	struct host_tcp host;
	struct proc_self proc;
};

/*
 * Fill in the daemon's part of a snapshot, on the main thread: all but
 * the endpoint's own figures (metrics_connections, metrics_max_connections,
 * and of metrics_rejected what this endpoint refused: the function gives
 * what the endpoints before it did), the host's and the process's.
 * 0, or -1 without memory.
 */
typedef int metrics_snapshot_fn(void *arg, struct metrics_snapshot *);

struct metrics;
struct metrics *metrics_new(const struct net_addr *addr, long max_conns,
    metrics_snapshot_fn *snapshot, void *arg, char *err, size_t errlen);
int metrics_start(struct metrics *, struct event_base *, char *err, size_t errlen);
void metrics_set_max_connections(struct metrics *, long);
const struct net_addr *metrics_addr(const struct metrics *);
uint64_t metrics_rejected(const struct metrics *);
void metrics_free(struct metrics *);
void metrics_snapshot_free(struct metrics_snapshot *);
void metrics_format_prom(const struct metrics_snapshot *, struct evbuffer *);
void metrics_format_json(const struct metrics_snapshot *, struct evbuffer *);
const char *metrics_framing_error(const struct evkeyvalq *);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * synackd.h: the daemon's shared structures and the interface of its
 * core files, grouped by the file that implements each part.  Calls point
 * one way: synackd.c -> server -> listener, metrics -> worker -> acceptor
 * -> services (through struct service) -> client -> limits and the leaves
 * (config, service registry, sources, stats, activation, daemon), each
 * with a header of its own.  The only calls back up tell an owner that
 * something it owns ended.
 */
#ifndef SYNACKD_H
#define SYNACKD_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <sys/queue.h>
#include <sys/socket.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "clock.h"
#include "conf.h"
#include "log.h"
#include "mailbox.h"
#include "net.h"
#include "sources.h"
#include "stat.h"
#include "stats.h"
#include "syn-stats.h"

struct acceptor;
struct activation;
struct client;
struct limits;
struct listener;
struct metrics;
struct metrics_listener;
struct server;
struct worker;

/* listener.c: the listener as configured, on the main thread */
struct listener {
	TAILQ_ENTRY(listener) entry; /* in its owner's list (server.c) */
	struct listener_conf *conf;  /* the main thread's copy */
	struct net_addr addr;        /* bound: the real port */
	char addrstr[NET_ADDRSTRLEN];
	int nworkers;   /* the daemon's, when it was made */
	int nacceptors; /* one per worker, or one on one worker */
	struct acceptor **acceptors;
	int *fds;                   /* their sockets, owned by the workers; -1 once stopped */
	int live;                   /* acceptors their workers still run */
	int retired;                /* removed by a reload; freed when its clients are gone */
	int unlinked;               /* a unix listener's socket file is gone */
	int inherited_fd;           /* fds[0] was passed by the service manager as this; else -1 */
	int inherited_alone;        /* ... and has no SO_REUSEPORT: one socket, one worker */
	int inherited_elsewhere;    /* ... and is bound elsewhere than the configured address */
	struct listener_stats gone; /* what acceptors already freed counted */
	struct log_limit wait_log;  /* accept_wait_warn: its acceptors' warnings together */
	struct syn_counts syn_gone; /* save_syn: what acceptors already freed counted */
	struct datagram_stats dgram_gone; /* transport = udp: the same */
};
TAILQ_HEAD(listeners, listener);

struct listener *listener_new(const struct listener_conf *, struct worker **workers, int nworkers,
    struct activation *, char *err, size_t errlen);
struct listener *listener_successor(const struct listener *, const struct listener_conf *,
    struct worker **workers, int nworkers, char *err, size_t errlen);
int listener_at(const struct listener *, const struct net_addr *);
void listener_start(struct listener *);
int listener_reconfigure(struct listener *, const struct listener_conf *);
void listener_retire(struct listener *, const char *why);
void listener_stop_accepting(struct listener *);
int listener_acceptor_done(struct listener *, struct acceptor *);
unsigned long listener_active(const struct listener *);
void listener_snapshot(const struct listener *, struct metrics_listener *);
void listener_free(struct listener *);

/*
 * server.c's reports, posted by workers and acceptors to the reply
 * mailbox they were handed when made.  Each is sent once, so it is kept
 * in the object it reports on: posting it allocates nothing.
 */
enum server_msg_type {
	SERVER_ACCEPTOR_DONE, /* a worker let go of an acceptor: free it */
	SERVER_WORKER_DONE,   /* a stopping worker has no client left */
	SERVER_WORKER_SYNCED, /* a worker took every command posted before a WORKER_SYNC */
};

struct server_msg {
	enum server_msg_type type;
	struct acceptor *acceptor;
	struct worker *worker;
};

/* acceptor.c: one listening socket of a listener, on one worker */
struct parked {
	TAILQ_ENTRY(parked) entry;
	int fd;
	struct sockaddr_storage ss;
	socklen_t len;
};

struct closing { /* a listening socket on its way out */
	TAILQ_ENTRY(closing) entry;
	struct acceptor *acceptor;
	struct evconnlistener *evl;
	struct event *timer;
	int inherited; /* the acceptor's, when it began closing */
};

struct acceptor {
	TAILQ_ENTRY(acceptor) entry; /* in its worker's list */
	struct listener *listener;   /* main's: only handed back, never read here */
	struct worker *worker;
	struct mailbox *reply;      /* the main thread's: told when the acceptor is done */
	struct server_msg done_msg; /* that report */
	struct log_limit *wait_log; /* the listener's, which outlives it (any thread) */
	struct listener_conf *conf; /* the worker's own copy */
	struct net_addr addr;
	char addrstr[NET_ADDRSTRLEN];
	int fd; /* until attached to evl, or to dgram */
	struct evconnlistener *evl;
	struct datagram *dgram; /* transport = udp: the socket's loop, instead of evl */
	struct event *retry;    /* re-enable accepting after EMFILE and friends */
	int enabled;            /* accepting now */
	int backoff;            /* accept failed for lack of resources */
	int retired;            /* closed; freed when its clients are gone */
	int freeing;
	int inherited; /* its socket came from the service manager, which may keep a copy */
	TAILQ_HEAD(, client) clients;
	TAILQ_HEAD(, client) headers;  /* proxy_protocol: waiting for a header, oldest first */
	TAILQ_HEAD(, parked) parked;   /* accepted at max_clients: wait for a slot */
	TAILQ_HEAD(, closing) closing; /* its sockets on their way out */
	uint64_t active;
	void *service_state;
	struct listener_stats stats;
	struct datagram_stats dgram_stats; /* transport = udp: its socket's */
	struct syn_stats *syn; /* save_syn: its clients' SYNs (locked: the main thread reads) */
	/* save_syn: the SYN of the client being accepted, for its connect line (client_open) */
	char syn_field[SYN_FIELDSLEN];
};

struct acceptor *acceptor_new(struct listener *, struct worker *, struct mailbox *reply,
    struct log_limit *wait_log, int fd, const struct net_addr *, const struct listener_conf *);
int acceptor_start(struct acceptor *);
void acceptor_replace(struct acceptor *, int fd, const struct net_addr *, struct listener_conf *);
void acceptor_reconfigure(struct acceptor *, struct listener_conf *);
void acceptor_refresh(struct acceptor *);
void acceptor_set_backoff(struct acceptor *, int on);
void acceptor_close(struct acceptor *);
void acceptor_close_now(struct acceptor *);
void acceptor_retire(struct acceptor *);
void acceptor_client_gone(struct acceptor *);
void acceptor_free(struct acceptor *);

/* worker.c: one event loop on its own thread */
#define WORKER_SWEEP_MS 100 /* how often idle clients and late headers are looked for */

/*
 * The idle clock: monotonic (a step of the wall clock must not close every
 * client at once), in ticks of WORKER_SWEEP_MS, so that 32 bits hold any
 * idle_timeout (a year is 315,360,000 ticks) and wrap after 13 years.
 * The worker's sweep reads it; a client is stamped with it.
 */
static inline uint32_t
idle_clock(void)
{
	return (uint32_t)(clock_ns() / (WORKER_SWEEP_MS * 1000000u));
}

struct worker_settings {
	long idle_timeout;
	long max_clients_per_source;
	long accept_wait_warn; /* ms; 0 = off */
};

enum worker_cmd_type {
	WORKER_ADD,         /* start an acceptor */
	WORKER_REPLACE,     /* an acceptor's new socket (and conf) */
	WORKER_RECONFIGURE, /* an acceptor's new conf, same socket */
	WORKER_RETIRE,      /* close an acceptor; free it when its clients are gone */
	WORKER_SETTINGS,    /* new [server] settings */
	WORKER_REFRESH,     /* max_clients changed state: accept or not */
	WORKER_STOP,        /* graceful shutdown */
	WORKER_ABORT,       /* shutdown_timeout: drop every client */
	WORKER_OWN_PORTS,   /* the ports of synackd's UDP listeners, never answered */
	WORKER_SYNC,        /* answer SERVER_WORKER_SYNCED: all before this is done */
};

struct worker_cmd {
	enum worker_cmd_type type;
	struct acceptor *acceptor;
	struct listener_conf *conf; /* handed over to the acceptor */
	int fd;
	struct net_addr addr;
	struct worker_settings settings;
	uint16_t *ports; /* WORKER_OWN_PORTS: sorted, handed over to the worker */
	size_t nports;
};

struct worker {
	struct limits *limits; /* the server's, shared by all workers */
	int id;
	pthread_t thread;
	int running;
	struct event_base *base;
	struct mailbox *cmds;       /* struct worker_cmd, from any thread */
	struct mailbox *reply;      /* the main thread's: told when the worker is done */
	struct server_msg done_msg; /* that report */
	struct server_msg sync_msg; /* the answer to each WORKER_SYNC (posted as often) */
	int refresh_posted;         /* a WORKER_REFRESH is on its way (atomic) */
	TAILQ_HEAD(, acceptor) acceptors;
	struct worker_settings settings;
	TAILQ_HEAD(, client) idle;   /* open clients, the longest idle first */
	struct event *sweep;         /* closes idle clients, late headers: every WORKER_SWEEP_MS */
	char *scratch;               /* CLIENT_READ_MAX bytes: every read lands here */
	struct datagram_area *dgram; /* its UDP sockets' scratch, rate table and own ports */
	uint32_t now;                /* the idle clock at the last sweep, in sweeps */
	int closing;                 /* listening sockets in their grace period */
	int stopping;
	int done;
};

/* worker_free() hands back each acceptor the worker still had */
typedef void worker_acceptor_fn(void *arg, struct acceptor *);

struct worker *worker_new(int id, const struct worker_settings *, struct limits *,
    struct mailbox *reply, char *err, size_t errlen);
int worker_start(struct worker *, char *err, size_t errlen);
void worker_post(struct worker *, struct worker_cmd *);
int worker_post_type(struct worker *, enum worker_cmd_type);
void worker_post_ports(struct worker *, const uint16_t *ports, size_t n);
void worker_refresh(struct worker *);
void worker_check_done(struct worker *);
void worker_join(struct worker *);
void worker_free(struct worker *, worker_acceptor_fn *, void *arg);

/* client.c */
enum client_state { CLIENT_OPEN, CLIENT_DRAINING, CLIENT_LINGERING, CLIENT_DEAD };

/*
 * The peer's address, kept binary and formatted only when shown (a log
 * line, a chat prefix): a formatted one would cost every client fifty
 * bytes more.  A unix socket client shows as "unix:".
 */
struct client_peer {
	uint8_t addr[16]; /* IPv4: the first 4 */
	uint16_t port;    /* host order */
	uint8_t family;
};

#define CLIENT_PEERSTRLEN 56 /* "[v6]:port", formatted */

/*
 * What one read takes at most: the size of each worker's scratch space.
 * Larger reads would save little (a loopback stream delivers about this
 * much per wake-up) and cost every worker the space.
 */
#define CLIENT_READ_MAX 65536
/*
 * The most the bufferevent writes with one writev(): libevent's default
 * is 16 KiB (two system calls per 16 KiB of a chargen stream, 128 per
 * MiB); a quarter of the default output_limit takes what a loopback
 * socket's send buffer holds in one call (8 per MiB).  It costs nothing
 * per client: the bufferevent has the field either way.
 */
#define CLIENT_WRITE_MAX 262144

/* Laid out by size: a client is as small as it can be (RSS per idle client). */
struct client {
	TAILQ_ENTRY(client) entry;
	TAILQ_ENTRY(client) idle_entry; /* worker's idle list, or (proxy_wait) acceptor's headers */
	struct acceptor *acceptor;
	struct bufferevent *bev; /* the fd, the output and the write path */
	struct evbuffer *out;    /* the bufferevent's, looked up once */
	void *state_data;        /* the service's per-client state */
	uint64_t bytes_in;
	uint64_t bytes_queued;  /* bytes_out = bytes_queued - pending output */
	uint64_t bytes_counted; /* bytes_out added to the listener's stats so far */
	uint64_t idle_mark;     /* output done at the last activity (bytes) */
	uint32_t lowat;         /* write low watermark the service asked for */
	uint32_t read_max;      /* what one read may take; 0: not now (chat_rate) */
	uint32_t last_tick;     /* the idle clock at its last read, or (proxy_wait) its accept */
	evutil_socket_t fd;
	int error; /* errno of a read or write failure */
	struct client_peer peer;
	struct source_key source;
	uint8_t state;  /* enum client_state */
	uint8_t reason; /* enum close_reason, once closing */
	uint8_t in_idle : 1;
	uint8_t peer_eof : 1;
	uint8_t paused : 1;      /* reading stopped until output drains */
	uint8_t stopping : 1;    /* graceful shutdown: close once quiet */
	uint8_t has_source : 1;  /* counted in the server's sources */
	uint8_t write_error : 1; /* the error was on a write */
	uint8_t proxy_wait : 1;  /* proxy_protocol: its header is not read yet */
};

const char *client_peer_str(const struct client *, char *buf, size_t size);
void client_idle_touch(struct client *);
int client_accept(struct acceptor *, evutil_socket_t, struct sockaddr *, int socklen);
void client_close(struct client *, enum close_reason);
void client_abort(struct client *, enum close_reason);
void client_free(struct client *);
void client_shutdown(struct client *);
void client_idle_stop(struct client *);
void client_write(struct client *, const void *, size_t);
void client_write_ref(struct client *, const void *, size_t);
void client_send(struct client *, const void *, size_t);
void client_set_lowat(struct client *, size_t);
void client_set_read_max(struct client *, size_t);
size_t client_pending(const struct client *);
size_t client_flush(struct client *);
struct evbuffer *client_input(struct client *);

/* server.c: the main thread: signals, reload, shutdown */
struct server {
	struct config *conf;
	struct event_base *base;
	struct listeners listeners;
	int nworkers;
	struct worker **workers;
	struct mailbox *msgs;  /* struct server_msg, from the workers */
	struct limits *limits; /* max_clients, max_clients_per_source: all workers' */
	uint64_t reloads_ok, reloads_failed;
	double started;                /* CLOCK_MONOTONIC seconds, for the uptime */
	struct metrics *metrics;       /* the endpoint, or NULL: off */
	uint64_t metrics_rejected;     /* refused by the endpoints a reload replaced */
	struct activation *activation; /* inherited sockets, until server_start() */
	uint16_t *own_ports;           /* the UDP listeners' ports, as the workers last got them */
	size_t nown_ports;
	int stopping; /* (atomic) */
	int workers_done;
	uint64_t *synced;    /* per worker: the WORKER_SYNCs it answered, one per reload */
	uint64_t syncs_done; /* the reloads every worker answered: "reload: done" logged */
	struct event *signals[4];
	struct event *shutdown_timer;
};

struct server *server_new(struct config *, struct activation *, char *err, size_t errlen);
int server_start(struct server *, char *err, size_t errlen);
int server_run(struct server *);
void server_free(struct server *);
void server_stop(struct server *);
void server_fit_descriptors(const struct config *);
int server_workers(const struct config *);

#endif

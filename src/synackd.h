/*
 * synackd.h: the daemon's internal interface, grouped by the file that
 * implements each part.  Data flows one way: config -> listeners ->
 * clients -> services; logging (log.h) and sockets (net.h) are on the side.
 */
#ifndef SYNACKD_H
#define SYNACKD_H

#include <stddef.h>
#include <stdint.h>
#include <pthread.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/time.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "cidr.h"
#include "log.h"
#include "mailbox.h"
#include "net.h"
#include "procfs.h"
#include "stat.h"

/* Exit codes, as in sysexits(3). */
#define EXIT_USAGE 64
#define EXIT_OSERR 71
#define EXIT_CONFIG 78

#define ERRLEN 512

struct acceptor;
struct client;
struct listener;
struct server;
struct worker;

/* config.c */
#define LISTENER_KEYS 16 /* room in listener_conf.key_line */

struct listener_conf {
	TAILQ_ENTRY(listener_conf) entry;
	char *name;
	int line; /* of its [listener NAME] header */
	const struct service *service;
	char *address;        /* as written */
	struct net_addr addr; /* parsed, with the port */
	int port;             /* -1 until set */
	int backlog;
	int reuseport;
	int keepalive;
	int defer_accept;
	int proxy_protocol;
	long proxy_timeout;          /* seconds for the PROXY header to arrive */
	struct cidr_list proxy_from; /* who may send it; empty: anyone */
	long max_line;
	long output_limit;
	long chat_rate;              /* bytes per second a chat member may send; 0 = any */
	long chat_burst;             /* bytes it may send at once */
	uint64_t seen;               /* keys set, to refuse duplicates */
	int key_line[LISTENER_KEYS]; /* where each key was set, for later checks */
};
TAILQ_HEAD(listener_confs, listener_conf);

struct config {
	char *path;
	int daemon;
	char *pidfile;
	char *user;
	char *group;
	char *log;
	int log_level;
	int workers;
	long max_clients;
	long max_clients_per_source; /* 0 = no limit */
	long idle_timeout;
	long shutdown_timeout;
	char *metrics;                /* as written; empty: off */
	long metrics_max_connections; /* the endpoint's connections at once */
	struct net_addr metrics_addr; /* parsed, when set */
	int metrics_line;
	uint64_t seen;
	struct listener_confs listeners;
};

#define CONFIG_MAX_SIZE (1024 * 1024) /* bytes: more is not a configuration */
#define CONFIG_OWN_DESCRIPTORS 32     /* beyond clients and listeners */

struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_parse(
    const char *data, size_t len, const char *name, char *err, size_t errlen);
void config_free(struct config *);
long config_descriptors(const struct config *, char *why, size_t whylen);
struct listener_conf *listener_conf_dup(const struct listener_conf *);
void listener_conf_free(struct listener_conf *);

/* activation.c: listening sockets passed by a service manager (LISTEN_FDS) */
#define ACTIVATION_FD_START 3
#define ACTIVATION_FDS_MAX 4096
#define ACTIVATION_NAME_MAX 256
enum activation_state {
	ACTIVATION_FREE,    /* a listening socket, not adopted yet */
	ACTIVATION_ADOPTED, /* a listener's now */
	ACTIVATION_BAD,     /* unusable: closed when loaded */
	ACTIVATION_MISSING  /* not open at start: never touched */
};

/*
 * What the environment says and which of the slots it names were open
 * when main() began: taken before anything could open a descriptor, so
 * that a number synackd opened itself is never taken for an inherited one.
 */
struct activation_probe {
	int n;    /* activation_count(): how many passed; -1: invalid (err) */
	int ours; /* LISTEN_PID is this process */
	int nslots;
	unsigned char open[ACTIVATION_FDS_MAX]; /* fd ACTIVATION_FD_START + i was open */
	char err[256];
};

struct activation_fd {
	int fd;
	char name[ACTIVATION_NAME_MAX]; /* its LISTEN_FDNAMES entry, or "" */
	enum activation_state state;
	struct net_addr addr; /* getsockname(), if FREE or ADOPTED */
	int reuseport;        /* SO_REUSEPORT is set on it */
	char why[128];        /* BAD: why it cannot be used */
};

struct activation {
	int n;
	struct activation_fd *fds;
};

int activation_count(
    const char *pid, const char *fds, long self, int *ours, char *err, size_t errlen);
const char *activation_name(const char *names, int i, char *buf, size_t size);
int activation_family_ok(const struct net_addr *want, const struct net_addr *got);
int activation_addr_match(const struct net_addr *want, const struct net_addr *got);
void activation_probe(struct activation_probe *);
struct activation *activation_load(const struct activation_probe *, char *err, size_t errlen);
struct activation_fd *activation_take(struct activation *, const struct listener_conf *);
void activation_finish(struct activation *);

/* daemon.c */
int daemon_detach(char *err, size_t errlen);
int daemon_fail(int fd, int code);
void daemon_ready(int fd);
int pidfile_open(const char *path, char *err, size_t errlen);
int pidfile_write(int fd, const char *path, char *err, size_t errlen);
void pidfile_close(int fd, const char *path);
int privileges_drop(const char *user, const char *group, char *err, size_t errlen);
int nofile_fit(long need, const char *why, int apply, char *msg, size_t msglen);

/* sources.c */
struct source_key {
	uint8_t family; /* AF_INET: addr[0..3]; AF_INET6: addr[0..7], the /64 */
	uint8_t addr[8];
};
struct sources;

int source_key(const struct sockaddr *, struct source_key *);
const char *source_key_str(const struct source_key *, char *buf, size_t size);
struct sources *sources_new(void);
void sources_free(struct sources *);
unsigned sources_count(const struct sources *, const struct source_key *);
int sources_add(struct sources *, const struct source_key *);
void sources_remove(struct sources *, const struct source_key *);
size_t sources_size(const struct sources *);

/* service.c */
struct service {
	const char *name;
	int speaks_first; /* sends before reading: TCP_DEFER_ACCEPT makes no sense */
	int one_loop;     /* its clients share state: one acceptor, on one worker */
	/* per acceptor, on its worker's thread */
	int (*acceptor_init)(struct acceptor *);
	void (*acceptor_free)(struct acceptor *);
	/* a reload changed the acceptor's conf (a->conf); old is the previous one */
	void (*acceptor_reconfigure)(struct acceptor *, const struct listener_conf *old);
	void (*open)(struct client *);
	/*
	 * The bytes just read, in the worker's scratch space: valid until it
	 * returns, so what the service keeps it copies (client_input).  NULL:
	 * the input is dropped.
	 */
	void (*read)(struct client *, const char *data, size_t len);
	void (*drained)(struct client *);
	void (*close)(struct client *);
};
const struct service *service_find(const char *name);
const char *service_names(void);

/* service-*.c */
extern const struct service service_echo;
extern const struct service service_discard;
extern const struct service service_chargen;
extern const struct service service_daytime;
extern const struct service service_chat;

/* service-chargen.c */
size_t chargen_pattern(size_t offset, char *buf, size_t len);
/* service-chat.c */
#define CHAT_RATE_DEFAULT 1048576 /* bytes per second per member */
#define CHAT_TICK_MS 100          /* the rate limit's refill interval */
static inline long
chat_rate_per_tick(long rate)
{
	long share = rate / (1000 / CHAT_TICK_MS);

	return share > 0 ? share : 1;
}
enum chat_frame { CHAT_NEED_MORE, CHAT_LINE, CHAT_TOO_LONG };
enum chat_frame chat_frame(const char *buf, size_t len, size_t max, size_t *textlen, size_t *used);
size_t chat_escape(const char *in, size_t len, char *out, size_t size);
/* service-daytime.c */
size_t daytime_format(time_t t, char *buf, size_t size);

/* stats.c: what the counters count, and their names in logs and metrics */
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
};

void listener_stats_add(struct listener_stats *sum, const struct listener_stats *);

/* listener.c: the listener as configured, on the main thread */
struct listener {
	TAILQ_ENTRY(listener) entry;
	struct server *server;
	struct listener_conf *conf; /* the main thread's copy */
	struct net_addr addr;       /* bound: the real port */
	char addrstr[NET_ADDRSTRLEN];
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
};
TAILQ_HEAD(listeners, listener);

struct listener *listener_new(
    struct server *, const struct listener_conf *, char *err, size_t errlen);
void listener_start(struct listener *);
int listener_reconfigure(struct listener *, const struct listener_conf *);
void listener_retire(struct listener *, const char *why);
void listener_stop_accepting(struct listener *);
void listener_acceptor_done(struct listener *, struct acceptor *);
unsigned long listener_active(const struct listener *);
void listener_free(struct listener *);

/*
 * server.c's reports, posted by workers and acceptors to the reply
 * mailbox they were handed when made.  Each is sent once, so it is kept
 * in the object it reports on: posting it allocates nothing.
 */
enum server_msg_type {
	SERVER_ACCEPTOR_DONE, /* a worker let go of an acceptor: free it */
	SERVER_WORKER_DONE,   /* a stopping worker has no client left */
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
	struct listener_conf *conf; /* the worker's own copy */
	struct net_addr addr;
	char addrstr[NET_ADDRSTRLEN];
	int fd; /* until attached to evl */
	struct evconnlistener *evl;
	struct event *retry; /* re-enable accepting after EMFILE and friends */
	int enabled;         /* accepting now */
	int backoff;         /* accept failed for lack of resources */
	int retired;         /* closed; freed when its clients are gone */
	int freeing;
	int inherited; /* its socket came from the service manager, which may keep a copy */
	TAILQ_HEAD(, client) clients;
	TAILQ_HEAD(, client) headers;  /* proxy_protocol: waiting for a header, oldest first */
	TAILQ_HEAD(, parked) parked;   /* accepted at max_clients: wait for a slot */
	TAILQ_HEAD(, closing) closing; /* its sockets on their way out */
	uint64_t active;
	void *service_state;
	struct listener_stats stats;
};

struct acceptor *acceptor_new(struct listener *, struct worker *, struct mailbox *reply, int fd,
    const struct net_addr *, const struct listener_conf *);
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
struct worker_settings {
	long idle_timeout;
	long max_clients_per_source;
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
};

struct worker_cmd {
	enum worker_cmd_type type;
	struct acceptor *acceptor;
	struct listener_conf *conf; /* handed over to the acceptor */
	int fd;
	struct net_addr addr;
	struct worker_settings settings;
};

struct worker {
	struct server *server;
	int id;
	pthread_t thread;
	int running;
	struct event_base *base;
	struct mailbox *cmds;       /* struct worker_cmd, from any thread */
	struct mailbox *reply;      /* the main thread's: told when the worker is done */
	struct server_msg done_msg; /* that report */
	int refresh_posted;         /* a WORKER_REFRESH is on its way (atomic) */
	TAILQ_HEAD(, acceptor) acceptors;
	struct worker_settings settings;
	TAILQ_HEAD(, client) idle; /* open clients, the longest idle first */
	struct event *sweep;       /* closes idle clients, late headers: every WORKER_SWEEP_MS */
	char *scratch;             /* CLIENT_READ_MAX bytes: every read lands here */
	uint32_t now;              /* the idle clock at the last sweep, in sweeps */
	unsigned long nclients;
	int closing; /* listening sockets in their grace period */
	int stopping;
	int done;
};

struct worker *worker_new(struct server *, int id, struct mailbox *reply, char *err, size_t errlen);
int worker_start(struct worker *, char *err, size_t errlen);
void worker_post(struct worker *, struct worker_cmd *);
void worker_post_type(struct worker *, enum worker_cmd_type);
void worker_refresh(struct worker *);
void worker_client_added(struct worker *);
void worker_client_removed(struct worker *);
void worker_check_done(struct worker *);
void worker_idle_touch(struct worker *, struct client *);
void worker_header_wait(struct client *);
void worker_join(struct worker *);
void worker_free(struct worker *);

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

/* server.c: the main thread: signals, reload, shutdown, the global limits */
struct server {
	struct config *conf;
	struct event_base *base;
	struct listeners listeners;
	int nworkers;
	struct worker **workers;
	struct mailbox *msgs;   /* struct server_msg, from the workers */
	unsigned long nclients; /* all workers together (atomic) */
	long max_clients;       /* (atomic) */
	int full;               /* max_clients reached: accepting paused (atomic) */
	uint64_t full_count;    /* times it was reached (atomic) */
	uint64_t reloads_ok, reloads_failed;
	double started;            /* CLOCK_MONOTONIC seconds, for the uptime */
	struct metrics *metrics;   /* the endpoint, or NULL: off */
	uint64_t metrics_rejected; /* its connections over metrics_max_connections */
	pthread_mutex_t sources_mu;
	struct sources *sources;       /* clients per source address, under sources_mu */
	struct activation *activation; /* inherited sockets, until server_start() */
	struct log_limit per_source_log;
	struct log_limit untrusted_log; /* peers refused by proxy_from */
	int stopping;
	int workers_done;
	struct event *signals[4];
	struct event *shutdown_timer;
};

/* metrics.c: the status and metrics endpoint, on the main thread */
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
	struct metrics_listener *listeners;
	int have_host, have_proc;
	struct host_tcp host;
	struct proc_self proc;
};

struct metrics;
struct metrics *metrics_new(
    struct server *, const struct net_addr *, long max_conns, char *err, size_t errlen);
int metrics_start(struct metrics *, struct event_base *, char *err, size_t errlen);
void metrics_set_max_connections(struct metrics *, long);
const struct net_addr *metrics_addr(const struct metrics *);
void metrics_free(struct metrics *);
int metrics_snapshot(struct server *, struct metrics_snapshot *);
void metrics_snapshot_free(struct metrics_snapshot *);
void metrics_format_prom(const struct metrics_snapshot *, struct evbuffer *);
void metrics_format_json(const struct metrics_snapshot *, struct evbuffer *);
struct evkeyvalq;
const char *metrics_framing_error(const struct evkeyvalq *);

struct server *server_new(struct config *, struct activation *, char *err, size_t errlen);
int server_start(struct server *, char *err, size_t errlen);
int server_run(struct server *);
void server_free(struct server *);
void server_stop(struct server *);
void server_fit_descriptors(const struct config *);
int server_workers(const struct config *);
int server_admit(struct server *);
void server_release(struct server *);
int server_source_add(struct server *, const struct source_key *, long limit);
void server_source_remove(struct server *, const struct source_key *);

#endif

/*
 * synackd.h: the daemon's internal interface, grouped by the file that
 * implements each part.  Data flows one way: config -> listeners ->
 * clients -> services; logging (log.h) and sockets (net.h) are on the side.
 */
#ifndef SYNACKD_H
#define SYNACKD_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/queue.h>
#include <sys/time.h>
#include <time.h>

#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

#include "log.h"
#include "net.h"

/* Exit codes, as in sysexits(3). */
#define EXIT_USAGE 64
#define EXIT_OSERR 71
#define EXIT_CONFIG 78

#define ERRLEN 512

struct client;
struct listener;
struct server;

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
	char *metrics;
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

/* daemon.c */
int daemon_detach(char *err, size_t errlen);
int daemon_fail(int fd, int code);
void daemon_ready(int fd);
int pidfile_open(const char *path, char *err, size_t errlen);
int pidfile_write(int fd, const char *path, char *err, size_t errlen);
void pidfile_close(int fd, const char *path);
int privileges_drop(const char *user, const char *group, char *err, size_t errlen);
int nofile_fit(long need, const char *why, char *msg, size_t msglen);

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
	int (*listener_init)(struct listener *);
	void (*listener_free)(struct listener *);
	/* a reload changed the listener's conf (l->conf), old is the previous one */
	void (*listener_reconfigure)(struct listener *, const struct listener_conf *old);
	void (*open)(struct client *);
	void (*read)(struct client *);
	void (*drained)(struct client *);
	void (*close)(struct client *);
};
const struct service *service_find(const char *name);
const char *service_names(void);
void service_drop_input(struct client *);

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
/* service-daytime.c */
size_t daytime_format(time_t t, char *buf, size_t size);

/* listener.c */
struct listener_stats {
	uint64_t accepted;
	uint64_t closed;
	uint64_t idle_closed;
	uint64_t accept_errors;
	uint64_t rejected_per_source; /* over max_clients_per_source */
	uint64_t bytes_in;
	uint64_t bytes_out;
	unsigned active;
};

struct listener {
	TAILQ_ENTRY(listener) entry;
	struct server *server;
	struct listener_conf *conf; /* its own copy */
	struct net_addr addr;       /* bound: the real port */
	char addrstr[NET_ADDRSTRLEN];
	int fd;
	struct evconnlistener *evl;
	struct event *retry; /* re-enable accepting after EMFILE and friends */
	int enabled;         /* accepting now */
	int backoff;         /* accept failed for lack of resources */
	int retired;         /* removed by a reload; freed when its clients are gone */
	int freeing;
	TAILQ_HEAD(, client) clients;
	void *service_state;
	struct listener_stats stats;
};
TAILQ_HEAD(listeners, listener);

struct listener *listener_new(
    struct server *, const struct listener_conf *, char *err, size_t errlen);
int listener_start(struct listener *, struct event_base *, char *err, size_t errlen);
int listener_reconfigure(struct listener *, const struct listener_conf *);
void listener_refresh(struct listener *);
void listener_set_backoff(struct listener *, int on);
void listener_close(struct listener *);
void listener_free(struct listener *);

/* client.c */
enum client_state { CLIENT_OPEN, CLIENT_DRAINING, CLIENT_LINGERING, CLIENT_DEAD };

struct client {
	TAILQ_ENTRY(client) entry;
	struct listener *listener;
	struct bufferevent *bev;
	char peer[NET_ADDRSTRLEN];
	enum client_state state;
	const char *reason;
	int peer_eof;
	int error;    /* errno of a read or write failure */
	int paused;   /* reading stopped until output drains */
	size_t lowat; /* write low watermark the service asked for */
	uint64_t bytes_in;
	size_t in_left;        /* input the service left for later */
	uint64_t bytes_queued; /* bytes_out = bytes_queued - pending output */
	struct event *timer;   /* idle check, linger bound, deferred free */
	struct timeval last_active;
	struct timeval last_read;
	int stopping; /* graceful shutdown: close once quiet */
	uint64_t idle_mark;
	struct source_key source;
	int has_source;   /* counted in the server's sources */
	void *state_data; /* the service's per-client state */
};

void client_accept(struct listener *, evutil_socket_t, struct sockaddr *, int socklen);
void client_close(struct client *, const char *reason);
void client_abort(struct client *, const char *reason);
void client_free(struct client *);
void client_shutdown(struct client *);
void client_idle_start(struct client *);
void client_write(struct client *, const void *, size_t);
void client_write_ref(struct client *, const void *, size_t);
void client_write_buffer(struct client *, struct evbuffer *);
void client_set_lowat(struct client *, size_t);
size_t client_pending(const struct client *);
size_t client_flush(struct client *);
void client_set_read_rate(struct client *, const struct ev_token_bucket_cfg *);
struct evbuffer *client_input(struct client *);

/* server.c */
struct server {
	struct config *conf;
	struct event_base *base;
	struct listeners listeners;
	unsigned long nclients;
	struct sources *sources; /* clients per source address */
	struct log_limit per_source_log;
	int full; /* max_clients reached: accepting paused */
	int stopping;
	struct event *signals[4];
	struct event *shutdown_timer;
};

struct server *server_new(struct config *, char *err, size_t errlen);
int server_start(struct server *, char *err, size_t errlen);
int server_run(struct server *);
void server_free(struct server *);
void server_stop(struct server *);
void server_fit_descriptors(const struct config *);
void server_client_added(struct server *);
void server_client_removed(struct server *, struct listener *);

#endif

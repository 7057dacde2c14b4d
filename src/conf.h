/* SPDX-License-Identifier: ISC */
/*
 * conf.h: config.c's interface: the configuration file, parsed and
 * checked, as the daemon runs it.  (Named apart from config.h, which is
 * autoconf's.)
 */
#ifndef SYNACK_CONF_H
#define SYNACK_CONF_H

#include <stddef.h>
#include <stdint.h>
#include <sys/queue.h>

#include "cidr.h"
#include "net.h"

#define ERRLEN 512 /* an error text: "FILE:LINE: ...", "bind ADDR: ..." */

#define LISTENER_KEYS 24 /* room in listener_conf.key_line */

#define CHAT_RATE_DEFAULT 1048576 /* chat_rate: bytes per second per member */
#define MAX_DATAGRAM_DEFAULT 2048 /* max_datagram: bytes of a datagram read */
#define MAX_DATAGRAM_LIMIT 65535  /* the largest a UDP datagram's length field says */
#define UDP_RATE_DEFAULT 5        /* udp_rate: chargen and daytime answers a second a source */

enum transport { TRANSPORT_TCP, TRANSPORT_UDP };

struct service;

struct listener_conf {
	TAILQ_ENTRY(listener_conf) entry;
	char *name;
	int line; /* of its [listener NAME] header */
	const struct service *service;
	char *address;        /* as written */
	struct net_addr addr; /* parsed, with the port */
	int port;             /* -1 until set */
	enum transport transport;
	int backlog;
	int reuseport;
	int keepalive;
	int defer_accept;
	int fastopen; /* TCP_FASTOPEN: the queue of SYNs with data not yet accepted; 0 = off */
	int save_syn; /* TCP_SAVE_SYN: each client's SYN read at accept */
	int proxy_protocol;
	long proxy_timeout;          /* seconds for the PROXY header to arrive */
	struct cidr_list proxy_from; /* who may send it; empty: anyone */
	long max_line;
	long output_limit;
	long chat_rate;              /* bytes per second a chat member may send; 0 = any */
	long chat_burst;             /* bytes it may send at once */
	long max_datagram;           /* udp: bytes read of a datagram; longer ones are dropped */
	long udp_rate;               /* udp: chargen/daytime answers a second a source; 0 = any */
	long rcvbuf;                 /* udp: SO_RCVBUF bytes asked for; 0 = the kernel's default */
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
	long accept_wait_warn;        /* ms in the accept queue worth a warning; 0 = off */
	char *metrics;                /* as written; empty: off */
	long metrics_max_connections; /* the endpoint's connections at once */
	struct net_addr metrics_addr; /* parsed, when set */
	int metrics_line;
	uint64_t seen;
	struct listener_confs listeners;
};

#define CONFIG_MAX_SIZE (1024 * 1024) /* bytes: more is not a configuration */
#define CONFIG_OWN_DESCRIPTORS 32     /* beyond clients and listeners */
#define CONFIG_TFO_SERVER 0x2         /* net.ipv4.tcp_fastopen's bit that serves Fast Open */

struct config *config_load(const char *path, char *err, size_t errlen);
struct config *config_parse(
    const char *data, size_t len, const char *name, char *err, size_t errlen);
void config_free(struct config *);
long config_descriptors(const struct config *, char *why, size_t whylen);
struct listener_conf *config_find_listener(struct config *, const char *name);
const struct listener_conf *config_fastopen_unserved(const struct config *, long tcp_fastopen);
struct listener_conf *listener_conf_dup(const struct listener_conf *);
void listener_conf_free(struct listener_conf *);

#endif

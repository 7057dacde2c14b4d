/* SPDX-License-Identifier: ISC */
/*
 * activation.h: activation.c's interface: the listening (stream) and bound
 * (datagram) sockets a service manager passed (LISTEN_FDS), checked and
 * handed to the listeners.
 */
#ifndef SYNACK_ACTIVATION_H
#define SYNACK_ACTIVATION_H

#include <stddef.h>

#include "net.h"

struct listener_conf;

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
	int type;                        /* SOCK_STREAM or SOCK_DGRAM, if FREE or ADOPTED */
	struct net_addr addr;            /* getsockname(), if FREE or ADOPTED */
	int reuseport;                   /* SO_REUSEPORT is set on it */
	char other[ACTIVATION_NAME_MAX]; /* FREE: a listener of the other transport it fits */
	char why[128];                   /* BAD: why it cannot be used */
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
int activation_type(int transport);
struct activation_fd *activation_take(struct activation *, const struct listener_conf *);
void activation_finish(struct activation *);

#endif

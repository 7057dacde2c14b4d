/* SPDX-License-Identifier: ISC */
/*
 * net.h: socket helpers shared by the daemon, the load generator and the
 * tests.  Nothing here keeps state or exits: on failure a helper returns
 * -1 and writes "call address: strerror" into the caller's buffer.
 */
#ifndef SYNACK_NET_H
#define SYNACK_NET_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/un.h>

/* "unix:" + the longest sun_path, or "[" v6 "%scope]:65535" */
#define NET_ADDRSTRLEN (sizeof "unix:" + sizeof(((struct sockaddr_un *)0)->sun_path))

struct net_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	int dual; /* "*": IPv6 with IPV6_V6ONLY off, IPv4 if IPv6 is absent */
};

struct net_listen_opts {
	int backlog;
	int reuseport;
	int keepalive;
	int nodelay;
	int defer_accept; /* seconds; 0 = off */
	int fastopen;     /* TCP_FASTOPEN's queue length; 0 = not set */
	int save_syn;     /* TCP_SAVE_SYN */
	int rcvbuf;       /* UDP: SO_RCVBUF's request in bytes; 0 = the kernel's default */
};

int net_addr_parse(struct net_addr *, const char *host, int port, char *err, size_t errlen);
int net_addr_parse_hostport(struct net_addr *, const char *s, char *err, size_t errlen);
int net_addr_equal(const struct net_addr *, const struct net_addr *);
int net_addr_overlap(const struct net_addr *, const struct net_addr *);
int net_addr_port(const struct net_addr *);
const char *net_addr_format(const struct sockaddr *, socklen_t, char *buf, size_t size);
const char *net_addr_str(const struct net_addr *, char *buf, size_t size);
int net_setopt(int fd, int level, int name, int value, const char *what, const struct net_addr *,
    char *err, size_t errlen);
int net_listen(struct net_addr *, const struct net_listen_opts *, char *err, size_t errlen);
int net_bind_datagram(struct net_addr *, const struct net_listen_opts *, char *err, size_t errlen);
int net_datagram_opts(int fd, const struct net_addr *, int rcvbuf, char *err, size_t errlen);
int net_rcvbuf(int fd, const struct net_addr *, int bytes, char *err, size_t errlen);
int net_sysctl(const char *path);
int net_somaxconn(void);
int net_drop_syns(int fd, char *err, size_t errlen);
void net_allow_syns(int fd);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * queues.c: the two queues of a listening socket, as the kernel keeps
 * them.  The accept queue holds connections whose handshake completed
 * and that wait for accept(): TCP_INFO on the listening socket gives its
 * length (tcpi_unacked) and its limit, the backlog in effect
 * (tcpi_sacked); for a unix socket, sock_diag's UNIX_DIAG_RQLEN gives the
 * same two.  The SYN queue holds half-open connections (SYN received,
 * SYN-ACK sent, no ACK yet): they are request sockets in state SYN_RECV,
 * listed by a sock_diag (inet_diag) dump, which is what ss(8) reads, and
 * counted per listener by their local address and port.
 *
 * A UDP socket has a receive queue instead: the datagrams the kernel
 * holds for it, counted in the memory they take (each one's truesize,
 * about its length plus a few hundred bytes of buffer overhead), up to
 * SO_RCVBUF (which the kernel doubles from what was set, for the same
 * overhead); a datagram that finds it full is dropped (SO_RXQ_OVFL
 * counts those).  sock_diag's udp_diag gives each socket's queue as
 * idiag_rqueue, found by the socket's inode; with SO_REUSEPORT a
 * listener has one socket per worker, summed.
 *
 * Nothing here keeps state: each call opens its netlink socket and
 * closes it, so a scrape costs what it reads and nothing in between.
 */
#include "config.h"

#include <errno.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/unix_diag.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "queues.h"

#define QUEUES_BUFSIZE 32768

int
queue_accept(int fd, int family, struct queue_len *q, char *err, size_t errlen)
{
	struct tcp_info ti;
	socklen_t len = sizeof ti;

	if (family == AF_UNIX)
		return queue_accept_unix(fd, q, err, errlen);
	memset(&ti, 0, sizeof ti);
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == -1) {
		snprintf(err, errlen, "getsockopt TCP_INFO: %s", strerror(errno));
		return -1;
	}
	/* on a listening socket these two fields are its queue and backlog */
	q->len = ti.tcpi_unacked;
	q->max = ti.tcpi_sacked;
	return 0;
}

static int
queue_netlink(char *err, size_t errlen)
{
	int nl = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);

	if (nl == -1)
		snprintf(err, errlen, "socket NETLINK_SOCK_DIAG: %s", strerror(errno));
	return nl;
}

static int
queue_send(int nl, const void *req, size_t len, char *err, size_t errlen)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(nl, req, len, 0, (struct sockaddr *)&sa, sizeof sa) != (ssize_t)len) {
		snprintf(err, errlen, "sock_diag request: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/*
 * Read replies until the dump is done, handing each message to fn;
 * returns 0, or -1 with the kernel's error.
 */
static int
queue_recv(int nl, void (*fn)(const struct nlmsghdr *, void *), void *arg, char *err, size_t errlen)
{
	static __thread char buf[QUEUES_BUFSIZE] __attribute__((aligned(NLMSG_ALIGNTO)));
	struct nlmsghdr *h;
	ssize_t n;

	for (;;) {
		if ((n = recv(nl, buf, sizeof buf, 0)) == -1) {
			if (errno == EINTR)
				continue;
			snprintf(err, errlen, "sock_diag reply: %s", strerror(errno));
			return -1;
		}
		if (n == 0) {
			snprintf(err, errlen, "sock_diag reply: end of stream");
			return -1;
		}
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);

				if (h->nlmsg_len < NLMSG_LENGTH(sizeof *e) || e->error == 0)
					return 0;
				errno = -e->error;
				snprintf(err, errlen, "sock_diag: %s", strerror(errno));
				return -1;
			}
			fn(h, arg);
			if (!(h->nlmsg_flags & NLM_F_MULTI))
				return 0;
		}
	}
}

struct unix_ctx {
	struct queue_len *q;
	int found;
};

static void
queue_unix_msg(const struct nlmsghdr *h, void *arg)
{
	struct unix_ctx *ctx = arg;
	const struct unix_diag_msg *m = NLMSG_DATA(h);
	const struct rtattr *a;
	int len;

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return;
	len = (int)(h->nlmsg_len - NLMSG_LENGTH(sizeof *m));
	for (a = (const struct rtattr *)(m + 1); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == UNIX_DIAG_RQLEN &&
		    RTA_PAYLOAD(a) >= sizeof(struct unix_diag_rqlen)) {
			const struct unix_diag_rqlen *rq = RTA_DATA(a);

			/* on a listening unix socket: the queue and the backlog */
			ctx->q->len = rq->udiag_rqueue;
			ctx->q->max = rq->udiag_wqueue;
			ctx->found = 1;
		}
	}
}

/* A unix listening socket, looked up by its inode. */
int
queue_accept_unix(int fd, struct queue_len *q, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nlh;
		struct unix_diag_req r;
	} req;
	struct unix_ctx ctx = { .q = q };
	struct stat st;
	int nl, rc;

	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "fstat: %s", strerror(errno));
		return -1;
	}
	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST;
	req.r.sdiag_family = AF_UNIX;
	req.r.udiag_states = 1U << TCP_LISTEN;
	req.r.udiag_ino = (unsigned)st.st_ino;
	req.r.udiag_show = UDIAG_SHOW_RQLEN;
	req.r.udiag_cookie[0] = req.r.udiag_cookie[1] = INET_DIAG_NOCOOKIE;
	if ((nl = queue_netlink(err, errlen)) == -1)
		return -1;
	rc = queue_send(nl, &req, sizeof req, err, errlen);
	if (rc == 0)
		rc = queue_recv(nl, queue_unix_msg, &ctx, err, errlen);
	close(nl);
	if (rc == 0 && !ctx.found) {
		snprintf(err, errlen, "sock_diag: no unix socket with inode %lu",
		    (unsigned long)st.st_ino);
		return -1;
	}
	return rc;
}

/*
 * Does a socket of this family, bound to src (network order, as
 * inet_diag gives it: IPv4 in the first word) and port (host order),
 * belong to listener l?  A wildcard listener takes every address of its
 * family, and a dual-stack one ("*") IPv4 too.
 */
int
queue_syn_match(const struct net_addr *l, int family, const uint32_t src[4], unsigned port)
{
	const struct sockaddr_in *sin = (const struct sockaddr_in *)&l->ss;
	const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)&l->ss;

	if (l->ss.ss_family == AF_INET) {
		if (family != AF_INET || ntohs(sin->sin_port) != port)
			return 0;
		return sin->sin_addr.s_addr == INADDR_ANY || sin->sin_addr.s_addr == src[0];
	}
	if (l->ss.ss_family != AF_INET6 || ntohs(sin6->sin6_port) != port)
		return 0;
	if (family == AF_INET)
		return l->dual;
	if (family != AF_INET6)
		return 0;
	return IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr) ||
	    memcmp(&sin6->sin6_addr, src, sizeof sin6->sin6_addr) == 0;
}

/*
 * One inet_diag dump on nl: the sockets of this family and protocol in
 * these states (bound to port sport, host order, unless it is 0), each
 * handed to fn.
 */
static int
queue_dump(int nl, int family, int protocol, uint32_t states, unsigned sport,
    void (*fn)(const struct nlmsghdr *, void *), void *arg, char *err, size_t errlen)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
	} req;

	memset(&req, 0, sizeof req);
	req.nlh.nlmsg_len = sizeof req;
	req.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	req.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
	req.r.sdiag_family = (unsigned char)family;
	req.r.sdiag_protocol = (unsigned char)protocol;
	req.r.idiag_states = states;
	req.r.id.idiag_sport = htons((uint16_t)sport);
	if (queue_send(nl, &req, sizeof req, err, errlen) == -1)
		return -1;
	return queue_recv(nl, fn, arg, err, errlen);
}

struct syn_ctx {
	const struct net_addr *addrs;
	size_t n;
	unsigned long *counts;
};

static void
queue_syn_msg(const struct nlmsghdr *h, void *arg)
{
	struct syn_ctx *ctx = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	uint32_t src[4];

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m) || m->idiag_state != TCP_SYN_RECV)
		return;
	memcpy(src, m->id.idiag_src, sizeof src);
	for (size_t i = 0; i < ctx->n; i++)
		if (queue_syn_match(&ctx->addrs[i], m->idiag_family, src, ntohs(m->id.idiag_sport)))
			ctx->counts[i]++;
}

int
queue_syn_recv(
    const struct net_addr *addrs, size_t n, unsigned long *counts, char *err, size_t errlen)
{
	static const int families[] = { AF_INET, AF_INET6 };
	struct syn_ctx ctx = { addrs, n, counts };
	int nl, rc = 0;

	memset(counts, 0, n * sizeof *counts);
	if ((nl = queue_netlink(err, errlen)) == -1)
		return -1;
	for (size_t f = 0; rc == 0 && f < sizeof families / sizeof families[0]; f++) {
		rc = queue_dump(nl, families[f], IPPROTO_TCP, 1U << TCP_SYN_RECV, 0, queue_syn_msg,
		    &ctx, err, errlen);
		/* a host without IPv6 has nothing of that family to list */
		if (rc == -1 && families[f] == AF_INET6 && errno == ENOENT)
			rc = 0;
	}
	close(nl);
	return rc;
}

struct recv_ctx {
	const unsigned long *inodes;
	size_t n;
	struct queue_recv *q;
};

static void
queue_recv_msg(const struct nlmsghdr *h, void *arg)
{
	struct recv_ctx *ctx = arg;
	const struct inet_diag_msg *m = NLMSG_DATA(h);

	if (h->nlmsg_len < NLMSG_LENGTH(sizeof *m))
		return;
	for (size_t i = 0; i < ctx->n; i++)
		if (ctx->inodes[i] != 0 && ctx->inodes[i] == m->idiag_inode) {
			ctx->q->queued += m->idiag_rqueue;
			ctx->q->sockets++;
		}
}

/*
 * The receive queues of the n UDP sockets fds (-1: none) of one family,
 * bound to port (host order), summed into *q with their SO_RCVBUF.
 */
int
queue_datagram(const int *fds, size_t n, int family, unsigned port, struct queue_recv *q, char *err,
    size_t errlen)
{
	struct recv_ctx ctx = { .n = n, .q = q };
	unsigned long *inodes;
	struct stat st;
	socklen_t len;
	int nl, rc, buf;

	memset(q, 0, sizeof *q);
	if ((inodes = calloc(n > 0 ? n : 1, sizeof *inodes)) == NULL) {
		snprintf(err, errlen, "receive queue: out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		len = sizeof buf;
		if (fds[i] == -1)
			continue;
		if (fstat(fds[i], &st) == -1) {
			snprintf(err, errlen, "fstat fd %d: %s", fds[i], strerror(errno));
			free(inodes);
			return -1;
		}
		if (getsockopt(fds[i], SOL_SOCKET, SO_RCVBUF, &buf, &len) == -1) {
			snprintf(
			    err, errlen, "getsockopt SO_RCVBUF fd %d: %s", fds[i], strerror(errno));
			free(inodes);
			return -1;
		}
		inodes[i] = (unsigned long)st.st_ino;
		q->buffer += (uint64_t)buf;
	}
	ctx.inodes = inodes;
	if ((nl = queue_netlink(err, errlen)) == -1) {
		free(inodes);
		return -1;
	}
	/* every state: an unconnected UDP socket is in state CLOSE */
	rc = queue_dump(nl, family, IPPROTO_UDP, ~0U, port, queue_recv_msg, &ctx, err, errlen);
	close(nl);
	free(inodes);
	return rc;
}

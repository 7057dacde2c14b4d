/* SPDX-License-Identifier: ISC */
/*
 * echo-udp.c: the reference for what a UDP echo server costs at the least.
 *
 * One socket bound to the wildcard address, blocking recvmmsg() of up to
 * BATCH datagrams and one sendmmsg() of their echoes, all in one scratch
 * area made at the start: nothing is allocated per datagram.  Each echo
 * leaves from the address its datagram was sent to (IP_PKTINFO, passed
 * back to sendmmsg as it came), so that a client that wrote to 127.0.0.2
 * gets its answer from 127.0.0.2 and not from the address the routing
 * table would pick.  With -D it reads and drops everything: the discard
 * reference.  SIGUSR1 makes it print the datagrams and bytes it has
 * received so far ("received N datagrams, B bytes"): what the bench counts
 * as delivered to a discard.
 *
 * usage: echo-udp [-D] [PORT]
 * PORT 0 or none: the kernel chooses.  Prints "listening on 127.0.0.1:PORT"
 * (the socket takes every local address; 127.0.0.1 is where to aim).
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#define BATCH 32
#define DGRAM_MAX 65536 /* above the largest UDP payload: nothing is truncated */
#define RCVBUF (4 << 20)

/* The scratch area: BATCH datagrams, their peers and their control data. */
struct slot {
	struct sockaddr_in peer;
	struct iovec iov;
	union {
		char buf[CMSG_SPACE(sizeof(struct in_pktinfo))];
		struct cmsghdr align;
	} control;
	char data[DGRAM_MAX];
};

static struct slot slots[BATCH];
static struct mmsghdr in[BATCH], out[BATCH];
/* Written by the loop, read by the SIGUSR1 handler (aligned 64-bit: one load). */
static volatile unsigned long long received, received_bytes;

/* Exit at once: the tools that wrap the server (strace, valgrind) report at exit. */
static void
on_signal(int sig)
{
	(void)sig;
	_exit(0);
}

/* Decimal digits of v at the end of buf; returns where they start. */
static char *
decimal(char *end, unsigned long long v)
{
	do {
		*--end = (char)('0' + v % 10);
		v /= 10;
	} while (v > 0);
	return end;
}

/*
 * "received N datagrams, B bytes": written by the handler itself with
 * write(2), which is async-signal-safe, so that the answer never waits
 * for the next datagram (a flag for the loop would, if the signal came
 * just before it blocked in recvmmsg).
 */
static void
on_usr1(int sig)
{
	char line[96], n[24], b[24], *p = line;
	const char *parts[5];

	(void)sig;
	parts[0] = "received ";
	parts[1] = decimal(n + sizeof n - 1, received);
	n[sizeof n - 1] = '\0';
	parts[2] = " datagrams, ";
	parts[3] = decimal(b + sizeof b - 1, received_bytes);
	b[sizeof b - 1] = '\0';
	parts[4] = " bytes\n";
	for (int i = 0; i < 5; i++)
		for (const char *s = parts[i]; *s != '\0'; s++)
			*p++ = *s;
	(void)!write(STDOUT_FILENO, line, (size_t)(p - line));
}

/*
 * The control data as sendmsg wants it, rewritten in place: only
 * IP_PKTINFO, with ipi_spec_dst (the address the datagram came to) as the
 * source and the interface left to the routing; 0 if there was none.
 */
static size_t
reply_control(struct msghdr *m, char *buf)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(m); c != NULL; c = CMSG_NXTHDR(m, c)) {
		if (c->cmsg_level == IPPROTO_IP && c->cmsg_type == IP_PKTINFO) {
			struct in_pktinfo pi;
			struct cmsghdr *r = (struct cmsghdr *)(void *)buf;

			memcpy(&pi, CMSG_DATA(c), sizeof pi);
			pi.ipi_ifindex = 0;
			pi.ipi_addr.s_addr = 0;
			r->cmsg_level = IPPROTO_IP;
			r->cmsg_type = IP_PKTINFO;
			r->cmsg_len = CMSG_LEN(sizeof pi);
			memcpy(CMSG_DATA(r), &pi, sizeof pi);
			return CMSG_SPACE(sizeof pi);
		}
	}
	return 0;
}

static int
udp_open(uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	int one = 1, rcvbuf = RCVBUF;
	int fd = socket(AF_INET, SOCK_DGRAM, 0);

	sin.sin_addr.s_addr = htonl(INADDR_ANY);
	sin.sin_port = htons(*port);
	if (fd == -1 || setsockopt(fd, IPPROTO_IP, IP_PKTINFO, &one, sizeof one) == -1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof sin) == -1 ||
	    getsockname(fd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	/* A bigger receive buffer only if allowed: the default still works. */
	(void)setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof rcvbuf);
	*port = ntohs(sin.sin_port);
	return fd;
}

static void
slots_init(void)
{
	for (int i = 0; i < BATCH; i++) {
		slots[i].iov.iov_base = slots[i].data;
		in[i].msg_hdr.msg_iov = &slots[i].iov;
		in[i].msg_hdr.msg_iovlen = 1;
		out[i].msg_hdr.msg_iov = &slots[i].iov;
		out[i].msg_hdr.msg_iovlen = 1;
	}
}

static void
serve(int fd, int discard)
{
	for (;;) {
		int n, m = 0;
		unsigned long long bytes = 0;

		/* recvmmsg rewrites the lengths: set them again for each batch */
		for (int i = 0; i < BATCH; i++) {
			slots[i].iov.iov_len = DGRAM_MAX;
			in[i].msg_hdr.msg_name = &slots[i].peer;
			in[i].msg_hdr.msg_namelen = sizeof slots[i].peer;
			in[i].msg_hdr.msg_control = slots[i].control.buf;
			in[i].msg_hdr.msg_controllen = sizeof slots[i].control.buf;
			in[i].msg_hdr.msg_flags = 0;
		}
		/* MSG_WAITFORONE: block for the first, then take what is queued */
		n = recvmmsg(fd, in, BATCH, MSG_WAITFORONE, NULL);
		if (n == -1) {
			if (errno == EINTR)
				continue;
			perror("echo-udp: recvmmsg");
			exit(1);
		}
		for (int i = 0; i < n; i++)
			bytes += in[i].msg_len;
		received_bytes += bytes;
		received += (unsigned)n;
		if (discard)
			continue;
		for (int i = 0; i < n; i++) {
			struct msghdr *h = &in[i].msg_hdr;
			struct slot *s = &slots[i];

			/* a truncated datagram is not echoed: the reply would differ */
			if (h->msg_flags & MSG_TRUNC)
				continue;
			s->iov.iov_len = in[i].msg_len;
			out[m].msg_hdr.msg_iov = &s->iov;
			out[m].msg_hdr.msg_name = &s->peer;
			out[m].msg_hdr.msg_namelen = h->msg_namelen;
			out[m].msg_hdr.msg_control = s->control.buf;
			out[m].msg_hdr.msg_controllen = reply_control(h, s->control.buf);
			if (out[m].msg_hdr.msg_controllen == 0)
				out[m].msg_hdr.msg_control = NULL;
			m++;
		}
		/*
		 * Send what the socket takes; a datagram it refuses (a full
		 * send buffer, an ICMP error left by a peer gone) is dropped,
		 * as UDP would drop it on the way.
		 */
		for (int done = 0; done < m;) {
			int r = sendmmsg(fd, out + done, (unsigned)(m - done), 0);

			if (r == -1) {
				if (errno == EINTR)
					continue;
				done++;
				continue;
			}
			done += r;
		}
	}
}

int
main(int argc, char **argv)
{
	uint16_t port = 0;
	int discard = 0, opt, fd;
	struct sigaction sa;

	while ((opt = getopt(argc, argv, "D")) != -1) {
		switch (opt) {
		case 'D':
			discard = 1;
			break;
		default:
			goto usage;
		}
	}
	if (argc - optind > 1)
		goto usage;
	if (optind < argc)
		port = (uint16_t)atoi(argv[optind]);

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_usr1;
	sa.sa_flags = SA_RESTART;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGUSR1, &sa, NULL);
	if ((fd = udp_open(&port)) == -1) {
		perror("echo-udp: bind");
		return 1;
	}
	slots_init();
	printf("listening on 127.0.0.1:%u\n", port);
	fflush(stdout);
	serve(fd, discard);
	return 0;

usage:
	fprintf(stderr, "usage: echo-udp [-D] [PORT]\n");
	return 2;
}

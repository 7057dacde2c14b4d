/* SPDX-License-Identifier: ISC */
/*
 * echo-epoll.c: the reference for what an echo (or discard) server costs at
 * the least.
 *
 * Level-triggered epoll, one read and one write per request, no buffering
 * beyond a per-connection overflow for partial writes.  With -t N it runs N
 * threads, each with its own listening socket on the same port
 * (SO_REUSEPORT: the kernel spreads the connections) and its own epoll
 * loop, so that it is also the N-thread reference.  With -D it reads and
 * drops everything: the discard reference.  The soft open-file limit is
 * raised to the hard one, so that it holds as many clients as a process may.
 * With -C it is a character generator (RFC 864, the pattern of synackd's
 * chargen service): it writes the pattern as fast as the client reads,
 * BUFSZ bytes per write, each a slice of one buffer made at the start, and
 * reads and drops what the client sends: the reference for a stream that
 * only receives.
 *
 * usage: echo-epoll [-C | -D] [-t THREADS] [PORT]
 * PORT 0 or none: the kernel chooses.  Prints "listening on 127.0.0.1:PORT".
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define BUFSZ 65536
#define MAXTHREADS 64
#define CHARGEN_LINE 74 /* 72 characters, CR LF */
#define CHARGEN_CYCLE (95 * CHARGEN_LINE)

struct conn {
	char *pending; /* bytes the socket did not take yet */
	size_t len;
	size_t off; /* -C: where in the chargen cycle the next write starts */
};

struct loop {
	int lfd;
	int ep;
	pthread_t thread;
};

/* Indexed by descriptor: a descriptor belongs to one loop at a time. */
static struct conn *conns;
static size_t nconns;
static int discard;
static char *chargen; /* -C: the cycle and BUFSZ bytes more */

/* Exit at once: the tools that wrap the server (strace, valgrind) report at exit. */
static void
on_signal(int sig)
{
	_exit(0);
}

static void
conn_close(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	free(conns[fd].pending);
	conns[fd].pending = NULL;
	conns[fd].len = 0;
	conns[fd].off = 0;
	close(fd);
}

/* -C: line k is 72 characters from the k-th printable one on, then CR LF. */
static char *
chargen_new(void)
{
	char *p = malloc(CHARGEN_CYCLE + BUFSZ);

	if (p == NULL)
		return NULL;
	for (size_t i = 0; i < CHARGEN_CYCLE + BUFSZ; i++) {
		size_t pos = i % CHARGEN_CYCLE, line = pos / CHARGEN_LINE, col = pos % CHARGEN_LINE;

		p[i] = col < 72 ? (char)(' ' + (line + col) % 95) : col == 72 ? '\r' : '\n';
	}
	return p;
}

/*
 * -C: as much of the pattern as the socket takes, from where the last
 * write ended; -1 if the connection is closed.
 */
static int
conn_chargen(int ep, int fd)
{
	struct conn *c = &conns[fd];
	ssize_t w = write(fd, chargen + c->off, BUFSZ);

	if (w < 0) {
		if (errno == EAGAIN)
			return 0;
		conn_close(ep, fd);
		return -1;
	}
	c->off = (c->off + (size_t)w) % CHARGEN_CYCLE;
	return 0;
}

/* Echo what was read; keep what the socket refuses and wait for EPOLLOUT. */
static void
conn_send(int ep, int fd, const char *buf, size_t n)
{
	struct epoll_event ev = { .data.fd = fd };
	ssize_t w = write(fd, buf, n);

	if (w < 0) {
		if (errno != EAGAIN) {
			conn_close(ep, fd);
			return;
		}
		w = 0;
	}
	if ((size_t)w == n)
		return;
	conns[fd].pending = malloc(n - (size_t)w);
	if (conns[fd].pending == NULL) {
		conn_close(ep, fd);
		return;
	}
	memcpy(conns[fd].pending, buf + w, n - (size_t)w);
	conns[fd].len = n - (size_t)w;
	ev.events = EPOLLOUT;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void
conn_flush(int ep, int fd)
{
	struct conn *c = &conns[fd];
	struct epoll_event ev = { .events = EPOLLIN, .data.fd = fd };
	ssize_t w = write(fd, c->pending, c->len);

	if (w < 0) {
		if (errno != EAGAIN)
			conn_close(ep, fd);
		return;
	}
	if ((size_t)w < c->len) {
		memmove(c->pending, c->pending + w, c->len - (size_t)w);
		c->len -= (size_t)w;
		return;
	}
	free(c->pending);
	c->pending = NULL;
	c->len = 0;
	epoll_ctl(ep, EPOLL_CTL_MOD, fd, &ev);
}

static void
loop_accept(struct loop *l)
{
	struct epoll_event ev = { .events = EPOLLIN | (chargen != NULL ? EPOLLOUT : 0) };
	int cfd;

	while ((cfd = accept4(l->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		if ((size_t)cfd >= nconns) {
			close(cfd);
			continue;
		}
		ev.data.fd = cfd;
		epoll_ctl(l->ep, EPOLL_CTL_ADD, cfd, &ev);
	}
}

static void *
loop_run(void *arg)
{
	struct loop *l = arg;
	struct epoll_event evs[256];
	char *buf = malloc(BUFSZ);

	if (buf == NULL) {
		perror("echo-epoll: malloc");
		exit(1);
	}
	for (;;) {
		int n = epoll_wait(l->ep, evs, 256, -1);

		if (n == -1 && errno != EINTR) {
			perror("echo-epoll: epoll_wait");
			exit(1);
		}
		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;
			ssize_t r;

			if (fd == l->lfd) {
				loop_accept(l);
				continue;
			}
			if (chargen != NULL && (evs[i].events & EPOLLOUT)) {
				if (conn_chargen(l->ep, fd) == -1 ||
				    !(evs[i].events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
					continue;
			} else if (evs[i].events & EPOLLOUT) {
				conn_flush(l->ep, fd);
				continue;
			}
			r = read(fd, buf, BUFSZ);
			if (r > 0) {
				if (!discard && chargen == NULL)
					conn_send(l->ep, fd, buf, (size_t)r);
			} else if (r == 0 || errno != EAGAIN) {
				conn_close(l->ep, fd);
			}
		}
	}
	return NULL;
}

/* A listening socket on 127.0.0.1:port with its own epoll set. */
static int
loop_open(struct loop *l, uint16_t *port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct epoll_event ev = { .events = EPOLLIN };
	socklen_t len = sizeof sin;
	int one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(*port);
	l->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	if (l->lfd == -1 || setsockopt(l->lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) == -1 ||
	    setsockopt(l->lfd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) == -1 ||
	    setsockopt(l->lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == -1 ||
	    bind(l->lfd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(l->lfd, 4096) == -1 ||
	    getsockname(l->lfd, (struct sockaddr *)&sin, &len) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	if ((l->ep = epoll_create1(0)) == -1)
		return -1;
	ev.data.fd = l->lfd;
	return epoll_ctl(l->ep, EPOLL_CTL_ADD, l->lfd, &ev);
}

int
main(int argc, char **argv)
{
	static struct loop loops[MAXTHREADS];
	struct rlimit rl;
	uint16_t port = 0;
	int threads = 1, opt;

	while ((opt = getopt(argc, argv, "CDt:")) != -1) {
		switch (opt) {
		case 'C':
			if ((chargen = chargen_new()) == NULL) {
				perror("echo-epoll: malloc");
				return 1;
			}
			break;
		case 'D':
			discard = 1;
			break;
		case 't':
			threads = atoi(optarg);
			break;
		default:
			goto usage;
		}
	}
	if (threads < 1 || threads > MAXTHREADS || argc - optind > 1 || (discard && chargen))
		goto usage;
	if (optind < argc)
		port = (uint16_t)atoi(argv[optind]);

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1 || rl.rlim_cur == RLIM_INFINITY)
		rl.rlim_cur = 1 << 20;
	/* calloc: the pages of descriptors never used are never touched */
	nconns = (size_t)rl.rlim_cur;
	if ((conns = calloc(nconns, sizeof *conns)) == NULL) {
		perror("echo-epoll: calloc");
		return 1;
	}

	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	/* The first socket gets the port (or is given it); the others join it. */
	for (int i = 0; i < threads; i++) {
		if (loop_open(&loops[i], &port) == -1) {
			perror("echo-epoll: listen");
			return 1;
		}
	}
	printf("listening on 127.0.0.1:%u\n", port);
	fflush(stdout);
	for (int i = 1; i < threads; i++) {
		if ((errno = pthread_create(&loops[i].thread, NULL, loop_run, &loops[i])) != 0) {
			perror("echo-epoll: pthread_create");
			return 1;
		}
	}
	loop_run(&loops[0]);
	return 0;

usage:
	fprintf(stderr, "usage: echo-epoll [-C | -D] [-t THREADS] [PORT]\n");
	return 2;
}

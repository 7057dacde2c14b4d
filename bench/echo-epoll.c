/*
 * echo-epoll.c: the reference for what an echo server costs at the least.
 *
 * One thread, level-triggered epoll, one read and one write per request,
 * no buffering beyond a per-connection overflow for partial writes.
 * Usage: echo-epoll [PORT]   (0 or none: the kernel chooses; the port is
 * printed as "listening on 127.0.0.1:PORT").
 */
#include "config.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAXFD 65536
#define BUFSZ 65536

struct conn {
	char *pending; /* bytes the socket did not take yet */
	size_t len;
};

static struct conn conns[MAXFD];
static volatile sig_atomic_t stop;

static void
on_signal(int sig)
{
	stop = 1;
}

static void
conn_close(int ep, int fd)
{
	epoll_ctl(ep, EPOLL_CTL_DEL, fd, NULL);
	free(conns[fd].pending);
	conns[fd].pending = NULL;
	conns[fd].len = 0;
	close(fd);
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

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct epoll_event ev, evs[256];
	socklen_t len = sizeof sin;
	static char buf[BUFSZ];
	int lfd, ep, one = 1;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 0);
	signal(SIGTERM, on_signal);
	signal(SIGINT, on_signal);
	signal(SIGPIPE, SIG_IGN);
	lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	setsockopt(lfd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	if (bind(lfd, (struct sockaddr *)&sin, sizeof sin) == -1 || listen(lfd, 4096) == -1 ||
	    getsockname(lfd, (struct sockaddr *)&sin, &len) == -1) {
		perror("echo-epoll: bind/listen");
		return 1;
	}
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	ep = epoll_create1(0);
	ev.events = EPOLLIN;
	ev.data.fd = lfd;
	epoll_ctl(ep, EPOLL_CTL_ADD, lfd, &ev);
	while (!stop) {
		int n = epoll_wait(ep, evs, 256, -1);

		for (int i = 0; i < n; i++) {
			int fd = evs[i].data.fd;

			if (fd == lfd) {
				int cfd;

				while ((cfd = accept4(lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
					if (cfd >= MAXFD) {
						close(cfd);
						continue;
					}
					ev.events = EPOLLIN;
					ev.data.fd = cfd;
					epoll_ctl(ep, EPOLL_CTL_ADD, cfd, &ev);
				}
			} else if (evs[i].events & EPOLLOUT) {
				conn_flush(ep, fd);
			} else {
				ssize_t r = read(fd, buf, sizeof buf);

				if (r > 0)
					conn_send(ep, fd, buf, (size_t)r);
				else if (r == 0 || errno != EAGAIN)
					conn_close(ep, fd);
			}
		}
	}
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * ref-load.c: the yardstick for synack-load's request rate.
 *
 * The smallest client that does the same work as synack-load's rr and crr
 * modes, written straight on epoll with nothing in between: non-blocking
 * connect, TCP_NODELAY, a request of --size bytes from a pseudo-random
 * buffer at a different offset each time, its echo checked byte for byte,
 * a clock read at send and at completion, and for crr a close with
 * SO_LINGER 0 and a new connection.  make bench (bench/bench.sh) runs it
 * and synack-load against the same synackd and reports the ratio.
 *
 * usage: ref-load [-m rr|crr] [-c N] [-d SECONDS] [-s BYTES] [-T MS] HOST:PORT
 * prints: mode rr connections 100 duration_s 5.000 requests 123 requests_per_s 24.6 errors 0
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define PERIOD 65521u
#define MAX_EVENTS 256
#define SCAN_NS 10000000u /* look for timeouts every 10 ms, not per event */

struct ref_conn {
	int fd;
	int connecting;
	unsigned id;
	uint64_t seq;
	uint64_t off;
	size_t sent, got;
	uint64_t t_send, t_connect;
};

static struct sockaddr_storage target;
static socklen_t target_len;
static unsigned char *payload;
static size_t size = 64;
static int crr;
static int epfd;
static uint64_t requests, errors, lat_sum, connect_timeout_ns = 3000000000u;

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int
parse_target(const char *s)
{
	struct sockaddr_in *sin = (struct sockaddr_in *)&target;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&target;
	char host[128];
	const char *colon = strrchr(s, ':');
	size_t n;

	if (colon == NULL || (n = (size_t)(colon - s)) >= sizeof host)
		return -1;
	memcpy(host, s, n);
	host[n] = '\0';
	if (inet_pton(AF_INET, host, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)atoi(colon + 1));
		target_len = sizeof *sin;
		return 0;
	}
	if (n > 2 && host[0] == '[' && host[n - 1] == ']') {
		host[n - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) == 1) {
			sin6->sin6_family = AF_INET6;
			sin6->sin6_port = htons((uint16_t)atoi(colon + 1));
			target_len = sizeof *sin6;
			return 0;
		}
	}
	return -1;
}

static void
ref_close(struct ref_conn *c)
{
	struct linger lg = { 1, 0 };

	if (c->fd == -1)
		return;
	setsockopt(c->fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg);
	close(c->fd); /* also leaves the epoll set */
	c->fd = -1;
}

static void
ref_send(struct ref_conn *c)
{
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	ssize_t n;

	if (c->sent == 0) {
		c->off = ((uint64_t)c->id * 7919u + c->seq * 104729u) % PERIOD;
		c->got = 0;
		c->t_send = now_ns();
	}
	n = send(c->fd, payload + c->off + c->sent, size - c->sent, MSG_NOSIGNAL);
	if (n == -1 && errno != EAGAIN) {
		errors++;
		ref_close(c);
		return;
	}
	c->sent += n > 0 ? (size_t)n : 0;
	if (c->sent < size) {
		ev.events = EPOLLIN | EPOLLOUT;
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
}

static void
ref_open(struct ref_conn *c)
{
	struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = c };
	int one = 1;

	c->fd = socket(target.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd == -1) {
		errors++;
		return;
	}
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
	c->connecting = 1;
	c->sent = 0;
	c->t_connect = now_ns();
	if (connect(c->fd, (struct sockaddr *)&target, target_len) == -1 && errno != EINPROGRESS) {
		errors++;
		ref_close(c);
		return;
	}
	epoll_ctl(epfd, EPOLL_CTL_ADD, c->fd, &ev);
}

static void
ref_event(struct ref_conn *c, uint32_t events)
{
	static unsigned char buf[65536];
	struct epoll_event ev = { .events = EPOLLIN, .data.ptr = c };
	socklen_t len = sizeof(int);
	int err = 0;
	ssize_t n;

	if (c->connecting) {
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 || err != 0) {
			errors++;
			ref_close(c);
			return;
		}
		c->connecting = 0;
		epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
		ref_send(c);
		return;
	}
	if ((events & EPOLLOUT) && c->sent < size) {
		ref_send(c);
		if (c->fd == -1)
			return;
		if (c->sent == size)
			epoll_ctl(epfd, EPOLL_CTL_MOD, c->fd, &ev);
	}
	if (!(events & (EPOLLIN | EPOLLERR | EPOLLHUP)))
		return;
	n = recv(c->fd, buf, sizeof buf, 0);
	if (n == -1 && errno == EAGAIN)
		return;
	if (n <= 0 || c->got + (size_t)n > size ||
	    memcmp(buf, payload + c->off + c->got, (size_t)n) != 0) {
		errors++;
		ref_close(c);
		return;
	}
	c->got += (size_t)n;
	if (c->got < size)
		return;
	lat_sum += now_ns() - c->t_send;
	requests++;
	c->seq++;
	c->sent = 0;
	if (crr) {
		ref_close(c);
		ref_open(c);
	} else
		ref_send(c);
}

int
main(int argc, char **argv)
{
	struct epoll_event evs[MAX_EVENTS];
	struct ref_conn *conns;
	unsigned nconns = 100;
	double duration = 5;
	uint64_t x = 0x9e3779b97f4a7c15ULL, t0, end, now, next_scan;
	int ch;

	while ((ch = getopt(argc, argv, "m:c:d:s:T:")) != -1) {
		switch (ch) {
		case 'm':
			crr = strcmp(optarg, "crr") == 0;
			if (!crr && strcmp(optarg, "rr") != 0) {
				fprintf(stderr, "ref-load: mode rr or crr\n");
				return 2;
			}
			break;
		case 'c':
			nconns = (unsigned)atoi(optarg);
			break;
		case 'd':
			duration = atof(optarg);
			break;
		case 's':
			size = (size_t)atol(optarg);
			break;
		case 'T':
			connect_timeout_ns = (uint64_t)atol(optarg) * 1000000u;
			break;
		default:
			return 2;
		}
	}
	if (optind + 1 != argc || parse_target(argv[optind]) == -1 || nconns == 0 || size == 0 ||
	    size > 65536) {
		fprintf(stderr,
		    "usage: ref-load [-m rr|crr] [-c N] [-d SECONDS] [-s BYTES] "
		    "IPV4:PORT|[IPV6]:PORT\n");
		return 2;
	}
	payload = malloc(PERIOD + 65536);
	conns = calloc(nconns, sizeof *conns);
	if (payload == NULL || conns == NULL || (epfd = epoll_create1(EPOLL_CLOEXEC)) == -1) {
		perror("ref-load");
		return 1;
	}
	for (size_t i = 0; i < PERIOD + 65536; i++) {
		if (i < PERIOD) {
			x ^= x << 13;
			x ^= x >> 7;
			x ^= x << 17;
			payload[i] = (unsigned char)(x >> 32);
		} else
			payload[i] = payload[i - PERIOD];
	}
	t0 = now_ns();
	end = t0 + (uint64_t)(duration * 1e9);
	for (unsigned i = 0; i < nconns; i++) {
		conns[i].id = i;
		conns[i].fd = -1;
		ref_open(&conns[i]);
	}
	next_scan = t0 + SCAN_NS;
	while ((now = now_ns()) < end) {
		int n = epoll_wait(epfd, evs, MAX_EVENTS, 10);

		for (int i = 0; i < n; i++)
			ref_event(evs[i].data.ptr, evs[i].events);
		if ((now = now_ns()) < next_scan)
			continue;
		next_scan = now + SCAN_NS;
		/* connect timeouts, and crr slots whose connection failed */
		for (unsigned i = 0; i < nconns; i++) {
			struct ref_conn *c = &conns[i];

			if (c->fd != -1 && c->connecting &&
			    now > c->t_connect + connect_timeout_ns) {
				errors++;
				ref_close(c);
			}
			if (c->fd == -1 && crr)
				ref_open(c);
		}
	}
	now = now_ns();
	printf("mode %s connections %u duration_s %.3f requests %llu requests_per_s %.1f "
	       "latency_mean_us %.1f errors %llu\n",
	    crr ? "crr" : "rr", nconns, (double)(now - t0) / 1e9, (unsigned long long)requests,
	    (double)requests / ((double)(now - t0) / 1e9),
	    requests ? (double)lat_sum / (double)requests / 1e3 : 0.0, (unsigned long long)errors);
	return 0;
}

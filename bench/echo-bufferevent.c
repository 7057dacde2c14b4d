/* SPDX-License-Identifier: ISC */
/*
 * echo-bufferevent.c: the simplest libevent echo server, the reference for
 * what libevent's bufferevents cost before synackd adds anything.
 * Usage: echo-bufferevent [PORT]; prints "listening on 127.0.0.1:PORT".
 */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/listener.h>

static void
echo_read(struct bufferevent *bev, void *arg)
{
	evbuffer_add_buffer(bufferevent_get_output(bev), bufferevent_get_input(bev));
}

static void
echo_event(struct bufferevent *bev, short what, void *arg)
{
	if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		bufferevent_free(bev);
}

static void
on_accept(struct evconnlistener *l, evutil_socket_t fd, struct sockaddr *sa, int len, void *arg)
{
	struct bufferevent *bev = bufferevent_socket_new(arg, fd, BEV_OPT_CLOSE_ON_FREE);

	bufferevent_setcb(bev, echo_read, NULL, echo_event, NULL);
	bufferevent_enable(bev, EV_READ | EV_WRITE);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	event_base_loopexit(arg, NULL);
}

int
main(int argc, char **argv)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	socklen_t len = sizeof sin;
	struct event_base *base = event_base_new();
	struct evconnlistener *l;
	struct event *sig;

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin.sin_port = htons(argc > 1 ? (uint16_t)atoi(argv[1]) : 0);
	l = evconnlistener_new_bind(base, on_accept, base,
	    LEV_OPT_REUSEABLE | LEV_OPT_CLOSE_ON_FREE, 4096, (struct sockaddr *)&sin, sizeof sin);
	if (l == NULL) {
		perror("echo-bufferevent: bind");
		return 1;
	}
	getsockname(evconnlistener_get_fd(l), (struct sockaddr *)&sin, &len);
	printf("listening on 127.0.0.1:%u\n", ntohs(sin.sin_port));
	fflush(stdout);
	signal(SIGPIPE, SIG_IGN);
	sig = evsignal_new(base, SIGTERM, on_signal, base);
	evsignal_add(sig, NULL);
	event_base_dispatch(base);
	event_free(sig);
	evconnlistener_free(l);
	event_base_free(base);
	return 0;
}

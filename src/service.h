/* SPDX-License-Identifier: ISC */
/*
 * service.h: what a listener runs.  A service is a const struct service
 * of callbacks (service-NAME.c); the daemon reaches a service only
 * through it.  service.c is the registry of them.
 */
#ifndef SYNACK_SERVICE_H
#define SYNACK_SERVICE_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

struct acceptor;
struct client;
struct listener_conf;

/* What a service's datagram callback may use besides the datagram. */
struct datagram_ctx {
	time_t now;   /* daytime's clock */
	uint32_t seq; /* datagrams this socket answered before: chargen's line and length */
};

#define CHARGEN_DATAGRAM_MAX 512 /* RFC 864: 0 to 512 characters a datagram */

struct service {
	const char *name;
	int speaks_first; /* sends before reading: TCP_DEFER_ACCEPT makes no sense */
	int one_loop;     /* its clients share state: one acceptor, on one worker */
	/* [listener] keys that only this service takes; NULL-terminated, or NULL */
	const char *const *keys;
	/*
	 * Its own rules for a listener's configuration, once the whole file
	 * is read: 0, or -1 with what is wrong in err and, in *key, the key
	 * whose line the error names.  NULL: no rules of its own.
	 */
	int (*check)(const struct listener_conf *, const char **key, char *err, size_t errlen);
	/* per acceptor, on its worker's thread */
	int (*acceptor_init)(struct acceptor *);
	void (*acceptor_free)(struct acceptor *);
	/* a reload changed the acceptor's conf (a->conf); old is the previous one */
	void (*acceptor_reconfigure)(struct acceptor *, const struct listener_conf *old);
	void (*open)(struct client *);
	/*
	 * The bytes just read, in the worker's scratch space: valid until it
	 * returns, so what the service keeps it copies (client_input).  NULL:
	 * the input is dropped.
	 */
	void (*read)(struct client *, const char *data, size_t len);
	void (*drained)(struct client *);
	void (*close)(struct client *);
	/*
	 * transport = udp: the answer to one datagram, a pure function of its
	 * arguments: its length (at most outmax) in out, or -1 for no answer.
	 * NULL: the service is TCP only.
	 */
	ssize_t (*datagram)(
	    const char *in, size_t inlen, char *out, size_t outmax, const struct datagram_ctx *);
};

/* service.c */
const struct service *service_find(const char *name);
const struct service *service_key_owner(const char *key);
const char *service_names(void);

/* service-*.c */
extern const struct service service_echo;
extern const struct service service_discard;
extern const struct service service_chargen;
extern const struct service service_daytime;
extern const struct service service_chat;

/* service-chargen.c */
size_t chargen_pattern(size_t offset, char *buf, size_t len);
size_t chargen_datagram_len(uint32_t seq);
/* service-chat.c */
#define CHAT_TICK_MS 100 /* the rate limit's refill interval */
static inline long
chat_rate_per_tick(long rate)
{
	long share = rate / (1000 / CHAT_TICK_MS);

	return share > 0 ? share : 1;
}
enum chat_frame { CHAT_NEED_MORE, CHAT_LINE, CHAT_TOO_LONG };
enum chat_frame chat_frame(const char *buf, size_t len, size_t max, size_t *textlen, size_t *used);
size_t chat_escape(const char *in, size_t len, char *out, size_t size);
/* service-daytime.c */
size_t daytime_format(time_t t, char *buf, size_t size);

#endif

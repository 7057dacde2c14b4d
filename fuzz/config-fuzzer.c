/* SPDX-License-Identifier: ISC */
/*
 * config-fuzzer.c: config_parse() on whole files.
 *
 * The parser is a pure function of the bytes, and its contract is what
 * synackd relies on: a refusal is one line "NAME:LINE: message" or
 * "NAME: message", and an accepted file holds only listeners that can be
 * bound as they are, with every value in its documented range.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "fuzz.h"
#include "conf.h"
#include "net.h"
#include "service.h"

#define NAME "fuzz.conf"

/*
 * A refusal: one line, "NAME:LINE: message" with a line of the file, or
 * "NAME: message" about the file as a whole.
 */
static void
check_error(const char *err, size_t errlen, const char *data, size_t size)
{
	size_t n = strnlen(err, errlen), lines = 1;
	const char *rest = err + strlen(NAME);
	char *end;
	long line;

	FUZZ_CHECK(n < errlen, "error message not terminated");
	FUZZ_CHECK(n > 0, "refused without a message");
	FUZZ_CHECK(strncmp(err, NAME ":", strlen(NAME ":")) == 0, "\"%s\"", err);
	/* one log line: a newline would forge a second one */
	FUZZ_CHECK(strchr(err, '\n') == NULL, "\"%s\"", err);
	if (rest[1] != ' ') {
		for (const char *p = data; (p = memchr(p, '\n', size - (size_t)(p - data))) != NULL;
		     p++)
			lines++;
		line = strtol(rest + 1, &end, 10);
		FUZZ_CHECK(end != rest + 1 && line >= 1 && (size_t)line <= lines,
		    "\"%s\": the file has %zu lines", err, lines);
		rest = end;
	}
	FUZZ_CHECK(rest[0] == ':' && rest[1] == ' ' && rest[2] != '\0', "\"%s\"", err);
}

/*
 * The same refusal into a smaller buffer: the same message, cut short and
 * terminated, and nothing written past it.
 */
static void
check_error_short(const uint8_t *data, size_t size, const char *err)
{
	char small[48];
	size_t errlen = 1 + size % (sizeof small - 8);
	struct config *c;

	memset(small, 'x', sizeof small);
	c = config_parse((const char *)data, size, NAME, small, errlen);
	FUZZ_CHECK(c == NULL, "accepted the second time");
	FUZZ_CHECK(memchr(small, '\0', errlen) != NULL, "not terminated in %zu bytes", errlen);
	FUZZ_CHECK(strncmp(small, err, strlen(small)) == 0, "\"%s\" is not the start of \"%s\"",
	    small, err);
	for (size_t i = errlen; i < sizeof small; i++)
		FUZZ_CHECK(small[i] == 'x', "byte %zu written, errlen %zu", i, errlen);
}

static void
check_listener(const struct config *c, const struct listener_conf *lc)
{
	const struct listener_conf *other;
	struct net_addr again;
	char msg[ERRLEN];
	int family = lc->addr.ss.ss_family;

	FUZZ_CHECK(lc->name != NULL && lc->name[0] != '\0', "listener without a name");
	FUZZ_CHECK(
	    strspn(lc->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.") ==
		strlen(lc->name),
	    "name \"%s\"", lc->name);
	FUZZ_CHECK(lc->service != NULL, "listener %s: no service", lc->name);
	FUZZ_CHECK(lc->address != NULL, "listener %s: no address", lc->name);
	FUZZ_CHECK(lc->addr.len > 0, "listener %s: address not parsed", lc->name);
	FUZZ_CHECK(family == AF_INET || family == AF_INET6 || family == AF_UNIX,
	    "listener %s: family %d", lc->name, family);
	if (family == AF_UNIX)
		FUZZ_CHECK(lc->port == -1, "listener %s: unix with port %d", lc->name, lc->port);
	else
		FUZZ_CHECK(
		    lc->port >= 0 && lc->port <= 65535 && net_addr_port(&lc->addr) == lc->port,
		    "listener %s: port %d, address has %d", lc->name, lc->port,
		    net_addr_port(&lc->addr));
	/* the address as written is what a reload compares: it must mean the same */
	FUZZ_CHECK(net_addr_parse(&again, lc->address, lc->port, msg, sizeof msg) == 0 &&
		net_addr_equal(&again, &lc->addr),
	    "listener %s: \"%s\" parses differently", lc->name, lc->address);
	FUZZ_CHECK(lc->backlog >= 1, "listener %s: backlog %d", lc->name, lc->backlog);
	FUZZ_CHECK(lc->defer_accept >= 0 && lc->defer_accept <= 3600,
	    "listener %s: defer_accept %d", lc->name, lc->defer_accept);
	FUZZ_CHECK(lc->defer_accept == 0 || !lc->service->speaks_first || lc->proxy_protocol,
	    "listener %s: defer_accept with %s", lc->name, lc->service->name);
	FUZZ_CHECK(lc->proxy_protocol == 0 || lc->proxy_protocol == 1,
	    "listener %s: proxy_protocol %d", lc->name, lc->proxy_protocol);
	FUZZ_CHECK(lc->proxy_timeout >= 1 && lc->proxy_timeout <= 3600,
	    "listener %s: proxy_timeout %ld", lc->name, lc->proxy_timeout);
	/* proxy_from: only behind proxy_protocol, on TCP; networks as parsed */
	FUZZ_CHECK(lc->proxy_from.n == 0 || (lc->proxy_protocol && family != AF_UNIX),
	    "listener %s: proxy_from without a TCP proxy_protocol", lc->name);
	FUZZ_CHECK((lc->proxy_from.n == 0) == (lc->proxy_from.v == NULL),
	    "listener %s: proxy_from holds %zu entries", lc->name, lc->proxy_from.n);
	for (size_t i = 0; i < lc->proxy_from.n; i++)
		FUZZ_CHECK(
		    (lc->proxy_from.v[i].family == AF_INET && lc->proxy_from.v[i].bits <= 32) ||
			(lc->proxy_from.v[i].family == AF_INET6 && lc->proxy_from.v[i].bits <= 128),
		    "listener %s: proxy_from entry %zu", lc->name, i);
	FUZZ_CHECK(lc->max_line >= 1 && lc->max_line <= 1048576, "listener %s: max_line %ld",
	    lc->name, lc->max_line);
	FUZZ_CHECK(lc->output_limit >= 1024 && lc->output_limit <= 1073741824,
	    "listener %s: output_limit %ld", lc->name, lc->output_limit);
	FUZZ_CHECK(lc->chat_rate >= 0 && lc->chat_rate <= 1073741824, "listener %s: chat_rate %ld",
	    lc->name, lc->chat_rate);
	FUZZ_CHECK(lc->service == &service_chat || lc->chat_rate == CHAT_RATE_DEFAULT,
	    "listener %s: chat_rate for %s", lc->name, lc->service->name);
	/* the default burst is resolved here: the rate limiter needs a real one */
	FUZZ_CHECK(lc->chat_burst >= 1 && lc->chat_burst <= 1073741824,
	    "listener %s: chat_burst %ld", lc->name, lc->chat_burst);
	FUZZ_CHECK(lc->chat_rate == 0 || lc->chat_burst >= chat_rate_per_tick(lc->chat_rate),
	    "listener %s: chat_burst %ld below a tick of chat_rate %ld", lc->name, lc->chat_burst,
	    lc->chat_rate);
	for (other = TAILQ_FIRST(&c->listeners); other != lc; other = TAILQ_NEXT(other, entry)) {
		FUZZ_CHECK(strcmp(other->name, lc->name) != 0, "listener %s twice", lc->name);
		FUZZ_CHECK(!net_addr_overlap(&other->addr, &lc->addr) &&
			!net_addr_overlap(&lc->addr, &other->addr),
		    "listeners %s and %s overlap", other->name, lc->name);
	}
}

static void
check_config(const struct config *c)
{
	const struct listener_conf *lc;

	FUZZ_CHECK(c->path != NULL && strcmp(c->path, NAME) == 0, "path");
	FUZZ_CHECK(!TAILQ_EMPTY(&c->listeners), "accepted without a listener");
	FUZZ_CHECK(c->log != NULL &&
		(strcmp(c->log, "stderr") == 0 || strcmp(c->log, "syslog") == 0 ||
		    c->log[0] == '/'),
	    "log \"%s\"", c->log);
	FUZZ_CHECK(c->pidfile != NULL && (c->pidfile[0] == '\0' || c->pidfile[0] == '/'),
	    "pidfile \"%s\"", c->pidfile);
	FUZZ_CHECK(c->user != NULL && c->group != NULL, "user or group missing");
	FUZZ_CHECK(c->workers >= 0 && c->workers <= 1024, "workers %d", c->workers);
	/* metrics: empty, or a TCP address no listener overlaps */
	FUZZ_CHECK(c->metrics != NULL, "metrics missing");
	if (c->metrics[0] != '\0') {
		FUZZ_CHECK(c->metrics_addr.ss.ss_family == AF_INET ||
			c->metrics_addr.ss.ss_family == AF_INET6,
		    "metrics \"%s\": family %d", c->metrics, c->metrics_addr.ss.ss_family);
		TAILQ_FOREACH(lc, &c->listeners, entry)
			FUZZ_CHECK(!net_addr_overlap(&lc->addr, &c->metrics_addr),
			    "metrics \"%s\" overlaps listener %s", c->metrics, lc->name);
	}
	FUZZ_CHECK(
	    c->max_clients >= 1 && c->max_clients <= 10000000, "max_clients %ld", c->max_clients);
	FUZZ_CHECK(c->max_clients_per_source >= 0 && c->max_clients_per_source <= 10000000,
	    "max_clients_per_source %ld", c->max_clients_per_source);
	FUZZ_CHECK(c->idle_timeout >= 0 && c->idle_timeout <= 31536000, "idle_timeout %ld",
	    c->idle_timeout);
	FUZZ_CHECK(c->shutdown_timeout >= 0 && c->shutdown_timeout <= 86400, "shutdown_timeout %ld",
	    c->shutdown_timeout);
	TAILQ_FOREACH(lc, &c->listeners, entry)
		check_listener(c, lc);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[ERRLEN];
	struct config *c;

	/* config_load() refuses more before parsing */
	if (size > CONFIG_MAX_SIZE)
		return 0;
	memset(err, 'x', sizeof err);
	c = config_parse((const char *)data, size, NAME, err, sizeof err);
	if (c == NULL) {
		check_error(err, sizeof err, (const char *)data, size);
		check_error_short(data, size, err);
		return 0;
	}
	check_config(c);
	config_free(c);
	return 0;
}

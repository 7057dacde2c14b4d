/* SPDX-License-Identifier: ISC */
/*
 * config.c: the INI file (parsed by inih) -> struct config.
 *
 * Every value is checked here, so that a file that passes `synackd -t`
 * only fails later for reasons of the running system (a port in use).
 * Errors read "FILE:LINE: what is wrong" and only the first is reported.
 *
 * The file is read whole into memory first (only a regular file, at most
 * CONFIG_MAX_SIZE bytes: /dev/zero or a named pipe would never end), so
 * the parser is a pure function of the bytes, and a reload either has the
 * whole new file or changes nothing.  inih hands the handler the section
 * name but not the line, and does not tell two sections of the same name
 * apart, so lines are fed to it by our own reader, which counts them,
 * refuses bytes that are not text and sees each section header first.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ini.h>

#include "cidr.h"
#include "conf.h"
#include "log.h"
#include "net.h"
#include "service.h"

enum key_type {
	K_BOOL,
	K_INT,
	K_LONG,
	K_STRING,
	K_LOGLEVEL,
	K_LOG,
	K_SERVICE,
	K_ADDRESS,
	K_CIDRS,
	K_TRANSPORT
};

struct key {
	const char *name;
	enum key_type type;
	size_t offset;
	long min, max;
};

#define S(field) offsetof(struct config, field)
#define L(field) offsetof(struct listener_conf, field)

static const struct key server_keys[] = {
	{ "daemon", K_BOOL, S(daemon), 0, 1 },
	{ "pidfile", K_STRING, S(pidfile), 0, 0 },
	{ "user", K_STRING, S(user), 0, 0 },
	{ "group", K_STRING, S(group), 0, 0 },
	{ "log", K_LOG, S(log), 0, 0 },
	{ "log_level", K_LOGLEVEL, S(log_level), 0, 0 },
	{ "workers", K_INT, S(workers), 0, 1024 },
	{ "max_clients", K_LONG, S(max_clients), 1, 10000000 },
	{ "max_clients_per_source", K_LONG, S(max_clients_per_source), 0, 10000000 },
	{ "idle_timeout", K_LONG, S(idle_timeout), 0, 31536000 },
	{ "shutdown_timeout", K_LONG, S(shutdown_timeout), 0, 86400 },
	{ "accept_wait_warn", K_LONG, S(accept_wait_warn), 0, 3600000 },
	{ "metrics", K_STRING, S(metrics), 0, 0 },
	{ "metrics_max_connections", K_LONG, S(metrics_max_connections), 1, 10000 },
};

static const struct key listener_keys[] = {
	{ "service", K_SERVICE, L(service), 0, 0 },
	{ "address", K_ADDRESS, L(address), 0, 0 },
	{ "port", K_INT, L(port), 0, 65535 },
	{ "backlog", K_INT, L(backlog), 1, INT_MAX },
	{ "reuseport", K_BOOL, L(reuseport), 0, 1 },
	{ "keepalive", K_BOOL, L(keepalive), 0, 1 },
	{ "defer_accept", K_INT, L(defer_accept), 0, 3600 },
	{ "fastopen", K_INT, L(fastopen), 0, 65535 },
	{ "save_syn", K_BOOL, L(save_syn), 0, 1 },
	{ "proxy_protocol", K_BOOL, L(proxy_protocol), 0, 1 },
	{ "proxy_timeout", K_LONG, L(proxy_timeout), 1, 3600 },
	{ "proxy_from", K_CIDRS, L(proxy_from), 0, 0 },
	{ "max_line", K_LONG, L(max_line), 1, 1048576 },
	{ "output_limit", K_LONG, L(output_limit), 1024, 1073741824 },
	{ "chat_rate", K_LONG, L(chat_rate), 0, 1073741824 },
	{ "chat_burst", K_LONG, L(chat_burst), 1, 1073741824 },
	{ "transport", K_TRANSPORT, L(transport), 0, 0 },
	{ "max_datagram", K_LONG, L(max_datagram), 1, MAX_DATAGRAM_LIMIT },
	{ "udp_rate", K_LONG, L(udp_rate), 0, 1000000 },
	{ "rcvbuf", K_LONG, L(rcvbuf), 0, 1073741824 },
};

#define NKEYS(t) (sizeof(t) / sizeof((t)[0]))

_Static_assert(NKEYS(listener_keys) <= LISTENER_KEYS, "listener_conf.key_line too small");

/* A listener key's line if it was set, else 0. */
static int
key_set(const struct listener_conf *lc, const char *name)
{
	for (size_t i = 0; i < NKEYS(listener_keys); i++)
		if (strcmp(listener_keys[i].name, name) == 0 && (lc->seen & (1ULL << i)))
			return lc->key_line[i];
	return 0;
}

/* Where a listener key was set: its line, or the listener's header line. */
static int
key_line(const struct listener_conf *lc, const char *name)
{
	int line = key_set(lc, name);

	return line != 0 ? line : lc->line;
}

struct parse {
	const char *name;
	const char *data;
	size_t len;
	size_t pos;
	int line;
	struct config *conf;
	struct listener_conf *cur; /* NULL while in [server] */
	int in_section;
	char *err;
	size_t errlen;
	int failed;
	int fail_line;
};

/* "FILE:LINE: msg", or "FILE: msg" for line 0: the file as a whole. */
static int __attribute__((format(printf, 3, 4)))
parse_error(struct parse *p, int line, const char *fmt, ...)
{
	char msg[ERRLEN];
	va_list ap;

	if (p->failed)
		return 0;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof msg, fmt, ap);
	va_end(ap);
	if (line > 0)
		snprintf(p->err, p->errlen, "%s:%d: %s", p->name, line, msg);
	else
		snprintf(p->err, p->errlen, "%s: %s", p->name, msg);
	p->failed = 1;
	p->fail_line = line;
	return 0;
}

static struct listener_conf *
listener_conf_new(const char *name, int line)
{
	struct listener_conf *lc = calloc(1, sizeof *lc);

	if (lc == NULL || (lc->name = strdup(name)) == NULL ||
	    (lc->address = strdup("*")) == NULL) {
		if (lc != NULL) {
			free(lc->name);
			free(lc);
		}
		return NULL;
	}
	lc->line = line;
	lc->port = -1;
	lc->backlog = 511;
	lc->max_line = 4096;
	lc->output_limit = 1048576;
	lc->chat_rate = CHAT_RATE_DEFAULT;
	lc->chat_burst = -1; /* one second's worth of chat_rate */
	lc->proxy_timeout = 3;
	lc->transport = TRANSPORT_TCP;
	lc->max_datagram = MAX_DATAGRAM_DEFAULT;
	lc->udp_rate = UDP_RATE_DEFAULT;
	return lc;
}

void
listener_conf_free(struct listener_conf *lc)
{
	if (lc == NULL)
		return;
	free(lc->name);
	free(lc->address);
	cidr_list_free(&lc->proxy_from);
	free(lc);
}

/* A listener keeps its own copy: it outlives the config it came from. */
struct listener_conf *
listener_conf_dup(const struct listener_conf *lc)
{
	struct listener_conf *d = malloc(sizeof *d);

	if (d == NULL)
		return NULL;
	*d = *lc;
	d->name = strdup(lc->name);
	d->address = strdup(lc->address);
	if (cidr_list_copy(&d->proxy_from, &lc->proxy_from) == -1 || d->name == NULL ||
	    d->address == NULL) {
		listener_conf_free(d);
		return NULL;
	}
	return d;
}

static int
valid_name(const char *s)
{
	if (*s == '\0')
		return 0;
	for (; *s != '\0'; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return 0;
	return 1;
}

/* A "[...]" line, seen by the reader before inih: start a section. */
static void
parse_section(struct parse *p, char *s)
{
	struct listener_conf *lc;
	char *end = strchr(s, ']'), *name;

	if (end == NULL) {
		parse_error(p, p->line, "missing ']' in section header");
		return;
	}
	*end = '\0';
	p->in_section = 1;
	if (strcmp(s, "server") == 0) {
		p->cur = NULL;
		return;
	}
	if (strncmp(s, "listener", 8) != 0 || (s[8] != ' ' && s[8] != '\t')) {
		parse_error(
		    p, p->line, "unknown section [%s] (expected [server] or [listener NAME])", s);
		return;
	}
	for (name = s + 8; *name == ' ' || *name == '\t'; name++)
		;
	for (end = name + strlen(name); end > name && isspace((unsigned char)end[-1]); end--)
		end[-1] = '\0';
	if (!valid_name(name)) {
		parse_error(
		    p, p->line, "bad listener name \"%s\" (letters, digits, '-', '_', '.')", name);
		return;
	}
	TAILQ_FOREACH(lc, &p->conf->listeners, entry) {
		if (strcmp(lc->name, name) == 0) {
			parse_error(p, p->line, "duplicate listener \"%s\" (first at line %d)",
			    name, lc->line);
			return;
		}
	}
	if ((lc = listener_conf_new(name, p->line)) == NULL) {
		parse_error(p, p->line, "out of memory");
		return;
	}
	TAILQ_INSERT_TAIL(&p->conf->listeners, lc, entry);
	p->cur = lc;
}

/*
 * Where a line holds a byte that is not text: a control character other
 * than tab, CR and LF.  A NUL would end the line early for everything
 * that reads it as a C string and hide the rest of it.
 */
static const char *
parse_binary(const char *s, size_t n)
{
	for (const char *end = s + n; s < end; s++) {
		unsigned char ch = (unsigned char)*s;

		if ((ch < 0x20 && ch != '\t' && ch != '\r' && ch != '\n') || ch == 0x7f)
			return s;
	}
	return NULL;
}

/*
 * The line reader inih calls: hands out the next line of the buffer,
 * counts lines, refuses bytes that are not text and lines longer than
 * inih's buffer (inih would silently split them), and starts sections.
 */
static char *
parse_reader(char *buf, int size, void *arg)
{
	struct parse *p = arg;
	const char *line, *nl, *bad;
	size_t n, text;
	char *s;

	if (p->failed || p->pos >= p->len)
		return NULL;
	line = p->data + p->pos;
	nl = memchr(line, '\n', p->len - p->pos);
	n = nl != NULL ? (size_t)(nl - line) + 1 : p->len - p->pos;
	p->pos += n;
	p->line++;
	if ((bad = parse_binary(line, n)) != NULL) {
		parse_error(p, p->line,
		    "control character 0x%02x in column %zu (is this a text file?)",
		    (unsigned char)*bad, (size_t)(bad - line) + 1);
		return NULL;
	}
	text = nl != NULL ? n - 1 : n;
	if (text > (size_t)size - 2) {
		parse_error(p, p->line, "line longer than %d characters", size - 2);
		return NULL;
	}
	memcpy(buf, line, n);
	buf[n] = '\0';
	if (p->line == 1 && strncmp(buf, "\xEF\xBB\xBF", 3) == 0)
		s = buf + 3;
	else
		s = buf;
	while (isspace((unsigned char)*s) && *s != '\n')
		s++;
	/*
	 * Indentation is only layout here: without this inih would take an
	 * indented line for the continuation of the previous value.
	 */
	if (s != buf)
		memmove(buf, s, strlen(s) + 1);
	s = buf;
	if (*s == '[') {
		char copy[256];

		snprintf(copy, sizeof copy, "%s", s + 1);
		copy[strcspn(copy, "\r\n")] = '\0';
		parse_section(p, copy);
		if (p->failed)
			return NULL;
	}
	return buf;
}

static int
parse_number(struct parse *p, const struct key *k, const char *value, long *out)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(value, &end, 10);
	if (*value == '\0' || errno != 0 || *end != '\0' || v < k->min || v > k->max)
		return parse_error(p, p->line, "%s: \"%s\" is not a number from %ld to %ld",
		    k->name, value, k->min, k->max);
	*out = v;
	return 1;
}

static int
parse_value(struct parse *p, const struct key *k, void *base, const char *value)
{
	void *field = (char *)base + k->offset;
	const struct service *svc;
	char *copy;
	long v;
	int level;

	switch (k->type) {
	case K_BOOL:
		if (strcmp(value, "yes") == 0 || strcmp(value, "true") == 0 ||
		    strcmp(value, "on") == 0 || strcmp(value, "1") == 0)
			*(int *)field = 1;
		else if (strcmp(value, "no") == 0 || strcmp(value, "false") == 0 ||
		    strcmp(value, "off") == 0 || strcmp(value, "0") == 0)
			*(int *)field = 0;
		else
			return parse_error(
			    p, p->line, "%s: \"%s\" is not yes or no", k->name, value);
		return 1;
	case K_INT:
		if (!parse_number(p, k, value, &v))
			return 0;
		/* parse_number() sets v when it returns 1: the analyzer cannot follow parse_error()
		 */
		/* NOLINTNEXTLINE(clang-analyzer-core.uninitialized.Assign) */
		*(int *)field = (int)v;
		return 1;
	case K_LONG:
		return parse_number(p, k, value, (long *)field);
	case K_LOGLEVEL:
		if ((level = log_level_parse(value)) == -1)
			return parse_error(p, p->line,
			    "%s: \"%s\" is not one of error, warn, info, debug", k->name, value);
		*(int *)field = level;
		return 1;
	case K_LOG:
		if (strcmp(value, "stderr") != 0 && strcmp(value, "syslog") != 0 && value[0] != '/')
			return parse_error(p, p->line,
			    "%s: \"%s\" is not stderr, syslog or an absolute path", k->name, value);
		break;
	case K_SERVICE:
		if ((svc = service_find(value)) == NULL)
			return parse_error(p, p->line, "%s: unknown service \"%s\" (one of %s)",
			    k->name, value, service_names());
		*(const struct service **)field = svc;
		return 1;
	case K_ADDRESS: {
		struct net_addr a;
		char msg[ERRLEN];

		/* the port is checked on its own line; the address here */
		if (net_addr_parse(&a, value, 0, msg, sizeof msg) == -1)
			return parse_error(p, p->line, "%s: %s", k->name, msg);
		break;
	}
	case K_CIDRS: {
		char msg[ERRLEN];

		if (cidr_list_parse((struct cidr_list *)field, value, msg, sizeof msg) == -1)
			return parse_error(p, p->line, "%s: %s", k->name, msg);
		return 1;
	}
	case K_TRANSPORT:
		if (strcmp(value, "tcp") == 0)
			*(enum transport *)field = TRANSPORT_TCP;
		else if (strcmp(value, "udp") == 0)
			*(enum transport *)field = TRANSPORT_UDP;
		else
			return parse_error(
			    p, p->line, "%s: \"%s\" is not tcp or udp", k->name, value);
		return 1;
	case K_STRING:
		break;
	}
	if ((copy = strdup(value)) == NULL)
		return parse_error(p, p->line, "out of memory");
	free(*(char **)field);
	*(char **)field = copy;
	return 1;
}

/* Checks of one key that go beyond its type. */
static int
parse_check(struct parse *p, const char *name)
{
	struct config *c = p->conf;

	if (p->cur != NULL)
		return 1;
	if (strcmp(name, "pidfile") == 0 && c->pidfile[0] != '\0' && c->pidfile[0] != '/')
		return parse_error(
		    p, p->line, "pidfile: \"%s\" is not an absolute path", c->pidfile);
	/* unknown here means unknown at start: refuse now rather than run as root */
	if (strcmp(name, "user") == 0 && c->user[0] != '\0' && getpwnam(c->user) == NULL)
		return parse_error(p, p->line, "user: unknown user \"%s\"", c->user);
	if (strcmp(name, "group") == 0 && c->group[0] != '\0' && getgrnam(c->group) == NULL)
		return parse_error(p, p->line, "group: unknown group \"%s\"", c->group);
	if (strcmp(name, "metrics") == 0 && c->metrics[0] != '\0') {
		char msg[ERRLEN];

		if (strncmp(c->metrics, "unix:", 5) == 0)
			return parse_error(p, p->line,
			    "metrics: \"%s\": the metrics endpoint takes HOST:PORT, not a unix "
			    "socket",
			    c->metrics);
		if (net_addr_parse_hostport(&c->metrics_addr, c->metrics, msg, sizeof msg) == -1)
			return parse_error(p, p->line, "metrics: %s", msg);
		c->metrics_line = p->line;
	}
	return 1;
}

static int
parse_handler(void *arg, const char *section, const char *name, const char *value)
{
	struct parse *p = arg;
	const struct key *keys;
	size_t nkeys, i;
	uint64_t *seen;
	void *base;

	if (p->failed)
		return 0;
	if (!p->in_section)
		return parse_error(p, p->line, "\"%s\" outside of any section", name);
	if (p->cur == NULL) {
		keys = server_keys;
		nkeys = NKEYS(server_keys);
		base = p->conf;
		seen = &p->conf->seen;
	} else {
		keys = listener_keys;
		nkeys = NKEYS(listener_keys);
		base = p->cur;
		seen = &p->cur->seen;
	}
	for (i = 0; i < nkeys; i++)
		if (strcmp(keys[i].name, name) == 0)
			break;
	if (i == nkeys)
		return parse_error(p, p->line, "unknown key \"%s\" in [%s]", name, section);
	if (*seen & (1ULL << i))
		return parse_error(p, p->line, "\"%s\" set twice in [%s]", name, section);
	*seen |= 1ULL << i;
	if (!parse_value(p, &keys[i], base, value))
		return 0;
	if (p->cur != NULL)
		p->cur->key_line[i] = p->line;
	return parse_check(p, name);
}

/*
 * A listener's keys and its service: a key that is one service's own
 * (struct service.keys) is refused for the others, and the service's own
 * rules (.check) are asked once the defaults are in.
 */
static int
check_service(struct parse *p, struct listener_conf *lc)
{
	const struct service *owner;
	const char *key = NULL;
	char msg[ERRLEN];

	for (size_t i = 0; i < NKEYS(listener_keys); i++) {
		owner = service_key_owner(listener_keys[i].name);
		if (owner != NULL && owner != lc->service && (lc->seen & (1ULL << i)))
			return parse_error(p, lc->key_line[i],
			    "listener %s: %s is for %s listeners, not %s", lc->name,
			    listener_keys[i].name, owner->name, lc->service->name);
	}
	if (lc->chat_burst == -1)
		lc->chat_burst = lc->chat_rate > 0 ? lc->chat_rate : 1;
	if (lc->service->check != NULL && lc->service->check(lc, &key, msg, sizeof msg) == -1)
		return parse_error(p, key != NULL ? key_line(lc, key) : lc->line, "listener %s: %s",
		    lc->name, msg);
	return 1;
}

/*
 * The keys that make sense for one transport only.  A UDP listener has no
 * connection: no backlog, no handshake (defer_accept, fastopen, save_syn),
 * no PROXY header, no stream to keep alive or to bound by lines; chat needs
 * a connection per member.  A unix datagram socket would be a transport of
 * its own (no source port to check, a path to answer to): not served.
 */
static const char *const tcp_only_keys[] = { "backlog", "reuseport", "keepalive", "defer_accept",
	"fastopen", "save_syn", "proxy_protocol", "proxy_timeout", "proxy_from", "max_line",
	"output_limit" };
static const char *const udp_only_keys[] = { "max_datagram", "udp_rate", "rcvbuf" };

static int
check_transport(struct parse *p, const struct listener_conf *lc)
{
	size_t i;

	if (lc->transport == TRANSPORT_TCP) {
		for (i = 0; i < NKEYS(udp_only_keys); i++)
			if (key_set(lc, udp_only_keys[i]))
				return parse_error(p, key_line(lc, udp_only_keys[i]),
				    "listener %s: %s is for listeners with transport = udp",
				    lc->name, udp_only_keys[i]);
		return 1;
	}
	for (i = 0; i < NKEYS(tcp_only_keys); i++)
		if (key_set(lc, tcp_only_keys[i]))
			return parse_error(p, key_line(lc, tcp_only_keys[i]),
			    "listener %s: %s does not apply to transport = udp (no connection)",
			    lc->name, tcp_only_keys[i]);
	if (lc->service->datagram == NULL)
		return parse_error(p, key_line(lc, "transport"),
		    "listener %s: %s is TCP only (transport = udp serves echo, discard, daytime "
		    "and chargen)",
		    lc->name, lc->service->name);
	if (strncmp(lc->address, "unix:", 5) == 0)
		return parse_error(p, key_line(lc, "transport"),
		    "listener %s: transport = udp on a unix socket is not supported (use an IPv4 "
		    "or IPv6 address)",
		    lc->name);
	return 1;
}

/* What can only be checked once the whole file is read. */
static int
config_check(struct parse *p)
{
	struct config *c = p->conf;
	struct listener_conf *lc, *other;
	char msg[ERRLEN], a[NET_ADDRSTRLEN];

	/* an empty or truncated file must not empty a running daemon */
	if (TAILQ_EMPTY(&c->listeners))
		return parse_error(p, 0, "no listener defined (add a [listener NAME] section)");
	TAILQ_FOREACH(lc, &c->listeners, entry) {
		if (lc->service == NULL && (lc->service = service_find(lc->name)) == NULL)
			return parse_error(p, lc->line, "listener %s: no service set (one of %s)",
			    lc->name, service_names());
		/* behind a proxy, the client speaks first: its header */
		if (lc->defer_accept > 0 && lc->service->speaks_first && !lc->proxy_protocol)
			return parse_error(p, key_line(lc, "defer_accept"),
			    "listener %s: defer_accept makes no sense for %s: the server speaks "
			    "first",
			    lc->name, lc->service->name);
		if (!lc->proxy_protocol && key_set(lc, "proxy_timeout"))
			return parse_error(p, key_line(lc, "proxy_timeout"),
			    "listener %s: proxy_timeout is for listeners with proxy_protocol = yes",
			    lc->name);
		if (!lc->proxy_protocol && key_set(lc, "proxy_from"))
			return parse_error(p, key_line(lc, "proxy_from"),
			    "listener %s: proxy_from is for listeners with proxy_protocol = yes",
			    lc->name);
		/* a unix peer has no address to check: who may connect is the file's mode */
		if (strncmp(lc->address, "unix:", 5) == 0 && key_set(lc, "proxy_from"))
			return parse_error(p, key_line(lc, "proxy_from"),
			    "listener %s: proxy_from does not apply to a unix socket (any local "
			    "peer may send the header: the socket file's permissions say who may "
			    "connect)",
			    lc->name);
		if (strncmp(lc->address, "unix:", 5) == 0 && key_set(lc, "fastopen"))
			return parse_error(p, key_line(lc, "fastopen"),
			    "listener %s: fastopen does not apply to a unix socket (it has no "
			    "handshake)",
			    lc->name);
		/* a unix connection has no handshake: there is no SYN to save */
		if (strncmp(lc->address, "unix:", 5) == 0 && lc->save_syn)
			return parse_error(p, key_line(lc, "save_syn"),
			    "listener %s: save_syn does not apply to a unix socket (no TCP "
			    "handshake)",
			    lc->name);
		if (!check_service(p, lc) || !check_transport(p, lc))
			return 0;
		if (strncmp(lc->address, "unix:", 5) == 0) {
			if (lc->port != -1)
				return parse_error(p, lc->line,
				    "listener %s: port does not apply to a unix socket", lc->name);
		} else if (lc->port == -1)
			return parse_error(p, lc->line,
			    "listener %s: no port set (0 lets the kernel choose)", lc->name);
		if (net_addr_parse(&lc->addr, lc->address, lc->port, msg, sizeof msg) == -1)
			return parse_error(p, lc->line, "listener %s: address: %s", lc->name, msg);
		for (other = TAILQ_FIRST(&c->listeners); other != lc;
		     other = TAILQ_NEXT(other, entry)) {
			/* a TCP and a UDP port of the same number are two ports */
			if (lc->transport == other->transport &&
			    net_addr_overlap(&lc->addr, &other->addr))
				return parse_error(p, lc->line,
				    "listener %s: %s overlaps listener %s (line %d)", lc->name,
				    net_addr_str(&lc->addr, a, sizeof a), other->name, other->line);
		}
		if (c->metrics[0] != '\0' && lc->transport == TRANSPORT_TCP &&
		    net_addr_overlap(&lc->addr, &c->metrics_addr))
			return parse_error(p, lc->line,
			    "listener %s: %s overlaps metrics (line %d)", lc->name,
			    net_addr_str(&lc->addr, a, sizeof a), c->metrics_line);
	}
	return 1;
}

static struct config *
config_new(void)
{
	struct config *c = calloc(1, sizeof *c);

	if (c == NULL)
		return NULL;
	TAILQ_INIT(&c->listeners);
	c->log_level = LOG_LEVEL_INFO;
	c->workers = 1;
	c->max_clients = 10000;
	c->idle_timeout = 300;
	c->shutdown_timeout = 10;
	c->accept_wait_warn = 100;
	c->metrics_max_connections = 32;
	c->log = strdup("stderr");
	c->pidfile = strdup("");
	c->user = strdup("");
	c->group = strdup("");
	c->metrics = strdup("");
	if (c->log == NULL || c->pidfile == NULL || c->user == NULL || c->group == NULL ||
	    c->metrics == NULL) {
		config_free(c);
		return NULL;
	}
	return c;
}

void
config_free(struct config *c)
{
	struct listener_conf *lc;

	if (c == NULL)
		return;
	while ((lc = TAILQ_FIRST(&c->listeners)) != NULL) {
		TAILQ_REMOVE(&c->listeners, lc, entry);
		listener_conf_free(lc);
	}
	free(c->path);
	free(c->pidfile);
	free(c->user);
	free(c->group);
	free(c->log);
	free(c->metrics);
	free(c);
}

/* The listener of that name, or NULL: a reload matches listeners by name. */
struct listener_conf *
config_find_listener(struct config *conf, const char *name)
{
	struct listener_conf *lc;

	TAILQ_FOREACH(lc, &conf->listeners, entry)
		if (strcmp(lc->name, name) == 0)
			return lc;
	return NULL;
}

/*
 * The most descriptors this configuration can hold open: a socket per
 * client, per listener and per metrics connection (none when the endpoint
 * is off), and what the daemon keeps for itself (standard streams, the
 * event loop's epoll and signal descriptors, the log, the pidfile, syslog,
 * the metrics endpoint's listening socket and the connection it accepts
 * only to close, a configuration file being read).  why gets the numbers,
 * for messages.
 */
long
config_descriptors(const struct config *c, char *why, size_t whylen)
{
	const struct listener_conf *lc;
	long listeners = 0, metrics = c->metrics[0] != '\0' ? c->metrics_max_connections : 0;
	char m[64] = "";

	TAILQ_FOREACH(lc, &c->listeners, entry)
		listeners++;
	if (metrics > 0)
		snprintf(m, sizeof m, ", metrics_max_connections %ld", metrics);
	snprintf(why, whylen, "max_clients %ld, %ld listener%s%s and %d of the daemon's own",
	    c->max_clients, listeners, listeners == 1 ? "" : "s", m, CONFIG_OWN_DESCRIPTORS);
	return c->max_clients + listeners + metrics + CONFIG_OWN_DESCRIPTORS;
}

/*
 * The first listener that asks for TCP Fast Open (fastopen > 0) while the
 * host's net.ipv4.tcp_fastopen (tcp_fastopen: its value, -1 unknown) lacks
 * the server bit, 0x2: without it the kernel ignores the listener's
 * TCP_FASTOPEN and every client falls back to a plain handshake, silently.
 * NULL when there is nothing to say (none asks, the bit is set, or the
 * value could not be read: no claim is made on a guess).
 */
const struct listener_conf *
config_fastopen_unserved(const struct config *c, long tcp_fastopen)
{
	const struct listener_conf *lc;

	if (tcp_fastopen < 0 || (tcp_fastopen & CONFIG_TFO_SERVER) != 0)
		return NULL;
	TAILQ_FOREACH(lc, &c->listeners, entry)
		if (lc->fastopen > 0)
			return lc;
	return NULL;
}

/* Parse a whole file's bytes; name is what error messages call it. */
struct config *
config_parse(const char *data, size_t len, const char *name, char *err, size_t errlen)
{
	struct parse p = { .name = name, .data = data, .len = len, .err = err, .errlen = errlen };
	int r;

	if ((p.conf = config_new()) == NULL || (p.conf->path = strdup(name)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", name);
		config_free(p.conf);
		return NULL;
	}
	r = ini_parse_stream(parse_reader, &p, parse_handler, &p);
	/* inih reports the first line it could not parse and reads on */
	if (r > 0 && (!p.failed || r < p.fail_line)) {
		p.failed = 0;
		parse_error(&p, r, "syntax error (expected [section] or key = value)");
	} else if (r < 0 && !p.failed)
		parse_error(&p, p.line, "out of memory");
	if (!p.failed)
		config_check(&p);
	if (p.failed) {
		config_free(p.conf);
		return NULL;
	}
	return p.conf;
}

static const char *
file_kind(mode_t mode)
{
	if (S_ISDIR(mode))
		return "a directory";
	if (S_ISFIFO(mode))
		return "a named pipe";
	if (S_ISCHR(mode))
		return "a character device";
	if (S_ISBLK(mode))
		return "a block device";
	if (S_ISSOCK(mode))
		return "a socket";
	return "not a regular file";
}

/*
 * Read a whole configuration file.  Only a regular file (symlinks are
 * followed) of at most CONFIG_MAX_SIZE bytes: O_NONBLOCK keeps the open()
 * of a named pipe from waiting for a writer, and the size bound holds
 * even for a file that grows while it is read.
 */
static char *
config_read(const char *path, size_t *lenp, char *err, size_t errlen)
{
	struct stat st;
	size_t len = 0;
	char *buf = NULL;
	ssize_t n;
	int fd;

	if ((fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)) == -1) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return NULL;
	}
	if (fstat(fd, &st) == -1) {
		snprintf(err, errlen, "%s: fstat: %s", path, strerror(errno));
		goto fail;
	}
	if (!S_ISREG(st.st_mode)) {
		snprintf(err, errlen, "%s: not a regular file but %s", path, file_kind(st.st_mode));
		goto fail;
	}
	if (st.st_size > CONFIG_MAX_SIZE)
		goto too_big;
	if ((buf = malloc(CONFIG_MAX_SIZE + 1)) == NULL) {
		snprintf(err, errlen, "%s: out of memory", path);
		goto fail;
	}
	while (len <= CONFIG_MAX_SIZE) {
		n = read(fd, buf + len, CONFIG_MAX_SIZE + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			snprintf(err, errlen, "%s: read: %s", path, strerror(errno));
			goto fail;
		}
		if (n == 0)
			break;
		len += (size_t)n;
	}
	if (len > CONFIG_MAX_SIZE)
		goto too_big;
	close(fd);
	*lenp = len;
	return buf;
too_big:
	snprintf(err, errlen, "%s: larger than %d bytes: not a configuration file?", path,
	    CONFIG_MAX_SIZE);
fail:
	free(buf);
	close(fd);
	return NULL;
}

struct config *
config_load(const char *path, char *err, size_t errlen)
{
	struct config *c;
	size_t len;
	char *data;

	if ((data = config_read(path, &len, err, errlen)) == NULL)
		return NULL;
	c = config_parse(data, len, path, err, errlen);
	free(data);
	return c;
}

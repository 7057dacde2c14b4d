/* SPDX-License-Identifier: ISC */
/*
 * test-config.c: config_parse() and config_load().
 *
 * Every case feeds a whole file to the parser through a temporary stream
 * and checks either the parsed values or the single error message, which
 * must read exactly "t.conf:LINE: ..." with the line of the culprit.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <limits.h>
#include <pwd.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sys/stat.h>

#include <netinet/in.h>

#include <cmocka.h>

#include "cidr.h"
#include "conf.h"
#include "log.h"
#include "net.h"
#include "service.h"

#define NAME "t.conf"
/* the least a valid file has: one listener */
#define ECHO "[listener echo]\nport = 0\n"

/* Parse len bytes as the file NAME; err gets the message on failure. */
static struct config *
parse_bytes(const char *data, size_t len, char *err, size_t errlen)
{
	err[0] = '\0';
	return config_parse(data, len, NAME, err, errlen);
}

static struct config *
parse(const char *text, char *err, size_t errlen)
{
	return parse_bytes(text, strlen(text), err, errlen);
}

static struct config *
parse_ok(const char *text)
{
	char err[ERRLEN];
	struct config *c = parse(text, err, sizeof err);

	if (c == NULL)
		fail_msg("refused: %s\n--- file ---\n%s", err, text);
	return c;
}

/* The file must be refused with "t.conf:LINE: ...SUBSTRING...". */
static void
check_error_case(const char *what, const char *text, int line, const char *substring)
{
	char err[ERRLEN], prefix[64];
	struct config *c = parse(text, err, sizeof err);

	if (c != NULL) {
		config_free(c);
		fail_msg("%s: accepted, expected line %d: %s\n--- file ---\n%s", what, line,
		    substring, text);
	}
	snprintf(prefix, sizeof prefix, NAME ":%d: ", line);
	if (strncmp(err, prefix, strlen(prefix)) != 0 || strstr(err, substring) == NULL ||
	    strchr(err, '\n') != NULL)
		fail_msg("%s: got \"%s\"\nexpected \"%s...%s...\"\n--- file ---\n%s", what, err,
		    prefix, substring, text);
}

static void
check_error(const char *text, int line, const char *substring)
{
	check_error_case("refused", text, line, substring);
}

static struct listener_conf *
nth_listener(struct config *c, int n)
{
	struct listener_conf *lc;

	TAILQ_FOREACH(lc, &c->listeners, entry)
		if (n-- == 0)
			return lc;
	return NULL;
}

static int
count_listeners(struct config *c)
{
	struct listener_conf *lc;
	int n = 0;

	TAILQ_FOREACH(lc, &c->listeners, entry)
		n++;
	return n;
}

static void
check_server_defaults(const struct config *c)
{
	/* the string keys are empty strings, never NULL: the daemon reads them as is */
	assert_int_equal(c->daemon, 0);
	assert_non_null(c->pidfile);
	assert_string_equal(c->pidfile, "");
	assert_non_null(c->user);
	assert_string_equal(c->user, "");
	assert_non_null(c->group);
	assert_string_equal(c->group, "");
	assert_non_null(c->log);
	assert_string_equal(c->log, "stderr");
	assert_int_equal(c->log_level, LOG_LEVEL_INFO);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->max_clients, 10000);
	assert_int_equal(c->max_clients_per_source, 0);
	assert_int_equal(c->idle_timeout, 300);
	assert_int_equal(c->shutdown_timeout, 10);
	assert_non_null(c->metrics);
	assert_string_equal(c->metrics, "");
	assert_int_equal(c->metrics_max_connections, 32);
}

/* Names of uid 0 and gid 0, which exist on every system the tests run on. */
static const char *
root_user(void)
{
	struct passwd *pw = getpwuid(0);

	assert_non_null(pw);
	return pw->pw_name;
}

static const char *
root_group(void)
{
	struct group *gr = getgrgid(0);

	assert_non_null(gr);
	return gr->gr_name;
}

/* ---- accepted files ---- */

static void
test_empty_file(void **state)
{
	static const char *const empty[] = { "", "\n\n", "; only a comment\n", "[server]\n",
		"[server]\nmax_clients = 5\n" };
	char err[ERRLEN];

	/* no listener would serve nothing, and a reload would remove them all */
	for (size_t i = 0; i < sizeof empty / sizeof empty[0]; i++) {
		assert_null(parse(empty[i], err, sizeof err));
		assert_string_equal(
		    err, NAME ": no listener defined (add a [listener NAME] section)");
	}
}

static void
test_server_defaults(void **state)
{
	struct config *c = parse_ok("[server]\n" ECHO);

	check_server_defaults(c);
	assert_int_equal(count_listeners(c), 1);
	config_free(c);
}

static void
test_listener_defaults(void **state)
{
	/* a listener needs a port; everything else is left out */
	struct config *c = parse_ok("[server]\n[listener echo]\nport = 0\n");
	struct listener_conf *lc;

	check_server_defaults(c);
	assert_int_equal(count_listeners(c), 1);
	lc = nth_listener(c, 0);
	assert_string_equal(lc->name, "echo");
	assert_int_equal(lc->line, 2);
	assert_ptr_equal(lc->service, &service_echo);
	assert_string_equal(lc->address, "*");
	assert_int_equal(lc->addr.dual, 1);
	assert_int_equal(lc->addr.ss.ss_family, AF_INET6);
	assert_int_equal(net_addr_port(&lc->addr), 0);
	assert_int_equal(lc->port, 0);
	assert_int_equal(lc->backlog, 511);
	assert_int_equal(lc->reuseport, 0);
	assert_int_equal(lc->keepalive, 0);
	assert_int_equal(lc->defer_accept, 0);
	assert_int_equal(lc->fastopen, 0);
	assert_int_equal(lc->proxy_protocol, 0);
	assert_int_equal(lc->max_line, 4096);
	assert_int_equal(lc->output_limit, 1048576);
	assert_int_equal(lc->chat_rate, CHAT_RATE_DEFAULT);
	config_free(c);
}

static void
test_every_key(void **state)
{
	char user[64], group[64], text[1024];
	struct listener_conf *lc;
	struct config *c;

	/* getpw*() results live in static storage: copy them */
	snprintf(user, sizeof user, "%s", root_user());
	snprintf(group, sizeof group, "%s", root_group());
	snprintf(text, sizeof text,
	    "[server]\n"
	    "daemon = yes\n"
	    "pidfile = /run/synackd/synackd.pid\n"
	    "user = %s\n"
	    "group = %s\n"
	    "log = /var/log/synackd.log\n"
	    "log_level = debug\n"
	    "workers = 1\n"
	    "max_clients = 77\n"
	    "max_clients_per_source = 9\n"
	    "idle_timeout = 0\n"
	    "shutdown_timeout = 3\n"
	    "metrics =\n"
	    "\n"
	    "[listener room]\n"
	    "service = chat\n"
	    "address = 127.0.0.1\n"
	    "port = 7070\n"
	    "backlog = 16\n"
	    "reuseport = yes\n"
	    "keepalive = yes\n"
	    "defer_accept = 5\n"
	    "fastopen = 256\n"
	    "proxy_protocol = no\n"
	    "max_line = 100\n"
	    "output_limit = 2048\n"
	    "chat_rate = 3000\n"
	    "chat_burst = 700\n",
	    user, group);
	c = parse_ok(text);
	assert_int_equal(c->daemon, 1);
	assert_string_equal(c->pidfile, "/run/synackd/synackd.pid");
	assert_string_equal(c->user, user);
	assert_string_equal(c->group, group);
	assert_string_equal(c->log, "/var/log/synackd.log");
	assert_int_equal(c->log_level, LOG_LEVEL_DEBUG);
	assert_int_equal(c->workers, 1);
	assert_int_equal(c->max_clients, 77);
	assert_int_equal(c->max_clients_per_source, 9);
	assert_int_equal(c->idle_timeout, 0);
	assert_int_equal(c->shutdown_timeout, 3);
	assert_string_equal(c->metrics, "");

	assert_int_equal(count_listeners(c), 1);
	lc = nth_listener(c, 0);
	assert_string_equal(lc->name, "room");
	assert_int_equal(lc->line, 15);
	assert_ptr_equal(lc->service, &service_chat);
	assert_string_equal(lc->address, "127.0.0.1");
	assert_int_equal(lc->addr.ss.ss_family, AF_INET);
	assert_int_equal(lc->addr.dual, 0);
	assert_int_equal(net_addr_port(&lc->addr), 7070);
	assert_int_equal(lc->port, 7070);
	assert_int_equal(lc->backlog, 16);
	assert_int_equal(lc->reuseport, 1);
	assert_int_equal(lc->keepalive, 1);
	assert_int_equal(lc->defer_accept, 5);
	assert_int_equal(lc->fastopen, 256);
	assert_int_equal(lc->proxy_protocol, 0);
	assert_int_equal(lc->max_line, 100);
	assert_int_equal(lc->output_limit, 2048);
	assert_int_equal(lc->chat_rate, 3000);
	assert_int_equal(lc->chat_burst, 700);
	config_free(c);
}

static void
test_listeners_in_order(void **state)
{
	struct config *c = parse_ok("[listener one]\n"
				    "service = echo\n"
				    "port = 1\n"
				    "[server]\n"
				    "max_clients = 5\n"
				    "[listener two]\n"
				    "service = discard\n"
				    "port = 2\n"
				    "\n"
				    "[listener three]\n"
				    "service = daytime\n"
				    "port = 3\n");

	assert_int_equal(count_listeners(c), 3);
	assert_string_equal(nth_listener(c, 0)->name, "one");
	assert_int_equal(nth_listener(c, 0)->line, 1);
	assert_int_equal(nth_listener(c, 0)->port, 1);
	assert_string_equal(nth_listener(c, 1)->name, "two");
	assert_int_equal(nth_listener(c, 1)->line, 6);
	assert_ptr_equal(nth_listener(c, 1)->service, &service_discard);
	assert_string_equal(nth_listener(c, 2)->name, "three");
	assert_int_equal(nth_listener(c, 2)->line, 10);
	assert_int_equal(nth_listener(c, 2)->port, 3);
	/* [server] may come back after a listener: its keys are server keys */
	assert_int_equal(c->max_clients, 5);
	config_free(c);
}

static void
test_booleans(void **state)
{
	static const struct {
		const char *word;
		int value;
	} cases[] = {
		{ "yes", 1 },
		{ "true", 1 },
		{ "on", 1 },
		{ "1", 1 },
		{ "no", 0 },
		{ "false", 0 },
		{ "off", 0 },
		{ "0", 0 },
	};
	char text[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config *c;

		snprintf(text, sizeof text,
		    "[listener echo]\nport = 0\nreuseport = %s\nkeepalive = %s\n", cases[i].word,
		    cases[i].word);
		c = parse_ok(text);
		assert_int_equal(nth_listener(c, 0)->reuseport, cases[i].value);
		assert_int_equal(nth_listener(c, 0)->keepalive, cases[i].value);
		config_free(c);
	}
}

static void
test_log_values(void **state)
{
	static const struct {
		const char *text;
		int level;
	} levels[] = {
		{ "error", LOG_LEVEL_ERROR },
		{ "warn", LOG_LEVEL_WARN },
		{ "info", LOG_LEVEL_INFO },
		{ "debug", LOG_LEVEL_DEBUG },
	};
	static const char *const logs[] = { "stderr", "syslog", "/tmp/synackd.log" };
	char text[256];
	struct config *c;

	for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++) {
		snprintf(text, sizeof text, "[server]\nlog_level = %s\n" ECHO, levels[i].text);
		c = parse_ok(text);
		assert_int_equal(c->log_level, levels[i].level);
		config_free(c);
	}
	for (size_t i = 0; i < sizeof logs / sizeof logs[0]; i++) {
		snprintf(text, sizeof text, "[server]\nlog = %s\n" ECHO, logs[i]);
		c = parse_ok(text);
		assert_string_equal(c->log, logs[i]);
		config_free(c);
	}
}

/* The extremes of every number are accepted. */
static void
test_number_limits(void **state)
{
	struct config *c = parse_ok("[server]\n"
				    "max_clients = 10000000\n"
				    "idle_timeout = 31536000\n"
				    "shutdown_timeout = 86400\n"
				    "[listener a]\n"
				    "service = echo\n"
				    "port = 65535\n"
				    "backlog = 1\n"
				    "defer_accept = 3600\n"
				    "max_line = 1048576\n"
				    "output_limit = 1073741824\n"
				    "[listener b]\n"
				    "service = echo\n"
				    "port = 0\n"
				    "backlog = 2147483647\n"
				    "defer_accept = 0\n"
				    "max_line = 1\n"
				    "output_limit = 1024\n"
				    "[listener c]\n"
				    "service = echo\n"
				    "address = 127.0.0.1\n"
				    "port = 1\n");
	struct listener_conf *a, *b;

	assert_int_equal(c->max_clients, 10000000);
	assert_int_equal(c->idle_timeout, 31536000);
	assert_int_equal(c->shutdown_timeout, 86400);
	a = nth_listener(c, 0);
	b = nth_listener(c, 1);
	assert_int_equal(a->port, 65535);
	assert_int_equal(net_addr_port(&a->addr), 65535);
	assert_int_equal(a->backlog, 1);
	assert_int_equal(a->defer_accept, 3600);
	assert_int_equal(a->max_line, 1048576);
	assert_int_equal(a->output_limit, 1073741824);
	assert_int_equal(b->port, 0);
	assert_int_equal(b->backlog, INT_MAX);
	assert_int_equal(b->max_line, 1);
	assert_int_equal(b->output_limit, 1024);
	assert_int_equal(nth_listener(c, 2)->port, 1);
	config_free(c);

	c = parse_ok("[server]\nmax_clients = 1\nshutdown_timeout = 0\n" ECHO);
	assert_int_equal(c->max_clients, 1);
	assert_int_equal(c->shutdown_timeout, 0);
	config_free(c);
}

static const struct {
	const char *name;
	const struct service *svc;
} service_cases[] = {
	{ "echo", &service_echo },
	{ "discard", &service_discard },
	{ "chargen", &service_chargen },
	{ "daytime", &service_daytime },
	{ "chat", &service_chat },
};

static void
test_services_by_key(void **state)
{
	char text[256];

	for (size_t i = 0; i < sizeof service_cases / sizeof service_cases[0]; i++) {
		struct config *c;

		/* the listener's name is another service: the key wins */
		snprintf(text, sizeof text, "[listener %s]\nservice = %s\nport = 0\n",
		    i == 0 ? "chat" : "echo", service_cases[i].name);
		c = parse_ok(text);
		assert_ptr_equal(nth_listener(c, 0)->service, service_cases[i].svc);
		config_free(c);
	}
}

static void
test_service_from_name(void **state)
{
	char text[256];

	for (size_t i = 0; i < sizeof service_cases / sizeof service_cases[0]; i++) {
		struct config *c;

		snprintf(text, sizeof text, "[listener %s]\nport = 0\n", service_cases[i].name);
		c = parse_ok(text);
		assert_ptr_equal(nth_listener(c, 0)->service, service_cases[i].svc);
		config_free(c);
	}
}

static void
test_addresses(void **state)
{
	static const struct {
		const char *address;
		int family, dual, port;
	} cases[] = {
		{ "*", AF_INET6, 1, 7 },
		{ "0.0.0.0", AF_INET, 0, 7 },
		{ "::", AF_INET6, 0, 7 },
		{ "127.0.0.1", AF_INET, 0, 7 },
		{ "::1", AF_INET6, 0, 7 },
		{ "[::1]", AF_INET6, 0, 7 },
		{ "unix:/tmp/synack-test.sock", AF_UNIX, 0, -1 },
	};
	char text[256];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct listener_conf *lc;
		struct config *c;

		if (cases[i].port == -1)
			snprintf(
			    text, sizeof text, "[listener echo]\naddress = %s\n", cases[i].address);
		else
			snprintf(text, sizeof text, "[listener echo]\naddress = %s\nport = %d\n",
			    cases[i].address, cases[i].port);
		c = parse_ok(text);
		lc = nth_listener(c, 0);
		assert_string_equal(lc->address, cases[i].address);
		assert_int_equal(lc->addr.ss.ss_family, cases[i].family);
		assert_int_equal(lc->addr.dual, cases[i].dual);
		assert_int_equal(net_addr_port(&lc->addr), cases[i].port);
		config_free(c);
	}
}

/* Listeners that can all be bound at once are no conflict. */
static void
test_no_overlap(void **state)
{
	static const char *const files[] = {
		/* port 0: the kernel picks distinct ports */
		"[listener a]\nservice = echo\naddress = 127.0.0.1\nport = 0\n"
		"[listener b]\nservice = echo\naddress = 127.0.0.1\nport = 0\n",
		"[listener a]\nservice = echo\nport = 0\n"
		"[listener b]\nservice = echo\nport = 0\n",
		/* different specific addresses */
		"[listener a]\nservice = echo\naddress = 127.0.0.1\nport = 7\n"
		"[listener b]\nservice = echo\naddress = 127.0.0.2\nport = 7\n",
		/* different ports */
		"[listener a]\nservice = echo\nport = 7\n"
		"[listener b]\nservice = echo\nport = 8\n",
		/* "::" is IPv6 only, so 0.0.0.0 is free */
		"[listener a]\nservice = echo\naddress = ::\nport = 7\n"
		"[listener b]\nservice = echo\naddress = 0.0.0.0\nport = 7\n",
		/* different unix paths */
		"[listener a]\nservice = echo\naddress = unix:/tmp/a\n"
		"[listener b]\nservice = echo\naddress = unix:/tmp/b\n",
	};

	for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
		struct config *c = parse_ok(files[i]);

		assert_int_equal(count_listeners(c), 2);
		config_free(c);
	}
}

static void
test_comments_and_blanks(void **state)
{
	struct config *c = parse_ok("; a comment\n"
				    "# another\n"
				    "\n"
				    "[server]   ; after a header\n"
				    "   \n"
				    "max_clients = 42   ; inline\n"
				    "[listener echo]\n"
				    "port=9\n"
				    "backlog   =   12\n");

	assert_int_equal(c->max_clients, 42);
	assert_int_equal(nth_listener(c, 0)->port, 9);
	assert_int_equal(nth_listener(c, 0)->backlog, 12);
	config_free(c);
}

static void
test_crlf_and_bom(void **state)
{
	struct config *c = parse_ok("\xEF\xBB\xBF[server]\r\n"
				    "max_clients = 42\r\n"
				    "[listener echo]\r\n"
				    "address = 127.0.0.1\r\n"
				    "port = 9\r\n");

	assert_int_equal(c->max_clients, 42);
	assert_string_equal(nth_listener(c, 0)->name, "echo");
	assert_string_equal(nth_listener(c, 0)->address, "127.0.0.1");
	assert_int_equal(nth_listener(c, 0)->port, 9);
	config_free(c);

	/* line numbers still count from the BOM line */
	check_error("\xEF\xBB\xBF[server]\r\n\r\nbogus = 1\r\n", 3, "unknown key \"bogus\"");
}

/* Keys of features this version lacks: their default is fine. */
static void
test_unavailable_defaults(void **state)
{
	struct config *c = parse_ok("[server]\n"
				    "daemon = no\n"
				    "pidfile =\n"
				    "user =\n"
				    "group =\n"
				    "workers = 1\n"
				    "metrics =\n"
				    "[listener echo]\n"
				    "port = 0\n"
				    "proxy_protocol = no\n");

	check_server_defaults(c);
	assert_int_equal(nth_listener(c, 0)->proxy_protocol, 0);
	config_free(c);

	c = parse_ok("[server]\ndaemon = off\n[listener echo]\nport = 0\nproxy_protocol = false\n");
	assert_int_equal(c->daemon, 0);
	config_free(c);
}

/* ---- refused files ---- */

struct bad {
	const char *what;
	const char *text;
	int line;
	const char *substring;
};

static void
run_bad(const struct bad *cases, size_t n)
{
	for (size_t i = 0; i < n; i++)
		check_error_case(cases[i].what, cases[i].text, cases[i].line, cases[i].substring);
}

#define RUN_BAD(t) run_bad((t), sizeof(t) / sizeof((t)[0]))

static void
test_bad_keys_and_sections(void **state)
{
	static const struct bad cases[] = {
		{ "unknown server key", "[server]\nlog = stderr\nfoo = 1\n", 3,
		    "unknown key \"foo\" in [server]" },
		{ "unknown listener key", "[listener echo]\nport = 1\nbogus = 2\n", 3,
		    "unknown key \"bogus\" in [listener echo]" },
		{ "server key in a listener", "[listener echo]\nport = 1\nmax_clients = 5\n", 3,
		    "unknown key \"max_clients\" in [listener echo]" },
		{ "listener key in server", "[server]\n\nport = 1\n", 3,
		    "unknown key \"port\" in [server]" },
		{ "unknown section", "[server]\n\n[servers]\n", 3,
		    "unknown section [servers] (expected [server] or [listener NAME])" },
		{ "listener without a name", "[server]\n[listener]\n", 2,
		    "unknown section [listener]" },
		{ "listener glued to its name", "[listenerecho]\n", 1,
		    "unknown section [listenerecho]" },
		{ "bad listener name", "[server]\n[listener a/b]\n", 2,
		    "bad listener name \"a/b\"" },
		{ "missing ]", "[server]\nlog = stderr\n[listener echo\n", 3,
		    "missing ']' in section header" },
		{ "key before any section", "; comment\nport = 1\n[server]\n", 2,
		    "\"port\" outside of any section" },
		{ "duplicate listener",
		    "[listener a]\nservice = echo\nport = 1\n\n[listener a]\nservice = echo\n", 5,
		    "duplicate listener \"a\" (first at line 1)" },
		{ "duplicate listener, first not on line 1",
		    "[server]\n[listener b]\nport = 0\nservice = echo\n[listener b]\n", 5,
		    "duplicate listener \"b\" (first at line 2)" },
		{ "listener key set twice", "[listener echo]\nport = 1\nbacklog = 5\nport = 2\n", 4,
		    "\"port\" set twice in [listener echo]" },
		{ "server key set twice", "[server]\nmax_clients = 1\nmax_clients = 1\n", 3,
		    "\"max_clients\" set twice in [server]" },
		{ "server key set twice across sections",
		    "[server]\nlog = stderr\n[listener echo]\nport = 0\n[server]\nlog = syslog\n",
		    6, "\"log\" set twice in [server]" },
		{ "line without =", "[server]\nlog_level\n", 2,
		    "syntax error (expected [section] or key = value)" },
		{ "syntax error before a bad key", "[server]\njunk\nfoo = 1\n", 2, "syntax error" },
		{ "first of two errors", "[server]\nfoo = 1\nbar = 2\n", 2, "unknown key \"foo\"" },
	};

	RUN_BAD(cases);
}

static void
test_bad_values(void **state)
{
	static const struct bad cases[] = {
		{ "port not a number", "[listener echo]\nport = abc\n", 2,
		    "port: \"abc\" is not a number from 0 to 65535" },
		{ "port with junk", "[listener echo]\nport = 70x\n", 2,
		    "port: \"70x\" is not a number from 0 to 65535" },
		{ "port hex", "[listener echo]\nport = 0x10\n", 2,
		    "port: \"0x10\" is not a number" },
		{ "port empty", "[listener echo]\nport =\n", 2, "port: \"\" is not a number" },
		{ "port 70000", "[listener echo]\nport = 70000\n", 2,
		    "port: \"70000\" is not a number from 0 to 65535" },
		{ "port 65536", "[listener echo]\nport = 65536\n", 2, "port: \"65536\"" },
		{ "port -1", "[listener echo]\nport = -1\n", 2, "port: \"-1\"" },
		{ "port overflowing long", "[listener echo]\nport = 99999999999999999999999\n", 2,
		    "port: \"99999999999999999999999\"" },
		{ "backlog 0", "[listener echo]\nport = 1\nbacklog = 0\n", 3,
		    "backlog: \"0\" is not a number from 1 to 2147483647" },
		{ "backlog over int", "[listener echo]\nport = 1\nbacklog = 2147483648\n", 3,
		    "backlog: \"2147483648\"" },
		{ "defer_accept 3601", "[listener echo]\nport = 1\ndefer_accept = 3601\n", 3,
		    "defer_accept: \"3601\" is not a number from 0 to 3600" },
		{ "max_line 0", "[listener chat]\nport = 1\nmax_line = 0\n", 3,
		    "max_line: \"0\" is not a number from 1 to 1048576" },
		{ "max_line too big", "[listener chat]\nport = 1\nmax_line = 1048577\n", 3,
		    "max_line: \"1048577\"" },
		{ "output_limit 1023", "[listener echo]\nport = 1\noutput_limit = 1023\n", 3,
		    "output_limit: \"1023\" is not a number from 1024 to 1073741824" },
		{ "max_clients 0", "[server]\nmax_clients = 0\n", 2,
		    "max_clients: \"0\" is not a number from 1 to 10000000" },
		{ "idle_timeout negative", "[server]\nidle_timeout = -5\n", 2,
		    "idle_timeout: \"-5\" is not a number from 0 to 31536000" },
		{ "shutdown_timeout words", "[server]\nshutdown_timeout = ten\n", 2,
		    "shutdown_timeout: \"ten\" is not a number from 0 to 86400" },
		{ "workers out of range", "[server]\nworkers = 5000\n", 2,
		    "workers: \"5000\" is not a number from 0 to 1024" },
		{ "bad boolean", "[listener echo]\nport = 1\nreuseport = maybe\n", 3,
		    "reuseport: \"maybe\" is not yes or no" },
		{ "empty boolean", "[listener echo]\nport = 1\nkeepalive =\n", 3,
		    "keepalive: \"\" is not yes or no" },
		{ "bad daemon boolean", "[server]\ndaemon = 2\n", 2,
		    "daemon: \"2\" is not yes or no" },
		{ "bad log_level", "[server]\nlog_level = verbose\n", 2,
		    "log_level: \"verbose\" is not one of error, warn, info, debug" },
		{ "relative log", "[server]\nlog = synackd.log\n", 2,
		    "log: \"synackd.log\" is not stderr, syslog or an absolute path" },
		{ "empty log", "[server]\nlog =\n", 2, "log: \"\" is not stderr" },
		{ "unknown service", "[listener x]\nport = 1\nservice = ftp\n", 3,
		    "service: unknown service \"ftp\" (one of echo, discard, chargen, daytime, "
		    "chat)" },
		{ "empty service", "[listener x]\nservice =\n", 2, "unknown service \"\"" },
		{ "empty address", "[listener echo]\nport = 1\naddress =\n", 3,
		    "address: \"\" is not a numeric IPv4 or IPv6 address" },
	};

	RUN_BAD(cases);
}

/* An address is checked on its line; port and address together at the end. */
static void
test_bad_addresses(void **state)
{
	static const struct bad cases[] = {
		{ "host name", "[server]\n[listener echo]\naddress = localhost\nport = 1\n", 3,
		    "address: \"localhost\" is not a numeric IPv4 or IPv6 address, \"*\" or "
		    "unix:/path" },
		{ "bad IPv4", "[listener echo]\nport = 1\naddress = 127.0.0.256\n", 3,
		    "address: \"127.0.0.256\" is not a numeric" },
		{ "IPv4 in brackets", "[listener echo]\naddress = [127.0.0.1]\nport = 1\n", 2,
		    "address: \"[127.0.0.1]\" is not a numeric" },
		{ "address with a port", "[listener echo]\naddress = 127.0.0.1:7\nport = 1\n", 2,
		    "address: \"127.0.0.1:7\" is not a numeric" },
		{ "unix path not absolute", "[listener echo]\n\naddress = unix:tmp/s\n", 3,
		    "address: unix socket path must be absolute: \"tmp/s\"" },
		{ "unix path empty", "[listener echo]\naddress = unix:\n", 2,
		    "address: unix socket path must be absolute" },
		{ "missing port", "[server]\n\n[listener echo]\naddress = 127.0.0.1\n", 3,
		    "listener echo: no port set (0 lets the kernel choose)" },
		{ "missing port, no keys", "[listener echo]\n", 1, "listener echo: no port set" },
		{ "port for a unix socket", "[listener echo]\naddress = unix:/tmp/s\nport = 1\n", 1,
		    "listener echo: port does not apply to a unix socket" },
		{ "no service, name is not one", "[server]\n[listener web]\nport = 80\n", 2,
		    "listener web: no service set (one of echo, discard, chargen, daytime, chat)" },
	};

	RUN_BAD(cases);
}

static void
test_unix_path_length(void **state)
{
	struct sockaddr_un sun;
	size_t max = sizeof sun.sun_path - 1;
	char path[sizeof sun.sun_path + 8], text[512], want[128];
	struct config *c;

	/* the longest path that fits is accepted ... */
	memset(path, 'p', max);
	path[0] = '/';
	path[max] = '\0';
	snprintf(text, sizeof text, "[listener echo]\naddress = unix:%s\n", path);
	c = parse_ok(text);
	assert_int_equal(nth_listener(c, 0)->addr.ss.ss_family, AF_UNIX);
	config_free(c);

	/* ... one more byte is not */
	memset(path, 'p', max + 1);
	path[0] = '/';
	path[max + 1] = '\0';
	snprintf(text, sizeof text, "[server]\n[listener echo]\naddress = unix:%s\n", path);
	snprintf(want, sizeof want, "address: unix socket path longer than %zu bytes", max);
	check_error(text, 3, want);
}

static void
test_overlaps(void **state)
{
	static const struct bad cases[] = {
		{ "same address and port",
		    "[listener a]\nservice = echo\naddress = 127.0.0.1\nport = 7\n"
		    "[listener b]\nservice = discard\naddress = 127.0.0.1\nport = 7\n",
		    5, "listener b: 127.0.0.1:7 overlaps listener a (line 1)" },
		{ "same IPv6 address and port, spelled differently",
		    "[server]\n[listener a]\nservice = echo\naddress = ::1\nport = 7\n"
		    "[listener b]\nservice = echo\naddress = [0::1]\nport = 7\n",
		    6, "listener b: [::1]:7 overlaps listener a (line 2)" },
		{ "* then a specific IPv4 address",
		    "[listener a]\nservice = echo\naddress = *\nport = 7\n"
		    "[listener b]\nservice = echo\naddress = 127.0.0.1\nport = 7\n",
		    5, "listener b: 127.0.0.1:7 overlaps listener a (line 1)" },
		{ "a specific IPv6 address then *",
		    "[listener a]\nservice = echo\naddress = ::1\nport = 7\n"
		    "[listener b]\nservice = echo\nport = 7\n",
		    5, "listener b: [::]:7 overlaps listener a (line 1)" },
		{ "0.0.0.0 then a specific address",
		    "[listener a]\nservice = echo\naddress = 0.0.0.0\nport = 7\n"
		    "[listener b]\nservice = echo\naddress = 10.1.2.3\nport = 7\n",
		    5, "listener b: 10.1.2.3:7 overlaps listener a (line 1)" },
		{ "a specific address then ::",
		    "[listener a]\nservice = echo\naddress = ::1\nport = 7\n"
		    "[listener b]\nservice = echo\naddress = ::\nport = 7\n",
		    5, "listener b: [::]:7 overlaps listener a (line 1)" },
		{ "* then 0.0.0.0",
		    "[listener a]\nservice = echo\nport = 7\n"
		    "[listener b]\nservice = echo\naddress = 0.0.0.0\nport = 7\n",
		    4, "listener b: 0.0.0.0:7 overlaps listener a (line 1)" },
		{ "third listener overlaps the first",
		    "[listener a]\nservice = echo\naddress = 127.0.0.1\nport = 7\n"
		    "[listener b]\nservice = echo\naddress = 127.0.0.1\nport = 8\n"
		    "[listener c]\nservice = echo\naddress = 127.0.0.1\nport = 7\n",
		    9, "listener c: 127.0.0.1:7 overlaps listener a (line 1)" },
		{ "same unix path",
		    "[listener a]\nservice = echo\naddress = unix:/tmp/s\n"
		    "[listener b]\nservice = chat\naddress = unix:/tmp/s\n",
		    4, "listener b: unix:/tmp/s overlaps listener a (line 1)" },
	};

	RUN_BAD(cases);
}

/* chat_rate and chat_burst: chat only; the burst holds at least a tick's share. */
static void
test_chat_rate(void **state)
{
	static const struct bad cases[] = {
		{ "chat_rate on echo", "[listener e]\nservice = echo\nport = 0\nchat_rate = 5\n", 4,
		    "listener e: chat_rate is for chat listeners, not echo" },
		{ "chat_burst on a service from the name",
		    "[listener discard]\nchat_burst = 10\nport = 0\n", 2,
		    "listener discard: chat_burst is for chat listeners, not discard" },
		{ "burst below a tick's share",
		    "[listener chat]\nport = 0\nchat_rate = 100000\nchat_burst = 9999\n", 4,
		    "listener chat: chat_burst 9999 is less than one tick's share of chat_rate "
		    "(10000 bytes per 100 ms)" },
		{ "negative rate", "[listener chat]\nport = 0\nchat_rate = -1\n", 3,
		    "chat_rate: \"-1\" is not a number from 0 to" },
		{ "zero burst", "[listener chat]\nport = 0\nchat_burst = 0\n", 3,
		    "chat_burst: \"0\" is not a number from 1 to" },
	};
	struct config *c;

	RUN_BAD(cases);
	/* the burst defaults to one second's worth */
	c = parse_ok("[listener chat]\nport = 0\nchat_rate = 5000\n");
	assert_int_equal(nth_listener(c, 0)->chat_rate, 5000);
	assert_int_equal(nth_listener(c, 0)->chat_burst, 5000);
	config_free(c);
	c = parse_ok("[listener chat]\nport = 0\n");
	assert_int_equal(nth_listener(c, 0)->chat_burst, CHAT_RATE_DEFAULT);
	config_free(c);
	c = parse_ok("[listener chat]\nport = 0\nchat_rate = 0\n");
	assert_int_equal(nth_listener(c, 0)->chat_rate, 0);
	config_free(c);
	c = parse_ok("[listener chat]\nport = 0\nchat_rate = 100000\nchat_burst = 10000\n");
	assert_int_equal(nth_listener(c, 0)->chat_burst, 10000);
	config_free(c);
}

static void
test_defer_accept(void **state)
{
	static const struct bad cases[] = {
		{ "daytime", "[listener d]\nservice = daytime\nport = 0\ndefer_accept = 5\n", 4,
		    "listener d: defer_accept makes no sense for daytime: the server speaks "
		    "first" },
		{ "chargen", "[listener c]\nservice = chargen\nport = 0\ndefer_accept = 1\n", 4,
		    "listener c: defer_accept makes no sense for chargen" },
		{ "service from the name",
		    "[server]\n[listener chargen]\ndefer_accept = 2\nport = 0\n", 3,
		    "listener chargen: defer_accept makes no sense for chargen" },
		{ "defer_accept before service",
		    "[listener d]\ndefer_accept = 5\nservice = daytime\nport = 0\n", 2,
		    "defer_accept makes no sense for daytime" },
	};
	static const char *const good[] = {
		"[listener e]\nservice = echo\nport = 0\ndefer_accept = 5\n",
		"[listener discard]\nport = 0\ndefer_accept = 5\n",
		"[listener chat]\nport = 0\ndefer_accept = 5\n",
		"[listener daytime]\nport = 0\ndefer_accept = 0\n",
		"[listener chargen]\nport = 0\ndefer_accept = 0\n",
	};

	RUN_BAD(cases);
	for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
		struct config *c = parse_ok(good[i]);

		config_free(c);
	}
}

/*
 * fastopen: a TFO queue length from 0 to 65535, for TCP listeners only;
 * the warning's decision: a listener with fastopen > 0 and a
 * net.ipv4.tcp_fastopen without the server bit (2).
 */
static void
test_fastopen(void **state)
{
	static const struct bad cases[] = {
		{ "over the bound", "[listener echo]\nport = 0\nfastopen = 65536\n", 3,
		    "fastopen: \"65536\" is not a number from 0 to 65535" },
		{ "negative", "[listener echo]\nport = 0\nfastopen = -1\n", 3,
		    "fastopen: \"-1\" is not a number from 0 to 65535" },
		{ "unix", "[listener echo]\naddress = unix:/run/e.sock\n\nfastopen = 16\n", 4,
		    "listener echo: fastopen does not apply to a unix socket" },
		{ "unix, even 0", "[listener echo]\nfastopen = 0\naddress = unix:/run/e.sock\n", 2,
		    "listener echo: fastopen does not apply to a unix socket" },
	};
	static const struct {
		const char *text;
		long sysctl;
		const char *unserved; /* the listener named, or NULL: no warning */
	} warn[] = {
		{ "[listener echo]\nport = 0\nfastopen = 16\n", 1, "echo" },
		{ "[listener echo]\nport = 0\nfastopen = 16\n", 0, "echo" },
		{ "[listener echo]\nport = 0\nfastopen = 16\n", 0x401, "echo" },
		{ "[listener echo]\nport = 0\nfastopen = 16\n", 2, NULL },
		{ "[listener echo]\nport = 0\nfastopen = 16\n", 3, NULL },
		{ "[listener echo]\nport = 0\nfastopen = 16\n", 0x403, NULL },
		{ "[listener echo]\nport = 0\nfastopen = 16\n", -1, NULL }, /* unknown */
		{ "[listener echo]\nport = 0\n", 1, NULL },
		{ "[listener echo]\nport = 0\nfastopen = 0\n", 0, NULL },
		{ "[listener a]\nservice = echo\nport = 0\n"
		  "[listener b]\nservice = echo\nport = 0\nfastopen = 1\n"
		  "[listener c]\nservice = echo\nport = 0\nfastopen = 65535\n",
		    1, "b" },
	};

	RUN_BAD(cases);
	for (size_t i = 0; i < sizeof warn / sizeof warn[0]; i++) {
		struct config *c = parse_ok(warn[i].text);
		const struct listener_conf *lc = config_fastopen_unserved(c, warn[i].sysctl);

		if (warn[i].unserved == NULL)
			assert_null(lc);
		else {
			assert_non_null(lc);
			assert_string_equal(lc->name, warn[i].unserved);
		}
		config_free(c);
	}
}

/*
 * transport: tcp (the default) or udp; udp takes max_datagram, udp_rate and rcvbuf
 * and refuses what only a connection has, chat and unix sockets; a TCP
 * and a UDP listener may share an address and port, two UDP ones not.
 */
static void
test_transport(void **state)
{
	static const struct bad cases[] = {
		{ "not a transport", "[listener echo]\nport = 0\ntransport = sctp\n", 3,
		    "transport: \"sctp\" is not tcp or udp" },
		{ "chat", "[listener room]\nservice = chat\nport = 0\ntransport = udp\n", 4,
		    "listener room: chat is TCP only" },
		{ "unix", "[listener echo]\naddress = unix:/run/e.sock\ntransport = udp\n", 3,
		    "listener echo: transport = udp on a unix socket is not supported" },
		{ "backlog", "[listener echo]\nport = 0\ntransport = udp\nbacklog = 5\n", 4,
		    "listener echo: backlog does not apply to transport = udp" },
		{ "save_syn", "[listener echo]\nport = 0\nsave_syn = no\ntransport = udp\n", 3,
		    "listener echo: save_syn does not apply to transport = udp" },
		{ "fastopen", "[listener echo]\nport = 0\ntransport = udp\nfastopen = 1\n", 4,
		    "fastopen does not apply to transport = udp" },
		{ "defer_accept", "[listener echo]\nport = 0\ntransport = udp\ndefer_accept = 1\n",
		    4, "defer_accept does not apply to transport = udp" },
		{ "proxy_protocol",
		    "[listener echo]\nport = 0\ntransport = udp\nproxy_protocol = yes\n", 4,
		    "proxy_protocol does not apply to transport = udp" },
		{ "max_datagram on tcp", "[listener echo]\nport = 0\nmax_datagram = 512\n", 3,
		    "listener echo: max_datagram is for listeners with transport = udp" },
		{ "udp_rate on tcp", "[listener echo]\nport = 0\ntransport = tcp\nudp_rate = 1\n",
		    4, "listener echo: udp_rate is for listeners with transport = udp" },
		{ "max_datagram 0",
		    "[listener echo]\nport = 0\ntransport = udp\nmax_datagram = 0\n", 4,
		    "max_datagram: \"0\" is not a number from 1 to 65535" },
		{ "max_datagram too big",
		    "[listener echo]\nport = 0\ntransport = udp\nmax_datagram = 65536\n", 4,
		    "max_datagram: \"65536\" is not a number from 1 to 65535" },
		{ "rcvbuf on tcp", "[listener echo]\nport = 0\nrcvbuf = 65536\n", 3,
		    "listener echo: rcvbuf is for listeners with transport = udp" },
		{ "rcvbuf too big",
		    "[listener echo]\nport = 0\ntransport = udp\nrcvbuf = 1073741825\n", 4,
		    "rcvbuf: \"1073741825\" is not a number from 0 to 1073741824" },
		{ "udp_rate negative",
		    "[listener echo]\nport = 0\ntransport = udp\nudp_rate = -1\n", 4,
		    "udp_rate: \"-1\" is not a number from 0 to 1000000" },
		{ "two udp on one port",
		    "[listener a]\nservice = echo\naddress = 127.0.0.1\nport = 7\ntransport = udp\n"
		    "[listener b]\nservice = discard\naddress = *\nport = 7\ntransport = udp\n",
		    6, "listener b: [::]:7 overlaps listener a (line 1)" },
	};
	struct listener_conf *lc;
	struct config *c;

	RUN_BAD(cases);
	c = parse_ok("[listener echo]\nport = 0\n");
	lc = nth_listener(c, 0);
	assert_int_equal(lc->transport, TRANSPORT_TCP);
	config_free(c);
	c = parse_ok("[listener echo]\nport = 0\ntransport = udp\n"
		     "[listener daytime]\nport = 0\ntransport = udp\nmax_datagram = 65535\n"
		     "udp_rate = 0\nrcvbuf = 4194304\n");
	lc = nth_listener(c, 0);
	assert_int_equal(lc->transport, TRANSPORT_UDP);
	assert_int_equal(lc->max_datagram, MAX_DATAGRAM_DEFAULT);
	assert_int_equal(lc->udp_rate, UDP_RATE_DEFAULT);
	assert_int_equal(lc->rcvbuf, 0);
	lc = nth_listener(c, 1);
	assert_int_equal(lc->max_datagram, 65535);
	assert_int_equal(lc->udp_rate, 0);
	assert_int_equal(lc->rcvbuf, 4194304);
	config_free(c);
	/* one port number, two transports: two ports; and beside metrics */
	c = parse_ok("[server]\nmetrics = 127.0.0.1:9100\n"
		     "[listener tcp]\nservice = echo\naddress = 127.0.0.1\nport = 7007\n"
		     "[listener udp]\nservice = echo\naddress = *\nport = 7007\ntransport = udp\n"
		     "[listener m]\nservice = discard\naddress = 127.0.0.1\nport = 9100\n"
		     "transport = udp\n");
	config_free(c);
	c = parse_ok("[listener c]\nservice = chargen\nport = 0\ntransport = udp\n"
		     "[listener d]\nservice = discard\nport = 0\ntransport = udp\n");
	config_free(c);
}

/* proxy_from: parsed where it is set, only with proxy_protocol, never for unix. */
static void
test_proxy_from(void **state)
{
	static const struct bad cases[] = {
		{ "without proxy_protocol", "[listener echo]\nport = 0\nproxy_from = 127.0.0.2\n",
		    3, "listener echo: proxy_from is for listeners with proxy_protocol = yes" },
		{ "with proxy_protocol = no",
		    "[listener echo]\nport = 0\nproxy_from = ::1\nproxy_protocol = no\n", 3,
		    "proxy_from is for listeners with proxy_protocol = yes" },
		{ "unix listener",
		    "[listener echo]\naddress = unix:/run/s\nproxy_protocol = yes\n"
		    "proxy_from = 127.0.0.1\n",
		    4, "listener echo: proxy_from does not apply to a unix socket" },
		{ "not an address",
		    "[listener echo]\nport = 0\nproxy_protocol = yes\nproxy_from = lb1\n", 4,
		    "proxy_from: \"lb1\" is not a numeric IPv4 or IPv6 address" },
		{ "host bits",
		    "[listener echo]\nport = 0\nproxy_protocol = yes\nproxy_from = 10.0.0.1/8\n", 4,
		    "proxy_from: \"10.0.0.1/8\": bits set past the /8 prefix" },
		{ "empty", "[listener echo]\nport = 0\nproxy_protocol = yes\nproxy_from =\n", 4,
		    "proxy_from: no address" },
		{ "set twice",
		    "[listener echo]\nport = 0\nproxy_protocol = yes\nproxy_from = ::1\n"
		    "proxy_from = 127.0.0.2\n",
		    5, "\"proxy_from\" set twice in [listener echo]" },
	};
	struct listener_conf *lc, *dup;
	struct config *c;
	char net[CIDR_STRLEN];

	RUN_BAD(cases);
	/* set before proxy_protocol, a list with blanks and both families */
	c = parse_ok("[listener echo]\nport = 0\nproxy_from = 127.0.0.2 , 2001:db8::/32\n"
		     "proxy_protocol = yes\n[listener discard]\nport = 0\n");
	lc = nth_listener(c, 0);
	assert_int_equal(lc->proxy_from.n, 2);
	assert_string_equal(cidr_format(&lc->proxy_from.v[0], net, sizeof net), "127.0.0.2/32");
	assert_string_equal(cidr_format(&lc->proxy_from.v[1], net, sizeof net), "2001:db8::/32");
	/* a listener's copy has its own list */
	dup = listener_conf_dup(lc);
	assert_non_null(dup);
	assert_int_equal(dup->proxy_from.n, 2);
	assert_ptr_not_equal(dup->proxy_from.v, lc->proxy_from.v);
	assert_memory_equal(dup->proxy_from.v, lc->proxy_from.v, 2 * sizeof *lc->proxy_from.v);
	listener_conf_free(dup);
	/* not set: empty, for anyone */
	assert_int_equal(nth_listener(c, 1)->proxy_from.n, 0);
	assert_null(nth_listener(c, 1)->proxy_from.v);
	config_free(c);
	/* a unix proxy_protocol listener needs none */
	c = parse_ok("[listener echo]\naddress = unix:/run/s\nproxy_protocol = yes\n");
	config_free(c);
}

static void
test_daemon_keys(void **state)
{
	static const struct bad cases[] = {
		{ "relative pidfile", "[server]\npidfile = synackd.pid\n", 2,
		    "pidfile: \"synackd.pid\" is not an absolute path" },
		{ "unknown user", "[server]\nlog = stderr\nuser = synack-no-such-user\n", 3,
		    "user: unknown user \"synack-no-such-user\"" },
		{ "unknown group", "[server]\n\ngroup = synack-no-such-group\n", 3,
		    "group: unknown group \"synack-no-such-group\"" },
		{ "bad daemon boolean", "[server]\ndaemon = sometimes\n", 2,
		    "daemon: \"sometimes\" is not yes or no" },
	};
	char text[256];
	struct config *c;

	RUN_BAD(cases);

	snprintf(text, sizeof text, "[server]\nuser = %s\n" ECHO, root_user());
	c = parse_ok(text);
	assert_string_equal(c->user, root_user());
	config_free(c);
	snprintf(text, sizeof text, "[server]\ngroup = %s\n" ECHO, root_group());
	c = parse_ok(text);
	assert_string_equal(c->group, root_group());
	config_free(c);
	c = parse_ok("[server]\ndaemon = yes\npidfile = /tmp/x.pid\n" ECHO);
	assert_int_equal(c->daemon, 1);
	assert_string_equal(c->pidfile, "/tmp/x.pid");
	config_free(c);
}

/* workers: 0 (one per CPU) to 1024 event loops. */
static void
test_workers(void **state)
{
	static const struct bad cases[] = {
		{ "too many", "[server]\nworkers = 1025\n", 2,
		    "workers: \"1025\" is not a number from 0 to 1024" },
		{ "negative", "[server]\nlog = stderr\nworkers = -1\n", 3,
		    "workers: \"-1\" is not a number from 0 to 1024" },
	};
	struct config *c;

	RUN_BAD(cases);
	c = parse_ok("[server]\nworkers = 0\n" ECHO);
	assert_int_equal(c->workers, 0);
	config_free(c);
	c = parse_ok("[server]\nworkers = 16\n" ECHO);
	assert_int_equal(c->workers, 16);
	config_free(c);
}

/* metrics takes HOST:PORT, and no listener may take the same address */
static void
test_metrics(void **state)
{
	static const struct bad cases[] = {
		{ "not HOST:PORT", "[server]\nmetrics = 9107\n" ECHO, 2,
		    "metrics: \"9107\" is not" },
		{ "unix", "[server]\nmetrics = unix:/tmp/m.sock\n" ECHO, 2,
		    "the metrics endpoint takes HOST:PORT, not a unix socket" },
		{ "bad port", "[server]\nmetrics = 127.0.0.1:70000\n" ECHO, 2,
		    "metrics: \"127.0.0.1:70000\": port \"70000\" is not a number" },
		{ "overlap", "[server]\nmetrics = 127.0.0.1:9107\n[listener echo]\nport = 9107\n",
		    3, "listener echo: [::]:9107 overlaps metrics (line 2)" },
	};
	struct config *c;

	RUN_BAD(cases);
	c = parse_ok("[server]\nmetrics = [::1]:0\n" ECHO);
	assert_string_equal(c->metrics, "[::1]:0");
	assert_int_equal(c->metrics_addr.ss.ss_family, AF_INET6);
	config_free(c);
	/* port 0 never overlaps: the kernel picks two different ports */
	c = parse_ok(
	    "[server]\nmetrics = 127.0.0.1:0\n[listener echo]\naddress = 127.0.0.1\nport = 0\n");
	config_free(c);
}

/*
 * The descriptor budget: a socket per client, listener and metrics
 * connection (none with the endpoint off, whatever metrics_max_connections
 * says), and CONFIG_OWN_DESCRIPTORS; the message names each part.
 */
static void
test_descriptors(void **state)
{
	static const struct {
		const char *text;
		long need;
		const char *why;
	} cases[] = {
		{ "[server]\nmax_clients = 100\n" ECHO, 100 + 1 + 32,
		    "max_clients 100, 1 listener and 32 of the daemon's own" },
		{ "[server]\nmax_clients = 100\nmetrics_max_connections = 7\n" ECHO, 100 + 1 + 32,
		    "max_clients 100, 1 listener and 32 of the daemon's own" },
		{ "[server]\nmax_clients = 100\nmetrics = 127.0.0.1:0\n" ECHO, 100 + 1 + 32 + 32,
		    "max_clients 100, 1 listener, metrics_max_connections 32 and 32 of the "
		    "daemon's own" },
		{ "[server]\nmetrics = 127.0.0.1:0\nmetrics_max_connections = 10000\n"
		  "[listener a]\nservice = echo\nport = 0\n[listener b]\nservice = echo\nport = "
		  "0\n",
		    10000 + 2 + 10000 + 32,
		    "max_clients 10000, 2 listeners, metrics_max_connections 10000 and 32 of the "
		    "daemon's own" },
	};
	static const struct bad bad[] = {
		{ "none", "[server]\nmetrics_max_connections = 0\n" ECHO, 2,
		    "metrics_max_connections: \"0\" is not a number from 1 to 10000" },
		{ "too many", "[server]\nmetrics_max_connections = 10001\n" ECHO, 2,
		    "metrics_max_connections: \"10001\" is not a number from 1 to 10000" },
	};
	char why[160];

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct config *c = parse_ok(cases[i].text);

		assert_int_equal(config_descriptors(c, why, sizeof why), cases[i].need);
		assert_string_equal(why, cases[i].why);
		config_free(c);
	}
	RUN_BAD(bad);
}

static void
test_unavailable_refused(void **state)
{
	static const struct bad cases[] = {
		{ "proxy_timeout without proxy_protocol",
		    "[listener echo]\nport = 0\nproxy_timeout = 5\n", 3,
		    "listener echo: proxy_timeout is for listeners with proxy_protocol = yes" },
		{ "proxy_timeout 0",
		    "[listener echo]\nport = 0\nproxy_protocol = yes\nproxy_timeout = 0\n", 4,
		    "proxy_timeout" },
	};

	RUN_BAD(cases);
}

static void
test_line_too_long(void **state)
{
	char text[1024], want[64];
	char *err = malloc(ERRLEN);
	int max;
	struct config *c;

	assert_non_null(err);
	/* a comment far longer than any line buffer */
	snprintf(text, sizeof text, "[server]\n; %0600d\nlog = stderr\n", 0);
	check_error(text, 2, "line longer than ");

	/* the limit the message states is exact: max is fine, max + 1 is not */
	c = parse(text, err, ERRLEN);
	assert_null(c);
	assert_int_equal(sscanf(err, NAME ":2: line longer than %d characters", &max), 1);
	assert_in_range(max, 80, 900);

	snprintf(text, sizeof text, "[server]\n;%0*d\nmax_clients = 3\n" ECHO, max - 1, 0);
	assert_int_equal(
	    strlen(strchr(text, ';')) - strlen("\nmax_clients = 3\n" ECHO), (size_t)max);
	c = parse_ok(text);
	assert_int_equal(c->max_clients, 3);
	config_free(c);

	snprintf(text, sizeof text, "[server]\n;%0*d\nmax_clients = 3\n", max, 0);
	snprintf(want, sizeof want, "line longer than %d characters", max);
	check_error(text, 2, want);

	/* nothing after a long line is read: its tail is not a new line */
	snprintf(text, sizeof text, "[server]\nlog = stderr ;%0*d\nfoo = 1\n", max, 0);
	check_error(text, 2, want);
	free(err);
}

/* A short error buffer truncates the message but keeps it a string. */
static void
test_short_error_buffer(void **state)
{
	char err[16];
	struct config *c;

	memset(err, 'x', sizeof err);
	c = parse("[server]\nfoo = 1\n", err, sizeof err);
	assert_null(c);
	assert_int_equal(strlen(err), sizeof err - 1);
	assert_memory_equal(err, NAME ":2: ", strlen(NAME ":2: "));
}

/* a string literal with its NULs: its bytes and its length */
#define BYTES(s) s, sizeof(s) - 1

/*
 * A byte that is not text is refused with its line and column: a NUL
 * would otherwise hide the rest of its line from every check, and shift
 * the line numbers of every error after it.
 */
static void
test_binary_bytes(void **state)
{
	static const struct {
		const char *what;
		const char *data;
		size_t len;
		const char *err;
	} cases[] = {
		{ "a key hidden behind a NUL in a comment",
		    BYTES("[listener echo]\nport = 0\n; note\0\nkeepalive = yes\n"),
		    NAME ":3: control character 0x00 in column 7 (is this a text file?)" },
		{ "garbage behind a NUL in a value",
		    BYTES("[server]\nmax_clients = 10000\0garbage\n"),
		    NAME ":2: control character 0x00 in column 20 (is this a text file?)" },
		{ "a file of NUL bytes", BYTES("\0\0\0\0\0\0\0\0"),
		    NAME ":1: control character 0x00 in column 1 (is this a text file?)" },
		{ "an escape character", BYTES("[server]\n\n\x1b[31mlog = stderr\n"),
		    NAME ":3: control character 0x1b in column 1 (is this a text file?)" },
		{ "DEL", BYTES("[listener echo]\nport = 0\x7f\n"),
		    NAME ":2: control character 0x7f in column 9 (is this a text file?)" },
		{ "a NUL in the last line, without a line end",
		    BYTES("[listener echo]\nport = 0\0"),
		    NAME ":2: control character 0x00 in column 9 (is this a text file?)" },
	};
	char err[ERRLEN];
	struct config *c;

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		c = parse_bytes(cases[i].data, cases[i].len, err, sizeof err);
		if (c != NULL) {
			config_free(c);
			fail_msg("%s: accepted", cases[i].what);
		}
		if (strcmp(err, cases[i].err) != 0)
			fail_msg(
			    "%s: got \"%s\", expected \"%s\"", cases[i].what, err, cases[i].err);
	}
	/* tab, CR and LF are text */
	c = parse_bytes(BYTES("[listener echo]\r\n\tport\t=\t0\r\n"), err, sizeof err);
	if (c == NULL)
		fail_msg("tab and CRLF refused: %s", err);
	config_free(c);
}

/* ---- config_load ---- */

/* A temporary file, removed even when the test fails. */
static int
tmpfile_setup(void **state)
{
	static char path[64];
	int fd;

	snprintf(path, sizeof path, "%s", "/tmp/synack-test-config-XXXXXX");
	if ((fd = mkstemp(path)) == -1)
		return -1;
	close(fd);
	*state = path;
	return 0;
}

static int
tmpfile_teardown(void **state)
{
	return unlink(*state);
}

static void
test_load_file(void **state)
{
	const char *path = *state;
	char err[ERRLEN];
	struct config *c;
	FILE *f;

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[server]\nmax_clients = 9\n[listener echo]\nport = 0\n", f);
	fclose(f);
	c = config_load(path, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	assert_string_equal(c->path, path);
	assert_int_equal(c->max_clients, 9);
	assert_int_equal(count_listeners(c), 1);
	config_free(c);

	/* errors name the file by the path given */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[server]\nmax_clients = none\n", f);
	fclose(f);
	assert_null(config_load(path, err, sizeof err));
	assert_memory_equal(err, path, strlen(path));
	assert_string_equal(
	    err + strlen(path), ":2: max_clients: \"none\" is not a number from 1 to 10000000");
}

static void
test_load_missing(void **state)
{
	const char *path = "/nonexistent/synack-test/missing.conf";
	char err[ERRLEN], want[ERRLEN];

	assert_null(config_load(path, err, sizeof err));
	snprintf(want, sizeof want, "%s: %s", path, strerror(ENOENT));
	assert_string_equal(err, want);
}

/*
 * Only a regular file is read: a directory, /dev/zero (endless) and a
 * named pipe (open() would wait for a writer, read() for data) are
 * refused at once, naming the file and what it is.
 */
static void
test_load_not_regular(void **state)
{
	char err[ERRLEN], fifo[64], want[128];

	assert_null(config_load("/", err, sizeof err));
	assert_string_equal(err, "/: not a regular file but a directory");
	assert_null(config_load("/dev/zero", err, sizeof err));
	assert_string_equal(err, "/dev/zero: not a regular file but a character device");

	snprintf(fifo, sizeof fifo, "/tmp/synack-test-fifo-%ld", (long)getpid());
	unlink(fifo);
	assert_int_equal(mkfifo(fifo, 0600), 0);
	assert_null(config_load(fifo, err, sizeof err));
	unlink(fifo);
	snprintf(want, sizeof want, "%s: not a regular file but a named pipe", fifo);
	assert_string_equal(err, want);
}

/* A file is read up to CONFIG_MAX_SIZE bytes, not one more. */
static void
test_load_size_bound(void **state)
{
	const char *path = *state;
	const char *head = "[listener echo]\nport = 0\n";
	char err[ERRLEN], want[ERRLEN];
	struct config *c;
	FILE *f;

	/* exactly the bound: fine */
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(head, f);
	for (size_t n = strlen(head); n < CONFIG_MAX_SIZE; n += 2)
		fputs(CONFIG_MAX_SIZE - n >= 2 ? ";\n" : "\n", f);
	assert_int_equal(ftell(f), CONFIG_MAX_SIZE);
	fclose(f);
	c = config_load(path, err, sizeof err);
	if (c == NULL)
		fail_msg("%s", err);
	config_free(c);

	/* one byte more: refused */
	f = fopen(path, "a");
	assert_non_null(f);
	fputc('\n', f);
	fclose(f);
	assert_null(config_load(path, err, sizeof err));
	snprintf(want, sizeof want, "%s: larger than %d bytes: not a configuration file?", path,
	    CONFIG_MAX_SIZE);
	assert_string_equal(err, want);
}

/* A symlink is followed when the file is opened. */
static void
test_load_symlink(void **state)
{
	const char *path = *state;
	char link[80], err[ERRLEN];
	struct config *c;
	FILE *f;

	f = fopen(path, "w");
	assert_non_null(f);
	fputs("[server]\nmax_clients = 7\n[listener echo]\nport = 0\n", f);
	fclose(f);
	snprintf(link, sizeof link, "%s.link", path);
	unlink(link);
	assert_int_equal(symlink(path, link), 0);
	c = config_load(link, err, sizeof err);
	unlink(link);
	if (c == NULL)
		fail_msg("%s", err);
	assert_int_equal(c->max_clients, 7);
	assert_string_equal(c->path, link);
	config_free(c);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_file),
		cmocka_unit_test(test_server_defaults),
		cmocka_unit_test(test_listener_defaults),
		cmocka_unit_test(test_every_key),
		cmocka_unit_test(test_listeners_in_order),
		cmocka_unit_test(test_booleans),
		cmocka_unit_test(test_log_values),
		cmocka_unit_test(test_number_limits),
		cmocka_unit_test(test_services_by_key),
		cmocka_unit_test(test_service_from_name),
		cmocka_unit_test(test_addresses),
		cmocka_unit_test(test_no_overlap),
		cmocka_unit_test(test_comments_and_blanks),
		cmocka_unit_test(test_crlf_and_bom),
		cmocka_unit_test(test_unavailable_defaults),
		cmocka_unit_test(test_bad_keys_and_sections),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_bad_addresses),
		cmocka_unit_test(test_unix_path_length),
		cmocka_unit_test(test_overlaps),
		cmocka_unit_test(test_defer_accept),
		cmocka_unit_test(test_fastopen),
		cmocka_unit_test(test_proxy_from),
		cmocka_unit_test(test_transport),
		cmocka_unit_test(test_chat_rate),
		cmocka_unit_test(test_daemon_keys),
		cmocka_unit_test(test_workers),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_descriptors),
		cmocka_unit_test(test_unavailable_refused),
		cmocka_unit_test(test_line_too_long),
		cmocka_unit_test(test_short_error_buffer),
		cmocka_unit_test_setup_teardown(test_load_file, tmpfile_setup, tmpfile_teardown),
		cmocka_unit_test(test_load_missing),
		cmocka_unit_test(test_load_not_regular),
		cmocka_unit_test_setup_teardown(
		    test_load_size_bound, tmpfile_setup, tmpfile_teardown),
		cmocka_unit_test_setup_teardown(test_load_symlink, tmpfile_setup, tmpfile_teardown),
		cmocka_unit_test(test_binary_bytes),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

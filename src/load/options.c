/* SPDX-License-Identifier: ISC */
/*
 * options.c: synack-load's command line, parsed into struct options.
 *
 * Every value is checked here, before anything runs, so that a mistake is
 * a usage error (exit 2) with a message naming the option and what it
 * expects.  The options are taken by group: what load (mode, connections,
 * duration, the rates), how each connection behaves (size, threads,
 * addresses, timeouts, how it ends), and what is reported; then the
 * target, and the checks between options.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"

#define THREADS_MAX 256
#define CONNECTIONS_MAX 1000000
#define SIZE_MAX_BYTES (16u << 20)
#define CHAT_SIZE_MAX 65536u

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: synack-load [options] HOST:PORT | unix:PATH\n"
	    "       synack-load merge REPORT.json... (reports of --json runs, combined)\n"
	    "  -m, --mode MODE          rr (default) | crr | hold | stream | chat\n"
	    "                           | udp-rr (UDP) | udp-stream\n"
	    "  -c, --connections N      concurrent connections (default 100)\n"
	    "  -d, --duration TIME      how long to measure: 10 (seconds), 10s, 500ms, 2m, 1h\n"
	    "                           (default 10s)\n"
	    "  -R, --rate N             open loop: N requests per second in all (k, M: 10k),\n"
	    "                           sent on schedule, latency counted from the schedule\n"
	    "                           (wrk2 -R); without it rr is closed loop (netperf TCP_RR)\n"
	    "                           udp-rr: datagrams likewise; udp-stream: datagrams/s\n"
	    "      --connect-rate N     new connections per second, all along (crr, hold;\n"
	    "                           tcpkali --connect-rate)\n"
	    "  -r, --ramp-rate N        new connections per second while opening the first\n"
	    "                           --connections (default 0: all at once)\n"
	    "  -s, --size BYTES         message size: 64, 1k, 16k, 1M (default 64)\n"
	    "      --direction DIR      stream: both (default: send, read the echo back),\n"
	    "                           send (into a discard server: nothing may come back)\n"
	    "                           or receive (read only: RFC 864 chargen, verified)\n"
	    "  -t, --threads N          event loops (default 1)\n"
	    "  -b, --bind ADDR[-ADDR]   source address(es): bind() before connect, round-robin\n"
	    "  -T, --connect-timeout MS (default 3000; or with a unit: 3s)\n"
	    "      --request-timeout MS an answer later than this is an error (noreply);\n"
	    "                           default 10000; 0 = none (hold's last echo then\n"
	    "                           waits --connect-timeout)\n"
	    "      --close fin|rst      how connections end: rst (default: no TIME_WAIT here)\n"
	    "                           or fin (a normal close, as netperf TCP_CRR)\n"
	    "      --fastopen           TCP Fast Open (crr, hold, rr): the first request goes\n"
	    "                           in the SYN once the server gave a cookie\n"
	    "      --warmup TIME        run load this long first, outside every statistic\n"
	    "      --max-error-rate F   exit 4 if more than this share of connections or\n"
	    "                           requests failed (default 0.01; 1 = never)\n"
	    "      --percentiles LIST   latency percentiles to report (default\n"
	    "                           50,90,99,99.9,99.99)\n"
	    "      --hgrm FILE          the latency distribution in HdrHistogram's .hgrm format\n"
	    "      --timeseries FILE    one CSV row per second\n"
	    "      --json               final report as one JSON object on stdout\n"
	    "  -q, --quiet              no live progress line\n"
	    "      --progress           the live progress line also when stderr is no terminal\n"
	    "  -h, --help               this help\n"
	    "  -V, --version            print the version\n"
	    "Exit: 0 done, 1 verify errors, 2 usage, 3 no connection or no request\n"
	    "completed, 4 more failures than --max-error-rate.\n");
}

static int
parse_number(
    const char *opt, const char *s, double min, double max, double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno != 0 || end == s || *end != '\0' || !(v >= min && v <= max) || isnan(v)) {
		snprintf(
		    err, errlen, "%s \"%s\": expected a number from %g to %g", opt, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

static int
parse_integer(
    const char *opt, const char *s, long min, long max, long *out, char *err, size_t errlen)
{
	char *end;
	long v;

	errno = 0;
	v = strtol(s, &end, 10);
	if (errno != 0 || end == s || *end != '\0' || v < min || v > max) {
		snprintf(err, errlen, "%s \"%s\": expected a whole number from %ld to %ld", opt, s,
		    min, max);
		return -1;
	}
	*out = v;
	return 0;
}

struct unit {
	const char *suffix;
	double factor;
};

/*
 * A number with an optional unit from the table (the first entry, with
 * an empty suffix, is the unit of a bare number), within [min, max] of
 * that first unit.
 */
static int
parse_with_unit(const char *opt, const char *s, const struct unit *units, double min, double max,
    const char *what, double *out, char *err, size_t errlen)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (errno == 0 && end != s && !isnan(v) && !isinf(v)) {
		for (const struct unit *u = units; u->suffix != NULL; u++) {
			if (strcmp(end, u->suffix) != 0)
				continue;
			v *= u->factor;
			if (v >= min && v <= max) {
				*out = v;
				return 0;
			}
			break;
		}
	}
	snprintf(err, errlen, "%s \"%s\": expected %s", opt, s, what);
	return -1;
}

static const struct unit time_s[] = {
	{ "", 1 },
	{ "s", 1 },
	{ "ms", 1e-3 },
	{ "us", 1e-6 },
	{ "m", 60 },
	{ "h", 3600 },
	{ NULL, 0 },
};
static const struct unit time_ms[] = {
	{ "", 1 },
	{ "ms", 1 },
	{ "s", 1e3 },
	{ "m", 60e3 },
	{ NULL, 0 },
};
static const struct unit count[] = {
	{ "", 1 },
	{ "k", 1e3 },
	{ "K", 1e3 },
	{ "M", 1e6 },
	{ NULL, 0 },
};
static const struct unit bytes[] = {
	{ "", 1 },
	{ "k", 1024 },
	{ "K", 1024 },
	{ "m", 1048576 },
	{ "M", 1048576 },
	{ NULL, 0 },
};

/* "50,99,99.9": each above 0 and at most 100, in any order. */
static int
parse_percentiles(struct options *o, const char *s, char *err, size_t errlen)
{
	const char *p = s;
	char *end;

	o->npercentiles = 0;
	for (;;) {
		double q;

		errno = 0;
		q = strtod(p, &end);
		if (errno != 0 || end == p || !(q > 0 && q <= 100) ||
		    (*end != ',' && *end != '\0') || o->npercentiles == PERCENTILES_MAX) {
			snprintf(err, errlen,
			    "--percentiles \"%s\": expected up to %d numbers above 0 and at most "
			    "100, separated by commas",
			    s, PERCENTILES_MAX);
			return -1;
		}
		o->percentiles[o->npercentiles++] = q;
		if (*end == '\0')
			return 0;
		p = end + 1;
	}
}

/*
 * The target: numeric forms through net.c like everywhere in synack; a
 * host name is resolved once, here, so that a typo fails before the run.
 */
static int
parse_target(struct options *o, const char *s, char *err, size_t errlen)
{
	struct addrinfo hints, *res;
	char host[256];
	const char *colon;
	int rc;

	if (net_addr_parse_hostport(&o->target, s, err, errlen) == 0) {
		if (o->target.dual) {
			snprintf(err, errlen,
			    "\"%s\": \"*\" is for listening; connect to an address", s);
			return -1;
		}
	} else {
		/* only a name with a good port; anything else keeps net.c's message */
		colon = strrchr(s, ':');
		if (strncmp(s, "unix:", 5) == 0 || colon == NULL || colon == s ||
		    strcspn(s, "[]:") != (size_t)(colon - s) ||
		    (size_t)(colon - s) >= sizeof host || colon[1] == '\0' ||
		    strspn(colon + 1, "0123456789") != strlen(colon + 1) || strlen(colon + 1) > 5 ||
		    strtol(colon + 1, NULL, 10) > 65535)
			return -1;
		memcpy(host, s, (size_t)(colon - s));
		host[colon - s] = '\0';
		memset(&hints, 0, sizeof hints);
		hints.ai_family = AF_UNSPEC;
		hints.ai_socktype = SOCK_STREAM;
		hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG;
		if ((rc = getaddrinfo(host, colon + 1, &hints, &res)) != 0) {
			snprintf(err, errlen, "\"%s\": %s", s, gai_strerror(rc));
			return -1;
		}
		memset(&o->target, 0, sizeof o->target);
		memcpy(&o->target.ss, res->ai_addr, res->ai_addrlen);
		o->target.len = res->ai_addrlen;
		freeaddrinfo(res);
	}
	if (o->target.ss.ss_family != AF_UNIX && net_addr_port(&o->target) == 0) {
		snprintf(err, errlen, "\"%s\": port 0 cannot be connected to", s);
		return -1;
	}
	net_addr_str(&o->target, o->target_str, sizeof o->target_str);
	return 0;
}

enum {
	OPT_JSON = 256,
	OPT_PROGRESS,
	OPT_CONNECT_RATE,
	OPT_REQUEST_TIMEOUT,
	OPT_CLOSE,
	OPT_WARMUP,
	OPT_MAX_ERROR_RATE,
	OPT_PERCENTILES,
	OPT_HGRM,
	OPT_TIMESERIES,
	OPT_DIRECTION,
	OPT_FASTOPEN,
};

static const struct option longopts[] = {
	{ "mode", required_argument, NULL, 'm' },
	{ "connections", required_argument, NULL, 'c' },
	{ "duration", required_argument, NULL, 'd' },
	{ "rate", required_argument, NULL, 'R' },
	{ "ramp-rate", required_argument, NULL, 'r' },
	{ "connect-rate", required_argument, NULL, OPT_CONNECT_RATE },
	{ "request-timeout", required_argument, NULL, OPT_REQUEST_TIMEOUT },
	{ "close", required_argument, NULL, OPT_CLOSE },
	{ "fastopen", no_argument, NULL, OPT_FASTOPEN },
	{ "warmup", required_argument, NULL, OPT_WARMUP },
	{ "max-error-rate", required_argument, NULL, OPT_MAX_ERROR_RATE },
	{ "percentiles", required_argument, NULL, OPT_PERCENTILES },
	{ "hgrm", required_argument, NULL, OPT_HGRM },
	{ "timeseries", required_argument, NULL, OPT_TIMESERIES },
	{ "size", required_argument, NULL, 's' },
	{ "direction", required_argument, NULL, OPT_DIRECTION },
	{ "threads", required_argument, NULL, 't' },
	{ "bind", required_argument, NULL, 'b' },
	{ "connect-timeout", required_argument, NULL, 'T' },
	{ "json", no_argument, NULL, OPT_JSON },
	{ "quiet", no_argument, NULL, 'q' },
	{ "progress", no_argument, NULL, OPT_PROGRESS },
	{ "help", no_argument, NULL, 'h' },
	{ "version", no_argument, NULL, 'V' },
	{ NULL, 0, NULL, 0 },
};

/* What the options say that is only checked once all of them are read. */
struct pending {
	const char *bind_spec;
	int direction_given;
};

/*
 * Each group's parser takes the options it knows and returns 0, or -1
 * with the message in err; 1: not one of its options.
 */

/* What load: the mode, how many connections, for how long, at what rates. */
static int
parse_load(struct options *o, int ch, const char *arg, char *err, size_t errlen)
{
	long l;

	switch (ch) {
	case 'm':
		if ((o->mode = mode_find(arg)) == NULL) {
			snprintf(err, errlen, "--mode \"%s\": expected %s", arg, mode_names());
			return -1;
		}
		return 0;
	case 'c':
		if (parse_integer("--connections", arg, 1, CONNECTIONS_MAX, &l, err, errlen) == -1)
			return -1;
		o->connections = (unsigned)l;
		return 0;
	case 'd':
		return parse_with_unit("--duration", arg, time_s, 0.001, 31536000,
		    "a time from 1ms to 365 days: 10, 10s, 500ms, 2m, 1h", &o->duration, err,
		    errlen);
	case 'r':
		return parse_with_unit("--ramp-rate", arg, count, 0, 1e8,
		    "connections per second from 0 to 100M (k, M)", &o->ramp_rate, err, errlen);
	case 'R':
		return parse_with_unit("--rate", arg, count, 0, 1e9,
		    "requests per second from 0 to 1000M: 5000, 10k, 1.5M", &o->rate, err, errlen);
	case OPT_CONNECT_RATE:
		return parse_with_unit("--connect-rate", arg, count, 0, 1e8,
		    "connections per second from 0 to 100M (k, M)", &o->connect_rate, err, errlen);
	case OPT_WARMUP:
		return parse_with_unit("--warmup", arg, time_s, 0, 86400,
		    "a time from 0 to 24h: 5, 5s, 500ms, 1m", &o->warmup, err, errlen);
	default:
		return 1;
	}
}

/* "fin" or "rst"; "both", "send" or "receive". */
static int
parse_word(const char *opt, const char *arg, const char *const *words, const char *expected,
    int *out, char *err, size_t errlen)
{
	for (int i = 0; words[i] != NULL; i++)
		if (strcmp(arg, words[i]) == 0) {
			*out = i;
			return 0;
		}
	snprintf(err, errlen, "%s \"%s\": expected %s", opt, arg, expected);
	return -1;
}

/* The messages: their size and, for stream, which way they flow. */
static int
parse_message(
    struct options *o, struct pending *p, int ch, const char *arg, char *err, size_t errlen)
{
	static const char *const directions[] = { "both", "send", "receive", NULL };
	double v = 0;
	int w;

	switch (ch) {
	case 's':
		if (parse_with_unit("--size", arg, bytes, 1, SIZE_MAX_BYTES,
			"a size from 1 byte to 16M: 64, 1k, 16k, 1M", &v, err, errlen) == -1)
			return -1;
		if (v != floor(v)) {
			snprintf(err, errlen, "--size \"%s\": not a whole number of bytes", arg);
			return -1;
		}
		o->size = (size_t)v;
		return 0;
	case OPT_DIRECTION:
		p->direction_given = 1;
		if (parse_word("--direction", arg, directions, "both, send or receive", &w, err,
			errlen) == -1)
			return -1;
		o->direction = (enum stream_direction)w;
		return 0;
	default:
		return 1;
	}
}

/* How each connection is made and ends: threads, addresses, timeouts. */
static int
parse_conn(struct options *o, struct pending *p, int ch, const char *arg, char *err, size_t errlen)
{
	static const char *const closes[] = { "rst", "fin", NULL };
	double v = 0;
	long l;
	int w;

	switch (ch) {
	case 't':
		if (parse_integer("--threads", arg, 1, THREADS_MAX, &l, err, errlen) == -1)
			return -1;
		o->threads = (int)l;
		return 0;
	case 'b':
		p->bind_spec = arg;
		return 0;
	case 'T':
		if (parse_with_unit("--connect-timeout", arg, time_ms, 1, 3600000,
			"milliseconds from 1 to 3600000, or with a unit: 500ms, 3s", &v, err,
			errlen) == -1)
			return -1;
		o->connect_timeout_ms = (long)ceil(v);
		return 0;
	case OPT_REQUEST_TIMEOUT:
		if (parse_with_unit("--request-timeout", arg, time_ms, 0, 3600000,
			"milliseconds from 0 (none) to 3600000, or with a unit: 500ms, 10s", &v,
			err, errlen) == -1)
			return -1;
		o->request_timeout_ms = (long)ceil(v);
		return 0;
	case OPT_CLOSE:
		if (parse_word("--close", arg, closes, "fin or rst", &w, err, errlen) == -1)
			return -1;
		o->close = w == 1 ? CLOSE_FIN : CLOSE_RST;
		return 0;
	case OPT_FASTOPEN:
		o->fastopen = 1;
		return 0;
	default:
		return 1;
	}
}

/* What is reported, and where. */
static int
parse_report(struct options *o, int ch, const char *arg, char *err, size_t errlen)
{
	switch (ch) {
	case OPT_MAX_ERROR_RATE:
		return parse_number("--max-error-rate", arg, 0, 1, &o->max_error_rate, err, errlen);
	case OPT_PERCENTILES:
		return parse_percentiles(o, arg, err, errlen);
	case OPT_HGRM:
		o->hgrm_path = arg;
		return 0;
	case OPT_TIMESERIES:
		o->timeseries_path = arg;
		return 0;
	case OPT_JSON:
		o->json = 1;
		return 0;
	case 'q':
		o->quiet = 1;
		return 0;
	case OPT_PROGRESS:
		o->progress = 1;
		return 0;
	default:
		return 1;
	}
}

static void
options_defaults(struct options *o, int argc, char **argv)
{
	static const double default_percentiles[] = { 50, 90, 99, 99.9, 99.99 };

	o->mode = &mode_rr;
	o->connections = 100;
	o->duration = 10;
	o->size = 64;
	o->threads = 1;
	o->connect_timeout_ms = 3000;
	o->request_timeout_ms = 10000;
	o->close = CLOSE_RST;
	o->max_error_rate = 0.01;
	o->progress = -1;
	o->argc = argc;
	o->argv = argv;
	o->npercentiles = (int)(sizeof default_percentiles / sizeof default_percentiles[0]);
	memcpy(o->percentiles, default_percentiles, sizeof default_percentiles);
}

/* The source addresses of --bind, in the target's address family. */
static int
options_bind(struct options *o, const char *bind_spec, char *err, size_t errlen)
{
	if (o->target.ss.ss_family == AF_UNIX) {
		snprintf(err, errlen, "--bind: a unix socket target has no source address");
		return -1;
	}
	if (srcaddr_parse(&o->srcaddrs, bind_spec, err, errlen) == -1)
		return -1;
	if (o->srcaddrs.addrs[0].ss.ss_family != o->target.ss.ss_family) {
		snprintf(err, errlen, "--bind %s: not the address family of %s", bind_spec,
		    o->target_str);
		return -1;
	}
	return 0;
}

/* The options that only some modes take. */
static int
options_check_mode(const struct options *o, const struct pending *p, char *err, size_t errlen)
{
	if (o->mode == &mode_chat && o->size > CHAT_SIZE_MAX) {
		/* every member buffers a line each way */
		snprintf(err, errlen, "--size %zu: chat lines are at most %u bytes", o->size,
		    CHAT_SIZE_MAX);
		return -1;
	}
	if (o->mode->dgram) {
		int head = o->mode == &mode_udp_stream ? UDP_STREAM_HEADER : UDP_HEADER;

		if (o->size < (size_t)head || o->size > UDP_PAYLOAD_MAX) {
			snprintf(err, errlen,
			    "--size %zu: %s sends datagrams of %d to %d bytes (the first %d "
			    "number them)",
			    o->size, o->mode->name, head, UDP_PAYLOAD_MAX, head);
			return -1;
		}
	}
	if (p->direction_given && o->mode != &mode_stream) {
		snprintf(err, errlen,
		    "--direction is for stream (the other modes send and "
		    "read back)");
		return -1;
	}
	if (o->rate > 0 && o->mode != &mode_rr && o->mode != &mode_udp_rr &&
	    o->mode != &mode_udp_stream) {
		snprintf(err, errlen,
		    "--rate paces requests: it is for rr, udp-rr and udp-stream (crr and hold "
		    "have --connect-rate)");
		return -1;
	}
	if (o->rate > 0 && o->mode == &mode_udp_rr && udp_rr_window(o) == 0) {
		/* each socket keeps the send times of those in flight until their deadline */
		snprintf(err, errlen,
		    "--rate %.10g: %.10g datagrams a second per socket for %.10g s "
		    "(--request-timeout) are too many in flight: use more connections or a "
		    "shorter --request-timeout",
		    o->rate, o->rate / (double)o->connections,
		    (o->request_timeout_ms > 0 ? (double)o->request_timeout_ms
					       : (double)UDP_RR_DEFAULT_TIMEOUT_MS) /
			1000.0);
		return -1;
	}
	if (o->connect_rate > 0 && o->mode != &mode_crr && o->mode != &mode_hold) {
		snprintf(err, errlen,
		    "--connect-rate is for crr and hold (the other modes keep "
		    "their connections; -r paces their ramp)");
		return -1;
	}
	if (o->fastopen && o->mode != &mode_rr && o->mode != &mode_crr && o->mode != &mode_hold) {
		snprintf(err, errlen,
		    "--fastopen is for crr, hold and rr (their first request is what goes in "
		    "the SYN)");
		return -1;
	}
	if (o->fastopen && o->target.ss.ss_family == AF_UNIX) {
		snprintf(err, errlen, "--fastopen: a unix socket target has no handshake");
		return -1;
	}
	return 0;
}

/* After the options: the one target, then what depends on it and on the mode. */
static int
options_finish(
    struct options *o, const struct pending *p, int argc, char **argv, char *err, size_t errlen)
{
	if (optind == argc) {
		snprintf(err, errlen, "no target: give HOST:PORT or unix:PATH");
		return -1;
	}
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind + 1]);
		return -1;
	}
	if (parse_target(o, argv[optind], err, errlen) == -1 ||
	    (p->bind_spec != NULL && options_bind(o, p->bind_spec, err, errlen) == -1) ||
	    options_check_mode(o, p, err, errlen) == -1)
		return -1;
	if (o->quiet)
		o->progress = 0;
	if ((unsigned)o->threads > o->connections)
		o->threads = (int)o->connections;
	return 0;
}

/* An option that no group takes: help, version, or a mistake. */
static int
parse_other(int ch, char **argv, char *err, size_t errlen)
{
	switch (ch) {
	case 'h':
		usage(stdout);
		return 1;
	case 'V':
		printf("synack-load %s\n", PACKAGE_VERSION);
		return 1;
	case ':':
		snprintf(err, errlen, "option %s needs a value", argv[optind - 1]);
		return -1;
	default:
		if (optopt != 0)
			snprintf(err, errlen, "unknown option -%c", optopt);
		else
			snprintf(err, errlen, "unknown option %s", argv[optind - 1]);
		return -1;
	}
}

int
options_parse(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
	struct pending p = { NULL, 0 };
	int ch, rc;

	options_defaults(o, argc, argv);
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:c:d:r:R:s:t:b:T:qhV", longopts, NULL)) != -1) {
		if ((rc = parse_load(o, ch, optarg, err, errlen)) == 1 &&
		    (rc = parse_message(o, &p, ch, optarg, err, errlen)) == 1 &&
		    (rc = parse_conn(o, &p, ch, optarg, err, errlen)) == 1 &&
		    (rc = parse_report(o, ch, optarg, err, errlen)) == 1)
			rc = parse_other(ch, argv, err, errlen);
		if (rc != 0)
			return rc;
	}
	return options_finish(o, &p, argc, argv, err, errlen);
}

void
options_free(struct options *o)
{
	srcaddr_free(&o->srcaddrs);
}

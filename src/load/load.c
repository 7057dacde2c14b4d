/*
 * load.c: synack-load's main.  Options, the run, the main thread's loop.
 *
 * The main thread does no network I/O.  It starts the workers, then runs
 * its own event loop for what concerns the whole run: the warm-up and the
 * duration, the time series and the progress line, SIGINT/SIGTERM (the
 * first stops the run and still reports, a second one stops waiting), and
 * the workers' notices (all of them idle: nothing left to measure; all
 * done: report).  Signals are blocked in the workers so that only this
 * loop sees them.
 *
 * The time series: a timer of this loop, aligned to the start of
 * measurement, takes the counters at each whole second, and 50 ms later
 * the latencies that each worker posted at its own tick of that second
 * (its tick is aligned to the same start); the deltas and that histogram
 * make one interval.  The last interval ends with the run: it is
 * collected once the workers have stopped, with whatever they did while
 * stopping, so that the intervals add up to the totals.
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <event2/thread.h>

#include "load.h"
#include "log.h"
#include "nofile.h"

#define THREADS_MAX 256
#define CONNECTIONS_MAX 1000000
#define SIZE_MAX_BYTES (16u << 20)
#define CHAT_SIZE_MAX 65536u
#define NS_PER_S 1000000000u
#define TAKE_DELAY_NS 50000000u /* after a second's end: the workers have posted */

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: synack-load [options] HOST:PORT | unix:PATH\n"
	    "       synack-load merge REPORT.json... (reports of --json runs, combined)\n"
	    "  -m, --mode MODE          rr (default) | crr | hold | stream | chat\n"
	    "  -c, --connections N      concurrent connections (default 100)\n"
	    "  -d, --duration TIME      how long to measure: 10 (seconds), 10s, 500ms, 2m, 1h\n"
	    "                           (default 10s)\n"
	    "  -R, --rate N             open loop: N requests per second in all (k, M: 10k),\n"
	    "                           sent on schedule, latency counted from the schedule\n"
	    "                           (wrk2 -R); without it rr is closed loop (netperf TCP_RR)\n"
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

/* From any thread: the main loop should look at the workers' state. */
void
run_notify(struct run *r)
{
	event_active(r->notify_ev, EV_READ, 0);
}

/* From any thread: the mode has nothing left to measure. */
void
run_request_stop(struct run *r)
{
	__atomic_store_n(&r->stop_requested, 1, __ATOMIC_SEQ_CST);
	run_notify(r);
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

/* 0: run; 1: done (help or version printed); -1: usage error in err. */
static int
parse_options(struct options *o, int argc, char **argv, char *err, size_t errlen)
{
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
	static const double default_percentiles[] = { 50, 90, 99, 99.9, 99.99 };
	const char *bind_spec = NULL;
	int direction_given = 0;
	double v = 0;
	long l;
	int ch;

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
	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":m:c:d:r:R:s:t:b:T:qhV", longopts, NULL)) != -1) {
		switch (ch) {
		case 'm':
			if ((o->mode = mode_find(optarg)) == NULL) {
				snprintf(err, errlen, "--mode \"%s\": expected %s", optarg,
				    mode_names());
				return -1;
			}
			break;
		case 'c':
			if (parse_integer(
				"--connections", optarg, 1, CONNECTIONS_MAX, &l, err, errlen) == -1)
				return -1;
			o->connections = (unsigned)l;
			break;
		case 'd':
			if (parse_with_unit("--duration", optarg, time_s, 0.001, 31536000,
				"a time from 1ms to 365 days: 10, 10s, 500ms, 2m, 1h", &o->duration,
				err, errlen) == -1)
				return -1;
			break;
		case 'r':
			if (parse_with_unit("--ramp-rate", optarg, count, 0, 1e8,
				"connections per second from 0 to 100M (k, M)", &o->ramp_rate, err,
				errlen) == -1)
				return -1;
			break;
		case 'R':
			if (parse_with_unit("--rate", optarg, count, 0, 1e9,
				"requests per second from 0 to 1000M: 5000, 10k, 1.5M", &o->rate,
				err, errlen) == -1)
				return -1;
			break;
		case OPT_CONNECT_RATE:
			if (parse_with_unit("--connect-rate", optarg, count, 0, 1e8,
				"connections per second from 0 to 100M (k, M)", &o->connect_rate,
				err, errlen) == -1)
				return -1;
			break;
		case 's':
			if (parse_with_unit("--size", optarg, bytes, 1, SIZE_MAX_BYTES,
				"a size from 1 byte to 16M: 64, 1k, 16k, 1M", &v, err,
				errlen) == -1 ||
			    v != floor(v)) {
				if (v != floor(v))
					snprintf(err, errlen,
					    "--size \"%s\": not a whole number of bytes", optarg);
				return -1;
			}
			o->size = (size_t)v;
			break;
		case 't':
			if (parse_integer("--threads", optarg, 1, THREADS_MAX, &l, err, errlen) ==
			    -1)
				return -1;
			o->threads = (int)l;
			break;
		case 'b':
			bind_spec = optarg;
			break;
		case 'T':
			if (parse_with_unit("--connect-timeout", optarg, time_ms, 1, 3600000,
				"milliseconds from 1 to 3600000, or with a unit: 500ms, 3s", &v,
				err, errlen) == -1)
				return -1;
			o->connect_timeout_ms = (long)ceil(v);
			break;
		case OPT_REQUEST_TIMEOUT:
			if (parse_with_unit("--request-timeout", optarg, time_ms, 0, 3600000,
				"milliseconds from 0 (none) to 3600000, or with a unit: 500ms, 10s",
				&v, err, errlen) == -1)
				return -1;
			o->request_timeout_ms = (long)ceil(v);
			break;
		case OPT_CLOSE:
			if (strcmp(optarg, "rst") == 0)
				o->close = CLOSE_RST;
			else if (strcmp(optarg, "fin") == 0)
				o->close = CLOSE_FIN;
			else {
				snprintf(
				    err, errlen, "--close \"%s\": expected fin or rst", optarg);
				return -1;
			}
			break;
		case OPT_DIRECTION:
			direction_given = 1;
			if (strcmp(optarg, "both") == 0)
				o->direction = STREAM_BOTH;
			else if (strcmp(optarg, "send") == 0)
				o->direction = STREAM_SEND;
			else if (strcmp(optarg, "receive") == 0)
				o->direction = STREAM_RECEIVE;
			else {
				snprintf(err, errlen,
				    "--direction \"%s\": expected both, send or receive", optarg);
				return -1;
			}
			break;
		case OPT_WARMUP:
			if (parse_with_unit("--warmup", optarg, time_s, 0, 86400,
				"a time from 0 to 24h: 5, 5s, 500ms, 1m", &o->warmup, err,
				errlen) == -1)
				return -1;
			break;
		case OPT_MAX_ERROR_RATE:
			if (parse_number("--max-error-rate", optarg, 0, 1, &o->max_error_rate, err,
				errlen) == -1)
				return -1;
			break;
		case OPT_PERCENTILES:
			if (parse_percentiles(o, optarg, err, errlen) == -1)
				return -1;
			break;
		case OPT_HGRM:
			o->hgrm_path = optarg;
			break;
		case OPT_TIMESERIES:
			o->timeseries_path = optarg;
			break;
		case OPT_JSON:
			o->json = 1;
			break;
		case 'q':
			o->quiet = 1;
			break;
		case OPT_PROGRESS:
			o->progress = 1;
			break;
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
	if (optind == argc) {
		snprintf(err, errlen, "no target: give HOST:PORT or unix:PATH");
		return -1;
	}
	if (optind + 1 < argc) {
		snprintf(err, errlen, "unexpected argument \"%s\"", argv[optind + 1]);
		return -1;
	}
	if (parse_target(o, argv[optind], err, errlen) == -1)
		return -1;
	if (bind_spec != NULL) {
		if (o->target.ss.ss_family == AF_UNIX) {
			snprintf(err, errlen, "--bind: a unix socket target has no source address");
			return -1;
		}
		if (sources_parse(&o->sources, bind_spec, err, errlen) == -1)
			return -1;
		if (o->sources.addrs[0].ss.ss_family != o->target.ss.ss_family) {
			snprintf(err, errlen, "--bind %s: not the address family of %s", bind_spec,
			    o->target_str);
			return -1;
		}
	}
	if (o->mode == &mode_chat && o->size > CHAT_SIZE_MAX) {
		/* every member buffers a line each way */
		snprintf(err, errlen, "--size %zu: chat lines are at most %u bytes", o->size,
		    CHAT_SIZE_MAX);
		return -1;
	}
	if (direction_given && o->mode != &mode_stream) {
		snprintf(err, errlen,
		    "--direction is for stream (the other modes send and "
		    "read back)");
		return -1;
	}
	if (o->rate > 0 && o->mode != &mode_rr) {
		snprintf(err, errlen,
		    "--rate paces requests: it is for rr (crr and hold have "
		    "--connect-rate)");
		return -1;
	}
	if (o->connect_rate > 0 && o->mode != &mode_crr && o->mode != &mode_hold) {
		snprintf(err, errlen,
		    "--connect-rate is for crr and hold (the other modes keep "
		    "their connections; -r paces their ramp)");
		return -1;
	}
	if (o->quiet)
		o->progress = 0;
	if ((unsigned)o->threads > o->connections)
		o->threads = (int)o->connections;
	return 0;
}

/*
 * Each connection is a descriptor: raise the soft limit to what the run
 * needs (as far as the hard limit allows) rather than fail with EMFILE
 * halfway through.
 */
static void
raise_nofile(unsigned connections)
{
	struct nofile nf;
	char err[LOAD_ERRLEN];

	switch (nofile_raise((rlim_t)connections + 64, 1, &nf, err, sizeof err)) {
	case NOFILE_SHORT:
		log_warnx("open files are limited to %llu: some of the %u connections will fail "
			  "with EMFILE (see ulimit -n)",
		    (unsigned long long)nf.fit, connections);
		break;
	case -1:
		log_warnx("%s: some of the %u connections may fail with EMFILE (see ulimit -n)",
		    err, connections);
		break;
	default:
		break;
	}
}

/*
 * The main thread's clock for the intervals: second k of the current phase
 * (the warm-up, then the measurement) ends at base + k s.
 */
static struct ticker {
	struct event *ev;
	uint64_t base;
	unsigned k;            /* seconds completed in this phase */
	int take;              /* 0: the counters are next; 1: the latencies */
	int progress, tty;     /* the live line, and whether it overwrites itself */
	struct stats *last;    /* the counters at the end of the last interval */
	struct stats *pending; /* at the end of this second, before its latencies */
	struct histogram *second;
	struct histogram *warm; /* the warm-up's latencies: kept if it never ends */
	double load_unix;       /* wall clock when the load began */
	uint64_t open_at_stop;  /* connections open when the run was stopped */
	FILE *csv;              /* --timeseries */
	int nomem_warned;
} tick;
static struct stats tick_stats[2];
static struct histogram tick_hists[2];

static double
wall_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint64_t
delta(uint64_t now, uint64_t before)
{
	return now > before ? now - before : 0;
}

/* One interval: the counters from `last` to `now`, and its latencies. */
static void
interval_add(struct run *r, const struct stats *now, const struct stats *last,
    const struct histogram *second, double elapsed, int is_last)
{
	struct interval *iv;

	if (r->nintervals == r->intervals_cap) {
		size_t cap = r->intervals_cap ? r->intervals_cap * 2 : 64;
		struct interval *p = realloc(r->intervals, cap * sizeof *p);

		if (p == NULL) {
			if (!tick.nomem_warned++)
				log_warnx("no memory for the time series: intervals left out");
			return;
		}
		r->intervals = p;
		r->intervals_cap = cap;
	}
	iv = &r->intervals[r->nintervals];
	memset(iv, 0, sizeof *iv);
	if (hist_pack(&iv->latency, second) == -1) {
		if (!tick.nomem_warned++)
			log_warnx("no memory for the time series: intervals left out");
		return;
	}
	r->nintervals++;
	/* from start_unix as the report prints it (to the millisecond): a start
	 * of X.9996 is printed X+1.000, and its first second must not be X */
	iv->t =
	    (int64_t)floor(round(r->start_unix * 1000.0) / 1000.0 + (double)(r->nintervals - 1));
	iv->elapsed_s = elapsed;
	iv->last = is_last;
	iv->open = now->active;
	iv->attempted = delta(now->attempted, last->attempted);
	iv->established = delta(now->established, last->established);
	iv->requests = delta(now->requests, last->requests);
	iv->bytes_sent = delta(now->bytes_sent, last->bytes_sent);
	iv->bytes_received = delta(now->bytes_received, last->bytes_received);
	for (int e = 0; e < LERR_MAX; e++)
		iv->errors[e] = delta(now->errors[e], last->errors[e]);
	iv->p50 = hist_percentile(second, 50);
	iv->p99 = hist_percentile(second, 99);
	if (tick.csv != NULL) {
		export_csv_row(tick.csv, iv);
		fflush(tick.csv);
	}
}

/* --close fin: the TIME_WAIT warning, clear of the live line. */
static void
check_timewait(struct run *r)
{
	char msg[LOAD_ERRLEN];

	if (timewait_check(r, msg, sizeof msg) == 0)
		return;
	if (tick.progress && tick.tty)
		report_progress_clear();
	log_warnx("%s", msg);
}

/*
 * Arm the timer for what is next.  While measuring, no second is taken
 * that would end too close to the end of the run: the last interval is
 * collected at the end and runs to it.
 */
static void
tick_schedule(struct run *r)
{
	uint64_t at, now = clock_ns();
	struct timeval tv;

	if (!tick.take && r->measuring &&
	    (double)(tick.k + 1) * 1e9 + TAKE_DELAY_NS > r->opt.duration * 1e9)
		return;
	at = tick.base + (uint64_t)(tick.k + 1) * NS_PER_S + (tick.take ? TAKE_DELAY_NS : 0);
	at = at > now ? at - now : 0;
	tv.tv_sec = (time_t)(at / NS_PER_S);
	tv.tv_usec = (suseconds_t)(at % NS_PER_S / 1000u);
	evtimer_add(tick.ev, &tv);
}

/* A new phase (the start, the end of the warm-up): second 0 is now. */
static void
tick_restart(struct run *r, uint64_t base)
{
	event_del(tick.ev);
	tick.base = base;
	tick.k = 0;
	tick.take = 0;
	stats_init(tick.last); /* the workers' counters start from 0 too */
	tick_schedule(r);
}

static void
on_tick(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;
	struct stats *t;

	if (r->stopping)
		return;
	if (!tick.take) {
		stats_snapshot(tick.pending, r);
		tick.take = 1;
		tick_schedule(r);
		return;
	}
	hist_init(tick.second);
	for (int i = 0; i < r->nworkers; i++)
		stats_interval_take(&r->workers[i].stats, tick.second);
	tick.k++;
	if (r->measuring)
		interval_add(r, tick.pending, tick.last, tick.second, tick.k, 0);
	else
		hist_merge(tick.warm, tick.second);
	check_timewait(r);
	if (tick.progress)
		report_progress(
		    r, tick.k, !r->measuring, tick.pending, tick.last, tick.second, tick.tty);
	t = tick.last;
	tick.last = tick.pending;
	tick.pending = t;
	tick.take = 0;
	tick_schedule(r);
}

/* After the workers stopped: the last interval, up to the end of the run. */
static void
tick_finish(struct run *r)
{
	hist_init(tick.second);
	if (!r->measuring) {
		/* the run ended in the warm-up: what there was is the measurement */
		r->t_start = r->t_load;
		r->start_unix = tick.load_unix;
		stats_init(tick.last);
		hist_merge(tick.second, tick.warm);
	}
	stats_snapshot(tick.pending, r);
	tick.pending->active = tick.open_at_stop;
	for (int i = 0; i < r->nworkers; i++)
		stats_interval_rest(&r->workers[i].stats, tick.second);
	interval_add(
	    r, tick.pending, tick.last, tick.second, (double)(r->t_stop - r->t_start) / 1e9, 1);
}

static void
run_stop(struct run *r)
{
	if (r->stopping)
		return;
	r->t_stop = clock_ns();
	stats_snapshot(tick.pending, r);
	tick.open_at_stop = tick.pending->active; /* the workers are about to close them */
	__atomic_store_n(&r->stopping, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < r->nworkers; i++)
		worker_stop(&r->workers[i]);
}

static void
on_duration(evutil_socket_t fd, short what, void *arg)
{
	run_stop(arg);
}

static void
start_duration(struct run *r, struct event *ev_duration)
{
	struct timeval tv;

	tv.tv_sec = (time_t)r->opt.duration;
	tv.tv_usec = (suseconds_t)((r->opt.duration - (double)tv.tv_sec) * 1e6);
	evtimer_add(ev_duration, &tv);
}

/*
 * --warmup is over: the workers forget what they measured (each on its
 * own thread), and the measurement, its duration and its seconds start.
 */
static void
on_warmup(evutil_socket_t fd, short what, void *arg)
{
	struct event *ev_duration = arg;
	struct run *r = event_get_callback_arg(ev_duration);

	if (r->stopping)
		return;
	r->t_start = clock_ns();
	r->start_unix = wall_now();
	for (int i = 0; i < r->nworkers; i++)
		worker_warmup_over(&r->workers[i]);
	r->measuring = 1;
	hist_init(tick.warm);
	start_duration(r, ev_duration);
	tick_restart(r, r->t_start);
}

static void
on_signal(evutil_socket_t sig, short what, void *arg)
{
	struct run *r = arg;

	if (!r->stopping) {
		r->interrupted = 1;
		run_stop(r);
		return;
	}
	__atomic_store_n(&r->force, 1, __ATOMIC_SEQ_CST);
	for (int i = 0; i < r->nworkers; i++)
		worker_stop(&r->workers[i]);
}

static void
on_notify(evutil_socket_t fd, short what, void *arg)
{
	struct run *r = arg;

	if (__atomic_load_n(&r->workers_done, __ATOMIC_SEQ_CST) == r->nworkers) {
		event_base_loopbreak(r->base);
		return;
	}
	if (__atomic_load_n(&r->workers_idle, __ATOMIC_SEQ_CST) == r->nworkers ||
	    __atomic_load_n(&r->stop_requested, __ATOMIC_SEQ_CST))
		run_stop(r);
}

/* --hgrm, --timeseries: opened before the run, so that a bad path is a usage error. */
static FILE *
open_output(const char *opt, const char *path, char *err, size_t errlen)
{
	FILE *f = fopen(path, "we");

	if (f == NULL)
		snprintf(err, errlen, "%s \"%s\": %s", opt, path, strerror(errno));
	return f;
}

static void
close_output(const char *opt, const char *path, FILE *f)
{
	if (f == NULL)
		return;
	if (ferror(f) | fclose(f))
		log_warnx("%s %s: could not write all of it", opt, path);
}

int
main(int argc, char **argv)
{
	static struct run run;
	struct run *r = &run;
	struct event *ev_int = NULL, *ev_term = NULL, *ev_duration = NULL, *ev_warmup = NULL;
	struct timeval tv;
	struct stats *total;
	struct outcome outcome;
	sigset_t block, old;
	char err[LOAD_ERRLEN];
	double duration_s;
	FILE *hgrm = NULL;

	if (argc > 1 && strcmp(argv[1], "merge") == 0)
		return merge_main(argc - 1, argv + 1);
	switch (parse_options(&r->opt, argc, argv, err, sizeof err)) {
	case 1:
		return LOAD_EXIT_OK;
	case -1:
		fprintf(stderr, "synack-load: %s\n", err);
		fprintf(stderr, "Try 'synack-load --help' for the options.\n");
		return LOAD_EXIT_USAGE;
	}
	if ((r->opt.hgrm_path != NULL &&
		(hgrm = open_output("--hgrm", r->opt.hgrm_path, err, sizeof err)) == NULL) ||
	    (r->opt.timeseries_path != NULL &&
		(tick.csv = open_output("--timeseries", r->opt.timeseries_path, err, sizeof err)) ==
		    NULL)) {
		fprintf(stderr, "synack-load: %s\n", err);
		fprintf(stderr, "Try 'synack-load --help' for the options.\n");
		return LOAD_EXIT_USAGE;
	}
	if (tick.csv != NULL)
		export_csv_header(tick.csv);
	tick.tty = isatty(STDERR_FILENO);
	tick.progress = r->opt.progress == 1 || (r->opt.progress == -1 && tick.tty);
	signal(SIGPIPE, SIG_IGN);
	log_route_libevent();
	raise_nofile(r->opt.connections);
	if (evthread_use_pthreads() == -1) {
		fprintf(stderr, "synack-load: libevent has no thread support\n");
		return LOAD_EXIT_NOCONN;
	}

	r->nworkers = r->opt.threads;
	r->connect_tv.tv_sec = r->opt.connect_timeout_ms / 1000;
	r->connect_tv.tv_usec = (suseconds_t)(r->opt.connect_timeout_ms % 1000 * 1000);
	if ((r->workers = calloc((size_t)r->nworkers, sizeof *r->workers)) == NULL ||
	    (total = calloc(1, sizeof *total)) == NULL) {
		fprintf(stderr, "synack-load: out of memory\n");
		return LOAD_EXIT_NOCONN;
	}
	stats_init(total);
	tick.last = &tick_stats[0];
	tick.pending = &tick_stats[1];
	tick.second = &tick_hists[0];
	tick.warm = &tick_hists[1];
	stats_init(tick.last);
	stats_init(tick.pending);
	hist_init(tick.second);
	hist_init(tick.warm);
	if ((r->base = event_base_new()) == NULL ||
	    (r->notify_ev = event_new(r->base, -1, 0, on_notify, r)) == NULL ||
	    (ev_int = evsignal_new(r->base, SIGINT, on_signal, r)) == NULL ||
	    (ev_term = evsignal_new(r->base, SIGTERM, on_signal, r)) == NULL ||
	    (ev_duration = evtimer_new(r->base, on_duration, r)) == NULL ||
	    (ev_warmup = evtimer_new(r->base, on_warmup, ev_duration)) == NULL ||
	    (tick.ev = evtimer_new(r->base, on_tick, r)) == NULL) {
		fprintf(stderr, "synack-load: cannot create the main event loop\n");
		return LOAD_EXIT_NOCONN;
	}
	if (payload_init(r, err, sizeof err) == -1 ||
	    (r->opt.mode->init != NULL && r->opt.mode->init(r, err, sizeof err) == -1)) {
		fprintf(stderr, "synack-load: %s\n", err);
		return LOAD_EXIT_NOCONN;
	}
	for (int i = 0; i < r->nworkers; i++) {
		unsigned share = r->opt.connections / (unsigned)r->nworkers +
		    ((unsigned)i < r->opt.connections % (unsigned)r->nworkers);

		if (worker_init(&r->workers[i], r, i, share, err, sizeof err) == -1) {
			fprintf(stderr, "synack-load: %s\n", err);
			return LOAD_EXIT_NOCONN;
		}
	}
	evsignal_add(ev_int, NULL);
	evsignal_add(ev_term, NULL);
	check_timewait(r);

	/* the workers start with SIGINT and SIGTERM blocked: only this loop sees them */
	sigemptyset(&block);
	sigaddset(&block, SIGINT);
	sigaddset(&block, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	r->t_load = r->t_start = clock_ns();
	r->start_unix = tick.load_unix = wall_now();
	r->measuring = !(r->opt.warmup > 0);
	if (r->measuring)
		start_duration(r, ev_duration);
	else {
		tv.tv_sec = (time_t)r->opt.warmup;
		tv.tv_usec = (suseconds_t)((r->opt.warmup - (double)tv.tv_sec) * 1e6);
		evtimer_add(ev_warmup, &tv);
	}
	tick_restart(r, r->t_load);
	for (int i = 0; i < r->nworkers; i++)
		if (worker_start(&r->workers[i], err, sizeof err) == -1) {
			log_error("%s", err);
			r->nworkers = i; /* run with those that started */
			break;
		}
	pthread_sigmask(SIG_SETMASK, &old, NULL);

	if (r->nworkers > 0)
		event_base_dispatch(r->base);
	if (r->t_stop == 0)
		r->t_stop = clock_ns();
	for (int i = 0; i < r->nworkers; i++)
		pthread_join(r->workers[i].thread, NULL);
	if (tick.progress && tick.tty)
		report_progress_clear();

	tick_finish(r);
	for (int i = 0; i < r->nworkers; i++)
		stats_merge(total, &r->workers[i].stats);
	duration_s = (double)(r->t_stop - r->t_start) / 1e9;
	if (r->opt.json)
		report_json(stdout, r, total, duration_s);
	else
		report_human(stdout, r, total, duration_s);
	fflush(stdout);
	report_outcome(&outcome, r, total);
	if (hgrm != NULL)
		export_hgrm(hgrm, &total->latency, 1e6);
	close_output("--hgrm", r->opt.hgrm_path, hgrm);
	close_output("--timeseries", r->opt.timeseries_path, tick.csv);

	for (int i = 0; i < r->opt.threads; i++)
		worker_free(&r->workers[i]);
	if (r->opt.mode->free != NULL)
		r->opt.mode->free(r);
	event_free(tick.ev);
	event_free(ev_warmup);
	event_free(ev_duration);
	event_free(ev_term);
	event_free(ev_int);
	event_free(r->notify_ev);
	event_base_free(r->base);
	free(r->workers);
	free(r->payload);
	free(total);
	for (size_t i = 0; i < r->nintervals; i++)
		hist_packed_free(&r->intervals[i].latency);
	free(r->intervals);
	sources_free(&r->opt.sources);
	return outcome.code;
}

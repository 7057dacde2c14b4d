/* SPDX-License-Identifier: ISC */
/*
 * load.h: synack-load's internal interface, grouped by the file that
 * implements each part.
 *
 * One run (struct run) owns the options and N loaders; a loader is one
 * thread with one event_base and a share of the connections (struct conn).
 * A conn is a socket made by hand and driven by two plain events; what it
 * sends and expects back is up to the mode (struct mode), one file each.
 * Open-loop pacing (rr --rate, --connect-rate) follows a schedule computed
 * from each conn's id and count (schedule.h), so nothing is stored per
 * request.
 * Loaders only touch their own conns and counters; the main thread reads
 * the counters for the progress line and merges everything at the end.
 */
#ifndef SYNACK_LOAD_H
#define SYNACK_LOAD_H

#include <pthread.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/time.h>

#include <event2/event.h>

#include "clock.h"
#include "histogram.h"
#include "net.h"
#include "schedule.h"
#include "stat.h"

/* Exit codes (the contract of PRODUCT.md). */
#define LOAD_EXIT_OK 0
#define LOAD_EXIT_VERIFY 1
#define LOAD_EXIT_USAGE 2
#define LOAD_EXIT_NOCONN 3 /* no connection established, or no request completed */
#define LOAD_EXIT_ERRORS 4 /* more failures than --max-error-rate allows */

#define LOAD_ERRLEN 512
#define LOAD_READ_MAX 65536   /* one read() per readable event at most this */
#define LOAD_WRITE_MAX 262144 /* stream: one write() offers at most this */

struct conn;
struct run;
struct loader;

/* Why a connection failed or ended early, as counted in the report. */
enum load_error {
	LERR_TIMEOUT,      /* no SYN-ACK within --connect-timeout, or ETIMEDOUT */
	LERR_REFUSED,      /* ECONNREFUSED: a reset answered the SYN */
	LERR_UNREACHABLE,  /* ENETUNREACH, EHOSTUNREACH: no route, ICMP */
	LERR_RESET,        /* ECONNRESET, EPIPE */
	LERR_ADDRNOTAVAIL, /* EADDRNOTAVAIL: no source address or port left */
	LERR_OTHER,        /* anything else; by errno in stats.other_errno */
	LERR_VERIFY,       /* an echoed byte differs from the byte sent */
	LERR_CLOSED,       /* the server closed a connection the mode needed */
	LERR_NOREPLY,      /* no answer in time: --request-timeout; chat: joining */
	LERR_MAX
};
#define LOAD_ERRNO_MAX 160 /* other_errno[]: errno values below this */

/* stats.c */
#define SYN_RETRANS_BUCKETS 4 /* connections with 0, 1, 2, 3 or more SYN retransmissions */

/* What TCP_INFO says of one handshake, read once it is complete. */
struct handshake {
	unsigned retrans; /* SYN retransmissions */
	uint64_t rtt_ns;  /* 0: no RTT sample */
	int syn_data;     /* a Fast Open SYN carried data, and the server took it */
	uint64_t connect_ns;
};

/*
 * UDP modes: datagrams sent, and the answers that did not complete one in
 * time: none within --request-timeout (lost), one after that (late), a
 * second one (duplicate), one below the highest answered (reordered).
 */
struct dgram_counts {
	uint64_t sent, lost, late, duplicate, reordered;
	/*
	 * udp-stream: the sum of the sockets' RFC 3550 jitter (times 16, ns)
	 * and how many sockets have one; a state, not a count: --warmup's
	 * end leaves it
	 */
	uint64_t jitter16_sum, jitter_conns;
};

struct stats {
	uint64_t attempted; /* connect() calls, also those that failed before */
	uint64_t established;
	uint64_t active; /* open now (a gauge: established - closed) */
	uint64_t requests;
	uint64_t bytes_sent;
	uint64_t bytes_received; /* echoed back and verified */
	uint64_t errors[LERR_MAX];
	uint64_t other_errno[LOAD_ERRNO_MAX + 1]; /* last: out of range */
	struct histogram latency;                 /* request latency, ns */
	struct dgram_counts dgram;                /* UDP modes */
	struct histogram connect;                 /* connect() to established, ns */

	/*
	 * The client's side of each TCP handshake, from TCP_INFO once it is
	 * complete (stats_record_handshake): connections by the number of
	 * SYN retransmissions they needed, the retransmissions in all (the
	 * time series), the connect latency of the connections without and
	 * with one, the handshake's RTT, and (--fastopen) the connections
	 * whose first request went in the SYN.
	 */
	uint64_t syn_retrans[SYN_RETRANS_BUCKETS];
	uint64_t syn_retransmits;
	uint64_t syn_data;
	struct histogram connect_clean;   /* ns, no SYN retransmission */
	struct histogram connect_retrans; /* ns, after one or more */
	struct histogram rtt;             /* tcpi_rtt, ns */

	/*
	 * Open loop (--rate): requests that fell due by the end, those sent,
	 * and how late each left after its scheduled time (ns): the client's
	 * own lateness, so that a schedule it could not keep is reported.
	 */
	uint64_t due;
	uint64_t sent;
	struct histogram lag;

	/*
	 * The current second's latencies, for the time series: recorded with
	 * the total by stats_record_latency() (no lock: the loader's own), and
	 * posted once a second by the loader (stats_interval_post) to `posted`,
	 * which the main thread takes (stats_interval_take) under `mu`.
	 */
	struct histogram interval;
	pthread_mutex_t mu;
	struct histogram posted;
};

void stats_init(struct stats *);
void stats_destroy(struct stats *);
void stats_record_latency(struct stats *, uint64_t ns);
void stats_interval_post(struct stats *);                         /* on the loader */
void stats_interval_take(struct stats *, struct histogram *into); /* merges and clears */
void stats_interval_rest(struct stats *, struct histogram *into); /* loader stopped: all left */
void stats_reset_measures(struct stats *); /* --warmup over: counts start from 0 */
void stats_count_error(struct stats *, enum load_error, int err);
void stats_record_handshake(struct stats *, const struct handshake *);
unsigned stats_retrans_bucket(unsigned retrans); /* 0 .. SYN_RETRANS_BUCKETS-1 */
const char *stats_retrans_name(unsigned bucket); /* "0", "1", "2", "3+" */
void stats_merge(struct stats *dst, const struct stats *src);
void stats_snapshot(struct stats *dst, const struct run *); /* counters only */
enum load_error stats_classify(int err);
const char *stats_error_name(enum load_error);
const char *stats_errno_name(int err, char *buf, size_t size);

/* srcaddr.c: --bind, the source addresses */
struct srcaddrs {
	struct net_addr *addrs;
	size_t n, cap;
};
int srcaddr_parse(struct srcaddrs *, const char *spec, char *err, size_t errlen);
void srcaddr_free(struct srcaddrs *);

/* mode-rr.c: one request and its echo, shared by rr, crr and hold */
void rr_request(struct conn *);
int rr_check(struct conn *, const unsigned char *, size_t);
uint64_t rr_due_at(const struct conn *, uint64_t k); /* --rate: rr's and udp-rr's schedule */
uint64_t rr_count_due(struct conn *, uint64_t now);

/* mode.c, mode-*.c */
struct mode {
	const char *name;
	int reconnect; /* a conn that ends is opened again (crr) */
	int (*init)(struct run *, char *err, size_t errlen);
	void (*free)(struct run *);
	void (*open)(struct conn *); /* established */
	void (*read)(struct conn *, const unsigned char *, size_t);
	void (*drained)(struct conn *); /* all output queued by conn_send is sent */
	int (*finish)(struct conn *);   /* run over; 1: one last exchange follows */
	void (*closed)(struct conn *, int was_open);
	void (*kick)(struct loader *); /* loader_kick() from any thread */
	void (*timer)(struct conn *);  /* the conn's timer, set by conn_timer_at(), is due */
	int timed; /* requests are in flight during the run: --request-timeout's sweep */
	int dgram; /* UDP: each conn is a connected SOCK_DGRAM socket */
};
const struct mode *mode_find(const char *name);
const char *mode_names(void);
extern const struct mode mode_rr;
extern const struct mode mode_crr;
extern const struct mode mode_hold;
extern const struct mode mode_stream;
extern const struct mode mode_chat;
extern const struct mode mode_udp_rr;
extern const struct mode mode_udp_stream;

/* mode-udp-rr.c: a datagram starts with its number, and fits in one UDP payload */
#define UDP_HEADER 8
#define UDP_STREAM_HEADER 16                /* udp-stream: and when it was sent */
#define UDP_PAYLOAD_MAX 65507               /* IPv4: 65,535 less the IP and UDP headers */
extern const struct mode mode_rr_paced;     /* rr with --rate: a loader's mode, not a name */
extern const struct mode mode_udp_rr_paced; /* udp-rr with --rate: the same */
#define UDP_RR_WINDOW 64 /* numbers below the highest sent whose answers are told apart */
#define UDP_RR_DEFAULT_TIMEOUT_MS 10000u /* --request-timeout 0: a loss is still a loss */
#define UDP_RR_PACED_WINDOW_MAX 65536u   /* --rate: datagrams a socket's ring holds */
#define UDP_RR_PACED_BYTES_MAX (256.0 * 1024 * 1024) /* --rate: all the rings together */
struct options;
uint64_t udp_rr_window(const struct options *); /* --rate's ring size; 0: too large */

/* mode-stream.c: --direction, what flows, and so what is measured and checked */
enum stream_direction {
	STREAM_BOTH,    /* send, and read back the echo, verified */
	STREAM_SEND,    /* send only: nothing may come back (discard) */
	STREAM_RECEIVE, /* read only: RFC 864's chargen pattern, verified */
};
const char *stream_direction_name(enum stream_direction);

/* payload.c: the bytes sent, so that every echoed byte can be checked */
#define PAYLOAD_PERIOD 65521u /* prime: offsets rarely line up */
int payload_init(struct run *, char *err, size_t errlen);
const unsigned char *payload_at(const struct run *, uint64_t pos);
size_t payload_mismatch(const unsigned char *got, const unsigned char *want, size_t n);

/* chargen.c: RFC 864's pattern, what stream --direction receive expects */
#define CHARGEN_CYCLE (95 * 74) /* 95 lines of 72 characters and CR LF */
unsigned char *chargen_new(void);
long chargen_phase(unsigned char first);

/* conn.c */
enum conn_state { CONN_IDLE, CONN_CONNECTING, CONN_OPEN };

struct conn {
	struct loader *w;
	unsigned id; /* 0 .. connections-1 across all loaders */
	int fd;
	enum conn_state state;
	int finishing;             /* in the last exchange after the run stopped */
	int failed;                /* ended by conn_fail(): reopen after a pause */
	struct event *io;          /* the socket, edge-triggered: readable, writable */
	struct event *timer;       /* the connect timeout; then the mode's (conn_timer_at) */
	struct event *restart;     /* (re)connect outside of the old socket's callbacks, or
				      at the slot's time (--connect-rate) */
	uint64_t t_connect;        /* ns: connect() was called */
	const unsigned char *wbuf; /* output the kernel did not take yet */
	size_t wlen;

	uint64_t k_conn; /* --connect-rate: this slot's next connection in the schedule */

	/*
	 * --fastopen with a cookie: connect() returned before any packet left,
	 * the first send() put data in the SYN, and the handshake's TCP_INFO
	 * is still to be read (hs_pending), when the first answer arrives;
	 * with the connect latency to record with it.
	 */
	int tfo_deferred;
	int hs_pending;
	uint64_t connect_ns;

	/*
	 * Request/response modes: the request in flight, sent at t_send (0:
	 * none, which is what --request-timeout's sweep looks at).  With
	 * rr --rate, requests seq .. k_sent-1 are in flight, the echo answers
	 * them in order, and t_send is when the oldest, seq, was due.
	 */
	uint64_t seq; /* requests completed on this conn; rr --rate: the next to complete */
	uint64_t t_send;
	uint64_t off;    /* payload offset of request seq */
	size_t got;      /* bytes of its echo received so far */
	uint64_t k_sent; /* rr --rate: the next request to send */
	uint64_t k_due;  /* rr --rate: this conn's requests counted in stats.due so far */

	/*
	 * stream: positions in the byte stream (sent: handed to the kernel or
	 * queued; acked: taken by the kernel), the chargen cycle's offset at
	 * received byte 0 (--direction receive), and send times to sample
	 */
	uint64_t sent_pos;
	uint64_t acked_pos;
	uint64_t recv_pos;
	uint64_t recv_base;
	struct {
		uint64_t pos, t;
	} marks[16];
	unsigned mark_head, mark_tail;

	/*
	 * udp-rr: bit i set if datagram k_sent-1-i was answered; the highest
	 * number answered, plus one (udp-stream: received, and bit i is
	 * dg_high-1-i); udp-rr --rate: seq is the oldest datagram neither
	 * answered nor lost yet
	 */
	uint64_t dg_answered;
	uint64_t dg_high;
	uint64_t dg_transit;  /* udp-stream: the last datagram's transit, ns; 0: none yet */
	uint64_t dg_jitter16; /* udp-stream: RFC 3550's J, times 16, ns */

	void *mode_data; /* chat: the member */
};

struct conn *conn_new(struct loader *, unsigned id);
void conn_free(struct conn *);
void conn_start(struct conn *);
int conn_send(struct conn *, const void *, size_t);
void conn_fail(struct conn *, enum load_error, int err);
void conn_verify_failed(struct conn *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void conn_close(struct conn *);
void conn_reply(struct conn *, uint64_t latency_ns, size_t bytes);
void conn_timer_at(struct conn *, uint64_t t_ns); /* mode->timer() at clock_ns() t_ns */

/* loader.c */
struct loader {
	struct run *run;
	int index;
	pthread_t thread;
	int started;
	struct event_base *base;
	const struct mode *mode;          /* the run's, or its paced form (rr --rate) */
	struct event *stop_ev;            /* activated by the main thread */
	struct event *ramp_ev;            /* opens connections at --ramp-rate */
	struct event *final_ev;           /* deadline of the last exchange */
	struct event *kick_ev;            /* mode's wakeup, from any thread */
	struct event *tick_ev;            /* each second: post this second's latencies */
	struct event *warmup_ev;          /* from the main thread: --warmup is over */
	struct event *sweep_ev;           /* every 100 ms: requests past --request-timeout */
	const struct timeval *connect_tv; /* a common timeout: O(1) for thousands */
	struct conn **conns;
	unsigned nconns;
	unsigned opened;          /* conns started by the ramp so far */
	unsigned live;            /* conns that may still do something */
	double rate;              /* this loader's share of --ramp-rate; 0 = at once */
	struct schedule requests; /* rr --rate: when each conn's requests are due */
	struct schedule connects; /* --connect-rate: when each conn connects */
	uint64_t t_ramp;
	int stopping;
	int idle_reported;
	unsigned finishing;
	unsigned char rbuf[LOAD_READ_MAX];
	struct stats stats;
};

int loader_init(
    struct loader *, struct run *, int index, unsigned nconns, char *err, size_t errlen);
void loader_free(struct loader *);
int loader_start(struct loader *, char *err, size_t errlen);
void loader_stop(struct loader *);
void loader_kick(struct loader *);
void loader_warmup_over(struct loader *);
void loader_conn_closed(struct loader *, struct conn *);

/* options.c: the command line */
enum close_how { CLOSE_RST, CLOSE_FIN };

#define PERCENTILES_MAX 16

struct options {
	const struct mode *mode;
	struct net_addr target;
	char target_str[NET_ADDRSTRLEN];
	unsigned connections;
	double duration;
	double ramp_rate;    /* -r: new connections per second while ramping up; 0 = at once */
	double rate;         /* -R: requests per second in all (open loop); 0 = closed loop */
	double connect_rate; /* --connect-rate: new connections per second all along (crr, hold) */
	double warmup;       /* seconds of load left out of every statistic */
	size_t size;
	int threads;
	struct srcaddrs srcaddrs;
	long connect_timeout_ms;
	long request_timeout_ms; /* an answer later than this is an error; 0 = none */
	enum close_how close;
	enum stream_direction direction;
	double max_error_rate; /* failed share of connections or requests: exit 4 above it */
	double percentiles[PERCENTILES_MAX];
	int npercentiles;
	const char *hgrm_path;       /* --hgrm: the latency distribution, HdrHistogram's format */
	const char *timeseries_path; /* --timeseries: one CSV row per second */
	int fastopen;                /* TCP_FASTOPEN_CONNECT: the first request in the SYN */
	int json;
	int quiet;
	int progress; /* live line: -1 on a terminal, 0 never, 1 always */
	char **argv;  /* as given, for the report */
	int argc;
};

/* 0: run; 1: done (help or version printed); -1: usage error in err. */
int options_parse(struct options *, int argc, char **argv, char *err, size_t errlen);
void options_free(struct options *);

/*
 * --close fin: connections this side ends normally are closed with a FIN,
 * and each leaves a TIME_WAIT socket on this host for 60 s, holding its
 * port (28,000 ephemeral ports last crr to one address 60 s at about 470
 * connections a second); rst, the default, leaves none.  For the report's
 * warning, which reads the host's TIME_WAIT count in /proc/net/sockstat.
 */
static inline int
close_leaves_time_wait(const struct options *o)
{
	return o->close == CLOSE_FIN;
}

/*
 * run.c: one interval of the time series, as the main thread collected it:
 * a second of the measurement (the last ends with the run), the counters'
 * deltas in it and the latencies of the requests completed in it.
 */
struct interval {
	int64_t t;        /* unix second at which it started */
	double elapsed_s; /* since the start of measurement, at its end */
	int last;         /* ends with the run: may be partial */
	uint64_t open;    /* connections open at its end */
	uint64_t attempted, established, requests, bytes_sent, bytes_received;
	uint64_t errors[LERR_MAX];
	uint64_t syn_retransmits;
	uint64_t dgram_lost; /* UDP modes: datagrams found lost in it */
	struct hist_packed latency;
	uint64_t p50, p99; /* ns; 0 without latencies */
};

struct run {
	struct options opt;
	unsigned char *payload;
	size_t payload_len;
	struct loader *loaders;
	int nloaders;
	uint64_t t_start; /* ns, monotonic; also time 0 of the schedules */
	uint64_t t_stop;
	int stopping;           /* atomic: the duration ended, or SIGINT */
	int force;              /* atomic: a second SIGINT, do not wait for anything */
	unsigned src_next;      /* atomic: round-robin over the source addresses */
	unsigned verify_logged; /* atomic: verify messages printed so far */
	int loaders_done;       /* atomic */
	int loaders_idle;       /* atomic */
	int stop_requested;     /* atomic: a mode has nothing left to measure */
	int interrupted;        /* SIGINT or SIGTERM ended the run */
	struct timeval connect_tv;
	struct event_base *base; /* the main thread's: signals, timers */
	struct event *notify_ev; /* a loader finished or has nothing left to do */
	void *mode_state;

	/*
	 * The measurement.  The load begins at t_load; t_start (above) is where
	 * measuring begins: t_load, or the end of --warmup.  Both monotonic ns.
	 */
	uint64_t t_load;
	double start_unix; /* wall clock at t_start, seconds */
	int measuring;     /* the warm-up is over (or there was none) */
	struct interval *intervals;
	size_t nintervals, intervals_cap;
	int tw_warned; /* --close fin: TIME_WAIT warning given */
};

void run_notify(struct run *);       /* from a loader: look at the loaders' state */
void run_request_stop(struct run *); /* from a mode: nothing left to measure */
int run_main(struct run *);          /* the whole run: its exit status */

/* report.c: a run's report, its exit status, the live line */
struct outcome {
	int code;                     /* the exit status, LOAD_EXIT_* */
	uint64_t connection_failures; /* attempts that did not connect */
	uint64_t request_failures;    /* requests without an answer */
	double connection_error_rate; /* of the attempts */
	double request_error_rate;    /* of the requests answered or not */
	double error_rate;            /* the larger, against --max-error-rate */
	int nothing_connected;        /* code 3: no connection at all */
};
void outcome_of(struct outcome *, const uint64_t *errors, uint64_t attempted, uint64_t requests,
    int chat, int completed, int connected, double max_error_rate);
void report_outcome(struct outcome *, const struct run *, const struct stats *);
void report_progress(const struct run *, double elapsed, int warmup, const struct stats *now,
    const struct stats *prev, const struct histogram *second, int tty);
void report_progress_clear(void);
/* the summary or, json set, the --json object of the run */
void report_run(FILE *, const struct run *, const struct stats *, double duration_s, int json);

/*
 * report-write.c: a report as data, and the one writer of the summary and
 * of the --json object.  report.c fills it from a run, merge.c from the
 * reports it merged: counts are sums, histograms are merged bucket by
 * bucket, and every statistic printed is computed from them.
 */
struct report_count {
	const char *name; /* an error cause, or an errno's name */
	uint64_t n;
};

/* One wall-clock second of the time series. */
struct report_interval {
	int64_t t;        /* unix time */
	double elapsed_s; /* since report_data.start_unix, at its end */
	int last;         /* ends with the run: may be partial */
	uint64_t open, attempted, established, requests, bytes_sent, bytes_received;
	uint64_t syn_retransmits;
	uint64_t dgram_lost; /* UDP modes: datagrams found lost in it */
	struct report_count *errors;
	size_t nerrors;
	struct hist_packed latency; /* its non-zero buckets, in index order */
};

/* One of the reports merged. */
struct report_source {
	const char *name; /* its file, "-" for standard input */
	const char *target;
	double duration_s;
	uint64_t established, requests, errors;
	uint64_t p99_ns;
};

struct report_data {
	const struct mode *mode;
	enum stream_direction direction;
	const char *model;  /* "closed" or "open" */
	const char *target; /* a merge's: the targets, comma-separated */
	size_t ntargets;
	const char *start_time; /* ISO 8601, UTC: a merge's earliest */
	double start_unix;
	double duration_s; /* a merge's: the longest, the runs were concurrent */
	double warmup_s;
	int ended_in_warmup;
	uint64_t threads, size, requested, attempted, established, requests;
	uint64_t bytes_sent, bytes_received;
	int interrupted;
	const struct report_count *errors; /* every cause: stats_error_name()'s first, in order */
	size_t nerrors;
	const struct report_count *other_errno;
	size_t nother_errno;
	const struct histogram *latency, *connect, *lag;
	/* the handshakes: connections by SYN retransmissions (SYN_RETRANS_BUCKETS) */
	const struct report_count *syn_retrans;
	uint64_t syn_data;
	int fastopen; /* the run asked for it (a merge: one of them did) */
	const struct histogram *connect_clean, *connect_retrans, *rtt;
	const struct dgram_counts *dgram; /* UDP modes; NULL: not a UDP run */
	int scheduled;                    /* open loop: what follows is set */
	double rate;                      /* requests per second, all the schedules together */
	uint64_t due, sent;
	int kept;
	const double *percentiles;
	int npercentiles;
	double max_error_rate;
	struct outcome outcome;
	const char *options; /* a JSON object: a merge's is the first report's */
	const struct report_interval *intervals;
	size_t nintervals;
	const struct report_source *sources; /* a merge's: the reports merged */
	size_t nsources;
};

void report_write(FILE *, const struct report_data *, int json);
double report_loss_pct(const struct dgram_counts *, uint64_t answered);
const char *report_time(uint64_t ns, char *buf, size_t size);
const char *report_rate(double bytes, double secs, char *buf, size_t size);

/* merge.c: `synack-load merge REPORT...`; argv[0] is "merge" */
int merge_main(int argc, char **argv);
/* the reports named merged, written to f: the exit status of a merge */
int merge_write(FILE *f, char *const *names, int n, int json);

/* export.c: --hgrm, --timeseries, and the histograms of the JSON report */
void export_hgrm(FILE *, const struct histogram *, double unit);
void export_json_hist(FILE *, const struct histogram *);
void export_elapsed(FILE *, const struct interval *);
void export_csv_header(FILE *);
void export_csv_row(FILE *, const struct interval *);
uint64_t interval_failures(const struct interval *);

/* timewait.c: --close fin and the ephemeral ports */
int timewait_parse_sockstat(const char *text, uint64_t *tw);
int timewait_parse_port_range(const char *text, uint64_t *ports);
int timewait_too_many(uint64_t tw, uint64_t ports, size_t sources);
int timewait_check(struct run *, char *msg, size_t size);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * report-read.h: a --json report read back and checked (report-read.c),
 * and what merge.c shares with the reader to add reports up: counts by
 * name and sums that stop at 2^64 - 1.
 */
#ifndef SYNACK_REPORT_READ_H
#define SYNACK_REPORT_READ_H

#include "json.h"
#include "load.h"

#define REPORT_MAX_SIZE JSON_MAX_SIZE_DEFAULT

/* A list of counts by name. */
struct counts {
	struct report_count *v;
	size_t n, cap;
};

/* A row of a time series, and its place in the order of reading. */
struct row {
	struct report_interval r;
	size_t seq;
};

/* One report, read and checked. */
struct report {
	const struct mode *mode;
	const char *model;
	char *target, *start_time, *options;
	double start_unix, duration_s;
	uint64_t threads, size, requested, attempted, established, requests;
	uint64_t bytes_sent, bytes_received;
	int interrupted, ended_in_warmup;
	struct counts errors, other_errno;
	struct hist_packed latency, connect, lag;
	/* the handshakes: absent from older reports, which then add nothing */
	struct counts syn_retrans;
	uint64_t syn_data;
	struct dgram_counts dgram; /* UDP modes' "datagrams" */
	int fastopen;
	struct hist_packed connect_clean, connect_retrans, rtt;
	int scheduled, kept;
	double rate;
	uint64_t due, sent;
	double percentiles[PERCENTILES_MAX];
	int npercentiles;
	double max_error_rate, warmup_s;
	struct row *rows;
	size_t nrows;
};

/* Reading one report: its name, for every message. */
struct reader {
	const char *name;
	char err[LOAD_ERRLEN];
};

/*
 * What is wrong with the report, after its name.  BAD() is that and -1, in
 * one expression that the static analyzer follows (it does not look into
 * a variadic function to learn what it returns).
 */
void reader_say(struct reader *, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define BAD(rd, ...) (reader_say((rd), __VA_ARGS__), -1)

/* rd->name ("-": standard input) read, parsed and checked into r (zeroed); -1 with rd->err. */
int report_read(struct reader *rd, struct report *r);
void report_free(struct report *);

void count_add(uint64_t *dst, uint64_t v, int *overflow); /* saturates, sets *overflow */
int counts_add(struct counts *, const char *name, uint64_t n, int *overflow); /* -1: no memory */
void counts_free(struct counts *);
void row_free(struct report_interval *);

#endif

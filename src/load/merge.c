/* SPDX-License-Identifier: ISC */
/*
 * merge.c: `synack-load merge REPORT...`: the --json reports of runs made
 * at the same time, by several processes or hosts, combined exactly.
 *
 * Counts add.  Histograms add bucket by bucket, and every percentile, mean,
 * standard deviation and maximum is computed again from the merged ones:
 * the p99 of several runs is no average of their p99s.  Rates are the
 * totals over the longest duration, since the runs were concurrent; the
 * start is the earliest.  The time series are aligned on the wall-clock
 * second: the rows of one second add up whichever run they come from.
 *
 * Each report is read whole and checked (report-read.c), and added
 * before the next is read, so memory holds one parsed file and the merge.
 * The merge is then a struct report_data, written by report-write.c as a
 * run's report is, with the same keys, formats and meaning.  A file that
 * is not a report, or whose runs cannot be added to the first's (another
 * mode, loop model, message size or histogram layout), is refused with
 * its name and what is wrong; every file is checked before the exit (2).
 */
#include "config.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "load.h"
#include "report-read.h"

/* The merge so far. */
struct merge {
	size_t nreports;
	const char *first; /* the first report's name */
	const struct mode *mode;
	const char *model;
	uint64_t size;
	double percentiles[PERCENTILES_MAX];
	int npercentiles;
	double max_error_rate, warmup_s;
	char *options;
	char *start_time;
	double start_unix, duration_s;
	uint64_t threads, requested, attempted, established, requests;
	uint64_t bytes_sent, bytes_received;
	int interrupted, ended_in_warmup;
	struct counts errors, other_errno;
	struct histogram *latency, *connect, *lag, *scratch;
	struct counts syn_retrans;
	uint64_t syn_data;
	int fastopen;
	struct dgram_counts dgram;
	struct histogram *connect_clean, *connect_retrans, *rtt;
	int scheduled, kept;
	double rate;
	uint64_t due, sent;
	struct row *rows;
	size_t nrows, caprows;
	struct report_interval *intervals;
	size_t nintervals;
	struct report_source *sources;
	size_t nsources;
	char **targets;
	size_t ntargets;
	int overflow; /* a sum went past 2^64 - 1 */
};

static void
usage(FILE *f)
{
	fprintf(f,
	    "usage: synack-load merge [--json] REPORT.json...\n"
	    "Combine the --json reports of runs made at the same time (several processes\n"
	    "or hosts against one server) into one report: counts add, histograms merge\n"
	    "bucket by bucket and every percentile is computed from the merged ones, rates\n"
	    "are over the longest run, the time series are aligned on the wall clock.\n"
	    "REPORT '-' is standard input.\n"
	    "      --json   the merged report as JSON (the same keys as a run's, with\n"
	    "               \"merged_from\" and \"sources\"); default: the summary\n"
	    "  -h, --help   this help\n"
	    "Exit: 0, 1 verify errors, 2 usage or a report refused, 3 no connection or no\n"
	    "request, 4 more failures than the first report's max_error_rate.\n");
}

/* Can r be added to what was merged so far? */
static int
check_compatible(struct reader *rd, const struct merge *m, const struct report *r)
{
	if (m->nreports == 0)
		return 0;
	if (r->mode != m->mode)
		return BAD(rd, "mode %s, but %s has mode %s: runs of different modes do not merge",
		    r->mode->name, m->first, m->mode->name);
	if (strcmp(r->model, m->model) != 0)
		return BAD(rd,
		    "an %s-loop run, but %s is %s-loop: latencies measured from the schedule "
		    "and from the send do not merge",
		    r->model, m->first, m->model);
	if (r->size != m->size)
		return BAD(rd,
		    "size %llu, but %s has size %llu: runs of different message sizes do "
		    "not merge",
		    (unsigned long long)r->size, m->first, (unsigned long long)m->size);
	return 0;
}

static uint64_t
counts_total(const struct counts *c)
{
	uint64_t n = 0;
	int overflow = 0;

	for (size_t i = 0; i < c->n; i++)
		count_add(&n, c->v[i].n, &overflow);
	return n;
}

static int
add_target(struct merge *m, const char *target)
{
	char **t;

	for (size_t i = 0; i < m->ntargets; i++)
		if (strcmp(m->targets[i], target) == 0)
			return 0;
	if ((t = realloc(m->targets, (m->ntargets + 1) * sizeof *t)) == NULL)
		return -1;
	m->targets = t;
	if ((t[m->ntargets] = strdup(target)) == NULL)
		return -1;
	m->ntargets++;
	return 0;
}

/* r, checked, into the merge; it gives up its rows. */
static int
merge_report(struct reader *rd, struct merge *m, struct report *r)
{
	struct report_source *src;
	struct row *rows;

	if (m->nreports == 0) {
		m->first = rd->name;
		m->mode = r->mode;
		m->model = r->model;
		m->size = r->size;
		memcpy(m->percentiles, r->percentiles, sizeof m->percentiles);
		m->npercentiles = r->npercentiles;
		m->max_error_rate = r->max_error_rate;
		m->warmup_s = r->warmup_s;
		m->options = r->options;
		r->options = NULL;
	}
	if ((src = realloc(m->sources, (m->nsources + 1) * sizeof *src)) == NULL)
		return BAD(rd, "out of memory");
	m->sources = src;
	src += m->nsources++;
	memset(src, 0, sizeof *src);
	src->name = rd->name;
	src->duration_s = r->duration_s;
	src->established = r->established;
	src->requests = r->requests;
	src->errors = counts_total(&r->errors);
	hist_init(m->scratch);
	m->overflow |= hist_merge_packed(m->scratch, &r->latency);
	src->p99_ns = hist_percentile(m->scratch, 99);
	if (add_target(m, r->target) == -1)
		return BAD(rd, "out of memory");
	for (size_t i = 0; i < m->ntargets; i++)
		if (strcmp(m->targets[i], r->target) == 0)
			src->target = m->targets[i];

	if (m->nreports == 0 || r->start_unix < m->start_unix) {
		free(m->start_time);
		m->start_time = r->start_time;
		r->start_time = NULL;
		m->start_unix = r->start_unix;
	}
	if (r->duration_s > m->duration_s)
		m->duration_s = r->duration_s;
	m->interrupted |= r->interrupted;
	m->ended_in_warmup |= r->ended_in_warmup;
	count_add(&m->threads, r->threads, &m->overflow);
	count_add(&m->requested, r->requested, &m->overflow);
	count_add(&m->attempted, r->attempted, &m->overflow);
	count_add(&m->established, r->established, &m->overflow);
	count_add(&m->requests, r->requests, &m->overflow);
	count_add(&m->bytes_sent, r->bytes_sent, &m->overflow);
	count_add(&m->bytes_received, r->bytes_received, &m->overflow);
	for (size_t i = 0; i < r->errors.n; i++)
		if (counts_add(&m->errors, r->errors.v[i].name, r->errors.v[i].n, &m->overflow) ==
		    -1)
			return BAD(rd, "out of memory");
	for (size_t i = 0; i < r->other_errno.n; i++)
		if (counts_add(&m->other_errno, r->other_errno.v[i].name, r->other_errno.v[i].n,
			&m->overflow) == -1)
			return BAD(rd, "out of memory");
	m->overflow |= hist_merge_packed(m->latency, &r->latency);
	m->overflow |= hist_merge_packed(m->connect, &r->connect);
	m->overflow |= hist_merge_packed(m->lag, &r->lag);
	for (size_t i = 0; i < r->syn_retrans.n; i++)
		if (counts_add(&m->syn_retrans, r->syn_retrans.v[i].name, r->syn_retrans.v[i].n,
			&m->overflow) == -1)
			return BAD(rd, "out of memory");
	count_add(&m->syn_data, r->syn_data, &m->overflow);
	count_add(&m->dgram.sent, r->dgram.sent, &m->overflow);
	count_add(&m->dgram.lost, r->dgram.lost, &m->overflow);
	count_add(&m->dgram.late, r->dgram.late, &m->overflow);
	count_add(&m->dgram.duplicate, r->dgram.duplicate, &m->overflow);
	count_add(&m->dgram.reordered, r->dgram.reordered, &m->overflow);
	count_add(&m->dgram.jitter16_sum, r->dgram.jitter16_sum, &m->overflow);
	count_add(&m->dgram.jitter_conns, r->dgram.jitter_conns, &m->overflow);
	m->fastopen |= r->fastopen;
	m->overflow |= hist_merge_packed(m->connect_clean, &r->connect_clean);
	m->overflow |= hist_merge_packed(m->connect_retrans, &r->connect_retrans);
	m->overflow |= hist_merge_packed(m->rtt, &r->rtt);
	if (r->scheduled) {
		m->kept = m->scheduled ? m->kept && r->kept : r->kept;
		m->scheduled = 1;
		m->rate += r->rate;
		count_add(&m->due, r->due, &m->overflow);
		count_add(&m->sent, r->sent, &m->overflow);
	}

	/* the rows keep the wall-clock end of their second until they are aligned */
	if (m->nrows + r->nrows > m->caprows) {
		size_t cap =
		    m->caprows * 2 > m->nrows + r->nrows ? m->caprows * 2 : m->nrows + r->nrows;

		if ((rows = realloc(m->rows, cap * sizeof *rows)) == NULL)
			return BAD(rd, "out of memory");
		m->rows = rows;
		m->caprows = cap;
	}
	for (size_t i = 0; i < r->nrows; i++) {
		struct row *row = &m->rows[m->nrows];

		*row = r->rows[i];
		row->r.elapsed_s += r->start_unix;
		row->seq = m->nrows++;
	}
	free(r->rows);
	r->rows = NULL;
	r->nrows = 0;
	m->nreports++;
	return 0;
}

/* Read, check and merge one file; -1 with rd->err set. */
static int
merge_file(struct reader *rd, struct merge *m)
{
	struct report r;
	int rc;

	memset(&r, 0, sizeof r);
	rc = report_read(rd, &r);
	if (rc == 0)
		rc = check_compatible(rd, m, &r);
	if (rc == 0)
		rc = merge_report(rd, m, &r);
	report_free(&r);
	return rc;
}

static int
row_compare(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (x->r.t != y->r.t)
		return x->r.t < y->r.t ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/*
 * The rows of all reports, one per wall-clock second: counts add, the
 * histograms merge, and the time is the latest end of those seconds since
 * the earliest start.
 */
static int
align_rows(struct merge *m)
{
	size_t i = 0, j;

	if (m->nrows == 0)
		return 0;
	qsort(m->rows, m->nrows, sizeof *m->rows, row_compare);
	if ((m->intervals = calloc(m->nrows, sizeof *m->intervals)) == NULL)
		return -1;
	for (; i < m->nrows; i = j) {
		struct report_interval *out = &m->intervals[m->nintervals++];
		struct counts errors = { NULL, 0, 0 };
		double end = 0;

		hist_init(m->scratch);
		out->t = m->rows[i].r.t;
		for (j = i; j < m->nrows && m->rows[j].r.t == out->t; j++) {
			const struct report_interval *r = &m->rows[j].r;

			if (j == i || r->elapsed_s > end)
				end = r->elapsed_s;
			count_add(&out->open, r->open, &m->overflow);
			count_add(&out->attempted, r->attempted, &m->overflow);
			count_add(&out->established, r->established, &m->overflow);
			count_add(&out->requests, r->requests, &m->overflow);
			count_add(&out->bytes_sent, r->bytes_sent, &m->overflow);
			count_add(&out->bytes_received, r->bytes_received, &m->overflow);
			count_add(&out->syn_retransmits, r->syn_retransmits, &m->overflow);
			count_add(&out->dgram_lost, r->dgram_lost, &m->overflow);
			for (size_t k = 0; k < r->nerrors; k++)
				if (counts_add(&errors, r->errors[k].name, r->errors[k].n,
					&m->overflow) == -1) {
					counts_free(&errors);
					return -1;
				}
			m->overflow |= hist_merge_packed(m->scratch, &r->latency);
		}
		/* to the millisecond that the report prints, clear of rounding errors */
		out->elapsed_s = end > m->start_unix ? round((end - m->start_unix) * 1e3) / 1e3 : 0;
		out->errors = errors.v;
		out->nerrors = errors.n;
		if (hist_pack(&out->latency, m->scratch) == -1)
			return -1;
	}
	m->intervals[m->nintervals - 1].last = 1; /* ends with the longest run */
	return 0;
}

/* The exit status of the merged counts and its rates, by the rule of a run (outcome_of). */
static void
merge_outcome(const struct merge *m, struct outcome *o)
{
	uint64_t errors[LERR_MAX] = { 0 };

	for (size_t i = 0; i < m->errors.n; i++) {
		int e;

		for (e = 0; e < LERR_MAX; e++)
			if (strcmp(m->errors.v[i].name, stats_error_name((enum load_error)e)) == 0)
				break;
		/* a cause this synack-load does not know: a request that failed */
		errors[e < LERR_MAX ? e : LERR_CLOSED] += m->errors.v[i].n;
	}
	outcome_of(o, errors, m->attempted, m->requests, m->mode == &mode_chat,
	    m->mode == &mode_stream ? m->bytes_received > 0 : m->requests > 0, m->established > 0,
	    m->max_error_rate);
}

/* The targets, comma-separated, malloc'd; NULL: out of memory. */
static char *
merge_targets(const struct merge *m)
{
	char *target = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&target, &len);

	if (f == NULL)
		return NULL;
	for (size_t i = 0; i < m->ntargets; i++)
		fprintf(f, "%s%s", i == 0 ? "" : ",", m->targets[i]);
	if (fclose(f) != 0) {
		free(target);
		return NULL;
	}
	return target;
}

/* The merge as a report, for report_write(); target is merge_targets()'. */
static void
merge_data(const struct merge *m, const char *target, struct report_data *d)
{
	memset(d, 0, sizeof *d);
	d->mode = m->mode;
	d->direction = STREAM_BOTH;
	d->model = m->model;
	d->target = target;
	d->ntargets = m->ntargets;
	d->start_time = m->start_time;
	d->start_unix = m->start_unix;
	d->duration_s = m->duration_s;
	d->warmup_s = m->warmup_s;
	d->ended_in_warmup = m->ended_in_warmup;
	d->threads = m->threads;
	d->size = m->size;
	d->requested = m->requested;
	d->attempted = m->attempted;
	d->established = m->established;
	d->requests = m->requests;
	d->bytes_sent = m->bytes_sent;
	d->bytes_received = m->bytes_received;
	d->interrupted = m->interrupted;
	d->errors = m->errors.v;
	d->nerrors = m->errors.n;
	d->other_errno = m->other_errno.v;
	d->nother_errno = m->other_errno.n;
	d->latency = m->latency;
	d->connect = m->connect;
	d->lag = m->lag;
	d->syn_retrans = m->syn_retrans.v;
	d->syn_data = m->syn_data;
	d->dgram = m->mode->dgram ? &m->dgram : NULL;
	d->fastopen = m->fastopen;
	d->connect_clean = m->connect_clean;
	d->connect_retrans = m->connect_retrans;
	d->rtt = m->rtt;
	d->scheduled = m->scheduled;
	d->rate = m->rate;
	d->due = m->due;
	d->sent = m->sent;
	d->kept = m->kept;
	d->percentiles = m->percentiles;
	d->npercentiles = m->npercentiles;
	d->max_error_rate = m->max_error_rate;
	merge_outcome(m, &d->outcome);
	d->options = m->options;
	d->intervals = m->intervals;
	d->nintervals = m->nintervals;
	d->sources = m->sources;
	d->nsources = m->nsources;
}

static int
merge_init(struct merge *m)
{
	int overflow = 0;

	memset(m, 0, sizeof *m);
	if ((m->latency = malloc(sizeof *m->latency)) == NULL ||
	    (m->connect = malloc(sizeof *m->connect)) == NULL ||
	    (m->lag = malloc(sizeof *m->lag)) == NULL ||
	    (m->connect_clean = malloc(sizeof *m->connect_clean)) == NULL ||
	    (m->connect_retrans = malloc(sizeof *m->connect_retrans)) == NULL ||
	    (m->rtt = malloc(sizeof *m->rtt)) == NULL ||
	    (m->scratch = malloc(sizeof *m->scratch)) == NULL)
		return -1;
	hist_init(m->latency);
	hist_init(m->connect);
	hist_init(m->lag);
	hist_init(m->connect_clean);
	hist_init(m->connect_retrans);
	hist_init(m->rtt);
	for (unsigned i = 0; i < SYN_RETRANS_BUCKETS; i++)
		if (counts_add(&m->syn_retrans, stats_retrans_name(i), 0, &overflow) == -1)
			return -1;
	/* every cause this synack-load knows, in its order, then the others */
	for (int e = 0; e < LERR_MAX; e++)
		if (counts_add(&m->errors, stats_error_name(e), 0, &overflow) == -1)
			return -1;
	return 0;
}

static void
merge_free(struct merge *m)
{
	for (size_t i = 0; i < m->nrows; i++)
		row_free(&m->rows[i].r);
	free(m->rows);
	for (size_t i = 0; i < m->nintervals; i++)
		row_free(&m->intervals[i]);
	free(m->intervals);
	for (size_t i = 0; i < m->ntargets; i++)
		free(m->targets[i]);
	free(m->targets);
	free(m->sources);
	counts_free(&m->errors);
	counts_free(&m->other_errno);
	counts_free(&m->syn_retrans);
	free(m->options);
	free(m->start_time);
	free(m->latency);
	free(m->connect);
	free(m->lag);
	free(m->connect_clean);
	free(m->connect_retrans);
	free(m->rtt);
	free(m->scratch);
}

/* Every file read, checked and merged; -1 if one was refused (each said why). */
static int
merge_all(struct merge *m, char *const *names, int n)
{
	int refused = 0;

	for (int i = 0; i < n; i++) {
		struct reader rd;

		rd.name = names[i];
		rd.err[0] = '\0';
		if (merge_file(&rd, m) == -1) {
			fprintf(stderr, "synack-load merge: %s\n", rd.err);
			refused = 1;
		}
	}
	if (!refused && align_rows(m) == -1) {
		fprintf(stderr, "synack-load merge: out of memory\n");
		refused = 1;
	}
	if (!refused && m->overflow) {
		fprintf(stderr, "synack-load merge: the counts add up to more than 2^64 - 1\n");
		refused = 1;
	}
	return refused ? -1 : 0;
}

int
merge_write(FILE *f, char *const *names, int n, int json)
{
	struct report_data d;
	struct merge m;
	char *target = NULL;
	int rc = LOAD_EXIT_USAGE;

	if (merge_init(&m) == -1) {
		fprintf(stderr, "synack-load merge: out of memory\n");
		merge_free(&m);
		return rc;
	}
	if (merge_all(&m, names, n) == 0) {
		if ((target = merge_targets(&m)) == NULL)
			fprintf(stderr, "synack-load merge: out of memory\n");
		else {
			merge_data(&m, target, &d);
			report_write(f, &d, json);
			rc = d.outcome.code;
		}
	}
	if (target != NULL && (fflush(f) != 0 || ferror(f))) {
		fprintf(stderr, "synack-load merge: writing the report: %s\n", strerror(errno));
		rc = LOAD_EXIT_USAGE;
	}
	free(target);
	merge_free(&m);
	return rc;
}

int
merge_main(int argc, char **argv)
{
	enum { OPT_JSON = 256 };
	static const struct option longopts[] = {
		{ "json", no_argument, NULL, OPT_JSON },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int ch, json = 0, stdin_seen = 0;

	opterr = 0;
	while ((ch = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
		switch (ch) {
		case OPT_JSON:
			json = 1;
			break;
		case 'h':
			usage(stdout);
			return LOAD_EXIT_OK;
		default:
			if (optopt != 0)
				fprintf(stderr, "synack-load merge: unknown option -%c\n", optopt);
			else
				fprintf(stderr, "synack-load merge: unknown option %s\n",
				    argv[optind - 1]);
			fprintf(stderr, "Try 'synack-load merge --help' for the options.\n");
			return LOAD_EXIT_USAGE;
		}
	}
	if (optind == argc) {
		fprintf(stderr,
		    "synack-load merge: no report: give the files of --json runs "
		    "(or - for standard input)\n");
		fprintf(stderr, "Try 'synack-load merge --help' for the options.\n");
		return LOAD_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++)
		if (strcmp(argv[i], "-") == 0 && stdin_seen++) {
			fprintf(stderr, "synack-load merge: standard input (-) can be read once\n");
			return LOAD_EXIT_USAGE;
		}
	return merge_write(stdout, argv + optind, argc - optind, json);
}

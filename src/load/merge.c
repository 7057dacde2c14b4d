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
 * Each report is read whole (json.c), checked, and added before the next
 * is read, so memory holds one parsed file and the merge.  The merge is
 * then a struct report_data, written by report-write.c as a run's report
 * is, with the same keys, formats and meaning.  A file that is
 * not a report, or whose runs cannot be added to the first's (another
 * mode, loop model, message size or histogram layout), is refused with
 * its name and what is wrong; every file is checked before the exit (2).
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "load.h"

#define MERGE_MAX_SIZE JSON_MAX_SIZE_DEFAULT
#define MERGE_MAX_DEPTH 32
#define EXACT_DOUBLE_MAX 9007199254740992.0 /* 2^53: a whole double above is not exact */
#define PATH_LEN 128

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
	int scheduled, kept;
	double rate;
	uint64_t due, sent;
	double percentiles[PERCENTILES_MAX];
	int npercentiles;
	double max_error_rate, warmup_s;
	struct row *rows;
	size_t nrows;
};

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

/* Reading one report: its name, for every message. */
struct reader {
	const char *name;
	char err[LOAD_ERRLEN];
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

static void say(struct reader *rd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/*
 * What is wrong with the report, after its name.  BAD() is that and -1, in
 * one expression that the static analyzer follows (it does not look into
 * a variadic function to learn what it returns).
 */
static void
say(struct reader *rd, const char *fmt, ...)
{
	va_list ap;
	int n;

	n = snprintf(rd->err, sizeof rd->err, "%s: ", rd->name);
	if (n < 0 || (size_t)n >= sizeof rd->err)
		return;
	va_start(ap, fmt);
	vsnprintf(rd->err + n, sizeof rd->err - (size_t)n, fmt, ap);
	va_end(ap);
}

#define BAD(rd, ...) (say((rd), __VA_ARGS__), -1)

/* A string of the input, fit for a message: printable, at most 40 bytes. */
static const char *
shown(const struct json_value *s, char *buf, size_t size)
{
	size_t k = 0;

	for (uint32_t i = 0; i < s->n && k + 4 < size && k < 40; i++) {
		unsigned char c = (unsigned char)s->v.s[i];

		buf[k++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
	}
	if (k < s->n) {
		memcpy(buf + k, "...", 3);
		k += 3;
	}
	buf[k] = '\0';
	return buf;
}

/* "where.key", or "key" at the top. */
static const char *
path(char *buf, const char *where, const char *key)
{
	snprintf(buf, PATH_LEN, "%s%s%s", where, where[0] != '\0' ? "." : "", key);
	return buf;
}

static const char *
type_wanted(enum json_type t)
{
	switch (t) {
	case JSON_BOOL:
		return "true or false";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	case JSON_OBJECT:
		return "an object";
	default:
		return "null";
	}
}

static const struct json_value *
member(struct reader *rd, const struct json_value *obj, const char *where, const char *key,
    enum json_type type)
{
	const struct json_value *v = json_get(obj, key);
	char p[PATH_LEN];

	if (v == NULL) {
		if (where[0] == '\0')
			say(rd, "the report has no \"%s\"", key);
		else
			say(rd, "%s has no \"%s\"", where, key);
		return NULL;
	}
	if (v->type != type) {
		say(rd, "%s: %s, expected %s", path(p, where, key), json_type_name(v),
		    type_wanted(type));
		return NULL;
	}
	return v;
}

/*
 * A count: a whole number from 0 to 2^64 - 1.  One written with a
 * fraction or an exponent is taken while it is exact (below 2^53).
 */
static int
to_count(struct reader *rd, const struct json_value *v, const char *what, uint64_t *out)
{
	double d;

	if (v->type != JSON_NUMBER)
		return BAD(rd, "%s: %s, expected a count", what, json_type_name(v));
	if (v->exact) {
		*out = v->v.u;
		return 0;
	}
	d = v->v.d;
	if (d < 0)
		return BAD(rd, "%s: %g is negative, expected a count", what, d);
	if (d != (double)(uint64_t)d && d < EXACT_DOUBLE_MAX)
		return BAD(rd, "%s: %g is not a whole number", what, d);
	if (d >= EXACT_DOUBLE_MAX)
		return BAD(
		    rd, "%s: %g is not exact: write a count above 2^53 with its digits", what, d);
	*out = (uint64_t)d;
	return 0;
}

static int
get_count(struct reader *rd, const struct json_value *obj, const char *where, const char *key,
    uint64_t *out)
{
	const struct json_value *v = member(rd, obj, where, key, JSON_NUMBER);
	char p[PATH_LEN];

	return v == NULL ? -1 : to_count(rd, v, path(p, where, key), out);
}

/* A number of 0 or more: a time, a rate. */
static int
get_real(struct reader *rd, const struct json_value *obj, const char *where, const char *key,
    double *out)
{
	const struct json_value *v = member(rd, obj, where, key, JSON_NUMBER);
	char p[PATH_LEN];

	if (v == NULL)
		return -1;
	*out = json_number(v);
	if (*out < 0)
		return BAD(rd, "%s: %g is negative", path(p, where, key), *out);
	return 0;
}

static int
get_bool(
    struct reader *rd, const struct json_value *obj, const char *where, const char *key, int *out)
{
	const struct json_value *v = member(rd, obj, where, key, JSON_BOOL);

	if (v == NULL)
		return -1;
	*out = v->v.b;
	return 0;
}

/* A key that older reports do not have: false without it. */
static int
get_optional_bool(struct reader *rd, const struct json_value *obj, const char *key, int *out)
{
	*out = 0;
	return json_get(obj, key) == NULL ? 0 : get_bool(rd, obj, "", key, out);
}

/* A string without NUL bytes, copied. */
static int
get_string(
    struct reader *rd, const struct json_value *obj, const char *where, const char *key, char **out)
{
	const struct json_value *v = member(rd, obj, where, key, JSON_STRING);
	char p[PATH_LEN];

	if (v == NULL)
		return -1;
	if (strlen(v->v.s) != v->n)
		return BAD(rd, "%s: a string with a NUL byte", path(p, where, key));
	if ((*out = strdup(v->v.s)) == NULL)
		return BAD(rd, "out of memory");
	return 0;
}

static void
add(uint64_t *dst, uint64_t v, int *overflow)
{
	if (__builtin_add_overflow(*dst, v, dst)) {
		*dst = UINT64_MAX;
		*overflow = 1;
	}
}

static void
counts_free(struct counts *c)
{
	for (size_t i = 0; i < c->n; i++)
		free((char *)c->v[i].name); /* strdup()'d by counts_add() */
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* n more of name, a new entry at the end if it is new; -1: out of memory. */
static int
counts_add(struct counts *c, const char *name, uint64_t n, int *overflow)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0) {
			add(&c->v[i].n, n, overflow);
			return 0;
		}
	if (c->n == c->cap) {
		size_t cap = c->cap == 0 ? 16 : c->cap * 2;
		struct report_count *v = realloc(c->v, cap * sizeof *v);

		if (v == NULL)
			return -1;
		c->v = v;
		c->cap = cap;
	}
	if ((c->v[c->n].name = strdup(name)) == NULL)
		return -1;
	c->v[c->n++].n = n;
	return 0;
}

/* An object of counts by name: "errors", "other_errno". */
static int
read_counts(struct reader *rd, const struct json_value *obj, const char *where, const char *key,
    struct counts *out)
{
	const struct json_value *v = member(rd, obj, where, key, JSON_OBJECT);
	char p[PATH_LEN], q[PATH_LEN + 64], name[64];
	int overflow = 0;

	if (v == NULL)
		return -1;
	path(p, where, key);
	for (uint32_t i = 0; i < v->n; i++) {
		const struct json_value *k = &v->v.members[i].key;
		uint64_t n;

		if (k->n == 0 || strlen(k->v.s) != k->n)
			return BAD(rd, "%s: \"%s\" is no name", p, shown(k, name, sizeof name));
		snprintf(q, sizeof q, "%s.%s", p, shown(k, name, sizeof name));
		if (to_count(rd, &v->v.members[i].value, q, &n) == -1)
			return -1;
		if (counts_add(out, k->v.s, n, &overflow) == -1)
			return BAD(rd, "out of memory");
	}
	return 0;
}

static int
bucket_compare(const void *a, const void *b)
{
	const struct hist_bucket *x = a, *y = b;

	return x->index < y->index ? -1 : x->index > y->index;
}

/*
 * A histogram: {"unit":"ns","sub_bits":7,"count","sum","min","max",
 * "sumsq","buckets":[[index,count],...]}.  Its numbers must agree: the
 * buckets hold count values, min and max fall in the first and the last
 * bucket, and the sum (unless it saturated) lies between count x min and
 * count x max.
 */
static int
read_hist(struct reader *rd, const struct json_value *obj, const char *where, const char *key,
    struct hist_packed *h)
{
	const struct json_value *v = member(rd, obj, where, key, JSON_OBJECT), *b, *unit;
	char p[PATH_LEN], q[PATH_LEN + 32], buf[64];
	uint64_t sub_bits, total = 0, low, high;
	int overflow = 0;

	if (v == NULL)
		return -1;
	path(p, where, key);
	if ((unit = member(rd, v, p, "unit", JSON_STRING)) == NULL)
		return -1;
	if (unit->n != 2 || memcmp(unit->v.s, "ns", 2) != 0)
		return BAD(rd, "%s.unit: \"%s\", expected \"ns\"", p, shown(unit, buf, sizeof buf));
	if (get_count(rd, v, p, "sub_bits", &sub_bits) == -1)
		return -1;
	if (sub_bits != HIST_SUB_BITS)
		return BAD(rd,
		    "%s.sub_bits: %llu: histograms of another layout (this synack-load has "
		    "sub_bits %d) do not merge",
		    p, (unsigned long long)sub_bits, HIST_SUB_BITS);
	if (get_count(rd, v, p, "count", &h->count) == -1 ||
	    get_count(rd, v, p, "sum", &h->sum) == -1 ||
	    get_count(rd, v, p, "min", &h->min) == -1 ||
	    get_count(rd, v, p, "max", &h->max) == -1 ||
	    get_real(rd, v, p, "sumsq", &h->sumsq) == -1 ||
	    (b = member(rd, v, p, "buckets", JSON_ARRAY)) == NULL)
		return -1;
	if (b->n > 0 && (h->b = calloc(b->n, sizeof *h->b)) == NULL)
		return BAD(rd, "out of memory");
	for (uint32_t i = 0; i < b->n; i++) {
		const struct json_value *pair = &b->v.items[i];
		uint64_t index, count;

		snprintf(q, sizeof q, "%s.buckets[%u]", p, i);
		if (pair->type != JSON_ARRAY || pair->n != 2)
			return BAD(rd, "%s: %s, expected [index, count]", q,
			    pair->type == JSON_ARRAY ? "an array of another length"
						     : json_type_name(pair));
		if (to_count(rd, &pair->v.items[0], q, &index) == -1 ||
		    to_count(rd, &pair->v.items[1], q, &count) == -1)
			return -1;
		if (index >= HIST_BUCKETS)
			return BAD(rd, "%s: bucket index %llu is out of range (0 to %d)", q,
			    (unsigned long long)index, HIST_BUCKETS - 1);
		if (count == 0)
			continue;
		h->b[h->n].index = (uint32_t)index;
		h->b[h->n++].count = count;
		add(&total, count, &overflow);
	}
	if (h->n > 1) /* qsort() wants an array, even of nothing */
		qsort(h->b, h->n, sizeof *h->b, bucket_compare);
	for (size_t i = 1; i < h->n; i++)
		if (h->b[i].index == h->b[i - 1].index)
			return BAD(rd, "%s.buckets: bucket %u twice", p, h->b[i].index);
	if (overflow || total != h->count)
		return BAD(rd, "%s: the buckets hold %s%llu values, \"count\" says %llu", p,
		    overflow ? "more than " : "", (unsigned long long)total,
		    (unsigned long long)h->count);
	if (h->count == 0) {
		h->min = UINT64_MAX; /* as hist_init() leaves it */
		h->max = 0;
		return 0;
	}
	if (h->min > h->max)
		return BAD(rd, "%s: min %llu is above max %llu", p, (unsigned long long)h->min,
		    (unsigned long long)h->max);
	if (hist_bucket_index(h->min) != h->b[0].index)
		return BAD(rd, "%s: min %llu is not in the first bucket (%u)", p,
		    (unsigned long long)h->min, h->b[0].index);
	if (hist_bucket_index(h->max) != h->b[h->n - 1].index)
		return BAD(rd, "%s: max %llu is not in the last bucket (%u)", p,
		    (unsigned long long)h->max, h->b[h->n - 1].index);
	if (h->sum != UINT64_MAX &&
	    ((!__builtin_mul_overflow(h->min, h->count, &low) && h->sum < low) ||
		(!__builtin_mul_overflow(h->max, h->count, &high) && h->sum > high)))
		return BAD(rd, "%s: sum %llu is not between count x min and count x max", p,
		    (unsigned long long)h->sum);
	return 0;
}

static void
row_free(struct report_interval *r)
{
	for (size_t i = 0; i < r->nerrors; i++)
		free((char *)r->errors[i].name); /* strdup()'d by counts_add() */
	free(r->errors);
	hist_packed_free(&r->latency);
}

static int
read_row(
    struct reader *rd, const struct json_value *v, const char *where, struct report_interval *r)
{
	struct counts errors = { NULL, 0, 0 };
	uint64_t t;
	int rc;

	if (v->type != JSON_OBJECT)
		return BAD(rd, "%s: %s, expected an object", where, json_type_name(v));
	if (get_count(rd, v, where, "t", &t) == -1 ||
	    get_real(rd, v, where, "elapsed_s", &r->elapsed_s) == -1 ||
	    get_count(rd, v, where, "open", &r->open) == -1 ||
	    get_count(rd, v, where, "attempted", &r->attempted) == -1 ||
	    get_count(rd, v, where, "established", &r->established) == -1 ||
	    get_count(rd, v, where, "requests", &r->requests) == -1 ||
	    get_count(rd, v, where, "bytes_sent", &r->bytes_sent) == -1 ||
	    get_count(rd, v, where, "bytes_received", &r->bytes_received) == -1)
		return -1;
	if (t > INT64_MAX / 2)
		return BAD(rd, "%s.t: %llu is no unix time", where, (unsigned long long)t);
	r->t = (int64_t)t;
	rc = read_counts(rd, v, where, "errors", &errors);
	r->errors = errors.v;
	r->nerrors = errors.n;
	if (rc == -1)
		return -1;
	return read_hist(rd, v, where, "histogram", &r->latency);
}

static int
read_options(struct reader *rd, const struct json_value *root, struct report *r)
{
	const struct json_value *o = member(rd, root, "", "options", JSON_OBJECT), *v;
	static const double defaults[] = { 50, 90, 99, 99.9, 99.99 };
	size_t len = 0;
	FILE *f;

	if (o == NULL)
		return -1;
	r->npercentiles = (int)(sizeof defaults / sizeof defaults[0]);
	memcpy(r->percentiles, defaults, sizeof defaults);
	if ((v = json_get(o, "percentiles")) != NULL) {
		if (v->type != JSON_ARRAY || v->n == 0 || v->n > PERCENTILES_MAX)
			return BAD(rd,
			    "options.percentiles: %s, expected an array of 1 to %d numbers",
			    v->type == JSON_ARRAY ? "an array of another length"
						  : json_type_name(v),
			    PERCENTILES_MAX);
		for (uint32_t i = 0; i < v->n; i++) {
			double q = json_number(&v->v.items[i]);

			if (v->v.items[i].type != JSON_NUMBER || !(q > 0 && q <= 100))
				return BAD(rd,
				    "options.percentiles[%u]: expected a number above 0 and at "
				    "most 100",
				    i);
			r->percentiles[i] = q;
		}
		r->npercentiles = (int)v->n;
	}
	r->max_error_rate = 0.01;
	if ((v = json_get(o, "max_error_rate")) != NULL) {
		r->max_error_rate = json_number(v);
		if (v->type != JSON_NUMBER || !(r->max_error_rate >= 0 && r->max_error_rate <= 1))
			return BAD(rd, "options.max_error_rate: expected a number from 0 to 1");
	}
	if ((v = json_get(o, "warmup_s")) != NULL) {
		r->warmup_s = json_number(v);
		if (v->type != JSON_NUMBER || !(r->warmup_s >= 0))
			return BAD(rd, "options.warmup_s: expected a number of 0 or more");
	}
	if ((f = open_memstream(&r->options, &len)) == NULL)
		return BAD(rd, "out of memory");
	json_write(f, o);
	if (fclose(f) != 0)
		return BAD(rd, "out of memory");
	return 0;
}

static int
read_schedule(struct reader *rd, const struct json_value *root, struct report *r)
{
	const struct json_value *s = json_get(root, "schedule");

	if (s == NULL)
		return BAD(rd, "the report has no \"schedule\"");
	if (s->type == JSON_NULL)
		return 0;
	if (s->type != JSON_OBJECT)
		return BAD(rd, "schedule: %s, expected null or an object", json_type_name(s));
	r->scheduled = 1;
	if (get_real(rd, s, "schedule", "rate", &r->rate) == -1 ||
	    get_count(rd, s, "schedule", "due", &r->due) == -1 ||
	    get_count(rd, s, "schedule", "sent", &r->sent) == -1 ||
	    get_bool(rd, s, "schedule", "kept", &r->kept) == -1)
		return -1;
	return 0;
}

/*
 * Everything merge adds up or compares must be there with its type; what
 * it computes again (rates, the latency summaries) is not read.
 */
static int
read_report(struct reader *rd, const struct json_value *root, struct report *r)
{
	const struct json_value *v, *conn, *hists, *rows;
	char buf[64], where[64];

	if (root->type != JSON_OBJECT)
		return BAD(rd, "%s, expected an object (the report of synack-load --json)",
		    json_type_name(root));
	if (json_get(root, "histograms") == NULL && json_get(root, "latency_us") != NULL)
		return BAD(rd,
		    "the report has no \"histograms\" (from an older synack-load?): "
		    "without them latencies do not merge exactly");
	if ((v = member(rd, root, "", "mode", JSON_STRING)) == NULL)
		return -1;
	if ((r->mode = mode_find(v->v.s)) == NULL || strlen(v->v.s) != v->n)
		return BAD(rd, "mode \"%s\": not a mode of synack-load (%s)",
		    shown(v, buf, sizeof buf), mode_names());
	if ((v = member(rd, root, "", "model", JSON_STRING)) == NULL)
		return -1;
	if (strcmp(v->v.s, "closed") == 0 && v->n == 6)
		r->model = "closed";
	else if (strcmp(v->v.s, "open") == 0 && v->n == 4)
		r->model = "open";
	else
		return BAD(
		    rd, "model \"%s\": expected \"closed\" or \"open\"", shown(v, buf, sizeof buf));
	if (get_string(rd, root, "", "target", &r->target) == -1 ||
	    get_count(rd, root, "", "threads", &r->threads) == -1 ||
	    get_count(rd, root, "", "size", &r->size) == -1 ||
	    get_real(rd, root, "", "duration_s", &r->duration_s) == -1 ||
	    get_bool(rd, root, "", "interrupted", &r->interrupted) == -1 ||
	    get_optional_bool(rd, root, "ended_in_warmup", &r->ended_in_warmup) == -1 ||
	    get_string(rd, root, "", "start_time", &r->start_time) == -1 ||
	    get_real(rd, root, "", "start_unix", &r->start_unix) == -1)
		return -1;
	if ((conn = member(rd, root, "", "connections", JSON_OBJECT)) == NULL ||
	    get_count(rd, conn, "connections", "requested", &r->requested) == -1 ||
	    get_count(rd, conn, "connections", "attempted", &r->attempted) == -1 ||
	    get_count(rd, conn, "connections", "established", &r->established) == -1)
		return -1;
	if (read_counts(rd, root, "", "errors", &r->errors) == -1 ||
	    read_counts(rd, root, "", "other_errno", &r->other_errno) == -1 ||
	    get_count(rd, root, "", "requests", &r->requests) == -1 ||
	    get_count(rd, root, "", "bytes_sent", &r->bytes_sent) == -1 ||
	    get_count(rd, root, "", "bytes_received", &r->bytes_received) == -1 ||
	    read_options(rd, root, r) == -1 || read_schedule(rd, root, r) == -1)
		return -1;
	if ((hists = member(rd, root, "", "histograms", JSON_OBJECT)) == NULL ||
	    read_hist(rd, hists, "histograms", "latency", &r->latency) == -1 ||
	    read_hist(rd, hists, "histograms", "connect", &r->connect) == -1 ||
	    read_hist(rd, hists, "histograms", "lag", &r->lag) == -1)
		return -1;
	if ((rows = member(rd, root, "", "intervals", JSON_ARRAY)) == NULL)
		return -1;
	if (rows->n > 0 && (r->rows = calloc(rows->n, sizeof *r->rows)) == NULL)
		return BAD(rd, "out of memory");
	for (uint32_t i = 0; i < rows->n; i++) {
		snprintf(where, sizeof where, "intervals[%u]", i);
		r->nrows++;
		if (read_row(rd, &rows->v.items[i], where, &r->rows[i].r) == -1)
			return -1;
	}
	return 0;
}

static void
report_free(struct report *r)
{
	free(r->target);
	free(r->start_time);
	free(r->options);
	counts_free(&r->errors);
	counts_free(&r->other_errno);
	hist_packed_free(&r->latency);
	hist_packed_free(&r->connect);
	hist_packed_free(&r->lag);
	for (size_t i = 0; i < r->nrows; i++)
		row_free(&r->rows[i].r);
	free(r->rows);
}

/* The whole file, at most MERGE_MAX_SIZE bytes; "-" is standard input. */
static int
read_file(struct reader *rd, char **out, size_t *len)
{
	int fd = strcmp(rd->name, "-") == 0 ? STDIN_FILENO : open(rd->name, O_RDONLY | O_CLOEXEC);
	size_t cap = 65536, n = 0;
	struct stat st;
	char *buf = NULL, *p;
	ssize_t got;

	if (fd == -1)
		return BAD(rd, "%s", strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if ((uintmax_t)st.st_size > MERGE_MAX_SIZE) {
			say(rd, "%jd bytes, more than the %zu MiB a report may have",
			    (intmax_t)st.st_size, MERGE_MAX_SIZE >> 20);
			goto fail;
		}
		cap = (size_t)st.st_size + 1;
	}
	if ((buf = malloc(cap)) == NULL) {
		say(rd, "out of memory");
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			cap = cap * 2 > MERGE_MAX_SIZE + 1 ? MERGE_MAX_SIZE + 1 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				say(rd, "out of memory");
				goto fail;
			}
			buf = p;
		}
		got = read(fd, buf + n, cap - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			say(rd, "%s", strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > MERGE_MAX_SIZE) {
			say(rd, "more than the %zu MiB a report may have", MERGE_MAX_SIZE >> 20);
			goto fail;
		}
	}
	if (fd != STDIN_FILENO)
		close(fd);
	*out = buf;
	*len = n;
	return 0;
fail:
	if (fd != STDIN_FILENO)
		close(fd);
	free(buf);
	return -1;
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
		add(&n, c->v[i].n, &overflow);
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
	add(&m->threads, r->threads, &m->overflow);
	add(&m->requested, r->requested, &m->overflow);
	add(&m->attempted, r->attempted, &m->overflow);
	add(&m->established, r->established, &m->overflow);
	add(&m->requests, r->requests, &m->overflow);
	add(&m->bytes_sent, r->bytes_sent, &m->overflow);
	add(&m->bytes_received, r->bytes_received, &m->overflow);
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
	if (r->scheduled) {
		m->kept = m->scheduled ? m->kept && r->kept : r->kept;
		m->scheduled = 1;
		m->rate += r->rate;
		add(&m->due, r->due, &m->overflow);
		add(&m->sent, r->sent, &m->overflow);
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
	struct json_limits limits = { MERGE_MAX_SIZE, MERGE_MAX_DEPTH };
	struct json_error jerr;
	struct json_doc *doc;
	struct report r;
	char *buf = NULL, where[sizeof jerr.msg + 32];
	size_t len = 0;
	int rc;

	if (read_file(rd, &buf, &len) == -1)
		return -1;
	doc = json_parse(buf, len, &limits, &jerr);
	free(buf);
	if (doc == NULL)
		return BAD(rd, "not JSON: %s", json_error_str(&jerr, where, sizeof where));
	memset(&r, 0, sizeof r);
	rc = read_report(rd, json_root(doc), &r);
	json_free(doc);
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
			add(&out->open, r->open, &m->overflow);
			add(&out->attempted, r->attempted, &m->overflow);
			add(&out->established, r->established, &m->overflow);
			add(&out->requests, r->requests, &m->overflow);
			add(&out->bytes_sent, r->bytes_sent, &m->overflow);
			add(&out->bytes_received, r->bytes_received, &m->overflow);
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
	    (m->scratch = malloc(sizeof *m->scratch)) == NULL)
		return -1;
	hist_init(m->latency);
	hist_init(m->connect);
	hist_init(m->lag);
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
	free(m->options);
	free(m->start_time);
	free(m->latency);
	free(m->connect);
	free(m->lag);
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

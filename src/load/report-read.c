/* SPDX-License-Identifier: ISC */
/*
 * report-read.c: a --json report of synack-load read back and checked,
 * for `synack-load merge`.
 *
 * Everything merge adds up or compares must be there with its type, and
 * agree (a histogram's buckets with its count, its minimum and maximum
 * with its first and last bucket); what merge computes again (rates, the
 * latency summaries) is not read.  A report is read whole, at most 64 MiB,
 * and refused with its name, where and what is wrong.
 */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "report-read.h"

#define REPORT_MAX_DEPTH 32
#define EXACT_DOUBLE_MAX 9007199254740992.0 /* 2^53: a whole double above is not exact */
#define PATH_LEN 128

/* What is wrong with the report, after its name. */
void
reader_say(struct reader *rd, const char *fmt, ...)
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
			reader_say(rd, "the report has no \"%s\"", key);
		else
			reader_say(rd, "%s has no \"%s\"", where, key);
		return NULL;
	}
	if (v->type != type) {
		reader_say(rd, "%s: %s, expected %s", path(p, where, key), json_type_name(v),
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

/* A count that older reports do not have: 0 without it. */
static int
get_optional_count(struct reader *rd, const struct json_value *obj, const char *where,
    const char *key, uint64_t *out)
{
	*out = 0;
	return json_get(obj, key) == NULL ? 0 : get_count(rd, obj, where, key, out);
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

void
count_add(uint64_t *dst, uint64_t v, int *overflow)
{
	if (__builtin_add_overflow(*dst, v, dst)) {
		*dst = UINT64_MAX;
		*overflow = 1;
	}
}

void
counts_free(struct counts *c)
{
	for (size_t i = 0; i < c->n; i++)
		free((char *)c->v[i].name); /* strdup()'d by counts_add() */
	free(c->v);
	memset(c, 0, sizeof *c);
}

/* n more of name, a new entry at the end if it is new; -1: out of memory. */
int
counts_add(struct counts *c, const char *name, uint64_t n, int *overflow)
{
	for (size_t i = 0; i < c->n; i++)
		if (strcmp(c->v[i].name, name) == 0) {
			count_add(&c->v[i].n, n, overflow);
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
		count_add(&total, count, &overflow);
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

/* A histogram that older reports do not have: empty without it. */
static int
read_optional_hist(struct reader *rd, const struct json_value *obj, const char *where,
    const char *key, struct hist_packed *h)
{
	if (json_get(obj, key) != NULL)
		return read_hist(rd, obj, where, key, h);
	h->min = UINT64_MAX; /* as hist_init() leaves it */
	return 0;
}

/*
 * The connections by SYN retransmissions: every bucket this synack-load
 * knows, in order (none counted in an older report), and no other.
 */
/*
 * A UDP run's "datagrams": the counts, and the jitter as the sockets' sum
 * (the mean times the sockets, back in the units stats keeps it in), so
 * that a merge gives the mean over all the sockets.
 */
static int
read_dgram(struct reader *rd, const struct json_value *root, struct report *r)
{
	const struct json_value *g;
	struct dgram_counts *d = &r->dgram;
	double jitter_us = 0;

	if (!r->mode->dgram)
		return 0;
	if ((g = member(rd, root, "", "datagrams", JSON_OBJECT)) == NULL ||
	    get_count(rd, g, "datagrams", "sent", &d->sent) == -1 ||
	    get_count(rd, g, "datagrams", "lost", &d->lost) == -1 ||
	    get_count(rd, g, "datagrams", "late", &d->late) == -1 ||
	    get_count(rd, g, "datagrams", "duplicate", &d->duplicate) == -1 ||
	    get_count(rd, g, "datagrams", "reordered", &d->reordered) == -1 ||
	    get_optional_count(rd, g, "datagrams", "jitter_sockets", &d->jitter_conns) == -1)
		return -1;
	if (d->jitter_conns > 0 && get_real(rd, g, "datagrams", "jitter_us", &jitter_us) == -1)
		return -1;
	d->jitter16_sum = (uint64_t)(jitter_us * 1e3 * 16.0 * (double)d->jitter_conns + 0.5);
	return 0;
}

static int
read_syn_retrans(struct reader *rd, const struct json_value *root, struct report *r)
{
	int overflow = 0;

	for (unsigned i = 0; i < SYN_RETRANS_BUCKETS; i++)
		if (counts_add(&r->syn_retrans, stats_retrans_name(i), 0, &overflow) == -1)
			return BAD(rd, "out of memory");
	if (json_get(root, "syn_retrans") == NULL)
		return 0;
	if (read_counts(rd, root, "", "syn_retrans", &r->syn_retrans) == -1)
		return -1;
	if (r->syn_retrans.n != SYN_RETRANS_BUCKETS)
		return BAD(rd, "syn_retrans: \"%s\" is no bucket (0, 1, 2, 3+)",
		    r->syn_retrans.v[SYN_RETRANS_BUCKETS].name);
	return 0;
}

void
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
	    get_count(rd, v, where, "bytes_received", &r->bytes_received) == -1 ||
	    get_optional_count(rd, v, where, "syn_retransmits", &r->syn_retransmits) == -1 ||
	    get_optional_count(rd, v, where, "datagrams_lost", &r->dgram_lost) == -1)
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
	if ((v = json_get(o, "fastopen")) != NULL) {
		if (v->type != JSON_BOOL)
			return BAD(rd, "options.fastopen: expected true or false");
		r->fastopen = v->v.b;
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
	    read_hist(rd, hists, "histograms", "lag", &r->lag) == -1 ||
	    read_optional_hist(rd, hists, "histograms", "connect_no_retrans", &r->connect_clean) ==
		-1 ||
	    read_optional_hist(rd, hists, "histograms", "connect_retrans", &r->connect_retrans) ==
		-1 ||
	    read_optional_hist(rd, hists, "histograms", "handshake_rtt", &r->rtt) == -1)
		return -1;
	if (read_syn_retrans(rd, root, r) == -1 ||
	    get_optional_count(rd, root, "", "syn_data", &r->syn_data) == -1 ||
	    read_dgram(rd, root, r) == -1)
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

void
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
	counts_free(&r->syn_retrans);
	hist_packed_free(&r->connect_clean);
	hist_packed_free(&r->connect_retrans);
	hist_packed_free(&r->rtt);
	for (size_t i = 0; i < r->nrows; i++)
		row_free(&r->rows[i].r);
	free(r->rows);
}

/* The whole file, at most REPORT_MAX_SIZE bytes; "-" is standard input. */
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
		if ((uintmax_t)st.st_size > REPORT_MAX_SIZE) {
			reader_say(rd, "%jd bytes, more than the %zu MiB a report may have",
			    (intmax_t)st.st_size, REPORT_MAX_SIZE >> 20);
			goto fail;
		}
		cap = (size_t)st.st_size + 1;
	}
	if ((buf = malloc(cap)) == NULL) {
		reader_say(rd, "out of memory");
		goto fail;
	}
	for (;;) {
		if (n == cap) {
			cap = cap * 2 > REPORT_MAX_SIZE + 1 ? REPORT_MAX_SIZE + 1 : cap * 2;
			if ((p = realloc(buf, cap)) == NULL) {
				reader_say(rd, "out of memory");
				goto fail;
			}
			buf = p;
		}
		got = read(fd, buf + n, cap - n);
		if (got == -1 && errno == EINTR)
			continue;
		if (got == -1) {
			reader_say(rd, "%s", strerror(errno));
			goto fail;
		}
		if (got == 0)
			break;
		n += (size_t)got;
		if (n > REPORT_MAX_SIZE) {
			reader_say(
			    rd, "more than the %zu MiB a report may have", REPORT_MAX_SIZE >> 20);
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

int
report_read(struct reader *rd, struct report *r)
{
	struct json_limits limits = { REPORT_MAX_SIZE, REPORT_MAX_DEPTH };
	struct json_error jerr;
	struct json_doc *doc;
	char *buf = NULL, where[sizeof jerr.msg + 32];
	size_t len = 0;
	int rc;

	if (read_file(rd, &buf, &len) == -1)
		return -1;
	doc = json_parse(buf, len, &limits, &jerr);
	free(buf);
	if (doc == NULL)
		return BAD(rd, "not JSON: %s", json_error_str(&jerr, where, sizeof where));
	rc = read_report(rd, json_root(doc), r);
	json_free(doc);
	return rc;
}

/* SPDX-License-Identifier: ISC */
/*
 * test-report.c: a merged report is the same document as a run's.
 *
 * A run is made up here, without a network: open loop, two loaders,
 * errors of several causes and one errno under "other", a warm-up that
 * ended, three seconds of time series (one without a reply, one partial),
 * handshakes with and without SYN retransmissions, --fastopen.
 * Its --json report (report_run) is written to a file, and the merge of
 * that one file (merge_write) too.  The two documents are compared key
 * by key, recursively: the same keys at every level, with values of the
 * same type.  Then as text: the merge of one report is the report byte for
 * byte (so every number has the same format and the same value) but for
 * "merged_from" and "sources", which name the reports merged.  The
 * summaries agree the same way: the merge's is the run's, followed by the
 * reports merged.  The same for a UDP run (udp-stream, open loop): its
 * datagrams, their jitter and each second's datagrams lost.
 */
#include "config.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "load/json.h"
#include "load/load.h"

#define START_UNIX 1795953600.25

static struct run run;
static struct stats total;

static void
record(struct histogram *h, uint64_t first, uint64_t step, int n)
{
	for (int i = 0; i < n; i++)
		hist_record(h, first + (uint64_t)i * step);
}

/* Second k of the time series: n replies from first ns on. */
static void
add_interval(struct run *r, int k, double elapsed, int last, uint64_t n, uint64_t first)
{
	struct interval *iv = &r->intervals[r->nintervals++];
	struct histogram h;

	memset(iv, 0, sizeof *iv);
	hist_init(&h);
	record(&h, first, 997, (int)n);
	iv->t = (int64_t)START_UNIX + k;
	iv->elapsed_s = elapsed;
	iv->last = last;
	iv->open = 4;
	iv->attempted = k == 0 ? 5 : 0;
	iv->established = k == 0 ? 4 : 0;
	iv->requests = n;
	iv->bytes_sent = n * 64;
	iv->bytes_received = n * 64;
	iv->errors[LERR_RESET] = k == 2 ? 3 : 0;
	iv->errors[LERR_OTHER] = k == 0 ? 1 : 0;
	iv->syn_retransmits = k == 0 ? 4 : 0;
	assert_int_equal(hist_pack(&iv->latency, &h), 0);
}

static void
make_run(struct run *r, struct stats *s)
{
	static const double percentiles[] = { 50, 99.9, 12.5 };
	/* retransmissions, rtt (ns), syn_data, connect (ns) */
	static const struct handshake hs[] = {
		{ 0, 41000, 0, 45000 },
		{ 0, 0, 1, 50000 },
		{ 1, 52000, 1, 1003000000 },
		{ 3, 47000, 0, 7010000000 },
	};
	struct options *o = &r->opt;

	memset(r, 0, sizeof *r); /* each test's run is made anew */
	o->mode = &mode_rr;
	snprintf(o->target_str, sizeof o->target_str, "127.0.0.1:7");
	o->connections = 5;
	o->duration = 2.5;
	o->rate = 1000;
	o->warmup = 0.5;
	o->size = 64;
	o->threads = 2;
	o->connect_timeout_ms = 3000;
	o->request_timeout_ms = 10000;
	o->max_error_rate = 0.1;
	o->fastopen = 1;
	o->npercentiles = 3;
	memcpy(o->percentiles, percentiles, sizeof percentiles);
	r->nloaders = 2;
	r->start_unix = START_UNIX;
	r->measuring = 1;
	r->intervals = calloc(3, sizeof *r->intervals);
	assert_non_null(r->intervals);
	add_interval(r, 0, 1, 0, 800, 20000);
	add_interval(r, 1, 2, 0, 0, 0);
	add_interval(r, 2, 2.5, 1, 400, 35000);

	stats_init(s);
	s->attempted = 5;
	s->established = 4;
	s->requests = 1200;
	s->bytes_sent = s->bytes_received = 1200 * 64;
	s->errors[LERR_RESET] = 3;
	s->errors[LERR_OTHER] = 1;
	s->other_errno[EMFILE] = 1;
	s->due = 1210;
	s->sent = 1205;
	record(&s->latency, 20000, 997, 800);
	record(&s->latency, 35000, 997, 400);
	record(&s->connect, 40000, 5000, 4);
	record(&s->lag, 1000, 37, 1205);
	for (size_t i = 0; i < sizeof hs / sizeof hs[0]; i++)
		stats_record_handshake(s, &hs[i]);
}

/* The same run as udp-stream: datagrams, some lost each second, jitter. */
static void
make_udp_run(struct run *r, struct stats *s)
{
	make_run(r, s);
	r->opt.mode = &mode_udp_stream;
	r->opt.fastopen = 0;
	for (size_t i = 0; i < r->nintervals; i++)
		r->intervals[i].dgram_lost = 7 * i + 3;
	s->dgram.sent = 1300;
	s->dgram.lost = 3 + 10 + 17;
	s->dgram.late = 2;
	s->dgram.duplicate = 5;
	s->dgram.reordered = 4;
	s->dgram.jitter16_sum = 16 * 3 * 41500;
	s->dgram.jitter_conns = 3;
}

static void
free_run(struct run *r, struct stats *s)
{
	for (size_t i = 0; i < r->nintervals; i++)
		hist_packed_free(&r->intervals[i].latency);
	free(r->intervals);
	stats_destroy(s);
}

/* A run's report or a merge's, as one string (free it). */
static char *
run_text(int json)
{
	char *text = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	report_run(f, &run, &total, 2.5, json);
	assert_int_equal(fclose(f), 0);
	return text;
}

static char *
merge_text(const char *path, int json, int *rc)
{
	char *text = NULL, *names[1];
	size_t len = 0;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	names[0] = (char *)path;
	*rc = merge_write(f, names, 1, json);
	assert_int_equal(fclose(f), 0);
	return text;
}

/* The run's --json report in a file of its own; its path (free it). */
static char *
report_file(const char *json)
{
	const char *tmp = getenv("TMPDIR");
	char *path;
	int fd;

	assert_true(asprintf(&path, "%s/test-report.XXXXXX", tmp != NULL ? tmp : "/tmp") > 0);
	assert_true((fd = mkstemp(path)) != -1);
	assert_int_equal(write(fd, json, strlen(json)), (ssize_t)strlen(json));
	assert_int_equal(close(fd), 0);
	return path;
}

static struct json_doc *
parse(const char *text)
{
	struct json_error err;
	struct json_doc *doc = json_parse(text, strlen(text), NULL, &err);

	if (doc == NULL)
		fail_msg("not JSON: %u:%u: %s\n%s", err.line, err.column, err.msg, text);
	return doc;
}

/* a and b have the same keys at every level, and values of the same type. */
static void
same_shape(const struct json_value *a, const struct json_value *b, const char *where)
{
	char path[256];

	if (a->type != b->type)
		fail_msg("%s: %s in the run's report, %s in the merge's", where, json_type_name(a),
		    json_type_name(b));
	if (a->type == JSON_ARRAY) {
		if (a->n != b->n && strcmp(where, ".sources") != 0)
			fail_msg("%s: %u items in the run's report, %u in the merge's", where, a->n,
			    b->n);
		for (uint32_t i = 0; i < a->n && i < b->n; i++) {
			snprintf(path, sizeof path, "%s[%u]", where, i);
			same_shape(&a->v.items[i], &b->v.items[i], path);
		}
		return;
	}
	if (a->type != JSON_OBJECT)
		return;
	for (uint32_t i = 0; i < a->n; i++) {
		const char *key = a->v.members[i].key.v.s;
		const struct json_value *v = json_get(b, key);

		snprintf(path, sizeof path, "%s.%s", where, key);
		if (v == NULL)
			fail_msg("%s: in the run's report, not in the merge's", path);
		same_shape(&a->v.members[i].value, v, path);
	}
	for (uint32_t i = 0; i < b->n; i++)
		if (json_get(a, b->v.members[i].key.v.s) == NULL)
			fail_msg("%s.%s: in the merge's report, not in the run's", where,
			    b->v.members[i].key.v.s);
}

/* text with the first `from` replaced by `to` (free it). */
static char *
replaced(const char *text, const char *from, const char *to)
{
	const char *at = strstr(text, from);
	char *out;

	if (at == NULL)
		fail_msg("no %s in %s", from, text);
	assert_true(asprintf(&out, "%.*s%s%s", (int)(at - text), text, to, at + strlen(from)) > 0);
	return out;
}

static void
test_json(void **state)
{
	char *run_json = run_text(1), *path = report_file(run_json), *merged, *sources, *want;
	struct json_doc *a, *b;
	int rc;

	(void)state;
	merged = merge_text(path, 1, &rc);
	a = parse(run_json);
	b = parse(merged);
	same_shape(json_root(a), json_root(b), "");
	assert_int_equal(json_number(json_get(json_root(a), "merged_from")), 0);
	assert_int_equal(json_number(json_get(json_root(b), "merged_from")), 1);
	assert_int_equal(rc, json_number(json_get(json_root(a), "exit_code")));
	assert_int_equal(rc, LOAD_EXIT_ERRORS); /* 1 of 5 connections failed: over 10% */

	assert_true(asprintf(&sources, "\"merged_from\":1,\"sources\":[\"%s\"]", path) > 0);
	want = replaced(run_json, "\"merged_from\":0,\"sources\":[]", sources);
	assert_string_equal(merged, want);

	unlink(path);
	json_free(a);
	json_free(b);
	free(want);
	free(sources);
	free(merged);
	free(path);
	free(run_json);
}

static void
test_summary(void **state)
{
	char *run_json = run_text(1), *path = report_file(run_json), *run_human = run_text(0);
	char *merged, name[48];
	int rc;

	(void)state;
	merged = merge_text(path, 0, &rc);
	assert_int_equal(rc, LOAD_EXIT_ERRORS);
	if (strncmp(merged, run_human, strlen(run_human)) != 0)
		fail_msg("the merge's summary is not the run's:\n%s\n---\n%s", run_human, merged);
	assert_non_null(strstr(merged + strlen(run_human), "merged from 1 report,"));
	assert_non_null(strstr(run_human, "open loop at 1000 requests/s"));
	assert_non_null(strstr(run_human, " after a 0.5 s warm-up"));
	assert_non_null(strstr(run_human, stats_errno_name(EMFILE, name, sizeof name)));
	assert_non_null(strstr(run_human, "SYN retrans  0: 2, 1: 1, 2: 0, 3+: 1"));
	assert_non_null(strstr(run_human, "hint: 2 of 4 connections had their SYN retransmitted"));
	assert_non_null(strstr(run_human, "fastopen     2 of 4 connections sent"));
	assert_non_null(strstr(run_human, "no retrans"));
	unlink(path);
	free(merged);
	free(run_human);
	free(path);
	free(run_json);
}

static void
test_udp(void **state)
{
	char *run_json = run_text(1), *path = report_file(run_json), *run_human = run_text(0);
	char *merged, *merged_human, *sources, *want;
	int rc;

	(void)state;
	merged = merge_text(path, 1, &rc);
	assert_true(asprintf(&sources, "\"merged_from\":1,\"sources\":[\"%s\"]", path) > 0);
	want = replaced(run_json, "\"merged_from\":0,\"sources\":[]", sources);
	assert_string_equal(merged, want);
	assert_non_null(strstr(run_json,
	    "\"datagrams\":{\"sent\":1300,\"answered\":1200,\"lost\":30,\"loss_pct\":2.4390,"
	    "\"late\":2,\"duplicate\":5,\"reordered\":4,\"jitter_us\":41.500,"
	    "\"jitter_sockets\":3}"));
	assert_non_null(strstr(run_json, "\"datagrams_lost\":17,"));

	merged_human = merge_text(path, 0, &rc);
	if (strncmp(merged_human, run_human, strlen(run_human)) != 0)
		fail_msg(
		    "the merge's summary is not the run's:\n%s\n---\n%s", run_human, merged_human);
	assert_non_null(strstr(run_human,
	    "datagrams    1300 sent, 1200 answered, 30 lost (loss 2.44%), 2 late, 5 duplicate, "
	    "4 reordered\n"));
	assert_non_null(strstr(run_human,
	    "open loop at 1000 datagrams/s, latency from each "
	    "datagram's actual send\n"));
	unlink(path);
	free(merged_human);
	free(want);
	free(sources);
	free(merged);
	free(run_human);
	free(path);
	free(run_json);
}

static int
setup(void **state)
{
	(void)state;
	make_run(&run, &total);
	return 0;
}

static int
setup_udp(void **state)
{
	(void)state;
	make_udp_run(&run, &total);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	free_run(&run, &total);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_summary, setup, teardown),
		cmocka_unit_test_setup_teardown(test_udp, setup_udp, teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

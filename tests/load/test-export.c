/* SPDX-License-Identifier: ISC */
/*
 * test-export.c: the writers of export.c and the parsers of timewait.c.
 *
 * The .hgrm text has HdrHistogram's layout to the column: the header and
 * a blank line, rows of value (3 decimals), percentile (a fraction, 12
 * decimals), total count and 1/(1-percentile), the ticks 0%, 10% ... 50%,
 * 55% ... halving the distance to 100% every 5 ticks, a last 100% row of
 * three columns, and the three "#[...]" lines.  The CSV header is the
 * documented one and a row has its fields in that order.  /proc's
 * sockstat and port range parse, and the TIME_WAIT threshold is 80%.
 */
#include "config.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "load/load.h"

/* What a writer wrote, as one string (free it). */
struct capture {
	char *text;
	size_t len;
	FILE *f;
};

static void
capture_open(struct capture *c)
{
	c->text = NULL;
	c->len = 0;
	c->f = open_memstream(&c->text, &c->len);
	assert_non_null(c->f);
}

static char *
capture_close(struct capture *c)
{
	assert_int_equal(fclose(c->f), 0);
	return c->text;
}

/* The lines of text, split in place; returns how many. */
static int
split_lines(char *text, char **lines, int max)
{
	int n = 0;

	while (*text != '\0' && n < max) {
		char *nl = strchr(text, '\n');

		assert_non_null(nl); /* every line ends with a newline */
		*nl = '\0';
		lines[n++] = text;
		text = nl + 1;
	}
	return n;
}

#define HGRM_HEADER "       Value     Percentile TotalCount 1/(1-Percentile)"

static void
test_hgrm_layout(void **state)
{
	/* HdrHistogram's first ticks with 5 per half distance */
	static const double ticks[] = { 0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5,
		85, 87.5, 88.75, 90, 91.25, 92.5, 93.75, 94.375, 95, 95.625, 96.25, 96.875 };
	struct histogram *h = malloc(sizeof *h);
	struct capture c;
	char *lines[400] = { NULL }, *text;
	int n, rows;

	(void)state;
	assert_non_null(h);
	hist_init(h);
	for (uint64_t v = 1; v <= 100; v++)
		hist_record(h, v); /* below 128: every value its own bucket */
	capture_open(&c);
	export_hgrm(c.f, h, 1.0);
	text = capture_close(&c);
	n = split_lines(text, lines, 400);
	assert_true(n > 40);
	assert_string_equal(lines[0], HGRM_HEADER);
	assert_string_equal(lines[1], "");
	assert_string_equal(lines[2], "       1.000 0.000000000000          1           1.00");
	assert_string_equal(lines[3], "      10.000 0.100000000000         10           1.11");
	rows = n - 5;
	for (int i = 2; i < 2 + rows; i++) {
		double value, p, inv;
		unsigned long long count;
		int fields = sscanf(lines[i], "%lf %lf %llu %lf", &value, &p, &count, &inv);

		if (i == 2 + rows - 1) {
			/* 100%: no 1/(1-P) column */
			assert_int_equal(fields, 3);
			assert_true(p == 1.0);
			assert_true(value == 100.0);
			assert_int_equal(count, 100);
			assert_string_equal(lines[i], "     100.000 1.000000000000        100");
			continue;
		}
		assert_int_equal(fields, 4);
		if ((size_t)(i - 2) < sizeof ticks / sizeof ticks[0])
			assert_true(fabs(p - ticks[i - 2] / 100.0) < 1e-12);
		/* value k holds the k-th percent: the tick's value is ceil(P), at least 1 */
		assert_true(value == fmax(1.0, ceil(p * 100.0 - 1e-9)));
		assert_int_equal(count, (unsigned long long)value);
		assert_true(fabs(inv - 1.0 / (1.0 - p)) < 0.006);
		assert_true(strlen(lines[i]) == strlen(lines[2]));
	}
	/* the last tick before 100% is in the last bucket: its count is all */
	assert_true(strstr(lines[2 + rows - 2], "        100 ") != NULL);
	assert_string_equal(
	    lines[n - 3], "#[Mean    =       50.500, StdDeviation   =       28.866]");
	assert_string_equal(
	    lines[n - 2], "#[Max     =      100.000, Total count    =          100]");
	assert_string_equal(
	    lines[n - 1], "#[Buckets =           58, SubBuckets     =          128]");
	free(text);
	free(h);
}

static void
test_hgrm_units_and_edges(void **state)
{
	struct histogram *h = malloc(sizeof *h);
	struct capture c;
	char *lines[16] = { NULL }, *text;
	int n;

	(void)state;
	assert_non_null(h);

	/* empty: header and summary only */
	hist_init(h);
	capture_open(&c);
	export_hgrm(c.f, h, 1e6);
	text = capture_close(&c);
	n = split_lines(text, lines, 16);
	assert_int_equal(n, 5);
	assert_string_equal(lines[0], HGRM_HEADER);
	assert_string_equal(lines[2], "#[Mean    =        0.000, StdDeviation   =        0.000]");
	assert_string_equal(lines[3], "#[Max     =        0.000, Total count    =            0]");
	free(text);

	/* one value, in ns, shown in ms: the 0% row and the 100% row, at the exact max */
	hist_record_n(h, 1500000, 3);
	capture_open(&c);
	export_hgrm(c.f, h, 1e6);
	text = capture_close(&c);
	n = split_lines(text, lines, 16);
	assert_int_equal(n, 7);
	assert_string_equal(lines[2], "       1.500 0.000000000000          3           1.00");
	assert_string_equal(lines[3], "       1.500 1.000000000000          3");
	assert_string_equal(lines[4], "#[Mean    =        1.500, StdDeviation   =        0.000]");
	assert_string_equal(lines[5], "#[Max     =        1.500, Total count    =            3]");
	free(text);

	/* a value above 128 is shown as its bucket's upper bound, never above the max */
	hist_init(h);
	hist_record(h, 1000);
	hist_record(h, 5000);
	capture_open(&c);
	export_hgrm(c.f, h, 1.0);
	text = capture_close(&c);
	n = split_lines(text, lines, 16);
	assert_true(n >= 7);
	{
		double v;

		assert_int_equal(sscanf(lines[2], "%lf", &v), 1);
		assert_true(v == (double)hist_bucket_high(hist_bucket_index(1000)));
		assert_true(v >= 1000 && v <= 1000 * (1 + 1.0 / 64));
		assert_int_equal(sscanf(lines[n - 4], "%lf", &v), 1);
		assert_true(v == 5000.0);
	}
	free(text);
	free(h);
}

static void
test_csv(void **state)
{
	struct histogram *h = malloc(sizeof *h);
	struct interval iv;
	struct capture c;
	char *text;

	(void)state;
	assert_non_null(h);
	capture_open(&c);
	export_csv_header(c.f);
	text = capture_close(&c);
	assert_string_equal(text,
	    "time,elapsed_s,open,attempted,established,failures,timeout,refused,unreachable,"
	    "reset,addrnotavail,other,verify,closed,noreply,requests,bytes_sent,bytes_received,"
	    "p50_us,p99_us,max_us,syn_retrans,datagrams_lost\n");
	free(text);

	memset(&iv, 0, sizeof iv);
	iv.t = 1700000000;
	iv.elapsed_s = 2;
	iv.open = 10;
	iv.attempted = 3;
	iv.established = 2;
	iv.errors[LERR_REFUSED] = 1;
	iv.errors[LERR_NOREPLY] = 2;
	iv.requests = 5;
	iv.bytes_sent = 320;
	iv.bytes_received = 256;
	iv.syn_retransmits = 7;
	iv.dgram_lost = 9;
	capture_open(&c);
	export_csv_row(c.f, &iv); /* no latencies this second: empty fields */
	text = capture_close(&c);
	assert_string_equal(text, "1700000000,2,10,3,2,3,0,1,0,0,0,0,0,0,2,5,320,256,,,,7,9\n");
	free(text);

	hist_init(h);
	hist_record(h, 12345);
	hist_record(h, 100000);
	assert_int_equal(hist_pack(&iv.latency, h), 0);
	iv.p50 = hist_percentile(h, 50);
	iv.p99 = hist_percentile(h, 99);
	iv.elapsed_s = 2.5;
	iv.last = 1;
	capture_open(&c);
	export_csv_row(c.f, &iv);
	text = capture_close(&c);
	assert_string_equal(text,
	    "1700000000,2.500,10,3,2,3,0,1,0,0,0,0,0,0,2,5,320,256,12.345,"
	    "100.000,100.000,7,9\n");
	free(text);
	hist_packed_free(&iv.latency);
	free(h);
}

static void
test_json_hist(void **state)
{
	struct histogram *h = malloc(sizeof *h);
	struct capture c;
	char *text;

	(void)state;
	assert_non_null(h);
	hist_init(h);
	capture_open(&c);
	export_json_hist(c.f, h);
	text = capture_close(&c);
	assert_string_equal(text,
	    "{\"unit\":\"ns\",\"sub_bits\":7,\"count\":0,\"sum\":0,\"min\":0,"
	    "\"max\":0,\"sumsq\":0,\"buckets\":[]}");
	free(text);
	hist_record(h, 3);
	hist_record_n(h, 1000, 2);
	capture_open(&c);
	export_json_hist(c.f, h);
	text = capture_close(&c);
	assert_string_equal(text,
	    "{\"unit\":\"ns\",\"sub_bits\":7,\"count\":3,\"sum\":2003,"
	    "\"min\":3,\"max\":1000,\"sumsq\":2000009,\"buckets\":[[3,1],"
	    "[317,2]]}");
	assert_int_equal(hist_bucket_index(1000), 317);
	free(text);
	free(h);
}

static void
test_timewait(void **state)
{
	static const char sockstat[] = "sockets: used 26\n"
				       "TCP: inuse 11 orphan 0 tw 273 alloc 12 mem 2904\n"
				       "UDP: inuse 0 mem 0\n";
	uint64_t tw = 0, ports = 0;

	(void)state;
	assert_int_equal(timewait_parse_sockstat(sockstat, &tw), 0);
	assert_int_equal(tw, 273);
	assert_int_equal(timewait_parse_sockstat("TCP: inuse 1 orphan 0 tw 0 alloc 1\n", &tw), 0);
	assert_int_equal(tw, 0);
	assert_int_equal(timewait_parse_sockstat("sockets: used 1\nUDP: inuse 0\n", &tw), -1);
	assert_int_equal(timewait_parse_sockstat("TCP: inuse 1 tw x\n", &tw), -1);
	assert_int_equal(timewait_parse_sockstat("", &tw), -1);

	assert_int_equal(timewait_parse_port_range("32768\t60999\n", &ports), 0);
	assert_int_equal(ports, 28232);
	assert_int_equal(timewait_parse_port_range("1024 1024\n", &ports), 0);
	assert_int_equal(ports, 1);
	assert_int_equal(timewait_parse_port_range("60999 32768\n", &ports), -1);
	assert_int_equal(timewait_parse_port_range("bad\n", &ports), -1);

	/* 80% of 28232 is 22585.6 */
	assert_false(timewait_too_many(22585, 28232, 1));
	assert_true(timewait_too_many(22586, 28232, 1));
	assert_false(timewait_too_many(22586, 28232, 2)); /* two source addresses */
	assert_false(timewait_too_many(45171, 28232, 2)); /* 80% of 56464 is 45171.2 */
	assert_true(timewait_too_many(45172, 28232, 2));
	assert_false(timewait_too_many(0, 0, 1));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hgrm_layout),
		cmocka_unit_test(test_hgrm_units_and_edges),
		cmocka_unit_test(test_csv),
		cmocka_unit_test(test_json_hist),
		cmocka_unit_test(test_timewait),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

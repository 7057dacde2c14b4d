/* SPDX-License-Identifier: ISC */
/*
 * test-json.c: the JSON reader's promises.  Every value type reads back
 * as written, escapes and UTF-8 decode exactly, integers up to 2^64 - 1
 * are exact, and whatever RFC 8259 does not allow (or the reader's bounds
 * do not) is refused with the right line and column.  What json_write()
 * prints reads back as the same tree.
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

#include "load/json.h"

static struct json_doc *
parse_ok(const char *text)
{
	struct json_error err;
	struct json_doc *doc = json_parse(text, strlen(text), NULL, &err);

	if (doc == NULL)
		fail_msg("\"%s\" refused: %u:%u: %s", text, err.line, err.column, err.msg);
	return doc;
}

/* Refused, at line:column, with a message that contains `what`. */
static void
parse_bad_n(const char *text, size_t len, const struct json_limits *limits, unsigned line,
    unsigned column, const char *what)
{
	struct json_error err;
	struct json_doc *doc;

	memset(&err, 0, sizeof err);
	doc = json_parse(text, len, limits, &err);
	if (doc != NULL) {
		json_free(doc);
		fail_msg("\"%.*s\" accepted", (int)len, text);
	}
	if (err.line != line || err.column != column || strstr(err.msg, what) == NULL)
		fail_msg("\"%.*s\": got %u:%u: %s; want %u:%u: ...%s...", (int)len, text, err.line,
		    err.column, err.msg, line, column, what);
}

static void
parse_bad(const char *text, unsigned line, unsigned column, const char *what)
{
	parse_bad_n(text, strlen(text), NULL, line, column, what);
}

/* The value of a one-element array "[text]". */
static const struct json_value *
only(struct json_doc *doc)
{
	const struct json_value *root = json_root(doc);

	assert_int_equal(root->type, JSON_ARRAY);
	assert_int_equal(root->n, 1);
	return &root->v.items[0];
}

/* json_write() of text's tree. */
static char *
written(const char *text)
{
	struct json_doc *doc = parse_ok(text);
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	assert_int_equal(json_write(f, json_root(doc)), 0);
	fclose(f);
	json_free(doc);
	return out;
}

static void
test_values(void **state)
{
	struct json_doc *doc = parse_ok(" {\"a\": [1, \"two\", true, false, null, {}, []],\n"
					"\t\"b\": {\"c\": -2.5}, \"\": 0}\r\n");
	const struct json_value *root = json_root(doc), *a, *b;

	(void)state;
	assert_int_equal(root->type, JSON_OBJECT);
	assert_int_equal(root->n, 3);
	assert_string_equal(root->v.members[0].key.v.s, "a");
	assert_string_equal(root->v.members[1].key.v.s, "b");
	assert_int_equal(root->v.members[2].key.n, 0);
	a = json_get(root, "a");
	assert_non_null(a);
	assert_int_equal(a->type, JSON_ARRAY);
	assert_int_equal(a->n, 7);
	assert_int_equal(a->v.items[0].type, JSON_NUMBER);
	assert_true(a->v.items[0].exact);
	assert_int_equal(a->v.items[0].v.u, 1);
	assert_int_equal(a->v.items[1].type, JSON_STRING);
	assert_string_equal(a->v.items[1].v.s, "two");
	assert_int_equal(a->v.items[1].n, 3);
	assert_int_equal(a->v.items[2].type, JSON_BOOL);
	assert_true(a->v.items[2].v.b);
	assert_int_equal(a->v.items[3].type, JSON_BOOL);
	assert_false(a->v.items[3].v.b);
	assert_int_equal(a->v.items[4].type, JSON_NULL);
	assert_int_equal(a->v.items[5].type, JSON_OBJECT);
	assert_int_equal(a->v.items[5].n, 0);
	assert_int_equal(a->v.items[6].type, JSON_ARRAY);
	assert_int_equal(a->v.items[6].n, 0);
	b = json_get(root, "b");
	assert_non_null(b);
	assert_true(json_number(json_get(b, "c")) == -2.5);
	assert_false(json_get(b, "c")->exact);
	assert_non_null(json_get(root, ""));
	assert_null(json_get(root, "c"));
	assert_null(json_get(a, "a")); /* not an object */
	json_free(doc);

	doc = parse_ok("\"alone\"");
	assert_string_equal(json_root(doc)->v.s, "alone");
	json_free(doc);
	doc = parse_ok("42");
	assert_int_equal(json_root(doc)->v.u, 42);
	json_free(doc);
}

static void
test_numbers(void **state)
{
	static const struct {
		const char *text;
		int exact;
		uint64_t u;
		double d;
	} cases[] = {
		{ "0", 1, 0, 0 },
		{ "7", 1, 7, 7 },
		{ "18446744073709551615", 1, UINT64_MAX, 18446744073709551615.0 },
		{ "9007199254740993", 1, 9007199254740993ULL, 9007199254740992.0 },
		{ "18446744073709551616", 0, 0, 18446744073709551616.0 },
		{ "-0", 0, 0, -0.0 },
		{ "-1", 0, 0, -1 },
		{ "1.0", 0, 0, 1 },
		{ "1e3", 0, 0, 1000 },
		{ "1E+3", 0, 0, 1000 },
		{ "25e-1", 0, 0, 2.5 },
		{ "-0.125", 0, 0, -0.125 },
		{ "1e-400", 0, 0, 0 }, /* underflows to zero: still a number */
		{ "123456789012345678901234567890", 0, 0, 1.2345678901234568e29 },
	};
	char text[64];

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct json_doc *doc;
		const struct json_value *v;

		snprintf(text, sizeof text, "[%s]", cases[i].text);
		doc = parse_ok(text);
		v = only(doc);
		assert_int_equal(v->type, JSON_NUMBER);
		if (v->exact != cases[i].exact)
			fail_msg("%s: exact %d", cases[i].text, v->exact);
		if (cases[i].exact && v->v.u != cases[i].u)
			fail_msg("%s: got %llu", cases[i].text, (unsigned long long)v->v.u);
		if (json_number(v) != cases[i].d)
			fail_msg("%s: got %.17g", cases[i].text, json_number(v));
		json_free(doc);
	}
}

static void
test_bad_numbers(void **state)
{
	(void)state;
	parse_bad("[01]", 1, 2, "leading zero");
	parse_bad("[-01]", 1, 2, "leading zero");
	parse_bad("[1.]", 1, 4, "digit after '.'");
	parse_bad("[.5]", 1, 2, "expected a value, found '.'");
	parse_bad("[-]", 1, 3, "digit after '-'");
	parse_bad("[+1]", 1, 2, "found '+'");
	parse_bad("[1e]", 1, 4, "exponent");
	parse_bad("[1e+]", 1, 5, "exponent");
	parse_bad("[0x10]", 1, 3, "expected ',' or ']'");
	parse_bad("[NaN]", 1, 2, "found 'N'");
	parse_bad("[Infinity]", 1, 2, "found 'I'");
	parse_bad("[1e400]", 1, 2, "too large");
	parse_bad("[-1e400]", 1, 2, "too large");
}

static void
test_strings(void **state)
{
	static const struct {
		const char *text, *want;
		size_t len;
	} cases[] = {
		{ "[\"\"]", "", 0 },
		{ "[\"\\\"\\\\\\/\\b\\f\\n\\r\\t\"]", "\"\\/\b\f\n\r\t", 8 },
		{ "[\"\\u0041\\u00e9\\u20AC\"]", "A\xc3\xa9\xe2\x82\xac", 6 },
		{ "[\"\\ud83d\\ude00\"]", "\xf0\x9f\x98\x80", 4 },
		{ "[\"\\uDBFF\\uDFFF\"]", "\xf4\x8f\xbf\xbf", 4 },
		{ "[\"a\\u0000b\"]", "a\0b", 3 },
		{ "[\"\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80\"]",
		    "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9 },
		{ "[\"\xef\xbf\xbf\xf4\x8f\xbf\xbf\"]", "\xef\xbf\xbf\xf4\x8f\xbf\xbf", 7 },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct json_doc *doc = parse_ok(cases[i].text);
		const struct json_value *v = only(doc);

		assert_int_equal(v->type, JSON_STRING);
		assert_int_equal(v->n, cases[i].len);
		assert_memory_equal(v->v.s, cases[i].want, cases[i].len);
		assert_int_equal(v->v.s[v->n], '\0');
		json_free(doc);
	}
}

static void
test_bad_strings(void **state)
{
	(void)state;
	parse_bad("[\"abc", 1, 2, "does not end");
	parse_bad("[\"abc\\\"]", 1, 2, "does not end");
	parse_bad("[\"a\\", 1, 2, "does not end");
	parse_bad("[\"a\tb\"]", 1, 4, "control character");
	parse_bad("[\"a\nb\"]", 1, 4, "control character");
	parse_bad("[\"\\x\"]", 1, 3, "'\\' followed by 'x'");
	parse_bad("[\"\\u12\"]", 1, 3, "four hexadecimal digits");
	parse_bad("[\"\\u12G4\"]", 1, 3, "four hexadecimal digits");
	parse_bad("[\"\\udc00\"]", 1, 3, "low surrogate");
	parse_bad("[\"\\ud800\"]", 1, 3, "high surrogate");
	parse_bad("[\"\\ud800\\u0041\"]", 1, 3, "high surrogate");
	parse_bad("[\"\\ud800x\"]", 1, 3, "high surrogate");
	parse_bad("[\"\xc0\x80\"]", 1, 3, "invalid UTF-8");         /* overlong NUL */
	parse_bad("[\"\xe0\x80\xaf\"]", 1, 3, "invalid UTF-8");     /* overlong '/' */
	parse_bad("[\"\xed\xa0\x80\"]", 1, 3, "invalid UTF-8");     /* a surrogate */
	parse_bad("[\"\xf4\x90\x80\x80\"]", 1, 3, "invalid UTF-8"); /* above U+10FFFF */
	parse_bad("[\"\xf5\x80\x80\x80\"]", 1, 3, "invalid UTF-8");
	parse_bad("[\"\x80\"]", 1, 3, "invalid UTF-8");
	parse_bad("[\"\xc3\"]", 1, 3, "invalid UTF-8");
	parse_bad("[\"ab\xe2\x82\"]", 1, 5, "invalid UTF-8");
	parse_bad("[\"\xff\"]", 1, 3, "invalid UTF-8");
	parse_bad("\xef\xbb\xbf[]", 1, 1, "byte 0xef"); /* a byte order mark */
}

static void
test_structure_errors(void **state)
{
	(void)state;
	parse_bad("", 1, 1, "end of the input");
	parse_bad(" \n\t ", 2, 3, "end of the input");
	parse_bad("[1,2", 1, 5, "expected ',' or ']' in the array, found the end");
	parse_bad("[1,]", 1, 4, "expected a value, found ']'");
	parse_bad("[,1]", 1, 2, "expected a value, found ','");
	parse_bad("{\"a\":1,}", 1, 8, "expected a key");
	parse_bad("{\"a\" 1}", 1, 6, "expected ':'");
	parse_bad("{\"a\":}", 1, 6, "expected a value");
	parse_bad("{1:2}", 1, 2, "expected a key");
	parse_bad("{'a':1}", 1, 2, "expected a key");
	parse_bad("{\"a\":1 \"b\":2}", 1, 8, "expected ',' or '}' in the object");
	parse_bad("[1] 2", 1, 5, "'2' after the value");
	parse_bad("[1]\n\n  x", 3, 3, "'x' after the value");
	parse_bad_n("{}\0", 3, NULL, 1, 3, "byte 0x00 after the value");
	parse_bad("[tru]", 1, 2, "found 't'");
	parse_bad("[nul]", 1, 2, "found 'n'");
	parse_bad("[True]", 1, 2, "found 'T'");
	parse_bad("/* no */ []", 1, 1, "found '/'");
	parse_bad("{\n  \"mode\": \"rr\",\n  \"size\": 64,\n  \"x\": tru\n}", 4, 8, "found 't'");
	parse_bad("{\"a\":1,\"b\":2,\"a\":3}", 1, 1, "the key \"a\" twice");
	parse_bad("[{\"k\":{},\"k\":[]}]", 1, 2, "the key \"k\" twice");
	/* a NUL byte inside the buffer ends nothing: it is a byte like any */
	parse_bad_n("[1,\0]", 5, NULL, 1, 4, "found byte 0x00");
}

static void
test_duplicate_keys_in_a_big_object(void **state)
{
	enum { N = 5000 };
	char *text = malloc(N * 16 + 16), *p = text;
	struct json_doc *doc;

	(void)state;
	assert_non_null(text);
	*p++ = '{';
	for (int i = 0; i < N; i++)
		p += sprintf(p, "%s\"k%d\":%d", i == 0 ? "" : ",", i, i);
	strcpy(p, "}");
	doc = parse_ok(text);
	assert_int_equal(json_root(doc)->n, N);
	assert_int_equal(json_get(json_root(doc), "k4999")->v.u, 4999);
	json_free(doc);
	/* the same with the first key again at the end */
	strcpy(p, ",\"k0\":1}");
	parse_bad(text, 1, 1, "\"k0\" twice");
	free(text);
}

static void
test_depth_limit(void **state)
{
	struct json_limits limits = { 0, 4 };
	enum { DEEP = 100000 };
	char *deep = malloc(2 * DEEP + 1);
	struct json_doc *doc;

	(void)state;
	doc = json_parse("[[[{\"a\":1}]]]", 13, &limits, NULL);
	assert_non_null(doc);
	json_free(doc);
	parse_bad_n("[[[[[1]]]]]", 11, &limits, 1, 5, "deeper than 4");
	parse_bad_n("[{\"a\":[{\"b\":[]}]}]", 18, &limits, 1, 13, "deeper than 4");

	/* the default: 64 levels, and far deeper input is refused, not a crash */
	assert_non_null(deep);
	memset(deep, '[', DEEP);
	memset(deep + DEEP, ']', DEEP);
	deep[2 * DEEP] = '\0';
	doc = json_parse(deep, 2 * JSON_MAX_DEPTH_DEFAULT, NULL, NULL);
	assert_null(doc); /* the 65th level is one too many */
	memmove(deep + JSON_MAX_DEPTH_DEFAULT, deep + DEEP, JSON_MAX_DEPTH_DEFAULT);
	doc = json_parse(deep, 2 * JSON_MAX_DEPTH_DEFAULT, NULL, NULL);
	assert_non_null(doc);
	json_free(doc);
	memset(deep, '[', DEEP);
	parse_bad_n(deep, 2 * DEEP, NULL, 1, JSON_MAX_DEPTH_DEFAULT + 1, "deeper than 64");
	free(deep);
}

static void
test_size_limit(void **state)
{
	struct json_limits limits = { 10, 0 };
	struct json_doc *doc;

	(void)state;
	doc = json_parse("[1,2,3,45]", 10, &limits, NULL);
	assert_non_null(doc);
	json_free(doc);
	parse_bad_n("[1,2,3,456]", 11, &limits, 1, 1, "11 bytes, more than the limit of 10");
}

static void
test_big_array(void **state)
{
	enum { N = 300000 };
	char *text = malloc(N * 24 + 8), *p = text;
	struct json_doc *doc;
	const struct json_value *root;

	(void)state;
	assert_non_null(text);
	*p++ = '[';
	for (int i = 0; i < N; i++)
		p += sprintf(
		    p, "%s[%d,%llu]", i == 0 ? "" : ",", i, (unsigned long long)i * 1000003ULL);
	strcpy(p, "]");
	doc = parse_ok(text);
	root = json_root(doc);
	assert_int_equal(root->n, N);
	for (int i = 0; i < N; i += 997) {
		assert_int_equal(root->v.items[i].n, 2);
		assert_int_equal(root->v.items[i].v.items[0].v.u, i);
		assert_int_equal(root->v.items[i].v.items[1].v.u, (uint64_t)i * 1000003ULL);
	}
	json_free(doc);
	free(text);
}

static void
test_write(void **state)
{
	static const struct {
		const char *in, *out;
	} cases[] = {
		{ " { \"a\" : [ 1 , 2.5 , -3 ] , \"b\" : null } ",
		    "{\"a\":[1,2.5,-3],\"b\":null}" },
		{ "[true,false,{},[]]", "[true,false,{},[]]" },
		{ "[0.1,1e300,5.0,-0,18446744073709551615,1e-7]",
		    "[0.1,1e+300,5,-0,18446744073709551615,1e-07]" },
		{ "[\"\\u0001\\n\\t\\\"\\\\\\/\\u00e9\\u007f\"]",
		    "[\"\\u0001\\n\\t\\\"\\\\/\xc3\xa9\\u007f\"]" },
		{ "[\"a\\u0000b\"]", "[\"a\\u0000b\"]" },
		{ "{\"\\ud83d\\ude00\":1}", "{\"\xf0\x9f\x98\x80\":1}" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		char *out = written(cases[i].in), *again;

		if (strcmp(out, cases[i].out) != 0)
			fail_msg("%s: wrote %s, want %s", cases[i].in, out, cases[i].out);
		again = written(out);
		assert_string_equal(again, out);
		free(again);
		free(out);
	}
}

static void
test_error_string(void **state)
{
	struct json_error err;
	char buf[200];

	(void)state;
	assert_null(json_parse("{\n\"a\":x}", 8, NULL, &err));
	assert_int_equal(err.offset, 6);
	assert_string_equal(
	    json_error_str(&err, buf, sizeof buf), "2:5: expected a value, found 'x'");
	/* no room for the error: no crash */
	assert_null(json_parse("]", 1, NULL, NULL));
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_numbers),
		cmocka_unit_test(test_bad_numbers),
		cmocka_unit_test(test_strings),
		cmocka_unit_test(test_bad_strings),
		cmocka_unit_test(test_structure_errors),
		cmocka_unit_test(test_duplicate_keys_in_a_big_object),
		cmocka_unit_test(test_depth_limit),
		cmocka_unit_test(test_size_limit),
		cmocka_unit_test(test_big_array),
		cmocka_unit_test(test_write),
		cmocka_unit_test(test_error_string),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}

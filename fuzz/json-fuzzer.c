/* SPDX-License-Identifier: ISC */
/*
 * json-fuzzer.c: json_parse(), the reader of the reports that
 * `synack-load merge` combines.
 *
 * The first byte picks a depth limit (1 to 64), the rest is the text.  A
 * refusal must say where, at a line and column that match its offset in
 * the input.  What is accepted must be a well-formed tree (strings end in
 * NUL at their length, exact numbers are whole), and json_write() of it
 * must read back into a tree that writes the same text again.  And the
 * input's bytes, whatever they are, escaped by jsonesc() and quoted, must
 * read back as one string.
 */
#include "config.h"

#include <stdlib.h>
#include <string.h>

#include "common/jsonesc.h"
#include "fuzz.h"
#include "load/json.h"

static void
check_error(const struct json_error *e, const uint8_t *data, size_t size)
{
	unsigned line = 1, column = 1;

	FUZZ_CHECK(memchr(e->msg, '\0', sizeof e->msg) != NULL, "message not terminated");
	FUZZ_CHECK(e->msg[0] != '\0', "refused without a message");
	FUZZ_CHECK(strchr(e->msg, '\n') == NULL, "\"%s\": more than one line", e->msg);
	FUZZ_CHECK(e->offset <= size, "offset %zu past %zu bytes", e->offset, size);
	for (size_t i = 0; i < e->offset; i++) {
		if (data[i] == '\n') {
			line++;
			column = 1;
		} else
			column++;
	}
	FUZZ_CHECK(e->line == line && e->column == column, "%u:%u at offset %zu, not %u:%u",
	    e->line, e->column, e->offset, line, column);
}

static void
check_tree(const struct json_value *v, unsigned depth, unsigned max_depth)
{
	switch (v->type) {
	case JSON_NULL:
	case JSON_BOOL:
		break;
	case JSON_NUMBER:
		FUZZ_CHECK(!v->exact || json_number(v) == (double)v->v.u, "exact number");
		break;
	case JSON_STRING:
		FUZZ_CHECK(v->v.s != NULL && v->v.s[v->n] == '\0', "string not terminated");
		break;
	case JSON_ARRAY:
		FUZZ_CHECK(depth < max_depth, "depth %u, limit %u", depth, max_depth);
		for (uint32_t i = 0; i < v->n; i++)
			check_tree(&v->v.items[i], depth + 1, max_depth);
		break;
	case JSON_OBJECT:
		FUZZ_CHECK(depth < max_depth, "depth %u, limit %u", depth, max_depth);
		for (uint32_t i = 0; i < v->n; i++) {
			FUZZ_CHECK(v->v.members[i].key.type == JSON_STRING, "key of type %d",
			    v->v.members[i].key.type);
			check_tree(&v->v.members[i].key, depth + 1, max_depth);
			check_tree(&v->v.members[i].value, depth + 1, max_depth);
		}
		break;
	default:
		FUZZ_CHECK(0, "type %d", v->type);
	}
}

/* json_write() of doc, malloc'd. */
static char *
written(const struct json_doc *doc, size_t *len)
{
	char *out = NULL;
	FILE *f = open_memstream(&out, len);

	FUZZ_CHECK(f != NULL, "open_memstream");
	FUZZ_CHECK(json_write(f, json_root(doc)) == 0, "json_write failed");
	FUZZ_CHECK(fclose(f) == 0, "fclose");
	return out;
}

/* Any bytes, escaped, are a JSON string of valid UTF-8. */
static void
check_escape(const uint8_t *data, size_t size)
{
	size_t n = jsonesc((const char *)data, size, NULL, 0);
	char *out = malloc(n + 2);
	struct json_error err;
	struct json_doc *doc;

	FUZZ_CHECK(out != NULL, "malloc");
	FUZZ_CHECK(n <= 6 * size, "escaped length %zu of %zu bytes", n, size);
	out[0] = '"';
	FUZZ_CHECK(jsonesc((const char *)data, size, out + 1, n) == n, "length changed");
	out[n + 1] = '"';
	doc = json_parse(out, n + 2, NULL, &err);
	FUZZ_CHECK(doc != NULL && json_root(doc)->type == JSON_STRING,
	    "escaped bytes do not read back: %u:%u: %s", err.line, err.column, err.msg);
	json_free(doc);
	free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct json_limits limits = { 0, 0 };
	struct json_error err;
	struct json_doc *doc, *again;
	char *out, *out2;
	size_t len, len2;

	if (size == 0)
		return 0;
	limits.max_depth = 1 + data[0] % 64;
	data++;
	size--;
	check_escape(data, size);
	memset(&err, 'x', sizeof err);
	doc = json_parse(data, size, &limits, &err);
	if (doc == NULL) {
		check_error(&err, data, size);
		return 0;
	}
	check_tree(json_root(doc), 0, limits.max_depth);
	out = written(doc, &len);
	again = json_parse(out, len, &limits, &err);
	FUZZ_CHECK(again != NULL, "what was written does not read back: %u:%u: %s: %s", err.line,
	    err.column, err.msg, out);
	out2 = written(again, &len2);
	FUZZ_CHECK(len == len2 && memcmp(out, out2, len) == 0, "written twice differently: %s, %s",
	    out, out2);
	free(out2);
	free(out);
	json_free(again);
	json_free(doc);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * json.c: the strict JSON reader of json.h, and a writer for what it read.
 *
 * Recursive descent, one byte of lookahead.  The depth limit bounds the
 * recursion.  Values live in an arena freed at once; the items of an
 * array or object being read wait on one shared stack and are copied to
 * the arena, exactly sized, when it closes, so a container costs no
 * reallocation of its own.  A string is decoded into the arena in one
 * pass (its decoded form is never longer than the text).
 *
 * Numbers go through strtod(), which reads '.' as the decimal point in the
 * C locale that synack-load keeps (it never calls setlocale()).
 */
#include "config.h"

#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "common/jsonesc.h"
#include "json.h"
#include "utf8.h"

#define ARENA_CHUNK 65536

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;
	/* the data follows, aligned as this struct is (8) */
};

struct json_doc {
	struct arena_chunk *chunks;
	struct json_value root;
};

struct parser {
	const unsigned char *start, *p, *end;
	unsigned max_depth;
	struct json_doc *doc;
	struct json_value *stack; /* the items of the open containers */
	size_t nstack, capstack;
	struct json_error *err;
	int failed;
};

_Static_assert(sizeof(struct json_member) == 2 * sizeof(struct json_value),
    "an object's key and value pairs are copied from the stack as they are");

static void set_error(struct parser *ps, const unsigned char *at, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_error(struct parser *ps, const unsigned char *at, const char *fmt, ...)
{
	struct json_error *e = ps->err;
	va_list ap;

	if (ps->failed)
		return;
	ps->failed = 1;
	if (e == NULL)
		return;
	e->offset = (size_t)(at - ps->start);
	e->line = 1;
	e->column = 1;
	for (const unsigned char *q = ps->start; q < at; q++) {
		if (*q == '\n') {
			e->line++;
			e->column = 1;
		} else
			e->column++;
	}
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof e->msg, fmt, ap);
	va_end(ap);
}

/* "'x'" for a printable byte, "byte 0xNN" otherwise. */
static const char *
describe_byte(const struct parser *ps, const unsigned char *at, char *buf, size_t size)
{
	if (at >= ps->end)
		snprintf(buf, size, "the end of the input");
	else if (*at >= 0x20 && *at < 0x7f)
		snprintf(buf, size, "'%c'", *at);
	else
		snprintf(buf, size, "byte 0x%02x", *at);
	return buf;
}

static void *
arena_alloc(struct parser *ps, size_t n)
{
	struct arena_chunk *c = ps->doc->chunks;
	size_t size;
	void *p;

	n = (n + 7) & ~(size_t)7;
	if (c == NULL || c->size - c->used < n) {
		size = n > ARENA_CHUNK / 2 ? n : ARENA_CHUNK;
		if ((c = malloc(sizeof *c + size)) == NULL)
			return NULL;
		c->used = 0;
		c->size = size;
		/* a chunk of its own goes behind the current one, which has room left */
		if (n > ARENA_CHUNK / 2 && ps->doc->chunks != NULL) {
			c->next = ps->doc->chunks->next;
			ps->doc->chunks->next = c;
		} else {
			c->next = ps->doc->chunks;
			ps->doc->chunks = c;
		}
	}
	p = (char *)(c + 1) + c->used;
	c->used += n;
	return p;
}

static int
push(struct parser *ps, const struct json_value *v)
{
	if (ps->nstack == ps->capstack) {
		size_t cap = ps->capstack == 0 ? 256 : ps->capstack * 2;
		struct json_value *s = realloc(ps->stack, cap * sizeof *s);

		if (s == NULL) {
			set_error(ps, ps->p, "out of memory");
			return -1;
		}
		ps->stack = s;
		ps->capstack = cap;
	}
	ps->stack[ps->nstack++] = *v;
	return 0;
}

static void
skip_space(struct parser *ps)
{
	while (ps->p < ps->end &&
	    (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\n' || *ps->p == '\r'))
		ps->p++;
}

/*
 * parse_value() and parse_container() call each other once per level of
 * nesting, which max_depth bounds (64 by default): the recursion is as
 * deep as the limit allows and no deeper.
 */
static int parse_value(struct parser *, struct json_value *, unsigned depth);

static int
hex4(const unsigned char *p, unsigned *out)
{
	unsigned v = 0;

	for (int i = 0; i < 4; i++) {
		unsigned char c = p[i];

		v <<= 4;
		if (c >= '0' && c <= '9')
			v |= (unsigned)(c - '0');
		else if (c >= 'a' && c <= 'f')
			v |= (unsigned)(c - 'a' + 10);
		else if (c >= 'A' && c <= 'F')
			v |= (unsigned)(c - 'A' + 10);
		else
			return -1;
	}
	*out = v;
	return 0;
}

static size_t
put_utf8(char *o, unsigned cp)
{
	if (cp < 0x80) {
		o[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		o[0] = (char)(0xc0 | (cp >> 6));
		o[1] = (char)(0x80 | (cp & 0x3f));
		return 2;
	}
	if (cp < 0x10000) {
		o[0] = (char)(0xe0 | (cp >> 12));
		o[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
		o[2] = (char)(0x80 | (cp & 0x3f));
		return 3;
	}
	o[0] = (char)(0xf0 | (cp >> 18));
	o[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
	o[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
	o[3] = (char)(0x80 | (cp & 0x3f));
	return 4;
}

static int
parse_string(struct parser *ps, struct json_value *out)
{
	const unsigned char *q = ps->p + 1, *open = ps->p;
	size_t n = 0;
	char *s, buf[32];

	/* where it ends, to size the copy */
	while (q < ps->end && *q != '"') {
		if (*q == '\\' && ps->end - q < 2)
			q = ps->end;
		else
			q += *q == '\\' ? 2 : 1;
	}
	if (q >= ps->end) {
		set_error(ps, open, "a string that does not end");
		return -1;
	}
	if ((s = arena_alloc(ps, (size_t)(q - open))) == NULL) {
		set_error(ps, open, "out of memory");
		return -1;
	}
	for (q = open + 1; *q != '"';) {
		unsigned cp, lo;
		size_t len;

		if (*q < 0x20) {
			set_error(ps, q,
			    "a control character (byte 0x%02x) in a string: write it "
			    "as \\u%04x",
			    *q, *q);
			return -1;
		}
		if (*q >= 0x80) {
			if ((len = utf8_length(q, (size_t)(ps->end - q))) == 0) {
				set_error(ps, q, "invalid UTF-8 (byte 0x%02x) in a string", *q);
				return -1;
			}
			memcpy(s + n, q, len);
			n += len;
			q += len;
			continue;
		}
		if (*q != '\\') {
			s[n++] = (char)*q++;
			continue;
		}
		switch (q[1]) {
		case '"':
		case '\\':
		case '/':
			s[n++] = (char)q[1];
			break;
		case 'b':
			s[n++] = '\b';
			break;
		case 'f':
			s[n++] = '\f';
			break;
		case 'n':
			s[n++] = '\n';
			break;
		case 'r':
			s[n++] = '\r';
			break;
		case 't':
			s[n++] = '\t';
			break;
		case 'u':
			if (ps->end - q < 6 || hex4(q + 2, &cp) == -1) {
				set_error(ps, q, "\\u needs four hexadecimal digits");
				return -1;
			}
			if (cp >= 0xdc00 && cp <= 0xdfff) {
				set_error(ps, q, "\\u%04x: a low surrogate without a high one", cp);
				return -1;
			}
			if (cp >= 0xd800 && cp <= 0xdbff) {
				if (ps->end - q < 12 || q[6] != '\\' || q[7] != 'u' ||
				    hex4(q + 8, &lo) == -1 || lo < 0xdc00 || lo > 0xdfff) {
					set_error(ps, q,
					    "\\u%04x: a high surrogate not followed by a low one "
					    "(\\udc00 to \\udfff)",
					    cp);
					return -1;
				}
				cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
				q += 6;
			}
			n += put_utf8(s + n, cp);
			q += 6;
			continue;
		default:
			set_error(ps, q, "invalid escape in a string: '\\' followed by %s",
			    describe_byte(ps, q + 1, buf, sizeof buf));
			return -1;
		}
		q += 2;
	}
	s[n] = '\0';
	ps->p = q + 1;
	out->type = JSON_STRING;
	out->exact = 0;
	out->n = (uint32_t)n;
	out->v.s = s;
	return 0;
}

static int
parse_number(struct parser *ps, struct json_value *out)
{
	const unsigned char *q = ps->p, *begin = ps->p;
	int integer = 1, negative = 0;
	uint64_t u = 0;
	char small[64], *text;
	size_t len;
	double d;

	if (*q == '-') {
		negative = 1;
		q++;
	}
	if (q >= ps->end || *q < '0' || *q > '9') {
		set_error(ps, q, "a number needs a digit after '-'");
		return -1;
	}
	if (*q == '0') {
		q++;
		if (q < ps->end && *q >= '0' && *q <= '9') {
			set_error(ps, begin, "a number with a leading zero");
			return -1;
		}
	} else
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	if (q < ps->end && *q == '.') {
		integer = 0;
		if (++q >= ps->end || *q < '0' || *q > '9') {
			set_error(ps, q, "a number needs a digit after '.'");
			return -1;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	if (q < ps->end && (*q == 'e' || *q == 'E')) {
		integer = 0;
		q++;
		if (q < ps->end && (*q == '+' || *q == '-'))
			q++;
		if (q >= ps->end || *q < '0' || *q > '9') {
			set_error(ps, q, "a number needs a digit in its exponent");
			return -1;
		}
		while (q < ps->end && *q >= '0' && *q <= '9')
			q++;
	}
	out->type = JSON_NUMBER;
	out->n = 0;
	out->exact = 0;
	if (integer && !negative) {
		const unsigned char *k;

		for (k = begin; k < q; k++)
			if (__builtin_mul_overflow(u, 10, &u) ||
			    __builtin_add_overflow(u, (uint64_t)(*k - '0'), &u))
				break;
		if (k == q) {
			out->exact = 1;
			out->v.u = u;
			ps->p = q;
			return 0;
		}
	}
	len = (size_t)(q - begin);
	if (len < sizeof small)
		text = small;
	else if ((text = malloc(len + 1)) == NULL) {
		set_error(ps, begin, "out of memory");
		return -1;
	}
	memcpy(text, begin, len);
	text[len] = '\0';
	d = strtod(text, NULL);
	if (text != small)
		free(text);
	if (isinf(d)) {
		set_error(ps, begin, "a number too large for a double");
		return -1;
	}
	out->v.d = d;
	ps->p = q;
	return 0;
}

static int
parse_literal(struct parser *ps, struct json_value *out)
{
	static const struct {
		const char *text;
		enum json_type type;
		int b;
	} lits[] = {
		{ "true", JSON_BOOL, 1 },
		{ "false", JSON_BOOL, 0 },
		{ "null", JSON_NULL, 0 },
	};
	char buf[32];

	for (size_t i = 0; i < sizeof lits / sizeof lits[0]; i++) {
		size_t len = strlen(lits[i].text);

		if ((size_t)(ps->end - ps->p) >= len && memcmp(ps->p, lits[i].text, len) == 0) {
			out->type = (uint8_t)lits[i].type;
			out->exact = 0;
			out->n = 0;
			out->v.b = lits[i].b;
			ps->p += len;
			return 0;
		}
	}
	set_error(
	    ps, ps->p, "expected a value, found %s", describe_byte(ps, ps->p, buf, sizeof buf));
	return -1;
}

static int
key_compare(const void *a, const void *b)
{
	const struct json_value *x = *(const struct json_value *const *)a;
	const struct json_value *y = *(const struct json_value *const *)b;
	size_t n = x->n < y->n ? x->n : y->n;
	int c = n > 0 ? memcmp(x->v.s, y->v.s, n) : 0; /* an empty key may have no text */

	if (c != 0)
		return c;
	return x->n < y->n ? -1 : x->n > y->n;
}

/* The members on the stack from base: a key twice is an error. */
static int
check_duplicates(struct parser *ps, size_t base, const unsigned char *open)
{
	size_t n = (ps->nstack - base) / 2;
	const struct json_value **keys;
	int rc = 0;

	if (n < 2)
		return 0;
	if ((keys = malloc(n * sizeof *keys)) == NULL) {
		set_error(ps, open, "out of memory");
		return -1;
	}
	for (size_t i = 0; i < n; i++)
		keys[i] = &ps->stack[base + 2 * i];
	qsort(keys, n, sizeof *keys, key_compare);
	for (size_t i = 1; i < n; i++) {
		char shown[48];
		size_t k = 0;

		if (key_compare(&keys[i - 1], &keys[i]) != 0)
			continue;
		for (size_t j = 0; j < keys[i]->n && k + 4 < sizeof shown; j++) {
			unsigned char c = (unsigned char)keys[i]->v.s[j];

			shown[k++] = (char)(c >= 0x20 && c < 0x7f ? c : '?');
		}
		if (k < keys[i]->n)
			shown[k++] = '.', shown[k++] = '.', shown[k++] = '.';
		shown[k] = '\0';
		set_error(ps, open, "an object with the key \"%s\" twice", shown);
		rc = -1;
		break;
	}
	free(keys);
	return rc;
}

/* The items from base to the top of the stack go to the arena, in out. */
static int
close_container(struct parser *ps, struct json_value *out, enum json_type type, size_t base,
    const unsigned char *open)
{
	size_t count = ps->nstack - base;
	void *items = NULL;

	if (type == JSON_OBJECT && check_duplicates(ps, base, open) == -1)
		return -1;
	if (count > 0) {
		if ((items = arena_alloc(ps, count * sizeof *ps->stack)) == NULL) {
			set_error(ps, open, "out of memory");
			return -1;
		}
		memcpy(items, ps->stack + base, count * sizeof *ps->stack);
	}
	ps->nstack = base;
	out->type = (uint8_t)type;
	out->exact = 0;
	if (type == JSON_OBJECT) {
		out->n = (uint32_t)(count / 2);
		out->v.members = items;
	} else {
		out->n = (uint32_t)count;
		out->v.items = items;
	}
	return 0;
}

/* NOLINTBEGIN(misc-no-recursion): as deep as max_depth, see parse_value() */
static int
parse_container(struct parser *ps, struct json_value *out, unsigned depth)
{
	const unsigned char *open = ps->p;
	int object = *open == '{';
	size_t base = ps->nstack;
	unsigned char close = object ? '}' : ']';
	char buf[32];
	struct json_value v;

	if (depth >= ps->max_depth) {
		set_error(
		    ps, open, "arrays and objects nested deeper than %u levels", ps->max_depth);
		return -1;
	}
	ps->p++;
	skip_space(ps);
	if (ps->p < ps->end && *ps->p == close) {
		ps->p++;
		return close_container(ps, out, object ? JSON_OBJECT : JSON_ARRAY, base, open);
	}
	for (;;) {
		if (object) {
			if (ps->p >= ps->end || *ps->p != '"') {
				set_error(ps, ps->p,
				    "expected a key (a string) in the object, found %s",
				    describe_byte(ps, ps->p, buf, sizeof buf));
				return -1;
			}
			if (parse_string(ps, &v) == -1 || push(ps, &v) == -1)
				return -1;
			skip_space(ps);
			if (ps->p >= ps->end || *ps->p != ':') {
				set_error(ps, ps->p, "expected ':' after the key, found %s",
				    describe_byte(ps, ps->p, buf, sizeof buf));
				return -1;
			}
			ps->p++;
			skip_space(ps);
		}
		if (parse_value(ps, &v, depth + 1) == -1 || push(ps, &v) == -1)
			return -1;
		skip_space(ps);
		if (ps->p < ps->end && *ps->p == ',') {
			ps->p++;
			skip_space(ps);
			continue;
		}
		if (ps->p < ps->end && *ps->p == close) {
			ps->p++;
			return close_container(
			    ps, out, object ? JSON_OBJECT : JSON_ARRAY, base, open);
		}
		set_error(ps, ps->p, "expected ',' or '%c' in the %s, found %s", close,
		    object ? "object" : "array", describe_byte(ps, ps->p, buf, sizeof buf));
		return -1;
	}
}

static int
parse_value(struct parser *ps, struct json_value *out, unsigned depth)
{
	if (ps->p >= ps->end) {
		set_error(ps, ps->p, "expected a value, found the end of the input");
		return -1;
	}
	switch (*ps->p) {
	case '{':
	case '[':
		return parse_container(ps, out, depth);
	case '"':
		return parse_string(ps, out);
	case '-':
	case '0':
	case '1':
	case '2':
	case '3':
	case '4':
	case '5':
	case '6':
	case '7':
	case '8':
	case '9':
		return parse_number(ps, out);
	default:
		return parse_literal(ps, out);
	}
}
/* NOLINTEND(misc-no-recursion) */

void
json_free(struct json_doc *doc)
{
	struct arena_chunk *c, *next;

	if (doc == NULL)
		return;
	for (c = doc->chunks; c != NULL; c = next) {
		next = c->next;
		free(c);
	}
	free(doc);
}

struct json_doc *
json_parse(const void *buf, size_t len, const struct json_limits *limits, struct json_error *err)
{
	struct parser ps;
	size_t max_size = JSON_MAX_SIZE_DEFAULT;
	char what[32];

	memset(&ps, 0, sizeof ps);
	ps.start = ps.p = buf;
	ps.end = ps.start + len;
	ps.err = err;
	ps.max_depth = JSON_MAX_DEPTH_DEFAULT;
	if (limits != NULL && limits->max_size > 0)
		max_size = limits->max_size;
	if (max_size > JSON_MAX_SIZE_LIMIT)
		max_size = JSON_MAX_SIZE_LIMIT;
	if (limits != NULL && limits->max_depth > 0)
		ps.max_depth = limits->max_depth;
	if (len > max_size) {
		ps.end = ps.start; /* the position is the start */
		set_error(&ps, ps.start, "%zu bytes, more than the limit of %zu", len, max_size);
		return NULL;
	}
	if ((ps.doc = calloc(1, sizeof *ps.doc)) == NULL) {
		set_error(&ps, ps.start, "out of memory");
		return NULL;
	}
	skip_space(&ps);
	if (parse_value(&ps, &ps.doc->root, 0) == 0) {
		skip_space(&ps);
		if (ps.p < ps.end)
			set_error(&ps, ps.p, "%s after the value",
			    describe_byte(&ps, ps.p, what, sizeof what));
	}
	free(ps.stack);
	if (ps.failed) {
		json_free(ps.doc);
		return NULL;
	}
	return ps.doc;
}

const struct json_value *
json_root(const struct json_doc *doc)
{
	return &doc->root;
}

const char *
json_error_str(const struct json_error *e, char *buf, size_t size)
{
	snprintf(buf, size, "%u:%u: %s", e->line, e->column, e->msg);
	return buf;
}

const struct json_value *
json_get(const struct json_value *obj, const char *key)
{
	size_t len = strlen(key);

	if (obj == NULL || obj->type != JSON_OBJECT)
		return NULL;
	for (uint32_t i = 0; i < obj->n; i++) {
		const struct json_value *k = &obj->v.members[i].key;

		if (k->n == len && memcmp(k->v.s, key, len) == 0)
			return &obj->v.members[i].value;
	}
	return NULL;
}

double
json_number(const struct json_value *v)
{
	if (v == NULL || v->type != JSON_NUMBER)
		return 0;
	return v->exact ? (double)v->v.u : v->v.d;
}

const char *
json_type_name(const struct json_value *v)
{
	if (v == NULL)
		return "nothing";
	switch (v->type) {
	case JSON_NULL:
		return "null";
	case JSON_BOOL:
		return v->v.b ? "true" : "false";
	case JSON_NUMBER:
		return "a number";
	case JSON_STRING:
		return "a string";
	case JSON_ARRAY:
		return "an array";
	default:
		return "an object";
	}
}

void
json_write_double(FILE *f, double d)
{
	char buf[40];

	for (int prec = 15; prec <= 17; prec++) {
		snprintf(buf, sizeof buf, "%.*g", prec, d);
		if (strtod(buf, NULL) == d)
			break;
	}
	fputs(buf, f);
}

/* A tree of json_parse(): as deep as its max_depth allowed. */
static void
write_value(FILE *f, const struct json_value *v) /* NOLINT(misc-no-recursion) */
{
	switch (v->type) {
	case JSON_NULL:
		fputs("null", f);
		break;
	case JSON_BOOL:
		fputs(v->v.b ? "true" : "false", f);
		break;
	case JSON_NUMBER:
		if (v->exact)
			fprintf(f, "%llu", (unsigned long long)v->v.u);
		else
			json_write_double(f, v->v.d);
		break;
	case JSON_STRING:
		jsonesc_write(f, v->v.s, v->n);
		break;
	case JSON_ARRAY:
		fputc('[', f);
		for (uint32_t i = 0; i < v->n; i++) {
			if (i > 0)
				fputc(',', f);
			write_value(f, &v->v.items[i]);
		}
		fputc(']', f);
		break;
	default:
		fputc('{', f);
		for (uint32_t i = 0; i < v->n; i++) {
			if (i > 0)
				fputc(',', f);
			write_value(f, &v->v.members[i].key);
			fputc(':', f);
			write_value(f, &v->v.members[i].value);
		}
		fputc('}', f);
		break;
	}
}

int
json_write(FILE *f, const struct json_value *v)
{
	write_value(f, v);
	return ferror(f) ? -1 : 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * json.h: a small, strict JSON reader (RFC 8259) for the reports that
 * synack-load merges.
 *
 * json_parse() is a pure function of a byte buffer: it builds a tree of
 * values in memory of its own, or refuses the input with the line, the
 * column and what is wrong.  It is strict where a lenient reader would
 * guess: no comments, no trailing commas, no leading zeros, no control
 * characters or invalid UTF-8 in strings, no lone surrogates, no duplicate
 * keys in an object, nothing after the value.  The input's size and the
 * nesting depth are bounded, and so the recursion and the memory: 16
 * bytes for each value and each key, on top of the strings, and as much
 * again for the items of the arrays and objects still open.
 *
 * A number is kept as a double and, when written as an integer from 0 to
 * 2^64 - 1 (no sign, fraction or exponent), exactly as a uint64_t too: the
 * counts of a report are exact however large.
 */
#ifndef SYNACK_JSON_H
#define SYNACK_JSON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_SIZE_DEFAULT ((size_t)64 << 20)
#define JSON_MAX_SIZE_LIMIT ((size_t)1 << 30) /* lengths fit in 32 bits */
#define JSON_MAX_DEPTH_DEFAULT 64

enum json_type {
	JSON_NULL,
	JSON_BOOL,
	JSON_NUMBER,
	JSON_STRING,
	JSON_ARRAY,
	JSON_OBJECT,
};

struct json_member;

struct json_value {
	uint8_t type;  /* enum json_type */
	uint8_t exact; /* a number written as an integer that fits in u */
	uint32_t n;    /* string: bytes (not counting the NUL); array, object: items */
	union {
		int b;                       /* bool */
		double d;                    /* number, when not exact */
		uint64_t u;                  /* number, when exact */
		const char *s;               /* string: UTF-8, NUL-terminated (may hold NULs) */
		struct json_value *items;    /* array */
		struct json_member *members; /* object, in the order of the input */
	} v;
};

struct json_member {
	struct json_value key; /* a string */
	struct json_value value;
};

struct json_limits {
	size_t max_size;    /* bytes of input; 0: JSON_MAX_SIZE_DEFAULT */
	unsigned max_depth; /* arrays and objects inside each other; 0: the default */
};

struct json_error {
	unsigned line;   /* from 1 */
	unsigned column; /* from 1, in bytes */
	size_t offset;   /* from 0 */
	char msg[128];
};

struct json_doc;

/*
 * The document, or NULL with *err filled (err may be NULL); limits NULL
 * for the defaults.  Free it with json_free().
 */
struct json_doc *json_parse(
    const void *buf, size_t len, const struct json_limits *limits, struct json_error *err);
const struct json_value *json_root(const struct json_doc *);
void json_free(struct json_doc *);

/* "LINE:COLUMN: message" into buf. */
const char *json_error_str(const struct json_error *, char *buf, size_t size);

/* The member's value, or NULL if obj is no object or has no such key. */
const struct json_value *json_get(const struct json_value *obj, const char *key);
double json_number(const struct json_value *);         /* 0 if not a number */
const char *json_type_name(const struct json_value *); /* "an object", "a number", ... */

/*
 * The value as compact JSON: json_parse() of the output gives the same
 * tree back, and a number the same double or integer.  Strings are
 * escaped by jsonesc_write() (common/jsonesc.h).  -1 if a write
 * failed.
 */
int json_write(FILE *, const struct json_value *);

/* A finite double in the fewest digits that read back as the same double. */
void json_write_double(FILE *, double);

#endif

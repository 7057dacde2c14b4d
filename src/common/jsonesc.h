/* SPDX-License-Identifier: ISC */
/*
 * jsonesc.h: the one way synack writes a string into JSON (RFC 8259).
 *
 * Escaped: '"' and '\' as \" and \\; the control characters below 0x20
 * as \b, \f, \n, \r and \t where JSON has a short form, the others as
 * \u00XX; DEL (0x7f) as \u007f, so that no byte of the output can drive
 * a terminal.  Valid UTF-8 (no overlong forms, no surrogates, nothing
 * above U+10FFFF) passes through as it is.  Every byte that does not
 * begin a valid UTF-8 sequence becomes \ufffd, the replacement
 * character: the output is always valid JSON of valid UTF-8, and a name
 * or a path that is not UTF-8 shows where it was not.  The input may hold
 * NUL bytes (\u0000).
 */
#ifndef SYNACK_JSONESC_H
#define SYNACK_JSONESC_H

#include <stddef.h>
#include <stdio.h>

/*
 * The escaped form of in (without quotes): at most size bytes of it to
 * out (no NUL), and its whole length, as snprintf() counts: call it with
 * size 0 to learn the length, which is at most 6 * len.
 */
size_t jsonesc(const char *in, size_t len, char *out, size_t size);

/* in as a JSON string, quoted and escaped, to f; -1 if a write failed. */
int jsonesc_write(FILE *f, const char *in, size_t len);

#endif

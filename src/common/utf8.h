/* SPDX-License-Identifier: ISC */
/* utf8.h: the one UTF-8 validator of the project (utf8.c). */
#ifndef SYNACK_UTF8_H
#define SYNACK_UTF8_H

#include <stddef.h>

/*
 * The length of the UTF-8 sequence at s[0..len) (RFC 3629: no overlong
 * form, no surrogate, nothing above U+10FFFF), 0 if it is not one.
 * For s[0] >= 0x80: an ASCII byte is the caller's.
 */
size_t utf8_length(const unsigned char *s, size_t len);

#endif

/* SPDX-License-Identifier: ISC */
/*
 * syn-fuzzer.c: syn_parse(), the saved-SYN parser.
 *
 * The input is what getsockopt(TCP_SAVED_SYN) would return, copied into
 * a buffer of exactly its size so that AddressSanitizer catches a read
 * past the end.  A refusal names a known reason; a SYN parsed is IPv4 or
 * IPv6, has only the fields its option bits allow, a Fast Open cookie of
 * at most 16 bytes, and its log field and option-set name fit their
 * buffers uncut.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "syn.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char fields[SYN_FIELDSLEN], set[SYN_OPTIONS_NAMELEN];
	struct syn_info s;
	enum syn_error err = SYN_ERRORS;
	uint8_t *buf = malloc(size > 0 ? size : 1);

	FUZZ_CHECK(buf != NULL, "no memory");
	memcpy(buf, data, size);
	if (syn_parse(buf, size, &s, &err) == -1) {
		FUZZ_CHECK(err < SYN_ERRORS, "error %d", (int)err);
	} else {
		FUZZ_CHECK(s.version == 4 || s.version == 6, "version %u", s.version);
		FUZZ_CHECK(size >= (s.version == 4 ? 40u : 60u), "a SYN of %zu bytes", size);
		FUZZ_CHECK(s.options < SYN_OPT_SETS, "options 0x%x", s.options);
		FUZZ_CHECK((s.options & SYN_OPT_MSS) || s.mss == 0, "mss without the option");
		FUZZ_CHECK((s.options & SYN_OPT_WS) || s.wscale == 0, "ws without the option");
		FUZZ_CHECK(s.fastopen_cookie <= 16, "cookie of %u", s.fastopen_cookie);
		FUZZ_CHECK(!!(s.options & SYN_OPT_UNKNOWN) == (s.unknown > 0),
		    "unknown %u, bits 0x%x", s.unknown, s.options);
		FUZZ_CHECK(s.ecn == 0 || s.ecn == 1, "ecn %u", s.ecn);
		FUZZ_CHECK(strlen(syn_format(&s, fields, sizeof fields)) < sizeof fields - 1,
		    "a log field cut: %s", fields);
		FUZZ_CHECK(strlen(syn_options_name(s.options, set, sizeof set)) < sizeof set - 1,
		    "a set name cut: %s", set);
	}
	free(buf);
	return 0;
}

/* SPDX-License-Identifier: ISC */
/*
 * proxy-fuzzer.c: proxy_parse(), the PROXY protocol header parser.
 *
 * The input is what a client sent, copied into a buffer of exactly its
 * size so that AddressSanitizer catches a read past the end.  A header
 * found is no longer than the input nor than PROXY_MAX, has a known kind
 * and addresses of a TCP family; every shorter prefix of it asks for more
 * (the daemon parses again as bytes arrive, so the answer must not depend
 * on where the input was cut); an error says why; and the answer must not
 * change with bytes appended after a complete header.
 */
#include "config.h"

#include <string.h>
#include <netinet/in.h>

#include "fuzz.h"
#include "proxy.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proxy_result r, r2;
	enum proxy_status st;
	unsigned char *buf = malloc(size > 0 ? size : 1);

	FUZZ_CHECK(buf != NULL, "no memory");
	memcpy(buf, data, size);
	st = proxy_parse(buf, size, &r);
	FUZZ_CHECK(
	    st == PROXY_NEED_MORE || st == PROXY_DONE || st == PROXY_ERROR, "status %d", (int)st);
	if (st == PROXY_ERROR)
		FUZZ_CHECK(r.error != NULL && r.error[0] != '\0', "an error without a reason");
	if (st == PROXY_NEED_MORE)
		FUZZ_CHECK(size < PROXY_MAX, "asks for more after %zu bytes", size);
	if (st == PROXY_DONE) {
		FUZZ_CHECK(r.len > 0 && r.len <= size && r.len <= PROXY_MAX, "length %zu of %zu",
		    r.len, size);
		FUZZ_CHECK(r.version == 1 || r.version == 2, "version %d", r.version);
		FUZZ_CHECK(r.version != 1 || r.len <= PROXY_V1_MAX, "v1 of %zu bytes", r.len);
		FUZZ_CHECK(
		    r.kind == PROXY_ADDRESSES || r.kind == PROXY_LOCAL || r.kind == PROXY_UNKNOWN,
		    "kind %d", (int)r.kind);
		if (r.kind == PROXY_ADDRESSES)
			FUZZ_CHECK((r.src.ss_family == AF_INET || r.src.ss_family == AF_INET6) &&
				r.src.ss_family == r.dst.ss_family,
			    "families %d %d", r.src.ss_family, r.dst.ss_family);
		FUZZ_CHECK(r.kind != PROXY_LOCAL || r.version == 2, "LOCAL in version 1");
		for (size_t cut = 0; cut < r.len; cut++)
			FUZZ_CHECK(proxy_parse(buf, cut, &r2) == PROXY_NEED_MORE,
			    "a cut at %zu of a %zu-byte header does not ask for more", cut, r.len);
		FUZZ_CHECK(proxy_parse(buf, r.len, &r2) == PROXY_DONE && r2.len == r.len &&
			r2.kind == r.kind && memcmp(&r2.src, &r.src, sizeof r.src) == 0 &&
			memcmp(&r2.dst, &r.dst, sizeof r.dst) == 0,
		    "the header alone parses differently");
	}
	free(buf);
	return 0;
}

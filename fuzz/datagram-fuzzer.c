/* SPDX-License-Identifier: ISC */
/*
 * datagram-fuzzer.c: the services' datagram() callbacks, as transport =
 * udp calls them with whatever a peer sends.
 *
 * The first two bytes are the room for the answer (outmax, 0 to 65535),
 * the next four the socket's count (ctx.seq), the rest the datagram,
 * copied into a buffer of exactly its size so that AddressSanitizer
 * catches a read past the end; the answer's buffer is exactly outmax.
 * Each answer fits outmax; echo's is the datagram (cut to outmax),
 * discard answers nothing, chargen at most 512 characters of the
 * pattern, daytime one CRLF-ended line or nothing when it has no room.
 */
#include "config.h"

#include <string.h>

#include "fuzz.h"
#include "service.h"

static const char *const names[] = { "echo", "discard", "chargen", "daytime" };

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct datagram_ctx ctx = { .now = 1764085642 };
	size_t outmax, len;
	char *in, *out;

	if (size < 6)
		return 0;
	outmax = (size_t)data[0] << 8 | data[1];
	memcpy(&ctx.seq, data + 2, sizeof ctx.seq);
	len = size - 6;
	in = malloc(len > 0 ? len : 1);
	out = malloc(outmax > 0 ? outmax : 1);
	FUZZ_CHECK(in != NULL && out != NULL, "no memory");
	memcpy(in, data + 6, len);
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
		const struct service *svc = service_find(names[i]);
		ssize_t n;

		FUZZ_CHECK(svc != NULL && svc->datagram != NULL, "%s has no datagram()", names[i]);
		n = svc->datagram(in, len, out, outmax, &ctx);
		FUZZ_CHECK(n >= -1 && (n == -1 || (size_t)n <= outmax), "%s: %zd of %zu", names[i],
		    n, outmax);
		if (strcmp(names[i], "echo") == 0)
			FUZZ_CHECK((size_t)n == (len < outmax ? len : outmax) &&
				memcmp(in, out, (size_t)n) == 0,
			    "echo: %zd of %zu", n, len);
		else if (strcmp(names[i], "discard") == 0)
			FUZZ_CHECK(n == -1, "discard answered %zd", n);
		else if (strcmp(names[i], "chargen") == 0) {
			FUZZ_CHECK(n >= 0 && n <= CHARGEN_DATAGRAM_MAX, "chargen: %zd", n);
			for (ssize_t j = 0; j < n; j++)
				FUZZ_CHECK((out[j] >= ' ' && out[j] <= '~') || out[j] == '\r' ||
					out[j] == '\n',
				    "chargen: byte 0x%02x", (unsigned char)out[j]);
		} else
			FUZZ_CHECK(n == -1 || (n >= 2 && out[n - 2] == '\r' && out[n - 1] == '\n'),
			    "daytime: %zd", n);
	}
	free(in);
	free(out);
	return 0;
}

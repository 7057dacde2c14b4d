/* SPDX-License-Identifier: ISC */
/*
 * fuzz.h: what every libFuzzer target in fuzz/ shares.  A broken
 * invariant aborts, so that libFuzzer keeps the input as a crash; assert()
 * would vanish under NDEBUG.
 */
#ifndef SYNACK_FUZZ_H
#define SYNACK_FUZZ_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define FUZZ_CHECK(cond, ...)                                                                      \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			fprintf(                                                                   \
			    stderr, "%s:%d: invariant broken: %s: ", __FILE__, __LINE__, #cond);   \
			fprintf(stderr, __VA_ARGS__);                                              \
			fputc('\n', stderr);                                                       \
			abort();                                                                   \
		}                                                                                  \
	} while (0)

#endif

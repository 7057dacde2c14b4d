#!/bin/sh
# SPDX-License-Identifier: ISC
# Run the tests that exercise several workers (threads) on a build with
# ThreadSanitizer (./configure --enable-tsan), from a checkout that may be
# configured for something else:
#
#   sh scripts/check-tsan.sh
#
# The daemon runs with two workers (SYNACK_TEST_WORKERS=2); the tests are
# those where the threads meet: accepting on every worker, the summed
# counters read by the main thread, max_clients and the per-source counts
# shared by all workers, reload and shutdown posted to each worker, and the
# read path.  A data race fails the daemon (halt_on_error), and with it its
# test.  The build is a copy of the checkout's files in build-tsan/ (or
# $TSAN_BUILDDIR), made by scripts/build-copy.sh.  Exit status: that of
# `make check`.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${TSAN_BUILDDIR:-$(pwd)/build-tsan}
tests="tests/integration/test-workers.py tests/integration/test-reuseport.py
	tests/integration/test-metrics.py tests/integration/test-max-clients.py
	tests/integration/test-per-source.py tests/integration/test-read-path.py
	tests/integration/test-chat.py tests/daemon/test-reload.py
	tests/integration/test-shutdown.py"

sh scripts/build-copy.sh "$build" scripts/check-tsan.sh --enable-tsan --enable-werror || exit 1
cd "$build" || exit 1
# TSan's shadow memory needs the address layout it knows: with more
# randomness than it allows (vm.mmap_rnd_bits above 28), run without ASLR
norandom=
[ "$(cat /proc/sys/vm/mmap_rnd_bits 2>/dev/null || echo 0)" -le 28 ] ||
	norandom="setarch $(uname -m) -R"
TSAN_OPTIONS=${TSAN_OPTIONS:-halt_on_error=1:second_deadlock_stack=1} \
    $norandom make -j2 check-TESTS SYNACK_TEST_WORKERS=2 TESTS="$(echo $tests)"

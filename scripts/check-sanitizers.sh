#!/bin/sh
# SPDX-License-Identifier: ISC
# Run the whole test suite on a build with AddressSanitizer and UBSan
# (./configure --enable-sanitizers), from a checkout that may be
# configured for something else:
#
#   sh scripts/check-sanitizers.sh
#
# The build is a copy of the checkout's files in build-sanitizers/ (or
# $SANITIZERS_BUILDDIR), made by scripts/build-copy.sh.  Exit status: that
# of `make check`.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${SANITIZERS_BUILDDIR:-$(pwd)/build-sanitizers}

sh scripts/build-copy.sh "$build" scripts/check-sanitizers.sh --enable-sanitizers \
    --enable-werror || exit 1
cd "$build" || exit 1
# a leak or a sanitizer report fails the program, and with it its test
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    make -j2 check

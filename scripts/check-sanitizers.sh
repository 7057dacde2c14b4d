#!/bin/sh
# SPDX-License-Identifier: ISC
# Run the whole test suite on a build with AddressSanitizer and UBSan
# (./configure --enable-sanitizers), from a checkout that may be
# configured for something else:
#
#   sh scripts/check-sanitizers.sh
#
# The build is a copy of the checkout's files in build-sanitizers/ (or
# $SANITIZERS_BUILDDIR): automake refuses a second build of a source tree
# that is configured in place.  Later runs update the copy and rebuild
# only what changed.  Exit status: that of `make check`.
set -u
cd "$(dirname "$0")/.." || exit 1
build=${SANITIZERS_BUILDDIR:-$(pwd)/build-sanitizers}

sh scripts/copy-tree.sh "$build" || {
	echo "scripts/check-sanitizers.sh works from a git checkout; elsewhere run" \
	    "./configure --enable-sanitizers && make check" >&2
	exit 1
}

cd "$build" || exit 1
if [ ! -f Makefile ]; then
	{ autoreconf -fi && ./configure --enable-sanitizers --enable-werror; } \
	    >configure.log 2>&1 || {
		tail -30 configure.log
		exit 1
	}
fi
# a leak or a sanitizer report fails the program, and with it its test
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1} \
    make -j2 check

#!/bin/sh
# SPDX-License-Identifier: ISC
# Build the fuzz targets with clang and run each for SECONDS (default 60),
# from a checkout, whatever else it is configured for:
#
#   fuzz/run.sh [SECONDS]
#
# The build is a copy of the checkout's files in build-fuzz/ (or
# $FUZZ_BUILDDIR), because automake refuses a second build of a source
# tree that is configured in place.  Later runs update the copy and
# rebuild only what changed.  Seeds are copied, never written; crashes and
# logs land in build-fuzz/fuzz/work/NAME/.  Exit 1 if a target failed.
set -u
cd "$(dirname "$0")/.." || exit 1
top=$(pwd)
seconds=${1:-${FUZZ_SECONDS:-60}}
build=${FUZZ_BUILDDIR:-$top/build-fuzz}
cc=${CC:-clang}

sh scripts/copy-tree.sh "$build" || {
	echo "fuzz/run.sh works from a git checkout; elsewhere configure a build with" \
	    "./configure CC=clang --enable-fuzzing and run make fuzz-run" >&2
	exit 1
}

cd "$build" || exit 1
if [ ! -x configure ]; then
	autoreconf -fi >autoreconf.log 2>&1 || {
		cat autoreconf.log
		exit 1
	}
fi
if [ ! -f Makefile ]; then
	./configure CC="$cc" --enable-fuzzing >configure.log 2>&1 || {
		tail -20 configure.log
		exit 1
	}
fi
make -j"$(nproc 2>/dev/null || echo 2)" fuzz >make.log 2>&1 || {
	tail -40 make.log
	exit 1
}
make fuzz-run FUZZ_SECONDS="$seconds"

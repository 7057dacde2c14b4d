#!/bin/sh
# SPDX-License-Identifier: ISC
# A build of the checkout in a directory of its own, for the test passes
# that need another configuration (scripts/check-sanitizers.sh,
# scripts/check-tsan.sh):
#
#   sh scripts/build-copy.sh DIR CALLER CONFIGURE-ARGUMENT...
#
# The checkout's files are copied to DIR (scripts/copy-tree.sh: automake
# refuses a second build of a source tree that is configured in place),
# configured there once with CONFIGURE-ARGUMENT..., and built; later runs
# update the copy and rebuild only what changed.  CALLER names the script
# in the message given outside a git checkout.  Exit status 1, with the
# end of the log that failed, if a step failed.
set -u
[ $# -ge 2 ] || { echo "usage: build-copy.sh DIR CALLER CONFIGURE-ARGUMENT..." >&2; exit 64; }
build=$1 caller=$2
shift 2
cd "$(dirname "$0")/.." || exit 1
sh scripts/copy-tree.sh "$build" || {
	echo "$caller works from a git checkout; elsewhere run" \
	    "./configure $* && make check" >&2
	exit 1
}
cd "$build" || exit 1
if [ ! -f Makefile ]; then
	{ autoreconf -fi && ./configure "$@"; } >configure.log 2>&1 || {
		tail -30 configure.log
		exit 1
	}
fi
make -j2 >make.log 2>&1 || {
	tail -30 make.log
	exit 1
}

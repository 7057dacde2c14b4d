#!/bin/sh
# SPDX-License-Identifier: ISC
# Copy a git checkout's files into DIR for a second, differently configured
# build (automake refuses a second build of a tree configured in place):
#
#   sh scripts/copy-tree.sh DIR
#
# The files git knows or would know, not the ignored build products; only
# those newer than their copy, so a later run rebuilds only what changed.
# Run from the top of the checkout.
set -u
dir=$1
if ! command -v git >/dev/null || ! git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
	echo "copy-tree.sh: not in a git checkout" >&2
	exit 1
fi
mkdir -p "$dir" || exit 1
git ls-files --cached --others --exclude-standard | while read -r f; do
	[ -f "$f" ] || continue # deleted, not yet committed
	if [ ! -e "$dir/$f" ] || [ "$f" -nt "$dir/$f" ]; then
		mkdir -p "$dir/$(dirname "$f")" && cp -p "$f" "$dir/$f" || exit 1
	fi
done

#!/bin/sh
# SPDX-License-Identifier: ISC
# Static analysis and formatting: `make lint` calls it with the build's
# compile flags.
#
#   lint.sh SRCDIR BUILDDIR -- CPPFLAGS...
#
# cppcheck and clang-tidy (checks in .clang-tidy) read src/, src/common/ and
# src/load/;
# clang-format (style in .clang-format) checks every C file the project
# formats; check-layers.sh, that the daemon's calls point one way.  Each tool's findings are printed; exit 1 if there is any.
# CPPCHECK, CLANG_TIDY and CLANG_FORMAT name other binaries; LINT_JOBS is
# how many clang-tidy processes run at once (default: the CPUs).
set -u

if [ $# -lt 3 ] || [ "$3" != -- ]; then
	echo "usage: $0 SRCDIR BUILDDIR -- CPPFLAGS..." >&2
	exit 2
fi
srcdir=$1
builddir=$2
shift 3
cppcheck=${CPPCHECK:-cppcheck}
tidy=${CLANG_TIDY:-clang-tidy}
format=${CLANG_FORMAT:-clang-format}
jobs=${LINT_JOBS:-$(nproc 2>/dev/null || echo 2)}

for tool in "$cppcheck" "$tidy" "$format"; do
	if ! command -v "$tool" >/dev/null; then
		echo "lint: $tool not found (sh scripts/deps.sh installs it)" >&2
		exit 1
	fi
done

cd "$srcdir" || exit 1
# the sources as written: not what the build generates (src/status-html.c)
analysed=$(ls src/*.c src/common/*.c src/load/*.c | grep -v '^src/status-html\.c$')
formatted=$(ls src/*.[ch] src/common/*.[ch] src/load/*.[ch] tests/unit/*.c tests/load/*.c bench/*.c fuzz/*.[ch] |
    grep -v '^src/status-html\.c$')
out=$(mktemp) || exit 1
trap 'rm -f "$out"' EXIT
status=0

# cppcheck reads no system header (that is slow and finds nothing of
# ours), so it is handed sys/queue.h's macros, which shape our structs.
queue_h=$(printf '#include <sys/queue.h>\n' | ${CC:-cc} -M -xc - | tr ' \\' '\n\n' |
    grep 'sys/queue\.h$')
# getpwnam() and getgrnam() are not reentrant: synackd calls them from
# its one thread only, at start and on reload.
echo "lint: cppcheck"
"$cppcheck" --quiet --error-exitcode=1 --inline-suppr --std=c11 --library=posix \
    --enable=warning,performance,portability --suppress=missingIncludeSystem \
    --suppress=getpwnamCalled --suppress=getgrnamCalled \
    -DHAVE_CONFIG_H -D_GNU_SOURCE ${queue_h:+--include="$queue_h"} \
    -I"$builddir" -Isrc -Isrc/common $analysed || status=1

echo "lint: clang-tidy"
# clang's "N warnings generated." counts what .clang-tidy then filters out
printf '%s\n' $analysed | xargs -P "$jobs" -I {} "$tidy" --quiet {} -- "$@" >"$out" 2>&1 ||
    status=1
grep -v '^[0-9]* warnings\{0,1\} generated\.$' "$out"

echo "lint: layers"
sh scripts/check-layers.sh . || status=1

echo "lint: licence"
# every source file says its licence (LICENSE) in its first lines
for f in $formatted src/*.h src/common/*.h src/load/*.h tests/unit/*.h scripts/*.sh bench/*.sh \
    tests/*/*.py tests/lib/*.py tests/*/*.sh fuzz/*.sh; do
	[ -f "$f" ] || continue
	head -n 3 "$f" | grep -q 'SPDX-License-Identifier: ISC' ||
	    { echo "lint: $f: no SPDX-License-Identifier line" >&2; status=1; }
done

echo "lint: clang-format"
"$format" --dry-run -Werror $formatted || status=1

[ "$status" -eq 0 ] && echo "lint: clean"
exit $status

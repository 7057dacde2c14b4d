#!/bin/sh
# SPDX-License-Identifier: ISC
# test-conf.sh: run "synackd -t" on every configuration file under
# tests/conf/good (and the shipped conf/synackd.conf), which must pass,
# and under tests/conf/bad, which must be refused.
#
# A bad file starts with the line
#   ; expect: LINE: SUBSTRING
# and must make synackd exit 78 with "FILE:LINE: SUBSTRING" on stderr;
# LINE "-" stands for an error of the whole file, "FILE: SUBSTRING".
# Files that cannot carry that line (empty, binary, huge, not regular) are
# made here and checked the same way.
#
# Environment: SYNACKD, the daemon; SYNACK_SRCDIR, the top source directory.

: "${SYNACKD:?SYNACKD must name the synackd binary}"
: "${SYNACK_SRCDIR:?SYNACK_SRCDIR must name the top source directory}"

dir=$SYNACK_SRCDIR/tests/conf
tmp=${TMPDIR:-/tmp}/synack-test-conf.$$
mkdir "$tmp" || exit 99
trap 'rm -rf "$tmp"' EXIT
trap 'exit 130' INT TERM

failed=0
count=0

fail() {
	echo "FAIL $name: $*"
	sed 's/^/  stdout: /' "$tmp/out"
	sed 's/^/  stderr: /' "$tmp/err"
	failed=1
}

check_good() {
	file=$1
	"$SYNACKD" -t -c "$file" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 0 ]; then
		fail "exit $rc, expected 0"
	elif ! grep -qx 'configuration OK' "$tmp/out"; then
		fail 'no "configuration OK" on stdout'
	else
		echo "ok   $name"
	fi
}

check_bad() {
	file=$1
	expect=$(sed -n '1s/^; expect: //p' "$file")
	line=${expect%%: *}
	substring=${expect#*: }
	case $line in
	-) where=$file ;;
	'' | *[!0-9]*)
		: >"$tmp/out"
		: >"$tmp/err"
		fail 'first line is not "; expect: LINE: SUBSTRING"'
		return
		;;
	*) where=$file:$line ;;
	esac
	if [ -z "$substring" ] || [ "$substring" = "$expect" ]; then
		: >"$tmp/out"
		: >"$tmp/err"
		fail 'first line is not "; expect: LINE: SUBSTRING"'
		return
	fi
	refused "$file" "$where: $substring"
}

# refused FILE MESSAGE: "synackd -t -c FILE" exits 78 with MESSAGE on stderr
refused() {
	"$SYNACKD" -t -c "$1" >"$tmp/out" 2>"$tmp/err" </dev/null
	rc=$?
	if [ "$rc" -ne 78 ]; then
		fail "exit $rc, expected 78"
	elif grep -q 'configuration OK' "$tmp/out"; then
		fail '"configuration OK" for a bad file'
	elif ! grep -qF -e "$2" "$tmp/err"; then
		fail "stderr lacks \"$2\""
	else
		echo "ok   $name ($2)"
	fi
}

# check_made NAME MESSAGE: a file made here must be refused with MESSAGE
check_made() {
	name=made/$1
	count=$((count + 1))
	refused "$file" "$2"
}

# check_file CHECK FILE: run one check, counting the file
check_file() {
	name=${2#"$SYNACK_SRCDIR"/}
	if [ ! -f "$2" ]; then
		echo "FAIL $name: missing"
		failed=1
		return
	fi
	count=$((count + 1))
	"$1" "$2"
}

# the shipped configuration and the deployment examples must pass too
for file in "$SYNACK_SRCDIR/conf/synackd.conf" "$SYNACK_SRCDIR"/conf/examples/*.conf \
    "$dir"/good/*.conf; do
	check_file check_good "$file"
done
# the HAProxy example, when haproxy is here to check it
if command -v haproxy >/dev/null 2>&1; then
	count=$((count + 1))
	if out=$(haproxy -c -f "$SYNACK_SRCDIR/conf/examples/haproxy.cfg" 2>&1); then
		echo "ok   conf/examples/haproxy.cfg"
	else
		echo "FAIL conf/examples/haproxy.cfg: $out"
		failed=1
	fi
else
	echo "skip conf/examples/haproxy.cfg: haproxy is not installed"
fi
for file in "$dir"/bad/*.conf; do
	check_file check_bad "$file"
done

file=$tmp/empty.conf
: >"$file"
check_made empty "$file: no listener defined"
file=$tmp/nul.conf
head -c 4096 /dev/zero >"$file"
check_made nul-bytes "$file:1: control character 0x00 in column 1"
file=$tmp/huge.conf
{
	printf '[listener echo]\nport = 0\n'
	head -c 1048576 /dev/zero | tr '\0' ';'
} >"$file"
check_made huge "$file: larger than 1048576 bytes"
file=/dev/zero
check_made dev-zero "$file: not a regular file but a character device"
file=$tmp/fifo.conf
mkfifo "$file" || exit 99
# a writer that never writes: synackd must neither wait for it nor for data
sleep 30 >"$file" &
writer=$!
check_made fifo "$file: not a regular file but a named pipe"
kill "$writer" 2>/dev/null
file=$tmp
check_made directory "$file: not a regular file but a directory"

echo "$count files checked"
exit $failed

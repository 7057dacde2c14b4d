#!/bin/sh
# test-conf.sh: run "synackd -t" on every configuration file under
# tests/conf/good (and the shipped conf/synackd.conf), which must pass,
# and under tests/conf/bad, which must be refused.
#
# A bad file starts with the line
#   ; expect: LINE: SUBSTRING
# and must make synackd exit 78 with "FILE:LINE: SUBSTRING" on stderr.
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
	'' | *[!0-9]*)
		: >"$tmp/out"
		: >"$tmp/err"
		fail 'first line is not "; expect: LINE: SUBSTRING"'
		return
		;;
	esac
	if [ -z "$substring" ] || [ "$substring" = "$expect" ]; then
		: >"$tmp/out"
		: >"$tmp/err"
		fail 'first line is not "; expect: LINE: SUBSTRING"'
		return
	fi
	"$SYNACKD" -t -c "$file" >"$tmp/out" 2>"$tmp/err"
	rc=$?
	if [ "$rc" -ne 78 ]; then
		fail "exit $rc, expected 78"
	elif grep -q 'configuration OK' "$tmp/out"; then
		fail '"configuration OK" for a bad file'
	elif ! grep -qF -e "$file:$line: $substring" "$tmp/err"; then
		fail "stderr lacks \"$file:$line: $substring\""
	else
		echo "ok   $name ($line: $substring)"
	fi
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

for file in "$SYNACK_SRCDIR/conf/synackd.conf" "$dir"/good/*.conf; do
	check_file check_good "$file"
done
for file in "$dir"/bad/*.conf; do
	check_file check_bad "$file"
done

echo "$count files checked"
exit $failed

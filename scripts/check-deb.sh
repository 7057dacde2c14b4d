#!/bin/sh
# SPDX-License-Identifier: ISC
# Check a built synack .deb without installing it: its files, conffiles,
# maintainer scripts and units, and that the packaged daemon accepts the
# packaged configuration (run from an extracted copy).
#
#   sh scripts/check-deb.sh build-deb/synack_VERSION_ARCH.deb
#
# Prints one line per failed check; exit status 1 if any failed.
set -u
deb=${1:?usage: check-deb.sh PACKAGE.deb}
tmp=$(mktemp -d) || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0

fail() {
	echo "check-deb: $*"
	failed=1
}

dpkg-deb -c "$deb" | awk '{ print $NF }' | sed 's|^\./|/|' >"$tmp/files" || exit 1
dpkg-deb -x "$deb" "$tmp/root" || exit 1
dpkg-deb -e "$deb" "$tmp/control" || exit 1

for f in /usr/sbin/synackd /usr/bin/synack-load /etc/synackd.conf \
	/usr/share/man/man8/synackd.8.gz /usr/share/man/man5/synackd.conf.5.gz \
	/usr/share/man/man1/synack-load.1.gz /lib/systemd/system/synackd.service \
	/lib/systemd/system/synackd.service.d/user.conf \
	/usr/share/doc/synack/copyright /usr/share/doc/synack/changelog.Debian.gz \
	/usr/share/doc/synack/examples/synackd.logrotate \
	/usr/share/doc/synack/examples/udp.conf; do
	grep -qx "$f" "$tmp/files" || fail "missing $f"
done
# a unit in one place only, logrotate only as an example (synackd logs to
# the journal)
grep -q '^/usr/lib/systemd/' "$tmp/files" && fail "a unit under /usr/lib/systemd"
grep -q '^/etc/logrotate.d/' "$tmp/files" && fail "a file in /etc/logrotate.d"

grep -qx /etc/synackd.conf "$tmp/control/conffiles" 2>/dev/null ||
	fail "/etc/synackd.conf is not a conffile"

# the user is created before the unit is enabled and started
postinst=$tmp/control/postinst
if [ ! -f "$postinst" ]; then
	fail "no postinst"
else
	grep -q 'adduser --system --group .*--no-create-home' "$postinst" &&
		grep -q -- '--home /nonexistent synackd' "$postinst" ||
		fail "postinst does not create the system user synackd"
	grep -q 'deb-systemd-helper enable' "$postinst" ||
		fail "postinst does not enable the units"
fi
grep -q '^Depends:.*adduser' "$tmp/control/control" ||
	fail "Depends lacks adduser (the postinst calls it)"
grep -q '^Depends:.*libevent' "$tmp/control/control" ||
	fail "Depends lacks libevent"

# every unit the package ships is enabled by the postinst
for unit in "$tmp"/root/lib/systemd/system/*.service "$tmp"/root/lib/systemd/system/*.socket; do
	[ -f "$unit" ] || continue
	name=$(basename "$unit")
	grep -q "$name" "$postinst" 2>/dev/null || fail "postinst does not handle $name"
done

unit=$tmp/root/lib/systemd/system/synackd.service
grep -qx 'ExecStart=/usr/sbin/synackd -c /etc/synackd.conf' "$unit" 2>/dev/null ||
	fail "synackd.service does not run /usr/sbin/synackd -c /etc/synackd.conf"
grep -qx 'User=synackd' "$tmp/root/lib/systemd/system/synackd.service.d/user.conf" 2>/dev/null ||
	fail "synackd.service does not run as User=synackd"

# UDP listeners in the configuration, their sockets in the socket unit
grep -q '^transport = udp' "$tmp/root/etc/synackd.conf" ||
	fail "/etc/synackd.conf has no UDP listener"
grep -q '^ListenDatagram=' "$tmp/root/lib/systemd/system/synackd.socket" 2>/dev/null ||
	fail "synackd.socket has no ListenDatagram="

# the packaged daemon reads the packaged configuration
out=$("$tmp/root/usr/sbin/synackd" -t -c "$tmp/root/etc/synackd.conf" 2>&1)
[ "$out" = "configuration OK" ] || fail "synackd -t on /etc/synackd.conf: $out"
"$tmp/root/usr/bin/synack-load" --help >/dev/null 2>&1 || fail "synack-load --help failed"
strings "$tmp/root/usr/sbin/synackd" | grep -qx /etc/synackd.conf ||
	fail "synackd's default configuration is not /etc/synackd.conf"

[ "$failed" -eq 0 ] && echo "check-deb: $(basename "$deb"): all checks passed"
exit "$failed"

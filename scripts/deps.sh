#!/bin/sh
# SPDX-License-Identifier: ISC
# Install what building and testing synack needs on Debian or Ubuntu.
# Only the missing packages are installed; as non-root it uses sudo.
# clang and its runtimes (libFuzzer, the sanitizers) are for the fuzz
# targets, cppcheck, clang-tidy and clang-format for `make lint`.
set -e

PACKAGES="build-essential autoconf automake pkg-config libevent-dev libinih-dev
libcmocka-dev python3 iproute2 socat clang libclang-rt-dev cppcheck clang-tidy
clang-format"
# make bench and its smoke run in CI: the counts, the reports, the charts,
# and iperf3 on the same loopback, the outside anchor for stream
PACKAGES="$PACKAGES strace valgrind jq gnuplot-nox time procps iperf3"
# the metrics tests: promtool checks /metrics, a headless browser loads the
# status page, nftables holds handshakes half-open in a test's own netns
PACKAGES="$PACKAGES prometheus chromium chromium-driver nftables curl"
# the scale-out tests: a real HAProxy in front of synackd (PROXY v2)
PACKAGES="$PACKAGES haproxy"
# make deb: dh (dpkg-buildpackage comes with build-essential) and lintian
PACKAGES="$PACKAGES debhelper lintian"

missing=
for p in $PACKAGES; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed' ||
		missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -eq 0 ]; then
	SUDO=
else
	SUDO=sudo
fi
echo "installing:$missing"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null

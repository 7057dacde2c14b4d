#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The right source address over IPv6: in a network namespace of its own,
# lo gets a second IPv6 address beside ::1; a client bound to ::1 writes to
# each of them on one wildcard UDP socket, `::` and `*` alike, and gets its
# answer from the address it wrote to (IPV6_RECVPKTINFO read, IPV6_PKTINFO
# sent back), a connected client included, which would drop an answer from
# any other address.  IPv4 has the same test on 127.0.0.2 in
# test-udp-echo.py.
import os
import shutil
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Command, Daemon, check_eq, fail, listener, main,  # noqa: E402
                        server_section, skip)
from netns import enter_netns  # noqa: E402

OTHER = 'fd00:5ac::2'


def run():
    enter_netns()
    ip = shutil.which('ip')
    if ip is None:
        skip('ip (iproute2) is missing: run scripts/deps.sh')
    r = Command([ip, '-6', 'addr', 'add', OTHER + '/128', 'dev', 'lo', 'nodad']).finish(10)
    if r.rc != 0:
        skip('cannot add %s to lo: %s' % (OTHER, r.err.strip()))
    conf = {'server': server_section(),
            'listener v6': listener('echo', '::', transport='udp'),
            'listener any': listener('echo', '*', transport='udp')}
    with Daemon(conf) as d:
        for name in ('v6', 'any'):
            port = d.port(name)
            for dst in (OTHER, '::1'):
                what = '%s via %s' % (name, dst)
                c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                c.settimeout(5)
                c.bind(('::1', 0))
                c.sendto(b'who answers?', (dst, port))
                try:
                    data, src = c.recvfrom(100)
                except socket.timeout:
                    fail('%s: no answer within 5 s' % what)
                check_eq(data, b'who answers?', what)
                check_eq(src[0], dst, '%s: answer from the address written to' % what)
                c.close()
                c = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
                c.settimeout(5)
                c.bind(('::1', 0))
                c.connect((dst, port))
                c.send(b'connected')
                try:
                    check_eq(c.recv(100), b'connected', '%s: connected client' % what)
                except socket.timeout:
                    fail('%s: a connected client got no answer within 5 s' % what)
                c.close()


if __name__ == '__main__':
    main(run)

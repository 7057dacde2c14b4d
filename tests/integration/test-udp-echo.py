#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# transport = udp, echo and discard: each datagram back byte for byte over
# 127.0.0.1 and ::1 (the empty one, a 65,507-byte one); discard silent; a
# wildcard listener answers from the address the client wrote to (two
# loopback addresses on one "*" socket, IPv4-mapped peers, and 0.0.0.0);
# a datagram from port 19 or longer than max_datagram is dropped, logged,
# and the listener keeps serving; workers = 2 open a socket each.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, expect_silence, fail,  # noqa: E402
                        have_ipv6_loopback, listener, loopback_address, main, note,
                        server_section, udp_sockets)


def udp(family=socket.AF_INET, bind=None):
    s = socket.socket(family, socket.SOCK_DGRAM)
    s.settimeout(5)
    if bind is not None:
        s.bind(bind)
    return s


def roundtrip(s, addr, payload, what):
    s.sendto(payload, addr)
    try:
        data, src = s.recvfrom(65536)
    except socket.timeout:
        fail('%s: no answer within 5 s' % what)
    check_eq(data, payload, what)
    return src


def udp_listener(service, address='127.0.0.1', **kw):
    return listener(service, address, transport='udp', **kw)


def run():
    v6 = have_ipv6_loopback()
    conf = {'server': server_section(),
            'listener echo': udp_listener('echo', max_datagram=65535),
            'listener small': udp_listener('echo', max_datagram=100),
            'listener discard': udp_listener('discard'),
            'listener any': udp_listener('echo', address='*'),
            'listener any4': udp_listener('echo', address='0.0.0.0'),
            # a TCP listener beside: its line still parses, its port is its own
            'listener tcp': listener('echo')}
    if v6:
        conf['listener echo6'] = udp_listener('echo', address='::1')
    with Daemon(conf) as d:
        check_eq(d.listeners['echo']['transport'], 'udp', 'transport in the listening line')
        check_eq(d.listeners['tcp']['transport'], 'tcp', 'a TCP listener still parses')
        check(d.listeners['tcp']['backlog'] is not None, 'TCP line has its backlog')

        # RFC 862, byte for byte, whatever the size
        s = udp()
        for payload in (b'ping', b'', bytes(range(256)) * 4, os.urandom(1400)):
            roundtrip(s, d.addr('echo'), payload, 'echo of %d bytes' % len(payload))
        big = os.urandom(65507)  # the most an IPv4 UDP datagram holds
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        roundtrip(s, d.addr('echo'), big, 'echo of 65,507 bytes')
        if v6:
            s6 = udp(socket.AF_INET6)
            roundtrip(s6, d.addr('echo6'), b'over ::1', 'echo over ::1')
            s6.close()
        else:
            note('no IPv6 loopback: ::1 not tested')

        # RFC 863: nothing back; the socket still serves what follows
        s.sendto(b'into the void', d.addr('discard'))
        expect_silence(s, 0.3)

        # the source address: a client of 127.0.0.1 writes to 127.0.0.2
        # on a wildcard socket; without IP_PKTINFO the answer would leave
        # from 127.0.0.1 (the route's choice) and a connected client drop it
        for name in ('any', 'any4'):
            port = d.port(name)
            for dst in ('127.0.0.2', '127.0.0.1'):
                c = udp(bind=('127.0.0.1', 0))
                src = roundtrip(c, (dst, port), b'who answers?', '%s via %s' % (name, dst))
                check_eq(src[0], dst, '%s: answer from the address written to' % name)
                c.close()
                # and a connected client (which drops any other source) gets it too
                c = udp(bind=('127.0.0.1', 0))
                c.connect((dst, port))
                c.send(b'connected')
                try:
                    data = c.recv(100)
                except socket.timeout:
                    fail('%s: a connected client via %s got no answer within 5 s' % (name, dst))
                check_eq(data, b'connected', '%s: connected client via %s' % (name, dst))
                c.close()
        if v6:
            c = udp(socket.AF_INET6)
            roundtrip(c, ('::1', d.port('any')), b'v6 on *', 'dual-stack * over ::1')
            c.close()

        # never answered: a datagram from chargen's port (a loop in the making)
        # port 19 of an address of its own: tests running beside may bind 19 too
        c = udp(bind=(loopback_address(), 19))
        mark = d.log_count()
        c.sendto(b'loop?', d.addr('echo'))
        d.wait_log(r'listener echo: dropped a datagram of 5 bytes .*: from port 0 or a port of',
                   start=mark)
        expect_silence(c, 0.2)
        c.close()
        roundtrip(s, d.addr('echo'), b'still here', 'echo after a bad source')

        # longer than max_datagram: dropped, logged (at a bounded rate)
        mark = d.log_count()
        s.sendto(b'x' * 101, d.addr('small'))
        d.wait_log(r'listener small: dropped a datagram of 101 bytes .*longer than max_datagram',
                   start=mark)
        expect_silence(s, 0.2)
        roundtrip(s, d.addr('small'), b'y' * 100, 'echo of max_datagram bytes')
        s.close()

    # workers = 2: a socket each on one port (SO_REUSEPORT), every client served
    conf = {'server': server_section(workers=2), 'listener echo': udp_listener('echo')}
    with Daemon(conf) as d:
        port = d.port('echo')
        check_eq(udp_sockets(port, d.pid), 2, 'UDP sockets on the port with workers = 2')
        for i in range(20):
            c = udp()
            roundtrip(c, d.addr('echo'), b'client %d' % i, 'client %d of 20' % i)
            c.close()


if __name__ == '__main__':
    main(run)

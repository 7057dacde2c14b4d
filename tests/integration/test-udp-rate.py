#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# transport = udp, chargen and daytime: chargen answers each datagram with
# 0 to 512 characters of the RFC 864 pattern, daytime with one RFC 867
# line; both answer a source at most udp_rate times a second: a burst of
# 200 datagrams from 127.0.0.1 gets at most a second's worth (plus what
# refills meanwhile) while 127.0.0.2 is still served; udp_rate = 0 answers
# every one.
import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, fail, listener, main,  # noqa: E402
                        server_section)

RATE = 4
BURST = 200
DAYTIME_RE = re.compile(r'^[A-Z][a-z]+day, [A-Z][a-z]+ \d\d, \d{4} \d\d:\d\d:\d\d-\S+\r\n$')


def udp(bind=('127.0.0.1', 0)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind(bind)
    s.settimeout(5)
    return s


def ask(s, addr, what):
    s.sendto(b'?', addr)
    try:
        return s.recv(65536)
    except socket.timeout:
        fail('%s: no answer within 5 s' % what)


def pattern_line(n):
    return ''.join(chr(32 + (n + c) % 95) for c in range(72)) + '\r\n'


def answers(s, quiet=0.5):
    """Datagrams that arrive until nothing has for `quiet` seconds."""
    got = []
    s.settimeout(quiet)
    while True:
        try:
            got.append(s.recv(65536))
        except socket.timeout:
            break
    s.settimeout(5)
    return got


def run():
    conf = {'server': server_section(),
            'listener chargen': listener('chargen', transport='udp', udp_rate=RATE),
            'listener daytime': listener('daytime', transport='udp', udp_rate=RATE),
            'listener free': listener('chargen', address='*', transport='udp', udp_rate=0)}
    with Daemon(conf) as d:
        # RFC 864: printable lines of the pattern, 0 to 512 characters
        s = udp()
        data = ask(s, d.addr('chargen'), 'chargen').decode('ascii')
        check(len(data) <= 512, 'chargen answer of %d characters' % len(data))
        text = ''.join(pattern_line(n) for n in range(95)) * 2
        check(data in text, 'chargen answer is not the pattern: %r' % data[:80])
        # RFC 867: one line
        line = ask(s, d.addr('daytime'), 'daytime').decode('ascii')
        check(DAYTIME_RE.match(line), 'daytime line %r' % line)
        s.close()

        # a burst from one source: at most a second's worth, plus the refill
        for name in ('chargen', 'daytime'):
            s = udp()
            mark = d.log_count()
            start = time.monotonic()
            for i in range(BURST):
                s.sendto(b'%d' % i, d.addr(name))
            sent = time.monotonic() - start
            d.wait_log(r'listener %s: dropped a datagram .*over udp_rate' % name, start=mark)
            got = answers(s)
            allowed = RATE + int(RATE * (sent + 0.1)) + 1
            check(1 <= len(got) <= allowed, '%s: %d answers to a burst of %d at udp_rate %d '
                  '(at most %d)' % (name, len(got), BURST, RATE, allowed))
            # another source is not charged for it
            other = udp(('127.0.0.2', 0))
            ask(other, d.addr(name), '%s from another source' % name)
            other.close()
            s.close()

        # udp_rate = 0: every datagram answered (a lab's setting)
        s = udp()
        port = d.port('free')
        for i in range(50):
            s.sendto(b'x', ('127.0.0.1', port))
        got = answers(s)
        check_eq(len(got), 50, 'answers with udp_rate = 0')
        s.close()


if __name__ == '__main__':
    main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# chargen (RFC 864): the stream is byte-exact against the rotating pattern
# (computed here: 95 printable characters 0x20..0x7e in a ring, line N is the
# 72 characters from ring index N mod 95, then CRLF); a client that stops
# reading does not make the daemon buffer without bound, and the stream goes
# on correctly when it reads again.
import os
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_rss_growth, connect, fail, listener,  # noqa: E402
                        main, recv_exact, rss_kib, server_section)

RING = bytes(range(0x20, 0x7f))
LINE = 74


def line(n):
    i = n % len(RING)
    return (RING + RING)[i:i + 72] + b'\r\n'


def expected(first, count):
    return b''.join(line(n) for n in range(first, first + count))


def compare(got, first):
    want = expected(first, len(got) // LINE + 1)[:len(got)]
    if got != want:
        for k in range(0, len(got), LINE):
            if got[k:k + LINE] != want[k:k + LINE]:
                fail('chargen line %d: expected %r, got %r' %
                     (first + k // LINE, want[k:k + LINE], got[k:k + LINE]))


def run():
    assert len(RING) == 95
    conf = {'server': server_section(),
            'listener cg': listener('chargen', output_limit=65536)}
    with Daemon(conf) as d:
        addr = d.addr('cg')
        s = connect(addr, timeout=10, rcvbuf=16384)
        got = recv_exact(s, 200 * LINE, timeout=10)
        check(got[:1] == b' ', 'line 0 must start with a space, got %r' % got[:LINE])
        compare(got, 0)

        # stop reading for a while: the daemon must not buffer without bound
        # (the 2 s without reading are the thing under test)
        rss0 = rss_kib(d.pid)
        time.sleep(2.0)
        check_rss_growth(d.pid, rss0, 'in 2 s for a chargen client that does '
                         'not read')

        # read on: the stream continues exactly where it left off
        more = recv_exact(s, 20000 * LINE, timeout=20)
        compare(more, 200)
        check(d.alive(), 'the daemon died')
        abort(s)


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# max_clients: at the limit (counted over all listeners together) the daemon
# stops accepting (logs "accepting paused"); a further client completes the
# handshake (it waits in the backlog) but gets no service; when a slot frees
# the daemon resumes ("accepting resumed") and serves it.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check_eq, connect, echo_check, echo_roundtrip,  # noqa: E402
                        expect_silence, listener, main, recv_exact, server_section)


def run():
    conf = {'server': server_section(max_clients=2),
            'listener echo': listener('echo'),
            'listener other': listener('echo')}
    with Daemon(conf) as d:
        addr = d.addr('echo')
        # one client on each listener: the limit is for all of them together
        a = echo_check(addr, b'first\n')
        b = echo_check(d.addr('other'), b'second\n')
        d.wait_log(r'accepting paused', timeout=5)

        c = connect(addr, timeout=5)   # completes: the kernel queues it
        c.sendall(b'third\n')
        o = connect(d.addr('other'), timeout=5)
        o.sendall(b'other\n')
        expect_silence(c, 1.5)
        expect_silence(o, 0.1)
        echo_roundtrip(b, b'second still served\n')
        abort(o)   # leave c as the only one waiting

        mark = d.log_count()
        a.close()
        got = recv_exact(c, len(b'third\n'), timeout=5)
        check_eq(got, b'third\n', 'echo to the third client once a slot freed')
        d.wait_log(r'accepting resumed', timeout=5, start=mark)
        echo_roundtrip(c, b'third served\n')
        echo_roundtrip(b, b'second served\n')
        # the limit still holds: both slots are taken again
        d.wait_log(r'accepting paused', timeout=5, start=mark)
        e = connect(addr, timeout=5)
        e.sendall(b'fourth\n')
        expect_silence(e, 1.0)
        for s in (b, c, e):
            abort(s)


main(run)

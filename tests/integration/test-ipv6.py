#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# ipv6: "address = ::1" listens on [::1]:PORT; "address = *" is one
# dual-stack socket (one per worker) logged as [::]:PORT that accepts over
# IPv4 and IPv6.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_refused, echo_check,  # noqa: E402
                        have_ipv6_loopback, listener, main, server_section, skip,
                        ss_listen_queues, test_workers)


def run():
    if not have_ipv6_loopback():
        skip('this host has no IPv6 loopback (::1)')
    conf = {'server': server_section(),
            'listener six': listener('echo', address='::1'),
            'listener any': listener('echo', address='*')}
    with Daemon(conf) as d:
        six = d.listeners['six']
        check(six['text'].startswith('[::1]:'),
              'listening line of ::1 must show [::1]:PORT, got %r' % six['text'])
        host, port = six['addr']
        abort(echo_check(('::1', port)))
        check_refused(('127.0.0.1', port), 'IPv4 connect to the port of the '
                      '::1-only listener', d.pid)

        anyl = d.listeners['any']
        check(anyl['text'].startswith('[::]:'),
              'listening line of address=* must show [::]:PORT, got %r' % anyl['text'])
        port = anyl['addr'][1]
        abort(echo_check(('127.0.0.1', port)))
        abort(echo_check(('::1', port)))
        rows = ss_listen_queues(port)
        check(len(rows) == test_workers() and all(r[2].startswith('*:') for r in rows),
              'address=* must be one dual-stack socket per worker; ss shows %r' % rows)


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# backlog: the configured backlog reaches listen() unchanged (the kernel's
# view, ss's Send-Q of the listening socket, is 7 for backlog = 7), and a
# backlog above net.core.somaxconn is reported with a warning naming both
# numbers while the kernel caps it at somaxconn.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, listener, main, server_section, skip,  # noqa: E402
                        somaxconn, ss_listen_queues, test_workers)


def kernel_backlog(port):
    """The backlog of the listener's sockets (one per worker), all alike."""
    rows = ss_listen_queues(port, '127.0.0.1')
    check(len(rows) == test_workers(), 'expected %d listening sockets on port %d, ss '
          'shows %r' % (test_workers(), port, rows))
    check(len(set(r[1] for r in rows)) == 1, 'the sockets differ: %r' % rows)
    return rows[0][1]


def run():
    cap = somaxconn()
    if cap > (1 << 30):
        skip('somaxconn is %d: no backlog above it to test' % cap)
    big = cap + 100
    conf = {'server': server_section(),
            'listener small': listener('echo', backlog=7),
            'listener big': listener('echo', backlog=big)}
    with Daemon(conf) as d:
        check_eq(d.listeners['small']['backlog'], 7, 'backlog= in the listening line')
        check_eq(kernel_backlog(d.port('small')), 7,
                 'the kernel backlog (ss Send-Q) of the backlog=7 listener')

        check_eq(d.listeners['big']['backlog'], big,
                 'backlog= in the listening line (the configured value)')
        warns = [l for l in d.log_lines() if 'somaxconn' in l]
        check(warns, 'expected a warning about somaxconn (%d) capping backlog %d; '
              'log:\n%s' % (cap, big, '\n'.join(d.log_lines())))
        check(any(str(cap) in l and str(big) in l for l in warns),
              'the somaxconn warning must name both %d and %d: %r' % (cap, big, warns))
        check(any(' warn: ' in l for l in warns),
              'the somaxconn line must be at level warn: %r' % warns)
        check_eq(kernel_backlog(d.port('big')), cap,
                 'the kernel backlog (ss Send-Q) of the backlog=%d listener' % big)


main(run)

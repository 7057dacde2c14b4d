#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# timeout: a listener that never accepts, with its listen queue full, drops
# further SYNs; the client gets no SYN-ACK and gives up after
# --connect-timeout. Every attempt counts as timeout, none is established,
# exit code 3, and the run takes about the timeout, not the kernel's
# minutes of SYN retries.
import errno
import os
import select
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import ERRORS, check_report, run_load  # noqa: E402
from synacktest import check, check_eq, fail, listening_socket, main  # noqa: E402


def fill(addr):
    """Connect until a handshake no longer completes: the queue is full."""
    socks = []
    for _ in range(64):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setblocking(False)
        rc = s.connect_ex(addr)
        socks.append(s)
        if rc not in (0, errno.EINPROGRESS):
            fail('filling the queue: connect: %s' % os.strerror(rc))
        # a connect that ends (established: the queue took it; or an
        # error) makes the socket writable; one that stays in SYN_SENT
        # for 0.3 s means nothing more gets in
        _, writable, _ = select.select([], [s], [], 0.3)
        if not writable:
            return socks
    fail('the listen queue of a backlog 1 listener never filled')


def run():
    lst = listening_socket(backlog=1)
    addr = lst.getsockname()
    held = fill(addr)
    target = '127.0.0.1:%d' % addr[1]

    r = run_load(['-c', '3', '-T', '300', '-d', '10', target])
    check_eq(r.rc, 3, 'exit code with no connection established\n' + r.describe())
    rep = check_report(r, 'rr', target)
    check_eq(rep['connections']['attempted'], 3, 'attempts')
    check_eq(rep['connections']['established'], 0, 'established')
    check_eq(rep['errors']['timeout'], 3, 'timeouts')
    for e in ERRORS:
        if e != 'timeout':
            check_eq(rep['errors'][e], 0, 'errors.%s' % e)
    check(0.25 <= rep['duration_s'] < 3, 'the run lasts about --connect-timeout 300 ms, '
          'took %.3f s' % rep['duration_s'])
    for s in held:
        s.close()
    lst.close()


main(run, timeout=60)

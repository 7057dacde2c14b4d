#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# port in use: when the configured port is taken, synackd exits 71 with
# "listener NAME: bind 127.0.0.1:PORT: Address already in use" and leaves
# no listening socket behind; the listener that held the port keeps
# working.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (LISTEN_RE, check, check_eq, listener, main, parse_addr,  # noqa: E402
                        run_daemon_expect_fail, server_section, ss_listen_queues,
                        try_connect)


def run():
    mine = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    mine.bind(('127.0.0.1', 0))
    mine.listen(8)
    port = mine.getsockname()[1]
    conf = {'server': server_section(),
            'listener first': listener('echo'),
            'listener busy': listener('echo', port=port)}
    r = run_daemon_expect_fail(conf)
    check_eq(r.rc, 71, 'exit status when the port is in use (stderr: %r)' % r.err)
    want = 'listener busy: bind 127.0.0.1:%d: Address already in use' % port
    check(want in r.err, 'stderr must contain %r, got %r' % (want, r.err))

    rows = ss_listen_queues(port, '127.0.0.1')
    check_eq(len(rows), 1, 'listening sockets on port %d after the failed start '
             '(only ours): %r' % (port, rows))
    # if the other listener said it was listening, it must be gone as well
    for line in r.err.splitlines():
        m = LISTEN_RE.search(line)
        if m and m.group(1) == 'first':
            other = parse_addr(m.group(2))
            s, e = try_connect(other)
            if s:
                s.close()
            check(s is None, 'listener "first" (%s) still accepts after the failed '
                  'start' % m.group(2))
    s, e = try_connect(('127.0.0.1', port))
    check(s is not None, 'our listener on the port must still accept: errno %s' % e)
    a, _ = mine.accept()
    for x in (s, a, mine):
        x.close()


main(run)

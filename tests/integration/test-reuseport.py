#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# reuseport: with reuseport = yes a second daemon can listen on the port the
# first one got; without it the second start fails with exit 71.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, echo_check, listener, main,  # noqa: E402
                        run_daemon_expect_fail, server_section, ss_listen_queues,
                        test_workers)


def run():
    conf = {'server': server_section(),
            'listener a': listener('echo', reuseport='yes')}
    with Daemon(conf) as first:
        port = first.port('a')
        conf2 = {'server': server_section(),
                 'listener b': listener('echo', port=port, reuseport='yes')}
        with Daemon(conf2) as second:
            check_eq(second.port('b'), port, 'port of the second daemon')
            check_eq(len(ss_listen_queues(port, '127.0.0.1')), 2 * test_workers(),
                     'listening sockets on port %d (one per daemon and worker)' % port)
            for _ in range(4):
                echo_check(('127.0.0.1', port)).close()

    conf = {'server': server_section(),
            'listener a': listener('echo')}
    with Daemon(conf) as first:
        port = first.port('a')
        conf2 = {'server': server_section(),
                 'listener b': listener('echo', port=port)}
        r = run_daemon_expect_fail(conf2)
        check_eq(r.rc, 71, 'second daemon on a taken port without reuseport '
                 '(stderr %r)' % r.err)
        check('bind 127.0.0.1:%d: Address already in use' % port in r.err,
              'stderr must name the bind failure: %r' % r.err)
        echo_check(first.addr('a')).close()


main(run)

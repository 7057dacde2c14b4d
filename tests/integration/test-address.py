#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# address: a listener bound to one specific address (127.0.0.2, port 0)
# accepts there, and the same port on another loopback address (127.0.0.1)
# is refused; a 0.0.0.0 listener accepts on any loopback address.
import errno
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_eq, check_refused, echo_check,  # noqa: E402
                        listener, main, server_section, skip, try_connect)


def run():
    probe, err = try_connect(('127.0.0.2', 9), timeout=2)
    if probe:
        probe.close()
    elif err in (errno.EADDRNOTAVAIL, errno.ENETUNREACH):
        skip('127.0.0.2 is not usable on this host (%s)' % os.strerror(err))
    conf = {'server': server_section(),
            'listener two': listener('echo', address='127.0.0.2'),
            'listener all': listener('echo', address='0.0.0.0')}
    with Daemon(conf) as d:
        host, port = d.addr('two')
        check_eq(host, '127.0.0.2', 'address in the listening line')
        check(port > 0, 'the real port must be logged, got %d' % port)
        s = echo_check(('127.0.0.2', port))
        abort(s)
        check_refused(('127.0.0.1', port), 'connect to 127.0.0.1:%d (the listener '
                      'is bound to 127.0.0.2 only)' % port, d.pid)

        # 0.0.0.0 is every IPv4 address
        check(d.listeners['all']['text'].startswith('0.0.0.0:'),
              'listening line of 0.0.0.0 must show 0.0.0.0:PORT, got %r'
              % d.listeners['all']['text'])
        port = d.port('all')
        for host in ('127.0.0.1', '127.0.0.2', '127.1.2.3'):
            abort(echo_check((host, port)))


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# keepalive: with keepalive = yes the daemon's end of each connection has
# SO_KEEPALIVE on (ss shows a keepalive timer); with no it does not.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import Daemon, check, echo_check, listener, main, server_section, ss  # noqa: E402


def server_side(port, cport):
    out = ss(['-tnoH', 'state', 'established',
              '( sport = :%d and dport = :%d )' % (port, cport)])
    check(out.strip(), 'ss shows no daemon-side socket %d->%d' % (port, cport))
    return out


def run():
    conf = {'server': server_section(),
            'listener ka': listener('echo', keepalive='yes'),
            'listener plain': listener('echo', keepalive='no')}
    with Daemon(conf) as d:
        s = echo_check(d.addr('ka'))
        out = server_side(d.port('ka'), s.getsockname()[1])
        check('keepalive' in out, 'keepalive = yes: the daemon\'s socket must have '
              'a keepalive timer, ss shows %r' % out)
        s.close()
        s = echo_check(d.addr('plain'))
        out = server_side(d.port('plain'), s.getsockname()[1])
        check('keepalive' not in out, 'keepalive = no: no keepalive timer expected, '
              'ss shows %r' % out)
        s.close()


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# crr: a connection per request. Connections are opened again and again
# (attempted and established far above -c), each carries one verified
# request, and because the client closes with a reset no TIME_WAIT socket
# is left behind on either side of the server's port.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, main, ss  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))


def time_wait(port):
    out = ss(['-tanH', 'state', 'time-wait', '( sport = :%d or dport = :%d )' % (port, port)])
    return [l for l in out.splitlines() if l.strip()]


def run():
    with echo_daemon() as d:
        target = target_of(d)
        port = d.port('echo')
        r = run_load(['-m', 'crr', '-c', '4', '-d', '1', target])
        rep = check_clean(r, 'crr', target)
        est = rep['connections']['established']
        check(rep['requests'] >= 50, 'expected at least 50 connect-request-close cycles '
              'in a second, got %d\n%s' % (rep['requests'], r.describe()))
        # each established connection carries one request; at the end up to
        # -c of them are cut short in the middle
        check(rep['requests'] <= est <= rep['requests'] + 4,
              'established %d vs requests %d' % (est, rep['requests']))
        check(est <= rep['connections']['attempted'] <= est + 4,
              'attempted %d vs established %d' % (rep['connections']['attempted'], est))
        check_eq(rep['bytes_received'], rep['requests'] * 64, 'bytes verified')
        check_eq(rep['connect_latency_us']['count'], est, 'connect latency samples')
        tw = time_wait(port)
        check(not tw, 'expected no TIME_WAIT socket on port %d after crr, got %d, e.g. %r'
              % (port, len(tw), tw[:3]))


main(run, timeout=60)

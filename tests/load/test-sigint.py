#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# SIGINT: stops the run early and still reports what was measured so far
# (interrupted: true, the real duration), exit 0. In hold mode the last
# echo still happens after the interrupt, so every connection is verified.
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_report, echo_daemon, start_load, target_of  # noqa: E402
from synacktest import check, check_eq, main, wait_for  # noqa: E402

SIZE = 64


def interrupt(d, args, conns, exchanged):
    """Start synack-load on d's echo listener, SIGINT it once its conns
    connections are served (and, with exchanged, one of them sent its
    second message: a reply arrived), wait for its report: (Result, seconds
    from start to SIGINT, seconds from SIGINT to exit)."""
    base = d.listener_stats('echo')

    def under_way():
        now = d.listener_stats('echo')
        return (now['accepted'] - base['accepted'] >= conns and
                (not exchanged or now['bytes_in'] - base['bytes_in'] > conns * SIZE))
    load = start_load(args + ['-s', str(SIZE), target_of(d)])
    wait_for(under_way, 10, interval=0.05, what='the run under way')
    at = load.elapsed()
    t0 = time.monotonic()
    load.send_signal(signal.SIGINT)
    r = load.finish(timeout=10)
    return r, at, time.monotonic() - t0


def run():
    with echo_daemon(metrics='127.0.0.1:0') as d:
        target = target_of(d)
        r, at, took = interrupt(d, ['-c', '5', '-d', '60'], 5, True)
        check_eq(r.rc, 0, 'exit code after SIGINT\n' + r.describe())
        rep = check_report(r, 'rr', target)
        check(took < 2, 'exited %.1f s after SIGINT' % took)
        check_eq(rep['interrupted'], True, 'interrupted')
        check(0 < rep['duration_s'] <= at + took, 'duration_s %r is the time until '
              'SIGINT (sent %.2f s after the start)' % (rep['duration_s'], at))
        check(rep['requests'] > 0, 'requests measured before SIGINT')

        r, at, took = interrupt(d, ['-m', 'hold', '-c', '50', '-d', '60'], 50, False)
        check_eq(r.rc, 0, 'hold: exit code after SIGINT\n' + r.describe())
        rep = check_report(r, 'hold', target)
        check_eq(rep['requests'], 50, 'hold: every connection verified after SIGINT')


main(run, timeout=60)

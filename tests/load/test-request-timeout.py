#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --request-timeout: synackd is stopped (SIGSTOP) during a run, so that no
# request in flight is answered. rr, closed loop and open loop (-R): each
# of the 5 connections has a request in flight, each counts one "noreply"
# about 300 ms later and is closed, not reopened; with no connection left
# the run ends early and reports. crr: a connection whose echo does not
# come counts "noreply" and the next one is opened after the usual pause,
# so with the server stopped for the rest of a 2 s run each slot fails
# several times.
# The daemon is continued (SIGCONT) in every case before the test goes on.
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import (ERRORS, check_report, client_count, echo_daemon, start_load,  # noqa: E402
                      target_of)
from synacktest import check, check_eq, main, note, wait_for  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))

TIMEOUT_MS = 300
SIZE = 64


def stopped_run(d, args, conns):
    """Start synack-load, stop synackd once every connection arrived and a
    reply came back (some connection sent its next message), wait for the
    report, continue synackd."""
    mark = d.log_count()
    base = d.listener_stats('echo')['bytes_in']
    load = start_load(args + ['-s', str(SIZE), '--request-timeout', str(TIMEOUT_MS),
                              '--max-error-rate', '1'])
    wait_for(lambda: client_count(d, mark) >= conns, 5, what='%d clients connected' % conns)
    wait_for(lambda: d.listener_stats('echo')['bytes_in'] - base > conns * SIZE, 5,
             interval=0.05, what='a reply to come back')
    d.send_signal(signal.SIGSTOP)
    t = time.monotonic()
    try:
        r = load.finish(timeout=20)
        after = time.monotonic() - t
    finally:
        d.send_signal(signal.SIGCONT)
    return r, after


def only_noreply(r, rep):
    for e in ERRORS:
        check_eq(rep['errors'][e], 0, 'errors.%s\n%s' % (e, r.describe()))


def run():
    with echo_daemon(log_level='debug', metrics='127.0.0.1:0') as d:
        target = target_of(d)
        for extra in ([], ['-R', '1000']):
            r, after = stopped_run(d, ['-c', '5', '-d', '20'] + extra + [target], 5)
            what = ' '.join(['rr'] + extra)
            check_eq(r.rc, 0, '%s: exit code\n%s' % (what, r.describe()))
            rep = check_report(r, 'rr', target)
            check_eq(rep['errors']['noreply'], 5,
                     '%s: noreply, one per connection with a request in flight\n%s'
                     % (what, r.describe()))
            only_noreply(r, rep)
            check_eq(rep['connections']['attempted'], 5, '%s: attempts (none reopened)' % what)
            check(rep['requests'] > 0, '%s: requests before the stop' % what)
            note('%s: %d noreply, the run ended %.2f s after the server stopped'
                 % (what, rep['errors']['noreply'], after))
            check(TIMEOUT_MS / 1000 <= after <= 3, '%s: the run should end about %d ms after '
                  'the server stopped, not at -d 20; it took %.2f s' % (what, TIMEOUT_MS, after))

        # crr: the server stays stopped until the run ends; slots reopen
        r, after = stopped_run(d, ['-m', 'crr', '-c', '2', '-d', '2', target], 2)
        check_eq(r.rc, 0, 'crr: exit code\n' + r.describe())
        rep = check_report(r, 'crr', target)
        only_noreply(r, rep)
        check(rep['errors']['noreply'] >= 4, 'crr: each of the 2 slots should time out at '
              'least twice while it is stopped, noreply %d\n%s'
              % (rep['errors']['noreply'], r.describe()))
        note('crr: %d noreply in %.2f s' % (rep['errors']['noreply'], rep['duration_s']))
        check(rep['duration_s'] >= 1.9, 'crr runs its duration: %.3f s' % rep['duration_s'])


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# open loop: with -R requests leave on schedule, answered or not, and each
# latency counts from the request's scheduled time (wrk2's correction for
# coordinated omission). synackd is stopped (SIGSTOP) for 200 ms in the
# middle of a 4 s run at 2000 requests/s over 10 connections: the 400
# requests due during the stall (5% of 8000) wait from 200 ms down to 0,
# so the slowest 1% (80 requests, 40 ms of schedule) waited more than
# about 160 ms: p99 is the stall less 40 ms, p50 stays small. Closed loop
# (no -R) under the same stall only has its 10 requests in flight wait:
# its p99 stays far below, and the stall shows only in its maximum. The
# two runs are printed side by side.
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, client_count, echo_daemon, start_load, target_of  # noqa: E402
from synacktest import check, main, note, wait_for  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))

RATE = 2000
CONNS = 10
DURATION = 4.0
STALL = 0.2


def stalled_run(d, target, extra):
    """A 4 s rr run with synackd stopped for STALL s in its middle: the
    report, and the stall as the test's clock measured it, (at least,
    at most): the test itself may be descheduled on a busy machine."""
    mark = d.log_count()
    load = start_load(['-c', str(CONNS), '-d', str(DURATION)] + extra + [target])
    wait_for(lambda: client_count(d, mark) >= CONNS, 5,
             what='%d clients connected' % CONNS)
    # the stall goes in the middle of the run, wherever the start was: a
    # point in the run's time, the thing under test, not a condition
    time.sleep(max(0.0, DURATION / 2 - load.elapsed()))
    t_a = time.monotonic()
    d.send_signal(signal.SIGSTOP)
    t_b = time.monotonic()
    try:
        time.sleep(STALL)       # the stall under test
    finally:
        t_c = time.monotonic()
        d.send_signal(signal.SIGCONT)
        t_d = time.monotonic()
    r = load.finish(timeout=30)
    return check_clean(r, 'rr', target), (t_c - t_b, t_d - t_a), r


def ms(rep, key):
    return rep['latency_us'][key] / 1000.0


def sent_per_s(rep):
    return rep['bytes_sent'] / 64.0 / rep['duration_s']


def run():
    with echo_daemon(log_level='debug') as d:
        target = target_of(d)
        opened, stall_o, r_o = stalled_run(d, target, ['-R', str(RATE)])
        closed, stall_c, r_c = stalled_run(d, target, [])

    note('under a %.0f ms stall (%.0f ms in the closed-loop run):' %
         (stall_o[0] * 1000, stall_c[0] * 1000))
    note('%-22s %10s %10s %10s %10s %10s' % ('', 'requests', 'p50 ms', 'p99 ms', 'p99.9 ms',
                                             'max ms'))
    for name, rep in (('open loop, -R %d' % RATE, opened), ('closed loop', closed)):
        note('%-22s %10d %10.2f %10.2f %10.2f %10.2f' % (
            name, rep['requests'], ms(rep, 'p50'), ms(rep, 'p99'), ms(rep, 'p999'),
            ms(rep, 'max')))

    # open loop: the rate was kept (sent on schedule), and p99 is what the
    # schedule implies: the stall less the 1% of the requests' schedule
    check(abs(sent_per_s(opened) - RATE) <= RATE * 0.02,
          'open loop: %.1f requests/s sent for -R %d\n%s' % (sent_per_s(opened), RATE,
                                                              r_o.describe()))
    share = 0.01 * opened['requests'] / RATE * 1000
    lo, hi = stall_o[0] * 1000 - share - 25, stall_o[1] * 1000 - share + 30
    p99 = ms(opened, 'p99')
    check(lo <= p99 <= hi and p99 >= 100,
          'open loop: p99 %.1f ms, expected %.0f to %.0f ms (the stall of %.0f to %.0f ms '
          'less %.0f ms, 1%% of the requests\' schedule)\n%s'
          % (p99, lo, hi, stall_o[0] * 1000, stall_o[1] * 1000, share, r_o.describe()))
    check(ms(opened, 'p50') < 10, 'open loop: p50 %.2f ms should stay small'
          % ms(opened, 'p50'))
    check(ms(opened, 'max') >= stall_o[0] * 1000 * 0.95,
          'open loop: max %.1f ms, the stall was %.0f ms' % (ms(opened, 'max'),
                                                             stall_o[0] * 1000))

    # closed loop: the stall is in the maximum only
    check(ms(closed, 'p99') < 20,
          'closed loop: p99 %.2f ms should stay far below the stall\n%s' % (
              ms(closed, 'p99'), r_c.describe()))
    check(ms(closed, 'max') >= stall_c[0] * 1000 * 0.95,
          'closed loop: max %.1f ms, the stall was %.0f ms' % (ms(closed, 'max'),
                                                               stall_c[0] * 1000))
    check(closed['requests'] > opened['requests'],
          'closed loop sends as fast as it can: %d requests, open loop %d'
          % (closed['requests'], opened['requests']))


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --rate: connections are opened at the given rate, not at once: 20
# connections at 40/s reach the server over about half a second (synackd's
# debug log has each client's arrival to the millisecond); without --rate
# they arrive together.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import arrivals, check_clean, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402


def run():
    with echo_daemon(log_level='debug') as d:
        target = target_of(d)
        mark = d.log_count()
        r = run_load(['-m', 'hold', '-c', '20', '-r', '40', '-t', '2', '-d', '1.2', target])
        check_clean(r, 'hold', target)
        t = arrivals(d, mark)
        check_eq(len(t), 20, 'clients that arrived')
        spread = (max(t) - min(t)).total_seconds()
        check(0.35 <= spread <= 0.8, '20 connections at 40/s should arrive over ~0.475 s, '
              'took %.3f s' % spread)

        mark = d.log_count()
        r = run_load(['-m', 'hold', '-c', '20', '-d', '0.5', target])
        check_clean(r, 'hold', target)
        t = arrivals(d, mark)
        check_eq(len(t), 20, 'clients that arrived')
        spread = (max(t) - min(t)).total_seconds()
        check(spread < 0.3, 'without --rate all 20 arrive at once, took %.3f s' % spread)


main(run, timeout=60)

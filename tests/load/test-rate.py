#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# rates: what is asked is what is delivered when the server keeps up.
# rr -R 5000 for 3 s sends 5000 requests a second over the run's duration
# within 2% (bytes sent over the message size), and they are answered
# but for those the end of the run cut short; crr --connect-rate 500
# for 3 s attempts 1500 connections within 2%, each a verified echo; hold
# --connect-rate 200 with 200 connections opens them over about a second
# (the server's debug log has each arrival to the millisecond), not at
# once.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import arrivals, check_clean, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, main, note  # noqa: E402


def within(got, want, share):
    return abs(got - want) <= want * share


def run():
    with echo_daemon(log_level='debug') as d:
        target = target_of(d)

        r = run_load(['-R', '5000', '-c', '50', '-d', '3', target])
        rep = check_clean(r, 'rr', target)
        sent = rep['bytes_sent'] // 64
        inflight = (rep['bytes_sent'] - rep['bytes_received']) / 64.0
        rate = sent / rep['duration_s']
        note('rr -R 5000: %d requests sent in %.3f s: %.1f/s; %d answered (%.1f/s), '
             '%.0f in flight at the end' % (sent, rep['duration_s'], rate, rep['requests'],
                                            rep['requests_per_s'], inflight))
        check(within(rate, 5000, 0.02), 'rr -R 5000 sent %.1f requests/s\n%s'
              % (rate, r.describe()))
        # and answered, but for those the end of the run cut short (a few,
        # unless the server fell behind on a busy machine)
        check(rep['requests'] >= 0.95 * sent, 'rr -R 5000: %d answered of %d sent'
              % (rep['requests'], sent))
        check_eq(rep['connections']['established'], 50, 'connections established')

        r = run_load(['-m', 'crr', '--connect-rate', '500', '-c', '10', '-d', '3', target])
        rep = check_clean(r, 'crr', target)
        attempts = rep['connections']['attempted']
        note('crr --connect-rate 500: %d attempts in %.3f s' % (attempts, rep['duration_s']))
        check(within(attempts, 1500, 0.02), 'crr --connect-rate 500 for 3 s: %d attempts, '
              'expected 1500\n%s' % (attempts, r.describe()))
        check(rep['requests'] >= attempts - 10, '%d attempts but %d echoes'
              % (attempts, rep['requests']))

        mark = d.log_count()
        r = run_load(['-m', 'hold', '--connect-rate', '200', '-c', '200', '-d', '1.5', target])
        rep = check_clean(r, 'hold', target)
        check_eq(rep['connections']['established'], 200, 'connections established')
        check_eq(rep['requests'], 200, 'one final echo per connection')
        t = arrivals(d, mark)
        check_eq(len(t), 200, 'clients that arrived')
        spread = (max(t) - min(t)).total_seconds()
        note('hold --connect-rate 200: 200 connections arrived over %.3f s' % spread)
        check(0.9 <= spread <= 1.4, '200 connections at 200/s should arrive over ~0.995 s, '
              'took %.3f s' % spread)


main(run, timeout=60)

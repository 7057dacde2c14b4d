#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --warmup: the load runs for warm-up + duration, and every statistic counts
# from the end of the warm-up. Against an echo server of the test's own
# that answers each message after 20 ms (so the rate is the same on a busy
# machine: 2 connections, about 100 requests/s), a run of -d 2 --warmup 1
# lasts about 3 s, reports duration_s within 0.1 of 2, starts its clock
# (start_unix, the first interval) a second after it began, has 2
# intervals, and counts about 2 s worth of the 3 s of requests the server
# answered: requests per second are those of a run without warm-up. The
# connections opened in the warm-up are not counted again, and a hold run
# whose connections all opened in the warm-up still succeeds. A run that
# ends in its warm-up (nothing listens) reports what it saw.
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import Server, check_clean, check_report, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, hold_port, main  # noqa: E402

DELAY = 0.02
SIZE = 64


class SlowEcho(Server):
    """Echoes each 64-byte message after DELAY; counts the messages."""

    def __init__(self):
        self.answered = 0
        self.lock = threading.Lock()
        super().__init__(self.echo)

    def echo(self, c, n):
        buf = b''
        while True:
            data = c.recv(65536)
            if not data:
                break
            buf += data
            while len(buf) >= SIZE:
                msg, buf = buf[:SIZE], buf[SIZE:]
                time.sleep(DELAY)   # the slow server's latency under test
                c.sendall(msg)
                with self.lock:
                    self.answered += 1

    def count(self):
        with self.lock:
            return self.answered


def run():
    s = SlowEcho()
    t0 = time.time()
    before = s.count()
    r = run_load(['-c', '2', '-d', '2', '--warmup', '1', s.target])
    served = s.count() - before
    warm = check_clean(r, 'rr', s.target)
    check(2.8 <= r.elapsed < 5, 'load for warm-up + duration: %.2f s' % r.elapsed)
    check(abs(warm['duration_s'] - 2) <= 0.1, 'duration_s %r' % warm['duration_s'])
    check_eq(warm['options']['warmup_s'], 1, 'options.warmup_s')
    check_eq(warm['ended_in_warmup'], False, 'ended_in_warmup')
    check(0.9 <= warm['start_unix'] - t0 <= 1.6,
          'measurement starts after the warm-up: %.3f s after the launch'
          % (warm['start_unix'] - t0))
    check_eq(len(warm['intervals']), 2, 'intervals of a 2 s measurement')
    check(warm['intervals'][0]['t'] >= int(t0 + 0.9), 'the first interval is after the '
          'warm-up: t %d, launched at %.3f' % (warm['intervals'][0]['t'], t0))
    check_eq(warm['connections']['attempted'], 0, 'connections opened in the warm-up')
    check(all(iv['open'] == 2 for iv in warm['intervals']), 'both connections open')
    check_eq(warm['latency_us']['count'], warm['requests'], 'one latency per request')
    check(warm['latency_us']['p50'] >= DELAY * 1e6, 'latency includes the server\'s delay')
    # 2 of the 3 seconds the server answered: the warm-up is left out (counting
    # it would give 1; the bounds leave room for a busy machine's stalls)
    share = warm['requests'] / served
    check(0.55 <= share <= 0.8, 'the report counts %d of the %d requests served (%.2f), '
          'expected about 2/3' % (warm['requests'], served, share))

    r = run_load(['-c', '2', '-d', '2', s.target])
    cold = check_clean(r, 'rr', s.target)
    # warm-up requests over the measured time would be 1.5, measured requests
    # over the whole time 0.67
    ratio = warm['requests_per_s'] / cold['requests_per_s']
    check(0.78 <= ratio <= 1.28, 'requests/s with warm-up %.1f, without %.1f'
          % (warm['requests_per_s'], cold['requests_per_s']))
    check(abs(cold['start_unix'] - (time.time() - r.elapsed)) < 0.5,
          'without warm-up, measuring starts at once')

    r = run_load(['-c', '2', '-d', '1', '--warmup', '0.5', s.target], want_json=False)
    check_eq(r.rc, 0, 'exit code\n' + r.describe())
    check(r.out.splitlines()[0].endswith(' s after a 0.5 s warm-up'),
          'the summary names the warm-up: %r' % r.out.splitlines()[0])
    s.close()

    with echo_daemon() as d:
        target = target_of(d)
        r = run_load(['-m', 'hold', '-c', '5', '-d', '1', '--warmup', '0.5', target])
        rep = check_clean(r, 'hold', target)
        check_eq(rep['connections']['established'], 0, 'established in the warm-up')
        check_eq(rep['requests'], 5, 'the last echo of each connection')

    target = '127.0.0.1:%d' % hold_port()
    r = run_load(['-c', '3', '-d', '1', '--warmup', '5', target])
    check_eq(r.rc, 3, 'exit code\n' + r.describe())
    rep = check_report(r, 'rr', target)
    check(r.elapsed < 3, 'nothing to do: the run ends in its warm-up (%.1f s)' % r.elapsed)
    check_eq(rep['ended_in_warmup'], True, 'ended_in_warmup')
    check_eq(rep['errors']['refused'], 3, 'what the warm-up saw is reported')


main(run, timeout=60)

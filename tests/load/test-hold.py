#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# hold: N connections opened and kept idle for the duration (the server
# really has all of them at once), then each one verified with one echo:
# requests == N. A server that drops idle clients (idle_timeout) shows as
# "closed" for every connection, with no request and no verify error; a
# server that never answers (discard) leaves every last echo as "noreply"
# once --request-timeout has passed (--connect-timeout with
# --request-timeout 0). Both of those exit 3: connections were
# established, but no request completed.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, check_report, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402

N = 300


def run():
    with echo_daemon(log_level='debug') as d:
        target = target_of(d)
        r = run_load(['-m', 'hold', '-c', str(N), '-d', '1.5', target])
        rep = check_clean(r, 'hold', target)
        check_eq(rep['connections']['established'], N, 'connections established')
        check_eq(rep['requests'], N, 'one final echo per connection')
        check_eq(rep['bytes_received'], N * 64, 'bytes verified')
        connected = d.find_all_log(r'client \S+ connected to echo')
        check_eq(len(connected), N, 'clients the server saw connect')
        # all of them at once: no client left before the last one arrived
        lines = d.log_lines()
        last_connect = max(i for i, l in enumerate(lines) if ' connected to echo' in l)
        first_leave = min((i for i, l in enumerate(lines) if 'disconnected from echo' in l),
                          default=len(lines))
        check(last_connect < first_leave,
              'every connection must be open at the same time during hold')

    with echo_daemon(idle_timeout=1) as d:
        target = target_of(d)
        r = run_load(['-m', 'hold', '-c', '20', '-d', '2.5', target])
        check_eq(r.rc, 3, 'exit code (connections, but no request completed)\n'
                 + r.describe())
        rep = check_report(r, 'hold', target)
        check_eq(rep['errors']['closed'], 20, 'connections the server closed while idle')
        check_eq(rep['requests'], 0, 'requests')
        check_eq(rep['errors']['verify'], 0, 'verify errors')

    with echo_daemon(service='discard') as d:
        target = target_of(d, 'discard')
        for args, what in ((['--request-timeout', '400'], '--request-timeout'),
                           (['--request-timeout', '0', '-T', '400'], '--connect-timeout')):
            r = run_load(['-m', 'hold', '-c', '10', '-d', '0.5'] + args + [target])
            check_eq(r.rc, 3, 'exit code (connections, but no request completed)\n'
                     + r.describe())
            rep = check_report(r, 'hold', target)
            check_eq(rep['errors']['noreply'], 10, 'last echoes that never came back')
            check_eq(rep['requests'], 0, 'requests')
            check(0.8 <= r.elapsed < 5, 'the last echo waits %s (400 ms), run took %.1f s'
                  % (what, r.elapsed))


main(run, timeout=60)

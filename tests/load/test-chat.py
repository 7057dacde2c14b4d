#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# chat: N members in one synackd chat room, one line at a time. Lines are
# published and every other member gets each one (bytes_received is the
# fan-out: requests x (N-1) lines of prefix + payload), with one fan-out
# latency sample per line; members on several threads work the same way.
# Members the server never takes into the room (max_clients) are left out
# after --connect-timeout as noreply, and the others chat on; 2 members of
# 5 failing is over the default --max-error-rate (1%) of the connections:
# exit 4, and the report says which rate it was.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, check_report, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402


def run():
    with echo_daemon(service='chat') as d:
        target = target_of(d, 'chat')
        for members, threads in ((6, 1), (5, 2)):
            r = run_load(['-m', 'chat', '-c', str(members), '-t', str(threads), '-d', '1',
                          target])
            rep = check_clean(r, 'chat', target)
            check_eq(rep['connections']['established'], members, 'members connected')
            check(rep['requests'] >= 20, 'expected at least 20 lines fanned out in a '
                  'second, got %d' % rep['requests'])
            check_eq(rep['latency_us']['count'], rep['requests'], 'fan-out samples')
            # "127.0.0.1:PORT: " + 64 bytes + LF; ephemeral ports have 5 digits here
            line = len('127.0.0.1:40000: ') + 64 + 1
            per_line = (members - 1) * line
            got = rep['bytes_received']
            check(rep['requests'] * per_line <= got < (rep['requests'] + 1) * per_line,
                  'bytes received %d for %d lines to %d others of %d bytes'
                  % (got, rep['requests'], members - 1, line))

    with echo_daemon(service='chat', max_clients=3) as d:
        target = target_of(d, 'chat')
        r = run_load(['-m', 'chat', '-c', '5', '-T', '400', '-d', '1.5', target])
        check_eq(r.rc, 4, 'exit code: 2 of 5 members failed\n' + r.describe())
        rep = check_report(r, 'chat', target)
        check_eq(rep['connection_error_rate'], 0.4, 'connection error rate (2 of 5 members)')
        check_eq(rep['error_rate'], 0.4, 'error rate')
        check_eq(rep['connections']['established'], 5, 'handshakes (two wait in the backlog)')
        check_eq(rep['errors']['noreply'], 2, 'members the server never took in')
        check_eq(rep['errors']['verify'], 0, 'verify errors')
        check(rep['requests'] >= 20, 'the three others chat on: %d lines' % rep['requests'])


main(run, timeout=60)

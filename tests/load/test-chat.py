#!/usr/bin/env python3
# chat: N members in one synackd chat room, one line at a time. Lines are
# published and every other member gets each one (bytes_received is the
# fan-out: requests x (N-1) lines of prefix + payload), with one fan-out
# latency sample per line; members on several threads work the same way.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadtest import (check, check_clean, check_eq, echo_daemon, main,  # noqa: E402
                      run_load, target_of)


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


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# rr: persistent ping-pong against synackd's echo. Every connection is
# established once, requests are counted and every byte came back verified
# (bytes_received is exactly requests x size), one latency sample per
# request; with --threads the workers' results add up; a message larger
# than the socket buffers (partial writes and reads) is verified too; and
# the human summary has the percentiles and the distribution.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402


def one(target, conns, size, threads):
    r = run_load(['-m', 'rr', '-c', str(conns), '-s', str(size), '-t', str(threads),
                  '-d', '1', target])
    rep = check_clean(r, 'rr', target)
    check_eq(rep['connections']['attempted'], conns, 'connections attempted')
    check_eq(rep['connections']['established'], conns, 'connections established')
    check_eq(rep['bytes_received'], rep['requests'] * size,
             'bytes verified (requests x size)')
    check_eq(rep['latency_us']['count'], rep['requests'], 'latency samples')
    check(rep['bytes_sent'] >= rep['bytes_received'], 'sent at least what came back')
    check(0.9 <= rep['duration_s'] <= 3, 'duration_s %r for -d 1' % rep['duration_s'])
    return rep


def run():
    with echo_daemon() as d:
        target = target_of(d)
        one(target, 10, 64, 1)
        rep = one(target, 10, 64, 3)
        check(rep['threads'] == 3, 'threads in the report: %r' % rep.get('threads'))
        one(target, 2, 1 << 20, 1)

        r = run_load(['-c', '4', '-d', '0.5', target], want_json=False)
        check_eq(r.rc, 0, 'exit code of a clean run\n' + r.describe())
        for text in ('requests', 'p50', 'p99.9', 'max', 'latency distribution',
                     'errors       none', '4 attempted, 4 established'):
            check(text in r.out, 'the summary shows %r\n%s' % (text, r.describe()))


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# usage: -h and -V exit 0 and print to stdout; every bad command line
# (no target, two targets, unknown option or mode, a value out of range or
# with a unit that is not one, a target that is no address, port 0, "*")
# exits 2 with a message that names the problem and one line that points
# to --help (not the whole usage), and connects nowhere.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import run_load  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402

BAD = [
    ([], 'no target'),
    (['127.0.0.1:7', '127.0.0.1:8'], 'unexpected argument'),
    (['--frobnicate', '127.0.0.1:7'], 'unknown option'),
    (['-x', '127.0.0.1:7'], 'unknown option -x'),
    (['-m', 'pingpong', '127.0.0.1:7'], '--mode "pingpong"'),
    (['-c', '0', '127.0.0.1:7'], '--connections "0"'),
    (['-c', 'many', '127.0.0.1:7'], '--connections "many"'),
    (['-d', '-1', '127.0.0.1:7'], '--duration "-1"'),
    (['-d', '2x', '127.0.0.1:7'], '--duration "2x"'),
    (['-d', '10q', '127.0.0.1:7'], '--duration "10q"'),
    (['-r', 'fast', '127.0.0.1:7'], '--ramp-rate "fast"'),
    (['-R', 'fast', '127.0.0.1:7'], '--rate "fast"'),
    (['-R', '10G', '127.0.0.1:7'], '--rate "10G"'),
    (['-m', 'crr', '-R', '100', '127.0.0.1:7'], '--rate paces requests'),
    (['--connect-rate', '100', '127.0.0.1:7'], '--connect-rate is for crr and hold'),
    (['--close', 'slam', '127.0.0.1:7'], '--close "slam"'),
    (['-m', 'stream', '--fastopen', '127.0.0.1:7'], '--fastopen is for crr, hold and rr'),
    (['-m', 'chat', '--fastopen', '127.0.0.1:7'], '--fastopen is for crr, hold and rr'),
    (['--fastopen', 'unix:/tmp/x.sock'], '--fastopen: a unix socket target has no handshake'),
    (['--percentiles', '50,0', '127.0.0.1:7'], '--percentiles "50,0"'),
    (['--percentiles', '50,,99', '127.0.0.1:7'], '--percentiles "50,,99"'),
    (['--max-error-rate', '2', '127.0.0.1:7'], '--max-error-rate "2"'),
    (['--warmup', 'soon', '127.0.0.1:7'], '--warmup "soon"'),
    (['-s', '1.5', '127.0.0.1:7'], '--size "1.5"'),
    (['-s', '0', '127.0.0.1:7'], '--size "0"'),
    (['-m', 'chat', '-s', '100000', '127.0.0.1:7'], '--size 100000'),
    (['-t', '0', '127.0.0.1:7'], '--threads "0"'),
    (['-T', '0', '127.0.0.1:7'], '--connect-timeout "0"'),
    (['-c'], 'needs a value'),
    (['127.0.0.1'], '127.0.0.1'),
    (['127.0.0.1:99999'], '99999'),
    (['127.0.0.1:0'], 'port 0'),
    (['*:7'], '"*"'),
    (['::1:7'], 'brackets'),
    (['unix:relative'], 'absolute'),
]


def run():
    r = run_load(['-h'], want_json=False)
    check_eq(r.rc, 0, 'exit code of -h')
    check('usage: synack-load' in r.out and '--connect-timeout' in r.out,
          'usage on stdout: %r' % r.out)
    r = run_load(['-V'], want_json=False)
    check_eq(r.rc, 0, 'exit code of -V')
    check(r.out.startswith('synack-load '), 'version on stdout: %r' % r.out)

    for args, what in BAD:
        r = run_load(args, want_json=False, timeout=10)
        check_eq(r.rc, 2, 'exit code of synack-load %s\n%s' % (' '.join(args), r.describe()))
        first = r.err.splitlines()[0] if r.err else ''
        check(first.startswith('synack-load: ') and what in first,
              'synack-load %s: the first line of stderr should name %r, got %r'
              % (' '.join(args), what, first))
        lines = r.err.splitlines()
        check(len(lines) == 2 and '--help' in lines[1],
              'synack-load %s: one line pointing to --help follows the message, got %r'
              % (' '.join(args), r.err))
        check_eq(r.out, '', 'nothing on stdout for a usage error')


main(run, timeout=60)

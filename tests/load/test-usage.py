#!/usr/bin/env python3
# usage: -h and -V exit 0 and print to stdout; every bad command line
# (no target, two targets, unknown option or mode, a value out of range, a
# target that is no address, port 0, "*") exits 2 with a message that
# names the problem, and connects nowhere.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadtest import check, check_eq, main, run_load  # noqa: E402

BAD = [
    ([], 'no target'),
    (['127.0.0.1:7', '127.0.0.1:8'], 'unexpected argument'),
    (['--frobnicate', '127.0.0.1:7'], 'unknown option'),
    (['-x', '127.0.0.1:7'], 'unknown option -x'),
    (['-m', 'pingpong', '127.0.0.1:7'], '--mode "pingpong"'),
    (['-c', '0', '127.0.0.1:7'], '--connections "0"'),
    (['-c', 'many', '127.0.0.1:7'], '--connections "many"'),
    (['-d', '-1', '127.0.0.1:7'], '--duration "-1"'),
    (['-r', 'fast', '127.0.0.1:7'], '--rate "fast"'),
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
        check('usage:' in r.err, 'usage follows the message')
        check_eq(r.out, '', 'nothing on stdout for a usage error')


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# unreachable: in a network namespace of its own whose route to
# 10.99.0.0/16 is of type unreachable, every connect fails with
# EHOSTUNREACH and counts as unreachable; exit code 3. Needs root and
# network namespaces (ip netns); skipped where they are not available.
import os
import shutil
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import ERRORS, check_report, run_load  # noqa: E402
from synacktest import check_eq, fail, main, run_program, skip  # noqa: E402


def ip(*args, check=True):
    r = run_program([IP] + list(args), timeout=10)
    if check and r.rc != 0:
        fail('ip %s: %s' % (' '.join(args), r.err.strip()))
    return r


IP = shutil.which('ip') or '/usr/sbin/ip'


def run():
    if os.geteuid() != 0:
        skip('creating a network namespace needs root')
    if not os.access(IP, os.X_OK):
        skip('iproute2 (ip) is not installed')
    ns = 'synack-test-%d' % os.getpid()
    r = ip('netns', 'add', ns, check=False)
    if r.rc != 0:
        skip('network namespaces are not available here: %s' % r.err.strip())
    try:
        ip('-n', ns, 'link', 'set', 'lo', 'up')
        ip('-n', ns, 'route', 'add', 'unreachable', '10.99.0.0/16')
        target = '10.99.0.1:7'
        res = run_load(['-c', '4', '-d', '2', target], prefix=[IP, 'netns', 'exec', ns])
        check_eq(res.rc, 3, 'exit code with no connection established\n' + res.describe())
        rep = check_report(res, 'rr', target)
        check_eq(rep['connections']['attempted'], 4, 'attempts')
        check_eq(rep['connections']['established'], 0, 'established')
        check_eq(rep['errors']['unreachable'], 4, 'unreachable')
        for e in ERRORS:
            if e != 'unreachable':
                check_eq(rep['errors'][e], 0, 'errors.%s' % e)
    finally:
        ip('netns', 'del', ns, check=False)


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# refused: nothing listens on the port (a socket of the test's holds it,
# bound and not listening, so no one else can). Every attempt is counted as
# refused (ECONNREFUSED), none is established, and the exit code is 3;
# the run ends at once since nothing is left to measure. In crr, where a
# slot tries again, every attempt but those in flight at the end is refused.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import ERRORS, check_report, run_load  # noqa: E402
from synacktest import check, check_eq, hold_port, main  # noqa: E402


def run():
    target = '127.0.0.1:%d' % hold_port()
    r = run_load(['-c', '5', '-d', '5', target])
    check_eq(r.rc, 3, 'exit code with no connection established\n' + r.describe())
    rep = check_report(r, 'rr', target)
    check_eq(rep['connections']['attempted'], 5, 'attempts')
    check_eq(rep['connections']['established'], 0, 'established')
    check_eq(rep['errors']['refused'], 5, 'refused')
    for e in ERRORS:
        if e != 'refused':
            check_eq(rep['errors'][e], 0, 'errors.%s' % e)
    check(r.elapsed < 3, 'a run where every connection was refused ends early, took %.1f s'
          % r.elapsed)

    r = run_load(['-m', 'crr', '-c', '2', '-d', '0.5', target])
    check_eq(r.rc, 3, 'crr exit code\n' + r.describe())
    rep = check_report(r, 'crr', target)
    att = rep['connections']['attempted']
    check(att > 2, 'crr tries again: %d attempts' % att)
    # up to -c attempts may still be in flight when the run ends
    check(att - 2 <= rep['errors']['refused'] <= att,
          'crr: refused %d for %d attempts' % (rep['errors']['refused'], att))
    check_eq(rep['connections']['established'], 0, 'crr: established')

    r = run_load(['-c', '3', '-d', '1', target], want_json=False)
    check_eq(r.rc, 3, 'exit code, human summary')
    check('refused' in r.out and 'nothing listens' in r.out,
          'the summary names the cause\n' + r.describe())


main(run, timeout=60)

#!/usr/bin/env python3
# report: --json prints exactly one JSON object on stdout with every field
# of the contract and nothing else there; without --json the summary goes
# to stdout. The live progress line appears once a second on stderr when
# asked with --progress (stderr is a pipe here), and not at all otherwise
# or with -q.
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadtest import (ERRORS, PERCENTILES, check, check_clean, check_eq,  # noqa: E402
                      echo_daemon, main, run_load, target_of)

PROGRESS_RE = re.compile(r'^\[\s*\d+\.\ds\] \d+/2 open, \d+ req/s, .*(no errors|\w+ \d+)$')


def run():
    with echo_daemon() as d:
        target = target_of(d)
        r = run_load(['-c', '2', '-d', '0.5', target])
        rep = check_clean(r, 'rr', target)
        check_eq(set(rep['connections']) >= {'attempted', 'established'}, True,
                 'connections fields')
        check(set(rep['errors']) >= set(ERRORS), 'errors fields: %r' % rep['errors'])
        for h in ('latency_us', 'connect_latency_us'):
            check(set(rep[h]) >= set(PERCENTILES), '%s fields: %r' % (h, rep[h]))
        check_eq(r.err, '', 'stderr of a clean --json run on a pipe')

        r = run_load(['-c', '2', '-d', '2.6', '--progress', target])
        check_clean(r, 'rr', target)
        lines = r.err.splitlines()
        check(len(lines) >= 2, 'expected a progress line per second, got %r' % lines)
        for line in lines:
            check(PROGRESS_RE.match(line), 'progress line %r' % line)

        r = run_load(['-c', '2', '-d', '1.5', '--progress', '-q', target])
        check_eq(r.err, '', 'stderr with -q')

        r = run_load(['-c', '2', '-d', '0.5', target], want_json=False)
        check_eq(r.rc, 0, 'exit code\n' + r.describe())
        check(r.out.startswith('synack-load rr to %s: 2 connections' % target),
              'the summary starts with what was run: %r' % r.out[:200])
        check('{' not in r.out, 'no JSON without --json')
        check_eq(r.err, '', 'stderr of a clean run on a pipe')


main(run, timeout=60)

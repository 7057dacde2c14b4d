#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# report: --json prints exactly one JSON object on stdout with every field
# of the contract and nothing else there; without --json the summary goes
# to stdout. The live progress line appears once a second on stderr when
# asked with --progress (stderr is a pipe here), and not at all otherwise
# or with -q.
# The summary names the load model, and its latency table has a row for
# each percentile (50, 90, 99, 99.9, 99.99 by default, or --percentiles),
# max, mean, stddev and count; JSON has p9999, stddev and "percentiles"
# keyed by the numbers as given, and the options of the run. crr's rate is
# in connections/s (JSON: connections_per_s); hold has no request rate;
# stream gives Gbit/s too, and leads with the rate it measured (into
# discard with --direction send: the sent rate). With -R the model is the open loop, with a
# schedule line (JSON: "schedule"), which is null without it.
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import (ERRORS, PERCENTILES, check_clean, check_report, echo_daemon,  # noqa: E402
                      run_load, target_of)
from synacktest import check, check_eq, main  # noqa: E402

PROGRESS_RE = re.compile(r'^\[\s*\d+\.\ds\] \d+/2 open, \d+ req/s, [\d.]+ \w?B/s, '
                         r'p50 [\d.]+[mu]?s p99 [\d.]+[mu]?s, no errors$')
TIME = r'(\d+\.\d+[mu]?s|-)'


def table(out):
    """The latency table of a summary: {row: [request, connect]}."""
    lines = out.splitlines()
    start = [i for i, l in enumerate(lines) if l.startswith('latency ')]
    check(len(start) == 1, 'one latency table: %r' % out)
    rows = {}
    for line in lines[start[0] + 1:]:
        if not line.startswith('  '):
            break
        f = line.split()
        rows[f[0]] = f[1:]
    return rows


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
        check('\nload model   closed loop: each connection waits for its answer\n' in r.out,
              'the summary names the load model\n' + r.out)
        check('schedule' not in r.out and 'result ' not in r.out,
              'no schedule without -R, no result line for exit 0\n' + r.out)
        rows = table(r.out)
        check_eq(list(rows), ['p50', 'p90', 'p99', 'p99.9', 'p99.99', 'max', 'mean', 'stddev',
                              'count'], 'latency table rows')
        for name, cols in rows.items():
            check(len(cols) == 2, 'row %s: request and connect: %r' % (name, cols))
            if name != 'count':
                check(all(re.match(TIME + '$', c) for c in cols), 'row %s: %r' % (name, cols))
        check_eq(rows['count'][1], '2', 'connect samples')

        # --percentiles: those rows instead, and in JSON
        qs = ['50', '99.999', '75']
        r = run_load(['-c', '2', '-d', '0.5', '--percentiles', ','.join(qs), target])
        rep = check_clean(r, 'rr', target)
        for h in ('latency_us', 'connect_latency_us'):
            check_eq(list(rep[h]['percentiles']), qs, '%s percentiles keys' % h)
            check_eq(rep[h]['percentiles']['50'], rep[h]['p50'], '%s: the 50th is p50' % h)
            check(rep[h]['stddev'] >= 0 and rep[h]['p999'] <= rep[h]['p9999'] <= rep[h]['max'],
                  '%s: %r' % (h, rep[h]))
        check_eq(rep['options']['percentiles'], [50, 99.999, 75], 'options.percentiles')
        opts = rep['options']
        check_eq((opts['connections'], opts['duration_s'], opts['close'], opts['rate'],
                  opts['warmup_s'], opts['max_error_rate']), (2, 0.5, 'rst', 0, 0, 0.01),
                 'options')
        check_eq((rep['model'], rep['schedule']), ('closed', None), 'model and schedule')
        r = run_load(['-c', '2', '-d', '0.5', '--percentiles', ','.join(qs), target],
                     want_json=False)
        check_eq(list(table(r.out))[:4], ['p50', 'p99.999', 'p75', 'max'],
                 'the rows of --percentiles')

        # crr: connections/s; hold: no rate; stream: Gbit/s
        r = run_load(['-m', 'crr', '-c', '2', '-d', '0.5', target], want_json=False)
        check(re.search(r'^connections  \d+ attempted, \d+ established, [\d.]+ connections/s$',
                        r.out, re.M), 'crr: connections/s\n' + r.out)
        check(re.search(r'^requests     \d+ \(one per connection\)$', r.out, re.M),
              'crr: requests without a second rate\n' + r.out)
        rep = check_clean(run_load(['-m', 'crr', '-c', '2', '-d', '0.5', target]), 'crr',
                          target)
        want = rep['connections']['established'] / rep['duration_s']
        check(abs(rep['connections_per_s'] - want) <= max(1, want * 0.01),
              'connections_per_s %r, established/duration %r' % (rep['connections_per_s'], want))
        r = run_load(['-m', 'hold', '-c', '2', '-d', '0.3', target], want_json=False)
        check(re.search(r'^requests     2 \(the last echo of each connection\)$', r.out, re.M),
              'hold: no request rate\n' + r.out)
        r = run_load(['-m', 'stream', '-c', '2', '-d', '0.5', target], want_json=False)
        check(re.search(r'^throughput   [\d.]+ [kMG]?B/s \([\d.]+ Gbit/s\) echoed and verified, '
                        r'[\d.]+ [kMG]?B/s sent$', r.out, re.M),
              'stream: Gbit/s\n' + r.out)
        # the headline is the rate of what the run measured: into discard, the sent one
        with echo_daemon(service='discard') as dd:
            r = run_load(['-m', 'stream', '--direction', 'send', '-c', '1', '-d', '0.5',
                          target_of(dd, 'discard')], want_json=False)
        m = re.search(r'^throughput   ([\d.]+) ([kMG]?)B/s \(([\d.]+) Gbit/s\) sent$', r.out,
                      re.M)
        check(m is not None, 'stream --direction send: the sent rate first\n' + r.out)
        check(float(m.group(1)) > 0 and float(m.group(3)) > 0, 'a rate above 0\n' + r.out)

        # the open loop: the model and the schedule (filled by the open-loop code)
        r = run_load(['-c', '2', '-d', '0.5', '-R', '200', target])
        rep = check_report(r, 'rr', target)
        check_eq(rep['model'], 'open', 'model with -R')
        sch = rep['schedule']
        check(isinstance(sch, dict) and sch['rate'] == 200 and isinstance(sch['kept'], bool) and
              set(sch['lag_us']) == {'p50', 'p99', 'max'} and
              isinstance(sch['due'], int) and isinstance(sch['sent'], int),
              'schedule: %r' % sch)
        r = run_load(['-c', '2', '-d', '0.5', '-R', '200', target], want_json=False)
        check('\nload model   open loop at 200 requests/s, latency from each request\'s '
              'scheduled time\nschedule     ' in r.out, 'open loop summary\n' + r.out)


main(run, timeout=60)

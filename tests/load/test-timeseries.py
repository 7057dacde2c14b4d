#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --timeseries: one CSV row per second, with the documented header. A 3 s
# run has 3 rows, one a second (the time column counts up by one, elapsed_s
# is 1, 2 and then the end of the run); the rows add up to the JSON report's
# totals, column by column, and "failures" is the sum of the error causes;
# the JSON report's "intervals" are the same rows. Each second has its own
# latencies (p50 <= p99 <= max). A run of refused connections has its
# errors in the rows, and empty latency columns. The live progress line
# shows the last second's p50 and p99 and its errors per second. UDP runs
# (udp-stream and udp-rr at 400 datagrams a second, every 10th dropped)
# have the datagrams lost in each second, about 40, adding up to the run's.
import csv
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import (ALL_ERRORS, UdpServer, check_clean, check_report,  # noqa: E402
                      echo_daemon, run_load, target_of)
from synacktest import check, check_eq, hold_port, main, make_tempdir  # noqa: E402

HEADER = ('time,elapsed_s,open,attempted,established,failures,timeout,refused,unreachable,'
          'reset,addrnotavail,other,verify,closed,noreply,requests,bytes_sent,bytes_received,'
          'p50_us,p99_us,max_us,syn_retrans,datagrams_lost')
COUNTERS = ('attempted', 'established', 'requests', 'bytes_sent', 'bytes_received')
PROGRESS_RE = re.compile(r'^\[\s*\d+\.0s\] \d+/3 open, \d+ req/s, [\d.]+ \w?B/s, '
                         r'p50 [\d.]+[mu]?s p99 [\d.]+[mu]?s, no errors$')


def read_csv(path):
    with open(path) as f:
        text = f.read()
    check(text.endswith('\n'), 'the CSV ends with a newline')
    check_eq(text.split('\n')[0], HEADER, 'CSV header')
    with open(path, newline='') as f:
        return list(csv.DictReader(f))


def totals_of(rep):
    t = dict(rep['connections'], requests=rep['requests'], bytes_sent=rep['bytes_sent'],
             bytes_received=rep['bytes_received'])
    t.update(rep['errors'])
    return t


def check_rows(rows, rep):
    """The CSV rows are the JSON intervals and add up to the totals."""
    ivs = rep['intervals']
    check_eq(len(rows), len(ivs), 'CSV rows and JSON intervals')
    totals = totals_of(rep)
    for key in COUNTERS + ALL_ERRORS:
        check_eq(sum(int(row[key]) for row in rows), totals[key], 'the rows add up: ' + key)
    for k, (row, iv) in enumerate(zip(rows, ivs)):
        check_eq(int(row['failures']), sum(int(row[e]) for e in ALL_ERRORS),
                 'row %d: failures is the sum of the causes' % k)
        check_eq(int(row['time']), iv['t'], 'row %d: time' % k)
        check_eq(float(row['elapsed_s']), iv['elapsed_s'], 'row %d: elapsed_s' % k)
        check_eq(int(row['open']), iv['open'], 'row %d: open' % k)
        for key in COUNTERS:
            check_eq(int(row[key]), iv[key], 'row %d: %s' % (k, key))
        for e in ALL_ERRORS:
            check_eq(int(row[e]), iv['errors'][e], 'row %d: %s' % (k, e))
        check_eq(int(row['syn_retrans']), iv['syn_retransmits'], 'row %d: syn_retrans' % k)
        check_eq(int(row['datagrams_lost']), iv['datagrams_lost'], 'row %d: datagrams_lost' % k)
        for col, key in (('p50_us', 'p50'), ('p99_us', 'p99'), ('max_us', 'max')):
            want = iv['latency_us'][key]
            check_eq(None if row[col] == '' else float(row[col]), want,
                     'row %d: %s' % (k, col))
        if k > 0:
            check_eq(int(row['time']), int(rows[k - 1]['time']) + 1, 'one row a second')


def run():
    tmp = make_tempdir()
    path = os.path.join(tmp, 'rr.csv')
    with echo_daemon() as d:
        target = target_of(d)
        r = run_load(['-c', '3', '-d', '3', '--timeseries', path, '--progress', target])
        rep = check_clean(r, 'rr', target)
        rows = read_csv(path)
        check_eq(len(rows), 3, 'rows of a 3 s run\n' + open(path).read())
        check_eq([row['elapsed_s'] for row in rows[:2]], ['1', '2'], 'whole seconds')
        check(2.95 <= float(rows[2]['elapsed_s']) <= 3.1 and '.' in rows[2]['elapsed_s'],
              'the last row ends with the run: %r' % rows[2]['elapsed_s'])
        check_rows(rows, rep)
        for k, row in enumerate(rows):
            check_eq(int(row['open']), 3, 'row %d: connections open' % k)
            check(int(row['requests']) > 0, 'row %d: requests' % k)
            check(float(row['p50_us']) <= float(row['p99_us']) <= float(row['max_us']),
                  'row %d latencies: %r' % (k, row))
        check_eq(int(rows[0]['attempted']), 3, 'the connections open in the first second')

        # the live line: the last second's latencies and errors
        lines = r.err.splitlines()
        check(len(lines) >= 2, 'a progress line a second: %r' % lines)
        for line in lines:
            check(PROGRESS_RE.match(line), 'progress line %r' % line)

    # refused: errors in the rows, no latencies
    path = os.path.join(tmp, 'refused.csv')
    target = '127.0.0.1:%d' % hold_port()
    r = run_load(['-m', 'crr', '-c', '2', '-d', '1.5', '--timeseries', path, '--progress',
                  target])
    check_eq(r.rc, 3, 'exit code\n' + r.describe())
    rep = check_report(r, 'crr', target)
    rows = read_csv(path)
    check_eq(len(rows), 2, 'rows of a 1.5 s run')
    check_rows(rows, rep)
    for k, row in enumerate(rows):
        check(int(row['refused']) > 0, 'row %d: refused connections' % k)
        check_eq((row['p50_us'], row['p99_us'], row['max_us']), ('', '', ''),
                 'row %d: no latencies' % k)
    line = r.err.splitlines()[0]
    check(re.search(r', errors \d+/s \(refused \d+\), \d+ in all$', line),
          'the live line counts the errors of the second: %r' % line)

    # UDP: the datagrams lost in each second, which add up to the run's
    s = UdpServer(lambda d, n: [] if n % 10 == 0 else [d])
    for mode in ('udp-stream', 'udp-rr'):
        path = os.path.join(tmp, mode + '.csv')
        r = run_load(['-m', mode, '-c', '2', '-R', '400', '-d', '2.5', '--request-timeout',
                      '100ms', '--timeseries', path, s.target])
        check_eq(r.rc, 0, '%s: exit code\n%s' % (mode, r.describe()))
        rep = check_report(r, mode, s.target)
        rows = read_csv(path)
        check_rows(rows, rep)
        for k, row in enumerate(rows[:2]):
            check(20 <= int(row['datagrams_lost']) <= 60,
                  '%s: row %d: about 40 of 400 datagrams lost: %r' % (mode, k, row))
        check_eq(sum(int(row['datagrams_lost']) for row in rows), rep['datagrams']['lost'],
                 '%s: the rows add up: datagrams_lost' % mode)
    s.close()

    r = run_load(['--timeseries', os.path.join(tmp, 'no', 'such.csv'), '127.0.0.1:7'],
                 want_json=False)
    check_eq(r.rc, 2, 'a path that cannot be written\n' + r.describe())
    check(r.err.startswith('synack-load: --timeseries'),
          'the message names --timeseries: %r' % r.err)


main(run, timeout=60)

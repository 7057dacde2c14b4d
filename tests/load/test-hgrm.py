#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --hgrm: the latency distribution in HdrHistogram's .hgrm text format. The
# file parses as HdrHistogram's plotter and whitespace-splitting scripts
# read it (header, blank line, 4-column rows, a 3-column 100% row, the
# "#[...]" summary); its percentiles are the ticks 0%, 10% ... 50%, 55% ...
# and they increase, as do values and counts; its total count is the
# number of requests; its rows agree with the JSON percentiles within the
# bucket error (1/64), and they are exactly what the JSON histogram gives
# when recomputed here. The JSON buckets also reproduce the JSON's p50,
# p99 and --percentiles values. With nothing measured the file has no rows
# and a total count of 0; a path that cannot be written is a usage error.
import math
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import (bucket_high, check_clean, echo_daemon, hist_percentile, run_load,  # noqa: E402
                      target_of)
from synacktest import check, check_eq, hold_port, main, make_tempdir  # noqa: E402

HEADER = '       Value     Percentile TotalCount 1/(1-Percentile)'
FIRST_TICKS = [0, 10, 20, 30, 40, 50, 55, 60, 65, 70, 75, 77.5, 80, 82.5, 85, 87.5, 88.75, 90]
BUCKET_ERROR = 1 / 64.0


def parse_hgrm(path):
    with open(path) as f:
        lines = f.read().split('\n')
    check_eq(lines[0], HEADER, 'header line')
    check_eq(lines[1], '', 'blank line after the header')
    check_eq(lines[-1], '', 'the file ends with a newline')
    rows, summary = [], {}
    for line in lines[2:-1]:
        if line.startswith('#['):
            for part in line[2:-1].split(','):
                key, value = part.split('=')
                summary[key.strip()] = float(value)
            continue
        f = line.split()
        check(len(f) in (3, 4), 'a row has 4 columns (3 at 100%%): %r' % line)
        row = (float(f[0]), float(f[1]), int(f[2]))
        if len(f) == 4:
            check(abs(float(f[3]) - 1 / (1 - row[1])) <= 0.006 * max(1, float(f[3])),
                  '1/(1-P) of %r' % line)
        else:
            check_eq(row[1], 1.0, 'the 3-column row is 100%')
        rows.append(row)
    check(set(summary) == {'Mean', 'StdDeviation', 'Max', 'Total count', 'Buckets',
                           'SubBuckets'}, 'summary lines: %r' % summary)
    return rows, summary


def expected_rows(h):
    """The rows, recomputed from the JSON histogram: each tick at the first
    bucket whose cumulative count reaches it, the bucket's upper bound."""
    rows, cum, level, n = [], 0, 0.0, h['count']
    value = 0
    for i, c in h['buckets']:
        cum += c
        value = min(bucket_high(i), h['max'])
        while level < 100 and 100.0 * cum / n >= level:
            rows.append((round(value / 1e6, 3), round(level / 100, 12), cum))
            level += 100.0 / (5 * 2 ** (int(math.log2(100.0 / (100.0 - level))) + 1))
            if cum >= n:
                break
        if cum >= n:
            break
    rows.append((round(value / 1e6, 3), 1.0, n))
    return rows


def run():
    tmp = make_tempdir()
    path = os.path.join(tmp, 'rr.hgrm')
    with echo_daemon() as d:
        target = target_of(d)
        r = run_load(['-c', '2', '-d', '1', '--hgrm', path,
                      '--percentiles', '50,90,99,99.9,99.99,99.999', target])
        rep = check_clean(r, 'rr', target)
    lat, h = rep['latency_us'], rep['histograms']['latency']
    rows, summary = parse_hgrm(path)

    # the summary
    check_eq(int(summary['Total count']), rep['requests'], 'total count is the requests')
    check_eq(rows[-1][2], rep['requests'], 'the 100% row counts every request')
    check_eq((summary['Buckets'], summary['SubBuckets']), (58, 128), 'buckets')
    check(abs(summary['Max'] - lat['max'] / 1000) <= 0.0005, 'Max %r ms, JSON max %r us'
          % (summary['Max'], lat['max']))
    check(abs(summary['Mean'] - lat['mean'] / 1000) <= 0.0005, 'Mean %r ms, JSON mean %r us'
          % (summary['Mean'], lat['mean']))
    check(abs(summary['StdDeviation'] - lat['stddev'] / 1000) <= 0.0005,
          'StdDeviation %r ms, JSON stddev %r us' % (summary['StdDeviation'], lat['stddev']))

    # the rows: HdrHistogram's ticks, increasing
    levels = [p * 100 for _, p, _ in rows]
    check(len(rows) > len(FIRST_TICKS), 'rows: %d' % len(rows))
    for got, want in zip(levels, FIRST_TICKS):
        check(abs(got - want) < 1e-9, 'ticks %r, expected %r...' % (levels[:18], FIRST_TICKS))
    for a, b in zip(rows, rows[1:]):
        check(a[0] <= b[0] and a[1] < b[1] and a[2] <= b[2], 'rows increase: %r, %r' % (a, b))
    check_eq(rows, expected_rows(h), 'the rows, recomputed from the JSON histogram')

    # the JSON's own percentiles come back from its buckets
    check_eq(sum(c for _, c in h['buckets']), h['count'], 'JSON buckets add up')
    for key, q in (('p50', 50), ('p90', 90), ('p99', 99), ('p999', 99.9), ('p9999', 99.99)):
        check_eq(round(hist_percentile(h, q) / 1000, 3), lat[key],
                 '%s recomputed from the JSON buckets' % key)
    for q, v in lat['percentiles'].items():
        check_eq(round(hist_percentile(h, float(q)) / 1000, 3), v,
                 'percentile %s recomputed from the JSON buckets' % q)
    check_eq(list(lat['percentiles']), ['50', '90', '99', '99.9', '99.99', '99.999'],
             'the --percentiles keys, as given')

    # the rows agree with the JSON percentiles within the bucket error
    for q in (50, 90):
        v = [row[0] for row in rows if abs(row[1] * 100 - q) < 1e-9][0]
        want = lat['p%d' % q] / 1000
        check(abs(v - want) <= want * BUCKET_ERROR + 0.001,
              'the %d%% row %r ms, JSON p%d %r ms' % (q, v, q, want))
    for key, q in (('p99', 99), ('p999', 99.9)):
        below = [row[0] for row in rows if row[1] * 100 <= q][-1]
        above = [row[0] for row in rows if row[1] * 100 >= q][0]
        want = lat[key] / 1000
        check(below * (1 - BUCKET_ERROR) - 0.001 <= want <= above * (1 + BUCKET_ERROR) + 0.001,
              'JSON %s %r ms between the rows around it: %r, %r' % (key, want, below, above))

    # nothing measured: no rows
    path = os.path.join(tmp, 'none.hgrm')
    r = run_load(['-c', '2', '-d', '1', '--hgrm', path, '127.0.0.1:%d' % hold_port()])
    check_eq(r.rc, 3, 'exit code, nothing listening\n' + r.describe())
    rows, summary = parse_hgrm(path)
    check_eq(rows, [], 'no rows without requests')
    check_eq(summary['Total count'], 0, 'total count')

    r = run_load(['--hgrm', os.path.join(tmp, 'no', 'such.hgrm'), '127.0.0.1:7'],
                 want_json=False)
    check_eq(r.rc, 2, 'a path that cannot be written\n' + r.describe())
    check(r.err.startswith('synack-load: --hgrm'), 'the message names --hgrm: %r' % r.err)


main(run, timeout=60)

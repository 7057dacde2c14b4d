# SPDX-License-Identifier: ISC
# loadtest: synack-load run by the tests, on top of synacktest.
#
# run_load() runs synack-load to completion under a timeout and parses its
# --json report; check_report() checks that a report has every field of the
# interface contract with the right types and that its numbers agree with
# each other (the histograms with their counts, the intervals with the
# totals, exit_code with the exit status); echo_daemon() starts synackd
# with an echo listener on port 0; hist_percentile() recomputes a
# percentile from a report's histogram as synack-load does; Server is a
# server of the test's own on a port the kernel chose; UdpServer one over
# UDP, and echo_udp() starts bench/echo-udp, the UDP reference.

import collections
import datetime
import json
import os
import re
import socket
import threading

import synacktest as st
from synacktest import (Command, Daemon, check, check_eq, fail, listener,
                        listening_socket, server_section)

ERRORS = ('timeout', 'refused', 'unreachable', 'reset', 'addrnotavail',
          'other', 'verify')
ALL_ERRORS = ERRORS + ('closed', 'noreply')
PERCENTILES = ('p50', 'p90', 'p99', 'p999', 'p9999', 'max')
COUNTERS = ('attempted', 'established', 'requests', 'bytes_sent', 'bytes_received')
TOP_KEYS = ('version', 'start_time', 'start_unix', 'model', 'options', 'schedule',
            'histograms', 'intervals', 'exit_code', 'error_rate', 'max_error_rate',
            'connections_per_s', 'bytes_sent_per_s', 'bytes_received_per_s')
OPTION_KEYS = ('mode', 'target', 'connections', 'duration_s', 'rate', 'connect_rate',
               'ramp_rate', 'size', 'threads', 'warmup_s', 'close', 'request_timeout_ms',
               'connect_timeout_ms', 'max_error_rate', 'direction', 'percentiles')
START_TIME_RE = re.compile(r'^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$')
SUB_BITS = 7


def synack_load_path():
    return st.program_path('SYNACK_LOAD', 'synack-load')


def run_load(args, timeout=30, want_json=True, prefix=()):
    """Run synack-load with args (plus --json unless told otherwise) to
    completion; fails if it runs past timeout seconds or if --json output
    does not parse. prefix: a command put in front (ip netns exec ...)."""
    return Load(args, want_json, prefix).finish(timeout)


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def bucket_low(i):
    if i < 1 << SUB_BITS:
        return i
    shift = i // (1 << (SUB_BITS - 1)) - 1
    return (i - shift * (1 << (SUB_BITS - 1))) << shift


def bucket_high(i):
    if i < 1 << SUB_BITS:
        return i
    shift = i // (1 << (SUB_BITS - 1)) - 1
    return bucket_low(i) + (1 << shift) - 1


def hist_percentile(h, q):
    """A percentile (ns) of a report's histogram, as synack-load computes
    it: nearest rank, the midpoint of the bucket that holds it, within
    [min, max]."""
    n = h['count']
    if n == 0:
        return 0
    x = min(max(q, 0.0), 100.0) / 100.0 * n
    rank = int(x)
    if rank < x:
        rank += 1
    if rank <= 1:
        return h['min']
    if rank >= n:
        return h['max']
    seen = 0
    for i, c in sorted(h['buckets']):
        seen += c
        if seen >= rank:
            lo, hi = bucket_low(i), bucket_high(i)
            return min(max(lo + (hi - lo) // 2, h['min']), h['max'])
    return h['max']


def check_hist(h, what):
    """A histogram of the report: its buckets add up to its count."""
    for key in ('unit', 'sub_bits', 'count', 'sum', 'min', 'max', 'sumsq', 'buckets'):
        check(key in h, '%s has no "%s": %r' % (what, key, h))
    check_eq((h['unit'], h['sub_bits']), ('ns', SUB_BITS), '%s unit and sub_bits' % what)
    idx = [i for i, _ in h['buckets']]
    check(idx == sorted(set(idx)), '%s: bucket indexes increase' % what)
    check(all(c > 0 for _, c in h['buckets']), '%s: only non-empty buckets' % what)
    check_eq(sum(c for _, c in h['buckets']), h['count'], '%s: bucket counts add up' % what)
    if h['count'] > 0:
        check(h['min'] <= h['max'], '%s: min <= max' % what)
        check(bucket_low(idx[0]) <= h['min'] and h['max'] <= bucket_high(idx[-1]),
              '%s: min and max in the first and last buckets' % what)


def check_intervals(rep):
    """The intervals: one a second, and they add up to the totals."""
    ivs = rep['intervals']
    check(len(ivs) >= 1, 'at least one interval: %r' % ivs)
    for k, iv in enumerate(ivs):
        for key in ('t', 'elapsed_s', 'open', 'errors', 'latency_us', 'histogram') + COUNTERS:
            check(key in iv, 'interval %d has no "%s": %r' % (k, key, iv))
        check_hist(iv['histogram'], 'interval %d histogram' % k)
        if k + 1 < len(ivs):
            check_eq(iv['elapsed_s'], k + 1, 'interval %d ends at a whole second' % k)
            check_eq(ivs[k + 1]['t'], iv['t'] + 1, 'interval %d: the next starts a second later'
                     % k)
        lat = iv['latency_us']
        if iv['histogram']['count'] == 0:
            check(lat == {'p50': None, 'p99': None, 'max': None},
                  'interval %d: no latency, null: %r' % (k, lat))
        else:
            check(lat['p50'] <= lat['p99'] <= lat['max'], 'interval %d latency %r' % (k, lat))
            check(abs(lat['max'] * 1000 - iv['histogram']['max']) < 1,
                  'interval %d max is its histogram\'s' % k)
    check(abs(ivs[-1]['elapsed_s'] - rep['duration_s']) < 0.0015,
          'the last interval ends with the run: %r, duration_s %r'
          % (ivs[-1]['elapsed_s'], rep['duration_s']))
    check(ivs[0]['t'] <= rep['start_unix'] + 0.001 < ivs[0]['t'] + 1.001,
          'the first interval starts with the run: t %r, start_unix %r'
          % (ivs[0]['t'], rep['start_unix']))
    totals = dict(rep['connections'], requests=rep['requests'],
                  bytes_sent=rep['bytes_sent'], bytes_received=rep['bytes_received'])
    for key in COUNTERS:
        check_eq(sum(iv[key] for iv in ivs), totals[key], 'intervals add up: %s' % key)
    for e in ALL_ERRORS:
        check_eq(sum(iv['errors'][e] for iv in ivs), rep['errors'][e],
                 'intervals add up: errors.%s' % e)
    check_eq(sum(iv['histogram']['count'] for iv in ivs), rep['latency_us']['count'],
             'intervals add up: latency samples')
    lost = rep['datagrams']['lost'] if rep.get('datagrams') else 0
    check_eq(sum(iv['datagrams_lost'] for iv in ivs), lost, 'intervals add up: datagrams lost')


def check_report(r, mode=None, target=None):
    """Every field of the contract, with its type, and the numbers agree."""
    rep = r.report
    check(isinstance(rep, dict), 'no report\n' + r.describe())
    for key in ('mode', 'target', 'duration_s', 'connections', 'errors', 'requests',
                'requests_per_s', 'bytes_per_s', 'latency_us', 'connect_latency_us'):
        check(key in rep, 'report has no "%s": %r' % (key, rep))
    check(isinstance(rep['mode'], str) and isinstance(rep['target'], str),
          'mode and target are strings: %r' % rep)
    if mode is not None:
        check_eq(rep['mode'], mode, 'report mode')
    if target is not None:
        check_eq(rep['target'], target, 'report target')
    check(_number(rep['duration_s']) and rep['duration_s'] >= 0, 'duration_s: %r' % rep)
    for key in ('attempted', 'established'):
        check(isinstance(rep['connections'].get(key), int),
              'connections.%s is an integer: %r' % (key, rep['connections']))
    for key in ERRORS:
        check(isinstance(rep['errors'].get(key), int),
              'errors.%s is an integer: %r' % (key, rep['errors']))
    check(isinstance(rep['requests'], int), 'requests is an integer')
    for key in ('requests_per_s', 'bytes_per_s'):
        check(_number(rep[key]) and rep[key] >= 0, '%s: %r' % (key, rep[key]))
    for hist in ('latency_us', 'connect_latency_us'):
        h = rep[hist]
        for key in PERCENTILES:
            check(_number(h.get(key)), '%s.%s is a number: %r' % (hist, key, h))
        vals = [h[k] for k in PERCENTILES]
        check(vals == sorted(vals), '%s percentiles must not decrease: %r' % (hist, h))
    c = rep['connections']
    check(c['established'] <= c['attempted'],
          'established %d > attempted %d' % (c['established'], c['attempted']))
    check_eq(rep['connect_latency_us']['count'], c['established'],
             'connect latency samples (one per established connection)')
    for key in TOP_KEYS:
        check(key in rep, 'report has no "%s"' % key)
    check_eq(rep['exit_code'], r.rc, 'exit_code in the report is the exit status')
    check(rep['model'] in ('closed', 'open'), 'model: %r' % rep['model'])
    check(START_TIME_RE.match(rep['start_time']), 'start_time: %r' % rep['start_time'])
    check(set(rep['options']) >= set(OPTION_KEYS), 'options: %r' % rep['options'])
    check_eq(rep['options']['mode'], rep['mode'], 'options.mode')
    check(0 <= rep['error_rate'] <= 1, 'error_rate: %r' % rep['error_rate'])
    for name in ('latency', 'connect', 'lag'):
        check_hist(rep['histograms'][name], 'histograms.%s' % name)
    check_eq(rep['histograms']['latency']['count'], rep['latency_us']['count'],
             'latency histogram count')
    check_eq(rep['histograms']['connect']['count'], c['established'], 'connect histogram count')
    check_intervals(rep)
    check(rep['options']['direction'] in ('both', 'send', 'receive'),
          'options.direction: %r' % rep['options']['direction'])
    if rep['duration_s'] > 0.05:
        want = rep['requests'] / rep['duration_s']
        check(abs(rep['requests_per_s'] - want) <= max(1.0, want * 0.01),
              'requests_per_s %r is not requests/duration_s %r' % (rep['requests_per_s'], want))
        for key in ('bytes_sent', 'bytes_received'):
            want = rep[key] / rep['duration_s']
            check(abs(rep[key + '_per_s'] - want) <= max(1.0, want * 0.01),
                  '%s_per_s %r is not %s/duration_s %r' % (key, rep[key + '_per_s'], key, want))
        check_eq(rep['bytes_per_s'], rep['bytes_received_per_s'],
                 'bytes_per_s is bytes_received_per_s')
    return rep


def check_clean(r, mode=None, target=None):
    """A run that must have succeeded: exit 0, no errors of any kind."""
    if r.rc != 0:
        fail('expected exit 0\n' + r.describe())
    rep = check_report(r, mode, target)
    bad = {k: v for k, v in rep['errors'].items() if v}
    check(not bad, 'expected no errors, got %r\n%s' % (bad, r.describe()))
    check(rep['requests'] > 0, 'expected requests > 0\n' + r.describe())
    return rep


def echo_daemon(log_level='info', service='echo', **server_kw):
    conf = {'server': server_section(log_level=log_level, **server_kw),
            'listener %s' % service: listener(service)}
    return Daemon(conf)


def target_of(d, name='echo'):
    return d.listeners[name]['text']


class Load(Command):
    """synack-load started by start_load(), running while the test acts on
    the server; finish() waits for it (bounded) and parses its report as
    run_load() does."""

    def __init__(self, args, want_json, prefix=()):
        args = list(args)
        if want_json and '--json' not in args:
            args.append('--json')
        self.want_json = want_json
        super().__init__(list(prefix) + [synack_load_path()] + args)

    def finish(self, timeout=30):
        r = super().finish(timeout)
        if self.want_json and r.rc != 2:
            lines = [l for l in r.out.splitlines() if l.strip()]
            if len(lines) != 1:
                fail('expected one JSON line on stdout\n' + r.describe())
            try:
                r.report = json.loads(lines[0])
            except ValueError as e:
                fail('stdout is not JSON (%s)\n%s' % (e, r.describe()))
        return r


def start_load(args, want_json=True, prefix=()):
    """Start synack-load with args (plus --json unless told otherwise) and
    return at once; .finish() waits for its Result."""
    return Load(args, want_json, prefix)


def client_count(d, start, what='connected to echo'):
    """Log lines of synackd (at log_level debug) from index start on that
    say a client `what`."""
    return sum(1 for l in d.log_lines()[start:] if ' %s' % what in l)


def arrivals(d, start):
    """When synackd (at log_level debug) logged each client connected to
    echo, from log line start on: datetimes."""
    out = []
    for line in d.log_lines()[start:]:
        if ' connected to echo' in line:
            out.append(datetime.datetime.strptime(line[:23], '%Y-%m-%d %H:%M:%S.%f'))
    return out


def echo_serve(c, n):
    """A Server's serve function: echo until the peer closes (10 s at most
    between reads)."""
    c.settimeout(10)
    while True:
        data = c.recv(65536)
        if not data:
            return
        c.sendall(data)


class Server:
    """A server of the test's own: serve(conn, n) for the n-th connection."""

    def __init__(self, serve):
        self.serve, self.n = serve, 0
        self.lst = listening_socket()
        self.target = '127.0.0.1:%d' % self.lst.getsockname()[1]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.lst.accept()
            except OSError:
                return
            self.n += 1
            threading.Thread(target=self.run, args=(c, self.n), daemon=True).start()

    def run(self, c, n):
        try:
            self.serve(c, n)
        except OSError:
            pass
        c.close()

    def close(self):
        self.lst.close()


class UdpServer:
    """A UDP server on 127.0.0.1, port 0: answer(data, n) gives the list of
    datagrams that go back for the n-th one received (from 1).  peer is the
    source of the datagram being answered; peers counts the datagrams of
    each source address."""

    def __init__(self, answer):
        self.answer, self.n = answer, 0
        self.peer, self.peers = None, collections.Counter()
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
        self.sock.bind(('127.0.0.1', 0))
        self.target = '127.0.0.1:%d' % self.sock.getsockname()[1]
        threading.Thread(target=self.run, daemon=True).start()

    def run(self):
        while True:
            try:
                data, peer = self.sock.recvfrom(65536)
            except OSError:
                return
            self.n += 1
            self.peer = peer
            self.peers[peer[0]] += 1
            for out in self.answer(data, self.n):
                try:
                    self.sock.sendto(out, peer)
                except OSError:
                    pass

    def close(self):
        self.sock.close()


def echo_udp(prefix=()):
    """bench/echo-udp started on port 0 (under prefix: ip netns exec NS):
    the Command and its target on 127.0.0.1."""
    path = os.environ.get('ECHO_UDP') or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench', 'echo-udp')
    if not os.access(path, os.X_OK):
        fail('%s is not built (set ECHO_UDP)' % path)
    p = st.Command(list(prefix) + [path])
    line = p.proc.stdout.readline().decode()
    m = re.match(r'listening on (127\.0\.0\.1:\d+)$', line.strip())
    check(m is not None, 'echo-udp: %r' % line)
    return p, m.group(1)

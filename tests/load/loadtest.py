# loadtest: what the synack-load tests share, on top of synacktest.
#
# run_load() runs synack-load to completion under a timeout and parses its
# --json report; check_report() checks that a report has every field of the
# interface contract with the right types and that its numbers agree with
# each other; echo_daemon() starts synackd with an echo listener on port 0.

import json
import os
import socket
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import synacktest as st  # noqa: E402
from synacktest import (Daemon, check, check_eq, fail, listener, main,  # noqa: E402,F401
                        make_tempdir, server_section, skip, wait_for, _children)

ERRORS = ('timeout', 'refused', 'unreachable', 'reset', 'addrnotavail',
          'other', 'verify')
PERCENTILES = ('p50', 'p90', 'p99', 'p999', 'max')


def synack_load_path():
    return st.program_path('SYNACK_LOAD', 'synack-load')


class Result:
    def __init__(self, args, rc, out, err, elapsed):
        self.args, self.rc, self.out, self.err = args, rc, out, err
        self.elapsed = elapsed
        self.report = None

    def describe(self):
        return ('synack-load %s: exit %s after %.1f s\n--- stdout ---\n%s\n'
                '--- stderr ---\n%s' % (' '.join(self.args), self.rc, self.elapsed,
                                        self.out[-3000:], self.err[-3000:]))


def run_load(args, timeout=30, want_json=True, prefix=()):
    """Run synack-load with args (plus --json unless told otherwise) to
    completion; fails if it runs past timeout seconds or if --json output
    does not parse. prefix: a command put in front (ip netns exec ...)."""
    args = list(args)
    if want_json and '--json' not in args:
        args.append('--json')
    cmd = list(prefix) + [synack_load_path()] + args
    t0 = time.monotonic()
    proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    _children.append(proc)
    try:
        out, err = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        fail('synack-load %s still running after %.0f s\nstderr: %s' %
             (' '.join(args), timeout, err.decode(errors='replace')[-2000:]))
    r = Result(args, proc.returncode, out.decode(errors='replace'),
               err.decode(errors='replace'), time.monotonic() - t0)
    if want_json and r.rc != 2:
        lines = [l for l in r.out.splitlines() if l.strip()]
        if len(lines) != 1:
            fail('expected one JSON line on stdout\n' + r.describe())
        try:
            r.report = json.loads(lines[0])
        except ValueError as e:
            fail('stdout is not JSON (%s)\n%s' % (e, r.describe()))
    return r


def _number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


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
    if rep['duration_s'] > 0.05:
        want = rep['requests'] / rep['duration_s']
        check(abs(rep['requests_per_s'] - want) <= max(1.0, want * 0.01),
              'requests_per_s %r is not requests/duration_s %r' % (rep['requests_per_s'], want))
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


def free_port():
    """A loopback port on which nothing listens (the kernel just gave it
    out and it is closed again)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(('127.0.0.1', 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Background:
    """synack-load started by start_load(), running while the test acts on
    the server; finish() waits for it (bounded) and parses its report as
    run_load() does."""

    def __init__(self, args, want_json):
        self.args, self.want_json = list(args), want_json
        if want_json and '--json' not in self.args:
            self.args.append('--json')
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen([synack_load_path()] + self.args,
                                     stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
        _children.append(self.proc)

    def elapsed(self):
        return time.monotonic() - self.t0

    def finish(self, timeout=30):
        try:
            out, err = self.proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            out, err = self.proc.communicate()
            fail('synack-load %s still running after %.0f s\nstderr: %s' %
                 (' '.join(self.args), timeout, err.decode(errors='replace')[-2000:]))
        r = Result(self.args, self.proc.returncode, out.decode(errors='replace'),
                   err.decode(errors='replace'), self.elapsed())
        if self.want_json and r.rc != 2:
            lines = [l for l in r.out.splitlines() if l.strip()]
            if len(lines) != 1:
                fail('expected one JSON line on stdout\n' + r.describe())
            try:
                r.report = json.loads(lines[0])
            except ValueError as e:
                fail('stdout is not JSON (%s)\n%s' % (e, r.describe()))
        return r


def start_load(args, want_json=True):
    """Start synack-load with args (plus --json unless told otherwise) and
    return at once; .finish() waits for its Result."""
    return Background(args, want_json)


def client_count(d, start, what='connected to echo'):
    """Log lines of synackd (at log_level debug) from index start on that
    say a client `what`."""
    return sum(1 for l in d.log_lines()[start:] if ' %s' % what in l)

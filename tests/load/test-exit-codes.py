#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Exit codes, each one, with what the report says about it:
#   0  a clean run; also one with failures at or under --max-error-rate;
#   1  verify errors -- first, even when no request completed (a server
#      that echoes every byte wrong);
#   2  usage, including an output file that cannot be written;
#   3  nothing listens (no connection), or connections but no request
#      completed (synackd's discard service: rr never gets an answer,
#      stream never gets a byte back);
#   4  more failures than --max-error-rate (default 0.01): half of the
#      connections fail (one of two source addresses is not local), or a
#      fifth of the requests get no answer (a server that closes every
#      fifth connection without answering, in crr). The JSON report gives
#      exit_code, error_rate, max_error_rate and which rate it was; the
#      summary says the same in a line.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import Server, check_clean, check_report, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, check_eq, hold_port, main, make_tempdir  # noqa: E402



def flip_all(c, n):
    """Echo every byte with its lowest bit flipped."""
    while True:
        data = c.recv(65536)
        if not data:
            return
        c.sendall(bytes(b ^ 1 for b in data))


def close_every_fifth(c, n):
    """Echo, except every fifth connection: closed without an answer."""
    if n % 5 == 0:
        c.recv(65536)
        return
    while True:
        data = c.recv(65536)
        if not data:
            return
        c.sendall(data)


def summary_line(r, prefix):
    lines = [l for l in r.out.splitlines() if l.startswith(prefix)]
    check(len(lines) == 1, 'the summary has a "%s" line\n%s' % (prefix, r.describe()))
    return lines[0]


def run():
    tmp = make_tempdir()
    with echo_daemon() as d:
        target = target_of(d)
        # 0
        rep = check_clean(run_load(['-c', '2', '-d', '0.5', target]), 'rr', target)
        check_eq((rep['exit_code'], rep['error_rate'], rep['max_error_rate']), (0, 0, 0.01),
                 'exit_code, error_rate, max_error_rate')

        # 4: one of two source addresses is not local: half the connections fail
        bind = ['-b', '127.0.0.1,192.0.2.1', '-c', '4', '-d', '0.5']
        r = run_load(bind + [target])
        check_eq(r.rc, 4, 'exit code, half of the connections failed\n' + r.describe())
        rep = check_report(r, 'rr', target)
        check_eq(rep['errors']['addrnotavail'], 2, 'addrnotavail')
        check(rep['requests'] > 0, 'the other connections worked')
        check_eq(rep['connection_error_rate'], 0.5, 'connection_error_rate')
        check_eq(rep['request_error_rate'], 0, 'request_error_rate')
        check_eq(rep['error_rate'], 0.5, 'error_rate')
        r = run_load(bind + [target], want_json=False)
        check_eq(r.rc, 4, 'exit code of the summary run')
        check_eq(summary_line(r, 'result '),
                 'result       exit 4: 50.00% of the connections failed, over '
                 '--max-error-rate 1%', 'the summary says why')
        check('error rate   50.00% of the connections failed (2 of 4)' in r.out,
              'the error rates in the summary\n' + r.describe())
        # ... and under a higher limit it is a success
        r = run_load(bind + ['--max-error-rate', '0.6', target])
        check_eq(r.rc, 0, 'exit code under --max-error-rate 0.6\n' + r.describe())
        check_eq(check_report(r)['max_error_rate'], 0.6, 'max_error_rate')

    # 3: connections, but no request completed
    with echo_daemon(service='discard') as d2:
        target = target_of(d2, 'discard')
        r = run_load(['-c', '2', '-d', '1', '--request-timeout', '300', target])
        check_eq(r.rc, 3, 'exit code, no answer to any request\n' + r.describe())
        rep = check_report(r, 'rr', target)
        check_eq(rep['connections']['established'], 2, 'established')
        check_eq(rep['requests'], 0, 'requests')
        r = run_load(['-c', '2', '-d', '1', target], want_json=False)
        check_eq(r.rc, 3, 'exit code of the summary run')
        check_eq(summary_line(r, 'result '), 'result       exit 3: no request completed',
                 'the summary says why')
        r = run_load(['-m', 'stream', '-c', '2', '-d', '0.5', target])
        check_eq(r.rc, 3, 'stream: exit code, nothing came back\n' + r.describe())
        rep = check_report(r, 'stream', target)
        check(rep['bytes_sent'] > 0 and rep['bytes_received'] == 0, 'sent, none echoed')

    # 3: nothing listens
    target = '127.0.0.1:%d' % hold_port()
    r = run_load(['-c', '2', '-d', '1', target], want_json=False)
    check_eq(r.rc, 3, 'exit code, nothing listens\n' + r.describe())
    check_eq(summary_line(r, 'result '), 'result       exit 3: no connection was established',
             'the summary says why')
    check_eq(check_report(run_load(['-c', '2', '-d', '1', target]))['exit_code'], 3,
             'exit_code')

    # 1: every byte comes back wrong: verify errors, and no request completed
    s = Server(flip_all)
    r = run_load(['-c', '2', '-d', '0.5', s.target])
    check_eq(r.rc, 1, 'exit code with verify errors\n' + r.describe())
    rep = check_report(r, 'rr', s.target)
    check_eq(rep['errors']['verify'], 2, 'verify errors')
    check_eq(rep['requests'], 0, 'requests')
    s.close()

    # 4: a fifth of the requests get no answer
    s = Server(close_every_fifth)
    r = run_load(['-m', 'crr', '-c', '2', '-d', '1', s.target])
    check_eq(r.rc, 4, 'exit code, requests without answer\n' + r.describe())
    rep = check_report(r, 'crr', s.target)
    lost = rep['errors']['closed'] + rep['errors']['reset']  # FIN, or RST if unread
    check(lost > 0, 'closed: %r' % rep['errors'])
    rate = lost / (rep['requests'] + lost)
    check(0.15 <= rate <= 0.25, 'a fifth of the requests: %r' % rate)
    check(abs(rep['request_error_rate'] - rate) < 1e-5, 'request_error_rate %r, expected %r'
          % (rep['request_error_rate'], rate))
    check_eq(rep['error_rate'], rep['request_error_rate'], 'the rate that tripped')
    check_eq(rep['connection_error_rate'], 0, 'connection_error_rate')
    r = run_load(['-m', 'crr', '-c', '2', '-d', '1', s.target], want_json=False)
    check_eq(r.rc, 4, 'exit code of the summary run')
    line = summary_line(r, 'result ')
    check(line.startswith('result       exit 4: ') and
          line.endswith('% of the requests got no answer, over --max-error-rate 1%'),
          'the summary says why: %r' % line)
    s.close()

    # 2
    for args in (['-c', 'x', '127.0.0.1:7'],
                 ['--timeseries', os.path.join(tmp, 'none', 'x.csv'), '127.0.0.1:7']):
        r = run_load(args, want_json=False)
        check_eq(r.rc, 2, 'usage: exit code\n' + r.describe())
        check_eq(r.out, '', 'nothing on stdout')


main(run, timeout=60)

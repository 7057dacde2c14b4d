#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# reload (SIGHUP) of the metrics endpoint, while an echo client is served
# throughout:
#  1. metrics 127.0.0.1:0 -> 127.0.0.2:0: a new "metrics: listening on"
#     line after the "reload:" line, the new address serves /metrics (with
#     reloads_total{result="ok"} 1), the old one refuses;
#  2. -> 192.0.2.1:0, an address this host does not have: the bind fails,
#     the log says why and that the endpoint stays, and the old one serves
#     on (the reload itself is done: reloads_total{result="ok"} 2);
#  3. -> "metrics =" (empty): "reload: metrics endpoint off", and the port
#     refuses;
#  4. -> 127.0.0.1:0 again: it serves, with the counts kept across all of it.
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
_here = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, _here)
sys.path.insert(0, os.path.join(_here, '..', 'lib'))
import promtext  # noqa: E402
from detached import can_bind, wait_refused  # noqa: E402
from synacktest import (Daemon, METRICS_RE, check, check_eq, connect, echo_roundtrip,  # noqa: E402
                        http_get, listener, main, note, parse_addr, render_config,
                        server_section, skip, with_workers)

NOT_HERE = '192.0.2.1'   # TEST-NET-1: only bound to, never sent to


def conf_text(metrics):
    return with_workers(render_config({
        'server': server_section(metrics=metrics),
        'listener echo': listener('echo')}))


def reload(d, metrics):
    """Rewrite the file with this metrics value and SIGHUP; returns the log
    lines of the reload, from its "reload: FILE" line to "reload: done"."""
    with open(d.conf_path, 'w') as f:
        f.write(conf_text(metrics))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done|the running configuration stays', 10, start=mark)
    lines = d.log_lines()[mark:]
    start = [i for i, l in enumerate(lines) if re.search(r'reload: %s$' %
                                                         re.escape(d.conf_path), l)]
    check(start, 'no "reload: %s" line\n%s' % (d.conf_path, d.describe()))
    end = [i for i, l in enumerate(lines) if 'reload: done' in l]
    check(end, 'the reload to metrics = %r was not done\n%s' % (metrics, d.describe()))
    return lines[start[0]:end[0] + 1]


def listening_in(lines):
    found = [METRICS_RE.search(l) for l in lines]
    return [parse_addr(m.group(1)) for m in found if m]


def scrape(addr):
    status, _, body = http_get(addr, '/metrics', headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET /metrics on %s:%d' % addr)
    return promtext.parse(body)


def test():
    if not can_bind('127.0.0.2'):
        skip('cannot bind 127.0.0.2 (no 127.0.0.0/8 on loopback)')
    d = Daemon(conf_text('127.0.0.1:0'))
    pid = d.pid
    client = connect(d.addr('echo'))
    echo_roundtrip(client, b'before\n')
    first = d.metrics_addr()
    check_eq(scrape(first).value('synackd_reloads_total', result='ok'), 0,
             'reloads_total{result="ok"} at start')

    # 1 -------------------------------------------------------------------
    lines = reload(d, '127.0.0.2:0')
    moved = listening_in(lines)
    check_eq(len(moved), 1, 'metrics "listening on" lines after "reload:" (%r)' % lines)
    second = moved[0]
    check_eq(second[0], '127.0.0.2', 'the address the endpoint moved to')
    m = scrape(second)
    check_eq(m.value('synackd_reloads_total', result='ok'), 1,
             'reloads_total{result="ok"} after the move')
    wait_refused(first, pid, 5, 'the old metrics address after the move')
    echo_roundtrip(client, b'after the move\n')
    note('reload 1: metrics %s:%d -> %s:%d' % (first + second))

    # 2 -------------------------------------------------------------------
    if can_bind(NOT_HERE):
        note('note: %s can be bound here (an address of this host, or '
             'ip_nonlocal_bind): the failed move is not checked' % NOT_HERE)
    else:
        lines = reload(d, NOT_HERE + ':0')
        check_eq(listening_in(lines), [], 'metrics "listening on" lines after a move '
                 'to %s' % NOT_HERE)
        err = [l for l in lines if 'the metrics endpoint stays as it was' in l]
        check(err, 'no "the metrics endpoint stays as it was" line in %r' % lines)
        check(' error: reload: metrics: ' in err[0] and NOT_HERE in err[0] and
              'Cannot assign requested address' in err[0],
              'the failed move must be logged as an error naming the address and '
              'why: %r' % err[0])
        m = scrape(second)
        check_eq(m.value('synackd_reloads_total', result='ok'), 2,
                 'reloads_total{result="ok"} after the failed move')
        echo_roundtrip(client, b'after the failed move\n')
        note('reload 2: %s' % err[0])

    # 3 -------------------------------------------------------------------
    lines = reload(d, '')
    check(any('reload: metrics endpoint off' in l for l in lines),
          'no "reload: metrics endpoint off" line in %r' % lines)
    check_eq(listening_in(lines), [], 'metrics "listening on" lines after turning it off')
    wait_refused(second, pid, 5, 'the metrics address after "metrics =" (off)')
    echo_roundtrip(client, b'with metrics off\n')

    # 4 -------------------------------------------------------------------
    lines = reload(d, '127.0.0.1:0')
    back = listening_in(lines)
    check_eq(len(back), 1, 'metrics "listening on" lines after turning it on again')
    m = scrape(back[0])
    want_ok = 3 if d.find_log('the metrics endpoint stays as it was') is None else 4
    check_eq(m.value('synackd_reloads_total', result='ok'), want_ok,
             'reloads_total{result="ok"} after turning it on again')
    check_eq(m.value('synackd_listener_connections_accepted_total', listener='echo',
                     service='echo'), 1, 'echo clients accepted, counted across it all')
    echo_roundtrip(client, b'at the end\n')
    client.close()
    d.stop()


main(test, 60)

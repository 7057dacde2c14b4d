#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# metrics: /metrics counts exactly what the clients did, is valid Prometheus
# text 0.0.4 (promtool check metrics, and the strict reader promtext.py,
# whose own self-test runs first), and /stats says the same.
#  1. at start: build_info's version is `synackd -V`'s, workers and each
#     listener's address, service, workers and backlog are as configured,
#     every counter is 0.
#  2. echo: N clients: accepted +N, active N (the listener's and
#     synackd_clients_active), process_open_fds +N; bytes_in is exactly what
#     they sent, bytes_out exactly what they read back; after they close,
#     closed{peer} +N, active 0, open fds back where they were.
#  3. discard: bytes_in exactly what was sent, bytes_out 0, closed{peer}.
#  4. daytime: closed{done} per client, bytes_out exactly what they read.
#  5. chat: a line over max_line: closed{line_too_long} for its sender,
#     closed{peer} for the other member; bytes_in is every byte sent (the
#     rest of the long line too, read while closing), bytes_out the relayed
#     line and the error line.
#  6. /stats agrees with /metrics on every listener counter, taken while
#     nothing moves.
#  7. idle_timeout (a second daemon): closed{idle_timeout} for echo clients,
#     and for a chat member idle in the middle of a line whose last bytes
#     arrive after the daemon closed it: bytes_in still counts every byte.
# closed{shutdown} is not checked: it is counted as the daemon exits, when
# there is no endpoint left to read it from.
import os
import re
import shutil
import sys

sys.dont_write_bytecode = True
_lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
sys.path.insert(0, _lib)
import promtext  # noqa: E402
from synacktest import (Command, Daemon, check, check_eq, connect, fail, fmt_addr,  # noqa: E402
                        http_get, join_chat, listener, main, note, parse_addr,
                        recv_exact, recv_line, recv_until_eof, run_program, run_synackd,
                        server_section, test_workers, wait_for, wait_counters)

CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8'
CLOSE_REASONS = ('peer', 'idle_timeout', 'slow_consumer', 'line_too_long', 'shutdown',
                 'error', 'done', 'out_of_memory', 'proxy_invalid', 'proxy_timeout',
                 'max_clients_per_source')
REJECT_REASONS = ('max_clients', 'max_clients_per_source', 'out_of_memory',
                  'proxy_untrusted')
ACCEPT_ERRNOS = ('EMFILE', 'ENFILE', 'ENOBUFS', 'ENOMEM', 'EPERM', 'other')
MAX_LINE = 32
WAIT = 10.0   # seconds any one count may take to arrive


# ---------------------------------------------------------------------------
# Reading the endpoint

def get(d, path):
    """GET path on its own connection, closed by the daemon after the answer
    (so that no scrape's descriptor is left open in the next one's count)."""
    status, headers, body = http_get(d.metrics_addr(), path,
                                     headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET %s' % path)
    return headers, body


def scrape(d):
    headers, body = get(d, '/metrics')
    check_eq(headers.get('content-type'), CONTENT_TYPE, 'Content-Type of /metrics')
    try:
        return promtext.parse(body)
    except promtext.PromTextError as e:
        fail('/metrics is not valid text format 0.0.4: %s\n--- /metrics ---\n%s' %
             (e, body.decode(errors='replace')))


def stats(d):
    import json
    _, body = get(d, '/stats')
    return json.loads(body)


def promtool_check(text):
    exe = shutil.which('promtool')
    if exe is None:
        note('note: promtool is not installed: `promtool check metrics` skipped '
             '(the strict reader still checks the text)')
        return
    r = Command([exe, 'check', 'metrics'], stdin=text).finish(30)
    if r.rc != 0:
        fail('promtool check metrics: exit %d\n%s%s\n--- /metrics ---\n%s' %
             (r.rc, r.out, r.err, text.decode(errors='replace')))


class Listeners:
    """Per-listener reads of one scrape."""

    def __init__(self, d, m):
        self.d, self.m = d, m

    def get(self, family, name, **labels):
        return self.m.value('synackd_listener_' + family, listener=name,
                            service=self.d.listeners[name]['service'], **labels)

    def closed(self, name, reason):
        return self.get('connections_closed_total', name, reason=reason)


def counts(d, name):
    """Every counter of listener `name`, from one scrape: a dict."""
    L = Listeners(d, scrape(d))
    c = {'accepted': L.get('connections_accepted_total', name),
         'active': L.get('connections_active', name),
         'bytes_in': L.get('received_bytes_total', name),
         'bytes_out': L.get('sent_bytes_total', name)}
    for r in CLOSE_REASONS:
        c['closed.' + r] = L.closed(name, r)
    for r in REJECT_REASONS:
        c['rejected.' + r] = L.get('connections_rejected_total', name, reason=r)
    for e in ACCEPT_ERRNOS:
        c['accept_errors.' + e] = L.get('accept_errors_total', name, errno=e)
    return c


def wait_counts(d, name, want, what):
    """Wait until every counter of listener `name` named in `want` has
    exactly the value given there, and all the others are 0."""
    wait_counters(lambda: counts(d, name), want, WAIT, '%s: listener %s' % (what, name))


def wait_value(d, family, want, what, **labels):
    last = []

    def done():
        v = scrape(d).get(family, **labels)
        last[:] = [v]
        return v == want
    if not wait_for(done, WAIT):
        fail('%s: %s%s expected %r, got %r after %.0f s' %
             (what, family, promtext.format_labels(labels), want, last[0], WAIT))


# ---------------------------------------------------------------------------
# /stats against /metrics

def listener_series(m):
    """Everything about listeners in one scrape, and the descriptors and
    clients, to tell whether it moved."""
    return {k: s.value for k, s in m.series.items()
            if k[0].startswith('synackd_listener_') or
            k[0] in ('process_open_fds', 'synackd_clients_active')}


def quiet_pair(d):
    """A /metrics scrape, /stats, and a second scrape equal to the first in
    every listener series (nothing moved between them); a few tries."""
    for _ in range(5):
        m1 = scrape(d)
        st = stats(d)
        m2 = scrape(d)
        if listener_series(m1) == listener_series(m2):
            return m1, st
    fail('the listener series kept moving over five scrapes')


def compare_stats(d):
    m, st = quiet_pair(d)
    g = m.value
    check_eq(st['version'], m.label_values('synackd_build_info', 'version')[0],
             '/stats version against synackd_build_info')
    check_eq(st['workers'], g('synackd_workers'), '/stats workers')
    check_eq(st['clients']['active'], g('synackd_clients_active'), '/stats clients.active')
    check_eq(st['clients']['max'], g('synackd_clients_max'), '/stats clients.max')
    check_eq(st['max_clients_reached'], g('synackd_max_clients_reached_total'),
             '/stats max_clients_reached')
    for r in ('ok', 'failed'):
        check_eq(st['reloads'][r], g('synackd_reloads_total', result=r), '/stats reloads.' + r)
    names = [l['name'] for l in st['listeners']]
    check_eq(sorted(names), sorted(m.label_values('synackd_listener_info', 'listener')),
             'listeners in /stats and in synackd_listener_info')
    check_eq(sorted(names), sorted(d.listeners), 'listeners in /stats')
    for l in st['listeners']:
        n, svc = l['name'], l['service']
        what = '/stats listener %s' % n

        def lv(family, **labels):
            return m.value('synackd_listener_' + family, listener=n, service=svc, **labels)

        info = m.samples('synackd_listener_info', listener=n)
        check_eq(len(info), 1, 'synackd_listener_info series of %s' % n)
        check_eq(info[0].labels['service'], svc, what + ' service')
        check_eq(l['address'], info[0].labels['address'], what + ' address')
        check_eq(l['port'], parse_addr(l['address'])[1], what + ' port')
        check_eq(l['backlog'], lv('backlog'), what + ' backlog')
        check_eq(l['workers'], lv('workers'), what + ' workers')
        for key, fam in (('backlog_effective', 'backlog_effective'),
                         ('accept_queue', 'accept_queue'),
                         ('accept_queue_limit', 'accept_queue_limit'),
                         ('syn_recv', 'syn_recv')):
            check_eq(l[key], m.get('synackd_listener_' + fam, listener=n, service=svc),
                     '%s %s' % (what, key))
        if l['accept_queue'] is not None:
            check_eq(sum(l['accept_queue_per_socket']), l['accept_queue'],
                     what + ' sum of accept_queue_per_socket')
            check_eq(len(l['accept_queue_per_socket']), l['workers'],
                     what + ' sockets in accept_queue_per_socket')
        check_eq(l['accepted'], lv('connections_accepted_total'), what + ' accepted')
        check_eq(l['active'], lv('connections_active'), what + ' active')
        check_eq(sorted(l['rejected']), sorted(REJECT_REASONS), what + ' rejected reasons')
        for r in REJECT_REASONS:
            check_eq(l['rejected'][r], lv('connections_rejected_total', reason=r),
                     '%s rejected.%s' % (what, r))
        check_eq(l['rejected_total'], sum(l['rejected'].values()), what + ' rejected_total')
        check_eq(sorted(l['closed']), sorted(CLOSE_REASONS), what + ' closed reasons')
        for r in CLOSE_REASONS:
            check_eq(l['closed'][r], lv('connections_closed_total', reason=r),
                     '%s closed.%s' % (what, r))
        check_eq(sorted(l['accept_errors']), sorted(ACCEPT_ERRNOS), what + ' accept errnos')
        for e in ACCEPT_ERRNOS:
            check_eq(l['accept_errors'][e], lv('accept_errors_total', errno=e),
                     '%s accept_errors.%s' % (what, e))
        check_eq(l['bytes_in'], lv('received_bytes_total'), what + ' bytes_in')
        check_eq(l['bytes_out'], lv('sent_bytes_total'), what + ' bytes_out')
    # the host's counters move with every other test on the machine: only
    # its settings are compared
    h = st['host']
    check(h is not None, '/stats host is null')
    for key, fam in (('somaxconn', 'synackd_host_somaxconn'),
                     ('tcp_max_syn_backlog', 'synackd_host_tcp_max_syn_backlog'),
                     ('tcp_syncookies', 'synackd_host_tcp_syncookies')):
        check_eq(h[key], g(fam), '/stats host.' + key)
    p = st['process']
    check(p is not None, '/stats process is null')
    check_eq(p['max_fds'], g('process_max_fds'), '/stats process.max_fds')
    check_eq(p['open_fds'], g('process_open_fds'), '/stats process.open_fds')
    check_eq(p['start_time_seconds'], g('process_start_time_seconds'),
             '/stats process.start_time_seconds')
    return m


# ---------------------------------------------------------------------------

def check_start(d, m):
    r = run_synackd(['-V'])
    check_eq(r.rc, 0, 'exit status of synackd -V')
    version = r.out.split()[-1] if r.out.split() else None
    info = m.samples('synackd_build_info')
    check_eq(len(info), 1, 'synackd_build_info series')
    check_eq(info[0].labels, {'version': version}, 'synackd_build_info labels '
             '(the version of `synackd -V`: %r)' % r.out.strip())
    check_eq(info[0].value, 1.0, 'synackd_build_info value')
    n = test_workers()
    check_eq(m.value('synackd_workers'), n, 'synackd_workers')
    check_eq(m.value('synackd_clients_active'), 0, 'synackd_clients_active at start')
    check(m.value('synackd_uptime_seconds') >= 0, 'synackd_uptime_seconds < 0')
    check(0 < m.value('process_open_fds') < m.value('process_max_fds'),
          'process_open_fds %r, process_max_fds %r' %
          (m.value('process_open_fds'), m.value('process_max_fds')))
    for name, l in d.listeners.items():
        svc = l['service']
        info = m.samples('synackd_listener_info', listener=name)
        check_eq([s.labels for s in info],
                 [{'listener': name, 'service': svc, 'address': l['text']}],
                 'synackd_listener_info of %s' % name)
        want = 1 if svc == 'chat' else n
        check_eq(m.value('synackd_listener_workers', listener=name, service=svc), want,
                 'synackd_listener_workers of %s' % name)
        check_eq(m.value('synackd_listener_backlog', listener=name, service=svc),
                 l['backlog'], 'synackd_listener_backlog of %s' % name)
        for fam in promtext_counters(m):
            for s in m.samples(fam, listener=name):
                check_eq(s.value, 0, 'at start: %s%s' %
                         (fam, promtext.format_labels(s.labels)))


def promtext_counters(m):
    return [n for n, f in m.families.items()
            if f.type == 'counter' and n.startswith('synackd_listener_')]


def echo_clients(d, n):
    m0 = scrape(d)
    fds0 = m0.value('process_open_fds')
    socks = [connect(d.addr('echo')) for _ in range(n)]
    wait_counts(d, 'echo', {'accepted': n, 'active': n}, '%d echo clients connected' % n)
    wait_value(d, 'synackd_clients_active', n, '%d echo clients connected' % n)
    wait_value(d, 'process_open_fds', fds0 + n, '%d echo clients connected' % n)
    sent = got = 0
    for i, s in enumerate(socks):
        payload = (b'%d:' % i) + b'e' * (97 * i + 1) + b'\n'
        s.sendall(payload)
        check_eq(recv_exact(s, len(payload)), payload, 'echo of client %d' % i)
        sent += len(payload)
        got += len(payload)
    # a bigger one, in pieces that fit the socket buffers
    chunk = bytes(range(256)) * 128
    for _ in range(8):
        socks[0].sendall(chunk)
        check_eq(recv_exact(socks[0], len(chunk)), chunk, 'echo of 32 KiB')
        sent += len(chunk)
        got += len(chunk)
    wait_counts(d, 'echo', {'accepted': n, 'active': n, 'bytes_in': sent, 'bytes_out': got},
                'echo: %d bytes sent, %d read back' % (sent, got))
    note('echo: %d clients, %d bytes each way' % (n, sent))
    for s in socks:
        s.close()
    wait_counts(d, 'echo', {'accepted': n, 'closed.peer': n, 'bytes_in': sent,
                            'bytes_out': got}, 'echo clients closed')
    wait_value(d, 'synackd_clients_active', 0, 'echo clients closed')
    wait_value(d, 'process_open_fds', fds0, 'echo clients closed')


def discard_clients(d):
    socks = [connect(d.addr('sink')) for _ in range(3)]
    sent = 0
    for i, s in enumerate(socks):
        data = b'd' * (1000 * (i + 1))
        s.sendall(data)
        sent += len(data)
    wait_counts(d, 'sink', {'accepted': 3, 'active': 3, 'bytes_in': sent},
                'discard: %d bytes sent' % sent)
    for s in socks:
        s.close()
    wait_counts(d, 'sink', {'accepted': 3, 'closed.peer': 3, 'bytes_in': sent},
                'discard clients closed')


def daytime_clients(d):
    got = 0
    for i in range(3):
        s = connect(d.addr('day'))
        data, how = recv_until_eof(s, timeout=5)
        s.close()
        check(re.match(rb'^[A-Z][a-z]+day, [A-Z][a-z]+ \d\d, \d{4} \d\d:\d\d:\d\d-\S+\r\n\Z',
                       data), 'daytime line %r' % data)
        got += len(data)
    wait_counts(d, 'day', {'accepted': 3, 'closed.done': 3, 'bytes_out': got},
                'daytime: 3 lines of %d bytes in all' % got)


def chat_clients(d):
    a, b = join_chat(d, 'room', 2)
    a_name = fmt_addr(a.getsockname())
    hello = b'hello\n'
    a.sendall(hello)
    relayed = recv_line(b)
    check_eq(relayed, a_name.encode() + b': hello\n', 'the line b received')
    wait_counts(d, 'room', {'accepted': 2, 'active': 2, 'bytes_in': len(hello),
                            'bytes_out': len(relayed)}, 'chat: one line relayed')
    long_line = b'L' * (MAX_LINE * 3) + b'\n'
    a.sendall(long_line)
    err = recv_line(a)
    check_eq(err, b'error: line too long (max %d bytes)\n' % MAX_LINE, 'error line')
    rest, _ = recv_until_eof(a, timeout=5)
    check_eq(rest, b'', 'bytes after the error line')
    a.close()
    wait_counts(d, 'room', {'accepted': 2, 'active': 1, 'closed.line_too_long': 1,
                            'bytes_in': len(hello) + len(long_line),
                            'bytes_out': len(relayed) + len(err)}, 'chat: a line too long')
    b.close()
    wait_counts(d, 'room', {'accepted': 2, 'closed.line_too_long': 1, 'closed.peer': 1,
                            'bytes_in': len(hello) + len(long_line),
                            'bytes_out': len(relayed) + len(err)}, 'chat: both gone')


def idle_daemon():
    conf = {'server': server_section(log_level='debug', idle_timeout=1,
                                     metrics='127.0.0.1:0'),
            'listener idle': listener('echo'),
            'listener idlechat': listener('chat', max_line=MAX_LINE)}
    with Daemon(conf) as d:
        socks = [connect(d.addr('idle')) for _ in range(3)]
        sent = 0
        for i, s in enumerate(socks):
            payload = b'x' * (10 + i) + b'\n'
            s.sendall(payload)
            check_eq(recv_exact(s, len(payload)), payload, 'echo before going idle')
            sent += len(payload)
        wait_counts(d, 'idle', {'accepted': 3, 'active': 3, 'bytes_in': sent,
                                'bytes_out': sent}, 'echo clients before going idle')
        # a chat member idle in the middle of a line
        (c,) = join_chat(d, 'idlechat', 1)
        c.sendall(b'partial')
        wait_counts(d, 'idlechat', {'accepted': 1, 'active': 1, 'bytes_in': 7},
                    'a chat member sent half a line')
        data, _ = recv_until_eof(c, timeout=8)
        check_eq(data, b'', 'bytes an idle chat member receives before EOF')
        # the daemon has closed its side; it still reads (and drops) what
        # arrives until the member closes too (for 2 s)
        c.sendall(b' and the rest\n')
        c.close()
        for s in socks:
            data, _ = recv_until_eof(s, timeout=8)
            check_eq(data, b'', 'bytes an idle echo client receives before EOF')
            s.close()
        wait_counts(d, 'idle', {'accepted': 3, 'closed.idle_timeout': 3, 'bytes_in': sent,
                                'bytes_out': sent}, 'idle echo clients closed')
        wait_counts(d, 'idlechat', {'accepted': 1, 'closed.idle_timeout': 1,
                                    'bytes_in': len(b'partial and the rest\n')},
                    'idle chat member closed, with bytes after the close')
        wait_value(d, 'synackd_clients_active', 0, 'idle clients closed')
        compare_stats(d)


def run():
    r = run_program([sys.executable, os.path.join(_lib, 'promtext.py'), '--self-test'], 30)
    out = (r.out + r.err).strip()
    check(r.rc == 0, 'promtext.py --self-test failed:\n' + out)
    note(out)

    conf = {'server': server_section(log_level='debug', metrics='127.0.0.1:0'),
            'listener echo': listener('echo'),
            'listener sink': listener('discard'),
            'listener day': listener('daytime'),
            'listener room': listener('chat', max_line=MAX_LINE)}
    with Daemon(conf) as d:
        _, body = get(d, '/metrics')
        promtool_check(body)
        m = scrape(d)
        check_start(d, m)
        compare_stats(d)
        echo_clients(d, 8)
        discard_clients(d)
        daytime_clients(d)
        chat_clients(d)
        m = compare_stats(d)
        _, body = get(d, '/metrics')
        promtool_check(body)
        check_eq(m.value('synackd_clients_active'), 0, 'synackd_clients_active at the end')
        note('closed{reason="shutdown"} is not checked: it is counted as the daemon exits')
    idle_daemon()


main(run, timeout=60)

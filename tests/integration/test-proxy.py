#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# proxy_protocol: listeners that take a PROXY header (version 1 or 2) sent
# here by hand.
#  1. chat: a member behind a v1 or v2 header is known by the header's
#     address: the prefix other members see and the debug log's connect
#     line, logged only once the header is read; LOCAL keeps the
#     connection's own address.
#  2. echo: bytes in the same packet as the header are the service's first
#     input; a header in pieces works; daytime, which speaks first, waits
#     for the header.
#  3. a header that does not come in proxy_timeout, garbage, a truncated
#     header: each closed, counted as proxy_timeout or proxy_invalid in
#     /metrics and /stats.
#  4. max_clients_per_source counts the header's source, not the proxy's.
#  5. proxy_timeout is a deadline from accept: a v1 and a v2 header sent a
#     byte every 100 ms (3.6 s and 2.8 s in all) are closed 1 to 1.5 s after
#     connect (proxy_timeout 1 s), counted as proxy_timeout, however
#     steadily their bytes arrive.
import json
import os
import re
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import promtext  # noqa: E402
from proxyheader import V2_LOCAL, v1, v2  # noqa: E402
from synacktest import (daemon_read_all, Daemon, abort, check, check_eq, connect, expect_silence, fail,  # noqa: E402
                        fmt_addr, http_get, listener, main, note, recv_line,
                        recv_until_eof, server_section, wait_for)

def metrics(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics', headers={'Connection': 'close'})
    check_eq(status, 200, 'GET /metrics')
    return promtext.parse(body)


def closed(d, name, reason):
    return metrics(d).sum('synackd_listener_connections_closed_total',
                          listener=name, reason=reason)


def stats(d):
    status, _, body = http_get(d.metrics_addr(), '/stats', headers={'Connection': 'close'})
    check_eq(status, 200, 'GET /stats')
    return json.loads(body)


def wait_closed(d, name, reason, want):
    wait_for(lambda: closed(d, name, reason) >= want, 10,
             what='%s closed for %s to reach %d' % (name, reason, want))
    check_eq(closed(d, name, reason), want, '%s closed for %s' % (name, reason))


def chat(d):
    room = d.addr('room')
    a = connect(room)
    a.sendall(v1('127.0.0.9', 40212))
    d.wait_log(r'client 127\.0\.0\.9:40212 connected to room')
    b = connect(room)
    b.sendall(v2('2001:db8::7', 5555, dst='::1'))
    d.wait_log(r'client \[2001:db8::7\]:5555 connected to room')
    c = connect(room)
    c.sendall(V2_LOCAL)
    C = fmt_addr(c.getsockname())
    d.wait_log(r'client %s connected to room' % re.escape(C))
    check(d.find_log(r'client %s connected' % re.escape(fmt_addr(a.getsockname()))) is None,
          'a connect line with the proxy\'s address for a client with a header')

    a.sendall(b'hello from a\n')
    check_eq(recv_line(b), b'127.0.0.9:40212: hello from a\n', 'b: a\'s line')
    check_eq(recv_line(c), b'127.0.0.9:40212: hello from a\n', 'c: a\'s line')
    b.sendall(b'from b\n')
    check_eq(recv_line(a), b'[2001:db8::7]:5555: from b\n', 'a: b\'s line')
    c.sendall(b'from c\n')
    check_eq(recv_line(a), ('%s: from c\n' % C).encode(), 'a: c\'s line (LOCAL)')
    for s in (a, b, c):
        abort(s)


def echo(d):
    addr = d.addr('echo')
    # the header and the first bytes in one packet
    s = connect(addr)
    s.sendall(v1('192.0.2.7', 1234) + b'same packet\n')
    check_eq(recv_line(s), b'same packet\n', 'echo of bytes sent with a v1 header')
    abort(s)
    s = connect(addr)
    s.sendall(v2('192.0.2.8', 1234, tlvs=b'\x04\x00\x03abc') + b'after v2\n')
    check_eq(recv_line(s), b'after v2\n', 'echo of bytes sent with a v2 header')
    abort(s)
    # the header in pieces: nothing comes back until it is whole
    s = connect(addr)
    h = v2('192.0.2.9', 4321)
    s.sendall(h[:5])
    daemon_read_all(s, addr[1])
    s.sendall(h[5:20])
    expect_silence(s, 0.2)
    s.sendall(h[20:] + b'pie')
    daemon_read_all(s, addr[1])
    s.sendall(b'ces\n')
    check_eq(recv_line(s), b'pieces\n', 'echo after a header sent in pieces')
    d.wait_log(r'client 192\.0\.2\.9:4321 connected to echo')
    abort(s)

    # daytime speaks first, but only once the header is read
    s = connect(d.addr('daytime'))
    expect_silence(s, 0.3)
    s.sendall(v1('192.0.2.10', 99))
    data, _ = recv_until_eof(s)
    check(data.endswith(b'\r\n') and len(data) > 10, 'daytime after the header: %r' % data)
    abort(s)


def abuse(d):
    addr = d.addr('echo')
    # garbage: closed at once, nothing echoed
    s = connect(addr)
    s.sendall(b'hello\r\n')
    data, _ = recv_until_eof(s)
    check_eq(data, b'', 'what a client without a header receives')
    abort(s)
    wait_closed(d, 'echo', 'proxy_invalid', 1)
    d.wait_log(r'client 127\.0\.0\.1:\d+: invalid PROXY header: not a PROXY header')
    # a bad v1 line
    s = connect(addr)
    s.sendall(b'PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\nx\n')
    data, _ = recv_until_eof(s)
    check_eq(data, b'', 'what a client with a bad port receives')
    abort(s)
    wait_closed(d, 'echo', 'proxy_invalid', 2)
    # a header begun and the connection closed
    s = connect(addr)
    s.sendall(b'PROXY TCP4 1.2')
    s.shutdown(socket.SHUT_WR)
    recv_until_eof(s)
    abort(s)
    wait_closed(d, 'echo', 'proxy_invalid', 3)
    # slow: half a header, then nothing for longer than proxy_timeout (1 s)
    t0 = time.monotonic()
    s = connect(addr)
    s.sendall(b'PROXY TCP4 ')
    data, _ = recv_until_eof(s, timeout=5)
    took = time.monotonic() - t0
    check_eq(data, b'', 'what a slow client receives')
    check(0.8 <= took <= 3.0, 'a slow header closed after %.2f s (proxy_timeout 1 s)' % took)
    abort(s)
    wait_closed(d, 'echo', 'proxy_timeout', 1)
    # nothing at all is just as slow
    s = connect(addr)
    recv_until_eof(s, timeout=5)
    abort(s)
    wait_closed(d, 'echo', 'proxy_timeout', 2)
    st = stats(d)
    echo_stats = [x for x in st['listeners'] if x['name'] == 'echo'][0]
    check_eq(echo_stats['closed']['proxy_invalid'], 3, '/stats: proxy_invalid')
    check_eq(echo_stats['closed']['proxy_timeout'], 2, '/stats: proxy_timeout')
    # the listener still serves
    s = connect(addr)
    s.sendall(v1('192.0.2.7', 1) + b'still\n')
    check_eq(recv_line(s), b'still\n', 'echo after the abuse')
    abort(s)


def trickle(addr, header, interval=0.1):
    """Send header a byte every `interval` seconds from connect on, until
    the daemon closes: the seconds from connect to its close."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(5)
    t0 = time.monotonic()
    s.connect(addr)
    try:
        for i in range(len(header)):
            try:
                s.send(header[i:i + 1])
            except OSError:
                return time.monotonic() - t0     # reset: it was closed
            r, _, _ = select.select([s], [], [], interval)
            if r:
                try:
                    data = s.recv(4096)
                except ConnectionResetError:
                    data = b''
                check_eq(data, b'', 'what a client trickling its header receives')
                return time.monotonic() - t0
        fail('a header trickled over %.1f s was taken (proxy_timeout 1 s)' %
             (time.monotonic() - t0))
    finally:
        abort(s)


def deadline(d):
    addr = d.addr('echo')
    before = closed(d, 'echo', 'proxy_timeout')
    for name, header in (('v1', v1('192.0.2.70', 4444)), ('v2', v2('192.0.2.71', 4444))):
        took = trickle(addr, header)
        note('%s header trickled: closed %.3f s after connect' % (name, took))
        check(1.0 <= took <= 1.5,
              'a %s header trickled a byte per 100 ms closed %.2f s after connect '
              '(proxy_timeout 1 s)' % (name, took))
    wait_closed(d, 'echo', 'proxy_timeout', before + 2)


def per_source(d):
    # max_clients_per_source 2 counts the header's address: two clients
    # from 192.0.2.50 are served, a third is closed; others (all from
    # 127.0.0.1 to the daemon) are served
    addr = d.addr('echo')
    held = []
    for i in range(2):
        s = connect(addr)
        s.sendall(v1('192.0.2.50', 100 + i) + b'held\n')
        check_eq(recv_line(s), b'held\n', 'client %d from 192.0.2.50' % i)
        held.append(s)
    s = connect(addr)
    s.sendall(v1('192.0.2.50', 102) + b'third\n')
    data, _ = recv_until_eof(s)
    check_eq(data, b'', 'a third client from 192.0.2.50')
    abort(s)
    wait_closed(d, 'echo', 'max_clients_per_source', 1)
    others = []
    for i in range(3):
        s = connect(addr)
        s.sendall(v1('192.0.2.%d' % (60 + i), 100) + b'other\n')
        check_eq(recv_line(s), b'other\n', 'client from 192.0.2.%d' % (60 + i))
        others.append(s)
    for s in held + others:
        abort(s)


def run():
    conf = {'server': server_section(log_level='debug', metrics='127.0.0.1:0',
                                     max_clients_per_source=2),
            'listener room': listener('chat', proxy_protocol='yes'),
            'listener echo': listener('echo', proxy_protocol='yes', proxy_timeout=1),
            'listener daytime': listener('daytime', proxy_protocol='yes')}
    with Daemon(conf) as d:
        chat(d)
        echo(d)
        abuse(d)
        deadline(d)
        per_source(d)
        m = metrics(d)
        labels = set(s.labels.get('reason') for s in
                     m.samples('synackd_listener_connections_closed_total', listener='room'))
        for r in ('proxy_invalid', 'proxy_timeout', 'max_clients_per_source'):
            check(r in labels, '/metrics lists reason %s' % r)
        check(not d.messages('error'), 'errors logged: %s' % d.messages('error'))


main(run, timeout=90)

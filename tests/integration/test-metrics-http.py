#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# metrics endpoint against bad HTTP: it answers what it serves, refuses the
# rest with the right status, closes what never finishes within its 5 s
# timeout (plus a margin), and the daemon's clients never notice.
#  - garbage bytes: 400 and closed; binary garbage with no line end, and
#    more of it than a header may hold: closed, never a 200;
#  - a 1 MB header: refused (400), never a 200, memory not grown;
#  - a request that never ends, one sent a header line at a time (each
#    line restarts libevent's own timeout), a second request on a kept
#    connection sent so, and a connection that sends nothing: closed by the
#    daemon within the timeout and a margin;
#  - POST, PUT, DELETE, OPTIONS, PATCH, TRACE: 405 with "Allow: GET, HEAD";
#    a body up to 4096 bytes: 405, a bigger one: 413; an unknown method:
#    501; an unknown path: 404;
#  - a 405 (CONNECT among them: libevent keeps a CONNECT's connection
#    after the answer) and a 501 are the connection's last answer: its end
#    of file follows within 0.5 s;
#  - a request that says where it ends in two ways (RFC 9112 section 6.3):
#    two Content-Length headers, equal or not, a Content-Length with a
#    Transfer-Encoding, a Transfer-Encoding other than chunked: 400, and
#    the connection closed, so that what follows is never read as another
#    request;
#  - HEAD: the status and headers of GET and no body (HEAD /metrics then
#    GET /metrics on one connection: the second answer is GET's);
#  - /metrics?x=1 and /stats?x=1 are served as /metrics and /stats;
#  - 200 connections opened and left silent (metrics_max_connections is
#    raised for them): echo clients are served while they are open,
#    /metrics too, each is closed by the timeout, and then the descriptors
#    are back to where they were;
#  - at the end an echo client still round-trips and the daemon exits 0.
import json
import os
import re
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
_lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
sys.path.insert(0, _lib)
import promtext  # noqa: E402
from synacktest import (Daemon, abort, check, check_eq, check_rss_growth, connect,  # noqa: E402
                        echo_roundtrip, fail, http_get, listener, main, note, rss_kib,
                        server_section, wait_for)

TIMEOUT = 5      # the endpoint's request timeout (METRICS_TIMEOUT)
MARGIN = 4       # what a loaded machine may add to it
IDLE_CONNECTIONS = 200
LAST_ANSWER_EOF = 0.5   # seconds from a connection's last answer to its end


def raw(addr, data, timeout=TIMEOUT + MARGIN):
    """Send data on a new connection (as much as the daemon takes), then read
    until the daemon closes: (bytes received, 'eof'|'reset', seconds from
    the connect to the end). Fails if it is still open after `timeout`."""
    s = socket.create_connection(addr, timeout=5)
    t0 = time.monotonic()
    try:
        s.settimeout(timeout)
        try:
            s.sendall(data)
        except (BrokenPipeError, ConnectionResetError, socket.timeout):
            pass        # the daemon stopped reading or closed: see what it said
        buf = bytearray()
        how = None
        while how is None:
            left = timeout - (time.monotonic() - t0)
            if left <= 0:
                fail('%r...: the daemon did not close the connection within %.0f s '
                     '(got %r)' % (data[:40], timeout, bytes(buf[:200])))
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                how = 'reset'
                break
            except socket.timeout:
                continue
            if not chunk:
                how = 'eof'
            buf += chunk
        return bytes(buf), how, time.monotonic() - t0
    finally:
        abort(s)


def status_of(resp):
    """The status code of a raw response, or None when nothing came."""
    if not resp:
        return None
    line = resp.split(b'\r\n', 1)[0]
    parts = line.split()
    check(len(parts) >= 2 and parts[0].startswith(b'HTTP/1.') and parts[1].isdigit(),
          'not an HTTP status line: %r' % line[:100])
    return int(parts[1])


def last_answer(addr, data, what):
    """Send data, read one answer (headers and Content-Length body, none to
    HEAD), then the connection's end, which must follow within
    LAST_ANSWER_EOF and bring nothing more (no second answer). An answer
    without Content-Length (libevent's own, to HEAD) ends with the
    connection, which must come within LAST_ANSWER_EOF of its headers.
    Returns (status, head, body)."""
    s = socket.create_connection(addr, timeout=5)
    try:
        s.sendall(data)
        buf = bytearray()
        deadline = time.monotonic() + TIMEOUT + MARGIN
        answered = None
        while True:
            head, sep, body = bytes(buf).partition(b'\r\n\r\n')
            if sep and answered is None:
                m = re.search(rb'\r\nContent-Length: (\d+)\r\n', head + b'\r\n', re.I)
                if m is None:
                    length = None
                elif data.startswith(b'HEAD '):
                    length = 0
                else:
                    length = int(m.group(1))
                if length is None or len(body) >= length:
                    answered = time.monotonic()
                    deadline = answered + LAST_ANSWER_EOF
            left = deadline - time.monotonic()
            if left <= 0:
                if answered is None:
                    fail('%s: no whole answer within %d s: %r' %
                         (what, TIMEOUT + MARGIN, bytes(buf[:300])))
                fail('%s: the connection still open %.1f s after its answer %r' %
                     (what, LAST_ANSWER_EOF, bytes(buf[:300])))
            s.settimeout(left)
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                continue
            except ConnectionResetError:
                chunk = b''
            if not chunk:
                break
            buf += chunk
        check(answered is not None, '%s: closed before a whole answer: %r' %
              (what, bytes(buf[:300])))
        if length is not None:
            check_eq(body[length:], b'', '%s: what came after the answer' % what)
            body = body[:length]
        check_eq(bytes(buf).count(b'HTTP/1.'), 1, '%s: answers' % what)
        return status_of(bytes(buf)), head, body
    finally:
        abort(s)


def request(d, method, path, body=None, headers=None):
    h = {'Connection': 'close'}
    h.update(headers or {})
    import http.client
    conn = http.client.HTTPConnection(*d.metrics_addr(), timeout=TIMEOUT + MARGIN)
    try:
        conn.request(method, path, body=body, headers=h)
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def serves_metrics(d):
    status, headers, body = http_get(d.metrics_addr(), '/metrics',
                                     headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET /metrics')
    return promtext.parse(body)


def garbage(d, maddr):
    resp, how, took = raw(maddr, b'\x00\xff\x16\x03\x01 garbage \x01\x02\r\n\r\n')
    check_eq(status_of(resp), 400, 'status after garbage bytes (%r)' % resp[:80])
    note('garbage line: 400 and %s after %.2f s' % (how, took))
    # more than a request line and headers may hold
    resp, how, took = raw(maddr, b'\x16\x03' * 32768)
    check(status_of(resp) in (None, 400, 413, 431),
          '64 KiB of garbage without a line end got %r' % resp[:80])
    check(took < TIMEOUT, '64 KiB of garbage: closed after %.2f s, not at once' % took)
    note('64 KiB of garbage: %r, %s after %.2f s' % (status_of(resp), how, took))


def big_header(d, maddr):
    before = rss_kib(d.pid)
    req = (b'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Big: ' + b'a' * (1 << 20) +
           b'\r\n\r\n')
    resp, how, took = raw(maddr, req)
    code = status_of(resp)
    check(code in (None, 400, 413, 431), 'a 1 MB header got status %r: %r' %
          (code, resp[:120]))
    check(took < TIMEOUT, 'a 1 MB header: closed after %.2f s, not at once' % took)
    note('1 MB header: status %r, %s after %.2f s' % (code, how, took))
    check_rss_growth(d.pid, before, 'after a 1 MB header', limit_kib=8 * 1024)


def methods(d, maddr):
    for m in ('POST', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'TRACE'):
        for path in ('/metrics', '/stats', '/'):
            status, headers, _ = request(d, m, path)
            check_eq(status, 405, 'status of %s %s' % (m, path))
            check_eq(headers.get('allow'), 'GET, HEAD', 'Allow header of %s %s' % (m, path))
    status, headers, _ = request(d, 'POST', '/metrics', body=b'p' * 4096)
    check_eq(status, 405, 'status of a POST with a 4096-byte body')
    check_eq(headers.get('allow'), 'GET, HEAD', 'Allow header of a POST with a body')
    status, _, _ = request(d, 'POST', '/metrics', body=b'p' * 4097)
    check_eq(status, 413, 'status of a POST with a 4097-byte body')
    status, _, _ = request(d, 'FOO', '/metrics')
    check_eq(status, 501, 'status of method FOO')
    for path in ('/nope', '/metrics/', '/metricsx', '/stats.json', '//metrics'):
        status, _, _ = request(d, 'GET', path)
        check_eq(status, 404, 'status of GET %s' % path)
    # the last answer: the end of the connection follows at once
    for method, want in (('CONNECT', 405), ('POST', 405), ('OPTIONS', 405), ('FOO', 501)):
        status, head, _ = last_answer(
            maddr, b'%s /metrics HTTP/1.1\r\nHost: x\r\n\r\n' % method.encode(), method)
        check_eq(status, want, 'status of %s' % method)
        if want == 405:
            check(b'\r\nAllow: GET, HEAD\r\n' in head + b'\r\n', 'no Allow header in %r' % head)
    status, _, _ = last_answer(maddr, b'CONNECT /metrics HTTP/1.1\r\nHost: x\r\n'
                               b'Content-Length: 4\r\n\r\nbody', 'CONNECT with a body')
    check_eq(status, 405, 'status of CONNECT with a body')


def framing(d, maddr):
    """Two ways to say where a request ends: 400, and nothing after it is
    read as a request."""
    cases = (
        ('two equal Content-Length', 'GET', b'Content-Length: 0\r\nContent-Length: 0\r\n',
         b''),
        ('two equal Content-Length and a body', 'POST',
         b'Content-Length: 4\r\ncontent-length: 4\r\n', b'abcd'),
        # the first length says the request has no body: the rest would be a
        # second request, to the daemon and not to a proxy that takes the last
        ('Content-Length 0, then 26', 'GET', b'Content-Length: 0\r\nContent-Length: 26\r\n',
         b'GET /stats HTTP/1.1\r\n\r\n'),
        ('Content-Length 26, then 0', 'HEAD', b'Content-Length: 26\r\nContent-Length: 0\r\n',
         b'GET /stats HTTP/1.1\r\n\r\n'),
        ('Content-Length and Transfer-Encoding', 'HEAD',
         b'Content-Length: 5\r\nTransfer-Encoding: chunked\r\n', b'0\r\n\r\n'),
        ('Content-Length and Transfer-Encoding, with a body', 'GET',
         b'Transfer-Encoding: chunked\r\nContent-Length: 26\r\n', b'0\r\n\r\n'),
        ('a Transfer-Encoding that is not chunked', 'HEAD', b'Transfer-Encoding: gzip\r\n',
         b''),
        ('a list of lengths', 'HEAD', b'Content-Length: 0, 0\r\n', b''),
        ('two Content-Length on CONNECT', 'CONNECT',
         b'Content-Length: 0\r\nContent-Length: 0\r\n', b''),
    )
    for what, method, headers, rest in cases:
        req = b'%s /stats HTTP/1.1\r\nHost: x\r\n%s\r\n%s' % (method.encode(), headers, rest)
        status, head, body = last_answer(maddr, req, what)
        check_eq(status, 400, 'status of a request with %s' % what)
        note('%s: 400 %r, then closed' % (what, body[:60]))


def head_and_query(d, maddr):
    for path, want in (('/metrics', 200), ('/stats', 200), ('/', 200), ('/nope', 404)):
        resp, how, took = raw(maddr, b'HEAD %s HTTP/1.1\r\nHost: x\r\n'
                              b'Connection: close\r\n\r\n' % path.encode())
        check_eq(how, 'eof', 'how HEAD %s ended' % path)
        check_eq(status_of(resp), want, 'status of HEAD %s' % path)
        head, sep, body = resp.partition(b'\r\n\r\n')
        check(sep, 'HEAD %s: no end of headers in %r' % (path, resp[:300]))
        check_eq(body, b'', 'body of HEAD %s' % path)
    check(b'\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n' in
          raw(maddr, b'HEAD /metrics HTTP/1.0\r\n\r\n')[0],
          'HEAD /metrics: not the Content-Type of /metrics')
    # HEAD, then GET on the same connection: the second answer is GET's
    import http.client
    conn = http.client.HTTPConnection(*maddr, timeout=TIMEOUT + MARGIN)
    try:
        conn.request('HEAD', '/metrics')
        r = conn.getresponse()
        check_eq((r.status, r.read()), (200, b''), 'HEAD /metrics on a kept connection')
        length = r.getheader('Content-Length')
        conn.request('GET', '/metrics', headers={'Connection': 'close'})
        r = conn.getresponse()
        check_eq(r.status, 200, 'status of GET /metrics after HEAD on one connection')
        body = r.read()
        promtext.parse(body)
        check(length is not None and abs(int(length) - len(body)) < 200,
              'HEAD /metrics Content-Length %r, GET\'s body %d bytes' % (length, len(body)))
    except http.client.HTTPException as e:
        fail('GET after HEAD on one connection: %r (HEAD\'s answer had a body?)' % e)
    finally:
        conn.close()
    status, headers, body = request(d, 'GET', '/metrics?x=1')
    check_eq(status, 200, 'status of GET /metrics?x=1')
    check_eq(headers.get('content-type'), 'text/plain; version=0.0.4; charset=utf-8',
             'Content-Type of /metrics?x=1')
    m = promtext.parse(body)
    check('synackd_listener_connections_accepted_total' in m.families,
          '/metrics?x=1 is not /metrics')
    status, _, body = request(d, 'GET', '/stats?x=1&y=%20')
    check_eq(status, 200, 'status of GET /stats?x=1&y=%20')
    check_eq([l['name'] for l in json.loads(body)['listeners']], ['echo'],
             'listeners in /stats?x=1')


class EchoProbe:
    """An echo client kept open, and new ones now and then: served?"""

    def __init__(self, d):
        self.d = d
        self.sock = connect(d.addr('echo'))
        self.n = 0

    def check(self, fresh=False):
        self.n += 1
        echo_roundtrip(self.sock, b'probe %d\n' % self.n, what='the echo client kept open')
        if fresh:
            s = connect(self.d.addr('echo'))
            echo_roundtrip(s, b'new client %d\n' % self.n, what='a new echo client')
            s.close()


def no_answer(data, what):
    check(status_of(data) in (None, 400, 408),
          '%s: expected no answer (or 400, 408), got %r' % (what, data[:200]))


def head_then_nothing(data, what):
    check_eq(status_of(data), 200, '%s: status of the first request (HEAD /stats)' % what)
    check(data.endswith(b'\r\n\r\n') and data.count(b'HTTP/1.') == 1,
          '%s: expected the answer to HEAD alone, got %r' % (what, data[:400]))


def settled_fds(d):
    """process_open_fds once the echo clients of earlier probes are gone
    (only the one kept open is left) and the count holds still (a client's
    descriptor is closed a turn of its worker's loop after it is freed)."""
    seen = []

    def settled():
        m = serves_metrics(d)
        if m.value('synackd_listener_connections_active', listener='echo',
                   service='echo') != 1:
            del seen[:]
            return False
        seen.append(m.value('process_open_fds'))
        return len(seen) >= 3 and len(set(seen[-3:])) == 1
    wait_for(settled, 10, interval=0.1, what='the daemon\'s descriptors to settle')
    return seen[-1]


def slow_connections(d, maddr, probe):
    """Connections that never complete a request, all at once: IDLE_CONNECTIONS
    silent ones, a request that never ends, binary garbage with no line end:
    each is closed by the daemon within the timeout and a margin, while
    echo clients and /metrics are served."""
    fds0 = settled_fds(d)
    conns = []

    def open_one(data, what, check_fn, dribble=False):
        s = socket.create_connection(maddr, timeout=5)
        if data:
            s.sendall(data)
        conns.append([s, time.monotonic(), what, check_fn, bytearray(), dribble])

    open_one(b'GET /metrics HTTP/1.1\r\nHost: x\r\nX-Never: ends', 'a request that never ends',
             no_answer)
    open_one(bytes(range(1, 10)) + bytes(range(14, 256)), 'binary garbage with no line end',
             no_answer)
    # a header line every 0.3 s: each read restarts libevent's own timeout,
    # so only a limit on the whole request closes these
    open_one(b'GET /metrics HTTP/1.1\r\n', 'a request sent a line at a time', no_answer,
             dribble=True)
    open_one(b'HEAD /stats HTTP/1.1\r\nHost: x\r\n\r\nGET /metrics HTTP/1.1\r\n',
             'a second request sent a line at a time', head_then_nothing, dribble=True)
    for i in range(IDLE_CONNECTIONS):
        open_one(None, 'silent connection %d' % i, no_answer)
        if i % 25 == 0:
            probe.check(fresh=True)
    probe.check(fresh=True)
    m = serves_metrics(d)       # answered while they are all open
    note('%d connections open: process_open_fds %d -> %d' %
         (len(conns), fds0, m.value('process_open_fds')))
    check(m.value('process_open_fds') >= fds0 + IDLE_CONNECTIONS,
          'process_open_fds %r with %d connections open, %r before' %
          (m.value('process_open_fds'), len(conns), fds0))
    open_ = {c[0].fileno(): c for c in conns}
    took = {}
    last_line = time.monotonic()

    def closed(fd, now):
        s, t, what, check_fn, buf, _ = open_.pop(fd)
        took[what] = now - t
        abort(s)
        check_fn(bytes(buf), what)

    while open_:
        r, _, _ = select.select(list(open_), [], [], 0.1)
        now = time.monotonic()
        for fd in r:
            s, buf = open_[fd][0], open_[fd][4]
            try:
                data = s.recv(65536)
            except ConnectionResetError:
                data = b''
            if data:
                buf += data
                continue
            closed(fd, now)
        if now - last_line >= 0.3:
            last_line = now
            for fd in [fd for fd, c in open_.items() if c[5]]:
                try:
                    open_[fd][0].send(b'X-Line: %d\r\n' % int(now * 10))
                except OSError:
                    closed(fd, now)
        late = [c[2] for c in open_.values() if now - c[1] > TIMEOUT + MARGIN]
        if late:
            fail('%d connections still open %d s after their connect, e.g. %s' %
                 (len(late), TIMEOUT + MARGIN, late[0]))
        probe.check(fresh=not r)
    for what in ('a request that never ends', 'binary garbage with no line end',
                 'a request sent a line at a time', 'a second request sent a line at a time'):
        note('%s: closed by the daemon after %.2f s' % (what, took[what]))
    note('%d silent connections: closed by the daemon after %.2f to %.2f s' %
         (IDLE_CONNECTIONS, min(v for k, v in took.items() if k.startswith('silent')),
          max(v for k, v in took.items() if k.startswith('silent'))))
    wait_for(lambda: serves_metrics(d).value('process_open_fds') == fds0, 5,
             what='process_open_fds back to %d' % fds0)


def run():
    conf = {'server': server_section(metrics='127.0.0.1:0',
                                     metrics_max_connections=IDLE_CONNECTIONS + 50),
            'listener echo': listener('echo')}
    with Daemon(conf) as d:
        maddr = d.metrics_addr()
        serves_metrics(d)
        probe = EchoProbe(d)
        garbage(d, maddr)
        probe.check()
        big_header(d, maddr)
        probe.check(fresh=True)
        methods(d, maddr)
        framing(d, maddr)
        probe.check(fresh=True)
        head_and_query(d, maddr)
        probe.check(fresh=True)
        slow_connections(d, maddr, probe)
        m = serves_metrics(d)
        check(d.alive(), 'the daemon exited')
        probe.check(fresh=True)
        s = connect(d.addr('echo'))
        echo_roundtrip(s, b'after it all\n')
        s.close()
        probe.sock.close()
        check_eq(m.sum('synackd_listener_connections_closed_total', reason='error'), 0,
                 'echo clients closed for an error')


main(run, timeout=60)

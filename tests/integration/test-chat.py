#!/usr/bin/env python3
# chat: a line from one member reaches every other member of the listener as
# "ADDR:PORT: text\n" (the sender's address as the daemon sees it) and not the
# sender; CR before LF is stripped; a line longer than max_line gets the error
# line and then EOF; a member that never reads is closed as a slow consumer
# while the others keep receiving every line.
import os
import re
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_eq, connect,  # noqa: E402
                        expect_silence, fail, fmt_addr, listener, main, note,
                        recv_line, recv_until_eof, server_section)

MAX_LINE = 100


def join(d, name, n, **kw):
    socks = []
    for _ in range(n):
        s = connect(d.addr(name), timeout=5, **kw)
        d.wait_log(r'client %s connected to %s' %
                   (re.escape(fmt_addr(s.getsockname())), name))
        socks.append(s)
    return socks


def room(d):
    a, b, c = join(d, 'room', 3)
    A, B, C = (fmt_addr(x.getsockname()) for x in (a, b, c))

    a.sendall(b'hello from A\n')
    for who, s in (('B', b), ('C', c)):
        check_eq(recv_line(s), ('%s: hello from A\n' % A).encode(),
                 'what %s received from A' % who)
    expect_silence(a, 0.5)

    # CR before LF is stripped; a line may arrive in pieces
    a.sendall(b'with crlf\r\n')
    a.sendall(b'in ')
    time.sleep(0.1)
    a.sendall(b'pieces\n')
    for who, s in (('B', b), ('C', c)):
        check_eq(recv_line(s), ('%s: with crlf\n' % A).encode(),
                 '%s: a CRLF line from A' % who)
        check_eq(recv_line(s), ('%s: in pieces\n' % A).encode(),
                 '%s: a line A sent in two pieces' % who)

    # B speaks: A's first line is B's, so A never got its own lines back
    b.sendall(b'from B\n')
    check_eq(recv_line(a), ('%s: from B\n' % B).encode(),
             'first line A received (A must not get its own lines)')
    check_eq(recv_line(c), ('%s: from B\n' % B).encode(), 'C: line from B')
    expect_silence(b, 0.3)

    # exactly max_line bytes is accepted
    longest = b'x' * MAX_LINE
    a.sendall(longest + b'\n')
    check_eq(recv_line(b), A.encode() + b': ' + longest + b'\n',
             'B: a line of exactly max_line bytes')
    check_eq(recv_line(c), A.encode() + b': ' + longest + b'\n',
             'C: a line of exactly max_line bytes')

    # one byte more: the error line, then EOF, and nobody else sees it
    c.sendall(b'y' * (MAX_LINE + 1) + b'\n')
    data, how = recv_until_eof(c, timeout=5)
    check_eq(data, b'error: line too long (max %d bytes)\n' % MAX_LINE,
             'what a client with an over-long line receives before EOF')
    c.close()
    m = d.wait_log(r'client %s disconnected from room: ([^,]+),' % re.escape(C))
    check_eq(m.group(1), 'line too long', 'close reason')
    a.sendall(b'after the long line\n')
    check_eq(recv_line(b), ('%s: after the long line\n' % A).encode(),
             'B: next line after C was closed (the long line must not be relayed)')
    for s in (a, b):
        abort(s)


def slow_consumer(d):
    p, r = join(d, 'slow', 2)
    (s,) = join(d, 'slow', 1, rcvbuf=4096)
    P, S = fmt_addr(p.getsockname()), fmt_addr(s.getsockname())
    prefix = P.encode() + b': '
    payload = b'z' * 990
    p.setblocking(False)
    r.setblocking(False)

    out = bytearray()         # not yet sent by P
    sent_lines = 0
    rbuf = bytearray()
    got_lines = 0
    closed = None
    budget = 64 << 20
    sent_bytes = 0
    rx = re.compile(r'client %s disconnected from slow: ([^,]+),' % re.escape(S))
    deadline = time.monotonic() + 60
    last_log_check = 0
    marker_sent = False
    while True:
        now = time.monotonic()
        if now > deadline:
            fail('slow consumer test did not finish within 60 s: P sent %d lines '
                 '(%d bytes), R got %d lines, slow member closed: %r' %
                 (sent_lines, sent_bytes, got_lines, closed))
        if closed is None and now - last_log_check > 0.1:
            last_log_check = now
            m = d.find_log(rx)
            if m:
                closed = m.group(1)
                note('slow member closed (%s) after %d lines (%d bytes)' %
                     (closed, sent_lines, sent_bytes))
                check_eq(closed, 'slow consumer', 'close reason of the member '
                         'that never reads')
            elif sent_bytes >= budget:
                fail('a member that never reads was not closed after %d bytes '
                     'were sent to the room' % sent_bytes)
        if not out:
            if closed is None:
                for _ in range(64):
                    out += b'%08d ' % sent_lines + payload + b'\n'
                    sent_lines += 1
            elif not marker_sent:
                out += b'marker\n'
                marker_sent = True
        want_w = [p] if out else []
        rd, wr, _ = select.select([r], want_w, [], 0.1)
        if wr:
            try:
                n = p.send(out)
                del out[:n]
                sent_bytes += n
            except BlockingIOError:
                pass
        if rd:
            try:
                chunk = r.recv(1 << 20)
            except BlockingIOError:
                chunk = None
            if chunk == b'':
                fail('R got EOF after %d lines while the slow member was being '
                     'dealt with' % got_lines)
            if chunk:
                rbuf += chunk
                while True:
                    i = rbuf.find(b'\n')
                    if i < 0:
                        break
                    line = bytes(rbuf[:i + 1])
                    del rbuf[:i + 1]
                    if line == prefix + b'marker\n':
                        check_eq(got_lines, sent_lines, 'lines R received before '
                                 'the marker (every line P sent)')
                        note('R received all %d lines and the marker' % got_lines)
                        # the slow member's socket ends (after what was queued)
                        data, how = recv_until_eof(s, timeout=15, limit=128 << 20)
                        note('slow member drained %d bytes then %s' % (len(data), how))
                        for x in (p, r, s):
                            abort(x)
                        return
                    want = prefix + b'%08d ' % got_lines + payload + b'\n'
                    if line != want:
                        fail('R line %d: expected %r..., got %r...' %
                             (got_lines, want[:40], line[:40]))
                    got_lines += 1


def run():
    conf = {'server': server_section(log_level='debug'),
            'listener room': listener('chat', max_line=MAX_LINE),
            'listener slow': listener('chat', output_limit=65536)}
    with Daemon(conf) as d:
        room(d)
        slow_consumer(d)


main(run, timeout=120)

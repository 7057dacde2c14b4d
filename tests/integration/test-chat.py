#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# chat: a line from one member reaches every other member of the listener as
# "ADDR:PORT: text\n" (the sender's address as the daemon sees it) and not the
# sender, nor the members of another chat listener; CR before LF is stripped; a line longer than max_line gets the error
# line and then EOF; a member that never reads is closed as a slow consumer
# while the others keep receiving every line. Control bytes never reach
# the others raw: CR, ESC, NUL, DEL, C1 controls and bytes that are not
# UTF-8 arrive as \r or \xNN, a backslash as \\, TAB and UTF-8 text as
# they are; a line of max_line such bytes, four times as long escaped,
# arrives whole.
import os
import re
import select
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (daemon_read_all, Daemon, abort, check, check_eq, check_rss_growth,  # noqa: E402
                        expect_silence, fail, fmt_addr, join_chat, listener, main, note,
                        recv_line, recv_until_eof, rss_kib, server_section)

MAX_LINE = 100


def room(d):
    a, b, c = join_chat(d, 'room', 3)
    A, B, C = (fmt_addr(x.getsockname()) for x in (a, b, c))
    (x,) = join_chat(d, 'other', 1)     # a member of another chat listener

    a.sendall(b'hello from A\n')
    for who, s in (('B', b), ('C', c)):
        check_eq(recv_line(s), ('%s: hello from A\n' % A).encode(),
                 'what %s received from A' % who)
    expect_silence(a, 0.5)
    expect_silence(x, 0.01)
    # a line in the other room does not reach this one (A's next line, below,
    # must be B's)
    x.sendall(b'elsewhere\n')

    # CR before LF is stripped; a line may arrive in pieces
    a.sendall(b'with crlf\r\n')
    a.sendall(b'in ')
    daemon_read_all(a, d.port('room'))
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
    expect_silence(x, 0.01)
    for s in (a, b, x):
        abort(s)


# what a member sends -> what the others get after the prefix (README, "chat")
ESCAPES = [
    (b'\rfake 192.0.2.1:7: hi', b'\\rfake 192.0.2.1:7: hi'),
    (b'over\r', b'over\\r'),    # a CR before the line's own CRLF
    (b'\x1b[2J\x1b[31mred\x1b[0m', b'\\x1b[2J\\x1b[31mred\\x1b[0m'),
    (b'nul\x00byte', b'nul\\x00byte'),
    (b'del\x7f\x08bs', b'del\\x7f\\x08bs'),
    (b'tab\tstays', b'tab\tstays'),
    (b'C:\\dir and a typed \\x1b', b'C:\\\\dir and a typed \\\\x1b'),
    ('h\u00e9llo \u20ac \U0001f600'.encode(), 'h\u00e9llo \u20ac \U0001f600'.encode()),
    (b'csi \xc2\x9b2J raw \x9b2J', b'csi \\xc2\\x9b2J raw \\x9b2J'),
    (b'latin-1 caf\xe9, overlong \xc0\x80', b'latin-1 caf\\xe9, overlong \\xc0\\x80'),
]


def control_bytes(d):
    a, b, c = join_chat(d, 'room', 3)
    A = fmt_addr(a.getsockname())
    a.sendall(b''.join(line + b'\r\n' for line, _ in ESCAPES))
    for who, s in (('B', b), ('C', c)):
        for line, want in ESCAPES:
            check_eq(recv_line(s), A.encode() + b': ' + want + b'\n',
                     '%s: what A\'s line %r became' % (who, line))

    # the longest line, all escapes: four times as long, and whole
    a.sendall(b'\x1b' * MAX_LINE + b'\n')
    for who, s in (('B', b), ('C', c)):
        check_eq(recv_line(s), A.encode() + b': ' + b'\\x1b' * MAX_LINE + b'\n',
                 '%s: a line of max_line ESC bytes' % who)
    expect_silence(a, 0.3)
    for s in (a, b, c):
        abort(s)


def slow_consumer(d):
    """P publishes, R reads everything, S never reads. P waits for R to get
    each small batch, so R always keeps up; S must be closed as a slow
    consumer while R goes on receiving every line."""
    p, r = join_chat(d, 'slow', 2)
    (s,) = join_chat(d, 'slow', 1, rcvbuf=4096)
    P, S = fmt_addr(p.getsockname()), fmt_addr(s.getsockname())
    prefix = P.encode() + b': '
    payload = b'z' * 990
    p.settimeout(10)
    rx = re.compile(r'client %s disconnected from slow: ([^,]+),' % re.escape(S))

    sent_lines = 0
    sent_bytes = 0
    closed = None
    budget = 16 << 20
    deadline = time.monotonic() + 60
    rbuf = bytearray()

    def next_line():
        while True:
            i = rbuf.find(b'\n')
            if i >= 0:
                line = bytes(rbuf[:i + 1])
                del rbuf[:i + 1]
                return line
            rd, _, _ = select.select([r], [], [], max(0.0, deadline - time.monotonic()))
            if not rd:
                fail('R received nothing more within the time limit (%d lines '
                     'sent)' % sent_lines)
            chunk = r.recv(1 << 20)
            if not chunk:
                fail('R got EOF after %d lines while S was being dealt with'
                     % sent_lines)
            rbuf.extend(chunk)

    rss0 = rss_kib(d.pid)
    got_lines = 0
    while closed is None and sent_bytes < budget:
        check(time.monotonic() < deadline, 'slow consumer test did not finish '
              'within 60 s: %d lines (%d bytes) sent' % (sent_lines, sent_bytes))
        batch = b''.join(b'%08d ' % n + payload + b'\n'
                         for n in range(sent_lines, sent_lines + 16))
        p.sendall(batch)
        sent_lines += 16
        sent_bytes += len(batch)
        while got_lines < sent_lines:
            line = next_line()
            want = prefix + b'%08d ' % got_lines + payload + b'\n'
            if line != want:
                fail('R line %d: expected %r..., got %r' %
                     (got_lines, want[:40], line[:80]))
            got_lines += 1
        m = d.find_log(rx)
        if m:
            closed = m.group(1)
    note('%d lines (%d bytes) sent; S close logged: %r' %
         (sent_lines, sent_bytes, closed))

    # the room goes on
    p.sendall(b'marker\n')
    check_eq(next_line(), prefix + b'marker\n', 'R: the line after the flood')
    check_rss_growth(d.pid, rss0, 'while a member did not read %d bytes sent '
                     'to the room' % sent_bytes)
    if closed is None:
        # the close may be logged only once the daemon gives up delivering
        # the last bytes to S
        closed = d.wait_log(rx, timeout=30).group(1)
    check_eq(closed, 'slow consumer', 'close reason of the member that never reads')

    # S's stream: lines from P in order (never the marker), maybe an error
    # line, then the end; the connection was cut, so the last line may be
    # cut short too
    data, how = recv_until_eof(s, timeout=15, limit=128 << 20)
    note('S drained %d bytes then %s' % (len(data), how))
    lines = data.split(b'\n')
    for n, line in enumerate(lines):
        last = n == len(lines) - 1
        want = prefix + b'%08d ' % n + payload
        if line == want and not last:
            continue
        if line.startswith(b'error: ') and n >= len(lines) - 2:
            break
        if last and (want.startswith(line) or b'error: '.startswith(line)):
            break
        fail('S line %d: expected %r... (or a final "error: " line), got '
             '%r...%r' % (n, want[:40], line[:60], line[-40:]))
    for x in (p, r, s):
        abort(x)


def run():
    conf = {'server': server_section(log_level='debug'),
            'listener room': listener('chat', max_line=MAX_LINE),
            'listener other': listener('chat'),
            'listener slow': listener('chat', output_limit=65536, chat_rate=0)}
    with Daemon(conf) as d:
        room(d)
        control_bytes(d)
        slow_consumer(d)


main(run, timeout=120)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# chat fairness:
#  1. one long line never evicts a member that keeps up: output_limit 1024,
#     max_line 4096; twenty 2,000-byte lines sent at once reach all five
#     reading members whole and in order, and nobody is closed;
#  2. chat_rate slows the flooder, not the room: a flooder sends as fast as
#     TCP lets it into a listener with chat_rate 20000 (burst 10000); a
#     member that reads at about 60 KB/s through a 4 KiB receive buffer
#     gets the lines at the flooder's limited rate and is not evicted, and
#     the flooder is not closed either;
#  3. a reload that changes chat_rate reaches members already connected:
#     lowered to 2000, 20,000 bytes sent at once trickle at that rate;
#     lifted to 0, the rest arrives at once.
#  4. escapes count against chat_rate as what they become: 20,000 bytes of
#     ESC lines (80,000 once escaped) sent at once under chat_rate 20000
#     and burst 10000 take at least 3.4 s to reach the room, where as many
#     bytes of text would take 0.5 s.
import os
import re
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_eq, fail, fmt_addr, join_chat,  # noqa: E402
                        listener, main, note, recv_exact, server_section)

RATE = 20000
BURST = 10000


def long_lines(d):
    sender, *readers = join_chat(d, 'big', 6)
    prefix = ('%s: ' % fmt_addr(sender.getsockname())).encode()
    lines = [b'%04d ' % i + bytes([65 + i]) * 1995 for i in range(20)]
    sender.sendall(b''.join(l + b'\n' for l in lines))
    want = b''.join(prefix + l + b'\n' for l in lines)
    for i, r in enumerate(readers):
        got = recv_exact(r, len(want), timeout=10)
        check(got == want, 'member %d: the twenty 2,000-byte lines, whole and in order' % i)
    check(d.find_log(r'disconnected from big') is None,
          'no member of "big" was closed:\n' + d.describe())
    for s in [sender] + readers:
        abort(s)


class Flooder(threading.Thread):
    """Sends 100-byte lines as fast as the socket takes them, until stopped."""

    def __init__(self, sock):
        super().__init__(daemon=True)
        self.sock = sock
        self.sock.settimeout(0.2)
        self.stop = False
        self.sent = 0

    def run(self):
        n = 0
        pending = b''
        while not self.stop:
            if not pending:
                pending = b''.join(b'%09d ' % (n + i) + b'f' * 89 + b'\n' for i in range(100))
                n += 100
            try:
                k = self.sock.send(pending)
            except TimeoutError:
                continue
            except OSError:
                return
            pending = pending[k:]
            self.sent += k


def read_for(sock, seconds, pace=None):
    """Read for `seconds`, at most `pace` bytes per second; returns the
    bytes and the time taken."""
    buf = bytearray()
    t0 = time.monotonic()
    sock.settimeout(0.05)
    while True:
        elapsed = time.monotonic() - t0
        if elapsed >= seconds:
            return bytes(buf), elapsed
        if pace is not None and len(buf) > pace * elapsed:
            time.sleep(0.01)    # the slow reader's pace, the thing under test
            continue
        try:
            chunk = sock.recv(4096)
        except TimeoutError:
            continue
        if not chunk:
            fail('the member was closed after %d bytes' % len(buf))
        buf += chunk


def check_lines(data, prefix, what):
    """Every complete line is the flooder's, numbered in sequence."""
    lines = data.split(b'\n')[:-1]
    for i, line in enumerate(lines):
        want = prefix + b'%09d ' % i + b'f' * 89
        if line != want:
            fail('%s: line %d is %r..., expected %r...' % (what, i, line[:60], want[:60]))
    return len(lines)


def paced(d):
    flood, = join_chat(d, 'paced', 1)
    slow, = join_chat(d, 'paced', 1, rcvbuf=4096)
    prefix = ('%s: ' % fmt_addr(flood.getsockname())).encode()
    f = Flooder(flood)
    f.start()
    data, took = read_for(slow, 3.0, pace=60000)
    got = len(data)
    note('in %.2f s the flooder pushed %d bytes, the slow member read %d' %
         (took, f.sent, got))
    # each line is relayed with a prefix: count the flooder's bytes
    lines = check_lines(data, prefix, 'the slow member')
    relayed = lines * 100
    check(relayed <= BURST + RATE * took * 1.3 + 1000,
          'chat_rate %d burst %d: %d bytes of lines in %.2f s is more than the '
          'rate allows' % (RATE, BURST, relayed, took))
    check(relayed >= RATE * took * 0.5,
          'the flooder is slowed, not stopped: only %d bytes in %.2f s' % (relayed, took))
    check(d.find_log(r'disconnected from paced') is None,
          'neither the slow member nor the flooder was closed:\n' + d.describe())
    return f, flood, slow


def reload(d, rate, burst):
    mark = d.reload(config(rate, burst))
    d.wait_log(r'listener paced: chat_rate %d burst %d' % (rate, burst), 10, start=mark)


def reloaded(d, f, flood, slow):
    """Members that joined before a reload get its chat_rate."""
    f.stop = True
    f.join(5)
    gone = [fmt_addr(x.getsockname()) for x in (flood, slow)]
    abort(flood)
    abort(slow)
    # what the daemon still had of the flooder must not reach the next members
    for addr in gone:
        d.wait_log(r'client %s disconnected from paced' % re.escape(addr), 10)
    sender, reader = join_chat(d, 'paced', 2)
    prefix = ('%s: ' % fmt_addr(sender.getsockname())).encode()
    reload(d, 2000, 2000)
    sender.sendall(b''.join(b'%09d ' % i + b'f' * 89 + b'\n' for i in range(200)))
    data, took = read_for(reader, 2.0)
    relayed = data.count(b'\n') * 100
    note('chat_rate 2000 after a reload: %d bytes of lines in %.2f s' % (relayed, took))
    check(relayed <= 2000 + 2000 * took * 1.3 + 1000,
          'a reload to chat_rate 2000 must slow a member that joined at %d: '
          '%d bytes in %.2f s' % (RATE, relayed, took))
    reload(d, 0, 1)
    rest, took = read_for(reader, 2.0)
    data += rest
    check_eq(check_lines(data, prefix, 'the reader'), 200,
             'lines through once a reload lifted chat_rate')
    abort(sender)
    abort(reader)


def escaped(d):
    sender, reader = join_chat(d, 'escaped', 2)
    prefix = ('%s: ' % fmt_addr(sender.getsockname())).encode()
    nlines = 200
    line = prefix + b'\\x1b' * 99 + b'\n'
    t0 = time.monotonic()
    sender.sendall((b'\x1b' * 99 + b'\n') * nlines)
    data = recv_exact(reader, nlines * len(line), timeout=20)
    took = time.monotonic() - t0
    check(data == line * nlines, 'the reader: %d lines of escaped ESC bytes' % nlines)
    # 20,000 bytes read and 200 x 297 charged for the escapes, at 20,000
    # per second after a burst of at most 10,000: 3.47 s at the least
    note('%d bytes of ESC lines reached the room in %.2f s' % (nlines * 100, took))
    check(took >= 2.5, 'chat_rate %d: %d bytes that became %d reached the room in '
          '%.2f s; the escapes are not charged' % (RATE, nlines * 100, nlines * 397, took))
    abort(sender)
    abort(reader)


def config(rate=RATE, burst=BURST):
    return {'server': server_section(log_level='debug'),
            'listener big': listener('chat', output_limit=1024, max_line=4096,
                                     chat_rate=0),
            'listener paced': listener('chat', output_limit=16384, chat_rate=rate,
                                       chat_burst=burst),
            'listener escaped': listener('chat', chat_rate=RATE, chat_burst=BURST)}


def run():
    with Daemon(config()) as d:
        long_lines(d)
        escaped(d)
        state = paced(d)
        reloaded(d, *state)


main(run, timeout=120)

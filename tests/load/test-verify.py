#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# verify: an echo server of the test's own that flips one bit of one byte
# (once, in the whole run) is caught: exactly one verify error, the message
# says where, the other connections go on, and the exit code is 1. The same
# in stream mode, and for a server that echoes more than it was sent.
import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import Server, check_report, run_load  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402


class BadEcho(Server):
    """Echoes everything; byte number `flip_at` of all the bytes it sees
    goes back with its lowest bit flipped, and with `extra` one more byte
    follows it."""

    def __init__(self, flip_at, extra=False):
        self.flip_at, self.extra = flip_at, extra
        self.seen = 0
        self.lock = threading.Lock()
        super().__init__(self.echo)

    def echo(self, c, n):
        while True:
            data = c.recv(65536)
            if not data:
                return
            with self.lock:
                start, self.seen = self.seen, self.seen + len(data)
            i = self.flip_at - start
            if 0 <= i < len(data):
                data = bytearray(data)
                if self.extra:
                    data = data[:i + 1] + b'!' + data[i + 1:]
                else:
                    data[i] ^= 1
                data = bytes(data)
            c.sendall(data)


def expect_one_verify(mode, server, args, what):
    target = server.target
    r = run_load(['-m', mode, '-d', '1'] + args + [target])
    check_eq(r.rc, 1, '%s: exit code with a verify error\n%s' % (what, r.describe()))
    rep = check_report(r, mode, target)
    check_eq(rep['errors']['verify'], 1, '%s: verify errors' % what)
    check('verify: connection' in r.err, '%s: a message says what differed\n%s'
          % (what, r.describe()))
    return rep


def run():
    s = BadEcho(1000)
    rep = expect_one_verify('rr', s, ['-c', '3'], 'rr')
    check(rep['requests'] > 20, 'the other connections went on: %d requests' % rep['requests'])
    s.close()

    s = BadEcho(300000)
    expect_one_verify('stream', s, ['-c', '2', '-s', '1000'], 'stream')
    s.close()

    s = BadEcho(2000, extra=True)
    expect_one_verify('rr', s, ['-c', '2'], 'rr, one byte too many')
    s.close()


main(run, timeout=60)

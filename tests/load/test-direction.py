#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# stream --direction: send (into a discard server) and receive (from a
# chargen server, every byte held to RFC 864's pattern).
#
# send into synackd's discard: only sent bytes, counted in whole messages,
# exit 0; into an echo the bytes that come back are a verify error.
# receive from synackd's chargen: received and verified, nothing sent.
# receive from a server of the test's own that sends exactly 2 MiB of the
# pattern starting with the RFC's first line ("!"), and stays open: exactly
# 2 MiB counted, 2 MiB / size requests; the same with one wrong byte: one
# verify error that names the byte, exit 1; a stream that starts with no
# line of the pattern: a verify error. bench/echo-epoll -C, the reference
# of make bench, passes the check.
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import Server, check_clean, check_report, run_load, target_of  # noqa: E402
from synacktest import (Command, Daemon, check, check_eq, fail, listener, main,  # noqa: E402
                        server_section)

LINE = 74
CYCLE = 95 * LINE


def chargen(first, n):
    """n bytes of RFC 864's stream whose first line starts with the
    printable character `first`."""
    out = bytearray()
    k = ord(first) - 0x20
    while len(out) < n:
        out += bytes(0x20 + (k + c) % 95 for c in range(72)) + b'\r\n'
        k += 1
    return bytes(out[:n])


def sender(data):
    """serve(): send data, then read until the client closes."""
    def serve(c, n):
        c.sendall(data)
        while c.recv(65536):
            pass
    return serve


def check_throughput(out, what, want):
    m = re.search(r'^throughput   [\d.]+ [kMG]?B/s \([\d.]+ Gbit/s\) (.*)$', out, re.M)
    check(m is not None and m.group(1) == want, '%s: the headline\n%s' % (what, out))


def run():
    conf = {'server': server_section(),
            'listener discard': listener('discard'),
            'listener chargen': listener('chargen'),
            'listener echo': listener('echo')}
    with Daemon(conf) as d:
        discard, gen, echo = (target_of(d, n) for n in ('discard', 'chargen', 'echo'))

        r = run_load(['-m', 'stream', '--direction', 'send', '-c', '2', '-s', '1000', '-d',
                      '1', discard])
        rep = check_clean(r, 'stream', discard)
        sent = rep['bytes_sent']
        check(sent >= 1 << 20, 'at least 1 MiB sent in a second: %d' % sent)
        check_eq((rep['bytes_received'], rep['latency_us']['count']), (0, 0),
                 'send: nothing received, no latency')
        # a write of 262 messages (256 KiB) may be in the kernel's hands but not all taken
        check(sent // 1000 - 2 * 263 <= rep['requests'] <= sent // 1000,
              'send: requests %d for %d bytes of 1000-byte messages' % (rep['requests'], sent))
        check_eq(rep['options']['direction'], 'send', 'options.direction')
        check(abs(rep['bytes_sent_per_s'] - sent / rep['duration_s']) <= sent * 0.01,
              'bytes_sent_per_s %r' % rep['bytes_sent_per_s'])
        r = run_load(['-m', 'stream', '--direction', 'send', '-c', '1', '-d', '0.5', discard],
                     want_json=False)
        check_eq(r.rc, 0, 'send, the summary\n' + r.describe())
        check_throughput(r.out, 'send', 'sent')

        r = run_load(['-m', 'stream', '--direction', 'send', '-c', '1', '-d', '1', echo])
        check_eq(r.rc, 1, 'send into an echo: exit 1\n' + r.describe())
        check_eq(check_report(r)['errors']['verify'], 1, 'send into an echo: a verify error')
        check('where a send-only stream expects none' in r.err, 'the message\n' + r.describe())

        r = run_load(['-m', 'stream', '--direction', 'receive', '-c', '3', '-d', '1', gen])
        rep = check_clean(r, 'stream', gen)
        got = rep['bytes_received']
        check(got >= 1 << 20, 'at least 1 MiB from chargen in a second: %d' % got)
        check_eq(rep['bytes_sent'], 0, 'receive: nothing sent')
        check(got // 64 - 3 <= rep['requests'] <= got // 64,
              'receive: requests %d for %d bytes' % (rep['requests'], got))
        check(abs(rep['bytes_received_per_s'] - got / rep['duration_s']) <= got * 0.01,
              'bytes_received_per_s %r' % rep['bytes_received_per_s'])
        check_eq(rep['bytes_received_per_s'], rep['bytes_per_s'], 'bytes_per_s is the received')
        r = run_load(['-m', 'stream', '--direction', 'receive', '-c', '1', '-d', '0.5', gen],
                     want_json=False)
        check_eq(r.rc, 0, 'receive, the summary\n' + r.describe())
        check_throughput(r.out, 'receive', "received, verified as RFC 864's chargen pattern")

        # the default, both, into discard: exit 3, and the summary says what to use
        r = run_load(['-m', 'stream', '-c', '1', '-d', '0.3', discard], want_json=False)
        check_eq(r.rc, 3, 'both into discard\n' + r.describe())
        check('--direction send measures what was sent' in r.out, 'the hint\n' + r.out)

    n = 2 << 20
    good = chargen('!', n)
    s = Server(sender(good))
    r = run_load(['-m', 'stream', '--direction', 'receive', '-c', '1', '-s', '1k', '-d', '1',
                  s.target])
    rep = check_clean(r, 'stream', s.target)
    check_eq((rep['bytes_received'], rep['requests']), (n, n // 1024),
             'exactly what the server sent, counted')
    s.close()

    at = 1000003
    bad = bytearray(good)
    bad[at] ^= 0x01
    s = Server(sender(bytes(bad)))
    r = run_load(['-m', 'stream', '--direction', 'receive', '-c', '1', '-d', '1', s.target])
    check_eq(r.rc, 1, 'a wrong byte: exit 1\n' + r.describe())
    rep = check_report(r, 'stream', s.target)
    check_eq(rep['errors']['verify'], 1, 'a wrong byte: one verify error')
    check('byte %d of the stream is 0x%02x' % (at, bad[at]) in r.err,
          'the message names the byte\n' + r.describe())
    check(rep['bytes_received'] <= at, 'nothing past the wrong byte counted')
    s.close()

    s = Server(sender(b'\x00' + good))
    r = run_load(['-m', 'stream', '--direction', 'receive', '-c', '1', '-d', '1', s.target])
    check_eq((r.rc, check_report(r)['errors']['verify']), (1, 1),
             'a stream that starts with no line of the pattern\n' + r.describe())
    s.close()

    epoll = os.environ.get('ECHO_EPOLL') or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench', 'echo-epoll')
    if not os.access(epoll, os.X_OK):
        fail('%s is not built (set ECHO_EPOLL)' % epoll)
    p = Command([epoll, '-C'])
    line = p.proc.stdout.readline().decode()
    m = re.match(r'listening on (127\.0\.0\.1:\d+)$', line.strip())
    check(m is not None, 'echo-epoll -C: %r' % line)
    r = run_load(['-m', 'stream', '--direction', 'receive', '-c', '2', '-d', '0.5', m.group(1)])
    check_clean(r, 'stream', m.group(1))
    p.proc.kill()
    p.proc.wait()


main(run, timeout=90)

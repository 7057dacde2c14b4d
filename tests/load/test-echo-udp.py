#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# echo-udp: the UDP reference of make bench (bench/echo-udp) echoes each
# datagram byte for byte, the empty one and the largest one too, answers a
# burst of more than one batch (32) in full, and answers from the address
# each datagram was sent to although it is bound to the wildcard: a client
# that wrote to 127.0.0.2 hears from 127.0.0.2, one that wrote to 127.0.0.1
# from 127.0.0.1.  With -D it answers nothing.  SIGUSR1 makes it print
# what it has received so far (the bench's count of what a discard got):
# 0 at first, then the 5 datagrams of 64 bytes sent to it.
import os
import re
import signal
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import Command, check, check_eq, fail, main  # noqa: E402


def start(args=()):
    path = os.environ.get('ECHO_UDP') or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..', 'bench', 'echo-udp')
    if not os.access(path, os.X_OK):
        fail('%s is not built (set ECHO_UDP)' % path)
    p = Command([path] + list(args))
    line = p.proc.stdout.readline().decode()
    m = re.match(r'listening on 127\.0\.0\.1:(\d+)$', line.strip())
    check(m is not None, 'echo-udp: %r' % line)
    return p, int(m.group(1))


def udp_socket(src='127.0.0.1'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.bind((src, 0))
    s.settimeout(5.0)
    return s


def roundtrip(s, dst, payload, what):
    s.sendto(payload, dst)
    try:
        data, frm = s.recvfrom(65536)
    except socket.timeout:
        fail('%s: no answer within 5 s' % what)
    check_eq(data, payload, '%s: the echo' % what)
    return frm


def received(p):
    """SIGUSR1: the count echo-udp prints."""
    p.proc.send_signal(signal.SIGUSR1)
    line = p.proc.stdout.readline().decode()
    m = re.match(r'received (\d+ datagrams, \d+ bytes)$', line.strip())
    check(m is not None, 'SIGUSR1: %r' % line)
    return m.group(1)


def run():
    p, port = start()
    s = udp_socket()
    for n in (0, 1, 64, 1472, 65507):
        payload = bytes((i * 7 + n) & 0xff for i in range(n))
        roundtrip(s, ('127.0.0.1', port), payload, '%d bytes' % n)

    # more than one batch at once: every datagram comes back, each intact
    burst = [b'%04d' % i + bytes(60) for i in range(100)]
    for b in burst:
        s.sendto(b, ('127.0.0.1', port))
    got = []
    for _ in burst:
        try:
            got.append(s.recv(65536))
        except socket.timeout:
            fail('burst: %d of %d answers' % (len(got), len(burst)))
    check_eq(sorted(got), sorted(burst), 'burst of 100: the echoes')

    # the source address: the one each datagram was sent to
    for dst in ('127.0.0.2', '127.0.0.1', '127.0.0.3'):
        c = udp_socket()
        frm = roundtrip(c, (dst, port), b'from ' + dst.encode(), 'to %s' % dst)
        check_eq(frm, (dst, port), 'the answer to %s comes from' % dst)
        c.close()
    s.close()
    p.proc.kill()
    p.proc.wait()

    p, port = start(['-D'])
    s = udp_socket()
    s.settimeout(0.3)
    check_eq(received(p), '0 datagrams, 0 bytes', '-D: the count at first')
    for _ in range(5):
        s.sendto(bytes(64), ('127.0.0.1', port))
    try:
        data = s.recv(65536)
        fail('-D answered %r' % data)
    except socket.timeout:
        pass
    check_eq(received(p), '5 datagrams, 320 bytes', '-D: the count after 5 of 64 bytes')
    s.close()
    p.proc.kill()
    p.proc.wait()


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# echo backpressure: a client that sends without reading stalls after a
# bounded amount (the daemon stops reading once its pending output passes
# output_limit), the daemon's memory stays bounded, and when the client
# finally reads it gets every byte it sent, intact and in order.
import os
import random
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, SIOCINQ, SIOCOUTQ, abort, check, check_rss_growth, fail,  # noqa: E402
                        ioctl_int, listener, main, note, rss_kib, server_section,
                        ss_conn_queues)

OUTPUT_LIMIT = 65536
TRY = 64 << 20
# a pattern whose period is not a power of two, so lost or repeated chunks
# show up as a mismatch
PERIOD = (1 << 20) + 13
PATTERN = random.Random(862).randbytes(PERIOD) * 2


def stream(off, n):
    p = off % PERIOD
    if n <= PERIOD:
        return PATTERN[p:p + n]
    out = bytearray()
    while n:
        k = min(n, PERIOD)
        out += PATTERN[p:p + k]
        off += k
        n -= k
        p = off % PERIOD
    return bytes(out)


def run():
    conf = {'server': server_section(),
            'listener echo': listener('echo', output_limit=OUTPUT_LIMIT)}
    with Daemon(conf) as d:
        addr = d.addr('echo')
        rss0 = rss_kib(d.pid)
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, 65536)
        s.settimeout(5)
        s.connect(addr)
        s.setblocking(False)

        # send without reading until no progress for 1.5 s
        sent = 0
        deadline = time.monotonic() + 60
        while sent < TRY:
            check(time.monotonic() < deadline,
                  'sending did not stall nor finish within 60 s (%d bytes sent)'
                  % sent)
            _, w, _ = select.select([], [s], [], 1.5)
            if not w:
                break
            try:
                sent += s.send(stream(sent, min(262144, TRY - sent)))
            except BlockingIOError:
                pass
        note('client stalled after %d bytes (tried %d)' % (sent, TRY))
        check(sent < TRY // 2,
              'a client that never reads was able to send %d of %d bytes: no '
              'backpressure (expected a stall after a bounded amount)'
              % (sent, TRY))

        # what the daemon holds itself = sent - what sits in kernel queues
        cport = s.getsockname()[1]
        q = ss_conn_queues(addr[1], cport)
        if q is not None:
            srv_recvq, srv_sendq = q
            cli_outq = ioctl_int(s, SIOCOUTQ)
            cli_inq = ioctl_int(s, SIOCINQ)
            held = sent - cli_outq - srv_recvq - srv_sendq - cli_inq
            note('kernel: client outq %d inq %d, server recvq %d sendq %d; '
                 'daemon holds ~%d bytes' % (cli_outq, cli_inq, srv_recvq,
                                             srv_sendq, held))
            check(held <= OUTPUT_LIMIT + (1 << 20),
                  'the daemon buffers ~%d bytes for one client, expected at most '
                  'about output_limit=%d' % (held, OUTPUT_LIMIT))
        check_rss_growth(d.pid, rss0, 'for one client that sends and never reads')

        # now read: everything comes back, intact, and then the rest of the
        # stream can be sent too
        got = 0
        deadline = time.monotonic() + 30
        while got < sent:
            check(time.monotonic() < deadline,
                  'only %d of %d bytes came back within 30 s' % (got, sent))
            r, _, _ = select.select([s], [], [], 1.0)
            if not r:
                continue
            try:
                chunk = s.recv(1 << 20)
            except BlockingIOError:
                continue
            if not chunk:
                fail('EOF after %d of %d echoed bytes' % (got, sent))
            if chunk != stream(got, len(chunk)):
                fail('echoed bytes differ from sent bytes at offset %d' % got)
            got += len(chunk)
        check(got == sent, 'got %d bytes back, sent %d' % (got, sent))

        # the connection still works both ways after the stall
        tail = b'after the stall\n'
        s.setblocking(True)
        s.settimeout(5)
        s.sendall(tail)
        back = b''
        while len(back) < len(tail):
            c = s.recv(len(tail) - len(back))
            if not c:
                fail('EOF while waiting for the echo after the stall')
            back += c
        check(back == tail, 'echo after the stall: expected %r, got %r' % (tail, back))
        abort(s)


main(run, timeout=120)

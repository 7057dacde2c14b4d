#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# echo: 50 concurrent clients each send 1 MiB of random bytes and get exactly
# the same bytes back, in order, within a bounded time; a client that sends
# and then half-closes still gets every byte back before the daemon closes.
import os
import select
import selectors
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_eq, connect, daemon_read_all, fail,  # noqa: E402
                        listener, main, recv_until_eof, server_section)

CLIENTS = 50
SIZE = 1 << 20
CHUNK = 65536


def run():
    conf = {'server': server_section(), 'listener echo': listener('echo'),
            'listener big': listener('echo', output_limit=16 << 20)}
    with Daemon(conf) as d:
        addr = d.addr('echo')
        sel = selectors.DefaultSelector()
        state = []
        for i in range(CLIENTS):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.settimeout(5)
            s.connect(addr)
            s.setblocking(False)
            st = {'i': i, 'sock': s, 'data': os.urandom(SIZE), 'sent': 0,
                  'got': bytearray(), 'done': False}
            state.append(st)
            sel.register(s, selectors.EVENT_READ | selectors.EVENT_WRITE, st)

        deadline = time.monotonic() + 40
        pending = CLIENTS
        while pending:
            if time.monotonic() > deadline:
                short = [(st['i'], st['sent'], len(st['got'])) for st in state
                         if not st['done']][:5]
                fail('echo of %d x %d bytes not done within 40 s; %d clients '
                     'unfinished, e.g. (client, sent, received): %r' %
                     (CLIENTS, SIZE, pending, short))
            for key, ev in sel.select(1.0):
                st = key.data
                s = st['sock']
                if ev & selectors.EVENT_WRITE and st['sent'] < SIZE:
                    try:
                        n = s.send(st['data'][st['sent']:st['sent'] + CHUNK])
                        st['sent'] += n
                    except BlockingIOError:
                        pass
                    if st['sent'] == SIZE:
                        sel.modify(s, selectors.EVENT_READ, st)
                if ev & selectors.EVENT_READ:
                    try:
                        chunk = s.recv(1 << 20)
                    except BlockingIOError:
                        continue
                    if not chunk:
                        fail('client %d: EOF after %d of %d echoed bytes' %
                             (st['i'], len(st['got']), SIZE))
                    off = len(st['got'])
                    if chunk != st['data'][off:off + len(chunk)]:
                        fail('client %d: echoed bytes differ from sent bytes at '
                             'offset %d' % (st['i'], off))
                    st['got'] += chunk
                    check(len(st['got']) <= st['sent'],
                          'client %d: got more bytes back (%d) than it sent (%d)'
                          % (st['i'], len(st['got']), st['sent']))
                    if len(st['got']) == SIZE:
                        st['done'] = True
                        pending -= 1
                        sel.unregister(s)
        for st in state:
            check(bytes(st['got']) == st['data'],
                  'client %d: echo differs from what was sent' % st['i'])
            abort(st['sock'])

        # a client sends 8 MiB without reading (more than the kernel buffers
        # hold, less than output_limit, so the daemon keeps reading and holds
        # output of its own), half-closes, and reads only once the daemon
        # has seen the end of its input: every byte still comes back, then EOF
        half = 8 * SIZE
        big = d.addr('big')
        s = connect(big, timeout=10, rcvbuf=16384)
        data = os.urandom(half)
        s.setblocking(False)
        sent = 0
        deadline = time.monotonic() + 30
        while sent < half:
            check(time.monotonic() < deadline, 'half-close client: sent only %d '
                  'of %d bytes in 30 s (output_limit is 16 MiB)' % (sent, half))
            _, w, _ = select.select([], [s], [], 1.0)
            if w:
                try:
                    sent += s.send(data[sent:sent + CHUNK])
                except BlockingIOError:
                    pass
        s.shutdown(socket.SHUT_WR)
        # all read, and so the end too: the FIN was queued behind the data
        daemon_read_all(s, big[1])
        got, how = recv_until_eof(s, timeout=30, limit=2 * half)
        check(len(got) == half, 'half-close client: sent %d bytes without reading, '
              'then SHUT_WR; got %d back before %s' % (half, len(got), how))
        check(got == data, 'half-close client: echoed bytes differ')
        check_eq(how, 'eof', 'how the connection ended after the half-close')
        s.close()


main(run, timeout=90)

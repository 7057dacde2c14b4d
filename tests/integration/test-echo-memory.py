#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Memory per echo client is what the documentation says: output_limit plus
# one read (64 KiB).  Sixteen clients that send and never read push the
# daemon into backpressure; its resident memory then grows by at most
# output_limit + 64 KiB per client (+16 KiB for the allocator's pages and
# the client itself), and at least half of output_limit (the buffers
# really filled).  Then every client reads back all it sent, in
# order: nothing was lost.
import os
import select
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, fail, listener, main, note, rss_kib, sanitized,  # noqa: E402
                        server_section, skip)

N = 16
LIMIT = 262144
READ = 65536  # the most one read takes (CLIENT_READ_MAX)
SLACK = 16384


def pattern(offset, n):
    """Bytes offset..offset+n of an endless, position-dependent stream."""
    base = b''.join(b'%07d\n' % i for i in range(offset // 8, (offset + n) // 8 + 2))
    start = offset % 8
    return base[start:start + n]


def run():
    conf = {'server': server_section(),
            'listener echo': listener('echo', output_limit=LIMIT)}
    with Daemon(conf) as d:
        if sanitized(d.pid):
            skip('AddressSanitizer keeps freed memory in quarantine: RSS says nothing')
        before = rss_kib(d.pid)
        socks = []
        for _ in range(N):
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            s.connect(d.addr('echo'))
            s.setblocking(False)
            socks.append(s)
        sent = [0] * N
        still = 0
        for _ in range(2000):
            moved = 0
            for i, s in enumerate(socks):
                try:
                    k = s.send(pattern(sent[i], 65536))
                except BlockingIOError:
                    continue
                sent[i] += k
                moved += k
            # stuck for a few rounds in a row: every client is paused
            still = still + 1 if moved == 0 else 0
            if still >= 5:
                break
            # until one can take more, or a round's worth of time passed
            select.select([], socks, [], 0.02)
        else:
            fail('the clients could send forever: no backpressure')
        after = rss_kib(d.pid)
        per = (after - before) / N
        note('%d clients sent %d KiB each on average; RSS %d -> %d KiB: %.0f KiB per '
             'client for output_limit %d KiB' % (N, sum(sent) // N // 1024, before, after,
                                                 per, LIMIT // 1024))
        check(per <= (LIMIT + READ + SLACK) / 1024,
              'memory per client %.0f KiB is over output_limit (%d KiB) + one read (%d KiB) '
              '+ %d KiB' % (per, LIMIT // 1024, READ // 1024, SLACK // 1024))
        check(per >= 0.5 * LIMIT / 1024,
              'memory per client %.0f KiB: the buffers did not fill' % per)

        for i, s in enumerate(socks):
            s.setblocking(True)
            s.settimeout(10)
            got = 0
            while got < sent[i]:
                chunk = s.recv(min(65536, sent[i] - got))
                if not chunk:
                    fail('client %d: EOF after %d of %d bytes' % (i, got, sent[i]))
                if chunk != pattern(got, len(chunk)):
                    fail('client %d: wrong bytes at offset %d' % (i, got))
                got += len(chunk)
            s.close()


main(run, timeout=120)

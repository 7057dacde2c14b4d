#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# stream: continuous send and read-back through synackd's echo. Megabytes
# come back verified, a "request" is one --size message echoed back, and
# what came back never exceeds what was sent.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, main  # noqa: E402


def run():
    with echo_daemon() as d:
        target = target_of(d)
        for conns, size, threads in ((4, 1000, 1), (3, 64, 2)):
            r = run_load(['-m', 'stream', '-c', str(conns), '-s', str(size), '-t',
                          str(threads), '-d', '1', target])
            rep = check_clean(r, 'stream', target)
            got = rep['bytes_received']
            check(got >= 1 << 20, 'expected at least 1 MiB echoed in a second, got %d' % got)
            check(rep['bytes_sent'] >= got, 'received %d > sent %d' % (got, rep['bytes_sent']))
            # per connection floor(bytes / size) messages
            check(got // size - conns <= rep['requests'] <= got // size,
                  'requests %d for %d bytes of %d-byte messages'
                  % (rep['requests'], got, size))
            check(rep['latency_us']['count'] > 0, 'stream latency samples')
            check(rep['bytes_per_s'] > 0, 'bytes_per_s')


main(run, timeout=60)

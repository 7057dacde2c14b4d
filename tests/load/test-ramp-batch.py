#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A ramp that opens many connections at once (no --ramp-rate, or a worker
# behind its rate) opens them a few dozen at a time and looks at the
# sockets in between, so that each handshake is counted when it completes,
# not after thousands more connect() calls: of 4000 connections opened at
# once with a connect timeout of 50 ms, no more than a few (a worker that
# loses its CPU for longer, on a busy machine) may time out; making every
# connect() first (20 to 30 us each here, about 100 ms for all) left the
# first half of them counted as timeouts, whose handshakes had long been
# complete.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_report, run_load, target_of  # noqa: E402
from synacktest import Daemon, check, listener, main, server_section  # noqa: E402

N = 4000


def run():
    conf = {'server': server_section(max_clients=N + 100),
            'listener echo': listener('echo', backlog=4096)}
    with Daemon(conf) as d:
        target = target_of(d)
        r = run_load(['-m', 'hold', '-c', str(N), '-T', '50', '-d', '1', '--max-error-rate', '1',
                      '--request-timeout', '5000', target], timeout=60)
        rep = check_report(r, 'hold', target)
        timeouts = rep['errors']['timeout']
        check(timeouts <= N // 20,
              '%d of %d connections opened at once timed out after 50 ms: the worker made '
              'connect() calls while their handshakes waited\n%s' % (timeouts, N, r.describe()))
        check(rep['connections']['established'] + timeouts == N,
              'every connection established or timed out: %r' % rep['connections'])


main(run, timeout=90)

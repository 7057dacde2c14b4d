#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --close: how the client ends a connection, as the server sees it.
# rst (the default) resets: synackd's debug log says "read error:
# Connection reset by peer" for every client and no TIME_WAIT socket is
# left; fin closes normally: synackd says "closed by peer", and each
# connection leaves a TIME_WAIT socket on this side. A small crr run
# (2 slots, 100 connections/s, half a second: about 50 connections) keeps
# those 60 s TIME_WAIT ports few.
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, client_count, echo_daemon, run_load, target_of  # noqa: E402
from synacktest import check, main, note, ss, wait_for  # noqa: E402
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))

REASON = re.compile(r' disconnected from echo: ([^,]*),')
# a reset is seen on a read, or on the write of a reply when the run ended
# the connection in the middle of its exchange
RESETS = ('read error: Connection reset by peer', 'write error: Connection reset by peer')
FIN = 'closed by peer'


def time_wait(port):
    out = ss(['-tanH', 'state', 'time-wait', '( dport = :%d )' % port])
    return len([l for l in out.splitlines() if l.strip()])


def reasons(d, mark, how):
    args = ['-m', 'crr', '-c', '2', '--connect-rate', '100', '-d', '0.5']
    if how is not None:
        args += ['--close', how]
    r = run_load(args + [target_of(d)])
    rep = check_clean(r, 'crr', target_of(d))
    check(40 <= rep['connections']['established'] <= 60,
          '--connect-rate 100 for 0.5 s: %d connections' % rep['connections']['established'])
    # every connection the server accepted, it also saw go
    wait_for(lambda: client_count(d, mark, 'disconnected from echo') >= client_count(d, mark),
             5, what='every client to disconnect')
    n = client_count(d, mark)
    got = [m.group(1) for m in (REASON.search(l) for l in d.log_lines()[mark:]) if m]
    return r, n, got


def run():
    with echo_daemon(log_level='debug') as d:
        port = d.port('echo')
        tw0 = time_wait(port)

        _, n, got = reasons(d, d.log_count(), None)
        resets = sum(got.count(x) for x in RESETS)
        note('--close rst (default): %d connections, %d reset, %d TIME_WAIT' %
             (n, resets, time_wait(port) - tw0))
        check(resets == n and n >= 40, 'rst: every disconnect should be a reset, got %r'
              % sorted(set(got)))
        check(time_wait(port) == tw0, 'rst leaves no TIME_WAIT socket, %d now'
              % (time_wait(port) - tw0))

        _, n, got = reasons(d, d.log_count(), 'fin')
        fins, resets = got.count(FIN), sum(got.count(x) for x in RESETS)
        tw = time_wait(port) - tw0
        note('--close fin: %d connections, %d closed by peer, %d reset, %d TIME_WAIT' %
             (n, fins, resets, tw))
        # a connection cut at the end of the run in the middle of its
        # exchange may still be reset: at most one per slot
        check(fins >= n - 2 and fins + resets == n and n >= 40,
              'fin: the server should see "%s", got %r' % (FIN, got))
        check(tw >= fins - 2, 'fin: each connection closed first here leaves a TIME_WAIT '
              'socket: %d for %d' % (tw, fins))


main(run, timeout=60)

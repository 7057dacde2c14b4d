#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# zero-downtime restart: two synackd share a port with reuseport = yes, and
# one of them stops (SIGTERM) while synack-load opens connection after
# connection on the port; not one connection or request fails. Then a new
# synackd starts on the port (the restart) and the second one stops, under
# load again. The stopping daemon's sockets drop new SYNs (the clients
# retry, and the kernel hands the retry to a socket that stays), then it
# takes what is queued and closes: no handshake is reset.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, start_load  # noqa: E402
from synacktest import (Daemon, check, check_eq, echo_check, listener, main,  # noqa: E402
                        server_section, wait_for)

LOAD = ['-m', 'crr', '-c', '8', '-d', '4', '--connect-rate', '1000',
        '--max-error-rate', '0', '-q']


def daemon(port):
    return Daemon({'server': server_section(shutdown_timeout=10, metrics='127.0.0.1:0'),
                   'listener echo': listener('echo', port=port, reuseport='yes')})


def stop_under_load(port, stopping, what):
    """Run the load on port, stop `stopping` once it served a share of it;
    the load must see no failure."""
    base = stopping.listener_stats('echo')['accepted']
    load = start_load(LOAD + ['127.0.0.1:%d' % port])
    wait_for(lambda: stopping.listener_stats('echo')['accepted'] >= base + 200, 10,
             interval=0.05, what='the stopping synackd to serve 200 connections of the load')
    check(load.proc.poll() is None, '%s: the load still runs when the daemon stops' % what)
    stopping.stop()
    r = load.finish(timeout=30)
    rep = check_clean(r, 'crr')
    est = rep['connections']['established']
    check(est >= 1000, '%s: expected at least 1000 connections in 4 s, got %d\n%s'
          % (what, est, r.describe()))
    print('%s: %d connections, %d requests, no failure' % (what, est, rep['requests']),
          flush=True)


def run():
    first = daemon(0)
    port = first.port('echo')
    second = daemon(port)
    check_eq(second.port('echo'), port, 'the second daemon\'s port')
    with second:
        stop_under_load(port, first, 'first synackd stopped under load')
        echo_check(('127.0.0.1', port)).close()
        third = daemon(port)
        with third:
            stop_under_load(port, second, 'second synackd stopped after the restart')
            echo_check(('127.0.0.1', port)).close()


main(run, timeout=120)

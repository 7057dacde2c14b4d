#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The metrics endpoint's connections are bounded (metrics_max_connections)
# and counted in the descriptor budget, so that idle metrics connections
# cannot take the descriptors the clients need.
#  - RLIMIT_NOFILE 256 (soft and hard), max_clients 100, the default
#    metrics_max_connections (32): the budget, 100 + 1 listener + 32 + 32,
#    fits, and no warning is logged;
#  - 300 idle connections to the endpoint: the daemon holds the first 32
#    and resets each of the others at once; an echo client connecting then
#    gets its echo within 100 ms (the best of 3 tries of at most 0.5 s each,
#    all well before the held connections time out: a loaded machine may
#    delay one, while out of descriptors the accept back-off delays each by
#    a second); the daemon's descriptors stay within the budget; a refusal
#    is logged;
#  - once they are gone, /metrics and /stats count exactly the connections
#    that were reset (synackd_metrics_connections_rejected_total), show
#    the connection asking as the only one open, and the limit;
#  - a reload to metrics_max_connections = 4: of 10 connections, exactly 4
#    are held and 6 reset, and counted.
import json
import os
import resource
import select
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import promtext  # noqa: E402
from synacktest import (Daemon, abort, check, check_eq, connect, echo_roundtrip, fail,  # noqa: E402
                        listener, main, note, render_config, server_section, skip,
                        wait_for)

NOFILE = 256
MAX_CLIENTS = 100
LIMIT = 32          # the default metrics_max_connections
OWN = 32            # CONFIG_OWN_DESCRIPTORS
FLOOD = 300
ECHO_WITHIN = 0.1   # seconds from connect to the echo back
ECHO_TRIES = 3
ECHO_GIVE_UP = 0.5  # seconds a try waits


def conf(**server):
    return {'server': server_section(metrics='127.0.0.1:0', max_clients=MAX_CLIENTS,
                                     **server),
            'listener echo': listener('echo')}


def echo_time(addr):
    """Seconds from connect to the echo back on a new connection, or None
    after ECHO_GIVE_UP."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(ECHO_GIVE_UP)
    t0 = time.monotonic()
    try:
        s.connect(addr)
        s.sendall(b'through the flood\n')
        got = b''
        while len(got) < 18:
            chunk = s.recv(64)
            if not chunk:
                fail('the echo client got EOF after %r' % got)
            got += chunk
        check_eq(got, b'through the flood\n', 'the echo')
        return time.monotonic() - t0
    except socket.timeout:
        return None
    finally:
        abort(s)


def open_fds(pid):
    return len(os.listdir('/proc/%d/fd' % pid))


def flood(maddr, n):
    """n connections to the endpoint, one after the other (each connect
    completes before the next, so none waits on a full accept queue):
    (sockets, those reset before their connect() returned)."""
    socks, reset = [], set()
    for i in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.settimeout(5)
        try:
            s.connect(maddr)
        except ConnectionResetError:
            reset.add(s)    # accepted, and reset already
        except OSError as e:
            s.close()
            fail('metrics connection %d of %d: connect: %s' % (i + 1, n, e))
        socks.append(s)
    return socks, reset


def sort_out(socks, refused, refused_want, timeout=5.0):
    """Wait until refused_want of socks were reset (or closed) by the daemon
    (`refused` those known already); then the others must still be open and
    silent. Returns (held, refused)."""

    def enough():
        live = [s for s in socks if s not in refused]
        r, _, _ = select.select(live, [], [], 0.05)
        for s in r:
            try:
                data = s.recv(1, socket.MSG_DONTWAIT)
            except (ConnectionResetError, BlockingIOError):
                data = b''
            if data:
                fail('a metrics connection that sent nothing got %r' % data)
            refused.add(s)
        return len(refused) >= refused_want
    wait_for(enough, timeout, interval=0,
             what='%d of %d metrics connections to be reset' % (refused_want, len(socks)))
    held = [s for s in socks if s not in refused]
    r, _, _ = select.select(held, [], [], 0)
    check(not r, '%d more connections than the %d expected were closed' %
          (len(r), refused_want))
    return held, refused


def scrape(maddr, path='/metrics'):
    """One HTTP/1.0 request: the daemon answers and closes, so when EOF is
    read it has let the connection go. (status, body), or None if the
    connection was reset (the endpoint was full)."""
    s = socket.create_connection(maddr, timeout=5)
    try:
        s.sendall(b'GET %s HTTP/1.0\r\n\r\n' % path.encode())
        buf = bytearray()
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                if buf:
                    fail('GET %s: reset after %r' % (path, bytes(buf[:100])))
                return None
            if not chunk:
                break
            buf += chunk
    finally:
        abort(s)
    head, _, body = bytes(buf).partition(b'\r\n\r\n')
    return int(head.split()[1]), body


def settled_metrics(maddr):
    """/metrics once the daemon has let go of every connection but the one
    asking (closed ones may still be on their way): (active, max, rejected,
    resets), resets being the scrapes refused meanwhile, which count too."""
    resets, last = [], []

    def settled():
        r = scrape(maddr)
        if r is None:
            resets.append(1)
            return False
        check_eq(r[0], 200, 'status of GET /metrics')
        last[:] = [promtext.parse(r[1])]
        return last[0].value('synackd_metrics_connections_active') == 1
    wait_for(settled, 5, what='the endpoint to have one connection open, the one asking')
    m = last[0]
    return (m.value('synackd_metrics_connections_active'),
            m.value('synackd_metrics_connections_max'),
            m.value('synackd_metrics_connections_rejected_total'), len(resets))


def run():
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if hard != resource.RLIM_INFINITY and hard < FLOOD + 100:
        skip('the hard open-file limit %d cannot hold %d connections here' % (hard, FLOOD))
    if soft != resource.RLIM_INFINITY and soft < FLOOD + 100:
        resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))

    def low_limit():
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

    with Daemon(conf(), preexec_fn=low_limit) as d:
        maddr = d.metrics_addr()
        budget = MAX_CLIENTS + 1 + LIMIT + OWN
        check(d.find_log(r'open files') is None,
              'a descriptor warning for a budget of %d within %d' % (budget, NOFILE))
        note('budget %d descriptors of %d; %d at rest' % (budget, NOFILE, open_fds(d.pid)))

        socks, reset = flood(maddr, FLOOD)
        tries = []
        while len(tries) < ECHO_TRIES and not any(t is not None and t < ECHO_WITHIN
                                                  for t in tries):
            tries.append(echo_time(d.addr('echo')))
        shown = ', '.join('%.1f ms' % (t * 1000) if t is not None else 'no echo in %.1f s' %
                          ECHO_GIVE_UP for t in tries)
        note('%d metrics connections open: echo tries %s' % (FLOOD, shown))
        check(any(t is not None and t < ECHO_WITHIN for t in tries),
              'with %d metrics connections open no echo client got its echo within %.0f ms '
              '(%s): the endpoint took the clients\' descriptors' %
              (FLOOD, ECHO_WITHIN * 1000, shown))

        held, refused = sort_out(socks, reset, FLOOD - LIMIT)
        fds = open_fds(d.pid)
        note('%d held, %d reset; daemon descriptors: %d' % (len(held), len(refused), fds))
        check(fds <= budget, 'the daemon holds %d descriptors, more than its budget of %d' %
              (fds, budget))
        d.wait_log(r'metrics: connection from 127\.0\.0\.1:\d+ refused: '
                   r'metrics_max_connections %d reached' % LIMIT)
        for s in socks:
            abort(s)

        active, limit, rejected, resets = settled_metrics(maddr)
        check_eq(limit, LIMIT, 'synackd_metrics_connections_max')
        check_eq(rejected, len(refused) + resets, 'synackd_metrics_connections_rejected_total '
                 '(%d connections seen reset, %d of them while scraping)' %
                 (len(refused) + resets, resets))
        check(rejected >= FLOOD - LIMIT, 'rejected %d, expected at least %d' %
              (rejected, FLOOD - LIMIT))
        r = scrape(maddr, '/stats')
        check(r is not None and r[0] == 200, 'GET /stats with no other connection: %r' % (r,))
        check_eq(json.loads(r[1])['metrics'],
                 {'connections': 1, 'max_connections': LIMIT, 'rejected': rejected},
                 '"metrics" in /stats')

        # a reload applies a new limit
        with open(d.conf_path, 'w') as f:
            f.write(render_config(conf(metrics_max_connections=4)))
        mark = d.log_count()
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'reload: done', 10, start=mark)
        socks, reset = flood(maddr, 10)
        held, refused = sort_out(socks, reset, 6)
        for s in socks:
            abort(s)
        active, limit, now, resets = settled_metrics(maddr)
        check_eq(limit, 4, 'synackd_metrics_connections_max after the reload')
        check_eq(now - rejected, 6 + resets, 'connections rejected at the new limit of 4 '
                 '(%d while scraping)' % resets)
        check(d.alive(), 'the daemon exited')
        s = connect(d.addr('echo'))
        echo_roundtrip(s, b'after it all\n')
        s.close()


main(run, timeout=90)

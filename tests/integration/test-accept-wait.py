#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# accept wait: the time a connection spent in the accept queue, per TCP
# listener (TCP_INFO tcpi_last_ack_recv at accept).  In a network
# namespace of the test's own.
#  1. an idle daemon accepts at once: the connection lands in a bucket of
#     at most 50 ms, in /metrics and /stats alike; no warning.  0 or 1 ms
#     is what an idle machine shows; on one loaded by other builds and
#     tests the daemon's thread was seen to wake more than 5 ms late, and
#     50 still tells it from a queued wait (over 200).
#  2. the daemon is stopped (SIGSTOP, every thread of it) while 5 clients
#     connect: their handshakes complete in the kernel's queue; 300 ms
#     later it goes on (SIGCONT) and accepts them: the histogram counts 6,
#     the 5 in the (200, 500] ms bucket, p99 is 500; accept_wait_warn = 100
#     logs "waited N ms in the accept queue" for them at most once a clock
#     second: 1 line, or 2 when the burst straddles a second boundary (the
#     second then says how many it stands for: "(and N more ...)").
#  3. a second later one more queued client: its line counts the burst's
#     warnings held back, so that the lines and their "N more" add up to
#     the 5 exactly.
#  4. a unix listener has no handshake: no histogram line, null in /stats.
#  5. the same burst with accept_wait_warn = 0: counted, never logged.
# Every wait is bounded: the daemon is stopped only inside queue_clients,
# which sends SIGCONT whatever happens, and each connect has a timeout.
import os
import signal
import sys
import time

sys.dont_write_bytecode = True
_lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
sys.path.insert(0, _lib)
import promtext  # noqa: E402
from netns import enter_netns  # noqa: E402
from synacktest import (Daemon, check, check_eq, connect, http_get, listener,  # noqa: E402
                        main, server_section, wait_for)

QUEUED = 5
STOPPED = 0.3   # seconds the daemon is stopped with clients queued
WAIT = 10.0     # seconds any one count may take to arrive
WAITED_RE = (r'client \S+ connected to echo: waited (\d+) ms in the accept queue'
             r'(?: \(and (\d+) more over accept_wait_warn since the last message\))?$')
NAME = 'synackd_listener_accept_wait_seconds'


def conf(warn):
    return {'server': server_section(workers=1, log_level='debug', metrics='127.0.0.1:0',
                                     accept_wait_warn=warn),
            'listener echo': listener('echo', backlog=64),
            'listener local': listener('echo', address='unix:@TMPDIR@/echo.sock')}


def scrape(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics',
                               headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET /metrics')
    return promtext.parse(body)


def accepted(d, n):
    return d.listener_stats('echo')['accepted'] >= n


def bucket(m, le):
    return m.value(NAME + '_bucket', listener='echo', service='echo', le=le)


def stopped(pid):
    """Every thread of pid is stopped: the main thread shows T before the
    workers have all taken the stop, and a worker still running would
    accept a client meant to queue."""
    states = []
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            with open('/proc/%d/task/%s/stat' % (pid, tid)) as f:
                states.append(f.read().rsplit(')', 1)[1].split()[0])
        except FileNotFoundError:
            continue
    return bool(states) and all(st == 'T' for st in states)


def queue_clients(d, n=QUEUED):
    """Stop the daemon, let n clients complete their handshakes in the
    accept queue, and let it go on after STOPPED seconds."""
    d.send_signal(signal.SIGSTOP)
    try:
        wait_for(lambda: stopped(d.pid), WAIT, what='synackd stopped')
        socks = [connect(d.addr('echo'), timeout=WAIT) for _ in range(n)]
        # This sleep is what is measured: the time the clients wait in the
        # queue, which the histogram must show.
        time.sleep(STOPPED)
    finally:
        d.send_signal(signal.SIGCONT)
    return socks


def run():
    enter_netns()
    with Daemon(conf(100)) as d:
        # 1. idle: accepted at once
        s = connect(d.addr('echo'))
        wait_for(lambda: accepted(d, 1), WAIT, what='the first client accepted')
        m = scrape(d)
        check_eq(m.value(NAME + '_count', listener='echo', service='echo'), 1,
                 'accept_wait count after one client')
        check_eq(bucket(m, '0.05'), 1, 'an idle daemon\'s accept within 50 ms')
        aw = d.listener_stats('echo')['accept_wait']
        check_eq(aw['count'], 1, '/stats accept_wait count')
        check(sum(aw['buckets_ms'][k] for k in ('0', '1', '2', '5', '10', '20', '50')) == 1,
              '/stats: the idle accept within 50 ms: %r' % aw)
        s.close()

        # 2. queued while stopped
        socks = queue_clients(d)
        wait_for(lambda: accepted(d, 1 + QUEUED), WAIT, what='the queued clients accepted')
        m = scrape(d)
        check_eq(m.value(NAME + '_count', listener='echo', service='echo'), 1 + QUEUED,
                 'accept_wait count')
        check_eq(bucket(m, '0.2'), 1, 'accept_wait le=0.2: the idle one only')
        check_eq(bucket(m, '0.5'), 1 + QUEUED, 'accept_wait le=0.5: the queued ones too')
        check_eq(bucket(m, '+Inf'), 1 + QUEUED, 'accept_wait le=+Inf')
        total = m.value(NAME + '_sum', listener='echo', service='echo')
        check(QUEUED * 0.2 < total <= QUEUED * 0.5 + 0.005,
              'accept_wait sum %r s for %d clients queued %.1f s' % (total, QUEUED, STOPPED))
        aw = d.listener_stats('echo')['accept_wait']
        check_eq(aw['count'], 1 + QUEUED, '/stats accept_wait count')
        check_eq(aw['buckets_ms']['500'], QUEUED, '/stats accept_wait bucket 500')
        check_eq(aw['buckets_ms']['200'], 0, '/stats accept_wait bucket 200')
        check_eq((aw['p90_ms'], aw['p99_ms']), (500, 500), '/stats accept_wait p90, p99')
        check(200 * QUEUED < aw['sum_ms'] <= 500 * QUEUED + 5, '/stats sum_ms %r' % aw)
        # each queued client's debug connect line comes after its warning
        wait_for(lambda: len(d.find_all_log(r'client \S+ connected to echo$')) >= 1 + QUEUED,
                 WAIT, what='the connect lines')
        lines = d.find_all_log(WAITED_RE)
        check(len(lines) in (1, 2),
              'warnings of a wait in the accept queue (one a clock second: 1, or 2 across '
              'a second boundary): %r' % [m.string for m in lines])
        for m in lines:
            check(200 <= int(m.group(1)) <= 500, 'the warning\'s wait: %s' % m.string)
            check(' warn: ' in m.string, 'the warning is at warn level: %s' % m.string)
        check(lines[0].group(2) is None, 'the first warning holds none back: %s' %
              lines[0].string)
        told = len(lines) + sum(int(m.group(2) or 0) for m in lines)
        check(told <= QUEUED, 'warnings and their "N more": %d for %d clients' %
              (told, QUEUED))
        for c in socks:
            c.close()

        # 3. a new clock second later (the limit's unit), one more queued
        # client: its warning tells how many of the burst were held back
        seen = time.monotonic()
        wait_for(lambda: time.monotonic() >= seen + 1.0, 2.0, what='a new second')
        socks = queue_clients(d, 1)
        wait_for(lambda: len(d.find_all_log(WAITED_RE)) > len(lines), WAIT,
                 what='the next warning')
        last = d.find_all_log(WAITED_RE)[len(lines)]
        check_eq(int(last.group(2) or 0), QUEUED - told,
                 'the burst\'s warnings held back, told by the next one (%s)' % last.string)
        for c in socks:
            c.close()

        # 4. unix: no handshake, no histogram
        u = connect(d.addr('local'))
        wait_for(lambda: d.listener_stats('local')['accepted'] >= 1, WAIT,
                 what='the unix client accepted')
        check_eq(d.listener_stats('local')['accept_wait'], None, '/stats unix accept_wait')
        m = scrape(d)
        check_eq(m.samples(NAME + '_count', listener='local'), [],
                 'accept_wait samples of a unix listener')
        u.close()

    # 5. accept_wait_warn = 0: counted, not logged
    with Daemon(conf(0)) as d:
        socks = queue_clients(d)
        wait_for(lambda: accepted(d, QUEUED), WAIT, what='the queued clients accepted')
        wait_for(lambda: len(d.find_all_log(r'client \S+ connected to echo$')) >= QUEUED,
                 WAIT, what='the connect lines')
        check_eq(d.listener_stats('echo')['accept_wait']['buckets_ms']['500'], QUEUED,
                 'accept_wait_warn = 0: still counted')
        check_eq(d.find_all_log(WAITED_RE), [], 'warnings with accept_wait_warn = 0')
        for c in socks:
            c.close()


main(run, timeout=60)

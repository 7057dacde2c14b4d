#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# workers: N event loops, one thread each.
#  1. workers = 2, port 0: one listening socket per worker on the one port
#     the first bind chose; under load both worker threads do work;
#  2. workers = 0: one worker per online CPU (threads = CPUs + the main one);
#  3. max_clients is exact across workers: with 10, out of 30 clients
#     spread over both workers exactly 10 are served; when 3 leave, exactly
#     3 more are;
#  4. chat with 2 workers: a room is on one loop, every member gets every
#     other member's line;
#  5. a reload under load (crr on two workers) that moves the loaded
#     listener to a new address: connections queued on the old sockets are
#     taken before they close, so no established connection is reset and no
#     byte is wrong (new connections to the old address are refused, as they
#     should be);
#  6. a graceful shutdown under load on two workers resets no established
#     connection either.
import os
import select
import signal
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_report, run_load, start_load  # noqa: E402
from synacktest import (Daemon, abort, check, check_eq, connect, echo_roundtrip,  # noqa: E402
                        fmt_addr, join_chat, listener, main, note, parse_addr,
                        recv_line, render_config, server_section, ss_listen_queues,
                        thread_sanitized, wait_for)


def threads(pid):
    """The daemon's threads, less ThreadSanitizer's (the first after the
    main thread's)."""
    tids = sorted(int(t) for t in os.listdir('/proc/%d/task' % pid))
    if thread_sanitized(pid):
        del tids[1]
    return tids


def thread_cpu(pid, tid):
    with open('/proc/%d/task/%d/stat' % (pid, tid)) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return int(fields[11]) + int(fields[12])


def spread(d):
    port = d.port('echo')
    rows = ss_listen_queues(port, '127.0.0.1')
    check_eq(len(rows), 2, 'listening sockets on port %d with 2 workers' % port)
    tids = threads(d.pid)
    check_eq(len(tids), 3, 'threads: main and 2 workers')
    workers = [t for t in tids if t != d.pid]
    before = {t: thread_cpu(d.pid, t) for t in workers}
    r = run_load(['-m', 'stream', '-c', '32', '-s', '16384', '-d', '2', '-q',
                  '127.0.0.1:%d' % port], timeout=30)
    check_eq(r.rc, 0, 'synack-load exit\n' + r.describe())
    used = {t: thread_cpu(d.pid, t) - before[t] for t in workers}
    note('worker CPU ticks under load: %r' % used)
    check(all(v > 0 for v in used.values()), 'both workers must serve: %r' % used)


def per_cpu():
    with Daemon({'server': server_section(workers=0),
                 'listener echo': listener('echo')}) as d:
        want = os.sysconf('SC_NPROCESSORS_ONLN')
        check_eq(len(threads(d.pid)), want + 1, 'threads with workers = 0 (%d CPUs)' % want)
        check_eq(len(ss_listen_queues(d.port('echo'), '127.0.0.1')), want,
                 'sockets with workers = 0')
        d.wait_log(r'started, workers=%d ' % want)


def answering(socks, seconds):
    """Those of socks that receive something within `seconds` (the echo of
    what each sent: only a served client gets one). The whole time is
    waited for: that no more are served is part of what is checked."""
    got, ended = [], []
    end = time.monotonic() + seconds
    while True:
        left = end - time.monotonic()
        waiting = [s for s in socks if s not in got and s not in ended]
        if left <= 0 or not waiting:
            return got
        readable, _, _ = select.select(waiting, [], [], left)
        for s in readable:
            try:
                data = s.recv(16)
            except OSError:
                data = b''
            (got if data else ended).append(s)


def exact_max(d):
    addr = d.addr('capped')
    socks = [connect(addr) for _ in range(30)]
    for i, s in enumerate(socks):
        s.sendall(b'%d\n' % i)
    d.wait_log(r'max_clients 10 reached, accepting paused')
    served = answering(socks, 1.5)
    check_eq(len(served), 10, 'clients served at max_clients = 10 over 2 workers')
    for s in served[:3]:
        abort(s)
    more = answering([s for s in socks if s not in served], 1.5)
    check_eq(len(more), 3, 'clients served after 3 of the 10 left')
    for s in socks:
        abort(s)


def chat(d):
    members = join_chat(d, 'room', 6)
    for i, s in enumerate(members):
        s.sendall(b'line %d\n' % i)
        me = fmt_addr(s.getsockname()).encode()
        for j, o in enumerate(members):
            if j != i:
                check_eq(recv_line(o), me + b': line %d\n' % i, 'member %d got %d' % (j, i))
    for s in members:
        abort(s)


def under_way(d, n=200):
    """The load runs: the echo listener served n more connections."""
    base = d.listener_stats('echo')['accepted']
    wait_for(lambda: d.listener_stats('echo')['accepted'] >= base + n, 10,
             interval=0.05, what='%d connections of the load served' % n)


def reload_under_load(d):
    old = d.port('echo')
    load = start_load(['-m', 'crr', '-c', '16', '-d', '3', '-q', '127.0.0.1:%d' % old])
    under_way(d)
    # a new address takes new sockets, on a port read back from the log
    conf = config(address='127.0.0.2')
    with open(d.conf_path, 'w') as f:
        f.write(render_config(conf))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    m = d.wait_log(r'listener echo: listening on (\S+)', 10, start=mark)
    d.wait_log(r'reload: done', 10, start=mark)
    rep = check_report(load.finish(60), 'crr')
    note('crr during the move: %d established, errors %r' %
         (rep['connections']['established'], rep['errors']))
    check(rep['connections']['established'] > 100, 'the load ran: %r' % rep['connections'])
    for what, n in rep['errors'].items():
        if what != 'refused':
            check_eq(n, 0, '%s errors while the listener moved' % what)
    d.listeners['echo']['addr'] = parse_addr(m.group(1))
    s = connect(d.addr('echo'))
    echo_roundtrip(s, b'at the new address\n')
    abort(s)


def shutdown_under_load(d):
    load = start_load(['-m', 'crr', '-c', '16', '-d', '4', '-q', fmt_addr(d.addr('echo'))])
    under_way(d)
    d.stop(15)
    rep = check_report(load.finish(60), 'crr')
    note('crr during the shutdown: %d established, errors %r' %
         (rep['connections']['established'], rep['errors']))
    for what, n in rep['errors'].items():
        if what != 'refused':
            check_eq(n, 0, '%s errors during the graceful shutdown' % what)


def config(address='127.0.0.1'):
    return {'server': server_section(workers=2, metrics='127.0.0.1:0'),
            'listener echo': listener('echo', address=address, backlog=4096)}


def run():
    with Daemon({'server': server_section(workers=2, log_level='debug'),
                 'listener room': listener('chat')}) as d:
        chat(d)
    with Daemon(config()) as d:
        spread(d)
        reload_under_load(d)
        shutdown_under_load(d)
    with Daemon({'server': server_section(workers=2, max_clients=10),
                 'listener capped': listener('echo')}) as d:
        exact_max(d)
    per_cpu()


main(run, timeout=180)

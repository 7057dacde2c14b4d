#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# metrics-queues: /stats and /metrics show a listener's two handshake
# queues as the kernel keeps them, and the host's TcpExt counters.
#
# The test first moves into a network namespace of its own (the daemon
# inherits it): the TcpExt counters are then this test's alone (they start
# at 0), the fixed ports below are free, and the nftables rule it adds
# touches no other firewall.  Skipped where the namespace or nft cannot
# be had.
#
# SYN queue: with the listener's SYN-ACKs dropped by nftables (on their
# way into the client, so that the server's retransmissions succeed), K
# connects leave K request sockets in SYN_RECV: syn_recv is exactly K for
# that listener (as ss counts them), and stays K past the first
# retransmissions, and 0 for one on the same port at another address and
# for one on another port; a dual-stack listener counts its IPv4 and IPv6
# ones.  Without the rule the handshakes complete, syn_recv is 0 again
# and every connection is served.
#
# Accept queue: at max_clients = 1 the daemon stops accepting.  Then
# connections to a backlog-4 listener fill each of its sockets (one per
# worker, SO_REUSEPORT) to backlog + 1 = 5, what Linux queues, and no
# further: the sum never exceeds accept_queue_limit, and the SYNs beyond
# are dropped, counted by TcpExt ListenOverflows (host.listen_overflows,
# synackd_host_tcp_listen_overflows_total).  Once the slot frees, every
# queued connection is served and the queue empties.
#
# Unix: the accept queue of a unix listener (read by unix_diag) fills the
# same way at max_clients, connects beyond it fail with EAGAIN, and it has
# no SYN queue (syn_recv null, no synackd_listener_syn_recv sample).
import errno
import os
import select
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from netns import enter_netns, find_nft, nft  # noqa: E402
from synacktest import (Daemon, abort, check, check_eq, echo_check, fail,  # noqa: E402
                        have_ipv6_loopback, http_get, listener, main, note,
                        server_section, skip, ss, ss_listen_queues, wait_for)

TCP_ESTABLISHED = 1
TCP_SYN_SENT = 2

SYN_PORT = 7007    # the namespace is ours: fixed ports are free
DUAL_PORT = 7008
BACKLOG = 4        # of the accept-queue listeners
SYN_CLIENTS = 5    # K
NFT_TABLE = 'synack_test'


# ---------------------------------------------------------------------------
# nftables

def drop_synacks(ports):
    """Drop the SYN-ACKs these ports send before the client sees them:
    their connections stay in SYN_RECV on the listener's side.

    They are dropped on their way in (the input hook), not out: a packet
    dropped on output fails the server's send (EPERM), and request sockets
    whose SYN-ACK cannot be sent were seen to vanish after some seconds and
    come back for a second with each SYN the client retransmits, so that
    syn_recv came and went.  Dropped on input, the server's sends succeed
    and its request sockets stay, retransmitting, for a minute."""
    nft('add chain inet %s synacks { type filter hook input priority 0; policy accept; }\n'
        'add rule inet %s synacks tcp sport { %s } tcp flags & (syn | ack) == syn | ack drop\n'
        % (NFT_TABLE, NFT_TABLE, ', '.join(str(p) for p in ports)))


def pass_synacks():
    nft('delete chain inet %s synacks\n' % NFT_TABLE)


# ---------------------------------------------------------------------------
# Reading the daemon

def by_name(stats):
    return {l['name']: l for l in stats['listeners']}


def prom(d):
    """GET /metrics: {'name{labels}': value}."""
    status, _, body = http_get(d.metrics_addr(), '/metrics')
    check_eq(status, 200, 'status of GET /metrics')
    out = {}
    for line in body.decode().splitlines():
        if line and not line.startswith('#'):
            key, value = line.rsplit(' ', 1)
            out[key] = float(value)
    return out


def lkey(family, name, service='echo'):
    return '%s{listener="%s",service="%s"}' % (family, name, service)


def sysctl(path):
    with open(path) as f:
        return int(f.read().split()[0])


def check_queue_sample(l, cap, what):
    """What must hold of a listener's accept queue at any moment."""
    per = l['accept_queue_per_socket']
    check_eq(len(per), l['workers'], '%s: sockets in accept_queue_per_socket' % what)
    check_eq(sum(per), l['accept_queue'], '%s: accept_queue, the sum of the sockets\'' % what)
    check_eq(l['accept_queue_limit'], cap * len(per),
             '%s: accept_queue_limit, backlog_effective + 1 per socket' % what)
    check(all(0 <= n <= cap for n in per),
          '%s: a socket holds more than backlog_effective + 1 = %d: %r' % (what, cap, per))
    check(l['accept_queue'] <= l['accept_queue_limit'],
          '%s: accept_queue %d over its limit %d' %
          (what, l['accept_queue'], l['accept_queue_limit']))


# ---------------------------------------------------------------------------
# Clients

def start_connect(addr):
    """A non-blocking connect under way (or done)."""
    if isinstance(addr, str):
        family = socket.AF_UNIX
    else:
        family = socket.AF_INET6 if ':' in addr[0] else socket.AF_INET
    s = socket.socket(family, socket.SOCK_STREAM)
    s.setblocking(False)
    err = s.connect_ex(addr)
    if err not in (0, errno.EINPROGRESS):
        s.close()
        fail('connect to %r: %s' % (addr, os.strerror(err)))
    return s


def tcp_state(s):
    return s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 8)[0]


def serve_all(d, clients, what, timeout=20.0):
    """Each client sends a line; at max_clients = 1 the daemon serves one
    at a time: each echo is checked and the client closed, which frees
    the slot for the next."""
    want, got = {}, {}
    for i, c in enumerate(clients):
        c.setblocking(True)
        c.settimeout(5)
        want[c] = ('%s %d\n' % (what, i)).encode()
        got[c] = b''
        c.sendall(want[c])
        c.setblocking(False)
    pending = set(clients)
    deadline = time.monotonic() + timeout
    while pending:
        left = deadline - time.monotonic()
        if left <= 0:
            fail('%s: %d of %d connections not served within %.0f s; /stats: %r' %
                 (what, len(pending), len(clients), timeout, by_name(d.stats())))
        r, _, _ = select.select(list(pending), [], [], min(left, 0.5))
        for c in r:
            try:
                data = c.recv(4096)
            except BlockingIOError:
                continue
            except OSError as e:
                fail('%s: a queued connection failed before its echo: %s' % (what, e))
            if not data:
                fail('%s: a queued connection was closed before its echo (got %r)' %
                     (what, got[c]))
            got[c] += data
            if not want[c].startswith(got[c]):
                fail('%s: sent %r, got back %r' % (what, want[c], got[c]))
            if got[c] == want[c]:
                abort(c)
                pending.discard(c)


def wait_quiet(d, names, timeout=10.0):
    """No client left, and the listeners' accept queues empty."""
    last = {}

    def quiet():
        st = d.stats()
        ls = by_name(st)
        last['v'] = (st['clients']['active'], {n: ls[n]['accept_queue'] for n in names})
        return st['clients']['active'] == 0 and all(ls[n]['accept_queue'] == 0 for n in names)
    if not wait_for(quiet, timeout, interval=0.05):
        fail('after the clients left: (clients, accept queues) are %r, not all 0' % (last['v'],))


# ---------------------------------------------------------------------------
# The SYN queue

def syn_queue(d, have6):
    tcp = ['syn', 'twin', 'other', 'q'] + (['dual'] if have6 else [])
    ls = by_name(d.stats())
    for n in tcp:
        check_eq(ls[n]['syn_recv'], 0, 'syn_recv of %s before any connection' % n)
    check(ls['ux']['syn_recv'] is None, 'syn_recv of a unix listener must be null, not %r' %
          ls['ux']['syn_recv'])

    drop_synacks([SYN_PORT, DUAL_PORT])
    started = time.monotonic()
    clients = [start_connect(('127.0.0.1', SYN_PORT)) for _ in range(SYN_CLIENTS)]
    want = {n: 0 for n in tcp}
    want['syn'] = SYN_CLIENTS
    if have6:
        for addr in (('127.0.0.1', DUAL_PORT), ('127.0.0.1', DUAL_PORT),
                     ('::1', DUAL_PORT), ('::1', DUAL_PORT)):
            clients.append(start_connect(addr))
        want['dual'] = 4

    seen = {}

    def counts(target):
        ls = by_name(d.stats())
        seen['v'] = {n: ls[n]['syn_recv'] for n in tcp}
        check(ls['ux']['syn_recv'] is None, 'syn_recv of the unix listener became %r' %
              ls['ux']['syn_recv'])
        return seen['v'] == target
    if not wait_for(lambda: counts(want), 10, interval=0.05):
        fail('syn_recv per listener: expected %r, got %r (ss: %r)' %
             (want, seen['v'], ss(['-Htn', 'state', 'syn-recv'])))
    note('syn_recv with the SYN-ACKs dropped: %r' % seen['v'])
    for c in clients:
        check_eq(tcp_state(c), TCP_SYN_SENT, 'client state while its SYN-ACK is dropped')
    # past the first retransmissions (1 s: the server's SYN-ACK, the
    # client's SYN), the same request sockets and no more: a change is
    # waited for until 1.5 s after the connects, and must not come
    if wait_for(lambda: not counts(want), max(0.0, started + 1.5 - time.monotonic()),
                interval=0.1):
        fail('syn_recv per listener %.1f s after the connects: expected %r, got %r' %
             (time.monotonic() - started, want, seen['v']))

    # ss reads the same dump: the same count, on the address and port
    rows = ss(['-Htn', 'state', 'syn-recv', 'sport', '=', ':%d' % SYN_PORT]).splitlines()
    check_eq(len(rows), SYN_CLIENTS, 'SYN_RECV sockets on port %d as ss lists them' % SYN_PORT)
    check(all('127.0.0.1:%d' % SYN_PORT in r for r in rows), 'ss rows: %r' % rows)
    m = prom(d)
    check_eq(m.get(lkey('synackd_listener_syn_recv', 'syn')), float(SYN_CLIENTS),
             'synackd_listener_syn_recv of syn')
    check_eq(m.get(lkey('synackd_listener_syn_recv', 'twin')), 0.0,
             'synackd_listener_syn_recv of twin (same port, another address)')
    check(lkey('synackd_listener_syn_recv', 'ux') not in m,
          'a unix listener has no synackd_listener_syn_recv sample')

    # the SYN-ACKs pass again: the next retransmission completes each handshake
    pass_synacks()
    zero = {n: 0 for n in tcp}
    if not wait_for(lambda: counts(zero), 15, interval=0.05):
        fail('syn_recv once the SYN-ACKs pass: expected %r, got %r' % (zero, seen['v']))
    for c in clients:
        check_eq(tcp_state(c), TCP_ESTABLISHED, 'client state once the SYN-ACKs pass')
    serve_all(d, clients, 'syn')
    wait_quiet(d, ['syn'] + (['dual'] if have6 else []))


# ---------------------------------------------------------------------------
# The accept queue of a TCP listener

def accept_queue_tcp(d):
    st = d.stats()
    host0 = st['host']
    l = by_name(st)['q']
    n = l['workers']
    check_eq(l['backlog'], BACKLOG, 'backlog of q')
    check_eq(l['backlog_effective'], BACKLOG, 'backlog_effective of q (somaxconn is larger)')
    check_eq(n, st['workers'], 'q\'s sockets: one per worker')
    cap = l['backlog_effective'] + 1
    check_queue_sample(l, cap, 'q, idle')
    check_eq(l['accept_queue'], 0, 'accept_queue of q, idle')

    addr = d.addr('q')
    mark = d.log_count()
    first = echo_check(addr, b'the only slot\n')
    d.wait_log(r'max_clients 1 reached, accepting paused', start=mark)

    # far more connections than the sockets hold: each fills, then its SYNs are dropped
    clients, samples = [], []
    for _ in range(20 * n):
        clients.append(start_connect(addr))
        samples.append(by_name(d.stats())['q'])
    last = {}

    def full():
        last['l'] = by_name(d.stats())['q']
        samples.append(last['l'])
        return all(x == cap for x in last['l']['accept_queue_per_socket'])
    if not wait_for(full, 10, interval=0.05):
        fail('q: every socket should hold backlog + 1 = %d after %d connections: %r' %
             (cap, len(clients), last['l']['accept_queue_per_socket']))
    for i, s in enumerate(samples):
        check_queue_sample(s, cap, 'q, sample %d while filling' % i)
    rising = [s['accept_queue'] for s in samples]
    note('q (%d socket(s), backlog %d): accept_queue while filling: %r' % (n, BACKLOG, rising))
    l = last['l']
    check_eq(l['accept_queue'], n * cap, 'accept_queue of q, full')
    check_eq(l['accept_queue'], l['accept_queue_limit'], 'accept_queue of q at its limit')

    # the kernel's own view of the listening sockets: Recv-Q and Send-Q
    rows = ss_listen_queues(addr[1], '127.0.0.1')
    check_eq(sorted(r[0] for r in rows), sorted(l['accept_queue_per_socket']),
             'accept queues as ss shows them (Recv-Q)')
    check_eq(sorted(r[1] for r in rows), [BACKLOG] * n, 'backlogs as ss shows them (Send-Q)')

    # the SYNs the full queues turned away, as this namespace counted them
    states = [tcp_state(c) for c in clients]
    waiting = states.count(TCP_SYN_SENT)
    check(waiting >= 1, 'some of the %d connections must wait in SYN_SENT: states %r' %
          (len(clients), states))
    host = {}

    def counted():
        host['h'] = d.stats()['host']
        return host['h']['listen_overflows'] - host0['listen_overflows'] >= waiting
    if not wait_for(counted, 5, interval=0.05):
        fail('host.listen_overflows grew by %d, less than the %d connections whose SYN was '
             'dropped' % (host['h']['listen_overflows'] - host0['listen_overflows'], waiting))
    h = host['h']
    check(h['listen_drops'] > host0['listen_drops'], 'host.listen_drops must grow too: %r' % h)
    m = prom(d)
    check(m['synackd_host_tcp_listen_overflows_total'] >= h['listen_overflows'],
          'synackd_host_tcp_listen_overflows_total %r, /stats said %d' %
          (m['synackd_host_tcp_listen_overflows_total'], h['listen_overflows']))
    check_eq(m[lkey('synackd_listener_accept_queue', 'q')], float(n * cap),
             'synackd_listener_accept_queue of q, full')
    check_eq(m[lkey('synackd_listener_accept_queue_limit', 'q')], float(n * cap),
             'synackd_listener_accept_queue_limit of q')
    check_eq(m[lkey('synackd_listener_backlog_effective', 'q')], float(BACKLOG),
             'synackd_listener_backlog_effective of q')
    note('q full: %d queued, %d established, %d in SYN_SENT; ListenOverflows +%d, '
         'ListenDrops +%d; syn_recv %r' %
         (l['accept_queue'], states.count(TCP_ESTABLISHED), waiting,
          h['listen_overflows'] - host0['listen_overflows'],
          h['listen_drops'] - host0['listen_drops'], l['syn_recv']))

    # those still in SYN_SENT are nowhere in the daemon's queues: drop them
    established = []
    for c, state in zip(clients, states):
        if state == TCP_ESTABLISHED:
            established.append(c)
        else:
            abort(c)
    check(len(established) >= n * cap,
          '%d connections established, fewer than the %d queued' % (len(established), n * cap))

    accepted = by_name(d.stats())['q']['accepted']
    abort(first)   # the slot frees: the queued connections are served, one at a time
    serve_all(d, established, 'queued')
    wait_quiet(d, ['q'])
    l = by_name(d.stats())['q']
    check_queue_sample(l, cap, 'q, drained')
    check_eq(l['accept_queue_per_socket'], [0] * n, 'accept queues of q, drained')
    check(l['accepted'] - accepted >= len(established),
          'q accepted %d more, fewer than the %d served' %
          (l['accepted'] - accepted, len(established)))


# ---------------------------------------------------------------------------
# The accept queue of a unix listener

def accept_queue_unix(d):
    l = by_name(d.stats())['ux']
    check(l['syn_recv'] is None, 'syn_recv of a unix listener must be null, not %r' %
          l['syn_recv'])
    check_eq(l['backlog_effective'], BACKLOG, 'backlog_effective of ux')
    cap = BACKLOG + 1
    sockets = len(l['accept_queue_per_socket'])
    check(sockets >= 1, 'ux: no accept queue read: %r' % l)
    check_queue_sample(l, cap, 'ux, idle')
    check_eq(l['accept_queue'], 0, 'accept_queue of ux, idle')

    path = d.addr('ux')
    mark = d.log_count()
    first = echo_check(path, b'the only slot\n')
    d.wait_log(r'max_clients 1 reached, accepting paused', start=mark)

    # connect until the kernel refuses: a full unix queue fails a
    # non-blocking connect with EAGAIN
    clients, refused = [], 0
    for _ in range(4 * cap * sockets):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.setblocking(False)
        try:
            s.connect(path)
        except BlockingIOError:
            s.close()
            refused += 1
            if refused == 3:
                break
            continue
        except OSError as e:
            s.close()
            fail('unix connect to %s: %s' % (path, e))
        check_eq(refused, 0, 'a unix connect succeeded after one was refused')
        clients.append(s)
        check_queue_sample(by_name(d.stats())['ux'], cap, 'ux, filling')
    check_eq(refused, 3, 'unix connects refused once the queue was full')
    l = by_name(d.stats())['ux']
    note('ux: %d connects queued before EAGAIN; accept_queue %d of %d' %
         (len(clients), l['accept_queue'], l['accept_queue_limit']))
    check_queue_sample(l, cap, 'ux, full')
    check_eq(l['accept_queue'], cap * sockets, 'accept_queue of ux, full')
    check(len(clients) >= cap * sockets, 'only %d unix connects succeeded' % len(clients))
    check(l['syn_recv'] is None, 'syn_recv of ux, full: %r' % l['syn_recv'])
    m = prom(d)
    check_eq(m.get(lkey('synackd_listener_accept_queue', 'ux')), float(cap * sockets),
             'synackd_listener_accept_queue of ux')
    check_eq(m.get(lkey('synackd_listener_accept_queue_limit', 'ux')), float(cap * sockets),
             'synackd_listener_accept_queue_limit of ux')
    check(lkey('synackd_listener_syn_recv', 'ux') not in m,
          'a unix listener has no synackd_listener_syn_recv sample')

    abort(first)
    serve_all(d, clients, 'unix')
    wait_quiet(d, ['ux'])


def run():
    enter_netns()
    find_nft(NFT_TABLE)
    have6 = have_ipv6_loopback()
    if not have6:
        note('no IPv6 loopback in the namespace: the dual-stack listener is left out')
    conf = {'server': server_section(max_clients=1, metrics='127.0.0.1:0'),
            'listener q': listener('echo', backlog=BACKLOG),
            'listener ux': listener('echo', address='unix:@TMPDIR@/ux.sock', backlog=BACKLOG),
            'listener syn': listener('echo', port=SYN_PORT, backlog=64),
            'listener twin': listener('echo', address='127.0.0.2', port=SYN_PORT),
            'listener other': listener('echo')}
    if have6:
        conf['listener dual'] = listener('echo', address='*', port=DUAL_PORT, backlog=64)
    with Daemon(conf) as d:
        st = d.stats()
        h = st['host']
        check(h is not None, '/stats has no host counters')
        # a new namespace: its counters start at 0, its sysctls are its own
        for k in ('listen_overflows', 'listen_drops', 'syncookies_sent', 'req_q_full_drop'):
            check_eq(h[k], 0, 'host.%s in a new network namespace' % k)
        check_eq(h['somaxconn'], sysctl('/proc/sys/net/core/somaxconn'), 'host.somaxconn')
        check_eq(h['tcp_max_syn_backlog'], sysctl('/proc/sys/net/ipv4/tcp_max_syn_backlog'),
                 'host.tcp_max_syn_backlog')
        check_eq(h['tcp_syncookies'], sysctl('/proc/sys/net/ipv4/tcp_syncookies'),
                 'host.tcp_syncookies')
        check(h['somaxconn'] > BACKLOG, 'somaxconn %d caps the backlog' % h['somaxconn'])

        syn_queue(d, have6)
        accept_queue_tcp(d)
        accept_queue_unix(d)


main(run, timeout=60)

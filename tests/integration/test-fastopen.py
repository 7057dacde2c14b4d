#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# fastopen: TCP Fast Open on a TCP listener (fastopen = N sets TCP_FASTOPEN),
# the clients whose SYN carried data (syn_data, TCPI_OPT_SYN_DATA at
# accept), the kernel's TcpExt counters, and the warning when the host does
# not serve Fast Open.
#
# In a network namespace of the test's own: net.ipv4.tcp_fastopen is per
# namespace, its TcpExt counters start at 0, and the clients' Fast Open
# cookies (kept per destination in the namespace) are the test's alone.
# The clients use TCP_FASTOPEN_CONNECT: connect() returns at once and the
# first send goes in the SYN when a cookie is known, else the SYN asks for
# one and the data follows the handshake.
#  1. tcp_fastopen = 3, fastopen = 16: TCP_FASTOPEN reads back 16 on every
#     listening socket (taken from the daemon with pidfd_getfd); of CLIENTS
#     connections the first gets the cookie and the others carry their
#     request in the SYN: syn_data counts exactly those, as the clients'
#     own TCP_INFO and TcpExt TCPFastOpenPassive do; each echo is byte for
#     byte; no warning; their accept waits are counted like any other.
#  2. a reload to fastopen = 0 sets 0 on the running sockets: the clients
#     (with a cookie) fall back to a plain handshake, syn_data stays; a
#     reload back to 16 serves Fast Open again.
#  3. fastopen = 0 from the start sets nothing: reads back 0, syn_data 0.
#  4. tcp_fastopen = 1 (clients only): synackd warns at start and at each
#     reload, naming the sysctl to set; the clients fall back without an
#     error, syn_data 0, echoes right.
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import promtext  # noqa: E402
from netns import enter_netns, sysctl_set  # noqa: E402
from synacktest import (Daemon, check, check_eq, http_get, listener,  # noqa: E402
                        listening_sockopt, main, recv_exact, server_section, wait_for)

TCP_FASTOPEN = 23
TCP_FASTOPEN_CONNECT = 30
TCP_INFO = 11
TCPI_OPT_SYN_DATA = 32
CLIENTS = 5
WAIT = 10.0
WARN_RE = (r'warn: listener echo: fastopen = 16, but net\.ipv4\.tcp_fastopen = 1 does '
           r'not serve TCP Fast Open .*sysctl -w net\.ipv4\.tcp_fastopen=3$')

def conf(fastopen):
    return {'server': server_section(log_level='debug', metrics='127.0.0.1:0'),
            'listener echo': listener('echo', fastopen=fastopen)}


def reload(d, fastopen):
    d.reload(conf(fastopen), timeout=WAIT)


def listening_fastopen(d):
    """TCP_FASTOPEN of each of the daemon's listening sockets on the echo port."""
    return listening_sockopt(d, d.port('echo'), socket.IPPROTO_TCP, TCP_FASTOPEN)


def tfo_echo(addr, i):
    """One Fast Open client: its request, echoed byte for byte; whether its
    SYN carried the request (the client's TCP_INFO)."""
    payload = b'fast open request %d: \x00\xff\r\n' % i
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.setsockopt(socket.IPPROTO_TCP, TCP_FASTOPEN_CONNECT, 1)
        s.settimeout(5.0)
        s.connect(addr)
        s.sendall(payload)
        check_eq(recv_exact(s, len(payload)), payload, 'echo of client %d' % i)
        info = s.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 8)
        return bool(info[5] & TCPI_OPT_SYN_DATA)  # tcpi_options
    finally:
        s.close()


def run_clients(d, n):
    """n clients one after the other, each accepted before the next: the
    list of which carried data in the SYN."""
    before = d.listener_stats('echo')['accepted']
    carried = []
    for i in range(n):
        carried.append(tfo_echo(d.addr('echo'), i))
        wait_for(lambda: d.listener_stats('echo')['accepted'] >= before + i + 1, WAIT,
                 what='client %d accepted' % i)
    return carried


def netstat(name):
    with open('/proc/net/netstat') as f:
        lines = f.read().splitlines()
    for names, values in zip(lines[::2], lines[1::2]):
        if names.startswith('TcpExt:'):
            return int(dict(zip(names.split()[1:], values.split()[1:]))[name])
    raise KeyError(name)


def scrape(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics', headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET /metrics')
    return promtext.parse(body)


def fastopen_warnings(d):
    return d.find_all_log(WARN_RE)


def run():
    enter_netns()
    sysctl_set('net.ipv4.tcp_fastopen', 3)

    # 1. served: the first client gets the cookie, the others send in the SYN
    with Daemon(conf(16)) as d:
        check(all(v == 16 for v in listening_fastopen(d)),
              'TCP_FASTOPEN on the listening sockets: %r' % listening_fastopen(d))
        carried = run_clients(d, CLIENTS)
        check_eq(carried, [False] + [True] * (CLIENTS - 1),
                 'the clients whose SYN carried data (their own TCP_INFO)')
        st = d.stats()
        echo = [l for l in st['listeners'] if l['name'] == 'echo'][0]
        check_eq(echo['syn_data'], CLIENTS - 1, '/stats syn_data')
        check_eq(netstat('TCPFastOpenPassive'), CLIENTS - 1, 'TcpExt TCPFastOpenPassive')
        check_eq(st['host']['fastopen_passive'], CLIENTS - 1, '/stats host fastopen_passive')
        check_eq(st['host']['tcp_fastopen'], 3, '/stats host tcp_fastopen')
        check(st['host']['fastopen_cookie_reqd'] >= 1,
              '/stats host fastopen_cookie_reqd: %r' % st['host'])
        m = scrape(d)
        check_eq(m.value('synackd_listener_syn_data_total', listener='echo', service='echo'),
                 CLIENTS - 1, 'synackd_listener_syn_data_total')
        check_eq(m.value('synackd_host_tcp_fastopen_passive_total'), CLIENTS - 1,
                 'synackd_host_tcp_fastopen_passive_total')
        check_eq(fastopen_warnings(d), [], 'a Fast Open warning with the server bit on')
        # a Fast Open client is accepted before its handshake ends: its wait
        # counts from its SYN, and is as short as any other's
        aw = echo['accept_wait']
        check(aw['count'] == CLIENTS and aw['buckets_ms']['+Inf'] == 0,
              'the Fast Open clients\' accept waits: %r' % aw)

        # 2. reloaded off, then on again: applied to the running sockets
        reload(d, 0)
        wait_for(lambda: all(v == 0 for v in listening_fastopen(d)), WAIT,
                 what='TCP_FASTOPEN 0 on every listening socket after the reload')
        carried = run_clients(d, 2)
        check_eq(carried, [False, False], 'SYN data with fastopen reloaded to 0')
        check_eq(d.listener_stats('echo')['syn_data'], CLIENTS - 1,
                 'syn_data with fastopen reloaded to 0')
        reload(d, 16)
        wait_for(lambda: all(v == 16 for v in listening_fastopen(d)), WAIT,
                 what='TCP_FASTOPEN 16 on every listening socket after the reload')
        check_eq(run_clients(d, 1), [True], 'SYN data with fastopen reloaded to 16')
        check_eq(d.listener_stats('echo')['syn_data'], CLIENTS, 'syn_data reloaded to 16')

    # 3. fastopen = 0: nothing set, nothing served (the clients have a cookie)
    passive = netstat('TCPFastOpenPassive')
    with Daemon(conf(0)) as d:
        check(all(v == 0 for v in listening_fastopen(d)),
              'TCP_FASTOPEN with fastopen = 0: %r' % listening_fastopen(d))
        check_eq(run_clients(d, 2), [False, False], 'SYN data with fastopen = 0')
        check_eq(d.listener_stats('echo')['syn_data'], 0, 'syn_data with fastopen = 0')
        check_eq(netstat('TCPFastOpenPassive'), passive, 'TCPFastOpenPassive, fastopen = 0')
        check_eq(fastopen_warnings(d), [], 'a Fast Open warning with fastopen = 0')

    # 4. the host serves no Fast Open: warned at start and reload; plain handshakes
    sysctl_set('net.ipv4.tcp_fastopen', 1)
    with Daemon(conf(16)) as d:
        d.wait_log(WARN_RE, WAIT)
        check_eq(len(fastopen_warnings(d)), 1, 'Fast Open warnings at start')
        check_eq(run_clients(d, 3), [False] * 3, 'SYN data without the server bit')
        check_eq(d.listener_stats('echo')['syn_data'], 0, 'syn_data without the server bit')
        start = d.log_count()
        reload(d, 16)
        d.wait_log(WARN_RE, WAIT, start=start)
        check_eq(len(fastopen_warnings(d)), 2, 'Fast Open warnings after a reload')
        check(not [l for l in d.messages('warn') if not re.search(WARN_RE, 'warn: ' + l)],
              'other warnings: %r' % d.messages('warn'))


main(run, timeout=90)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --bind: a range of source addresses is used round-robin, which the server
# sees (synackd's debug log names each client's address); the port is
# still the kernel's choice. A source address that is not local fails
# every connection with addrnotavail; --bind with a unix target, or with
# the wrong address family, is a usage error. udp-rr and udp-stream over
# two sources: a UDP server of the test's own sees datagrams from both.
import collections
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import (UdpServer, check_clean, check_report, echo_daemon, run_load,  # noqa: E402
                      target_of)
from synacktest import check, check_eq, main  # noqa: E402


def run():
    with echo_daemon(log_level='debug') as d:
        target = target_of(d)
        r = run_load(['-b', '127.0.0.1-127.0.0.4', '-c', '8', '-d', '0.5', target])
        check_clean(r, 'rr', target)
        seen = collections.Counter(m.group(1) for m in
                                   d.find_all_log(r'client (\S+):\d+ connected to echo'))
        check_eq(dict(seen), {'127.0.0.%d' % i: 2 for i in range(1, 5)},
                 'source addresses the server saw (8 connections over 4 addresses)')

        # crr spreads every new connection too
        mark = d.log_count()
        r = run_load(['-m', 'crr', '-b', '127.0.0.2,127.0.0.3', '-c', '1', '-d', '0.3', target])
        check_clean(r, 'crr', target)
        lines = d.log_lines()[mark:]
        addrs = collections.Counter(l.split('client ')[1].split(':')[0]
                                    for l in lines if ' connected to echo' in l)
        check(set(addrs) == {'127.0.0.2', '127.0.0.3'} and
              abs(addrs['127.0.0.2'] - addrs['127.0.0.3']) <= 1,
              'crr alternates the two source addresses: %r' % dict(addrs))

        # 192.0.2.1 (TEST-NET-1) is not an address of this host
        r = run_load(['-b', '192.0.2.1', '-c', '3', '-d', '1', target])
        check_eq(r.rc, 3, 'exit code\n' + r.describe())
        rep = check_report(r, 'rr', target)
        check_eq(rep['errors']['addrnotavail'], 3, 'addrnotavail')
        check_eq(rep['connections']['established'], 0, 'established')

        # UDP: each socket is bound to its source before connect()
        s = UdpServer(lambda d, n: [d])
        for mode in ('udp-rr', 'udp-stream'):
            s.peers.clear()
            r = run_load(['-m', mode, '-b', '127.0.0.1,127.0.0.2', '-c', '4', '-R', '400',
                          '-d', '0.5', s.target])
            check_eq(r.rc, 0, '%s --bind: exit code\n%s' % (mode, r.describe()))
            rep = check_report(r, mode, s.target)
            check_eq(rep['datagrams']['lost'], 0, '%s --bind: lost' % mode)
            peers = dict(s.peers)
            check(set(peers) == {'127.0.0.1', '127.0.0.2'} and
                  min(peers.values()) >= 0.4 * sum(peers.values()),
                  '%s --bind: the server saw both sources, about as often: %r' % (mode, peers))
        s.close()

        for bad in (['-b', '127.0.0.1', 'unix:/tmp/x'], ['-b', '::1', target],
                    ['-b', '127.0.0.9-127.0.0.1', target], ['-b', 'nonsense', target]):
            r = run_load(bad, want_json=False)
            check_eq(r.rc, 2, 'exit code of synack-load %s\n%s' % (' '.join(bad), r.describe()))
            check(r.err.startswith('synack-load: --bind'),
                  'the message names --bind: %r' % r.err)


main(run, timeout=60)

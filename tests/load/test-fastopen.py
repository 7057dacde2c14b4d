#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# --fastopen: TCP_FASTOPEN_CONNECT on the client's sockets.
#
# In a network namespace of its own with net.ipv4.tcp_fastopen = 3 (client
# and server), against echo servers of the test's own (synackd sets no
# TCP_FASTOPEN on its listeners here):
# - a server without TCP_FASTOPEN: crr --fastopen runs without an error,
#   every echo verified, and no request went in a SYN ("syn_data" 0);
# - one with TCP_FASTOPEN on its listening socket: the first connection
#   gets the cookie and every later one carries its request in the SYN
#   ("syn_data" is the handshakes but one), every echo verified;
# - with the cookie cached, rr and hold send their first request in the
#   SYN too (hold's opening echo, then its last one);
# - with the cookie cached, to a server without Fast Open at that address:
#   the SYNs carry data it does not take, the kernel sends the data again
#   after the handshake, and that is no SYN retransmission;
# - the summary says how many connections sent their request in the SYN.
import json
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import Server, check_clean, echo_serve, run_load  # noqa: E402
from netns import enter_netns, sysctl_set  # noqa: E402
from synacktest import check, check_eq, main, make_tempdir  # noqa: E402

TFO_QUEUE = 16


def handshakes(rep):
    """The connections whose handshake was read: those that got an answer."""
    return sum(rep['syn_retrans'].values())


def fastopen_run(mode, target, duration):
    r = run_load(['-m', mode, '-c', '1', '-d', duration, '-q', '--fastopen', target])
    rep = check_clean(r, mode, target)
    check_eq(rep['bytes_received'], rep['requests'] * 64, 'every echo verified')
    check_eq(rep['options'].get('fastopen'), True, 'options.fastopen')
    return r, rep


def run():
    enter_netns()
    sysctl_set('net.ipv4.tcp_fastopen', 3)

    plain = Server(echo_serve)
    try:
        r, rep = fastopen_run('crr', plain.target, '0.5')
        check(rep['requests'] >= 10, 'crr ran: %d requests' % rep['requests'])
        check_eq(rep['syn_data'], 0, 'no data in a SYN to a server without Fast Open\n'
                 + r.describe())
    finally:
        plain.close()

    tfo = Server(echo_serve)
    try:
        tfo.lst.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, TFO_QUEUE)
        r, rep = fastopen_run('crr', tfo.target, '1')
        n = handshakes(rep)
        check(n >= 10, 'crr ran: %d handshakes' % n)
        check_eq(rep['syn_data'], n - 1,
                 'every connection but the first sent its request in the SYN\n'
                 + r.describe())
        path = os.path.join(make_tempdir(), 'tfo.json')
        with open(path, 'w') as f:
            f.write(r.out)
        m = run_load(['merge', path], want_json=False)
        check_eq(m.rc, 0, 'merge\n' + m.describe())
        line = 'fastopen     %d of %d connections sent their first request in the SYN' % (
            n - 1, n)
        check(line in m.out, 'the summary says so:\n' + m.out)
        m = run_load(['merge', '--json', path, path], want_json=False)
        check_eq(json.loads(m.out)['syn_data'], 2 * (n - 1), 'merge sums syn_data')

        r, rep = fastopen_run('rr', tfo.target, '0.5')
        check_eq(rep['syn_data'], 1, 'rr: the first request in the SYN\n' + r.describe())
        r, rep = fastopen_run('hold', tfo.target, '0.5')
        check_eq(rep['syn_data'], 1, 'hold: its opening echo in the SYN\n' + r.describe())
        check_eq(rep['requests'], 2, 'hold: the opening and the last echo')
    finally:
        tfo.close()

    # the cookie is cached for the address: the SYNs to a server without
    # Fast Open there carry data it does not take, and the kernel sends it
    # again after the handshake; that is no SYN retransmission
    plain = Server(echo_serve)
    try:
        r, rep = fastopen_run('crr', plain.target, '0.5')
        n = handshakes(rep)
        check(n >= 10, 'crr ran: %d handshakes' % n)
        check_eq(rep['syn_data'], 0, 'the server took no data from a SYN\n' + r.describe())
        check_eq(rep['syn_retrans']['0'], n, 'no SYN was retransmitted\n' + r.describe())
    finally:
        plain.close()


main(run, timeout=60)

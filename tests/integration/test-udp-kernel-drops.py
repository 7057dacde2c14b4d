#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The kernel's drops on a UDP listener's socket, visible in /metrics: the
# daemon is stopped (SIGSTOP), a client sends three times what its
# receive buffer holds, the daemon continues (SIGCONT) and answers what
# was queued.  The kernel's count (SO_RXQ_OVFL) rides on the next datagram
# read, so one more is sent once the queue is answered; then every
# datagram sent is either answered or a kernel drop, and some were
# dropped.  A reload that gives the listener a successor on the very same
# sockets (a new max_datagram) counts from there: its first datagram does
# not bring the socket's old drops again (before, its kernel drops were
# those the old listener had counted).
import os
import signal
import socket
import sys

sys.dont_write_bytecode = True
_lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
sys.path.insert(0, _lib)
import promtext  # noqa: E402
from synacktest import (Daemon, check, check_eq, fail, http_get, listener,  # noqa: E402
                        main, note, server_section, wait_for)

PAYLOAD = 1000
WAIT = 10.0


def scrape(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics', headers={'Connection': 'close'})
    check_eq(status, 200, 'GET /metrics')
    return promtext.parse(body)


def value(m, family):
    return m.value('synackd_listener_' + family, listener='echo', service='echo')


def run():
    conf = {'server': server_section(metrics='127.0.0.1:0'),
            'listener echo': listener('echo', transport='udp', max_datagram=PAYLOAD)}
    with Daemon(conf) as d:
        rcvbuf = value(scrape(d), 'datagram_receive_buffer_bytes')
        # each datagram takes more than its payload in the queue: this is
        # at least three times what fits
        n = 3 * int(rcvbuf) // PAYLOAD
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.bind(('127.0.0.1', 0))
        c.setblocking(False)
        d.send_signal(signal.SIGSTOP)
        try:
            for i in range(n):
                c.sendto(i.to_bytes(4, 'big') * (PAYLOAD // 4), d.addr('echo'))
        finally:
            d.send_signal(signal.SIGCONT)

        def settled():
            m = scrape(d)
            return value(m, 'datagrams_sent_total') > 0 and \
                value(m, 'datagram_receive_queue_bytes') == 0
        check(wait_for(settled, WAIT), 'the queued datagrams answered within %.0f s' % WAIT)
        # the count of drops comes with the next datagram the socket reads
        c.sendto(b'and one more', d.addr('echo'))
        last = {}

        def balanced():
            m = scrape(d)
            last.update(sent=value(m, 'datagrams_sent_total'),
                        received=value(m, 'datagrams_received_total'),
                        drops=value(m, 'datagram_kernel_drops_total'))
            return last['sent'] + last['drops'] == n + 1
        if not wait_for(balanced, WAIT):
            fail('answered + kernel drops != %d sent: %r' % (n + 1, last))
        check(last['drops'] > 0, 'kernel drops > 0 (%r)' % last)
        check_eq(last['received'], last['sent'], 'every datagram read was answered')
        note('%d sent while stopped (receive buffer %d bytes): %d answered, %d dropped by '
             'the kernel' % (n, rcvbuf, last['sent'] - 1, last['drops']))

        conf['listener echo'] = listener('echo', transport='udp', max_datagram=PAYLOAD + 1)
        mark = d.reload(conf)
        d.wait_log(r'listener echo: changed by reload \(its sockets go to the new '
                   r'configuration\)', start=mark)
        c.close()
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)  # none of the old answers
        c.settimeout(5)
        c.sendto(b'after the reload', d.addr('echo'))
        check_eq(c.recv(100), b'after the reload', 'the echo after the reload')
        m = scrape(d)
        check_eq(value(m, 'datagrams_sent_total'), 1, "the successor's datagrams answered")
        check_eq(value(m, 'datagram_kernel_drops_total'), 0,
                 "the successor's kernel drops (the socket had %d before it)" % last['drops'])
        c.close()


if __name__ == '__main__':
    main(run, timeout=60)

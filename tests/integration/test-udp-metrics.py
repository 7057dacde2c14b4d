#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A UDP listener in /metrics and /stats, counted exactly on both sides:
#  1. at start: promtool is content, every datagram counter is 0, the
#     receive buffer is known (> 0) and the queue empty; a UDP listener has
#     none of the TCP families (connections, accept wait) and a TCP one none
#     of the datagram families.
#  2. echo: N datagrams sent, N received, N answered (the bytes exact both
#     ways); M over max_datagram counted as truncated (each counts the
#     max_datagram + 1 bytes read); K from port 19 as bad_source; one from
#     the port of another of synackd's UDP listeners as own_port.
#  3. chargen, a burst from one source: rate_limited is what was sent minus
#     what was answered, and the client got exactly `sent` answers.
#  4. /stats says what /metrics says, per reason; promtool still content.
import json
import os
import shutil
import socket
import sys

sys.dont_write_bytecode = True
_lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
sys.path.insert(0, _lib)
import promtext  # noqa: E402
from synacktest import (Command, Daemon, check, check_eq, expect_silence, fail,  # noqa: E402
                        http_get, listener, loopback_address, main, note, server_section,
                        wait_counters, wait_for)

REASONS = ('bad_source', 'own_port', 'rate_limited', 'truncated', 'send_error')
MAX_DATAGRAM = 100
WAIT = 10.0


def get(d, path):
    status, _, body = http_get(d.metrics_addr(), path, headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET %s' % path)
    return body


def scrape(d):
    body = get(d, '/metrics')
    try:
        return promtext.parse(body)
    except promtext.PromTextError as e:
        fail('/metrics is not valid text format 0.0.4: %s\n%s' % (e, body.decode()))


def promtool_check(d):
    exe = shutil.which('promtool')
    if exe is None:
        note('promtool is not installed: `promtool check metrics` skipped')
        return
    text = get(d, '/metrics')
    r = Command([exe, 'check', 'metrics'], stdin=text).finish(30)
    if r.rc != 0:
        fail('promtool check metrics: exit %d\n%s%s\n%s' % (r.rc, r.out, r.err, text.decode()))


def counts(d, name, m=None):
    """A UDP listener's datagram series from one scrape, as /stats names them."""
    m = m or scrape(d)
    labels = {'listener': name, 'service': d.listeners[name]['service']}

    def v(family, **kw):
        return m.value('synackd_listener_' + family, **labels, **kw)
    c = {'received': v('datagrams_received_total'),
         'sent': v('datagrams_sent_total'),
         'bytes_received': v('datagram_received_bytes_total'),
         'bytes_sent': v('datagram_sent_bytes_total'),
         'kernel_drops': v('datagram_kernel_drops_total')}
    for r in REASONS:
        c['dropped.' + r] = v('datagrams_dropped_total', reason=r)
    return c


def wait_counts(d, name, want, what):
    """Wait until every counter of listener `name` named in `want` has
    exactly the value given there, and all the others are 0."""
    wait_counters(lambda: counts(d, name), want, WAIT, '%s: listener %s' % (what, name))


def udp(bind=('127.0.0.1', 0)):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.bind(bind)
    return s


def check_start(d):
    m = scrape(d)
    for name in ('echo', 'gen'):
        labels = {'listener': name, 'service': d.listeners[name]['service']}
        check(all(v == 0 for v in counts(d, name, m).values()),
              '%s: every datagram counter is 0 at start: %r' % (name, counts(d, name, m)))
        buf = m.value('synackd_listener_datagram_receive_buffer_bytes', **labels)
        check(buf > 0, '%s: receive buffer %r > 0 (SO_RCVBUF)' % (name, buf))
        check_eq(m.value('synackd_listener_datagram_receive_queue_bytes', **labels), 0,
                 '%s: receive queue at start' % name)
        for family in ('connections_accepted_total', 'connections_active', 'backlog',
                       'received_bytes_total', 'accept_wait_seconds_count'):
            check(m.get('synackd_listener_' + family, **labels) is None,
                  '%s: no %s for a UDP listener' % (name, family))
    tcp = {'listener': 'tcp', 'service': 'echo'}
    check_eq(m.get('synackd_listener_connections_accepted_total', **tcp), 0,
             'the TCP listener keeps its families')
    check(m.get('synackd_listener_datagrams_received_total', **tcp) is None,
          'no datagram family for a TCP listener')


def echo_traffic(d):
    s = udp()
    sizes = [0, 1, 50, MAX_DATAGRAM] + list(range(2, 34, 2))
    for i, n in enumerate(sizes):
        payload = bytes([i]) * n
        s.sendto(payload, d.addr('echo'))
        data, _ = s.recvfrom(65536)
        check_eq(data, payload, 'echo of %d bytes' % n)
    # over max_datagram: read as max_datagram + 1 bytes, dropped
    big = [MAX_DATAGRAM + 1, 150, 1400]
    for n in big:
        s.sendto(b'x' * n, d.addr('echo'))
    expect_silence(s, 0.3)
    # from chargen's port: never answered
    # port 19 of an address of its own: tests running beside may bind 19 too
    bad = udp((loopback_address(), 19))
    for _ in range(2):
        bad.sendto(b'loop', d.addr('echo'))
    expect_silence(bad, 0.3)
    bad.close()
    # from the port of listener gen (bound to 127.0.0.1: free on 127.0.0.2)
    own = udp(('127.0.0.2', d.port('gen')))
    own.sendto(b'own', d.addr('echo'))
    expect_silence(own, 0.3)
    own.close()
    s.close()
    n = len(sizes)
    wait_counts(d, 'echo', {
        'received': n + len(big) + 3, 'sent': n,
        'bytes_received': sum(sizes) + len(big) * (MAX_DATAGRAM + 1) + 2 * 4 + 3,
        'bytes_sent': sum(sizes),
        'dropped.truncated': len(big), 'dropped.bad_source': 2, 'dropped.own_port': 1},
        'echo')


def chargen_burst(d):
    s = udp()
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sent = 60
    for i in range(sent):
        s.sendto(b'%d' % i, d.addr('gen'))
    got, nbytes = 0, 0
    s.settimeout(0.5)
    try:
        while True:
            data, _ = s.recvfrom(65536)
            got += 1
            nbytes += len(data)
    except socket.timeout:
        pass
    s.close()
    check(5 <= got < sent, 'chargen: %d of %d answered with udp_rate = 5' % (got, sent))
    wait_counts(d, 'gen', {
        'received': sent, 'sent': got, 'dropped.rate_limited': sent - got,
        'bytes_received': sum(len(b'%d' % i) for i in range(sent)), 'bytes_sent': nbytes},
        'chargen')


def compare_stats(d):
    m = scrape(d)
    body = json.loads(get(d, '/stats'))
    by_name = {l['name']: l for l in body['listeners']}
    check_eq(by_name['tcp']['transport'], 'tcp', '/stats transport of tcp')
    check(by_name['tcp']['datagrams'] is None, '/stats: datagrams null for TCP')
    for name in ('echo', 'gen'):
        j = by_name[name]
        check_eq(j['transport'], 'udp', '/stats transport of %s' % name)
        g = j['datagrams']
        c = counts(d, name, m)
        for k in ('received', 'sent', 'bytes_received', 'bytes_sent', 'kernel_drops'):
            check_eq(g[k], c[k], '/stats %s datagrams.%s' % (name, k))
        for r in REASONS:
            check_eq(g['dropped'][r], c['dropped.' + r], '/stats %s dropped.%s' % (name, r))
        check_eq(g['dropped_total'], sum(c['dropped.' + r] for r in REASONS),
                 '/stats %s dropped_total' % name)
        check(g['receive_buffer_bytes'] > 0, '/stats %s receive_buffer_bytes' % name)
        check_eq(g['receive_queue_bytes'], 0, '/stats %s receive_queue_bytes, idle' % name)
        check(j['accept_wait'] is None and j['backlog'] is None,
              '/stats %s: no accept wait, no backlog' % name)


def run():
    conf = {'server': server_section(metrics='127.0.0.1:0'),
            'listener echo': listener('echo', transport='udp', max_datagram=MAX_DATAGRAM),
            'listener gen': listener('chargen', transport='udp', udp_rate=5),
            'listener tcp': listener('echo')}
    with Daemon(conf) as d:
        promtool_check(d)
        check_start(d)
        echo_traffic(d)
        chargen_burst(d)
        compare_stats(d)
        promtool_check(d)


if __name__ == '__main__':
    main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The status page with UDP listeners, in headless chromium: a TCP listener
# stays in the listener table, the UDP ones (echo, chargen) get rows of
# their own in the UDP table with what /stats says of their datagrams
# (received, answered, dropped with the reasons in its title, kernel
# drops, receive queue of buffer, bytes), and charts whose bands are
# datagrams per second, the receive queue and drops per second.  Echo
# traffic with datagrams over max_datagram shows up in the table (the
# dropped cell marked) and in the chart (a rate and drops above 0); the
# page's rule for the receive queue's highlight is checked on made-up
# figures; no CSP violation, no console error.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, fail, listener, main,  # noqa: E402
                        make_tempdir, note, server_section, wait_for)
from browser import Browser  # noqa: E402

MAX_DATAGRAM = 100
BANDS = ('rate', 'queue', 'drops')

READ_PAGE = r'''
var out = {tcp: [], udp: {}, udp_hidden: document.getElementById('udp').hidden, charts: {}};
document.querySelectorAll('#listeners tbody tr').forEach(function (tr) {
	out.tcp.push(tr.dataset.listener);
});
document.querySelectorAll('#datagrams tbody tr').forEach(function (tr) {
	var r = {classes: Array.from(tr.classList), cells: {}, titles: {}};
	tr.querySelectorAll('td').forEach(function (td) {
		td.classList.forEach(function (c) { r.cells[c] = td.textContent; r.titles[c] = td.title; });
	});
	out.udp[tr.dataset.listener] = r;
});
document.querySelectorAll('#charts figure').forEach(function (f) {
	var c = {lines: {}, legend: {}};
	f.querySelectorAll('path[data-line]').forEach(function (p) {
		c.lines[p.dataset.line] = {now: p.dataset.now, max: p.dataset.max,
		    points: Number(p.dataset.points)};
	});
	f.querySelectorAll('li[data-line]').forEach(function (li) {
		c.legend[li.dataset.line] = li.textContent;
	});
	out.charts[f.dataset.listener] = c;
});
var e = document.getElementById('error');
out.error = e && !e.hidden ? e.textContent : null;
return out;
'''


def fmt_bytes(n):
    units = ['B', 'KiB', 'MiB', 'GiB', 'TiB']
    i = 0
    while n >= 1024 and i < len(units) - 1:
        n /= 1024
        i += 1
    return ('%d' % n if i == 0 else '%.1f' % n) + ' ' + units[i]


def udp_state(stats):
    return {l['name']: l['datagrams'] for l in stats['listeners'] if l['transport'] == 'udp'}


def shows(page, stats):
    """The UDP table shows what /stats says, and the TCP table the rest."""
    if page['tcp'] != [l['name'] for l in stats['listeners'] if l['transport'] == 'tcp']:
        return False
    want = udp_state(stats)
    if sorted(page['udp']) != sorted(want):
        return False
    for name, g in want.items():
        c = page['udp'][name]['cells']
        queue = '-' if g['receive_queue_bytes'] is None else '%s / %s' % (
            fmt_bytes(g['receive_queue_bytes']), fmt_bytes(g['receive_buffer_bytes']))
        if (c.get('received'), c.get('sent'), c.get('dropped'), c.get('kdrops'),
                c.get('in'), c.get('out')) != (
                str(g['received']), str(g['sent']), str(g['dropped_total']),
                str(g['kernel_drops']), fmt_bytes(g['bytes_received']),
                fmt_bytes(g['bytes_sent'])) or not (c.get('recv') or '').startswith(queue):
            return False
    return True


def agreed(d, b, want=None, what='the page to show what /stats says'):
    last = {}

    def attempt():
        s1 = d.stats()
        page = b.js(READ_PAGE)
        s2 = d.stats()
        last.update(page=page, stats=s2)
        if page['error'] is not None:
            fail('the page shows an error while the daemon runs: %r' % page['error'])
        if udp_state(s1) != udp_state(s2) or (want and not want(s2)) or not shows(page, s2):
            return None
        return page, s2
    got = wait_for(attempt, 10, interval=0.1)
    if not got:
        fail('timed out waiting for %s\npage: %r\n/stats: %r' %
             (what, last.get('page'), udp_state(last.get('stats', {'listeners': []}))))
    return got


def check_chart(page, name):
    c = page['charts'].get(name)
    check(c is not None, 'no chart for UDP listener %s: %r' % (name, sorted(page['charts'])))
    for key in BANDS:
        check(key in c['lines'] and key in c['legend'],
              'chart of %s: no line or legend %s: %r' % (name, key, c))
    check('buffer' in c['legend']['queue'],
          'the queue legend of %s names no buffer: %r' % (name, c['legend']['queue']))
    return c


def run():
    conf = {'server': server_section(metrics='127.0.0.1:0'),
            'listener tcp': listener('echo'),
            'listener echo': listener('echo', transport='udp', max_datagram=MAX_DATAGRAM),
            'listener gen': listener('chargen', transport='udp')}
    with Daemon(conf) as d:
        maddr = d.metrics_addr()
        with Browser(make_tempdir()) as b:
            b.get('http://%s:%d/' % maddr)
            b.js('window.synackCsp = []; document.addEventListener("securitypolicyviolation", '
                 'function (e) { window.synackCsp.push(e.violatedDirective); });')
            page, st = agreed(d, b, what='the first tables')
            check(not page['udp_hidden'], 'the UDP table is hidden with UDP listeners')
            check_eq(page['tcp'], ['tcp'], 'the listener table holds the TCP listener only')
            for name in ('echo', 'gen'):
                check_chart(page, name)
                check_eq([c for c in page['udp'][name]['classes'] if c in ('warn', 'full')],
                         [], 'highlight of %s, idle' % name)

            # echo traffic, three datagrams over max_datagram among it
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(5)
            for i in range(20):
                s.sendto(b'%d' % i, d.addr('echo'))
                s.recvfrom(100)
            for _ in range(3):
                s.sendto(b'x' * (MAX_DATAGRAM + 1), d.addr('echo'))
            s.close()
            page, st = agreed(d, b, lambda s: udp_state(s)['echo']['received'] == 23,
                              what='the page to show the echo traffic')
            row = page['udp']['echo']
            check_eq((row['cells']['received'], row['cells']['sent'], row['cells']['dropped']),
                     ('23', '20', '3'), 'echo row: in, answered, dropped')
            check('truncated 3' in row['titles']['dropped'],
                  'the dropped cell names the reason: %r' % row['titles']['dropped'])
            check_eq(row['cells'].get('bad'), '3', 'the dropped cell is marked')

            def charted():
                c = check_chart(b.js(READ_PAGE), 'echo')
                return c if float(c['lines']['rate']['max'] or 0) > 0 and \
                    float(c['lines']['drops']['max'] or 0) > 0 else None
            c = wait_for(charted, 10, interval=0.2)
            check(c, 'the chart of echo shows no datagrams or no drops per second')
            note('echo chart: rate max %s/s, drops max %s/s' %
                 (c['lines']['rate']['max'], c['lines']['drops']['max']))

            got = b.js('return [recvClass({receive_queue_bytes: 79, receive_buffer_bytes: 100}),'
                       ' recvClass({receive_queue_bytes: 80, receive_buffer_bytes: 100}),'
                       ' recvClass({receive_queue_bytes: 120, receive_buffer_bytes: 100}),'
                       ' recvClass({receive_queue_bytes: null, receive_buffer_bytes: null})]')
            check_eq(got, ['', 'warn', 'full', ''], 'the receive queue highlight rule')

            check_eq(b.js('return window.synackCsp'), [], 'CSP violations')
            errors = [e for e in b.console() if e.get('level') == 'SEVERE']
            check(not errors, 'console errors on the status page: %r' % errors)


main(run, timeout=90)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The status page (GET / on the metrics endpoint) in a real browser, headless
# chromium, one session for the whole test.  One daemon, planned for all of
# it: max_clients = 5, and four listeners (echo, discard, echo on a unix
# socket, and "small", echo with backlog = 5).
#
#  - the table has one row per listener, with its name, real address,
#    service and backlog, and the numbers /stats gives; the page loads
#    nothing but its own /stats, and logs no console error;
#  - five echo clients show up (active 5, accepted +5) without a reload:
#    the page refreshes itself;
#  - they take every slot, so the daemon stops accepting and "small"'s
#    accept queue fills one connection at a time: at each step the row's
#    class is what queueClass() in status.html promises for the /stats of
#    that moment ("warn" at 80% of what a socket holds, backlog + 1 on
#    Linux, "full" at 100%),
#    seen in that order; flooded, it stays "full", and the host's
#    ListenOverflows stands out; when the clients go the queue drains and
#    the highlight goes with it;
#  - on a phone's screen the page does not scroll sideways (the table
#    scrolls in its own box) and its text is at least 14px;
#  - once the daemon is gone the page says it cannot read /stats.
#
# What the page shows is compared with /stats read just before and just
# after reading the page, both alike: while the numbers only grow (or only
# shrink), a page showing those same numbers was rendered from that state.
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_eq, echo_check, fail, http_get,  # noqa: E402
                        listener, main, make_tempdir, note, server_section, wait_for)
from browser import Browser  # noqa: E402

MAX_CLIENTS = 5
SMALL_BACKLOG = 5
FLOOD = 30
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "connect-src 'self'")
SERVICES = {'echo': 'echo', 'discard': 'discard', 'local': 'echo', 'small': 'echo'}

# Everything the test reads from the page, in one call.
READ_PAGE = r'''
var out = {rows: [], host: [], stale: document.body.classList.contains('stale')};
var e = document.getElementById('error');
out.error = e && !e.hidden ? e.textContent : null;
['version', 'uptime', 'summary'].forEach(function (id) {
	var x = document.getElementById(id);
	out[id] = x ? x.textContent : null;
});
document.querySelectorAll('#listeners tbody tr').forEach(function (tr) {
	var r = {listener: tr.dataset.listener, classes: Array.from(tr.classList), cells: {}};
	tr.querySelectorAll('td').forEach(function (td) {
		td.classList.forEach(function (c) { r.cells[c] = td.textContent; });
	});
	var b = tr.querySelector('.accept .badge');
	r.badge = b ? b.textContent : null;
	var a = tr.querySelector('td.accept');
	r.accept_bg = a ? getComputedStyle(a).backgroundColor : null;
	out.rows.push(r);
});
document.querySelectorAll('#host tbody tr').forEach(function (tr) {
	var v = tr.querySelector('td.value');
	out.host.push({key: tr.dataset.key || null, classes: Array.from(tr.classList),
	    value: v ? v.textContent : null});
});
return out;
'''


def queue_class(l):
    """queueClass() of status.html: 'full' when the accept queue is at what it
    can hold (the sum against the limit, or the busiest socket against what
    one socket holds: its backlog + 1), 'warn' from 80%, else ''."""
    if l['accept_queue'] is None or not l['accept_queue_limit']:
        return ''
    most = max(l['accept_queue_per_socket'] or [0])
    share = max(l['accept_queue'] / l['accept_queue_limit'],
                most / (l['backlog_effective'] + 1))
    return 'full' if share >= 1 else 'warn' if share >= 0.8 else ''


def read_page(b):
    return b.js(READ_PAGE)


def row_of(page, name):
    rows = [r for r in page['rows'] if r['listener'] == name]
    check(len(rows) == 1, 'expected one row for listener %r, the page has %d: %r' %
          (name, len(rows), page['rows']))
    return rows[0]


def state(stats):
    """What the page's listener numbers are compared on."""
    return [(l['name'], l['active'], l['accepted'], l['accept_queue'],
             tuple(l['accept_queue_per_socket'])) for l in stats['listeners']]


def accept_numbers(text):
    m = re.match(r'(\d+) / (\d+)', text or '')
    return (int(m.group(1)), int(m.group(2))) if m else None


def shows(page, stats):
    """The page shows stats' listener numbers (and no other rows)."""
    if sorted(r['listener'] for r in page['rows']) != sorted(l['name'] for l in stats['listeners']):
        return False
    for l in stats['listeners']:
        c = row_of(page, l['name'])['cells']
        want_q = None if l['accept_queue'] is None else (l['accept_queue'], l['accept_queue_limit'])
        if (c.get('active'), c.get('accepted')) != (str(l['active']), str(l['accepted'])) or \
                accept_numbers(c.get('accept')) != want_q:
            return False
    return True


def agreed(d, b, want=None, timeout=10.0, what='the page to show what /stats says'):
    """Wait until the page shows the numbers of /stats (read before and after
    the page, alike) and want(stats) holds; returns (page, stats)."""
    last = {}

    def attempt():
        s1 = d.stats()
        page = read_page(b)
        s2 = d.stats()
        last.update(page=page, stats=s2)
        if page['error'] is not None:
            fail('the page shows an error while the daemon runs: %r' % page['error'])
        if state(s1) != state(s2) or (want and not want(s2)) or not shows(page, s2):
            return None
        return page, s2
    got = wait_for(attempt, timeout, interval=0.1)
    if not got:
        fail('timed out after %.0f s waiting for %s\npage rows: %r\n/stats: %r' %
             (timeout, what, [(r['listener'], r['cells']) for r in last['page']['rows']],
              state(last['stats'])))
    return got


def check_classes(page, stats):
    """Every row's highlight is what the page's rule gives for its numbers."""
    for l in stats['listeners']:
        r = row_of(page, l['name'])
        want = queue_class(l)
        got = [c for c in r['classes'] if c in ('warn', 'full')]
        check_eq(got, [want] if want else [],
                 'highlight of listener %s with accept queue %d / %d, per socket %r, '
                 'backlog %d' % (l['name'], l['accept_queue'], l['accept_queue_limit'],
                                 l['accept_queue_per_socket'], l['backlog_effective']))
        check_eq(r['badge'], {'full': 'full', 'warn': 'nearly full', '': None}[want],
                 'the word in the accept queue cell of %s' % l['name'])
    return {l['name']: queue_class(l) for l in stats['listeners']}


def check_own_origin(b, what):
    """Everything the page fetched came from the daemon's own origin."""
    got = b.js('return {origin: location.origin, names: performance.getEntriesByType('
               '"resource").map(function (e) { return e.name; })}')
    check(got['names'], '%s: the page fetched nothing (not even /stats)' % what)
    other = [n for n in got['names'] if not n.startswith(got['origin'] + '/')]
    check(not other, '%s: the page loaded resources from elsewhere than %s: %r' %
          (what, got['origin'], other))
    check(all(n.startswith(got['origin'] + '/stats') for n in got['names']),
          '%s: the page loaded more than /stats: %r' % (what, sorted(set(got['names']))))


def uptime_seconds(text):
    m = re.match(r'^(?:(\d+)d )?(?:(\d+)h )?(?:(\d+)m )?(\d+)s$', text or '')
    check(m, 'uptime %r is not like 1d 2h 3m 4s' % text)
    d, h, mi, s = (int(x or 0) for x in m.groups())
    return ((d * 24 + h) * 60 + mi) * 60 + s


def connect_nonblocking(addr):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    s.connect_ex(addr)
    return s


def run():
    conf = {'server': server_section(metrics='127.0.0.1:0', max_clients=MAX_CLIENTS),
            'listener echo': listener('echo'),
            'listener discard': listener('discard'),
            'listener local': listener('echo', address='unix:@TMPDIR@/echo.sock'),
            'listener small': listener('echo', backlog=SMALL_BACKLOG)}
    socks = []
    try:
        with Daemon(conf) as d:
            maddr = d.metrics_addr()
            status, hdr, body = http_get(maddr, '/')
            check_eq(status, 200, 'status of GET /')
            check(b'<table id="listeners">' in body, 'GET / is not the status page')
            check_eq(hdr.get('content-security-policy'), CSP, 'the CSP of the status page')
            with Browser(make_tempdir()) as b:
                scenario(d, b, 'http://%s:%d/' % maddr, socks)
    finally:
        for s in socks:
            abort(s)


def scenario(d, b, url, socks):
    b.get(url)

    # -- the table -------------------------------------------------------
    page, st = agreed(d, b, what='the first table')
    check_eq(len(page['rows']), 4, 'rows in the listener table')
    for l in st['listeners']:
        name = l['name']
        c = row_of(page, name)['cells']
        check_eq(c.get('name'), name, 'name cell of %s' % name)
        check_eq(c.get('address'), d.listeners[name]['text'],
                 'address of %s (as its "listening on" line says)' % name)
        check_eq(c.get('address'), l['address'], 'address of %s against /stats' % name)
        check_eq(c.get('service'), SERVICES[name], 'service of %s' % name)
        check_eq(l['backlog'], d.listeners[name]['backlog'], '/stats backlog of %s' % name)
        check_eq(c.get('backlog'), str(l['backlog']) if l['backlog_effective'] in
                 (None, l['backlog']) else '%d (%d)' % (l['backlog'], l['backlog_effective']),
                 'backlog of %s' % name)
        check_eq(c.get('syn'), '-' if l['syn_recv'] is None else str(l['syn_recv']),
                 'SYN queue of %s' % name)
    check_eq(row_of(page, 'local')['cells'].get('syn'), '-', 'SYN queue of the unix listener')
    check_classes(page, st)
    check_eq(page['version'], st['version'], 'version')
    up = uptime_seconds(page['uptime'])
    check(st['uptime_s'] - 10 <= up <= st['uptime_s'] + 1,
          'the page shows uptime %ds, /stats %.1fs just after' % (up, st['uptime_s']))
    check('clients 0 of %d' % MAX_CLIENTS in page['summary'],
          'summary %r: expected "clients 0 of %d"' % (page['summary'], MAX_CLIENTS))
    check_own_origin(b, 'first load')

    # -- it refreshes itself ----------------------------------------------
    b.js('window.synackTestMark = "still the same page"')
    before = d.listener_stats('echo')['accepted']
    for _ in range(MAX_CLIENTS):
        s = echo_check(d.addr('echo'))
        socks.append(s)
    page, st = agreed(
        d, b, lambda s: [(l['active'], l['accepted']) for l in s['listeners']
                         if l['name'] == 'echo'] == [(MAX_CLIENTS, before + MAX_CLIENTS)],
        what='the page to show %d more echo clients' % MAX_CLIENTS)
    c = row_of(page, 'echo')['cells']
    check_eq((c['active'], c['accepted']), (str(MAX_CLIENTS), str(before + MAX_CLIENTS)),
             'echo active and accepted on the page')
    check_eq(b.js('return window.synackTestMark + " " + '
                  'performance.getEntriesByType("navigation").length'),
             'still the same page 1', 'the page was not reloaded')
    check('clients %d of %d' % (MAX_CLIENTS, MAX_CLIENTS) in page['summary'],
          'summary %r: expected "clients %d of %d"' % (page['summary'], MAX_CLIENTS, MAX_CLIENTS))
    check(uptime_seconds(page['uptime']) >= up, 'uptime went backwards')

    # -- the accept queue fills: warn, then full ----------------------------
    # Every slot is taken, so the daemon accepts nothing: each connection to
    # "small" stays in the accept queue of the socket its 4-tuple hashes to.
    # Up to the first "full" no socket holds more than it can (backlog + 1),
    # so every connection lands, one at a time.
    small = d.addr('small')
    seen = []
    n = 0
    while 'full' not in seen:
        n += 1
        check(n <= 2 * (SMALL_BACKLOG + 1), 'no "full" after %d connections' % (n - 1))
        socks.append(connect_nonblocking(small))
        page, st = agreed(
            d, b, lambda s, n=n: [l['accept_queue'] for l in s['listeners']
                                  if l['name'] == 'small'] == [n],
            what='the accept queue of small to hold %d connections' % n)
        cls = check_classes(page, st)['small']
        if not seen or seen[-1] != cls:
            seen.append(cls)
    check_eq(seen, ['', 'warn', 'full'], 'highlights of small as its accept queue filled')
    bg = {r['listener']: r['accept_bg'] for r in page['rows']}
    check(bg['small'] != bg['echo'], 'a full queue does not look different: %r' % bg)

    # flooded: each socket's queue full (its backlog, and one more on Linux),
    # every further SYN dropped and counted as a ListenOverflow
    for _ in range(FLOOD):
        socks.append(connect_nonblocking(small))

    def flooded(s):
        l = [l for l in s['listeners'] if l['name'] == 'small'][0]
        return l['accept_queue'] >= l['accept_queue_limit'] and \
            min(l['accept_queue_per_socket']) >= l['backlog_effective'] + 1
    page, st = agreed(d, b, flooded, what='every accept queue of small to be full')
    check_eq(check_classes(page, st)['small'], 'full', 'highlight of the flooded listener')
    l = [l for l in st['listeners'] if l['name'] == 'small'][0]
    note('small flooded: accept queue %d / %d, per socket %r' %
         (l['accept_queue'], l['accept_queue_limit'], l['accept_queue_per_socket']))

    if st['host'] is None:
        note('no host counters in /stats: their highlight is not checked')
    else:
        check(st['host']['listen_overflows'] > 0,
              'ListenOverflows is 0 after a flood of a full accept queue')

        # the counter is host-wide and may have been above 0 before the page
        # opened (other servers, other tests): wait for the flood's growth
        def overflow_shown():
            p = read_page(b)
            r = [h for h in p['host'] if h['key'] == 'listen_overflows']
            return r and re.match(r'\d+', r[0]['value'] or '') and \
                int(re.match(r'\d+', r[0]['value']).group()) > 0 and \
                'since this page opened' in r[0]['value'] and p
        page = wait_for(overflow_shown, 10, interval=0.1,
                        what='the page to show ListenOverflows grown while it was open')
        for h in page['host']:
            v = int(re.match(r'\d+', h['value']).group())
            counter = h['key'] in ('listen_overflows', 'listen_drops', 'syncookies_sent',
                                   'req_q_full_drop')
            check_eq('bad' in h['classes'], counter and v > 0,
                     'host row %s (%r) stands out' % (h['key'], h['value']))
        r = [h for h in page['host'] if h['key'] == 'listen_overflows'][0]
        check('since this page opened' in r['value'],
              'ListenOverflows grew while the page was open, it does not say so: %r' %
              r['value'])
    check_own_origin(b, 'after refreshes')

    # -- on a phone ----------------------------------------------------------
    b.cdp('Emulation.setDeviceMetricsOverride',
          {'width': 375, 'height': 667, 'deviceScaleFactor': 2, 'mobile': True})
    b.reload()
    page, st = agreed(d, b, what='the table on a phone')
    check_classes(page, st)
    m = b.js(r'''
        var t = document.getElementById('listeners'), w = t.parentElement;
        return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
                font: parseFloat(getComputedStyle(document.body).fontSize),
                table: t.getBoundingClientRect().width,
                box: w.getBoundingClientRect().right, overflow: getComputedStyle(w).overflowX,
                boxScroll: w.scrollWidth, boxClient: w.clientWidth};''')
    note('on a phone: %r' % m)
    check(m['inner'] == 375, 'the page is laid out %dpx wide on a 375px phone: no viewport '
          'meta tag, or something wider than the screen: %r' % (m['inner'], m))
    check(m['scroll'] <= m['inner'], 'the page scrolls sideways on a phone: %dpx wide in '
          'a %dpx window' % (m['scroll'], m['inner']))
    check(m['font'] >= 14, 'base font %.1fpx on a phone, expected at least 14px' % m['font'])
    if m['table'] > m['inner']:
        check(m['overflow'] in ('auto', 'scroll') and m['box'] <= m['inner'] and
              m['boxScroll'] > m['boxClient'],
              'the listener table is wider than the phone and does not scroll in '
              'its own box: %r' % m)
    b.cdp('Emulation.clearDeviceMetricsOverride')

    # -- the queue drains, the highlight goes -----------------------------
    # Queued connections reset by their clients are accepted and closed as
    # soon as slots are free again.
    for s in socks:
        abort(s)
    del socks[:]
    page, st = agreed(
        d, b, lambda s: all(l['accept_queue'] in (0, None) and l['active'] == 0
                            for l in s['listeners']),
        what='the queues to drain and the clients to go')
    check_eq(check_classes(page, st), {n: '' for n in SERVICES}, 'highlights once drained')

    # -- the console -------------------------------------------------------
    logs = b.console()
    errors = [e for e in logs if e.get('level') == 'SEVERE']
    check(not errors, 'console errors on the status page: %r' % errors)
    for e in logs:
        note('console: %s %s' % (e.get('level'), e.get('message')))
    # that the log would have shown one
    b.js('console.error("synack-test-probe")')
    wait_for(lambda: any('synack-test-probe' in e.get('message', '') for e in b.console()),
             5, interval=0.1, what='a console error to reach the browser log')

    # -- no daemon -----------------------------------------------------------
    d.stop()
    page = wait_for(lambda: (lambda p: p['error'] is not None and p)(read_page(b)), 10,
                    interval=0.1, what='the page to say /stats cannot be read')
    check('cannot read /stats' in page['error'].lower(), 'error message %r' % page['error'])
    check(page['stale'], 'the figures are not marked as stale')
    check_eq(len(page['rows']), 4, 'rows kept (stale) once the daemon is gone')


# chromium starts in seconds, the whole test takes about 15 s; the margin
# is for a loaded machine
main(run, timeout=90)

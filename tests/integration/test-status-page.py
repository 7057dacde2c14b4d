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
#  - the accept wait p99 column shows what /stats has (a dash for the unix
#    listener and for one nothing connected to yet);
#  - each listener has a chart of the last minutes, drawn by the page from
#    its reads (an SVG with a title, a legend, three lines that stay in their
#    bands): it gains a sample at each read, its accepts line shows the echo
#    clients (a rate above 0 and no more than they were), its queue line
#    follows the accept queue of the table, and once "small" drains it shows
#    the queue full before and empty now; the page's own functions give a
#    rate of the counts since a restart or reload (never a negative one) and
#    keep five minutes of samples at most;
#  - a reload that starts the echo listener afresh (its service changed:
#    accepted back to 0) draws no negative rate;
#  - on a phone's screen the page does not scroll sideways (the table
#    scrolls in its own box, the charts fit) and its text is at least 14px;
#  - no CSP violation, no console error;
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
import signal  # noqa: E402
from synacktest import (Daemon, abort, check, check_eq, echo_check, fail, http_get,  # noqa: E402
                        listener, main, make_tempdir, note, render_config, server_section,
                        wait_for, with_workers)
from browser import Browser  # noqa: E402

MAX_CLIENTS = 5
SMALL_BACKLOG = 5
FLOOD = 30
CSP = ("default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
       "connect-src 'self'")
SERVICES = {'echo': 'echo', 'discard': 'discard', 'local': 'echo', 'small': 'echo'}
LINES = ('rate', 'queue', 'wait')

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
out.charts = {};
document.querySelectorAll('#charts figure').forEach(function (f) {
	var svg = f.querySelector('svg'), t = svg && svg.querySelector('title');
	var c = {samples: Number(f.dataset.samples || 0), role: svg && svg.getAttribute('role'),
	    title: t ? t.textContent : null, viewbox: svg && svg.getAttribute('viewBox'),
	    right: svg ? svg.getBoundingClientRect().right : null, lines: {}, legend: {}};
	if (svg) svg.querySelectorAll('g').forEach(function (g) {
		var p = g.querySelector('path[data-line]'), r = g.querySelector('rect');
		if (p && r) c.lines[p.dataset.line] = {points: Number(p.dataset.points),
		    now: p.dataset.now, max: p.dataset.max, d: p.getAttribute('d'),
		    top: Number(r.getAttribute('y')), height: Number(r.getAttribute('height'))};
	});
	f.querySelectorAll('li[data-line]').forEach(function (li) {
		c.legend[li.dataset.line] = li.textContent;
	});
	out.charts[f.dataset.listener] = c;
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


def watch_csp(b):
    """Collect the page's CSP violations from now on (it redraws every
    second, so each of its ways of drawing comes by again)."""
    b.js('window.synackCsp = []; document.addEventListener("securitypolicyviolation", '
         'function (e) { window.synackCsp.push(e.violatedDirective + " " + e.blockedURI + '
         '" " + e.sourceFile + ":" + e.lineNumber); });')


def check_no_csp_violation(b, what):
    check_eq(b.js('return window.synackCsp'), [], 'CSP violations on the status page (%s)' % what)


def fmt_wait(w):
    """The accept wait p99 cell for /stats' accept_wait: a dash for none,
    the bucket's bound, or over the last bound when /stats says null."""
    if w is None or w['count'] == 0:
        return '-'
    if w['p99_ms'] is None:
        return '> %d ms' % max(int(k) for k in w['buckets_ms'] if k != '+Inf')
    return '0 ms' if w['p99_ms'] == 0 else '\u2264 %d ms' % w['p99_ms']


PATH_RE = re.compile(r'(?:[ML](-?[\d.]+) (-?[\d.]+)(?:h0\.01)?)*')


def check_chart(page, name):
    """The chart of listener name is there, named, with its three lines
    and their legend, and each line is drawn within its own band (a negative
    or missing value would leave it)."""
    check(name in page['charts'], 'no chart for listener %s: charts %r' %
          (name, sorted(page['charts'])))
    c = page['charts'][name]
    check_eq(c['role'], 'img', 'role of the chart of %s' % name)
    check(c['title'] and c['title'].startswith(name + ','),
          'the chart of %s has no title naming it: %r' % (name, c['title']))
    check(c['samples'] >= 1, 'the chart of %s has no sample: %r' % (name, c))
    width = float(c['viewbox'].split()[2])
    for key in LINES:
        check(key in c['lines'] and key in c['legend'],
              'chart of %s: no line or legend %s: %r' % (name, key, c))
        ln = c['lines'][key]
        ln['d'] = ln['d'] or ''
        check(PATH_RE.fullmatch(ln['d']),
              'chart of %s: line %s is not a path of numbers: %r' % (name, key, ln['d']))
        for x, y in re.findall(r'[ML](-?[\d.]+) (-?[\d.]+)', ln['d']):
            check(0 <= float(x) <= width and
                  ln['top'] - 0.05 <= float(y) <= ln['top'] + ln['height'] + 0.05,
                  'chart of %s: line %s leaves its band (%.0f to %.0f, %.0f wide) at %s,%s: '
                  'now %r, max %r' % (name, key, ln['top'], ln['top'] + ln['height'], width,
                                      x, y, ln['now'], ln['max']))
    return c


def row_of(page, name):
    rows = [r for r in page['rows'] if r['listener'] == name]
    check(len(rows) == 1, 'expected one row for listener %r, the page has %d: %r' %
          (name, len(rows), page['rows']))
    return rows[0]


def state(stats):
    """What the page's listener numbers are compared on."""
    return [(l['name'], l['active'], l['accepted'], l['accept_queue'],
             tuple(l['accept_queue_per_socket']), fmt_wait(l['accept_wait']))
            for l in stats['listeners']]


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
                accept_numbers(c.get('accept')) != want_q or \
                c.get('wait99') != fmt_wait(l['accept_wait']):
            return False
        # the chart is drawn from the same read as the table
        ch = page['charts'].get(l['name'])
        if ch is None or ch['lines'].get('queue', {}).get('now') != \
                ('' if l['accept_queue'] is None else str(l['accept_queue'])):
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
        fail('timed out after %.0f s waiting for %s\npage rows: %r\ncharts: %r\n/stats: %r' %
             (timeout, what, [(r['listener'], r['cells']) for r in last['page']['rows']],
              {n: (c['samples'], {k: (v['now'], v['max']) for k, v in c['lines'].items()})
               for n, c in last['page']['charts'].items()}, state(last['stats'])))
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
                scenario(d, b, 'http://%s:%d/' % maddr, socks, conf)
    finally:
        for s in socks:
            abort(s)


def check_functions(b):
    """The page's own rate and history functions, on made-up reads."""
    got = b.js(r'''
        var r = function (p, c) { return between(p, c).rate; };
        var bk = function (a) { return a.map(function (n, i) { return [[0, 1, 2][i], n]; })
            .concat([[Infinity, 0]]); };
        var s = [];
        for (var i = 0; i < 2000; i++) addSample(s, {t: i * 100});
        return {
            steady: r({uptime: 10, accepted: 50, buckets: null},
                      {uptime: 12, accepted: 60, buckets: null}),
            first: r(null, {uptime: 1, accepted: 5, buckets: null}),
            /* a reload that started the counter afresh: 3 since then */
            reload: r({uptime: 10, accepted: 50, buckets: null},
                      {uptime: 11, accepted: 3, buckets: null}),
            /* a restart: 4 in the 2 s since */
            restart: r({uptime: 100, accepted: 50, buckets: null},
                       {uptime: 2, accepted: 4, buckets: null}),
            /* 100 new waits, 99 of them in the first bucket */
            wait: between({uptime: 1, accepted: 0, buckets: bk([5, 0, 0])},
                          {uptime: 2, accepted: 100, buckets: bk([104, 0, 1])}).wait,
            wait_fresh: between({uptime: 1, accepted: 9, buckets: bk([9, 0, 0])},
                                {uptime: 2, accepted: 2, buckets: bk([0, 2, 0])}).wait,
            kept: s.length, span: s[s.length - 1].t - s[0].t,
            max: MAX_SAMPLES, window: WINDOW_MS};''')
    check_eq((got['steady'], got['first'], got['reload'], got['restart']), (5, None, 3, 2),
             'accepts per second: steady, first read, after a reload, after a restart')
    check_eq((got['wait'], got['wait_fresh']), (0, 1),
             'wait p99 between two reads, and after the counters started afresh')
    check_eq(got['window'], 5 * 60 * 1000, 'the window of the charts, in ms')
    check(got['kept'] <= got['max'] and got['span'] <= got['window'],
          'the history keeps %d samples over %d ms (at most %d over %d)' %
          (got['kept'], got['span'], got['max'], got['window']))


def scenario(d, b, url, socks, conf):
    b.get(url)
    watch_csp(b)

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
    check_eq(row_of(page, 'local')['cells'].get('wait99'), '-',
             'accept wait of the unix listener')
    discard = [l for l in st['listeners'] if l['name'] == 'discard'][0]
    check_eq(discard['accept_wait']['count'], 0, '/stats accept waits of discard before use')
    check_eq(row_of(page, 'discard')['cells'].get('wait99'), '-',
             'accept wait of a listener nothing connected to yet')
    for name in SERVICES:
        check_chart(page, name)
    check('no handshake' in page['charts']['local']['legend']['wait'],
          'the unix listener\'s chart does not say why it has no wait: %r' %
          page['charts']['local']['legend'])
    check_functions(b)
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
    samples = read_page(b)['charts']['echo']['samples']
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
    # the reads are at least a second apart: no more than the clients a second
    ch = check_chart(page, 'echo')
    rate = ch['lines']['rate']
    check(ch['samples'] > samples, 'the chart of echo did not grow: %d samples, then %d' %
          (samples, ch['samples']))
    check(rate['max'] != '' and 0 < float(rate['max']) <= MAX_CLIENTS,
          'accepts per second of echo after %d clients: %r' % (MAX_CLIENTS, rate))
    check(rate['points'] >= 1 and 'max ' in ch['legend']['rate'],
          'the accepts line of echo: %r, legend %r' % (rate, ch['legend']['rate']))
    # the waits of those accepts: a p99 for the reads they came between
    wait = ch['lines']['wait']
    check(wait['points'] >= 1 and wait['max'] != '' and 'ms' in ch['legend']['wait'],
          'the accept wait line of echo after %d accepts: %r, legend %r' %
          (MAX_CLIENTS, wait, ch['legend']['wait']))
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
    check_no_csp_violation(b, 'after refreshes')

    # -- on a phone ----------------------------------------------------------
    b.cdp('Emulation.setDeviceMetricsOverride',
          {'width': 375, 'height': 667, 'deviceScaleFactor': 2, 'mobile': True})
    b.reload()
    watch_csp(b)
    page, st = agreed(d, b, lambda s: True, what='the table on a phone')
    page = wait_for(lambda: (lambda p: all(c['samples'] >= 2 for c in p['charts'].values()) and
                             p)(read_page(b)), 10, interval=0.1,
                    what='the charts to have two samples on a phone')
    check_classes(page, st)
    for name in SERVICES:
        check(check_chart(page, name)['right'] <= 375,
              'the chart of %s reaches beyond a phone\'s screen: %r' %
              (name, page['charts'][name]))
    m = b.js(r'''
        var t = document.getElementById('listeners'), w = t.parentElement;
        return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth,
                client: document.documentElement.clientWidth,
                font: parseFloat(getComputedStyle(document.body).fontSize),
                table: t.getBoundingClientRect().width,
                box: w.getBoundingClientRect().right, overflow: getComputedStyle(w).overflowX,
                boxScroll: w.scrollWidth, boxClient: w.clientWidth};''')
    note('on a phone: %r' % m)
    check(m['inner'] == 375, 'the page is laid out %dpx wide on a 375px phone: no viewport '
          'meta tag, or something wider than the screen: %r' % (m['inner'], m))
    check(m['scroll'] <= m['inner'] and m['scroll'] <= m['client'],
          'the page scrolls sideways on a phone: %dpx wide in a %dpx window' %
          (m['scroll'], m['client']))
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
    # the chart shows it filled and drained: full at some read, empty now
    small = [l for l in st['listeners'] if l['name'] == 'small'][0]
    q = check_chart(page, 'small')['lines']['queue']
    check(q['now'] == '0' and q['max'] != '' and
          int(q['max']) >= small['backlog_effective'] + 1,
          'the queue line of small does not show it full, then empty: %r (a socket holds %d)' %
          (q, small['backlog_effective'] + 1))

    # -- a reload starts the echo listener afresh -----------------------------
    # A changed service makes a new listener of the same name: its counters
    # start again from 0, lower than the page's last read.
    old = d.listener_stats('echo')['accepted']
    check(old > 0, 'echo accepted nothing before the reload')
    conf['listener echo'] = listener('discard')
    with open(d.conf_path, 'w') as f:
        f.write(with_workers(render_config(conf).replace('@TMPDIR@', d.tmpdir)))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    page, st = agreed(d, b, lambda s: [(l['service'], l['accepted']) for l in s['listeners']
                                       if l['name'] == 'echo'] == [('discard', 0)],
                      what='the page to show the new echo listener')
    rate = check_chart(page, 'echo')['lines']['rate']
    check_eq(rate['now'], '0', 'accepts per second of echo at the read after the reload '
             '(accepted %d, then 0)' % old)

    # -- the console -------------------------------------------------------
    check_no_csp_violation(b, 'at the end')
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


# chromium starts in seconds, the whole test takes about 20 s; the margin
# is for a loaded machine
main(run, timeout=90)

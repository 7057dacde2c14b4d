#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# proxy_from: who may send a PROXY header.
#  1. at start, one warning for the proxy_protocol listener without
#     proxy_from (any client can claim any address), none for those with
#     it nor for the unix one;
#  2. spoofed headers from a peer not in proxy_from (127.0.0.3) are reset
#     before a byte is read, counted as rejected proxy_untrusted in
#     /metrics and /stats, and logged at most about once a second; one
#     claiming 127.0.0.1 does not take 127.0.0.1's slot under
#     max_clients_per_source = 1: a genuine client from 127.0.0.1 is served;
#  3. the trusted proxy's (127.0.0.2) headers are taken, v1 and v2, on an
#     IPv4 listener and on a dual-stack one (where 127.0.0.2 arrives as
#     ::ffff:127.0.0.2 and matches the IPv4 entry); on ::1, a listener
#     trusting ::1/128 takes the header, one trusting others resets it;
#     a unix listener takes headers from any local peer;
#  4. LOCAL (a health check) counts the proxy's own address for
#     max_clients_per_source;
#  5. a reload warns again while proxy_from is missing; one that sets it
#     applies to the next connection and silences the warning.
import os
import re
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
import promtext  # noqa: E402
from proxyheader import V2_LOCAL, v1, v2  # noqa: E402
from synacktest import (Daemon, abort, check, check_eq, connect_from, echo_roundtrip,  # noqa: E402
                        fail, have_ipv6_loopback, http_get, listener, main, note,
                        recv_line, render_config, server_section, wait_for)

WARNING = r'listener %s: proxy_protocol without proxy_from: any client'
UNTRUSTED = r'listener v4: client 127\.0\.0\.3:\d+ refused: not in proxy_from'
BURST = 30


def refused(src, addr, data):
    """From src, connect and send data: the daemon resets or closes the
    connection without a byte back."""
    try:
        s = connect_from(src, addr, timeout=3)
    except ConnectionResetError:
        return True
    try:
        try:
            s.sendall(data)
            got = s.recv(16)
        except (ConnectionResetError, BrokenPipeError):
            return True
        except socket.timeout:
            return False
        return got == b''
    finally:
        abort(s)


def served(src, addr, header, payload=b'through the proxy\n'):
    """From src, a header then an echo round trip: the open socket."""
    s = connect_from(src, addr)
    s.sendall(header + payload)
    check_eq(recv_line(s), payload, 'echo behind a header from %s to %r' % (src, addr))
    return s


def metrics(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics', headers={'Connection': 'close'})
    check_eq(status, 200, 'GET /metrics')
    return promtext.parse(body)


def rejected(d, name, reason='proxy_untrusted'):
    return metrics(d).sum('synackd_listener_connections_rejected_total',
                          listener=name, reason=reason)


def wait_rejected(d, name, want, reason='proxy_untrusted'):
    wait_for(lambda: rejected(d, name, reason) >= want, 10,
             what='%s rejected %s to reach %d' % (name, reason, want))
    check_eq(rejected(d, name, reason), want, '%s rejected %s' % (name, reason))


def wait_idle(d, name):
    wait_for(lambda: d.listener_stats(name)['active'] == 0, 10,
             what='listener %s without clients' % name)


def conf(tmpdir, ipv6, open_from=None):
    c = {'server': server_section(log_level='debug', metrics='127.0.0.1:0',
                                  max_clients_per_source=1),
         'listener v4': listener('echo', proxy_protocol='yes',
                                 proxy_from='10.0.0.0/8, 127.0.0.2'),
         'listener dual': listener('echo', address='*', proxy_protocol='yes',
                                   proxy_from='127.0.0.2'),
         'listener open': listener('echo', proxy_protocol='yes'),
         'listener plain': listener('echo'),
         'listener local': listener('echo', address='unix:%s/p.sock' % tmpdir,
                                    proxy_protocol='yes')}
    if open_from:
        c['listener open']['proxy_from'] = open_from
    if ipv6:
        c['listener v6'] = listener('echo', address='::1', proxy_protocol='yes',
                                    proxy_from='::1/128')
        c['listener v6out'] = listener('echo', address='::1', proxy_protocol='yes',
                                       proxy_from='2001:db8::/32, 127.0.0.1')
    return c


def warnings(d):
    names = ('v4', 'dual', 'open', 'plain', 'local', 'v6', 'v6out')
    return {n: len(d.find_all_log(WARNING % n)) for n in names}


def untrusted(d):
    v4 = d.addr('v4')
    # a spoofed header claiming 127.0.0.1, and one claiming a stranger
    check(refused('127.0.0.3', v4, v1('127.0.0.1', 5000) + b'spoof\n'),
          'a header from 127.0.0.3 (not in proxy_from) was served')
    check(refused('127.0.0.3', v4, v2('192.0.2.66', 443) + b'hi from admin\n'),
          'a v2 header from 127.0.0.3 was served')
    wait_rejected(d, 'v4', 2)
    d.wait_log(UNTRUSTED)
    st = d.listener_stats('v4')
    check_eq(st['rejected']['proxy_untrusted'], 2, '/stats v4 rejected.proxy_untrusted')
    check_eq(st['accepted'], 0, 'v4 accepted (untrusted peers are no clients)')
    check_eq(st['bytes_in'], 0, 'v4 bytes_in (nothing read from an untrusted peer)')
    # the spoof took no slot of 127.0.0.1's: a genuine client is served
    s = connect_from('127.0.0.1', d.addr('plain'))
    echo_roundtrip(s, b'genuine\n')
    abort(s)
    wait_idle(d, 'plain')

    # a burst: every one counted, the log line at most about once a second
    t0 = time.monotonic()
    for i in range(BURST):
        if not refused('127.0.0.3', v4, v1('192.0.2.%d' % (i + 1), 1000)):
            fail('burst connection %d from 127.0.0.3 was served' % i)
    took = time.monotonic() - t0
    wait_rejected(d, 'v4', 2 + BURST)
    lines = len(d.find_all_log(UNTRUSTED))
    note('%d untrusted connections in %.2f s: %d log lines' % (BURST + 2, took, lines))
    check(lines <= took + 2, 'untrusted peers logged %d times in %.2f s' % (lines, took))
    # the next message, a second later, says how many were held back: the
    # log's one line a second is what is tested, so the second is waited out
    time.sleep(1.1)
    check(refused('127.0.0.3', v4, b''), 'a connection from 127.0.0.3 was served')
    d.wait_log(UNTRUSTED + r' \(and \d+ more refused since the last message\)')
    wait_rejected(d, 'v4', 3 + BURST)
    m = metrics(d)
    check_eq(m.sum('synackd_listener_connections_closed_total', listener='v4'), 0,
             'v4 clients closed (untrusted peers are rejected, not closed)')


def trusted(d, ipv6):
    v4, dual = d.addr('v4'), d.addr('dual')
    held = [served('127.0.0.2', v4, v1('192.0.2.7', 1111)),
            served('127.0.0.2', v4, v2('192.0.2.8', 2222))]
    d.wait_log(r'client 192\.0\.2\.7:1111 connected to v4')
    d.wait_log(r'client 192\.0\.2\.8:2222 connected to v4')
    # dual-stack: 127.0.0.2 arrives as ::ffff:127.0.0.2, trusted by its IPv4 entry
    dual_addr = ('127.0.0.1', dual[1])
    check(refused('127.0.0.3', dual_addr, v1('192.0.2.9', 1)), 'dual: 127.0.0.3 was served')
    wait_rejected(d, 'dual', 1)
    held.append(served('127.0.0.2', dual_addr, v1('192.0.2.10', 3333)))
    d.wait_log(r'client 192\.0\.2\.10:3333 connected to dual')
    if ipv6:
        held.append(served('::1', d.addr('v6'), v2('2001:db8::7', 4444, dst='::1')))
        d.wait_log(r'client \[2001:db8::7\]:4444 connected to v6')
        check(refused('::1', d.addr('v6out'), v2('2001:db8::8', 1, dst='::1')),
              'v6out: ::1 (not in its proxy_from) was served')
        wait_rejected(d, 'v6out', 1)
        check_eq(rejected(d, 'v6'), 0, 'v6 rejected proxy_untrusted')
    # unix: any local peer
    held.append(served(None, d.addr('local'), v1('192.0.2.11', 5555)))
    d.wait_log(r'client 192\.0\.2\.11:5555 connected to local')
    check_eq(rejected(d, 'dual'), 1, 'dual rejected proxy_untrusted')
    for s in held:
        abort(s)
    for name in ('v4', 'dual', 'local'):
        wait_idle(d, name)


def local(d):
    # a LOCAL header keeps the proxy's own address, and counts it:
    # max_clients_per_source = 1 leaves no slot for 127.0.0.2 elsewhere
    v4, plain = d.addr('v4'), d.addr('plain')
    s = connect_from('127.0.0.2', v4)
    s.sendall(V2_LOCAL + b'health\n')
    check_eq(recv_line(s), b'health\n', 'echo behind a LOCAL header')
    d.wait_log(r'client 127\.0\.0\.2:%d connected to v4' % s.getsockname()[1])
    check(refused('127.0.0.2', plain, b'x\n'),
          'plain: 127.0.0.2 served while its LOCAL connection holds its one slot')
    wait_rejected(d, 'plain', 1, reason='max_clients_per_source')
    # a second LOCAL from the proxy: over the limit once its header is read
    t = connect_from('127.0.0.2', v4)
    t.sendall(V2_LOCAL + b'x\n')
    wait_for(lambda: metrics(d).sum('synackd_listener_connections_closed_total',
                                    listener='v4', reason='max_clients_per_source') == 1,
             10, what='the second LOCAL closed as max_clients_per_source')
    abort(t)
    abort(s)
    wait_idle(d, 'v4')

    def slot():
        c = connect_from('127.0.0.2', plain)
        try:
            echo_roundtrip(c, b'back\n', timeout=1)
        except Exception:
            abort(c)
            return None
        return c
    abort(wait_for(slot, 5, what='a slot for 127.0.0.2 once its LOCAL client left'))


def reload(d, tmpdir, ipv6):
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    check_eq(len([l for l in d.log_lines()[mark:] if re.search(WARNING % 'open', l)]), 1,
             'warnings for listener open at a reload')
    # without proxy_from, anyone's header is taken
    abort(served('127.0.0.3', d.addr('open'), v1('192.0.2.12', 1)))
    # proxy_from set by a reload: the next connection meets it, no warning
    with open(d.conf_path, 'w') as f:
        f.write(render_config(conf(tmpdir, ipv6, open_from='127.0.0.2')))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    check(not any(re.search(WARNING % 'open', l) for l in d.log_lines()[mark:]),
          'a warning for listener open after proxy_from was set')
    wait_idle(d, 'open')
    check(refused('127.0.0.3', d.addr('open'), v1('192.0.2.13', 1) + b'x\n'),
          'open: 127.0.0.3 served after a reload set proxy_from = 127.0.0.2')
    wait_rejected(d, 'open', 1)
    abort(served('127.0.0.2', d.addr('open'), v1('192.0.2.14', 6666)))


def run():
    ipv6 = have_ipv6_loopback()
    if not ipv6:
        note('no IPv6 loopback: the ::1 listeners are left out')
    with Daemon(conf('@TMPDIR@', ipv6)) as d:
        d.wait_log(r'synackd \S+ started')     # logged after the warnings
        w = warnings(d)
        check_eq(w['open'], 1, 'warnings at start for listener open (no proxy_from)')
        check(all(n == 0 for k, n in w.items() if k != 'open'),
              'warnings at start for listeners with proxy_from, without PROXY or on '
              'unix: %r' % w)
        untrusted(d)
        trusted(d, ipv6)
        local(d)
        reload(d, d.tmpdir, ipv6)
        check(not d.messages('error'), 'errors logged: %r' % d.messages('error'))


main(run, timeout=90)

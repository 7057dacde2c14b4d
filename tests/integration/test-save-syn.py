#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# save-syn: with save_syn = yes, synackd reads each client's SYN as it
# reached the server (TCP_SAVED_SYN) and shows what it carried: counts by
# MSS and by option set in /metrics and /stats, the last SYNs with their
# peers in /stats, and the fields on the debug-level connect line.
#
# In a network namespace of its own (skipped where one cannot be made):
# its nftables rules and TCP sysctls are the test's alone.
#
# 1. Loopback as it is: the MSS the clients sent (not 1200, and what
#    the client's TCP_MAXSEG allows) and Linux's options,
#    "mss,sackok,ts,ws", for IPv4 and IPv6 (skipped with a reason where
#    the namespace has no ::1).  A save_syn = no listener shows nothing.
# 2. An nftables rule on the output hook sets the MSS of SYNs to the
#    listeners' ports to 1200, as a clamping middlebox would: synackd
#    counts MSS 1200 for exactly those clients, logs it, and keeps them
#    last in /stats with their own addresses.
# 3. net.ipv4.tcp_sack, tcp_timestamps and tcp_window_scaling set to 0:
#    the clients' SYNs carry the MSS alone, and the option-set counts say
#    so.
# 4. A reload that sets save_syn on the plain listener applies it to its
#    socket: its next client is counted.
import os
import socket
import sys

sys.dont_write_bytecode = True
_lib = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib')
sys.path.insert(0, _lib)
import promtext  # noqa: E402
from netns import enter_netns, find_nft, nft, sysctl_set  # noqa: E402
from synacktest import (Daemon, check, check_eq, connect, echo_check,  # noqa: E402
                        echo_roundtrip, fmt_addr, have_ipv6_loopback, http_get,
                        listener, listening_sockopt, main, note,
                        server_section, wait_for)

NFT_TABLE = 'synack_syn'
TCP_SAVE_SYN = 27
WAIT = 10.0
CLIENTS = 3   # per listener and step


def conf(plain_save_syn='no', v6=True):
    c = {'server': server_section(workers=1, log_level='debug', metrics='127.0.0.1:0'),
         'listener syn4': listener('echo', save_syn='yes'),
         'listener plain': listener('echo', save_syn=plain_save_syn)}
    if v6:
        c['listener syn6'] = listener('echo', address='::1', save_syn='yes')
    return c


def scrape(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics', headers={'Connection': 'close'})
    check_eq(status, 200, 'status of GET /metrics')
    return promtext.parse(body)


def val(m, name, **labels):
    """A listener's sample (every listener here is an echo one), or None."""
    return m.get(name, None, service='echo', **labels)


def clients(d, name, n=CLIENTS):
    """n echo clients of listener `name`, one after the other: their
    addresses and the MSS each one's socket says (TCP_MAXSEG)."""
    out = []
    for _ in range(n):
        s = connect(d.addr(name))
        echo_roundtrip(s)
        out.append((fmt_addr(s.getsockname()), s.getsockopt(socket.IPPROTO_TCP,
                                                              socket.TCP_MAXSEG)))
        s.close()
    return out


def syn_of(d, name, saved):
    """The listener's "syn" in /stats once it counted `saved` SYNs."""
    wait_for(lambda: (d.listener_stats(name)['syn'] or {}).get('saved', 0) >= saved, WAIT,
             what='%d SYNs of %s counted' % (saved, name))
    return d.listener_stats(name)['syn']


def check_clients(d, name, cl, saved, mss, options, ip):
    """The clients cl, the last of `saved` SYNs counted, sent `mss` (a number,
    or a function of the client's TCP_MAXSEG that says whether it is right)
    and `options`."""
    syn = syn_of(d, name, saved)
    check_eq(syn['saved'], saved, '%s: SYNs saved' % name)
    check_eq(syn['unread'], 0, '%s: SYNs not saved' % name)
    check_eq(sum(syn['invalid'].values()), 0, '%s: SYNs that did not parse' % name)
    last = syn['last'][-len(cl):]
    check_eq([x['peer'] for x in last], [c[0] for c in cl], '%s: the last SYNs\' peers' % name)
    for x, c in zip(last, cl):
        if callable(mss):
            check(mss(x['mss'], c[1]), '%s: MSS %r for a client whose TCP_MAXSEG is %d'
                  % (name, x['mss'], c[1]))
        else:
            check_eq(x['mss'], mss, '%s: MSS of %s' % (name, c[0]))
        check_eq(x['options'], options, '%s: options of %s' % (name, c[0]))
        check_eq(x['ip'], ip, '%s: IP version of %s' % (name, c[0]))
        check_eq(x['ttl'], 64, '%s: hop limit of %s' % (name, c[0]))
        line = d.wait_log(r'client %s connected to %s syn=v%d,ttl=64,win=\d+(,mss=(\d+))?'
                          % (re_escape(c[0]), name, ip), WAIT)
        check_eq(int(line.group(2)) if line.group(2) else None, x['mss'],
                 '%s: the connect line\'s MSS of %s' % (name, c[0]))
    return syn


def re_escape(s):
    import re
    return re.escape(s)


def loopback_mss(got, client_maxseg):
    """The loopback MSS: not 1200, what the route's MTU gives (65495 on
    IPv4, 65476 on IPv6), at least what the client's socket settled on."""
    return got is not None and got != 1200 and 60000 < got <= 65495 and got >= client_maxseg


def clamp_mss(ports):
    nft('add chain inet %s out { type filter hook output priority mangle; policy accept; }\n'
        'add rule inet %s out tcp dport { %s } tcp flags syn tcp option maxseg size set 1200\n'
        % (NFT_TABLE, NFT_TABLE, ', '.join(str(p) for p in ports)))


def run():
    enter_netns()
    find_nft(NFT_TABLE)
    v6 = have_ipv6_loopback()
    if not v6:
        note('IPv6 half skipped: the namespace has no ::1')
    with Daemon(conf(v6=v6)) as d:
        names = ['syn4', 'syn6'] if v6 else ['syn4']
        ip = {'syn4': 4, 'syn6': 6}

        # 1. loopback as it is
        for name in names:
            cl = clients(d, name)
            check_clients(d, name, cl, CLIENTS, loopback_mss, 'mss,sackok,ts,ws', ip[name])
        cl = clients(d, 'plain')
        wait_for(lambda: d.listener_stats('plain')['accepted'] >= CLIENTS, WAIT,
                 what='the plain listener\'s clients')
        check_eq(d.listener_stats('plain')['syn'], None, '/stats syn of a save_syn = no listener')
        for c in cl:
            line = d.wait_log(r'client %s connected to plain' % re_escape(c[0]), WAIT)
            check(' syn=' not in line.string, 'a save_syn = no connect line: %s' % line.string)
        m = scrape(d)
        check_eq(m.samples('synackd_listener_syn_saved_total', listener='plain'), [],
                 'synackd_listener_syn_saved_total of a save_syn = no listener')
        for name in names:
            check_eq(val(m, 'synackd_listener_syn_options_total', listener=name,
                             options='mss,sackok,ts,ws'), CLIENTS,
                     '%s: synackd_listener_syn_options_total{options="mss,sackok,ts,ws"}' % name)
            check_eq(val(m, 'synackd_listener_syn_mss_total', listener=name, mss='1200'),
                     None, '%s: SYNs of MSS 1200 before the rule' % name)

        # 2. a middlebox clamps the MSS
        clamp_mss([d.port(n) for n in names])
        for name in names:
            cl = clients(d, name)
            syn = check_clients(d, name, cl, 2 * CLIENTS, 1200, 'mss,sackok,ts,ws', ip[name])
            check_eq(syn['mss'].get('1200'), CLIENTS, '%s: /stats syn.mss["1200"]' % name)
        m = scrape(d)
        for name in names:
            check_eq(val(m, 'synackd_listener_syn_mss_total', listener=name, mss='1200'),
                     CLIENTS, '%s: synackd_listener_syn_mss_total{mss="1200"}' % name)
            check_eq(val(m, 'synackd_listener_syn_mss_total', listener=name, mss='none'), 0,
                     '%s: SYNs without an MSS' % name)
            check_eq(m.sum('synackd_listener_syn_mss_total', listener=name), 2 * CLIENTS,
                     '%s: synackd_listener_syn_mss_total, all values' % name)
        nft('delete chain inet %s out\n' % NFT_TABLE)

        # 3. no SACK, timestamps or window scaling (IPv6's TCP reads the same sysctls)
        for k in ('net.ipv4.tcp_sack', 'net.ipv4.tcp_timestamps', 'net.ipv4.tcp_window_scaling'):
            sysctl_set(k, 0)
        for name in names:
            cl = clients(d, name)
            check_clients(d, name, cl, 3 * CLIENTS, loopback_mss, 'mss', ip[name])
        m = scrape(d)
        for name in names:
            check_eq(val(m, 'synackd_listener_syn_options_total', listener=name, options='mss'),
                     CLIENTS, '%s: synackd_listener_syn_options_total{options="mss"}' % name)
            check_eq(val(m, 'synackd_listener_syn_options_total', listener=name,
                             options='mss,sackok,ts,ws'), 2 * CLIENTS,
                     '%s: the earlier option sets' % name)
        for k in ('net.ipv4.tcp_sack', 'net.ipv4.tcp_timestamps', 'net.ipv4.tcp_window_scaling'):
            sysctl_set(k, 1)

        # 4. a reload turns it on for the plain listener's socket
        d.reload(conf(plain_save_syn='yes', v6=v6), timeout=WAIT)
        # "reload: done": each worker has set it on its own socket
        vals = listening_sockopt(d, d.port('plain'), socket.IPPROTO_TCP, TCP_SAVE_SYN)
        check(vals and all(v == 1 for v in vals),
              'TCP_SAVE_SYN on the plain listener\'s sockets: %r' % vals)
        cl = clients(d, 'plain', 1)
        syn = syn_of(d, 'plain', 1)
        check_eq([x['peer'] for x in syn['last']], [cl[0][0]], 'plain: the SYN after the reload')
        echo_check(d.addr('plain'))


main(run, timeout=60)

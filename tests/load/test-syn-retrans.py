#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# SYN retransmissions, as the client's TCP_INFO counts them right after
# each handshake.
#
# In a network namespace of its own, an nftables rule drops the first SYN
# of every connection to synackd's echo port and lets its retransmission
# through: a set of (source address . source port) with a timeout; a SYN
# whose key is in the set is accepted, any other is added to it and
# dropped.  Then every connection of `synack-load -m rr -c 4` needed
# exactly one retransmission: "syn_retrans" is {"0": 0, "1": 4, ...}, the
# connect latency of those connections ("connect_latency_retrans_us") is
# about the initial RTO of one second, none is in the "no retransmission"
# row, the time series counts the 4 retransmissions, and the summary
# (written by `merge` from the JSON report, the one writer of both) has the
# hint that says what they mean.  The merge of the report with itself
# sums the distributions.  Without the rule: all 4 in "0", no hint.
#
# With --fastopen and a cookie cached (net.ipv4.tcp_fastopen = 3, an echo
# server of the test's own with TCP_FASTOPEN), the first SYN carries the
# request: dropped, the kernel retransmits the SYN without it and sends the
# request again after the handshake.  That is one SYN retransmission, not
# two: every handshake is in "1".
import csv
import json
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import Server, check_clean, echo_daemon, echo_serve, run_load, target_of  # noqa: E402
from netns import enter_netns, find_nft, nft, sysctl_set  # noqa: E402
from synacktest import check, check_eq, main, make_tempdir  # noqa: E402

NFT_TABLE = 'synack_load_test'
CONNS = 4
HINT = 'the listen queue overflowed'


def drop_first_syns(port):
    nft('add set inet {t} seen {{ type ipv4_addr . inet_service; flags dynamic, timeout; '
        'timeout 60s; }}\n'
        'add chain inet {t} firstsyn {{ type filter hook input priority 0; policy accept; }}\n'
        'add rule inet {t} firstsyn tcp dport {p} tcp flags & (syn | ack) == syn '
        'ip saddr . tcp sport @seen accept\n'
        'add rule inet {t} firstsyn tcp dport {p} tcp flags & (syn | ack) == syn '
        'add @seen {{ ip saddr . tcp sport }} drop\n'.format(t=NFT_TABLE, p=port))


def pass_syns():
    nft('delete chain inet {t} firstsyn\ndelete set inet {t} seen\n'.format(t=NFT_TABLE))


def summary_of(path):
    """The summary of a report, as `merge` writes it from the JSON."""
    r = run_load(['merge', path], want_json=False)
    check_eq(r.rc, 0, 'merge of %s\n%s' % (path, r.describe()))
    return r.out


def dist(rep):
    check('syn_retrans' in rep, 'the report has no "syn_retrans": %r' % sorted(rep))
    return rep['syn_retrans']


def with_rule(target, tmp):
    path = os.path.join(tmp, 'retrans.json')
    series = os.path.join(tmp, 'retrans.csv')
    r = run_load(['-m', 'rr', '-c', str(CONNS), '-d', '3', '-q', '--timeseries', series,
                  target])
    rep = check_clean(r, 'rr', target)
    check_eq(dist(rep), {'0': 0, '1': CONNS, '2': 0, '3+': 0},
             'every connection had its SYN retransmitted once\n' + r.describe())
    late = rep['connect_latency_retrans_us']
    check_eq(late['count'], CONNS, 'connect latencies after a retransmission')
    check(late['min'] >= 900000 and late['max'] < 2900000,
          'a retransmitted SYN costs about the initial RTO of 1 s: %r' % late)
    check_eq(rep['connect_latency_no_retrans_us']['count'], 0,
             'no connection without a retransmission')
    check_eq(rep['histograms']['connect_retrans']['count'], CONNS, 'its histogram')
    check_eq(rep['handshake_rtt_us']['count'], CONNS, 'an RTT for every handshake')
    check_eq(sum(iv['syn_retransmits'] for iv in rep['intervals']), CONNS,
             'the time series counts the retransmissions')
    with open(series, newline='') as f:
        rows = list(csv.DictReader(f))
    check_eq(sum(int(row['syn_retrans']) for row in rows), CONNS, 'the CSV counts them')
    with open(path, 'w') as f:
        f.write(r.out)
    text = summary_of(path)
    check(HINT in text and 'initial RTO' in text, 'the summary has the hint:\n' + text)
    check('0: 0, 1: %d, 2: 0, 3+: 0' % CONNS in text, 'the summary has the distribution:\n'
          + text)
    m = run_load(['merge', '--json', path, path], want_json=False)
    check_eq(m.rc, 0, 'merge\n' + m.describe())
    merged = json.loads(m.out)
    check_eq(merged['syn_retrans'], {'0': 0, '1': 2 * CONNS, '2': 0, '3+': 0},
             'merge sums the distributions')
    check_eq(merged['connect_latency_retrans_us']['count'], 2 * CONNS, 'and the latencies')


def without_rule(target, tmp):
    path = os.path.join(tmp, 'clean.json')
    r = run_load(['-m', 'rr', '-c', str(CONNS), '-d', '1', '-q', target])
    rep = check_clean(r, 'rr', target)
    check_eq(dist(rep), {'0': CONNS, '1': 0, '2': 0, '3+': 0}, 'no retransmission')
    check_eq(rep['connect_latency_retrans_us']['count'], 0, 'none after a retransmission')
    check_eq(rep['connect_latency_no_retrans_us']['count'], CONNS, 'all without')
    with open(path, 'w') as f:
        f.write(r.out)
    text = summary_of(path)
    check('SYN retrans' in text and HINT not in text, 'no hint without retransmissions:\n'
          + text)


def fastopen_with_rule():
    sysctl_set('net.ipv4.tcp_fastopen', 3)
    srv = Server(echo_serve)
    try:
        srv.lst.setsockopt(socket.IPPROTO_TCP, socket.TCP_FASTOPEN, 16)
        args = ['-m', 'crr', '-c', '2', '-q', '--fastopen', srv.target]
        rep = check_clean(run_load(args + ['-d', '0.3']), 'crr', srv.target)
        check(rep['syn_data'] > 0, 'the cookie is cached: %r' % rep['syn_data'])
        drop_first_syns(srv.lst.getsockname()[1])
        r = run_load(args + ['-d', '3'])
        rep = check_clean(r, 'crr', srv.target)
        n = sum(dist(rep).values())
        check(n >= 2, 'handshakes were read: %d\n%s' % (n, r.describe()))
        check_eq(dist(rep), {'0': 0, '1': n, '2': 0, '3+': 0},
                 'one SYN retransmission each, the request sent again not counted\n'
                 + r.describe())
        pass_syns()
    finally:
        srv.close()


def run():
    enter_netns()
    find_nft(NFT_TABLE)
    tmp = make_tempdir()
    with echo_daemon() as d:
        target = target_of(d)
        drop_first_syns(d.port('echo'))
        with_rule(target, tmp)
        pass_syns()
        without_rule(target, tmp)
    fastopen_with_rule()


main(run, timeout=60)

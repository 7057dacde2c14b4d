#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# udp-stream: a stream of datagrams, paced by --rate or flat out, against
# bench/echo-udp and UDP servers of the test's own.  Paced at 2000
# datagrams a second for a second against the reference: about 2000 sent,
# all of them back and verified, no loss, an RFC 3550 jitter above 0 and
# below 10 ms, open loop in the report.  Every 10th dropped: 10% loss
# within a point.  Every one answered twice: a duplicate per answer, no
# loss.  Flat out: it sends more than a paced run would and still exits
# 0.  A --size that cannot carry the number and the time is a usage error.
# merge of two udp-stream reports sums the datagrams, computes the loss
# again and gives the jitter of all the sockets (the mean weighted by
# each report's sockets); its summary has the datagrams and jitter lines.
# A datagram held back 1 s by the server, from before the end of --warmup
# to after it, is late and leaves the count of lost datagrams at 0 or 1
# (it wrapped around below 0 when a late arrival took a loss back).
import json
import os
import sys
import threading

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import (UdpServer, check_report, echo_udp, run_load,  # noqa: E402
                      synack_load_path)
from synacktest import Command, check, check_eq, main, make_tempdir  # noqa: E402


def stream_run(target, args, what):
    r = run_load(['-m', 'udp-stream'] + args + [target])
    check_eq(r.rc, 0, '%s: exit code\n%s' % (what, r.describe()))
    rep = check_report(r, 'udp-stream', target)
    g = rep['datagrams']
    for k in ('sent', 'answered', 'lost', 'loss_pct', 'duplicate', 'reordered', 'jitter_us'):
        check(k in g, '%s: datagrams.%s in the report: %r' % (what, k, g))
    check_eq(g['answered'], rep['requests'], '%s: answered datagrams are the requests' % what)
    check_eq(rep['errors']['verify'], 0, '%s: verify errors' % what)
    return rep, g


def check_merge(a, b):
    tmp = make_tempdir()
    names = []
    for i, rep in enumerate((a, b)):
        names.append(os.path.join(tmp, 'r%d.json' % i))
        with open(names[-1], 'w') as f:
            json.dump(rep, f)
    m = Command([synack_load_path(), 'merge', '--json'] + names).finish(30)
    check_eq(m.rc, 0, 'merge: exit code\n' + m.describe())
    got = json.loads(m.out)['datagrams']
    ga, gb = a['datagrams'], b['datagrams']
    for k in ('sent', 'answered', 'lost', 'late', 'duplicate', 'reordered', 'jitter_sockets'):
        check_eq(got[k], ga[k] + gb[k], 'merge: datagrams.%s' % k)
    known = got['answered'] + got['lost']
    check(abs(got['loss_pct'] - 100.0 * got['lost'] / known) < 1e-3, 'merge: loss %r' % got)
    want = ((ga['jitter_us'] * ga['jitter_sockets'] + gb['jitter_us'] * gb['jitter_sockets'])
            / got['jitter_sockets'])
    check(abs(got['jitter_us'] - want) < 0.01, 'merge: jitter %r, expected %.3f' % (got, want))
    m = Command([synack_load_path(), 'merge'] + names).finish(30)
    check_eq(m.rc, 0, 'merge summary: exit code\n' + m.describe())
    check('datagrams    %d sent' % got['sent'] in m.out and 'jitter ' in m.out,
          'merge summary: the datagrams and the jitter\n' + m.describe())


def run():
    p, target = echo_udp()
    rep, g = stream_run(target, ['-c', '2', '-R', '2000', '-d', '1'], 'paced')
    check_eq(rep['model'], 'open', 'paced: the load model')
    check(1800 <= g['sent'] <= 2200, 'paced: %d sent at 2000/s for 1 s' % g['sent'])
    # all but the tail in flight at the end (tens of ms on a busy machine)
    check(g['answered'] >= g['sent'] - 100, 'paced: answered %r' % g)
    check(g['loss_pct'] < 1.0, 'paced: loss on loopback %r' % g)
    check(0 < g['jitter_us'] < 10000, 'paced: jitter %r' % g)
    paced = g['sent']

    rep, g = stream_run(target, ['-c', '1', '-d', '1'], 'flat out')
    check(g['sent'] > paced, 'flat out sends more than 2000 a second: %r' % g)
    check(g['answered'] > 0, 'flat out: answers %r' % g)
    p.proc.kill()
    p.proc.wait()

    s = UdpServer(lambda d, n: [] if n % 10 == 0 else [d])
    rep, g = stream_run(s.target, ['-c', '2', '-R', '1000', '-d', '1'], 'loss')
    check(g['answered'] > 500, 'loss: %r' % g)
    check(abs(g['loss_pct'] - 10.0) <= 1.0, 'loss: %.2f%%, expected 10%% within a point: %r'
          % (g['loss_pct'], g))
    rep2, _ = stream_run(s.target, ['-c', '3', '-R', '600', '-d', '0.5'], 'loss, again')
    s.close()
    check_merge(rep, rep2)

    s = UdpServer(lambda d, n: [d, d])
    rep, g = stream_run(s.target, ['-c', '2', '-R', '1000', '-d', '0.5'], 'duplicates')
    check(g['answered'] > 200, 'duplicates: %r' % g)
    check(g['answered'] - 2 <= g['duplicate'] <= g['answered'],
          'duplicates: one per answer: %r' % g)
    check_eq(g['lost'], 0, 'duplicates: lost')
    s.close()

    # one datagram held back a second, across the end of the warm-up: it was
    # skipped (and found lost) during the warm-up, it arrives after it: late,
    # and the count of lost datagrams does not go below 0
    box = []

    def hold(d, n):
        if n != 20:
            return [d]
        s, peer = box[0], box[0].peer

        def send():
            try:
                s.sock.sendto(d, peer)
            except OSError:
                pass
        t = threading.Timer(1.0, send)
        t.daemon = True
        t.start()
        return []
    s = UdpServer(hold)
    box.append(s)
    rep, g = stream_run(s.target, ['-c', '1', '-R', '200', '--warmup', '0.5', '-d', '1.5'],
                        'warm-up')
    s.close()
    check(g['lost'] <= 1 and g['late'] == 1 and g['reordered'] == 1,
          'warm-up: the datagram held back is late, nothing lost: %r' % g)
    check(g['loss_pct'] <= 1.0, 'warm-up: loss %r' % g)

    r = run_load(['-m', 'udp-stream', '-s', '15', '-d', '1', target], want_json=False)
    check_eq(r.rc, 2, '--size 15: exit code\n' + r.describe())
    check('udp-stream sends datagrams of 16 to 65507 bytes' in r.err,
          '--size 15: the message\n' + r.describe())


main(run, timeout=90)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# udp-rr --rate: open loop.  Against bench/echo-udp at 400 datagrams a
# second: about 400 due and sent, each answered, none lost.  Against a
# server that answers 50 ms late, several datagrams are in flight per
# socket: the rate holds (closed loop would manage 20 a second) and the
# latency is the 50 ms.  A server that stalls 0.4 s once: the datagrams
# due meanwhile count their latency from their scheduled times, so p90 is
# above 100 ms (closed loop would see one slow answer).  Every 10th dropped:
# 10% lost within a point, none late.  Every 10th answered 300 ms late
# with --request-timeout 100ms: lost, then late (but those the end of the
# run cut short).  Each run waits for the datagrams in flight when it
# ends, so that answered + lost = sent (else the loss of the last 100 ms
# is missing from the loss: 9% for 10%).  A rate and timeout that keep more than 32,768 datagrams
# in flight per socket are a usage error naming --request-timeout (the
# same rate with a shorter one runs); --rate for crr is still refused.
import os
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import UdpServer, check_report, echo_udp, hist_percentile, run_load  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402


def paced(target, args, what, rc=0):
    r = run_load(['-m', 'udp-rr'] + args + [target])
    check_eq(r.rc, rc, '%s: exit code\n%s' % (what, r.describe()))
    rep = check_report(r, 'udp-rr', target)
    check_eq(rep['model'], 'open', '%s: the load model' % what)
    g = rep['datagrams']
    check_eq(g['answered'], rep['requests'], '%s: answered datagrams are the requests' % what)
    check_eq(g['sent'], rep['schedule']['sent'], '%s: datagrams sent are the schedule\'s' % what)
    check_eq(rep['errors']['verify'], 0, '%s: verify errors' % what)
    # the run waits for those in flight: each is answered or lost
    check_eq(g['answered'] + g['lost'], g['sent'], '%s: answered and lost are the sent: %r'
             % (what, g))
    return rep, g


def later(server, delay):
    """An answer that leaves `delay` seconds from now, to the datagram's source."""
    peer = server.peer

    def send(d):
        try:
            server.sock.sendto(d, peer)
        except OSError:
            pass  # closed: the run is over

    def answer(d):
        t = threading.Timer(delay, send, (d,))
        t.daemon = True
        t.start()
    return answer


def run():
    p, target = echo_udp()
    rep, g = paced(target, ['-R', '400', '-c', '4', '-d', '1', '--request-timeout', '500ms'],
                   'echo-udp')
    check(350 <= rep['schedule']['due'] <= 450, 'echo-udp: %d due at 400/s for 1 s'
          % rep['schedule']['due'])
    check(g['sent'] >= rep['schedule']['due'] - 4, 'echo-udp: all due sent: %r' % g)
    for k in ('lost', 'late', 'duplicate', 'reordered'):
        check_eq(g[k], 0, 'echo-udp: %s' % k)
    check(g['answered'] >= g['sent'] - 4, 'echo-udp: answered %r' % g)
    p.proc.kill()
    p.proc.wait()

    # answered 50 ms late: 200 a second on one socket, ten in flight
    box = []
    s = UdpServer(lambda d, n: later(box[0], 0.05)(d) or [])
    box.append(s)
    rep, g = paced(s.target, ['-R', '200', '-c', '1', '-d', '1.5', '--request-timeout', '1s'],
                   'delayed')
    s.close()
    check(g['answered'] >= 250, 'delayed: several in flight, %d answered in 1.5 s: %r'
          % (g['answered'], g))
    check_eq(g['lost'], 0, 'delayed: lost')
    lat = rep['latency_us']
    check(45000 <= lat['p50'] <= 150000, 'delayed: latency about 50 ms: %r' % lat)

    # one stall of 0.4 s: the datagrams due meanwhile wait in the socket
    def stall(d, n):
        if n == 60:
            time.sleep(0.4)
        return [d]
    s = UdpServer(stall)
    rep, g = paced(s.target, ['-R', '200', '-c', '2', '-d', '1.5', '--request-timeout', '1s'],
                   'stall')
    s.close()
    check_eq(g['lost'], 0, 'stall: lost')
    h = rep['histograms']['latency']
    check(hist_percentile(h, 90) >= 100e6,
          'stall: latency from the schedule, p90 %.1f ms' % (hist_percentile(h, 90) / 1e6))

    s = UdpServer(lambda d, n: [] if n % 10 == 0 else [d])
    rep, g = paced(s.target, ['-R', '1000', '-c', '4', '-d', '1', '--request-timeout', '100ms'],
                   'loss')
    s.close()
    check(abs(g['loss_pct'] - 10.0) <= 1.0, 'loss: %.2f%%, expected 10%% within a point: %r'
          % (g['loss_pct'], g))
    check_eq(g['late'], 0, 'loss: late')

    box = []
    s = UdpServer(lambda d, n: (later(box[0], 0.3)(d) or []) if n % 10 == 0 else [d])
    box.append(s)
    rep, g = paced(s.target, ['-R', '500', '-c', '2', '-d', '1.5', '--request-timeout', '100ms'],
                   'late')
    s.close()
    check(abs(g['loss_pct'] - 10.0) <= 1.5, 'late: about 10%% lost: %r' % g)
    # answered after the run are not late: 0.3 s at 50 a second of them
    check(g['lost'] - 25 <= g['late'] <= g['lost'], 'late: the lost came later: %r' % g)

    r = run_load(['-m', 'udp-rr', '-R', '100k', '-c', '1', '-d', '1', target], want_json=False)
    check_eq(r.rc, 2, 'too many in flight: exit code\n' + r.describe())
    check('are too many in flight' in r.err and '--request-timeout' in r.err,
          'too many in flight: the message\n' + r.describe())
    r = run_load(['-m', 'udp-rr', '-R', '100k', '-c', '1', '--request-timeout', '100ms',
                  '-d', '0.1', '127.0.0.1:9'], want_json=False)
    check(r.rc != 2, 'the same rate with a shorter timeout runs\n' + r.describe())
    r = run_load(['-m', 'crr', '-R', '100', target], want_json=False)
    check_eq(r.rc, 2, '--rate for crr: exit code\n' + r.describe())
    check('it is for rr, udp-rr and udp-stream' in r.err, '--rate for crr\n' + r.describe())


main(run, timeout=90)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# udp-rr: request/response over UDP, against bench/echo-udp and against
# UDP servers of the test's own.  Against the reference every datagram is
# answered and verified (no loss, no duplicate, nothing late, exit 0);
# against a server that drops every 10th datagram the loss is 10% within a
# point; one that answers twice gives a duplicate per answer and no loss;
# one that changes a byte of one datagram gives one verify error, exit 1;
# where nothing listens (a port held by a socket connected elsewhere, so
# the kernel answers with ICMP port unreachable) every socket is refused,
# nothing completes, exit 3, and the summary names ICMP, not a SYN.  A
# --size that a datagram cannot carry is a usage error.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import UdpServer, check_report, echo_udp, run_load  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402


def udp_run(target, args, rc=0, what='udp-rr'):
    r = run_load(['-m', 'udp-rr'] + args + [target])
    check_eq(r.rc, rc, '%s: exit code\n%s' % (what, r.describe()))
    rep = check_report(r, 'udp-rr', target)
    g = rep['datagrams']
    for k in ('sent', 'answered', 'lost', 'loss_pct', 'late', 'duplicate', 'reordered'):
        check(k in g, '%s: datagrams.%s in the report: %r' % (what, k, g))
    check_eq(g['answered'], rep['requests'], '%s: answered datagrams are the requests' % what)
    if rep['errors']['verify'] == 0 and rep['errors']['refused'] == 0:
        # the run waits for the datagram in flight on each socket
        check_eq(g['answered'] + g['lost'], g['sent'], '%s: answered and lost are the sent: %r'
                 % (what, g))
    return rep, g


def run():
    p, target = echo_udp()
    rep, g = udp_run(target, ['-c', '4', '-d', '0.5', '-s', '100'], what='echo-udp')
    check(rep['requests'] > 100, 'echo-udp: %d requests' % rep['requests'])
    check_eq(rep['bytes_received'], 100 * rep['requests'], 'bytes received')
    check_eq(g['sent'], g['answered'], 'echo-udp: every datagram answered, the last ones too')
    for k in ('lost', 'late', 'duplicate', 'reordered'):
        check_eq(g[k], 0, 'echo-udp: %s' % k)
    check_eq(rep['latency_us']['count'], rep['requests'], 'a latency per answer')
    p.proc.kill()
    p.proc.wait()

    # every 10th datagram the server receives is dropped
    s = UdpServer(lambda d, n: [] if n % 10 == 0 else [d])
    rep, g = udp_run(s.target, ['-c', '8', '-d', '1', '--request-timeout', '100ms'], what='loss')
    check(g['answered'] > 100, 'loss: %r' % g)
    check(abs(g['loss_pct'] - 10.0) <= 1.0, 'loss: %.2f%%, expected 10%% within a point: %r'
          % (g['loss_pct'], g))
    # lost: dropped, or answered after the timeout (late); the run waits
    # for the last datagrams, so every drop is lost, and a late answer may
    # come after its socket closed: one per socket at most
    check(s.n // 10 <= g['lost'] - g['late'] <= s.n // 10 + 8,
          'loss: %d dropped of %d, %r' % (s.n // 10, s.n, g))
    check_eq(rep['errors']['verify'], 0, 'loss: no verify error')
    s.close()

    # every datagram answered twice
    s = UdpServer(lambda d, n: [d, d])
    rep, g = udp_run(s.target, ['-c', '2', '-d', '0.5'], what='duplicates')
    check(g['answered'] > 50, 'duplicates: %r' % g)
    check(g['answered'] - 2 <= g['duplicate'] <= g['answered'],
          'duplicates: one per answer: %r' % g)
    check_eq(g['lost'], 0, 'duplicates: lost')
    s.close()

    # one byte of the payload of the 50th datagram changed
    def corrupt(d, n):
        if n == 50:
            d = bytearray(d)
            d[20] ^= 1
            d = bytes(d)
        return [d]
    s = UdpServer(corrupt)
    r = run_load(['-m', 'udp-rr', '-c', '2', '-d', '0.5', s.target])
    check_eq(r.rc, 1, 'verify: exit code\n' + r.describe())
    rep = check_report(r, 'udp-rr', s.target)
    check_eq(rep['errors']['verify'], 1, 'verify errors')
    check('byte 20 of 64' in r.err, 'verify: the message says which byte\n' + r.describe())
    check(rep['requests'] > 50, 'verify: the other socket went on: %d' % rep['requests'])
    s.close()

    # nothing listens: the port is held by a socket connected to another
    # peer, which takes none of our datagrams, so the kernel refuses them
    hold = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    hold.bind(('127.0.0.1', 0))
    hold.connect(('127.0.0.1', 9))
    target = '127.0.0.1:%d' % hold.getsockname()[1]
    r = run_load(['-m', 'udp-rr', '-c', '3', '-d', '5', target])
    check_eq(r.rc, 3, 'refused: exit code\n' + r.describe())
    rep = check_report(r, 'udp-rr', target)
    check_eq(rep['errors']['refused'], rep['connections']['attempted'], 'refused: every socket')
    check_eq(rep['requests'], 0, 'refused: requests')
    check(r.elapsed < 3, 'refused: ends early, took %.1f s' % r.elapsed)
    r = run_load(['-m', 'udp-rr', '-c', '1', '-d', '5', target], want_json=False)
    check_eq(r.rc, 3, 'refused, summary: exit code\n' + r.describe())
    check('ICMP port unreachable' in r.out and 'SYN' not in r.out,
          'refused, summary: the cause named for UDP\n' + r.describe())
    hold.close()

    for size in ('7', '65508'):
        r = run_load(['-m', 'udp-rr', '-s', size, '-d', '1', target], want_json=False)
        check_eq(r.rc, 2, '--size %s: exit code\n%s' % (size, r.describe()))
        check('udp-rr sends datagrams of 8 to 65507 bytes' in r.err,
              '--size %s: the message\n%s' % (size, r.describe()))


main(run, timeout=90)

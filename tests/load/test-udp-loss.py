#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# UDP loss on the path, measured by udp-rr and udp-stream.
#
# In a network namespace of its own, an nftables rule drops 5% of the
# datagrams to bench/echo-udp's port at random (numgen random; the answers
# are left alone, so 5% of the round trips fail).  udp-stream paced at 2000
# a second for 3 s and udp-rr with 300 ms to answer each report a loss
# within a point of 5%, no verify error, no duplicate; with the rule gone,
# no loss.  (The netem form, delay and jitter on the path as well, is
# tests/load/test-udp-netem.py: it needs sch_netem, which not every kernel
# has.)
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_report, echo_udp, run_load  # noqa: E402
from netns import enter_netns, find_nft, nft  # noqa: E402
from synacktest import check, check_eq, main  # noqa: E402

NFT_TABLE = 'synack_load_udp'


def measure(mode, target, args, what):
    r = run_load(['-m', mode] + args + [target])
    check_eq(r.rc, 0, '%s: exit code\n%s' % (what, r.describe()))
    rep = check_report(r, mode, target)
    g = rep['datagrams']
    check_eq(rep['errors']['verify'], 0, '%s: verify errors' % what)
    check_eq(g['duplicate'], 0, '%s: duplicates' % what)
    return g


def run():
    enter_netns()
    find_nft(NFT_TABLE)
    p, target = echo_udp()
    port = int(target.rsplit(':', 1)[1])
    nft('add chain inet {t} loss {{ type filter hook input priority 0; policy accept; }}\n'
        'add rule inet {t} loss udp dport {p} numgen random mod 100 < 5 drop\n'
        .format(t=NFT_TABLE, p=port))

    g = measure('udp-stream', target, ['-c', '4', '-R', '2000', '-d', '3'], 'udp-stream')
    check(g['answered'] > 4000, 'udp-stream: %r' % g)
    check(abs(g['loss_pct'] - 5.0) <= 1.0, 'udp-stream: loss %.2f%%, expected 5%% within a '
          'point: %r' % (g['loss_pct'], g))

    # an answer later than the timeout (a busy machine) is counted lost and
    # late: it was not lost on the path
    g = measure('udp-rr', target, ['-c', '32', '-d', '4', '--request-timeout', '300ms'],
                'udp-rr')
    check(g['answered'] > 3000, 'udp-rr: %r' % g)
    path = 100.0 * (g['lost'] - g['late']) / (g['answered'] + g['lost'])
    check(abs(path - 5.0) <= 1.0, 'udp-rr: loss on the path %.2f%%, expected 5%% within a '
          'point: %r' % (path, g))

    nft('delete chain inet {t} loss\n'.format(t=NFT_TABLE))
    g = measure('udp-stream', target, ['-c', '2', '-R', '2000', '-d', '1'], 'no rule')
    check_eq(g['lost'], 0, 'no rule: lost')
    p.proc.kill()
    p.proc.wait()


main(run, timeout=90)

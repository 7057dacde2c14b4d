#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A UDP listener never answers a datagram whose source port is one that
# any of synackd's own UDP listeners is bound to (the real port, port 0
# resolved): two listeners, or two synackd, cannot be set answering each
# other.  The client takes listener A's port on 127.0.0.2 (A is bound to
# 127.0.0.1 only, so the port is free there) and writes to listener B:
# dropped, logged; the same client on a TCP listener's port is answered
# (only UDP listeners' ports count).  The set follows reloads: a listener
# added by a reload is in it at once, a removed one's port is answered
# again.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check_eq, expect_silence, fail, listener,  # noqa: E402
                        main, parse_addr, server_section, wait_for)

OWN = r"from the port of one of synackd's own UDP listeners"


def udp_from(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.bind(('127.0.0.2', port))
    return s


def answered(d, port, dst, what):
    s = udp_from(port)
    s.sendto(b'from %d' % port, dst)
    try:
        data, _ = s.recvfrom(100)
    except socket.timeout:
        fail('%s: no answer within 5 s' % what)
    check_eq(data, b'from %d' % port, what)
    s.close()


def answers(port, dst):
    """Whether a datagram from port is answered within 0.2 s."""
    s = udp_from(port)
    s.settimeout(0.2)
    try:
        s.sendto(b'from %d' % port, dst)
        return s.recv(100) == b'from %d' % port
    except socket.timeout:
        return False
    finally:
        s.close()


def dropped(d, port, dst, what):
    s = udp_from(port)
    s.sendto(b'loop?', dst)
    expect_silence(s, 0.3)
    s.close()
    # the next answered datagram proves this one was read (and dropped) first
    answered(d, 0, dst, 'after a datagram %s' % what)


def run():
    conf = {'server': server_section(),
            'listener a': listener('echo', transport='udp'),
            'listener b': listener('echo', transport='udp'),
            'listener tcp': listener('echo')}
    with Daemon(conf) as d:
        b = d.addr('b')
        dropped(d, d.port('a'), b, "from listener a's port")
        # logged (at most once a second: the first one)
        d.wait_log(r'listener b: dropped a datagram of 5 bytes .*: ' + OWN)
        # b's own port too: a datagram that came back to it
        dropped(d, d.port('b'), b, "from listener b's own port")
        answered(d, d.port('tcp'), b, "from the TCP listener's port")

        # a reload adds c: its port is never answered from then on
        conf['listener c'] = listener('echo', transport='udp')
        mark = d.reload(conf)
        m = d.wait_log(r'listener c: listening on (\S+) ', start=mark)
        c = parse_addr(m.group(1))
        # a worker takes the new set of ports before it starts c, and
        # "reload: done" comes once it has
        answered(d, 0, c, 'listener c, added by a reload')
        dropped(d, c[1], b, "from the port of c, added by a reload")

        # a reload removes a: its port is a client's like any other again
        port_a = d.port('a')
        del conf['listener a']
        d.reload(conf)
        wait_for(lambda: answers(port_a, b), 10,
                 what="an answer from the port of a, removed by a reload")


if __name__ == '__main__':
    main(run)

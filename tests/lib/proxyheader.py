# SPDX-License-Identifier: ISC
# proxyheader: PROXY protocol headers (versions 1 and 2) built by hand, for
# the tests that play a proxy in front of synackd.
import socket
import struct

SIG = b'\r\n\r\n\x00\r\nQUIT\n'  # version 2's signature
V2_LOCAL = SIG + b'\x20\x00\x00\x00'  # a LOCAL header: the proxy's own connection


def v1(src, sport, dst='127.0.0.1', dport=7):
    """A version 1 header claiming src:sport -> dst:dport."""
    fam = 'TCP6' if ':' in src else 'TCP4'
    return ('PROXY %s %s %s %d %d\r\n' % (fam, src, dst, sport, dport)).encode()


def v2(src, sport, dst='127.0.0.1', dport=7, tlvs=b''):
    """A version 2 PROXY header claiming src:sport -> dst:dport, then tlvs."""
    if ':' in src:
        addrs = (socket.inet_pton(socket.AF_INET6, src) +
                 socket.inet_pton(socket.AF_INET6, dst) + struct.pack('!HH', sport, dport))
        fam = 0x21
    else:
        addrs = (socket.inet_aton(src) + socket.inet_aton(dst) +
                 struct.pack('!HH', sport, dport))
        fam = 0x11
    body = addrs + tlvs
    return SIG + bytes([0x21, fam]) + struct.pack('!H', len(body)) + body

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A worker's UDP sockets share one scratch area, sized for the largest
# max_datagram among them: 17 UDP listeners of max_datagram = 65535 on one
# worker take no more address space than one does, within a few MiB (with
# buffers per socket, 2 x 32 x 64 KiB each, the 16 more would take 64 MiB
# more).  The area grows when a larger max_datagram starts: a reload that
# raises a listener's max_datagram from 100 to 65535 echoes a 65,507-byte
# datagram whole.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, fail, listener, main, note,  # noqa: E402
                        parse_addr, sanitized, server_section)

EXTRA = 16
LIMIT_KIB = 16 * 1024


def vm_kib(pid):
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            if line.startswith('VmSize:'):
                return int(line.split()[1])
    fail('no VmSize in /proc/%d/status' % pid)


def echo(addr, payload, what):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    s.sendto(payload, addr)
    try:
        data, _ = s.recvfrom(65536)
    except socket.timeout:
        fail('%s: no answer within 5 s' % what)
    s.close()
    check_eq(data, payload, what)


def answered(addr, payload, timeout=0.2):
    """Whether payload comes back within timeout seconds."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(timeout)
    try:
        s.sendto(payload, addr)
        return s.recv(65536) == payload
    except socket.timeout:
        return False
    finally:
        s.close()


def address_space(n):
    conf = {'server': server_section(workers=1)}
    for i in range(n):
        conf['listener u%d' % i] = listener('echo', transport='udp', max_datagram=65535)
    with Daemon(conf) as d:
        big = os.urandom(65507)
        for i in range(n):
            echo(d.addr('u%d' % i), big, 'echo of 65,507 bytes on u%d' % i)
        if sanitized(d.pid):
            return None
        return vm_kib(d.pid)


def run():
    one = address_space(1)
    many = address_space(1 + EXTRA)
    if one is None or many is None:
        note('AddressSanitizer maps memory its own way: the address space is not compared')
    else:
        note('VmSize: %d KiB with one UDP listener, %d KiB with %d' % (one, many, 1 + EXTRA))
        check(many - one < LIMIT_KIB,
              '%d more UDP listeners of max_datagram 65535 took %d KiB more address space '
              '(at most %d): buffers per socket, not per worker?' %
              (EXTRA, many - one, LIMIT_KIB))

    # the area grows when a reload starts a larger max_datagram
    conf = {'server': server_section(workers=1),
            'listener small': listener('echo', transport='udp', max_datagram=100)}
    with Daemon(conf) as d:
        echo(d.addr('small'), b'y' * 100, 'echo of 100 bytes')
        conf['listener small'] = listener('echo', transport='udp', max_datagram=65535)
        mark = d.reload(conf)
        addr = parse_addr(d.wait_log(r'listener small: listening on (\S+) ', start=mark).group(1))
        # "reload: done": the worker has the new listener and its larger area
        check(answered(addr, b'z' * 101, timeout=5),
              'a 101-byte datagram answered under the new max_datagram\n' + d.describe())
        echo(addr, os.urandom(65507),
             'echo of 65,507 bytes after max_datagram went from 100 to 65535')


if __name__ == '__main__':
    main(run, timeout=60)

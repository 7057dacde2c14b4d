#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# discard: bytes are accepted and dropped, nothing comes back, the connection
# stays open afterwards, and the debug close line counts the bytes in.
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check_eq, connect, expect_silence, fmt_addr, listener,  # noqa: E402
                        main, server_section)

SIZE = 4 << 20


def run():
    conf = {'server': server_section(log_level='debug'),
            'listener sink': listener('discard')}
    with Daemon(conf) as d:
        addr = d.addr('sink')
        s = connect(addr, timeout=10)
        me = fmt_addr(s.getsockname())
        d.wait_log(r'client %s connected to sink' % re.escape(me))
        data = os.urandom(SIZE)
        s.sendall(data)
        # nothing comes back, and the connection is not closed
        expect_silence(s, 1.0)
        s.sendall(b'still there\n')
        expect_silence(s, 0.3)
        total = SIZE + len(b'still there\n')
        # the daemon read everything: its close line counts the bytes in
        s.shutdown(socket.SHUT_WR)
        m = d.wait_log(r'client %s disconnected from sink: ([^,]+), (\d+) bytes in, '
                       r'(\d+) bytes out' % re.escape(me), timeout=10)
        check_eq(m.group(1), 'closed by peer', 'close reason')
        check_eq(int(m.group(2)), total, 'bytes in on the close line')
        check_eq(int(m.group(3)), 0, 'bytes out on the close line')
        # and the daemon closed its side without ever sending a byte
        s.settimeout(5)
        check_eq(s.recv(100), b'', 'what the client reads after the close')
        s.close()



main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# defer_accept: with defer_accept = N the kernel holds a new connection until
# its first data arrives, so the daemon does not see a client that only
# connected; once it sends, it is accepted and served.
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, connect, echo_roundtrip, fmt_addr,  # noqa: E402
                        listener, main, server_section, wait_for)


def run():
    conf = {'server': server_section(log_level='debug'),
            'listener da': listener('echo', defer_accept=10),
            'listener now': listener('echo')}
    with Daemon(conf) as d:
        # without defer_accept the client is accepted at once
        n = connect(d.addr('now'))
        d.wait_log(r'client %s connected to now' % re.escape(fmt_addr(n.getsockname())))

        s = connect(d.addr('da'))
        me = fmt_addr(s.getsockname())
        rx = r'client %s connected to da' % re.escape(me)
        # a bounded look: no accept for a client that has sent nothing (the
        # whole 1.5 s is waited for: that nothing happens is what is checked)
        check(not wait_for(lambda: d.find_log(rx), 1.5, interval=0.05),
              'defer_accept = 10: the daemon accepted a client that had sent nothing')
        echo_roundtrip(s, b'first data\n')
        d.wait_log(rx, timeout=2)
        for x in (s, n):
            abort(x)


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A reload's idle_timeout reaches the clients already connected:
#  1. idle_timeout 300 -> 2: a client idle since before the reload is
#     closed about 2 s after its last activity (it used to stay open for
#     the old 300 s), while a client that keeps talking stays;
#  2. idle_timeout 2 -> 0: a client connected under the 2 s timeout stays
#     open well past 2 s and still echoes.
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, connect, echo_roundtrip,  # noqa: E402
                        expect_silence, fmt_addr, listener, main, note, server_section)


def conf(idle):
    return {'server': server_section(log_level='debug', idle_timeout=idle),
            'listener echo': listener('echo')}


def reload(d, idle):
    d.reload(conf(idle))


def test():
    d = Daemon(conf(300))
    idle = connect(d.addr('echo'))
    talker = connect(d.addr('echo'))
    echo_roundtrip(idle, b'last words\n')
    last = time.monotonic()

    reload(d, 2)
    t_reload = time.monotonic()
    # the talker keeps talking while the idle one times out
    closed = None
    n = 0
    while time.monotonic() - t_reload < 8 and closed is None:
        echo_roundtrip(talker, b'tick %d\n' % n)
        n += 1
        idle.settimeout(0.25)
        try:
            data = idle.recv(1)
        except TimeoutError:
            continue
        check_eq(data, b'', 'what the idle client receives')
        closed = time.monotonic()
    check(closed is not None, 'a client idle since before the reload to idle_timeout 2 '
          'was still open 8 s later')
    note('closed %.2f s after its last activity, %.2f s after the reload' %
         (closed - last, closed - t_reload))
    check(1.5 <= closed - last <= 3.0, 'closed %.2f s after its last activity, expected '
          'about 2 s' % (closed - last))
    echo_roundtrip(talker, b'still here\n')

    reload(d, 0)
    echo_roundtrip(talker, b'under idle_timeout 0\n')
    d.wait_log(r'client %s disconnected from echo: idle timeout' %
               re.escape(fmt_addr(idle.getsockname())))
    idle.close()
    expect_silence(talker, 3.5)
    echo_roundtrip(talker, b'open 3.5 s after its last activity\n')
    talker.close()
    d.stop()


main(test, 60)

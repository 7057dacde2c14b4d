#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# idle_timeout: a silent client is closed after about idle_timeout seconds
# (reason "idle timeout"); a client that keeps talking stays open, through
# reads alone too (discard); a long idle_timeout does not wrap around.
import os
import re
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, connect, echo_roundtrip,  # noqa: E402
                        expect_silence, fmt_addr, listener, main, note, recv_until_eof,
                        server_section)


def run():
    conf = {'server': server_section(log_level='debug', idle_timeout=1),
            'listener echo': listener('echo'),
            'listener sink': listener('discard')}
    with Daemon(conf) as d:
        # silent client
        s = connect(d.addr('echo'))
        me = fmt_addr(s.getsockname())
        t0 = time.monotonic()
        data, how = recv_until_eof(s, timeout=8)
        took = time.monotonic() - t0
        note('idle client closed after %.2f s (%s)' % (took, how))
        s.close()
        check_eq(data, b'', 'bytes an idle echo client receives')
        check(0.8 <= took <= 1.8, 'an idle client must be closed after ~1 s '
              '(idle_timeout = 1), it took %.2f s' % took)
        m = d.wait_log(r'client %s disconnected from echo: ([^,]+),' % re.escape(me))
        check_eq(m.group(1), 'idle timeout', 'close reason')

        # a talking client stays open
        k = connect(d.addr('echo'))
        q = connect(d.addr('sink'))
        end = time.monotonic() + 3.0
        n = 0
        while time.monotonic() < end:
            echo_roundtrip(k, b'tick %d\n' % n)
            q.sendall(b'tock %d\n' % n)
            expect_silence(q, 0.3)
            n += 1
        echo_roundtrip(k, b'still open after 3 s\n')
        expect_silence(q, 0.05)
        q.sendall(b'still open\n')
        # once it stops talking, it is closed too
        t0 = time.monotonic()
        data, _ = recv_until_eof(k, timeout=8)
        check_eq(data, b'', 'bytes after the last echo')
        check(time.monotonic() - t0 <= 5.0, 'the client went quiet but was not '
              'closed within 5 s')
        data, _ = recv_until_eof(q, timeout=8)
        check_eq(data, b'', 'bytes a discard client receives')
        k.close()
        q.close()

    # a long idle_timeout (its milliseconds overflow 32 bits: taken modulo
    # 2^32 it would be 704 ms) keeps an idle client open
    conf = {'server': server_section(idle_timeout=4294968),
            'listener echo': listener('echo')}
    with Daemon(conf) as d:
        s = connect(d.addr('echo'))
        echo_roundtrip(s, b'hello\n')
        expect_silence(s, 2.0)
        echo_roundtrip(s, b'still open after 2 s of 4294968\n')
        s.close()


main(run)

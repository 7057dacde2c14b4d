#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# A reload that changes a TCP listener's service on the port it holds
# (the port read back from the daemon, then written into the file) never
# loses the listener.  The new sockets are had before the old ones close:
#  1. reuseport = no (one worker or two): a new socket may not share the
#     port while the old one is open (synackd binds one without
#     SO_REUSEPORT first, so as not to share a port silently), so the
#     listener stays as it was (echo, on its port), and the log says why;
#     before, it retired first and was lost;
#  2. reuseport = yes (one worker or two): the new service takes the port,
#     while a client of the old one goes on with echo.
import os
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, connect, echo_roundtrip,  # noqa: E402
                        expect_silence, listener, main, server_section)


def conf(workers, service, port=0, **kw):
    return {'server': server_section(workers=workers),
            'listener a': listener(service, port=port, **kw)}


def test():
    # 1: the port cannot be shared: the listener stays, serving echo
    for workers in (1, 2):
        with Daemon(conf(workers, 'echo')) as d:
            port = d.port('a')
            mark = d.reload(conf(workers, 'discard', port=port))
            d.wait_log(r'error: reload: listener a: bind 127\.0\.0\.1:%d: Address already '
                       r'in use; still listening on 127\.0\.0\.1:%d as before' % (port, port),
                       start=mark)
            s = connect(('127.0.0.1', port))
            echo_roundtrip(s, b'still echo\n', what='listener a after the refused change')
            s.close()

    # 2: SO_REUSEPORT on both sockets: the new service takes the port
    for workers in (1, 2):
        with Daemon(conf(workers, 'echo', reuseport='yes')) as d:
            port = d.port('a')
            old = connect(('127.0.0.1', port))
            echo_roundtrip(old, b'before\n', what='a client of echo')
            mark = d.reload(conf(workers, 'discard', port=port, reuseport='yes'))
            d.wait_log(r'listener a: listening on 127\.0\.0\.1:%d service=discard' % port,
                       start=mark)
            d.wait_log(r'listener a: changed by reload, closing', start=mark)
            echo_roundtrip(old, b'after\n', what='the echo client through the change')
            old.close()
            s = connect(('127.0.0.1', port))
            s.sendall(b'into discard\n')
            expect_silence(s, 0.3)
            s.close()


if __name__ == '__main__':
    main(test, 60)

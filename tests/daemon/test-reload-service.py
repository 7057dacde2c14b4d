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
#  3. a file that only pins the port that port 0 got changes nothing: the
#     TCP listener keeps its sockets (no new bind, which failed before with
#     'Address already in use' and left a needless error), and a UDP one
#     whose service changes at the same time goes on on its very sockets.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, connect, echo_roundtrip,  # noqa: E402
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

    # 3: pinning the port port 0 got is no change of address
    for workers in (1, 2):
        with Daemon(conf(workers, 'echo')) as d:
            port = d.port('a')
            old = connect(('127.0.0.1', port))
            mark = d.reload(conf(workers, 'echo', port=port))
            for line in d.log_lines()[mark:]:
                check('error' not in line and 'listening on' not in line and
                      'changed by reload' not in line,
                      'pinning port %d changed the listener: %r\n%s' % (port, line, d.describe()))
            echo_roundtrip(old, b'same socket\n', what='a client from before the pin')
            old.close()
            s = connect(('127.0.0.1', port))
            echo_roundtrip(s, b'pinned\n', what='a new client on the pinned port')
            s.close()
        with Daemon({'server': server_section(workers=workers),
                     'listener u': listener('echo', transport='udp')}) as d:
            port = d.port('u')
            mark = d.reload({'server': server_section(workers=workers),
                             'listener u': listener('daytime', port=port, transport='udp')})
            d.wait_log(r'listener u: changed by reload \(its sockets go to the new '
                       r'configuration\)', start=mark)
            check(d.find_log(r'error', start=mark) is None,
                  'pinning the UDP port failed\n' + d.describe())
            c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            c.settimeout(5)
            c.sendto(b'time?', ('127.0.0.1', port))
            got = c.recv(512)
            c.close()
            check(got.endswith(b'\r\n') and got != b'time?',
                  'daytime on the pinned UDP port: %r' % got)


if __name__ == '__main__':
    main(test, 60)

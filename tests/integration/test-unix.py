#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# unix: echo over a unix socket; a stale socket file left by a dead process is
# replaced; a path held by a live listener and a non-socket file are start
# errors (exit 71) that leave the file alone; the socket file is removed
# when the daemon exits.
import os
import socket
import stat
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, echo_check, echo_roundtrip, listener,  # noqa: E402
                        main, make_tempdir, run_daemon_expect_fail, server_section)


def is_socket(path):
    try:
        return stat.S_ISSOCK(os.lstat(path).st_mode)
    except FileNotFoundError:
        return False


def conf_for(path):
    return {'server': server_section(log_level='debug'),
            'listener u': listener('echo', address='unix:' + path)}


def run():
    tmp = make_tempdir()

    # plain: echo works, the line names the path, the file goes at exit
    path = os.path.join(tmp, 's')
    with Daemon(conf_for(path)) as d:
        check_eq(d.addr('u'), path, 'path in the listening line')
        check(is_socket(path), '%s must be a socket while listening' % path)
        s = echo_check(path, b'over a unix socket\n')
        s.close()
    check(not os.path.exists(path),
          'the socket file %s must be removed when the daemon exits' % path)

    # stale: a socket file nobody listens on is replaced
    stale = os.path.join(tmp, 'stale')
    t = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    t.bind(stale)
    t.close()
    check(is_socket(stale), 'test setup: stale socket file')
    with Daemon(conf_for(stale)) as d:
        s = echo_check(stale, b'stale file replaced\n')
        s.close()
    check(not os.path.exists(stale), 'the socket file must be removed at exit')

    # live: a path a live listener holds is an error, and that listener
    # keeps working
    live = os.path.join(tmp, 'live')
    mine = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    mine.bind(live)
    mine.listen(4)
    r = run_daemon_expect_fail(conf_for(live))
    check_eq(r.rc, 71, 'exit status when the unix path is held by a live listener '
             '(stderr: %r)' % r.err)
    check(live in r.err, 'the error must name the path %s: %r' % (live, r.err))
    check(is_socket(live), 'the live socket file must not be removed')
    # the daemon may have probed the path with a connect: drop those
    mine.setblocking(False)
    while True:
        try:
            mine.accept()[0].close()
        except BlockingIOError:
            break
    mine.setblocking(True)
    mine.settimeout(5)
    c = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    c.settimeout(5)
    c.connect(live)
    a, _ = mine.accept()
    a.sendall(b'mine')
    check_eq(c.recv(4), b'mine', 'the original listener still serves its path')
    for x in (a, c, mine):
        x.close()

    # not a socket: an error, and the file is left as it was
    plain = os.path.join(tmp, 'plain')
    with open(plain, 'w') as f:
        f.write('not a socket\n')
    r = run_daemon_expect_fail(conf_for(plain))
    check_eq(r.rc, 71, 'exit status when a regular file is at the unix path '
             '(stderr: %r)' % r.err)
    check(plain in r.err, 'the error must name the path %s: %r' % (plain, r.err))
    check(os.path.isfile(plain), 'the regular file %s must not be deleted' % plain)
    with open(plain) as f:
        check_eq(f.read(), 'not a socket\n', 'content of the regular file')

    # the daemon cleaned up after a successful run with a client still
    # connected too
    path2 = os.path.join(tmp, 's2')
    with Daemon(conf_for(path2)) as d:
        s = echo_check(path2)
        echo_roundtrip(s, b'x' * 100000)
        d.stop()
        s.close()
    check(not os.path.exists(path2), 'socket file removed after SIGTERM')


main(run)

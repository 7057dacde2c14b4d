#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# unix:PATH targets: rr and crr against synackd's echo on a unix socket, and
# a socket file nobody listens on is refused. A socket file that does not
# exist fails with ENOENT, counted under other, and the summary says what
# that usually means.
import os
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import check_clean, check_report, run_load  # noqa: E402
from synacktest import (Daemon, check, check_eq, listener, main, make_tempdir,  # noqa: E402
                        server_section)


def run():
    conf = {'server': server_section(),
            'listener echo': listener('echo', address='unix:@TMPDIR@/echo.sock')}
    with Daemon(conf) as d:
        target = 'unix:%s/echo.sock' % d.tmpdir
        for mode in ('rr', 'crr'):
            r = run_load(['-m', mode, '-c', '4', '-d', '0.5', target])
            rep = check_clean(r, mode, target)
            check_eq(rep['bytes_received'], rep['requests'] * 64, '%s: bytes verified' % mode)

    path = os.path.join(make_tempdir(), 'dead.sock')
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.bind(path)
    s.close()               # the file stays, nobody listens
    r = run_load(['-c', '2', '-d', '1', 'unix:' + path])
    check_eq(r.rc, 3, 'exit code\n' + r.describe())
    rep = check_report(r, 'rr', 'unix:' + path)
    check_eq(rep['errors']['refused'], 2, 'refused')

    missing = 'unix:' + os.path.join(make_tempdir(), 'missing.sock')
    r = run_load(['-c', '2', '-d', '1', missing])
    check_eq(r.rc, 3, 'exit code\n' + r.describe())
    rep = check_report(r, 'rr', missing)
    check_eq((rep['errors']['other'], rep['other_errno']), (2, {'ENOENT': 2}), 'ENOENT')
    r = run_load(['-c', '2', '-d', '1', missing], want_json=False)
    check('ENOENT' in r.out and
          'no such socket file: is the server running, is the path right?' in r.out,
          'the summary explains ENOENT\n' + r.describe())


main(run, timeout=60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# logging: every line is "YYYY-MM-DD HH:MM:SS.mmm LEVEL: MESSAGE"; log = /path
# writes to that file (and not stderr); log_level = debug adds client connect
# and disconnect lines; warn hides info and debug but keeps warnings; error
# hides warnings too.
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, LOG_RE, check, check_eq, echo_check, fmt_addr, listener,  # noqa: E402
                        main, make_tempdir, server_section, somaxconn)


def check_format(lines, what):
    check(lines, '%s: no log lines at all' % what)
    for line in lines:
        check(LOG_RE.match(line), '%s: log line %r is not "YYYY-MM-DD '
              'HH:MM:SS.mmm LEVEL: MESSAGE"' % (what, line))


def unix_ready(path):
    def ready():
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            s.connect(path)
            return True
        except OSError:
            return False
        finally:
            s.close()
    return ready


def levels_conf(tmp, level):
    return {'server': server_section(log_level=level),
            'listener u': listener('echo', address='unix:%s/u.sock' % tmp),
            'listener big': listener('echo', backlog=somaxconn() + 1)}


def run():
    tmp = make_tempdir()

    # to a file
    logfile = os.path.join(tmp, 'synackd.log')
    conf = {'server': server_section(log=logfile),
            'listener echo': listener('echo')}
    with Daemon(conf, log_path=logfile) as d:
        echo_check(d.addr('echo')).close()
        check(not any('listening on' in l for l in d.stderr_lines()),
              'with log = FILE the listening line must not go to stderr: %r'
              % d.stderr_lines())
    lines = open(logfile).read().splitlines()
    check_format(lines, 'log file')
    check(any(re.search(r' info: listener echo:? listening on 127\.0\.0\.1:\d+ ', l)
              for l in lines), 'the log file must hold the listening line: %r' % lines)

    # debug: client lines
    conf = {'server': server_section(log_level='debug'),
            'listener echo': listener('echo')}
    with Daemon(conf) as d:
        s = echo_check(d.addr('echo'), b'12345')
        me = fmt_addr(s.getsockname())
        d.wait_log(r' debug: client %s connected to echo$' % re.escape(me))
        s.close()
        m = d.wait_log(r' debug: client %s disconnected from echo: closed by peer, '
                       r'(\d+) bytes in, (\d+) bytes out$' % re.escape(me))
        check_eq((int(m.group(1)), int(m.group(2))), (5, 5),
                 'bytes in and out on the disconnect line')
    check_format(d.log_lines(), 'debug log')

    # warn: no info or debug lines, but the somaxconn warning is there
    for level, allowed in (('warn', ('warn', 'error')), ('error', ('error',))):
        sub = os.path.join(tmp, level)
        os.mkdir(sub)
        with Daemon(levels_conf(sub, level), expect_listeners=[],
                    ready=unix_ready(os.path.join(sub, 'u.sock'))) as d:
            echo_check(os.path.join(sub, 'u.sock')).close()
            if level == 'warn':
                d.wait_log(r' warn: .*somaxconn')
        lines = d.log_lines()
        for line in lines:
            m = LOG_RE.match(line)
            check(m and m.group(2) in allowed,
                  'log_level = %s must only show %s lines, got %r' %
                  (level, '/'.join(allowed), line))
        if level == 'error':
            check(not any('somaxconn' in l for l in lines),
                  'log_level = error must hide the somaxconn warning: %r' % lines)


main(run)

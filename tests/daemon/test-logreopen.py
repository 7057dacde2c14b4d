#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# log reopen (SIGUSR1): with log = DIR/a.log, after the file is renamed to
# a.log.1 the daemon writes on into a.log.1 (it holds the file open) until
# SIGUSR1; then it creates a new a.log, says "log reopened" there, and every
# later message (a client line, a reload line) goes to the new file, none to
# the old one. A second rotation works the same way.
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import file_lines  # noqa: E402
from synacktest import (Daemon, check, echo_check, fmt_addr, listener, main,  # noqa: E402
                        make_tempdir, note, server_section, wait_for)


def has(path, regex):
    rx = re.compile(regex)
    return [l for l in file_lines(path) if rx.search(l)]


def client_line(d, path, what):
    """Connect a client; its "connected" line appears in `path`."""
    s = echo_check(d.addr('echo'))
    addr = fmt_addr(s.getsockname())
    s.close()
    me = re.escape(addr)
    wait_for(lambda: has(path, r'client %s connected to echo' % me), 5,
             what='the line of client %s in %s (%s)' % (addr, path, what))
    return me


def rotate(d, log, old, n):
    os.rename(log, old)
    check(not os.path.exists(log), 'rename did not move %s' % log)
    # until SIGUSR1 the daemon writes on into the renamed file
    me = client_line(d, old, 'before SIGUSR1, rotation %d' % n)
    check(not os.path.exists(log), 'the daemon created %s again without SIGUSR1' % log)
    reopened = len(has(old, r'log reopened'))
    reloaded = len(has(old, r'reload: done'))
    d.send_signal(signal.SIGUSR1)
    wait_for(lambda: has(log, r'log reopened'), 5,
             what='a new %s containing "log reopened" after SIGUSR1 (rotation %d)'
             % (log, n))
    check(len(has(old, r'log reopened')) == reopened,
          '"log reopened" went to the old file %s too' % old)
    # later messages: a client line and a reload line, in the new file only
    me2 = client_line(d, log, 'after SIGUSR1, rotation %d' % n)
    check(not has(old, r'client %s connected' % me2), 'a client line after SIGUSR1 '
          'went to the old file %s' % old)
    d.send_signal(signal.SIGHUP)
    wait_for(lambda: has(log, r'reload: done'), 5,
             what='"reload: done" in the new %s (rotation %d)' % (log, n))
    check(len(has(old, r'reload: done')) == reloaded, 'a reload line after SIGUSR1 '
          'went to the old file %s' % old)
    check(has(old, r'client %s connected' % me), 'the old file lost its lines')
    note('rotation %d: %d lines in %s, %d in the new %s' %
         (n, len(file_lines(old)), os.path.basename(old), len(file_lines(log)),
          os.path.basename(log)))


def test():
    tmp = make_tempdir()
    log = os.path.join(tmp, 'a.log')
    conf = {'server': server_section(log=log, log_level='debug'),
            'listener echo': listener('echo')}
    d = Daemon(conf, tmpdir=tmp, log_path=log)
    check(not d.stderr_lines(), 'with log = FILE nothing goes to stderr, got %r' %
          d.stderr_lines())
    rotate(d, log, log + '.1', 1)
    rotate(d, log, log + '.2', 2)
    d.stop()
    check(has(log, r'synackd stopped|shutting down'),
          'the shutdown lines are not in the current log file')


main(test, 60)

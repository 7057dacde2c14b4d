#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# signals to a detached daemon: started as "synackd -d -c synackd.conf" (a
# path relative to the directory it was started in, which the daemon leaves
# for /), SIGHUP still re-reads that same file: a listener added to it is
# opened; SIGUSR1 still reopens the log file; SIGTERM ends it and removes
# the pidfile.
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import (file_lines, listening, pid_gone, read_pidfile, run_command, track,  # noqa: E402
                      untrack, write_conf)
from synacktest import (check, check_eq, echo_check, fail, listener, main, make_tempdir,  # noqa: E402
                        note, parse_addr, wait_for)


def test():
    tmp = make_tempdir()
    pidfile = os.path.join(tmp, 'synackd.pid')
    log = os.path.join(tmp, 'synackd.log')
    server = {'pidfile': pidfile, 'log': log, 'log_level': 'info'}
    conf = {'server': server, 'listener echo': listener('echo')}
    path = write_conf(tmp, conf)
    r = run_command(['-d', '-c', 'synackd.conf'], tmp, timeout=10, pipes=True)
    if os.path.exists(pidfile):
        track(read_pidfile(pidfile), 'synackd.conf')
    check_eq(r.rc, 0, 'exit code of synackd -d -c synackd.conf (%r)' % r)
    pid = read_pidfile(pidfile)
    m = listening(file_lines(log), 'echo')
    check(m, 'no listening line in %s' % log)
    s = echo_check(parse_addr(m.group(2)))

    def has(regex, start):
        rx = re.compile(regex)
        return [l for l in file_lines(log)[start:] if rx.search(l)]

    conf['listener more'] = listener('echo')
    write_conf(tmp, conf)
    mark = len(file_lines(log))
    os.kill(pid, signal.SIGHUP)
    wait_for(lambda: has(r'reload: ', mark), 5,
             what='a reload line in %s after SIGHUP' % log)
    if not has(r'reload: done', mark):
        # the outcome may follow its first line
        wait_for(lambda: has(r'reload: done|running configuration stays', mark), 5)
    if not has(r'reload: done', mark):
        fail('SIGHUP to a daemon started with -c synackd.conf (relative) did not '
             'reload %s:\n%s' % (path, '\n'.join(file_lines(log)[mark:])))
    more = listening(file_lines(log)[mark:], 'more')
    check(more, 'the listener added by the reload logged no listening line')
    echo_check(parse_addr(more.group(2))).close()
    note('reload of the relative -c path: %s' % more.group(0))

    os.rename(log, log + '.1')
    os.kill(pid, signal.SIGUSR1)
    wait_for(lambda: has(r'log reopened', 0), 5,
             what='a new %s with "log reopened" after SIGUSR1' % log)

    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: pid_gone(pid), 15, what='the daemon to exit after SIGTERM')
    untrack(pid)
    check(not os.path.exists(pidfile), 'the pidfile is still there after SIGTERM')
    s.close()


main(test, 60)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# detach: "synackd -d" (and "daemon = yes" in the file) returns exit code 0
# only once the daemon is ready: when it returns, the listener accepts, its
# "listening on" line is in the log file and the pidfile holds the daemon's
# pid. The daemon is another process than the command, in a new session of
# which it is not the leader, with / as its working directory and its
# standard streams on /dev/null. A second instance with the same pidfile
# exits 71 saying the pidfile is locked, and leaves the first alone. SIGTERM
# ends the daemon and removes the pidfile. A pidfile left by a daemon that
# was killed (so no longer locked) does not stop the next start.
import os
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import (cmdline, file_lines, listening, pid_gone, proc_status,  # noqa: E402
                      processes_using, read_pidfile, run_command, track, untrack,
                      wait_refused, write_conf)
from synacktest import (check, check_eq, echo_roundtrip, fail, listener, main,  # noqa: E402
                        make_tempdir, note, parse_addr, try_connect, wait_for)


def start(tmp, args, daemon_key):
    pidfile = os.path.join(tmp, 'synackd.pid')
    logfile = os.path.join(tmp, 'synackd.log')
    server = {'pidfile': pidfile, 'log': logfile, 'log_level': 'info'}
    if daemon_key:
        server['daemon'] = 'yes'
    path = write_conf(tmp, {'server': server, 'listener echo': listener('echo')})
    how = ' '.join(args + ['-c', 'FILE']) + (' with daemon = yes' if daemon_key else '')
    r = run_command(args + ['-c', path], tmp, timeout=10, pipes=True)
    for pid in processes_using(path):
        track(pid, path)
    check_eq(r.rc, 0, 'exit code of synackd %s (%r)' % (how, r))
    check(r.elapsed < 5, 'synackd %s took %.1f s to return' % (how, r.elapsed))

    # ready means ready: no waiting from here on
    check(os.path.exists(pidfile), 'synackd %s returned, but the pidfile %s does '
          'not exist' % (how, pidfile))
    pid = read_pidfile(pidfile)
    track(pid, path)
    check(not pid_gone(pid), 'the pid %d in the pidfile is not a running process' % pid)
    args_of = cmdline(pid) or []
    check(path in args_of, 'pid %d in the pidfile runs %r, not synackd on the test\'s '
          'file' % (pid, args_of))
    check(pid != r.pid, 'the daemon (pid %d) must be another process than the command '
          'that started it' % pid)
    ppid = int(proc_status(pid)['PPid'])
    check(ppid not in (r.pid, os.getpid()),
          'the daemon\'s parent is pid %d, expected it to be reparented' % ppid)
    check(os.getsid(pid) != os.getsid(0), 'the daemon stayed in the session of the '
          'test (sid %d): no setsid()' % os.getsid(pid))
    check(os.getsid(pid) != pid, 'the daemon is the leader of session %d: without the '
          'second fork it could acquire a controlling terminal' % pid)
    cwd = os.readlink('/proc/%d/cwd' % pid)
    check_eq(cwd, '/', 'working directory of the daemon')
    for fd in (0, 1, 2):
        target = os.readlink('/proc/%d/fd/%d' % (pid, fd))
        check_eq(target, '/dev/null', 'fd %d of the detached daemon' % fd)

    m = listening(file_lines(logfile), 'echo')
    if m is None:
        fail('synackd %s returned, but the log file has no "listening on" line yet:\n%s'
             % (how, '\n'.join(file_lines(logfile))))
    addr = parse_addr(m.group(2))
    s, err = try_connect(addr)
    check(s is not None, 'synackd %s returned, but a connect to %s failed at once: '
          'errno %s' % (how, m.group(2), err))
    echo_roundtrip(s, b'hello from a detached daemon\n')
    note('%s: daemon pid %d (command pid %d) on %s' % (how, pid, r.pid, m.group(2)))
    return path, pidfile, pid, addr, s


def second_instance(path, pidfile, pid, addr, client):
    r = run_command(['-d', '-c', path], os.path.dirname(path), timeout=10, pipes=True)
    for p in processes_using(path):
        if p != pid:
            track(p, path)
    check_eq(r.rc, 71, 'exit code of a second synackd -d with the same pidfile (%r)' % r)
    check('pidfile' in r.err and 'locked' in r.err,
          'the second instance must say the pidfile is locked; stderr: %r' % r.err)
    check(str(pid) in r.err, 'the second instance must name the running pid %d; '
          'stderr: %r' % (pid, r.err))
    check_eq(processes_using(path), [pid], 'synackd processes on the file after the '
             'second instance failed')
    check_eq(read_pidfile(pidfile), pid, 'pid in the pidfile after the second instance')
    echo_roundtrip(client, b'still here\n', what='the first daemon\'s client')
    s, err = try_connect(addr)
    check(s is not None, 'the first daemon no longer accepts after the second '
          'instance: errno %s' % err)
    echo_roundtrip(s, b'new client\n')
    s.close()


def stop(pidfile, pid, addr, client):
    os.kill(pid, signal.SIGTERM)
    wait_for(lambda: pid_gone(pid), 15, what='the daemon (pid %d) to exit after SIGTERM'
             % pid)
    untrack(pid)
    check(not os.path.exists(pidfile), 'the daemon exited, but its pidfile %s is '
          'still there' % pidfile)
    wait_refused(addr, pid, 5, 'after the daemon exited')
    client.close()


def test():
    tmp = make_tempdir()
    path, pidfile, pid, addr, client = start(tmp, ['-d'], False)
    second_instance(path, pidfile, pid, addr, client)
    stop(pidfile, pid, addr, client)

    tmp = make_tempdir()
    path, pidfile, pid, addr, client = start(tmp, [], True)
    stop(pidfile, pid, addr, client)

    # a daemon killed outright leaves its pidfile, unlocked: no obstacle
    tmp = make_tempdir()
    path, pidfile, pid, addr, client = start(tmp, ['-d'], False)
    os.kill(pid, signal.SIGKILL)
    wait_for(lambda: pid_gone(pid), 10, what='the daemon (pid %d) to die of SIGKILL'
             % pid)
    untrack(pid)
    client.close()
    check(os.path.exists(pidfile), 'SIGKILL cannot remove the pidfile, yet %s is gone'
          % pidfile)
    path, pidfile, pid2, addr, client = start(tmp, ['-d'], False)
    check(pid2 != pid, 'the new daemon has the pid of the killed one')
    stop(pidfile, pid2, addr, client)


main(test, 60)

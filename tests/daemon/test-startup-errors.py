#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# start-up errors with -d: they still reach the exit code and stderr of the
# command, and once the command has returned nothing is left behind: no
# pidfile, no synackd process, no unix socket file, no listener.
#   port in use               -> 71, "bind 127.0.0.1:PORT: Address already in use"
#   (also with daemon = yes in the file instead of -d)
#   bad configuration         -> 78, "FILE:LINE: ..."
#   pidfile in a missing dir  -> 71, the message names the pidfile
#   the log cannot be opened (after detaching, with many listeners bound)
#                             -> 71, the message names the log file
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import listen_owners, processes_using, run_command, track, write_conf  # noqa: E402
from synacktest import (check, check_eq, fail, listener, main, make_tempdir, note,  # noqa: E402
                        try_connect)


def nothing_left(tmp, path, what, files=()):
    """Right after the command returned: no process, no pidfile, no file
    among `files`."""
    pids = processes_using(path)
    for pid in pids:
        track(pid, path)
    check(not pids, '%s: synackd processes %r are still running after the command '
          'returned' % (what, pids))
    for f in (os.path.join(tmp, 'synackd.pid'),) + tuple(files):
        check(not os.path.exists(f), '%s: %s was left behind' % (what, f))


def failed_start(conf, args, what, want_rc, tmp=None):
    tmp = tmp or make_tempdir()
    path = write_conf(tmp, conf)
    r = run_command(args + ['-c', path], tmp, timeout=15)
    for pid in processes_using(path):
        track(pid, path)
    check_eq(r.rc, want_rc, '%s: exit code (%r)' % (what, r))
    return tmp, path, r


def port_in_use(daemon_key):
    mine = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    mine.bind(('127.0.0.1', 0))
    mine.listen(8)
    port = mine.getsockname()[1]
    tmp = make_tempdir()
    server = {'pidfile': '@TMPDIR@/synackd.pid', 'log': '@TMPDIR@/synackd.log'}
    args = ['-d']
    if daemon_key:
        server['daemon'] = 'yes'
        args = []
    conf = {'server': server,
            'listener sock': listener('echo', address='unix:@TMPDIR@/u.sock'),
            'listener first': listener('echo'),
            'listener busy': listener('echo', port=port)}
    what = 'port in use (%s)' % ('daemon = yes' if daemon_key else '-d')
    tmp, path, r = failed_start(conf, args, what, 71, tmp)
    want = 'bind 127.0.0.1:%d: Address already in use' % port
    check(want in r.err, '%s: stderr must contain %r, got %r' % (what, want, r.err))
    nothing_left(tmp, path, what, (os.path.join(tmp, 'u.sock'),))
    # the port is still ours alone, and still works
    owners = listen_owners('127.0.0.1', port)
    check_eq(owners, {os.getpid()}, '%s: owners of the listener on port %d' %
             (what, port))
    s, err = try_connect(('127.0.0.1', port))
    check(s is not None, '%s: our own listener stopped accepting: errno %s' % (what, err))
    a, _ = mine.accept()
    for x in (s, a, mine):
        x.close()


def bad_config():
    tmp = make_tempdir()
    text = ('[server]\n'
            'pidfile = @TMPDIR@/synackd.pid\n'
            'no_such_key = 1\n'
            '[listener echo]\n'
            'address = 127.0.0.1\n'
            'port = 0\n')
    tmp, path, r = failed_start(text, ['-d'], 'bad configuration', 78, tmp)
    check(re.search(re.escape(path) + r':3: ', r.err),
          'bad configuration: stderr must say "%s:3: ...", got %r' % (path, r.err))
    nothing_left(tmp, path, 'bad configuration')


def pidfile_dir_missing():
    tmp = make_tempdir()
    pidfile = os.path.join(tmp, 'no-such-dir', 'synackd.pid')
    conf = {'server': {'pidfile': pidfile, 'log': '@TMPDIR@/synackd.log'},
            'listener echo': listener('echo')}
    tmp, path, r = failed_start(conf, ['-d'], 'pidfile in a missing directory', 71, tmp)
    check('pidfile' in r.err and pidfile in r.err,
          'pidfile in a missing directory: stderr must name the pidfile %s, got %r' %
          (pidfile, r.err))
    nothing_left(tmp, path, 'pidfile in a missing directory', (pidfile,))


def log_fails_after_detach():
    """The log is opened after detaching: the daemon reports its failure
    through the command, and must have cleaned up (pidfile, listeners) by
    the time the command returns. Many listeners, and one CPU for the
    command and the daemon, make the clean-up take long enough that a
    command returning too early is caught."""
    try:
        import resource
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
    except Exception:
        soft = 1024
    n = max(10, min(300, soft - 64))
    tmp = make_tempdir()
    logfile = os.path.join(tmp, 'no-such-dir', 'synackd.log')
    conf = {'server': {'pidfile': '@TMPDIR@/synackd.pid', 'log': logfile}}
    for i in range(n):
        conf['listener e%d' % i] = listener('echo')
    path = write_conf(tmp, conf)
    rounds = 50
    for i in range(rounds):
        what = 'log cannot be opened, round %d of %d' % (i + 1, rounds)
        r = run_command(['-d', '-c', path], tmp, timeout=15, one_cpu=True)
        # before anything else: what is left the moment the command returned
        pidfile_left = os.path.exists(os.path.join(tmp, 'synackd.pid'))
        pids = processes_using(path)
        for pid in pids:
            track(pid, path)
        check_eq(r.rc, 71, '%s: exit code (%r)' % (what, r))
        check(logfile in r.err, '%s: stderr must name the log file %s, got %r' %
              (what, logfile, r.err))
        if pids or pidfile_left:
            fail('%s: synackd -d returned exit code 71 while the failed daemon was '
                 'still cleaning up: process(es) %r still running, pidfile %s. '
                 'The command must return only after the daemon released the '
                 'pidfile and its listeners (a restart right away would find them '
                 'taken)' % (what, pids, 'still there' if pidfile_left else 'gone'))
    note('%d failed starts with %d listeners each left nothing behind' % (rounds, n))


def test():
    port_in_use(False)
    port_in_use(True)
    bad_config()
    pidfile_dir_missing()
    log_fails_after_detach()


main(test, 120)

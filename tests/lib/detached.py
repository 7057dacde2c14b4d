# SPDX-License-Identifier: ISC
# detached: daemons that are not the test's child (synackd -d, daemon =
# yes), the pidfile, synackd run as a command, log files and listening
# sockets looked at from outside; on top of synacktest.
#
# A detached daemon is not a child of the test, so the harness cannot stop
# it: every daemon pid learnt here is remembered and, when the test ends
# (synacktest.main's clean-up) while it still runs, killed by that pid (only
# after checking that the process still runs synackd on this test's own
# configuration file).

import errno
import os
import re
import signal
import socket
import subprocess
import threading
import time

import synacktest as st
from synacktest import (LISTEN_RE, Command, Result, check, fail, note,
                        parse_addr, render_config, synackd_path, try_connect,
                        wait_for)

# pid -> configuration path of every detached daemon a test started
_detached = {}


# ---------------------------------------------------------------------------
# Processes

def cmdline(pid):
    """The argument vector of pid, or None when it is gone."""
    try:
        with open('/proc/%d/cmdline' % pid, 'rb') as f:
            raw = f.read()
    except OSError:
        return None
    return [a.decode(errors='replace') for a in raw.split(b'\0') if a]


def proc_state(pid):
    """The one-letter state of pid from /proc/PID/stat, or None if gone."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            stat = f.read()
    except OSError:
        return None
    # pid (comm) S ...: comm may contain spaces and parentheses
    return stat[stat.rindex(')') + 2:].split()[0]


def pid_gone(pid):
    """pid has exited (a zombie waiting for its reaper counts as gone, once
    its other threads have exited too: until then it holds its files, and
    with them its pidfile's lock)."""
    state = proc_state(pid)
    if state == 'Z':
        try:
            return len(os.listdir('/proc/%d/task' % pid)) <= 1
        except OSError:
            return True
    return state in (None, 'X')


def proc_status(pid):
    """/proc/PID/status as a dict of strings."""
    out = {}
    with open('/proc/%d/status' % pid) as f:
        for line in f:
            k, _, v = line.partition(':')
            out[k] = v.strip()
    return out


def processes_using(path):
    """Live processes whose command line names `path` (the test's private
    configuration file, so only daemons this test started)."""
    pids = []
    for name in os.listdir('/proc'):
        if not name.isdigit():
            continue
        pid = int(name)
        if pid == os.getpid():
            continue
        args = cmdline(pid)
        if args and path in args and not pid_gone(pid):
            pids.append(pid)
    return sorted(pids)


def track(pid, conf_path):
    """Remember a detached daemon so that it is killed if the test fails."""
    _detached[pid] = conf_path


def untrack(pid):
    _detached.pop(pid, None)


def kill_tracked():
    for pid, conf in list(_detached.items()):
        args = cmdline(pid)
        if args and conf in args and not pid_gone(pid):
            try:
                os.kill(pid, signal.SIGKILL)
            except OSError:
                pass
            wait_for(lambda: pid_gone(pid), 5)
        _detached.pop(pid, None)


st.at_cleanup(kill_tracked)


# ---------------------------------------------------------------------------
# Running the command

def write_conf(tmpdir, conf, name='synackd.conf'):
    """Write conf (text or dict; @TMPDIR@ replaced) into tmpdir: its path."""
    path = os.path.join(tmpdir, name)
    with open(path, 'w') as f:
        f.write(render_config(conf).replace('@TMPDIR@', tmpdir))
    return path


def _track_started(args):
    """A command that misbehaved: remember every process running synackd on
    its configuration file, for the clean-up."""
    if '-c' in args[:-1]:
        conf = args[args.index('-c') + 1]
        for pid in processes_using(conf):
            track(pid, conf)


def run_command(args, tmpdir, timeout=10.0, pipes=False, one_cpu=False):
    """Run synackd ARGS to completion. Its output goes to files (pipes=False)
    or pipes (pipes=True); with pipes the call also waits until every
    process that inherited them (a detached daemon) let go of them. With
    files, the call returns the moment the command exits (a blocking
    waitpid, no polling), so what is left at that moment can be looked at.
    one_cpu: run the command, and whatever it forks, on a single CPU."""
    preexec = None
    if one_cpu:
        cpu = min(os.sched_getaffinity(0))
        preexec = lambda: os.sched_setaffinity(0, {cpu})  # noqa: E731
    t0 = time.monotonic()
    if pipes:
        # whatever it started may hold the pipes: do not wait for them
        return Command([synackd_path()] + list(args), cwd=tmpdir,
                       preexec_fn=preexec).finish(
                           timeout, on_timeout=lambda: _track_started(args),
                           hint=' (a detached daemon must let go of the '
                           'caller\'s stdout and stderr once ready)')
    outp = os.path.join(tmpdir, 'cmd.out')
    errp = os.path.join(tmpdir, 'cmd.err')
    with open(outp, 'wb') as o, open(errp, 'wb') as e:
        proc = subprocess.Popen([synackd_path()] + list(args),
                                stdin=subprocess.DEVNULL, stdout=o, stderr=e,
                                cwd=tmpdir, preexec_fn=preexec)
        expired = []

        def expire():
            if proc.poll() is None:
                expired.append(True)
                proc.kill()
        watchdog = threading.Timer(timeout, expire)
        watchdog.start()
        try:
            rc = proc.wait()
        finally:
            watchdog.cancel()
    took = time.monotonic() - t0
    if expired:
        _track_started(args)
        fail('synackd %s did not exit within %.0f s' % (' '.join(args), timeout))
    with open(outp, 'rb') as o, open(errp, 'rb') as e:
        return Result([synackd_path()] + list(args), rc,
                      o.read().decode(errors='replace'),
                      e.read().decode(errors='replace'), took, proc.pid)


def read_pidfile(path):
    with open(path) as f:
        text = f.read()
    check(re.fullmatch(r'[1-9][0-9]*\n', text),
          'pidfile %s must hold the pid and a newline, holds %r' % (path, text))
    return int(text)


# ---------------------------------------------------------------------------
# Log files

def file_lines(path):
    try:
        with open(path, 'rb') as f:
            return [l.decode(errors='replace') for l in f.read().splitlines()]
    except FileNotFoundError:
        return []


def listening(lines, name):
    """The LISTEN_RE match of listener NAME's last `listening on` line."""
    found = None
    for line in lines:
        m = LISTEN_RE.search(line)
        if m and m.group(1) == name:
            found = m
    return found


def listening_lines(lines, name):
    out = []
    for line in lines:
        m = LISTEN_RE.search(line)
        if m and m.group(1) == name:
            out.append(m)
    return out


# ---------------------------------------------------------------------------
# Listening sockets

def listen_owners(host, port):
    """Pids owning TCP listeners bound to exactly host:port (ss -ltnp)."""
    return st.listener_pids(host, port)


def refused(addr, daemon_pid):
    """A connect to addr is refused, or addr now belongs to a listener of
    another process (a freed port number the kernel handed to a test running
    in parallel): either way the daemon no longer listens there."""
    s, err = try_connect(addr, timeout=2)
    if s is None:
        return err == errno.ECONNREFUSED
    st.abort(s)
    pids = listen_owners(addr[0], addr[1])
    if pids and daemon_pid not in pids:
        note('note: %s:%d now belongs to pids %r, not to the daemon' %
             (addr[0], addr[1], sorted(pids)))
        return True
    return False


def wait_refused(addr, daemon_pid, timeout, what):
    wait_for(lambda: refused(addr, daemon_pid), timeout, interval=0.05,
             what='%s: connects to %s:%d to be refused' % (what, addr[0], addr[1]))


def can_bind(host):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.bind((host, 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def ss_backlog(host, port):
    """Send-Q (the backlog) of the TCP listener bound to host:port."""
    rows = [r for r in st.ss_listen_queues(port)
            if r[2].rsplit(':', 1)[0].strip('[]') == host]
    n = st.test_workers()
    check(len(rows) == n, 'ss -ltn: expected %d listening sockets on %s:%d, got %r' %
          (n, host, port, rows))
    check(len(set(r[1] for r in rows)) == 1, 'the sockets differ: %r' % rows)
    return rows[0][1]


__all__ = ['cmdline', 'proc_state', 'pid_gone', 'proc_status', 'processes_using',
           'track', 'untrack', 'kill_tracked', 'write_conf',
           'run_command', 'read_pidfile', 'file_lines', 'listening',
           'listening_lines', 'listen_owners', 'refused', 'wait_refused',
           'can_bind', 'ss_backlog', 'parse_addr']

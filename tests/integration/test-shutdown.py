#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# shutdown: SIGTERM closes the listeners at once (new connects are refused
# while the daemon still drains), lets pending output reach a client that
# reads, closes a client that never reads after shutdown_timeout, and exits
# 0; SIGINT does the same.
import errno
import os
import re
import select
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, check_eq, daemon_read_all, echo_check,  # noqa: E402
                        fail, fmt_addr, listener, listener_pids, main, note, recv_exact,
                        recv_until_eof, server_section, try_connect, wait_for)


def send_all_nonblocking(s, data, timeout):
    s.setblocking(False)
    sent = 0
    deadline = time.monotonic() + timeout
    while sent < len(data):
        check(time.monotonic() < deadline,
              'could not send %d bytes within %.0f s (sent %d)' %
              (len(data), timeout, sent))
        _, w, _ = select.select([], [s], [], 0.5)
        if w:
            try:
                sent += s.send(data[sent:sent + 262144])
            except BlockingIOError:
                pass
    return sent


def send_until_stalled(s, limit, quiet=1.0, timeout=30):
    s.setblocking(False)
    sent = 0
    chunk = b'q' * 262144
    deadline = time.monotonic() + timeout
    while sent < limit and time.monotonic() < deadline:
        _, w, _ = select.select([], [s], [], quiet)
        if not w:
            return sent
        try:
            sent += s.send(chunk)
        except BlockingIOError:
            pass
    fail('a non-reading echo client did not stall (sent %d bytes)' % sent)


def refused(addr, pid):
    """addr refuses connects, or the port now belongs to another process
    (the kernel may hand a freed port number to a test running in
    parallel)."""
    s, err = try_connect(addr, timeout=1)
    if s:
        abort(s)
        pids = listener_pids(addr[0], addr[1])
        return bool(pids) and pid not in pids
    return err == errno.ECONNREFUSED


def drain(d):
    """Pending output reaches a client that reads after SIGTERM."""
    size = 2 << 20
    addr = d.addr('echo')
    idle = echo_check(addr)
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.settimeout(5)
    c.connect(addr)
    data = os.urandom(size)
    send_all_nonblocking(c, data, 20)
    # the daemon has read all of it: nothing left in our send queue nor in
    # its receive queue
    daemon_read_all(c, addr[1])
    t0 = time.monotonic()
    d.send_signal(signal.SIGTERM)
    # a connect in the first 200 ms has its SYN dropped and is refused on the
    # client's retry, a second later
    wait_for(lambda: refused(addr, d.pid), 5, what='the listener to refuse new connects '
             'after SIGTERM')
    got, how = recv_until_eof(idle, timeout=5)
    check_eq(got, b'', 'bytes an idle client gets at shutdown')
    idle.close()
    back = recv_exact(c, size, timeout=15)
    check(back == data, 'the echo drained at shutdown differs from what was sent')
    rest, how = recv_until_eof(c, timeout=10)
    check_eq(rest, b'', 'bytes after the full echo')
    c.close()
    rc = d.wait_exit(10)
    took = time.monotonic() - t0
    check(rc is not None, 'daemon did not exit within 10 s of SIGTERM once the '
          'output was drained (shutdown_timeout is 20)\n' + d.describe())
    check_eq(rc, 0, 'exit status after SIGTERM')
    note('drained %d bytes and exited %.2f s after SIGTERM' % (size, took))


def bounded(d):
    """A client that never reads is closed after shutdown_timeout."""
    addr = d.addr('echo')
    b = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    b.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    b.settimeout(5)
    b.connect(addr)
    me = fmt_addr(b.getsockname())
    sent = send_until_stalled(b, 64 << 20)
    note('non-reading client stalled after %d bytes' % sent)
    t0 = time.monotonic()
    d.send_signal(signal.SIGTERM)
    wait_for(lambda: refused(addr, d.pid), 2, what='the listener to refuse new connects '
             'after SIGTERM')
    check(d.alive(), 'after SIGTERM the listener closed, but the daemon exited at '
          'once although a client had pending output (shutdown_timeout = 3)')
    # the whole 1.5 s is waited for: that it does not exit is what is checked
    check(d.wait_exit(max(0.0, t0 + 1.5 - time.monotonic())) is None, 'the daemon exited within 1.5 s of SIGTERM with a client\'s '
          'output still pending (shutdown_timeout = 3 must be waited for)')
    rc = d.wait_exit(3 + 7)
    took = time.monotonic() - t0
    check(rc is not None, 'daemon did not exit within shutdown_timeout + 7 s\n'
          + d.describe())
    check_eq(rc, 0, 'exit status after SIGTERM')
    note('exited %.2f s after SIGTERM' % took)
    m = d.find_log(r'client %s disconnected from echo: ([^,]+),' % re.escape(me))
    check(m, 'no disconnect line for the non-reading client\n' + d.describe())
    check_eq(m.group(1), 'shutdown', 'close reason at shutdown')
    abort(b)


def run():
    conf = {'server': server_section(log_level='debug', shutdown_timeout=20),
            'listener echo': listener('echo', output_limit=4 << 20)}
    d = Daemon(conf)
    drain(d)

    conf = {'server': server_section(log_level='debug', shutdown_timeout=3),
            'listener echo': listener('echo', output_limit=65536)}
    d = Daemon(conf)
    bounded(d)

    conf = {'server': server_section(),
            'listener echo': listener('echo'),
            'listener u': listener('discard', address='unix:@TMPDIR@/u.sock')}
    with Daemon(conf) as d:
        s = echo_check(d.addr('echo'))
        d.stop(timeout=10, sig=signal.SIGINT)
        got, how = recv_until_eof(s, timeout=2)
        check_eq(got, b'', 'bytes after SIGINT')
        s.close()
        check(refused(d.addr('echo'), d.pid), 'connect after SIGINT must be refused')


main(run, timeout=120)

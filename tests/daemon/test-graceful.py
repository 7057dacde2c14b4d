#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# graceful shutdown: SIGTERM (and SIGINT) closes the listeners at once, so a
# new connect is refused while the daemon still runs, but every byte an echo
# client sent before the signal comes back to it, followed by EOF (not a
# reset); then the pidfile is removed and the exit code is 0.
#  - a client that sent 4 MiB without reading a byte (all of it queued in the
#    daemon), SIGTERM right after its last send returned;
#  - a client that interleaves writes and reads, then ends with many small
#    writes, SIGINT right after its last send returned (bytes still in
#    flight at the signal);
#  - an idle client gets EOF without waiting for shutdown_timeout;
#  - a client still in a ping-pong exchange at the signal is served until it
#    goes quiet, then gets EOF;
#  - a client that never reads its echo does not keep the daemon alive past
#    shutdown_timeout (but the daemon does wait for it until then);
#  - a second SIGTERM or SIGINT during that wait closes at once (exit 0, the
#    pidfile removed), and a SIGHUP during it is logged as ignored.
import os
import random
import re
import select
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import wait_refused  # noqa: E402
from synacktest import (Daemon, check, check_eq, connect, echo_check, echo_roundtrip,  # noqa: E402
                        fail, listener, main, note, recv_exact, recv_until_eof,
                        server_section, wait_for)

BIG = 4 << 20


def start(shutdown_timeout, **listener_kw):
    conf = {'server': server_section(shutdown_timeout=shutdown_timeout,
                                     pidfile='@TMPDIR@/synackd.pid'),
            'listener echo': listener('echo', **listener_kw)}
    d = Daemon(conf)
    pidfile = os.path.join(d.tmpdir, 'synackd.pid')

    def pid_written():
        try:
            with open(pidfile) as f:
                return f.read() == '%d\n' % d.pid
        except FileNotFoundError:
            return False
    # in the foreground the pid is written just after the listening lines
    wait_for(pid_written, 5, what='the pid %d in %s' % (d.pid, pidfile))
    return d, pidfile


def refused_while_alive(d, sig, addr):
    wait_refused(addr, d.pid, 3, 'after %s' % signal.Signals(sig).name)
    check(d.alive(), 'the daemon exited before its clients got their echo\n' +
          d.describe())


def expect_clean_exit(d, pidfile, sig, t0, limit):
    rc = d.wait_exit(limit)
    took = time.monotonic() - t0
    if rc is None:
        d.kill()
        fail('the daemon did not exit within %.0f s of %s once its clients were '
             'served\n%s' % (limit, signal.Signals(sig).name, d.describe()))
    check_eq(rc, 0, 'exit code after %s' % signal.Signals(sig).name)
    check(not os.path.exists(pidfile), 'the pidfile %s is still there after the '
          'daemon exited' % pidfile)
    return took


def unread_bulk():
    """4 MiB sent without reading; SIGTERM; all of it comes back, then EOF."""
    d, pidfile = start(20, output_limit=16 << 20)
    addr = d.addr('echo')
    idle = echo_check(addr)
    c = connect(addr, timeout=20)
    data = os.urandom(BIG)
    c.sendall(data)
    d.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    refused_while_alive(d, signal.SIGTERM, addr)

    rest, how = recv_until_eof(idle, timeout=5)
    check_eq((rest, how), (b'', 'eof'), 'what an idle client gets at shutdown')
    idle.close()
    back = recv_exact(c, BIG, timeout=20)
    if back != data:
        at = next(i for i in range(BIG) if back[i] != data[i])
        fail('the echo at shutdown differs from what was sent, from byte %d on' % at)
    rest, how = recv_until_eof(c, timeout=10)
    check_eq((rest, how), (b'', 'eof'), 'after the whole echo at shutdown')
    c.close()
    took = expect_clean_exit(d, pidfile, signal.SIGTERM, t0, 10)
    note('SIGTERM: %d unread bytes all echoed, exit 0 after %.2f s' % (BIG, took))


def interleaved():
    """Writes and reads interleaved; SIGINT right after the last write."""
    d, pidfile = start(20, output_limit=16 << 20)
    addr = d.addr('echo')
    c = connect(addr, timeout=20)
    rnd = random.Random(os.getpid())
    sent = bytearray()
    got = bytearray()
    total = 2 << 20
    while len(sent) < total:
        chunk = os.urandom(rnd.randint(1, 65536))
        c.sendall(chunk)
        sent += chunk
        while select.select([c], [], [], 0)[0]:
            b = c.recv(1 << 20)
            if not b:
                fail('EOF after %d of %d echoed bytes, before the signal' %
                     (len(got), len(sent)))
            got += b
    # a tail of small writes without reading: still arriving at the signal
    for _ in range(512):
        chunk = os.urandom(1024)
        c.sendall(chunk)
        sent += chunk
    d.send_signal(signal.SIGINT)
    t0 = time.monotonic()
    note('SIGINT with %d of %d bytes still to come back' % (len(sent) - len(got),
                                                              len(sent)))
    refused_while_alive(d, signal.SIGINT, addr)
    got += recv_exact(c, len(sent) - len(got), timeout=20)
    check(got == sent, 'the echo at shutdown differs from what was sent')
    rest, how = recv_until_eof(c, timeout=10)
    check_eq((rest, how), (b'', 'eof'), 'after the whole echo at shutdown')
    c.close()
    took = expect_clean_exit(d, pidfile, signal.SIGINT, t0, 10)
    note('SIGINT: interleaved client got all %d bytes, exit 0 after %.2f s' %
         (len(sent), took))


def still_talking():
    """A client in a ping-pong exchange when the signal arrives is served
    until it goes quiet, then gets EOF."""
    d, pidfile = start(20)
    addr = d.addr('echo')
    c = connect(addr, timeout=10)
    echo_roundtrip(c, b'before\n')
    d.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    n = 0
    while time.monotonic() - t0 < 0.6:
        n += 1
        echo_roundtrip(c, b'%d\n' % n, what='round trip %d, %.2f s after SIGTERM' %
                       (n, time.monotonic() - t0))
    refused_while_alive(d, signal.SIGTERM, addr)
    rest, how = recv_until_eof(c, timeout=5)
    check_eq((rest, how), (b'', 'eof'), 'once the talking client went quiet')
    c.close()
    took = expect_clean_exit(d, pidfile, signal.SIGTERM, t0, 10)
    note('SIGTERM: a talking client was served for %d round trips, exit 0 after '
         '%.2f s' % (n, took))


def stalled_client(addr):
    """An echo client that sends without reading until it cannot send any
    more: its echo waits in the daemon, which the drain cannot finish."""
    c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    c.connect(addr)
    c.setblocking(False)
    sent = 0
    chunk = b'x' * 65536
    deadline = time.monotonic() + 30
    while True:
        check(time.monotonic() < deadline, 'a client that does not read never '
              'stalled (sent %d bytes)' % sent)
        _, w, _ = select.select([], [c], [], 1.0)
        if not w:
            break       # stalled: a second without room to send
        try:
            sent += c.send(chunk)
        except BlockingIOError:
            pass
    note('non-reading client stalled after %d bytes' % sent)
    return c


def never_reads():
    """A client that never reads is dropped after shutdown_timeout."""
    timeout = 2
    d, pidfile = start(timeout)
    addr = d.addr('echo')
    c = stalled_client(addr)
    d.send_signal(signal.SIGTERM)
    t0 = time.monotonic()
    refused_while_alive(d, signal.SIGTERM, addr)
    took = expect_clean_exit(d, pidfile, signal.SIGTERM, t0, timeout + 5)
    check(took >= timeout * 0.75, 'the daemon exited %.2f s after SIGTERM: it did '
          'not wait shutdown_timeout = %d s for a client with pending output' %
          (took, timeout))
    note('shutdown_timeout = %d: exit 0 after %.2f s' % (timeout, took))
    c.close()


def second_signal(first, second, hup):
    """During a drain that shutdown_timeout = 30 s would end, a second
    SIGTERM or SIGINT closes at once: exit 0 within 2 s, the pidfile gone.
    hup: a SIGHUP before it is logged as ignored, and the drain goes on."""
    d, pidfile = start(30)
    addr = d.addr('echo')
    c = stalled_client(addr)
    d.send_signal(first)
    refused_while_alive(d, first, addr)
    # (the count may include a stray connect from a test running in parallel)
    d.wait_log(r'waiting up to 30 s for \d+ clients')
    if hup:
        at = d.log_count()
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'warn: SIGHUP during the shutdown: ignored, no reload', start=at)
        check(d.find_log(r'reload:', start=at) is None, 'a reload during the shutdown')
        check(d.alive(), 'the daemon exited on SIGHUP during the shutdown')
    d.send_signal(second)
    t0 = time.monotonic()
    took = expect_clean_exit(d, pidfile, second, t0, 2)
    d.wait_log(r'warn: %s during the shutdown: closing \d+ clients now, without waiting '
               r'for them' % re.escape(signal.strsignal(second)))
    rest, how = recv_until_eof(c, timeout=5)
    check(how in ('eof', 'reset'), 'the stalled client is closed (%s)' % how)
    c.close()
    note('%s then %s%s: exit 0 after %.2f s' % (signal.Signals(first).name,
         'SIGHUP, ' if hup else '', signal.Signals(second).name, took))


def test():
    unread_bulk()
    interleaved()
    still_talking()
    never_reads()
    second_signal(signal.SIGTERM, signal.SIGTERM, False)
    second_signal(signal.SIGINT, signal.SIGTERM, True)
    second_signal(signal.SIGTERM, signal.SIGINT, False)


main(test, 120)

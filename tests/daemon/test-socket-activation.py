#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# socket activation: synackd adopts the listening sockets a service manager
# passes (LISTEN_PID, LISTEN_FDS, LISTEN_FDNAMES; fds from 3), by name or
# by address, and serves the connections queued on them before it started.
# The test is its own launcher (it binds, queues a client, and execs synackd
# with the sockets at fd 3...), and runs systemd-socket-activate too when it
# is installed. A descriptor that is not a listening socket is refused, one
# that no listener takes is closed, and without the variables (or with
# another process's LISTEN_PID) nothing changes. A LISTEN_FDS that counts
# more than were passed leaves the slots that were not open alone (synackd's
# own descriptors take those numbers later); one that is no count closes the
# listening sockets passed from fd 3 on and adopts none.
# Datagram sockets (ListenDatagram=) go to transport = udp listeners only, a
# stream socket to tcp ones only: over IPv4 and IPv6, with what was queued
# before the start answered, each answer from the address written to (the
# options synackd sets on its own UDP sockets are set on the adopted ones).
import errno
import fcntl
import os
import re
import shutil
import signal
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, check_refused, connect, echo_check,  # noqa: E402
                        echo_roundtrip, fail, fmt_addr, have_ipv6_loopback, hold_port,
                        http_get, join_chat, listener, main, note, recv_exact, recv_line,
                        server_section, ss_listen_queues, test_workers, udp_sockets)


def listening_socket(reuseport=False, backlog=16):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind(('127.0.0.1', 0))
    s.listen(backlog)
    return s


def passing(fds, names=None, pid=None, count=None):
    """A preexec_fn that puts fds at 3, 4, ... and sets the variables the
    way a service manager does (LISTEN_PID: the process about to exec);
    count: what LISTEN_FDS says instead of how many there are."""
    fds = [f if isinstance(f, int) else f.fileno() for f in fds]

    def preexec():
        high = [fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100) for fd in fds]
        for i, fd in enumerate(high):
            os.dup2(fd, 3 + i, inheritable=True)
        # as from a service manager, nothing else: not what make passed us
        for name in os.listdir('/proc/self/fd'):
            fd = int(name)
            try:
                if fd >= 3 + len(fds) and os.get_inheritable(fd):
                    os.close(fd)
            except OSError:
                pass
        os.environ['LISTEN_PID'] = str(pid if pid is not None else os.getpid())
        os.environ['LISTEN_FDS'] = str(count if count is not None else len(fds))
        if names is not None:
            os.environ['LISTEN_FDNAMES'] = ':'.join(names)
    return preexec


def datagram_socket(host='127.0.0.1', reuseport=False, port=0):
    """A bound UDP socket, as a service manager's ListenDatagram= makes it:
    none of the options synackd sets on its own."""
    s = socket.socket(socket.AF_INET6 if ':' in host else socket.AF_INET, socket.SOCK_DGRAM)
    if reuseport:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    s.bind((host, port))
    return s


def stream_and_datagram(host='127.0.0.1', tries=20):
    """A listening TCP socket and a UDP one bound to the same port, which
    the kernel chose for TCP.  The UDP port of that number may be another
    process's: then another pair, at most `tries` times."""
    for _ in range(tries):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.bind((host, 0))
        s.listen(16)
        try:
            return s, datagram_socket(host, port=s.getsockname()[1])
        except OSError as e:
            s.close()
            if e.errno != errno.EADDRINUSE:
                raise
    fail('no port free for both TCP and UDP on %s in %d tries' % (host, tries))


def udp_ask(addr, payload, src=None, what='echo'):
    """Send payload to addr (from src), return (answer, where it came from)."""
    c = socket.socket(socket.AF_INET6 if ':' in addr[0] else socket.AF_INET,
                      socket.SOCK_DGRAM)
    c.settimeout(5)
    if src is not None:
        c.bind((src, 0))
    c.sendto(payload, addr)
    try:
        got = c.recvfrom(65536)
    except socket.timeout:
        fail('%s: no answer from %s within 5 s' % (what, fmt_addr(addr)))
    c.close()
    return got


def udp_listener(service, address='127.0.0.1', **kw):
    return listener(service, address, transport='udp', **kw)


def sockets_on(port):
    return len(ss_listen_queues(port, '127.0.0.1'))


def adopted(d, name, fd, port):
    return d.wait_log(r'listener %s: adopted inherited socket fd %d '
                      r'\(127\.0\.0\.1:%d\)' % (name, fd, port))


def test_adopt():
    """By address (no name) and by name (a listener on port 0); a client
    queued before synackd started is served; SO_REUSEPORT decides whether
    the other workers get sockets of their own; a reload keeps them."""
    plain = listening_socket()
    shared = listening_socket(reuseport=True)
    p1, p2 = plain.getsockname()[1], shared.getsockname()[1]
    early = connect(('127.0.0.1', p1))
    early.sendall(b'queued before start\n')
    conf = {'server': server_section(),
            'listener echo': listener('echo', port=p1),
            'listener second': listener('echo'),
            'listener own': listener('echo')}
    d = Daemon(conf, preexec_fn=passing([plain, shared], ['', 'second']),
               close_fds=False)
    with d:
        # synackd has the only copies now
        plain.close()
        shared.close()
        adopted(d, 'echo', 3, p1)
        adopted(d, 'second', 4, p2)
        check_eq(d.port('echo'), p1, 'port of the listener adopting fd 3')
        check_eq(d.port('second'), p2, 'port of the listener adopting fd 4 by name')
        check(d.port('own') not in (p1, p2), 'listener "own" binds its own port')
        check(d.find_log(r'listener own: adopted') is None, '"own" adopts nothing')
        check(not d.find_all_log(r'matches no listener|refused'),
              'no warning about the passed sockets')
        got = recv_exact(early, len(b'queued before start\n'))
        check_eq(got, b'queued before start\n', 'echo on the connection queued '
                 'before synackd started')
        echo_roundtrip(early, b'again\n')
        early.close()
        for port in (p1, p2):
            for _ in range(4):
                echo_check(('127.0.0.1', port)).close()
        echo_check(d.addr('own')).close()
        n = test_workers()
        check_eq(sockets_on(p1), 1, 'sockets on the inherited port without SO_REUSEPORT')
        check_eq(sockets_on(p2), n, 'sockets on the inherited port with SO_REUSEPORT')
        if n > 1:
            d.wait_log(r'listener echo: the inherited socket has no SO_REUSEPORT: '
                       r'it runs on one socket, on one worker of %d' % n)
        check(d.find_log(r'listener second: the inherited socket has no') is None,
              'a socket with SO_REUSEPORT is shared with the other workers')
        d.wait_log(r'listener echo: backlog 16 is the inherited socket\'s')
        # the variables are gone: nothing the daemon starts could take them
        check(not d.find_all_log(r'LISTEN_'), 'no complaint about the variables')
        start = d.log_count()
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'reload: done', start=start)
        check(d.find_log(r'listener (echo|second): listening on', start=start) is None,
              'a reload keeps the inherited sockets (no new "listening on")')
        check_eq(sockets_on(p1), 1, 'sockets on %d after the reload' % p1)
        check_eq(sockets_on(p2), n, 'sockets on %d after the reload' % p2)
        for port in (p1, p2):
            echo_check(('127.0.0.1', port)).close()
    check_refused(('127.0.0.1', p1), 'the inherited port after synackd stopped')


def test_manager_keeps_copy():
    """The launcher keeps its copy, as systemd does: once synackd stopped,
    a new connection still completes on the socket (its SYN filter came
    off) and waits there for the next start."""
    keep = listening_socket()
    port = keep.getsockname()[1]
    conf = {'server': server_section(),
            'listener echo': listener('echo', port=port)}
    with Daemon(conf, preexec_fn=passing([keep]), close_fds=False) as d:
        adopted(d, 'echo', 3, port)
        echo_check(('127.0.0.1', port)).close()
    keep.settimeout(5)
    c = connect(('127.0.0.1', port), timeout=3)
    c.sendall(b'later\n')
    a, _ = keep.accept()
    check_eq(recv_exact(a, 6), b'later\n', 'what the client sent, on the kept socket')
    a.close()
    c.close()
    keep.close()


def test_refused():
    """A pipe and a connected socket are refused; an unmatched listening
    socket is closed; the listener they were named for binds as usual."""
    r, w = os.pipe()
    other = listening_socket()
    q = other.getsockname()[1]
    server = listening_socket()
    conn = socket.create_connection(server.getsockname())
    conf = {'server': server_section(),
            'listener echo': listener('echo')}
    d = Daemon(conf, preexec_fn=passing([r, conn, other], ['echo', 'echo', 'stray']),
               close_fds=False)
    with d:
        os.close(r)
        os.close(w)
        other.close()
        conn.close()
        server.close()
        d.wait_log(r'inherited fd 3 \(name echo\) refused: not a socket \(a pipe\); closed')
        d.wait_log(r'inherited fd 4 \(name echo\) refused: not a listening socket')
        d.wait_log(r'inherited socket fd 5 \(127\.0\.0\.1:%d, name stray\) matches no '
                   r'listener; closed' % q)
        check(d.find_log(r'adopted') is None, 'nothing adopted')
        check(d.port('echo') != q, 'the listener binds a port of its own')
        echo_check(d.addr('echo')).close()
        check_refused(('127.0.0.1', q), 'the unmatched inherited socket, closed')


def test_not_ours():
    """LISTEN_PID of another process: the sockets are not for synackd."""
    s = listening_socket()
    port = s.getsockname()[1]
    conf = {'server': server_section(),
            'listener echo': listener('echo', port=0)}
    d = Daemon(conf, preexec_fn=passing([s], ['echo'], pid=1), close_fds=False)
    with d:
        check(d.find_log(r'adopted|inherited') is None,
              'no adoption with another LISTEN_PID')
        check(d.port('echo') != port, 'the listener binds its own port')
        echo_check(d.addr('echo')).close()
    s.close()
    with Daemon(conf) as d:
        check(d.find_log(r'adopted|inherited') is None, 'no adoption without variables')


def serves_all(d):
    """Every listener and the metrics endpoint answer: the echo ones echo, a
    chat line reaches the other member, GET /metrics is 200."""
    for name in ('echo', 'own'):
        echo_check(d.addr(name)).close()
    a, b = join_chat(d, 'chat', 2)
    a.sendall(b'still here\n')
    check_eq(recv_line(b), ('%s: still here\n' % fmt_addr(a.getsockname())).encode(),
             'the chat line from the other member')
    a.close()
    b.close()
    status, _, _ = http_get(d.metrics_addr(), '/metrics')
    check_eq(status, 200, 'status of GET /metrics')


def test_count_too_high():
    """LISTEN_FDS counts more than were passed: one socket, at fd 3, with
    LISTEN_FDS=3 (the slots of the next listeners' sockets), 4 (the first
    descriptor synackd opens, a worker's epoll) and 4096 (the maximum: all
    of them). The slots that were not open when synackd started are named
    in one warning and never closed, so what synackd opens on those numbers
    later stays its own: every listener and the metrics endpoint answer,
    and a stop exits 0 (under the sanitizers: no leak report)."""
    for count in (3, 4, 4096):
        s = listening_socket()
        port = s.getsockname()[1]
        conf = {'server': server_section(log_level='debug', metrics='127.0.0.1:0'),
                'listener echo': listener('echo', port=port),
                'listener chat': listener('chat'),
                'listener own': listener('echo')}
        d = Daemon(conf, preexec_fn=passing([s], count=count), close_fds=False)
        with d:
            s.close()
            adopted(d, 'echo', 3, port)
            # once this is logged, whatever activation closes is closed
            d.wait_log(r'synackd \S+ started')
            serves_all(d)
            check(d.alive(), 'synackd runs on with LISTEN_FDS=%d' % count)
            d.wait_log(r'inherited fds 4-%d: not open when synackd started '
                       r'\(LISTEN_FDS=%d counts more than were passed\); left alone'
                       % (2 + count, count))
            check_eq(len(d.find_all_log(r'inherited fd')), 1,
                     'warnings about the inherited slots with LISTEN_FDS=%d' % count)
        check(not d.find_all_log(r'Sanitizer|runtime error'),
              'no sanitizer report with LISTEN_FDS=%d' % count)
        note('LISTEN_FDS=%d with one socket passed: served, exit 0' % count)


def fd_inodes(pid, kind):
    """The inodes of process pid's descriptors of a kind (socket, pipe)."""
    out = set()
    for fd in os.listdir('/proc/%d/fd' % pid):
        try:
            m = re.match(r'%s:\[(\d+)\]$' % kind, os.readlink('/proc/%d/fd/%s' % (pid, fd)))
        except OSError:
            continue
        if m:
            out.add(int(m.group(1)))
    return out


def test_count_invalid():
    """LISTEN_FDS that is not a count, with LISTEN_PID naming synackd: the
    sockets meant for it cannot be counted, so none is adopted; the
    listening sockets from fd 3 on are closed at once, which stderr says,
    and synackd serves on sockets of its own. The run of sockets ends at
    the first descriptor that is not one, which is left alone."""
    for count, npass in (('-1', 1), ('three', 1), ('4097', 2)):
        socks = [listening_socket() for _ in range(npass)]
        ports = [s.getsockname()[1] for s in socks]
        inodes = {os.fstat(s.fileno()).st_ino for s in socks}
        r, w = os.pipe()
        pipe = os.fstat(r).st_ino
        conf = {'server': server_section(),
                'listener echo': listener('echo')}
        d = Daemon(conf, preexec_fn=passing(socks + [r], count=count), close_fds=False)
        with d:
            d.wait_log(r'synackd \S+ started')
            check(not inodes & fd_inodes(d.pid, 'socket'), 'a socket passed with '
                  'LISTEN_FDS=%s is still open in synackd' % count)
            d.wait_log(r'socket activation: LISTEN_FDS="%s" is not a number from 0 to '
                       r'4096: no socket adopted; the listening sockets passed from '
                       r'fd 3 on closed: %s$' %
                       (re.escape(count), 'fd 3' if npass == 1 else 'fds 3-%d' % (2 + npass)))
            check(pipe in fd_inodes(d.pid, 'pipe'), 'the pipe after the sockets is left '
                  'as it is')
            for s in socks:
                s.close()
            os.close(r)
            os.close(w)
            for port in ports:
                check_refused(('127.0.0.1', port), 'a socket passed with LISTEN_FDS=%s, '
                              'once the launcher closed its copy' % count)
            check(d.find_log(r'adopted inherited') is None, 'nothing adopted')
            echo_check(d.addr('echo')).close()
        note('LISTEN_FDS=%s: the %d passed sockets closed, exit 0' % (count, npass))


def test_systemd_socket_activate():
    """The way systemd passes a socket: systemd-socket-activate binds,
    waits for the first connection, then execs synackd with the socket.
    It takes no port 0: it binds, with SO_REUSEADDR, a port this test holds
    (hold_port) until the end."""
    exe = shutil.which('systemd-socket-activate')
    if exe is None:
        note('systemd-socket-activate is not installed: that part is skipped')
        return
    port = hold_port(shared=True)
    conf = {'server': server_section(),
            'listener echo': listener('echo')}
    with Daemon(conf, expect_listeners=[],
                command_prefix=[exe, '-l', '127.0.0.1:%d' % port, '--fdname=echo']) as d:
        d.wait_log(r'Listening on 127\.0\.0\.1:%d as 3' % port)
        c = connect(('127.0.0.1', port))
        c.sendall(b'first\n')
        m = d.wait_log(r'listener echo: listening on (\S+)')
        check_eq(m.group(1), '127.0.0.1:%d' % port, 'the address synackd reports')
        adopted(d, 'echo', 3, port)
        check_eq(recv_exact(c, 6), b'first\n', 'echo on the connection that '
                 'started synackd')
        c.close()
        echo_check(('127.0.0.1', port)).close()


def test_adopt_udp():
    """ListenDatagram= sockets: a udp listener adopts the datagram socket
    of its address (IPv4, IPv6) or name, a tcp listener on the same port
    the stream one; a datagram queued before synackd started is answered;
    a wildcard socket answers from the address written to (synackd set
    IP_PKTINFO on the socket it was given); SO_REUSEPORT decides whether
    the other workers get sockets of their own; a reload keeps them."""
    v6 = have_ipv6_loopback()
    s4, d4 = stream_and_datagram()  # TCP and UDP on the same port
    p4 = d4.getsockname()[1]
    wild = datagram_socket('0.0.0.0', reuseport=True)
    pw = wild.getsockname()[1]
    passed = [s4, d4, wild]
    names = ['', '', 'wild']
    if v6:
        d6 = datagram_socket('::1', reuseport=True)
        p6 = d6.getsockname()[1]
        # a dual-stack wildcard, as BindIPv6Only=both makes it
        dual = socket.socket(socket.AF_INET6, socket.SOCK_DGRAM)
        dual.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        dual.bind(('::', 0))
        pdual = dual.getsockname()[1]
        passed += [d6, dual]
        names += ['', 'dual']
    early = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    early.settimeout(5)
    early.sendto(b'queued before start', ('127.0.0.1', p4))
    conf = {'server': server_section(),
            'listener tcp4': listener('echo', port=p4),
            'listener udp4': udp_listener('echo', port=p4),
            'listener wild': udp_listener('echo', address='0.0.0.0'),
            'listener own': udp_listener('echo')}
    if v6:
        conf['listener udp6'] = udp_listener('echo', address='::1', port=p6)
        conf['listener dual'] = udp_listener('echo', address='*')
    d = Daemon(conf, preexec_fn=passing(passed, names), close_fds=False)
    with d:
        for sock in passed:
            sock.close()
        adopted(d, 'tcp4', 3, p4)
        adopted(d, 'udp4', 4, p4)
        d.wait_log(r'listener wild: adopted inherited socket fd 5 \(0\.0\.0\.0:%d\)' % pw)
        if v6:
            d.wait_log(r'listener udp6: adopted inherited socket fd 6 \(\[::1\]:%d\)' % p6)
        check(d.find_log(r'listener own: adopted') is None, '"own" adopts nothing')
        check(not d.find_all_log(r'matches no listener|refused|(udp4|wild|udp6): backlog'),
              'no warning about the passed sockets, no backlog line for UDP')
        check_eq(d.listeners['udp4']['transport'], 'udp', 'transport of udp4')
        check_eq(d.port('wild'), pw, 'port of the listener adopting fd 5 by name')
        got, src = early.recvfrom(65536)
        check_eq(got, b'queued before start', 'answer to the datagram queued before '
                 'synackd started')
        check_eq(src, ('127.0.0.1', p4), 'source of that answer')
        early.close()
        echo_check(('127.0.0.1', p4)).close()  # the stream socket is tcp4's
        for dst in ('127.0.0.1', '127.0.0.2'):
            got, src = udp_ask((dst, pw), b'to ' + dst.encode(), src=dst)
            check_eq(got, b'to ' + dst.encode(), 'echo through the adopted wildcard')
            check_eq(src, (dst, pw), 'source of the answer to a datagram sent to %s '
                     '(IP_PKTINFO on the adopted socket)' % dst)
        if v6:
            got, src = udp_ask(('::1', p6), b'six')
            check_eq((got, src[:2]), (b'six', ('::1', p6)), 'echo over the adopted IPv6 socket')
            d.wait_log(r'listener dual: adopted inherited socket fd 7 \(\[::\]:%d\)' % pdual)
            for dst in ('127.0.0.1', '127.0.0.2'):
                got, src = udp_ask((dst, pdual), b'v4 to ' + dst.encode(), src=dst)
                check_eq(src, (dst, pdual), 'source of the answer to an IPv4 datagram sent '
                         'to %s on the adopted dual-stack socket (IP_PKTINFO)' % dst)
            got, src = udp_ask(('::1', pdual), b'v6')
            check_eq((got, src[:2]), (b'v6', ('::1', pdual)), 'IPv6 on the dual-stack socket')
        udp_ask(d.addr('own'), b'own')
        n = test_workers()
        check_eq(udp_sockets(p4, d.pid), 1, 'UDP sockets on the inherited port without '
                 'SO_REUSEPORT')
        check_eq(udp_sockets(pw, d.pid), n,
                 'UDP sockets on the inherited port with SO_REUSEPORT')
        if v6:
            check_eq(udp_sockets(p6, d.pid), n, 'UDP sockets on the inherited IPv6 port')
        if n > 1:
            d.wait_log(r'listener udp4: the inherited socket has no SO_REUSEPORT: '
                       r'it runs on one socket, on one worker of %d' % n)
            for i in range(8 * n):  # every socket of the group answers
                got, src = udp_ask(('127.0.0.2', pw), b'%d' % i, src='127.0.0.2')
                check_eq(src, ('127.0.0.2', pw), 'source of answer %d on %d workers' % (i, n))
        check(d.find_log(r'listener wild: the inherited socket has no') is None,
              'a socket with SO_REUSEPORT is shared with the other workers')
        start = d.log_count()
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'reload: done', start=start)
        check(d.find_log(r'listener (udp4|wild|udp6): listening on', start=start) is None,
              'a reload keeps the inherited datagram sockets')
        check_eq(udp_sockets(p4, d.pid), 1, 'UDP sockets on %d after the reload' % p4)
        check_eq(udp_sockets(pw, d.pid), n, 'UDP sockets on %d after the reload' % pw)
        check_eq(udp_ask(('127.0.0.1', p4), b'after')[0], b'after', 'echo after the reload')
    check_eq(udp_sockets(p4), 0, 'UDP sockets on the inherited port after synackd stopped')


def test_udp_mismatch():
    """A datagram socket named for a tcp listener, or bound at a udp
    listener's address as a stream socket, is adopted by neither: the
    warning says which listener and which transport; a connected UDP socket
    and a unix datagram socket are refused; the listeners bind their own."""
    dg = datagram_socket()
    st = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    st.bind(('127.0.0.1', 0))
    st.listen(4)
    ps = st.getsockname()[1]
    conn = datagram_socket()
    conn.connect(('127.0.0.1', 9))
    ux = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    conf = {'server': server_section(),
            'listener echo': listener('echo'),
            'listener udp': udp_listener('echo', port=ps)}
    pd = dg.getsockname()[1]
    try:
        d = Daemon(conf, expect_listeners=[],
                   preexec_fn=passing([dg, st, conn, ux], ['echo', '', '', '']),
                   close_fds=False)
    finally:
        for sock in (dg, st, conn, ux):
            sock.close()
    with d:
        d.wait_log(r'inherited socket fd 3 \(127\.0\.0\.1:%d udp, name echo\) matches no '
                   r'listener: listener echo has its name or address but transport = tcp, '
                   r'and a datagram socket serves only transport = udp; closed' % pd)
        d.wait_log(r'inherited socket fd 4 \(127\.0\.0\.1:%d\) matches no listener: '
                   r'listener udp has its name or address but transport = udp, and a stream '
                   r'socket serves only transport = tcp; closed' % ps)
        d.wait_log(r'inherited fd 5 refused: a datagram socket connected to a peer; closed')
        d.wait_log(r'inherited fd 6 refused: datagram socket of address family 1; closed')
        check(d.find_log(r'adopted') is None, 'nothing adopted')
        d.wait_log(r'listener udp: listening on')
        check_refused(('127.0.0.1', ps), 'the stream socket no listener took, closed')
        m = d.wait_log(r'listener udp: listening on 127\.0\.0\.1:(\d+)')
        check_eq(int(m.group(1)), ps, 'the udp listener binds the port the stream socket had')
        check_eq(udp_ask(('127.0.0.1', ps), b'own')[0], b'own', 'echo on its own socket')


def test_systemd_socket_activate_udp():
    """systemd-socket-activate --datagram, which holds a socket until the
    first datagram and then execs synackd with it. It takes no port 0, but
    passes through the sockets it was given the same way: this test hands
    it a datagram socket on a port the kernel chose."""
    exe = shutil.which('systemd-socket-activate')
    if exe is None:
        note('systemd-socket-activate is not installed: the datagram part is skipped')
        return
    sock = datagram_socket()
    port = sock.getsockname()[1]
    conf = {'server': server_section(),
            'listener echo': udp_listener('echo')}
    with Daemon(conf, expect_listeners=[], preexec_fn=passing([sock], ['echo']),
                close_fds=False, command_prefix=[exe, '--datagram', '--fdname=echo']) as d:
        sock.close()
        d.wait_log(r'Listening on 127\.0\.0\.1:%d as 3' % port)
        c = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        c.settimeout(5)
        c.sendto(b'first', ('127.0.0.1', port))
        m = d.wait_log(r'listener echo: listening on (\S+) service=echo transport=udp')
        check_eq(m.group(1), '127.0.0.1:%d' % port, 'the address synackd reports')
        adopted(d, 'echo', 3, port)
        check_eq(c.recvfrom(100), (b'first', ('127.0.0.1', port)),
                 'the answer to the datagram that started synackd')
        c.close()


def test_example_units():
    """conf/synackd.socket listens where conf/synackd.conf's listeners
    do: a ListenStream= per TCP listener, with their backlog, and a
    ListenDatagram= per UDP one, for synackd.service."""
    src = os.environ.get('SYNACK_SRCDIR') or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), '..', '..')
    with open(os.path.join(src, 'conf', 'synackd.socket')) as f:
        unit = f.read()
    with open(os.path.join(src, 'conf', 'synackd.conf')) as f:
        conf = f.read()
    streams = set(re.findall(r'^ListenStream=(\S+)$', unit, re.M))
    datagrams = set(re.findall(r'^ListenDatagram=(\S+)$', unit, re.M))
    want = {'tcp': set(), 'udp': set()}
    backlogs = set()
    for section in re.split(r'^\[', conf, flags=re.M)[1:]:
        if not section.startswith('listener '):
            continue
        keys = dict(re.findall(r'^(\w+)\s*=\s*(\S+)', section, re.M))
        transport = keys.get('transport', 'tcp')
        want[transport].add('%s:%s' % (keys['address'], keys['port']))
        if transport == 'tcp':
            backlogs.add(keys.get('backlog', '511'))
    check_eq(streams, want['tcp'], 'synackd.socket\'s ListenStream= vs synackd.conf\'s '
             'TCP listeners')
    check_eq(datagrams, want['udp'], 'synackd.socket\'s ListenDatagram= vs synackd.conf\'s '
             'UDP listeners')
    check(datagrams, 'synackd.conf has UDP listeners')
    check_eq(re.findall(r'^Backlog=(\d+)$', unit, re.M), sorted(backlogs),
             'synackd.socket\'s Backlog= vs the listeners\' backlog')
    check(re.search(r'^Service=synackd\.service$', unit, re.M) is not None,
          'synackd.socket activates synackd.service')


def run():
    test_example_units()
    test_adopt()
    test_manager_keeps_copy()
    test_refused()
    test_not_ours()
    test_count_too_high()
    test_count_invalid()
    test_systemd_socket_activate()
    test_adopt_udp()
    test_udp_mismatch()
    test_systemd_socket_activate_udp()


main(run, timeout=120)

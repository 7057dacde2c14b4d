#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# UDP listeners through reload and shutdown with datagrams in flight.
#  - queued, then reloaded: synackd is stopped (SIGSTOP), N datagrams are
#    queued on listeners that the reload removes, moves to another address,
#    or changes in place (max_datagram, service), then SIGHUP and SIGCONT:
#    every one of them is answered, and afterwards each listener serves as
#    the new configuration says (a removed one's port is closed, a moved one
#    answers on its new address, a changed one keeps its port); an added
#    listener serves. With workers = 2 the datagrams were queued on both
#    sockets of a listener (each worker's socket serves).
#  - sending throughout: a client keeps datagrams in flight while reloads
#    change its listener's max_datagram and service back and forth: none is
#    lost (the new listener runs on the old one's sockets).
#  - queued, then stopped: SIGSTOP, N queued, SIGTERM, SIGCONT: N answers,
#    then exit 0.
#  - a queue longer than one wakeup reads (1,500 datagrams on a socket with
#    a 4 MiB buffer, passed as a service manager would): all answered when a
#    reload removes the listener and when SIGTERM stops synackd.
import fcntl
import os
import signal
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, fail, listener, main, note,  # noqa: E402
                        server_section, wait_for)

N = 100  # queued per listener: well within a default receive buffer


def udp_listener(service, address='127.0.0.1', **kw):
    return listener(service, address, transport='udp', **kw)


def udp_queues(port):
    """The receive queue (bytes) of each UDP socket bound to port."""
    out = []
    for path in ('/proc/net/udp', '/proc/net/udp6'):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if int(fields[1].rsplit(':', 1)[1], 16) == port:
                        out.append(int(fields[4].split(':')[1], 16))
        except FileNotFoundError:
            pass
    return out


def stopped(pid):
    with open('/proc/%d/stat' % pid) as f:
        return f.read().rsplit(')', 1)[1].split()[0] == 'T'


def freeze(d):
    d.send_signal(signal.SIGSTOP)
    wait_for(lambda: stopped(d.pid), 5, what='synackd to stop (SIGSTOP)')


class Sender:
    """Clients (each its own socket, so its own source port) that send
    numbered datagrams to addr, and count the answers."""

    def __init__(self, addr, clients=4):
        self.addr = addr
        self.socks = []
        for _ in range(clients):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
            s.bind(('127.0.0.1', 0))
            self.socks.append(s)
        self.sent = []

    def send(self, n, tag):
        for i in range(n):
            payload = b'%s %06d' % (tag, i)
            self.socks[i % len(self.socks)].sendto(payload, self.addr)
            self.sent.append(payload)

    def collect(self, n, timeout=10.0):
        """n answers, from any of the clients, within timeout."""
        got = []
        deadline = time.monotonic() + timeout
        for s in self.socks:
            s.setblocking(False)
        while len(got) < n and time.monotonic() < deadline:
            for s in self.socks:
                try:
                    data, src = s.recvfrom(65536)
                except BlockingIOError:
                    continue
                check_eq(src, self.addr, 'source of an answer')
                got.append(data)
            time.sleep(0.001)
        return got

    def close(self):
        for s in self.socks:
            s.close()


def reload(d, conf):
    """Write conf, SIGHUP; the log index where it started (the daemon may
    be stopped: no waiting for "reload: done")."""
    return d.reload(conf, done=False)


def listening(d, name, mark):
    m = d.wait_log(r'listener %s: listening on (\S+):(\d+) ' % name, 5, start=mark)
    return m.group(1), int(m.group(2))


def ask(addr, payload, what):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(payload, addr)
    try:
        data, src = s.recvfrom(65536)
    except socket.timeout:
        fail('%s: no answer from %s within 5 s' % (what, addr))
    s.close()
    check_eq(src, addr, 'source of the answer (%s)' % what)
    return data


def test_reload_queued(workers):
    before = {'server': server_section(workers=workers),
              'listener gone': udp_listener('echo'),
              'listener moved': udp_listener('echo'),
              'listener bigger': udp_listener('echo', max_datagram=100),
              'listener svc': udp_listener('echo'),
              'listener same': udp_listener('echo')}
    after = {'server': server_section(workers=workers),
             'listener moved': udp_listener('echo', address='127.0.0.2'),
             'listener bigger': udp_listener('echo', max_datagram=2000),
             'listener svc': udp_listener('daytime'),
             'listener same': udp_listener('echo'),
             'listener added': udp_listener('echo')}
    with Daemon(before) as d:
        names = ('gone', 'moved', 'bigger', 'svc', 'same')
        # enough sources that each socket of the SO_REUSEPORT group gets some
        senders = {n: Sender(d.addr(n), clients=4 if workers == 1 else 24) for n in names}
        freeze(d)
        for n in names:
            senders[n].send(N, n.encode())
        if workers > 1:
            for n in names:
                q = udp_queues(d.port(n))
                check_eq(len(q), workers, 'sockets of listener %s' % n)
                check(all(q), 'datagrams queued on each socket of %s (%r): the kernel '
                      'spreads the 24 clients over both workers' % (n, q))
        mark = reload(d, after)
        d.send_signal(signal.SIGCONT)
        for n in names:
            got = senders[n].collect(N)
            check_eq(len(got), N, 'answers to the %d datagrams queued on listener %s '
                     'before the reload' % (N, n))
            if n != 'svc':  # its answers are echoes or daytime lines: either counts
                check_eq(sorted(got), sorted(senders[n].sent), 'echoes on listener %s' % n)
            senders[n].close()
        d.wait_log(r'reload: done', 10, start=mark)
        d.wait_log(r'listener gone: removed by reload', start=mark)
        wait_for(lambda: not udp_queues(d.port('gone')), 5,
                 what='the removed listener\'s sockets to close')
        host, port = listening(d, 'moved', mark)
        check_eq(host, '127.0.0.2', 'address of the moved listener')
        check_eq(ask((host, port), b'moved', 'moved listener'), b'moved', 'echo on the new '
                 'address')
        wait_for(lambda: not udp_queues(d.port('moved')), 5,
                 what='the moved listener\'s old sockets to close')
        check_eq(listening(d, 'bigger', mark), ('127.0.0.1', d.port('bigger')),
                 'address of the listener whose max_datagram changed')
        big = b'x' * 1500
        # "reload: done": every worker serves the new configuration
        check_eq(ask(d.addr('bigger'), big, 'bigger'), big,
                 'the echo of a datagram of 1,500 bytes under the new max_datagram')
        check_eq(len(udp_queues(d.port('bigger'))), workers,
                 'sockets of the changed listener (the same ones)')
        check_eq(listening(d, 'svc', mark), ('127.0.0.1', d.port('svc')),
                 'address of the listener whose service changed')
        line = ask(d.addr('svc'), b'x', 'svc')
        check(line.endswith(b'\r\n') and line != b'x',
              'a daytime line from the listener whose service changed: %r' % line)
        check(d.find_log(r'listener same: (listening on|removed|changed)', start=mark)
              is None, 'the unchanged listener stays as it is')
        check_eq(ask(d.addr('same'), b'same', 'same'), b'same', 'echo, unchanged listener')
        _, port = listening(d, 'added', mark)
        check_eq(ask(('127.0.0.1', port), b'added', 'added'), b'added', 'the added listener')
    note('workers = %d: %d datagrams queued on each of 5 listeners, all answered across '
         'the reload' % (workers, N))


def test_reload_throughout():
    """A client keeps 8 datagrams in flight, each answered within 2 s, while
    6 reloads replace its listener (max_datagram, service); the port stays."""
    conf = {'server': server_section(),
            'listener echo': udp_listener('echo', max_datagram=1000)}
    with Daemon(conf) as d:
        addr = d.addr('echo')
        done = threading.Event()
        result = {'answered': 0, 'error': None}

        def client():
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.settimeout(2)
            i = 0
            try:
                while not done.is_set() and i < 200000:
                    batch = [b'%08d' % (i + k) for k in range(8)]
                    for p in batch:
                        s.sendto(p, addr)
                    got = []
                    for _ in batch:
                        data, src = s.recvfrom(2048)
                        if src != addr:
                            raise AssertionError('answer from %r' % (src,))
                        got.append(data)
                    if sorted(got) != batch:
                        raise AssertionError('answers %r for %r' % (got, batch))
                    i += 8
                    result['answered'] = i
            except (socket.timeout, AssertionError) as e:
                result['error'] = '%s after %d answered' % (e or 'timeout', i)
            s.close()
        t = threading.Thread(target=client, daemon=True)
        t.start()
        wait_for(lambda: result['answered'] >= 64 or result['error'], 5,
                 what='the client to get going')
        for k in range(6):
            mark = reload(d, {'server': server_section(),
                              'listener echo': udp_listener(
                                  'echo', max_datagram=1001 + k % 2)})
            d.wait_log(r'reload: done', 10, start=mark)
            check_eq(listening(d, 'echo', mark)[1], addr[1], 'port after reload %d' % k)
            at = result['answered']
            wait_for(lambda: result['answered'] >= at + 64 or result['error'], 5,
                     what='answers after reload %d' % k)
        done.set()
        t.join(10)
        check(result['error'] is None, 'a datagram lost while the listener was replaced: '
              '%s' % result['error'])
        note('%d datagrams answered through 6 reloads, none lost' % result['answered'])


def test_shutdown_queued():
    conf = {'server': server_section(),
            'listener echo': udp_listener('echo'),
            'listener echo2': udp_listener('echo', address='127.0.0.2')}
    d = Daemon(conf)
    try:
        senders = [Sender(d.addr('echo')), Sender(d.addr('echo2'))]
        freeze(d)
        for i, s in enumerate(senders):
            s.send(N, b'stop%d' % i)
        d.send_signal(signal.SIGTERM)
        d.send_signal(signal.SIGCONT)
        for s in senders:
            got = s.collect(N)
            check_eq(len(got), N, 'answers to the %d datagrams queued before SIGTERM' % N)
            check_eq(sorted(got), sorted(s.sent), 'the echoes after SIGTERM')
            s.close()
        check_eq(d.wait_exit(15), 0, 'exit status after SIGTERM')
        check(not d.find_all_log(r'Sanitizer|runtime error'), 'no sanitizer report')
    finally:
        d.kill()
    note('%d datagrams queued on each of 2 listeners before SIGTERM: all answered, '
         'exit 0' % N)


def passing(sock):
    """A preexec_fn that hands sock to synackd as a service manager would:
    at fd 3, with LISTEN_PID and LISTEN_FDS."""
    fd = sock.fileno()

    def preexec():
        high = fcntl.fcntl(fd, fcntl.F_DUPFD_CLOEXEC, 100)
        os.dup2(high, 3, inheritable=True)
        os.environ['LISTEN_PID'] = str(os.getpid())
        os.environ['LISTEN_FDS'] = '1'
    return preexec


def test_drain_big_queue():
    """More than one wakeup's worth queued: a socket with a 4 MiB receive
    buffer (a socket unit's ReceiveBuffer=; synackd keeps the buffer of a
    socket it adopts) holds 1,500 datagrams; all are answered when a reload
    removes the listener, and when SIGTERM stops synackd."""
    for how in ('reload', 'SIGTERM'):
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        sock.bind(('127.0.0.1', 0))
        conf = {'server': server_section(workers=1),
                'listener big': udp_listener('echo', port=sock.getsockname()[1]),
                'listener other': udp_listener('echo')}
        d = Daemon(conf, preexec_fn=passing(sock), close_fds=False)
        try:
            sock.close()
            d.wait_log(r'listener big: adopted inherited socket fd 3')
            sender = Sender(d.addr('big'), clients=1)
            sender.socks[0].setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
            freeze(d)
            sender.send(1500, b'big')
            check(udp_queues(d.port('big'))[0] > 256 * 600, 'more than 256 datagrams queued')
            if how == 'reload':
                del conf['listener big']
                reload(d, conf)
            else:
                d.send_signal(signal.SIGTERM)
            d.send_signal(signal.SIGCONT)
            got = sender.collect(1500)
            check_eq(len(got), 1500, 'answers to the 1,500 datagrams queued before the %s'
                     % how)
            check_eq(sorted(got), sorted(sender.sent), 'the echoes')
            sender.close()
            if how == 'reload':
                d.wait_log(r'reload: done')
                d.stop()
            else:
                check_eq(d.wait_exit(15), 0, 'exit status after SIGTERM')
            check(not d.find_all_log(r'Sanitizer|runtime error'), 'no sanitizer report')
        finally:
            d.kill()
        note('1,500 datagrams queued on one socket, then %s: all answered' % how)


def run():
    test_drain_big_queue()
    test_reload_queued(1)
    test_reload_queued(2)
    test_reload_throughout()
    test_shutdown_queued()


main(run, timeout=120)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Debian's haproxy in front of two synackd, with send-proxy-v2 and health
# checks (which then send a v2 LOCAL header):
#  1. the checks pass and synackd logs no error or warning for them (nor
#     the one for a listener without proxy_from: haproxy's 127.0.0.1 is
#     its proxy_from; a wait in the accept queue over accept_wait_warn,
#     the load of the machine, is the one warning allowed), nor counts an
#     invalid, late or untrusted header;
#  2. a chat member connecting from 127.0.0.9 through haproxy shows up as
#     127.0.0.9 (with its own port) in synackd's debug log and in the
#     prefix another member sees;
#  3. synack-load -m rr -c 10 -d 4 from 127.0.0.10 through haproxy (balance roundrobin)
#     while one synackd is stopped gracefully (once both serve the load's
#     connections, before the run ends): rr connections stay
#     open, so the stopped synackd serves its share until the load ends
#     (its shutdown_timeout is longer than the run, and no client of it is
#     closed as "shutdown"), haproxy marks it down and sends new
#     connections to the other one: synack-load exits 0 with no error, and
#     new connections made after the stop are all served.
# Skipped when haproxy is not installed.
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from loadtest import start_load  # noqa: E402
from synacktest import (Daemon, _children, abort, check, check_eq, connect,  # noqa: E402
                        connect_from, echo_roundtrip, fail, fmt_addr, hold_port,
                        listener, main, make_tempdir, note, recv_line, server_section,
                        skip, ss, ss_listen_queues, wait_for)

LOAD_SECONDS = 4
LOAD_SOURCE = '127.0.0.10'
LOAD_CLIENT = r'client %s:\d+ ' % re.escape(LOAD_SOURCE)


class HAProxy:
    """haproxy -db with a config of its own. haproxy takes no port 0: it
    binds, with SO_REUSEADDR, two ports this test holds (hold_port) until
    the end."""

    def __init__(self, d1, d2, tmpdir):
        self.proc = None
        self.echo_port = hold_port(shared=True)
        self.chat_port = hold_port(shared=True)
        path = os.path.join(tmpdir, 'haproxy.cfg')
        with open(path, 'w') as f:
            f.write(self.config(d1, d2).replace('@EP@', str(self.echo_port))
                    .replace('@CP@', str(self.chat_port)))
        self.log = os.path.join(tmpdir, 'haproxy.log')
        with open(self.log, 'wb') as out:
            self.proc = subprocess.Popen(['haproxy', '-f', path, '-db'],
                                         stdin=subprocess.DEVNULL, stdout=out, stderr=out)
        _children.append(self.proc)
        if not self.wait_up():
            self.stop()
            fail('haproxy did not start:\n%s' % self.text())

    @staticmethod
    def config(d1, d2):
        e1, e2 = d1.addr('echo'), d2.addr('echo')
        return '''global
    maxconn 200

defaults
    mode tcp
    timeout connect 2s
    timeout client 30s
    timeout server 30s
    retries 3
    option redispatch

frontend echo_in
    bind 127.0.0.1:@EP@
    default_backend echo_servers

frontend chat_in
    bind 127.0.0.1:@CP@
    default_backend chat_servers

backend echo_servers
    balance roundrobin
    default-server send-proxy-v2 check inter 200ms fall 1 rise 1
    server s1 127.0.0.1:%d
    server s2 127.0.0.1:%d

backend chat_servers
    default-server send-proxy-v2 check inter 200ms fall 1 rise 1
    server s1 127.0.0.1:%d
''' % (e1[1], e2[1], d1.addr('chat')[1])

    def wait_up(self):
        """haproxy listens on both ports (True), or exited (False)."""
        def up():
            if self.proc.poll() is not None:
                return True
            return all(ss_listen_queues(port, '127.0.0.1')
                       for port in (self.echo_port, self.chat_port))
        wait_for(up, 10, what='haproxy to listen')
        return self.proc.poll() is None

    def text(self):
        try:
            with open(self.log, errors='replace') as f:
                return f.read()
        except OSError:
            return ''

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)


def conf(shutdown_timeout):
    return {'server': server_section(log_level='debug', metrics='127.0.0.1:0',
                                     shutdown_timeout=shutdown_timeout),
            # haproxy connects from 127.0.0.1: the only peer trusted with a header
            'listener echo': listener('echo', proxy_protocol='yes', proxy_from='127.0.0.1'),
            'listener chat': listener('chat', proxy_protocol='yes', proxy_from='127.0.0.1')}


CHECKED = r'client 127\.0\.0\.1:\d+ connected to echo'


def more_checks(d, n=3):
    """n more rounds of haproxy's health checks reached d."""
    seen = len(d.find_all_log(CHECKED))
    wait_for(lambda: len(d.find_all_log(CHECKED)) >= seen + n, 10,
             what='%d more health checks' % n)


# A connection that waited in the accept queue longer than accept_wait_warn
# is what a loaded machine does, not a fault of the PROXY path: that
# warning, and no other, may appear.
ACCEPT_WAIT = re.compile(r'^client \S+ connected to \S+: waited \d+ ms in the accept queue'
                         r'( \(and \d+ more over accept_wait_warn since the last message\))?$')


def healthy(d):
    bad = [m for m in d.messages() if re.search(r'^(error|warn)', m)]
    warns = [m for m in d.messages('warn') if not ACCEPT_WAIT.match(m)]
    check(not d.messages('error') and not warns,
          'synackd logged errors or warnings: %r' % (d.messages('error') + warns))
    check(not bad, bad)
    for name in ('echo', 'chat'):
        closed = d.listener_stats(name)['closed']
        check_eq(closed['proxy_invalid'], 0, '%s: proxy_invalid' % name)
        check_eq(closed['proxy_timeout'], 0, '%s: proxy_timeout' % name)
        check_eq(d.listener_stats(name)['rejected']['proxy_untrusted'], 0,
                 '%s: proxy_untrusted' % name)


def chat(d1, hp):
    addr = ('127.0.0.1', hp.chat_port)
    a = connect_from('127.0.0.9', addr)
    A = fmt_addr(a.getsockname())
    d1.wait_log(r'client %s connected to chat' % re.escape(A))
    b = connect(addr)
    d1.wait_log(r'client %s connected to chat' % re.escape(fmt_addr(b.getsockname())))
    a.sendall(b'hello through haproxy\n')
    check_eq(recv_line(b), ('%s: hello through haproxy\n' % A).encode(),
             'the line from 127.0.0.9 as another member sees it')
    abort(a)
    abort(b)


def exchanging(port):
    """How many connections to port carried more than a PROXY v2 header
    and two 64-byte messages (ss -ti's bytes_received)."""
    out = ss(['-tinH', 'state', 'established', '( sport = :%d )' % port])
    return sum(1 for b in re.findall(r'bytes_received:(\d+)', out)
               if int(b) > 28 + 2 * 64)


def load_stopping(hp, d1, d2):
    """synack-load through haproxy, d2 stopped halfway through the run,
    once both synackd serve its connections: the report."""
    # from 127.0.0.10: its clients are told apart from health checks
    load = start_load(['-m', 'rr', '-c', '10', '-d', str(LOAD_SECONDS), '-q',
                       '-b', LOAD_SOURCE, '127.0.0.1:%d' % hp.echo_port])

    def clients(d):
        return len(d.find_all_log(LOAD_CLIENT + 'connected to echo'))
    wait_for(lambda: clients(d2) > 0 and clients(d1) + clients(d2) >= 10, 10,
             what='the load\'s 10 connections served by both synackd')
    # a client that has sent nothing for 100 ms is closed at the stop: d2's
    # must be exchanging already, not about to send their first message
    wait_for(lambda: exchanging(d2.port('echo')) >= clients(d2), 10, interval=0.05,
             what='d2\'s load connections past their first exchange')
    # then midway through the run, as the test is laid out: d2 serves the
    # second half after its stop (a point in the run's time, not a
    # condition; a later stop leaves d2 less to serve, an earlier one more)
    time.sleep(max(0.0, LOAD_SECONDS / 2 - load.elapsed()))
    check(load.proc.poll() is None, 'd2 was stopped during the load')
    d2.send_signal(signal.SIGTERM)
    r = load.finish(LOAD_SECONDS + 30)
    if r.rc != 0:
        fail('synack-load exited %d\n%s' % (r.rc, r.describe()))
    return r.report


def run():
    if shutil.which('haproxy') is None:
        skip('haproxy is not installed (sh scripts/deps.sh installs it)')
    tmpdir = make_tempdir()
    d1 = Daemon(conf(60))
    hp = None
    try:
        d2 = Daemon(conf(60))
        try:
            hp = HAProxy(d1, d2, tmpdir)
            # the health checks reached both, as LOCAL headers
            for d in (d1, d2):
                d.wait_log(CHECKED, timeout=10)
            chat(d1, hp)
            for d in (d1, d2):
                more_checks(d)
                healthy(d)

            report = load_stopping(hp, d1, d2)
            note('synack-load: %s' % json.dumps(report)[:600])
            errors = report.get('errors', {})
            if isinstance(errors, dict):
                check(all(v == 0 for v in errors.values()), 'synack-load errors: %r' % errors)
            else:
                check_eq(errors, 0, 'synack-load errors')
            # d2's rr clients were served until the load ended, then it exits
            rc = d2.wait_exit(30)
            check_eq(rc, 0, 'exit status of the stopped synackd')
            for name, d in (('d1', d1), ('d2', d2)):
                check(d.find_log(LOAD_CLIENT + 'connected to echo') is not None,
                      '%s served no client of synack-load (roundrobin)' % name)
            check(d2.find_log(r'waiting up to \d+ s for \d+ clients') is not None,
                  'the stopped synackd had no client when it was stopped')
            check(d2.find_log(LOAD_CLIENT + 'disconnected from echo') is not None,
                  'the stopped synackd did not log its load clients leaving')
            check(d2.find_log(r'disconnected from echo: shutdown') is None,
                  'a client of the stopped synackd was cut off by its shutdown')
            check(not d2.messages('error'), 'd2 logged errors: %r' % d2.messages('error'))
            d2._stopped = True
            # new connections after the stop: haproxy sends them to d1
            for i in range(10):
                s = connect(('127.0.0.1', hp.echo_port))
                echo_roundtrip(s, b'after the stop %d\n' % i)
                abort(s)
            healthy(d1)
        finally:
            if hp is not None:
                hp.stop()
            if d2.alive():
                d2.kill()
    finally:
        d1.stop()


main(run, timeout=120)

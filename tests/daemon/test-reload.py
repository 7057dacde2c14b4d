#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# reload (SIGHUP): listeners are matched by name, and an echo client of a
# listener that stays keeps working through every reload.
#  1. B removed (while it has a client): its port refuses; D (chat) added:
#     it serves; C moved to 127.0.0.2 with backlog 77: a new "listening on"
#     line, its old address refuses, the new socket has backlog 77; A's
#     backlog changed in place: same port, no new socket, and ss shows the
#     new backlog.
#  2. an invalid file: "reload: FILE:LINE: ...; the running configuration
#     stays", and everything serves as before.
#  3. C moved to an address that cannot be bound (a port the test holds):
#     the log says why, and C still listens on its old address.
#  4. log_level info -> debug applies at once: new clients are logged.
#  5. A's service changed (echo -> discard): A is opened anew, speaking
#     discard.
import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import can_bind, listening_lines, refused, ss_backlog  # noqa: E402
from synacktest import (Daemon, check, check_eq, connect, echo_roundtrip,  # noqa: E402
                        expect_silence, fmt_addr, listener, main, note, parse_addr,
                        recv_line, render_config, server_section, skip, somaxconn,
                        try_connect)


def conf_text(level='info', a_backlog=100, a_service='echo', with_b=True,
              c_addr='127.0.0.1', c_port=0, c_backlog=None, with_d=False):
    conf = {'server': server_section(log_level=level),
            'listener A': listener(a_service, backlog=a_backlog)}
    if with_b:
        conf['listener B'] = listener('discard')
    c = listener('echo', address=c_addr, port=c_port)
    if c_backlog is not None:
        c['backlog'] = str(c_backlog)
    conf['listener C'] = c
    if with_d:
        conf['listener D'] = listener('chat')
    return render_config(conf)


class Reloader:
    def __init__(self, d):
        self.d = d

    def reload(self, text, done=True):
        """Write the file, SIGHUP; returns the log index where it started."""
        return self.d.reload(text, done=done)

    def new_listening(self, name, mark):
        return listening_lines(self.d.log_lines()[mark:], name)


def chat_works(addr):
    second = connect(addr)
    first = connect(addr)      # accepted after `second`, so it joins later
    first.sendall(b'hello D\n')
    want = ('%s: hello D\n' % fmt_addr(first.getsockname())).encode()
    check_eq(recv_line(second), want, 'chat line relayed by the added listener D')
    first.close()
    second.close()


def test():
    if not can_bind('127.0.0.2'):
        skip('cannot bind 127.0.0.2 (no 127.0.0.0/8 on loopback)')
    backlogs_visible = somaxconn() >= 200
    d = Daemon(conf_text())
    r = Reloader(d)
    pid = d.pid
    a_addr, b_addr, c_addr = d.addr('A'), d.addr('B'), d.addr('C')
    client = connect(a_addr)
    echo_roundtrip(client, b'before\n', what='A client before any reload')
    # B has a client when it is removed: the listener must close all the same
    b_client = connect(b_addr)
    b_client.sendall(b'discarded\n')
    if backlogs_visible:
        check_eq(ss_backlog('127.0.0.1', a_addr[1]), 100, 'ss Send-Q of A at start')
    check(not d.find_log(r'connected to'), 'client lines logged at log_level = info:\n'
          + d.describe())

    # 1 -----------------------------------------------------------------
    text1 = conf_text(a_backlog=200, with_b=False, c_addr='127.0.0.2', c_backlog=77,
                      with_d=True)
    mark = r.reload(text1)
    for m in r.new_listening('A', mark):
        check_eq(parse_addr(m.group(2)), a_addr, 'A, whose backlog alone changed, '
                 'announced a new address')
    if backlogs_visible:
        check_eq(ss_backlog('127.0.0.1', a_addr[1]), 200,
                 'ss Send-Q of A after its backlog was changed to 200')
    echo_roundtrip(client, b'after reload 1\n', what='A client after reload 1')
    s = connect(a_addr)
    echo_roundtrip(s, b'new A client\n', what='a new A client after reload 1')
    s.close()

    # the reload is done: B is closed by now, not once its client left
    check(refused(b_addr, pid), 'listener B, removed by the reload, still accepts '
          'on %s\n%s' % (fmt_addr(b_addr), d.describe()))

    dl = r.new_listening('D', mark)
    check(dl, 'the added listener D logged no "listening on" line\n' + d.describe())
    check_eq(dl[-1].group(3), 'chat', 'service of D')
    chat_works(parse_addr(dl[-1].group(2)))

    cl = r.new_listening('C', mark)
    check(cl, 'listener C, moved to 127.0.0.2, logged no "listening on" line\n' +
          d.describe())
    c2_addr = parse_addr(cl[-1].group(2))
    check_eq(c2_addr[0], '127.0.0.2', 'address of C after the reload')
    check_eq(cl[-1].group(4), '77', 'backlog= of C after the reload')
    if backlogs_visible:
        check_eq(ss_backlog('127.0.0.2', c2_addr[1]), 77, 'ss Send-Q of C on 127.0.0.2')
    s = connect(c2_addr)
    echo_roundtrip(s, b'C on 127.0.0.2\n', what='C at its new address')
    s.close()
    check(refused(c_addr, pid), 'the old address %s of C still accepts after it '
          'moved\n%s' % (fmt_addr(c_addr), d.describe()))
    note('reload 1: B gone, D on %s, C %s -> %s, A kept %s' %
         (dl[-1].group(2), fmt_addr(c_addr), fmt_addr(c2_addr), fmt_addr(a_addr)))

    # 2 -----------------------------------------------------------------
    mark = r.reload(text1 + '[bad\n', done=False)
    bad_line = d.conf_text.count('\n')  # the last line of the file as written
    m = d.wait_log(r'reload: (.*)', 10, start=mark)
    want = 'reload: %s:%d: ' % (d.conf_path, bad_line)
    check(want in m.group(0), 'an invalid file must be reported as %r, got %r' %
          (want + '...', m.group(0)))
    check('the running configuration stays' in m.group(0),
          'the log must say "the running configuration stays": %r' % m.group(0))
    check(not d.find_log(r'reload: done', start=mark), 'an invalid file was applied\n'
          + d.describe())
    check(d.alive(), 'the daemon exited after an invalid reload\n' + d.describe())
    echo_roundtrip(client, b'after a bad reload\n', what='A client after a bad reload')
    for addr in (a_addr, c2_addr):
        s = connect(addr)
        echo_roundtrip(s, b'x\n', what='%s after a bad reload' % fmt_addr(addr))
        s.close()
    chat_works(parse_addr(dl[-1].group(2)))
    check(refused(b_addr, pid), 'listener B came back with a bad reload')

    # 3 -----------------------------------------------------------------
    held = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    held.bind(('127.0.0.1', 0))
    held.listen(8)
    hport = held.getsockname()[1]
    mark = r.reload(conf_text(a_backlog=200, with_b=False, c_addr='127.0.0.1',
                              c_port=hport, c_backlog=77, with_d=True))
    fails = [l for l in d.log_lines()[mark:]
             if 'listener C' in l and '127.0.0.1:%d' % hport in l]
    check(fails and 'Address already in use' in fails[0],
          'moving C to the taken 127.0.0.1:%d must be logged with the reason\n%s' %
          (hport, d.describe()))
    check(not r.new_listening('C', mark), 'C announced a new address although it '
          'cannot be bound\n' + d.describe())
    s = connect(c2_addr)
    echo_roundtrip(s, b'C stays\n', what='C at its old address after a failed move')
    s.close()
    s, err = try_connect(('127.0.0.1', hport))
    check(s is not None, 'the test\'s own listener stopped accepting: %s' % err)
    a, _ = held.accept()
    for x in (s, a, held):
        x.close()
    echo_roundtrip(client, b'after a failed move\n', what='A client after reload 3')
    note('reload 3: %s' % fails[0])

    # 4 -----------------------------------------------------------------
    mark = r.reload(conf_text(level='debug', a_backlog=200, with_b=False,
                              c_addr='127.0.0.2', c_backlog=77, with_d=True))
    check(not r.new_listening('C', mark), 'C, unchanged since reload 1 (its move '
          'failed), got a new socket\n' + d.describe())
    s = connect(a_addr)
    me = fmt_addr(s.getsockname())
    echo_roundtrip(s, b'debug\n', what='a new A client after log_level = debug')
    d.wait_log(r'client %s connected to A' % re.escape(me), 5, start=mark)
    s.close()
    echo_roundtrip(client, b'after reload 4\n', what='A client after reload 4')

    # 5 -----------------------------------------------------------------
    mark = r.reload(conf_text(level='debug', a_service='discard', a_backlog=200,
                              with_b=False, c_addr='127.0.0.2', c_backlog=77,
                              with_d=True))
    al = r.new_listening('A', mark)
    check(al and al[-1].group(3) == 'discard', 'A, changed to discard, was not '
          'opened anew with service=discard\n' + d.describe())
    a2_addr = parse_addr(al[-1].group(2))
    s = connect(a2_addr)
    s.sendall(b'this must not come back\n' * 100)
    expect_silence(s, 0.3)
    s.close()
    if a2_addr != a_addr:
        check(refused(a_addr, pid), 'the old socket %s of A still accepts after its '
              'service changed\n%s' % (fmt_addr(a_addr), d.describe()))
    s = connect(c2_addr)
    echo_roundtrip(s, b'C after reload 5\n', what='C after reload 5')
    s.close()
    note('reload 5: A reopened as discard on %s' % fmt_addr(a2_addr))
    client.close()
    b_client.close()
    d.stop()


main(test, 90)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# max_clients_per_source: with the limit at 3, three clients from
# 127.0.0.2 are served; a flood of further connections from 127.0.0.2 is
# reset at once (never served, never queued), logged at most about once a
# second with the count of those held back, while clients from 127.0.0.1
# are served all along; when one of the three leaves, 127.0.0.2 gets a slot
# again; a reload that raises the limit applies to the next connection.
import os
import signal
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, abort, check, connect_from, echo_roundtrip, fail,  # noqa: E402
                        listener, main, note, render_config, server_section, wait_for)

FLOOD = 300       # connections at least
FLOOD_SECONDS = 2.5  # and for at least this long, so several log seconds pass


def refused_from(src, addr):
    """A connection from src is reset (or closed) without a byte; the
    reset may come before connect() has returned."""
    try:
        s = connect_from(src, addr, timeout=3)
    except ConnectionResetError:
        return True
    try:
        return refused(s)
    finally:
        abort(s)


def refused(s):
    """The server resets (or closes) the connection without a byte."""
    try:
        s.sendall(b'x\n')
        data = s.recv(16)
    except (ConnectionResetError, BrokenPipeError):
        return True
    except socket.timeout:
        return False
    return data == b''


def conf(limit):
    return {'server': server_section(max_clients_per_source=limit),
            'listener echo': listener('echo', address='127.0.0.1')}


def run():
    with Daemon(conf(3)) as d:
        addr = d.addr('echo')
        held = [connect_from('127.0.0.2', addr) for _ in range(3)]
        for i, s in enumerate(held):
            echo_roundtrip(s, b'held %d\n' % i)

        t0 = time.monotonic()
        served = 0
        n = 0
        while n < FLOOD or time.monotonic() - t0 < FLOOD_SECONDS:
            if n >= 20 * FLOOD:
                fail('the flood loop ran away')
            if n >= FLOOD:
                time.sleep(0.005)   # the flood's pace: it lasts FLOOD_SECONDS
            if not refused_from('127.0.0.2', addr):
                fail('flood connection %d from 127.0.0.2 was not refused' % n)
            if n % 30 == 0:
                # another source is served in the middle of the flood
                o = connect_from('127.0.0.1', addr)
                echo_roundtrip(o, b'other source %d\n' % n)
                abort(o)
                served += 1
            n += 1
        took = time.monotonic() - t0
        note('%d connections from 127.0.0.2 refused in %.2f s; %d from 127.0.0.1 '
             'served meanwhile' % (n, took, served))

        for i, s in enumerate(held):
            echo_roundtrip(s, b'still served %d\n' % i)

        rx = r'client 127\.0\.0\.2:\d+ refused: max_clients_per_source 3 reached for 127\.0\.0\.2'
        d.wait_log(rx)
        lines = d.find_all_log(rx)
        # the refusal after the last logged second is logged with the count
        refused_from('127.0.0.2', addr)
        d.wait_log(rx + r' \(and \d+ more refused since the last message\)', 3)
        lines = d.find_all_log(rx)
        note('%d log lines for %d refusals' % (len(lines), n + 1))
        check(2 <= len(lines) <= took + 3,
              'refusals are logged at most once a second: %d lines in %.2f s'
              % (len(lines), took))

        # a slot comes free
        abort(held.pop())

        def slot():
            try:
                s = connect_from('127.0.0.2', addr)
            except ConnectionResetError:
                return None  # still refused: the reset came before connect() returned
            try:
                echo_roundtrip(s, b'back\n', timeout=1)
            except Exception:
                abort(s)
                return None
            return s
        s = wait_for(slot, 5, what='a slot for 127.0.0.2 after one of its clients left')
        held.append(s)
        check(refused_from('127.0.0.2', addr), 'the 4th client is refused again')

        # a reload raises the limit
        with open(d.conf_path, 'w') as f:
            f.write(render_config(conf(5)))
        mark = d.log_count()
        d.send_signal(signal.SIGHUP)
        d.wait_log(r'reload: done', 10, start=mark)
        for i in range(2):
            s = connect_from('127.0.0.2', addr)
            echo_roundtrip(s, b'raised %d\n' % i)
            held.append(s)
        check(refused_from('127.0.0.2', addr), 'the 6th client is refused')
        for s in held:
            abort(s)


main(run, timeout=120)

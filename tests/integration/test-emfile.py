#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# Out of descriptors: the daemon, started with a small RLIMIT_NOFILE, gets
# EMFILE from accept(). It must pause that listener (not spin on the ready
# listening socket), keep serving the clients it has, and accept the
# waiting connections once clients leave.
import os
import resource
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import Daemon, abort, check, connect, echo_roundtrip, main, note, wait_for  # noqa: E402

NOFILE = 40
CLIENTS = 40  # more than fit, and fewer than twice as many


def cpu_seconds(pid):
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def run():
    def low_limit():
        # the hard limit too: the daemon raises a soft limit it can
        resource.setrlimit(resource.RLIMIT_NOFILE, (NOFILE, NOFILE))

    d = Daemon({'server': {'log_level': 'info', 'idle_timeout': '0'},
                'listener echo': {'service': 'echo', 'address': '127.0.0.1',
                                  'port': '0', 'backlog': '128'}},
               preexec_fn=low_limit)

    addr = d.addr('echo')
    socks = [connect(addr) for _ in range(CLIENTS)]
    d.wait_log(r'listener echo: accept: pausing .*Too many open files', 10)

    served = []
    for s in socks:
        s.sendall(b'x')
    deadline = time.monotonic() + 3
    for s in socks:
        s.settimeout(max(0.05, deadline - time.monotonic()))
        try:
            if s.recv(1) == b'x':
                served.append(s)
        except OSError:
            pass
    waiting = [s for s in socks if s not in served]
    check(0 < len(served) < CLIENTS and waiting,
          'with %d descriptors, %d of %d clients were served; expected some '
          'to wait in the backlog' % (NOFILE, len(served), CLIENTS))
    note('%d clients served, %d waiting in the backlog' % (len(served), len(waiting)))

    # paused, not spinning: well under a core while connections wait (the
    # CPU time over this second is what is measured)
    before = cpu_seconds(d.pid)
    time.sleep(1.0)
    used = cpu_seconds(d.pid) - before
    check(used < 0.2, 'the daemon used %.2f s of CPU in 1 s while out of '
          'descriptors: the listener spins on EMFILE' % used)
    for s in served[:5]:
        echo_roundtrip(s, b'still served\n', what='a client accepted before EMFILE')

    # clients leave: the waiting ones are accepted and served
    for s in served:
        abort(s)
    got = {}

    def all_served():
        for s in waiting:
            if s in got:
                continue
            s.settimeout(0.05)
            try:
                if s.recv(1) == b'x':
                    got[s] = True
            except OSError:
                pass
        return len(got) == len(waiting)

    wait_for(all_served, 10, what='the waiting clients to be accepted and echoed')
    for s in waiting:
        echo_roundtrip(s, b'after\n', what='a client accepted after EMFILE')
        abort(s)
    d.stop()


main(run, 60)

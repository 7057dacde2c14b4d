#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# rcvbuf on a UDP listener: the receive buffer each of its sockets gets
# (the kernel reports twice the request, its bookkeeping included); 0, the
# default, leaves net.core.rmem_default.  A reload changes it in place on
# the same sockets, back to the kernel's default with 0, and on the
# sockets a changed service takes over.  Without CAP_NET_ADMIN the kernel
# caps it at net.core.rmem_max, and synackd says so.
import os
import shutil
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check_eq, listener, listening_sockopt,  # noqa: E402
                        main, server_section, skip, wait_for)

WAIT = 10.0


def sysctl(name):
    with open('/proc/sys/net/core/' + name) as f:
        return int(f.read())


def conf(**kw):
    return {'server': server_section(),
            'listener u': listener(kw.pop('service', 'echo'), transport='udp', **kw)}


def rcvbufs(d, port):
    return listening_sockopt(d, port, socket.SOL_SOCKET, socket.SO_RCVBUF,
                             type=socket.SOCK_DGRAM)


def reload(d, **kw):
    d.reload(conf(**kw), timeout=WAIT)


def wait_rcvbuf(d, port, want, what):
    wait_for(lambda: set(rcvbufs(d, port)) == {want}, WAIT,
             what='%s: SO_RCVBUF %d on every socket (now %s)' % (what, want, rcvbufs(d, port)))


def echo(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.sendto(b'ping', ('127.0.0.1', port))
    check_eq(s.recv(100), b'ping', 'echo after the change')
    s.close()


def run():
    default = sysctl('rmem_default')
    with Daemon(conf()) as d:
        port = d.port('u')
        check_eq(set(rcvbufs(d, port)), {default}, 'SO_RCVBUF without rcvbuf')
    with Daemon(conf(rcvbuf=1 << 20)) as d:
        port = d.port('u')
        check_eq(set(rcvbufs(d, port)), {2 << 20}, 'SO_RCVBUF with rcvbuf = 1 MiB')
        reload(d, rcvbuf=3 << 19)
        wait_rcvbuf(d, port, 3 << 20, 'reload to 1.5 MiB')
        d.wait_log(r'listener u: rcvbuf 1048576 -> 1572864')
        echo(port)
        reload(d, rcvbuf=0)
        wait_rcvbuf(d, port, default, 'reload to 0')
        # a new service takes over the same sockets, with its rcvbuf
        reload(d, service='discard', rcvbuf=1 << 20)
        check_eq(d.port('u'), port, 'port after the service change')
        wait_rcvbuf(d, port, 2 << 20, 'service change with rcvbuf = 1 MiB')

    # the cap, without CAP_NET_ADMIN (SO_RCVBUFFORCE refused)
    setpriv = shutil.which('setpriv')
    if setpriv is None:
        skip('setpriv (util-linux) is missing: the rmem_max cap is not tested')
    cap = sysctl('rmem_max')
    want = min(cap * 2, 1 << 30)
    with Daemon(conf(rcvbuf=want), command_prefix=(
            setpriv, '--inh-caps=-net_admin', '--bounding-set=-net_admin')) as d:
        d.wait_log(r'warn: listener u: rcvbuf %d is capped to %d by net\.core\.rmem_max'
                   % (want, cap))
        check_eq(set(rcvbufs(d, d.port('u'))), {2 * cap}, 'SO_RCVBUF at the cap')


if __name__ == '__main__':
    main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# "reload: done" means the workers serve the new configuration.  The
# workers' threads are stopped (ptrace, one thread at a time: the main
# thread runs on), a reload changes a UDP listener from echo to daytime on
# its port, and the main thread finishes it (/metrics, which it serves,
# counts the reload): "reload: done" must not be in the log yet (before,
# it was, though no worker had taken the change).  Once the workers run
# again the line comes, and the first datagram sent after it is answered
# by daytime.  With 1 and 2 workers.
import ctypes
import errno
import os
import re
import signal
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, http_get, listener, main, make_tempdir,  # noqa: E402
                        render_config, server_section, skip, wait_for)

PTRACE_DETACH = 17
PTRACE_SEIZE = 0x4206
PTRACE_INTERRUPT = 0x4207
WALL = 0x40000000  # waitpid's __WALL: a thread of another process

libc = ctypes.CDLL(None, use_errno=True)
libc.ptrace.restype = ctypes.c_long
libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_long, ctypes.c_void_p, ctypes.c_void_p]


def ptrace(req, tid):
    if libc.ptrace(req, tid, None, None) == -1:
        e = ctypes.get_errno()
        raise OSError(e, 'ptrace(%d, %d): %s' % (req, tid, os.strerror(e)))


def idle(pid, tid):
    """Whether the thread waits in its event loop (so it holds no lock
    that the main thread could need while it is stopped)."""
    try:
        with open('/proc/%d/task/%d/wchan' % (pid, tid)) as f:
            return 'epoll' in f.read()
    except OSError:
        return False


def stop_threads(pid, tids):
    """Stop these threads of process pid once they are idle, and only them."""
    wait_for(lambda: all(idle(pid, t) for t in tids), 10, what='the workers to be idle')
    for tid in tids:
        try:
            ptrace(PTRACE_SEIZE, tid)
        except OSError as e:
            if e.errno == errno.EPERM:
                skip('ptrace is not permitted here: %s' % e)
            raise
        ptrace(PTRACE_INTERRUPT, tid)
        os.waitpid(tid, WALL)


def resume_threads(tids):
    for tid in tids:
        ptrace(PTRACE_DETACH, tid)


def conf(workers, service, log):
    # port 0 both times: a new service runs on the same sockets, on their port
    return {'server': server_section(workers=workers, log=log, metrics='127.0.0.1:0'),
            'listener u': listener(service, transport='udp')}


def reloads_ok(d):
    status, _, body = http_get(d.metrics_addr(), '/metrics', headers={'Connection': 'close'})
    check(status == 200, '/metrics: status %s' % status)
    m = re.search(r'^synackd_reloads_total\{result="ok"\} (\d+)$', body.decode(), re.M)
    check(m, 'no synackd_reloads_total{result="ok"} in /metrics')
    return int(m.group(1))


def ask(port, payload):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(5)
    s.connect(('127.0.0.1', port))
    s.send(payload)
    try:
        return s.recv(65536)
    except socket.timeout:
        return None
    finally:
        s.close()


def run(workers):
    tmp = make_tempdir()
    log = os.path.join(tmp, 'synackd.log')
    with Daemon(conf(workers, 'echo', log), tmpdir=tmp, log_path=log) as d:
        port = d.port('u')
        check(ask(port, b'echo?') == b'echo?', 'workers=%d: echo before the reload' % workers)
        threads = [int(t) for t in os.listdir('/proc/%d/task' % d.pid) if int(t) != d.pid]
        check(len(threads) >= workers, 'workers=%d: threads %r' % (workers, threads))
        mark = d.log_count()
        stop_threads(d.pid, threads)
        try:
            with open(d.conf_path, 'w') as f:
                f.write(render_config(conf(workers, 'daytime', log)))
            d.send_signal(signal.SIGHUP)
            wait_for(lambda: reloads_ok(d) == 1, 10, what='the main thread to finish the reload')
            d.wait_log(r'listener u: listening on 127\.0\.0\.1:%d service=daytime' % port,
                       start=mark)
            check(d.find_log(r'reload: done', start=mark) is None,
                  'workers=%d: "reload: done" while no worker has taken the reload\n%s'
                  % (workers, d.describe()))
        finally:
            resume_threads(threads)
        d.wait_log(r'reload: done', 10, start=mark)
        got = ask(port, b'echo?')
        check(got is not None and got != b'echo?' and got.endswith(b'\r\n'),
              'workers=%d: the first datagram after "reload: done" is answered by daytime: '
              '%r\n%s' % (workers, got, d.describe()))


def test():
    for workers in (1, 2):
        run(workers)


if __name__ == '__main__':
    main(test, 60)

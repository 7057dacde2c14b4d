# SPDX-License-Identifier: ISC
# synacktest: the harness of every Python test (tests/integration,
# tests/daemon, tests/load). Next to it: detached.py (daemons that are not
# the test's child: pids, pidfiles, synackd run as a command), loadtest.py
# (synack-load run to completion and its report checked), promtext.py,
# proxyheader.py and browser.py.
#
# It starts the real synackd on port 0 from a config written into a private
# temporary directory, follows its log, learns each listener's real address
# from its "listening on" line, and stops it with SIGTERM. A port is read
# back from the process that holds it (or held by the test, hold_port),
# never learnt, let go and used again. Every wait is a bounded poll of the
# condition itself; every test runs under a global alarm; a test ends with
# exit status 0 (pass), 1 (fail) or 77 (skip), as automake expects.
#
# A test looks like:
#
#   from synacktest import Daemon, echo_check, listener, main, server_section
#
#   def run():
#       conf = {'server': server_section(log_level='debug'),
#               'listener echo': listener('echo', output_limit=65536)}
#       with Daemon(conf) as d:             # waits for "listening on"
#           s = echo_check(d.addr('echo'))  # (host, port) or a unix path
#           d.wait_log(r'client \S+ connected to echo')
#       # leaving the block sends SIGTERM and requires exit status 0
#
#   main(run, timeout=60)
#
# Environment: SYNACKD (the daemon binary), SYNACK_SRCDIR (read-only source
# tree). Temporary files go under tempfile.mkdtemp() and are removed.

import ctypes
import errno
import os
import random
import re
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import traceback

SKIP = 77

LOG_RE = re.compile(
    r'^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3}) (error|warn|info|debug): (.*)$')
# TCP: "... service=echo backlog=511"; UDP: "... service=echo transport=udp"
LISTEN_RE = re.compile(
    r'listener (\S+?):? listening on (\S+) service=(\S+)'
    r'(?: backlog=(\d+)| transport=(udp))')
METRICS_RE = re.compile(r'metrics: listening on (\S+) service=metrics')


class Failure(Exception):
    """A test assertion that did not hold."""


class Skip(Exception):
    """The test cannot run on this host."""


def skip(reason):
    raise Skip(reason)


def fail(msg):
    raise Failure(msg)


def check(cond, msg):
    if not cond:
        raise Failure(msg)
    return cond


def check_eq(got, want, what):
    if got != want:
        raise Failure('%s: expected %r, got %r' % (what, want, got))


def note(msg):
    print(msg, flush=True)


# ---------------------------------------------------------------------------
# Paths and temporary directories

def program_path(env, name):
    """A built program: $env, else src/NAME of the source tree."""
    path = os.environ.get(env)
    if not path:
        top = os.environ.get('SYNACK_SRCDIR') or os.path.join(
            os.path.dirname(os.path.abspath(__file__)), '..', '..')
        path = os.path.join(top, 'src', name)
    path = os.path.abspath(path)
    if not os.access(path, os.X_OK):
        fail('%s does not exist or is not executable (set %s)' % (path, env))
    return path


def synackd_path():
    return program_path('SYNACKD', 'synackd')


_tempdirs = []
_children = []
_held = []
_cleanup_hooks = []


def at_cleanup(fn):
    """Call fn() when the test ends, pass or fail, before the children are
    killed (detached.py kills the daemons it tracks this way)."""
    _cleanup_hooks.append(fn)


def make_tempdir():
    """A private temporary directory, removed when the test ends. Kept short
    so that unix socket paths inside it fit in sun_path."""
    d = tempfile.mkdtemp(prefix='synack-')
    if len(d) > 60:
        shutil.rmtree(d, ignore_errors=True)
        d = tempfile.mkdtemp(prefix='synack-', dir='/tmp')
    _tempdirs.append(d)
    return d


def _cleanup():
    for fn in _cleanup_hooks:
        try:
            fn()
        except Exception:
            traceback.print_exc(file=sys.stdout)
    for sock in _held:
        sock.close()
    for p in _children:
        if p.poll() is None:
            try:
                p.kill()
                p.wait(5)
            except Exception:
                pass
    for d in _tempdirs:
        shutil.rmtree(d, ignore_errors=True)


# ---------------------------------------------------------------------------
# Waiting

def wait_for(pred, timeout, interval=0.02, what=None):
    """Poll pred() until it returns a true value (returned) or timeout
    seconds pass (returns None, or fails when `what` describes the wait)."""
    deadline = time.monotonic() + timeout
    while True:
        v = pred()
        if v:
            return v
        if time.monotonic() >= deadline:
            if what:
                fail('timed out after %.1f s waiting for %s' % (timeout, what))
            return None
        time.sleep(interval)


# ---------------------------------------------------------------------------
# Config

def render_config(conf):
    """conf is INI text, or a dict {section: {key: value}} rendered in
    insertion order (values None are left out)."""
    if isinstance(conf, str):
        return conf
    out = []
    for section, keys in conf.items():
        out.append('[%s]' % section)
        for k, v in keys.items():
            if v is None:
                continue
            out.append('%s = %s' % (k, v))
        out.append('')
    return '\n'.join(out)


def test_workers():
    """How many sockets a spreadable listener has: SYNACK_TEST_WORKERS or 1."""
    return int(os.environ.get('SYNACK_TEST_WORKERS') or 1)


def with_workers(text):
    """SYNACK_TEST_WORKERS=N runs every daemon with `workers = N` unless
    its configuration sets workers itself: the whole suite again, on N
    event loops."""
    n = os.environ.get('SYNACK_TEST_WORKERS')
    if not n or re.search(r'^\s*workers\s*[=:]', text, re.M):
        return text
    if re.search(r'^\s*\[server\]', text, re.M):
        return re.sub(r'^(\s*\[server\][^\n]*\n)', r'\1workers = %s\n' % n, text,
                      count=1, flags=re.M)
    return '[server]\nworkers = %s\n\n' % n + text


def server_section(**kw):
    d = {'log': 'stderr', 'log_level': 'info'}
    d.update({k: str(v) for k, v in kw.items()})
    return d


def listener(service, address='127.0.0.1', port=0, **kw):
    d = {'service': service, 'address': address}
    if not address.startswith('unix:'):
        d['port'] = str(port)
    d.update({k: str(v) for k, v in kw.items()})
    return d


# ---------------------------------------------------------------------------
# Sockets

def fmt_addr(sa):
    """Format a socket address the way synackd logs it: a:p, [a]:p."""
    host, port = sa[0], sa[1]
    if ':' in host:
        return '[%s]:%d' % (host, port)
    return '%s:%d' % (host, port)


def parse_addr(text):
    """'127.0.0.1:7007' -> ('127.0.0.1', 7007); '[::1]:7' -> ('::1', 7);
    'unix:/path' -> '/path'."""
    if text.startswith('unix:'):
        return text[len('unix:'):]
    host, port = text.rsplit(':', 1)
    if host.startswith('[') and host.endswith(']'):
        host = host[1:-1]
    return (host, int(port))


def _family(addr):
    if isinstance(addr, str):
        return socket.AF_UNIX
    return socket.AF_INET6 if ':' in addr[0] else socket.AF_INET


def http_get(addr, path, method='GET', timeout=5.0, headers=None):
    """One HTTP/1.1 request on its own connection: (status, headers, body)."""
    import http.client
    conn = http.client.HTTPConnection(addr[0], addr[1], timeout=timeout)
    try:
        conn.request(method, path, headers=headers or {})
        r = conn.getresponse()
        return r.status, {k.lower(): v for k, v in r.getheaders()}, r.read()
    finally:
        conn.close()


def make_socket(addr, rcvbuf=None, sndbuf=None):
    s = socket.socket(_family(addr), socket.SOCK_STREAM)
    if rcvbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
    if sndbuf:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF, sndbuf)
    return s


def connect(addr, timeout=5.0, rcvbuf=None, sndbuf=None):
    """A connected blocking socket with `timeout` as its I/O timeout."""
    s = make_socket(addr, rcvbuf, sndbuf)
    s.settimeout(timeout)
    try:
        s.connect(addr)
    except OSError as e:
        s.close()
        fail('connect to %r: %s' % (addr, e))
    return s


def connect_from(src, addr, timeout=5.0):
    """A socket bound to source address src (127.0.0.2, ...) and connected
    to addr (a unix path: no source); skips the test where src cannot be
    bound."""
    if isinstance(addr, str):
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    else:
        s = socket.socket(socket.AF_INET6 if ':' in src else socket.AF_INET,
                          socket.SOCK_STREAM)
        try:
            s.bind((src, 0))
        except OSError as e:
            s.close()
            skip('cannot bind %s: %s' % (src, e))
    s.settimeout(timeout)
    s.connect(addr)
    return s


def join_chat(d, name, n, **kw):
    """n members of chat listener `name`, each in the room (the daemon, at
    log_level debug, logged its connection) before the next joins."""
    socks = []
    for _ in range(n):
        s = connect(d.addr(name), timeout=5, **kw)
        d.wait_log(r'client %s connected to %s' %
                   (re.escape(fmt_addr(s.getsockname())), name))
        socks.append(s)
    return socks


def try_connect(addr, timeout=2.0):
    """Returns (socket, None) or (None, errno)."""
    s = make_socket(addr)
    s.settimeout(timeout)
    try:
        s.connect(addr)
    except socket.timeout:
        s.close()
        return None, errno.ETIMEDOUT
    except OSError as e:
        s.close()
        return None, e.errno
    return s, None


def hold_port(host='127.0.0.1', shared=False, port=0):
    """A port number held until the test ends by a socket of the test's,
    bound to host and port (0: the kernel's choice), never listening:
    connects to it are refused, and no other process can listen on it
    meanwhile (a number learnt and let go could be anyone's by the time it
    is used). shared: the socket has SO_REUSEADDR, so that a program that
    takes no port 0 but sets SO_REUSEADDR itself (haproxy,
    systemd-socket-activate, synackd below 1024) can bind and listen there
    beside it; binds to port 0 still pass it by. OSError when port is
    taken."""
    s = socket.socket(_family((host, 0)), socket.SOCK_STREAM)
    if shared:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        s.bind((host, port))
    except OSError:
        s.close()
        raise
    _held.append(s)
    return s.getsockname()[1]


def listening_socket(host='127.0.0.1', backlog=128):
    """A TCP socket listening on host, port 0 (the kernel's choice), for a
    server of the test's own or to hand to a program that inherits it."""
    s = socket.socket(_family((host, 0)), socket.SOCK_STREAM)
    s.bind((host, 0))
    s.listen(backlog)
    return s


def abort(sock):
    """Close with SO_LINGER 0: a reset, no TIME_WAIT left on this side."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                        b'\x01\x00\x00\x00\x00\x00\x00\x00')
    except OSError:
        pass
    sock.close()


def recv_exact(sock, n, timeout=5.0):
    """Read exactly n bytes within timeout seconds or fail, saying what
    arrived."""
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while len(buf) < n:
        left = deadline - time.monotonic()
        if left <= 0:
            fail('expected %d bytes within %.1f s, got %d: %r' %
                 (n, timeout, len(buf), bytes(buf[:200])))
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            chunk = sock.recv(min(n - len(buf), 1 << 20), socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as e:
            fail('expected %d bytes, got %d, then error: %s' %
                 (n, len(buf), e))
        if not chunk:
            fail('expected %d bytes, got %d and then EOF: %r' %
                 (n, len(buf), bytes(buf[-200:])))
        buf += chunk
    return bytes(buf)


def recv_line(sock, timeout=5.0, term=b'\n', limit=1 << 20):
    """Read one line (up to and including term) byte-wise safe: reads with
    MSG_PEEK so nothing after the line is consumed."""
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail('expected a line within %.1f s, got %r' %
                 (timeout, bytes(buf[:200])))
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            peek = sock.recv(65536, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        except OSError as e:
            fail('expected a line, got %r and then error: %s' %
                 (bytes(buf[:200]), e))
        if not peek:
            fail('expected a line, got %r and then EOF' % bytes(buf[:200]))
        i = peek.find(term)
        take = len(peek) if i < 0 else i + len(term)
        buf += sock.recv(take)
        if i >= 0:
            return bytes(buf)
        if len(buf) > limit:
            fail('line longer than %d bytes: %r...' % (limit, bytes(buf[:200])))


def expect_silence(sock, duration):
    """Nothing (no data, no EOF) arrives on sock for `duration` seconds."""
    r, _, _ = select.select([sock], [], [], duration)
    if r:
        try:
            data = sock.recv(4096, socket.MSG_PEEK | socket.MSG_DONTWAIT)
        except OSError as e:
            fail('expected silence, got error %s' % e)
        if data:
            fail('expected nothing to arrive, got %r' % data[:200])
        fail('expected the connection to stay open, got EOF')


def recv_until_eof(sock, timeout=5.0, limit=64 << 20):
    """All bytes until EOF; fails on timeout. A reset after data counts as
    the end too: returns (data, 'eof'|'reset')."""
    buf = bytearray()
    deadline = time.monotonic() + timeout
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            fail('expected EOF within %.1f s; got %d bytes and the connection '
                 'still open (last: %r)' % (timeout, len(buf), bytes(buf[-100:])))
        r, _, _ = select.select([sock], [], [], left)
        if not r:
            continue
        try:
            chunk = sock.recv(1 << 20, socket.MSG_DONTWAIT)
        except (BlockingIOError, InterruptedError):
            continue
        except ConnectionResetError:
            return bytes(buf), 'reset'
        if not chunk:
            return bytes(buf), 'eof'
        buf += chunk
        if len(buf) > limit:
            fail('more than %d bytes before EOF' % limit)


def echo_roundtrip(sock, payload=b'ping\n', timeout=5.0, what='echo'):
    """Send payload on an echo connection and check it comes back."""
    sock.sendall(payload)
    got = recv_exact(sock, len(payload), timeout)
    if got != payload:
        fail('%s: sent %r, got back %r' % (what, payload[:100], got[:100]))


def echo_check(addr, payload=b'ping\n', timeout=5.0):
    """Connect to an echo listener, check one round trip, return the socket."""
    s = connect(addr, timeout)
    echo_roundtrip(s, payload, timeout, 'echo via %r' % (addr,))
    return s


def daemon_read_all(sock, server_port, timeout=10.0):
    """Wait until the daemon has read everything `sock` sent: nothing left
    in our send queue, nor in the daemon's receive queue (where ss can tell)."""
    cport = sock.getsockname()[1]

    def done():
        if ioctl_int(sock, SIOCOUTQ) != 0:
            return False
        if SS is None:
            return True
        q = ss_conn_queues(server_port, cport)
        return q is not None and q[0] == 0
    wait_for(done, timeout, what='the daemon to read all %d-side bytes' % cport)


def ioctl_int(sock, req):
    import fcntl
    import struct
    r = fcntl.ioctl(sock.fileno(), req, b'\0\0\0\0')
    return struct.unpack('i', r)[0]


SIOCINQ = 0x541B    # FIONREAD: bytes in the receive queue
SIOCOUTQ = 0x5411   # TIOCOUTQ: bytes in the send queue (unsent + unacked)


def _find_ss():
    for exe in (shutil.which('ss'), '/usr/sbin/ss', '/sbin/ss', '/usr/bin/ss',
                '/bin/ss'):
        if exe and os.path.exists(exe):
            return exe
    return None


SS = _find_ss()


def ss(args):
    """Run iproute2's ss; skip the test when it is not installed."""
    exe = SS
    if exe is None:
        skip('iproute2 ss is not installed')
    r = run_program([exe] + args, timeout=10)
    if r.rc != 0:
        fail('ss %s failed: %s' % (' '.join(args), r.err))
    return r.out


def ss_listen_queues(port, host=None):
    """[(recv_q, send_q, local)] of TCP listeners on `port`; with host, only
    those bound to exactly that address ('127.0.0.1', '::1', '*')."""
    out = ss(['-ltnH', 'sport = :%d' % port])
    rows = []
    for line in out.splitlines():
        f = line.split()
        if len(f) < 4:
            continue
        # State Recv-Q Send-Q Local Peer
        local = f[3]
        if host is not None:
            h = local.rsplit(':', 1)[0].strip('[]')
            if h.split('%')[0] != host:
                continue
        rows.append((int(f[1]), int(f[2]), local))
    return rows


def listener_pids(host, port):
    """Process ids owning TCP listeners bound to host:port (as ss -p sees
    them)."""
    out = ss(['-ltnpH', 'sport = :%d' % port])
    pids = set()
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 4 and f[3].rsplit(':', 1)[0].strip('[]') == host:
            pids.update(int(p) for p in re.findall(r'pid=(\d+)', line))
    return pids


def check_refused(addr, what, our_pid=None):
    """A connect to addr is refused. If it is accepted, and the listener
    there belongs to some other process (a port number the kernel also gave
    a test running in parallel, on another address), the check is skipped."""
    s, err = try_connect(addr)
    if s is None:
        if err != errno.ECONNREFUSED:
            fail('%s: expected ECONNREFUSED, got %s' %
                 (what, errno.errorcode.get(err, err)))
        return True
    abort(s)
    pids = listener_pids(addr[0], addr[1])
    if pids and our_pid is not None and our_pid not in pids:
        print('note: %s:%d is another process\'s listener (pids %r); check '
              'skipped' % (addr[0], addr[1], sorted(pids)), flush=True)
        return False
    fail('%s: expected the connect to %r to be refused, it was accepted' %
         (what, addr))


def ss_conn_queues(local_port, peer_port):
    """(recv_q, send_q) of the connected TCP socket local_port<->peer_port
    (in any state but LISTEN), or None (not found, or no ss here)."""
    if SS is None:
        return None
    out = ss(['-tanH', '( sport = :%d and dport = :%d )' % (local_port, peer_port)])
    for line in out.splitlines():
        f = line.split()
        # State Recv-Q Send-Q Local Peer
        if len(f) >= 5 and f[0] != 'LISTEN':
            return int(f[1]), int(f[2])
    return None


def somaxconn():
    with open('/proc/sys/net/core/somaxconn') as f:
        return int(f.read().split()[0])


def have_ipv6_loopback():
    try:
        s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    except OSError:
        return False
    try:
        s.bind(('::1', 0))
        return True
    except OSError:
        return False
    finally:
        s.close()


def thread_sanitized(pid):
    """True when the daemon runs under ThreadSanitizer, which adds a thread
    of its own (started by the first pthread_create(), before that
    thread)."""
    try:
        with open('/proc/%d/maps' % pid) as f:
            return 'libtsan' in f.read()
    except OSError:
        return False


def sanitized(pid):
    """True when the daemon runs under AddressSanitizer (its quarantine
    makes memory use grow in a way that says nothing about buffering)."""
    try:
        with open('/proc/%d/maps' % pid) as f:
            return 'libasan' in f.read()
    except OSError:
        return False


def check_rss_growth(pid, before, what, limit_kib=32 * 1024):
    """The daemon's resident memory grew by less than limit_kib since
    `before` (a rss_kib() reading); skipped where it cannot be measured."""
    after = rss_kib(pid)
    if before is None or after is None:
        return
    if sanitized(pid):
        limit_kib *= 8
    print('daemon RSS %d KiB -> %d KiB' % (before, after), flush=True)
    if after - before >= limit_kib:
        fail('daemon memory grew by %d KiB %s (limit %d KiB): output is not '
             'bounded' % (after - before, what, limit_kib))


def rss_kib(pid):
    try:
        with open('/proc/%d/status' % pid) as f:
            for line in f:
                if line.startswith('VmRSS:'):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


# ---------------------------------------------------------------------------
# The daemon

class _Reader(threading.Thread):
    def __init__(self, stream, lines, cond):
        super().__init__(daemon=True)
        self.stream, self.lines, self.cond = stream, lines, cond

    def run(self):
        for raw in iter(self.stream.readline, b''):
            line = raw.decode('utf-8', errors='replace').rstrip('\r\n')
            with self.cond:
                self.lines.append(line)
                self.cond.notify_all()
        with self.cond:
            self.cond.notify_all()


class Daemon:
    """synackd under test.

    conf: INI text or a dict (see render_config); the text may contain
    @TMPDIR@, replaced by the daemon's private temporary directory.
    expect_listeners: names whose "listening on" line must appear before the
    constructor returns (default: every [listener NAME] in the config).
    log_path: the config logs to this file instead of stderr; log lines are
    then read from it.
    config_arg: what -c names (default: the file written here, by its
    absolute path); the daemon runs in tmpdir, so it may be relative.
    preexec_fn: run in the child before synackd starts (to set rlimits).
    close_fds: False lets synackd inherit the descriptors preexec_fn made
    inheritable (socket activation).
    command_prefix: a launcher that execs synackd with the rest of the
    command line (systemd-socket-activate ...): the pid stays synackd's.
    """

    def __init__(self, conf, expect_listeners=None, log_path=None,
                 start_timeout=10.0, tmpdir=None, args=(), ready=None,
                 config_arg=None, preexec_fn=None, close_fds=True,
                 command_prefix=()):
        self.tmpdir = tmpdir or make_tempdir()
        text = with_workers(render_config(conf).replace('@TMPDIR@', self.tmpdir))
        self.conf_text = text
        self.conf_path = os.path.join(self.tmpdir, 'synackd.conf')
        with open(self.conf_path, 'w') as f:
            f.write(text)
        self.log_path = log_path
        if expect_listeners is None:
            expect_listeners = re.findall(r'^\s*\[listener\s+([^\]\s]+)\s*\]',
                                          text, re.M)
        self._lines = []
        self._out = []
        self._cond = threading.Condition()
        self.exit_code = None
        self._stopped = False
        self.proc = subprocess.Popen(
            list(command_prefix) +
            [synackd_path(), '-c', config_arg or self.conf_path] + list(args),
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, cwd=self.tmpdir, preexec_fn=preexec_fn,
            close_fds=close_fds)
        _children.append(self.proc)
        self.pid = self.proc.pid
        self._readers = [_Reader(self.proc.stderr, self._lines, self._cond),
                         _Reader(self.proc.stdout, self._out, self._cond)]
        for r in self._readers:
            r.start()
        self.listeners = {}
        try:
            for name in expect_listeners:
                m = self.wait_log(r'listener %s:? listening on ' % re.escape(name),
                                  start_timeout)
                self._record_listener(m.string)
            if ready is not None:
                wait_for(ready, start_timeout, what='the daemon to be ready')
        except Failure:
            self.kill()
            raise

    def _record_listener(self, line):
        m = LISTEN_RE.search(line)
        if not m:
            fail('cannot parse listening line %r' % line)
        self.listeners[m.group(1)] = {
            'addr': parse_addr(m.group(2)), 'text': m.group(2),
            'service': m.group(3),
            'backlog': int(m.group(4)) if m.group(4) is not None else None,
            'transport': m.group(5) or 'tcp', 'line': line}

    # -- log ---------------------------------------------------------------

    def log_lines(self):
        """Every log line so far (stderr, or the log file)."""
        if self.log_path:
            try:
                with open(self.log_path, 'rb') as f:
                    return [l.decode('utf-8', errors='replace').rstrip('\r\n')
                            for l in f.read().splitlines()]
            except FileNotFoundError:
                return []
        with self._cond:
            return list(self._lines)

    def stderr_lines(self):
        with self._cond:
            return list(self._lines)

    def stdout_lines(self):
        with self._cond:
            return list(self._out)

    def messages(self, level=None):
        """The MESSAGE parts of log lines (optionally of one level)."""
        out = []
        for line in self.log_lines():
            m = LOG_RE.match(line)
            if m and (level is None or m.group(2) == level):
                out.append(m.group(3))
        return out

    def find_log(self, regex, start=0):
        rx = re.compile(regex)
        for line in self.log_lines()[start:]:
            m = rx.search(line)
            if m:
                return m
        return None

    def find_all_log(self, regex):
        rx = re.compile(regex)
        return [m for m in (rx.search(l) for l in self.log_lines()) if m]

    def wait_log(self, regex, timeout=5.0, start=0):
        """The first log line (from index `start`) matching regex; fails fast
        if the daemon exits, and after timeout, showing the log."""
        rx = re.compile(regex)
        deadline = time.monotonic() + timeout
        while True:
            lines = self.log_lines()
            for line in lines[start:]:
                m = rx.search(line)
                if m:
                    return m
            if self.proc.poll() is not None:
                # let the readers drain what the child wrote before exiting
                for r in self._readers:
                    r.join(2)
                lines = self.log_lines()
                for line in lines[start:]:
                    m = rx.search(line)
                    if m:
                        return m
                fail('synackd exited with status %s while waiting for log '
                     '/%s/\n%s' % (self.proc.returncode, regex,
                                   self.describe()))
            if time.monotonic() >= deadline:
                fail('no log line matching /%s/ within %.1f s\n%s' %
                     (regex, timeout, self.describe()))
            if self.log_path:
                time.sleep(0.02)
            else:
                with self._cond:
                    if len(self._lines) == len(lines):
                        self._cond.wait(min(0.1, max(0.0, deadline - time.monotonic())))

    def log_count(self):
        return len(self.log_lines())

    def describe(self):
        lines = self.log_lines()
        text = '--- synackd log (%d lines) ---\n' % len(lines)
        text += '\n'.join(lines[-60:])
        if self.log_path:
            err = self.stderr_lines()
            if err:
                text += '\n--- stderr ---\n' + '\n'.join(err[-30:])
        return text + '\n--- end ---'

    # -- addresses -----------------------------------------------------------

    def addr(self, name):
        if name not in self.listeners:
            fail('no listening line for listener %r (have %r)' %
                 (name, sorted(self.listeners)))
        return self.listeners[name]['addr']

    def port(self, name):
        return self.addr(name)[1]

    def metrics_addr(self, timeout=5.0):
        """The metrics endpoint's address, from its "listening on" line."""
        return parse_addr(self.wait_log(METRICS_RE.pattern, timeout).group(1))

    def stats(self, timeout=5.0):
        """GET /stats, parsed."""
        import json
        status, _, body = http_get(self.metrics_addr(), '/stats', timeout=timeout)
        check_eq(status, 200, 'status of GET /stats')
        return json.loads(body)

    def listener_stats(self, name, timeout=5.0):
        """The /stats object of listener `name`."""
        for l in self.stats(timeout)['listeners']:
            if l['name'] == name:
                return l
        fail('no listener %r in /stats' % name)

    # -- lifetime ------------------------------------------------------------

    def alive(self):
        return self.proc.poll() is None

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def reload(self, conf, done=True, timeout=10.0):
        """Write conf (as the constructor does) and SIGHUP; with done, wait
        for "reload: done", which comes once every worker serves it.  The
        log index where the reload started."""
        text = with_workers(render_config(conf).replace('@TMPDIR@', self.tmpdir))
        with open(self.conf_path, 'w') as f:
            f.write(text)
        self.conf_text = text
        mark = self.log_count()
        self.send_signal(signal.SIGHUP)
        if done:
            self.wait_log(r'reload: done', timeout, start=mark)
        return mark

    def wait_exit(self, timeout):
        try:
            self.exit_code = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        for r in self._readers:
            r.join(2)
        return self.exit_code

    def stop(self, timeout=15.0, sig=signal.SIGTERM):
        """Graceful stop: the daemon must exit 0 within timeout seconds."""
        if self._stopped:
            return self.exit_code
        if self.proc.poll() is not None:
            rc = self.wait_exit(1)
            fail('synackd had already exited with status %s\n%s' %
                 (rc, self.describe()))
        self.proc.send_signal(sig)
        rc = self.wait_exit(timeout)
        if rc is None:
            self.kill()
            fail('synackd did not exit within %.0f s of %s\n%s' %
                 (timeout, signal.Signals(sig).name, self.describe()))
        if rc != 0:
            fail('synackd exited with status %s after %s, expected 0\n%s' %
                 (rc, signal.Signals(sig).name, self.describe()))
        self._stopped = True
        return rc

    def kill(self):
        if self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        for r in self._readers:
            r.join(1)

    def __enter__(self):
        return self

    def __exit__(self, etype, evalue, tb):
        if etype is None:
            self.stop()
        else:
            if self.alive():
                self.kill()
            if etype is Failure and evalue is not None and \
                    'synackd log' not in str(evalue):
                evalue.args = (str(evalue) + '\n' + self.describe(),)
        return False


# ---------------------------------------------------------------------------
# Programs run to completion

class Result:
    """A program that ran to completion: its exit status, output and
    running time (and pid); report is what loadtest parsed from stdout."""

    def __init__(self, args, rc, out, err, elapsed, pid=None):
        self.args, self.rc, self.out, self.err = list(args), rc, out, err
        self.elapsed, self.pid = elapsed, pid
        self.report = None

    def describe(self):
        return ('%s: exit %s after %.1f s\n--- stdout ---\n%s\n'
                '--- stderr ---\n%s' % (' '.join(self.args), self.rc, self.elapsed,
                                        self.out[-3000:], self.err[-3000:]))

    __repr__ = describe


class Command:
    """A program started with its output on pipes (and `stdin`, bytes, on
    its input, else nothing); finish() waits for it (bounded) and returns
    its Result. It is killed if the test ends first."""

    def __init__(self, args, cwd=None, preexec_fn=None, stdin=None):
        self.args = list(args)
        self.stdin = stdin
        self.t0 = time.monotonic()
        self.proc = subprocess.Popen(
            self.args, stdin=subprocess.DEVNULL if stdin is None else subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, cwd=cwd,
            preexec_fn=preexec_fn)
        _children.append(self.proc)
        self.pid = self.proc.pid

    def elapsed(self):
        return time.monotonic() - self.t0

    def send_signal(self, sig):
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def finish(self, timeout=30, on_timeout=None, hint=''):
        """The Result, once the program exited and closed its output;
        fails after timeout seconds (on_timeout() is called first, hint is
        added to the message)."""
        try:
            out, err = self.proc.communicate(self.stdin, timeout=timeout)
        except subprocess.TimeoutExpired:
            if on_timeout:
                on_timeout()
            self.proc.kill()
            try:
                # whatever it started may still hold the pipes: a bounded read
                _, err = self.proc.communicate(timeout=2)
            except subprocess.TimeoutExpired:
                err = b''
            self.proc.wait()
            fail('%s: no exit and end of its output within %.0f s%s\nstderr: %s' %
                 (' '.join(self.args), timeout, hint,
                  (err or b'').decode(errors='replace')[-2000:]))
        return Result(self.args, self.proc.returncode, out.decode(errors='replace'),
                      err.decode(errors='replace'), self.elapsed(), self.pid)


def run_program(args, timeout=10.0, cwd=None):
    """Run a program to completion: its Result."""
    return Command(args, cwd=cwd).finish(timeout)


def run_synackd(args, timeout=10.0, cwd=None):
    """Run synackd with args to completion: its Result."""
    return run_program([synackd_path()] + list(args), timeout, cwd)


def run_daemon_expect_fail(conf, timeout=10.0, tmpdir=None):
    """Start synackd on conf, which must fail to start: its Result.
    The config is written to TMPDIR/synackd.conf (tmpdir, or a new private
    directory), which is how error messages name it."""
    d = tmpdir or make_tempdir()
    text = render_config(conf).replace('@TMPDIR@', d)
    path = os.path.join(d, 'synackd.conf')
    with open(path, 'w') as f:
        f.write(text)
    return run_synackd(['-c', path], timeout, cwd=d)


# ---------------------------------------------------------------------------
# Test entry point

def _on_alarm(signum, frame):
    raise Failure('test exceeded its time limit (global alarm)')


def main(fn, timeout=60):
    """Run fn() under a global alarm; exit 0 / 1 / 77."""
    signal.signal(signal.SIGALRM, _on_alarm)
    signal.alarm(timeout)
    name = os.path.basename(sys.argv[0])
    rc = 1
    try:
        fn()
        rc = 0
        print('PASS: %s' % name, flush=True)
    except Skip as e:
        rc = SKIP
        print('SKIP: %s: %s' % (name, e), flush=True)
    except Failure as e:
        print('FAIL: %s: %s' % (name, e), flush=True)
        tb = traceback.extract_tb(sys.exc_info()[2])
        here = [f for f in tb if f.filename.endswith(name)]
        if here:
            print('  at %s line %d: %s' % (name, here[-1].lineno, here[-1].line),
                  flush=True)
    except Exception:
        print('FAIL: %s: unexpected exception' % name, flush=True)
        traceback.print_exc(file=sys.stdout)
    finally:
        signal.alarm(0)
        _cleanup()
    sys.stdout.flush()
    os._exit(rc)


SYS_pidfd_getfd = 438  # the same number on every architecture


def loopback_address():
    """A random address of 127.0.0.0/8 outside 127.0.0.0/24 (every one is on
    lo): a client that must bind a fixed port (a source port the daemon
    refuses) does so there, where no test running beside binds it too."""
    return '127.%d.%d.%d' % (random.randint(1, 254), random.randint(1, 254),
                             random.randint(1, 254))


def udp_sockets(port, pid=None):
    """UDP sockets bound to port, from /proc/net/udp and udp6; with pid,
    only that process's (a client of a test running beside may have the
    same port number on another address)."""
    inodes = None
    if pid is not None:
        inodes = set()
        for fd in os.listdir('/proc/%d/fd' % pid):
            try:
                link = os.readlink('/proc/%d/fd/%s' % (pid, fd))
            except FileNotFoundError:
                continue
            if link.startswith('socket:['):
                inodes.add(link[8:-1])
    n = 0
    for path in ('/proc/net/udp', '/proc/net/udp6'):
        try:
            with open(path) as f:
                for line in f.readlines()[1:]:
                    fields = line.split()
                    if (int(fields[1].rsplit(':', 1)[1], 16) == port and
                            (inodes is None or fields[9] in inodes)):
                        n += 1
        except FileNotFoundError:
            pass
    return n


def wait_counters(read, want, timeout, what):
    """Wait until the counters read() returns (a dict) have exactly the
    values of `want` for its keys and 0 for every other; fail showing the
    ones that differ."""
    last = {}

    def done():
        last.clear()
        last.update(read())
        return last == dict({k: 0 for k in last}, **want)
    if not wait_for(done, timeout):
        full = dict({k: 0 for k in last}, **want)
        diff = {k: (full[k], last.get(k)) for k in full if last.get(k) != full[k]}
        fail('%s: counters (expected, got) that differ after %.0f s: %r' %
             (what, timeout, diff))


def listening_sockopt(d, port, level, opt, family=socket.AF_INET,
                      type=socket.SOCK_STREAM):
    """An integer option of each of the daemon's listening sockets on
    `port` (TCP; with type=SOCK_DGRAM its UDP sockets), read on a duplicate
    of it (pidfd_getfd): the socket's own value, as a reload left it.
    Skips the test where pidfd_getfd is refused."""
    libc = ctypes.CDLL(None, use_errno=True)
    pidfd = os.pidfd_open(d.pid)
    values = []
    try:
        for name in os.listdir('/proc/%d/fd' % d.pid):
            try:
                if not os.readlink('/proc/%d/fd/%s' % (d.pid, name)).startswith('socket:'):
                    continue
            except FileNotFoundError:
                continue
            fd = libc.syscall(SYS_pidfd_getfd, pidfd, int(name), 0)
            if fd < 0:
                e = ctypes.get_errno()
                if e == errno.EBADF:
                    continue  # closed since it was listed
                skip('pidfd_getfd: %s' % os.strerror(e))
            s = socket.socket(fileno=fd)
            try:
                if (s.family == family and s.type == type and
                        (type != socket.SOCK_STREAM or
                         s.getsockopt(socket.SOL_SOCKET, socket.SO_ACCEPTCONN)) and
                        s.getsockname()[1] == port):
                    values.append(s.getsockopt(level, opt))
            finally:
                s.close()  # the duplicate only
    finally:
        os.close(pidfd)
    check(values, 'no listening socket of synackd on port %d' % port)
    return values

# SPDX-License-Identifier: ISC
# A network namespace of the test's own, and nftables and sysctls in it.
#
# enter_netns() moves the calling process (and every daemon and client it
# starts afterwards) into a new network namespace with lo up: its TcpExt
# counters start at 0, its ports are free, its sysctls (net.ipv4.*) and its
# nftables rules are its own and vanish with it.  Skipped (not failed)
# where a namespace cannot be made.
import ctypes
import fcntl
import os
import shutil
import socket
import struct

from synacktest import Command, check, fail, skip

CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1

_host_netns = None
_nft = None


def enter_netns():
    """Move this process into a new network namespace with lo up."""
    global _host_netns
    _host_netns = os.readlink('/proc/self/ns/net')
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        e = ctypes.get_errno()
        skip('cannot make a network namespace of its own: unshare(CLONE_NEWNET): %s '
             '(needs CAP_SYS_ADMIN)' % os.strerror(e))
    check(os.readlink('/proc/self/ns/net') != _host_netns,
          'unshare(CLONE_NEWNET) returned 0 but the namespace is the same')
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        ifr = fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack('16sh22x', b'lo', 0))
        flags = struct.unpack_from('16sh', ifr)[1]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack('16sh22x', b'lo', flags | IFF_UP))
    except OSError as e:
        fail('cannot bring lo up in the new namespace: %s' % e)
    finally:
        s.close()


def _own_netns():
    check(_host_netns is not None and os.readlink('/proc/self/ns/net') != _host_netns,
          'refusing to change the host\'s network namespace: call enter_netns() first')


def nft(script, may_fail=False):
    """Run an nft script in this namespace (never the host's).
    Returns (rc, stderr)."""
    _own_netns()
    r = Command([_nft, '-f', '-'], stdin=script.encode()).finish(10)
    err = r.err.strip()
    if r.rc != 0 and not may_fail:
        fail('nft failed (%d): %s\nscript:\n%s' % (r.rc, err, script))
    return r.rc, err


def find_nft(table):
    """Find nft and add the inet table `table` for the test's rules;
    skip the test where nftables is missing or does not work."""
    global _nft
    for exe in (shutil.which('nft'), '/usr/sbin/nft', '/sbin/nft'):
        if exe and os.access(exe, os.X_OK):
            _nft = exe
            break
    if _nft is None:
        skip('nft (nftables) is not installed')
    rc, err = nft('add table inet %s\n' % table, may_fail=True)
    if rc != 0:
        skip('nftables does not work here: %s' % err)


def sysctl_set(name, value):
    """Set a per-namespace sysctl (net.ipv4.tcp_fastopen, ...) in this
    namespace; returns the value it had."""
    _own_netns()
    path = '/proc/sys/' + name.replace('.', '/')
    with open(path) as f:
        old = f.read().strip()
    with open(path, 'w') as f:
        f.write(str(value))
    return old


def sysctl_get(name):
    with open('/proc/sys/' + name.replace('.', '/')) as f:
        return f.read().strip()

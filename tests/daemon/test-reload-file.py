#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# reload (SIGHUP) reads the file as the operator left it, and refuses what
# is not a configuration while the daemon serves on unchanged:
#  1. a symlink deploy: -c names current.conf, a symlink; swapping it to
#     v2.conf and reloading applies v2; with v1 deleted, swapping to v3
#     and reloading applies v3 (the path is opened anew, not resolved once);
#  2. an empty file, a file of NUL bytes, a file with only [server]:
#     "reload: FILE: ...; the running configuration stays", and every
#     listener still serves (an empty file used to remove them all);
#  3. a named pipe, /dev/zero: refused at once; the event loop is not
#     frozen (an echo answers right after the reload).
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, connect, echo_check, echo_roundtrip, listener,  # noqa: E402
                        main, make_tempdir, parse_addr, render_config, server_section)


def version(n):
    conf = {'server': server_section(),
            'listener echo': listener('echo')}
    for i in range(2, n + 1):
        conf['listener v%d' % i] = listener('echo')
    return render_config(conf)


def hup(d, expect):
    """SIGHUP; the first line matching expect, once the reload has ended
    (so that the next reload's lines are the next reload's)."""
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    m = d.wait_log(expect, 10, start=mark)
    d.wait_log(r'reload: done|the running configuration stays', 10, start=mark)
    return m


def test():
    tmp = make_tempdir()
    for n in (1, 2, 3):
        with open(os.path.join(tmp, 'v%d.conf' % n), 'w') as f:
            f.write(version(n))
    os.symlink('v1.conf', os.path.join(tmp, 'current.conf'))
    d = Daemon(version(1), tmpdir=tmp, config_arg='current.conf',
               expect_listeners=['echo'])
    d.conf_path = os.path.join(tmp, 'current.conf')
    client = connect(d.addr('echo'))
    echo_roundtrip(client, b'before\n')

    def swap(target):
        tmp_link = os.path.join(tmp, 'current.conf.new')
        os.symlink(target, tmp_link)
        os.replace(tmp_link, d.conf_path)

    # 1. symlink deploy
    swap('v2.conf')
    m = hup(d, r'listener v2: listening on (\S+)')
    addrs = {'echo': d.addr('echo'), 'v2': parse_addr(m.group(1))}
    os.unlink(os.path.join(tmp, 'v1.conf'))
    swap('v3.conf')
    m = hup(d, r'listener v3: listening on (\S+)|reload: .*the running configuration stays')
    check(m.group(1) is not None, 'the reload after v1 was deleted must read v3, '
          'got: %s' % m.group(0))
    addrs['v3'] = parse_addr(m.group(1))
    echo_roundtrip(client, b'after the symlink swaps\n')

    # 2. files that hold no listener
    bad = os.path.join(tmp, 'bad.conf')
    for what, data, expect in (
            ('empty', b'', 'no listener defined'),
            ('NUL bytes', b'\0' * 4096, r':1: control character 0x00 in column 1'),
            ('only [server]', b'[server]\nmax_clients = 5\n', 'no listener defined')):
        with open(bad, 'wb') as f:
            f.write(data)
        swap('bad.conf')
        m = hup(d, r'reload: (.*); the running configuration stays|reload: done')
        check(m.group(1) is not None, 'a reload with an %s file must be refused, '
              'got: %s' % (what, m.group(0)))
        check(re.search(expect, m.group(1)),
              'refusal of the %s file names why: %r' % (what, m.group(1)))
        echo_roundtrip(client, ('still connected after the %s file\n' % what).encode())
        for addr in addrs.values():
            echo_check(addr)

    # 3. not a regular file: refused at once, the loop keeps running
    fifo = os.path.join(tmp, 'pipe.conf')
    os.mkfifo(fifo)
    for target, kind in ((fifo, 'a named pipe'), ('/dev/zero', 'a character device')):
        swap(target)
        m = hup(d, r'reload: (.*); the running configuration stays|reload: done')
        check(m.group(1) is not None and 'not a regular file but ' + kind in m.group(1),
              'a reload from %s must be refused as such, got: %s' % (target, m.group(0)))
        echo_roundtrip(client, b'the loop still runs\n', timeout=2)

    swap('v1.conf.gone')
    m = hup(d, r'reload: (.*); the running configuration stays|reload: done')
    check(m.group(1) is not None and 'No such file' in m.group(1),
          'a dangling symlink is refused: %s' % m.group(0))
    client.close()
    d.stop()


main(test)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# reload of a unix-socket listener that is replaced while a client is still
# connected to it: the new listener on the same path must stay reachable
# after the old listener's last client is gone (the old listener must not
# take the socket file of the new one with it).
#  - service changed (echo -> discard): the listener is opened anew;
#  - listener renamed (u removed, v added on the same path).
# After the daemon stops, the socket file is removed.
import os
import re
import signal
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import listening_lines  # noqa: E402
from synacktest import (Daemon, check, echo_roundtrip, expect_silence, fail, listener,  # noqa: E402
                        main, make_tempdir, note, render_config, server_section)


def conf(path, name, service):
    return render_config({'server': server_section(log_level='debug'),
                          'listener %s' % name: listener(service,
                                                         address='unix:' + path)})


def unix_connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(path)
    except OSError as e:
        s.close()
        return None, e
    return s, None


def replace_with_client(old_name, new_name, new_service):
    tmp = make_tempdir()
    path = os.path.join(tmp, 'u.sock')
    what = '%s (echo) -> %s (%s)' % (old_name, new_name, new_service)
    d = Daemon(conf(path, old_name, 'echo'), tmpdir=tmp)
    old, err = unix_connect(path)
    check(old is not None, 'connect to %s: %s' % (path, err))
    echo_roundtrip(old, b'old listener\n')

    with open(d.conf_path, 'w') as f:
        f.write(conf(path, new_name, new_service))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    lines = listening_lines(d.log_lines()[mark:], new_name)
    check(lines and lines[-1].group(3) == new_service,
          '%s: no "listening on" line for the new listener\n%s' % (what, d.describe()))

    # the old listener's client goes away; the old listener goes with it
    old.close()
    d.wait_log(r'client \S+ disconnected from %s' % re.escape(old_name), 10, start=mark)
    # a barrier: once a later event is logged, whatever the daemon did right
    # after logging that disconnect is done
    mark = d.log_count()
    d.send_signal(signal.SIGUSR1)
    d.wait_log(r'SIGUSR1', 10, start=mark)
    check(os.path.exists(path), '%s: the socket file %s of the new listener '
          'disappeared when the old listener\'s last client left\n%s' %
          (what, path, d.describe()))
    s, err = unix_connect(path)
    if s is None:
        fail('%s: the new listener on %s is unreachable after the old listener\'s '
             'client left: %s\n%s' % (what, path, err, d.describe()))
    s.sendall(b'to the new listener\n')
    expect_silence(s, 0.3)
    s.close()
    d.stop()
    check(not os.path.exists(path), '%s: the socket file %s is still there after the '
          'daemon exited' % (what, path))
    note('%s: the new listener kept %s' % (what, path))


def test():
    replace_with_client('u', 'u', 'discard')
    replace_with_client('u', 'v', 'discard')


main(test, 60)

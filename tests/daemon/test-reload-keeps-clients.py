#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# reload (SIGHUP) never drops established clients: a listener that the new
# file removes stops accepting at once, but its client is still served; a
# listener whose service changes opens anew with the new service, while the
# client it already had keeps the old one.
import os
import re
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import refused  # noqa: E402
from synacktest import (Daemon, check, connect, echo_roundtrip, expect_silence,  # noqa: E402
                        fmt_addr, listener, main, note, parse_addr, render_config,
                        server_section)


def conf(with_gone=True, keep_service='echo'):
    c = {'server': server_section(log_level='debug'),
         'listener keep': listener(keep_service)}
    if with_gone:
        c['listener gone'] = listener('echo')
    return render_config(c)


def test():
    d = Daemon(conf())
    gone_addr, keep_addr = d.addr('gone'), d.addr('keep')
    gone_client = connect(gone_addr)
    keep_client = connect(keep_addr)
    echo_roundtrip(gone_client, b'before\n', what='client of "gone" before reload')
    echo_roundtrip(keep_client, b'before\n', what='client of "keep" before reload')

    with open(d.conf_path, 'w') as f:
        f.write(conf(with_gone=False, keep_service='discard'))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    m = d.wait_log(r'listener keep: listening on (\S+) service=discard', 5, start=mark)
    new_keep = parse_addr(m.group(1))

    check(refused(gone_addr, d.pid), 'removed listener %s still accepts\n%s'
          % (fmt_addr(gone_addr), d.describe()))
    echo_roundtrip(gone_client, b'after removal\n' * 50,
                   what='established client of the removed listener')
    echo_roundtrip(keep_client, b'after service change\n' * 50,
                   what='established client of the listener whose service changed')
    s = connect(new_keep)
    s.sendall(b'discarded\n' * 100)
    expect_silence(s, 0.3)
    s.close()
    for c in (gone_client, keep_client):
        check(d.find_log(r'client %s disconnected' % re.escape(fmt_addr(c.getsockname())),
                         start=mark) is None,
              'a client was dropped by the reload\n' + d.describe())
    note('removed and changed listeners kept their clients')

    # the removed listener is freed once its last client leaves
    gone_client.close()
    d.wait_log(r'client \S+ disconnected from gone: closed by peer', 5, start=mark)
    echo_roundtrip(keep_client, b'still\n', what='old-service client after the other left')
    keep_client.close()
    d.stop()


main(test, 60)

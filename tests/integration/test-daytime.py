#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# daytime (RFC 867): one line like "Wednesday, November 25, 2026 15:47:22-UTC"
# ending in CRLF, close to the current time, then the daemon closes.
import datetime
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, connect, fail, fmt_addr, listener,  # noqa: E402
                        main, recv_until_eof, server_section)

LINE_RE = re.compile(
    r'^(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday), '
    r'(January|February|March|April|May|June|July|August|September|October|'
    r'November|December) (\d{1,2}), (\d{4}) (\d{2}):(\d{2}):(\d{2})-(\S+)$')


def run():
    conf = {'server': server_section(log_level='debug'),
            'listener dt': listener('daytime')}
    with Daemon(conf) as d:
        for _ in range(3):
            s = connect(d.addr('dt'), timeout=5)
            me = fmt_addr(s.getsockname())
            data, how = recv_until_eof(s, timeout=5, limit=4096)
            s.close()
            check_eq(how, 'eof', 'how the daytime connection ended')
            check(data.endswith(b'\r\n'), 'daytime reply must end in CRLF: %r' % data)
            check_eq(data.count(b'\n'), 1, 'number of lines in the daytime reply')
            text = data[:-2].decode('ascii', errors='replace')
            m = LINE_RE.match(text)
            if not m:
                fail('daytime line %r does not look like '
                     '"Wednesday, November 25, 2026 15:47:22-UTC"' % text)
            when = datetime.datetime.strptime(
                '%s %s %s %s:%s:%s' % (m.group(2), m.group(3), m.group(4),
                                       m.group(5), m.group(6), m.group(7)),
                '%B %d %Y %H:%M:%S').replace(tzinfo=datetime.timezone.utc)
            check_eq(m.group(1), when.strftime('%A'),
                     'weekday of %s' % when.date())
            now = datetime.datetime.now(datetime.timezone.utc)
            check(abs((now - when).total_seconds()) < 86400 + 60,
                  'daytime %r is more than a day away from now (%s UTC)' %
                  (text, now.strftime('%Y-%m-%d %H:%M:%S')))
            m = d.wait_log(r'client %s disconnected from dt: ([^,]+), (\d+) bytes in, '
                           r'(\d+) bytes out' % re.escape(me))
            check_eq(m.group(1), 'done', 'close reason of a daytime client')
            check_eq(int(m.group(3)), len(data), 'bytes out on the close line')


main(run)

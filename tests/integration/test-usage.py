#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# command line and configuration errors: exit codes 0 / 64 / 78, "-t" prints
# "configuration OK", -V prints the version, and every configuration error
# names the file and the right line ("FILE:LINE: message").
import os
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (check, check_eq, main, make_tempdir, run_daemon_expect_fail,  # noqa: E402
                        run_synackd)

GOOD = """\
[server]
log = stderr
log_level = info
max_clients = 100
idle_timeout = 0
shutdown_timeout = 5

[listener echo]
service = echo
address = 127.0.0.1
port = 0
backlog = 64

[listener chat]
service = chat
address = unix:@TMPDIR@/chat.sock
max_line = 512
output_limit = 65536
"""

# (name, config text, line of the error or None when any line will do)
BAD = [
    ('unknown key', """\
[server]
log = stderr

[listener e]
service = echo
address = 127.0.0.1
port = 0
colour = blue
""", 8),
    ('unknown server key', """\
[server]
log_level = info
no_such_setting = 1
""", 3),
    ('unknown section', """\
[server]
log = stderr
[frobnicator]
port = 0
""", 3),
    ('bad port', """\
[listener e]
service = echo
address = 127.0.0.1
port = banana
""", 4),
    ('port out of range', """\
[listener e]
service = echo
address = 127.0.0.1
port = 70000
""", 4),
    ('unknown service', """\
[listener e]
service = gopher
address = 127.0.0.1
port = 0
""", 2),
    ('bad log level', """\
[server]

log_level = loud
[listener e]
service = echo
address = 127.0.0.1
port = 0
""", 3),
    ('bad address', """\
[listener e]
service = echo
address = 127.0.0.300
port = 0
""", 3),
    ('negative max_clients', """\
[server]
max_clients = -5
[listener e]
service = echo
address = 127.0.0.1
port = 0
""", 2),
    ('duplicate listener name', """\
[listener e]
service = echo
address = 127.0.0.1
port = 0
[listener e]
service = discard
address = 127.0.0.1
port = 0
""", None),
    ('two listeners on one address and port', """\
[listener a]
service = echo
address = 127.0.0.1
port = 7007
[listener b]
service = discard
address = 127.0.0.1
port = 7007
""", None),
]


def version_from_configure():
    top = os.environ.get('SYNACK_SRCDIR')
    if not top:
        return None
    try:
        with open(os.path.join(top, 'configure.ac')) as f:
            m = re.search(r'AC_INIT\(\[[^\]]*\],\s*\[([^\]]+)\]', f.read())
    except OSError:
        return None
    return m.group(1) if m else None


def run():
    tmp = make_tempdir()

    for opt in (['--no-such-option'], ['-Z']):
        r = run_synackd(opt)
        check_eq(r.rc, 64, 'exit status of synackd %s (stderr %r)' % (opt[0], r.err))
        check(r.err.strip(), 'synackd %s must say what is wrong on stderr' % opt[0])

    for opt in ('-h', '--help'):
        r = run_synackd([opt])
        check_eq(r.rc, 0, 'exit status of synackd %s (stderr %r)' % (opt, r.err))
        check('-c' in r.out and '-t' in r.out,
              'synackd %s must print the usage on stdout, got %r' % (opt, r.out))

    for opt in ('-V', '--version'):
        r = run_synackd([opt])
        check_eq(r.rc, 0, 'exit status of synackd %s (stderr %r)' % (opt, r.err))
        m = re.match(r'synackd (\S+)', r.out)
        check(m, 'synackd %s must print "synackd VERSION", got %r' % (opt, r.out))
        want = version_from_configure()
        if want:
            check_eq(m.group(1), want, 'version printed by synackd %s' % opt)

    good = os.path.join(tmp, 'good.conf')
    with open(good, 'w') as f:
        f.write(GOOD.replace('@TMPDIR@', tmp))
    for opts in (['-t', '-c', good], ['--test', '--config', good], ['-c', good, '-t']):
        r = run_synackd(opts)
        check_eq(r.rc, 0, 'exit status of synackd %s (stderr %r)' % (' '.join(opts), r.err))
        check('configuration OK' in r.out,
              'synackd %s must print "configuration OK", got %r' % (' '.join(opts), r.out))
    check(not os.path.exists(os.path.join(tmp, 'chat.sock')),
          '-t must not create the unix socket')

    missing = os.path.join(tmp, 'no-such.conf')
    for opts in (['-c', missing], ['-t', '-c', missing]):
        r = run_synackd(opts)
        check_eq(r.rc, 78, 'exit status of synackd %s (stderr %r)' % (' '.join(opts), r.err))
        check(missing in r.err and 'No such file or directory' in r.err,
              'a missing config must be named with strerror, got %r' % r.err)

    for i, (name, text, line) in enumerate(BAD):
        path = os.path.join(tmp, 'bad%d.conf' % i)
        with open(path, 'w') as f:
            f.write(text)
        r = run_synackd(['-t', '-c', path])
        check_eq(r.rc, 78, '%s: exit status of synackd -t (stdout %r, stderr %r)' %
                 (name, r.out, r.err))
        check('configuration OK' not in r.out,
              '%s: -t must not say "configuration OK"' % name)
        if line is None:
            want = re.escape(path) + r':\d+: \S'
        else:
            want = re.escape(path) + r':%d: \S' % line
        check(re.search(want, r.err), '%s: stderr must contain %s:%s: and a message, '
              'got %r' % (name, path, line if line else 'LINE', r.err))

    # the same errors stop a real start with 78 too
    for i, (name, text, line) in enumerate(BAD[:2]):
        sub = os.path.join(tmp, 'start%d' % i)
        os.mkdir(sub)
        path = os.path.join(sub, 'synackd.conf')
        r = run_daemon_expect_fail(text, tmpdir=sub)
        check_eq(r.rc, 78, '%s: exit status of a start (stderr %r)' % (name, r.err))
        check(re.search(re.escape(path) + r':%d: ' % line, r.err),
              '%s: start error must contain %s:%d:, got %r' % (name, path, line, r.err))


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# privileges: "user = NAME" makes synackd switch to that user after it bound
# its listeners and opened its log: by the time the listeners are announced,
# every uid and gid of the process (real, effective, saved, filesystem) is
# the user's, no supplementary group of root's is left, the listeners
# (also one on a port below 1024, which only root may bind) serve, and the
# log, opened as root in a directory the user cannot enter, is written.
# "group = NAME" picks the group instead of the user's primary one. An
# unknown user or group is a configuration error (78) already for -t.
# The switch itself needs root: as another user that part is skipped.
import grp
import os
import pwd
import random
import re
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from detached import proc_status, run_command, write_conf  # noqa: E402
from synacktest import (Daemon, check, check_eq, echo_check, hold_port, listener, main,  # noqa: E402
                        make_tempdir, note, server_section, skip)


def unknown(key, value, want):
    tmp = make_tempdir()
    path = write_conf(tmp, {'server': {key: value}, 'listener echo': listener('echo')})
    r = run_command(['-t', '-c', path], tmp)
    check_eq(r.rc, 78, '-t with %s = %s: exit code (%r)' % (key, value, r))
    check(want in r.err, '-t with %s = %s: stderr must say %r, got %r' %
          (key, value, want, r.err))
    check(re.search(re.escape(path) + r':2: ', r.err),
          '-t with %s = %s: stderr must say "%s:2: ...", got %r' % (key, value, path,
                                                                    r.err))


def hold_low_port():
    """A port below 1024 for a listener bound before the privileges go.
    The kernel chooses none there: one free in 900-1000 is held here
    (hold_port, shared) until the test ends, and synackd binds it beside."""
    ports = list(range(900, 1001))
    random.shuffle(ports)
    for p in ports:
        try:
            return hold_port(shared=True, port=p)
        except OSError:
            continue
    return None


def ids(status, key):
    return [int(x) for x in status[key].split()]


def dropped(user, group=None):
    pw = pwd.getpwnam(user)
    gid = grp.getgrnam(group).gr_gid if group else pw.pw_gid
    tmp = make_tempdir()
    os.chmod(tmp, 0o700)
    log = os.path.join(tmp, 'synackd.log')
    server = server_section(user=user, log=log)
    if group:
        server['group'] = group
    conf = {'server': server, 'listener echo': listener('echo')}
    low = hold_low_port()
    if low is not None:
        conf['listener low'] = listener('echo', port=low)
    else:
        note('no free port in 900-1000 on 127.0.0.1: the privileged port is not tried')
    what = 'user = %s%s' % (user, ', group = %s' % group if group else '')
    d = Daemon(conf, tmpdir=tmp, log_path=log)
    st = proc_status(d.pid)
    check_eq(ids(st, 'Uid'), [pw.pw_uid] * 4, '%s: Uid (real, effective, saved, fs) '
             'of the daemon' % what)
    check_eq(ids(st, 'Gid'), [gid] * 4, '%s: Gid (real, effective, saved, fs) of the '
             'daemon' % what)
    groups = ids(st, 'Groups') if st.get('Groups') else []
    allowed = {gid} | {g.gr_gid for g in grp.getgrall() if user in g.gr_mem}
    check(set(groups) <= allowed, '%s: the daemon kept supplementary groups %r '
          'that are not %s\'s (allowed: %r)' % (what, groups, user, sorted(allowed)))
    for name in d.listeners:
        s = echo_check(d.addr(name))
        s.close()
    if low is not None:
        check_eq(d.port('low'), low, '%s: port of the listener below 1024' % what)
    check(d.find_log(r'listener echo:? listening on'),
          '%s: the log opened before the switch has no listening line' % what)
    d.stop()
    note('%s: uid %d gid %d, listeners %s' %
         (what, pw.pw_uid, gid, ', '.join(d.listeners[n]['text'] for n in d.listeners)))


def test():
    unknown('user', 'no-such-user-xyz', 'unknown user')
    unknown('group', 'no-such-group-xyz', 'unknown group')
    if os.geteuid() != 0:
        skip('not root: switching users needs root (the unknown user/group '
             'checks passed)')
    try:
        pw = pwd.getpwnam('nobody')
    except KeyError:
        skip('there is no user "nobody" to switch to')
    check(pw.pw_uid != 0, 'user nobody has uid 0')
    # give the test process (so the daemon it starts) root's group as a
    # supplementary group: the switch must drop it
    os.setgroups([0])
    dropped('nobody')
    other = None
    for name in ('daemon', 'nogroup', 'users', 'bin', 'sys'):
        try:
            g = grp.getgrnam(name)
        except KeyError:
            continue
        if g.gr_gid not in (0, pw.pw_gid):
            other = name
            break
    if other is None:
        note('no group other than nobody\'s own and root\'s: "group =" is not tried')
    else:
        dropped('nobody', other)


main(test, 60)

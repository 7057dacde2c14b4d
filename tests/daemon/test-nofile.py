#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The descriptor budget: max_clients plus the listeners plus the metrics
# endpoint's connections (metrics_max_connections, none when it is off)
# plus the daemon's own descriptors must fit RLIMIT_NOFILE.
#  1. soft limit 64, hard limit as it is: the soft limit is raised to what
#     the configuration needs (/proc/PID/limits shows it) and logged;
#  2. a reload that raises max_clients raises the soft limit again;
#  3. soft = hard = 64: a warning names the need, both limits and what to
#     change, and the daemon serves anyway;
#  4. with the metrics endpoint on, its metrics_max_connections count: at
#     start, and at a reload that raises it;
#  5. synackd -t says what a start would: the same warning, with and without
#     the endpoint, when even the hard limit is too low; nothing when the
#     limit can be raised to fit; "configuration OK" and exit 0 always.
import os
import resource
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Command, Daemon, check, check_eq, echo_check, listener, main,  # noqa: E402
                        make_tempdir, note, render_config, server_section, skip,
                        synackd_path)

OWN = 32  # CONFIG_OWN_DESCRIPTORS


def soft_limit(pid):
    with open('/proc/%d/limits' % pid) as f:
        for line in f:
            if line.startswith('Max open files'):
                return int(line.split()[3])
    return None


def conf(max_clients, **server):
    return {'server': server_section(max_clients=max_clients, **server),
            'listener a': listener('echo'),
            'listener b': listener('discard')}


def check_test(text, nofile):
    """synackd -t on text with RLIMIT_NOFILE nofile (soft, hard): its
    stderr, after checking "configuration OK" and exit 0."""
    path = os.path.join(make_tempdir(), 'synackd.conf')
    with open(path, 'w') as f:
        f.write(render_config(text))
    r = Command([synackd_path(), '-t', '-c', path],
                preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_NOFILE,
                                                      nofile)).finish(10)
    check_eq((r.rc, r.out), (0, 'configuration OK\n'),
             'synackd -t with open-file limits %r (stderr %r)' % (nofile, r.err))
    return r.err


def test():
    hard = resource.getrlimit(resource.RLIMIT_NOFILE)[1]
    if hard != resource.RLIM_INFINITY and hard < 1000 + 2 + OWN:
        skip('the hard open-file limit %d is too low for this test' % hard)

    def low_soft():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, hard))

    d = Daemon(conf(500), preexec_fn=low_soft)
    need = 500 + 2 + OWN
    m = d.wait_log(r'open-file limit raised from 64 to (\d+) for max_clients 500, '
                   r'2 listeners and %d of the daemon\'s own' % OWN)
    check_eq(int(m.group(1)), need, 'the raised limit')
    check_eq(soft_limit(d.pid), need, 'the soft limit in /proc/PID/limits')

    with open(d.conf_path, 'w') as f:
        f.write(render_config(conf(1000)))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    d.wait_log(r'open-file limit raised from %d to %d' % (need, 1000 + 2 + OWN), 5, start=mark)
    check_eq(soft_limit(d.pid), 1000 + 2 + OWN, 'the soft limit after the reload')
    d.stop()

    def low_both():
        resource.setrlimit(resource.RLIMIT_NOFILE, (64, 64))

    d = Daemon(conf(500), preexec_fn=low_both)
    m = d.wait_log(r'warn: max_clients 500, 2 listeners and %d of the daemon\'s own need '
                   r'(\d+) open files, but the limit is 64 \(hard limit 64\): raise the hard '
                   r'limit .* or lower max_clients' % OWN)
    check_eq(int(m.group(1)), need, 'the need named in the warning')
    note(m.group(0))
    echo_check(d.addr('a'))
    d.stop()

    # the metrics endpoint's connections count
    d = Daemon(conf(500, metrics='127.0.0.1:0', metrics_max_connections=40),
               preexec_fn=low_soft)
    need = 500 + 2 + 40 + OWN
    m = d.wait_log(r'open-file limit raised from 64 to (\d+) for max_clients 500, '
                   r'2 listeners, metrics_max_connections 40 and %d of the daemon\'s own' % OWN)
    check_eq(int(m.group(1)), need, 'the raised limit with metrics on')
    check_eq(soft_limit(d.pid), need, 'the soft limit with metrics on')
    with open(d.conf_path, 'w') as f:
        f.write(render_config(conf(500, metrics='127.0.0.1:0', metrics_max_connections=400)))
    mark = d.log_count()
    d.send_signal(signal.SIGHUP)
    d.wait_log(r'reload: done', 10, start=mark)
    d.wait_log(r'open-file limit raised from %d to %d for max_clients 500, 2 listeners, '
               r'metrics_max_connections 400' % (need, 500 + 2 + 400 + OWN), 5, start=mark)
    check_eq(soft_limit(d.pid), 500 + 2 + 400 + OWN, 'the soft limit after the reload')
    d.stop()

    # synackd -t: the start's warning, before the start
    for server, what in (({}, ''), ({'metrics': '127.0.0.1:0'},
                                    ', metrics_max_connections 32')):
        err = check_test(conf(500, **server), (64, 64))
        need = 500 + 2 + (32 if server else 0) + OWN
        want = ('synackd: warning: max_clients 500, 2 listeners%s and %d of the daemon\'s '
                'own need %d open files, but the limit is 64 (hard limit 64)' %
                (what, OWN, need))
        check(want in err, 'synackd -t: expected %r on stderr, got %r' % (want, err))
        note(err.strip())
        check_eq(check_test(conf(500, **server), (64, hard)), '',
                 'stderr of synackd -t when the limit can be raised')


main(test)

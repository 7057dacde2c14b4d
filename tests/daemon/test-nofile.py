#!/usr/bin/env python3
# The descriptor budget: max_clients plus the listeners plus the daemon's
# own descriptors must fit RLIMIT_NOFILE.
#  1. soft limit 64, hard limit as it is: the soft limit is raised to what
#     the configuration needs (/proc/PID/limits shows it) and logged;
#  2. a reload that raises max_clients raises the soft limit again;
#  3. soft = hard = 64: a warning names the need, both limits and what to
#     change, and the daemon serves anyway.
import os
import resource
import signal
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from daemontest import run  # noqa: E402
from synacktest import (Daemon, check_eq, echo_check, listener,  # noqa: E402
                        note, render_config, server_section, skip)

OWN = 32  # CONFIG_OWN_DESCRIPTORS


def soft_limit(pid):
    with open('/proc/%d/limits' % pid) as f:
        for line in f:
            if line.startswith('Max open files'):
                return int(line.split()[3])
    return None


def conf(max_clients):
    return {'server': server_section(max_clients=max_clients),
            'listener a': listener('echo'),
            'listener b': listener('discard')}


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


run(test)

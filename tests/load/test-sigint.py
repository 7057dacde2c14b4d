#!/usr/bin/env python3
# SIGINT: stops the run early and still reports what was measured so far
# (interrupted: true, the real duration), exit 0. In hold mode the last
# echo still happens after the interrupt, so every connection is verified.
import json
import os
import signal
import subprocess
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from loadtest import (check, check_eq, check_report, echo_daemon, fail, main,  # noqa: E402
                      synack_load_path, target_of, _children)


def interrupt(args, after):
    p = subprocess.Popen([synack_load_path(), '--json'] + args, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, stdin=subprocess.DEVNULL)
    _children.append(p)
    time.sleep(after)
    t0 = time.monotonic()
    p.send_signal(signal.SIGINT)
    try:
        out, err = p.communicate(timeout=10)
    except subprocess.TimeoutExpired:
        p.kill()
        fail('synack-load %s did not exit within 10 s of SIGINT' % ' '.join(args))
    took = time.monotonic() - t0

    class R:
        pass
    r = R()
    r.rc, r.out, r.err, r.args = p.returncode, out.decode(), err.decode(), args
    r.describe = lambda: 'exit %s\nstdout: %s\nstderr: %s' % (r.rc, r.out, r.err)
    try:
        r.report = json.loads(r.out)
    except ValueError:
        fail('no JSON report after SIGINT\n' + r.describe())
    return r, took


def run():
    with echo_daemon() as d:
        target = target_of(d)
        r, took = interrupt(['-c', '5', '-d', '60', target], 1.0)
        check_eq(r.rc, 0, 'exit code after SIGINT\n' + r.describe())
        rep = check_report(r, 'rr', target)
        check(took < 2, 'exited %.1f s after SIGINT' % took)
        check_eq(rep['interrupted'], True, 'interrupted')
        check(0.5 < rep['duration_s'] < 5, 'duration_s %r is the time until SIGINT'
              % rep['duration_s'])
        check(rep['requests'] > 0, 'requests measured before SIGINT')

        r, took = interrupt(['-m', 'hold', '-c', '50', '-d', '60', target], 1.0)
        check_eq(r.rc, 0, 'hold: exit code after SIGINT\n' + r.describe())
        rep = check_report(r, 'hold', target)
        check_eq(rep['requests'], 50, 'hold: every connection verified after SIGINT')


main(run, timeout=60)

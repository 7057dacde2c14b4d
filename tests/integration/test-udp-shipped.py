#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The UDP listeners of the shipped configurations, conf/synackd.conf (the
# Debian package's /etc/synackd.conf) and conf/examples/udp.conf, run with
# every port 0: each serves its service, and they are safe as shipped:
# chargen and daytime answer a burst of 40 datagrams from one source at most
# udp_rate times (plus what a second refills), while another source is
# still answered; echo's answer is the datagram, no larger.
import os
import re
import socket
import sys
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import Daemon, check, check_eq, expect_silence, fail, main, note  # noqa: E402

SRCDIR = os.path.abspath(os.environ.get('SYNACK_SRCDIR') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..'))
BURST = 40


def udp_listeners(text):
    """{name: {key: value}} of the UDP listeners of a configuration."""
    out = {}
    for section in re.split(r'^(?=\[)', text, flags=re.M):
        m = re.match(r'\[listener\s+(\S+)\]', section)
        if not m:
            continue
        keys = dict(re.findall(r'^(\w+)\s*=\s*(\S+)', section, re.M))
        if keys.get('transport') == 'udp':
            out[m.group(1)] = keys
    return out


def runnable(text):
    """The file with every port 0, loopback addresses, no user to drop to."""
    text = re.sub(r'^(\s*port\s*=\s*)\d+', r'\g<1>0', text, flags=re.M)
    text = re.sub(r'^(\s*address\s*=\s*)\S+', r'\g<1>127.0.0.1', text, flags=re.M)
    text = re.sub(r'^(\s*metrics\s*=\s*\S+:)\d+', r'\g<1>0', text, flags=re.M)
    return re.sub(r'^\s*(user|group)\s*=.*$', '', text, flags=re.M)


def client(src='127.0.0.1'):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((src, 0))
    s.settimeout(5)
    return s


def answers(s, within):
    """Answers that reach s until nothing came for `within` seconds."""
    got = []
    s.settimeout(within)
    while True:
        try:
            got.append(s.recv(65536))
        except socket.timeout:
            return got


def check_file(path):
    with open(path) as f:
        text = f.read()
    udp = udp_listeners(text)
    check(udp, '%s has UDP listeners' % path)
    services = set()
    with Daemon(runnable(text)) as d:
        for name, keys in udp.items():
            service = keys.get('service', name)
            services.add(service)
            addr = d.addr(name)
            check_eq(d.listeners[name]['transport'], 'udp', 'transport of %s' % name)
            if service == 'echo':
                s = client()
                s.sendto(b'shipped', addr)
                check_eq(s.recv(65536), b'shipped', '%s: echo' % name)
                s.close()
            elif service == 'discard':
                s = client()
                s.sendto(b'shipped', addr)
                expect_silence(s, 0.3)
                s.close()
            elif service in ('chargen', 'daytime'):
                rate = int(keys.get('udp_rate', '5'))
                check(0 < rate <= 10, '%s: %s as shipped has udp_rate %d: between 1 and 10'
                      % (path, name, rate))
                s = client()
                start = time.monotonic()
                for i in range(BURST):
                    s.sendto(b'%d' % i, addr)
                got = answers(s, 0.5)
                elapsed = time.monotonic() - start
                most = rate + int(rate * elapsed) + 1
                check(1 <= len(got) <= most, '%s: %d answers to a burst of %d from one '
                      'source (udp_rate %d, %.1f s): expected 1 to %d'
                      % (name, len(got), BURST, rate, elapsed, most))
                check(all(len(a) <= 512 for a in got), '%s: answers of at most 512 bytes'
                      % name)
                other = client('127.0.0.2')
                other.sendto(b'x', addr)
                try:
                    other.recv(65536)
                except socket.timeout:
                    fail('%s: another source is not answered while the first is limited'
                         % name)
                other.close()
                s.close()
            else:
                fail('%s: UDP listener %s has service %s' % (path, name, service))
    check_eq(services, {'echo', 'discard', 'daytime', 'chargen'},
             'the UDP services of %s' % path)
    note('%s: %d UDP listeners served, chargen and daytime rate-limited'
         % (os.path.relpath(path, SRCDIR), len(udp)))


def run():
    check_file(os.path.join(SRCDIR, 'conf', 'synackd.conf'))
    check_file(os.path.join(SRCDIR, 'conf', 'examples', 'udp.conf'))


main(run)

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# The documentation's commands keep working and its links lead somewhere.
#
# README.md and doc/*.md: every relative link and image names a file of
# the source tree, and its #anchor a heading of that file; every guide in
# doc/ is linked from the README; every ```ini block is a configuration
# that `synackd -t` accepts; the README's socat lines (one per service)
# and the ```sh lines that run offline (synack-load, curl on the metrics)
# run against synackd started on the default configuration with every
# port 0, the ports in the commands replaced by the real ones. Every other
# ```sh line is named in NOT_RUN with the reason, so a new command in the
# docs fails this test until it is run here or named there.
import glob
import os
import re
import select
import shlex
import shutil
import subprocess
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'lib'))
from synacktest import (Daemon, check, check_eq, fail, main,  # noqa: E402
                        make_tempdir, note, run_synackd, wait_for)

SRCDIR = os.path.abspath(os.environ.get('SYNACK_SRCDIR') or os.path.join(
    os.path.dirname(os.path.abspath(__file__)), '..', '..'))

# The Quick start's two commands are a contract: .ci/run runs the second.
QUICK_START = [
    'sh scripts/deps.sh && autoreconf -fi && ./configure && make && '
    'src/synackd -c conf/synackd.conf',
    'sh scripts/deps.sh && autoreconf -fi && ./configure --enable-werror && '
    'make -j2 check',
]

# ```sh lines this test does not run, by a regex on the line, and why.
NOT_RUN = [
    (r'^sh scripts/deps\.sh && autoreconf ', 'the Quick start: installs and builds'),
    (r'^make ', 'a make target: builds, benchmarks or packages'),
    (r'^\./configure ', 'a build of its own'),
    (r'^fuzz/run\.sh ', 'a fuzzing run of minutes'),
    (r'^(parallel |for h in |synack-load merge )', 'several load hosts over ssh'),
]

# synack-load's examples run for real, only shorter and smaller.
LOAD_DURATION = '1s'
LOAD_SHORTER = {'-d': LOAD_DURATION, '--duration': LOAD_DURATION, '--warmup': '200ms'}
LOAD_CONNECTIONS_MAX = 20

LINK_RE = re.compile(r'!?\[[^\]]*\]\(([^)\s]+)\)')
FENCE_RE = re.compile(r'^```(\w*)\n(.*?)^```', re.M | re.S)
CODE_SPAN_RE = re.compile(r'`[^`\n]*`')
ADDR_RE = re.compile(r'(UDP[46]?:)?127\.0\.0\.1:(\d+)')


def doc_files():
    files = [os.path.join(SRCDIR, 'README.md')]
    files += sorted(glob.glob(os.path.join(SRCDIR, 'doc', '*.md')))
    check(len(files) > 1, 'no doc/*.md under %s' % SRCDIR)
    return files


def rel(path):
    return os.path.relpath(path, SRCDIR)


def read(path):
    with open(path, encoding='utf-8') as f:
        return f.read()


def slug(heading):
    """The anchor a heading gets: lower case, only letters, digits, spaces,
    '-' and '_' kept, spaces made '-' (as GitHub and most renderers do)."""
    text = heading.strip().lower().replace('`', '')
    text = ''.join(ch for ch in text if ch.isalnum() or ch in ' -_')
    return text.replace(' ', '-')


def anchors(text):
    seen = {}
    out = set()
    for m in re.finditer(r'^#{1,6} (.*)$', FENCE_RE.sub('', text), re.M):
        s = slug(m.group(1))
        n = seen.get(s, 0)
        seen[s] = n + 1
        out.add(s if n == 0 else '%s-%d' % (s, n))
    return out


def check_links():
    docs = doc_files()
    linked_from_readme = set()
    count = 0
    for path in docs:
        text = read(path)
        prose = CODE_SPAN_RE.sub('', FENCE_RE.sub('', text))
        for m in LINK_RE.finditer(prose):
            target = m.group(1)
            if re.match(r'^[a-z]+:', target):
                continue
            count += 1
            file_part, _, anchor = target.partition('#')
            dest = os.path.normpath(os.path.join(os.path.dirname(path), file_part)) \
                if file_part else path
            check(os.path.exists(dest) and dest.startswith(SRCDIR + os.sep),
                  '%s: link %s: no file %s' % (rel(path), target, rel(dest)))
            if anchor:
                check(dest.endswith('.md') and anchor in anchors(read(dest)),
                      '%s: link %s: no heading #%s in %s' %
                      (rel(path), target, anchor, rel(dest)))
            if path == docs[0]:
                linked_from_readme.add(dest)
    for path in docs[1:]:
        check(path in linked_from_readme,
              'README.md does not link %s' % rel(path))
    note('%d relative links in %d files lead to existing files and headings' %
         (count, len(docs)))


def fenced(lang):
    """(file, block text) of every ```lang block."""
    for path in doc_files():
        for m in FENCE_RE.finditer(read(path)):
            if m.group(1) == lang:
                yield path, m.group(2)


def check_configurations(tmp):
    n = 0
    for path, block in fenced('ini'):
        n += 1
        conf = os.path.join(tmp, 'doc-%d.conf' % n)
        with open(conf, 'w') as f:
            f.write(block)
        r = run_synackd(["-t", "-c", conf])
        rc, out, err = r.rc, r.out, r.err
        check(rc == 0 and out.strip() == 'configuration OK',
              '%s: an ini block is refused by synackd -t (exit %d): %s\n%s' %
              (rel(path), rc, (out + err).strip(), block))
    check(n > 0, 'no ```ini block in the docs')
    note('%d configuration examples pass synackd -t' % n)


def sh_lines():
    """(file, command) of every line of the ```sh blocks, continuation lines
    joined, comments dropped."""
    for path, block in fenced('sh'):
        for line in block.replace('\\\n', ' ').splitlines():
            words = shlex.split(line, comments=True)
            if words:
                yield path, line.split(' #')[0].strip()


def check_quick_start():
    lines = [cmd for path, cmd in sh_lines() if path.endswith('README.md')]
    for cmd in QUICK_START:
        check(cmd in lines, 'the README\'s Quick start lacks the command %r' % cmd)
    check(QUICK_START[1] in read(os.path.join(SRCDIR, '.ci', 'run')),
          '.ci/run does not run the Quick start\'s test command')


def default_ports(conf_text):
    """{port: listener name} of a configuration, and the metrics port; a
    UDP listener's port is keyed 'udp/PORT' (a TCP listener may have the
    same number)."""
    ports = {}
    for section in re.split(r'^\s*(?=\[)', conf_text, flags=re.M):
        m = re.match(r'\[listener\s+(\S+)\]', section)
        port = re.search(r'^\s*port\s*=\s*(\d+)', section, re.M)
        if m and port:
            udp = re.search(r'^\s*transport\s*=\s*udp\b', section, re.M)
            ports[('udp/' if udp else '') + port.group(1)] = m.group(1)
        m = re.search(r'^\s*metrics\s*=\s*\S+:(\d+)', section, re.M)
        if m:
            ports[m.group(1)] = 'metrics'
    return ports


def addr_key(m):
    """The default_ports key of an ADDR_RE match."""
    return ('udp/' if m.group(1) else '') + m.group(2)


def default_daemon(text):
    """synackd on the default configuration with every port 0."""
    text = re.sub(r'^(\s*port\s*=\s*)\d+', r'\g<1>0', text, flags=re.M)
    text = re.sub(r'^(\s*metrics\s*=\s*\S+:)\d+', r'\g<1>0', text, flags=re.M)
    return Daemon(text)


def with_real_ports(cmd, real):
    def sub(m):
        if addr_key(m) not in real:
            fail('command %r: no listener of the default configuration on %s' %
                 (cmd, m.group(0)))
        return '%s127.0.0.1:%d' % (m.group(1) or '', real[addr_key(m)])
    return ADDR_RE.sub(sub, cmd)


def run_sh(cmd, cwd, stdin=b'', timeout=30):
    try:
        r = subprocess.run(['sh', '-c', cmd], input=stdin, stdout=subprocess.PIPE,
                           stderr=subprocess.PIPE, cwd=cwd, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail('%r did not end within %d s' % (cmd, timeout))
    return r.returncode, r.stdout, r.stderr.decode(errors='replace')


def load_command(cmd, real):
    """A synack-load example, shorter and smaller, on the real ports."""
    words = shlex.split(with_real_ports(cmd, real))
    words[0] = os.environ.get('SYNACK_LOAD') or os.path.join(SRCDIR, 'src', 'synack-load')
    # a -d of the example's own comes later and is shortened the same way
    out = [words[0]] + ([] if '--help' in words else ['-d', LOAD_DURATION])
    i = 1
    while i < len(words):
        w = words[i]
        if w in LOAD_SHORTER and i + 1 < len(words):
            out += [w, LOAD_SHORTER[w]]
            i += 2
        elif w in ('-c', '--connections') and i + 1 < len(words):
            out += [w, str(min(int(words[i + 1]), LOAD_CONNECTIONS_MAX))]
            i += 2
        else:
            out.append(w)
            i += 1
    return ' '.join(shlex.quote(w) for w in out)


def check_sh_lines(d, real, tmp):
    ran = set()
    for path, cmd in sh_lines():
        if cmd in ran:
            continue
        reason = next((why for rx, why in NOT_RUN if re.search(rx, cmd)), None)
        if reason:
            note('not run (%s): %s' % (reason, cmd))
            continue
        if cmd.startswith('src/synack-load '):
            run = load_command(cmd, real)
        elif cmd.startswith('curl '):
            if not shutil.which('curl'):
                note('skipped (no curl): %s' % cmd)
                continue
            run = with_real_ports(cmd, real)
        else:
            fail('%s: the command %r is neither run by test-docs.py nor named '
                 'in its NOT_RUN' % (rel(path), cmd))
        rc, out, err = run_sh(run, tmp)
        check(rc == 0, '%s: %r (run as %r) exited with %d\n%s%s' %
              (rel(path), cmd, run, rc, out.decode(errors='replace')[-2000:],
               err[-2000:]))
        check(d.alive(), 'synackd died under %r' % cmd)
        ran.add(cmd)
    note('%d shell lines of the docs ran' % len(ran))
    check(ran, 'no shell line of the docs ran')


CHARGEN_LINE0 = ''.join(chr(32 + i % 95) for i in range(72))
DAYTIME_RE = re.compile(r'^[A-Z][a-z]+day, [A-Z][a-z]+ \d\d, \d{4} \d\d:\d\d:\d\d-\S+\r\n$')


def socat_chat(cmd, real, d):
    """Two members, as in two terminals: a line of one reaches the other."""
    run = shlex.split(with_real_ports(cmd, real))
    a = subprocess.Popen(run, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    b = subprocess.Popen(run, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        wait_for(lambda: d.listener_stats('chat')['active'] == 2, 10,
                 what='two chat members')
        a.stdin.write(b'hello from the README\n')
        a.stdin.flush()
        got = b''
        deadline = 10
        while not got.endswith(b'\n'):
            r, _, _ = select.select([b.stdout], [], [], deadline)
            check(r, 'the other chat member got nothing (so far %r)' % got)
            chunk = os.read(b.stdout.fileno(), 4096)
            check(chunk, 'the other chat member\'s socat ended (got %r)' % got)
            got += chunk
        check(re.match(rb'^127\.0\.0\.1:\d+: hello from the README\n$', got),
              'chat line as the other member sees it: %r' % got)
    finally:
        for p in (a, b):
            p.stdin.close()
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


def check_socat_udp(cmd, run, name, tmp):
    """A UDP socat line, as typed in a terminal: one line, one datagram."""
    rc, out, err = run_sh(run, tmp, stdin=b'hello\n')
    check(rc == 0, '%r: exit %d: %s' % (cmd, rc, err))
    if name == 'echo':
        check_eq(out, b'hello\n', '%r: output' % cmd)
    elif name == 'discard':
        check_eq(out, b'', '%r: output' % cmd)
    elif name == 'daytime':
        check(DAYTIME_RE.match(out.decode(errors='replace')), '%r: output %r' % (cmd, out))
    elif name == 'chargen':
        pattern = ''.join(chr(32 + i % 95) for i in range(95)) * 2
        text = out.decode(errors='replace')
        check(len(out) <= 512 and all(line.rstrip('\r') in pattern
                                      for line in text.split('\n')),
              '%r: 0 to 512 characters of the pattern, got %r' % (cmd, out))
    else:
        fail('the README\'s %r is for no UDP service this test knows' % cmd)


def check_socat(d, names, real, tmp):
    if not shutil.which('socat'):
        note('skipped the socat lines: no socat (scripts/deps.sh installs it)')
        return
    # (service, command): in the services table the row names the service
    cmds = []
    for line in read(os.path.join(SRCDIR, 'README.md')).splitlines():
        for m in CODE_SPAN_RE.finditer(line):
            if m.group(0).startswith('`socat '):
                cmd = m.group(0)[1:-1].replace('\\|', '|')
                row = line.split('|')[1].split() if line.startswith('|') else []
                cmds.append((row[0] if row else None, cmd))
    check(len(cmds) >= 5, 'fewer than five socat lines in the README: %r' % cmds)
    with open(os.path.join(tmp, 'file'), 'wb') as f:
        f.write(b'x' * 65536)
    for service, cmd in cmds:
        listener = names.get(addr_key(ADDR_RE.search(cmd)))
        name = d.listeners[listener]['service'] if listener in d.listeners else None
        check(service in (None, name), '%r is on the port of %s, not of %s' %
              (cmd, name, service))
        run = with_real_ports(cmd, real)
        if 'UDP:' in cmd:
            check_socat_udp(cmd, run, name, tmp)
        elif name == 'chat':
            socat_chat(cmd, real, d)
        elif name == 'echo':
            rc, out, err = run_sh(run, tmp, stdin=b'hello\n')
            check_eq((rc, out), (0, b'hello\n'), '%r: exit and output' % cmd)
        elif name == 'discard':
            before = d.listener_stats('discard')['bytes_in']
            rc, out, err = run_sh(run, tmp)
            check_eq((rc, out), (0, b''), '%r: exit and output' % cmd)
            wait_for(lambda: d.listener_stats('discard')['bytes_in'] - before == 65536,
                     10, what='discard to read the 65536 bytes of the file')
        elif name == 'daytime':
            rc, out, err = run_sh(run, tmp)
            check(rc == 0 and DAYTIME_RE.match(out.decode(errors='replace')),
                  '%r: exit %d, output %r' % (cmd, rc, out))
        elif name == 'chargen':
            rc, out, err = run_sh(run, tmp)
            lines = out.split(b'\n')
            check(rc == 0 and len(lines) == 11 and lines[-1] == b'',
                  '%r: exit %d, %d lines' % (cmd, rc, len(lines) - 1))
            check_eq(lines[0], (CHARGEN_LINE0 + '\r').encode(), '%r: first line' % cmd)
        else:
            fail('the README\'s %r is for no service this test knows' % cmd)
    note('%d socat lines of the README ran' % len(cmds))


def run():
    check_links()
    check_quick_start()
    tmp = make_tempdir()
    check_configurations(tmp)
    text = read(os.path.join(SRCDIR, 'conf', 'synackd.conf'))
    names = default_ports(text)
    check('7007' in names and 'metrics' in names.values(),
          'conf/synackd.conf has no listener on 7007 or no metrics')
    with default_daemon(text) as d:
        real = {p: (d.metrics_addr()[1] if n == 'metrics' else d.port(n))
                for p, n in names.items()}
        check_socat(d, names, real, tmp)
        check_sh_lines(d, real, tmp)


main(run, timeout=180)

#!/bin/sh
# SPDX-License-Identifier: ISC
# Each program's calls point one way: each file calls only functions
# defined in files below it in this order (doc/architecture.md),
#
#   synackd.c -> server -> listener, metrics -> worker -> acceptor ->
#   services (through struct service only) -> client -> limits -> leaves
#   (config, service registry, sources, stats, syn-stats, activation,
#   daemon, cidr) -> common (src/common/: log, net, proxy, syn, procfs,
#   queues, clock, mailbox, nofile, jsonesc)
#
#   load.c -> options, run, merge -> report, report-write, report-read ->
#   loader -> modes -> conn -> leaves (srcaddr, payload, chargen,
#   schedule, stats, histogram, json, export, timewait) -> common
#
# except an owner told that something it owns ended, or has something for
# it (notify below).  Prints each other use of a function or object
# defined in a file above, or beside it (listener and metrics, one service
# and another), and exits 1 if there is any; with LAYERS_VERBOSE set, the
# notifications too.
# `make lint` runs it.
#
#   check-layers.sh [SRCDIR]
set -u
cd "${1:-.}" || exit 1
exec "${PYTHON:-python3}" - <<'PY'
import glob, os, re, sys

# Each program: its layers (files in one layer may call each other unless
# the layer is in apart), its owner notifications (caller's file, the
# function it tells), and its registry (a file whose table holds the
# plug-ins: data, never called).
PROGRAMS = {
    'synackd': {
        'layers': [
            ['synackd.c'],
            ['server.c'],
            ['listener.c', 'metrics.c'],
            ['worker.c'],
            ['acceptor.c'],
            ['service-*.c'],
            ['client.c', 'datagram.c'],
            ['limits.c'],
            ['config.c', 'service.c', 'sources.c', 'stats.c', 'syn-stats.c', 'activation.c', 'ratelimit.c',
             'daemon.c',
             'cidr.c'],
            ['common/*.c'],
        ],
        'apart': {2, 5},
        'notify': {
            ('client.c', 'acceptor_client_gone'),  # a client of the acceptor is gone
            ('acceptor.c', 'worker_check_done'),   # ... so a stopping worker may be done
        },
        'registry': ('service.c', 'service-', 'service_'),
    },
    'synack-load': {
        'layers': [
            ['load/load.c'],
            ['load/options.c', 'load/run.c', 'load/merge.c'],
            ['load/report.c', 'load/report-write.c', 'load/report-read.c'],
            ['load/loader.c'],
            ['load/mode-*.c'],
            ['load/mode.c'],
            ['load/conn.c'],
            ['load/srcaddr.c', 'load/payload.c', 'load/chargen.c', 'load/schedule.c',
             'load/stats.c', 'load/histogram.c', 'load/json.c', 'load/export.c',
             'load/timewait.c'],
            ['common/*.c'],
        ],
        # the modes are not apart: hold's closing echo is rr's exchange
        # (rr_request, rr_check)
        'apart': set(),
        'notify': {
            # the run's main loop is told by a loader or a mode
            ('load/loader.c', 'run_notify'),
            ('load/mode-chat.c', 'run_request_stop'),
            # a loader is told by its connections, or by the chat room
            ('load/conn.c', 'loader_conn_closed'),
            ('load/mode-chat.c', 'loader_kick'),
        },
        'registry': ('load/mode.c', 'load/mode-', 'mode_'),
    },
}


def code(path):
    """The file without comments, strings and character constants."""
    s = open(path).read()
    s = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)
    s = re.sub(r'"(\\.|[^"\\\n])*"', '""', s)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", s)


def check(prog, p, verbose):
    rank = {}
    for i, pats in enumerate(p['layers']):
        for pat in pats:
            for f in glob.glob(os.path.join('src', pat)):
                rank.setdefault(os.path.relpath(f, 'src'), i)
    # the functions each file defines for others: at the start of a line,
    # after a line that is its type, not static
    defined = {}
    texts = {}
    for f in rank:
        texts[f] = code(os.path.join('src', f))
        lines = texts[f].split('\n')
        for i, line in enumerate(lines[1:], 1):
            m = re.match(r'([a-z_][a-z0-9_]*)\(', line)
            if m and lines[i - 1] and not lines[i - 1][0].isspace() and \
                    not lines[i - 1].startswith('static') and not lines[i - 1].endswith(';'):
                defined[m.group(1)] = f
        # and the objects: "const struct service service_chat = {"
        for m in re.finditer(r'^(?!static)[a-z][^;()=\n]*?\b([a-z_][a-z0-9_]*)(\[[^]]*\])? =',
                             texts[f], flags=re.M):
            defined[m.group(1)] = f
    reg_file, reg_prefix, reg_name = p['registry']
    bad = 0
    for f in sorted(rank, key=lambda f: (rank[f], f)):
        # not a struct member (.name, ->name)
        for name in sorted(set(re.findall(r'(?<![.>\w])([a-z_][a-z0-9_]*)\b', texts[f]))):
            g = defined.get(name)
            if g is None or g == f:
                continue
            if (f, name) in p['notify']:
                if verbose:
                    print('%s: %s tells %s (%s): owner notification' % (prog, f, name, g))
                continue
            if f == reg_file and g.startswith(reg_prefix) and name.startswith(reg_name):
                continue
            if rank[g] < rank[f] or (rank[g] == rank[f] and rank[f] in p['apart']):
                print('%s: %s uses %s (%s)' % (prog, f, name, g))
                bad = 1
    return bad


verbose = os.environ.get('LAYERS_VERBOSE', '') != ''
bad = 0
for prog, p in PROGRAMS.items():
    bad |= check(prog, p, verbose)
sys.exit(bad)
PY

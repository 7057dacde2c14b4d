#!/bin/sh
# SPDX-License-Identifier: ISC
# The daemon's calls point one way: each file calls only functions defined
# in files below it in this order (doc: synackd.h's top comment),
#
#   synackd.c -> server -> listener, metrics -> worker -> acceptor ->
#   services (through struct service only) -> client -> limits -> leaves
#   (config, service registry, sources, stats, activation, daemon, cidr)
#   -> common (src/common/: log, net, proxy, procfs, queues, clock, mailbox,
#   nofile, jsonesc)
#
# except an owner told that something it owns ended (NOTIFY below).
# Prints each other use of a function or object defined in a file above,
# or beside it (listener and metrics, one service and another), and exits
# 1 if there is any; with LAYERS_VERBOSE set, the notifications too.
# `make lint` runs it.
#
#   check-layers.sh [SRCDIR]
set -u
cd "${1:-.}" || exit 1
exec "${PYTHON:-python3}" - <<'PY'
import glob, os, re, sys

LAYERS = [
    ['synackd.c'],
    ['server.c'],
    ['listener.c', 'metrics.c'],
    ['worker.c'],
    ['acceptor.c'],
    ['service-*.c'],
    ['client.c'],
    ['limits.c'],
    ['config.c', 'service.c', 'sources.c', 'stats.c', 'activation.c', 'daemon.c', 'cidr.c'],
    ['common/*.c'],
]
# file layers whose files must not call each other
APART = {2, 5}
# an owner told that something it owns ended: (caller's file, function)
NOTIFY = {
    ('client.c', 'acceptor_client_gone'),  # a client of the acceptor is gone
    ('acceptor.c', 'worker_check_done'),   # ... so a stopping worker may be done
}

rank = {}
for i, pats in enumerate(LAYERS):
    for p in pats:
        for f in glob.glob(os.path.join('src', p)):
            rank[os.path.relpath(f, 'src')] = i

def code(path):
    """The file without comments, strings and character constants."""
    s = open(path).read()
    s = re.sub(r'/\*.*?\*/', lambda m: '\n' * m.group(0).count('\n'), s, flags=re.S)
    s = re.sub(r'//[^\n]*', '', s)
    s = re.sub(r'"(\\.|[^"\\\n])*"', '""', s)
    return re.sub(r"'(\\.|[^'\\\n])*'", "''", s)

# the functions each file defines for others: at the start of a line, after
# a line that is its type, not static
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

verbose = os.environ.get('LAYERS_VERBOSE', '') != ''
bad = 0
for f in sorted(rank, key=lambda f: (rank[f], f)):
    # not a struct member (.name, ->name)
    for name in sorted(set(re.findall(r'(?<![.>\w])([a-z_][a-z0-9_]*)\b', texts[f]))):
        g = defined.get(name)
        if g is None or g == f:
            continue
        if (f, name) in NOTIFY:
            if verbose:
                print('%s tells %s (%s): owner notification' % (f, name, g))
            continue
        # the registry's table holds the services: data, never called
        if f == 'service.c' and g.startswith('service-') and name.startswith('service_'):
            continue
        if rank[g] < rank[f] or (rank[g] == rank[f] and rank[f] in APART):
            print('%s uses %s (%s)' % (f, name, g))
            bad = 1
sys.exit(bad)
PY

#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
# promtext: a strict reader of the Prometheus text exposition format 0.0.4,
# for the tests of synackd's /metrics.
#
# It follows the format's rules, and a few of this project's on top:
#
#  - the text is UTF-8, made of lines that each end with a line feed (the
#    last one too); empty lines are ignored;
#  - "# HELP name text" (text escapes: \\ and \n only) and
#    "# TYPE name counter|gauge|histogram|summary|untyped"; any other line
#    starting with # is a comment;
#  - a sample is  name[{label="value",...}] value [timestamp]  with blanks
#    or tabs between the tokens; a label value escapes \\, \" and \n and
#    nothing else; a trailing comma in the label set is allowed;
#  - names: metric [a-zA-Z_:][a-zA-Z0-9_:]*, label [a-zA-Z_][a-zA-Z0-9_]*,
#    and a label name starting with __ is reserved;
#  - a value is a float (NaN, +Inf and -Inf included); a timestamp is an
#    integer (milliseconds);
#  - project rules: every family has exactly one HELP and one TYPE line,
#    both before its first sample; a family's lines are contiguous (once
#    another family starts, it never comes back); no two samples are the
#    same series (name and label set); a counter's name ends in _total.
#
# Any breach raises PromTextError naming the line (number and text).
#
#   from promtext import parse
#   m = parse(text)
#   m.value('synackd_listener_connections_closed_total',
#           listener='echo', service='echo', reason='peer')   # exact series
#   m.sum('synackd_listener_connections_closed_total', listener='echo')
#   m.family('synackd_workers').type                          # 'gauge'
#
# `python3 promtext.py --self-test` feeds it good and bad texts and checks
# that each bad one is refused, with the reason expected: the reader itself
# is shown to be strict.

import math
import re
import sys

TYPES = ('counter', 'gauge', 'histogram', 'summary', 'untyped')
METRIC_NAME_RE = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*\Z')
LABEL_NAME_RE = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*\Z')
_METRIC_NAME_START = re.compile(r'[a-zA-Z_:][a-zA-Z0-9_:]*')
_LABEL_NAME_START = re.compile(r'[a-zA-Z_][a-zA-Z0-9_]*')
_FLOAT_RE = re.compile(r'[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\Z')
_INT_RE = re.compile(r'[+-]?[0-9]+\Z')
_BLANK = ' \t'


class PromTextError(ValueError):
    """The text breaks a rule of the format: .lineno and .line say where."""

    def __init__(self, lineno, line, msg):
        self.lineno, self.line, self.msg = lineno, line, msg
        if lineno is None:
            super().__init__(msg)
        else:
            super().__init__('line %d: %s: %r' % (lineno, msg, line))


class Sample:
    __slots__ = ('name', 'labels', 'value', 'timestamp', 'lineno')

    def __init__(self, name, labels, value, timestamp, lineno):
        self.name, self.labels, self.value = name, labels, value
        self.timestamp, self.lineno = timestamp, lineno

    def __repr__(self):
        return 'Sample(%s%r %r)' % (self.name, self.labels, self.value)


class Family:
    __slots__ = ('name', 'type', 'help', 'samples', 'lineno')

    def __init__(self, name, lineno):
        self.name, self.lineno = name, lineno
        self.type = None
        self.help = None
        self.samples = []


class Exposition:
    """What parse() returns: the families in order, and look-ups."""

    def __init__(self):
        self.families = {}   # name -> Family, in the text's order
        self.series = {}     # (sample name, frozenset of label items) -> Sample

    def family(self, name):
        if name not in self.families:
            raise KeyError('no metric family %r' % name)
        return self.families[name]

    def samples(self, name, **labels):
        """Every sample called `name` whose labels include `labels`."""
        want = {k: str(v) for k, v in labels.items()}
        return [s for (n, _), s in self.series.items()
                if n == name and all(s.labels.get(k) == v for k, v in want.items())]

    def value(self, name, **labels):
        """The value of the one series with exactly this name and labels."""
        key = (name, frozenset((k, str(v)) for k, v in labels.items()))
        if key not in self.series:
            raise KeyError('no series %s%s' % (name, format_labels(labels)))
        return self.series[key].value

    def get(self, name, default=None, **labels):
        try:
            return self.value(name, **labels)
        except KeyError:
            return default

    def sum(self, name, **labels):
        """The sum over the samples samples(name, **labels) finds."""
        return sum(s.value for s in self.samples(name, **labels))

    def label_values(self, name, label):
        """The values `label` takes in the samples called `name`, in order."""
        out = []
        for (n, _), s in self.series.items():
            if n == name and label in s.labels and s.labels[label] not in out:
                out.append(s.labels[label])
        return out


def format_labels(labels):
    if not labels:
        return ''
    return '{%s}' % ','.join('%s="%s"' % (k, escape_label(str(v)))
                             for k, v in sorted(labels.items()))


def escape_label(v):
    return v.replace('\\', '\\\\').replace('"', '\\"').replace('\n', '\\n')


def _unescape(text, lineno, line, what, allowed):
    """Undo the escapes of a HELP text or label value; `allowed` maps the
    character after a backslash to what it stands for."""
    out = []
    i = 0
    while i < len(text):
        c = text[i]
        if c == '\\':
            if i + 1 >= len(text):
                raise PromTextError(lineno, line, '%s ends with a lone backslash' % what)
            e = text[i + 1]
            if e not in allowed:
                raise PromTextError(lineno, line, 'invalid escape \\%s in %s' % (e, what))
            out.append(allowed[e])
            i += 2
            continue
        out.append(c)
        i += 1
    return ''.join(out)


_HELP_ESCAPES = {'\\': '\\', 'n': '\n'}
_LABEL_ESCAPES = {'\\': '\\', 'n': '\n', '"': '"'}


def parse_float(text, lineno=None, line=None, what='value'):
    if text in ('NaN', '+Inf', '-Inf', 'Inf', '+inf', '-inf', 'inf'):
        return float(text)
    if not _FLOAT_RE.match(text):
        raise PromTextError(lineno, line, 'invalid %s %r' % (what, text))
    return float(text)


def _skip_blank(line, i):
    while i < len(line) and line[i] in _BLANK:
        i += 1
    return i


def _parse_labels(line, i, lineno):
    """Parse {a="b",...} starting at line[i] == '{': (labels, index after '}')."""
    labels = {}
    i += 1
    while True:
        i = _skip_blank(line, i)
        if i >= len(line):
            raise PromTextError(lineno, line, 'label set not closed with }')
        if line[i] == '}':
            return labels, i + 1
        m = _LABEL_NAME_START.match(line, i)
        if not m:
            raise PromTextError(lineno, line, 'invalid label name at column %d' % (i + 1))
        name = m.group(0)
        i = m.end()
        if i < len(line) and line[i] not in _BLANK + '=':
            raise PromTextError(lineno, line, 'invalid label name %r' % (name + line[i]))
        if name.startswith('__'):
            raise PromTextError(lineno, line, 'label name %r is reserved (starts with __)'
                                % name)
        if name in labels:
            raise PromTextError(lineno, line, 'label %r given twice' % name)
        i = _skip_blank(line, i)
        if i >= len(line) or line[i] != '=':
            raise PromTextError(lineno, line, 'expected = after label name %r' % name)
        i = _skip_blank(line, i + 1)
        if i >= len(line) or line[i] != '"':
            raise PromTextError(lineno, line, 'expected " to open the value of label %r'
                                % name)
        j = i + 1
        while True:
            if j >= len(line):
                raise PromTextError(lineno, line, 'value of label %r not closed with "'
                                    % name)
            if line[j] == '\\':
                j += 2
                continue
            if line[j] == '"':
                break
            j += 1
        labels[name] = _unescape(line[i + 1:j], lineno, line,
                                 'the value of label %r' % name, _LABEL_ESCAPES)
        i = _skip_blank(line, j + 1)
        if i < len(line) and line[i] == ',':
            i += 1
        elif i < len(line) and line[i] == '}':
            pass
        else:
            raise PromTextError(lineno, line, 'expected , or } after the value of label %r'
                                % name)


def _family_of(sample_name, families_order):
    """The family a sample name belongs to: itself, or NAME for the
    NAME_bucket / NAME_sum / NAME_count samples of a histogram or summary."""
    for suffix in ('_bucket', '_sum', '_count'):
        if sample_name.endswith(suffix):
            base = sample_name[:-len(suffix)]
            f = families_order.get(base)
            if f is not None and f.type in ('histogram', 'summary'):
                if suffix == '_bucket' and f.type != 'histogram':
                    return None
                return base
    return sample_name


def parse(text):
    """Parse an exposition (str or UTF-8 bytes); returns an Exposition."""
    if isinstance(text, bytes):
        try:
            text = text.decode('utf-8')
        except UnicodeDecodeError as e:
            raise PromTextError(None, None, 'not UTF-8: %s' % e)
    if text == '':
        raise PromTextError(None, None, 'empty exposition')
    if not text.endswith('\n'):
        last = text.rsplit('\n', 1)[-1]
        raise PromTextError(text.count('\n') + 1, last,
                            'the text does not end with a line feed')
    out = Exposition()
    fams = out.families
    current = None      # the family whose lines are being read
    closed = set()      # families that another one followed: they may not come back

    def enter(name, lineno, line):
        nonlocal current
        if current is not None and current.name == name:
            return current
        if name in closed or name in fams:
            raise PromTextError(lineno, line, 'metric family %r comes back after other '
                                'families: its lines must be contiguous' % name)
        if current is not None:
            closed.add(current.name)
            _check_complete(current)
        current = Family(name, lineno)
        fams[name] = current
        return current

    lines = text.split('\n')[:-1]
    for lineno, line in enumerate(lines, 1):
        if '\r' in line:
            raise PromTextError(lineno, line, 'carriage return in a line (lines end with '
                                'a bare line feed)')
        stripped = line.strip(_BLANK)
        if stripped == '':
            continue
        if stripped.startswith('#'):
            rest = stripped[1:].lstrip(_BLANK)
            parts = re.split(r'[ \t]+', rest, maxsplit=2)
            if parts[0] not in ('HELP', 'TYPE'):
                continue            # a comment
            kind = parts[0]
            if len(parts) < 2 or parts[1] == '':
                raise PromTextError(lineno, line, '%s line without a metric name' % kind)
            name = parts[1]
            if not METRIC_NAME_RE.match(name):
                raise PromTextError(lineno, line, 'invalid metric name %r in %s' %
                                    (name, kind))
            f = enter(name, lineno, line)
            if f.samples:
                raise PromTextError(lineno, line, '%s of %r after its samples' %
                                    (kind, name))
            if kind == 'HELP':
                if f.help is not None:
                    raise PromTextError(lineno, line, 'second HELP for %r' % name)
                f.help = _unescape(parts[2] if len(parts) > 2 else '', lineno, line,
                                   'the HELP text', _HELP_ESCAPES)
            else:
                if f.type is not None:
                    raise PromTextError(lineno, line, 'second TYPE for %r' % name)
                t = parts[2].strip(_BLANK) if len(parts) > 2 else ''
                if t not in TYPES:
                    raise PromTextError(lineno, line, 'unknown TYPE %r for %r' % (t, name))
                if t == 'counter' and not name.endswith('_total'):
                    raise PromTextError(lineno, line, 'counter %r does not end in _total'
                                        % name)
                f.type = t
            continue

        # a sample
        i = len(line) - len(line.lstrip(_BLANK))
        m = _METRIC_NAME_START.match(line, i)
        if not m:
            raise PromTextError(lineno, line, 'invalid metric name')
        name = m.group(0)
        i = m.end()
        if i < len(line) and line[i] not in _BLANK + '{':
            raise PromTextError(lineno, line, 'invalid metric name %r' %
                                re.split(r'[ \t{]', line[m.start():], 1)[0])
        i = _skip_blank(line, i)
        labels = {}
        if i < len(line) and line[i] == '{':
            labels, i = _parse_labels(line, i, lineno)
        fields = [t for t in re.split(r'[ \t]+', line[i:]) if t != '']
        if len(fields) == 0:
            raise PromTextError(lineno, line, 'sample without a value')
        if len(fields) > 2:
            raise PromTextError(lineno, line, 'text after the value and timestamp')
        value = parse_float(fields[0], lineno, line)
        ts = None
        if len(fields) == 2:
            if not _INT_RE.match(fields[1]):
                raise PromTextError(lineno, line, 'invalid timestamp %r' % fields[1])
            ts = int(fields[1])

        fname = _family_of(name, fams)
        if fname is None:
            raise PromTextError(lineno, line, '%r is not a sample of a summary' % name)
        if current is None or current.name != fname:
            if fname in fams:
                raise PromTextError(lineno, line, 'sample of %r after other families: a '
                                    'family\'s samples must be contiguous' % fname)
            raise PromTextError(lineno, line, 'sample of %r without HELP and TYPE before it'
                                % fname)
        f = current
        if f.type is None:
            raise PromTextError(lineno, line, 'sample of %r before its TYPE line' % fname)
        if f.help is None:
            raise PromTextError(lineno, line, 'sample of %r before its HELP line' % fname)
        _check_sample(f, name, labels, value, lineno, line)
        key = (name, frozenset(labels.items()))
        if key in out.series:
            raise PromTextError(lineno, line, 'duplicate series %s%s (first on line %d)' %
                                (name, format_labels(labels), out.series[key].lineno))
        s = Sample(name, labels, value, ts, lineno)
        out.series[key] = s
        f.samples.append(s)
    if current is not None:
        _check_complete(current)
    return out


def _check_sample(f, name, labels, value, lineno, line):
    if f.type in ('counter', 'gauge', 'untyped'):
        if name != f.name:
            raise PromTextError(lineno, line, 'sample %r in %s family %r' %
                                (name, f.type, f.name))
    if f.type == 'counter' and not math.isnan(value) and value < 0:
        raise PromTextError(lineno, line, 'negative counter value')
    if f.type == 'histogram':
        if name == f.name:
            raise PromTextError(lineno, line, 'histogram %r sample without _bucket, _sum or '
                                '_count' % f.name)
        if name.endswith('_bucket'):
            if 'le' not in labels:
                raise PromTextError(lineno, line, 'histogram bucket without an le label')
            parse_float(labels['le'], lineno, line, 'le')
        elif 'le' in labels:
            raise PromTextError(lineno, line, 'le label outside a histogram bucket')
    if f.type == 'summary':
        if name == f.name:
            if 'quantile' not in labels:
                raise PromTextError(lineno, line, 'summary sample without a quantile label')
            parse_float(labels['quantile'], lineno, line, 'quantile')
        elif 'quantile' in labels:
            raise PromTextError(lineno, line, 'quantile label on %r' % name)


def _check_complete(f):
    if f.help is None:
        raise PromTextError(f.lineno, None, 'metric family %r has no HELP line' % f.name)
    if f.type is None:
        raise PromTextError(f.lineno, None, 'metric family %r has no TYPE line' % f.name)


# ---------------------------------------------------------------------------
# Self-test: the reader accepts what the format allows and refuses the rest.

_GOOD = [
    ('a counter with labels, a timestamp, escapes, comments and blank lines',
     '# a comment\n'
     '# HELP x_total Things, with a \\\\ backslash\\nand a new line.\n'
     '# TYPE x_total counter\n'
     'x_total{a="q\\"uote",b="back\\\\slash",c="new\\nline"} 3 1700000000000\n'
     '\n'
     'x_total{a="2",} 4e3\n'
     '# HELP g A gauge.\n'
     '# TYPE g gauge\n'
     'g NaN\n'
     '# TYPE h gauge\n'
     '# HELP h Help after TYPE is fine.\n'
     'h{ a = "1" , b="2" }\t-Inf\n'
     'h{a="2"} +Inf\n'
     'h{a="3"} -0.5\n'
     'h{a="4"} .5e-3\n'
     'h{a="5"}7\n'
     '# HELP empty_total A family without samples.\n'
     '# TYPE empty_total counter\n'
     '# HELP lat Latency.\n'
     '# TYPE lat histogram\n'
     'lat_bucket{le="0.1"} 1\n'
     'lat_bucket{le="+Inf"} 2\n'
     'lat_sum 0.3\n'
     'lat_count 2\n'
     '# HELP q Quantiles.\n'
     '# TYPE q summary\n'
     'q{quantile="0.5"} 1\n'
     'q_sum 1\n'
     'q_count 1\n'),
]

_BAD = [
    ('no TYPE line', '# HELP a A.\na 1\n', 'before its TYPE'),
    ('no HELP line', '# TYPE a gauge\na 1\n', 'before its HELP'),
    ('no HELP and no TYPE', 'a 1\n', 'without HELP and TYPE'),
    ('a family with HELP alone', '# HELP a A.\n', 'has no TYPE'),
    ('TYPE after the samples', '# HELP a A.\n# TYPE a gauge\na 1\n# TYPE a gauge\n',
     'after its samples'),
    ('two TYPE lines', '# HELP a A.\n# TYPE a gauge\n# TYPE a gauge\na 1\n',
     'second TYPE'),
    ('two HELP lines', '# HELP a A.\n# HELP a B.\n# TYPE a gauge\na 1\n', 'second HELP'),
    ('an unknown type', '# HELP a A.\n# TYPE a meter\na 1\n', 'unknown TYPE'),
    ('a counter not ending in _total', '# HELP a A.\n# TYPE a counter\na 1\n',
     'does not end in _total'),
    ('a duplicate series',
     '# HELP a A.\n# TYPE a gauge\na{x="1",y="2"} 1\na{y="2",x="1"} 2\n',
     'duplicate series'),
    ('a duplicate series without labels', '# HELP a A.\n# TYPE a gauge\na 1\na 2\n',
     'duplicate series'),
    ('a bad escape in a label value', '# HELP a A.\n# TYPE a gauge\na{x="\\t"} 1\n',
     'invalid escape'),
    ('a bad escape in HELP', '# HELP a A \\t.\n# TYPE a gauge\na 1\n', 'invalid escape'),
    ('an unterminated label value', '# HELP a A.\n# TYPE a gauge\na{x="1} 1\n',
     'not closed'),
    ('an unquoted label value', '# HELP a A.\n# TYPE a gauge\na{x=1} 1\n', 'expected "'),
    ('a bad metric name in a sample', '# HELP a A.\n# TYPE a gauge\na-b 1\n',
     'invalid metric name'),
    ('a metric name starting with a digit', '# HELP 1a A.\n# TYPE 1a gauge\n1a 1\n',
     'invalid metric name'),
    ('a bad label name', '# HELP a A.\n# TYPE a gauge\na{x-y="1"} 1\n',
     'invalid label name'),
    ('a reserved label name', '# HELP a A.\n# TYPE a gauge\na{__x="1"} 1\n', 'reserved'),
    ('a label given twice', '# HELP a A.\n# TYPE a gauge\na{x="1",x="2"} 1\n',
     'given twice'),
    ('the samples of a family split',
     '# HELP a A.\n# TYPE a gauge\na{x="1"} 1\n# HELP b B.\n# TYPE b gauge\nb 1\n'
     'a{x="2"} 2\n', 'contiguous'),
    ('a family announced twice',
     '# HELP a A.\n# TYPE a gauge\na 1\n# HELP b B.\n# TYPE b gauge\nb 1\n# HELP a A.\n',
     'contiguous'),
    ('a bad value', '# HELP a A.\n# TYPE a gauge\na one\n', 'invalid value'),
    ('a hexadecimal value', '# HELP a A.\n# TYPE a gauge\na 0x10\n', 'invalid value'),
    ('no value', '# HELP a A.\n# TYPE a gauge\na{x="1"}\n', 'without a value'),
    ('a bad timestamp', '# HELP a A.\n# TYPE a gauge\na 1 1.5\n', 'invalid timestamp'),
    ('text after the timestamp', '# HELP a A.\n# TYPE a gauge\na 1 2 3\n', 'text after'),
    ('no line feed at the end', '# HELP a A.\n# TYPE a gauge\na 1', 'line feed'),
    ('a carriage return', '# HELP a A.\r\n# TYPE a gauge\r\na 1\r\n', 'carriage return'),
    ('an empty text', '', 'empty'),
    ('a negative counter', '# HELP a_total A.\n# TYPE a_total counter\na_total -1\n',
     'negative'),
    ('a sample of another name in a gauge family',
     '# HELP a A.\n# TYPE a gauge\na_sum 1\n', 'without HELP and TYPE'),
    ('a histogram bucket without le',
     '# HELP h H.\n# TYPE h histogram\nh_bucket 1\nh_sum 1\nh_count 1\n', 'le label'),
]


def self_test():
    failures = 0
    for what, text in _GOOD:
        try:
            parse(text)
        except PromTextError as e:
            print('FAIL: refused a good text (%s): %s' % (what, e))
            failures += 1
    for what, text, why in _BAD:
        try:
            parse(text)
        except PromTextError as e:
            if why not in str(e):
                print('FAIL: %s: refused, but for another reason: %s' % (what, e))
                failures += 1
            continue
        print('FAIL: accepted a text with %s: %r' % (what, text))
        failures += 1
    # the look-ups
    m = parse(_GOOD[0][1])
    checks = [
        (m.value('x_total', a='q"uote', b='back\\slash', c='new\nline'), 3.0),
        (m.value('x_total', a='2'), 4000.0),
        (math.isnan(m.value('g')), True),
        (m.value('h', a='1', b='2'), float('-inf')),
        (m.sum('h', a='2'), float('inf')),
        (m.family('x_total').help, 'Things, with a \\ backslash\nand a new line.'),
        (m.family('lat').type, 'histogram'),
        (m.value('lat_bucket', le='+Inf'), 2.0),
        (m.family('empty_total').samples, []),
        (m.series[('x_total', frozenset({('a', 'q"uote'), ('b', 'back\\slash'),
                                         ('c', 'new\nline')}))].timestamp, 1700000000000),
        (m.label_values('h', 'a'), ['1', '2', '3', '4', '5']),
        (m.value('h', a='5'), 7.0),
    ]
    for i, (got, want) in enumerate(checks):
        if got != want:
            print('FAIL: look-up %d: expected %r, got %r' % (i, want, got))
            failures += 1
    try:
        m.value('x_total', a='2', b='extra')
        print('FAIL: value() matched a series with fewer labels than asked')
        failures += 1
    except KeyError:
        pass
    n = len(_GOOD) + len(_BAD) + len(checks) + 1
    if failures:
        print('promtext self-test: %d of %d checks failed' % (failures, n))
        return 1
    print('promtext self-test: %d checks passed (%d bad texts refused)' % (n, len(_BAD)))
    return 0


if __name__ == '__main__':
    if sys.argv[1:] == ['--self-test']:
        sys.exit(self_test())
    if len(sys.argv) == 2:
        with open(sys.argv[1], 'rb') as f:
            data = f.read()
    elif len(sys.argv) == 1:
        data = sys.stdin.buffer.read()
    else:
        sys.exit('usage: promtext.py [--self-test | FILE]  (no FILE: standard input)')
    try:
        e = parse(data)
    except PromTextError as err:
        sys.exit('promtext: %s' % err)
    print('%d families, %d series' % (len(e.families), len(e.series)))

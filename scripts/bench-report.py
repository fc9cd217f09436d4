#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn krsi_bench's raw "BENCH..." lines (scripts/bench.sh) into a table.

Every figure is computed from the raw file; a scenario without data says
that it could not run.  Costs are in getpid() units: an operation's ns per
call divided by getpid()'s in the same boot, so that the emulator's speed
drifts cancel out.  Each boot gives one value; the table shows the median
and the range over the rounds.
"""
import re
import statistics
import sys

OPS = ('open_close', 'mprotect')
OP_TITLE = {'open_close': 'open+close', 'mprotect': 'mprotect'}
SCENARIOS = [
    ('S0', 'KRSI kernel, lsm= without bpf'),
    ('S1', 'KRSI kernel, bpf, nothing attached'),
    ('S2', '1 nop prog per hook, trampolines'),
    ('S3', '1 nop prog per hook, KRSI'),
    ('S4', '8 nop progs per hook, KRSI'),
    ('S0b', '6.12 base, lsm= without bpf'),
    ('S1b', '6.12 base, bpf, nothing attached'),
]
BASELINE = {'S1': 'S0', 'S2': 'S0', 'S3': 'S0', 'S4': 'S0', 'S1b': 'S0b'}


def fields(words):
    return dict(w.split('=', 1) for w in words if '=' in w)


def parse(path):
    runs = {}      # scenario -> {round: {op: ns}}
    lat = {}       # (kernel, path, state) -> dict
    hooks = {}     # (op, hook) -> [hits]
    failed = []
    header = ''
    with open(path) as f:
        for line in f:
            w = line.split()
            if not w:
                continue
            if line.startswith('#'):
                header = line[1:].strip()
            elif w[0] == 'BENCH':
                f_ = fields(w[1:])
                label = [x for x in w[1:] if '=' not in x][0]
                runs.setdefault(label, {}).setdefault(f_['round'], []).append(
                    {k: float(v) for k, v in f_.items()
                     if k in ('getpid',) + OPS + tuple(o + '_ratio' for o in OPS)})
            elif w[0] == 'BENCH-LATENCY':
                f_ = fields(w[1:])
                rest = [x for x in w[1:] if '=' not in x]
                lat[(f_['kernel'], rest[0], rest[1])] = {
                    k: float(f_[k]) for k in ('median', 'min', 'max', 'rounds')}
            elif w[0] == 'BENCH-HOOK':
                rest = [x for x in w[1:] if '=' not in x]
                hooks.setdefault((rest[0], rest[1]), []).append(int(rest[2]))
            elif w[0] == 'FAILED':
                failed.append(' '.join(w[1:]))
    return header, runs, lat, hooks, failed


def summary(values, fmt):
    if not values:
        return 'n/a'
    med = statistics.median(values)
    if len(values) == 1:
        return fmt(med)
    return f'{fmt(med)} [{fmt(min(values))}..{fmt(max(values))}]'


def per_boot(measures):
    """One value per field for a boot: the median of its measures."""
    return {k: statistics.median(m[k] for m in measures) for k in measures[0]}


def main(path):
    header, runs, lat, hooks, failed = parse(path)
    runs = {sc: {r: per_boot(ms) for r, ms in rs.items()} for sc, rs in runs.items()}
    rounds = sorted({r for s in runs.values() for r in s})
    out = []
    p = out.append
    p('KRSI benchmark: hook and attach costs, as ratios measured in one run')
    p('Ran under QEMU TCG (no KVM): absolute times are emulated, only ratios '
      'within a boot carry over.')
    if header:
        p(header)
    p(f'{len(rounds)} round(s); each round boots S0 | S1-S4 | S0b | S1b in '
      'turn; median [min..max] over the rounds.')
    p('')
    p('Cost per operation in getpid() units: ns per call / getpid ns, in interleaved')
    p('slices of the same boot (median of the slices, then of the boot\'s measures)')
    p(f'{"scenario":<42} {"getpid ns":>16} {"open+close":>22} {"mprotect":>22}')
    norm = {}
    for sc, title in SCENARIOS:
        data = runs.get(sc, {})
        if not data:
            p(f'{sc + "  " + title:<42} could not run (no result; see FAILED below)')
            continue
        norm[sc] = {r: {op: v.get(op + '_ratio', v[op] / v['getpid']) for op in OPS}
                    for r, v in data.items()}
        row = f'{sc + "  " + title:<42} '
        row += f'{summary([v["getpid"] for v in data.values()], lambda x: f"{x:.0f}"):>16} '
        for op in OPS:
            row += f'{summary([n[op] for n in norm[sc].values()], lambda x: f"{x:.2f}"):>22} '
        p(row.rstrip())
    p('')
    p('Added cost against the same kernel without bpf, per round (S1-S4: S0; S1b: S0b)')
    p(f'{"scenario":<42} {"open+close":>24} {"mprotect":>24}')
    over = {}
    for sc, title in SCENARIOS:
        base = BASELINE.get(sc)
        if not base:
            continue
        if sc not in norm or base not in norm:
            p(f'{sc + "  " + title:<42} could not run')
            continue
        common = sorted(set(norm[sc]) & set(norm[base]))
        over[sc] = {op: [100.0 * (norm[sc][r][op] / norm[base][r][op] - 1)
                         for r in common] for op in OPS}
        row = f'{sc + "  " + title:<42} '
        for op in OPS:
            row += f'{summary(over[sc][op], lambda x: f"{x:+.1f}%"):>24} '
        p(row.rstrip())
    if hooks:
        p('')
        p('Hooks the operations go through (counted by a KRSI program, 10 calls):')
        for (op, hook), hits in sorted(hooks.items()):
            p(f'  {OP_TITLE.get(op, op):<11} {hook:<22} {summary(hits, lambda x: f"{x:.0f}")} hits')
    p('')
    p('Attach + detach of one nop program on file_mprotect, microseconds: median [min..max]')
    p(f'{"path":<34} {"idle hook":>28} {"busy hook":>28}')
    rows = [('trampoline, KRSI kernel', ('krsi', 'trampoline')),
            ('trampoline, 6.12 base', ('base', 'trampoline')),
            ('KRSI link, KRSI kernel', ('krsi', 'krsi'))]
    for title, key in rows:
        row = f'{title:<34} '
        for state in ('idle', 'busy'):
            d = lat.get(key + (state,))
            cell = (f'{d["median"]:.0f} [{d["min"]:.0f}..{d["max"]:.0f}] x{d["rounds"]:.0f}'
                    if d else 'could not run')
            row += f'{cell:>28} '
        p(row.rstrip())
    ratio = {}
    for state in ('idle', 'busy'):
        t = lat.get(('krsi', 'trampoline', state))
        k = lat.get(('krsi', 'krsi', state))
        if t and k and k['median'] > 0:
            ratio[state] = t['median'] / k['median']
    p(f'{"trampoline / KRSI (medians)":<34} '
      + ' '.join(f'{(f"{ratio[s]:.0f}x" if s in ratio else "n/a"):>28}'
                 for s in ('idle', 'busy')))
    p('')
    p('Goals (not tests; where the figures stand)')

    def median_cost(sc):
        """A scenario's median cost per operation over its boots."""
        return {op: statistics.median(n[op] for n in norm[sc].values()) for op in OPS}

    def goal(text, ok, figure):
        p(f'  [{"met" if ok else "NOT met" if ok is not None else "n/a"}] {text}: {figure}')

    if 'S1' in over:
        med = {op: statistics.median(over['S1'][op]) for op in OPS}
        goal('S1 (KRSI, idle) within 1% of S0 on every operation',
             all(abs(v) <= 1.0 for v in med.values()),
             ', '.join(f'{OP_TITLE[op]} {med[op]:+.1f}%' for op in OPS))
    else:
        goal('S1 within 1% of S0', None, 'could not run')
    if 'S2' in norm and 'S3' in norm:
        m2, m3 = median_cost('S2'), median_cost('S3')
        goal('S3 (KRSI) per-operation cost no higher than S2 (trampolines)',
             all(m3[op] <= m2[op] for op in OPS),
             ', '.join(f'{OP_TITLE[op]} {m3[op]:.2f} vs {m2[op]:.2f}' for op in OPS))
    else:
        goal('S3 no higher than S2', None, 'could not run')
    if all(s in norm for s in ('S0', 'S3', 'S4')):
        m = {s: median_cost(s) for s in ('S0', 'S3', 'S4')}
        add3 = {op: m['S3'][op] - m['S0'][op] for op in OPS}
        add4 = {op: m['S4'][op] - m['S0'][op] for op in OPS}
        goal("S4's added cost at most 8 x S3's",
             all(add4[op] <= 8 * add3[op] for op in OPS),
             ', '.join(f'{OP_TITLE[op]} {add4[op]:.2f} vs 8 x {add3[op]:.2f}'
                       for op in OPS))
    else:
        goal("S4's added cost at most 8 x S3's", None, 'could not run')
    for state, want in (('busy', 100), ('idle', 10)):
        if state in ratio:
            goal(f'KRSI attach+detach >= {want}x faster than trampoline, {state} hook',
                 ratio[state] >= want, f'{ratio[state]:.0f}x')
        else:
            goal(f'KRSI attach+detach >= {want}x faster, {state} hook', None,
                 'could not run')
    if failed:
        p('')
        p('FAILED boots (no number printed for them):')
        for f_ in failed:
            p(f'  {f_}')
    print('\n'.join(out))
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print('usage: bench-report.py RAW_FILE', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))

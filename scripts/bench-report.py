#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Turn krsi_bench's raw "BENCH..." lines (scripts/bench.sh) into a table.

Every figure is computed from the raw file; a scenario without data says
that it could not run.

Counting instructions (raw line "MODE icount"): instructions per
operation, the fewest of each boot's measures, then the range over the
boots; for fork and exec, which krsi_bench counts one call at a time and
reports as the median call, the mean of each boot's measures, then the
median over the boots (a boot now and then has every fork 0.7% dearer).
The added instructions per hook call are the added instructions per
operation divided by the hook calls the operation makes (BENCH-HOOK).

Timing (wall time): costs are in getpid() units, an operation's ns per call
divided by getpid()'s in the same boot, so that speed drifts cancel out.
Each boot gives one value; the table shows the median and the range over
the rounds.
"""
import re
import statistics
import sys

OPS = ('open_close', 'mprotect', 'fork_wait', 'exec')
# The operations whose hooks the benchmark's programs are attached to; the
# others (fork, exec) show the idle cost where many hooks are called.
HOOK_OPS = ('open_close', 'mprotect')
# The operations krsi_bench counts one call at a time (longer than its
# loop), reporting the median call: a boot's measures are averaged and the
# boots' median is taken, where the others' fewest is the loop no
# interrupt landed in.
MEDIAN_OPS = ('fork_wait', 'exec')


def combine(op, values, over_boots=False):
    values = list(values)
    if op not in MEDIAN_OPS:
        return min(values)
    return statistics.median(values) if over_boots else statistics.mean(values)

OP_TITLE = {'open_close': 'open+close', 'mprotect': 'mprotect',
            'fork_wait': 'fork+wait', 'exec': 'fork+exec+wait'}
SCENARIOS = [
    ('S0', 'KRSI kernel, lsm= without bpf'),
    ('S1f', 'KRSI kernel, bpf, never attached'),
    ('S1', 'KRSI kernel, bpf, attached and detached'),
    ('S2', '1 nop prog per hook, trampolines'),
    ('S3', '1 nop prog per hook, KRSI'),
    ('S3s', '1 nop prog per hook, KRSI, BPF stats on'),
    ('S4', '8 nop progs per hook, KRSI'),
    ('S5', '1 nop prog per hook, lsm_cgroup'),
    ('S0b', '6.12 base, lsm= without bpf'),
    ('S1b', '6.12 base, bpf, nothing attached'),
    ('S2b', '6.12 base, 1 nop prog per hook, trampolines'),
]
BASELINE = {'S1f': 'S0', 'S1': 'S0', 'S2': 'S0', 'S3': 'S0', 'S3s': 'S0', 'S4': 'S0',
            'S5': 'S0', 'S1b': 'S0b', 'S2b': 'S0b'}
# One nop KRSI program per hook call (S3 - S1) on the series before it
# counted runs and denials (patches 16-19), with this bench on 2026-11-29:
# what the counters may add to, at most GOAL_COUNTERS instructions.
S3_BEFORE_COUNTERS = {'open_close': 61.6, 'mprotect': 64.3}
GOAL_COUNTERS = 5


def fields(words):
    return dict(w.split('=', 1) for w in words if '=' in w)


def parse(path):
    mode = 'wall'
    counts = {}    # scenario -> {round: [{op: instructions}]}
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
            elif w[0] == 'MODE':
                mode = w[1]
            elif w[0] == 'BENCH-ICOUNT':
                f_ = fields(w[1:])
                label = [x for x in w[1:] if '=' not in x][0]
                counts.setdefault(label, {}).setdefault(f_['round'], []).append(
                    {k: float(v) for k, v in f_.items() if k in ('getpid',) + OPS})
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
    return mode, header, counts, runs, lat, hooks, failed


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


# Goals of the instruction-count mode: (text, limit).
GOAL_IDLE_PCT = 0.1         # S1f and S1 against S0, every operation
GOAL_ONE_VS_TRAMP = 1 / 5   # one KRSI program against one trampoline program
GOAL_EXTRA_PROG = 15        # instructions per hook call per extra KRSI program
GOAL_TRAMP_SLACK = 0.5      # a trampoline program, KRSI kernel against base
GOAL_LAT = {'idle': 1000, 'busy': 200}


def failed_boots(p, failed):
    if failed:
        p('')
        p('FAILED boots (no number printed for them):')
        for f_ in failed:
            p(f'  {f_}')


def latency_table(p, lat, title):
    """The attach + detach table under TITLE lines; the trampoline / KRSI
    ratio of the medians, by hook state."""
    for line in title:
        p(line)
    p(f'{"path":<34} {"idle hook":>28} {"busy hook":>28}')
    rows = [('trampoline, KRSI kernel', ('krsi', 'trampoline')),
            ('trampoline, 6.12 base', ('base', 'trampoline')),
            ('KRSI link, KRSI kernel', ('krsi', 'krsi'))]
    for name, key in rows:
        row = f'{name:<34} '
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
    return ratio


def icount_report(header, counts, lat, hooks, failed):
    out = []
    p = out.append
    # Per boot: the fewest instructions of its measures (loops no interrupt
    # hit); over the boots: the range.
    best = {sc: {r: {op: combine(op, (m[op] for m in ms)) for op in ('getpid',) + OPS}
                 for r, ms in rs.items()} for sc, rs in counts.items()}
    boots = sorted({r for s_ in best.values() for r in s_})
    p('KRSI benchmark: instructions per operation and per hook call')
    p('QEMU TCG with -icount shift=0,sleep=off: the guest clock counts instructions, so')
    p('these are instructions executed by the guest, repeatable from boot to boot.')
    if header:
        p(header)
    p(f'{len(boots)} boot(s) per scenario; each figure is the fewest instructions per operation')
    p('of 25 loops in a boot (fork and exec: the median of 101 calls, averaged over')
    p("a boot's measures, then the median of the boots); [min..max] over the boots")
    p('where they differ.')
    p('')

    def cell(values, fmt='{:.1f}', op=None):
        if not values:
            return 'n/a'
        lo, hi = min(values), max(values)
        if hi - lo < 0.05:
            return fmt.format(lo)
        return f'{fmt.format(combine(op, values, True))} [{fmt.format(lo)}..{fmt.format(hi)}]'

    def low(sc, op):
        return combine(op, (v[op] for v in best[sc].values()), True)

    p('Instructions per operation')
    p(f'{"scenario":<50} {"getpid":>8} ' + ' '.join(f'{OP_TITLE[op]:>16}' for op in OPS))
    for sc, title in SCENARIOS:
        if sc not in best:
            p(f'{sc + "  " + title:<50} could not run (no result; see FAILED below)')
            continue
        row = f'{sc + "  " + title:<50} '
        row += f'{cell([v["getpid"] for v in best[sc].values()]):>8} '
        for op in OPS:
            row += f'{cell([v[op] for v in best[sc].values()], op=op):>16} '
        p(row.rstrip())
    spread = []
    for sc in best:
        for op in ('getpid',) + OPS:
            vals = [v[op] for v in best[sc].values()]
            if len(vals) > 1:
                spread.append((100.0 * (max(vals) - min(vals)) / min(vals), sc, op))
    if spread:
        worst = max(spread)
        p(f'Largest difference between boots: {worst[0]:.3f}% ({worst[1]}, {worst[2]})')

    calls = {op: None for op in OPS}
    for op in HOOK_OPS:
        per = [sum(h) / len(h) / 10.0 for (o, _), h in hooks.items() if o == op]
        if per:
            calls[op] = sum(per)
    p('')
    p('Hook calls per operation (counted by a KRSI program over 10 calls): '
      + ', '.join(f'{OP_TITLE[op]} {calls[op]:g}' if calls[op] else f'{OP_TITLE[op]} n/a'
                  for op in HOOK_OPS))
    for (op, hook), hits in sorted(hooks.items()):
        p(f'  {OP_TITLE.get(op, op):<11} {hook:<22} {cell(hits, "{:.0f}")} hits in 10 calls')

    def added(sc, base, op, per_call):
        if sc not in best or base not in best:
            return None
        d = low(sc, op) - low(base, op)
        if per_call:
            return d / calls[op] if calls[op] else None
        return d

    p('')
    p('Added instructions against a baseline: per operation / per hook call')
    p('(per operation only where no benchmark program is on the hooks)')
    p(f'{"scenario":<50} {"baseline":>8} ' + ' '.join(f'{OP_TITLE[op]:>18}' for op in OPS))
    rows = [('S1f', 'S0'), ('S1', 'S0'), ('S2', 'S1'), ('S3', 'S1'), ('S3s', 'S3'),
            ('S4', 'S1'), ('S5', 'S1'), ('S1b', 'S0b'), ('S2b', 'S1b')]
    for sc, base in rows:
        title = dict(SCENARIOS)[sc]
        row = f'{sc + "  " + title:<50} {base:>8} '
        for op in OPS:
            a, c = added(sc, base, op, False), added(sc, base, op, True)
            if a is None:
                text = 'n/a'
            elif c is None:
                text = f'{a:+.1f}'
            else:
                text = f'{a:+.1f} / {c:+.1f}'
            row += f'{text:>18} '
        p(row.rstrip())

    p('')
    ratio = latency_table(p, lat, [
        'Attach + detach of one nop program on file_mprotect, guest microseconds',
        '(instructions / 1000, idle time skipped): median [min..max]'])
    p('')
    p('Goals')
    unmet = 0

    def goal(text, ok, figure):
        nonlocal unmet
        if ok is False:
            unmet += 1
        p(f'  [{"met" if ok else "NOT met" if ok is not None else "n/a"}] {text}: {figure}')

    for sc, what in (('S1f', 'never attached'), ('S1', 'after attach and detach')):
        if 'S0' not in best or sc not in best:
            goal(f'idle bpf LSM, {what} ({sc}), within {GOAL_IDLE_PCT}% of no bpf LSM',
                 None, 'could not run')
            continue
        pct = {op: 100.0 * (low(sc, op) / low('S0', op) - 1) for op in ('getpid',) + OPS}
        fig = ', '.join(f'{OP_TITLE.get(op, op)} {pct[op]:+.3f}%' for op in pct)
        if 'S0b' in best and 'S1b' in best:
            fig += ' (6.12 base, S1b on S0b: ' + ', '.join(
                f'{OP_TITLE.get(op, op)} {100.0 * (low("S1b", op) / low("S0b", op) - 1):+.3f}%'
                for op in ('getpid',) + OPS) + ')'
        goal(f'idle bpf LSM, {what} ({sc}), within {GOAL_IDLE_PCT}% of no bpf LSM (S0) '
             'on every operation', all(abs(v) <= GOAL_IDLE_PCT for v in pct.values()), fig)
    one = {op: (added('S3', 'S1', op, True), added('S2', 'S1', op, True)) for op in HOOK_OPS}
    if all(k is not None and t is not None for k, t in one.values()):
        goal('one nop KRSI program at most 1/5 of one nop trampoline program per hook call',
             all(k <= t * GOAL_ONE_VS_TRAMP for k, t in one.values()),
             ', '.join(f'{OP_TITLE[op]} {k:.1f} vs {t:.1f} (limit {t * GOAL_ONE_VS_TRAMP:.1f})'
                       for op, (k, t) in one.items()))
    else:
        goal('one nop KRSI program at most 1/5 of a trampoline program', None, 'could not run')
    extra = {op: added('S4', 'S3', op, True) for op in HOOK_OPS}
    if all(v is not None for v in extra.values()):
        extra = {op: v / 7 for op, v in extra.items()}
        goal(f'each additional KRSI program at most {GOAL_EXTRA_PROG} instructions per hook call',
             all(v <= GOAL_EXTRA_PROG for v in extra.values()),
             ', '.join(f'{OP_TITLE[op]} {v:.1f}' for op, v in extra.items())
             + ' ((S4 - S3) / 7 programs)')
    else:
        goal(f'each additional KRSI program at most {GOAL_EXTRA_PROG} instructions', None,
             'could not run')
    # What a trampoline user pays on each kernel over the same kernel
    # without the bpf LSM: the idle bpf LSM in a fresh boot, plus the
    # program over the idle bpf LSM in the same boot.  S2 - S1 alone would
    # count switching the hook's bpf slot on, which the base kernel pays
    # in S1b already; S2 - S0 would compare two boots whose allocator
    # state differs (the open+close figure of S1).
    def tramp_cost(idle, base, prog, idle_in_boot, op):
        a, b = added(idle, base, op, True), added(prog, idle_in_boot, op, True)
        return None if a is None or b is None else a + b
    tramp = {op: (tramp_cost('S1f', 'S0', 'S2', 'S1', op),
                  tramp_cost('S1b', 'S0b', 'S2b', 'S1b', op)) for op in HOOK_OPS}
    if all(k is not None and b is not None for k, b in tramp.values()):
        goal('a trampoline program costs no more on the KRSI kernel than on the base, per '
             f'hook call (within {GOAL_TRAMP_SLACK})',
             all(k <= b + GOAL_TRAMP_SLACK for k, b in tramp.values()),
             ', '.join(f'{OP_TITLE[op]} {k:.1f} vs {b:.1f}' for op, (k, b) in tramp.items())
             + ' ((S1f - S0) + (S2 - S1) against (S1b - S0b) + (S2b - S1b))')
    else:
        goal('a trampoline program costs no more on the KRSI kernel than on the base', None,
             'could not run')
    for state in ('idle', 'busy'):
        want = GOAL_LAT[state]
        goal(f'KRSI attach+detach at least {want}x faster than a trampoline, {state} hook',
             ratio[state] >= want if state in ratio else None,
             f'{ratio[state]:.0f}x' if state in ratio else 'could not run')
    if all(one[op][0] is not None for op in HOOK_OPS):
        more = {op: one[op][0] - S3_BEFORE_COUNTERS[op] for op in HOOK_OPS}
        stats = {op: added('S3s', 'S3', op, True) for op in HOOK_OPS}
        goal(f'decision counters at most {GOAL_COUNTERS} instructions per hook call',
             all(v <= GOAL_COUNTERS for v in more.values()),
             ', '.join(f'{OP_TITLE[op]} {one[op][0]:.1f} vs {S3_BEFORE_COUNTERS[op]:.1f} '
                       f'before them ({more[op]:+.1f})' for op in HOOK_OPS)
             + '; runs are counted only with BPF stats on, which cost '
             + ', '.join(f'{OP_TITLE[op]} '
                         + ('n/a' if stats[op] is None else f'{stats[op]:+.1f}')
                         for op in HOOK_OPS)
             + ' more (S3s - S3, with BPF\'s own run time accounting)')
    else:
        goal('decision counters at most 5 instructions per hook call', None, 'could not run')
    failed_boots(p, failed)
    print('\n'.join(out))
    return 0


def main(path):
    mode, header, counts, runs, lat, hooks, failed = parse(path)
    if mode == 'icount':
        return icount_report(header, counts, lat, hooks, failed)
    runs = {sc: {r: per_boot(ms) for r, ms in rs.items()} for sc, rs in runs.items()}
    rounds = sorted({r for s in runs.values() for r in s})
    out = []
    p = out.append
    p('KRSI benchmark: hook and attach costs, as ratios measured in one run')
    p('Ran under QEMU TCG (no KVM): absolute times are emulated, only ratios '
      'within a boot carry over.')
    if header:
        p(header)
    p(f'{len(rounds)} round(s); each round boots S0 | S1f | S1-S5 | S0b | S1b | S2b in '
      'turn; median [min..max] over the rounds.')
    p('')
    p('Cost per operation in getpid() units: ns per call / getpid ns, in interleaved')
    p('slices of the same boot (median of the slices, then of the boot\'s measures)')
    p(f'{"scenario":<50} {"getpid ns":>16} ' + ' '.join(f'{OP_TITLE[op]:>22}' for op in OPS))
    norm = {}
    for sc, title in SCENARIOS:
        data = runs.get(sc, {})
        if not data:
            p(f'{sc + "  " + title:<50} could not run (no result; see FAILED below)')
            continue
        norm[sc] = {r: {op: v.get(op + '_ratio', v[op] / v['getpid']) for op in OPS}
                    for r, v in data.items()}
        row = f'{sc + "  " + title:<50} '
        row += f'{summary([v["getpid"] for v in data.values()], lambda x: f"{x:.0f}"):>16} '
        for op in OPS:
            row += f'{summary([n[op] for n in norm[sc].values()], lambda x: f"{x:.2f}"):>22} '
        p(row.rstrip())
    p('')
    p('Added cost against the same kernel without bpf, per round (S1f-S5: S0; S1b, S2b: S0b)')
    p(f'{"scenario":<50} ' + ' '.join(f'{OP_TITLE[op]:>24}' for op in OPS))
    over = {}
    for sc, title in SCENARIOS:
        base = BASELINE.get(sc)
        if not base:
            continue
        if sc not in norm or base not in norm:
            p(f'{sc + "  " + title:<50} could not run')
            continue
        common = sorted(set(norm[sc]) & set(norm[base]))
        over[sc] = {op: [100.0 * (norm[sc][r][op] / norm[base][r][op] - 1)
                         for r in common] for op in OPS}
        row = f'{sc + "  " + title:<50} '
        for op in OPS:
            row += f'{summary(over[sc][op], lambda x: f"{x:+.1f}%"):>24} '
        p(row.rstrip())
    if hooks:
        p('')
        p('Hooks the operations go through (counted by a KRSI program, 10 calls):')
        for (op, hook), hits in sorted(hooks.items()):
            p(f'  {OP_TITLE.get(op, op):<11} {hook:<22} {summary(hits, lambda x: f"{x:.0f}")} hits')
    p('')
    ratio = latency_table(p, lat, [
        'Attach + detach of one nop program on file_mprotect, microseconds: median [min..max]'])
    p('')
    p('Goals (not tests; where the figures stand)')

    def median_cost(sc):
        """A scenario's median cost per operation over its boots."""
        return {op: statistics.median(n[op] for n in norm[sc].values()) for op in OPS}

    def goal(text, ok, figure):
        p(f'  [{"met" if ok else "NOT met" if ok is not None else "n/a"}] {text}: {figure}')

    for sc in ('S1f', 'S1'):
        if sc in over:
            med = {op: statistics.median(over[sc][op]) for op in OPS}
            goal(f'{sc} (KRSI, idle) within 1% of S0 on every operation',
                 all(abs(v) <= 1.0 for v in med.values()),
                 ', '.join(f'{OP_TITLE[op]} {med[op]:+.1f}%' for op in OPS))
        else:
            goal(f'{sc} within 1% of S0', None, 'could not run')
    if 'S2' in norm and 'S3' in norm:
        m2, m3 = median_cost('S2'), median_cost('S3')
        goal('S3 (KRSI) per-operation cost no higher than S2 (trampolines)',
             all(m3[op] <= m2[op] for op in HOOK_OPS),
             ', '.join(f'{OP_TITLE[op]} {m3[op]:.2f} vs {m2[op]:.2f}' for op in HOOK_OPS))
    else:
        goal('S3 no higher than S2', None, 'could not run')
    if all(s in norm for s in ('S0', 'S3', 'S4')):
        m = {s: median_cost(s) for s in ('S0', 'S3', 'S4')}
        add3 = {op: m['S3'][op] - m['S0'][op] for op in HOOK_OPS}
        add4 = {op: m['S4'][op] - m['S0'][op] for op in HOOK_OPS}
        goal("S4's added cost at most 8 x S3's",
             all(add4[op] <= 8 * add3[op] for op in HOOK_OPS),
             ', '.join(f'{OP_TITLE[op]} {add4[op]:.2f} vs 8 x {add3[op]:.2f}'
                       for op in HOOK_OPS))
    else:
        goal("S4's added cost at most 8 x S3's", None, 'could not run')
    for state, want in (('busy', 100), ('idle', 10)):
        if state in ratio:
            goal(f'KRSI attach+detach >= {want}x faster than trampoline, {state} hook',
                 ratio[state] >= want, f'{ratio[state]:.0f}x')
        else:
            goal(f'KRSI attach+detach >= {want}x faster, {state} hook', None,
                 'could not run')
    failed_boots(p, failed)
    print('\n'.join(out))
    return 0


if __name__ == '__main__':
    if len(sys.argv) != 2:
        print('usage: bench-report.py RAW_FILE', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(sys.argv[1]))

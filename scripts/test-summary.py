#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Summarise a verbose test_progs log.

Prints the log of every failed test or subtest, the reason of every skip,
then a last line "N passed, M failed, K skipped".  Subtests are counted
one by one, each once however often its result line appears; a test
without subtests counts once; a test that failed outside
its subtests counts one more failure.  Exits 1 when anything failed, when
nothing ran, or when a run of test_progs in the log (each starts with a
"=== test_progs" line) has no "Summary:" line (it crashed).
"""
import re
import sys

# A subtest's name may hold spaces (the verifier tests' do).
SUB = re.compile(r'^#(\d+)/(\d+)\s+(.+?):(OK|SKIP|FAIL)\s*$')
TOP = re.compile(r'^#(\d+)\s+(\S+):(OK|SKIP|FAIL)(.*)$')


def reason(chunk):
    lines = [l for l in chunk if l.strip()]
    return ' | '.join(lines[-2:]) if lines else '(the test printed no reason)'


def main(path, no_skips=False):
    try:
        with open(path, errors='replace') as f:
            lines = f.read().splitlines()
    except OSError as e:
        print(f'test-summary: cannot read {path}: {e}', file=sys.stderr)
        print('0 passed, 0 failed, 0 skipped')
        return 1
    passed = failed = skipped = 0
    chunk = []
    subs = {}
    summaries = runs = 0
    seen = set()
    def tally(name, st):
        nonlocal passed, failed, skipped
        if st == 'OK':
            passed += 1
        elif st == 'FAIL':
            failed += 1
            print(f'--- log of failed {name} ---')
            print('\n'.join(chunk))
        else:
            skipped += 1
            print(f'SKIP {name}: {reason(chunk)}')

    for line in lines:
        sub = SUB.match(line)
        top = None if sub else TOP.match(line)
        # A test that forks may repeat its parent's unflushed result lines:
        # each test and subtest counts once.
        if sub or top:
            key = f'{sub.group(1)}/{sub.group(2)}' if sub else top.group(1)
            if key in seen:
                continue
            seen.add(key)
        if sub:
            num, name, st = sub.group(1), sub.group(3), sub.group(4)
            subs.setdefault(num, []).append(st)
            tally(name, st)
            chunk = []
            continue
        if top:
            num, name, st = top.group(1), top.group(2), top.group(3)
            mine = subs.get(num)
            if not mine:
                tally(name, st)
            elif st == 'FAIL' and 'FAIL' not in mine:
                failed += 1
                print(f'--- {name} failed outside its subtests ---')
                print('\n'.join(chunk))
            chunk = []
            continue
        if line.startswith('Summary:'):
            summaries += 1
        if line.startswith('=== test_progs'):
            runs += 1
        chunk.append(line)
    rc = 0
    if summaries < max(runs, 1):
        print(f'test-summary: {max(runs, 1) - summaries} of {max(runs, 1)} runs of test_progs '
              'printed no Summary line: they crashed or were killed')
        print('\n'.join(lines[-20:]))
        rc = 1
    if passed + failed + skipped == 0:
        print('test-summary: no test ran')
        rc = 1
    if failed:
        rc = 1
    if skipped and no_skips:
        print('test-summary: a skipped test counts as a failure here: '
              'everything the tests need should have been provided')
        rc = 1
    print(f'{passed} passed, {failed} failed, {skipped} skipped')
    return rc


if __name__ == '__main__':
    args = sys.argv[1:]
    no_skips = '--no-skips' in args
    args = [a for a in args if a != '--no-skips']
    if len(args) != 1:
        print('usage: test-summary.py [--no-skips] TEST_PROGS_LOG', file=sys.stderr)
        sys.exit(2)
    sys.exit(main(args[0], no_skips))

#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Line coverage of the series' kernel code from a "make coverage" run.

For each C file or header under kernel/ and security/ that the series
adds, every line with code counts; for each file it changes, the lines it
adds.  The counters are the .gcda files the guest copied, read with the
.gcno files of the build by the host's gcov.  A header's lines are those
of the inline code the series' C files compile from it: a line counts as
run when any of them ran it.  Prints one line per file and then every
line not run; fails when a file is below the minimum.

Usage: coverage-report.py TREE KBUILD GCOV_DIR [--min PERCENT]
"""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile


def git(tree, *args):
    return subprocess.run(["git", "-C", tree, *args], check=True,
                          capture_output=True, text=True).stdout


def series_files(tree):
    out = git(tree, "diff", "--name-status", "krsi-base..HEAD", "--",
              "kernel/*.c", "security/*.c", "kernel/*.h", "security/*.h")
    files = []
    for line in out.splitlines():
        status, path = line.split("\t", 1)
        files.append((path, status[0] == "A"))
    return files


def added_lines(tree, path):
    out = git(tree, "diff", "-U0", "krsi-base..HEAD", "--", path)
    lines = set()
    for m in re.finditer(r"^@@ -\S+ \+(\d+)(?:,(\d+))? @@", out, re.M):
        start, count = int(m.group(1)), int(m.group(2) or 1)
        lines.update(range(start, start + count))
    return lines


def gcov_lines(tree, kbuild, gcov_dir, path, source=None):
    """{line: (count or None if not run, text)} for lines with code of
    SOURCE (default: PATH itself) in the object compiled from PATH."""
    source = source or path
    rel_dir, name = os.path.split(path)
    stem = os.path.splitext(name)[0]
    gcda = os.path.join(gcov_dir, rel_dir, stem + ".gcda")
    gcno = os.path.join(kbuild, rel_dir, stem + ".gcno")
    if not os.path.exists(gcno):
        sys.exit(f"coverage-report.py: no {gcno}: {path} was not built with profiling")
    if not os.path.exists(gcda):
        sys.exit(f"coverage-report.py: no counters for {path} ({gcda})")
    with tempfile.TemporaryDirectory() as tmp:
        shutil.copy(gcda, tmp)
        shutil.copy(gcno, tmp)
        out = subprocess.run(["gcov", "-t", "-o", tmp, os.path.join(tree, path)],
                             cwd=tmp, check=True, capture_output=True,
                             text=True).stdout
    result, mine = {}, False
    for line in out.splitlines():
        parts = line.split(":", 2)
        if len(parts) < 3:
            continue
        count, lineno, text = parts[0].strip(), int(parts[1]), parts[2]
        if lineno == 0:
            if text.startswith("Source:"):
                src = text[len("Source:"):]
                mine = os.path.normpath(src).endswith(os.sep + source) or src == source
            continue
        if not mine or count == "-":
            continue
        count = count.rstrip("*")
        result[lineno] = (None if count in ("#####", "=====") else int(count), text)
    if not result and source == path:
        sys.exit(f"coverage-report.py: gcov found no lines of {path}")
    return result


def header_lines(tree, kbuild, gcov_dir, header, c_files):
    """A header's lines with code over every object that compiles them."""
    result = {}
    for path in c_files:
        for n, (c, t) in gcov_lines(tree, kbuild, gcov_dir, path, header).items():
            old = result.get(n, (None, t))[0]
            result[n] = (c if old is None else old + (c or 0), t)
    return result


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("tree")
    ap.add_argument("kbuild")
    ap.add_argument("gcov_dir")
    ap.add_argument("--min", type=float, default=90.0)
    args = ap.parse_args()

    rows, missed, low = [], [], []
    total_run = total_lines = 0
    files = series_files(args.tree)
    c_files = [p for p, _ in files if p.endswith(".c")]
    for path, new in files:
        if path.endswith(".h"):
            lines = header_lines(args.tree, args.kbuild, args.gcov_dir, path, c_files)
        else:
            lines = gcov_lines(args.tree, args.kbuild, args.gcov_dir, path)
        if not new:
            wanted = added_lines(args.tree, path)
            lines = {n: v for n, v in lines.items() if n in wanted}
        if not lines:
            continue
        run = sum(1 for c, _ in lines.values() if c is not None)
        pct = 100.0 * run / len(lines)
        total_run += run
        total_lines += len(lines)
        rows.append((path, "new file" if new else "added lines", run, len(lines), pct))
        if pct < args.min:
            low.append(path)
        missed += [(path, n, t) for n, (c, t) in sorted(lines.items()) if c is None]

    print("Line coverage of the series' kernel code (the selftests and krsi_stress):")
    for path, kind, run, n, pct in rows:
        flag = f"  below {args.min:.0f}%" if path in low else ""
        print(f"  {path:32} {kind:12} {run:4}/{n:<4} {pct:5.1f}%{flag}")
    print(f"  {'all':32} {'':12} {total_run:4}/{total_lines:<4} "
          f"{100.0 * total_run / max(total_lines, 1):5.1f}%")
    if missed:
        print("Lines not run:")
        for path, n, text in missed:
            print(f"  {path}:{n}: {text.strip()}")
    if low:
        print(f"coverage-report.py: below {args.min:.0f}%: {', '.join(low)}",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())

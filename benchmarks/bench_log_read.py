# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: reading a large runner log with the watcher's Cypress log parser.

Builds runner logs of ``--size-mb`` (default 1024) and ``--small-mb`` (default 100) MiB in a
temporary directory from the real Cypress output corpus (``tests/fixtures/cypress/stdout``):
``--subruns`` (default 50) categorized sub-runs, each a wrapper marker line
(``===== ATVM category: cat-NN =====``) followed by one corpus run whose spec bodies are padded
with test output taken from the corpus (mocha lines, stack traces, app and browser noise) up to
the size. Then, in the same run, for each file:

- ``grep -c '(Run Finished)' FILE``: best of ``--repeat`` wall times;
- the parser (``cypress_log.parse_log_file``) in a child process: best of ``--repeat`` parse
  times (measured inside the child, interpreter start-up excluded, and the whole child too);
- the peak RSS of that child (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a wrapper
  process that ran only that child), next to the RSS of a child that only imports the parser;
- one ``bytes.find`` pass of a word absent from the file over the same chunks: the cost of a
  single scan in Python, to put the ratio in perspective;
- a correctness check: every sub-run read from the big file equals the reading of its corpus
  log alone (label, counts, rows, flags).

It measures and prints; it asserts nothing. The files are removed at the end (``--keep`` keeps
them). Example: ``python3 benchmarks/bench_log_read.py --size-mb 200 --small-mb 20``.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Any, Dict, List, Optional

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "plugins", "module_utils")
CORPUS = os.path.join(ROOT, "tests", "fixtures", "cypress", "stdout")
MARKER = "===== ATVM category: cat-{0:02d} =====\n"
# Corpus logs holding exactly one Cypress run (finished or not): the templates of the sub-runs.
TEMPLATES = [
    "cy9-jenkins-two-specs-pass.log",
    "cy15-three-specs-two-failing-one-pending.log",
    "cy13-gitlab-recorded-cloud-pass.log",
    "cy9-jenkins-two-specs-one-failing.log",
    "cy15-ansi-gha-beforeeach-fail-43-skipped.log",
    "cy11-recorded-hook-failures.log",
    "cy13-windows-headed-mochawesome-one-failing.log",
    "snapshot-cy13-electron-tab-crash-continues-run-finished.log",
    "snapshot-cy13-parallel-group-run-canceled.log",
    "cy10-nx-cucumber-zero-tests-all-passed.log",
    "cy14-windows-after-run-error-no-run-finished.log",
    "cy14-electron-renderer-crash.log",
]
# Lines that must not go into the padding: they would change what the sub-runs say.
_NOT_FILLER = re.compile(
    rb"Run Starting|Run Finished|Running:|Results|Recorded Run|ATVM category|crash|cancel|connect|onfigFile"
    rb"|plugins file|spec files|executing the handler|exported by the"
)


def _core():
    sys.path.insert(0, CORE)
    from atvm_watcher import cypress_log  # pylint: disable=import-outside-toplevel

    return cypress_log


# ------------------------------------------------------------------------------ building logs
def _filler() -> bytes:
    """Test output from the corpus: every line between a "Running:" line and the spec's end."""
    lines: List[bytes] = []
    for name in sorted(os.listdir(CORPUS)):
        inside = False
        with open(os.path.join(CORPUS, name), "rb") as handle:
            for line in handle.read().split(b"\n"):
                if b"Running:" in line:
                    inside = True
                    continue
                if b"Results" in line or b"Run Finished" in line or b"Run Starting" in line:
                    inside = False
                if inside and not _NOT_FILLER.search(line):
                    lines.append(line + b"\n")
    return b"".join(lines)


def build_log(path: str, size: int, subruns: int) -> List[str]:
    """Write the benchmark log; returns the template name of every sub-run."""
    filler = _filler()
    per_run = size // subruns
    used = []
    with open(path, "wb") as out:
        for index in range(subruns):
            name = TEMPLATES[index % len(TEMPLATES)]
            used.append(name)
            with open(os.path.join(CORPUS, name), "rb") as handle:
                template = handle.read()
            specs = max(1, template.count(b"Running:"))
            pad = max(0, per_run - len(template)) // specs
            out.write(MARKER.format(index).encode())
            for line in template.split(b"\n")[:-1] if template.endswith(b"\n") else template.split(b"\n"):
                out.write(line + b"\n")
                if b"Running:" in line:
                    left = pad
                    while left >= len(filler):
                        out.write(filler)
                        left -= len(filler)
                    cut = filler.rfind(b"\n", 0, left) + 1
                    out.write(filler[:cut])
    return used


# ------------------------------------------------------------------------------ children
def child_parse(path: str) -> None:
    cypress_log = _core()
    start = time.perf_counter()
    parser = cypress_log.parse_log_file(path)
    seconds = time.perf_counter() - start
    runs = []
    for run in parser.runs:
        d = run.to_dict()
        for key in ("start_offset", "end_offset", "index"):
            d.pop(key)
        runs.append(d)
    json.dump({"seconds": seconds, "runs": runs, "preamble": parser.preamble_problems}, sys.stdout)


def child_import() -> None:
    _core()
    json.dump({"seconds": 0.0}, sys.stdout)


def child_find(path: str) -> None:
    start = time.perf_counter()
    hits = 0
    with open(path, "rb", buffering=0) as handle:
        while True:
            data = handle.read(8 << 20)
            if not data:
                break
            hits += data.find(b"no such word in this log") >= 0
    json.dump({"seconds": time.perf_counter() - start, "hits": hits}, sys.stdout)


def child_rss(args: List[str]) -> None:
    """Run one measuring child and report its wall time and peak RSS (KiB)."""
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, stdout=subprocess.PIPE, check=True)
    wall = time.perf_counter() - start
    result = json.loads(proc.stdout)
    result["wall"] = wall
    result["maxrss_kib"] = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    json.dump(result, sys.stdout)


def _measure(args: List[str]) -> Dict[str, Any]:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__), "--_rss"] + args,
                          stdout=subprocess.PIPE, check=True)
    return json.loads(proc.stdout)


# ------------------------------------------------------------------------------ benchmark
def _grep(path: str, repeat: int) -> float:
    best = float("inf")
    for _i in range(repeat):
        start = time.perf_counter()
        # a pipe, not /dev/null: GNU grep stops at the first match when its output is /dev/null
        subprocess.run(["grep", "-c", "(Run Finished)", path], stdout=subprocess.PIPE, check=False)
        best = min(best, time.perf_counter() - start)
    return best


def _expected(templates: List[str]) -> List[Optional[Dict[str, Any]]]:
    cypress_log = _core()
    out = []
    for name in templates:
        parser = cypress_log.parse_log_file(os.path.join(CORPUS, name))
        d = parser.runs[0].to_dict()
        for key in ("start_offset", "end_offset", "index", "label", "label_source"):
            d.pop(key)
        out.append(d)
    return out


def bench_file(path: str, size_mb: int, subruns: int, repeat: int) -> Dict[str, Any]:
    templates = build_log(path, size_mb << 20, subruns)
    size = os.path.getsize(path)
    grep = _grep(path, repeat)
    parses = [_measure(["--_parse", path]) for _i in range(repeat)]
    finds = [_measure(["--_find", path]) for _i in range(repeat)]
    base = _measure(["--_import"])
    best = min(parses, key=lambda r: r["seconds"])
    errors = []
    runs = best["runs"]
    if len(runs) != subruns:
        errors.append("{0} runs read, {1} expected".format(len(runs), subruns))
    for index, (got, want) in enumerate(zip(runs, _expected(templates))):
        label = got.pop("label")
        got.pop("label_source")
        if label != "cat-{0:02d}".format(index):
            errors.append("sub-run {0}: label {1!r}".format(index, label))
        if got != want:
            errors.append("sub-run {0} ({1}) differs from its corpus log".format(index, templates[index]))
    return {
        "size": size, "grep": grep, "parse": best["seconds"], "parse_wall": min(p["wall"] for p in parses),
        "find": min(f["seconds"] for f in finds), "rss": max(p["maxrss_kib"] for p in parses) / 1024.0,
        "rss_base": base["maxrss_kib"] / 1024.0, "runs": len(runs),
        "finished": sum(1 for r in runs if r["finished"]), "errors": errors,
    }


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="size of the big log in MiB (default 1024)")
    ap.add_argument("--small-mb", type=int, default=100, help="size of the small log in MiB (default 100, 0: skip)")
    ap.add_argument("--subruns", type=int, default=50, help="categorized sub-runs per log (default 50)")
    ap.add_argument("--repeat", type=int, default=3, help="best of N (default 3)")
    ap.add_argument("--tmpdir", default=None, help="where to build the logs (default: the system temp dir)")
    ap.add_argument("--keep", action="store_true", help="keep the generated logs")
    ap.add_argument("--_parse", help=argparse.SUPPRESS)
    ap.add_argument("--_find", help=argparse.SUPPRESS)
    ap.add_argument("--_import", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_rss", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._rss is not None:
        child_rss(args._rss)
        return 0
    if args._parse:
        child_parse(args._parse)
        return 0
    if args._find:
        child_find(args._find)
        return 0
    if args._import:
        child_import()
        return 0

    workdir = tempfile.mkdtemp(prefix="atvm-bench-", dir=args.tmpdir)
    results = []
    try:
        for size_mb in [s for s in (args.size_mb, args.small_mb) if s]:
            path = os.path.join(workdir, "runner-{0}m.log".format(size_mb))
            print("building and measuring a {0} MiB log ({1} sub-runs) ...".format(size_mb, args.subruns), flush=True)
            res = bench_file(path, size_mb, args.subruns, args.repeat)
            res["size_mb"] = size_mb
            results.append(res)
            if not args.keep:
                os.unlink(path)
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print("logs kept in", workdir)

    print()
    print("python {0}, {1} CPU(s)".format(sys.version.split()[0], os.cpu_count()))
    head = "{0:>9} {1:>9} {2:>10} {3:>10} {4:>9} {5:>11} {6:>10} {7:>12} {8:>9} {9:>8}"
    print(head.format("log MiB", "grep s", "parse s", "ratio", "MB/s", "child s", "1 find s",
                      "peak RSS MB", "base MB", "runs"))
    for r in results:
        print("{0:>9} {1:>9.3f} {2:>10.3f} {3:>9.2f}x {4:>9.0f} {5:>11.3f} {6:>10.3f} {7:>12.1f} {8:>9.1f} {9:>8}".format(
            r["size_mb"], r["grep"], r["parse"], r["parse"] / r["grep"], r["size"] / r["parse"] / 1e6,
            r["parse_wall"], r["find"], r["rss"], r["rss_base"], "{0}/{1}".format(r["finished"], r["runs"])))
    print()
    print("ratio = parse time / grep -c time (best of {0} each); child s = whole parser process;".format(args.repeat))
    print("1 find s = one bytes.find pass over the same chunks (the cost of a single scan in Python);")
    print("runs = finished/read sub-runs; base MB = peak RSS of a child that only imports the parser.")
    if len(results) == 2:
        print("peak RSS difference between the {0} MiB and the {1} MiB log: {2:+.1f} MB".format(
            results[0]["size_mb"], results[1]["size_mb"], results[0]["rss"] - results[1]["rss"]))
    for r in results:
        for err in r["errors"]:
            print("CHECK FAILED ({0} MiB): {1}".format(r["size_mb"], err))
        if not r["errors"]:
            print("check ({0} MiB): every sub-run reads the same as its corpus log".format(r["size_mb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

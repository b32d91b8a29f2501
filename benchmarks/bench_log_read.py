# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: ``atvm-run-watcher verdict`` on a large runner log, against ``grep -F -f``.

Builds runner logs of ``--size-mb`` (default 1024) and ``--small-mb`` (default 100) MiB in a
temporary directory from the real Cypress output corpus (``tests/fixtures/cypress/stdout``):
``--subruns`` (default 50) categorized sub-runs, each a wrapper marker line
(``===== ATVM category: cat-NN =====``) followed by one corpus run whose spec bodies are padded
with test output taken from the corpus (mocha lines, stack traces, app and browser noise) up to
the size. Then, in the same run, for each file:

- ``grep -c -F -f <(atvm-run-watcher signatures --literals) FILE`` (run by bash, the literals
  command included): best of ``--repeat`` wall times;
- ``atvm-run-watcher verdict --log FILE --json``: best of ``--repeat`` wall times of the whole
  process, and its peak RSS (``resource.getrusage(RUSAGE_CHILDREN).ru_maxrss`` read by a wrapper
  process that ran only that command), next to the RSS of a child that only imports the parser;
- where the parser's time goes: reading the chunks, translating them for the scan, the one scan
  regex (:class:`~atvm_watcher.evidence.signatures.Scanner`), and the whole ``parse_log_file``;
- a correctness check: every sub-run read from the big file equals the reading of its corpus
  log alone (label, counts, rows, flags), and the verdict finds as many signature lines as grep.

It measures and prints; it asserts nothing. The files are removed at the end (``--keep`` keeps
them). Example: ``python3 benchmarks/bench_log_read.py --size-mb 200 --small-mb 20 --tmpdir /tmp``.
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
CLI = os.path.join(ROOT, "bin", "atvm-run-watcher")
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
    rb"|plugins file|spec files|executing the handler|exported by the|[Cc]ommand failed|\d+ failing"
)


def _core():
    sys.path.insert(0, CORE)
    from atvm_watcher.evidence import cypress_log  # pylint: disable=import-outside-toplevel

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


def child_profile(path: str) -> None:
    """Where the time goes: read only; read + translate; read + translate + scan; the parser."""
    sys.path.insert(0, CORE)
    from atvm_watcher.evidence import cypress_log  # pylint: disable=import-outside-toplevel
    from atvm_watcher.evidence import logfile as logreader

    parser = cypress_log.CypressLogParser()
    scan = parser._scanner  # pylint: disable=protected-access
    out: Dict[str, float] = {}
    for what in ("read", "translate", "scan"):
        start = time.perf_counter()
        with logreader.LogReader(path) as reader:
            for chunk in reader.chunks():
                if what == "read":
                    continue
                data = scan.translate(chunk)
                if what == "scan":
                    pos = 0
                    search = scan.regex.search
                    while True:
                        match = search(data, pos)
                        if match is None:
                            break
                        pos = data.find(b"\n", match.end()) + 1 or len(data)
        out[what] = time.perf_counter() - start
    start = time.perf_counter()
    cypress_log.parse_log_file(path)
    out["parse"] = time.perf_counter() - start
    json.dump(out, sys.stdout)


def child_verdict(path: str) -> None:
    """``atvm-run-watcher verdict`` as an operator runs it (its own process)."""
    env = dict(os.environ, PYTHONPATH=_collections_path())
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, CLI, "verdict", "--log", path, "--json"], stdout=subprocess.PIPE,
                          env=env, check=True)
    seconds = time.perf_counter() - start
    doc = json.loads(proc.stdout)
    problems = sum(len(s.get("reasons", [])) for s in doc.get("subruns", []))
    json.dump({"seconds": seconds, "state": doc["state"], "reasons": problems}, sys.stdout)


def _collections_path() -> str:
    """A directory holding ansible_collections/atvm/watcher -> this checkout (made once)."""
    base = os.path.join(tempfile.gettempdir(), "atvm-bench-collections-{0}".format(os.getuid()))
    link = os.path.join(base, "ansible_collections", "atvm", "watcher")
    if not os.path.islink(link):
        os.makedirs(os.path.dirname(link), exist_ok=True)
        os.symlink(ROOT, link)
    return base


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
def _grep(path: str, repeat: int) -> Dict[str, Any]:
    """``grep -c -F -f <(atvm-run-watcher signatures --literals) FILE``: best wall time, count."""
    best = float("inf")
    count = ""
    env = dict(os.environ, PYTHONPATH=_collections_path())
    command = 'grep -c -F -f <("$0" "$1" signatures --literals) "$2"'
    for _i in range(repeat):
        start = time.perf_counter()
        # a pipe, not /dev/null: GNU grep stops at the first match when its output is /dev/null
        proc = subprocess.run(["bash", "-c", command, sys.executable, CLI, path], stdout=subprocess.PIPE,
                              env=env, check=False)
        best = min(best, time.perf_counter() - start)
        count = proc.stdout.decode().strip()
    return {"seconds": best, "count": count}


def _expected(templates: List[str]) -> List[Optional[Dict[str, Any]]]:
    cypress_log = _core()
    out = []
    for name in templates:
        parser = cypress_log.parse_log_file(os.path.join(CORPUS, name))
        d = parser.runs[0].to_dict()
        for key in ("start_offset", "end_offset", "index", "label", "label_source", "opened_by"):
            d.pop(key)
        out.append(d)
    return out


def bench_file(path: str, size_mb: int, subruns: int, repeat: int) -> Dict[str, Any]:
    templates = build_log(path, size_mb << 20, subruns)
    size = os.path.getsize(path)
    grep = _grep(path, repeat)
    verdicts = [_measure(["--_verdict", path]) for _i in range(repeat)]
    profile = json.loads(subprocess.run([sys.executable, os.path.abspath(__file__), "--_profile", path],
                                        stdout=subprocess.PIPE, check=True).stdout)
    parses = [_measure(["--_parse", path])]
    base = _measure(["--_import"])
    best = min(parses, key=lambda r: r["seconds"])
    errors = []
    runs = best["runs"]
    if len(runs) != subruns:
        errors.append("{0} runs read, {1} expected".format(len(runs), subruns))
    for index, (got, want) in enumerate(zip(runs, _expected(templates))):
        label = got.pop("label")
        got.pop("label_source")
        got.pop("opened_by")  # the marker line, not the (Run Starting) line of the corpus log alone
        if label != "cat-{0:02d}".format(index):
            errors.append("sub-run {0}: label {1!r}".format(index, label))
        if got != want:
            errors.append("sub-run {0} ({1}) differs from its corpus log".format(index, templates[index]))
    return {
        "size": size, "grep": grep["seconds"], "grep_count": grep["count"], "parse": best["seconds"],
        "verdict": min(v["seconds"] for v in verdicts), "verdict_state": verdicts[0]["state"],
        "profile": profile, "rss": max(v["maxrss_kib"] for v in verdicts) / 1024.0,
        "rss_parse": best["maxrss_kib"] / 1024.0, "rss_base": base["maxrss_kib"] / 1024.0, "runs": len(runs),
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
    ap.add_argument("--_profile", help=argparse.SUPPRESS)
    ap.add_argument("--_verdict", help=argparse.SUPPRESS)
    ap.add_argument("--_import", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--_rss", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._rss is not None:
        child_rss(args._rss)
        return 0
    if args._parse:
        child_parse(args._parse)
        return 0
    if args._profile:
        child_profile(args._profile)
        return 0
    if args._verdict:
        child_verdict(args._verdict)
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
    print("python {0}, {1} CPU(s), load average {2:.1f}".format(
        sys.version.split()[0], os.cpu_count(), os.getloadavg()[0]))
    head = "{0:>8} {1:>8} {2:>10} {3:>7} {4:>8} {5:>9} {6:>12} {7:>11} {8:>8} {9:>8}"
    print(head.format("log MiB", "grep s", "verdict s", "ratio", "MB/s", "parse s", "verdict RSS", "parse RSS",
                      "base MB", "runs"))
    for r in results:
        print("{0:>8} {1:>8.2f} {2:>10.2f} {3:>6.2f}x {4:>8.0f} {5:>9.2f} {6:>9.1f} MB {7:>8.1f} MB {8:>8.1f} {9:>8}".format(
            r["size_mb"], r["grep"], r["verdict"], r["verdict"] / r["grep"], r["size"] / r["verdict"] / 1e6,
            r["parse"], r["rss"], r["rss_parse"], r["rss_base"], "{0}/{1}".format(r["finished"], r["runs"])))
    print()
    print("ratio = verdict wall time / grep -c -F -f <(signatures --literals) wall time (best of {0} each,"
          " both whole processes);".format(args.repeat))
    print("parse s = parse_log_file alone, inside a process; base MB = peak RSS of a process that only imports"
          " the parser.")
    for r in results:
        p = r["profile"]
        print("{0} MiB, where the parse time goes: reading {1:.2f} s, + translating {2:.2f} s, + the scan regex"
              " {3:.2f} s; the whole parse {4:.2f} s (lines read and decided: the rest)".format(
                  r["size_mb"], p["read"], p["translate"] - p["read"], p["scan"] - p["translate"], p["parse"]))
    if len(results) == 2:
        print("peak RSS difference between the {0} MiB and the {1} MiB log: {2:+.1f} MB".format(
            results[0]["size_mb"], results[1]["size_mb"], results[0]["rss"] - results[1]["rss"]))
    for r in results:
        print("{0} MiB: grep counts {1} signature lines; the verdict says {2}".format(
            r["size_mb"], r["grep_count"], r["verdict_state"]))
        for err in r["errors"]:
            print("CHECK FAILED ({0} MiB): {1}".format(r["size_mb"], err))
        if not r["errors"]:
            print("check ({0} MiB): every sub-run reads the same as its corpus log".format(r["size_mb"]))
    return 0


if __name__ == "__main__":
    sys.exit(main())

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark: what reading a log costs whatever it holds, against ordinary Cypress output.

In the same run, it writes inputs of the same size (``--size-mb``, default 20 MiB) to a temporary
directory and reads each one through the parser as the watcher feeds it (``LogReader.poll()``
chunks into ``CypressLogParser.feed``, then ``finish``), each in a child process of its own, and
prints the time, the ratio to ordinary output, the peak RSS of that child (``ru_maxrss``) and what
the parser kept (runs, stray markers):

- ``ordinary``: the real Cypress logs of the test fixtures (``tests/fixtures/cypress/stdout*``, the
  UTF-8 ones) replayed one after the other, as a runner log holds them;
- one input per structure, each line of it a structure the parser reads: ``(Run Starting)`` lines,
  wrapper marker lines (``===== ATVM category: gN =====``, the default marker), ``(Results)``
  lines, ``(Run Finished)`` lines, table rows after one ``(Run Finished)``, summary rows, ``(Results)``
  box rows, lines holding a failure signature (every wording in turn), passing tests' titles holding
  one, ``Running:`` lines, headings of 5000 runners named by a ``docker compose`` prefix, lines of
  binary garbage with NUL bytes, and very long lines (1 MiB each, structure words and signature
  phrases in them).

Targets (docs/decision-rules.md, "What the watcher reads"): every input within 5x the time of ordinary
output, peak RSS under 64 MB. It measures and prints; ``--check`` makes the exit status say whether
both targets held (the smoke run of the test suite uses tiny sizes and no ``--check``: the figures of
a busy machine are not judged there).

    python3 benchmarks/bench_dense_input.py                     # 20 MiB each
    python3 benchmarks/bench_dense_input.py --size-mb 5 --only banner --only marker
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from typing import Callable, Dict, Iterator, List

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "plugins", "module_utils")
FIXTURES = os.path.join(ROOT, "tests", "fixtures", "cypress")
TARGET_RATIO = 5.0
TARGET_RSS_MB = 64.0
BOX = "\u2502"


def _core():
    sys.path.insert(0, CORE)
    from atvm_watcher.evidence import cypress_log, logfile, signatures  # pylint: disable=import-outside-toplevel

    return cypress_log, logfile, signatures


def _corpus() -> List[bytes]:
    logs = []
    for folder in sorted(os.listdir(FIXTURES)):
        if not folder.startswith("stdout"):
            continue
        for name in sorted(os.listdir(os.path.join(FIXTURES, folder))):
            if name.endswith(".log"):
                with open(os.path.join(FIXTURES, folder, name), "rb") as handle:
                    data = handle.read()
                if not data.startswith((b"\xff\xfe", b"\xfe\xff")):  # UTF-16 logs are read elsewhere
                    logs.append(data if data.endswith(b"\n") else data + b"\n")
    return logs


def _lines(make: Callable[[int], bytes]) -> Callable[[], Iterator[bytes]]:
    def gen() -> Iterator[bytes]:
        n = 0
        while True:
            yield make(n)
            n += 1
    return gen


def _ordinary() -> Iterator[bytes]:
    logs = _corpus()
    while True:
        yield from logs


def _wordings(first: bytes, form: str) -> Callable[[], Iterator[bytes]]:
    """Lines holding every failure wording in turn (``form`` with the wording and a number)."""
    def gen() -> Iterator[bytes]:
        _cl, _lf, signatures = _core()
        wordings = signatures.literals()
        yield first
        n = 0
        while True:
            for wording in wordings:
                yield form.format(wording, n).encode()
                n += 1
    return gen


def _rows() -> Iterator[bytes]:
    yield b"  (Run Finished)\n\n"
    n = 0
    while True:
        yield "  {0} \u2714  cypress/e2e/spec-{1:07d}.cy.ts          00:01        1        1        -        -        - {0}\n".format(
            BOX, n).encode()
        n += 1


def _long_lines() -> Iterator[bytes]:
    filler = b"lorem ipsum dolor sit amet " * 100
    words = [b" (Run Starting) ", b" Running: x.cy.ts (1 of 2) ", b" Segmentation fault ", b" (Results) ",
             b" All specs passed! ", b" ===== ATVM category: g1 ===== "]
    piece = b"".join(filler + w for w in words)
    line = (piece * ((1 << 20) // len(piece) + 1))[:1 << 20] + b"\n"
    while True:
        yield line


INPUTS: Dict[str, Callable[[], Iterator[bytes]]] = {
    "ordinary": _ordinary,
    "banner": _lines(lambda n: b"  (Run Starting)\n"),
    "marker": _lines(lambda n: "===== ATVM category: g{0} =====\n".format(n).encode()),
    "results": _lines(lambda n: b"  (Results)\n"),
    "run-finished": _lines(lambda n: b"  (Run Finished)\n"),
    "table-rows": _rows,
    "summary": _lines(lambda n: "    \u2714  All specs passed!                        00:0{0}        1        1        -        -"
                                "        -\n".format(n % 10).encode()),
    "box-rows": _lines(lambda n: "  {0} Failing:      {1}                                         {0}\n".format(
        BOX, n % 3).encode()),
    "running": _lines(lambda n: "  Running:  cypress/e2e/spec-{0}.cy.ts                         ({1} of 9)\n".format(
        n, n % 9 + 1).encode()),
    "signatures": _wordings(b"", "{0} ({1})\n"),
    # a spec's output of passing tests whose titles hold failure wordings (each read, none a failure)
    "titles": _wordings(b"  Running:  cypress/e2e/a.cy.ts                                              (1 of 1)\n",
                        "    \u2713 handles {0} number {1} (12ms)\n"),
    "runner-names": _lines(lambda n: "runner-{0}  |   (Run Starting)\n".format(n % 5000).encode()),
    "nul-bytes": _lines(lambda n: b"\x00garbage \x00 line \x01\x00" + str(n).encode() + b"\n"),
    "long-lines": _long_lines,
}


def write_input(path: str, name: str, size: int) -> None:
    written = 0
    with open(path, "wb") as out:
        for piece in INPUTS[name]():
            if written + len(piece) > size:
                out.write(piece[:size - written])
                break
            out.write(piece)
            written += len(piece)


# ------------------------------------------------------------------------------ children
def child_read(path: str) -> None:
    """Read ``path`` as the watcher does (LogReader.poll chunks into the parser); print the figures."""
    cypress_log, logfile, _sig = _core()
    start = time.perf_counter()
    parser = cypress_log.CypressLogParser()
    with logfile.LogReader(path) as reader:
        while True:
            data = reader.poll()
            if not data:
                break
            parser.feed(data)
    parser.finish()
    seconds = time.perf_counter() - start
    json.dump({"seconds": seconds, "runs": len(parser.runs), "overflow": sum(r.overflow for r in parser.runs),
               "stray": parser.stray_markers.count, "problems": sum(len(r.problems) for r in parser.runs),
               "rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, sys.stdout)


def child_import() -> None:
    _core()
    json.dump({"rss_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss}, sys.stdout)


def _child(args: List[str]) -> Dict[str, float]:
    proc = subprocess.run([sys.executable, os.path.abspath(__file__)] + args, stdout=subprocess.PIPE, check=True)
    return json.loads(proc.stdout)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n", maxsplit=1)[0])
    ap.add_argument("--size-mb", type=float, default=20.0, help="size of each input in MiB (default 20)")
    ap.add_argument("--repeat", type=int, default=1, help="best of N reads per input (default 1)")
    ap.add_argument("--only", action="append", help="only these inputs (repeatable; ordinary is always read)")
    ap.add_argument("--tmpdir", default=None, help="where to write the inputs (default: the system temp dir)")
    ap.add_argument("--check", action="store_true", help="exit status 1 when a target was missed")
    ap.add_argument("--_read", help=argparse.SUPPRESS)
    ap.add_argument("--_import", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args._read:
        child_read(args._read)
        return 0
    if args._import:
        child_import()
        return 0

    size = int(args.size_mb * (1 << 20))
    names = ["ordinary"] + [n for n in INPUTS if n != "ordinary" and (not args.only or n in args.only)]
    workdir = tempfile.mkdtemp(prefix="atvm-bench-dense-", dir=args.tmpdir)
    results = {}
    try:
        for name in names:
            path = os.path.join(workdir, name + ".log")
            write_input(path, name, size)
            runs = [_child(["--_read", path]) for _i in range(max(1, args.repeat))]
            best = min(runs, key=lambda r: r["seconds"])
            best["rss_mb"] = max(r["rss_kib"] for r in runs) / 1024.0
            results[name] = best
            os.unlink(path)
            print("  {0:<14} {1:7.2f} s".format(name, best["seconds"]), flush=True)
        base = _child(["--_import"])["rss_kib"] / 1024.0
    finally:
        shutil.rmtree(workdir, ignore_errors=True)

    ordinary = results["ordinary"]["seconds"]
    print()
    print("python {0}, {1} CPU(s), load average {2:.1f}; inputs of {3:.1f} MiB, read by LogReader.poll chunks".format(
        sys.version.split()[0], os.cpu_count(), os.getloadavg()[0], size / (1 << 20)))
    head = "{0:<14} {1:>9} {2:>7} {3:>9} {4:>10} {5:>8} {6:>9} {7:>9}"
    print(head.format("input", "seconds", "ratio", "MB/s", "peak RSS", "runs", "overflow", "stray"))
    missed = []
    for name in names:
        r = results[name]
        ratio = r["seconds"] / ordinary if ordinary else 0.0
        print("{0:<14} {1:>9.2f} {2:>6.2f}x {3:>9.1f} {4:>7.1f} MB {5:>8} {6:>9} {7:>9}".format(
            name, r["seconds"], ratio, size / 1e6 / r["seconds"] if r["seconds"] else 0.0, r["rss_mb"], r["runs"],
            r["overflow"], r["stray"]))
        if ratio > TARGET_RATIO:
            missed.append("{0}: {1:.2f}x ordinary (target {2}x)".format(name, ratio, TARGET_RATIO))
        if r["rss_mb"] > TARGET_RSS_MB:
            missed.append("{0}: peak RSS {1:.1f} MB (target {2} MB)".format(name, r["rss_mb"], TARGET_RSS_MB))
    print()
    print("ratio = seconds / seconds of ordinary output; peak RSS of the child that read it "
          "(a child that only imports the parser: {0:.1f} MB)".format(base))
    for line in missed:
        print("TARGET MISSED: " + line)
    if not missed:
        print("targets held: every input within {0}x of ordinary output, peak RSS under {1} MB".format(
            TARGET_RATIO, TARGET_RSS_MB))
    return 1 if (args.check and missed) else 0


if __name__ == "__main__":
    sys.exit(main())

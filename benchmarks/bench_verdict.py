# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of ``atvm-run-watcher verdict`` against a reporter directory of many files.

Not a test: it builds, in a temporary directory, a runner log (the Cypress run simulator, 4 hosts)
and N cmcReporter artifacts (one per host, all PASS), then times the ``verdict --json`` command
(a fresh process each time, as an operator runs it) and prints seconds and peak RSS per size.

    python benchmarks/bench_verdict.py                      # 2000, 8000 and 100000 files
    python benchmarks/bench_verdict.py --files 2000 --files 8000
"""
from __future__ import annotations

import argparse
import json
import pathlib
import resource
import subprocess
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
SIM = ROOT / "tests" / "support" / "cypress_sim.py"
WATCHER = ROOT / "bin" / "atvm-run-watcher"


def build(directory: pathlib.Path, files: int) -> None:
    hosts = ["h{0:06d}".format(i) for i in range(files)]
    reporter = directory / "reporter"
    reporter.mkdir(parents=True)
    subprocess.run([sys.executable, str(SIM), "--hosts", ",".join(hosts[:4]), "--speed", "100000", "--log",
                    str(directory / "runner.log"), "--write-inventory", str(directory / "inventory.md")],
                   check=True, capture_output=True)
    for host in hosts:
        (reporter / (host + ".json")).write_text(json.dumps({
            "host": host, "spec": "cypress/e2e/{0}.cy.ts".format(host), "status": "PASS",
            "startedAt": "2026-11-27T10:00:00Z", "endedAt": "2026-11-27T10:01:00Z",
            "stats": {"tests": 3, "passes": 3, "failures": 0, "pending": 0, "skipped": 0}, "events": []}))


def measure(directory: pathlib.Path, timeout: float) -> tuple:
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(WATCHER), "verdict", "--log", str(directory / "runner.log"),
                           "--reporter-dir", str(directory / "reporter"), "--inventory",
                           str(directory / "inventory.md"), "--exit-code", "0", "--json"],
                          capture_output=True, timeout=timeout, check=True)
    elapsed = time.monotonic() - started
    doc = json.loads(proc.stdout)
    hosts = sum(len(s["hosts"]) for s in doc["subruns"])
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return elapsed, max(rss, before) / 1024.0, hosts


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, action="append", help="reporter files (repeatable)")
    parser.add_argument("--timeout", type=float, default=600.0)
    args = parser.parse_args()
    sizes = args.files or [2000, 8000, 100000]
    with tempfile.TemporaryDirectory(prefix="bench-verdict-") as tmp:
        for files in sizes:
            directory = pathlib.Path(tmp) / str(files)
            build(directory, files)
            elapsed, rss, hosts = measure(directory, args.timeout)
            print("{0:>7} files: {1:6.2f} s  ({2:5.1f} us/file)  peak RSS {3:.0f} MB  hosts judged {4}".format(
                files, elapsed, elapsed / files * 1e6, rss, hosts), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())

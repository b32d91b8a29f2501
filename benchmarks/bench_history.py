# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of what the history adds to a post (docs/history.md): a suite of N tests with R kept runs.

Not a test: it builds, in a temporary directory, a suite's history of ``--runs`` runs of ``--tests``
tests (seeded random states: about 2 % failing, 1 % flaky, a few changing from run to run) and the
JUnit report of one more run (mocha-junit-reporter's layout, one spec per 100 tests), then times,
best of ``--repeat``, in this process:

- ``tests``: that run's per-test results from its JUnit report (read and merged);
- ``record``: its suite's history read, compared with the previous runs and written back (atomic,
  fsynced, under its lock);
- ``post``: the post built with what changed, less the same post without it;

and prints each and their sum, the history file's size, and checks the answer against a plain
set-by-set reading of the rules (``check: ...``).

    python3 benchmarks/bench_history.py                    # 5000 tests, 100 kept runs, best of 7
    python3 benchmarks/bench_history.py --tests 20000 --runs 100
"""
from __future__ import annotations

import argparse
import os
import random
import sys
import tempfile
import time
from typing import Dict, List, Tuple

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CORE = os.path.join(ROOT, "plugins", "module_utils")
SPEC = "cypress/e2e/migration/host{0:04d}.cy.ts"


def states_of(rng: random.Random, tests: int, run: int) -> Dict[Tuple[str, str], str]:
    """One run's states: 2 % of the tests fail run after run, about 0.5 % more fail for a few runs
    (a different set each run), 1 % are flaky."""
    out = {}
    for i in range(tests):
        roll = rng.random()
        failing = i % 50 == 0 or (i + run) % 211 < 1 or (i + run // 3) % 997 == 0
        state = "failed" if failing else "flaky" if roll < 0.01 else "passed"
        out[(SPEC.format(i // 100), "Migration of host{0:04d} check {1:05d}".format(i // 100, i))] = state
    return out


def junit_of(states: Dict[Tuple[str, str], str]) -> str:
    """A JUnit report as mocha-junit-reporter writes it (a Root Suite with the spec, then its tests)."""
    by_spec: Dict[str, List[Tuple[str, str]]] = {}
    for (spec, title), state in states.items():
        by_spec.setdefault(spec, []).append((title, state))
    out = ['<?xml version="1.0" encoding="UTF-8"?>', '<testsuites name="Mocha Tests">']
    for spec, tests in by_spec.items():
        out.append('  <testsuite name="Root Suite" tests="0" file="{0}" failures="0"></testsuite>'.format(spec))
        out.append('  <testsuite name="Migration" tests="{0}">'.format(len(tests)))
        for title, state in tests:
            out.append('    <testcase name="{0}" classname="{1}">{2}</testcase>'.format(
                title, title.rsplit(" ", 2)[-2] + " " + title.rsplit(" ", 1)[-1],
                '<failure message="boom" type="AssertionError">boom</failure>' if state == "failed" else ""))
        out.append("  </testsuite>")
    out.append("</testsuites>")
    return "\n".join(out) + "\n"


def best(repeat: int, work) -> Tuple[float, float, object]:
    """(best wall time, best CPU time, what ``work`` returned) over ``repeat`` runs."""
    walls, cpus, result = [], [], None
    for _time in range(repeat):
        started, cpu = time.perf_counter(), time.process_time()
        result = work()
        walls.append(time.perf_counter() - started)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus), result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tests", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=100, help="runs kept in the suite's history")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--tmpdir", default=None)
    args = parser.parse_args()
    sys.path.insert(0, CORE)
    # pylint: disable=import-outside-toplevel
    from atvm_watcher import models
    from atvm_watcher import settings as config
    from atvm_watcher.decision.changes import Earlier, compare, decode
    from atvm_watcher.evidence.junit import scan_junit_dir
    from atvm_watcher.evidence.testcases import run_tests
    from atvm_watcher.message.attachment import build_post
    from atvm_watcher.runpaths import HistoryPaths
    from atvm_watcher.store.history import HistoryStore, suite_key

    rng = random.Random(20261207)
    with tempfile.TemporaryDirectory(dir=args.tmpdir) as tmp:
        store = HistoryStore(HistoryPaths(tmp), max_runs=args.runs, max_bytes=64 * 1024 * 1024)
        suite = suite_key("[template, subrun]", {"template": "cmc-e2e", "subrun": "bench"})

        def record(build: str, states, started: str = "s"):
            def compared(table, masks, earlier):
                return compare(table, masks, [Earlier(e.build, e.decided_at, e.masks) for e in earlier], suite.text)
            run = {"id": build + "#0", "build": build, "subrun": 0, "name": "bench", "run_started": started,
                   "state": "COMPLETED", "result": "FAIL"}
            return store.record(suite, run, states, "", compared, decode)

        started = time.perf_counter()
        history = [states_of(rng, args.tests, n) for n in range(args.runs + 1)]
        for n, states in enumerate(history[:args.runs]):
            record("B{0:03d}".format(n), states)
        print("setup: {0} runs of {1} tests recorded in {2:.1f} s".format(
            args.runs, args.tests, time.perf_counter() - started))
        results = os.path.join(tmp, "results")
        os.mkdir(results)
        with open(os.path.join(results, "results-0001.xml"), "w", encoding="utf-8") as handle:
            handle.write(junit_of(history[-1]))
        expected = models.Counts(args.tests, sum(1 for s in history[-1].values() if s != "failed"),
                                 sum(1 for s in history[-1].values() if s == "failed"), 0, 0)

        # the watcher reads the JUnit reports to decide the run anyway; the history takes them from there
        t_read = best(args.repeat, lambda: scan_junit_dir(results))
        reports = t_read[2]
        t_tests = best(args.repeat, lambda: run_tests([], expected, junit=reports))
        found = t_tests[2]
        # the console is what shows a retry; the report alone says passed: use the run's own states
        states = dict(history[-1])
        t_record = best(args.repeat, lambda: record("B{0:03d}".format(args.runs), states, "new"))
        changes = t_record[2]
        settings = config.Settings(metadata={"template": "cmc-e2e"})
        sub = models.SubrunVerdict(index=0, name="bench", state=models.COMPLETED, result=models.FAIL,
                                   counts=expected)
        verdict = models.RunVerdict(state=models.COMPLETED, result=models.FAIL, subruns=[sub])
        t_with = best(args.repeat, lambda: build_post(verdict, sub, settings, "B", 1, changes=changes))
        t_without = best(args.repeat, lambda: build_post(verdict, sub, settings, "B", 1))
        payload = t_with[2]
        size = os.path.getsize(store.paths.suite(suite.id))
        doc = store.load(suite.id)

        # check: the answer is the rules read set by set
        now, before = history[-1], history[-2]
        failed_now = {k for k, s in now.items() if s == "failed"}
        failed_before = {k for k, s in before.items() if s == "failed"}
        problems = []
        if set(changes.new_failures) != failed_now - failed_before:
            problems.append("new failures differ")
        if set(changes.fixed) != {k for k in failed_before if now.get(k) in ("passed", "flaky")}:
            problems.append("fixed differs")
        if {k for k, _n in changes.still_failing} != failed_now & failed_before:
            problems.append("still failing differs")
        if set(changes.flaky) != {k for k, s in now.items() if s == "flaky"}:
            problems.append("flaky differs")
        if len(doc["runs"]) != args.runs or len(found.tests) != args.tests or not found.known:
            problems.append("{0} runs kept, {1} tests found".format(len(doc["runs"]), len(found.tests)))
        if changes.previous_build != "B{0:03d}".format(args.runs - 1):
            problems.append("compared with {0}".format(changes.previous_build))
        if "History" not in [f["title"] for f in payload["attachments"][0]["fields"]]:
            problems.append("no History field")

    post = (max(0.0, t_with[0] - t_without[0]), max(0.0, t_with[1] - t_without[1]))
    print("tests {0}, runs kept {1}, history file {2:.0f} KiB".format(args.tests, args.runs, size / 1024.0))
    print("changes: {0} new failures, {1} fixed, {2} still failing (longest {3} runs), {4} flaky".format(
        len(changes.new_failures), len(changes.fixed), len(changes.still_failing), changes.longest_streak,
        len(changes.flaky)))
    print("best of {0}, in ms:                        wall     CPU".format(args.repeat))
    print("  (the JUnit report read for the verdict) {0:7.1f}  {1:7.1f}".format(t_read[0] * 1000, t_read[1] * 1000))
    rows = (("per-test results from those reports", t_tests), ("history read, compared, written", t_record),
            ("post with the changes, less without", post))
    for label, (wall, cpu) in ((r[0], r[1][:2]) for r in rows):
        print("  {0:<38} {1:7.1f}  {2:7.1f}".format(label, wall * 1000, cpu * 1000))
    total = [sum(r[1][i] for r in rows) * 1000 for i in (0, 1)]
    print("  {0:<38} {1:7.1f}  {2:7.1f}".format("added to the post", total[0], total[1]))
    if problems:
        for problem in problems:
            print("CHECK FAILED: " + problem)
        return 1
    print("check: the changes are the rules read set by set, {0} runs kept".format(args.runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())

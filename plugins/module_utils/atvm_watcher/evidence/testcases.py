# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The per-test results of one (sub-)run, from every source that names its tests (docs/history.md).

A test is its spec path and its full title (Mocha's ``fullTitle()``: the describe blocks' titles and
its own, joined by spaces). Three sources name tests:

- the JUnit XML reports (``<testcase name=full title>`` of the spec its ``<testsuite file=>`` names);
- the mochawesome JSON reports (``fullTitle`` and ``state`` of each test, the spec of its suite);
- the console (:mod:`.testlines`): the test list of each spec, and Cypress's ``(Attempt N of M)``
  lines, the only source that shows a retry.

Each test keeps what each source said (:attr:`TestResult.says`). Sources that disagree are listed
(:attr:`RunTests.disagreements`) and merged into the worst state they gave, never into a pass: failed
over skipped over flaky over passed; a test the console saw pass after a failed attempt is flaky.

The results are complete (:attr:`RunTests.known`) only when they name at least the failed and the
passed tests the (sub-)run's own counts give (its ``(Run Finished)`` table, or its ``(Results)``
boxes); otherwise :attr:`RunTests.why` says what is missing and no change is told from them.
"""
from __future__ import annotations

import dataclasses
import os
from typing import Dict, Iterable, List, Optional, Sequence, Set, Tuple

from ..models import Counts, JUnitReport
from .mochawesome import MochawesomeReport
from .specs import is_meta_spec, normalise_spec
from .testlines import FAILED as CONSOLE_FAILED
from .testlines import PENDING as CONSOLE_PENDING
from .testlines import ConsoleSpec

PASSED = "passed"
FLAKY = "flaky"  # passed after a failed attempt
FAILED = "failed"
SKIPPED = "skipped"  # pending or skipped
STATES = (PASSED, FLAKY, FAILED, SKIPPED)
_WORST = {PASSED: 0, FLAKY: 1, SKIPPED: 2, FAILED: 3}

JUNIT = "JUnit"
MOCHAWESOME = "mochawesome"
CONSOLE = "console"
SOURCES = (JUNIT, MOCHAWESOME, CONSOLE)

SLACK_SECONDS = 2.0  # a report written just before the (sub-)run's recorded start still counts

TestKey = Tuple[str, str]  # (spec path, full title)


@dataclasses.dataclass
class TestResult:
    """One test: its spec, full title, merged state, and what each source said."""

    spec: str
    title: str
    state: str
    says: Dict[str, str] = dataclasses.field(default_factory=dict)  # source -> state

    @property
    def key(self) -> TestKey:
        return self.spec, self.title

    @property
    def disagreement(self) -> bool:
        """The sources gave different states (a retry seen only by the console is no disagreement)."""
        return len({PASSED if s == FLAKY else s for s in self.says.values()}) > 1

    def to_dict(self) -> Dict[str, object]:
        return {"spec": self.spec, "title": self.title, "state": self.state, "says": dict(self.says)}


@dataclasses.dataclass
class RunTests:
    """The per-test results of one (sub-)run."""

    tests: List[TestResult] = dataclasses.field(default_factory=list)
    known: bool = False  # complete enough to tell what changed
    why: str = ""  # why not, in words
    sources: List[str] = dataclasses.field(default_factory=list)

    @property
    def disagreements(self) -> List[TestResult]:
        return [t for t in self.tests if t.disagreement]

    def by_state(self, state: str) -> List[TestResult]:
        return [t for t in self.tests if t.state == state]

    def states(self) -> Dict[TestKey, str]:
        return {t.key: t.state for t in self.tests}

    def counts(self) -> Dict[str, int]:
        out = {state: 0 for state in STATES}
        for test in self.tests:
            out[test.state] += 1
        return out

    def summary(self) -> Dict[str, object]:
        """What ``state.json`` of the sub-run keeps: the counts, the sources, why unknown, the disagreements."""
        return {"known": self.known, "why": self.why, "sources": list(self.sources), "counts": self.counts(),
                "disagreements": [t.to_dict() for t in self.disagreements]}


# ---------------------------------------------------------------------------------------------
# observations: (spec, full title, state, own title) as each source gives them
# ---------------------------------------------------------------------------------------------

_Seen = Tuple[str, str, str, str]


def _basename(spec: str) -> str:
    return os.path.basename(normalise_spec(spec))


class _Specs:
    """Which specs count for the (sub-)run (by file name, as the rules attribute reports; every spec
    when the run's specs are not known), never the meta spec: decided once per spelling."""

    def __init__(self, names: Set[str]) -> None:
        self.names = names
        self.seen: Dict[Optional[str], Optional[str]] = {}

    def of(self, path: Optional[str]) -> Optional[str]:
        """The spec's one spelling when it counts, else None."""
        if path not in self.seen:
            spec = normalise_spec(path) if path else ""
            counts = not (spec and is_meta_spec(spec)) and (not self.names or (
                bool(spec) and os.path.basename(spec) in self.names))
            self.seen[path] = spec if counts else None
        return self.seen[path]


def junit_seen(reports: Iterable[JUnitReport], specs: _Specs) -> List[_Seen]:
    """The tests of the readable reports that belong to the (sub-)run's specs."""
    out: List[_Seen] = []
    for report in reports:
        if report.error:
            continue
        for case in report.cases:
            spec = specs.of(case.file)
            if spec is None:
                continue
            title = case.name or case.classname or ""
            leaf = case.classname if case.classname and title.endswith(case.classname) else title
            state = FAILED if case.failed or case.error else SKIPPED if case.skipped else PASSED
            out.append((spec, title, state, leaf))
    return out


def mochawesome_seen(reports: Iterable[MochawesomeReport], specs: _Specs) -> List[_Seen]:
    out: List[_Seen] = []
    for report in reports:
        if report.error:
            continue
        for test in report.tests:
            spec = specs.of(test.file)
            if test.state == "unknown" or spec is None:
                continue
            state = {"passed": PASSED, "failed": FAILED}.get(test.state, SKIPPED)
            out.append((spec, test.full_title or test.title, state, test.title))
    return out


def console_seen(console: Iterable[ConsoleSpec], specs: _Specs) -> List[_Seen]:
    out: List[_Seen] = []
    for shown in console:
        spec = specs.of(shown.spec)
        if spec is None:
            continue
        for test in shown.tests:
            if test.state == CONSOLE_FAILED:
                state = FAILED
            elif test.state == CONSOLE_PENDING:
                state = SKIPPED
            else:
                state = FLAKY if test.flaky else PASSED
            out.append((spec, test.full_title, state, test.title))
    return out


# ---------------------------------------------------------------------------------------------
# merging the sources
# ---------------------------------------------------------------------------------------------


def _spec_map(structured: Sequence[str], console: Iterable[str]) -> Dict[str, str]:
    """Each console spec name (relative to the common folder of the run's specs) to the spec path a
    report gives for it, when exactly one ends with it."""
    out: Dict[str, str] = {}
    for name in console:
        if name in structured or not name:
            continue
        ends = [s for s in structured if s.endswith("/" + name)]
        if len(ends) == 1:
            out[name] = ends[0]
    return out


def merge(sources: Dict[str, List[_Seen]]) -> List[TestResult]:
    """One result per test over every source (see the module documentation). The same title twice in
    a spec of one source (a data-driven loop) is told apart by its occurrence: ``title [2]``."""
    structured = sorted({s[0] for name in (JUNIT, MOCHAWESOME) for s in sources.get(name, []) if s[0]})
    specs = _spec_map(structured, {s[0] for s in sources.get(CONSOLE, [])})
    says: Dict[TestKey, Dict[str, str]] = {}
    by_leaf: Dict[Tuple[str, str], List[TestKey]] = {}
    worst = _WORST
    for name in SOURCES:
        count: Dict[TestKey, int] = {}
        for spec, title, state, leaf in sources.get(name, []):
            spec = specs.get(spec, spec)
            key = (spec, title)
            n = count[key] = count.get(key, 0) + 1
            if n > 1:
                key = (spec, "{0} [{1}]".format(title, n))
            entry = says.get(key)
            if entry is None and name == CONSOLE:
                # the console's describe blocks come from its indentation: a report's full title
                # for the same spec and own title wins when there is exactly one
                match = by_leaf.get((spec, leaf), ())
                if len(match) == 1 and CONSOLE not in says[match[0]]:
                    key = match[0]
                    entry = says[key]
            if entry is None:
                entry = says[key] = {}
                if name != CONSOLE:
                    by_leaf.setdefault((spec, leaf), []).append(key)
            old = entry.get(name)
            entry[name] = state if old is None or worst[state] > worst[old] else old
    return [TestResult(spec=key[0], title=key[1], state=max(said.values(), key=worst.__getitem__), says=said)
            for key, said in says.items()]


# ---------------------------------------------------------------------------------------------
# one (sub-)run
# ---------------------------------------------------------------------------------------------


def _recent(reports: Iterable, not_before: Optional[float]) -> List:  # type: ignore[type-arg]
    return [r for r in reports if not_before is None or not r.mtime or r.mtime >= not_before - SLACK_SECONDS]


def _complete(tests: List[TestResult], expected: Optional[Counts]) -> str:
    """Why the results do not name every test the run's own counts give ("" when they do)."""
    if expected is None:
        return ""
    failed = sum(1 for t in tests if t.state == FAILED)
    passed = sum(1 for t in tests if t.state in (PASSED, FLAKY))
    if expected.failed and failed < expected.failed:
        return "the reports name {0} of its {1} failed tests".format(failed, expected.failed)
    if expected.passed and passed < expected.passed:
        return "the reports name {0} of its {1} passed tests".format(passed, expected.passed)
    return ""


def run_tests(specs: Iterable[str], expected: Optional[Counts], junit: Iterable[JUnitReport] = (),
              mochawesome: Iterable[MochawesomeReport] = (), console: Iterable[ConsoleSpec] = (),
              not_before: Optional[float] = None) -> RunTests:
    """The per-test results of a (sub-)run whose specs are ``specs`` (empty: not known, every test
    counts) and whose own counts are ``expected`` (None: not known); reports older than
    ``not_before`` belong to an earlier run."""
    names = _Specs({_basename(s) for s in specs if s and not is_meta_spec(s)})
    sources = {
        JUNIT: junit_seen(_recent(junit, not_before), names),
        MOCHAWESOME: mochawesome_seen(_recent(mochawesome, not_before), names),
        CONSOLE: console_seen(console, names),
    }
    out = RunTests(sources=[name for name in SOURCES if sources[name]])
    out.tests = merge(sources)
    if not out.tests:
        out.why = "no JUnit report, mochawesome report or test list in the log names its tests"
        return out
    out.why = _complete(out.tests, expected)
    out.known = not out.why
    return out

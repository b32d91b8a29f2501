# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""mochawesome JSON reports: 7.x ``results[]``, legacy 3.x top-level ``suites``, mochawesome-merge output.

Counts are counted from the test entries (a hook counts only when it failed); the file's own
``stats`` block is kept apart (``declared``). Never raises for bad content: ``error`` is set.
"""
from __future__ import annotations

import dataclasses
from typing import Any

from ..durable import json_type
from .readers import as_count, as_text, clip, decode_json_bytes, opt_text, read_input, recent_files
from ..models import Counts
from ..safetext import show_path
from .specs import normalise_spec

MAX_MOCHAWESOME_BYTES = 64 * 1024 * 1024
MAX_SUITE_DEPTH = 200


@dataclasses.dataclass
class MochawesomeFailure:
    title: str
    full_title: str | None = None
    file: str | None = None
    message: str | None = None
    hook: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class MochawesomeTest:
    """One test of the report (a hook only when it failed), in report order."""

    title: str
    full_title: str | None
    file: str | None
    state: str  # "passed" | "failed" | "pending" | "skipped" | "unknown"

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class MochawesomeReport:
    """A mochawesome report: counts counted from the test entries, ``declared`` as its stats block says."""

    path: str
    stats: Counts = dataclasses.field(default_factory=Counts)  # counted from the tests
    declared: Counts = dataclasses.field(default_factory=Counts)  # the file's "stats" block
    files: list[str] = dataclasses.field(default_factory=list)  # spec files (backslashes -> '/')
    failures: list[MochawesomeFailure] = dataclasses.field(default_factory=list)
    tests: list[MochawesomeTest] = dataclasses.field(default_factory=list)  # every test counted, in order
    legacy_v3: bool = False  # mochawesome 3.x layout (top-level "suites", no "results")
    mtime: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _test_state(test: dict[str, Any]) -> str:
    state = test.get("state")
    if test.get("fail") is True or state == "failed":
        return "failed"
    if test.get("pending") is True or state == "pending":
        return "pending"
    if test.get("skipped") is True or state == "skipped":
        return "skipped"
    if test.get("pass") is True or state == "passed":
        return "passed"
    return "unknown"


def _err_message(test: dict[str, Any]) -> str | None:
    err = test.get("err")
    if not isinstance(err, dict):
        return clip(opt_text(err))
    message = err.get("message") or err.get("estack")
    return clip(opt_text(message))


def _suite_file(suite: dict[str, Any]) -> str | None:
    for key in ("file", "fullFile"):
        value = suite.get(key)
        if isinstance(value, str) and value.strip():
            return normalise_spec(value.strip())
    return None


def _document(real: str, report: MochawesomeReport) -> tuple[dict[str, Any] | None, str | None]:
    """(the JSON object of the file ``real``, None) or (None, what is wrong with it)."""
    st, data, err = read_input(real, MAX_MOCHAWESOME_BYTES)
    if st is not None:
        report.mtime = st.st_mtime
    if data is None:
        return None, err
    doc, err = decode_json_bytes(data)
    if err:
        return None, err
    if not isinstance(doc, dict):
        return None, f"the JSON value is {json_type(doc)}, not an object"
    return doc, None


def _roots(real: str, report: MochawesomeReport) -> list[dict[str, Any]] | None:
    """The root suites of the report (its ``declared`` counts filled), or None with ``report.error`` set."""
    doc, err = _document(real, report)
    if doc is not None and isinstance(doc.get("results"), list):
        roots = [r for r in doc["results"] if isinstance(r, dict)]
    elif doc is not None and isinstance(doc.get("suites"), dict):
        report.legacy_v3 = True
        roots = [doc["suites"]]
    else:
        err = err or "neither \"results\" (mochawesome 4+) nor \"suites\" (mochawesome 3) found"
        report.error = f"cannot read mochawesome report {report.path}: {err}"
        return None
    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    notes: list[str] = []
    report.declared = Counts(
        tests=as_count(stats.get("tests"), "tests", notes),
        passed=as_count(stats.get("passes"), "passes", notes),
        failed=as_count(stats.get("failures"), "failures", notes),
        pending=as_count(stats.get("pending"), "pending", notes),
        skipped=as_count(stats.get("skipped"), "skipped", notes),
    )
    return roots


class _Tally:
    """Walks the suites of a report: counts every test once (by uuid), collects failures and spec files."""

    def __init__(self, report: MochawesomeReport) -> None:
        self.report = report
        self.counts = {"passed": 0, "failed": 0, "pending": 0, "skipped": 0, "unknown": 0}
        self.seen: set[Any] = set()

    def visit(self, suite: dict[str, Any], inherited_file: str | None, depth: int) -> None:
        if depth > MAX_SUITE_DEPTH:
            return
        suite_file = _suite_file(suite) or inherited_file
        if suite_file and suite_file not in self.report.files:
            self.report.files.append(suite_file)
        entries = [(t, False) for t in (suite.get("tests") or []) if isinstance(t, dict)]
        for key in ("beforeHooks", "afterHooks"):
            entries.extend((h, True) for h in (suite.get(key) or []) if isinstance(h, dict))
        for test, from_hooks in entries:
            self.entry(test, from_hooks, suite_file)
        for child in suite.get("suites") or []:
            if isinstance(child, dict):
                self.visit(child, suite_file, depth + 1)

    def entry(self, test: dict[str, Any], from_hooks: bool, suite_file: str | None) -> None:
        uid = test.get("uuid")
        if uid is not None:
            if uid in self.seen:
                return
            self.seen.add(uid)
        state = _test_state(test)
        hook = from_hooks or test.get("isHook") is True
        if hook and state != "failed":
            return  # a hook is a test only when it failed
        self.counts[state] += 1
        self.report.tests.append(MochawesomeTest(title=as_text(test.get("title")),
                                                 full_title=opt_text(test.get("fullTitle")),
                                                 file=suite_file, state=state))
        if state == "failed":
            self.report.failures.append(MochawesomeFailure(
                title=as_text(test.get("title")),
                full_title=opt_text(test.get("fullTitle")),
                file=suite_file,
                message=_err_message(test),
                hook=hook,
            ))


def read_mochawesome(path: str) -> MochawesomeReport:
    """Read a mochawesome JSON report (7.x, legacy 3.x or mochawesome-merge output). Never raises for
    bad content: ``error`` is set instead."""
    real, path = path, show_path(path)  # opened by its real name, shown (and kept) as text
    report = MochawesomeReport(path=path)
    roots = _roots(real, report)
    if roots is None:
        return report
    tally = _Tally(report)
    for root in roots:
        tally.visit(root, None, 0)
    report.stats = Counts(
        tests=sum(tally.counts.values()),
        passed=tally.counts["passed"],
        failed=tally.counts["failed"],
        pending=tally.counts["pending"],
        skipped=tally.counts["skipped"],
    )
    return report


def scan_mochawesome_dir(directory: str, pattern: str = "*.json", since: float | None = None) -> list[MochawesomeReport]:
    """Every file matching ``pattern`` under ``directory`` (recursive) not older than ``since``, sorted by
    path; a path that is a file is read alone; a missing path gives []."""
    return [read_mochawesome(path) for path in recent_files(directory, (pattern,), since)]

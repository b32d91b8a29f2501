# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Data shared by the parsers, the decision rules, the renderer and the state store.

Every class converts to plain JSON-able dicts with ``to_dict()`` (used by ``state.json`` and
``verdict --json``).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Any, Dict, List, Optional, Union

# Run states (docs/decision-rules.md).
RUNNING = "RUNNING"
COMPLETED = "COMPLETED"
FAILED = "FAILED"
CANCELLED = "CANCELLED"
TERMINATED = "TERMINATED"
HUNG = "HUNG"
UNKNOWN = "UNKNOWN"
TERMINAL_STATES = (COMPLETED, FAILED, CANCELLED, TERMINATED, HUNG, UNKNOWN)
POSTED_STATES = (COMPLETED, FAILED)

# Results (verdicts).
PASS = "PASS"
FAIL = "FAIL"
RUN = "RUN"
# UNKNOWN is shared with the run states.
MISSING = "MISSING"  # host result only: an expected host without an artifact

RESULT_ORDER = {PASS: 0, RUN: 1, UNKNOWN: 2, MISSING: 3, FAIL: 4}


# A post as the webhook takes it (``text``, ``attachments``, ``props``, ``priority``), and what the
# outbox may hold: a payload, or a plain text (records written by 1.0.0).
Payload = Dict[str, Any]
Message = Union[str, Payload]


def worst_result(results: List[str]) -> str:
    """The worst of several results (FAIL > MISSING > UNKNOWN > RUN > PASS); UNKNOWN when empty."""
    if not results:
        return UNKNOWN
    worst = max(results, key=lambda r: RESULT_ORDER.get(r, RESULT_ORDER[UNKNOWN]))
    return FAIL if worst == MISSING else worst


def _asdict(obj: Any) -> Any:
    return dataclasses.asdict(obj)


@dataclasses.dataclass
class Counts:
    tests: Optional[int] = None
    passed: Optional[int] = None
    failed: Optional[int] = None
    pending: Optional[int] = None
    skipped: Optional[int] = None

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class SpecRow:
    """One spec as Cypress reported it: a ``(Results)`` box and/or a ``(Run Finished)`` row."""

    spec: str
    status: str  # "passed" | "failed" | "skipped" (SKIPPED / canceled) | "unknown"
    counts: Counts = dataclasses.field(default_factory=Counts)
    duration: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class CypressRun:
    """One ``cypress run`` found in a runner log (one sub-run of a categorized request)."""

    index: int  # 0-based position in the log
    label: Optional[str] = None  # wrapper marker label, else Cypress ``Group:``
    label_source: Optional[str] = None  # "marker" | "group" | None
    cypress_version: Optional[str] = None
    browser: Optional[str] = None
    specs_found: List[str] = dataclasses.field(default_factory=list)  # from "Specs: N found (a, b)"
    specs_found_count: Optional[int] = None
    parallel: Optional[bool] = None
    run_url: Optional[str] = None  # "Run URL:" in the banner
    recorded_run_url: Optional[str] = None  # "Recorded Run:" footer
    started: bool = False  # "(Run Starting)" seen
    specs_run: List[str] = dataclasses.field(default_factory=list)  # "Running: X (n of m)" in order
    current_spec: Optional[str] = None  # the spec running now (no Results box yet)
    spec_results: List[SpecRow] = dataclasses.field(default_factory=list)  # from (Results) boxes
    finished: bool = False  # "(Run Finished)" table complete (summary row read)
    finished_rows: List[SpecRow] = dataclasses.field(default_factory=list)  # rows of that table
    all_passed: Optional[bool] = None  # summary row: "All specs passed!" -> True, "N of M failed" -> False
    failed_specs: Optional[int] = None  # N of "N of M failed"
    total_specs: Optional[int] = None  # M of "N of M failed" (or rows count when all passed)
    totals: Counts = dataclasses.field(default_factory=Counts)  # the summary row's counts
    problems: List[str] = dataclasses.field(default_factory=list)  # crash / plugin error / canceled / no specs texts
    canceled: bool = False  # the Cypress run was canceled (recorded run), not the ATVM cancel marker
    crashed: bool = False  # renderer / browser crash seen
    plugin_error: bool = False  # error thrown in plugins / config file (e.g. after:run)
    no_specs: bool = False  # "Can't run because no spec files were found"
    exit_text: Optional[str] = None  # e.g. "Exiting with non-zero exit code because the run was canceled."
    start_offset: int = 0  # byte offset in the log where this run starts
    end_offset: Optional[int] = None  # byte offset after its last line, once finished
    text_lost: Optional[str] = None  # why some of its text may be missing (a log rotation while it ran)
    opened_by: Optional[str] = None  # digest of the line that opened it (marker, else "(Run Starting)")
    concurrent: bool = False  # its output is interleaved with another run's: an end missing is unknown
    overflow: int = 0  # > 0: this record stands for that many runs beyond the parser's bound
    dropped: int = 0  # entries (specs, rows) beyond the parser's bounds, not kept

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class HostEvent:
    timestamp: Optional[str]
    type: str
    message: str
    severity: Optional[str] = None
    failure: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class HostArtifact:
    """One per-host reporter artifact (cmcReporter JSON), already read through the JMESPath settings."""

    path: str
    host: Optional[str]
    spec: Optional[str] = None
    status: Optional[str] = None  # "PASS" | "FAIL" | "RUN" | anything else as found (upper-cased)
    counts: Counts = dataclasses.field(default_factory=Counts)
    started_at: Optional[str] = None
    ended_at: Optional[str] = None
    events: List[HostEvent] = dataclasses.field(default_factory=list)
    mtime: float = 0.0
    size: int = 0
    error: Optional[str] = None  # set when the file could not be read/parsed: then it is never PASS
    notes: List[str] = dataclasses.field(default_factory=list)  # fields present but unusable (e.g. a count "3")

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class JUnitCase:
    name: str
    classname: Optional[str]
    file: Optional[str]
    failed: bool = False
    error: bool = False
    skipped: bool = False
    message: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class JUnitReport:
    path: str
    files: List[str] = dataclasses.field(default_factory=list)  # spec files named by <testsuite file=...>
    counts: Counts = dataclasses.field(default_factory=Counts)  # counted from testcases, not attributes
    declared: Counts = dataclasses.field(default_factory=Counts)  # as the root attributes claim
    errors: int = 0
    cases: List[JUnitCase] = dataclasses.field(default_factory=list)
    meta_only: bool = False  # only the check-xml-files.ts meta spec: says nothing about hosts
    mtime: float = 0.0
    error: Optional[str] = None  # unreadable / hostile / malformed file

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class InventoryHost:
    host: str
    os: Optional[str] = None
    kernel: Optional[str] = None
    fields: Dict[str, str] = dataclasses.field(default_factory=dict)  # every column by header name

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class ExitInfo:
    """How the runner ended, as far as it is known."""

    known: bool = False
    running: bool = True
    exit_code: Optional[int] = None
    signal: Optional[int] = None  # killed by this signal
    source: Optional[str] = None  # "systemd" | "exit-file" | "pid" | "cli"
    detail: Optional[str] = None  # e.g. systemd Result= "oom-kill", "timeout", "signal"

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class HostVerdict:
    host: str
    result: str  # PASS | FAIL | RUN | MISSING | UNKNOWN
    os: Optional[str] = None
    kernel: Optional[str] = None
    counts: Counts = dataclasses.field(default_factory=Counts)
    reasons: List[str] = dataclasses.field(default_factory=list)
    artifact: Optional[str] = None

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class SubrunVerdict:
    index: int
    name: str
    state: str  # RUNNING or a terminal state
    result: str  # PASS | FAIL | RUN | UNKNOWN
    hosts: List[HostVerdict] = dataclasses.field(default_factory=list)
    reasons: List[str] = dataclasses.field(default_factory=list)  # run-level reasons (why not PASS)
    counts: Counts = dataclasses.field(default_factory=Counts)
    label: Optional[str] = None
    name_mismatch: Optional[str] = None  # recorded when the label's host did not match the specs
    specs: List[SpecRow] = dataclasses.field(default_factory=list)
    run_url: Optional[str] = None
    started_at: Optional[str] = None
    ended_at: Optional[str] = None
    duration_seconds: Optional[float] = None

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


@dataclasses.dataclass
class RunVerdict:
    state: str
    result: str
    subruns: List[SubrunVerdict] = dataclasses.field(default_factory=list)
    reasons: List[str] = dataclasses.field(default_factory=list)
    exit: ExitInfo = dataclasses.field(default_factory=ExitInfo)
    categorized: bool = False

    def to_dict(self) -> Dict[str, Any]:
        return _asdict(self)


NAME_MAX = 80


def safe_name(name: Any, fallback: str = "run") -> str:
    """The one sanitizer of sub-run names (shown in posts, used in keys and directory names):
    ``[A-Za-z0-9._-]``, starts with a letter or digit, at most :data:`NAME_MAX` characters."""
    text = re.sub(r"[^A-Za-z0-9._-]+", "-", str(name or ""))
    text = re.sub(r"\.{2,}", ".", text)
    text = re.sub(r"^[^A-Za-z0-9]+", "", text)[:NAME_MAX].rstrip(".-_")
    return text or fallback

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boxes and the table of Cypress console output, read by :class:`~.cypress_log.CypressLogParser`.

:class:`BoxReader` reads the ``(Run Starting)`` and ``(Results)`` boxes (``│ Key:   value │``
rows whose values may wrap) and the ``(Run Finished)`` table (one row per spec, names wrapped onto
continuation lines, then the summary row). It is a part of the parser: it works on the parser's
state (mode, current run) and hands back to it the lines that are not its own.

Every Cypress version from 3 to 15 is read: the summary row with its glyph (``✔  All specs
passed!``, ``✖  1 of 4 failed (25%)``, Cypress 4 and later) or without it (Cypress 3), rows with
one space after the glyph or two, ``├──┤`` separators between rows (Cypress 3).
"""
from __future__ import annotations

import re
from typing import Dict, List, Optional, Tuple

from ..models import Counts, CypressRun, SpecRow
from .signatures import Signature, by_name

_SCAN = 0
_BANNER = 1
_RESULTS = 2
_FINISHED = 3
_RUNNING_CONT = 4

MAX_FIELDS = 64  # key / value rows kept per box
MAX_ROWS = 2000  # rows kept per table (and entries per list of a run)
NAME_CHARS = 1024  # a spec name (joined from wrapped lines) is cut here

_KV_RE = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]{0,30}?):(?:\s+(?P<value>.*?))?\s*$")
_SPECS_RE = re.compile(r"^(?P<n>\d+)\s+found\b\s*(?:\((?P<list>.*?)\)?)?\s*$")
_GROUP_RE = re.compile(r"\bGroup:\s*(?P<group>.*?)\s*(?:,\s*Parallel:|,\s*Auto Cancel|$)")
_PARALLEL_RE = re.compile(r"\bParallel:\s*(?P<parallel>true|false)\b")
_COUNT = r"(\d+|-)"
_COUNTS = r"\s+".join([_COUNT] * 5)
_ROW_RE = re.compile(
    r"^(?P<glyph>[\u2714\u2713\u221a\u2716\u2717\u00d7-])\s+(?P<spec>\S.*?)\s+(?P<dur>\S+)\s+" + _COUNTS + r"$"
)
# ``Running: <spec> (n of m)``, and the fragment of a long spec name wrapped onto the next line
# (read by the parser and by the console's test list, testlines.py).
RUNNING_RE = re.compile(r"(?:^|\s)Running:\s+(?P<spec>\S.*?)\s+\((?P<n>\d+) of (?P<m>\d+)\)\s*$")
RUNNING_CONT_RE = re.compile(r"^ {6,16}(?P<frag>\S+)\s*$")
# The summary row: a glyph before it from Cypress 4 on, none in Cypress 3; its duration and counts
# are required where no table is being read (a summary row found on its own, see the parser).
SUMMARY_RE = re.compile(
    r"(?:^|\s)(?:(?P<glyph>[\u2714\u2713\u221a\u2716\u2717\u00d7-])\s+)?"
    r"(?P<what>All specs passed!|(?P<nf>\d+) of (?P<nt>\d+) failed \(\d+%\)|The run was canceled)"
    r"(?:\s+(?P<dur>\S+)\s+" + _COUNTS + r")?\s*$"
)
_PASS_GLYPHS = "\u2714\u2713\u221a"
_FAIL_GLYPHS = "\u2716\u2717\u00d7"
_BOX_TOP = "\u250c\u256d"
_BOX_BOTTOM = "\u2514\u2570"
_BOX_SIDE = "\u2502"


def _to_int(value: Optional[str]) -> Optional[int]:
    if value is None:
        return None
    value = value.strip()
    if value == "-":
        return 0
    if value.isdigit():
        return int(value)
    return None


def _counts(values: Tuple[Optional[str], ...]) -> Counts:
    t, p, f, pe, s = (_to_int(v) for v in values)
    return Counts(tests=t, passed=p, failed=f, pending=pe, skipped=s)


def _box_inner(text: str) -> str:
    first = text.find(_BOX_SIDE)
    last = text.rfind(_BOX_SIDE)
    if last > first:
        return text[first + 1:last]
    return text[first + 1:]


def _only_box_chars(text: str) -> bool:
    return all(0x2500 <= ord(ch) <= 0x257F for ch in text)


def add_counts(total: Counts, more: Counts) -> None:
    """Add ``more`` to ``total`` field by field (a field unknown in both stays unknown)."""
    for field in ("tests", "passed", "failed", "pending", "skipped"):
        value = getattr(more, field)
        if value is not None:
            setattr(total, field, (getattr(total, field) or 0) + value)


class BoxReader:
    """The box and table part of the parser (a mixin of :class:`~.cypress_log.CypressLogParser`)."""

    _mode: int
    _box_top: bool
    _box_noise: int
    _box_fields: List[List[str]]
    _box_more: List[List[List[str]]]
    _tbl_top: bool
    _tbl_bottom: bool
    _tbl_noise: int
    _rows: List[SpecRow]
    _rows_dropped: int
    _provisional: Optional[Tuple[CypressRun, SpecRow]]

    # What the parser provides (it overrides these).
    def _run(self) -> Optional[CypressRun]:
        raise NotImplementedError

    def _failures(self, raw: bytes, text: str) -> None:
        raise NotImplementedError

    def _leave_mode(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        raise NotImplementedError

    def _problem(self, text: str, sig: Signature) -> None:
        raise NotImplementedError

    def _keep(self, run: CypressRun, items: list, item: object) -> None:
        raise NotImplementedError

    def _table_owner(self, rows: List[SpecRow]) -> CypressRun:
        raise NotImplementedError

    # ---- (Run Starting) and (Results) boxes: "│ Key:   value │" rows, values may wrap
    def _box_line(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        stripped = text.strip()
        if not stripped:
            return
        first = stripped[0]
        if first in _BOX_TOP and _only_box_chars(stripped):
            self._box_top = True
            return
        if self._box_top and first in _BOX_BOTTOM and _only_box_chars(stripped):
            self._close_box()
            return
        inner = _box_inner(stripped) if _BOX_SIDE in stripped else ""
        match = _KV_RE.match(inner) if inner else None
        if (self._box_top and inner) or match:
            # a "│ Key: value │" row before the box's top: its top line came before (interleaved output)
            self._box_top = True
            self._box_noise = 0  # only a long stretch of other lines ends a box without its bottom
            fields = self._box_fields
            if match:
                key = match.group("key").strip()
                if any(k == key for k, _v in fields) and len(self._box_more) < MAX_FIELDS:
                    # the same key again: another run's box is interleaved with this one, each is kept
                    self._box_more.append(fields)
                    fields = self._box_fields = []
                if len(fields) < MAX_FIELDS:
                    fields.append([key, (match.group("value") or "").strip()])
            elif fields and len(fields[-1][1]) < NAME_CHARS and _to_int(fields[-1][1]) is None \
                    and _ROW_RE.match(inner.strip()) is None:
                fields[-1][1] += inner.strip()  # a wrapped value (a count never wraps; a table row is no value)
            return
        self._box_noise += 1
        if self._box_noise > 10:
            self._close_box()
            self._leave_mode(raw, text, off, end_off)
        else:
            self._failures(raw, text)

    def _close_box(self) -> None:
        if self._mode == _BANNER:
            self._close_banner()
        elif self._mode == _RESULTS:
            self._close_results()
        self._mode = _SCAN

    def _take_box(self) -> List[Dict[str, str]]:
        """End the box being read: its fields, one dict per box (several when the lines of other
        runs' boxes were interleaved with it); empty when it had none."""
        sets = [f for f in self._box_more + [self._box_fields] if f]
        self._box_fields = []
        self._box_more = []
        self._mode = _SCAN
        if not sets or self._run() is None:
            return []
        return [dict(reversed(fields)) for fields in sets]

    def _close_banner(self) -> None:
        boxes = self._take_box()
        run = self._run()
        if not boxes or run is None:
            return
        values = boxes[0]
        run.cypress_version = values.get("Cypress") or run.cypress_version
        run.browser = values.get("Browser") or run.browser
        run.run_url = values.get("Run URL") or run.run_url
        specs = _SPECS_RE.match(values.get("Specs", ""))
        if specs:
            run.specs_found_count = int(specs.group("n"))
            run.specs_found = []
            for item in (specs.group("list") or "").split(","):
                item = item.strip()
                if not item or item.endswith("...") or item.endswith("\u2026"):
                    continue  # "..." marks a list cut at 250 characters: the last name is partial
                self._keep(run, run.specs_found, item[:NAME_CHARS])
        params = values.get("Params", "")
        if params:
            parallel = _PARALLEL_RE.search(params)
            if parallel:
                run.parallel = parallel.group("parallel") == "true"
            group = _GROUP_RE.search(params)
            if group:
                name = group.group("group").strip()
                if name and name != "false" and run.label_source != "marker":
                    run.label = name[:NAME_CHARS]
                    run.label_source = "group"

    def _close_results(self) -> None:
        run = self._run()
        boxes = self._take_box()
        if run is None or not boxes:
            return
        provisional = self._provisional
        if provisional is not None and provisional[0] is run:
            # mocha's "N failing" row of the spec of this box: the box says it all
            if run.spec_results and run.spec_results[-1] is provisional[1]:
                run.spec_results.pop()
            else:
                run.spec_results[:] = [row for row in run.spec_results if row is not provisional[1]]
        self._provisional = None
        for values in boxes:
            self._results_row(run, values)

    def _results_row(self, run: CypressRun, values: Dict[str, str]) -> None:
        counts = Counts(
            tests=_to_int(values.get("Tests")),
            passed=_to_int(values.get("Passing")),
            failed=_to_int(values.get("Failing")),
            pending=_to_int(values.get("Pending")),
            skipped=_to_int(values.get("Skipped")),
        )
        spec = values.get("Spec Ran") or run.current_spec or ""
        if counts.failed:
            status = "failed"
        elif counts.failed == 0:
            status = "passed"
        else:
            status = "unknown"
        self._keep(run, run.spec_results, SpecRow(spec=spec[:NAME_CHARS], status=status, counts=counts,
                                                  duration=values.get("Duration")))
        run.current_spec = None

    # ---- (Run Finished) table
    def _table_line(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        stripped = text.strip()
        if not stripped:
            return
        first = stripped[0]
        if first != _BOX_SIDE:
            summary = SUMMARY_RE.search(stripped)
            if summary:
                self._summary(summary, end_off)
                return
        if _only_box_chars(stripped):
            if first in _BOX_TOP:
                self._tbl_top = True
            elif first in _BOX_BOTTOM:
                self._tbl_bottom = True
            return
        if first == _BOX_SIDE and not self._tbl_bottom:
            inner = _box_inner(stripped).strip()
            row = _ROW_RE.match(inner)
            if row:
                self._table_row(row)
            elif inner and self._rows and len(self._rows[-1].spec) < NAME_CHARS:
                self._rows[-1].spec += inner
            return
        row = _ROW_RE.match(stripped)
        if row and not self._tbl_bottom:
            self._table_row(row)
            return
        self._tbl_noise += 1
        if self._tbl_bottom or self._tbl_noise > 30:
            self._leave_mode(raw, text, off, end_off)
        else:
            self._failures(raw, text)

    def _table_row(self, row: "re.Match[str]") -> None:
        if len(self._rows) >= MAX_ROWS:
            self._rows_dropped += 1
            return
        glyph = row.group("glyph")
        duration: Optional[str] = row.group("dur")
        if glyph in _PASS_GLYPHS:
            status = "passed"
        elif glyph in _FAIL_GLYPHS:
            status = "failed"
        else:
            status = "skipped"
        if duration == "SKIPPED":
            status = "skipped"
            duration = None
        self._rows.append(SpecRow(spec=row.group("spec").strip()[:NAME_CHARS], status=status,
                                  counts=_counts(row.groups()[3:8]), duration=duration))

    def _summary(self, summary: "re.Match[str]", end_off: int) -> None:
        """The summary row: the table read so far belongs to the run it finishes (see the parser)."""
        rows, dropped = self._rows, self._rows_dropped
        self._rows, self._rows_dropped = [], 0
        self._mode = _SCAN
        run = self._table_owner(rows)
        folded = run.overflow > 0 and run.all_passed is not None  # an overflow record adds summaries up
        if not folded:
            run.finished_rows = []
        for row in rows:
            self._keep(run, run.finished_rows, row)
        run.dropped += dropped
        what = summary.group("what")
        if what == "All specs passed!":
            passed, failed, total = True, 0, len(rows) + dropped
        elif what == "The run was canceled":
            passed, failed, total = False, sum(1 for r in rows if r.status == "failed"), len(rows) + dropped
            run.canceled = True
            self._problem(what, by_name("RUN_CANCELED_SUMMARY"))
        else:
            passed, failed, total = False, int(summary.group("nf")), int(summary.group("nt"))
        totals = _counts(summary.groups()[5:10]) if summary.group("dur") is not None else Counts()
        if folded:
            run.all_passed = bool(run.all_passed) and passed
            run.failed_specs = (run.failed_specs or 0) + failed
            run.total_specs = (run.total_specs or 0) + total
            add_counts(run.totals, totals)
        else:
            run.all_passed, run.failed_specs, run.total_specs, run.totals = passed, failed, total, totals
        run.finished = True
        run.end_offset = end_off
        run.current_spec = None

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The boxes and the table of Cypress console output, read by :class:`~.cypress_log.CypressLogParser`.

:class:`BoxReader` reads the ``(Run Starting)`` and ``(Results)`` boxes (``│ Key:   value │``
rows whose values may wrap) and the ``(Run Finished)`` table (one row per spec, names wrapped onto
continuation lines, then the summary row). It is a part of the parser: it works on the parser's
state (mode, current run) and hands back to it the lines that are not its own.
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

_KV_RE = re.compile(r"^\s*(?P<key>[A-Za-z][A-Za-z ]{0,30}?):(?:\s+(?P<value>.*?))?\s*$")
_SPECS_RE = re.compile(r"^(?P<n>\d+)\s+found\b\s*(?:\((?P<list>.*?)\)?)?\s*$")
_GROUP_RE = re.compile(r"\bGroup:\s*(?P<group>.*?)\s*(?:,\s*Parallel:|,\s*Auto Cancel|$)")
_PARALLEL_RE = re.compile(r"\bParallel:\s*(?P<parallel>true|false)\b")
_COUNT = r"(\d+|-)"
_ROW_RE = re.compile(
    r"^(?P<glyph>[\u2714\u2713\u221a\u2716\u2717\u00d7-])\s+(?P<spec>\S.*?)\s+(?P<dur>\S+)"
    r"\s+" + r"\s+".join([_COUNT] * 5) + r"$"
)
_SUMMARY_RE = re.compile(
    r"(?:^|\s)(?P<glyph>[\u2714\u2713\u221a\u2716\u2717\u00d7-])\s+"
    r"(?P<what>All specs passed!|(?P<nf>\d+) of (?P<nt>\d+) failed \(\d+%\)|The run was canceled)"
    r"(?:\s+(?P<dur>\S+)\s+" + r"\s+".join([_COUNT] * 5) + r")?\s*$"
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


class BoxReader:
    """The box and table part of the parser (a mixin of :class:`~.cypress_log.CypressLogParser`)."""

    _mode: int
    _box_top: bool
    _box_noise: int
    _box_fields: List[List[str]]
    _tbl_top: bool
    _tbl_bottom: bool
    _tbl_noise: int

    # What the parser provides (it overrides these).
    def _run(self) -> Optional[CypressRun]:
        raise NotImplementedError

    def _failures(self, raw: bytes, text: str) -> None:
        raise NotImplementedError

    def _leave_mode(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        raise NotImplementedError

    def _problem(self, text: str, sig: Signature) -> None:
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
        if self._box_top and _BOX_SIDE in stripped:
            inner = _box_inner(stripped)
            match = _KV_RE.match(inner)
            if match:
                self._box_fields.append([match.group("key").strip(), (match.group("value") or "").strip()])
            elif self._box_fields:
                self._box_fields[-1][1] += inner.strip()
            return
        if self._box_top:
            self._close_box()
            self._leave_mode(raw, text, off, end_off)
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

    def _take_box(self) -> Optional[Dict[str, str]]:
        """End the box being read: its fields (the first of a repeated key wins), None when empty."""
        fields = self._box_fields
        self._box_fields = []
        self._mode = _SCAN
        if self._run() is None or not fields:
            return None
        values: Dict[str, str] = {}
        for key, value in fields:
            values.setdefault(key, value)
        return values

    def _close_banner(self) -> None:
        values = self._take_box()
        run = self._run()
        if values is None or run is None:
            return
        run.cypress_version = values.get("Cypress") or run.cypress_version
        run.browser = values.get("Browser") or run.browser
        run.run_url = values.get("Run URL") or run.run_url
        specs = _SPECS_RE.match(values.get("Specs", ""))
        if specs:
            run.specs_found_count = int(specs.group("n"))
            names = []
            for item in (specs.group("list") or "").split(","):
                item = item.strip()
                if not item or item.endswith("...") or item.endswith("\u2026"):
                    continue  # "..." marks a list cut at 250 characters: the last name is partial
                names.append(item)
            run.specs_found = names
        params = values.get("Params", "")
        if params:
            parallel = _PARALLEL_RE.search(params)
            if parallel:
                run.parallel = parallel.group("parallel") == "true"
            group = _GROUP_RE.search(params)
            if group:
                name = group.group("group").strip()
                if name and name != "false" and run.label_source != "marker":
                    run.label = name
                    run.label_source = "group"

    def _close_results(self) -> None:
        values = self._take_box()
        run = self._run()
        if values is None or run is None:
            return
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
        run.spec_results.append(SpecRow(spec=spec, status=status, counts=counts, duration=values.get("Duration")))
        run.current_spec = None

    # ---- (Run Finished) table
    def _table_line(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        stripped = text.strip()
        run = self._run()
        if not stripped or run is None:
            return
        first = stripped[0]
        if first != _BOX_SIDE:
            summary = _SUMMARY_RE.search(stripped)
            if summary:
                self._summary(run, summary, end_off)
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
                self._table_row(run, row)
            elif inner and run.finished_rows:
                run.finished_rows[-1].spec += inner
            return
        row = _ROW_RE.match(stripped)
        if row and not self._tbl_bottom:
            self._table_row(run, row)
            return
        self._tbl_noise += 1
        if self._tbl_bottom or self._tbl_noise > 30:
            self._leave_mode(raw, text, off, end_off)
        else:
            self._failures(raw, text)

    @staticmethod
    def _table_row(run: CypressRun, row: "re.Match[str]") -> None:
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
        run.finished_rows.append(SpecRow(spec=row.group("spec").strip(), status=status,
                                         counts=_counts(row.groups()[3:8]), duration=duration))

    def _summary(self, run: CypressRun, summary: "re.Match[str]", end_off: int) -> None:
        what = summary.group("what")
        rows = run.finished_rows
        if what == "All specs passed!":
            run.all_passed = True
            run.failed_specs = 0
            run.total_specs = len(rows)
        elif what == "The run was canceled":
            run.all_passed = False
            run.canceled = True
            run.failed_specs = sum(1 for r in rows if r.status == "failed")
            run.total_specs = len(rows)
            self._problem(what, by_name("RUN_CANCELED_SUMMARY"))
        else:
            run.all_passed = False
            run.failed_specs = int(summary.group("nf"))
            run.total_specs = int(summary.group("nt"))
        if summary.group("dur") is not None:
            run.totals = _counts(summary.groups()[5:10])
        run.finished = True
        run.end_offset = end_off
        run.current_spec = None
        self._mode = _SCAN

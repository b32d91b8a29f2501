# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cypress console output parser (``cypress run``, Cypress 3 to 15), fed incrementally with bytes.

``CypressLogParser(marker_regex=config.DEFAULT_MARKER_REGEX, first_index=0)``

- ``feed(data: bytes)``: the next bytes of the log; chunks may split lines (and UTF-8
  characters) anywhere, the unfinished last line is kept until its newline arrives.
- ``finish()``: end of input: the unfinished last line is parsed as a line.
- ``reset()``: forget everything.
- ``gap(what)``: bytes may be missing here (a log rotation, see ``LogReader.gap``); the run in
  progress is marked ``text_lost``, nothing read is forgotten.
- ``runs``: every Cypress run found so far, in log order, as :class:`~.models.CypressRun`
  (one sub-run of a categorized request each), numbered from ``first_index`` (a parser resumed
  after a restart numbers its runs on). The objects are updated in place while the run goes on;
  copy them (``to_dict()``) to keep a snapshot. Each has ``opened_by``: the first 16 hex digits of
  the SHA-256 of the line that opened it (the wrapper marker, else the ``(Run Starting)`` line),
  cleaned of prefixes and ANSI codes, so that a restarted watcher recognises a run it has seen.
- ``stray_markers``: wrapper markers that opened no group (:class:`StrayMarkers`: how many, the
  first labels).
- ``preamble_problems``: failure texts seen before any run existed.
- ``offset``: bytes fed so far; ``buffered``: bytes held for the unfinished last line (never more
  than ``line_cap``).

:func:`parse_log_file` reads a whole file through :class:`~.logfile.LogReader`.

What is read (a run starts at a wrapper marker line or at ``(Run Starting)``):

- wrapper markers: a line whose cleaned text matches ``marker_regex`` (named group ``label``)
  announces a group. It becomes a run (``label_source="marker"``) once the group shows that it
  ran: Cypress output (the next ``(Run Starting)`` fills that run), a failure text, or more than
  :data:`PENDING_LINES` lines of output. A marker followed by the next marker with nothing of that
  kind is stray: counted in ``stray_markers``, no run; a wrapper line with a failure word
  (``cannot reach the director``) makes it a run that never started, that line its problem. A
  marker at the end of the log is a run that never started. Without a marker, every
  ``(Run Starting)`` starts a new run whose label is its ``Group:`` parameter
  (``label_source="group"``) when it has one;
- the ``(Run Starting)`` box: Cypress version, browser, ``Specs: N found (a, b, ...)`` (a list
  wrapped over several box lines is joined, a list cut with ``...`` keeps the complete names),
  ``Params: ... Group: G, Parallel: true``, ``Run URL:``;
- ``Running: <spec> (n of m)`` (a long spec name wrapped onto the next lines is joined; Cypress 3's
  ``Running: spec.js...`` loses its dots);
- every ``(Results)`` box (one :class:`~.models.SpecRow` in ``spec_results``);
- the ``(Run Finished)`` table: one row per spec (``finished_rows``; ✔ √ passed, ✖ × failed,
  ``-`` ``SKIPPED``; names wrapped onto continuation lines are joined; ``-`` counts are 0; noise
  lines such as ``tput: ...`` between the heading and the table are skipped) and the summary row
  (``All specs passed!``, ``N of M failed (X%)`` or ``The run was canceled``, with or without its
  glyph). ``finished`` is True only once that summary row was read; ``end_offset`` is the offset
  just after it. A summary row with its counts is read wherever it is (a paste that lost the table
  around it, interleaved output);
- ``Recorded Run: URL``;
- failure texts (:mod:`.signatures`), recorded in ``problems`` (cleaned, de-duplicated, at most
  50 per run) with their flag: ``crashed``, ``plugin_error``, ``canceled`` (and ``exit_text`` for
  "Exiting with non-zero exit code because the run was canceled."), ``no_specs``; a retried one
  ("Timed out waiting for the browser to connect") is forgotten once it is overcome. A failure
  text belongs to the last run seen (started or not) and to ``preamble_problems`` when there is
  none yet. Text that is not a failure is not read as one: a test's title (``✓ warns when the user
  set an invalid value``, a pending ``- ...`` or failing ``1) ...`` test, ``(Attempt 2 of 3) ...``),
  a screenshot or video path, and a suite title (an indented line in a spec's output that the next
  line indents further).

Several runs at once (output of parallel runs interleaved without a runner name, ``kubectl logs``
of several pods): a new ``(Run Starting)`` does not end the runs before it; a ``(Run Finished)``
table belongs to the open run (started, not finished) whose specs it names, the latest on a tie;
a ``Running: x (n of m)`` line that does not follow the current run's numbering but follows another
open run's belongs to that one. When a table or a ``Running:`` line belongs to another run than the
latest one, the runs open then are ``concurrent``: their output is interleaved, so a run among them
that shows no end did not end without its table for all the reader knows (the decision rules say
UNKNOWN for it, never FAIL). A wrapper marker ends every run before it: sub-runs of a categorized
request follow each other, and an unfinished run followed by another is FAILED there.

Prefixes: CI timestamps and runner names (:func:`~.logtext.split_prefix`), and any other stable
prefix learned from the log itself: the text before a Cypress heading (``9:53:58 AM:``,
``build<TAB>07-Feb-2019 10:11:12<TAB>``, ``[INFO]``, ``packages/e2e test:``) gives a shape
(:func:`~.logtext.prefix_shape`) that is removed from every later line.

Bounded cost, whatever the input holds: at most :data:`MAX_RUNS` runs are kept one by one, the
later ones are folded into one more run whose ``overflow`` says how many it stands for (never a
PASS, see the decision rules); a run keeps at most :data:`~.cypress_boxes.MAX_ROWS` entries per list
and the parser :data:`MAX_KEPT` over all runs (what is not kept is counted in the run's ``dropped``,
never a PASS either); problems, box fields, runner names, learned prefixes and stray marker labels
are bounded too; no work per line grows with what was read before.

How it stays fast on logs of hundreds of MB, and why that decides nothing: :mod:`.cypress_feed`.
Failure texts, their prefixes and runner names: :mod:`.cypress_failures`.
"""
from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from typing import Any, Dict, List, Optional, Pattern, Set, Tuple

from ..errors import ConfigError, InputError
from ..models import Counts, CypressRun, SpecRow
from ..settings import DEFAULT_MARKER_REGEX
from .cypress_boxes import (
    _BANNER, _FINISHED, _RESULTS, _RUNNING_CONT, _SCAN, MAX_ROWS, NAME_CHARS, RUNNING_CONT_RE, RUNNING_RE, SUMMARY_RE,
    BoxReader,
)
from .cypress_failures import MAX_NAMES, PROBLEM_CHARS, _WRAPPER_FAILURE_RE, FailureText
from .cypress_feed import _BLOCK, LineFeed
from .logfile import LogReader
from .logtext import LogDecoder
from .signatures import Signature, required_literal, scanner

LINE_CAP = 64 * 1024
MAX_RUNS = 200  # runs kept one by one; later ones are folded into one overflow record
MAX_KEPT = 60000  # list entries (specs, rows) kept over all runs
MAX_OPEN = 32  # open runs (started, not finished) considered for a table
MAX_STRAY_LABELS = 10
PENDING_LINES = 1000  # lines of output after a wrapper marker that make it a group that ran

# Candidate lines are found in the raw bytes by one scan (:class:`~.signatures.Scanner`) for the
# structure words, every wording of every failure signature and the literal part of the marker
# regex. ANSI colouring wraps these words, it does not split them (``(\x1b[4mRun Starting\x1b[24m)``).
_STRUCT_WORDS = (b"Run Starting", b"Run Finished", b"Running:", b"Results", b"Recorded Run:", b"All specs passed!",
                 b"failed (", b"run was canceled", b"Failing:", b" failing")
_STRUCT_RE = re.compile(
    rb"Run Starting|Run Finished|Running:|Results|Recorded Run:|All specs passed!|failed \(|run was canceled|Failing:"
    rb"| failing")
# Mocha's summary of a spec's tests ("  2 failing"): a failure before the spec's (Results) box comes.
_MOCHA_FAILING_RE = re.compile(r"^\s*(?P<n>\d+) failing\s*$")
# A (Results) box's failing count read outside its box (the box was interleaved with other output).
_FAILING_ROW_RE = re.compile(r"^\s*\u2502?\s*Failing:\s+(?P<n>\d+)\s*\u2502?\s*$")

_HEADING_RE = re.compile(r"(?:^|\s)\((Run Starting|Results|Run Finished)\)\s*$")
_RECORDED_RE = re.compile(r"(?:^|\s)Recorded Run:\s+(?P<url>\S+)")
# Parser state kept per runner name (interleaved output of parallel runners, see split_prefix).
_STREAM_FIELDS = ("_mode", "_box_top", "_box_noise", "_box_fields", "_box_more", "_tbl_top", "_tbl_bottom",
                  "_tbl_noise", "_run_width", "_cur", "_open", "_rows", "_rows_dropped")


_UNFINISHED_FOLDED = "a Cypress run beyond the first {0} ended without its (Run Finished) table".format(MAX_RUNS)


def digest(text: str) -> str:
    """The short stable digest of a line (``opened_by``): 16 hex digits of its SHA-256."""
    return hashlib.sha256(text.strip().encode("utf-8", "replace")).hexdigest()[:16]


@dataclasses.dataclass
class StrayMarkers:
    """Wrapper markers that opened no group: how many, and the labels of the first ones."""

    count: int = 0
    labels: List[str] = dataclasses.field(default_factory=list)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


class CypressLogParser(LineFeed, FailureText, BoxReader):
    """Incremental parser of Cypress console output (see the module documentation)."""

    def __init__(self, marker_regex: Optional[str] = DEFAULT_MARKER_REGEX, line_cap: int = LINE_CAP,
                 first_index: int = 0, every_line: bool = False) -> None:
        self.marker_regex = marker_regex or None
        self._marker_rx: Optional[Pattern[str]] = None
        self._marker_lit: Optional[bytes] = None
        self._marker_every_line = False
        if self.marker_regex:
            try:
                self._marker_rx = re.compile(self.marker_regex)
            except re.error as exc:
                raise ConfigError("invalid wrapper marker regex {0!r}: {1}".format(self.marker_regex, exc)) from None
            if "label" not in self._marker_rx.groupindex:
                raise ConfigError("the wrapper marker regex {0!r} has no named group (?P<label>...)".format(
                    self.marker_regex))
            literal = required_literal(self.marker_regex)
            if literal:
                self._marker_lit = literal.encode("utf-8")
            else:
                self._marker_every_line = True
        self.line_cap = max(256, int(line_cap))
        self.first_index = max(0, int(first_index))
        self.every_line = bool(every_line)
        self._scanner = scanner(_STRUCT_WORDS + ((self._marker_lit,) if self._marker_lit else ()))
        self.reset()

    # ------------------------------------------------------------------ public API
    def reset(self) -> None:
        """Forget every run and every byte fed (the log restarts from its first byte)."""
        self.runs: List[CypressRun] = []
        self.preamble_problems: List[str] = []
        self.preamble_fatal = False
        self.stray_markers = StrayMarkers()
        self.offset = 0
        self._pos = 0
        self._decoder = LogDecoder()
        self._streams: Dict[str, Tuple[Any, ...]] = {}
        self._key = ""
        self._known: Set[str] = set()
        self._teach = True  # the line being read may teach a runner's name (see _text)
        self._others_busy = False
        self._retried: List[Tuple[List[str], str, Optional[str]]] = []  # retried problems not overcome yet
        self._partial = b""
        self._partial_off = 0
        self._partial_dropped = False
        self._shapes: List[Pattern[str]] = []
        self._cache: Dict[bytes, Tuple[str, str]] = {}
        self._kept = 0
        self._seg = 0  # position of the first run after the last wrapper marker
        self._marker: Optional[Tuple[str, int, str]] = None  # a marker not yet known to open a group
        self._marker_lines = 0
        self._marker_texts: List[str] = []
        # a failure text waiting for the next line: a suite's title (indent, else -1)? after a prefix (where
        # its wording starts, else 0)?
        self._held: Optional[Tuple[str, Signature, int, int]] = None
        self._progress: Dict[int, Tuple[int, int]] = {}  # run position -> last "Running: (n of m)"
        self._last_finished: Optional[int] = None
        self._filling: Optional[int] = None  # a marker's run waiting for its (Run Starting)
        self._tbl_off = 0  # where the table being read starts
        self._where: Tuple[bytes, int, int] = (b"", 0, 0)  # the lines being read, where they start, the line's start
        self._before = b""  # the last line before them
        self._provisional: Optional[Tuple[CypressRun, SpecRow]] = None  # a spec's row from mocha's "N failing"
        self._memo: Tuple[Optional[str], Optional["re.Match[str]"]] = (None, None)
        self._word_memo: Tuple[Optional[bytes], bool] = (None, False)
        self._last_raw: Optional[bytes] = None  # the last line read, and what reading it again did
        self._repeat = 0
        self._mode = _SCAN
        self._box_top = False
        self._box_noise = 0
        self._box_fields: List[List[str]] = []
        self._box_more: List[List[List[str]]] = []
        self._tbl_top = False
        self._tbl_bottom = False
        self._tbl_noise = 0
        self._run_width = 0
        self._cur: Optional[int] = None
        self._open: List[int] = []
        self._rows: List[SpecRow] = []
        self._rows_dropped = 0

    def gap(self, what: str) -> None:
        """Bytes of the log may be missing at this point (``what`` says why, e.g. a log rotation):
        nothing read so far is forgotten, the run in progress (if any) is marked ``text_lost``."""
        run = self._run()
        if run is not None and not run.finished:
            run.text_lost = what

    @property
    def buffered(self) -> int:
        """Bytes held for the unfinished last line (bounded by ``line_cap``)."""
        return len(self._partial)

    @property
    def current(self) -> Optional[CypressRun]:
        """The last run found, or None."""
        return self.runs[-1] if self.runs else None

    def finish(self) -> None:
        """End of input: parse the unfinished last line and close what it left open."""
        self._feed_text(self._decoder.decode(b"", final=True))
        if self._partial or self._partial_dropped:
            line = self._partial
            self._partial = b""
            self._partial_dropped = False
            self._last_raw = None
            self._teach = self._teaches(line)
            self._line(line, self._partial_off, self._pos, None)
            self._teach = True
        self._release_held(None)
        for key in [self._key] + [k for k in self._streams if k != self._key]:
            self._switch(key)
            self._close_open_mode()  # a box cut by the end of the log keeps what it read
        if self._marker is not None:
            self._materialize(texts=True)  # a marker at the end of the log: a group that never started

    # ------------------------------------------------------------------ byte handling
    # ------------------------------------------------------------------ a line again
    # ------------------------------------------------------------------ runs
    def _keep(self, run: CypressRun, items: list, item: object) -> None:
        """Append ``item`` to one of ``run``'s lists, within the bounds (else count it as dropped)."""
        if len(items) < MAX_ROWS and self._kept < MAX_KEPT:
            items.append(item)
            self._kept += 1
        else:
            run.dropped += 1

    def _new_run(self, off: int) -> CypressRun:
        """A new run (the overflow record once :data:`MAX_RUNS` are kept); it is the current one."""
        if len(self.runs) < MAX_RUNS:
            run = CypressRun(index=self.first_index + len(self.runs), start_offset=off)
            self.runs.append(run)
        elif len(self.runs) == MAX_RUNS:
            run = CypressRun(index=self.first_index + MAX_RUNS, start_offset=off, overflow=1)
            self.runs.append(run)
        else:
            run = self.runs[-1]
            self._fold(run)
        self._cur = len(self.runs) - 1
        self._progress.pop(self._cur, None)
        self._filling = None
        return run

    def _fold(self, run: CypressRun) -> None:
        """One more run folded into the overflow record ``run``: what the one before showed stays
        (its summary, problems and flags); a run before it that ended without its table is a problem."""
        if run.started and not run.finished and not run.concurrent and _UNFINISHED_FOLDED not in run.problems:
            self._problem_text(run, _UNFINISHED_FOLDED)
        run.overflow += 1
        run.started = False
        run.finished = False
        run.current_spec = None
        run.end_offset = None

    def _materialize(self, texts: bool = False) -> CypressRun:
        """The pending wrapper marker opened a group: it is a run now (the current one); with
        ``texts``, the wrapper's failure lines under the marker are its problems (no Cypress output
        came: they say why the group failed)."""
        if self._marker is None:
            raise AssertionError("no pending wrapper marker to make a run of")
        label, off, line = self._marker
        texts = self._marker_texts if texts else []
        self._marker, self._marker_lines, self._marker_texts = None, 0, []
        run = self._new_run(off)
        if run.overflow <= 1:
            run.label, run.label_source, run.opened_by = label, "marker", digest(line)
        self._seg = self._cur or 0
        self._open = []
        self._filling = self._cur
        for text in texts:
            self._problem_text(run, text)
        return run

    def _run(self) -> Optional[CypressRun]:
        """The run of the current runner name (else the last run), or None; a pending wrapper
        marker becomes a run first (what comes now shows that its group ran)."""
        if self._marker is not None:
            return self._materialize()
        if self._cur is not None:
            return self.runs[self._cur]
        return self.runs[-1] if self.runs else None

    def _activity_run(self, off: int) -> CypressRun:
        """The run a Cypress line belongs to (one is made, started, if the log starts mid-run)."""
        run = self._run()
        if run is None:
            run = self._new_run(off)
            run.started = True
            self._open.append(self._cur or 0)
        return run

    def _switch(self, key: str) -> None:
        """Continue with the parser state of the runner named ``key`` (parallel runners interleave)."""
        if key == self._key:
            return
        if key not in self._streams and len(self._streams) >= MAX_NAMES:
            return  # beyond the bound, a new runner's lines go on in the current state
        self._streams[self._key] = tuple(getattr(self, f) for f in _STREAM_FIELDS)
        state = self._streams.pop(key, None)
        if state is None:
            state = (_SCAN, False, 0, [], [], False, False, 0, 0, None, [], [], 0)
        for field, value in zip(_STREAM_FIELDS, state):
            setattr(self, field, value)
        self._key = key
        self._others_busy = any(st[0] != _SCAN for st in self._streams.values())

    def _interleaved(self, owner: int) -> None:
        """Evidence that the output of several runs is interleaved: the runs open now and every run
        started after ``owner`` (since the last marker) are ``concurrent``."""
        first = min([owner] + [p for p in self._open if p >= self._seg])
        for pos in range(max(first, self._seg), len(self.runs)):
            if self.runs[pos].started:
                self.runs[pos].concurrent = True

    def _table_owner(self, rows: List[SpecRow]) -> CypressRun:
        """The run a finished table belongs to (see the module documentation)."""
        self._run()  # a pending marker: its group ran
        runs = self.runs
        cands = [p for p in self._open if p >= self._seg and not runs[p].finished]
        cur = self._cur
        if cur is not None and cur >= self._seg and not runs[cur].finished and cur not in cands:
            cands.append(cur)
        if not cands:
            if cur is None or runs[cur].finished:
                run = self._new_run(self._tbl_off)  # the end of a run whose start is not in the log
                run.started = True
                cur = self._cur
            owner = cur if cur is not None else len(runs) - 1
        elif len(cands) == 1:
            owner = cands[0]
        else:
            names = {r.spec for r in rows}
            owner = max(cands[-8:], key=lambda p: (self._score(runs[p], names), p))
        if any(runs[p].started for p in range(owner + 1, len(runs))) and owner >= self._seg:
            self._interleaved(owner)
        if owner in self._open:
            self._open.remove(owner)
        self._last_finished = owner
        return runs[owner]

    @staticmethod
    def _score(run: CypressRun, names: Set[str]) -> int:
        if not names:
            return 0
        known = set(run.specs_found) | set(run.specs_run) | {r.spec for r in run.spec_results}
        return len(names & known)

    # ------------------------------------------------------------------ line handlers
    def _marker_line(self, label: str, text: str, off: int) -> None:
        """A wrapper marker: the group it announces is a run once it shows that it ran."""
        self._close_open_mode()
        self._settle_marker()
        self._marker = (label[:NAME_CHARS], off, text)
        self._marker_lines = 0
        self._marker_texts = []
        self._open = []
        self._seg = len(self.runs)

    def _settle_marker(self) -> None:
        """The next marker came: the pending one is a run if its group printed a failure, else stray."""
        if self._marker is None:
            return
        if self._marker_texts:
            self._materialize(texts=True)
            return
        label = self._marker[0]
        self._marker = None
        self.stray_markers.count += 1
        if len(self.stray_markers.labels) < MAX_STRAY_LABELS:
            self.stray_markers.labels.append(label)

    def _structural(self, raw: bytes, text: str, off: int, end_off: int) -> bool:
        """Handle a marker, a heading, a Running: line, a Recorded Run: line or a summary row found
        on its own; False if the line is none of these."""
        if self._marker_rx is not None and (self._marker_every_line or (self._marker_lit or b"") in raw):
            match = self._marker_rx.search(text)
            if match:
                self._marker_line(match.group("label") or "", text, off)
                return True
        if not self.every_line and not self._structure_word(raw):
            return False
        heading = self._heading(text)
        if heading:
            self._learn_prefix(text[:heading.start()])
            self._close_open_mode()
            self._heading_line(heading.group(1), text, off)
            return True
        running = RUNNING_RE.search(text)
        if running:
            self._close_open_mode()
            self._running(running, off)
            return True
        recorded = _RECORDED_RE.search(text)
        if recorded:
            last = self._last_finished
            run = self.runs[last] if last is not None and self._marker is None else self._activity_run(off)
            run.recorded_run_url = recorded.group("url")[:NAME_CHARS]
            return True
        failing = _MOCHA_FAILING_RE.match(text)
        if failing:
            self._mocha_failing(int(failing.group("n")))
            return True
        summary = SUMMARY_RE.search(text)
        if summary and summary.group("dur") is not None and not text.lstrip().startswith("\u2502"):
            self._close_open_mode()
            self._rows, self._rows_dropped = [], 0
            self._tbl_off = off
            self._summary(summary, end_off)
            return True
        return False

    def _heading_line(self, what: str, text: str, off: int) -> None:
        """A ``(Run Starting)``, ``(Results)`` or ``(Run Finished)`` heading: what it opens."""
        if what == "Run Starting":
            self._start_run(off, text)
            self._overcome("run_start")
        elif what == "Results":
            self._activity_run(off)
            self._overcome("connected")
            self._mode = _RESULTS
            self._box_top = False
            self._box_noise = 0
            self._box_fields = []
            self._box_more = []
        else:
            run = self._activity_run(off)
            run.current_spec = None
            self._overcome("connected")
            self._mode = _FINISHED
            self._tbl_off = off
            self._tbl_top = False
            self._tbl_bottom = False
            self._tbl_noise = 0
            self._rows = []
            self._rows_dropped = 0

    def _running(self, match: "re.Match[str]", off: int) -> None:
        """``Running: spec (n of m)``: the spec now running, in the run whose numbering it follows."""
        run = self._activity_run(off)
        n, m = int(match.group("n")), int(match.group("m"))
        cur = self._cur if self._cur is not None else len(self.runs) - 1
        if not self._follows(cur, n, m):
            for pos in reversed(self._open[-MAX_OPEN:]):
                if pos != cur and pos >= self._seg and not self.runs[pos].finished and self._follows(pos, n, m):
                    self._cur = cur = pos
                    run = self.runs[pos]
                    self._interleaved(pos)
                    break
        self._progress[cur] = (n, m)
        spec = match.group("spec").strip()
        if spec.endswith("...") and len(spec) > 3:
            spec = spec[:-3]  # Cypress 3 prints "Running: spec.js..."
        spec = spec[:NAME_CHARS]
        self._overcome("connected")
        self._keep(run, run.specs_run, spec)
        run.current_spec = spec
        if len(spec) >= 60:
            self._run_width = len(spec)
            self._mode = _RUNNING_CONT

    def _follows(self, pos: int, n: int, m: int) -> bool:
        last = self._progress.get(pos)
        return n == 1 if last is None else last == (n - 1, m)

    def _line(self, raw: bytes, off: int, end_off: int, candidate: Optional[bool]) -> None:
        """One complete line; ``candidate``: it holds a word the byte scan looks for (None: not known yet)."""
        text = self._text(raw)
        if self._held is not None:
            shapes = len(self._shapes)
            self._release_held(text, raw)
            if len(self._shapes) != shapes:
                text = self._text(raw)  # a prefix learned from this line: read it without
        if self._marker is not None:
            self._marker_lines += 1
            if self._marker_lines > PENDING_LINES:
                self._materialize()  # a long stretch of output under the marker: its group ran
        if self._mode != _RESULTS and b"Failing:" in raw and self._orphan_failing(text, off):
            return
        if candidate is None:
            candidate = self.every_line or self._any_needle(raw)
        if self._mode == _SCAN:
            if candidate:
                if not self._structural(raw, text, off, end_off):
                    self._failures(raw, text)
            elif self._marker is not None and _WRAPPER_FAILURE_RE.search(text) and len(self._marker_texts) < 5:
                self._marker_texts.append(text.strip()[:PROBLEM_CHARS])
            return
        if self._interrupts(raw, text):
            self._leave_mode(raw, text, off, end_off)
            return
        if self._mode == _RUNNING_CONT:
            self._running_cont_line(raw, text, off, end_off)
        elif self._mode == _FINISHED:
            self._table_line(raw, text, off, end_off)
        else:
            self._box_line(raw, text, off, end_off)

    def _mocha_failing(self, failed: int) -> None:
        """Mocha's "N failing" in a spec's output: the spec failed, whatever comes after (a log cut
        before its (Results) box still says so); the box, when it comes, takes this row's place."""
        run = self.runs[self._cur] if self._cur is not None and self._marker is None else None
        if run is None or not run.current_spec or not failed:
            return
        provisional = self._provisional
        if provisional is not None and provisional[0] is run and provisional[1].spec == run.current_spec:
            provisional[1].counts.failed = failed  # said again for the same spec: one row
            return
        row = SpecRow(spec=run.current_spec, status="failed", counts=Counts(failed=failed), duration=None)
        rows = len(run.spec_results)
        self._keep(run, run.spec_results, row)
        if len(run.spec_results) > rows:
            self._provisional = (run, row)

    def _orphan_failing(self, text: str, off: int) -> bool:
        """A ``│ Failing: N │`` box row outside its (Results) box: the box's lines were interleaved
        with another run's output; a failing count is never lost (kept as a row of the current run)."""
        match = _FAILING_ROW_RE.match(text)
        if match is None:
            return False
        failed = int(match.group("n"))
        if failed:
            run = self._activity_run(off)
            self._keep(run, run.spec_results, SpecRow(spec="", status="failed", counts=Counts(failed=failed)))
        return True

    def _interrupts(self, raw: bytes, text: str) -> bool:
        """True when a line ends the box or table being read (a new structure starts)."""
        if self._marker_rx is not None and (self._marker_every_line or (self._marker_lit or b"") in raw):
            if self._marker_rx.search(text):
                return True
        if not self.every_line and not self._structure_word(raw):
            return False
        if self._heading(text) or RUNNING_RE.search(text):
            return True
        if self._mode != _FINISHED:  # another run's summary row (interleaved output)
            summary = SUMMARY_RE.search(text)
            return summary is not None and summary.group("dur") is not None
        return False

    def _heading(self, text: str) -> Optional["re.Match[str]"]:
        """The heading of a line (searched once per line: a box's end and the next structure)."""
        if self._memo[0] is not text:
            self._memo = (text, _HEADING_RE.search(text))
        return self._memo[1]

    def _structure_word(self, raw: bytes) -> bool:
        """True when a line holds a structure word (looked for once per line)."""
        if self._word_memo[0] is not raw:
            self._word_memo = (raw, _STRUCT_RE.search(raw) is not None)
        return self._word_memo[1]

    def _leave_mode(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        """Close the open box or table and handle ``raw`` as an ordinary line."""
        self._close_open_mode()
        if not self._structural(raw, text, off, end_off):
            self._failures(raw, text)

    def _close_open_mode(self) -> None:
        """End the box or table being read (what a box read so far says is kept)."""
        if self._mode == _BANNER:
            self._close_banner()
        elif self._mode == _RESULTS:
            self._close_results()
        self._mode = _SCAN

    def _running_cont_line(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        match = RUNNING_CONT_RE.match(text)
        run = self._run()
        if match is None or run is None or not run.specs_run:
            self._leave_mode(raw, text, off, end_off)
            return
        frag = match.group("frag")
        if len(run.specs_run[-1]) < NAME_CHARS:
            run.specs_run[-1] += frag
        run.current_spec = run.specs_run[-1]
        if len(frag) < self._run_width:
            self._mode = _SCAN

    def _start_run(self, off: int, text: str) -> None:
        run = self._run()
        if run is None or self._filling is None or self._filling != self._cur:
            run = self._new_run(off)
            if run.overflow <= 1:
                run.opened_by = digest(text)
                if self._key:
                    run.label = self._key[:NAME_CHARS]
                    run.label_source = "prefix"
        pos = self._cur if self._cur is not None else len(self.runs) - 1
        self._filling = None
        run.started = True
        if pos not in self._open:
            self._open.append(pos)
            if len(self._open) > MAX_OPEN:
                del self._open[0]
        self._mode = _BANNER
        self._box_top = False
        self._box_noise = 0
        self._box_fields = []
        self._box_more = []


def parse_log_file(path: str, marker_regex: Optional[str] = DEFAULT_MARKER_REGEX,
                   chunk_size: int = _BLOCK) -> CypressLogParser:
    """Parse the whole log file at ``path`` (read in chunks of ``chunk_size`` bytes: 1 MiB, read
    and scanned while in the CPU's cache)."""
    if not os.path.exists(path):
        raise InputError(path, "no such file")
    parser = CypressLogParser(marker_regex)
    with LogReader(path, chunk_size) as reader:
        for chunk in reader.chunks():
            if reader.gap:
                parser.gap("the log was {0} while it was read".format(reader.restart_reason))
            parser.feed(chunk)
    parser.finish()
    return parser

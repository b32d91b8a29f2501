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

How it stays fast on logs of hundreds of MB: lines are not decoded one by one. The raw bytes of
each chunk are searched in one pass for the words that matter (structure words, every wording of
every failure signature, the literal part of the marker regex; :class:`~.signatures.Scanner`);
only the lines holding one of them, and the lines of the few boxes and tables being read, are
decoded, cleaned (:func:`~.logtext.clean_line`, :func:`~.logtext.split_prefix`) and read. The scan
never decides what is detected: ``CypressLogParser(..., every_line=True)`` reads every line the
slow way, and the tests check that both give the same runs. Consequences, by design: a word split
by an ANSI sequence (``Run\\x1b[0m Starting``) is not seen, and a line is examined up to
``line_cap`` bytes (64 KiB by default): the rest of a longer line is dropped, so memory stays
bounded even for a single 50 MB line.
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
    _BANNER, _FINISHED, _RESULTS, _RUNNING_CONT, _SCAN, MAX_ROWS, NAME_CHARS, SUMMARY_RE, BoxReader,
)
from .logfile import LogReader
from .logtext import LogDecoder, clean_line, prefix_shape, shared_prefix, split_prefix
from .signatures import SIGNATURES, Signature, match_line, match_words, required_literal, scanner

LINE_CAP = 64 * 1024
MAX_PROBLEMS = 50
PROBLEM_CHARS = 400
MAX_RUNS = 200  # runs kept one by one; later ones are folded into one overflow record
MAX_KEPT = 60000  # list entries (specs, rows) kept over all runs
MAX_NAMES = 64  # runner names (prefix streams) followed
MAX_SHAPES = 8  # prefixes learned from the log
MAX_OPEN = 32  # open runs (started, not finished) considered for a table
MAX_STRAY_LABELS = 10
PENDING_LINES = 1000  # lines of output after a wrapper marker that make it a group that ran
_BLOCK = 1 << 20  # bytes of a large chunk read at once
_CACHE_SIZE = 4096
_CACHE_LINE = 256

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
_RUNNING_RE = re.compile(r"(?:^|\s)Running:\s+(?P<spec>\S.*?)\s+\((?P<n>\d+) of (?P<m>\d+)\)\s*$")
_RUNNING_CONT_RE = re.compile(r"^ {6,16}(?P<frag>\S+)\s*$")
_RECORDED_RE = re.compile(r"(?:^|\s)Recorded Run:\s+(?P<url>\S+)")
# Lines that are no failure whatever words they hold: a test's title (passing, pending, failing,
# an attempt of a retried one) and the items of the screenshot and video lists.
_NOT_FAILURE_RE = re.compile(
    r"^\s*(?:[\u2713\u2714\u221a]\s|-\s|\d+\)\s|\(Attempt \d+ of \d+\)\s)")
# What a wrapper prints when a group it announced failed before Cypress started.
_WRAPPER_FAILURE_RE = re.compile(
    r"(?i)\b(?:errors?|fail(?:ed|s|ure)?|fatal|cannot|can't|could not|couldn't|unable to|refused|denied"
    r"|abort(?:ed|ing)?|exception|timed out|killed|not found|no such|unreachable|panic)\b")
# Cypress texts that it prints indented inside a spec's output: never a suite's title.
_INDENTED_BY_CYPRESS = ("CLOUD_CANCEL_SKIPPED_SPEC",)
# What reading the same line again was seen to do (see CypressLogParser._again).
_SAME, _ONE_MORE_RUN, _ONE_MORE_STRAY, _LOOKS = -1, -2, -3, 3
_FP_OVERFLOW, _FP_STRAY = 0, 1
# Parser state kept per runner name (interleaved output of parallel runners, see split_prefix).
_STREAM_FIELDS = ("_mode", "_box_top", "_box_noise", "_box_fields", "_box_more", "_tbl_top", "_tbl_bottom",
                  "_tbl_noise", "_run_width", "_cur", "_open", "_rows", "_rows_dropped")


_WORDINGS = {sig.name: sig.wordings for sig in SIGNATURES}
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


def _line_start(data: bytes, start: int, end: int) -> int:
    """Where the line ending at ``end`` begins, in a region of ``data`` that begins at ``start``
    (a region need not begin at 0: the end of a line cut by the previous chunk comes first)."""
    i = data.rfind(b"\n", start, end)
    return start if i < 0 else i + 1


class CypressLogParser(BoxReader):
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

    def feed(self, data: bytes) -> None:
        """Parse the next bytes of the log."""
        if not data:
            return
        self.offset += len(data)
        text = self._decoder.decode(bytes(data))
        if len(text) <= _BLOCK:
            self._feed_text(text)
            return
        # a large chunk is read in blocks of whole lines: translated and scanned while in the CPU's cache
        pos = 0
        while pos < len(text):
            cut = text.find(b"\n", pos + _BLOCK) + 1 or len(text)
            self._feed_text(text[pos:cut])
            pos = cut

    def _feed_text(self, data: bytes) -> None:
        """Parse the next UTF-8 bytes of the log."""
        if not data:
            return
        base = self._pos
        self._pos += len(data)
        nl = data.find(b"\n")
        if nl < 0:
            self._keep_partial(data, base)
            return
        start = 0
        if self._partial or self._partial_dropped:
            line = self._partial
            if not self._partial_dropped:
                line += data[:max(0, min(nl, self.line_cap - len(line)))]
            self._partial = b""
            self._partial_dropped = False
            self._last_raw = None
            self._teach = self._teaches(line)
            self._line(line, self._partial_off, base + nl + 1, None)
            self._teach = True
            self._before = line
            start = nl + 1
        last = data.rfind(b"\n") + 1
        if start < last:
            self._region(data, start, last, base)
        if last < len(data):
            self._keep_partial(data[last:last + self.line_cap + 1], base + last)

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
    def _keep_partial(self, data: bytes, off: int) -> None:
        if self._partial_dropped:
            return
        if not self._partial:
            self._partial_off = off
        room = self.line_cap - len(self._partial)
        if len(data) > room:
            self._partial += data[:room]
            self._partial_dropped = True
        else:
            self._partial += data

    def _any_needle(self, raw: bytes) -> bool:
        return self._marker_every_line or self._scanner.search(raw)

    def _teaches(self, raw: bytes) -> bool:
        """A line the byte scan would not stop at teaches no runner's name (see :meth:`_text`)."""
        return bool(self._marker_every_line or self._each_line() or self._scanner.search(raw))

    def _each_line(self) -> bool:
        """True while every line must be read (a box or table, a marker's group, a held title)."""
        return (self._mode != _SCAN or self._others_busy or self._marker is not None
                or self._held is not None)

    def _region(self, data: bytes, start: int, end: int, base: int) -> None:
        """Complete lines ``data[start:end]`` (``end`` is just after a newline)."""
        try:
            self._lines(data, start, end, base)
        finally:
            # the line before the next region's first one (a failure line's neighbour, see _previous)
            self._where = (b"", 0, 0)
            self._before = data[_line_start(data, start, end - 1):end - 1][:self.line_cap]

    def _lines(self, data: bytes, start: int, end: int, base: int) -> None:
        cap = self.line_cap
        every = self._marker_every_line or self.every_line
        search = self._scanner.regex.search
        tdata = data if every else self._scanner.translate(data)  # same positions, see Scanner
        pos = start
        while pos < end:
            if every or self._each_line():
                le = data.find(b"\n", pos, end)
                raw = data[pos:min(le, pos + cap)]
                candidate = every or (search(tdata, pos, min(le, pos + cap)) is not None)
                self._where = (data, start, pos)
                self._teach = self._teaches(raw)
                if raw == self._last_raw:
                    self._again(raw, base + pos, base + le + 1, candidate)
                else:
                    self._last_raw, self._repeat = raw, 0
                    self._line(raw, base + pos, base + le + 1, candidate)
                self._teach = True
                pos = le + 1
                continue
            match = search(tdata, pos, end)
            if match is None:
                return
            best = match.start()
            i = data.rfind(b"\n", pos, best)
            ls = pos if i < 0 else i + 1
            le = data.find(b"\n", best, end)
            raw = data[ls:min(le, ls + cap)]
            self._where = (data, start, ls)
            if raw == self._last_raw:
                self._again(raw, base + ls, base + le + 1, True)
            elif le - ls <= cap or self._any_needle(raw):
                self._last_raw, self._repeat = raw, 0
                self._line(raw, base + ls, base + le + 1, True)
            pos = le + 1

    def _previous(self) -> bytes:
        """The raw line before the one being read (from the chunk being read, else the last line of
        the one before: the same line whatever the chunks)."""
        data, start, ls = self._where
        if ls > start:
            return data[_line_start(data, start, ls - 1):ls - 1][:self.line_cap]
        return self._before

    # ------------------------------------------------------------------ a line again
    def _again(self, raw: bytes, off: int, end_off: int, candidate: Optional[bool]) -> None:
        """The same line as the one just read (a crash loop, a flood of markers or headings): once
        reading it again is seen to change nothing, or only to count one more run beyond the bound or
        one more stray marker, the next copies are not read again, only counted. What they would do is
        what was seen (the reading does not depend on anything else that changes; ``every_line``
        reads every copy, and the tests compare both)."""
        repeat = self._repeat
        if repeat == _SAME and not self.every_line:
            return
        if repeat == _ONE_MORE_RUN and not self.every_line:
            self.runs[-1].overflow += 1
            return
        if repeat == _ONE_MORE_STRAY and not self.every_line:
            self.stray_markers.count += 1
            return
        if repeat >= _LOOKS:
            # it kept changing (runs made one by one up to the bound): look again from time to time
            self._repeat = 0 if repeat >= _LOOKS + 64 else repeat + 1
            self._line(raw, off, end_off, candidate)
            return
        before = self._fingerprint()
        self._line(raw, off, end_off, candidate)
        after = self._fingerprint()
        changed = [i for i, (a, b) in enumerate(zip(before, after)) if a != b]
        if not changed:
            self._repeat = _SAME
        elif changed == [_FP_OVERFLOW] and after[_FP_OVERFLOW] == before[_FP_OVERFLOW] + 1:
            self._repeat = _ONE_MORE_RUN
        elif changed == [_FP_STRAY] and after[_FP_STRAY] == before[_FP_STRAY] + 1:
            self._repeat = _ONE_MORE_STRAY
        else:
            self._repeat = repeat + 1  # another copy may settle (a held line, the first run folded)

    def _fingerprint(self) -> Tuple[Any, ...]:
        """Everything reading a line may change (see :meth:`_again`)."""
        last = self.runs[-1] if self.runs else None
        cur = self.runs[self._cur] if self._cur is not None else None
        return (
            last.overflow if last is not None else 0, self.stray_markers.count,  # _FP_OVERFLOW, _FP_STRAY
            self._mode, self._box_top, self._box_noise, len(self._box_fields), len(self._box_more), self._tbl_top,
            self._tbl_bottom, self._tbl_noise, len(self._rows), self._rows_dropped, self._run_width, self._key,
            self._cur, len(self._open), len(self.runs), self._seg, self._kept, self._filling, self._last_finished,
            len(self._retried), len(self.preamble_problems), self.preamble_fatal, len(self.stray_markers.labels),
            self._marker, self._marker_lines, len(self._marker_texts), self._held, len(self._shapes),
            len(self._known), len(self._streams), tuple(sorted(self._progress.items()))[-2:],
            None if last is None else self._run_print(last), None if cur is None else self._run_print(cur))

    @staticmethod
    def _run_print(run: CypressRun) -> Tuple[Any, ...]:
        t = run.totals
        return (run.started, run.finished, run.dropped, len(run.problems), len(run.specs_found), len(run.specs_run),
                len(run.spec_results), len(run.finished_rows), run.current_spec, run.crashed, run.plugin_error,
                run.canceled, run.no_specs, run.concurrent, run.all_passed, run.failed_specs, run.total_specs,
                (t.tests, t.passed, t.failed, t.pending, t.skipped), run.cypress_version, run.browser, run.label,
                run.label_source, run.recorded_run_url, run.run_url, run.exit_text, run.text_lost, run.end_offset,
                run.parallel, run.specs_found_count, run.opened_by)

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

    def _problem_text(self, run: Optional[CypressRun], text: str) -> Optional[List[str]]:
        """Record ``text`` (cleaned, cut, once) on ``run`` or the preamble; the list if it was new."""
        target = run.problems if run is not None else self.preamble_problems
        if len(target) >= MAX_PROBLEMS:
            return None
        text = text.strip()[:PROBLEM_CHARS]
        if text in target:
            return None
        target.append(text)
        return target

    def _problem(self, text: str, sig: Signature) -> None:
        run = self._run()
        target = self._problem_text(run, text)
        if not sig.fatal:
            if target is not None:
                self._retried.append((target, text.strip()[:PROBLEM_CHARS], sig.cleared_by))
            return
        if run is None:
            self.preamble_fatal = True
            return
        if sig.name == "RUN_CANCELED_EXIT":
            run.exit_text = text.strip()[:PROBLEM_CHARS]
        if sig.flag:
            setattr(run, sig.flag, True)

    def _overcome(self, what: str) -> None:
        """Forget the retried problems that ``what`` overcomes ("run_start", "connected")."""
        if not self._retried:
            return
        keep = []
        for target, text, cleared_by in self._retried:
            if cleared_by != what:
                keep.append((target, text, cleared_by))
            elif text in target:
                target.remove(text)
        self._retried = keep

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
            what = heading.group(1)
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
            return True
        running = _RUNNING_RE.search(text)
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

    def _learn_prefix(self, body: str) -> None:
        """The text before a Cypress heading is a prefix of this log's lines: learn its shape."""
        if not body.strip() or len(self._shapes) >= MAX_SHAPES:
            return
        shape = prefix_shape(body)
        if shape is not None and all(s.pattern != shape.pattern for s in self._shapes):
            self._shapes.append(shape)
            self._cache = {}

    def _failures(self, raw: bytes, text: str) -> None:
        if self.every_line:
            sig = match_line(text)
        else:
            words = self._scanner.words_in(raw)
            sig = match_words(words, text) if words else None
        if sig is None:
            if self._marker is not None and _WRAPPER_FAILURE_RE.search(text) and len(self._marker_texts) < 5:
                self._marker_texts.append(text.strip()[:PROBLEM_CHARS])
            return
        if _NOT_FAILURE_RE.match(text) and sig.name != "RUN_CANCELED_SUMMARY":
            return  # a test's title or a list item: not a failure, whatever words it holds
        indent = len(text) - len(text.lstrip(" "))
        run = self.runs[self._cur] if self._cur is not None and self._marker is None else None
        if not (run is not None and run.current_spec and indent >= 2 and sig.name not in _INDENTED_BY_CYPRESS):
            indent = -1
        body = self._body(text, sig) if len(self._shapes) < MAX_SHAPES else 0
        if body and self._learn_shared(text, self._neighbour(self._previous(), text), body):
            text, body = self._text_after_shapes(text), 0
        if indent >= 0 or body:
            self._release_held(None)
            self._held = (text, sig, indent, body)  # decided by the next line
            return
        self._problem(text, sig)

    def _neighbour(self, raw: bytes, text: str) -> str:
        """The text of a line next to the failure text ``text`` (no runner name learned from it),
        with the runner's name that ``text`` still starts with (``A: FATAL ERROR`` under ``A: ``)."""
        name, rest = split_prefix(clean_line(raw), set(self._known))
        if name and text.startswith(name + ": "):
            rest = name + ": " + rest
        return self._text_after_shapes(rest)

    def _text_after_shapes(self, text: str) -> str:
        for shape in self._shapes:
            match = shape.match(text)
            if match is not None:
                return text[match.end():]
        return text

    def _learn_shared(self, text: str, other: str, body: int) -> bool:
        """The decoration before the failure wording of ``text`` that ``other`` (the line before or
        after it) starts with too is a prefix of this log's lines: learned (True) when it is one."""
        if len(self._shapes) >= MAX_SHAPES:
            return False
        shape = prefix_shape(shared_prefix(text, other, body))
        if shape is None or not shape.match(text) or not shape.match(other):
            return False
        self._shapes.append(shape)
        self._cache = {}
        return True

    @staticmethod
    def _body(text: str, sig: Signature) -> int:
        """Where the failure wording of ``text`` starts when text that may be a prefix is before it
        (``packages/e2e test: ``), else 0."""
        at = -1
        for wording in _WORDINGS[sig.name]:
            i = text.find(wording)
            if i == 0:
                return 0
            if i > 0 and (at < 0 or i < at):
                at = i
        return at if at > 0 and text[:at].strip() else 0

    def _release_held(self, text: Optional[str], raw: Optional[bytes] = None) -> None:
        """Decide a held failure text from the next non-blank line ``text`` (None: none will come):
        a suite's title when that line is indented further (no failure then); and when that line
        starts with the same decoration as the text before the failure wording, that is a prefix of
        this log's lines, learned as such (a log without a Cypress heading to learn it from)."""
        if self._held is None or (text is not None and not text.strip()):
            return
        held, sig, indent, body = self._held
        self._held = None
        if text is not None and indent >= 0 and len(text) - len(text.lstrip(" ")) > indent:
            return  # the line after it is indented further: it was a suite's title
        name, rest = split_prefix(held, self._known)  # a runner's name known since it was held
        if name:
            held, body = rest, self._body(rest, sig)
        for shape in self._shapes:  # learned since it was held
            match = shape.match(held)
            if match is not None:
                held, body = held[match.end():], 0
                break
        if text is not None and body and self._learn_shared(held, text if raw is None else self._neighbour(raw, held), body):
            held = self._text_after_shapes(held)
        self._problem(held, sig)

    def _text(self, raw: bytes) -> str:
        """The cleaned text of a line without its prefixes; the parser state is the line's runner's.

        A runner's name is learned (``name: `` then removed before any text) only from a line that
        is read whatever the reading path: one holding a word, or read in a box, a table, a marker's
        group; ``every_line`` reads the other lines too, and learns nothing from them, nor changes
        runner for them (the byte scan never stops at them: reading them may change nothing)."""
        if not self._teach:
            return self._split(raw, set(self._known))[1]
        hit = self._cache.get(raw)
        if hit is None:
            known = len(self._known)
            key, text = self._split(raw, self._known)
            if len(self._known) != known:
                if len(self._known) > MAX_NAMES:
                    self._known.discard(key)
                self._cache = {}
            if len(raw) <= _CACHE_LINE:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache = {}
                self._cache[raw] = (key, text)
        else:
            key, text = hit
        if key != self._key:
            self._switch(key)
        return text

    def _split(self, raw: bytes, known: Set[str]) -> Tuple[str, str]:
        """(runner's name, text) of a line: without its CI and runner prefixes and a learned prefix."""
        key, text = split_prefix(clean_line(raw), known)
        for shape in self._shapes:
            match = shape.match(text)
            if match:
                key2, text = split_prefix(text[match.end():], known)
                return key or key2, text
        return key, text

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
        if self._heading(text) or _RUNNING_RE.search(text):
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
        match = _RUNNING_CONT_RE.match(text)
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

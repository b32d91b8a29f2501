# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cypress console output parser (``cypress run``, Cypress 3 to 15), fed incrementally with bytes.

``CypressLogParser(marker_regex=config.DEFAULT_MARKER_REGEX)``

- ``feed(data: bytes)``: the next bytes of the log; chunks may split lines (and UTF-8
  characters) anywhere, the unfinished last line is kept until its newline arrives.
- ``finish()``: end of input: the unfinished last line is parsed as a line.
- ``reset()``: forget everything.
- ``gap(what)``: bytes may be missing here (a log rotation, see ``LogReader.gap``); the run in
  progress is marked ``text_lost``, nothing read is forgotten.
- ``runs``: every Cypress run found so far, in log order, as :class:`~.models.CypressRun`
  (one sub-run of a categorized request each). The objects are updated in place while the run
  goes on; copy them (``to_dict()``) to keep a snapshot.
- ``preamble_problems``: failure texts seen before any run existed.
- ``offset``: bytes fed so far; ``buffered``: bytes held for the unfinished last line (never more
  than ``line_cap``).

:func:`parse_log_file` reads a whole file through :class:`~.logfile.LogReader`.

What is read (a run starts at a wrapper marker line or at ``(Run Starting)``):

- wrapper markers: a line whose cleaned text matches ``marker_regex`` (named group ``label``)
  starts a new run labelled from the marker (``label_source="marker"``); the next
  ``(Run Starting)`` fills that run. A marker followed by another marker or the end of the log
  without a ``(Run Starting)`` leaves a run with ``started=False``. Without a marker, every
  ``(Run Starting)`` starts a new run whose label is its ``Group:`` parameter
  (``label_source="group"``) when it has one;
- the ``(Run Starting)`` box: Cypress version, browser, ``Specs: N found (a, b, ...)`` (a list
  wrapped over several box lines is joined, a list cut with ``...`` keeps the complete names),
  ``Params: ... Group: G, Parallel: true``, ``Run URL:``;
- ``Running: <spec> (n of m)`` (a long spec name wrapped onto the next lines is joined);
- every ``(Results)`` box (one :class:`~.models.SpecRow` in ``spec_results``);
- the ``(Run Finished)`` table: one row per spec (``finished_rows``; ✔ √ passed, ✖ × failed,
  ``-`` ``SKIPPED``; names wrapped onto continuation lines are joined; ``-`` counts are 0; noise
  lines such as ``tput: ...`` between the heading and the table are skipped) and the summary row
  (``All specs passed!``, ``N of M failed (X%)`` or ``The run was canceled``). ``finished`` is
  True only once that summary row was read; ``end_offset`` is the offset just after it;
- ``Recorded Run: URL``;
- failure texts, recorded in ``problems`` (cleaned, de-duplicated, at most 50 per run) with their
  flag: renderer / browser crash, automation client disconnected and browser never connected
  (``crashed``); "An error was thrown in your plugins file while executing the handler for the
  <event> event" (``after:run`` and the others), "Your configFile threw an error / is invalid",
  "We stopped running your tests because your config file / a plugin crashed", "The function
  exported by the plugins file threw an error" (``plugin_error``); canceled runs (``canceled``, and
  ``exit_text`` for "Exiting with non-zero exit code because the run was canceled."); "Can't
  run because no spec files were found" (``no_specs``); "Timed out waiting for the browser to
  connect" (recorded without a flag: Cypress retries). A failure text belongs to the last run
  seen (started or not) and to ``preamble_problems`` when there is none yet; without wrapper
  markers, a failure of a Cypress invocation that never printed ``(Run Starting)`` is therefore
  attributed to the run before it.

How it stays fast on logs of hundreds of MB: lines are not decoded one by one. The raw bytes of
each chunk are searched in one pass for the words that matter (structure words, the phrase of
every failure signature, the literal part of the marker regex; :class:`~.signatures.Scanner`);
only the lines holding one of them, and the lines of the few boxes and tables being read, are
decoded, cleaned (:func:`~.logtext.clean_line`, :func:`~.logtext.split_prefix`) and read.
Consequences, by design: a word split by an ANSI sequence (``Run\\x1b[0m Starting``) is not
seen, and a line is examined up to ``line_cap`` bytes (64 KiB by default): the rest of a longer line is dropped, so
memory stays bounded even for a single 50 MB line.
"""
from __future__ import annotations

import os
import re
from typing import Any, Dict, List, Optional, Pattern, Set, Tuple

from ..settings import DEFAULT_MARKER_REGEX
from .cypress_boxes import _BANNER, _FINISHED, _RESULTS, _RUNNING_CONT, _SCAN, BoxReader
from ..errors import ConfigError, InputError
from .logfile import DEFAULT_CHUNK_SIZE, LogReader
from .logtext import LogDecoder, clean_line, split_prefix
from ..models import CypressRun
from .signatures import Signature, match_line, required_literal, scanner

LINE_CAP = 64 * 1024
MAX_PROBLEMS = 50
PROBLEM_CHARS = 400

# Candidate lines are found in the raw bytes by one scan (:class:`~.signatures.Scanner`) for the
# structure words, the phrase of every failure signature and the literal part of the marker regex.
# ANSI colouring wraps these words, it does not split them (``(\x1b[4mRun Starting\x1b[24m)``).
_STRUCT_WORDS = (b"Run Starting", b"Run Finished", b"Running:", b"Results", b"Recorded Run:")
_STRUCT_ALTS = (rb"un Starting", rb"un Finished", rb"unning:", rb"esults", rb"ecorded Run:")
_STRUCT_RE = re.compile(rb"R(?:" + rb"|".join(_STRUCT_ALTS) + rb")")

_HEADING_RE = re.compile(r"(?:^|\s)\((Run Starting|Results|Run Finished)\)\s*$")
_RUNNING_RE = re.compile(r"(?:^|\s)Running:\s+(?P<spec>\S.*?)\s+\((?P<n>\d+) of (?P<m>\d+)\)\s*$")
_RUNNING_CONT_RE = re.compile(r"^ {6,16}(?P<frag>\S+)\s*$")
_RECORDED_RE = re.compile(r"(?:^|\s)Recorded Run:\s+(?P<url>\S+)")
# Parser state kept per runner name (interleaved output of parallel runners, see split_prefix).
_STREAM_FIELDS = ("_mode", "_box_top", "_box_noise", "_box_fields", "_tbl_top", "_tbl_bottom", "_tbl_noise",
                  "_run_width", "_cur")


class CypressLogParser(BoxReader):
    """Incremental parser of Cypress console output (see the module documentation)."""

    def __init__(self, marker_regex: Optional[str] = DEFAULT_MARKER_REGEX, line_cap: int = LINE_CAP) -> None:
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
        self._scanner = scanner(_STRUCT_WORDS + ((self._marker_lit,) if self._marker_lit else ()))
        self.reset()

    # ------------------------------------------------------------------ public API
    def reset(self) -> None:
        """Forget every run and every byte fed (the log restarts from its first byte)."""
        self.runs: List[CypressRun] = []
        self.preamble_problems: List[str] = []
        self.preamble_fatal = False
        self.offset = 0
        self._pos = 0
        self._decoder = LogDecoder()
        self._streams: Dict[str, Tuple[Any, ...]] = {}
        self._key = ""
        self._known: Set[str] = set()
        self._others_busy = False
        self._cur: Optional[int] = None
        self._pending: List[Tuple[List[str], str, Optional[str]]] = []  # retried problems not overcome yet
        self._partial = b""
        self._partial_off = 0
        self._partial_dropped = False
        self._mode = _SCAN
        self._box_top = False
        self._box_noise = 0
        self._box_fields: List[List[str]] = []
        self._tbl_top = False
        self._tbl_bottom = False
        self._tbl_noise = 0
        self._run_width = 0

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
        self._feed_text(self._decoder.decode(bytes(data)))

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
            self._one_line(line, self._partial_off, base + nl + 1)
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
            self._one_line(line, self._partial_off, self._pos)
        for key in [self._key] + [k for k in self._streams if k != self._key]:
            self._switch(key)
            if self._mode == _BANNER:
                self._close_banner()
            self._mode = _SCAN

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

    def _one_line(self, raw: bytes, off: int, end_off: int) -> None:
        """One complete line (already capped) that did not come through :meth:`_region`."""
        self._line(raw, off, end_off, False)

    def _region(self, data: bytes, start: int, end: int, base: int) -> None:
        """Complete lines ``data[start:end]`` (``end`` is just after a newline)."""
        cap = self.line_cap
        every = self._marker_every_line
        search = self._scanner.regex.search
        tdata = data if every else self._scanner.translate(data)  # same positions, see Scanner
        pos = start
        while pos < end:
            if every or self._mode != _SCAN or self._others_busy:
                le = data.find(b"\n", pos, end)
                self._line(data[pos:min(le, pos + cap)], base + pos, base + le + 1, every)
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
            if le - ls <= cap or self._any_needle(raw):
                self._line(raw, base + ls, base + le + 1, True)
            pos = le + 1

    # ------------------------------------------------------------------ runs
    def _new_run(self, off: int) -> CypressRun:
        run = CypressRun(index=len(self.runs), start_offset=off)
        self.runs.append(run)
        self._cur = run.index
        return run

    def _run(self) -> Optional[CypressRun]:
        """The run of the current runner name (else the last run), or None."""
        if self._cur is not None:
            return self.runs[self._cur]
        return self.runs[-1] if self.runs else None

    def _activity_run(self, off: int) -> CypressRun:
        """The run a Cypress line belongs to (one is made, started, if the log starts mid-run)."""
        run = self._run()
        if run is None:
            run = self._new_run(off)
            run.started = True
        return run

    def _switch(self, key: str) -> None:
        """Continue with the parser state of the runner named ``key`` (parallel runners interleave)."""
        if key == self._key:
            return
        self._streams[self._key] = tuple(getattr(self, f) for f in _STREAM_FIELDS)
        state = self._streams.pop(key, None)
        if state is None:
            state = (_SCAN, False, 0, [], False, False, 0, 0, None)
        for field, value in zip(_STREAM_FIELDS, state):
            setattr(self, field, value)
        self._key = key
        self._others_busy = any(st[0] != _SCAN for st in self._streams.values())

    def _problem(self, text: str, sig: Signature) -> None:
        text = text.strip()[:PROBLEM_CHARS]
        run = self._run()
        target = run.problems if run is not None else self.preamble_problems
        if text not in target and len(target) < MAX_PROBLEMS:
            target.append(text)
        if not sig.fatal:
            self._pending.append((target, text, sig.cleared_by))
            return
        if run is None:
            self.preamble_fatal = True
            return
        if sig.name == "RUN_CANCELED_EXIT":
            run.exit_text = text
        if sig.flag:
            setattr(run, sig.flag, True)

    def _overcome(self, what: str) -> None:
        """Forget the retried problems that ``what`` overcomes ("run_start", "connected")."""
        if not self._pending:
            return
        keep = []
        for target, text, cleared_by in self._pending:
            if cleared_by != what:
                keep.append((target, text, cleared_by))
            elif text in target:
                target.remove(text)
        self._pending = keep

    # ------------------------------------------------------------------ line handlers
    def _structural(self, raw: bytes, text: str, off: int, end_off: int) -> bool:
        """Handle a marker, a heading, a Running: line or a Recorded Run: line; False if none."""
        if self._marker_rx is not None and (self._marker_every_line or (self._marker_lit or b"") in raw):
            match = self._marker_rx.search(text)
            if match:
                self._close_open_mode()
                run = self._new_run(off)
                run.label = match.group("label")
                run.label_source = "marker"
                return True
        if _STRUCT_RE.search(raw) is None:
            return False
        heading = _HEADING_RE.search(text)
        if heading:
            self._close_open_mode()
            what = heading.group(1)
            if what == "Run Starting":
                self._start_run(off)
                self._overcome("run_start")
            elif what == "Results":
                self._activity_run(off)
                self._overcome("connected")
                self._mode = _RESULTS
                self._box_top = False
                self._box_noise = 0
                self._box_fields = []
            else:
                run = self._activity_run(off)
                run.current_spec = None
                self._overcome("connected")
                self._mode = _FINISHED
                self._tbl_top = False
                self._tbl_bottom = False
                self._tbl_noise = 0
                run.finished_rows = []
            return True
        running = _RUNNING_RE.search(text)
        if running:
            self._close_open_mode()
            run = self._activity_run(off)
            spec = running.group("spec").strip()
            self._overcome("connected")
            run.specs_run.append(spec)
            run.current_spec = spec
            if len(spec) >= 60:
                self._run_width = len(spec)
                self._mode = _RUNNING_CONT
            return True
        recorded = _RECORDED_RE.search(text)
        if recorded:
            self._activity_run(off).recorded_run_url = recorded.group("url")
            return True
        return False

    def _failures(self, raw: bytes, text: str) -> None:
        sig = match_line(text)
        if sig is not None:
            self._problem(text, sig)

    def _text(self, raw: bytes) -> str:
        """The cleaned text of a line without its prefixes; the parser state is the line's runner's."""
        key, text = split_prefix(clean_line(raw), self._known)
        if key != self._key:
            self._switch(key)
        return text

    def _line(self, raw: bytes, off: int, end_off: int, candidate: bool) -> None:
        """One complete line; ``candidate``: it holds a word the byte scan looks for."""
        text = self._text(raw)
        if self._mode == _SCAN:
            if (candidate or self._any_needle(raw)) and not self._structural(raw, text, off, end_off):
                self._failures(raw, text)
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

    def _interrupts(self, raw: bytes, text: str) -> bool:
        """True when a line ends the box or table being read (a new structure starts)."""
        if self._marker_rx is not None and (self._marker_every_line or (self._marker_lit or b"") in raw):
            if self._marker_rx.search(text):
                return True
        if _STRUCT_RE.search(raw) is None:
            return False
        return bool(_HEADING_RE.search(text) or _RUNNING_RE.search(text))

    def _leave_mode(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        """Close the open box or table and handle ``raw`` as an ordinary line."""
        self._close_open_mode()
        if not self._structural(raw, text, off, end_off):
            self._failures(raw, text)

    def _close_open_mode(self) -> None:
        if self._mode == _BANNER:
            self._close_banner()
        self._mode = _SCAN

    def _running_cont_line(self, raw: bytes, text: str, off: int, end_off: int) -> None:
        match = _RUNNING_CONT_RE.match(text)
        run = self._run()
        if match is None or run is None or not run.specs_run:
            self._leave_mode(raw, text, off, end_off)
            return
        frag = match.group("frag")
        run.specs_run[-1] += frag
        run.current_spec = run.specs_run[-1]
        if len(frag) < self._run_width:
            self._mode = _SCAN

    def _start_run(self, off: int) -> None:
        run = self._run()
        if not (run is not None and run.label_source == "marker" and not run.started and not run.specs_run):
            run = self._new_run(off)
            if self._key:
                run.label = self._key
                run.label_source = "prefix"
        run.started = True
        self._mode = _BANNER
        self._box_top = False
        self._box_noise = 0
        self._box_fields = []


def parse_log_file(path: str, marker_regex: Optional[str] = DEFAULT_MARKER_REGEX,
                   chunk_size: int = DEFAULT_CHUNK_SIZE) -> CypressLogParser:
    """Parse the whole log file at ``path`` (read in chunks of ``chunk_size`` bytes)."""
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

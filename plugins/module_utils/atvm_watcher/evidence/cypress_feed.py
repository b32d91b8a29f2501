# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the parser reads bytes: lines split anywhere by the chunks, the byte scan that picks the
lines worth reading, and a line repeated many times counted rather than read again.

A part of :class:`~.cypress_log.CypressLogParser` (a mixin over its state).

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

from typing import Any, Optional, Tuple

from ..models import CypressRun
from .cypress_boxes import _SCAN

_BLOCK = 1 << 20  # bytes of a large chunk read at once
# What reading the same line again was seen to do (see CypressLogParser._again).
_SAME, _ONE_MORE_RUN, _ONE_MORE_STRAY, _LOOKS = -1, -2, -3, 3
_FP_OVERFLOW, _FP_STRAY = 0, 1


def _line_start(data: bytes, start: int, end: int) -> int:
    """Where the line ending at ``end`` begins, in a region of ``data`` that begins at ``start``
    (a region need not begin at 0: the end of a line cut by the previous chunk comes first)."""
    i = data.rfind(b"\n", start, end)
    return start if i < 0 else i + 1


class LineFeed:
    """Bytes to lines, the lines worth reading (mixed into :class:`~.cypress_log.CypressLogParser`)."""

    # pylint: disable=no-member  # the parser's state: runs, mode, boxes, markers, held text, ...

    def _line(self, raw: bytes, off: int, end_off: int, candidate: Optional[bool]) -> None:
        raise NotImplementedError  # the parser reads a line

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
        return bool(self._each_line() or self._any_needle(raw))

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

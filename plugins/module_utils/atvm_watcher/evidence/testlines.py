# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The tests of a Cypress run as its console shows them: one scan beside the console parser.

``ConsoleTests()`` is fed the same bytes as :class:`~.cypress_log.CypressLogParser` (``feed``,
``gap``, ``finish``, ``reset``), so its offsets are the parser's: the tests of a run are those of
the specs whose ``Running:`` line lies between the run's ``start_offset`` and the next run's
(:meth:`ConsoleTests.between`).

What is read, per spec (from its ``Running: <spec> (n of m)`` line to its ``(Results)`` box), as
Mocha's spec reporter prints it:

- a passed test ``✓ title (123ms)`` (``√`` on Windows, ``✔``), a failed one ``N) title``, a pending
  one ``- title``; Cypress's ``(Attempt N of M) title`` before the final line of a test that is
  retried (a test that passes after a failed attempt is flaky);
- the describe blocks a test is in, from the indentation (two spaces a level): the test's full
  title is theirs and its own joined by spaces, as Mocha's ``fullTitle()``;
- the summary (``N passing``, ``N failing``, ``N pending``) and the numbered failure details
  (``N) Suite`` / ``   Nested`` / ``     title:``), which give the full title of a failed test
  whatever the indentation said.

Fast on long logs: outside a spec only the lines holding ``Running:`` are decoded; inside one every
line is (a spec's test list is short next to a run's log).
"""
from __future__ import annotations

import dataclasses
import re
from typing import Dict, List, Optional, Set, Tuple

from .cypress_boxes import RUNNING_CONT_RE, RUNNING_RE
from .logtext import LogDecoder, clean_line, split_prefix
from .specs import normalise_spec

LINE_CAP = 64 * 1024
MAX_DETAIL_PARTS = 30  # lines of one failure's title in the failure details
MAX_SPEC_TESTS = 100000  # tests kept of one spec (a runaway log cannot grow memory without bound)

PASSED = "passed"
FAILED = "failed"
PENDING = "pending"

_RUNNING_WORD = b"Running:"
# the next line that may matter in the failure details: not indented, or a failure's number, a
# heading, Running:, or colour first
_DETAIL_NEXT = re.compile(rb"^(?:[^ \r\n]| *[0-9(R\x1b])", re.MULTILINE)
_END_RE = re.compile(r"^\s*\((?:Results|Run Finished|Run Starting)\)\s*$")
# a test's line: passed (with its duration when Mocha prints one), failed (its failure's number),
# pending, or a failed attempt Cypress retries
_TEST_RE = re.compile(
    r"^(?P<ind> +)(?:(?P<pass>[\u2713\u221a\u2714]) |(?P<n>\d+)\) |(?P<pending>-) "
    r"|\((?i:attempt) (?P<a>\d+) of (?P<m>\d+)\) )(?P<title>.+?)(?(pass)(?: \(\d+(?:\.\d+)?m?s\))?)\s*$")
_SUMMARY_RE = re.compile(r"^ +(?P<n>\d+) (?P<what>passing|failing|pending)\b")
_DETAIL_RE = re.compile(r"^ {1,4}(?P<n>\d+)\) (?P<title>.+?)\s*$")
# lines inside a spec's test list that are not describe blocks: app output, boxes, warnings
_NOT_SUITE_RE = re.compile(r"^\s*(?:[\[(<{\u2500-\u257f=]|DevTools |tput: |Warning: |Error: |at )")


@dataclasses.dataclass
class ConsoleTest:
    """One test as the console shows it."""

    title: str  # its own title (the last line's text)
    suites: List[str]  # the describe blocks it is in, outermost first (from the indentation)
    state: str  # "passed" | "failed" | "pending"
    attempts: int = 1  # the failed attempts Cypress printed before this final one, plus one
    number: Optional[int] = None  # N of "N) title" (a failed test): its failure detail's number
    full: Optional[str] = None  # the full title the failure details give

    @property
    def full_title(self) -> str:
        """The full title (Mocha's ``fullTitle()``): the failure details' when known, else the
        describe blocks' and its own joined by spaces."""
        return self.full or " ".join(self.suites + [self.title])

    @property
    def flaky(self) -> bool:
        """Passed after a failed attempt."""
        return self.state == PASSED and self.attempts > 1


@dataclasses.dataclass
class ConsoleSpec:
    """One spec's tests: from its ``Running:`` line (at ``offset``) to its ``(Results)`` box."""

    spec: str  # as the console names it (relative to the common folder of the run's specs)
    offset: int
    tests: List[ConsoleTest] = dataclasses.field(default_factory=list)
    summary: Dict[str, int] = dataclasses.field(default_factory=dict)  # passing / failing / pending
    complete: bool = False  # its (Results) box was reached with nothing lost before it
    details: Dict[int, str] = dataclasses.field(default_factory=dict)  # failure number -> full title


class _Stream:
    """What one runner's output is in the middle of (parallel runners interleave, see split_prefix)."""

    def __init__(self) -> None:
        self.spec: Optional[ConsoleSpec] = None
        self.details = False  # after the summary: the numbered failure details
        self.stack: List[Tuple[int, str]] = []  # (indent, describe title)
        self.retried: Dict[Tuple[int, str], int] = {}  # (indent, title) -> failed attempts printed
        self.cont = False  # the spec name may go on on the next line
        self.block: Optional[Tuple[int, List[str]]] = None  # failure detail being read: number, title parts


class ConsoleTests:
    """The tests the console shows, spec by spec (see the module documentation)."""

    def __init__(self, line_cap: int = LINE_CAP) -> None:
        self.line_cap = max(256, int(line_cap))
        self.reset()

    def reset(self) -> None:
        """Forget everything (the log is read again from its first byte)."""
        self.specs: List[ConsoleSpec] = []
        self._pos = 0
        self._decoder = LogDecoder()
        self._partial = b""
        self._partial_off = 0
        self._dropped = False
        self._streams: Dict[str, _Stream] = {}
        self._known: Set[str] = set()
        self._open = 0  # streams in the middle of a spec

    # ------------------------------------------------------------------ input
    def feed(self, data: bytes) -> None:
        """The next bytes of the log (as the parser gets them)."""
        if data:
            self._text(self._decoder.decode(bytes(data)))

    def finish(self) -> None:
        """End of input: the unfinished last line is read as a line."""
        self._text(self._decoder.decode(b"", final=True))
        if self._partial or self._dropped:
            line, self._partial, self._dropped = self._partial, b"", False
            self._line(line, self._partial_off)

    def gap(self, _what: str = "") -> None:
        """Text may be missing here (a rotation): the specs being read stay incomplete."""
        for stream in self._streams.values():
            self._close(stream, complete=False)

    def _text(self, data: bytes) -> None:
        if not data:
            return
        cap = self.line_cap
        start = 0
        if self._partial or self._dropped:
            nl = data.find(b"\n")
            if nl < 0:
                self._keep(data, self._partial_off)
                self._pos += len(data)
                return
            line = self._partial if self._dropped else self._partial + data[:max(0, min(nl, cap - len(self._partial)))]
            self._partial, self._dropped = b"", False
            self._line(line, self._partial_off)
            start = nl + 1
        base = self._pos
        self._pos += len(data)
        last = data.rfind(b"\n") + 1
        if start < last:
            self._lines(data, start, last, base)
        if last < len(data):
            self._keep(data[last:last + cap + 1], base + last)

    def _keep(self, data: bytes, offset: int) -> None:
        """Hold the unfinished last line (at most ``line_cap`` bytes of it)."""
        if self._dropped:
            return
        if not self._partial:
            self._partial_off = offset
        room = self.line_cap - len(self._partial)
        self._partial += data[:room]
        self._dropped = len(data) > room

    def _lines(self, buf: bytes, pos: int, end: int, base: int) -> None:
        """Complete lines ``buf[pos:end]`` (``end`` just after a newline) at stream offset ``base``."""
        while pos < end:
            if not self._open:
                found = buf.find(_RUNNING_WORD, pos, end)
                if found < 0:
                    return
                pos = buf.rfind(b"\n", pos, found) + 1 or pos
            elif self._in_details():
                found = _DETAIL_NEXT.search(buf, pos, end)  # stack traces are passed over in C
                if found is None:
                    return
                pos = found.start()
            stop = buf.find(b"\n", pos, end)
            self._line(buf[pos:min(stop, pos + self.line_cap)], base + pos)
            pos = stop + 1

    def _in_details(self) -> bool:
        """One runner's output (no prefix) in the failure details, between two of them: only a line
        that is not indented, or whose first character is a digit, ``(``, ``R`` or ESC can matter."""
        if len(self._streams) != 1:
            return False
        stream = next(iter(self._streams.values()))
        return stream.details and stream.block is None and stream.spec is not None

    # ------------------------------------------------------------------ one line
    def _line(self, raw: bytes, offset: int) -> None:
        name, text = split_prefix(clean_line(raw), self._known)
        stream = self._streams.get(name)
        if stream is None:
            stream = self._streams[name] = _Stream()
        running = RUNNING_RE.search(text) if "Running:" in text else None
        if running:
            self._close(stream, complete=False)
            stream.spec = ConsoleSpec(spec=normalise_spec(running.group("spec").strip()), offset=offset)
            self._open += 1
            stream.cont = True
            self.specs.append(stream.spec)
            return
        spec = stream.spec
        if spec is None:
            return
        if stream.cont:
            stream.cont = False
            more = RUNNING_CONT_RE.match(text)
            if more and not spec.tests:
                spec.spec += more.group("frag")
                stream.cont = True
                return
        if _END_RE.match(text):
            self._close(stream, complete="Results" in text and stream.details)
            return
        if stream.details:
            self._detail(stream, spec, text)
        else:
            self._test_list(stream, spec, text)

    def _test_list(self, stream: _Stream, spec: ConsoleSpec, text: str) -> None:
        if not text.strip():
            return
        summary = _SUMMARY_RE.match(text)
        if summary and summary.group("what") == "passing":
            stream.details = True
            spec.summary["passing"] = int(summary.group("n"))
            return
        test = _TEST_RE.match(text)
        if test and test.group("a"):
            key = (len(test.group("ind")), test.group("title"))
            stream.retried[key] = stream.retried.get(key, 0) + 1
            return
        if test:
            self._test(stream, spec, test, PASSED if test.group("pass") else FAILED if test.group("n") else PENDING)
            return
        indent = len(text) - len(text.lstrip(" "))
        if indent >= 2 and not _NOT_SUITE_RE.match(text):
            self._pop(stream, indent)
            stream.stack.append((indent, text.strip()))

    @staticmethod
    def _pop(stream: _Stream, indent: int) -> None:
        while stream.stack and stream.stack[-1][0] >= indent:
            stream.stack.pop()

    def _test(self, stream: _Stream, spec: ConsoleSpec, match: "re.Match[str]", state: str) -> None:
        indent, title = len(match.group("ind")), match.group("title")
        self._pop(stream, indent)
        if len(spec.tests) >= MAX_SPEC_TESTS:
            return
        test = ConsoleTest(title=title, suites=[t for _i, t in stream.stack], state=state,
                           attempts=stream.retried.pop((indent, title), 0) + 1)
        if state == FAILED:
            test.number = int(match.group("n"))
        spec.tests.append(test)

    def _detail(self, stream: _Stream, spec: ConsoleSpec, text: str) -> None:
        summary = _SUMMARY_RE.match(text)
        if summary and stream.block is None:
            spec.summary[summary.group("what")] = int(summary.group("n"))
            return
        start = _DETAIL_RE.match(text)
        if start:
            stream.block = (int(start.group("n")), [])
            self._title_part(stream, spec, start.group("title"))
            return
        if stream.block is not None and text.strip():
            self._title_part(stream, spec, text.strip())

    @staticmethod
    def _title_part(stream: _Stream, spec: ConsoleSpec, part: str) -> None:
        number, parts = stream.block  # type: ignore[misc]
        if part.endswith(":"):
            parts.append(part[:-1])
            spec.details[number] = " ".join(parts)
            for test in spec.tests:
                if test.number == number and parts[-1] == test.title:
                    test.full = spec.details[number]
            stream.block = None
        elif len(parts) < MAX_DETAIL_PARTS:
            parts.append(part)
        else:
            stream.block = None

    def _close(self, stream: _Stream, complete: bool) -> None:
        if stream.spec is not None:
            stream.spec.complete = complete
            self._open -= 1
        stream.spec = None
        stream.details = False
        stream.stack = []
        stream.retried = {}
        stream.cont = False
        stream.block = None

    # ------------------------------------------------------------------ output
    def between(self, start: int, end: Optional[int] = None) -> List[ConsoleSpec]:
        """The specs whose ``Running:`` line is at or after ``start`` and before ``end`` (None: the end)."""
        return [s for s in self.specs if s.offset >= start and (end is None or s.offset < end)]


def console_tests_of(data: bytes) -> ConsoleTests:
    """The tests of a whole log given as bytes (the offline reading, and tests)."""
    scan = ConsoleTests()
    scan.feed(data)
    scan.finish()
    return scan

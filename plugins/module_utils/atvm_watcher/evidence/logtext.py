# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text of a runner log: its encoding, one raw line made clean text, CI and runner prefixes.

:class:`LogDecoder` turns the bytes of a log into UTF-8 bytes as they come. The encoding is decided
from strong evidence only: a byte order mark, or the NUL pattern of UTF-16 (an ASCII byte and a NUL
in every pair) over the first :data:`PROBE` bytes; anything else is UTF-8. It is decided again when
the evidence says otherwise: in UTF-8, a stretch of at least 16 UTF-16 LE ASCII pairs (a PowerShell
``Out-File -Append`` to the log) is decoded as UTF-16 from there; in UTF-16, a stretch of 64 bytes
without a NUL holding two line feeds (a UTF-8 tool appending to a PowerShell log) is UTF-8 from
there. A UTF-8 log passes unchanged (offsets in the decoded bytes are offsets in the file); UTF-16 is
decoded incrementally, so a character split between two chunks is read whole.

:func:`clean_line` turns one raw log line into text: UTF-8 with replacement characters, ANSI
escape sequences (CSI, OSC and two-byte escapes) removed, stray SGR remnants whose ESC byte was
lost (``[0m``, ``[39m``) removed, carriage returns, a BOM and other control characters removed,
and Cypress's glyphs mangled through the Windows code pages 437 / 850 (``Γöé`` / ``Ôöé`` for ``│``,
``├ù`` for ``×``, ``ÔêÜ`` for ``√``) mapped back.

:func:`split_prefix` removes what CI tools and parallel runners put before each line: CI
timestamps (GitHub Actions ``2024-05-01T10:00:00.1234567Z``, a clock time ``10:00:00`` or
``9:53:58 AM:``, ``[10:00:00]``, ``[2024-05-01T10:00:00.123Z]``) and a runner's name (``docker
compose`` ``cypress-1  | ``, ``nx`` / any parallel runner ``project-e2e: ``), and says which name it
was. Other prefixes are learned from the log itself: :func:`prefix_shape` turns the text found
before a Cypress heading (``build\\t07-Feb-2019 10:11:12``, ``[INFO]``, ``packages/e2e test:``) into
the shape every line of that log starts with (digits and, in a dated or bracketed prefix, words
generalised), and :class:`~.cypress_log.CypressLogParser` strips it from every line.
"""
from __future__ import annotations

import codecs
import re
from typing import Any, List, Optional, Pattern, Set, Tuple

# ESC-introduced sequences: CSI (ESC [ params intermediates final), OSC (ESC ] ... BEL or ST),
# other two-byte escapes (ESC + one byte in @-_), then SGR remnants that lost their ESC byte
# (``[0m``, ``[39m``, ``[1;31m``) as seen in copied console output, then C0 controls except TAB.
_ANSI_RE = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)?"
    r"|\x1b[@-Z\\-_]"
    r"|\x1b"
    r"|\[[0-9]{1,3}(?:;[0-9]{1,3})*m"
    r"|[\x00-\x08\x0a-\x1f\x7f\ufeff]"
)
# UTF-8 glyphs read as CP437 / CP850 start with one of these characters (E2 -> Γ / Ô, C3 -> ├).
_MANGLED_RE = re.compile("[\u0393\u00d4\u251c][\u0080-\uffff]+")
_CODE_PAGES = ("cp437", "cp850")


def clean_line(raw: bytes) -> str:
    """Decode one raw log line (UTF-8, invalid bytes replaced) and strip ANSI codes and CR.

    The remnants ``[0m`` / ``[39m`` (an SGR sequence whose ESC byte is missing, see the
    ``cy11`` corpus log) are removed as well; so are the other C0 control characters
    (NUL, BEL, backspace, CR, ...) except TAB. Leading and trailing whitespace is kept.
    """
    text = raw.decode("utf-8", "replace")
    if "\x1b" in text or "[" in text or not text.isprintable():
        text = _ANSI_RE.sub("", text)
    if not text.isascii():
        text = _MANGLED_RE.sub(_unmangle, text)
    return text


def _unmangle(match: "re.Match[str]") -> str:
    return unmangle(match.group(0))


def unmangle(text: str) -> str:
    """UTF-8 text that was read as CP437 or CP850, read back as UTF-8 (unchanged when it was not).

    Every character of these code pages is one byte, so a run that does not decode whole is
    decoded up to its first invalid byte and the rest is tried again from its next lead character
    (a real ``├───┤`` stays as it is).
    """
    for page in _CODE_PAGES:
        try:
            raw = text.encode(page)
        except UnicodeEncodeError:
            continue
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError as exc:
            # the rest is tried again from its next mangled lead character only
            cut = max(exc.start, 1)
            head = raw[:exc.start].decode("utf-8") if exc.start > 0 else text[:1]
            return head + _MANGLED_RE.sub(_unmangle, text[cut:])
    return text


_TIME_PREFIX_RE = re.compile(
    r"(?:\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:[.,]\d+)?(?:Z|[+-]\d\d:?\d\d)? "  # GitHub Actions, ISO
    r"|\[\d{4}-\d\d-\d\d[T ]\d\d:\d\d:\d\d[^\]]{0,16}\] "  # Jenkins [2024-05-01T10:00:00.123Z]
    r"|\[\d\d:\d\d:\d\d(?:[.,]\d+)?\] "  # [10:00:00]
    r"|\d{1,2}:\d\d:\d\d(?:[.,]\d+)?(?: ?[AaPp][Mm])?:? {1,2})"  # a clock time: Jenkins timestamper, Netlify
)
# A runner's name: "cypress-1  | " (docker compose), "project-e2e: " (nx and other parallel runners;
# only when what follows is indentation, a box glyph or a separator, or the name is already known).
_NAME_PREFIX_RE = re.compile(
    r"(?!(?:Running|Specs?|Searched|Tests|Passing|Failing|Pending|Skipped|Screenshots|Video|Duration|Cypress"
    r"|Browser|Params|Experiments|Warning|Error|Note|Recorded|Node|Run)\b)"
    r"(?P<name>[A-Za-z0-9@][\w.@/-]{0,80})"
    r"(?:\s+\|(?: |$)|(?P<colon>: (?=[ \t\u2500-\u257f=\u2714\u2716\u221a\u00d7]|$)|:$))"
)
_HAS_LETTER = re.compile(r"[A-Za-z]")  # a runner's name has a letter (a number is a line number)
_NAME_START = re.compile(r"[A-Za-z0-9@][\w.@/-]{0,80}?: ")


def split_prefix(text: str, known: Optional[Set[str]] = None) -> Tuple[str, str]:
    """``(name, rest)``: ``text`` without its CI timestamp and runner-name prefixes.

    ``name`` is the runner's name ("" when there is none). ``known`` holds the names already seen
    with a ``name: `` prefix in this log: such a prefix is then removed before any text.
    """
    name = ""
    first = text[:1]
    for _twice in (1, 2):  # a CI's timestamp, then maybe the tool's own (Netlify and Jenkins)
        if not (first.isdigit() or first == "["):
            break
        match = _TIME_PREFIX_RE.match(text)
        if match is None:
            break
        text = text[match.end():]
        first = text[:1]
    if (first.isalnum() or first == "@") and (":" in text or "|" in text):
        match = _NAME_PREFIX_RE.match(text)
        if match is None and known:
            start = _NAME_START.match(text)
            if start and start.group(0)[:-2] in known:
                match = start
        if match is not None and match.re is _NAME_PREFIX_RE and not _HAS_LETTER.search(match.group("name")):
            match = None
        if match is not None:
            name = match.group("name") if "name" in match.groupdict() else match.group(0)[:-2]
            text = text[match.end():]
            if known is not None and match.re is _NAME_PREFIX_RE and match.group("colon"):
                known.add(name)
            stamp = _TIME_PREFIX_RE.match(text)
            if stamp:
                text = text[stamp.end():]
    return name, text


# ------------------------------------------------------------------------------ learned prefixes
_TOKEN_RE = re.compile(r"\d+|[^\W\d_]+|[ \t]+|.")
_NOT_A_PREFIX = re.compile("[\u2500-\u257f\u2713\u2714\u2716\u2717\u221a\u00d7()]")
# What CI decorations hold and prose does not ("We " before a failure wording is no prefix).
_DECORATION = re.compile(r"[\d\[\]|:\t/>]")
# Cypress's own line starts: a learned shape that matches one of them is no prefix.
_CYPRESS_STARTS = (
    "Running:  a.cy.js  (1 of 2)", "Tests:        1", "Error: boom", "Warning: x", "Note: x", "Spec Ran: a.cy.js",
    "tput: No value for $TERM", "DevTools listening on ws://127.0.0.1:1/x", "Opening Cypress...",
    "It looks like this is your first time using Cypress: 3.1.2", "Cypress: 13.6.1", "Browser: Electron 118",
    "Specs: 1 found (a.cy.js)", "Can't run because no spec files were found.", "1 passing (2s)", "1) a test:",
    "We detected that the Electron Renderer process just crashed.", "AssertionError: expected 1 to equal 2",
    "at Context.eval (webpack:///./a.cy.js:1:1)", "Spec Tests Passing Failing Pending Skipped",
    "Started processing: Compressing to 32 CRF", "Finished processing: /a/b.mp4 (1 second)",
    "Compression progress: 100%", "(Run Starting)", "(Results)", "(Run Finished)", "(Video)", "(Screenshots)",
)
MAX_PREFIX_CHARS = 100


def prefix_shape(body: str) -> Optional[Pattern[str]]:
    """The shape of a line prefix seen before a Cypress heading (``body``, without the indentation
    Cypress puts there), as a regex matching it and one following space or tab at a line's start;
    None when ``body`` does not look like a prefix.

    Digit runs become ``\\d+``; when the prefix holds a digit or is bracketed (``[INFO]``), words
    become any word (``AM`` / ``PM``, ``build`` / ``error``, ``INFO`` / ``FAILED``); spaces and
    tabs become any run of them; every other character stays as it is. A prefix must hold some
    decoration (a digit, a bracket, a colon, a slash, a pipe, a tab, ``>``): prose before a
    failure wording is no prefix.
    """
    after = body[len(body.rstrip()):]
    body = body.strip()
    if not body or len(body) > MAX_PREFIX_CHARS or _NOT_A_PREFIX.search(body) or not _DECORATION.search(body):
        return None
    # a tab after it is part of the shape ("12<TAB>" of ``cat -n``, "1 <TAB>", is no "1 passing")
    end = r" *\t" if "\t" in after else r"(?:[ \t]|$)"
    tokens = _TOKEN_RE.findall(body)
    general = any(t[0].isdigit() for t in tokens) or (body[0] == "[" and body[-1] == "]")
    parts = []
    for tok in tokens:
        if tok[0].isdigit():
            parts.append(r"\d+")
        elif tok[0] in " \t":
            parts.append(r"[ \t]+")
        elif general and tok[0].isalpha():
            parts.append(r"[^\W\d_]+")
        else:
            parts.append(re.escape(tok))
    shape = re.compile("".join(parts) + end)
    if any(shape.match(line) for line in _CYPRESS_STARTS):
        return None
    return shape


def _dated(tokens: List[str], at: int) -> bool:
    return any(t[0].isdigit() for t in tokens[at + 1:at + 4])


def shared_prefix(line: str, other: str, limit: int) -> str:
    """The leading text of ``line`` (within its first ``limit`` characters) that ``other`` starts
    with too, digits aside (two timestamps share a shape, not their digits) and a word before a date
    aside (``build`` / ``error`` before Bamboo's date), cut after its last space or separator: the
    prefix both lines carry, or ""."""
    common = []
    mine_all, theirs_all = _TOKEN_RE.findall(line[:limit]), _TOKEN_RE.findall(other)
    for at, (mine, theirs) in enumerate(zip(mine_all, theirs_all)):
        same_kind = (mine[0].isdigit() and theirs[0].isdigit()) or (mine[0] in " \t" and theirs[0] in " \t") or (
            mine[0].isalpha() and theirs[0].isalpha() and _dated(mine_all, at) and _dated(theirs_all, at))
        if mine == theirs or same_kind:
            common.append(mine)
        else:
            break
    while common and not (common[-1][0] in " \t" or common[-1] in ":|]>"):
        common.pop()
    return "".join(common)


# ------------------------------------------------------------------------------ encodings
PROBE = 64  # bytes looked at before the encoding of a log without a byte order mark is decided
_LE_RUN = re.compile(rb"(?:[\x01-\x7f]\x00){16}")
_NO_NUL_RUN = re.compile(rb"[^\x00]{64,}")
_HOLD_MAX = 4096  # UTF-8 lines holding a NUL held back at most: the start of a UTF-16 stretch?


def _utf16_share(head: bytes) -> Tuple[float, float]:
    """The share of 2-byte units of ``head`` that are ASCII in UTF-16 LE, and in UTF-16 BE."""
    pairs = len(head) // 2
    if not pairs:
        return 0.0, 0.0
    le = sum(1 for i in range(0, pairs * 2, 2) if not head[i + 1] and 0 < head[i] < 0x80)
    be = sum(1 for i in range(0, pairs * 2, 2) if not head[i] and 0 < head[i + 1] < 0x80)
    return le / pairs, be / pairs


class LogDecoder:
    """The bytes of a log as UTF-8, chunk by chunk (see the module documentation).

    ``encoding`` is None until the first bytes are decided, then the encoding of the stretch being
    read: ``"utf-8"``, ``"utf-16-le"`` or ``"utf-16-be"``; ``changes`` counts the times it was
    decided again. A UTF-8 log is returned byte for byte (its BOM included: :func:`clean_line`
    drops it), so offsets in the decoded bytes are offsets in the file; in a UTF-16 stretch they
    are offsets in the UTF-8 text.
    """

    def __init__(self) -> None:
        self.encoding: Optional[str] = None
        self.changes = 0
        self._head = b""
        self._hold = b""
        self._decoder: Any = None
        self._units = 0  # bytes given to the UTF-16 decoder in this stretch (its alignment)

    def _start(self, head: bytes) -> None:
        if head.startswith(codecs.BOM_UTF8):
            self.encoding = "utf-8"
        elif head.startswith(codecs.BOM_UTF16_LE) and not head.startswith(codecs.BOM_UTF32_LE):
            self._to_utf16("utf-16", "utf-16-le")
        elif head.startswith(codecs.BOM_UTF16_BE):
            self._to_utf16("utf-16", "utf-16-be")
        else:
            le, be = _utf16_share(head[:PROBE])
            if le >= 0.75:
                self._to_utf16("utf-16-le", "utf-16-le")
            elif be >= 0.75:
                self._to_utf16("utf-16-be", "utf-16-be")
            else:
                self.encoding = "utf-8"

    def _to_utf16(self, codec: str, name: str) -> None:
        if self.encoding is not None:
            self.changes += 1
        self.encoding = name
        self._decoder = codecs.getincrementaldecoder(codec)("replace")
        self._units = 0

    def _utf16(self, data: bytes, final: bool) -> bytes:
        self._units += len(data)
        text = self._decoder.decode(data, final)
        if text[:1] == "\ufeff":
            text = text[1:]
        return text.encode("utf-8")

    def decode(self, data: bytes, final: bool = False) -> bytes:
        """The UTF-8 bytes of ``data`` (what cannot be decided or decoded yet is kept for the next call)."""
        if self.encoding is None:
            self._head += data
            if len(self._head) < PROBE and not final:
                return b""
            data, self._head = self._head, b""
            self._start(data[:PROBE])
        if self._hold:
            data, self._hold = self._hold + data, b""
        out: List[bytes] = []
        while data:
            if self._decoder is None:
                data = self._from_utf8(data, final, out)
            else:
                data = self._from_utf16(data, final, out)
        if final and self._decoder is not None:
            out.append(self._utf16(b"", True))
        return b"".join(out)

    def _from_utf8(self, data: bytes, final: bool, out: List[bytes]) -> bytes:
        """Pass UTF-8 ``data`` to ``out`` up to a UTF-16 stretch (little endian, what Windows writes;
        a big-endian log is known from its start only); returns what is left to decode."""
        nul = data.find(b"\x00")
        if nul < 0:
            out.append(data)
            return b""
        found = _LE_RUN.search(data)
        if found is None:
            # NUL bytes but no UTF-16 stretch (yet): the lines from the first NUL on wait for more
            # bytes (at most _HOLD_MAX), so that where a stretch starts never depends on the chunks
            held = data.rfind(b"\n", 0, nul) + 1
            if not final and len(data) - held <= _HOLD_MAX:
                out.append(data[:held])
                self._hold = data[held:]
            else:
                out.append(data)
            return b""
        # the stretch starts after the last UTF-8 line end before it (a line feed not followed by NUL),
        # on a 2-byte boundary of its own (the run found is on one): a byte before it that belongs
        # with bytes already passed is passed as it is (a NUL, which the line cleaning drops)
        line = found.start()
        while line > 0:
            nl = data.rfind(b"\n", 0, line)
            if nl < 0:
                line = 0
                break
            if data[nl + 1:nl + 2] != b"\x00":
                line = nl + 1
                break
            line = nl
        if (found.start() - line) % 2:
            line += 1
        out.append(data[:line])
        self._to_utf16("utf-16-le", "utf-16-le")
        return data[line:]

    def _from_utf16(self, data: bytes, final: bool, out: List[bytes]) -> bytes:
        """Decode UTF-16 ``data`` to ``out`` up to a UTF-8 stretch; returns what is left to decode."""
        for run in _NO_NUL_RUN.finditer(data):
            if run.group(0).count(b"\n") >= 2:
                cut = run.start()
                if (self._units + cut) % 2:
                    cut += 1  # the byte after a NUL still belongs to its UTF-16 unit
                out.append(self._utf16(data[:cut], True))
                self._decoder = None
                self.encoding = "utf-8"
                self.changes += 1
                return data[cut:]
        if not final:
            # a trailing stretch without NUL may be the start of UTF-8 text: it waits for more bytes
            tail = len(data) - len(data.rsplit(b"\x00", 1)[-1])
            if len(data) - tail < 64:
                self._hold = data[tail:]
                data = data[:tail]
        out.append(self._utf16(data, False))
        return b""

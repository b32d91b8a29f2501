# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text of a runner log: its encoding, one raw line made clean text, CI and runner prefixes.

:class:`LogDecoder` turns the bytes of a log into UTF-8 bytes as they come: a UTF-8 log (with or
without BOM) passes unchanged; a UTF-16 log (LE or BE, with BOM, or without BOM when its first
characters are ASCII) is decoded incrementally, so a character split between two chunks is read
whole.

:func:`clean_line` turns one raw log line into text: UTF-8 with replacement characters, ANSI
escape sequences (CSI, OSC and two-byte escapes) removed, stray SGR remnants whose ESC byte was
lost (``[0m``, ``[39m``) removed, carriage returns, a BOM and other control characters removed,
and Cypress's glyphs mangled through the Windows code pages 437 / 850 (``Γöé`` / ``Ôöé`` for ``│``,
``├ù`` for ``×``, ``ÔêÜ`` for ``√``) mapped back.

:func:`split_prefix` removes what CI tools and parallel runners put before each line: CI
timestamps (GitHub Actions ``2024-05-01T10:00:00.1234567Z``, Jenkins timestamper ``10:00:00``,
``[10:00:00]``, ``[2024-05-01T10:00:00.123Z]``) and a runner's name (``docker compose``
``cypress-1  | ``, ``nx`` / any parallel runner ``project-e2e: ``), and says which name it was.
"""
from __future__ import annotations

import codecs
import re
from typing import Any, Optional, Set, Tuple

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
    r"|\d\d:\d\d:\d\d(?:[.,]\d+)?  )"  # Jenkins timestamper
)
# A runner's name: "cypress-1  | " (docker compose), "project-e2e: " (nx and other parallel runners;
# only when what follows is indentation, a box glyph or a separator, or the name is already known).
_NAME_PREFIX_RE = re.compile(
    r"(?!(?:Running|Specs?|Searched|Tests|Passing|Failing|Pending|Skipped|Screenshots|Video|Duration|Cypress"
    r"|Browser|Params|Experiments|Warning|Error|Note|Recorded|Node|Run)\b)"
    r"(?P<name>[A-Za-z0-9@][\w.@/-]{0,80}?)(?:\s+\|(?: |$)|(?P<colon>: (?=[ \t\u2500-\u257f=\u2714\u2716\u221a\u00d7]|$)|:$))"
)
_NAME_START = re.compile(r"[A-Za-z0-9@][\w.@/-]{0,80}?: ")


def split_prefix(text: str, known: Optional[Set[str]] = None) -> Tuple[str, str]:
    """``(name, rest)``: ``text`` without its CI timestamp and runner-name prefixes.

    ``name`` is the runner's name ("" when there is none). ``known`` holds the names already seen
    with a ``name: `` prefix in this log: such a prefix is then removed before any text.
    """
    name = ""
    match = _TIME_PREFIX_RE.match(text)
    if match:
        text = text[match.end():]
    if text[:1].isalnum() or text[:1] == "@":
        match = _NAME_PREFIX_RE.match(text)
        if match is None and known:
            start = _NAME_START.match(text)
            if start and start.group(0)[:-2] in known:
                match = start
        if match is not None:
            name = match.group("name") if "name" in match.groupdict() else match.group(0)[:-2]
            text = text[match.end():]
            if known is not None and match.re is _NAME_PREFIX_RE and match.group("colon"):
                known.add(name)
            stamp = _TIME_PREFIX_RE.match(text)
            if stamp:
                text = text[stamp.end():]
    return name, text


class LogDecoder:
    """The bytes of a log as UTF-8, chunk by chunk (see the module documentation).

    ``encoding`` is None until the first bytes are seen, then ``"utf-8"``, ``"utf-16-le"`` or
    ``"utf-16-be"``. A UTF-8 log is returned byte for byte (its BOM included: :func:`clean_line`
    drops it), so offsets in the decoded bytes are offsets in the file; for UTF-16 they are
    offsets in the UTF-8 text.
    """

    def __init__(self) -> None:
        self.encoding: Optional[str] = None
        self._head = b""
        self._decoder: Any = None

    def _detect(self, head: bytes) -> None:
        if head.startswith(codecs.BOM_UTF16_LE) and not head.startswith(codecs.BOM_UTF32_LE):
            self.encoding = "utf-16-le"
        elif head.startswith(codecs.BOM_UTF16_BE):
            self.encoding = "utf-16-be"
        elif len(head) >= 4 and head[0] and not head[1] and head[2] and not head[3]:
            self.encoding = "utf-16-le"
        elif len(head) >= 4 and not head[0] and head[1] and not head[2] and head[3]:
            self.encoding = "utf-16-be"
        else:
            self.encoding = "utf-8"
        if self.encoding != "utf-8":
            self._decoder = codecs.getincrementaldecoder("utf-16")("replace") if head[:2] in (
                codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE) else codecs.getincrementaldecoder(self.encoding)("replace")

    def decode(self, data: bytes, final: bool = False) -> bytes:
        """The UTF-8 bytes of ``data`` (what cannot be decoded yet is kept for the next call)."""
        if self.encoding is None:
            self._head += data
            if len(self._head) < 4 and not final:
                return b""
            data, self._head = self._head, b""
            self._detect(data[:4])
        if self._decoder is None:
            return data
        text = self._decoder.decode(data, final)
        if text.startswith("\ufeff"):
            text = text[1:]
        return text.encode("utf-8")

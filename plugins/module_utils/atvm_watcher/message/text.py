# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text helpers of a post: one line of evidence made inert, inline code, durations, counts,
the runner's exit in words, the result emoji, "… and N more", the possible-duplicate note, and
cutting to a limit.

Evidence is inert wherever a post shows it (:func:`inert`): what the runner log, the reporter
artifacts, the JUnit reports and the file names say is shown as the characters it is made of,
never as an image, a link, an autolinked URL or an HTML tag (docs/architecture.md, "The post").
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import List

from ..models import FAIL, MISSING, PASS, RUN, UNKNOWN, Counts, ExitInfo
from ..safetext import ZWSP, clean, defuse_mentions

DUPLICATE_NOTE = ":warning: possible duplicate: an earlier attempt to post this status may have reached the channel."

RESULT_EMOJI = {PASS: "\u2705", FAIL: "\u274c", RUN: "\u23f3", UNKNOWN: "\u2754", MISSING: "\u2753"}

ELLIPSIS = "\u2026"
TRUNCATED_LINE = ELLIPSIS + " (message truncated to fit one post)"

# How hard detail is shortened, one level after another, before whole rows / reasons are dropped:
# (chars per host reason, reasons per host, chars per run reason, chars per metadata value)
LEVELS = (
    (400, 5, 1000, 2000),
    (200, 3, 400, 500),
    (100, 2, 200, 200),
    (60, 1, 120, 120),
)

# results worst first: the order of rows kept when rows must be dropped, and of tallies
SEVERITY = {FAIL: 0, MISSING: 1, UNKNOWN: 2, RUN: 3, PASS: 4}

_WS_RE = re.compile(r"\s+")
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---------------------------------------------------------------------------------------------
# one line of text
# ---------------------------------------------------------------------------------------------


def one_line(text: object) -> str:
    """Text on one line, with channel-wide mentions defused (a status must not ping everyone)."""
    return defuse_mentions(plain_line(text))


def plain_line(text: object) -> str:
    """``text`` on one line: encodable, ANSI codes and control characters removed, whitespace collapsed."""
    value = clean(text)
    value = _CONTROL_RE.sub("", _ANSI_RE.sub("", value))
    return _WS_RE.sub(" ", value).strip()


def shorten(text: str, limit: int) -> str:
    """``text`` cut to ``limit`` characters (0: no limit), the cut said with an ellipsis."""
    if limit > 0 and len(text) > limit:
        return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return text


# A word of evidence that Mattermost could turn into a link (a superset of what its Markdown
# autolinks: any scheme "x:" followed by "/", a letter, a digit or "%" (a server may autolink
# any scheme it is told to), "www.", "host.tld/", an e-mail address) is shown as inline code.
_LINKISH_RE = re.compile(
    r"(?<![A-Za-z0-9])[A-Za-z][A-Za-z0-9+.\-]*:(?:/|[^\W_]|%)"
    r"|(?<![A-Za-z0-9])www\d{0,3}\."
    r"|(?:[^\W_]|[.\-])\.[^\W\d_]{2,4}/"
    r"|[^\s@]@[^\s@]*\.",
    re.IGNORECASE)
# what starts a block (heading, quote, list, rule) when a text begins a line
_BLOCK_START_RE = re.compile(r"^(?:[#>+\-]|\d{1,9}(?=[.)](?: |$)))")
# a plain http(s) URL: shown as the link it is (the recorded run read from the Cypress banner)
_PLAIN_URL_RE = re.compile(r"^https?://[A-Za-z0-9.\-]+(?::[0-9]{1,5})?(?:[/?#][A-Za-z0-9\-._~/?#%&=+,;:!$]*)?$")
_ENTITY_RE = re.compile(r"&#?\w+;")  # shown as written, not as the character it names
_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


def inert(text: object, limit: int = 0, in_cell: bool = False) -> str:
    """``text`` (evidence) on one line, shortened to ``limit`` characters, as Markdown that shows
    its characters and nothing else (no image, link, autolinked URL, HTML tag, emphasis or block).

    A word that could become a link is inline code (its backticks become quotes); in the other
    words ``\\`` (before anything but a letter or digit), ``[``, ``]``, `````, ``*``, ``~`` and ``_``
    (but between letters or digits) are backslash-escaped, ``<`` becomes ``&lt;`` (but in a
    defused ``<!here>``) and the ``&`` of an entity ``&amp;``; a leading ``#``, ``>``, ``-``, ``+``
    or ``1.`` is escaped. ``in_cell``: a table cell, ``|`` escaped too.
    """
    line = shorten(one_line(text), limit)
    words = [_code_word(w, in_cell) if _LINKISH_RE.search(w) else _escape_word(w, in_cell) for w in line.split(" ")]
    out = " ".join(words)
    start = _BLOCK_START_RE.match(out)
    if start:
        if out[0].isdigit():
            out = out[:start.end()] + "\\" + out[start.end():]
        else:
            out = "\\" + out
    return out


def inert_or_dash(text: str, limit: int = 0, in_cell: bool = False) -> str:
    """:func:`inert` ``text``, or ``-`` when there is none (a value not known)."""
    return inert(text, limit, in_cell) if text else "-"


def _code_word(word: str, in_cell: bool) -> str:
    word = word.replace("`", "'")
    if in_cell and "|" in word:
        # a pipe in a cell is escaped even in code; the backslashes before it doubled (an odd number
        # of them before a pipe: never a column separator)
        word = re.sub(r"(\\*)\|", lambda m: m.group(1) * 2 + "\\|", word)
    return "`" + word + "`"


def _escape_word(word: str, in_cell: bool) -> str:
    out = []
    last = len(word) - 1
    for i, ch in enumerate(word):
        if ch == "\\":
            out.append("\\" if i < last and word[i + 1] in _ALNUM else "\\\\")
        elif ch in "`*~[]":
            out.append("\\" + ch)
        elif ch == "_":
            inner = 0 < i < last and word[i - 1] in _ALNUM and word[i + 1] in _ALNUM
            out.append("_" if inner else "\\_")
        elif ch == "<":
            out.append("<" if _defused_mention(word, i) else "&lt;")
        elif ch == "&" and _ENTITY_RE.match(word, i):
            out.append("&amp;")
        elif ch == "|" and in_cell:
            out.append("\\|")
        else:
            out.append(ch)
    return "".join(out)


def _defused_mention(word: str, i: int) -> bool:
    """``<!`` + zero-width space + ``here>`` (a defused mention): neither a tag nor an autolink, shown as it is."""
    if not word.startswith("<!" + ZWSP, i):
        return False
    end = word.find(">", i)
    inside = word[i:end] if end >= 0 else word[i:]
    return "@" not in inside and ":" not in inside


def shown_url(url: object, limit: int = 0) -> str:
    """The run's recorded-run URL: a plain http(s) URL (within ``limit``) stays a link; anything
    else is evidence like any other (:func:`inert`)."""
    line = one_line(url)
    if _PLAIN_URL_RE.match(line) and (not limit or len(line) <= limit):
        return line
    return inert(line, limit)


def inline_code(text: object, limit: int = 0) -> str:
    """``text`` as Markdown inline code on one line (backticks inside become quotes)."""
    value = shorten(one_line(text).replace("`", "'"), limit)
    return "`{0}`".format(value) if value else ""


# ---------------------------------------------------------------------------------------------
# numbers, results, the runner's exit
# ---------------------------------------------------------------------------------------------


def format_duration(seconds: float | None) -> str:
    if seconds is None or seconds < 0:
        return ""
    total = int(round(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return "{0}h {1:02d}m {2:02d}s".format(hours, minutes, secs)
    if minutes:
        return "{0}m {1:02d}s".format(minutes, secs)
    return "{0}s".format(secs)


def _num(value: int | None) -> str:
    return "-" if value is None else str(value)


def format_counts(counts: Counts) -> str:
    """``tests / passed / failed / pending / skipped`` with ``-`` for unknown numbers."""
    return " / ".join(_num(v) for v in (counts.tests, counts.passed, counts.failed, counts.pending, counts.skipped))


def has_counts(counts: Counts) -> bool:
    return any(v is not None for v in (counts.tests, counts.passed, counts.failed, counts.pending, counts.skipped))


def emoji(result: str) -> str:
    """The emoji of a result (a result it does not know: the one of UNKNOWN)."""
    return RESULT_EMOJI.get(result, RESULT_EMOJI[UNKNOWN])


def describe_exit(exit_info: ExitInfo, show: Callable[[str], str] = str) -> str:
    """How the runner ended, in words; ``show`` formats the detail and the source it was read from."""
    if exit_info.running:
        return "running"
    if not exit_info.known:
        return "exit unknown"
    parts = []
    if exit_info.signal is not None:
        parts.append("killed by signal {0}".format(exit_info.signal))
    elif exit_info.exit_code is not None:
        parts.append("exit code {0}".format(exit_info.exit_code))
    else:
        parts.append("ended")
    if exit_info.detail:
        parts.append("({0})".format(show(exit_info.detail)))
    if exit_info.source:
        parts.append("[{0}]".format(show(exit_info.source)))
    return " ".join(parts)


def more(n: int, word: str = "", tail: str = "") -> str:
    """``… and 3 more``, ``… and 3 more reasons``, ``… and 1 more host not PASS``."""
    if not word:
        return "{0} and {1} more".format(ELLIPSIS, n)
    return "{0} and {1} more {2}{3}{4}".format(ELLIPSIS, n, word, "" if n == 1 else "s", tail)


def bullets(title: str, items: List[str], total: int, word: str) -> str:
    """``**title:**`` then one ``- item`` line each, and ``- … and N more <word>s`` for the ``total``
    less those shown ("" when there is nothing at all)."""
    if not total:
        return ""
    lines = ["**{0}:**".format(title)]
    lines.extend("- " + item for item in items)
    if total > len(items):
        lines.append("- " + more(total - len(items), word))
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# the possible-duplicate note and fitting to a limit
# ---------------------------------------------------------------------------------------------


def add_duplicate_note(text: str, max_chars: int | None = None) -> str:
    """``text`` with the possible-duplicate note on top (once), still within ``max_chars``."""
    if text.startswith(DUPLICATE_NOTE):
        noted = text
    else:
        noted = DUPLICATE_NOTE + "\n\n" + text
    if max_chars is not None and len(noted) > max_chars:
        noted = hard_cut(noted, max_chars)
    return noted


def hard_cut(text: str, limit: int) -> str:
    """Last resort: cut at a line boundary and say so (the first lines, the headline, survive)."""
    if len(text) <= limit:
        return text
    room = limit - len(TRUNCATED_LINE) - 1
    if room <= 0:
        return safe_prefix(text, limit)
    cut = text.rfind("\n", 0, room + 1)
    if cut <= 0:
        return safe_prefix(text, room) + "\n" + TRUNCATED_LINE
    return text[:cut] + "\n" + TRUNCATED_LINE


def cut_markdown(text: str, limit: int) -> str:
    """Markdown (one line) cut to ``limit`` characters with an ellipsis, never inside inline code
    or a backslash escape (a cut code span would show what it held as Markdown)."""
    if limit > 0 and len(text) > limit:
        return safe_prefix(text, max(limit - 1, 0)).rstrip() + ELLIPSIS
    return text


def safe_prefix(text: str, n: int) -> str:
    """The longest start of ``text`` within ``n`` characters that ends neither inside inline code
    nor between a backslash and the character it escapes."""
    code_start = -1
    i = 0
    while i < n:
        ch = text[i]
        if code_start < 0 and ch == "\\":
            if i + 1 >= n:
                return text[:i]
            i += 2
            continue
        if ch == "`":
            code_start = i if code_start < 0 else -1
        i += 1
    return text[:code_start] if code_start >= 0 else text[:n]


def most(upper: int, fits: Callable[[int], bool]) -> int:
    """The largest n in [0, upper] with fits(n), assuming fits is monotonic (0 when none fits)."""
    lo, hi = 0, upper
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if fits(mid):
            lo = mid
        else:
            hi = mid - 1
    return lo

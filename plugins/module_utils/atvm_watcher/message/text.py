# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text helpers of a post: one line of evidence, table cells, inline code, durations, counts,
the runner's exit in words, the result emoji, "… and N more", the possible-duplicate note, and
cutting to a limit.
"""
from __future__ import annotations

import re
from collections.abc import Callable
from typing import List

from ..models import FAIL, MISSING, PASS, RUN, UNKNOWN, Counts, ExitInfo
from ..safetext import clean, defuse_mentions

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


def escape_cell(text: object, limit: int = 0) -> str:
    """A Markdown table cell: one line, ``|`` escaped, optionally shortened to ``limit`` characters."""
    return cell(one_line(text), limit)


def cell(line: str, limit: int = 0) -> str:
    """``line`` (already one line) shortened and escaped for a table cell."""
    return shorten(line, limit).replace("\\", "\\\\").replace("|", "\\|")


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


def describe_exit(exit_info: ExitInfo) -> str:
    """How the runner ended, in words."""
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
        parts.append("({0})".format(exit_info.detail))
    if exit_info.source:
        parts.append("[{0}]".format(exit_info.source))
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
        return text[:limit]
    cut = text.rfind("\n", 0, room + 1)
    if cut <= 0:
        return text[:room] + "\n" + TRUNCATED_LINE
    return text[:cut] + "\n" + TRUNCATED_LINE


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

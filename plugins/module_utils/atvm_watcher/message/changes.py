# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changed since the suite's previous run, as both formatters show it (docs/history.md).

- :func:`changes_line`: one line, "Since `B41` (3 h ago): 1 new failure · 2 fixed · 1 still
  failing (3 runs in a row) · 1 flaky (passed on a retry)", "first run of this suite", or "no
  per-test results: why";
- :func:`changes_block`: the names, list by list (new failures, fixed, still failing, flaky, tests
  the sources disagree on), the first ``names`` of each and "… and N more";
- :func:`changes_lines`: every name, one line each, for the card (cut where it must be, said so).

Test titles and spec names are evidence: they are shown inert (:func:`~.text.inert`).
"""
from __future__ import annotations

import os
from typing import List, Optional, Sequence, Tuple

from .text import inert, inline_code, more
from .view import ChangesView

NAME_CHARS = 200  # a test's title as shown at most (the spec's file name: 80)

_LISTS = (
    ("new_failures", "New failures"),
    ("fixed", "Fixed"),
    ("still_failing", "Still failing"),
    ("flaky", "Flaky (passed on a retry)"),
    ("disagreements", "Sources disagree"),
)


def format_ago(seconds: Optional[float]) -> str:
    """``just now``, ``12 min ago``, ``3 h ago``, ``2 d ago`` ("" when not known)."""
    if seconds is None:
        return ""
    if seconds < 60:
        return "just now"
    if seconds < 3600:
        return "{0} min ago".format(int(seconds // 60))
    if seconds < 2 * 86400:
        return "{0} h ago".format(int(seconds // 3600))
    return "{0} d ago".format(int(seconds // 86400))


def _count(n: int, one: str, many: str) -> str:
    return "{0} {1}".format(n, one if n == 1 else many)


def changes_line(view: ChangesView) -> str:
    """The one-line summary (Markdown)."""
    if not view.known:
        return "no per-test results: {0}".format(inert(view.why or "not known", 200))
    flaky = "{0} flaky (passed on a retry)".format(len(view.flaky)) if view.flaky else ""
    if not view.previous_build:
        head = "first run of this suite" if view.first_run else "no earlier run of this suite with per-test results"
        return head + (" \u00b7 " + flaky if flaky else "")
    parts = []
    if view.new_failures:
        parts.append(_count(len(view.new_failures), "new failure", "new failures"))
    if view.fixed:
        parts.append("{0} fixed".format(len(view.fixed)))
    if view.still_failing:
        parts.append("{0} still failing (longest: {1} runs in a row)".format(
            len(view.still_failing), view.longest_streak))
    if flaky:
        parts.append(flaky)
    ago = format_ago(view.ago)
    since = "Since {0}{1}".format(inline_code(view.previous_build, 100), " ({0})".format(ago) if ago else "")
    return "{0}: {1}".format(since, " \u00b7 ".join(parts) if parts else "no change")


def test_name(spec: str, title: str, limit: int = NAME_CHARS) -> str:
    """``title (spec file name)``, inert."""
    name = os.path.basename(spec.replace("\\", "/")) or spec
    return "{0} ({1})".format(inert(title, limit), inert(name, 80)) if name else inert(title, limit)


def _items(view: ChangesView, which: str, limit: int, first: Optional[int] = None) -> List[str]:
    """The names of one list, the first ``first`` of them (None: all)."""
    if which == "still_failing":
        return ["{0}, {1} runs in a row".format(test_name(spec, title, limit), n)
                for (spec, title), n in view.still_failing[:first]]
    if which == "disagreements":
        return ["{0}: {1}".format(test_name(spec, title, limit), ", ".join(
            "{0} {1}".format(inert(source, 20), inert(state, 20)) for source, state in says))
            for spec, title, says in view.disagreements[:first]]
    return [test_name(spec, title, limit) for spec, title in getattr(view, which)[:first]]


def _lists(view: ChangesView) -> List[Tuple[str, str, int]]:
    """(which, label, how many) of each list a post shows."""
    if not view.known:
        return []
    compared = ("new_failures", "fixed", "still_failing")  # only against an earlier run
    return [(which, label, len(getattr(view, which))) for which, label in _LISTS
            if which not in compared or view.previous_build]


def changes_block(view: Optional[ChangesView], names: int, limit: int = NAME_CHARS) -> str:
    """The names of the changed tests, the first ``names`` of each list ("" when nothing changed)."""
    if view is None:
        return ""
    lines = []
    for which, label, total in _lists(view):
        if not total:
            continue
        shown = _items(view, which, limit, max(names, 0))
        line = "- {0} ({1}): {2}".format(label, total, "; ".join(shown)) if shown else "- {0}: {1}".format(
            label, total)
        if total > len(shown) and shown:
            line += "; " + more(total - len(shown))
        lines.append(line)
    if not lines:
        return ""
    return "\n".join(["**{0}**".format(_title(view))] + lines)


def _title(view: ChangesView) -> str:
    if view.previous_build:
        return "Since {0}:".format(inline_code(view.previous_build, 100))
    return "This run:"


def changes_lines(view: Optional[ChangesView], limit: int = NAME_CHARS,
                  at_most: Optional[int] = None) -> Tuple[List[str], int]:
    """Every name, grouped under its list's title (Markdown lines; [] when nothing changed), and how
    many names were left out to keep to ``at_most`` names (None: no bound; a post cannot show more
    names than its characters allow, so more are never made)."""
    if view is None:
        return [], 0
    out: List[str] = []
    left, hidden = at_most, 0
    for which, label, total in _lists(view):
        if total:
            out.append("**{0} ({1}):**".format(label, total))
            items = _items(view, which, limit, left)
            out.extend("- " + item for item in items)
            hidden += total - len(items)
            left = None if left is None else max(left - len(items), 0)
    return (["**{0}**".format(_title(view))] + out, hidden) if out else ([], 0)


def cut_lines(lines: Sequence[str], keep: int, hidden: int = 0) -> List[str]:
    """The first ``keep`` lines of :func:`changes_lines`, and "… and N more" for the tests left out
    (``hidden``: those it did not even make)."""
    shown = list(lines[:keep])
    left = sum(1 for line in lines[keep:] if line.startswith("- ")) + hidden
    if left:
        shown.append("- " + more(left, "test"))
    return shown

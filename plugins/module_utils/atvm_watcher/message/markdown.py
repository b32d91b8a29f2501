# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A (sub-)run's post as Markdown text: the operator's template (``settings.message_template``) and
the ``message`` of ``verdict``; and the one-line headline every post starts with.

A post always stays within ``settings.max_post_chars`` characters (Mattermost splits longer text
into several posts): long detail is cut by whole table rows and whole reasons, each cut said with an
"… and N more" line, and the headline always survives. Room is always kept for the
possible-duplicate note, so adding it later never pushes a post over the limit.

An operator template is a :class:`string.Template` file with ``$name`` placeholders (see
:data:`PLACEHOLDERS`), rendered with ``safe_substitute``.

Every text rendered passes :func:`~..safetext.safe_post` (encodable, webhook redacted, no
channel-wide mention), and the commands of the run's metadata are shown without credentials, so no
evidence or setting can make a post fail or leak.
"""
from __future__ import annotations

import re
import string
from typing import Dict, List, Tuple

from .. import settings as config
from ..errors import ConfigError
from ..inputs import read_regular
from ..models import RunVerdict, SubrunVerdict
from ..safetext import safe_post
from .text import (
    DUPLICATE_NOTE,
    LEVELS,
    bullets,
    emoji,
    format_counts,
    hard_cut,
    inert,
    inert_or_dash,
    inline_code,
    more,
    most,
    shown_url,
)
from .changes import changes_block, changes_line
from .view import HostView, SubrunView, build_view, tally

PLACEHOLDERS = (
    "build_name", "result", "state", "emoji", "subrun_name", "subrun_index", "subrun_total", "hosts_table",
    "reasons", "metadata", "duration", "run_url", "duplicate_note",
    # also available:
    "headline", "counts", "categorized", "name_mismatch", "started_at", "ended_at", "changes", "changed_tests",
)

MAX_TEMPLATE_BYTES = 64 * 1024

HOSTS_HEADER = (
    "| Host | OS | Kernel | Result | Tests / passed / failed / pending / skipped | Failure reasons |\n"
    "|---|---|---|---|---|---|"
)

Level = Tuple[int, int, int, int]


# ---------------------------------------------------------------------------------------------
# the pieces of a post
# ---------------------------------------------------------------------------------------------


def headline(view: SubrunView) -> str:
    """The one-line headline of a post: result, state, build and, in a categorized run, the sub-run."""
    text = "#### {0} {1} \u00b7 {2} \u00b7 build {3}".format(
        emoji(view.result), inert(view.result), inert(view.state), inline_code(view.build_name, 100))
    if view.categorized:
        text += " \u00b7 sub-run {0} {1}".format(view.position, inline_code(view.name, 100))
    return text


def _host_row(host: HostView, level: Level) -> str:
    cell_limit, per_host, _run_limit, _meta_limit = level
    shown = [inert(r, cell_limit, in_cell=True) for r in host.reasons[:per_host]]
    if len(host.reasons) > per_host:
        shown.append(more(len(host.reasons) - per_host))
    cells = [
        inert(host.name, 120, in_cell=True),
        inert_or_dash(host.os, 80, in_cell=True),
        inert_or_dash(host.kernel, 80, in_cell=True),
        "{0} {1}".format(emoji(host.result), inert(host.result, in_cell=True)),
        format_counts(host.counts),
        "; ".join(shown),
    ]
    return "| " + " | ".join(cells) + " |"


def _hosts_table(view: SubrunView, rows: List[str], n_rows: int) -> str:
    if not view.hosts:
        return "_No host results._"
    kept = set(view.row_order[:n_rows])
    lines = [HOSTS_HEADER]
    lines.extend(row for i, row in enumerate(rows) if i in kept)
    dropped = [host for i, host in enumerate(view.hosts) if i not in kept]
    if dropped:
        detail = ", ".join("{0} {1}".format(n, inert(result)) for result, n in tally(dropped))
        lines.append("")
        lines.append("{0} ({1})".format(more(len(dropped), "host"), detail))
    return "\n".join(lines)


def _reasons_block(view: SubrunView, keep: int, limit: int) -> str:
    return bullets(view.reasons_title, [inert(r, limit) for r in view.reasons[:keep]], len(view.reasons), "reason")


def _metadata_block(view: SubrunView, limit: int) -> str:
    lines = ["**{0}:** {1}".format(label, inline_code(value, limit)) for _key, label, value in view.metadata]
    lines.extend("**{0}:** {1}".format(inert(key, 60), inline_code(value, limit))
                 for key, value in view.extra_metadata)
    lines.append("**Categorized:** {0}".format("yes" if view.categorized else "no"))
    return "\n".join(lines)


class _Post:
    """A post rendered at a given detail level with a subset of rows and reasons."""

    def __init__(self, view: SubrunView, settings: config.Settings, possible_duplicate: bool,
                 template: str | None) -> None:
        self.view = view
        self.settings = settings
        self.possible_duplicate = possible_duplicate
        self.template = template
        self._rows: Dict[Level, List[str]] = {}

    def rows(self, level: Level) -> List[str]:
        if level not in self._rows:
            self._rows[level] = [_host_row(h, level) for h in self.view.hosts]
        return self._rows[level]

    def values(self, n_rows: int, n_reasons: int, level: Level) -> Dict[str, str]:
        view = self.view
        _cell, _per_host, run_limit, meta_limit = level
        return {
            "build_name": view.build_name,
            "result": inert(view.result),
            "state": inert(view.state),
            "emoji": view.emoji,
            "subrun_name": inert(view.name),
            "subrun_index": str(view.index + 1),
            "subrun_total": str(view.total) if view.total else "?",
            "hosts_table": _hosts_table(view, self.rows(level), n_rows),
            "reasons": _reasons_block(view, n_reasons, run_limit),
            "metadata": _metadata_block(view, meta_limit),
            "duration": view.duration,
            "run_url": shown_url(view.run_url),
            "duplicate_note": DUPLICATE_NOTE if self.possible_duplicate else "",
            "headline": headline(view),
            "counts": format_counts(view.counts) if view.counts else "",
            "categorized": "yes" if view.categorized else "no",
            "name_mismatch": inert(view.name_mismatch, run_limit),
            "started_at": inert(view.started_at),
            "ended_at": inert(view.ended_at),
            "changes": changes_line(view.changes) if view.changes is not None else "",
            "changed_tests": changes_block(view.changes, level[1], level[0]),
        }

    def render(self, n_rows: int, n_reasons: int, level: Level) -> str:
        values = self.values(n_rows, n_reasons, level)
        if self.template is not None:
            text = string.Template(self.template).safe_substitute(values).strip("\n")
            if self.possible_duplicate and not re.search(r"\$\{?duplicate_note\b", self.template):
                text = DUPLICATE_NOTE + "\n\n" + text
        else:
            text = _default(self.view, values)
        return safe_post(text, [self.settings.webhook])


def _default(view: SubrunView, v: Dict[str, str]) -> str:
    """The layout without an operator template."""
    head: List[str] = []
    if v["duplicate_note"]:
        head.append(v["duplicate_note"])
    head.append(v["headline"])
    info: List[str] = []
    if v["name_mismatch"]:
        info.append("**Sub-run name:** {0} ({1})".format(inline_code(view.name), v["name_mismatch"]))
    if v["counts"]:
        info.append("**Tests / passed / failed / pending / skipped:** {0}".format(v["counts"]))
    if v["duration"]:
        info.append("**Duration:** {0}".format(v["duration"]))
    if v["run_url"]:
        info.append("**Recorded run:** {0}".format(v["run_url"]))
    if v["changes"]:
        info.append("**History:** {0}".format(v["changes"]))
    blocks = ["\n".join(head)]
    if info:
        blocks.append("\n".join(info))
    blocks.append(v["metadata"])
    blocks.append(v["hosts_table"])
    if v["reasons"]:
        blocks.append(v["reasons"])
    if v["changed_tests"]:
        blocks.append(v["changed_tests"])
    return "\n\n".join(blocks)


def _fit(post: _Post, budget: int) -> str:
    """The most detailed rendering of ``post`` within ``budget`` characters."""
    n_hosts, n_reasons = len(post.view.hosts), len(post.view.reasons)
    for level in LEVELS:
        text = post.render(n_hosts, n_reasons, level)
        if len(text) <= budget:
            return text
    level = LEVELS[-1]

    def length(rows: int, reasons: int) -> int:
        return len(post.render(rows, reasons, level))

    # Run-level reasons get at most a quarter of the post, host rows the rest; then whatever room is
    # left over goes back to the reasons.
    base = len(_reasons_block(post.view, 0, level[2]))
    reasons = most(n_reasons, lambda k: len(_reasons_block(post.view, k, level[2])) - base <= budget // 4)
    rows = most(n_hosts, lambda k: length(k, reasons) <= budget)
    reasons = most(n_reasons, lambda k: length(rows, k) <= budget)
    text = post.render(rows, reasons, level)
    return hard_cut(text, budget)


def _load_template(path: str) -> str:
    problem = config.env_file_problem(path)
    if problem:
        raise ConfigError(problem)
    try:
        data = read_regular(path, MAX_TEMPLATE_BYTES)[1]
    except OSError as exc:
        raise ConfigError("cannot read message template {0}: {1}".format(path, exc.strerror or exc)) from None
    if len(data) > MAX_TEMPLATE_BYTES:
        raise ConfigError("cannot read message template {0}: larger than {1} bytes".format(path, MAX_TEMPLATE_BYTES))
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ConfigError("cannot read message template {0}: not UTF-8 (byte offset {1})".format(
            path, exc.start)) from None


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


def render_subrun(verdict: RunVerdict, sub: SubrunVerdict, settings: config.Settings, build_name: str,
                  total_subruns: int, possible_duplicate: bool = False) -> str:
    """The Markdown Mattermost post for one (sub-)run, within ``settings.max_post_chars``.

    Without ``possible_duplicate`` the text stays short enough for :func:`~.text.add_duplicate_note`
    to add the note later without passing the limit. Raises :class:`ConfigError` when the operator
    template cannot be read.
    """
    return render_view(build_view(verdict, sub, settings, build_name, total_subruns), settings, possible_duplicate)


def render_view(view: SubrunView, settings: config.Settings, possible_duplicate: bool = False) -> str:
    """:func:`render_subrun` of a view already built."""
    template = _load_template(settings.message_template) if settings.message_template else None
    post = _Post(view, settings, possible_duplicate, template)
    limit = int(settings.max_post_chars)
    budget = limit if possible_duplicate else limit - len(DUPLICATE_NOTE) - 2
    return _fit(post, max(budget, 1))

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Mattermost status of a (sub-)run, and the plain-text run summary of ``status``.

A post always stays within ``settings.max_post_chars`` characters (Mattermost splits longer text
into several posts): long detail is cut by whole table rows and whole reasons, each cut said with an
"… and N more" line, and the headline always survives. Room is always kept for the
possible-duplicate note, so adding it later never pushes a post over the limit.

An operator template (``settings.message_template``) is a :class:`string.Template` file with
``$name`` placeholders (see :data:`PLACEHOLDERS`), rendered with ``safe_substitute``.

Every text rendered passes :func:`~.safetext.safe_post` (encodable, webhook redacted, no
channel-wide mention), and the commands of the run's metadata :func:`~.safetext.redact_command`
(no credentials), so no evidence or setting can make a post fail or leak.
"""
from __future__ import annotations

import re
import string
from collections.abc import Callable

from .. import settings as config
from ..errors import ConfigError
from ..inputs import read_regular
from ..safetext import clean, defuse_mentions, redact, redact_command, safe_post
from ..models import (
    FAIL,
    MISSING,
    PASS,
    RUN,
    UNKNOWN,
    Counts,
    ExitInfo,
    HostVerdict,
    RunVerdict,
    SubrunVerdict,
)

DUPLICATE_NOTE = ":warning: possible duplicate: an earlier attempt to post this status may have reached the channel."

RESULT_EMOJI = {PASS: "\u2705", FAIL: "\u274c", RUN: "\u23f3", UNKNOWN: "\u2754", MISSING: "\u2753"}

METADATA_LABELS = (
    ("template", "Template"),
    ("config_family", "Config family"),
    ("config_file", "Config file"),
    ("migration_style", "Migration style"),
    ("integration_plugin", "Integration plugin"),
    ("scope", "Scope"),
    ("template_command", "Template command"),
    ("runner_command", "Runner command"),
)

PLACEHOLDERS = (
    "build_name", "result", "state", "emoji", "subrun_name", "subrun_index", "subrun_total", "hosts_table",
    "reasons", "metadata", "duration", "run_url", "duplicate_note",
    # also available:
    "headline", "counts", "categorized", "name_mismatch", "started_at", "ended_at",
)

MAX_TEMPLATE_BYTES = 64 * 1024
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

SEVERITY = {FAIL: 0, MISSING: 1, UNKNOWN: 2, RUN: 3, PASS: 4}
_WS_RE = re.compile(r"\s+")
_ANSI_RE = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")
_CONTROL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


# ---------------------------------------------------------------------------------------------
# text helpers
# ---------------------------------------------------------------------------------------------


def one_line(text: object) -> str:
    """Text on one line, with channel-wide mentions defused (a status must not ping everyone)."""
    return defuse_mentions(plain_line(text))


def plain_line(text: object) -> str:
    """``text`` on one line: encodable, ANSI codes and control characters removed, whitespace collapsed."""
    value = clean(text)
    value = _CONTROL_RE.sub("", _ANSI_RE.sub("", value))
    return _WS_RE.sub(" ", value).strip()


def _shorten(text: str, limit: int) -> str:
    if limit > 0 and len(text) > limit:
        return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return text


def escape_cell(text: object, limit: int = 0) -> str:
    """A Markdown table cell: one line, ``|`` escaped, optionally shortened to ``limit`` characters."""
    return _cell(one_line(text), limit)


def _cell(line: str, limit: int) -> str:
    """``line`` (already one line) shortened and escaped for a table cell."""
    return _shorten(line, limit).replace("\\", "\\\\").replace("|", "\\|")


def inline_code(text: object, limit: int = 0) -> str:
    """``text`` as Markdown inline code on one line (backticks inside become quotes)."""
    value = _shorten(one_line(text).replace("`", "'"), limit)
    return "`{0}`".format(value) if value else ""


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


def _has_counts(counts: Counts) -> bool:
    return any(v is not None for v in (counts.tests, counts.passed, counts.failed, counts.pending, counts.skipped))


def _emoji(result: str) -> str:
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


# ---------------------------------------------------------------------------------------------
# the pieces of a post
# ---------------------------------------------------------------------------------------------


def _subrun_reasons(verdict: RunVerdict, sub: SubrunVerdict) -> list[str]:
    """The run-level reasons of this post: the sub-run's own; for a non-categorized run also the run's."""
    reasons = [r for r in sub.reasons if r]
    if not verdict.categorized:
        for reason in verdict.reasons:
            if reason and reason not in reasons:
                reasons.append(reason)
    return reasons


def _host_row(host: HostVerdict, reasons: list[str], level: tuple[int, int, int, int]) -> str:
    cell_limit, per_host, _run_limit, _meta_limit = level
    shown = [_cell(r, cell_limit) for r in reasons[:per_host]]
    if len(reasons) > per_host:
        shown.append("{0} and {1} more".format(ELLIPSIS, len(reasons) - per_host))
    cells = [
        escape_cell(host.host, 120),
        escape_cell(host.os or "-", 80),
        escape_cell(host.kernel or "-", 80),
        "{0} {1}".format(_emoji(host.result), escape_cell(host.result)),
        format_counts(host.counts),
        "; ".join(shown),
    ]
    return "| " + " | ".join(cells) + " |"


HOSTS_HEADER = (
    "| Host | OS | Kernel | Result | Tests / passed / failed / pending / skipped | Failure reasons |\n"
    "|---|---|---|---|---|---|"
)


def _hosts_table(rows: list[str], hosts: list[HostVerdict], keep: list[int]) -> str:
    if not hosts:
        return "_No host results._"
    lines = [HOSTS_HEADER]
    kept = set(keep)
    lines.extend(rows[i] for i in range(len(hosts)) if i in kept)
    dropped = [hosts[i] for i in range(len(hosts)) if i not in kept]
    if dropped:
        tally: dict[str, int] = {}
        for host in dropped:
            tally[host.result] = tally.get(host.result, 0) + 1
        detail = ", ".join("{0} {1}".format(n, r) for r, n in sorted(tally.items(), key=lambda i: SEVERITY.get(i[0], 2)))
        lines.append("")
        lines.append("{0} and {1} more host{2} ({3})".format(
            ELLIPSIS, len(dropped), "" if len(dropped) == 1 else "s", detail))
    return "\n".join(lines)


def _reasons_block(reasons: list[str], keep: int, limit: int, title: str = "Why not PASS") -> str:
    if not reasons:
        return ""
    lines = ["**{0}:**".format(title)]
    lines.extend("- " + _shorten(r, limit) for r in reasons[:keep])
    if len(reasons) > keep:
        more = len(reasons) - keep
        lines.append("- {0} and {1} more reason{2}".format(ELLIPSIS, more, "" if more == 1 else "s"))
    return "\n".join(lines)


def shown_metadata(settings: config.Settings) -> dict[str, str]:
    """The run's metadata as shown: credentials in commands (and in any other value) hidden."""
    names = getattr(settings, "redact_names", "") or None
    return {str(k): redact_command(v, names) for k, v in (settings.metadata or {}).items() if v}


def _metadata_block(settings: config.Settings, categorized: bool, limit: int) -> str:
    meta = shown_metadata(settings)
    lines = []
    known = {key for key, _label in METADATA_LABELS}
    for key, label in METADATA_LABELS:
        value = meta.get(key)
        if value:
            lines.append("**{0}:** {1}".format(label, inline_code(value, limit)))
    for key in sorted(k for k in meta if k not in known):
        lines.append("**{0}:** {1}".format(escape_cell(key, 60), inline_code(meta[key], limit)))
    lines.append("**Categorized:** {0}".format("yes" if categorized else "no"))
    return "\n".join(lines)


def headline(verdict: RunVerdict, sub: SubrunVerdict, build_name: str, total: int) -> str:
    """The one-line headline of a post: result, state, build and, in a categorized run, the sub-run
    (``total`` 0: the number of sub-runs is not known yet)."""
    text = "#### {0} {1} \u00b7 {2} \u00b7 build {3}".format(
        _emoji(sub.result), escape_cell(sub.result), escape_cell(sub.state), inline_code(build_name, 100))
    if verdict.categorized:
        position = "{0}/{1}".format(sub.index + 1, total) if total else str(sub.index + 1)
        text += " \u00b7 sub-run {0} {1}".format(position, inline_code(sub.name, 100))
    return text


class _Post:
    """Everything a post is made of, rendered at a given detail level with a subset of rows/reasons."""

    def __init__(self, verdict: RunVerdict, sub: SubrunVerdict, settings: config.Settings, build_name: str,
                 total_subruns: int, possible_duplicate: bool, template: str | None) -> None:
        self.verdict = verdict
        self.sub = sub
        self.settings = settings
        self.build_name = build_name
        # 0: the number of sub-runs is not known yet (the request is still running).
        self.total = max(int(total_subruns), sub.index + 1) if total_subruns else 0
        self.possible_duplicate = possible_duplicate
        self.template = template
        self.hosts = list(sub.hosts)
        self.reasons = [one_line(r) for r in _subrun_reasons(verdict, sub)]
        self.host_reasons = [[one_line(r) for r in h.reasons if r] for h in self.hosts]
        self.reasons_title = "Why not PASS" if sub.result != PASS else "Notes"
        # rows kept first when rows must be dropped: the worst results, then the original order
        self.priority = sorted(range(len(self.hosts)), key=lambda i: (SEVERITY.get(self.hosts[i].result, 2), i))
        self._rows: dict[tuple[int, int, int, int], list[str]] = {}

    def rows(self, level: tuple[int, int, int, int]) -> list[str]:
        if level not in self._rows:
            self._rows[level] = [_host_row(h, r, level) for h, r in zip(self.hosts, self.host_reasons)]
        return self._rows[level]

    def headline(self) -> str:
        return headline(self.verdict, self.sub, self.build_name, self.total)

    def values(self, n_rows: int, n_reasons: int, level: tuple[int, int, int, int]) -> dict[str, str]:
        sub = self.sub
        _cell, _per_host, run_limit, meta_limit = level
        keep = sorted(self.priority[:n_rows])
        duration = format_duration(sub.duration_seconds)
        return {
            "build_name": self.build_name,
            "result": sub.result,
            "state": sub.state,
            "emoji": _emoji(sub.result),
            "subrun_name": one_line(sub.name),
            "subrun_index": str(sub.index + 1),
            "subrun_total": str(self.total) if self.total else "?",
            "hosts_table": _hosts_table(self.rows(level), self.hosts, keep),
            "reasons": _reasons_block(self.reasons, n_reasons, run_limit, self.reasons_title),
            "metadata": _metadata_block(self.settings, self.verdict.categorized, meta_limit),
            "duration": duration,
            "run_url": one_line(sub.run_url or ""),
            "duplicate_note": DUPLICATE_NOTE if self.possible_duplicate else "",
            "headline": self.headline(),
            "counts": format_counts(sub.counts) if _has_counts(sub.counts) else "",
            "categorized": "yes" if self.verdict.categorized else "no",
            "name_mismatch": _shorten(one_line(sub.name_mismatch or ""), run_limit),
            "started_at": one_line(sub.started_at or ""),
            "ended_at": one_line(sub.ended_at or ""),
        }

    def render(self, n_rows: int, n_reasons: int, level: tuple[int, int, int, int]) -> str:
        values = self.values(n_rows, n_reasons, level)
        if self.template is not None:
            text = string.Template(self.template).safe_substitute(values).strip("\n")
            if self.possible_duplicate and not re.search(r"\$\{?duplicate_note\b", self.template):
                text = DUPLICATE_NOTE + "\n\n" + text
        else:
            text = self._default(values)
        return safe_post(text, [self.settings.webhook])

    def _default(self, v: dict[str, str]) -> str:
        head: list[str] = []
        if v["duplicate_note"]:
            head.append(v["duplicate_note"])
        head.append(v["headline"])
        info: list[str] = []
        if v["name_mismatch"]:
            info.append("**Sub-run name:** {0} ({1})".format(inline_code(v["subrun_name"]), v["name_mismatch"]))
        if v["counts"]:
            info.append("**Tests / passed / failed / pending / skipped:** {0}".format(v["counts"]))
        if v["duration"]:
            info.append("**Duration:** {0}".format(v["duration"]))
        if v["run_url"]:
            info.append("**Recorded run:** {0}".format(v["run_url"]))
        blocks = ["\n".join(head)]
        if info:
            blocks.append("\n".join(info))
        blocks.append(v["metadata"])
        blocks.append(v["hosts_table"])
        if v["reasons"]:
            blocks.append(v["reasons"])
        return "\n\n".join(blocks)


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


def _fit(post: _Post, budget: int) -> str:
    """The most detailed rendering of ``post`` within ``budget`` characters."""
    n_hosts, n_reasons = len(post.hosts), len(post.reasons)
    for level in LEVELS:
        text = post.render(n_hosts, n_reasons, level)
        if len(text) <= budget:
            return text
    level = LEVELS[-1]

    def length(rows: int, reasons: int) -> int:
        return len(post.render(rows, reasons, level))

    # Run-level reasons get at most a quarter of the post, host rows the rest; then whatever room is
    # left over goes back to the reasons.
    base = len(_reasons_block(post.reasons, 0, level[2]))
    reasons = most(n_reasons, lambda k: len(_reasons_block(post.reasons, k, level[2])) - base <= budget // 4)
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

    Without ``possible_duplicate`` the text stays short enough for :func:`add_duplicate_note` to add
    the note later without passing the limit. Raises :class:`ConfigError` when the operator template
    cannot be read.
    """
    template = _load_template(settings.message_template) if settings.message_template else None
    post = _Post(verdict, sub, settings, build_name, total_subruns, possible_duplicate, template)
    limit = int(settings.max_post_chars)
    budget = limit if possible_duplicate else limit - len(DUPLICATE_NOTE) - 2
    return _fit(post, max(budget, 1))


def render_run_summary(verdict: RunVerdict, settings: config.Settings, build_name: str) -> str:
    """Plain text for ``atvm-run-watcher status``: the run, then each sub-run and its hosts."""
    lines = [
        "build {0}: {1} / {2}".format(build_name, verdict.state, verdict.result),
        "categorized: {0}".format("yes" if verdict.categorized else "no"),
        "runner: {0}".format(describe_exit(verdict.exit)),
    ]
    meta = shown_metadata(settings)
    for key, label in METADATA_LABELS:
        if meta.get(key):
            lines.append("{0}: {1}".format(label.lower(), plain_line(meta[key])))
    if verdict.reasons:
        lines.append("reasons:")
        lines.extend("  - {0}".format(plain_line(r)) for r in verdict.reasons)
    total = max([len(verdict.subruns)] + [s.index + 1 for s in verdict.subruns])
    if not verdict.subruns:
        lines.append("no (sub-)run seen yet")
    for sub in verdict.subruns:
        head = "sub-run {0}/{1} {2}: {3} / {4}".format(sub.index + 1, total, sub.name, sub.state, sub.result)
        extra = []
        if _has_counts(sub.counts):
            extra.append("tests/passed/failed/pending/skipped {0}".format(format_counts(sub.counts)))
        if sub.duration_seconds is not None:
            extra.append("duration {0}".format(format_duration(sub.duration_seconds)))
        if extra:
            head += " (" + ", ".join(extra) + ")"
        lines.append(head)
        if sub.name_mismatch:
            lines.append("  name: {0}".format(sub.name_mismatch))
        if sub.run_url:
            lines.append("  recorded run: {0}".format(sub.run_url))
        for reason in sub.reasons:
            lines.append("  - {0}".format(plain_line(reason)))
        for host in sub.hosts:
            lines.append("  host {0}: {1}  {2}  os={3} kernel={4}".format(
                host.host, host.result, format_counts(host.counts), host.os or "-", host.kernel or "-"))
            for reason in host.reasons:
                lines.append("    - {0}".format(plain_line(reason)))
    return redact("\n".join(lines), [settings.webhook]) + "\n"

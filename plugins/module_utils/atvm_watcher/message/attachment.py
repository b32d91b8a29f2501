# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Mattermost post of a (sub-)run as a webhook payload that reads at a glance.

``text`` is a one-line headline (result, state, build, sub-run) so notifications and search work.
One attachment, coloured by result (PASS green, FAIL red, anything else grey), carries short fields
(result, state, test counts, duration, config family, hosts), then in its text the reasons, the
hosts that did not PASS, and the host table. The run metadata and the template and runner commands
go to ``props.card`` (the web app's info panel). ``priority`` is added to a FAIL post only when the
operator asks for it (``settings.fail_priority``).

The layout and the limits are in docs/architecture.md ("The post"); this module keeps within them:

- the headline within ``settings.max_post_chars`` (the server splits longer text into posts);
- the attachment text and the card each within ``settings.max_post_chars`` characters;
- a field value within :data:`MAX_FIELD_CHARS`, the footer within :data:`MAX_FOOTER_CHARS` (the web
  app cuts it there);
- the whole JSON body within :data:`MAX_BODY_BYTES` less :data:`BODY_RESERVE_BYTES` (newer servers
  read at most 128 KiB of a JSON body; the reserve keeps room for channel, username, icon and the
  possible-duplicate note);

long detail is cut by whole rows and whole reasons, each cut said with an "… and N more" line.

With an operator template (``settings.message_template``) the template replaces the layout: the
payload is its text alone (and the priority, when asked for).
"""
from __future__ import annotations

import json
from typing import Any, Dict, List, Optional, Tuple

from .. import __version__
from .. import settings as config
from ..decision.changes import Changes
from ..models import FAIL, PASS, Payload, RunVerdict, SubrunVerdict
from ..safetext import safe_payload
from .changes import changes_block, changes_line, changes_lines, cut_lines
from .markdown import headline, render_view
from .text import (
    LEVELS,
    bullets,
    cut_markdown,
    describe_exit,
    emoji,
    format_counts,
    hard_cut,
    inert,
    inert_or_dash,
    inline_code,
    more,
    most,
    one_line,
    plain_line,
    shorten,
    shown_url,
)
from .view import SubrunView, build_view, tally

COLOR_PASS = "#2EB886"
COLOR_FAIL = "#D24B4E"
COLOR_OTHER = "#8D8D8D"

PRIORITIES = ("important", "urgent")

MAX_BODY_BYTES = 128 * 1024
BODY_RESERVE_BYTES = 8 * 1024
MAX_FIELD_CHARS = 300
MAX_FOOTER_CHARS = 300
MAX_HEADLINE_NAME = 100

COUNTS_TITLE = "Tests / passed / failed / pending / skipped"
HOSTS_HEADER = (
    "| Host | OS | Kernel | Result | Tests / passed / failed / pending / skipped |\n"
    "|---|---|---|---|---|"
)

Level = Tuple[int, int, int, int]


def result_color(result: str) -> str:
    """The attachment colour of a result: PASS green, FAIL red, anything else grey."""
    if result == PASS:
        return COLOR_PASS
    if result == FAIL:
        return COLOR_FAIL
    return COLOR_OTHER


def body_size(payload: Payload) -> int:
    """Bytes of ``payload`` as the client sends it (UTF-8 JSON)."""
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------
# the pieces of the payload
# ---------------------------------------------------------------------------------------------


def _result(result: str) -> str:
    """``❌ FAIL``."""
    return "{0} {1}".format(emoji(result), inert(result, 20))


def _tally(counts: List[Tuple[str, int]]) -> str:
    """``1 FAIL · 1 MISSING · 2 PASS``."""
    return " \u00b7 ".join("{0} {1}".format(n, inert(result, 20)) for result, n in counts)


def _fallback(view: SubrunView) -> str:
    text = "{0} \u00b7 {1} \u00b7 build {2}".format(
        inert(view.result), inert(view.state), shorten(plain_line(view.build_name), MAX_HEADLINE_NAME))
    if view.categorized:
        text += " \u00b7 sub-run {0} {1}".format(view.position, inert(view.name, MAX_HEADLINE_NAME))
    return one_line(text)


def _field(title: str, value: str, short: bool = True) -> Dict[str, Any]:
    return {"title": title, "value": cut_markdown(value, MAX_FIELD_CHARS), "short": short}


def _fields(view: SubrunView) -> List[Dict[str, Any]]:
    fields = [_field("Result", _result(view.result)), _field("State", inert(view.state, 20))]
    if view.counts:
        fields.append(_field(COUNTS_TITLE, format_counts(view.counts)))
    if view.duration:
        fields.append(_field("Duration", view.duration))
    family = view.metadata_value("config_family")
    if family:
        fields.append(_field("Config family", inline_code(family, MAX_FIELD_CHARS - 2)))
    if view.hosts:
        fields.append(_field("Hosts", _tally(view.hosts_by_result)))
    if view.changes is not None:
        fields.append(_field("History", changes_line(view.changes), short=False))
    if view.run_url:
        fields.append(_field("Recorded run", shown_url(view.run_url, MAX_FIELD_CHARS), short=False))
    if view.name_mismatch:
        fields.append(_field("Sub-run name", "{0} ({1})".format(
            inline_code(view.name, MAX_HEADLINE_NAME), inert(view.name_mismatch, 180)), short=False))
    return fields


def _reasons_block(view: SubrunView, keep: int, limit: int) -> str:
    return bullets(view.reasons_title, [inert(r, limit) for r in view.reasons[:keep]], len(view.reasons), "reason")


def _not_pass_block(view: SubrunView, keep: int, level: Level) -> str:
    if not view.not_pass:
        return ""
    cell_limit, per_host = level[0], level[1]
    lines = ["**Hosts not PASS ({0} of {1}):**".format(len(view.not_pass), len(view.hosts))]
    for i in view.not_pass[:keep]:
        host = view.hosts[i]
        shown = [inert(r, cell_limit) for r in host.reasons[:per_host]]
        if len(host.reasons) > per_host:
            shown.append(more(len(host.reasons) - per_host, "reason"))
        line = "- {0} **{1}** {2}".format(emoji(host.result), inert(host.name, 120), inert(host.result, 20))
        if shown:
            line += ": " + "; ".join(shown)
        lines.append(line)
    if len(view.not_pass) > keep:
        lines.append("- " + more(len(view.not_pass) - keep, "host", " not PASS"))
    return "\n".join(lines)


def _host_table(view: SubrunView, keep: int) -> str:
    if not view.hosts:
        return "_No host results._"
    kept = set(view.row_order[:keep])
    lines = [HOSTS_HEADER]
    for i, host in enumerate(view.hosts):
        if i in kept:
            lines.append("| " + " | ".join((
                inert(host.name, 120, in_cell=True), inert_or_dash(host.os, 80, in_cell=True),
                inert_or_dash(host.kernel, 80, in_cell=True), "{0} {1}".format(emoji(host.result), inert(host.result, 20, in_cell=True)),
                format_counts(host.counts),
            )) + " |")
    dropped = [host for i, host in enumerate(view.hosts) if i not in kept]
    if dropped:
        lines.append("")
        lines.append("{0} ({1})".format(more(len(dropped), "host"), _tally(tally(dropped))))
    return "\n".join(lines)


def _attachment_text(view: SubrunView, n_reasons: int, n_not_pass: int, n_rows: int, level: Level) -> str:
    blocks = [_reasons_block(view, n_reasons, level[2]), changes_block(view.changes, level[1], level[0]),
              _not_pass_block(view, n_not_pass, level), _host_table(view, n_rows)]
    return "\n\n".join(b for b in blocks if b)


def _card(view: SubrunView, limit: int) -> str:
    title = "### Build {0}".format(inline_code(view.build_name, MAX_HEADLINE_NAME))
    if view.categorized:
        title += " \u00b7 sub-run {0} {1}".format(view.position, inline_code(view.name, MAX_HEADLINE_NAME))
    lines = [title, "", "**Result:** {0} \u00b7 {1}".format(_result(view.result), inert(view.state, 20))]
    lines.append("**Categorized:** {0}".format("yes" if view.categorized else "no"))
    commands = []
    for key, label, value in view.metadata:
        if key.endswith("_command"):
            commands.append((label, value))
        else:
            lines.append("**{0}:** {1}".format(label, inline_code(value, limit)))
    for label, value in (("Started", view.started_at), ("Ended", view.ended_at)):
        if value:
            lines.append("**{0}:** {1}".format(label, inert(value, 60)))
    if not view.runner.running:
        lines.append("**Runner:** {0}".format(describe_exit(view.runner, lambda t: inert(t, 150))))
    if view.request_reasons:
        lines.append("**Run:** " + "; ".join(inert(r, 200) for r in view.request_reasons[:5]))
    for label, value in commands:
        lines.extend(["", "**{0}:**".format(label), "```", shorten(one_line(value).replace("`", "'"), limit),
                      "```"])
    return "\n".join(lines)


def _footer() -> str:
    return shorten("atvm.watcher {0} \u00b7 run details: the post's info icon".format(__version__), MAX_FOOTER_CHARS)


def _priority(settings: config.Settings, result: str) -> Optional[Dict[str, str]]:
    if result == FAIL and settings.fail_priority in PRIORITIES:
        return {"priority": settings.fail_priority}
    return None


# ---------------------------------------------------------------------------------------------
# fitting to the limits
# ---------------------------------------------------------------------------------------------


class _Limits:
    def __init__(self, settings: config.Settings) -> None:
        self.chars = max(int(settings.max_post_chars), 1)
        self.body = MAX_BODY_BYTES - BODY_RESERVE_BYTES


def _assemble(view: SubrunView, settings: config.Settings, text: str, card_text: str,
              priority: Optional[Dict[str, str]]) -> Payload:
    attachment = {
        "fallback": _fallback(view),
        "color": result_color(view.result),
        "fields": _fields(view),
        "text": text,
        "footer": _footer(),
    }
    payload: Payload = {"text": cut_markdown(headline(view), settings.max_post_chars), "attachments": [attachment],
                        "props": {"card": card_text}}
    if priority:
        payload["priority"] = priority
    return payload


def _fit_card(view: SubrunView, limits: _Limits) -> str:
    """The card at the most detailed level that fits, with the names of every changed test; when
    they cannot all fit, as many as fit and "… and N more"."""
    def fits(text: str) -> bool:
        return len(text) <= limits.chars and len(text.encode("utf-8", "replace")) <= limits.body // 4

    def with_names(base: str, lines: List[str], keep: int, hidden: int) -> str:
        shown = cut_lines(lines, keep, hidden) if keep else []
        return base + "\n\n" + "\n".join(shown) if shown else base

    most_names = limits.chars // 8  # no name line is shorter
    best = None
    for level in LEVELS:
        base = _card(view, level[3])
        lines, hidden = changes_lines(view.changes, level[0], most_names)
        if not hidden and fits(with_names(base, lines, len(lines), 0)):
            return with_names(base, lines, len(lines), 0)
        if best is None and fits(base):
            best = (base, lines, hidden)
    if best is not None:
        base, lines, hidden = best
        keep = most(len(lines), lambda k: fits(with_names(base, lines, k, hidden)))
        return with_names(base, lines, keep, hidden)
    return hard_cut(_card(view, LEVELS[-1][3]), min(limits.chars, limits.body // 16))


def _fit(view: SubrunView, settings: config.Settings, priority: Optional[Dict[str, str]]) -> Payload:
    """The most detailed payload of ``view`` within the limits."""
    limits = _Limits(settings)
    card_text = _fit_card(view, limits)
    counts = (len(view.reasons), len(view.not_pass), len(view.hosts))

    def build(n_reasons: int, n_not_pass: int, n_rows: int, level: Level) -> Payload:
        return _assemble(view, settings, _attachment_text(view, n_reasons, n_not_pass, n_rows, level), card_text,
                         priority)

    def fits(payload: Payload) -> bool:
        return len(payload["attachments"][0]["text"]) <= limits.chars and body_size(payload) <= limits.body

    for level in LEVELS:
        payload = build(*counts, level)
        if fits(payload):
            return payload
    level = LEVELS[-1]
    quarter = min(limits.chars, limits.body // 4) // 4
    # Reasons get at most a quarter of the room, the hosts not PASS half, the table the rest; then
    # whatever is left over goes back to the hosts not PASS and the reasons.
    reasons = most(counts[0], lambda k: len(_reasons_block(view, k, level[2])) <= quarter)
    not_pass = most(counts[1], lambda k: len(_not_pass_block(view, k, level)) <= 2 * quarter)
    rows = most(counts[2], lambda k: fits(build(reasons, not_pass, k, level)))
    not_pass = most(counts[1], lambda k: fits(build(reasons, k, rows, level)))
    reasons = most(counts[0], lambda k: fits(build(k, not_pass, rows, level)))
    payload = build(reasons, not_pass, rows, level)
    attachment = payload["attachments"][0]
    while not fits(payload) and attachment["text"]:
        attachment["text"] = hard_cut(attachment["text"], max(len(attachment["text"]) * 3 // 4, 1))
    return payload


# ---------------------------------------------------------------------------------------------
# public API
# ---------------------------------------------------------------------------------------------


def build_post(verdict: RunVerdict, sub: SubrunVerdict, settings: config.Settings, build_name: str,
               total_subruns: int, changes: Optional[Changes] = None) -> Payload:
    """The webhook payload (``text``, ``attachments``, ``props``, ``priority``) of one (sub-)run.

    Channel, username and icon are not in it (the client adds them). The payload keeps room for
    the possible-duplicate note (the outbox adds it when a post may exist already). Every string in it is safe
    (:func:`~..safetext.safe_post`: encodable, webhook redacted, no channel-wide mention), and the
    commands shown hide their credentials. Raises :class:`ConfigError` when the operator template
    cannot be read. ``changes``: what changed since the suite's previous run (docs/history.md).
    """
    view = build_view(verdict, sub, settings, build_name, total_subruns, changes)
    priority = _priority(settings, view.result)
    if settings.message_template:
        payload: Payload = {"text": render_view(view, settings)}
        if priority:
            payload["priority"] = priority
    else:
        payload = _fit(view, settings, priority)
    return safe_payload(payload, [settings.webhook])

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
from ..models import FAIL, PASS, UNKNOWN, HostVerdict, Payload, RunVerdict, SubrunVerdict
from .markdown import (
    ELLIPSIS,
    LEVELS,
    METADATA_LABELS,
    RESULT_EMOJI,
    SEVERITY,
    describe_exit,
    escape_cell,
    format_counts,
    format_duration,
    hard_cut,
    headline,
    inline_code,
    most,
    one_line,
    plain_line,
    render_subrun,
    shown_metadata,
)
from .. import safetext

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



# ---------------------------------------------------------------------------------------------
# small pieces
# ---------------------------------------------------------------------------------------------


def result_color(result: str) -> str:
    """The attachment colour of a result: PASS green, FAIL red, anything else grey."""
    if result == PASS:
        return COLOR_PASS
    if result == FAIL:
        return COLOR_FAIL
    return COLOR_OTHER


def _emoji(result: str) -> str:
    return RESULT_EMOJI.get(result, RESULT_EMOJI[UNKNOWN])


def _more(n: int, word: str, tail: str = "") -> str:
    """``… and 3 more hosts not PASS``."""
    return "{0} and {1} more {2}{3}{4}".format(ELLIPSIS, n, word, "" if n == 1 else "s", tail)


def _cut(text: str, limit: int) -> str:
    if limit > 0 and len(text) > limit:
        return text[: max(limit - 1, 0)].rstrip() + ELLIPSIS
    return text


def _tally(hosts: List[HostVerdict]) -> str:
    """``1 FAIL · 1 MISSING · 2 PASS``, worst first."""
    counts: Dict[str, int] = {}
    for host in hosts:
        counts[host.result] = counts.get(host.result, 0) + 1
    ordered = sorted(counts.items(), key=lambda item: (SEVERITY.get(item[0], 2), item[0]))
    return " \u00b7 ".join("{0} {1}".format(n, escape_cell(result, 20)) for result, n in ordered)


def body_size(payload: Payload) -> int:
    """Bytes of ``payload`` as the client sends it (UTF-8 JSON)."""
    return len(json.dumps(payload, ensure_ascii=False).encode("utf-8", "replace"))


# ---------------------------------------------------------------------------------------------
# the post
# ---------------------------------------------------------------------------------------------


class _Card:
    """Everything a post is made of, rendered at a detail level with a subset of rows and reasons."""

    def __init__(self, verdict: RunVerdict, sub: SubrunVerdict, settings: config.Settings, build_name: str,
                 total_subruns: int) -> None:
        self.verdict = verdict
        self.sub = sub
        self.settings = settings
        self.build_name = build_name
        self.total = max(int(total_subruns), sub.index + 1) if total_subruns else 0
        self.hosts = list(sub.hosts)
        reasons = [r for r in sub.reasons if r]
        if not verdict.categorized:
            reasons.extend(r for r in verdict.reasons if r and r not in reasons)
        self.reasons = [plain_line(r) for r in reasons]
        self.reasons_title = "Why not PASS" if sub.result != PASS else "Notes"
        self.host_reasons = [[plain_line(r) for r in h.reasons if r] for h in self.hosts]
        order = sorted(range(len(self.hosts)), key=lambda i: (SEVERITY.get(self.hosts[i].result, 2), i))
        self.row_order = order  # rows kept first when rows must be dropped: the worst, then inventory order
        self.not_pass = [i for i in order if self.hosts[i].result != PASS]

    # ---- text ----
    def position(self) -> str:
        if self.total:
            return "{0}/{1}".format(self.sub.index + 1, self.total)
        return str(self.sub.index + 1)

    def headline(self) -> str:
        return headline(self.verdict, self.sub, self.build_name, self.total)

    def fallback(self) -> str:
        sub = self.sub
        text = "{0} \u00b7 {1} \u00b7 build {2}".format(
            plain_line(sub.result), plain_line(sub.state), _cut(plain_line(self.build_name), MAX_HEADLINE_NAME))
        if self.verdict.categorized:
            text += " \u00b7 sub-run {0} {1}".format(self.position(), _cut(plain_line(sub.name), MAX_HEADLINE_NAME))
        return one_line(text)

    def fields(self) -> List[Dict[str, Any]]:
        sub = self.sub
        fields = [
            _field("Result", "{0} {1}".format(_emoji(sub.result), escape_cell(sub.result, 20))),
            _field("State", escape_cell(sub.state, 20)),
        ]
        if any(v is not None for v in (sub.counts.tests, sub.counts.passed, sub.counts.failed, sub.counts.pending,
                                       sub.counts.skipped)):
            fields.append(_field(COUNTS_TITLE, format_counts(sub.counts)))
        duration = format_duration(sub.duration_seconds)
        if duration:
            fields.append(_field("Duration", duration))
        family = shown_metadata(self.settings).get("config_family")
        if family:
            fields.append(_field("Config family", inline_code(family, MAX_FIELD_CHARS - 2)))
        if self.hosts:
            fields.append(_field("Hosts", _tally(self.hosts)))
        if sub.run_url:
            fields.append(_field("Recorded run", escape_cell(sub.run_url, MAX_FIELD_CHARS), short=False))
        if sub.name_mismatch:
            fields.append(_field("Sub-run name", "{0} ({1})".format(
                inline_code(sub.name, MAX_HEADLINE_NAME), escape_cell(sub.name_mismatch, 180)), short=False))
        return fields

    def reasons_block(self, keep: int, limit: int) -> str:
        if not self.reasons:
            return ""
        lines = ["**{0}:**".format(self.reasons_title)]
        lines.extend("- " + escape_cell(r, limit) for r in self.reasons[:keep])
        if len(self.reasons) > keep:
            lines.append("- " + _more(len(self.reasons) - keep, "reason"))
        return "\n".join(lines)

    def not_pass_block(self, keep: int, level: Tuple[int, int, int, int]) -> str:
        if not self.not_pass:
            return ""
        cell_limit, per_host = level[0], level[1]
        lines = ["**Hosts not PASS ({0} of {1}):**".format(len(self.not_pass), len(self.hosts))]
        for i in self.not_pass[:keep]:
            host, reasons = self.hosts[i], self.host_reasons[i]
            shown = [escape_cell(r, cell_limit) for r in reasons[:per_host]]
            if len(reasons) > per_host:
                shown.append(_more(len(reasons) - per_host, "reason"))
            line = "- {0} **{1}** {2}".format(_emoji(host.result), escape_cell(host.host, 120),
                                              escape_cell(host.result, 20))
            if shown:
                line += ": " + "; ".join(shown)
            lines.append(line)
        if len(self.not_pass) > keep:
            lines.append("- " + _more(len(self.not_pass) - keep, "host", " not PASS"))
        return "\n".join(lines)

    def host_table(self, keep: int) -> str:
        if not self.hosts:
            return "_No host results._"
        kept = set(self.row_order[:keep])
        lines = [HOSTS_HEADER]
        for i, host in enumerate(self.hosts):
            if i in kept:
                lines.append("| " + " | ".join((
                    escape_cell(host.host, 120), escape_cell(host.os or "-", 80), escape_cell(host.kernel or "-", 80),
                    "{0} {1}".format(_emoji(host.result), escape_cell(host.result, 20)), format_counts(host.counts),
                )) + " |")
        dropped = [self.hosts[i] for i in range(len(self.hosts)) if i not in kept]
        if dropped:
            lines.append("")
            lines.append("{0} ({1})".format(_more(len(dropped), "host"), _tally(dropped)))
        return "\n".join(lines)

    def attachment_text(self, n_reasons: int, n_not_pass: int, n_rows: int, level: Tuple[int, int, int, int]) -> str:
        blocks = [self.reasons_block(n_reasons, level[2]), self.not_pass_block(n_not_pass, level),
                  self.host_table(n_rows)]
        return "\n\n".join(b for b in blocks if b)

    def card(self, limit: int) -> str:
        sub, meta = self.sub, shown_metadata(self.settings)
        title = "### Build {0}".format(inline_code(self.build_name, MAX_HEADLINE_NAME))
        if self.verdict.categorized:
            title += " \u00b7 sub-run {0} {1}".format(self.position(), inline_code(sub.name, MAX_HEADLINE_NAME))
        lines = [title, "", "**Result:** {0} {1} \u00b7 {2}".format(
            _emoji(sub.result), escape_cell(sub.result, 20), escape_cell(sub.state, 20))]
        lines.append("**Categorized:** {0}".format("yes" if self.verdict.categorized else "no"))
        commands = []
        for key, label in METADATA_LABELS:
            value = meta.get(key)
            if not value:
                continue
            if key.endswith("_command"):
                commands.append((label, value))
            else:
                lines.append("**{0}:** {1}".format(label, inline_code(value, limit)))
        for label, value in (("Started", sub.started_at), ("Ended", sub.ended_at)):
            if value:
                lines.append("**{0}:** {1}".format(label, escape_cell(value, 60)))
        if not self.verdict.exit.running:
            lines.append("**Runner:** {0}".format(escape_cell(describe_exit(self.verdict.exit), 200)))
        if self.verdict.categorized and self.verdict.reasons:
            lines.append("**Run:** " + "; ".join(escape_cell(r, 200) for r in self.verdict.reasons[:5]))
        for label, value in commands:
            lines.extend(["", "**{0}:**".format(label), "```", _cut(one_line(value).replace("`", "'"), limit),
                          "```"])
        return "\n".join(lines)

    def footer(self) -> str:
        return _cut("atvm.watcher {0} \u00b7 run details: the post's info icon".format(__version__), MAX_FOOTER_CHARS)


def _field(title: str, value: str, short: bool = True) -> Dict[str, Any]:
    return {"title": title, "value": _cut(value, MAX_FIELD_CHARS), "short": short}


def _priority(settings: config.Settings, result: str) -> Optional[Dict[str, str]]:
    if result == FAIL and settings.fail_priority in PRIORITIES:
        return {"priority": settings.fail_priority}
    return None


class _Limits:
    def __init__(self, settings: config.Settings) -> None:
        self.chars = max(int(settings.max_post_chars), 1)
        self.body = MAX_BODY_BYTES - BODY_RESERVE_BYTES


def _assemble(card: _Card, text: str, card_text: str, priority: Optional[Dict[str, str]]) -> Payload:
    attachment = {
        "fallback": card.fallback(),
        "color": result_color(card.sub.result),
        "fields": card.fields(),
        "text": text,
        "footer": card.footer(),
    }
    payload: Payload = {"text": _cut(card.headline(), card.settings.max_post_chars), "attachments": [attachment], "props": {"card": card_text}}
    if priority:
        payload["priority"] = priority
    return payload


def _fit_card(card: _Card, limits: _Limits) -> str:
    for level in LEVELS:
        text = card.card(level[3])
        if len(text) <= limits.chars and len(text.encode("utf-8", "replace")) <= limits.body // 4:
            return text
    return hard_cut(card.card(LEVELS[-1][3]), min(limits.chars, limits.body // 16))


def _fit(card: _Card, limits: _Limits, priority: Optional[Dict[str, str]]) -> Payload:
    """The most detailed payload of ``card`` within the limits."""
    card_text = _fit_card(card, limits)
    counts = (len(card.reasons), len(card.not_pass), len(card.hosts))

    def build(n_reasons: int, n_not_pass: int, n_rows: int, level: Tuple[int, int, int, int]) -> Payload:
        return _assemble(card, card.attachment_text(n_reasons, n_not_pass, n_rows, level), card_text, priority)

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
    reasons = most(counts[0], lambda k: len(card.reasons_block(k, level[2])) <= quarter)
    not_pass = most(counts[1], lambda k: len(card.not_pass_block(k, level)) <= 2 * quarter)
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
               total_subruns: int) -> Payload:
    """The webhook payload (``text``, ``attachments``, ``props``, ``priority``) of one (sub-)run.

    Channel, username and icon are not in it (the client adds them). The payload keeps room for
    the possible-duplicate note (the outbox adds it when a post may exist already). Every string in it is safe
    (:func:`~.safetext.safe_post`: encodable, webhook redacted, no channel-wide mention), and the
    commands shown hide their credentials. Raises :class:`ConfigError` when the operator template
    cannot be read.
    """
    priority = _priority(settings, sub.result)
    if settings.message_template:
        payload: Payload = {"text": render_subrun(verdict, sub, settings, build_name, total_subruns)}
        if priority:
            payload["priority"] = priority
    else:
        payload = _fit(_Card(verdict, sub, settings, build_name, total_subruns), _Limits(settings), priority)
    return safetext.safe_payload(payload, [settings.webhook])

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request post: one post about a request as a whole, when its sub-run posts do not say how it
ended (docs/decision-rules.md, "The channel never contradicts the run").

It says the request's final state and result outright, the runner's exit, why (the request's reasons),
what the sub-run posts said, what was decided but not posted (the post cap), what was lost (a log file
rotated away unread), stray wrapper markers, and the last lines of the runner's output (a run that
died before Cypress printed anything is told in the runner's own words). Everything from the run is
shown inert: in a code block, or escaped.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Tuple

from .. import __version__, safetext
from ..models import ExitInfo, Payload
from ..settings import Settings
from .attachment import MAX_FIELD_CHARS, MAX_FOOTER_CHARS, result_color
from .text import ELLIPSIS, cut_markdown, describe_exit, emoji, hard_cut, inert, inline_code, one_line

MAX_LISTED = 20  # sub-runs named one by one in a list before "… and N more"
TAIL_LINES = 12
TAIL_CHARS = 200

Subrun = Tuple[int, str, str, str]  # (index, name, state, result)


@dataclasses.dataclass
class RequestFacts:
    """What the request post is made of (the watcher gathers it when the request ends)."""

    build_name: str
    state: str
    result: str
    categorized: bool
    exit: ExitInfo
    reasons: List[str] = dataclasses.field(default_factory=list)
    posted: List[Subrun] = dataclasses.field(default_factory=list)  # sub-runs whose post went (or goes) out
    held: List[Subrun] = dataclasses.field(default_factory=list)  # decided, not posted: the post cap
    lost: List[Tuple[int, str, str]] = dataclasses.field(default_factory=list)  # (index, name, why)
    stray_markers: int = 0
    stray_labels: List[str] = dataclasses.field(default_factory=list)
    log_tail: List[str] = dataclasses.field(default_factory=list)
    max_posts: int = 0


def headline(facts: RequestFacts) -> str:
    """``#### ❌ FAIL · FAILED · build `B` · the request``."""
    return "#### {0} {1} \u00b7 {2} \u00b7 build {3} \u00b7 the request".format(
        emoji(facts.result), inert(facts.result, 20), inert(facts.state, 20), inline_code(facts.build_name, 100))


def _tally(subruns: List[Subrun]) -> str:
    counts: Dict[str, int] = {}
    for sub in subruns:
        counts[sub[3]] = counts.get(sub[3], 0) + 1
    return ", ".join("{0} {1}".format(n, inert(r, 20)) for r, n in sorted(counts.items())) or "none"


def _listed(subruns: List[Subrun]) -> List[str]:
    lines = ["- sub-run {0} {1}: {2} \u00b7 {3}".format(i + 1, inline_code(name, 80), inert(result, 20),
                                                        inert(state, 20))
             for i, name, state, result in subruns[:MAX_LISTED]]
    if len(subruns) > MAX_LISTED:
        lines.append("- {0} and {1} more".format(ELLIPSIS, len(subruns) - MAX_LISTED))
    return lines


def _field(title: str, value: str, short: bool = True) -> Dict[str, Any]:
    return {"title": title, "value": cut_markdown(value, MAX_FIELD_CHARS), "short": short}


def _text(facts: RequestFacts) -> str:
    blocks: List[str] = []
    if facts.reasons:
        blocks.append("\n".join(["**Why:**"] + ["- " + inert(r, 400) for r in facts.reasons[:MAX_LISTED]]))
    if facts.posted:
        blocks.append("\n".join(["**What the sub-run posts said ({0}):**".format(_tally(facts.posted))]
                                + _listed(facts.posted)))
    elif facts.categorized:
        blocks.append("**No sub-run was posted:** the request ended before any group of it was decided.")
    if facts.held:
        blocks.append("\n".join(["**Decided, not posted ({0}; at most {1} posts per request):**".format(
            _tally(facts.held), facts.max_posts)] + _listed(facts.held)))
    if facts.lost:
        blocks.append("\n".join(["**Text lost:**"] + ["- sub-run {0} {1}: {2}".format(
            i + 1, inline_code(name, 80), inert(why, 300)) for i, name, why in facts.lost[:MAX_LISTED]]))
    if facts.stray_markers:
        labels = ", ".join(inline_code(label, 40) for label in facts.stray_labels[:5])
        blocks.append("**Stray markers:** {0} wrapper marker line(s) began no sub-run (no Cypress output and no "
                      "failure text before the next one){1}.".format(facts.stray_markers,
                                                                     ": " + labels if labels else ""))
    if facts.log_tail:
        lines = [one_line(line)[:TAIL_CHARS].replace("`", "'") for line in facts.log_tail[-TAIL_LINES:]]
        blocks.append("**The runner's last output:**\n```\n" + "\n".join(lines) + "\n```")
    return "\n\n".join(blocks)


def build_request_post(facts: RequestFacts, settings: Settings) -> Payload:
    """The request post's webhook payload, within the post limits, every string made safe."""
    fields = [
        _field("Result", "{0} {1}".format(emoji(facts.result), inert(facts.result, 20))),
        _field("State", inert(facts.state, 20)),
        _field("Runner", describe_exit(facts.exit, show=lambda text: inert(text, 200))),
    ]
    if facts.categorized:
        fields.append(_field("Sub-runs posted", _tally(facts.posted)))
    limit = max(int(settings.max_post_chars), 1000)
    text = hard_cut(_text(facts), limit)
    fallback = one_line("{0} \u00b7 {1} \u00b7 build {2} \u00b7 the request".format(
        facts.result, facts.state, facts.build_name))
    footer = "atvm.watcher {0} \u00b7 the request as a whole".format(__version__)[:MAX_FOOTER_CHARS]
    payload: Payload = {
        "text": headline(facts),
        "attachments": [{"fallback": fallback, "color": result_color(facts.result), "fields": fields,
                         "text": text, "footer": footer}],
    }
    return safetext.safe_payload(payload, [settings.webhook])

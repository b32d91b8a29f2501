# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The channel never contradicts the run: what a reader takes from a request's posts, checked
against the request's final state and result.

Written from the reader's side, apart from the watcher's own rule (decision/channel.py), so that a
mistake in that rule shows here:

- a request post (headline ``… · the request``) says the state and result outright;
- without one, the sub-run posts say the result (the worst of theirs: FAIL over UNKNOWN over RUN
  over PASS) and, for a PASS, that the request COMPLETED; they can never say TERMINATED, HUNG or
  UNKNOWN, and silence says nothing;
- a cancelled request is never posted, so nothing is asked of its channel; nor of a request whose
  post failed for good (``delivery-failed``: run_status fails until it is resent).
"""
from __future__ import annotations

import re
from typing import Any, Dict, Iterable, List, Optional, Tuple

HEADLINE_RE = re.compile(
    r"^#### \S+ (?P<result>[A-Z]+) \u00b7 (?P<state>[A-Z]+) \u00b7 build `(?P<build>[^`]+)`(?: \u00b7 (?P<rest>.*))?$")
RANK = {"PASS": 0, "RUN": 1, "UNKNOWN": 2, "MISSING": 3, "FAIL": 4}
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED", "TERMINATED", "HUNG", "UNKNOWN")


def headlines(texts: Iterable[str], build: str) -> List[Tuple[str, str, str]]:
    """(kind, state, result) of each distinct post of ``build`` (a possible duplicate counts once)."""
    seen: Dict[str, Tuple[str, str, str]] = {}
    for text in texts:
        for line in text.splitlines():
            match = HEADLINE_RE.match(line)
            if match and match.group("build") == build:
                rest = match.group("rest") or ""
                kind = "request" if rest == "the request" else "subrun"
                key = re.sub(r"sub-run (\d+)/\d+", r"sub-run \1", line)
                seen.setdefault(key, (kind, match.group("state"), match.group("result")))
                break
    return list(seen.values())


def what_the_channel_says(told: List[Tuple[str, str, str]]) -> Optional[Tuple[Optional[str], str]]:
    """(state or None when the posts leave it open, result), or None when nothing was posted."""
    requests = [t for t in told if t[0] == "request"]
    if requests:
        return requests[-1][1], requests[-1][2]
    if not told:
        return None
    result = max((t[2] for t in told), key=lambda r: RANK.get(r, RANK["UNKNOWN"]))
    if result == "MISSING":
        result = "FAIL"
    states = {t[1] for t in told}
    if "FAILED" in states:
        return "FAILED", result
    return ("COMPLETED" if result == "PASS" else None), result


def contradiction(state_doc: Dict[str, Any], texts: Iterable[str]) -> Optional[str]:
    """Why the channel contradicts the ended request ``state_doc`` (state.json), or None."""
    state, result = state_doc.get("run_state"), state_doc.get("result")
    phase = (state_doc.get("watcher") or {}).get("phase")
    if state not in TERMINAL or state == "CANCELLED" or phase == "delivery-failed":
        return None
    told = headlines(texts, state_doc.get("build_name", ""))
    said = what_the_channel_says(told)
    if said is None:
        return "the request ended {0} / {1} and nothing was posted".format(state, result)
    said_state, said_result = said
    if said_result != result:
        return "the posts say {0}, the request ended {1} / {2} ({3})".format(said_result, state, result, told)
    if said_state is None:
        if state not in ("COMPLETED", "FAILED"):
            return "the posts say {0} of a finished run, the request ended {1} ({2})".format(said_result, state, told)
        return None
    if said_state != state:
        return "the posts say {0}, the request ended {1} / {2} ({3})".format(said_state, state, result, told)
    return None


def assert_channel_agrees(state_doc: Dict[str, Any], texts: Iterable[str]) -> None:
    problem = contradiction(state_doc, list(texts))
    assert problem is None, "the channel contradicts the run: " + problem

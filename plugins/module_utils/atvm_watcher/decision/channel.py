# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the channel says of a request, and when one request post must complete it.

The rule (docs/decision-rules.md, "The channel never contradicts the run"): when a request ends,
what the channel received implies its final state and result. A reader takes the request post when
there is one (it says the state and result outright); otherwise the sub-run posts: the result is
the worst of theirs, and a request whose every post says PASS and COMPLETED ended COMPLETED. A
cancelled request is never posted (a cancel says "post nothing"); every other ended request whose
sub-run posts do not imply its state and result gets one request post. It gets one too when it has
something the sub-run posts cannot say: sub-runs decided but not posted (over the post cap), stray
wrapper markers, or a request in which Cypress never printed anything (the runner's own last words
say what happened).
"""
from __future__ import annotations

import dataclasses
from typing import Optional, Sequence, Tuple

from ..models import CANCELLED, COMPLETED, FAILED, PASS, TERMINAL_STATES, worst_result

SUBRUN = "subrun"
REQUEST = "request"


@dataclasses.dataclass(frozen=True)
class Told:
    """One post as the channel shows it: a sub-run's or the request's, with its state and result."""

    kind: str  # SUBRUN | REQUEST
    state: str
    result: str


def implied(told: Sequence[Told]) -> Optional[Tuple[str, str]]:
    """The (state, result) a reader takes from these posts, or None when they say nothing.

    The last request post says it outright. From sub-run posts alone: the worst result; the state is
    COMPLETED when every post says PASS and COMPLETED, FAILED when one says FAILED, and for a failing
    result without a FAILED post it is left open (``None``): a non-zero exit explained by a failing
    sub-run is FAILED, a wrapper that exits 0 anyway is COMPLETED, and both read the same.
    """
    requests = [t for t in told if t.kind == REQUEST]
    if requests:
        return requests[-1].state, requests[-1].result
    subruns = list(told)  # sub-run posts only, from here on
    if not subruns:
        return None
    result = worst_result([t.result for t in subruns])
    if any(t.state == FAILED for t in subruns):
        return FAILED, result
    if result == PASS:
        return COMPLETED, result
    return "", result  # COMPLETED or FAILED: the posts cannot tell, and need not


def agrees(state: str, result: str, told: Sequence[Told]) -> bool:
    """True when ``told`` implies the request's final ``state`` and ``result`` (see :func:`implied`)."""
    said = implied(told)
    if said is None:
        return False
    said_state, said_result = said
    if said_result != result:
        return False
    if said_state == "":
        return state in (COMPLETED, FAILED)
    return said_state == state


def request_post_needed(state: str, result: str, told: Sequence[Told], not_posted: int = 0,
                        stray_markers: int = 0, cypress_spoke: bool = True) -> bool:
    """Whether an ended request needs its request post, given what its sub-runs posted (``told``).

    ``not_posted``: decided sub-runs that were not posted for the post cap; ``stray_markers``:
    wrapper markers that began no sub-run; ``cypress_spoke``: Cypress printed anything at all (a run
    that died before it did is told in the runner's own words). A running or cancelled request never
    gets one.
    """
    if state not in TERMINAL_STATES or state == CANCELLED:
        return False
    if not_posted > 0 or stray_markers > 0 or not cypress_spoke:
        return True
    return not agrees(state, result, told)

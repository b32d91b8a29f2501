# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The e2e checker of "the channel never contradicts the run" can fail: each contradiction is seen."""
from __future__ import annotations

import pytest

from ansible_collections.atvm.watcher.tests.support.channel_truth import contradiction, headlines

SUB = "#### {e} {r} \u00b7 {s} \u00b7 build `B` \u00b7 sub-run {n}/2 `g{n}`"
REQ = "#### {e} {r} \u00b7 {s} \u00b7 build `B` \u00b7 the request"


def post(template, result, state, n=1):
    return template.format(e="x", r=result, s=state, n=n) + "\nResult: x"


def doc(state, result, phase="done"):
    return {"build_name": "B", "run_state": state, "result": result, "watcher": {"phase": phase}}


@pytest.mark.parametrize("state_doc, posts", [
    (doc("FAILED", "FAIL"), []),  # died before any post: silence
    (doc("FAILED", "FAIL"), [post(SUB, "PASS", "COMPLETED", 1), post(SUB, "PASS", "COMPLETED", 2)]),  # late exit 1
    (doc("TERMINATED", "UNKNOWN"), [post(SUB, "PASS", "COMPLETED")]),  # green while killed
    (doc("HUNG", "UNKNOWN"), []),
    (doc("COMPLETED", "PASS"), [post(SUB, "FAIL", "COMPLETED")]),
    (doc("FAILED", "FAIL"), [post(REQ, "PASS", "COMPLETED")]),  # a request post that lies
    (doc("COMPLETED", "FAIL"), [post(SUB, "PASS", "COMPLETED"), post(SUB, "FAIL", "FAILED", 2)]),
])
def test_each_contradiction_is_seen(state_doc, posts):
    assert contradiction(state_doc, posts) is not None


@pytest.mark.parametrize("state_doc, posts", [
    (doc("COMPLETED", "PASS"), [post(SUB, "PASS", "COMPLETED", 1), post(SUB, "PASS", "COMPLETED", 2)]),
    (doc("FAILED", "FAIL"), [post(SUB, "FAIL", "COMPLETED"), post(SUB, "PASS", "COMPLETED", 2)]),  # explained exit
    (doc("COMPLETED", "FAIL"), [post(SUB, "FAIL", "COMPLETED")]),  # a wrapper that exits 0 anyway
    (doc("FAILED", "FAIL"), [post(SUB, "PASS", "COMPLETED"), post(REQ, "FAIL", "FAILED")]),
    (doc("TERMINATED", "UNKNOWN"), [post(REQ, "UNKNOWN", "TERMINATED")]),
    (doc("CANCELLED", "UNKNOWN"), [post(SUB, "PASS", "COMPLETED")]),  # a cancel posts nothing more
    (doc("RUNNING", "RUN"), []),  # not over
    (doc("FAILED", "FAIL", phase="delivery-failed"), []),  # the post is kept for a resend
])
def test_what_agrees_passes(state_doc, posts):
    assert contradiction(state_doc, posts) is None


def test_a_possible_duplicate_counts_once_and_other_builds_do_not_count():
    marked = ":warning: possible duplicate: …\n\n" + post(SUB, "PASS", "COMPLETED")
    other = post(SUB, "FAIL", "FAILED").replace("`B`", "`B2`")
    assert headlines([post(SUB, "PASS", "COMPLETED"), marked, other], "B") == [("subrun", "COMPLETED", "PASS")]

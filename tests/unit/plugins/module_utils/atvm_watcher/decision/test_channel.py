# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request-post rule: the channel never contradicts how a request ended."""
from __future__ import annotations

import pytest
from hypothesis import given, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.channel import (
    REQUEST, SUBRUN, Told, agrees, implied, request_post_needed)

P, F = ("COMPLETED", "PASS"), ("FAILED", "FAIL")


def sub(state, result):
    return Told(SUBRUN, state, result)


@pytest.mark.parametrize("state, result, told, needed", [
    ("FAILED", "FAIL", [], True),  # died before any group: nothing posted
    ("FAILED", "FAIL", [sub(*P), sub(*P)], True),  # a late non-zero exit after two PASS posts
    ("COMPLETED", "PASS", [sub(*P), sub(*P)], False),
    ("FAILED", "FAIL", [sub("COMPLETED", "FAIL"), sub(*P)], False),  # the exit explained by a failing group
    ("COMPLETED", "FAIL", [sub("COMPLETED", "FAIL")], False),  # a wrapper that exits 0 anyway
    ("FAILED", "FAIL", [sub(*P), sub(*F)], False),
    ("TERMINATED", "UNKNOWN", [sub(*P)], True),  # green while it was killed
    ("TERMINATED", "UNKNOWN", [], True),
    ("HUNG", "UNKNOWN", [], True),
    ("UNKNOWN", "UNKNOWN", [], True),
    ("COMPLETED", "UNKNOWN", [sub("COMPLETED", "UNKNOWN")], False),
    ("COMPLETED", "FAIL", [sub(*P)], True),  # a failure the posts never showed (a host missing at the end)
    ("CANCELLED", "UNKNOWN", [], False),  # a cancel posts nothing
    ("CANCELLED", "UNKNOWN", [sub(*P)], False),
    ("RUNNING", "RUN", [], False),  # not over
])
def test_request_post_needed(state, result, told, needed):
    assert request_post_needed(state, result, told) is needed


def test_what_the_sub_run_posts_cannot_say_needs_the_request_post():
    assert request_post_needed("COMPLETED", "PASS", [sub(*P)], not_posted=1)
    assert request_post_needed("COMPLETED", "PASS", [sub(*P)], stray_markers=1)
    assert request_post_needed("FAILED", "FAIL", [sub(*F)], cypress_spoke=False)
    assert not request_post_needed("CANCELLED", "UNKNOWN", [], not_posted=3, stray_markers=1, cypress_spoke=False)


def test_a_request_post_says_it_outright():
    told = [sub(*P), Told(REQUEST, "FAILED", "FAIL")]
    assert implied(told) == ("FAILED", "FAIL")
    assert agrees("FAILED", "FAIL", told) and not agrees("COMPLETED", "PASS", told)
    assert implied([]) is None


def test_what_the_sub_run_posts_imply():
    assert implied([sub(*P), sub(*P)]) == ("COMPLETED", "PASS")
    assert implied([sub(*P), sub(*F)]) == ("FAILED", "FAIL")  # one FAILED post says it
    assert implied([sub("COMPLETED", "FAIL"), sub(*P)]) == ("", "FAIL")  # COMPLETED or FAILED: left open
    assert implied([sub("COMPLETED", "UNKNOWN")]) == ("", "UNKNOWN")


STATES = st.sampled_from(["COMPLETED", "FAILED"])
RESULTS = st.sampled_from(["PASS", "FAIL", "UNKNOWN", "RUN"])


@given(st.lists(st.tuples(STATES, RESULTS), max_size=6), st.sampled_from(
    ["COMPLETED", "FAILED", "TERMINATED", "HUNG", "UNKNOWN"]), RESULTS)
def test_after_the_request_post_the_channel_always_agrees(posted, state, result):
    """Whatever the sub-runs posted: with the request post when the rule asks for it, the channel
    implies the request's end; without it, it already did."""
    told = [sub(s, r) for s, r in posted]
    if request_post_needed(state, result, told):
        told.append(Told(REQUEST, state, result))
    assert agrees(state, result, told)

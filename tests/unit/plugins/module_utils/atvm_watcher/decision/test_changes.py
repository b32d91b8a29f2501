# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changed since the suite's previous run (decision/changes.py, docs/history.md)."""
from __future__ import annotations

from hypothesis import given, settings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.changes import (
    Changes, Earlier, bits, compare, mask_of)

TABLE = [("a.cy.ts", "A one"), ("a.cy.ts", "A two"), ("b.cy.ts", "B one"), ("b.cy.ts", "B two")]


def masks(**states):
    """{state: mask} from {state: [test indexes]}."""
    return {state: mask_of(indexes) for state, indexes in states.items()}


def earlier(build, **states):
    return Earlier(build, "2026-12-01T10:00:00.000Z", masks(**states))


def test_first_run_of_a_suite_tells_only_its_flaky_tests():
    changes = compare(TABLE, masks(passed=[0, 1, 2], flaky=[3]), [])
    assert changes.first_run and changes.known and not changes.compared
    assert changes.flaky == [TABLE[3]] and changes.new_failures == changes.fixed == changes.still_failing == []


def test_new_failures_fixed_still_failing_and_flaky():
    before = earlier("B41", passed=[0, 3], failed=[1, 2])
    changes = compare(TABLE, masks(failed=[0, 1], flaky=[2], passed=[3]), [before])
    assert changes.previous_build == "B41" and changes.compared
    assert changes.new_failures == [TABLE[0]]
    assert changes.fixed == [TABLE[2]]  # a pass on a retry fixes it too
    assert changes.still_failing == [(TABLE[1], 2)]
    assert changes.flaky == [TABLE[2]]
    assert changes.tallies() == {"new_failure": 1, "fixed": 1, "still_failing": 1, "flaky": 1}


def test_a_test_that_fails_now_is_never_fixed():
    changes = compare(TABLE, masks(failed=[0]), [earlier("B41", failed=[0])])
    assert changes.fixed == [] and changes.still_failing == [(TABLE[0], 2)]


def test_a_new_test_that_fails_is_a_new_failure_and_a_skipped_one_is_not_fixed():
    changes = compare(TABLE, masks(failed=[3], skipped=[1]), [earlier("B41", passed=[0], failed=[1])])
    assert changes.new_failures == [TABLE[3]] and changes.fixed == []


def test_the_previous_run_is_the_latest_with_per_test_results_and_streaks_skip_none():
    runs = [earlier("B1", failed=[0]), earlier("B2", failed=[0, 1]), Earlier("B3", None, None),
            earlier("B4", failed=[0, 1], passed=[2])]
    changes = compare(TABLE, masks(failed=[0, 1, 2]), runs)
    assert changes.previous_build == "B4"
    assert changes.still_failing == [(TABLE[0], 4), (TABLE[1], 3)]
    assert changes.longest_streak == 4 and changes.new_failures == [TABLE[2]]


def test_without_per_test_results_nothing_is_told():
    changes = compare(TABLE, None, [earlier("B41", failed=[0])], why="the Cypress run did not finish")
    assert not changes.known and changes.why == "the Cypress run did not finish"
    assert changes.tallies() == {"new_failure": 0, "fixed": 0, "still_failing": 0, "flaky": 0}
    nothing_earlier = compare(TABLE, masks(failed=[0]), [Earlier("B1", None, None)])
    assert not nothing_earlier.first_run and nothing_earlier.previous_build is None
    assert nothing_earlier.new_failures == []


def test_to_dict_is_what_status_returns_and_reads_back():
    changes = compare(TABLE, masks(failed=[0, 1], flaky=[2]), [earlier("B41", failed=[1, 2])], suite="s")
    data = changes.to_dict()
    assert data["previous_build"] == "B41"
    assert data["new_failures"] == [{"spec": "a.cy.ts", "title": "A one"}]
    assert data["still_failing"] == [{"spec": "a.cy.ts", "title": "A two", "streak": 2}]
    assert data["fixed"] == [{"spec": "b.cy.ts", "title": "B one"}] and data["flaky"] == data["fixed"]
    assert Changes.from_dict(data) == changes


@settings(max_examples=200, deadline=None)
@given(st.lists(st.dictionaries(st.integers(0, 3), st.sampled_from(["passed", "flaky", "failed", "skipped"])),
                min_size=1, max_size=6))
def test_the_lists_follow_the_rules_for_any_runs(runs):
    """Against a slow, obvious reading of the rules, test by test."""
    def to_masks(states):
        out = {s: 0 for s in ("passed", "flaky", "failed", "skipped")}
        for i, state in states.items():
            out[state] |= 1 << i
        return out

    *before, now = runs
    history = [Earlier("B{0}".format(n), None, to_masks(s)) for n, s in enumerate(before)]
    changes = compare(TABLE, to_masks(now), history)
    prev = before[-1] if before else None
    failed_now = {i for i, s in now.items() if s == "failed"}
    assert set(changes.flaky) == {TABLE[i] for i, s in now.items() if s == "flaky"}
    if prev is None:
        assert changes.new_failures == changes.fixed == changes.still_failing == []
        return
    was = {i for i, s in prev.items() if s == "failed"}
    assert set(changes.new_failures) == {TABLE[i] for i in failed_now - was}
    assert set(changes.fixed) == {TABLE[i] for i in was if now.get(i) in ("passed", "flaky")}
    assert not set(changes.fixed) & {TABLE[i] for i in failed_now}
    for (key, streak) in changes.still_failing:
        i = TABLE.index(key)
        n = 1
        for states in reversed(before):
            if states.get(i) != "failed":
                break
            n += 1
        assert streak == n


def test_bits_and_masks():
    assert list(bits(mask_of([0, 5, 64]))) == [0, 5, 64]
    assert list(bits(0)) == []

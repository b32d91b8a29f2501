# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The suites' history (store/history.py): once per run, bounded, atomic, corrupt files set aside."""
from __future__ import annotations

import json
import os
import threading

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.changes import Earlier, compare, decode
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import HistoryPaths, RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.history import (
    HistoryStore, SuiteKey, key_text, run_id, suite_key)

KEY = "[template, config_family, subrun, hosts]"
META = {"template": "cmc-e2e", "config_family": "gold", "subrun": "linux", "hosts": ["rhel96-fc-01", "ubuntu2204-01"]}


def comparing(suite, why=""):
    def compared(table, masks, runs):
        return compare(table, masks, [Earlier(r.build, r.decided_at, r.masks) for r in runs], suite=suite.text, why=why)
    return compared


def record(store, suite, build, states, index=0, started="2026-12-01T00:00:00.000Z", decided=None, why=""):
    run = {"id": run_id(build, index), "build": build, "subrun": index, "name": "linux", "run_started": started,
           "state": "COMPLETED", "result": "FAIL" if states and "failed" in states.values() else "PASS"}
    if decided:
        run["decided_at"] = decided
    return store.record(suite, run, states, why, comparing(suite, why), decode)


def states_of(failed=(), passed=(), flaky=()):
    out = {}
    for state, names in (("failed", failed), ("passed", passed), ("flaky", flaky)):
        out.update({("cypress/e2e/migration/h1.cy.ts", "Migration of h1 " + n): state for n in names})
    return out


@pytest.fixture
def store(tmp_path):
    lines = []
    history = HistoryStore(HistoryPaths(str(tmp_path)), journal=lines.append, max_runs=100)
    history.lines = lines
    return history


def test_the_key_of_a_suite_its_text_and_its_file(tmp_path):
    suite = suite_key(KEY, dict(META, scope="x"))
    assert suite.value == ["cmc-e2e", "gold", "linux", ["rhel96-fc-01", "ubuntu2204-01"]]
    assert suite.text == "cmc-e2e \u00b7 gold \u00b7 linux \u00b7 rhel96-fc-01,ubuntu2204-01"
    assert suite.id.startswith("cmc-e2e-gold-linux-rhel96-fc-01-ubuntu2204-01-") and len(suite.id) <= 100
    other = suite_key(KEY, dict(META, hosts=["rhel96-fc-01"]))
    assert other.id != suite.id
    assert RunPaths(str(tmp_path), "B1").history.suite(suite.id) == str(tmp_path / ".history" / (suite.id + ".json"))
    assert suite_key("missing_field", META) is None  # no key: no history
    assert key_text([None, "", ["a"], {"k": True}]) == "- \u00b7 - \u00b7 a \u00b7 k=yes"
    with pytest.raises(ConfigError, match="ATVM_HISTORY_KEY"):
        suite_key("[template,", META)


def test_three_runs_fail_flaky_pass(store):
    suite = suite_key(KEY, META)
    first = record(store, suite, "B1", states_of(failed=["boots"], passed=["plans"]))
    assert first.first_run and first.tallies() == {"new_failure": 0, "fixed": 0, "still_failing": 0, "flaky": 0}
    second = record(store, suite, "B2", states_of(flaky=["boots"], passed=["plans"]))
    assert second.previous_build == "B1"
    assert second.tallies() == {"new_failure": 0, "fixed": 1, "still_failing": 0, "flaky": 1}
    third = record(store, suite, "B3", states_of(passed=["boots", "plans"]))
    assert third.previous_build == "B2"
    assert third.tallies() == {"new_failure": 0, "fixed": 0, "still_failing": 0, "flaky": 0}
    doc = store.load(suite.id)
    assert [r["id"] for r in doc["runs"]] == ["B1#0", "B2#0", "B3#0"]
    assert doc["specs"] == ["cypress/e2e/migration/h1.cy.ts"]  # each spec path once
    assert doc["tests"] == [[0, "Migration of h1 boots"], [0, "Migration of h1 plans"]]
    assert doc["runs"][1]["tests"] == {"passed": "2", "flaky": "1", "failed": "0", "skipped": "0"}
    assert doc["runs"][1]["changes"]["masks"] == {"new_failures": "0", "fixed": "1", "still_failing": "0", "flaky": "1"}
    assert store.lines == []


def test_recording_a_run_again_replaces_it_where_it_stands(store):
    suite = suite_key(KEY, META)
    record(store, suite, "B1", states_of(failed=["boots"]))
    record(store, suite, "B2", states_of(failed=["boots"]))
    record(store, suite, "B3", states_of(passed=["boots"]))
    again = record(store, suite, "B2", states_of(failed=["boots"]))  # a restarted watcher of B2
    assert again.previous_build == "B1" and again.still_failing[0][1] == 2
    assert [r["id"] for r in store.load(suite.id)["runs"]] == ["B1#0", "B2#0", "B3#0"]


def test_a_build_name_launched_again_is_a_new_run_at_the_end(store):
    suite = suite_key(KEY, META)
    record(store, suite, "B1", states_of(failed=["boots"]))
    record(store, suite, "B2", states_of(failed=["boots"]))
    again = record(store, suite, "B1", states_of(passed=["boots"]), started="2026-12-02T00:00:00.000Z")
    assert again.previous_build == "B2" and len(again.fixed) == 1
    assert [r["id"] for r in store.load(suite.id)["runs"]] == ["B2#0", "B1#0"]


def test_two_suites_never_mix(store):
    linux, windows = suite_key(KEY, META), suite_key(KEY, dict(META, subrun="windows", hosts=["win2022-01"]))
    record(store, linux, "B1", states_of(failed=["boots"]))
    first = record(store, windows, "B1", states_of(passed=["boots"]), index=1)
    assert first.first_run
    second = record(store, linux, "B2", states_of(passed=["boots"]))
    assert second.previous_build == "B1" and len(second.fixed) == 1
    assert sorted(s["id"] for s in store.suites()) == sorted([linux.id, windows.id])
    assert [r["id"] for r in store.load(windows.id)["runs"]] == ["B1#1"]


def test_retention_keeps_the_newest_runs_and_a_table_of_their_tests(tmp_path):
    store = HistoryStore(HistoryPaths(str(tmp_path)), max_runs=3)
    suite = suite_key(KEY, META)
    for n in range(1, 41):  # every run has one test of its own: the table must not grow with the runs
        record(store, suite, "B{0}".format(n), states_of(passed=["test {0}".format(n)]))
        doc = store.load(suite.id)
        assert len(doc["tests"]) <= 6, len(doc["tests"])  # at most a quarter over what the kept runs name, twice
    assert [r["build"] for r in doc["runs"]] == ["B38", "B39", "B40"]
    names = [t[1] for t in doc["tests"]]
    assert {"Migration of h1 test 38", "Migration of h1 test 39", "Migration of h1 test 40"} <= set(names)
    # the masks were renumbered with the table: each run still names its own test
    for run in doc["runs"]:
        packed = run["tests"]["passed"]
        [bit] = ([int(i) for i in packed[2:].split(",")] if packed.startswith("i:")
                 else [i for i in range(64) if int(packed, 16) >> i & 1])
        assert doc["tests"][bit][1] == "Migration of h1 test " + run["build"][1:]
    last = record(store, suite, "B40", states_of(passed=["test 40"]))  # recorded again: the same answer
    assert last.previous_build == "B39" and last.tests["passed"] == 1


def test_the_size_cap_drops_the_oldest_runs_first(tmp_path):
    cap = 64 * 1024
    store = HistoryStore(HistoryPaths(str(tmp_path)), max_runs=1000, max_bytes=cap)
    suite = suite_key(KEY, META)
    sizes = []
    for n in range(40):
        many = states_of(passed=["check {0:04d} of build {1} {2}".format(i, n, "x" * 40) for i in range(30)])
        record(store, suite, "B{0}".format(n), many)
        sizes.append(os.path.getsize(store.paths.suite(suite.id)))
    assert max(sizes) <= cap
    doc = store.load(suite.id)
    assert doc["runs"][-1]["build"] == "B39" and 1 < len(doc["runs"]) < 40


def test_a_run_too_big_for_the_cap_is_kept_without_its_tests(tmp_path):
    lines = []
    store = HistoryStore(HistoryPaths(str(tmp_path)), journal=lines.append, max_bytes=4096)
    suite = suite_key(KEY, META)
    changes = record(store, suite, "B1", states_of(passed=["t{0} {1}".format(i, "y" * 80) for i in range(100)]))
    assert changes.known  # this run's post still says what it found
    doc = store.load(suite.id)
    assert doc["runs"][0]["tests"] is None and "size cap" in doc["runs"][0]["why"]
    assert os.path.getsize(store.paths.suite(suite.id)) <= 4096
    assert len(lines) == 1 and "size cap" in lines[0]


def _doc(specs, tests, runs):
    return json.dumps({"schema": 1, "suite": {"id": "x"}, "specs": specs, "tests": tests, "runs": runs}).encode()


CORRUPT = {
    "undecodable": b"{not json",
    "not-an-object": b"[]",
    "run-without-build": _doc([], [], [{"id": "B1#0"}]),
    "mask-beyond-table": _doc(["a"], [[0, "b"]], [{"id": "B1#0", "build": "B1", "tests": {"failed": "ff"}}]),
    "spec-beyond-specs": _doc(["a"], [[1, "b"]], []),
    "index-not-a-number": _doc(["a"], [[0, "b"]], [{"id": "B1#0", "build": "B1", "tests": {"failed": [0, 1.5]}}]),
}


@pytest.mark.parametrize("content", list(CORRUPT.values()), ids=list(CORRUPT))
def test_a_corrupt_history_is_set_aside_with_one_journal_line_and_starts_again(store, content):
    suite = suite_key(KEY, META)
    os.makedirs(store.paths.dir)
    with open(store.paths.suite(suite.id), "wb") as handle:
        handle.write(content)
    changes = record(store, suite, "B2", states_of(failed=["boots"]))
    assert changes.first_run
    assert len(store.lines) == 1 and "corrupt" in store.lines[0] and "set aside" in store.lines[0]
    assert [n for n in os.listdir(store.paths.dir) if ".corrupt-" in n]
    assert [r["id"] for r in store.load(suite.id)["runs"]] == ["B2#0"]


def test_unknown_per_test_results_are_kept_as_a_run_without_tests(store):
    suite = suite_key(KEY, META)
    record(store, suite, "B1", states_of(failed=["boots"]))
    unknown = record(store, suite, "B2", None, why="the Cypress run did not finish")
    assert not unknown.known and unknown.why == "the Cypress run did not finish"
    after = record(store, suite, "B3", states_of(failed=["boots"]))
    assert after.previous_build == "B1" and after.still_failing[0][1] == 2
    assert store.load(suite.id)["runs"][1]["tests"] is None


def test_a_spec_named_short_and_long_is_one_spec(store):
    suite = suite_key(KEY, META)
    record(store, suite, "B1", {("h1.cy.ts", "Migration of h1 boots"): "failed"})  # the console alone
    later = record(store, suite, "B2", {("cypress/e2e/migration/h1.cy.ts", "Migration of h1 boots"): "passed"})
    # the same test: the longer spelling of its spec is kept from then on
    assert later.fixed == [("cypress/e2e/migration/h1.cy.ts", "Migration of h1 boots")] and later.new_failures == []
    other = record(store, suite, "B3", {("cypress/e2e/other/h1.cy.ts", "Migration of h1 boots"): "failed",
                                        ("cypress/e2e/migration/h1.cy.ts", "Migration of h1 boots"): "passed"})
    assert [key[0] for key in other.new_failures] == ["cypress/e2e/other/h1.cy.ts"]


def test_the_webhook_never_reaches_the_file(tmp_path):
    hook = "https://mm.example.org/hooks/FAKEhookForTests01"
    store = HistoryStore(HistoryPaths(str(tmp_path)), secrets=(hook,))
    suite = suite_key(KEY, META)
    record(store, suite, "B1", states_of(failed=["posts to " + hook]))
    assert "FAKEhookForTests01" not in open(store.paths.suite(suite.id), encoding="utf-8").read()


def test_two_watchers_recording_together_lose_nothing(tmp_path):
    suite = suite_key(KEY, META)
    stores = [HistoryStore(HistoryPaths(str(tmp_path))) for _n in range(8)]
    threads = [threading.Thread(target=record, args=(s, suite, "B{0}".format(n), states_of(passed=["boots"])))
               for n, s in enumerate(stores)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(r["build"] for r in stores[0].load(suite.id)["runs"]) == ["B{0}".format(n) for n in range(8)]


STATES = st.dictionaries(st.sampled_from(["boots", "plans", "replicates"]),
                         st.sampled_from(["passed", "failed", "flaky"]), min_size=1)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(runs=st.lists(st.one_of(st.none(), STATES), min_size=1, max_size=7),
       restarts=st.lists(st.tuples(st.integers(0, 6), st.integers(0, 2)), max_size=8))
def test_any_runs_give_the_same_history_whatever_the_restarts(tmp_path_factory, runs, restarts):
    """A restart records its run again (right away, or after up to two other runs of the suite were
    recorded meanwhile by other watchers): the history and every answer are those of no restart."""
    def replay(root, schedule):
        store = HistoryStore(HistoryPaths(str(root)), max_runs=5)
        suite = suite_key(KEY, META)
        answers = {}
        pending = []
        for n, states in enumerate(runs):
            data = None if states is None else {("h1.cy.ts", k): v for k, v in states.items()}
            args = (store, suite, "B{0}".format(n), data, 0, "s", "2026-12-01T00:00:{0:02d}.000Z".format(n),
                    "no per-test results" if data is None else "")
            answers[n] = record(*args).to_dict()
            pending.extend((n + delay, args, n) for at, delay in schedule if at == n)
            for due in [p for p in pending if p[0] <= n]:
                assert record(*due[1]).to_dict() == answers[due[2]]
                pending.remove(due)
        for _due, args, n in pending:
            assert record(*args).to_dict() == answers[n]
        return open(store.paths.suite(suite.id), "rb").read(), answers

    plain = replay(tmp_path_factory.mktemp("plain"), [])
    restarted = replay(tmp_path_factory.mktemp("restarted"), restarts)
    assert restarted == plain


def test_suite_key_of_a_plain_value():
    assert SuiteKey("nightly").text == "nightly"

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watch loop records each decided (sub-)run in its suite's history once and its post says what
changed (docs/history.md): runs of the Cypress run simulator decided by one Watcher each."""
from __future__ import annotations

import io
import json
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.runinfo import _subrun
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import ExitInfo
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import Settings
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.history import HistoryStore
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.watch.loop import Watcher
from ansible_collections.atvm.watcher.tests.support import cypress_sim
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.watch.test_loop import (
    HOOK, RecordingClient)

HOSTS = "rhel96-fc-01,ubuntu2204-01"
GROUPS = "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01"
META = {"MATTERMOST_ATVM_WEBHOOK": HOOK, "ATVM_TEMPLATE_NAME": "cmc-e2e", "ATVM_CONFIG_FAMILY": "gold"}


class Ended:
    """The runner, found ended with ``code``."""

    started = True

    def __init__(self, code):
        self.over = False
        self.exit = ExitInfo()
        self.code = code

    def poll(self, main_exited=False):
        self.over, self.exit = True, ExitInfo(known=True, running=False, exit_code=self.code, source="exit-file")
        return True

    def cpu_seconds(self):
        return None

    def started_epoch(self):
        return None


def run_build(tmp_path, build, *sim, categorized=False, hosts=HOSTS, client=None, env=None):
    """One build: the simulator writes its log, artifacts and JUnit, then a watcher decides it."""
    began = time.time() - 1
    auto = tmp_path / "auto" / build
    code = cypress_sim.main(["--groups" if categorized else "--hosts", hosts, "--tests-per-spec", "4",
                             "--log", str(auto / "runner.log"), "--junit-dir", str(auto / "results"),
                             "--reporter-dir", str(auto / "cmc"), "--write-inventory", str(auto / "inventory.md")]
                            + list(sim))
    return decide(tmp_path, build, code, began, categorized, client, env)


def decide(tmp_path, build, code, began, categorized=False, client=None, env=None):
    """A watcher of ``build`` (its files written) that finds its runner ended with ``code``."""
    auto = tmp_path / "auto" / build
    settings = Settings.from_env(dict(META, **(env or {})), build_name=build, state_root=str(tmp_path / "state"),
                                 runner_log=str(auto / "runner.log"), junit_dir=str(auto / "results"),
                                 reporter_dir=str(auto / "cmc"), inventory=str(auto / "inventory.md"),
                                 categorized=categorized)
    client = client or RecordingClient()
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, client=client)
    watcher.store.ensure()
    watcher._load_state()  # pylint: disable=protected-access
    watcher.state.created_epoch = began
    watcher.save()
    runner = Ended(code)
    watcher.runner = runner  # type: ignore[assignment]
    assert watcher._poll(runner, main_exited=True) == 0  # pylint: disable=protected-access
    return watcher, client


def history_field(post):
    [field] = [f for f in post["attachments"][0]["fields"] if f["title"] == "History"]
    return field["value"]


def test_fail_then_flaky_then_pass(tmp_path):
    first, posts = run_build(tmp_path, "B1", "--fail", "ubuntu2204-01")
    assert history_field(posts.posts[0]) == "first run of this suite"
    assert first.state.subruns[0].tests == {"new_failure": 0, "fixed": 0, "still_failing": 0, "flaky": 0}

    second, posts = run_build(tmp_path, "B2", "--flaky", "ubuntu2204-01")
    post = posts.posts[0]
    assert post["text"].startswith("#### \u2705 PASS")  # history never changes the result
    assert history_field(post) == "Since `B1` (just now): 1 fixed \u00b7 1 flaky (passed on a retry)"
    text = post["attachments"][0]["text"]
    assert ("- Fixed (1): Migration of ubuntu2204-01 creates the migration plan (ubuntu2204-01.cy.ts)" in text)
    assert "- Flaky (passed on a retry) (1): Migration of ubuntu2204-01 creates the migration plan" in text
    card = post["props"]["card"]
    assert "**Fixed (1):**\n- Migration of ubuntu2204-01 creates the migration plan (ubuntu2204-01.cy.ts)" in card
    assert second.state.subruns[0].tests == {"new_failure": 0, "fixed": 1, "still_failing": 0, "flaky": 1}

    third, posts = run_build(tmp_path, "B3")
    assert history_field(posts.posts[0]) == "Since `B2` (just now): no change"
    # status --json / run_info: what changed, per (sub-)run
    changes = _subrun(third.store, third.state.subruns[0], {})["changes"]
    assert changes["previous_build"] == "B2" and changes["fixed"] == changes["new_failures"] == []
    status = _subrun(second.store, second.state.subruns[0], {})["changes"]
    assert status["fixed"] == status["flaky"] == [{"spec": "cypress/e2e/migration/ubuntu2204-01.cy.ts",
                                                   "title": "Migration of ubuntu2204-01 creates the migration plan"}]
    [suite] = HistoryStore(third.settings.paths.history).suites()
    assert suite["runs"] == 3 and suite["text"] == "cmc-e2e \u00b7 gold \u00b7 rhel96-fc-01-ubuntu2204-01 \u00b7 " \
                                                   "rhel96-fc-01,ubuntu2204-01"


def test_a_failure_twice_is_still_failing_and_a_fail_is_never_fixed(tmp_path):
    run_build(tmp_path, "B1", "--fail", "ubuntu2204-01")
    _watcher, posts = run_build(tmp_path, "B2", "--fail", "ubuntu2204-01")
    post = posts.posts[0]
    assert post["text"].startswith("#### \u274c FAIL")
    assert history_field(post) == "Since `B1` (just now): 1 still failing (longest: 2 runs in a row)"
    assert "Fixed" not in post["attachments"][0]["text"]


def test_a_categorized_request_keeps_one_history_per_group(tmp_path):
    run_build(tmp_path, "B1", "--fail", "win2022-01", "--exit-code", "0", categorized=True, hosts=GROUPS)
    watcher, posts = run_build(tmp_path, "B2", "--exit-code", "0", categorized=True, hosts=GROUPS)
    assert [history_field(p) for p in posts.posts] == [
        "Since `B1` (just now): no change", "Since `B1` (just now): 1 fixed"]
    suites = HistoryStore(watcher.settings.paths.history).suites()
    assert sorted(s["text"] for s in suites) == ["cmc-e2e \u00b7 gold \u00b7 linux \u00b7 rhel96-fc-01,ubuntu2204-01",
                                                 "cmc-e2e \u00b7 gold \u00b7 windows \u00b7 win2022-01"]
    assert [s["runs"] for s in suites] == [2, 2]


def test_missing_per_test_evidence_says_no_per_test_results(tmp_path):
    run_build(tmp_path, "B1", "--fail", "ubuntu2204-01")
    _watcher, posts = run_build(tmp_path, "B2", "--crash-in", "ubuntu2204-01")
    assert history_field(posts.posts[0]) == ("no per-test results: the Cypress run did not finish (no (Run "
                                             "Finished) table)")


def test_no_history_with_zero_runs_kept(tmp_path):
    watcher, posts = run_build(tmp_path, "B1", env={"ATVM_HISTORY_RUNS": "0"})
    assert [f["title"] for f in posts.posts[0]["attachments"][0]["fields"] if f["title"] == "History"] == []
    assert HistoryStore(watcher.settings.paths.history).suites() == []


class Crash(Exception):
    pass


def test_a_restart_between_the_decision_and_its_post_counts_the_run_once(tmp_path, monkeypatch):
    """Killed after the history was written and before the sub-run's decision was: the restarted
    watcher decides it again, records it in place and posts what the first one would have."""
    run_build(tmp_path, "B1", "--fail", "ubuntu2204-01")
    real = Watcher.deliver_subrun

    def killed(self, entry, message):
        raise Crash()

    monkeypatch.setattr(Watcher, "deliver_subrun", killed)
    began = time.time() - 1
    with pytest.raises(Crash):
        run_build(tmp_path, "B2", "--flaky", "ubuntu2204-01")
    monkeypatch.setattr(Watcher, "deliver_subrun", real)
    state = json.loads((tmp_path / "state" / "B2" / "state.json").read_text())
    state["subruns"][0]["finalized"] = False  # the decision was not written yet when it was killed
    (tmp_path / "state" / "B2" / "state.json").write_text(json.dumps(state))
    watcher, posts = decide(tmp_path, "B2", 0, began)
    assert history_field(posts.posts[0]) == "Since `B1` (just now): 1 fixed \u00b7 1 flaky (passed on a retry)"
    [suite] = HistoryStore(watcher.settings.paths.history).suites()
    assert suite["runs"] == 2


def test_history_and_status_on_the_command_line(tmp_path, capsys):
    """``atvm-run-watcher history`` lists the suites, then one suite's runs and the tests that changed;
    ``status`` says it per (sub-)run."""
    from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
    run_build(tmp_path, "B1", "--fail", "ubuntu2204-01")
    run_build(tmp_path, "B2", "--flaky", "ubuntu2204-01")
    root = str(tmp_path / "state")
    assert cli.main(["history", "--state-root", root, "--json"], environ={}) == 0
    [suite] = json.loads(capsys.readouterr().out)["suites"]
    assert suite["runs"] == 2 and suite["last_build"] == "B2"
    assert cli.main(["history", "--state-root", root, "--suite", "ubuntu2204-01"], environ={}) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("suite {0}: cmc-e2e".format(suite["id"]))
    assert "    tests: first run of this suite: 0 new failures, 0 fixed, 0 still failing, 0 flaky" in out
    assert "    tests: since B1: 0 new failures, 1 fixed, 0 still failing, 1 flaky" in out
    assert ("      fixed: Migration of ubuntu2204-01 creates the migration plan "
            "(cypress/e2e/migration/ubuntu2204-01.cy.ts)") in out
    assert cli.main(["history", "--state-root", root, "--suite", suite["id"], "--json"], environ={}) == 0
    runs = json.loads(capsys.readouterr().out)["runs"]
    assert [r["build"] for r in runs] == ["B1", "B2"]
    assert runs[1]["changes"]["flaky"] == [{"spec": "cypress/e2e/migration/ubuntu2204-01.cy.ts",
                                            "title": "Migration of ubuntu2204-01 creates the migration plan"}]
    assert cli.main(["history", "--state-root", root, "--suite", "no-such-suite"], environ={}) == 1
    assert "no suite 'no-such-suite'" in capsys.readouterr().err
    assert cli.main(["status", "--build-name", "B2", "--state-root", root, "--json"],
                    environ={"PATH": "/nonexistent"}) == 0
    [sub] = json.loads(capsys.readouterr().out)["subruns"]
    assert sub["changes"]["previous_build"] == "B1" and len(sub["changes"]["fixed"]) == 1
    assert cli.main(["status", "--build-name", "B2", "--state-root", root], environ={"PATH": "/nonexistent"}) == 0
    assert "    tests: since B1: 0 new failures, 1 fixed, 0 still failing, 1 flaky" in capsys.readouterr().out

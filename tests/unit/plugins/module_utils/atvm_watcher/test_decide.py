# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of docs/decision-rules.md, one false-PASS trap at a time, against a baseline that does PASS."""
from __future__ import annotations

import copy

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import decide as d
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import (
    CANCELLED, COMPLETED, FAIL, FAILED, HUNG, MISSING, PASS, RUN, RUNNING, TERMINATED, UNKNOWN,
    Counts, CypressRun, ExitInfo, HostArtifact, HostEvent, InventoryHost, JUnitReport, SpecRow,
)

HOSTS = ("rhel96-fc-01", "win2022-02")
INVENTORY = {h: InventoryHost(host=h, os="RHEL 9.6" if "rhel" in h else "Windows 2022", kernel="5.14.0") for h in HOSTS}


def spec(host: str) -> str:
    return "cypress/e2e/migration/{0}.cy.ts".format(host)


def finished_run(index: int = 0, hosts=HOSTS, label=None) -> CypressRun:
    run = CypressRun(index=index, label=label, label_source="marker" if label else None, started=True, finished=True,
                     all_passed=True, total_specs=len(hosts), cypress_version="12.17.4")
    run.specs_found = [spec(h) for h in hosts]
    run.specs_run = list(run.specs_found)
    run.finished_rows = [SpecRow(spec=spec(h), status="passed", counts=Counts(3, 3, 0, 0, 0)) for h in hosts]
    run.totals = Counts(3 * len(hosts), 3 * len(hosts), 0, 0, 0)
    return run


def artifact(host: str, status: str = "PASS", mtime: float = 1000.0, **kw) -> HostArtifact:
    counts = kw.pop("counts", Counts(3, 3, 0, 0, 0))
    return HostArtifact(path="/r/{0}.json".format(host), host=host, spec=spec(host), status=status, counts=counts,
                        mtime=mtime, **kw)


def evidence(**kw) -> d.Evidence:
    base = dict(runs=[finished_run()], artifacts=[artifact(h) for h in HOSTS], inventory=INVENTORY,
                exit=ExitInfo(known=True, running=False, exit_code=0), runner_over=True)
    base.update(kw)
    return d.Evidence(**base)


def test_baseline_passes():
    verdict = d.decide(evidence())
    assert (verdict.state, verdict.result) == (COMPLETED, PASS)
    assert len(verdict.subruns) == 1
    sub = verdict.subruns[0]
    assert [h.host for h in sub.hosts] == list(HOSTS)
    assert all(h.result == PASS for h in sub.hosts)
    assert sub.hosts[0].kernel == "5.14.0" and sub.hosts[0].os == "RHEL 9.6"
    assert sub.reasons == []


def test_artifact_present_but_fail():
    ev = evidence(artifacts=[artifact(HOSTS[0], "FAIL"), artifact(HOSTS[1])])
    verdict = d.decide(ev)
    assert verdict.result == FAIL
    assert verdict.subruns[0].hosts[0].result == FAIL
    assert "reporter status FAIL" in verdict.subruns[0].hosts[0].reasons


@pytest.mark.parametrize("event", [
    HostEvent(timestamp=None, type="migration", message="boot check failed", severity="error", failure=True),
    HostEvent(timestamp="2026-11-27T10:40:00Z", type="error", message="boot check failed", failure=True),
])
def test_pass_status_with_error_event(event):
    ev = evidence(artifacts=[artifact(HOSTS[0], events=[event]), artifact(HOSTS[1])])
    verdict = d.decide(ev)
    assert verdict.result == FAIL
    assert verdict.subruns[0].hosts[0].reasons == ["boot check failed"]


def test_host_still_running_or_pending():
    ev = evidence(artifacts=[artifact(HOSTS[0], "RUN"), artifact(HOSTS[1])])
    verdict = d.decide(ev)
    assert verdict.result == RUN
    assert verdict.subruns[0].hosts[0].result == RUN
    ev = evidence(artifacts=[artifact(HOSTS[0], counts=Counts(3, 2, 0, 1, 0)), artifact(HOSTS[1])])
    assert d.decide(ev).result == RUN


def test_host_missing():
    verdict = d.decide(evidence(artifacts=[artifact(HOSTS[0])]))
    assert verdict.result == FAIL
    assert verdict.subruns[0].hosts[1].result == MISSING


def test_stale_artifact_is_missing():
    ev = evidence(artifacts=[artifact(HOSTS[0]), artifact(HOSTS[1], mtime=10.0)], run_not_before=900.0)
    assert d.decide(ev).subruns[0].hosts[1].result == MISSING


def test_expected_host_not_in_specs_is_missing():
    verdict = d.decide(evidence(expected_hosts=["ol8-03"]))
    assert verdict.result == FAIL
    assert any(h.host == "ol8-03" and h.result == MISSING for h in verdict.subruns[0].hosts)


def test_junit_meta_only_says_nothing_and_failures_fail():
    meta = JUnitReport(path="/j/meta.xml", files=["cypress/e2e/check-xml-files.ts"], meta_only=True,
                       counts=Counts(1, 0, 1, 0, 0))
    assert d.decide(evidence(junit=[meta])).result == PASS
    # meta-only XML does not replace missing host artifacts
    assert d.decide(evidence(junit=[meta], artifacts=[])).result == FAIL
    bad = JUnitReport(path="/j/r.xml", files=[spec(HOSTS[0])], counts=Counts(3, 2, 1, 0, 0))
    verdict = d.decide(evidence(junit=[bad]))
    assert verdict.result == FAIL
    assert any("JUnit" in r for r in verdict.subruns[0].reasons)


def test_zero_tests_all_specs_passed():
    run = finished_run()
    run.totals = Counts(0, 0, 0, 0, 0)
    verdict = d.decide(evidence(runs=[run]))
    assert verdict.result == FAIL
    assert any("zero tests" in r for r in verdict.subruns[0].reasons)


def test_nonzero_exit_with_all_specs_passed():
    verdict = d.decide(evidence(exit=ExitInfo(known=True, running=False, exit_code=3)))
    assert verdict.state == FAILED and verdict.result == FAIL
    assert any("exited with code 3" in r for r in verdict.subruns[0].reasons)


def test_renderer_crash_without_run_finished():
    run = finished_run()
    run.finished, run.all_passed, run.crashed = False, None, True
    run.problems = ["We detected that the Electron Renderer process just crashed."]
    verdict = d.decide(evidence(runs=[run], exit=ExitInfo(known=True, running=False, exit_code=1)))
    assert verdict.state == FAILED and verdict.result == FAIL


def test_crash_text_in_a_finished_run_fails():
    run = finished_run()
    run.problems = ["We detected that the Electron Renderer process just crashed."]
    assert d.decide(evidence(runs=[run])).result == FAIL


def test_plugin_after_run_error():
    run = finished_run()
    run.finished, run.all_passed, run.plugin_error = False, None, True
    run.problems = ["An error was thrown in your plugins file while executing the handler for the after:run event."]
    verdict = d.decide(evidence(runs=[run], exit=ExitInfo(known=True, running=False, exit_code=0)))
    assert verdict.state == FAILED and verdict.result == FAIL


def test_canceled_cypress_run():
    run = finished_run()
    run.all_passed, run.canceled = False, True
    verdict = d.decide(evidence(runs=[run], exit=ExitInfo(known=True, running=False, exit_code=1)))
    assert verdict.result == FAIL
    assert any("canceled" in r for r in verdict.subruns[0].reasons)


def test_cancel_marker_terminated_hung_are_never_pass():
    assert d.decide(evidence(cancelled=True)).state == CANCELLED
    assert d.decide(evidence(cancelled=True)).result != PASS
    killed = d.decide(evidence(exit=ExitInfo(known=True, running=False, signal=9)))
    assert (killed.state, killed.result != PASS) == (TERMINATED, True)
    hung = d.decide(evidence(hung=True, runner_over=False, exit=ExitInfo()))
    assert hung.state == HUNG and hung.result != PASS


def test_running_is_never_pass():
    verdict = d.decide(evidence(runner_over=False, exit=ExitInfo()))
    assert verdict.state == RUNNING and verdict.result == RUN


def test_no_log_never_started_is_unknown():
    verdict = d.decide(evidence(runs=[], log_exists=False, exit=ExitInfo(known=False, running=False)))
    assert (verdict.state, verdict.result) == (UNKNOWN, UNKNOWN)


def test_unreadable_artifact_fails():
    verdict = d.decide(evidence(artifacts=[artifact(HOSTS[0], error="line 1 column 9: Expecting ','"),
                                           artifact(HOSTS[1])]))
    assert verdict.result == FAIL
    assert "unreadable" in verdict.subruns[0].hosts[0].reasons[0]


def test_no_reporter_dir_is_not_pass():
    verdict = d.decide(evidence(artifacts=None))
    assert verdict.result == UNKNOWN


# ---------------------------------------------------------------------------------------------- categorized

def categorized_runs():
    groups = [("linux", ["rhel96-fc-01"]), ("windows", ["win2022-02"]), ("oracle", ["ol8-03"])]
    return [finished_run(i, hosts, label) for i, (label, hosts) in enumerate(groups)]


INV3 = dict(INVENTORY, **{"ol8-03": InventoryHost(host="ol8-03", os="OL 8", kernel="5.4")})
ALL3 = [artifact(h) for h in ("rhel96-fc-01", "win2022-02", "ol8-03")]


def test_categorized_all_pass_and_one_failing_subrun():
    ev = evidence(runs=categorized_runs(), artifacts=ALL3, inventory=INV3, categorized=True)
    verdict = d.decide(ev)
    assert [(s.name, s.state, s.result) for s in verdict.subruns] == [
        ("linux", COMPLETED, PASS), ("windows", COMPLETED, PASS), ("oracle", COMPLETED, PASS)]
    assert verdict.result == PASS
    arts = copy.deepcopy(ALL3)
    arts[1].status = "FAIL"
    verdict = d.decide(evidence(runs=categorized_runs(), artifacts=arts, inventory=INV3, categorized=True))
    assert [s.result for s in verdict.subruns] == [PASS, FAIL, PASS]
    assert verdict.result == FAIL


def test_categorized_exit_code_bears_on_last_subrun_only():
    ev = evidence(runs=categorized_runs(), artifacts=ALL3, inventory=INV3, categorized=True,
                  exit=ExitInfo(known=True, running=False, exit_code=2))
    verdict = d.decide(ev)
    assert [s.result for s in verdict.subruns] == [PASS, PASS, FAIL]
    assert verdict.state == FAILED


def test_categorized_crashed_subrun_failed_while_parent_went_on():
    runs = categorized_runs()
    runs[1].finished, runs[1].all_passed, runs[1].crashed = False, None, True
    runs[1].problems = ["We detected that the Electron Renderer process just crashed."]
    ev = evidence(runs=runs, artifacts=ALL3, inventory=INV3, categorized=True, runner_over=False, exit=ExitInfo())
    verdict = d.decide(ev)
    assert [s.state for s in verdict.subruns] == [COMPLETED, FAILED, COMPLETED]
    assert verdict.subruns[1].result == FAIL
    assert verdict.state == RUNNING


def test_label_mismatch_infers_name_from_hosts():
    runs = categorized_runs()
    runs[0].label = "win2022-02"  # the marker names another host than the spec that ran
    verdict = d.decide(evidence(runs=runs, artifacts=ALL3, inventory=INV3, categorized=True))
    assert verdict.subruns[0].name == "rhel96-fc-01"
    assert "win2022-02" in (verdict.subruns[0].name_mismatch or "")


def test_marker_without_cypress_run_is_failed():
    runs = categorized_runs()
    runs[1] = CypressRun(index=1, label="windows", label_source="marker", started=False)
    verdict = d.decide(evidence(runs=runs, artifacts=ALL3, inventory=INV3, categorized=True))
    assert verdict.subruns[1].state == FAILED
    assert "never started" in verdict.subruns[1].reasons[0]


def test_every_artifact_of_a_host_counts():
    older_fail = artifact(HOSTS[0], "FAIL", mtime=1000.0)
    older_fail.path = "/r/rhel96-fc-01-a.json"
    newer_pass = artifact(HOSTS[0], mtime=1001.0)
    verdict = d.decide(evidence(artifacts=[older_fail, newer_pass, artifact(HOSTS[1])]))
    assert verdict.subruns[0].hosts[0].result == FAIL
    assert verdict.subruns[0].hosts[0].counts.tests == 6


def test_unusable_count_is_not_pass():
    art = artifact(HOSTS[0])
    art.notes = ["stats.failures is '3', not a whole number"]
    verdict = d.decide(evidence(artifacts=[art, artifact(HOSTS[1])]))
    assert verdict.result != PASS


def test_categorized_exit_code_explained_by_an_earlier_failed_subrun():
    """A wrapper that exits with the sum of its runs' failures does not fail a last sub-run that passed."""
    arts = copy.deepcopy(ALL3)
    arts[1].status = "FAIL"
    runs = categorized_runs()
    runs[1].all_passed, runs[1].failed_specs = False, 1
    ev = evidence(runs=runs, artifacts=arts, inventory=INV3, categorized=True,
                  exit=ExitInfo(known=True, running=False, exit_code=1))
    verdict = d.decide(ev)
    assert [(s.state, s.result) for s in verdict.subruns] == [(COMPLETED, PASS), (COMPLETED, FAIL), (COMPLETED, PASS)]
    assert verdict.state == FAILED and verdict.result == FAIL
    # the same exit after a last sub-run that did not finish still fails it
    runs[2].finished, runs[2].all_passed = False, None
    verdict = d.decide(evidence(runs=runs, artifacts=arts, inventory=INV3, categorized=True,
                                exit=ExitInfo(known=True, running=False, exit_code=1)))
    assert verdict.subruns[2].state == FAILED

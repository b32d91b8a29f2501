# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of docs/decision-rules.md, one false-PASS trap at a time, against a baseline that does PASS."""
from __future__ import annotations

import copy
import dataclasses

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision import rules as d
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import (
    CANCELLED, COMPLETED, FAIL, FAILED, HUNG, MISSING, PASS, RUN, RUNNING, TERMINATED, UNKNOWN,
    NAME_MAX, Counts, CypressRun, ExitInfo, HostArtifact, HostEvent, InventoryHost, JUnitReport, SpecRow,
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


# ---------------------------------------------------------------------------------------------- every source, exactly
# The tests below pin whole verdicts (states, results and reasons), so that no rule can change
# without a test saying so (``make mutation`` checks that).

def outline(verdict):
    """A verdict as plain data: request state/result/reasons, then each sub-run and its hosts."""
    return (verdict.state, verdict.result, verdict.reasons,
            [(s.name, s.state, s.result, s.reasons, [(h.host, h.result, h.reasons) for h in s.hosts])
             for s in verdict.subruns])


def host_of(verdict, host, sub=0):
    return next(h for h in verdict.subruns[sub].hosts if h.host == host)


def one_host(art, **kw):
    """A one-host request (``rhel96-fc-01``) whose reporter artifact is ``art``; its host verdict."""
    verdict = d.decide(evidence(runs=[finished_run(hosts=HOSTS[:1])], artifacts=[art], **kw))
    return verdict, verdict.subruns[0].hosts[0]


ZERO = Counts(0, 0, 0, 0, 0)


@pytest.mark.parametrize("counts, reason", [
    (Counts(0, 0, 0, 0, 0), "no tests counted"),
    (Counts(None, None, None, None, None), "test count missing"),
])
def test_reporter_artifact_pass_with_zero_or_no_tests_fails(counts, reason):
    verdict, host = one_host(artifact(HOSTS[0], counts=counts))
    assert (host.result, host.reasons, verdict.result) == (FAIL, [reason], FAIL)
    assert host.counts == counts


def test_reporter_artifact_failed_count_fails_whatever_the_status():
    verdict, host = one_host(artifact(HOSTS[0], counts=Counts(3, 1, 2, 0, 0)))
    assert (host.result, host.reasons, verdict.result) == (FAIL, ["2 failed test(s) although the status says PASS"], FAIL)
    host = one_host(artifact(HOSTS[0], "FAIL", counts=Counts(3, 1, 2, 0, 0)))[1]
    assert (host.result, host.reasons) == (FAIL, ["reporter status FAIL"])


def test_reporter_artifact_zero_tests_while_running_is_run_not_fail():
    verdict, host = one_host(artifact(HOSTS[0], "RUN", counts=ZERO))
    assert (host.result, host.reasons, verdict.result) == (RUN, ["still running (reporter status RUN)"], RUN)


def test_reporter_artifact_pending_tests_keep_it_running():
    host = one_host(artifact(HOSTS[0], counts=Counts(3, 2, 0, 1, 0)))[1]
    assert (host.result, host.reasons) == (RUN, ["1 pending test(s)"])


@pytest.mark.parametrize("status", ["SKIPPED", "", None])
def test_reporter_artifact_unknown_status_is_unknown(status):
    verdict, host = one_host(artifact(HOSTS[0], status))
    assert (host.result, host.reasons, verdict.result) == (UNKNOWN, ["unknown reporter status {0!r}".format(status)], UNKNOWN)


def test_reporter_artifact_lower_case_status_is_read():
    host = one_host(artifact(HOSTS[0], "pass"))[1]
    assert (host.result, host.reasons) == (PASS, [])


def test_reporter_failure_events_are_the_reasons_and_other_events_are_not():
    info = HostEvent(timestamp=None, type="step", message="disk attached", failure=False)
    boom = HostEvent(timestamp=None, type="migration-error", message="", failure=True)
    host = one_host(artifact(HOSTS[0], "FAIL", events=[info, boom]))[1]
    assert (host.result, host.reasons) == (FAIL, ["migration-error"])  # no "reporter status FAIL" on top
    host = one_host(artifact(HOSTS[0], events=[info]))[1]
    assert (host.result, host.reasons) == (PASS, [])


def test_reporter_artifact_notes_and_errors_are_not_pass():
    host = one_host(artifact(HOSTS[0], notes=["stats.tests is '3', not a whole number"]))[1]
    assert (host.result, host.reasons) == (UNKNOWN, ["reporter artifact: stats.tests is '3', not a whole number"])
    host = one_host(artifact(HOSTS[0], error="truncated JSON"))[1]
    assert (host.result, host.reasons) == (FAIL, ["reporter artifact unreadable: truncated JSON"])


def test_host_counts_add_up_and_unknown_counts_stay_unknown():
    a = artifact(HOSTS[0], counts=Counts(3, 3, 0, None, None))
    b = artifact(HOSTS[0], counts=Counts(2, 2, 0, None, 1))
    b.path = "/r/rhel96-fc-01-b.json"
    host = one_host(a)[1]
    verdict = d.decide(evidence(runs=[finished_run(hosts=HOSTS[:1])], artifacts=[b, a]))
    host = verdict.subruns[0].hosts[0]
    assert host.counts == Counts(5, 5, 0, None, 1)
    assert host.artifact == "/r/rhel96-fc-01-b.json, /r/rhel96-fc-01.json"  # sorted by path
    assert (host.result, verdict.result) == (PASS, PASS)


def test_host_without_artifact_or_reporter_directory_says_why():
    verdict = d.decide(evidence(artifacts=[artifact(HOSTS[0])]))
    assert host_of(verdict, HOSTS[1]).reasons == ["no reporter artifact newer than the run's start"]
    verdict = d.decide(evidence(artifacts=None))
    assert [(h.result, h.reasons) for h in verdict.subruns[0].hosts] == [(UNKNOWN, ["no reporter directory to read"])] * 2


@pytest.mark.parametrize("mtime, result", [(898.0, PASS), (897.9, MISSING)])
def test_artifact_window_has_two_seconds_of_slack(mtime, result):
    ev = evidence(artifacts=[artifact(HOSTS[0]), artifact(HOSTS[1], mtime=mtime)], run_not_before=900.0)
    assert host_of(d.decide(ev), HOSTS[1]).result == result


# ---------------------------------------------------------------------------------------------- hosts no spec names

def test_artifact_of_a_host_no_spec_names_counts_in_a_plain_request():
    extra = artifact("ol8-03", "FAIL", mtime=1000.0)
    verdict = d.decide(evidence(artifacts=[artifact(h) for h in HOSTS] + [extra], run_not_before=999.0))
    assert [(h.host, h.result) for h in verdict.subruns[0].hosts] == [(HOSTS[0], PASS), (HOSTS[1], PASS), ("ol8-03", FAIL)]
    assert verdict.result == FAIL
    extra.mtime = 997.0  # the run's start, less two seconds of slack
    verdict = d.decide(evidence(artifacts=[artifact(h) for h in HOSTS] + [extra], run_not_before=999.0))
    assert [h.host for h in verdict.subruns[0].hosts] == list(HOSTS) + ["ol8-03"]
    # an older artifact of such a host belongs to an earlier run
    extra.mtime = 10.0
    verdict = d.decide(evidence(artifacts=[artifact(h) for h in HOSTS] + [extra], run_not_before=999.0))
    assert [h.host for h in verdict.subruns[0].hosts] == list(HOSTS)
    assert verdict.result == PASS


def test_run_whose_specs_name_no_host_is_never_pass():
    run = finished_run(hosts=())
    run.specs_found = run.specs_run = ["cypress/e2e/check-xml-files.cy.ts", "cypress/e2e/login.ts"]
    run.totals = Counts(2, 2, 0, 0, 0)
    reason = "no host results: no spec named a host and no reporter artifact was found"
    for artifacts in ([], None):
        verdict = d.decide(evidence(runs=[run], artifacts=artifacts, inventory={}))
        assert outline(verdict) == (COMPLETED, UNKNOWN, [], [("run-1", COMPLETED, UNKNOWN, [reason], [])])


def test_hosts_of_run_skip_the_meta_spec_and_specs_without_a_host():
    run = CypressRun(index=0)
    run.specs_found = ["cypress/e2e/check-xml-files.cy.ts", "cypress/e2e/login.ts", spec(HOSTS[1]), spec(HOSTS[0])]
    assert d.hosts_of_run(run, INVENTORY, d.Evidence(runs=[]).host_pattern) == [HOSTS[1], HOSTS[0]]


def test_run_specs_in_first_seen_order_without_blanks_or_repeats():
    run = CypressRun(index=0, current_spec="cypress/e2e/d.cy.ts")
    run.specs_found = ["cypress/e2e/a.cy.ts", "", "cypress/e2e/b.cy.ts"]
    run.specs_run = ["cypress/e2e/b.cy.ts", "cypress/e2e/a.cy.ts"]
    run.spec_results = [SpecRow(spec="cypress/e2e/c.cy.ts", status="passed")]
    run.finished_rows = [SpecRow(spec="cypress/e2e/c.cy.ts", status="passed")]
    assert d.run_specs(run) == ["cypress/e2e/a.cy.ts", "cypress/e2e/b.cy.ts", "cypress/e2e/c.cy.ts", "cypress/e2e/d.cy.ts"]
    run.current_spec = "cypress/e2e/a.cy.ts"
    assert d.run_specs(run) == ["cypress/e2e/a.cy.ts", "cypress/e2e/b.cy.ts", "cypress/e2e/c.cy.ts"]


# ---------------------------------------------------------------------------------------------- names

def test_subrun_name_without_label_comes_from_hosts_or_position():
    pattern = d.Evidence(runs=[]).host_pattern
    assert d.subrun_name(CypressRun(index=0), list(HOSTS), INVENTORY, pattern) == ("rhel96-fc-01-win2022-02", None)
    assert d.subrun_name(CypressRun(index=2), [], INVENTORY, pattern) == ("run-3", None)
    assert d.subrun_name(CypressRun(index=0, label="x" * 200), [], INVENTORY, pattern) == ("x" * NAME_MAX, None)


def test_subrun_label_naming_another_host_is_replaced_and_said():
    pattern = d.Evidence(runs=[]).host_pattern
    run = CypressRun(index=0, label="win2022-02 tests")
    name, mismatch = d.subrun_name(run, [HOSTS[0]], INVENTORY, pattern)
    assert (name, mismatch) == ("rhel96-fc-01", "label 'win2022-02 tests' names host win2022-02 but the specs ran for rhel96-fc-01")
    # the longest inventory host in the label is the one it names
    inventory = dict(INVENTORY, rhel96=InventoryHost(host="rhel96"))
    assert d.subrun_name(CypressRun(index=0, label="rhel96-fc-01"), [HOSTS[0]], inventory, pattern) == ("rhel96-fc-01", None)
    assert d.subrun_name(CypressRun(index=0, label="rhel96-fc-01-tests win2022-02"), [HOSTS[0]], INVENTORY, pattern) == (
        "rhel96-fc-01-tests-win2022-02", None)


def test_label_mismatch_is_a_reason_of_the_subrun():
    runs = categorized_runs()
    runs[0].label = "win2022-02"
    verdict = d.decide(evidence(runs=runs, artifacts=ALL3, inventory=INV3, categorized=True))
    assert verdict.subruns[0].reasons == [
        "sub-run name inferred from its hosts: label 'win2022-02' names host win2022-02 but the specs ran for rhel96-fc-01"]
    assert verdict.subruns[0].result == PASS  # a name is no failure


# ---------------------------------------------------------------------------------------------- the Cypress log

def unfinished(run):
    run.finished, run.all_passed, run.totals = False, None, Counts()
    run.finished_rows = []
    return run


@pytest.mark.parametrize("change, reasons", [
    (lambda r: setattr(r, "started", False), ["the Cypress run never started"]),
    (unfinished, [d.NOT_FINISHED]),
    (lambda r: setattr(r, "all_passed", None), ["the (Run Finished) summary could not be read"]),
    (lambda r: (setattr(r, "all_passed", False), setattr(r, "failed_specs", 1)), ["1 of 2 spec(s) failed"]),
    (lambda r: (setattr(r, "all_passed", False), setattr(r, "total_specs", None)), ["some of ? spec(s) failed"]),
    (lambda r: (setattr(r, "all_passed", False), setattr(r, "canceled", True)), ["the Cypress run was canceled"]),
    (lambda r: setattr(r, "canceled", True), []),
    (lambda r: setattr(r, "problems", ["crash", "crash", "plugin"]), ["crash", "plugin"]),
])
def test_log_reasons(change, reasons):
    run = finished_run()
    change(run)
    assert d.log_reasons(run) == reasons


def test_unreadable_summary_table_fails():
    run = finished_run()
    run.all_passed = None
    verdict = d.decide(evidence(runs=[run]))
    assert outline(verdict)[:2] == (COMPLETED, FAIL)
    assert verdict.subruns[0].reasons == ["the (Run Finished) summary could not be read"]


def test_unfinished_run_counts_come_from_its_results_boxes():
    run = unfinished(finished_run())
    run.spec_results = [SpecRow(spec=spec(HOSTS[0]), status="passed", counts=Counts(3, 3, 0, None, 0)),
                        SpecRow(spec=spec(HOSTS[1]), status="failed", counts=Counts(2, 1, 1, 0, None))]
    verdict = d.decide(evidence(runs=[run], runner_over=False, exit=ExitInfo()))
    sub = verdict.subruns[0]
    assert sub.counts == Counts(5, 4, 1, 0, 0)
    assert sub.specs == run.spec_results
    # a failing spec box is a failure already (a log cut before its table still says that tests failed)
    assert (verdict.state, sub.state, sub.result, sub.reasons) == (
        RUNNING, RUNNING, FAIL, ["1 test(s) failed in {0}".format(spec(HOSTS[1]))])
    run.spec_results[1].counts.failed = 0
    assert outline(d.decide(evidence(runs=[run], runner_over=False, exit=ExitInfo())))[:2] == (RUNNING, RUN)
    finished = finished_run()
    assert d.decide(evidence(runs=[finished])).subruns[0].counts == finished.totals


def test_running_request_shows_a_failure_at_once_and_missing_hosts_as_running():
    verdict = d.decide(evidence(runner_over=False, exit=ExitInfo(), artifacts=[artifact(HOSTS[0], "FAIL")]))
    assert outline(verdict) == (RUNNING, FAIL, [], [("rhel96-fc-01-win2022-02", RUNNING, FAIL, [], [
        (HOSTS[0], FAIL, ["reporter status FAIL"]), (HOSTS[1], RUN, ["no reporter artifact newer than the run's start"])])])


def test_crash_text_while_the_runner_lives_fails_at_once():
    run = unfinished(finished_run())
    run.crashed, run.problems = True, ["We detected that the Electron Renderer process just crashed."]
    verdict = d.decide(evidence(runs=[run], runner_over=False, exit=ExitInfo()))
    assert outline(verdict)[:2] == (RUNNING, FAIL)
    assert verdict.subruns[0].reasons == ["We detected that the Electron Renderer process just crashed."]


def test_exit_known_without_code_or_signal_fails_a_plain_request():
    verdict = d.decide(evidence(exit=ExitInfo(known=True, running=False)))
    assert outline(verdict) == (FAILED, FAIL, [], [("rhel96-fc-01-win2022-02", FAILED, FAIL, [], [
        (HOSTS[0], PASS, []), (HOSTS[1], PASS, [])])])


def test_preamble_problems_belong_to_the_first_subrun():
    ev = evidence(runs=categorized_runs(), artifacts=ALL3, inventory=INV3, categorized=True,
                  preamble_problems=["Could not find a Cypress configuration file."])
    verdict = d.decide(ev)
    assert [(s.result, s.reasons) for s in verdict.subruns] == [
        (FAIL, ["Could not find a Cypress configuration file."]), (PASS, []), (PASS, [])]
    run = finished_run()
    run.problems = ["crash"]
    verdict = d.decide(evidence(runs=[run], preamble_problems=["no config"]))
    assert verdict.subruns[0].reasons == ["no config", "crash"]


def test_recorded_run_url_and_specs_of_a_subrun():
    run = finished_run()
    run.run_url, run.recorded_run_url = "http://127.0.0.1:8080/run/1", None
    assert d.decide(evidence(runs=[run])).subruns[0].run_url == "http://127.0.0.1:8080/run/1"
    run.recorded_run_url = "http://127.0.0.1:8080/run/2"
    sub = d.decide(evidence(runs=[run])).subruns[0]
    assert sub.run_url == "http://127.0.0.1:8080/run/2"
    assert sub.specs == run.finished_rows


# ---------------------------------------------------------------------------------------------- JUnit

def junit(path="/j/r.xml", files=None, failed=0, errors=0, mtime=1000.0, **kw):
    files = [spec(HOSTS[0])] if files is None else files
    return JUnitReport(path=path, files=list(files), counts=Counts(3, 3 - failed, failed, 0, 0), errors=errors,
                       mtime=mtime, **kw)


@pytest.mark.parametrize("failed, errors, reason", [
    (0, 2, "JUnit XML r.xml: 2 failure(s)/error(s)"),
    (1, 2, "JUnit XML r.xml: 3 failure(s)/error(s)"),
    (1, 0, "JUnit XML r.xml: 1 failure(s)/error(s)"),
])
def test_junit_errors_and_failures_fail(failed, errors, reason):
    verdict = d.decide(evidence(junit=[junit(failed=failed, errors=errors)]))
    assert (verdict.result, verdict.subruns[0].reasons) == (FAIL, [reason])


def test_clean_junit_and_stale_junit_say_nothing():
    assert outline(d.decide(evidence(junit=[junit()]))) == outline(d.decide(evidence()))
    stale = junit(errors=1, mtime=10.0)
    assert d.decide(evidence(junit=[stale], run_not_before=900.0)).result == PASS
    # a report without a time is not taken for an old one
    assert d.decide(evidence(junit=[junit(errors=1, mtime=0.0)], run_not_before=900.0)).result == FAIL
    assert d.decide(evidence(junit=[junit(errors=1, mtime=898.0)], run_not_before=900.0)).result == FAIL


def test_junit_of_a_plain_request_counts_whatever_specs_it_names():
    verdict = d.decide(evidence(junit=[junit(files=["cypress/e2e/smoke.cy.ts"], failed=1)]))
    assert (verdict.result, verdict.subruns[0].reasons) == (FAIL, ["JUnit XML r.xml: 1 failure(s)/error(s)"])


def test_unreadable_junit_fails_a_plain_request():
    verdict = d.decide(evidence(junit=[junit(error="not well-formed (invalid token): line 1, column 0")]))
    assert (verdict.result, verdict.subruns[0].reasons) == (
        FAIL, ["JUnit XML r.xml unreadable: not well-formed (invalid token): line 1, column 0"])


def test_categorized_junit_counts_only_for_the_subrun_of_its_specs():
    bad = junit(files=["cypress\\e2e\\migration\\win2022-02.cy.ts"], errors=1)
    meta = junit(path="/j/meta.xml", files=["cypress/e2e/check-xml-files.ts"], failed=1, meta_only=True)
    verdict = d.decide(evidence(runs=categorized_runs(), artifacts=ALL3, inventory=INV3, categorized=True, junit=[bad, meta]))
    assert [(s.result, s.reasons) for s in verdict.subruns] == [
        (PASS, []), (FAIL, ["JUnit XML r.xml: 1 failure(s)/error(s)"]), (PASS, [])]


def test_categorized_unreadable_junit_counts_for_the_subrun_it_was_written_in():
    unreadable = junit(error="no element found: line 9, column 0", mtime=2500.0)
    ev = evidence(runs=categorized_runs(), artifacts=windowed(ALL3), inventory=INV3, categorized=True,
                  junit=[unreadable], not_before=dict(WINDOWS), run_not_before=1000.0)
    verdict = d.decide(ev)
    assert [(s.result, s.reasons) for s in verdict.subruns] == [
        (PASS, []), (FAIL, ["JUnit XML r.xml unreadable: no element found: line 9, column 0"]), (PASS, [])]
    # without a time, or without sub-run windows (offline), it counts for every sub-run
    for report, windows in ((junit(error="empty file", mtime=0.0), dict(WINDOWS)), (junit(error="empty file"), {})):
        verdict = d.decide(dataclasses.replace(ev, junit=[report], not_before=windows))
        assert [s.result for s in verdict.subruns] == [FAIL] * 3


# ---------------------------------------------------------------------------------------------- several runs, one request

def test_several_runs_of_a_plain_request_are_all_judged():
    first, second = finished_run(0, hosts=HOSTS[:1]), finished_run(1, hosts=HOSTS[1:])
    assert d.decide(evidence(runs=[first, second])).result == PASS
    second.all_passed, second.failed_specs = False, 1
    verdict = d.decide(evidence(runs=[first, second]))
    assert outline(verdict) == (COMPLETED, FAIL, [], [("rhel96-fc-01-win2022-02", COMPLETED, FAIL, ["1 of 2 spec(s) failed"], [
        (HOSTS[0], PASS, []), (HOSTS[1], PASS, [])])])
    second.all_passed, second.failed_specs, second.problems = True, None, ["crash"]
    assert d.decide(evidence(runs=[first, second])).subruns[0].reasons == ["crash"]
    second.problems, second.totals = [], ZERO
    first.totals = ZERO
    assert d.decide(evidence(runs=[first, second])).subruns[0].reasons == [
        "zero tests ran although Cypress printed 'All specs passed!'"]


def test_several_runs_of_a_plain_request_after_one_that_did_not_finish():
    first, second = unfinished(finished_run(0, hosts=HOSTS[:1])), finished_run(1, hosts=HOSTS[1:])
    verdict = d.decide(evidence(runs=[first, second]))
    assert outline(verdict) == (FAILED, FAIL, ["1 Cypress run(s) ended without their (Run Finished) table"], [
        ("rhel96-fc-01-win2022-02", FAILED, FAIL, [d.NOT_FINISHED], [(HOSTS[0], PASS, []), (HOSTS[1], PASS, [])])])


def test_merge_runs_sees_every_run():
    a, b, c = finished_run(0, hosts=HOSTS[:1], label="first"), finished_run(1, hosts=HOSTS[1:]), finished_run(2, hosts=())
    a.failed_specs, b.total_specs, c.total_specs = 2, None, 4
    b.totals = Counts(1, None, 1, 0, 0)
    b.spec_results = [SpecRow(spec=spec(HOSTS[1]), status="failed")]
    b.run_url, c.recorded_run_url, c.run_url = None, "http://127.0.0.1:8080/run/3", "http://127.0.0.1:8080/x"
    b.crashed, c.plugin_error, a.canceled, b.no_specs = True, True, True, True
    a.problems, c.problems = ["p1"], ["p3"]
    c.current_spec = "cypress/e2e/last.cy.ts"
    merged = d._merge_runs([a, b, c])
    assert (merged.index, merged.label, merged.label_source) == (0, "first", "marker")
    assert (merged.started, merged.finished, merged.all_passed) == (True, True, True)
    assert (merged.failed_specs, merged.total_specs) == (2, 5)
    assert merged.totals == Counts(4, 3, 1, 0, 0)
    assert merged.specs_found == [spec(HOSTS[0]), spec(HOSTS[1])] and merged.specs_run == merged.specs_found
    assert merged.spec_results == b.spec_results
    assert [r.spec for r in merged.finished_rows] == [spec(HOSTS[0]), spec(HOSTS[1])]
    assert merged.problems == ["p1", "p3"]
    assert merged.run_url == "http://127.0.0.1:8080/run/3"
    assert merged.current_spec == "cypress/e2e/last.cy.ts"
    assert (merged.crashed, merged.plugin_error, merged.canceled, merged.no_specs) == (True, True, True, True)
    b.all_passed, c.started, c.finished = None, False, False
    merged = d._merge_runs([a, b, c])
    assert (merged.started, merged.finished, merged.all_passed) == (False, False, None)
    b.all_passed, c.all_passed = False, True
    assert d._merge_runs([a, b, c]).all_passed is False
    for run in (a, b, c):
        run.crashed = run.plugin_error = run.canceled = run.no_specs = False
    a.crashed, b.plugin_error, c.canceled, a.no_specs = True, True, True, True
    merged = d._merge_runs([a, b, c])
    assert (merged.crashed, merged.plugin_error, merged.canceled, merged.no_specs) == (True, True, True, True)
    a.crashed = b.plugin_error = c.canceled = a.no_specs = False
    c.no_specs = True
    merged = d._merge_runs([a, b, c])
    assert (merged.crashed, merged.plugin_error, merged.canceled, merged.no_specs) == (False, False, False, True)
    assert d._merge_runs([b]) is b


# ---------------------------------------------------------------------------------------------- no runs

@pytest.mark.parametrize("kw, expected", [
    (dict(log_exists=False, exit=ExitInfo(known=False, running=False)),
     (UNKNOWN, UNKNOWN, ["no runner log and no exit status: the run never started"], [])),
    (dict(log_exists=False, exit=ExitInfo(known=True, running=False, signal=9)),
     (TERMINATED, UNKNOWN, ["the runner was killed by signal 9"], [])),
    (dict(exit=ExitInfo(known=True, running=False, exit_code=2)),
     (FAILED, FAIL, ["no Cypress run found in the runner log (exit code 2)"], [])),
    (dict(log_exists=False, exit=ExitInfo(known=True, running=False, exit_code=0)),
     (FAILED, FAIL, ["no Cypress run found in the runner log (exit code 0)"], [])),
    (dict(exit=ExitInfo(known=False, running=False)), (UNKNOWN, UNKNOWN, ["no Cypress run found in the runner log"], [])),
    (dict(runner_over=False, exit=ExitInfo()), (RUNNING, RUN, [], [])),
    (dict(cancelled=True), (CANCELLED, UNKNOWN, ["cancelled (cancellation marker)"], [])),
    (dict(hung=True, runner_over=False, exit=ExitInfo()), (HUNG, UNKNOWN, ["no progress for the hang timeout"], [])),
])
def test_no_runs(kw, expected):
    assert outline(d.decide(evidence(runs=[], **kw))) == expected


def test_evidence_defaults_are_a_live_runner_with_a_log():
    assert outline(d.decide(d.Evidence(runs=[]))) == (RUNNING, RUN, [], [])
    ev = d.Evidence(runs=[], runner_over=True, exit=ExitInfo(known=False, running=False))
    assert d.request_state(ev) == (UNKNOWN, ["no Cypress run found in the runner log"])
    assert (ev.offline, ev.log_exists, ev.cancelled, ev.hung, ev.categorized) == (False, True, False, False, False)


# ---------------------------------------------------------------------------------------------- request state

EXIT0 = ExitInfo(known=True, running=False, exit_code=0)


@pytest.mark.parametrize("exit_info, finished, expected", [
    (EXIT0, True, (COMPLETED, [])),
    (EXIT0, False, (FAILED, ["1 Cypress run(s) ended without their (Run Finished) table"])),
    (ExitInfo(known=True, running=False, exit_code=2), True, (FAILED, ["the runner exited with code 2"])),
    (ExitInfo(known=True, running=False, exit_code=2), False,
     (FAILED, ["the runner exited with code 2", "1 Cypress run(s) ended without their (Run Finished) table"])),
    (ExitInfo(known=True, running=False), True, (FAILED, [])),
    (ExitInfo(known=True, running=False, signal=15, detail="oom-kill"), True,
     (TERMINATED, ["the runner was stopped by signal 15 (oom-kill)"])),
    (ExitInfo(known=True, running=False, signal=15), True, (TERMINATED, ["the runner was stopped by signal 15 (from outside)"])),
    (ExitInfo(known=False, running=False), True, (COMPLETED, [])),
    (ExitInfo(known=False, running=False), False,
     (TERMINATED, ["the runner ended without an exit status while a Cypress run was unfinished"])),
])
def test_request_state(exit_info, finished, expected):
    runs = [finished_run(0), finished_run(1)]
    if not finished:
        unfinished(runs[1])
    assert d.request_state(evidence(runs=runs, exit=exit_info)) == expected


def test_request_state_unfinished_run_with_problems_and_no_exit_status_failed():
    runs = [unfinished(finished_run(0)), unfinished(finished_run(1))]
    runs[1].problems = ["crash"]
    assert d.request_state(evidence(runs=runs, exit=ExitInfo(known=False, running=False))) == (
        FAILED, ["2 Cypress run(s) ended without their (Run Finished) table"])


def test_request_known_without_exit_code_or_signal_is_failed_and_never_pass():
    ev = evidence(runs=categorized_runs(), artifacts=ALL3, inventory=INV3, categorized=True,
                  exit=ExitInfo(known=True, running=False))
    verdict = d.decide(ev)
    assert (verdict.state, verdict.result) == (FAILED, FAIL)
    assert [s.result for s in verdict.subruns] == [PASS, PASS, PASS]


@pytest.mark.parametrize("runs, expected", [
    ([True], (COMPLETED, [])),
    ([False, True], (FAILED, ["1 Cypress run(s) ended without their (Run Finished) table"])),
    ([True, "plugin"], (FAILED, ["1 Cypress run(s) ended without their (Run Finished) table"])),
    ([False, "no_specs"], (FAILED, ["2 Cypress run(s) ended without their (Run Finished) table"])),
    ([False, True, True], (FAILED, ["1 Cypress run(s) ended without their (Run Finished) table"])),
    ([True, False], (RUNNING, [])),
    ([], (RUNNING, [])),
])
def test_offline_request_state_from_the_log_alone(runs, expected):
    built = []
    for i, how in enumerate(runs):
        run = finished_run(i)
        if how is not True:
            unfinished(run)
        if how == "plugin":
            run.plugin_error = True
        if how == "no_specs":
            run.no_specs = True
        built.append(run)
    assert d.request_state(evidence(runs=built, offline=True, runner_over=False, exit=ExitInfo())) == expected
    # a live runner (not offline) is running whatever its log says
    assert d.request_state(evidence(runs=built, runner_over=False, exit=ExitInfo())) == (RUNNING, [])


def test_offline_plugin_error_fails_the_subrun():
    runs = categorized_runs()
    unfinished(runs[2]).plugin_error = True
    runs[2].problems = ["An error was thrown in your plugins file while executing the handler for the after:run event."]
    ev = evidence(runs=runs, artifacts=ALL3, inventory=INV3, categorized=True, offline=True, runner_over=False, exit=ExitInfo())
    verdict = d.decide(ev)
    assert [(s.state, s.result) for s in verdict.subruns] == [(COMPLETED, PASS), (COMPLETED, PASS), (FAILED, FAIL)]
    runs[2].plugin_error, runs[2].no_specs = False, True
    assert d.decide(ev).subruns[2].state == FAILED
    runs[2].no_specs = False
    assert d.decide(ev).subruns[2].state == RUNNING
    ev.offline = False
    runs[2].plugin_error = True
    assert d.decide(ev).subruns[2].state == RUNNING


# ---------------------------------------------------------------------------------------------- categorized, every state

def cat(**kw):
    base = dict(runs=categorized_runs(), artifacts=ALL3, inventory=INV3, categorized=True)
    base.update(kw)
    return d.Evidence(**dict(dict(exit=ExitInfo(known=True, running=False, exit_code=0), runner_over=True), **base))


def states(verdict):
    return [(s.state, s.result) for s in verdict.subruns]


def test_categorized_running_request():
    runs = categorized_runs()
    unfinished(runs[2])
    verdict = d.decide(cat(runs=runs, runner_over=False, exit=ExitInfo()))
    assert (verdict.state, verdict.result) == (RUNNING, RUN)
    assert states(verdict) == [(COMPLETED, PASS), (COMPLETED, PASS), (RUNNING, RUN)]
    # every sub-run finished but the runner still alive: still not PASS
    verdict = d.decide(cat(runner_over=False, exit=ExitInfo()))
    assert (verdict.state, verdict.result) == (RUNNING, RUN)
    assert states(verdict) == [(COMPLETED, PASS)] * 3


def test_categorized_hung_request():
    runs = categorized_runs()
    unfinished(runs[2])
    verdict = d.decide(cat(runs=runs, hung=True, runner_over=False, exit=ExitInfo()))
    assert (verdict.state, verdict.result, verdict.reasons) == (HUNG, FAIL, ["no progress for the hang timeout"])
    assert states(verdict) == [(COMPLETED, PASS), (COMPLETED, PASS), (HUNG, FAIL)]
    assert verdict.subruns[2].reasons == [d.NOT_FINISHED]
    # hung after the last table: nothing failed, but it is no PASS either
    verdict = d.decide(cat(hung=True, runner_over=False, exit=ExitInfo()))
    assert (verdict.state, verdict.result) == (HUNG, UNKNOWN)
    assert states(verdict) == [(COMPLETED, PASS)] * 3
    # only the last sub-run can hang; an earlier unfinished one failed
    runs = categorized_runs()
    unfinished(runs[1])
    assert states(d.decide(cat(runs=runs, hung=True, runner_over=False, exit=ExitInfo())))[1] == (FAILED, FAIL)


def test_categorized_cancelled_request():
    verdict = d.decide(cat(cancelled=True))
    assert (verdict.state, verdict.result, verdict.reasons) == (CANCELLED, UNKNOWN, ["cancelled (cancellation marker)"])
    assert states(verdict) == [(CANCELLED, UNKNOWN)] * 3
    stopped = ExitInfo(known=True, running=False, exit_code=143)
    verdict = d.decide(cat(cancelled=True, exit=stopped))
    assert (verdict.state, verdict.result) == (CANCELLED, FAIL)
    assert states(verdict) == [(CANCELLED, UNKNOWN), (CANCELLED, UNKNOWN), (CANCELLED, FAIL)]
    assert verdict.subruns[2].reasons == ["the runner exited with code 143"]
    arts = copy.deepcopy(ALL3)
    arts[0].status = "FAIL"
    verdict = d.decide(cat(cancelled=True, artifacts=arts, exit=stopped))
    assert states(verdict) == [(CANCELLED, FAIL), (CANCELLED, UNKNOWN), (CANCELLED, UNKNOWN)]


@pytest.mark.parametrize("exit_info, state, reason", [
    (ExitInfo(known=True, running=False, signal=9), TERMINATED, "the runner was killed by signal 9"),
    (ExitInfo(known=True, running=False, exit_code=3), FAILED, "the runner exited with code 3"),
])
def test_categorized_exit_bears_on_the_last_subrun(exit_info, state, reason):
    verdict = d.decide(cat(exit=exit_info))
    assert states(verdict) == [(COMPLETED, PASS), (COMPLETED, PASS), (state, FAIL)]
    assert verdict.subruns[2].reasons == [reason]
    assert verdict.result == FAIL


@pytest.mark.parametrize("exit_info, problems, state", [
    (ExitInfo(known=True, running=False, signal=9), [], TERMINATED),
    (ExitInfo(known=True, running=False, exit_code=0), [], FAILED),
    (ExitInfo(known=False, running=False), ["crash"], FAILED),
    (ExitInfo(known=False, running=False), [], TERMINATED),
])
def test_categorized_last_subrun_that_did_not_finish(exit_info, problems, state):
    runs = categorized_runs()
    unfinished(runs[2]).problems = problems
    verdict = d.decide(cat(runs=runs, exit=exit_info))
    assert states(verdict) == [(COMPLETED, PASS), (COMPLETED, PASS), (state, FAIL)]
    assert verdict.subruns[2].reasons[0] == d.NOT_FINISHED


def test_categorized_signal_is_never_explained_by_an_earlier_failure():
    arts = copy.deepcopy(ALL3)
    arts[0].status = "FAIL"
    verdict = d.decide(cat(artifacts=arts, exit=ExitInfo(known=True, running=False, signal=9)))
    assert states(verdict) == [(COMPLETED, FAIL), (COMPLETED, PASS), (TERMINATED, FAIL)]


def test_categorized_artifacts_without_a_reporter_directory():
    verdict = d.decide(cat(artifacts=None))
    assert states(verdict) == [(COMPLETED, UNKNOWN)] * 3
    assert verdict.result == UNKNOWN


# ---------------------------------------------------------------------------------------------- categorized hosts

WINDOWS = {0: 1000.0, 1: 2000.0, 2: 3000.0}  # when each sub-run started


def windowed(artifacts):
    arts = copy.deepcopy(artifacts)
    for i, art in enumerate(arts):
        art.mtime = WINDOWS[i] + 500.0
    return arts


@pytest.mark.parametrize("mtime, owner", [
    (1500.0, 0), (1997.9, 0), (1998.0, 1), (2500.0, 1), (2998.0, 2), (5000.0, 2), (997.9, None), (998.0, 0),
])
def test_categorized_artifact_no_spec_names_belongs_to_the_subrun_it_was_written_in(mtime, owner):
    stray = artifact("sles15-04", "FAIL", mtime=mtime)
    ev = cat(artifacts=windowed(ALL3) + [stray], not_before=dict(WINDOWS), run_not_before=1000.0)
    verdict = d.decide(ev)
    holders = [i for i, s in enumerate(verdict.subruns) if any(h.host == "sles15-04" for h in s.hosts)]
    assert holders == ([] if owner is None else [owner])
    assert [s.result for s in verdict.subruns] == [FAIL if i == owner else PASS for i in range(3)]


def test_categorized_artifact_of_a_host_another_subrun_ran_stays_there():
    late = artifact("rhel96-fc-01", "FAIL", mtime=2500.0)  # written in sub-run 1's window, host of sub-run 0
    late.path = "/r/rhel96-fc-01-late.json"
    ev = cat(artifacts=windowed(ALL3) + [late], not_before=dict(WINDOWS), run_not_before=1000.0)
    verdict = d.decide(ev)
    assert [[h.host for h in s.hosts] for s in verdict.subruns] == [["rhel96-fc-01"], ["win2022-02"], ["ol8-03"]]
    assert states(verdict) == [(COMPLETED, FAIL), (COMPLETED, PASS), (COMPLETED, PASS)]


def test_categorized_subrun_window_starts_two_seconds_early():
    arts = windowed(ALL3)
    arts[1].mtime = 1998.0
    assert host_of(d.decide(cat(artifacts=arts, not_before=dict(WINDOWS))), "win2022-02", 1).result == PASS
    arts[1].mtime = 1997.9
    assert host_of(d.decide(cat(artifacts=arts, not_before=dict(WINDOWS))), "win2022-02", 1).result == MISSING


def test_categorized_expected_host_that_never_ran_is_missing_in_the_last_subrun():
    runs = categorized_runs()[:2]
    arts = [artifact("rhel96-fc-01"), artifact("win2022-02")]
    verdict = d.decide(cat(runs=runs, artifacts=arts, expected_hosts=["win2022-02", "ol8-03"]))
    assert outline(verdict) == (COMPLETED, FAIL, ["expected host(s) never ran: ol8-03"], [
        ("linux", COMPLETED, PASS, [], [("rhel96-fc-01", PASS, [])]),
        ("windows", COMPLETED, FAIL, [], [("win2022-02", PASS, []),
                                          ("ol8-03", MISSING, ["no reporter artifact newer than the run's start"])])])
    # decided from the log alone (no exit status), the same
    verdict = d.decide(cat(runs=runs, artifacts=arts, expected_hosts=["ol8-03"], offline=True, runner_over=False,
                           exit=ExitInfo()))
    assert (verdict.state, verdict.result, states(verdict)) == (COMPLETED, FAIL, [(COMPLETED, PASS), (COMPLETED, FAIL)])
    assert [h.host for h in verdict.subruns[1].hosts] == ["win2022-02", "ol8-03"]
    # while the runner runs, a later sub-run may still bring it
    unfinished(runs[1])
    verdict = d.decide(cat(runs=runs, artifacts=arts, expected_hosts=["ol8-03"], runner_over=False, exit=ExitInfo()))
    assert [[h.host for h in s.hosts] for s in verdict.subruns] == [["rhel96-fc-01"], ["win2022-02"]]
    assert (verdict.state, verdict.result, verdict.reasons) == (RUNNING, RUN, [])


def test_categorized_expected_hosts_that_ran_are_not_repeated():
    verdict = d.decide(cat(expected_hosts=["ol8-03", "rhel96-fc-01"]))
    assert [[h.host for h in s.hosts] for s in verdict.subruns] == [["rhel96-fc-01"], ["win2022-02"], ["ol8-03"]]
    assert (verdict.result, verdict.reasons) == (PASS, [])


def test_categorized_expected_host_named_but_without_artifact_is_said_at_the_request():
    verdict = d.decide(cat(artifacts=ALL3[:2], expected_hosts=["ol8-03"]))
    assert states(verdict) == [(COMPLETED, PASS), (COMPLETED, PASS), (COMPLETED, FAIL)]
    assert (verdict.result, verdict.reasons) == (FAIL, ["expected host(s) never ran: ol8-03"])


def test_plain_request_expected_hosts_are_not_repeated():
    verdict = d.decide(evidence(expected_hosts=[HOSTS[1], HOSTS[0]]))
    assert [h.host for h in verdict.subruns[0].hosts] == list(HOSTS)
    assert verdict.result == PASS


def test_later_subrun_started_fails_an_unfinished_one_even_when_the_runner_lives():
    runs = categorized_runs()
    unfinished(runs[0])
    verdict = d.decide(cat(runs=runs, runner_over=False, exit=ExitInfo()))
    assert states(verdict) == [(FAILED, FAIL), (COMPLETED, PASS), (COMPLETED, PASS)]
    assert (verdict.state, verdict.result) == (RUNNING, FAIL)


def test_two_artifacts_of_a_host_no_spec_names_make_one_host():
    extra = [artifact("ol8-03", mtime=1500.0), artifact("ol8-03", mtime=1600.0)]
    extra[1].path = "/r/ol8-03-b.json"
    verdict = d.decide(evidence(artifacts=[artifact(h) for h in HOSTS] + extra))
    assert [h.host for h in verdict.subruns[0].hosts] == list(HOSTS) + ["ol8-03"]
    stray = [artifact("sles15-04", mtime=2500.0), artifact("sles15-04", mtime=2600.0)]
    stray[1].path = "/r/sles15-04-b.json"
    verdict = d.decide(cat(artifacts=windowed(ALL3) + stray, not_before=dict(WINDOWS)))
    assert [h.host for h in verdict.subruns[1].hosts] == ["win2022-02", "sles15-04"]


def test_categorized_failed_request_owes_its_never_ran_hosts_to_the_last_subrun():
    verdict = d.decide(cat(runs=categorized_runs()[:2], artifacts=ALL3[:2], expected_hosts=["ol8-03"],
                           exit=ExitInfo(known=True, running=False, exit_code=2)))
    assert verdict.state == FAILED
    assert [(h.host, h.result) for h in verdict.subruns[1].hosts] == [("win2022-02", PASS), ("ol8-03", MISSING)]


def test_offline_fatal_preamble_does_not_fail_a_run_that_started():
    runs = categorized_runs()
    unfinished(runs[2])
    ev = cat(runs=runs, offline=True, runner_over=False, exit=ExitInfo(), preamble_fatal=True)
    assert states(d.decide(ev))[2] == (RUNNING, RUN)


# ---------------------------------------------------------------------------------------------- text lost to a rotation

LOST = "the runner log was truncated (copytruncate) while it ran"
LOST_REASON = LOST + ": its end is not in the log, so it is decided from its reporter artifacts and JUnit reports only"


def lost_runs():
    runs = categorized_runs()
    unfinished(runs[1]).text_lost = LOST
    return runs


def test_subrun_whose_end_was_lost_is_unknown_at_best_never_pass():
    verdict = d.decide(cat(runs=lost_runs()))
    assert states(verdict) == [(COMPLETED, PASS), (COMPLETED, UNKNOWN), (COMPLETED, PASS)]
    assert verdict.subruns[1].reasons == [LOST_REASON]
    arts = copy.deepcopy(ALL3)
    arts[1].status = "FAIL"
    verdict = d.decide(cat(runs=lost_runs(), artifacts=arts))
    assert states(verdict)[1] == (COMPLETED, FAIL)
    runs = lost_runs()
    runs[1].problems = ["We detected that the Electron Renderer process just crashed."]
    verdict = d.decide(cat(runs=runs))
    assert states(verdict)[1] == (COMPLETED, FAIL)
    assert verdict.subruns[1].reasons == ["We detected that the Electron Renderer process just crashed.", LOST_REASON]


def test_last_subrun_whose_end_was_lost():
    runs = categorized_runs()
    unfinished(runs[2]).text_lost = LOST
    assert states(d.decide(cat(runs=runs)))[2] == (COMPLETED, UNKNOWN)
    assert states(d.decide(cat(runs=runs, exit=ExitInfo(known=True, running=False, exit_code=1))))[2] == (FAILED, FAIL)
    assert states(d.decide(cat(runs=runs, exit=ExitInfo(known=False, running=False))))[2] == (TERMINATED, UNKNOWN)
    # a lost end with its table read after all: the table decides
    runs[2].finished, runs[2].all_passed, runs[2].totals = True, True, Counts(3, 3, 0, 0, 0)
    assert states(d.decide(cat(runs=runs)))[2] == (COMPLETED, PASS)
    # ... and the post notes what was lost (a note: not a reason against PASS)
    assert d.decide(cat(runs=runs)).subruns[2].reasons == [
        LOST + ": decided from its (Run Finished) table and its other evidence"]


# ---- what the log reader could not read one by one: never a PASS
@pytest.mark.parametrize("field, value, reason", [
    ("overflow", 5, "this sub-run stands for 5 more Cypress run(s) that the log holds beyond the ones read one by one"),
    ("dropped", 3, "3 spec entries of this run beyond what the log reader keeps were not read"),
])
def test_a_finished_passing_run_the_reader_did_not_read_whole_is_unknown(field, value, reason):
    run = finished_run()
    setattr(run, field, value)
    verdict = d.decide(evidence(runs=[run]))
    assert (verdict.state, verdict.result) == (COMPLETED, UNKNOWN)
    assert verdict.subruns[0].reasons == [reason]


def test_an_unfinished_run_among_interleaved_runs_is_unknown_not_fail():
    run = unfinished(finished_run())
    run.concurrent = True
    sub = d.decide(evidence(runs=[run], categorized=True)).subruns[0]
    assert (sub.result, sub.reasons) == (UNKNOWN, [d.INTERLEAVED])


def _failing(spec_name: str, failed: int) -> SpecRow:
    return SpecRow(spec=spec_name, status="failed", counts=Counts(failed + 1, 1, failed, 0, 0))


@pytest.mark.parametrize("rows, reason", [
    ([_failing("a.cy.ts", 2)], "2 test(s) failed in a.cy.ts"),
    ([_failing("", 1)], "1 test(s) failed in a spec"),
    ([_failing("s{0}.cy.ts".format(i), 1) for i in range(5)],
     "5 test(s) failed in 5 specs: s0.cy.ts, s1.cy.ts, s2.cy.ts, s3.cy.ts, s4.cy.ts"),
    ([_failing("s{0}.cy.ts".format(i), 1) for i in range(6)],
     "6 test(s) failed in 6 specs: s0.cy.ts, s1.cy.ts, s2.cy.ts, s3.cy.ts, s4.cy.ts, ..."),
])
def test_a_log_cut_before_its_table_says_which_specs_failed(rows, reason):
    run = unfinished(finished_run())
    run.spec_results = [SpecRow(spec="ok.cy.ts", status="passed", counts=Counts(1, 1, 0, 0, 0))] + rows
    assert d.log_reasons(run) == [d.NOT_FINISHED, reason]


@pytest.mark.parametrize("how, concurrent", [
    (["finished", "open+concurrent"], True),
    (["open+concurrent", "open+concurrent"], True),
    (["open+concurrent", "open"], False),
    (["finished+concurrent", "open"], False),
])
def test_runs_merged_into_one_are_interleaved_when_every_open_one_is(how, concurrent):
    runs = []
    for i, what in enumerate(how):
        run = finished_run(i)
        if "open" in what:
            unfinished(run)
        run.concurrent = "concurrent" in what
        runs.append(run)
    assert d._merge_runs(runs).concurrent is concurrent  # pylint: disable=protected-access


def test_offline_interleaved_runs_with_one_finished_are_unknown_and_counted():
    """From the log alone: interleaved runs, one finished, the others showing no end: UNKNOWN (the
    reader cannot tell), counting only the interleaved runs."""
    alone, first, second, third = finished_run(0), unfinished(finished_run(1)), finished_run(2), unfinished(finished_run(3))
    first.concurrent = second.concurrent = third.concurrent = True
    ev = evidence(runs=[alone, first, second, third], offline=True, runner_over=False, exit=ExitInfo())
    assert d.request_state(ev) == (
        UNKNOWN, ["the log interleaves the output of 3 Cypress runs and shows no end of 2 of them"])

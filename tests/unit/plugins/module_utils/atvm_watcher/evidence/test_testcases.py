# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Per-test results of a (sub-)run over its sources (evidence/testcases.py): real JUnit and mochawesome
files of the corpus, and runs of the Cypress run simulator (console and JUnit of the same run)."""
from __future__ import annotations

import os
import pathlib

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import testcases
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.junit import read_junit, scan_junit_dir
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.mochawesome import read_mochawesome
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.testlines import console_tests_of
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import Counts
from ansible_collections.atvm.watcher.tests.support import cypress_sim

CORPUS = pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "cypress"
HOSTS = "rhel96-fc-01,ubuntu2204-01"
SPEC = "cypress/e2e/migration/{0}.cy.ts"


def simulate(tmp_path, *extra, name="run"):
    """A run of the simulator: its console (scanned) and its JUnit reports."""
    out = tmp_path / name
    out.mkdir()
    log = out / "runner.log"
    assert cypress_sim.main(["--hosts", HOSTS, "--tests-per-spec", "4", "--log", str(log), "--junit-dir",
                             str(out / "results")] + list(extra)) in (0, 1)
    return console_tests_of(log.read_bytes()).specs, scan_junit_dir(str(out / "results"))


def by_title(found):
    return {(os.path.basename(t.spec), t.title.split(" ", 3)[-1]): (t.state, t.says) for t in found.tests}


def test_console_and_junit_of_one_run_agree_and_name_each_test_once(tmp_path):
    console, junit = simulate(tmp_path, "--fail", "ubuntu2204-01")
    found = testcases.run_tests([], Counts(8, 7, 1, 0, 0), junit=junit, console=console)
    assert found.known and found.why == "" and found.sources == ["JUnit", "console"]
    assert len(found.tests) == 8 and found.disagreements == []
    failed = found.by_state("failed")
    assert [(t.spec, t.title, t.says) for t in failed] == [
        (SPEC.format("ubuntu2204-01"), "Migration of ubuntu2204-01 creates the migration plan",
         {"JUnit": "failed", "console": "failed"})]
    # the console names the spec relative to the common folder; the report's path is the one kept
    assert {t.spec for t in found.tests} == {SPEC.format("rhel96-fc-01"), SPEC.format("ubuntu2204-01")}


def test_a_retry_only_the_console_saw_makes_the_test_flaky_not_a_disagreement(tmp_path):
    console, junit = simulate(tmp_path, "--flaky", "ubuntu2204-01")
    found = testcases.run_tests([], Counts(8, 8, 0, 0, 0), junit=junit, console=console)
    assert [(t.title, t.says) for t in found.by_state("flaky")] == [
        ("Migration of ubuntu2204-01 creates the migration plan", {"JUnit": "passed", "console": "flaky"})]
    assert found.known and found.disagreements == []


def test_sources_that_disagree_are_reported_and_never_merged_into_a_pass(tmp_path):
    console, _junit = simulate(tmp_path, "--fail", "ubuntu2204-01", name="failing")
    _console, junit = simulate(tmp_path, name="passing")  # a report that says every test passed
    found = testcases.run_tests([], Counts(8, 7, 1, 0, 0), junit=junit, console=console)
    [disagreement] = found.disagreements
    assert disagreement.state == "failed"
    assert disagreement.says == {"JUnit": "passed", "console": "failed"}
    assert found.summary()["disagreements"] == [disagreement.to_dict()]


def test_a_report_that_says_failed_wins_over_a_console_that_says_passed(tmp_path):
    _console, junit = simulate(tmp_path, "--fail", "ubuntu2204-01", name="failing")
    console, _junit = simulate(tmp_path, name="passing")
    [disagreement] = testcases.run_tests([], None, junit=junit, console=console).disagreements
    assert disagreement.says == {"JUnit": "failed", "console": "passed"} and disagreement.state == "failed"


def test_too_few_tests_named_is_no_per_test_result(tmp_path):
    console, junit = simulate(tmp_path, "--fail", "ubuntu2204-01")
    found = testcases.run_tests([], Counts(9, 7, 2, 0, 0), junit=junit, console=console)
    assert not found.known and found.why == "the reports name 1 of its 2 failed tests"
    found = testcases.run_tests([], Counts(12, 11, 1, 0, 0), junit=junit, console=console)
    assert not found.known and found.why == "the reports name 7 of its 11 passed tests"
    nothing = testcases.run_tests([], Counts(8, 8, 0, 0, 0))
    assert not nothing.known and nothing.tests == []
    assert nothing.why == "no JUnit report, mochawesome report or test list in the log names its tests"


def test_a_categorized_sub_run_takes_the_tests_of_its_own_specs_only(tmp_path):
    console, junit = simulate(tmp_path, "--fail", "ubuntu2204-01")
    found = testcases.run_tests([SPEC.format("rhel96-fc-01")], None, junit=junit, console=console)
    assert {t.spec for t in found.tests} == {SPEC.format("rhel96-fc-01")} and len(found.tests) == 4


def test_reports_older_than_the_run_belong_to_an_earlier_run(tmp_path):
    _console, junit = simulate(tmp_path)
    newest = max(r.mtime for r in junit)
    assert testcases.run_tests([], None, junit=junit, not_before=newest + 60).tests == []
    assert len(testcases.run_tests([], None, junit=junit, not_before=newest).tests) == 8


def test_real_junit_report_full_titles_and_windows_paths():
    report = read_junit(str(CORPUS / "junit" / "cy13-four-tests-two-failures-windows-path.xml"))
    found = testcases.run_tests([], Counts(4, 2, 2, 0, 0), junit=[report])
    assert found.known
    assert [(t.spec, t.title, t.state) for t in found.tests] == [
        ("cypress/e2e/vendor-journey.cy.js", "Vendor Journey should complete vendor registration", "passed"),
        ("cypress/e2e/vendor-journey.cy.js", "Vendor Journey should add new property listing", "passed"),
        ("cypress/e2e/vendor-journey.cy.js", "Vendor Journey should manage property listings", "failed"),
        ("cypress/e2e/vendor-journey.cy.js", "Vendor Journey should view earnings dashboard", "failed"),
    ]


def test_real_merged_junit_report_of_four_specs():
    report = read_junit(str(CORPUS / "junit" / "junit-merge-four-specs-cy6-integration.xml"))
    found = testcases.run_tests(["cypress/integration/tests/hooks.spec.js"], None, junit=[report])
    assert [t.title for t in found.tests] == ["different types of hooks open facebook.com",
                                              "different types of hooks open google.com"]


def test_real_mochawesome_reports_pending_is_skipped_and_a_failed_hook_is_a_test():
    report = read_mochawesome(str(CORPUS / "mochawesome" / "cy13-one-pending-two-passing-windows-path.json"))
    found = testcases.run_tests([], None, mochawesome=[report])
    assert found.sources == ["mochawesome"]
    assert sorted(t.state for t in found.tests) == ["failed", "passed", "passed", "skipped"]
    assert {t.spec for t in found.tests} == {"cypress/tests/v2/api/test1.spec.js"}
    hook = read_mochawesome(str(CORPUS / "mochawesome" / "cy12-before-all-hook-failure-zero-suites.json"))
    [test] = testcases.run_tests([], None, mochawesome=[hook]).tests
    assert test.state == "failed" and test.spec == "cypress/e2e/parallelplot.cy.ts"


def test_the_same_title_twice_in_a_spec_is_told_apart_by_its_occurrence():
    console = console_tests_of((CORPUS / "stdout" / "cy9-jenkins-two-specs-one-failing.log").read_bytes()).specs
    found = testcases.run_tests([], Counts(12, 1, 11, 0, 0), console=console)
    titles = [t.title for t in found.tests if t.spec == "1-my-tests/api/users.spec.js"]
    assert titles[:3] == ["Test de endpoints Endpoint user creation", "Test de endpoints Endpoint user creation [2]",
                          "Test de endpoints Endpoint user creation [3]"]
    assert len(set(titles)) == 11 and found.known


def test_the_meta_spec_is_no_test_of_the_suite(tmp_path):
    out = tmp_path / "meta"
    assert cypress_sim.main(["--hosts", HOSTS, "--junit-dir", str(out), "--junit-meta-only", "--log",
                             str(tmp_path / "log")]) == 0
    found = testcases.run_tests([], None, junit=scan_junit_dir(str(out)))
    assert found.tests == [] and not found.known

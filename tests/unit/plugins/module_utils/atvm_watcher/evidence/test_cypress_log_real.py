# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cypress logs written by other people (fixtures/cypress/stdout-real*, sources in each PROVENANCE.md).

Each expectation below is what a careful reader of the log says of it: did the run finish, its
totals (tests, passing, failing, pending, skipped of the (Run Finished) summary), did anything fail,
and why the result is not PASS; the failure texts found before any run; and what the offline verdict
says of the whole log (no exit code, no reporter directory: a run that passed is UNKNOWN, never PASS).
They were written from reading the logs.
"""
from __future__ import annotations

import codecs
import pathlib
from typing import Dict, List, NamedTuple, Optional, Tuple

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.rules import (
    NOT_FINISHED, Evidence, decide, log_reasons,
)
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser, parse_log_file

FIXTURES = pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "cypress"
REAL = FIXTURES / "stdout-real"
WITH_BOM = ("real-08.log", "real-12.log")  # stored without the UTF-8 BOM of their source (PROVENANCE.md)
Totals = Optional[Tuple[int, int, int, int, int]]
Run = Tuple[bool, Totals, Optional[Tuple[int, int]], List[str]]


class Reading(NamedTuple):
    """What a careful reader says of a log."""

    runs: List[Run]  # (finished, totals, failed specs / specs (None when not finished), reasons), in log order
    verdict: Tuple[str, str]  # the offline verdict's state and result
    preamble: List[str] = []  # failure texts before any run


COMPLETED_FAIL = ("COMPLETED", "FAIL")
COMPLETED_NOT_FAILED = ("COMPLETED", "UNKNOWN")  # no host source offline: never PASS, nothing failed
RUNNING = ("RUNNING", "RUN")
FAILED = ("FAILED", "FAIL")

READING: Dict[str, Reading] = {
    # Cypress 10.1 component test: 1 spec, 3 tests passing, "All specs passed!".
    "stdout-real/real-01.log": Reading([(True, (3, 3, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # A README excerpt cut with "..." after the (Results) box (6 of 6 passing): no (Run Finished) table.
    "stdout-real/real-02.log": Reading([(False, None, None, [NOT_FINISHED])], RUNNING),
    # Two specs, 32 + 134 tests, all passing; XDG_RUNTIME_DIR / Vulkan noise in between is not a failure.
    "stdout-real/real-03.log": Reading([(True, (166, 166, 0, 0, 0), (0, 2), [])], COMPLETED_NOT_FAILED),
    "stdout-real/real-04.log": Reading([(True, (1, 1, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # PowerShell ">" output: UTF-16 LE with BOM, CRLF, glyphs mangled through CP850 (Ôöé, ├ù): 2 tests, both failing.
    "stdout-real/real-05.log": Reading([(True, (2, 0, 2, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    # 16 specs (list wrapped and cut in the banner), 15 failing, 1 passing; spec names wrapped in the table.
    "stdout-real/real-06.log": Reading([(True, (16, 1, 15, 0, 0), (15, 16), ["15 of 16 spec(s) failed"])],
                                       COMPLETED_FAIL),
    # 7 tests, 6 passing, 1 failing (cy.task not registered), "×" glyphs.
    "stdout-real/real-07.log": Reading([(True, (7, 6, 1, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    # UTF-8 BOM, PowerShell NativeCommandError noise, CP437 mangling (Γöé): before-all hook failure, 71 skipped.
    "stdout-real/real-08.log": Reading([(True, (72, 0, 1, 0, 71), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    # Cut while its only spec runs: no results, no table.
    "stdout-real/real-09.log": Reading([(False, None, None, [NOT_FINISHED])], RUNNING),
    # Cypress 15.15, 14 specs, 13 failing; 128 tests, 49 passing, 65 failing, 14 skipped.
    "stdout-real/real-10.log": Reading([(True, (128, 49, 65, 0, 14), (13, 14), ["13 of 14 spec(s) failed"])],
                                       COMPLETED_FAIL),
    # A warning before the run ("We failed to trash ... will not affect the exit code") is not a failure.
    "stdout-real/real-11.log": Reading([(True, (71, 61, 10, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    "stdout-real/real-12.log": Reading([(True, (1, 0, 1, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    # CP850 mangling throughout (ÔêÜ for √): 5 specs, 10 tests, all passing.
    "stdout-real/real-13.log": Reading([(True, (10, 10, 0, 0, 0), (0, 5), [])], COMPLETED_NOT_FAILED),
    "stdout-real/real-14.log": Reading([(True, (6, 0, 1, 0, 5), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    "stdout-real/real-15.log": Reading([(True, (28, 0, 4, 0, 24), (4, 4), ["4 of 4 spec(s) failed"])], COMPLETED_FAIL),
    # start-server-and-test: 7 tests, 6 failing; after the table the wrapper says the command failed (exit 6).
    "stdout-real/real-16.log": Reading([(True, (7, 1, 6, 0, 0), (1, 1), [
        "1 of 1 spec(s) failed", "Error: Command failed with exit code 6: npm run cypress",
        "shortMessage: 'Command failed with exit code 6: npm run cypress',", "error Command failed with exit code 1."])],
        COMPLETED_FAIL),
    "stdout-real/real-17.log": Reading([(True, (17, 2, 11, 0, 4), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    # Two invocations pasted together: the first stops after its (Video) section (no table), the second passes.
    "stdout-real/real-18.log": Reading([(False, None, None, [NOT_FINISHED]), (True, (1, 1, 0, 0, 0), (0, 1), [])],
                                       FAILED),
    # Indented paste (the separator line too), no trailing spaces: 1 test passing.
    "stdout-real/real-19.log": Reading([(True, (1, 1, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # Only the (Run Finished) table was kept: the run finished, 2 of 2 specs failed (3 tests, 1 passing).
    "stdout-real/real-20.log": Reading([(True, (3, 1, 2, 0, 0), (2, 2), ["2 of 2 spec(s) failed"])], COMPLETED_FAIL),
    # Cypress 3.1.2: rows "│ ✔ spec", "├──┤" between rows, the summary "1 of 4 failed (25%)" without a glyph;
    # scoreboard.spec.js has 1 failing test of 7; 19 tests, 18 passing.
    "stdout-real2/real2-01.log": Reading([(True, (19, 18, 1, 0, 0), (1, 4), ["1 of 4 spec(s) failed"])],
                                         COMPLETED_FAIL),
    # Netlify "9:53:58 AM: " before every line, blank lines gone, the (Results) box cut out by the author;
    # Cypress 3.0.1, "All specs passed!" without a glyph: 1 test passing. D-Bus noise is not a failure.
    "stdout-real2/real2-02.log": Reading([(True, (1, 1, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # Cypress 6.3.0, one spec: its (Results) box says Failing 1 of 9, then the paste ends (no table).
    "stdout-real2/real2-03.log": Reading([(False, None, None, [
        NOT_FINISHED, "1 test(s) failed in westpack/web/kiwisaver/calculators/calculator.spec.js"])],
        ("RUNNING", "FAIL")),
    # Jenkins timestamps ("13:34:27 "): Cypress 3.6.0 could not start Xvfb; Maven says the command failed.
    "stdout-real2/real2-04.log": Reading([], FAILED, ["Xvfb exited with a non zero exit code."]),
    # saucectl, Cypress 4.9.0, "tput" noise: 5 tests passing, "All specs passed!".
    "stdout-real2/real2-05.log": Reading([(True, (5, 5, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # A README with two invocations: the first passes (1 test), the second is cut while its spec runs.
    "stdout-real2/real2-06.log": Reading([(True, (1, 1, 0, 0, 0), (0, 1), []), (False, None, None, [NOT_FINISHED])],
                                         RUNNING),
    # kubectl logs of one pod, Cypress 5.5.0: 1 test passing.
    "stdout-real2/real2-07.log": Reading([(True, (1, 1, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # yarn, Cypress 6.2.0 recorded to the dashboard: 1 test passing.
    "stdout-real2/real2-08.log": Reading([(True, (1, 1, 0, 0, 0), (0, 1), [])], COMPLETED_NOT_FAILED),
    # Cypress 12: the TypeScript config file cannot be loaded ("Your configFile is invalid"): nothing ran.
    "stdout-real2/real2-09.log": Reading([], FAILED, [
        "Your configFile is invalid: D:\\Programming\\Web\\RtEdit\\packages\\lib\\cypress.config.ts",
        "It threw an error when required, check the stack trace below:"]),
    # pnpm workspace prefix "packages/internet-header e2e: " on every line; Cypress 13.6.3 could not start Xvfb.
    "stdout-real2/real2-10.log": Reading([], FAILED, ["Xvfb exited with a non zero exit code."]),
    "stdout-real2/real2-11.log": Reading([], FAILED, ["Can't run because no spec files were found."]),
    # Cypress 3.6.1: the browser disconnects and never connects again: nothing ran.
    "stdout-real2/real2-12.log": Reading([], FAILED, [
        "The automation client disconnected. Cannot continue running tests.",
        "Timed out waiting for the browser to connect. Retrying...",
        "Timed out waiting for the browser to connect. Retrying again...",
        "The browser never connected. Something is wrong. The tests cannot run. Aborting..."]),
    # Out of memory: Node's heap ran out (the Config Manager, a GitHub Action, a Windows API suite): nothing ran.
    "stdout-found/found-01-oom-config-manager.log": Reading([], FAILED, [
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"]),
    "stdout-found/found-02-oom-github-action.log": Reading([], FAILED, [
        "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory"]),
    "stdout-found/found-03-oom-windows-api-suite.log": Reading([], FAILED, [
        "FATAL ERROR: Ineffective mark-compacts near heap limit Allocation failed - JavaScript heap out of memory"]),
    # A spec that webpack cannot compile (Cypress 13.3.1): the error, no run around it.
    "stdout-found/found-04-compile-error-windows.log": Reading([], FAILED, [
        "Oops...we found an error preparing this test file:"]),
    # The same during a run (Cypress 10.3.1): spec 2 of 3 cannot be compiled; the paste ends there.
    "stdout-found/found-05-compile-error-docker.log": Reading([(False, None, None, [
        NOT_FINISHED, "Oops...we found an error preparing this test file:"])], ("RUNNING", "FAIL")),
    # Component testing, Cypress 12.17.2: the banner (2 specs), then the paste ends: nothing failed yet.
    "stdout-found/found-06-component-banner-cut.log": Reading([(False, None, None, [NOT_FINISHED])], RUNNING),
    # Component testing: from inside a (Results) box, spec 3 of 4 passes its 2 tests, the next box is cut.
    "stdout-found/found-07-component-mid-run.log": Reading([(False, None, None, [NOT_FINISHED])], RUNNING),
    # Cypress 3: the renderer crashed in checkout/basic.spec.js, its (Results) box says Failing 1 (spaces tidied).
    "stdout-found/found-08-renderer-crash-cypress3.log": Reading([(False, None, None, [
        NOT_FINISHED, "1 test(s) failed in checkout/basic.spec.js"])], ("RUNNING", "FAIL"),
        ["We detected that the Chromium Renderer process just crashed."]),
    # CircleCI, Cypress 12.5.1: a renderer crash, then a plugin's after:spec handler throws.
    "stdout-found/found-09-renderer-crash-circleci-plugin-error.log": Reading([], FAILED, [
        "We detected that the Chromium Renderer process just crashed.",
        "An error was thrown in your plugins file while executing the handler for the after:spec event."]),
    # A renderer crash, then a (Results) box pasted at column 0 and cut: Failing 1.
    "stdout-found/found-10-renderer-crash-results-unindented.log": Reading([(False, None, None, [
        NOT_FINISHED, "1 test(s) failed in a spec"])], ("RUNNING", "FAIL"),
        ["We detected that the Chromium Renderer process just crashed."]),
    # Cypress 14.5.3, 1 spec: 3 tests, 1 passing, 2 failing; screenshot paths wrapped over two lines.
    "stdout-found/found-12-cy14-two-failing-whole-file.log": Reading(
        [(True, (3, 1, 2, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])], COMPLETED_FAIL),
    # Cypress 14.5.4: its only spec starts (node warnings before the banner), the file ends there.
    "stdout-found/found-13-cy14-cut-while-running-whole-file.log": Reading([(False, None, None, [NOT_FINISHED])], RUNNING),
}


def _totals(run) -> Totals:
    t = run.totals
    return None if t.tests is None else (t.tests, t.passed, t.failed, t.pending, t.skipped)


@pytest.mark.parametrize("folder", sorted({name.split("/")[0] for name in READING}))
def test_every_real_log_has_a_reading_and_a_provenance_line(folder):
    logs = sorted(p.name for p in (FIXTURES / folder).glob("*.log"))
    assert logs == sorted(name.split("/")[1] for name in READING if name.startswith(folder + "/"))
    provenance = (FIXTURES / folder / "PROVENANCE.md").read_text(encoding="utf-8")
    for name in logs:
        assert "`{0}` | ".format(name) in provenance and "https://github.com/" in provenance


def _check(parser: CypressLogParser, name: str) -> None:
    expected = READING[name]
    assert [(r.finished, _totals(r)) for r in parser.runs] == [(f, t if f else None) for f, t, _s, _r in expected.runs]
    assert parser.preamble_problems == expected.preamble
    for run, (_finished, _totals_read, failed, reasons) in zip(parser.runs, expected.runs):
        assert run.started
        if failed is not None:
            assert (run.failed_specs, run.total_specs) == failed
            assert run.all_passed is (failed[0] == 0)
        assert log_reasons(run) == reasons
    verdict = decide(Evidence(runs=list(parser.runs), preamble_problems=list(parser.preamble_problems),
                              preamble_fatal=parser.preamble_fatal, offline=True))
    assert (verdict.state, verdict.result) == expected.verdict


def source_bytes(name: str) -> bytes:
    """The log as its source has it."""
    data = (FIXTURES / name).read_bytes()
    return codecs.BOM_UTF8 + data if name.split("/")[1] in WITH_BOM else data


@pytest.mark.parametrize("name", sorted(READING))
def test_real_log_reads_as_a_careful_reader_reads_it(name, tmp_path):
    path = tmp_path / name.split("/")[1]
    path.write_bytes(source_bytes(name))
    _check(parse_log_file(str(path)), name)


@pytest.mark.parametrize("name", sorted(READING))
@pytest.mark.parametrize("chunk", [1, 3, 4096])
def test_real_log_reads_the_same_in_any_chunks(name, chunk):
    data = source_bytes(name)
    parser = CypressLogParser()
    for i in range(0, len(data), chunk):
        parser.feed(data[i:i + chunk])
    parser.finish()
    _check(parser, name)


def test_mangled_and_utf16_logs_keep_their_spec_names():
    run = parse_log_file(str(REAL / "real-05.log")).runs[0]
    assert run.cypress_version == "13.17.0"
    assert [(r.spec, r.status) for r in run.finished_rows] == [("create_doctor.cy.js", "failed")]
    run = parse_log_file(str(REAL / "real-13.log")).runs[0]
    assert [r.status for r in run.finished_rows] == ["passed"] * 5
    assert run.specs_found == ["create-pet.cy.js", "delete-pet.cy.js", "find-pet.cy.js", "get-pet.cy.js",
                               "update-pet.cy.js"]


def _names(runs) -> List[str]:
    return [r.spec for run in runs for r in run.finished_rows]


def test_wrapped_names_in_the_real_tables_are_joined():
    runs = parse_log_file(str(REAL / "real-06.log")).runs
    assert _names(runs)[0] == "survey_language_brazilian_portuguese_verify_test.cy.js"
    assert len(_names(runs)) == 16

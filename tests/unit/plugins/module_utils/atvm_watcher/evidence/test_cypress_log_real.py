# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cypress logs written by other people (fixtures/cypress/stdout-real, sources in its PROVENANCE.md).

Each expectation below is what a careful reader of the log says of it: did the run finish, its
totals (tests, passing, failing, pending, skipped of the (Run Finished) summary), did anything fail,
and why the result is not PASS. They were written from reading the logs.
"""
from __future__ import annotations

import codecs
import pathlib
from typing import List, Optional, Tuple

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser, parse_log_file
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.rules import NOT_FINISHED, log_reasons

REAL = pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "cypress" / "stdout-real"
WITH_BOM = ("real-08.log", "real-12.log")  # stored without the UTF-8 BOM of their source (PROVENANCE.md)
Totals = Optional[Tuple[int, int, int, int, int]]

# file: [(finished, totals, failed specs / specs, extra reasons)] one tuple per cypress run, in log order.
# failed specs: None when the run did not finish.
READING = {
    # Cypress 10.1 component test: 1 spec, 3 tests passing, "All specs passed!".
    "real-01.log": [(True, (3, 3, 0, 0, 0), (0, 1), [])],
    # A README excerpt cut with "..." after the (Results) box (6 of 6 passing): no (Run Finished) table.
    "real-02.log": [(False, None, None, [NOT_FINISHED])],
    # Two specs, 32 + 134 tests, all passing; XDG_RUNTIME_DIR / Vulkan noise in between is not a failure.
    "real-03.log": [(True, (166, 166, 0, 0, 0), (0, 2), [])],
    "real-04.log": [(True, (1, 1, 0, 0, 0), (0, 1), [])],
    # PowerShell ">" output: UTF-16 LE with BOM, CRLF, glyphs mangled through CP850 (Ôöé, ├ù): 2 tests, both failing.
    "real-05.log": [(True, (2, 0, 2, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])],
    # 16 specs (list wrapped and cut in the banner), 15 failing, 1 passing; spec names wrapped in the table.
    "real-06.log": [(True, (16, 1, 15, 0, 0), (15, 16), ["15 of 16 spec(s) failed"])],
    # 7 tests, 6 passing, 1 failing (cy.task not registered), "×" glyphs.
    "real-07.log": [(True, (7, 6, 1, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])],
    # UTF-8 BOM, PowerShell NativeCommandError noise, CP437 mangling (Γöé): before-all hook failure, 71 skipped.
    "real-08.log": [(True, (72, 0, 1, 0, 71), (1, 1), ["1 of 1 spec(s) failed"])],
    # Cut while its only spec runs: no results, no table.
    "real-09.log": [(False, None, None, [NOT_FINISHED])],
    # Cypress 15.15, 14 specs, 13 failing; 128 tests, 49 passing, 65 failing, 14 skipped.
    "real-10.log": [(True, (128, 49, 65, 0, 14), (13, 14), ["13 of 14 spec(s) failed"])],
    # A warning before the run ("We failed to trash ... will not affect the exit code") is not a failure.
    "real-11.log": [(True, (71, 61, 10, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])],
    "real-12.log": [(True, (1, 0, 1, 0, 0), (1, 1), ["1 of 1 spec(s) failed"])],
    # CP850 mangling throughout (ÔêÜ for √): 5 specs, 10 tests, all passing.
    "real-13.log": [(True, (10, 10, 0, 0, 0), (0, 5), [])],
    "real-14.log": [(True, (6, 0, 1, 0, 5), (1, 1), ["1 of 1 spec(s) failed"])],
    "real-15.log": [(True, (28, 0, 4, 0, 24), (4, 4), ["4 of 4 spec(s) failed"])],
    # start-server-and-test: 7 tests, 6 failing; after the table the wrapper says the command failed (exit 6).
    "real-16.log": [(True, (7, 1, 6, 0, 0), (1, 1), [
        "1 of 1 spec(s) failed", "Error: Command failed with exit code 6: npm run cypress",
        "shortMessage: 'Command failed with exit code 6: npm run cypress',", "error Command failed with exit code 1."])],
    "real-17.log": [(True, (17, 2, 11, 0, 4), (1, 1), ["1 of 1 spec(s) failed"])],
    # Two invocations pasted together: the first stops after its (Video) section (no table), the second passes.
    "real-18.log": [(False, None, None, [NOT_FINISHED]), (True, (1, 1, 0, 0, 0), (0, 1), [])],
    # Indented paste (the separator line too), no trailing spaces: 1 test passing.
    "real-19.log": [(True, (1, 1, 0, 0, 0), (0, 1), [])],
    # Only the (Run Finished) table was kept: the run finished, 2 of 2 specs failed (3 tests, 1 passing).
    "real-20.log": [(True, (3, 1, 2, 0, 0), (2, 2), ["2 of 2 spec(s) failed"])],
}


def _totals(run) -> Totals:
    t = run.totals
    return None if t.tests is None else (t.tests, t.passed, t.failed, t.pending, t.skipped)


def test_every_real_log_has_a_reading_and_a_provenance_line():
    logs = sorted(p.name for p in REAL.glob("*.log"))
    assert logs == sorted(READING)
    provenance = (REAL / "PROVENANCE.md").read_text(encoding="utf-8")
    for name in logs:
        assert "`{0}` | https://github.com/".format(name) in provenance


def _check(parser: CypressLogParser, name: str) -> None:
    expected = READING[name]
    assert len(parser.runs) == len(expected)
    assert parser.preamble_problems == []
    for run, (finished, totals, failed, reasons) in zip(parser.runs, expected):
        assert run.started
        assert run.finished is finished
        assert _totals(run) == (totals if finished else None)
        if failed is not None:
            assert (run.failed_specs, run.total_specs) == failed
            assert run.all_passed is (failed[0] == 0)
        assert log_reasons(run) == reasons


def source_bytes(name: str) -> bytes:
    """The log as its source has it."""
    data = (REAL / name).read_bytes()
    return codecs.BOM_UTF8 + data if name in WITH_BOM else data


@pytest.mark.parametrize("name", sorted(READING))
def test_real_log_reads_as_a_careful_reader_reads_it(name, tmp_path):
    path = tmp_path / name
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

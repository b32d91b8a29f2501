# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The console's tests of a run (evidence/testlines.py), read from real Cypress logs of the corpus."""
from __future__ import annotations

import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.testlines import (
    ConsoleTests, console_tests_of)

STDOUT = pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "cypress" / "stdout"


def _scan(name):
    return console_tests_of((STDOUT / name).read_bytes())


def test_three_specs_passed_failed_pending_with_their_full_titles():
    scan = _scan("cy15-three-specs-two-failing-one-pending.log")
    assert [(s.spec, s.complete, s.summary) for s in scan.specs] == [
        ("completar-cadastro.cy.ts", True, {"passing": 5}),
        ("criar-conta.cy.ts", True, {"passing": 1, "failing": 1}),
        ("submeter-proposta.cy.ts", True, {"passing": 2, "pending": 1, "failing": 1}),
    ]
    nested = scan.specs[1].tests
    # two describe levels, from the indentation, and from the failure details for the failed one
    assert [(t.state, t.full_title) for t in nested] == [
        ("failed", "Cria\u00e7\u00e3o de conta no sistema Cria\u00e7\u00e3o de conta com dados v\u00e1lidos "
                   "Teste para cria\u00e7\u00e3o de conta com dados v\u00e1lidos"),
        ("passed", "Cria\u00e7\u00e3o de conta no sistema Cria\u00e7\u00e3o de conta com dados v\u00e1lidos "
                   "Visita a p\u00e1gina inicial usando as credenciais do usu\u00e1rio na fixture"),
    ]
    assert nested[0].number == 1 and nested[0].full is not None
    assert [t.state for t in scan.specs[2].tests] == ["passed", "passed", "failed", "pending"]
    assert scan.specs[2].tests[3].title == "F-12 - submete definitivamente a proposta somente quando RUN_SUBMISSION=true"


def test_cypress_retries_are_counted_as_attempts():
    """(Attempt 1 of 2) lines before the final line of a retried test (Cypress 14, Windows glyphs)."""
    scan = _scan("cy14-windows-chrome-retries-18-failing.log")
    last = scan.specs[-1]
    assert last.complete and last.summary == {"passing": 10, "failing": 18}
    failed = [t for t in last.tests if t.state == "failed"]
    passed = [t for t in last.tests if t.state == "passed"]
    assert len(failed) == 18 and len(passed) == 10
    assert {t.attempts for t in failed} == {2} and {t.attempts for t in passed} == {1}
    assert not any(t.flaky for t in last.tests)
    # the first copy of the run in that log stops mid-spec: never complete
    assert not scan.specs[0].complete


def test_a_retry_that_passes_is_flaky():
    text = (b"  Running:  login.cy.ts                                              (1 of 1)\n\n\n"
            b"  Login\n    (Attempt 1 of 3) signs in\n    (Attempt 2 of 3) signs in\n"
            b"    \xe2\x9c\x93 signs in (1200ms)\n    \xe2\x9c\x93 signs out\n\n\n  2 passing (3s)\n\n\n  (Results)\n")
    spec = console_tests_of(text).specs[0]
    assert [(t.full_title, t.attempts, t.flaky) for t in spec.tests] == [
        ("Login signs in", 3, True), ("Login signs out", 1, False)]


def test_hook_failures_keep_their_mocha_titles():
    scan = _scan("cy11-recorded-hook-failures.log")
    assert [t.full_title for t in scan.specs[0].tests] == [
        'mocha behavior with multiple errors "before each" hook for "sample test"',
        'mocha behavior with multiple errors "after each" hook for "sample test"']


@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_chunks_split_anywhere_give_the_same_tests(chunk):
    data = (STDOUT / "cy12-seven-specs-one-failing.log").read_bytes()
    whole = console_tests_of(data)
    scan = ConsoleTests()
    for i in range(0, len(data), chunk):
        scan.feed(data[i:i + chunk])
    scan.finish()
    assert [(s.spec, s.offset, [(t.full_title, t.state) for t in s.tests]) for s in scan.specs] == [
        (s.spec, s.offset, [(t.full_title, t.state) for t in s.tests]) for s in whole.specs]
    assert sum(len(s.tests) for s in whole.specs) == 2 * 30


def test_offsets_are_the_parsers_so_each_run_gets_its_own_specs():
    """Fed the same bytes as the parser, the specs of run n lie between its start and run n+1's."""
    data = (STDOUT / "cy12-seven-specs-one-failing.log").read_bytes()  # the same run printed twice
    parser, scan = CypressLogParser(), ConsoleTests()
    parser.feed(data)
    scan.feed(data)
    parser.finish()
    scan.finish()
    assert len(parser.runs) == 2
    first = scan.between(parser.runs[0].start_offset, parser.runs[1].start_offset)
    second = scan.between(parser.runs[1].start_offset)
    assert [s.spec for s in first] == [s.spec for s in second] == [r.spec for r in parser.runs[0].finished_rows]


def test_a_gap_leaves_the_spec_being_read_incomplete():
    scan = ConsoleTests()
    scan.feed(b"  Running:  a.cy.ts                                              (1 of 1)\n\n  A\n    \xe2\x9c\x93 one\n")
    scan.gap("rotated")
    scan.feed(b"    \xe2\x9c\x93 two\n\n  2 passing (1s)\n\n  (Results)\n")
    scan.finish()
    assert [(s.complete, [t.title for t in s.tests]) for s in scan.specs] == [(False, ["one"])]


def test_outside_a_spec_nothing_is_taken_for_a_test():
    scan = console_tests_of(b"  \xe2\x9c\x93 not a test\n  1) nor this\n  - nor this\nDevTools listening\n")
    assert scan.specs == []


def test_a_line_longer_than_the_cap_is_cut_not_kept_whole():
    scan = ConsoleTests(line_cap=256)
    scan.feed(b"  Running:  a.cy.ts                                              (1 of 1)\n\n  A\n    \xe2\x9c\x93 "
              + b"x" * 1000)
    scan.feed(b"y" * 1000 + b"\n    \xe2\x9c\x93 two\n\n  2 passing (1s)\n\n  (Results)\n")
    scan.finish()
    titles = [t.title for t in scan.specs[0].tests]
    assert titles[1] == "two" and len(titles[0]) < 256 and "y" not in titles[0]

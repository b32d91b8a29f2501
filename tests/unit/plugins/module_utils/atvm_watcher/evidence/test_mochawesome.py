# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the mochawesome reader against the real Cypress corpus and crafted files."""
from __future__ import annotations

import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import mochawesome

TESTS = pathlib.Path(__file__).resolve().parents[5]
CORPUS = TESTS / "fixtures" / "cypress"


# file, counted (tests, passed, failed, pending, skipped), declared (same), files, legacy, failures (title, message start)
MOCHAWESOME_CORPUS = [
    (
        "cy12-before-all-hook-failure-zero-suites.json",
        (1, 0, 1, 0, 0), (1, 0, 1, 0, 0), ["cypress/e2e/parallelplot.cy.ts"], False,
        [("Unchanged raw canvas",
          'AssertionError: Timed out retrying after 4000ms: `cy.readFile("./cypress/templates/parallelPlot.template.html")`')],
    ),
    (
        "cy12-merged-two-specs-split-ci-all-passing.json",
        (12, 12, 0, 0, 0), (12, 12, 0, 0, 0),
        ["cypress/e2e/1-getting-started/todo-2.cy.js", "cypress/e2e/1-getting-started/todo.cy.js"], False,
        [],
    ),
    (
        "cy12-multiplot-one-failure-three-suites.json",
        (5, 4, 1, 0, 0), (5, 4, 1, 0, 0), ["cypress/e2e/multiplot.cy.ts"], False,
        [("should return a list of 10 points", "ReferenceError: multiplot is not defined")],
    ),
    (
        # The stats block says 0 failures, but one test has state "failed": the tests win.
        "cy13-one-pending-two-passing-windows-path.json",
        (4, 2, 1, 1, 0), (3, 2, 0, 1, 0), ["cypress/tests/v2/api/test1.spec.js"], False,
        [("Test1 (intercept API) -> send money", "AssertionError: Timed out retrying after 4000ms: Expected to find")],
    ),
    (
        # Legacy 3.x: stats say tests 0 / skipped 37; 37 test entries, one of them failed.
        "cy3-legacy-mochawesome3-all-37-skipped.json",
        (37, 0, 1, 0, 36), (0, 0, 0, 0, 37), [], True,
        [("Access the login Page", "CypressError: cy.visit() failed trying to load:")],
    ),
]


def test_mochawesome_corpus_table_covers_every_file():
    assert sorted(row[0] for row in MOCHAWESOME_CORPUS) == sorted(
        p.name for p in (CORPUS / "mochawesome").glob("*.json"))


@pytest.mark.parametrize("name,counted,declared,files,legacy,failures", MOCHAWESOME_CORPUS,
                         ids=[row[0] for row in MOCHAWESOME_CORPUS])
def test_read_mochawesome_corpus(name, counted, declared, files, legacy, failures):
    report = mochawesome.read_mochawesome(str(CORPUS / "mochawesome" / name))
    assert report.error is None
    s = report.stats
    assert (s.tests, s.passed, s.failed, s.pending, s.skipped) == counted
    d = report.declared
    assert (d.tests, d.passed, d.failed, d.pending, d.skipped) == declared
    assert report.files == files
    assert report.legacy_v3 is legacy
    assert [f.title for f in report.failures] == [t for t, _m in failures]
    for failure, (_title, message_start) in zip(report.failures, failures):
        assert failure.message.startswith(message_start)
        assert failure.hook is False
    assert report.to_dict()["stats"]["tests"] == counted[0]


def test_mochawesome_failure_keeps_full_title_and_file():
    report = mochawesome.read_mochawesome(str(CORPUS / "mochawesome" / "cy12-multiplot-one-failure-three-suites.json"))
    (failure,) = report.failures
    assert failure.full_title == "MULTIPLOT TESTS MULTIPLOT FRONTEND INTERFACE should return a list of 10 points"
    assert failure.file == "cypress/e2e/multiplot.cy.ts"


def test_mochawesome_failed_hook_counts_as_a_failure(tmp_path):
    doc = ('{"stats": {"tests": 1, "passes": 1, "failures": 0}, "results": [{"file": "cypress\\\\e2e\\\\a.cy.ts", '
           '"tests": [], "suites": [{"title": "s", "beforeHooks": [{"title": "\\"before all\\" hook", '
           '"state": "failed", "fail": true, "err": {"message": "Error: setup failed"}, "uuid": "h1"}], '
           '"tests": [{"title": "t", "state": "passed", "pass": true, "uuid": "t1"}], "suites": []}]}]}')
    path = tmp_path / "hook.json"
    path.write_text(doc)
    report = mochawesome.read_mochawesome(str(path))
    assert report.error is None
    assert (report.stats.tests, report.stats.passed, report.stats.failed) == (2, 1, 1)
    assert report.files == ["cypress/e2e/a.cy.ts"]
    assert [(f.title, f.hook, f.message) for f in report.failures] == [
        ('"before all" hook', True, "Error: setup failed")]


@pytest.mark.parametrize("content,expected", [
    (b'{"stats": {"tests": 1}, "results": [', "invalid JSON at line 1 column 37"),
    (b"[1, 2]", "the JSON value is a list, not an object"),
    (b'{"stats": {}}', 'neither "results" (mochawesome 4+) nor "suites" (mochawesome 3) found'),
    (b"", "empty file"),
    (b"\xff\xfe\x00garbage", "not UTF-8 text"),
])
def test_mochawesome_bad_files(tmp_path, content, expected):
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    report = mochawesome.read_mochawesome(str(path))
    assert report.error is not None and expected in report.error
    assert str(path) in report.error

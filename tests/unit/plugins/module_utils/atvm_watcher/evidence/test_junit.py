# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the JUnit XML reader against the real Cypress corpus and crafted hostile/odd files."""
from __future__ import annotations

import os
import pathlib
import shutil
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import junit

TESTS = pathlib.Path(__file__).resolve().parents[5]
CORPUS = TESTS / "fixtures" / "cypress"
CRAFTED = TESTS / "fixtures" / "artifacts"
JUNIT = CRAFTED / "junit"


def _write_binary_fixture() -> None:
    """One crafted file is made here, not committed: the collection's sanity checks read every
    committed file as UTF-8 text, and this one must not be (UTF-16 with a byte order mark)."""
    data = ('<?xml version="1.0" encoding="UTF-16"?>\n'
            '<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
            '<testsuites><testsuite name="s" file="cypress/e2e/a.cy.ts"><testcase name="&secret;"/></testsuite>'
            '</testsuites>\n').encode("utf-16")
    path = JUNIT / "utf16-external-entity.xml"
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


_write_binary_fixture()


@pytest.fixture(params=[True, False], ids=["defusedxml", "stdlib-fallback"])
def xml_backend(request, monkeypatch):
    """Run a test with defusedxml and again with the stdlib fallback (DOCTYPE/ENTITY check)."""
    if not request.param:
        monkeypatch.setattr(junit, "HAS_DEFUSEDXML", False)
    return request.param


# ---------------------------------------------------------------------------------------------
# JUnit XML: the real corpus
# ---------------------------------------------------------------------------------------------

# file, (tests, passed, failed, skipped), errors, declared (tests, failures, skipped), files, failed case names
JUNIT_CORPUS = [
    (
        "cucumber-feature-single-spec-negative-failures-windows-path.xml",
        (1, 1, 0, 0), 0, (5, -3, 4),
        ["cypress/e2e/features/Amazon1.feature"],
        [],
    ),
    (
        "cy13-four-tests-two-failures-windows-path.xml",
        (4, 2, 2, 0), 0, (4, 2, None),
        ["cypress/e2e/vendor-journey.cy.js"],
        ["Vendor Journey should manage property listings", "Vendor Journey should view earnings dashboard"],
    ),
    (
        "cy8-integration-one-failure-multiline-message.xml",
        (6, 5, 1, 0), 0, (6, 1, None),
        ["cypress/integration/ag-grid-helu-spec.js"],
        ["ag-grid scenarios filter table by checkbox"],
    ),
    (
        "junit-merge-four-specs-cy6-integration.xml",
        (6, 4, 2, 0), 0, (None, None, None),
        [
            "cypress/integration/tests/crossorigin.spec.js",
            "cypress/integration/tests/hooks.spec.js",
            "cypress/integration/tests/getfindwithin1.spec.js",
            "cypress/integration/tests/login.spec.js",
        ],
        ["different commands of get and find verify the tittle for google", "free crm app login"],
    ),
    (
        "single-spec-one-failure-windows-path.xml",
        (1, 0, 1, 0), 0, (1, 1, None),
        ["cypress/e2e/3-sqlverifier/verifierLoadTest.cy.js"],
        ["Verifier Page Load Test successfully loads Verifier page"],
    ),
    (
        "skipped-count-without-pending-testcase-two-failures.xml",
        (3, 1, 2, 0), 0, (4, 2, 1),
        ["cypress/e2e/spec.cy.js"],
        ["template spec C9039 - test 1", "template spec C9099 - test 2"],
    ),
    (
        "three-describe-suites-six-failures.xml",
        (12, 6, 6, 0), 0, (12, 6, None),
        ["cypress/e2e/spec.cy.js"],
        [
            "template spec C1 - test first", "template spec C2 - test second", "template spec C4 - test fourth",
            "template spec test C11", "template spec test C12", "template spec test2 C9",
        ],
    ),
]


def test_junit_corpus_table_covers_every_file():
    assert sorted(row[0] for row in JUNIT_CORPUS) == sorted(p.name for p in (CORPUS / "junit").glob("*.xml"))


@pytest.mark.parametrize("name,counts,n_errors,declared,files,failed_names", JUNIT_CORPUS,
                         ids=[row[0] for row in JUNIT_CORPUS])
def test_read_junit_corpus(xml_backend, name, counts, n_errors, declared, files, failed_names):
    report = junit.read_junit(str(CORPUS / "junit" / name))
    assert report.error is None
    assert (report.counts.tests, report.counts.passed, report.counts.failed, report.counts.skipped) == counts
    assert report.errors == n_errors
    assert (report.declared.tests, report.declared.failed, report.declared.skipped) == declared
    assert report.files == files
    assert report.meta_only is False
    assert [c.name for c in report.cases if c.failed] == failed_names
    assert all(c.message for c in report.cases if c.failed)
    assert all(c.file in files for c in report.cases)
    assert report.mtime > 0


def test_junit_testcase_counts_win_over_wrong_declared_counts():
    # tests="5" failures="-3" skipped="4" on the root, one passing <testcase>: the testcase is the truth.
    report = junit.read_junit(str(CORPUS / "junit" / "cucumber-feature-single-spec-negative-failures-windows-path.xml"))
    assert report.declared.failed == -3
    assert report.counts.failed == 0
    assert report.counts.tests == 1
    assert report.cases[0].name == "Amazon Test Suite Title Validation"
    assert report.cases[0].file == "cypress/e2e/features/Amazon1.feature"


def test_junit_suites_without_file_inherit_the_previous_spec():
    report = junit.read_junit(str(CORPUS / "junit" / "junit-merge-four-specs-cy6-integration.xml"))
    by_name = {c.name: c.file for c in report.cases}
    assert by_name["verify the title"] == "cypress/integration/tests/crossorigin.spec.js"
    assert by_name["Home page verify the title"] == "cypress/integration/tests/crossorigin.spec.js"
    assert by_name["different types of hooks open google.com"] == "cypress/integration/tests/hooks.spec.js"
    assert by_name["free crm app login"] == "cypress/integration/tests/login.spec.js"
    login = [c for c in report.cases if c.name == "free crm app login"][0]
    assert login.message.startswith("Cypress detected a cross origin error happened on page load:")


def test_junit_multiline_failure_message_is_decoded():
    report = junit.read_junit(str(CORPUS / "junit" / "cy8-integration-one-failure-multiline-message.xml"))
    failed = [c for c in report.cases if c.failed][0]
    # XML normalises newlines inside an attribute value to spaces
    assert failed.message.startswith("The expected table data did not match the actual table data  EXPECTED: [")
    assert '{"EUR":"Revenues","Year":"","Value":"42.160,87"}' in failed.message
    assert failed.message.endswith("expected [ Array(8) ] to deeply equal [ Array(4) ]")


# ---------------------------------------------------------------------------------------------
# JUnit XML: crafted files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["billion-laughs.xml", "external-entity.xml", "utf16-external-entity.xml"])
def test_hostile_xml_is_refused_quickly(xml_backend, name):
    start = time.monotonic()
    report = junit.read_junit(str(JUNIT / name))
    elapsed = time.monotonic() - start
    assert elapsed < 1.0
    assert report.error is not None
    assert "refused hostile XML" in report.error
    assert "DOCTYPE" in report.error
    assert str(JUNIT / name) in report.error
    assert report.cases == [] and report.files == [] and report.counts.tests is None
    assert "root:" not in report.error  # nothing of /etc/passwd was read


def test_declared_encoding_cannot_hide_a_doctype_from_the_fallback(monkeypatch, tmp_path):
    monkeypatch.setattr(junit, "HAS_DEFUSEDXML", False)
    # UTF-7: '<' is '+ADw-', so a byte scan for b"<!DOCTYPE" would miss it.
    data = (b'<?xml version="1.0" encoding="UTF-7"?>\n'
            b'+ADw-!DOCTYPE testsuites +AFs-+ADw-!ENTITY x "boom"+AD4-+AF0-+AD4-\n'
            b'<testsuites><testsuite file="a.cy.ts"><testcase name="&x;"/></testsuite></testsuites>\n')
    path = tmp_path / "utf7.xml"
    path.write_bytes(data)
    report = junit.read_junit(str(path))
    assert report.error is not None
    assert "refused hostile XML (a <!DOCTYPE declaration at line 2)" in report.error


def test_check_xml_files_only_is_meta_only(xml_backend):
    report = junit.read_junit(str(JUNIT / "check-xml-files-only.xml"))
    assert report.error is None
    assert report.meta_only is True
    assert report.files == ["cypress/e2e/check-xml-files.ts"]
    assert report.counts.tests == 2 and report.counts.failed == 0


def test_meta_spec_with_a_host_spec_is_not_meta_only(xml_backend):
    report = junit.read_junit(str(JUNIT / "meta-and-host-spec.xml"))
    assert report.meta_only is False
    assert report.files == ["cypress/e2e/check-xml-files.ts", "cypress/e2e/migration/rhel96-fc-01.cy.ts"]
    assert (report.counts.tests, report.counts.passed, report.counts.failed) == (3, 2, 1)
    failed = [c for c in report.cases if c.failed]
    assert [(c.name, c.file, c.message) for c in failed] == [
        ("rhel96-fc-01 migration boot check", "cypress/e2e/migration/rhel96-fc-01.cy.ts",
         "post-migration boot check failed")]


def test_error_skipped_and_root_testsuite(xml_backend):
    report = junit.read_junit(str(JUNIT / "error-and-skipped.xml"))
    assert report.error is None
    assert (report.counts.tests, report.counts.passed, report.counts.failed, report.counts.skipped) == (4, 1, 1, 1)
    assert report.errors == 1
    assert (report.declared.tests, report.declared.failed, report.declared.skipped) == (4, 0, 1)
    assert report.files == ["cypress/e2e/migration/win2022-dc-02.cy.ts"]
    by_name = {c.name: c for c in report.cases}
    assert by_name["cutover"].error and by_name["cutover"].message == "ECONNRESET while polling the migration API"
    assert by_name["disk check"].failed and by_name["disk check"].message == "disk D: missing on target"
    assert by_name["rdp check"].skipped and not by_name["rdp check"].failed


def test_malformed_xml_names_line_and_column(xml_backend):
    report = junit.read_junit(str(JUNIT / "malformed.xml"))
    assert report.error is not None
    assert "malformed XML: mismatched tag: line 5, column 4" in report.error
    assert report.counts.tests is None


def test_xml_that_is_not_junit(xml_backend):
    report = junit.read_junit(str(JUNIT / "not-junit.xml"))
    assert "the root element is <html>" in report.error


def test_junit_empty_missing_and_oversized(monkeypatch, tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"  \n")
    assert junit.read_junit(str(empty)).error.endswith("empty file")
    missing = junit.read_junit(str(tmp_path / "nope.xml"))
    assert "No such file or directory" in missing.error
    monkeypatch.setattr(junit, "MAX_JUNIT_BYTES", 100)
    big = junit.read_junit(str(CORPUS / "junit" / "three-describe-suites-six-failures.xml"))
    assert "larger than 100 bytes" in big.error
    assert big.counts.tests is None


def test_scan_junit_dir(tmp_path):
    assert junit.scan_junit_dir(str(tmp_path / "missing")) == []
    single = junit.scan_junit_dir(str(JUNIT / "check-xml-files-only.xml"))
    assert [r.path for r in single] == [str(JUNIT / "check-xml-files-only.xml")]
    sub = tmp_path / "results" / "linux"
    sub.mkdir(parents=True)
    shutil.copy(JUNIT / "meta-and-host-spec.xml", sub / "b.xml")
    shutil.copy(JUNIT / "check-xml-files-only.xml", tmp_path / "results" / "a.xml")
    (tmp_path / "results" / "notes.txt").write_text("not xml")
    old = tmp_path / "results" / "old.xml"
    shutil.copy(JUNIT / "error-and-skipped.xml", old)
    os.utime(old, (1000, 1000))
    found = junit.scan_junit_dir(str(tmp_path / "results"))
    assert [os.path.relpath(r.path, tmp_path) for r in found] == ["results/a.xml", "results/linux/b.xml", "results/old.xml"]
    recent = junit.scan_junit_dir(str(tmp_path / "results"), since=2000)
    assert [os.path.basename(r.path) for r in recent] == ["a.xml", "b.xml"]
    only_b = junit.scan_junit_dir(str(tmp_path / "results"), pattern="b.*")
    assert [os.path.basename(r.path) for r in only_b] == ["b.xml"]

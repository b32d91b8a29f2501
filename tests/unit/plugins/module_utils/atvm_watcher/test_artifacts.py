# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the artifact readers against the real Cypress corpus and crafted hostile/odd files."""
from __future__ import annotations

import os
import pathlib
import shutil
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import artifacts, config, errors

TESTS = pathlib.Path(__file__).resolve().parents[4]
CORPUS = TESTS / "fixtures" / "cypress"
CRAFTED = TESTS / "fixtures" / "artifacts"
REPORTER = CRAFTED / "reporter"
JUNIT = CRAFTED / "junit"


def _write_binary_fixtures() -> None:
    """Two crafted files are made here, not committed: the collection's sanity checks read every
    committed file as UTF-8 text, and these must not be (binary garbage; UTF-16 with a byte order mark)."""
    import random  # pylint: disable=import-outside-toplevel

    rng = random.Random(1031)
    garbage = b"\x89BIN\x00\x01\x02\x12" + bytes(rng.choice([b for b in range(256) if b != 13]) for _i in range(1023))
    xml = ('<?xml version="1.0" encoding="UTF-16"?>\n'
           '<!DOCTYPE testsuites [<!ENTITY secret SYSTEM "file:///etc/passwd">]>\n'
           '<testsuites><testsuite name="s" file="cypress/e2e/a.cy.ts"><testcase name="&secret;"/></testsuite>'
           '</testsuites>\n').encode("utf-16")
    for path, data in ((REPORTER / "binary-garbage.json", garbage), (JUNIT / "utf16-external-entity.xml", xml)):
        if not path.exists() or path.read_bytes() != data:
            path.write_bytes(data)


_write_binary_fixtures()
INVENTORY = CRAFTED / "inventory"


@pytest.fixture(params=[True, False], ids=["defusedxml", "stdlib-fallback"])
def xml_backend(request, monkeypatch):
    """Run a test with defusedxml and again with the stdlib fallback (DOCTYPE/ENTITY check)."""
    if not request.param:
        monkeypatch.setattr(artifacts, "HAS_DEFUSEDXML", False)
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
    report = artifacts.read_junit(str(CORPUS / "junit" / name))
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
    report = artifacts.read_junit(str(CORPUS / "junit" / "cucumber-feature-single-spec-negative-failures-windows-path.xml"))
    assert report.declared.failed == -3
    assert report.counts.failed == 0
    assert report.counts.tests == 1
    assert report.cases[0].name == "Amazon Test Suite Title Validation"
    assert report.cases[0].file == "cypress/e2e/features/Amazon1.feature"


def test_junit_suites_without_file_inherit_the_previous_spec():
    report = artifacts.read_junit(str(CORPUS / "junit" / "junit-merge-four-specs-cy6-integration.xml"))
    by_name = {c.name: c.file for c in report.cases}
    assert by_name["verify the title"] == "cypress/integration/tests/crossorigin.spec.js"
    assert by_name["Home page verify the title"] == "cypress/integration/tests/crossorigin.spec.js"
    assert by_name["different types of hooks open google.com"] == "cypress/integration/tests/hooks.spec.js"
    assert by_name["free crm app login"] == "cypress/integration/tests/login.spec.js"
    login = [c for c in report.cases if c.name == "free crm app login"][0]
    assert login.message.startswith("Cypress detected a cross origin error happened on page load:")


def test_junit_multiline_failure_message_is_decoded():
    report = artifacts.read_junit(str(CORPUS / "junit" / "cy8-integration-one-failure-multiline-message.xml"))
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
    report = artifacts.read_junit(str(JUNIT / name))
    elapsed = time.monotonic() - start
    assert elapsed < 1.0
    assert report.error is not None
    assert "refused hostile XML" in report.error
    assert "DOCTYPE" in report.error
    assert str(JUNIT / name) in report.error
    assert report.cases == [] and report.files == [] and report.counts.tests is None
    assert "root:" not in report.error  # nothing of /etc/passwd was read


def test_declared_encoding_cannot_hide_a_doctype_from_the_fallback(monkeypatch, tmp_path):
    monkeypatch.setattr(artifacts, "HAS_DEFUSEDXML", False)
    # UTF-7: '<' is '+ADw-', so a byte scan for b"<!DOCTYPE" would miss it.
    data = (b'<?xml version="1.0" encoding="UTF-7"?>\n'
            b'+ADw-!DOCTYPE testsuites +AFs-+ADw-!ENTITY x "boom"+AD4-+AF0-+AD4-\n'
            b'<testsuites><testsuite file="a.cy.ts"><testcase name="&x;"/></testsuite></testsuites>\n')
    path = tmp_path / "utf7.xml"
    path.write_bytes(data)
    report = artifacts.read_junit(str(path))
    assert report.error is not None
    assert "refused hostile XML (a <!DOCTYPE declaration at line 2)" in report.error


def test_check_xml_files_only_is_meta_only(xml_backend):
    report = artifacts.read_junit(str(JUNIT / "check-xml-files-only.xml"))
    assert report.error is None
    assert report.meta_only is True
    assert report.files == ["cypress/e2e/check-xml-files.ts"]
    assert report.counts.tests == 2 and report.counts.failed == 0


def test_meta_spec_with_a_host_spec_is_not_meta_only(xml_backend):
    report = artifacts.read_junit(str(JUNIT / "meta-and-host-spec.xml"))
    assert report.meta_only is False
    assert report.files == ["cypress/e2e/check-xml-files.ts", "cypress/e2e/migration/rhel96-fc-01.cy.ts"]
    assert (report.counts.tests, report.counts.passed, report.counts.failed) == (3, 2, 1)
    failed = [c for c in report.cases if c.failed]
    assert [(c.name, c.file, c.message) for c in failed] == [
        ("rhel96-fc-01 migration boot check", "cypress/e2e/migration/rhel96-fc-01.cy.ts",
         "post-migration boot check failed")]


def test_error_skipped_and_root_testsuite(xml_backend):
    report = artifacts.read_junit(str(JUNIT / "error-and-skipped.xml"))
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
    report = artifacts.read_junit(str(JUNIT / "malformed.xml"))
    assert report.error is not None
    assert "malformed XML: mismatched tag: line 5, column 4" in report.error
    assert report.counts.tests is None


def test_xml_that_is_not_junit(xml_backend):
    report = artifacts.read_junit(str(JUNIT / "not-junit.xml"))
    assert "the root element is <html>" in report.error


def test_junit_empty_missing_and_oversized(monkeypatch, tmp_path):
    empty = tmp_path / "empty.xml"
    empty.write_bytes(b"  \n")
    assert artifacts.read_junit(str(empty)).error.endswith("empty file")
    missing = artifacts.read_junit(str(tmp_path / "nope.xml"))
    assert "No such file or directory" in missing.error
    monkeypatch.setattr(artifacts, "MAX_JUNIT_BYTES", 100)
    big = artifacts.read_junit(str(CORPUS / "junit" / "three-describe-suites-six-failures.xml"))
    assert "larger than 100 bytes" in big.error
    assert big.counts.tests is None


def test_scan_junit_dir(tmp_path):
    assert artifacts.scan_junit_dir(str(tmp_path / "missing")) == []
    single = artifacts.scan_junit_dir(str(JUNIT / "check-xml-files-only.xml"))
    assert [r.path for r in single] == [str(JUNIT / "check-xml-files-only.xml")]
    sub = tmp_path / "results" / "linux"
    sub.mkdir(parents=True)
    shutil.copy(JUNIT / "meta-and-host-spec.xml", sub / "b.xml")
    shutil.copy(JUNIT / "check-xml-files-only.xml", tmp_path / "results" / "a.xml")
    (tmp_path / "results" / "notes.txt").write_text("not xml")
    old = tmp_path / "results" / "old.xml"
    shutil.copy(JUNIT / "error-and-skipped.xml", old)
    os.utime(old, (1000, 1000))
    found = artifacts.scan_junit_dir(str(tmp_path / "results"))
    assert [os.path.relpath(r.path, tmp_path) for r in found] == ["results/a.xml", "results/linux/b.xml", "results/old.xml"]
    recent = artifacts.scan_junit_dir(str(tmp_path / "results"), since=2000)
    assert [os.path.basename(r.path) for r in recent] == ["a.xml", "b.xml"]
    only_b = artifacts.scan_junit_dir(str(tmp_path / "results"), pattern="b.*")
    assert [os.path.basename(r.path) for r in only_b] == ["b.xml"]


# ---------------------------------------------------------------------------------------------
# mochawesome: the real corpus
# ---------------------------------------------------------------------------------------------

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
    report = artifacts.read_mochawesome(str(CORPUS / "mochawesome" / name))
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
    report = artifacts.read_mochawesome(str(CORPUS / "mochawesome" / "cy12-multiplot-one-failure-three-suites.json"))
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
    report = artifacts.read_mochawesome(str(path))
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
    report = artifacts.read_mochawesome(str(path))
    assert report.error is not None and expected in report.error
    assert str(path) in report.error


# ---------------------------------------------------------------------------------------------
# reporter artifacts
# ---------------------------------------------------------------------------------------------


def _settings(**kwargs) -> config.Settings:
    return config.Settings(**kwargs)


def test_reporter_default_layout_as_in_the_design():
    art = artifacts.read_reporter_artifact(str(REPORTER / "rhel96-fc-01.json"), _settings())
    assert art.error is None and art.notes == []
    assert art.host == "rhel96-fc-01"
    assert art.spec == "cypress/e2e/migration/rhel96-fc-01.cy.ts"
    assert art.status == "PASS"
    assert (art.started_at, art.ended_at) == ("2026-11-27T10:00:00Z", "2026-11-27T10:41:07Z")
    c = art.counts
    assert (c.tests, c.passed, c.failed, c.pending, c.skipped) == (12, 12, 0, 0, 0)
    assert [(e.timestamp, e.type, e.message, e.severity, e.failure) for e in art.events] == [
        (None, "migration", "cutover done", "info", False),
        ("2026-11-27T10:40:00Z", "error", "post-migration boot check failed", None, True),
    ]
    assert art.size == os.path.getsize(REPORTER / "rhel96-fc-01.json")
    assert art.mtime == os.path.getmtime(REPORTER / "rhel96-fc-01.json")


def test_reporter_dict_shaped_events_and_lower_case_status():
    art = artifacts.read_reporter_artifact(str(REPORTER / "win2022-dc-02.json"), _settings())
    assert art.error is None
    assert art.status == "FAIL"
    assert art.spec == "cypress/e2e/migration/win2022-dc-02.cy.ts"
    assert [(e.timestamp, e.type, e.severity, e.failure) for e in art.events] == [
        ("2026-11-27T11:02:00Z", "migration", "info", False),
        ("2026-11-27T12:10:00Z", "check", "Critical", True),  # severity critical, any case
        (None, "Failure", None, True),  # type failure, any case
        (None, "warning", "warn", False),
    ]
    assert [e.message for e in art.events if e.failure] == ["RDP port closed after cutover", "disk D: missing on target"]


def test_reporter_events_as_an_object_keyed_by_id():
    art = artifacts.read_reporter_artifact(str(REPORTER / "ubuntu2404-app-03.json"), _settings())
    assert art.error is None
    assert [(e.type, e.message, e.severity, e.failure) for e in art.events] == [
        ("migration", "cutover done", "info", False),
        ("check", "service nginx running", None, False),
        ("check", "sshd restarted twice", "FATAL", True),
    ]


def test_reporter_status_run_with_pending():
    art = artifacts.read_reporter_artifact(str(REPORTER / "sles15-db-04-running.json"), _settings())
    assert art.error is None
    assert art.status == "RUN"
    assert art.counts.pending == 5
    assert art.ended_at is None
    assert art.events == []


NESTED = {
    "jp_host": "target.vm.name", "jp_spec": "run.spec.path", "jp_status": "run.result.state",
    "jp_started": "run.time.begin", "jp_ended": "run.time.end", "jp_tests": "run.totals.total",
    "jp_passed": "run.totals.ok", "jp_failed": "run.totals.ko", "jp_pending": "run.totals.todo",
    "jp_skipped": "run.totals.skip", "jp_events": "log.records",
}


def test_reporter_custom_jmespath_nested_layout():
    path = str(REPORTER / "nested-layout.json")
    default = artifacts.read_reporter_artifact(path, _settings())
    assert default.error is not None and "no host (JMESPath 'host' found nothing)" in default.error
    art = artifacts.read_reporter_artifact(path, _settings(**NESTED))
    assert art.error is None and art.notes == []
    assert (art.host, art.spec, art.status) == ("centos7-legacy-05", "cypress/e2e/legacy/centos7-legacy-05.cy.ts", "PASS")
    assert (art.started_at, art.ended_at) == ("2026-11-27T15:00:00Z", "2026-11-27T15:30:00Z")
    c = art.counts
    assert (c.tests, c.passed, c.failed, c.pending, c.skipped) == (4, 4, 0, 0, 0)
    assert [(e.type, e.message, e.severity, e.failure) for e in art.events] == [
        ("migration", "cutover done", "info", False), ("migration", "post checks done", "debug", False)]


def test_jmespath_expressions_are_compiled_once():
    artifacts._JP_CACHE.clear()
    settings = _settings(**NESTED)
    artifacts.read_reporter_artifact(str(REPORTER / "nested-layout.json"), settings)
    compiled = artifacts._JP_CACHE["target.vm.name"]
    artifacts.read_reporter_artifact(str(REPORTER / "nested-layout.json"), settings)
    assert artifacts._JP_CACHE["target.vm.name"] is compiled
    assert set(NESTED.values()) <= set(artifacts._JP_CACHE)


def test_invalid_jmespath_setting_is_a_config_error():
    with pytest.raises(errors.ConfigError, match=r"invalid JMESPath expression 'stats\.\[broken'"):
        artifacts.read_reporter_artifact(str(REPORTER / "rhel96-fc-01.json"), _settings(jp_tests="stats.[broken"))


def test_reporter_without_jmespath_library(monkeypatch):
    monkeypatch.setattr(artifacts, "HAS_JMESPATH", False)
    monkeypatch.setattr(artifacts, "_JP_CACHE", {})
    with pytest.raises(errors.MissingDependencyError, match="jmespath"):
        artifacts.read_reporter_artifact(str(REPORTER / "rhel96-fc-01.json"), _settings())


@pytest.mark.parametrize("name,expected", [
    ("truncated.json", "invalid JSON at line 3 column 17: Expecting ',' delimiter"),
    ("binary-garbage.json", "not UTF-8 text (invalid byte 0x89 at offset 0)"),
    ("empty.json", "empty file"),
    ("not-object.json", "the JSON value is a list, not an object"),
    ("missing-host.json", "no host (JMESPath 'host' found nothing)"),
])
def test_reporter_bad_content_never_raises(name, expected):
    path = REPORTER / name
    art = artifacts.read_reporter_artifact(str(path), _settings())
    assert art.error == "cannot read reporter artifact {0}: {1}".format(path, expected)
    if name == "truncated.json":  # cut short: the host is still read from its first member
        assert art.host == "rhel8-trunc-06"
        assert art.notes == ["host read from the unparsable text"]
    else:
        assert art.host == name[:-len(".json")]  # from the file name
    assert art.status is None and art.counts.tests is None and art.events == []
    assert art.size == path.stat().st_size


@pytest.mark.parametrize("text,jp_host,expected", [
    ('{"host": "rhel96-fc-01", "status": "PA', "host", "rhel96-fc-01"),
    ('\ufeff {\n  "host" : "win2022-dc-02",\n  "stats": {', "host", "win2022-dc-02"),
    ('{"status": "PASS", "host": "rhel96-fc-01", "x": ', "host", "truncated"),  # not the first member
    ('{"host": "../../etc", "status": ', "host", "truncated"),  # not a host name
    ('{"target": {"vm": {"name": "centos7-legacy-05"', "target.vm.name", "truncated"),  # not a top-level key
])
def test_reporter_host_salvaged_only_from_a_plain_first_member(tmp_path, text, jp_host, expected):
    path = tmp_path / "truncated.json"
    path.write_text(text, encoding="utf-8")
    art = artifacts.read_reporter_artifact(str(path), _settings(jp_host=jp_host))
    assert art.error is not None and "invalid JSON" in art.error
    assert art.host == expected


def test_reporter_huge_file_is_refused_without_reading(tmp_path):
    path = tmp_path / "rhel96-fc-01.json"
    with open(path, "wb") as handle:
        handle.write(b'{"host": "rhel96-fc-01", "status": "PASS", "pad": "')
        handle.truncate(20 * 1024 * 1024)
    start = time.monotonic()
    art = artifacts.read_reporter_artifact(str(path), _settings())
    assert time.monotonic() - start < 1.0
    assert art.error == "cannot read reporter artifact {0}: larger than {1} bytes ({2} bytes)".format(
        path, 16 * 1024 * 1024, 20 * 1024 * 1024)
    assert art.host == "rhel96-fc-01" and art.status is None
    assert art.size == 20 * 1024 * 1024


def test_reporter_invalid_counts_are_kept_none_and_noted():
    art = artifacts.read_reporter_artifact(str(REPORTER / "bad-counts.json"), _settings())
    assert art.error is None
    c = art.counts
    assert (c.tests, c.passed, c.failed, c.pending, c.skipped) == (None, None, None, None, 0)
    assert art.notes == [
        "tests count is not a count: '12'",
        "passed count is not a count: True",
        "failed count is negative: -1",
        "pending count is not a count: 1.0",
        "events is a str, neither a list nor an object",
    ]


def test_reporter_host_that_is_not_a_string(tmp_path):
    path = tmp_path / "numbers.json"
    path.write_text('{"host": 42, "status": "PASS"}')
    art = artifacts.read_reporter_artifact(str(path), _settings())
    assert art.error.endswith("the host (JMESPath 'host') is a number, not a host name")
    assert art.host == "numbers"


def test_reporter_missing_file():
    art = artifacts.read_reporter_artifact("/nonexistent/dir/rhel96-fc-01.json", _settings())
    assert art.error == "cannot read reporter artifact /nonexistent/dir/rhel96-fc-01.json: No such file or directory"
    assert art.host == "rhel96-fc-01"


@pytest.mark.parametrize("raw,expected", [
    (["t", "error", "m"], ("t", "error", "m", None, True)),
    (["t", "info", "m", "FATAL"], ("t", "info", "m", "FATAL", True)),
    (["t", "step", "m", "info"], ("t", "step", "m", "info", False)),
    (["t", "FAIL"], ("t", "FAIL", "", None, True)),
    ([1764237600, "check", {"detail": "x"}], ("1764237600", "check", '{"detail": "x"}', None, False)),
    ({"type": "check", "message": "m", "severity": "error", "ts": "t"}, ("t", "check", "m", "error", True)),
    ({"type": "check", "msg": "m", "level": "critical"}, (None, "check", "m", "critical", True)),
    ({"type": "fail"}, (None, "fail", "", None, True)),
    ({"message": "no type"}, (None, "", "no type", None, False)),
])
def test_parse_event_shapes(raw, expected):
    event = artifacts.parse_event(raw)
    assert (event.timestamp, event.type, event.message, event.severity, event.failure) == expected


def test_parse_event_rejects_other_shapes():
    assert artifacts.parse_event("just text") is None
    assert artifacts.parse_event([]) is None
    assert artifacts.parse_event(None) is None


def _copy_reporter(tmp_path, names, sub=""):
    target = tmp_path / "cmc" / sub
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(REPORTER / name, target / name)
    return tmp_path / "cmc"


def test_scan_reporter_dir_recursive_sorted_and_since(tmp_path):
    assert artifacts.scan_reporter_dir(str(tmp_path / "missing"), _settings()) == []
    root = _copy_reporter(tmp_path, ["win2022-dc-02.json", "rhel96-fc-01.json"])
    _copy_reporter(tmp_path, ["ubuntu2404-app-03.json"], sub="linux")
    (root / "README.txt").write_text("not an artifact")
    old = root / "sles15-db-04-running.json"
    shutil.copy(REPORTER / "sles15-db-04-running.json", old)
    os.utime(old, (1000, 1000))
    found = artifacts.scan_reporter_dir(str(root), _settings())
    assert [os.path.relpath(a.path, root) for a in found] == [
        "linux/ubuntu2404-app-03.json", "rhel96-fc-01.json", "sles15-db-04-running.json", "win2022-dc-02.json"]
    assert [a.host for a in found] == ["ubuntu2404-app-03", "rhel96-fc-01", "sles15-db-04", "win2022-dc-02"]
    recent = artifacts.scan_reporter_dir(str(root), _settings(), since=2000)
    assert "sles15-db-04" not in [a.host for a in recent]
    assert len(recent) == 3


def test_scan_reporter_dir_keeps_broken_files_as_errors():
    found = artifacts.scan_reporter_dir(str(REPORTER), _settings())
    by_name = {os.path.basename(a.path): a for a in found}
    assert len(found) == len(list(REPORTER.glob("*.json")))
    assert by_name["truncated.json"].error and by_name["binary-garbage.json"].error
    assert by_name["rhel96-fc-01.json"].error is None


def test_artifact_signature_changes_when_files_change(tmp_path):
    assert artifacts.artifact_signature(str(tmp_path / "missing")) == ()
    root = _copy_reporter(tmp_path, ["rhel96-fc-01.json"])
    first = artifacts.artifact_signature(str(root))
    assert first == artifacts.artifact_signature(str(root))
    assert [(os.path.basename(p), size) for p, size, _m in first] == [("rhel96-fc-01.json", 417)]
    with open(root / "rhel96-fc-01.json", "a") as handle:
        handle.write("\n")
    grown = artifacts.artifact_signature(str(root))
    assert grown != first
    shutil.copy(REPORTER / "win2022-dc-02.json", root / "win2022-dc-02.json")
    assert len(artifacts.artifact_signature(str(root))) == 2
    (root / "x.xml").write_text("<a/>")
    assert len(artifacts.artifact_signature(str(root), patterns=("*.xml",))) == 1


# ---------------------------------------------------------------------------------------------
# inventory
# ---------------------------------------------------------------------------------------------


def test_inventory_plain_table_with_markdown_decoration():
    inv = artifacts.read_inventory(str(INVENTORY / "vm-inventory.md"))
    assert list(inv) == ["rhel96-fc-01", "win2022-dc-02", "ubuntu2404-app-03", "sles15-db-04", "rhel96-fc"]
    assert (inv["rhel96-fc-01"].os, inv["rhel96-fc-01"].kernel) == ("RHEL 9.6", "5.14.0-570.12.1.el9_6.x86_64")
    assert (inv["win2022-dc-02"].os, inv["win2022-dc-02"].kernel) == ("Windows Server 2022", "10.0.20348")
    assert inv["win2022-dc-02"].fields["Notes"] == "domain controller | DNS"  # escaped pipe kept in the cell
    assert inv["ubuntu2404-app-03"].kernel == "6.8.0-45-generic"  # backticks stripped
    assert inv["rhel96-fc"].kernel is None  # "-" means nothing
    assert inv["sles15-db-04"].fields == {
        "Host": "sles15-db-04", "OS": "SLES 15 SP5", "Kernel": "5.14.21-150500.55.65-default",
        "Owner": "team-c", "Notes": "Oracle"}


def test_inventory_header_spellings_without_outer_pipes():
    inv = artifacts.read_inventory(str(INVENTORY / "header-variants.md"))
    assert list(inv) == ["centos7-legacy-05", "oel8-ora-06", "debian12-web-07"]
    assert (inv["centos7-legacy-05"].os, inv["centos7-legacy-05"].kernel) == ("CentOS 7.9", "3.10.0-1160.el7.x86_64")
    assert inv["oel8-ora-06"].os == "Oracle Linux 8.10"  # host given as __bold__
    assert inv["debian12-web-07"].kernel is None  # n/a
    assert inv["debian12-web-07"].fields["RAM (GB)"] == "2"


def test_inventory_several_tables():
    inv = artifacts.read_inventory(str(INVENTORY / "two-tables.md"))
    assert list(inv) == ["rhel96-fc-01", "alma9-web-08", "win2019-file-09"]  # VLAN table and code fence ignored
    assert inv["alma9-web-08"].kernel == "5.14.0-427.13.1.el9_4.x86_64"  # "Kernel (uname -r)"
    assert inv["alma9-web-08"].os == "AlmaLinux 9.4"  # "Distribution"
    assert inv["win2019-file-09"].os == "Windows Server 2019"  # "Operating System" under "VM"
    assert inv["win2019-file-09"].kernel is None
    assert inv["rhel96-fc-01"].os == "RHEL 9.6"  # the first row of a host wins over a later duplicate


def test_inventory_without_table_and_missing_file(tmp_path):
    assert artifacts.read_inventory(str(INVENTORY / "no-table.md")) == {}
    empty = tmp_path / "empty.md"
    empty.write_text("")
    assert artifacts.read_inventory(str(empty)) == {}
    with pytest.raises(errors.InputError) as info:
        artifacts.read_inventory(str(tmp_path / "vm-inventory.md"))
    assert info.value.path == str(tmp_path / "vm-inventory.md")
    assert "No such file or directory" in str(info.value)


@pytest.mark.parametrize("header,column", [
    ("| Host | Distribution | Kernel Version |", ("os", "kernel")),
    ("| hostname | guest_os | KERNEL |", ("os", "kernel")),
    ("| **VM name** | OS | Kernel release |", ("os", "kernel")),
    ("| Name | Guest-OS | kernel-version |", ("os", "kernel")),
])
def test_inventory_header_matching(header, column):
    n = header.count("|") - 1
    text = "\n".join([header, "|" + "---|" * n, "| vm-01 | Linux X | 1.2.3 |"])
    inv = artifacts.parse_inventory_text(text)
    assert (inv["vm-01"].os, inv["vm-01"].kernel) == ("Linux X", "1.2.3")


def test_inventory_hostname_preferred_over_name():
    text = "| Name | Hostname | OS |\n|---|---|---|\n| Web server | web-01 | Debian |\n"
    assert list(artifacts.parse_inventory_text(text)) == ["web-01"]


# ---------------------------------------------------------------------------------------------
# spec path -> host
# ---------------------------------------------------------------------------------------------

HOSTS = ["rhel96-fc-01", "rhel96-fc", "win2022-dc-02", "rhel96.example.com"]


@pytest.mark.parametrize("spec,expected", [
    ("cypress/e2e/migration/rhel96-fc-01.cy.ts", "rhel96-fc-01"),  # stem, longest of two matching hosts
    ("cypress/e2e/migration/rhel96-fc.cy.ts", "rhel96-fc"),
    ("cypress\\e2e\\WIN2022-DC-02\\boot.cy.ts", "win2022-dc-02"),  # directory component, any case, backslashes
    ("cypress/e2e/rhel96.example.com.cy.ts", "rhel96.example.com"),  # a host with dots
    ("cypress/e2e/migration/linux_rhel96-fc-01_smoke.cy.ts", "rhel96-fc-01"),  # embedded between non-host chars
    ("cypress/e2e/migration/rhel96-fc-010.cy.ts", "rhel96-fc-010"),  # no inventory host: the pattern
    ("cypress/e2e/migration/sles15-db-04.spec.js", "sles15-db-04"),  # pattern, .spec.js
    ("cypress/e2e/check-xml-files.ts", None),  # meta spec: no host
    ("cypress/e2e/migration/readme.md", None),
    ("", None),
])
def test_host_for_spec(spec, expected):
    assert artifacts.host_for_spec(spec, HOSTS, config.DEFAULT_HOST_PATTERN) == expected


def test_host_for_spec_pattern_result_takes_inventory_spelling():
    assert artifacts.host_for_spec("e2e/RHEL96-FC-01.cy.ts", [], config.DEFAULT_HOST_PATTERN) == "RHEL96-FC-01"
    assert artifacts.host_for_spec("e2e/x/vm-RHEL96-FC-01-check.cy.ts", ["rhel96-fc-01"],
                                   r"vm-(?P<host>.+)-check") == "rhel96-fc-01"


def test_host_for_spec_bad_pattern():
    with pytest.raises(errors.ConfigError, match="not a valid regular expression"):
        artifacts.host_for_spec("e2e/a.cy.ts", [], "(?P<host>")
    with pytest.raises(errors.ConfigError, match="has no named group"):
        artifacts.host_for_spec("e2e/a.cy.ts", [], r"(\w+)\.cy")


def test_is_meta_spec():
    assert artifacts.is_meta_spec("cypress\\e2e\\check-xml-files.ts")
    assert artifacts.is_meta_spec("check-xml-files.cy.ts")
    assert not artifacts.is_meta_spec("cypress/e2e/check-xml-files-extra.ts")
    assert not artifacts.is_meta_spec("cypress/e2e/rhel96-fc-01.cy.ts")

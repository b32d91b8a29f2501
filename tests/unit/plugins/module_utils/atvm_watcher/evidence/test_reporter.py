# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the cmcReporter artifact reader (JMESPath settings) on crafted real-shaped and hostile files."""
from __future__ import annotations

import os
import pathlib
import shutil
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import reporter

TESTS = pathlib.Path(__file__).resolve().parents[5]
CRAFTED = TESTS / "fixtures" / "artifacts"
REPORTER = CRAFTED / "reporter"


def _write_binary_fixture() -> None:
    """One crafted file is made here, not committed: the collection's sanity checks read every
    committed file as UTF-8 text, and this one must not be (binary garbage)."""
    import random  # pylint: disable=import-outside-toplevel

    rng = random.Random(1031)
    data = b"\x89BIN\x00\x01\x02\x12" + bytes(rng.choice([b for b in range(256) if b != 13]) for _i in range(1023))
    path = REPORTER / "binary-garbage.json"
    if not path.exists() or path.read_bytes() != data:
        path.write_bytes(data)


_write_binary_fixture()


def _settings(**kwargs) -> config.Settings:
    return config.Settings(**kwargs)


def test_reporter_default_layout_as_in_the_design():
    art = reporter.read_reporter_artifact(str(REPORTER / "rhel96-fc-01.json"), _settings())
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
    art = reporter.read_reporter_artifact(str(REPORTER / "win2022-dc-02.json"), _settings())
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
    art = reporter.read_reporter_artifact(str(REPORTER / "ubuntu2404-app-03.json"), _settings())
    assert art.error is None
    assert [(e.type, e.message, e.severity, e.failure) for e in art.events] == [
        ("migration", "cutover done", "info", False),
        ("check", "service nginx running", None, False),
        ("check", "sshd restarted twice", "FATAL", True),
    ]


def test_reporter_status_run_with_pending():
    art = reporter.read_reporter_artifact(str(REPORTER / "sles15-db-04-running.json"), _settings())
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
    default = reporter.read_reporter_artifact(path, _settings())
    assert default.error is not None and "no host (JMESPath 'host' found nothing)" in default.error
    art = reporter.read_reporter_artifact(path, _settings(**NESTED))
    assert art.error is None and art.notes == []
    assert (art.host, art.spec, art.status) == ("centos7-legacy-05", "cypress/e2e/legacy/centos7-legacy-05.cy.ts", "PASS")
    assert (art.started_at, art.ended_at) == ("2026-11-27T15:00:00Z", "2026-11-27T15:30:00Z")
    c = art.counts
    assert (c.tests, c.passed, c.failed, c.pending, c.skipped) == (4, 4, 0, 0, 0)
    assert [(e.type, e.message, e.severity, e.failure) for e in art.events] == [
        ("migration", "cutover done", "info", False), ("migration", "post checks done", "debug", False)]


def test_jmespath_expressions_are_compiled_once():
    reporter._JP_CACHE.clear()
    settings = _settings(**NESTED)
    reporter.read_reporter_artifact(str(REPORTER / "nested-layout.json"), settings)
    compiled = reporter._JP_CACHE["target.vm.name"]
    reporter.read_reporter_artifact(str(REPORTER / "nested-layout.json"), settings)
    assert reporter._JP_CACHE["target.vm.name"] is compiled
    assert set(NESTED.values()) <= set(reporter._JP_CACHE)


def test_invalid_jmespath_setting_is_a_config_error():
    with pytest.raises(errors.ConfigError, match=r"invalid JMESPath expression 'stats\.\[broken'"):
        reporter.read_reporter_artifact(str(REPORTER / "rhel96-fc-01.json"), _settings(jp_tests="stats.[broken"))


def test_reporter_without_jmespath_library(monkeypatch):
    monkeypatch.setattr(reporter, "HAS_JMESPATH", False)
    monkeypatch.setattr(reporter, "_JP_CACHE", {})
    with pytest.raises(errors.MissingDependencyError, match="jmespath"):
        reporter.read_reporter_artifact(str(REPORTER / "rhel96-fc-01.json"), _settings())


@pytest.mark.parametrize("name,expected", [
    ("truncated.json", "invalid JSON at line 3 column 17: Expecting ',' delimiter"),
    ("binary-garbage.json", "not UTF-8 text (invalid byte 0x89 at offset 0)"),
    ("empty.json", "empty file"),
    ("not-object.json", "the JSON value is a list, not an object"),
    ("missing-host.json", "no host (JMESPath 'host' found nothing)"),
])
def test_reporter_bad_content_never_raises(name, expected):
    path = REPORTER / name
    art = reporter.read_reporter_artifact(str(path), _settings())
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
    art = reporter.read_reporter_artifact(str(path), _settings(jp_host=jp_host))
    assert art.error is not None and "invalid JSON" in art.error
    assert art.host == expected


def test_reporter_huge_file_is_refused_without_reading(tmp_path):
    path = tmp_path / "rhel96-fc-01.json"
    with open(path, "wb") as handle:
        handle.write(b'{"host": "rhel96-fc-01", "status": "PASS", "pad": "')
        handle.truncate(20 * 1024 * 1024)
    start = time.monotonic()
    art = reporter.read_reporter_artifact(str(path), _settings())
    assert time.monotonic() - start < 1.0
    assert art.error == "cannot read reporter artifact {0}: larger than {1} bytes ({2} bytes)".format(
        path, 16 * 1024 * 1024, 20 * 1024 * 1024)
    assert art.host == "rhel96-fc-01" and art.status is None
    assert art.size == 20 * 1024 * 1024


def test_reporter_invalid_counts_are_kept_none_and_noted():
    art = reporter.read_reporter_artifact(str(REPORTER / "bad-counts.json"), _settings())
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
    art = reporter.read_reporter_artifact(str(path), _settings())
    assert art.error.endswith("the host (JMESPath 'host') is a number, not a host name")
    assert art.host == "numbers"


def test_reporter_missing_file():
    art = reporter.read_reporter_artifact("/nonexistent/dir/rhel96-fc-01.json", _settings())
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
    event = reporter.parse_event(raw)
    assert (event.timestamp, event.type, event.message, event.severity, event.failure) == expected


def test_parse_event_rejects_other_shapes():
    assert reporter.parse_event("just text") is None
    assert reporter.parse_event([]) is None
    assert reporter.parse_event(None) is None


def _copy_reporter(tmp_path, names, sub=""):
    target = tmp_path / "cmc" / sub
    target.mkdir(parents=True, exist_ok=True)
    for name in names:
        shutil.copy(REPORTER / name, target / name)
    return tmp_path / "cmc"


def test_scan_reporter_dir_recursive_sorted_and_since(tmp_path):
    assert reporter.scan_reporter_dir(str(tmp_path / "missing"), _settings()) == []
    root = _copy_reporter(tmp_path, ["win2022-dc-02.json", "rhel96-fc-01.json"])
    _copy_reporter(tmp_path, ["ubuntu2404-app-03.json"], sub="linux")
    (root / "README.txt").write_text("not an artifact")
    old = root / "sles15-db-04-running.json"
    shutil.copy(REPORTER / "sles15-db-04-running.json", old)
    os.utime(old, (1000, 1000))
    found = reporter.scan_reporter_dir(str(root), _settings())
    assert [os.path.relpath(a.path, root) for a in found] == [
        "linux/ubuntu2404-app-03.json", "rhel96-fc-01.json", "sles15-db-04-running.json", "win2022-dc-02.json"]
    assert [a.host for a in found] == ["ubuntu2404-app-03", "rhel96-fc-01", "sles15-db-04", "win2022-dc-02"]
    recent = reporter.scan_reporter_dir(str(root), _settings(), since=2000)
    assert "sles15-db-04" not in [a.host for a in recent]
    assert len(recent) == 3


def test_scan_reporter_dir_keeps_broken_files_as_errors():
    found = reporter.scan_reporter_dir(str(REPORTER), _settings())
    by_name = {os.path.basename(a.path): a for a in found}
    assert len(found) == len(list(REPORTER.glob("*.json")))
    assert by_name["truncated.json"].error and by_name["binary-garbage.json"].error
    assert by_name["rhel96-fc-01.json"].error is None


def test_artifact_signature_changes_when_files_change(tmp_path):
    assert reporter.artifact_signature(str(tmp_path / "missing")) == ()
    root = _copy_reporter(tmp_path, ["rhel96-fc-01.json"])
    first = reporter.artifact_signature(str(root))
    assert first == reporter.artifact_signature(str(root))
    assert [(os.path.basename(p), size) for p, size, _m in first] == [("rhel96-fc-01.json", 417)]
    with open(root / "rhel96-fc-01.json", "a") as handle:
        handle.write("\n")
    grown = reporter.artifact_signature(str(root))
    assert grown != first
    shutil.copy(REPORTER / "win2022-dc-02.json", root / "win2022-dc-02.json")
    assert len(reporter.artifact_signature(str(root))) == 2
    (root / "x.xml").write_text("<a/>")
    assert len(reporter.artifact_signature(str(root), patterns=("*.xml",))) == 1

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The metrics file for node_exporter's textfile collector: its content read back line by line,
atomic replacement, bounded rewriting, and write failures journalled, never raised."""
from __future__ import annotations

import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import metrics
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import (
    PHASE_DELIVERY_FAILED, PHASE_WATCHING, PENDING, POST_FAILED, SENDING, SENT, RunState,
)
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore
from ansible_collections.atvm.watcher.tests.support import prom_text

NAMES = ("atvm_watcher_run_state", "atvm_watcher_run_result", "atvm_watcher_phase", "atvm_watcher_posts",
         "atvm_watcher_tests", "atvm_watcher_heartbeat_timestamp_seconds")


def _state(build="nightly-2026.11.29", run_state="RUNNING", result="RUN", deliveries=()):
    state = RunState.new(build)
    state.run_state, state.result = run_state, result
    state.set_phase(PHASE_WATCHING)
    for index, status in enumerate(deliveries):
        entry, _created = state.entry(index)
        entry.delivery = status
    return state


def _values(families, name, label):
    return {labels[label]: value for labels, value in families[name]["samples"]}


class Journal:
    def __init__(self):
        self.events = []

    def __call__(self, event, message, **_fields):
        self.events.append((event, message))


class Clock:
    def __init__(self, now=1_800_000_000.0):
        self.now = now

    def __call__(self):
        return self.now


def test_metrics_text_is_valid_exposition_format_with_the_run():
    state = _state(run_state="COMPLETED", result="FAIL", deliveries=(SENT, POST_FAILED, PENDING, None))
    state.set_phase(PHASE_DELIVERY_FAILED)
    text = metrics.render_metrics(state, 1_800_000_123.9)
    families = prom_text.parse(text)
    assert tuple(families) == NAMES
    for name in NAMES:
        assert families[name]["type"] == "gauge" and families[name]["help"]
        assert all(labels["build"] == "nightly-2026.11.29" for labels, _v in families[name]["samples"])
    assert _values(families, "atvm_watcher_run_state", "state") == {
        "RUNNING": 0, "COMPLETED": 1, "FAILED": 0, "CANCELLED": 0, "TERMINATED": 0, "HUNG": 0, "UNKNOWN": 0,
        "other": 0}
    assert [r for r, v in _values(families, "atvm_watcher_run_result", "result").items() if v] == ["FAIL"]
    assert [p for p, v in _values(families, "atvm_watcher_phase", "phase").items() if v] == ["delivery-failed"]
    assert _values(families, "atvm_watcher_posts", "status") == {"sent": 1, "failed": 1, "pending": 1, "corrupt": 0}
    beat = families["atvm_watcher_heartbeat_timestamp_seconds"]["samples"]
    assert beat == [({"build": "nightly-2026.11.29"}, 1_800_000_123)]
    assert _values(families, "atvm_watcher_tests", "state") == {"new_failure": 0, "fixed": 0, "still_failing": 0,
                                                                "flaky": 0}


def test_the_tests_that_changed_are_summed_over_the_sub_runs():
    """docs/history.md: per build, what changed since each sub-run's suite's previous run."""
    state = _state(deliveries=(SENT, SENT, SENT))
    state.subruns[0].tests = {"new_failure": 2, "fixed": 0, "still_failing": 1, "flaky": 0}
    state.subruns[1].tests = {"new_failure": 1, "fixed": 3, "still_failing": 0, "flaky": 2}
    state.subruns[2].tests = None  # no per-test results
    families = prom_text.parse(metrics.render_metrics(RunState.from_dict(state.to_dict()), 0))
    assert _values(families, "atvm_watcher_tests", "state") == {"new_failure": 3, "fixed": 3, "still_failing": 1,
                                                                "flaky": 2}


def test_values_outside_the_vocabularies_are_other_never_a_label():
    hostile = 'PASS"} 1\natvm_injected{x="1'
    state = _state(run_state=hostile, result="back\\slash\nFAIL")
    text = metrics.render_metrics(state, 0)
    families = prom_text.parse(text)
    assert hostile not in text and "back" not in text and "atvm_injected" not in families
    assert [s for s, v in _values(families, "atvm_watcher_run_state", "state").items() if v] == ["other"]
    assert [r for r, v in _values(families, "atvm_watcher_run_result", "result").items() if v] == ["other"]


@pytest.mark.parametrize("value", ['a"b', "a\\b", "a\nb", '\\"\n\\n', "plain", ""])
def test_label_escaping_reads_back_to_the_value(value):
    line = 'm{{l="{0}"}} 1\n'.format(metrics.escape_label(value))
    assert prom_text.parse(line)["m"]["samples"] == [({"l": value}, 1.0)]


def test_the_reader_refuses_what_the_collector_would_refuse():
    """The format check can fail: each of these is a real mistake of a hand-made metrics file."""
    for bad in ('m{l="a"b"} 1\n', 'm{l="a\nb"} 1\n', "m 1", "m one\n", "# TYPE m gauge\n# TYPE m gauge\nm 1\n",
                "m 1\nn 1\nm 2\n", 'm{l="\\x"} 1\n', "m 1\n# HELP m late\n", "m 1\nm 1\n"):
        with pytest.raises(ValueError):
            prom_text.parse(bad)


def test_file_name_is_per_build_and_safe(tmp_path):
    assert metrics.metrics_file(str(tmp_path), "nightly-1") == str(tmp_path / "atvm_watcher_nightly-1.prom")
    assert metrics.metrics_file(str(tmp_path), "nightly-1") != metrics.metrics_file(str(tmp_path), "nightly-2")
    for bad in ("../etc/x", "a/b", "..", "a b"):
        with pytest.raises(config.BuildNameError):
            metrics.metrics_file(str(tmp_path), bad)


def test_writer_replaces_the_file_atomically_and_leaves_no_temp_file(tmp_path, monkeypatch):
    journal, clock = Journal(), Clock()
    writer = metrics.MetricsWriter(str(tmp_path), "b1", clock, journal)
    assert writer.update(_state("b1"))
    path = tmp_path / "atvm_watcher_b1.prom"
    first = path.read_text()
    assert oct(path.stat().st_mode & 0o777) == oct(metrics.FILE_MODE)
    seen_during_write = []
    real_replace = os.replace

    def replace(src, dst):
        seen_during_write.append((os.path.basename(src), path.read_text()))
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", replace)
    clock.now += 1
    assert writer.update(_state("b1", run_state="COMPLETED", result="PASS", deliveries=(SENT,)))
    (temp_name, content_meanwhile), = seen_during_write
    assert content_meanwhile == first, "the collector saw the old file until the rename"
    assert temp_name.startswith(".") and not temp_name.endswith(".prom"), "the collector never reads the temp file"
    assert os.listdir(tmp_path) == ["atvm_watcher_b1.prom"]
    assert 'atvm_watcher_posts{build="b1",status="sent"} 1' in path.read_text().splitlines()
    assert journal.events == []


def test_writer_writes_on_change_and_at_a_bounded_interval(tmp_path):
    clock = Clock()
    writer = metrics.MetricsWriter(str(tmp_path), "b1", clock, Journal(), interval=30)
    state = _state("b1")
    assert writer.update(state)
    path = tmp_path / "atvm_watcher_b1.prom"
    written = path.stat().st_mtime_ns
    for _poll in range(100):  # polls with nothing new: no write
        clock.now += 0.25
        assert not writer.update(state)
    assert path.stat().st_mtime_ns == written
    clock.now += 5.1  # 30.1 s after the first write: the heartbeat is due
    assert writer.update(state)
    beat = prom_text.parse(path.read_text())["atvm_watcher_heartbeat_timestamp_seconds"]["samples"][0][1]
    assert beat == int(clock.now)
    clock.now += 1
    entry, _created = state.entry(0)
    entry.delivery = POST_FAILED  # a change is written at once
    assert writer.update(state)
    assert 'atvm_watcher_posts{build="b1",status="failed"} 1' in path.read_text()


def test_write_failure_is_journalled_once_never_raised_and_recovers(tmp_path):
    journal, clock = Journal(), Clock()
    missing = tmp_path / "no-such-dir"
    writer = metrics.MetricsWriter(str(missing), "b1", clock, journal, interval=30)
    state = _state("b1")
    assert not writer.update(state)
    for _poll in range(10):
        clock.now += 10
        assert not writer.update(state)
    assert [e for e, _m in journal.events] == ["metrics-write-failed"]
    assert str(missing) in journal.events[0][1]
    missing.mkdir()
    clock.now += 30
    assert writer.update(state)
    assert [e for e, _m in journal.events] == ["metrics-write-failed", "metrics-written"]
    assert (missing / "atvm_watcher_b1.prom").is_file()


def test_an_unsafe_build_name_is_journalled_not_raised(tmp_path):
    journal = Journal()
    writer = metrics.MetricsWriter(str(tmp_path), "../escape", Clock(), journal)
    assert not writer.update(_state("x"))
    assert journal.events and journal.events[0][0] == "metrics-write-failed"
    assert os.listdir(tmp_path) == [] and not (tmp_path.parent / "escape.prom").exists()


def test_metrics_are_off_without_a_directory(tmp_path):
    journal = Journal()
    writer = metrics.MetricsWriter("", "b1", Clock(), journal)
    assert not writer.enabled and not writer.update(_state("b1"))
    assert journal.events == []


def test_metrics_dir_setting():
    assert config.Settings().metrics_dir == ""
    settings = config.Settings.from_env({"ATVM_METRICS_DIR": "/var/lib/node_exporter/textfile"})
    assert settings.metrics_dir == "/var/lib/node_exporter/textfile"
    assert "ATVM_METRICS_DIR textfile is not an absolute path" in config.Settings(metrics_dir="textfile").check(
        require_webhook=False)


def test_refresh_from_outbox_after_a_resend(tmp_path):
    """The ended watcher's state.json says one post failed; the outbox (which resend updates) says it
    went out: the file then counts it sent, keeps the state and the watcher's heartbeat."""
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    (tmp_path / "state" / "b7").mkdir(parents=True)
    store = RunStore(RunPaths.at(str(tmp_path / "state" / "b7")))
    state = _state("b7", "COMPLETED", "FAIL", deliveries=(SENT, POST_FAILED))
    state.set_phase(PHASE_DELIVERY_FAILED)
    store.save_state(state)
    for key, status in (("000-linux", SENT), ("001-windows", SENT), ("002-oracle", SENDING)):
        store.outbox_put(OutboxRecord.from_dict({"key": key, "status": status, "text": "t"}))
    settings = config.Settings(build_name="b7", metrics_dir=str(textfile))
    journal = Journal()
    assert metrics.refresh_from_outbox(settings, store, journal)
    families = prom_text.parse((textfile / "atvm_watcher_b7.prom").read_text())
    assert _values(families, "atvm_watcher_posts", "status") == {"sent": 2, "failed": 0, "pending": 1, "corrupt": 0}
    assert _values(families, "atvm_watcher_run_result", "result")["FAIL"] == 1
    beat = families["atvm_watcher_heartbeat_timestamp_seconds"]["samples"][0][1]
    saved = store.load_state()
    assert beat == int(metrics.epoch_of(saved.updated_at))
    assert journal.events == []


def test_refresh_from_outbox_does_nothing_when_off_or_without_a_state(tmp_path):
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    (tmp_path / "state" / "b8").mkdir(parents=True)
    store = RunStore(RunPaths.at(str(tmp_path / "state" / "b8")))
    store.outbox_put(OutboxRecord.from_dict({"key": "000-linux", "status": SENT, "text": "t"}))
    assert not metrics.refresh_from_outbox(config.Settings(build_name="b8"), store, Journal())  # metrics off
    assert not metrics.refresh_from_outbox(config.Settings(build_name="b8", metrics_dir=str(textfile)), store, Journal())
    assert os.listdir(textfile) == []  # no state.json: nothing to describe

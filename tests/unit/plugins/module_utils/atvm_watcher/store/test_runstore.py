# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""state.py: atomic files, corrupt files set aside (never lost, never fatal), outbox, markers, archive."""
from __future__ import annotations

import errno
import json
import os
import stat
import threading

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord, SubrunRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstate
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import durable
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import BuildNameError, StateError

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y", "..", "", ".hidden", "a/b", "a" * 101]


def files_in(directory):
    return sorted(os.listdir(directory))


@pytest.fixture
def lines():
    return []


@pytest.fixture
def store(tmp_path, lines):
    return state.RunStore(RunPaths.at(str(tmp_path / "B")), journal=lines.append).ensure()


# ---------------------------------------------------------------------------------------------
# atomic writes
# ---------------------------------------------------------------------------------------------


def test_atomic_write_json_round_trip_mode_and_no_temp_files(tmp_path):
    path = tmp_path / "x.json"
    durable.atomic_write_json(str(path), {"b": 1, "a": "é"})
    durable.atomic_write_json(str(path), {"b": 2, "a": "ü"})
    assert json.loads(path.read_text(encoding="utf-8")) == {"a": "ü", "b": 2}
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    assert files_in(tmp_path) == ["x.json"]


def test_atomic_write_failure_keeps_the_old_file_and_leaves_no_temp_file(tmp_path, monkeypatch):
    path = tmp_path / "x.json"
    durable.atomic_write_json(str(path), {"v": 1})

    def broken_replace(src, dst):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(state.os, "replace", broken_replace)
    with pytest.raises(StateError, match=r"cannot write .*x\.json: No space left on device"):
        durable.atomic_write_json(str(path), {"v": 2})
    monkeypatch.undo()
    assert json.loads(path.read_text()) == {"v": 1}
    assert files_in(tmp_path) == ["x.json"]


def test_unserialisable_value_is_a_state_error_naming_the_file(tmp_path):
    with pytest.raises(StateError, match="x.json"):
        durable.atomic_write_json(str(tmp_path / "x.json"), {"v": object()})
    assert files_in(tmp_path) == []


def test_lone_surrogates_from_invalid_utf8_are_replaced(tmp_path):
    path = tmp_path / "x.json"
    text = b"bad \xff byte".decode("utf-8", "surrogateescape")
    durable.atomic_write_json(str(path), {"t": text, text: [text]})
    assert durable.read_json(str(path)) == {"t": "bad \ufffd byte", "bad \ufffd byte": ["bad \ufffd byte"]}


def test_atomic_write_bytes_mode(tmp_path):
    path = tmp_path / "watcher.env"
    durable.atomic_write_bytes(str(path), b"A=1\n", 0o600)
    assert path.read_bytes() == b"A=1\n"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


# ---------------------------------------------------------------------------------------------
# corrupt files
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("content,detail", [
    (b'{"a": ', "line 1 column 7: Expecting value"),
    (b"", "empty file"),
    (b"\xff\xfe{}", "not UTF-8 at byte 0"),
    (b"[1, 2]", "not a JSON object but a list"),
])
def test_corrupt_state_json_is_set_aside_with_a_journal_line(store, lines, content, detail):
    with open(store.paths.state, "wb") as handle:
        handle.write(content)
    assert store.load_state() is None
    assert len(lines) == 1
    assert lines[0].startswith("state.json was corrupt ({0}), set aside as {1}/state.json.corrupt-".format(
        detail, store.paths.dir))
    aside = [n for n in files_in(store.paths.dir) if n.startswith("state.json.corrupt-")]
    assert len(aside) == 1
    with open(os.path.join(store.paths.dir, aside[0]), "rb") as handle:
        assert handle.read() == content  # never deleted, byte for byte
    assert not os.path.exists(store.paths.state)
    events = store.read_events()
    assert events[-1]["event"] == "state_file_set_aside" and events[-1]["message"] == lines[0]
    # the run goes on: a new state can be written
    assert store.save_state(runstate.RunState(build_name="B")).to_dict()["schema"] == 1
    assert store.load_state().build_name == "B"


def test_two_corruptions_in_the_same_second_keep_both_files(tmp_path, lines):
    path = str(tmp_path / "state.json")
    for _attempt in range(2):
        with open(path, "w") as handle:
            handle.write("{")
        assert durable.load_json_or_quarantine(path, lines.append) is None
    assert len([n for n in files_in(tmp_path) if n.startswith("state.json.corrupt-")]) == 2


def test_load_json_or_quarantine_missing_file_is_none_without_a_line(tmp_path, lines):
    assert durable.load_json_or_quarantine(str(tmp_path / "nope.json"), lines.append) is None
    assert lines == []


def test_read_json_raises_corrupt_file_error_with_position(tmp_path):
    path = tmp_path / "x.json"
    path.write_text('{"a": 1,\n "b": }')
    with pytest.raises(durable.CorruptFileError) as info:
        durable.read_json(str(path))
    assert info.value.detail.startswith("line 2 column 7")


def test_corrupt_outbox_record_is_quarantined_reported_and_not_treated_as_sent(store, lines):
    store.outbox_put(OutboxRecord.from_dict({"key": "000-linux", "status": "SENT", "text": "posted", "sent_at": "t"}))
    store.outbox_put(OutboxRecord.from_dict({"key": "001-windows", "status": "POST_FAILED", "text": "kept"}))
    with open(store.outbox_path("000-linux"), "w") as handle:
        handle.write('{"key": "000-linux", "status": "SE')  # torn
    listed = store.outbox_list()
    assert [(r.key, r.status) for r in listed] == [("000-linux", "CORRUPT"), ("001-windows", "POST_FAILED")]
    assert listed[0].possible_duplicate is True
    assert len(lines) == 1 and lines[0].startswith("outbox/000-linux.json was corrupt (")
    assert any(n.startswith("000-linux.json.corrupt-") for n in files_in(store.paths.outbox_dir))
    # still CORRUPT (not SENT, not forgotten) on the next read, without a second journal line
    assert store.outbox_get("000-linux").status == "CORRUPT"
    assert len(lines) == 1


def test_outbox_record_with_an_unknown_status_is_corrupt(store, lines):
    path = store.outbox_path("000-x")
    with open(path, "w") as handle:
        json.dump({"key": "000-x", "status": "DONE", "text": "t"}, handle)
    assert store.outbox_get("000-x").status == "CORRUPT"
    assert "status 'DONE' is not one of" in lines[0]


def test_corrupt_cancel_marker_still_means_cancelled(store, lines):
    with open(store.paths.cancel, "w") as handle:
        handle.write("garbage")
    marker = store.cancel_marker()
    assert marker is not None and marker["by"] == "unknown"
    assert "unreadable" in marker["reason"]
    assert lines[0].startswith("cancel was corrupt (")
    assert store.cancel_marker() == marker  # replaced by a valid marker, stable
    assert any(n.startswith("cancel.corrupt-") for n in files_in(store.paths.dir))


def test_corrupt_exit_record_is_none_reported_once_and_left_for_the_runner(store, lines):
    with open(store.paths.runner_exit, "w") as handle:
        handle.write('{"exit_code": ')
    assert store.exit_record() is None
    assert store.exit_record() is None
    assert len(lines) == 1 and lines[0].startswith("runner-exit.json is corrupt (line 1 column 15")
    assert os.path.exists(store.paths.runner_exit)
    durable.atomic_write_json(store.paths.runner_exit, {"schema": 1, "exit_code": 0})
    assert store.exit_record()["exit_code"] == 0


def test_corrupt_subrun_state_is_set_aside(store, lines):
    store.save_subrun(SubrunRecord(0, "linux", "000-linux", {"result": "PASS"}, posted=True))
    path = os.path.join(store.subrun_dir(0, "linux"), "state.json")
    with open(path, "w") as handle:
        handle.write("{{")
    assert store.load_subrun(0, "linux") is None
    assert lines[0].startswith("subruns/000-linux/state.json was corrupt (")


# ---------------------------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------------------------


def test_ensure_creates_the_layout_with_mode_0750(tmp_path):
    store = state.RunStore(RunPaths.at(str(tmp_path / "B"))).ensure()
    assert files_in(store.paths.dir) == ["outbox", "subruns"]
    for sub in ("", "outbox", "subruns"):
        assert stat.S_IMODE(os.stat(os.path.join(store.paths.dir, sub)).st_mode) == 0o750
    store.ensure()  # idempotent


def test_ensure_sweeps_only_old_temp_files(store):
    old = os.path.join(store.paths.dir, ".state.json.abc.tmp")
    new = os.path.join(store.paths.dir, ".state.json.def.tmp")
    for path in (old, new):
        with open(path, "w") as handle:
            handle.write("{")
    os.utime(old, (1, 1))
    store.ensure()
    assert not os.path.exists(old) and os.path.exists(new)


def test_save_state_adds_schema_and_timestamps(store):
    saved = store.save_state(runstate.RunState.from_dict({"build_name": "B", "run_state": "RUNNING"})).to_dict()
    assert saved["schema"] == 1 and saved["created_at"] and saved["updated_at"].endswith("Z")
    loaded = store.load_state()
    assert loaded.to_dict() == saved
    again = store.save_state(loaded)
    assert again.created_at == saved["created_at"]


def test_subrun_keys_dirs_and_round_trip(store):
    assert state.subrun_key(0, "linux") == "000-linux"
    assert state.subrun_key(12, "Group: rhel 9/x") == "012-Group-rhel-9-x"
    assert state.subrun_key(3, "../..") == "003-run"
    assert store.subrun_dir(1, "win") == os.path.join(store.paths.dir, "subruns", "001-win")
    saved = store.save_subrun(SubrunRecord(1, "win", "", {"result": "FAIL"}, posted=False))
    assert (saved.index, saved.name, saved.key) == (1, "win", "001-win")
    assert store.load_subrun(1, "win").verdict == {"result": "FAIL"}
    assert store.load_subrun(2, "none") is None
    store.save_subrun(SubrunRecord(0, "linux", "", {"result": "PASS"}, posted=True))
    assert [s.key for s in store.list_subruns()] == ["000-linux", "001-win"]


@pytest.mark.parametrize("key", ["0-x", "000-", "000-a/b", "000-..", "../000-x", "abc-x", "000-a b", "", None])
def test_invalid_outbox_keys_are_refused(store, key):
    with pytest.raises(StateError, match="invalid delivery key"):
        store.outbox_get(key)


def test_outbox_put_get_list_sorted_by_key(store):
    for key in ("010-c", "002-b", "000-a"):
        store.outbox_put(OutboxRecord.from_dict({"key": key, "status": "SENDING", "text": key}))
    assert [r.key for r in store.outbox_list()] == ["000-a", "002-b", "010-c"]
    record = store.outbox_get("002-b")
    assert record.to_dict()["schema"] == 1 and record.created_at and record.status == "SENDING"
    assert store.outbox_get("003-none") is None
    with pytest.raises(StateError, match="no message text"):
        store.outbox_put(OutboxRecord.from_dict({"key": "004-x", "status": "SENT"}))
    assert not [n for n in files_in(store.paths.outbox_dir) if n.endswith(".tmp")]


def test_cancel_marker_is_atomic_and_keeps_the_first(store):
    assert store.cancel_marker() is None
    first = store.write_cancel_marker("operator asked", "alice")
    assert (first["schema"], first["by"], first["reason"]) == (1, "alice", "operator asked")
    second = store.write_cancel_marker("again", "bob")
    assert second == first
    with open(store.paths.cancel) as handle:
        assert json.load(handle) == first
    assert not [n for n in files_in(store.paths.dir) if n.endswith(".tmp")]


def test_concurrent_cancel_markers_one_wins(tmp_path):
    results = []
    stores = [state.RunStore(RunPaths.at(str(tmp_path / "B"))) for dummy in range(8)]

    def cancel(i):
        results.append(stores[i].write_cancel_marker("r{0}".format(i), "p{0}".format(i)))

    threads = [threading.Thread(target=cancel, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({json.dumps(r, sort_keys=True) for r in results}) == 1


def test_events_append_one_json_line_each(store):
    assert store.event("watcher-start", pid=12, note="line\nbreak")
    assert store.event("decided", result="PASS", obj={"a": object()})
    with open(store.paths.events, "rb") as handle:
        raw = handle.read().splitlines()
    assert len(raw) == 2
    first = json.loads(raw[0])
    assert (first["event"], first["pid"], first["note"]) == ("watcher-start", 12, "line\nbreak")
    assert first["ts"].endswith("Z")
    assert json.loads(raw[1])["event"] == "decided"


def test_event_never_raises_on_a_full_disk(store, monkeypatch):
    def full(fd, data):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(state.os, "write", full)
    assert store.event("x") is False


def test_event_without_a_state_directory_returns_false(tmp_path):
    assert state.RunStore(RunPaths.at(str(tmp_path / "missing" / "B"))).event("x") is False


def test_events_redact_secrets(tmp_path):
    webhook = "http://127.0.0.1:1/hooks/eventshook0123"
    store = state.RunStore(RunPaths.at(str(tmp_path / "B")), secrets=(webhook,)).ensure()
    store.event("oops", message="posting to " + webhook)
    with open(store.paths.events) as handle:
        text = handle.read()
    assert "eventshook0123" not in text and "***" in text


def test_read_events_skips_a_torn_last_line(store):
    store.event("a")
    with open(store.paths.events, "ab") as handle:
        handle.write(b'{"ts": "x", "ev')
    assert [e["event"] for e in store.read_events()] == ["a"]


def test_for_build_validates_the_build_name(tmp_path):
    assert state.RunStore.for_build(str(tmp_path), "b-1.2_x").paths.dir == str(tmp_path / "b-1.2_x")
    for name in HOSTILE:
        with pytest.raises(BuildNameError):
            state.RunStore.for_build(str(tmp_path), name)


# ---------------------------------------------------------------------------------------------
# archive
# ---------------------------------------------------------------------------------------------


def test_archive_moves_the_state_dir_and_keeps_it(tmp_path):
    root = str(tmp_path)
    store = state.RunStore(RunPaths.at(os.path.join(root, "B"))).ensure()
    store.save_state(runstate.RunState(build_name="B", run_state="COMPLETED"))
    store.write_cancel_marker("old", "x")
    target = state.archive_state_dir(RunPaths(root, "B"))
    assert target is not None and os.path.dirname(target) == os.path.join(root, ".archive")
    assert os.path.basename(target).startswith("B.")
    assert not os.path.exists(os.path.join(root, "B"))
    with open(os.path.join(target, "state.json")) as handle:
        assert json.load(handle)["run_state"] == "COMPLETED"
    # a new run for the same build starts without the stale marker
    assert state.RunStore(RunPaths.at(os.path.join(root, "B"))).ensure().cancel_marker() is None


def test_archive_of_nothing_is_none(tmp_path):
    assert state.archive_state_dir(RunPaths(str(tmp_path), "B")) is None
    assert not os.path.exists(str(tmp_path / ".archive"))


def test_archive_retention_keeps_the_newest_of_that_build_only(tmp_path):
    root = str(tmp_path)
    state.RunStore(RunPaths.at(os.path.join(root, "Bx"))).ensure()
    other = state.archive_state_dir(RunPaths(root, "Bx"))
    made = []
    for n in range(7):
        store = state.RunStore(RunPaths.at(os.path.join(root, "B"))).ensure()
        store.save_state(runstate.RunState.from_dict({"build_name": "B", "n": n}))
        made.append(state.archive_state_dir(RunPaths(root, "B"), keep=3))
    left = state.list_archives(RunPaths(root, "B"))
    assert left == made[-3:]
    kept = []
    for path in left:
        with open(os.path.join(path, "state.json")) as handle:
            kept.append(json.load(handle)["n"])
    assert kept == [4, 5, 6]
    assert os.path.isdir(other)  # another build's archive is untouched (names share a prefix)
    assert state.list_archives(RunPaths(root, "Bx")) == [other]


@pytest.mark.parametrize("name", HOSTILE)
def test_archive_refuses_hostile_build_names_before_touching_paths(tmp_path, name):
    with pytest.raises(BuildNameError):
        state.archive_state_dir(RunPaths(str(tmp_path), name))
    assert files_in(tmp_path) == []

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""runstate.py: the one owner of state.json, read by the one reader (store, watcher, status, run_info)."""
from __future__ import annotations

import io
import json
import os
import re

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstate
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import Settings
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import CypressRun
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.runinfo import read_run
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host.systemd import Systemd
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.watch.loop import Watcher

HOOK = "http://127.0.0.1:9/hooks/runstatetesthook"
WRONG_TYPES = [
    ({"subruns": None}, "subruns is null"),
    ({"runner": None}, "runner is null"),
    ({"watcher": None}, "watcher is null"),
    ({"subruns": [1, 2]}, "subruns[0] is a number, not an object"),
    ({"subruns": [{"name": "linux"}]}, "subruns[0].index is missing"),
    ({"subruns": [{"index": True}]}, "subruns[0].index is a boolean"),
    ({"subruns": [{"index": 0}, {"index": 0}]}, "subruns[1].index 0 is negative or repeated"),
    ({"subruns": [{"index": 0, "first_seen": "soon"}]}, "subruns[0].first_seen is a string"),
    ({"runner": {"pid": "12"}}, "runner.pid is a string"),
    ({"runner": {"exit": []}}, "runner.exit is a list"),
    ({"watcher": {"phase": 3}}, "watcher.phase is a number"),
    ({"reasons": "failed"}, "reasons is a string"),
    ({"reasons": [1]}, "reasons[0] is a number"),
    ({"categorized": "yes"}, "categorized is a string"),
    ({"run_state": None}, "run_state is null"),
    ({"delivery": []}, "delivery is a list"),
    ({"metadata": "x"}, "metadata is a string"),
]


def doc(**fields):
    base = {"schema": 1, "build_name": "b1", "run_state": "RUNNING", "result": "RUN", "subruns": []}
    base.update(fields)
    return base


@pytest.fixture
def lines():
    return []


@pytest.fixture
def store(tmp_path, lines):
    return state.RunStore(RunPaths.at(str(tmp_path / "b1")), journal=lines.append).ensure()


@pytest.mark.parametrize("fields, detail", WRONG_TYPES)
def test_wrong_types_are_read_as_corrupt_and_set_aside(store, lines, fields, detail):
    with open(store.paths.state, "w") as handle:
        json.dump(doc(**fields), handle)
    assert store.load_state() is None
    assert len(lines) == 1 and lines[0].startswith("state.json was corrupt ({0}), set aside as ".format(detail))
    assert not os.path.exists(store.paths.state)
    assert [n for n in os.listdir(store.paths.dir) if n.startswith("state.json.corrupt-")]
    assert store.read_events()[-1]["event"] == "state_file_set_aside"


@pytest.mark.parametrize("fields, detail", WRONG_TYPES[:4])
def test_the_watcher_starts_a_new_state_over_a_wrong_typed_one(tmp_path, fields, detail):
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path))
    stream = io.StringIO()
    watcher = Watcher(settings, log_stream=stream, environ={})
    os.makedirs(watcher.store.paths.dir)
    with open(watcher.store.paths.state, "w") as handle:
        json.dump(doc(**fields), handle)
    watcher._load_state()  # pylint: disable=protected-access
    assert watcher.state.build_name == "b1" and watcher.state.subruns == [] and watcher.state.run_state == "RUNNING"
    assert "b1: state.json was corrupt ({0}), set aside".format(detail) in stream.getvalue()
    assert "runstatetesthook" not in stream.getvalue()


@pytest.mark.parametrize("fields, detail", WRONG_TYPES[:3])
def test_status_of_a_wrong_typed_state_is_a_clear_error(tmp_path, capsys, fields, detail):
    os.makedirs(str(tmp_path / "b1"))
    (tmp_path / "b1" / "state.json").write_text(json.dumps(doc(**fields)))
    assert cli.main(["status", "--build-name", "b1", "--state-root", str(tmp_path)], environ={}) == 1
    err = capsys.readouterr()[1]
    assert "no state for build b1" in err and "Traceback" not in err


def test_round_trip_keeps_the_document_and_unknown_keys(store):
    original = doc(categorized=True, created_at="2026-11-27T10:00:00.000Z", created_epoch=1.5, ended_at=None,
                   watcher={"pid": 7, "phase": "watching", "started_at": "x", "pid_start_time": 3.25},
                   runner={"unit": "atvm-runner@b1.service", "pid": 8, "pid_start_time": 4.0, "exit": None},
                   metadata={"template": "t"}, reasons=["r"], delivery={"sent": 1, "failed": 0, "pending": 0},
                   subruns=[{"index": 1, "name": "w", "state": "COMPLETED", "result": "PASS", "finalized": True,
                             "key": "001-w", "delivery": "SENT", "first_seen": 2.0, "finished_seen": None,
                             "finalized_at": "y", "later": "kept"}, {"index": 0}],
                   future_field={"kept": True})
    run = runstate.RunState.from_dict(original)
    assert [e.index for e in run.subruns] == [0, 1]
    written = store.save_state(run).to_dict()
    again = store.load_state().to_dict()
    assert again == written
    assert again["future_field"] == {"kept": True} and again["subruns"][1]["later"] == "kept"
    assert again["runner"] == original["runner"] and again["watcher"] == original["watcher"]


def test_delivery_counts_say_what_a_corrupt_record_is():
    counts = runstate.delivery_counts(["SENT", "POST_FAILED", "PENDING", "SENDING", "CORRUPT", "NOT_POSTED", None])
    assert counts == {"sent": 1, "failed": 1, "pending": 2, "corrupt": 1}
    assert runstate.delivery_counts(["SENT"]) == {"sent": 1, "failed": 0, "pending": 0}


def test_run_info_counts_a_corrupt_outbox_record_as_corrupt_not_pending(store):
    store.outbox_put(OutboxRecord.from_dict({"key": "000-a", "status": "SENT", "text": "t"}))
    store.outbox_put(OutboxRecord.from_dict({"key": "001-b", "status": "SENT", "text": "t"}))
    with open(store.outbox_path("001-b"), "w") as handle:
        handle.write("{torn")
    store.save_state(runstate.RunState.from_dict(doc(subruns=[{"index": 0, "name": "a", "key": "000-a"},
                                                              {"index": 1, "name": "b", "key": "001-b"}])))
    info = read_run(store, Systemd(lambda argv: (1, "", "no systemd here")), "b1")
    assert info["delivery"] == {"sent": 1, "failed": 0, "pending": 0, "corrupt": 1}
    assert [s["delivery"] for s in info["subruns"]] == ["SENT", "CORRUPT"]
    assert info["units"]["runner"]["live"] is False and "no systemd here" in info["units"]["runner"]["error"]


def test_phases_are_one_vocabulary_set_through_one_setter():
    run = runstate.RunState(build_name="b1")
    assert runstate.PHASE_STOPPED in runstate.PHASES
    assert run.set_phase("watching") is True and run.set_phase("watching") is False
    with pytest.raises(ValueError, match="unknown watcher phase"):
        run.set_phase("sleeping")


def test_mark_cancelled_keeps_a_decided_result_and_the_reason_once():
    run = runstate.RunState(build_name="b1")
    run.mark_cancelled("alice", "wrong config")
    run.mark_cancelled("alice", "wrong config")
    assert (run.run_state, run.result, run.reasons) == ("CANCELLED", "UNKNOWN", ["cancelled by alice: wrong config"])
    assert run.ended_at.endswith("Z")
    decided = runstate.RunState(build_name="b1", result="FAIL")
    decided.mark_cancelled("bob", "x")
    assert decided.result == "FAIL"


def test_every_timestamp_written_has_one_format(store):
    saved = store.save_state(runstate.RunState.new("b1")).to_dict()
    marker = store.write_cancel_marker("r", "me")
    run = runstate.RunState.new("b1")
    run.mark_cancelled("me", "r")
    assert store.event("probe")
    pattern = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$"
    for stamp in (saved["created_at"], saved["updated_at"], marker["requested_at"], store.read_events()[-1]["ts"],
                  run.ended_at):
        assert re.match(pattern, stamp), stamp


def test_a_sub_run_found_at_start_up_never_gets_a_late_first_seen(tmp_path):
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path))
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, clock=lambda: 500.0)
    watcher.parser.runs.append(CypressRun(index=0, started=True))  # as the parser found it
    watcher.follower.note_runs()
    watcher.track_subruns(live=False)  # the log read at start-up: sub-run 1 was running before this watcher
    watcher.parser.runs.append(CypressRun(index=1, started=True))
    watcher.follower.note_runs()
    watcher.track_subruns(live=True)
    first, second = watcher.state.subruns
    assert (first.seen_late, first.first_seen) == (True, None), "its artifacts would be bounded by a late time"
    assert (second.seen_late, second.first_seen) == (False, 500.0)
    assert watcher.evidence().not_before == {0: watcher.state.created_epoch or watcher.started_at, 1: 500.0}

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.run_info driven through main()."""
from __future__ import annotations

import os
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord, SubrunRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore
from ansible_collections.atvm.watcher.plugins.modules import run_info, watcher_start

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y"]


def test_reads_a_finished_categorized_run(run_module, systemd):
    store = RunStore(RunPaths.at(os.path.join(systemd.state_root, "b1"))).ensure()
    subruns = []
    for index, name in enumerate(("linux", "windows", "mixed")):
        key = "{0:03d}-{1}".format(index, name)
        store.save_subrun(SubrunRecord(index, name, key, {"index": index, "name": name, "state": "COMPLETED",
                                                          "result": "PASS"}, posted=True, text="t"))
        store.outbox_put(OutboxRecord.from_dict({"key": key, "subrun_index": index, "subrun_name": name, "text": "t",
                                                 "status": "POST_FAILED" if name == "mixed" else "SENT"}))
        subruns.append({"index": index, "name": name, "key": key})
    store.save_state(RunState.from_dict({"build_name": "b1", "run_state": "COMPLETED", "result": "PASS",
                                         "categorized": True, "watcher": {"phase": "delivery-failed"}, "subruns": subruns}))
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root,
                                           "fail_on_undelivered": False}, check=True)
    assert failed is False and result["changed"] is False
    assert [(r["key"], r["status"]) for r in result["undelivered"]] == [("002-mixed", "POST_FAILED")]
    assert (result["run_state"], result["result"], result["terminal"], result["phase"]) == \
        ("COMPLETED", "PASS", True, "delivery-failed")
    assert [(s["name"], s["result"], s["delivery"]) for s in result["subruns"]] == [
        ("linux", "PASS", "SENT"), ("windows", "PASS", "SENT"), ("mixed", "PASS", "POST_FAILED")]
    assert result["delivery"] == {"sent": 2, "failed": 1, "pending": 0}
    assert result["units"]["watcher"]["ActiveState"] == "inactive"
    assert systemd.mutating() == []


def test_wait_timeout_fails(run_module, systemd):
    assert run_module(watcher_start, {"build_name": "b1", "state_root": systemd.state_root,
                                      "automation_dir": systemd.checkout})[1] is False
    started = time.monotonic()
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root, "wait": True,
                                           "timeout": 0.4})
    assert time.monotonic() - started < 3
    assert failed is True and result["timed_out"] is True and result["run_state"] == "RUNNING"
    assert "still RUNNING after waiting 0.4 seconds" in result["msg"]


def test_wait_returns_at_once_for_an_ended_run(run_module, systemd):
    systemd.write_state("b1", run_state="TERMINATED", result="FAIL", watcher={"phase": "done"})
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root, "wait": True,
                                           "timeout": 30})
    assert failed is False and result["run_state"] == "TERMINATED" and result["waited"] is True


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_build_names(run_module, systemd, name):
    result, failed = run_module(run_info, {"build_name": name, "state_root": systemd.state_root})
    assert failed is True and result["build_name_refused"] is True
    assert systemd.calls == []


def _ended_with(systemd, status, last_error=None):
    store = RunStore(RunPaths.at(os.path.join(systemd.state_root, "b1"))).ensure()
    store.outbox_put(OutboxRecord.from_dict({"key": "000-run", "subrun_index": 0, "text": "t", "status": status, "last_error": last_error}))
    store.save_state(RunState.from_dict({"build_name": "b1", "run_state": "FAILED", "result": "FAIL",
                                         "watcher": {"phase": "done"},
                                         "subruns": [{"index": 0, "name": None, "key": "000-run"}]}))


@pytest.mark.parametrize("status", ["POST_FAILED", "SENDING"])
def test_an_ended_run_with_an_undelivered_post_fails(run_module, systemd, status):
    _ended_with(systemd, status, "HTTP 403 web.incoming_webhook.channel_locked.app_error: locked (permanent)")
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root, "wait": True,
                                           "timeout": 5})
    assert failed is True
    assert result["msg"].startswith("build b1 ended (FAILED FAIL) but 1 post(s) did not reach the channel: 000-run " + status)
    assert "channel_locked" in result["msg"]
    assert "ansible-playbook atvm.watcher.resend_run -e build_name=b1" in result["msg"]
    assert "atvm-run-watcher resend --build-name b1" in result["msg"]
    assert result["delivery"]["sent"] == 0 and result["undelivered"][0]["status"] == status


def test_an_undelivered_post_is_reported_without_failing_when_asked(run_module, systemd):
    _ended_with(systemd, "POST_FAILED")
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root,
                                           "fail_on_undelivered": False})
    assert failed is False and [r["key"] for r in result["undelivered"]] == ["000-run"]


def test_a_pending_post_with_its_watcher_still_running_is_not_a_failure(run_module, systemd):
    _ended_with(systemd, "SENDING")
    systemd.set_state("atvm-run-watcher@b1.service", "active", pid=4242)
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root})
    assert failed is False and result["undelivered"] == []


def test_a_run_not_over_with_neither_unit_running_fails_at_once_with_the_way_out(run_module, systemd):
    """The watcher gave up (systemd's start limit, after a full disk say) before the run was decided:
    nothing would ever post it. run_info says so at once, even when asked to wait, and how to go on."""
    systemd.write_state("b1", run_state="RUNNING", result="RUN", watcher={"phase": "watching"})
    systemd.set_state("atvm-run-watcher@b1.service", "failed", sub="failed")
    systemd.unit("atvm-run-watcher@b1.service").update(Result="start-limit-hit")
    started = time.monotonic()
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root, "wait": True,
                                           "timeout": 60})
    assert time.monotonic() - started < 10
    assert failed is True and result["watcher_gone"] is True
    assert result["msg"].startswith("build b1 is not over (RUNNING) but neither its runner nor its watcher runs "
                                    "(watcher failed/start-limit-hit)")
    assert "systemctl reset-failed atvm-run-watcher@b1.service; systemctl start atvm-run-watcher@b1.service" in result["msg"]
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root,
                                           "fail_on_undelivered": False})
    assert failed is False and result["watcher_gone"] is True


def test_a_run_not_over_whose_watcher_restarts_is_not_gone(run_module, systemd):
    systemd.write_state("b1", run_state="RUNNING", result="RUN", watcher={"phase": "watching"})
    systemd.set_state("atvm-run-watcher@b1.service", "activating", sub="auto-restart")
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root})
    assert failed is False and result["watcher_gone"] is False


# ---- a mistyped build name is not green; a failed run can fail the job ----

def _finished(systemd, build, result="PASS", run_state="COMPLETED", reasons=()):
    store = RunStore(RunPaths(systemd.state_root, build)).ensure()
    store.save_state(RunState.from_dict({"build_name": build, "run_state": run_state, "result": result,
                                         "reasons": list(reasons), "watcher": {"phase": "done"}, "subruns": []}))


@pytest.mark.parametrize("wait", [False, True])
def test_an_unknown_build_fails_naming_the_closest_builds(run_module, systemd, wait):
    for build in ("nightly-41", "nightly-42", "weekly-7"):
        _finished(systemd, build)
    started = time.monotonic()
    result, failed = run_module(run_info, {"build_name": "nightly-24", "state_root": systemd.state_root,
                                           "wait": wait, "timeout": 30})
    assert time.monotonic() - started < 5
    assert failed is True and result["unknown_build"] is True and result["exists"] is False
    assert result["msg"].startswith("no run nightly-24 on this controller (state root {0}): did you mean "
                                    "nightly-42 or nightly-41?".format(systemd.state_root)), result["msg"]
    assert "missing_ok=true" in result["msg"]


def test_an_unknown_build_on_an_empty_controller(run_module, systemd):
    result, failed = run_module(run_info, {"build_name": "nightly-1", "state_root": systemd.state_root})
    assert failed is True and "there is no run there at all" in result["msg"]


def test_missing_ok_keeps_a_missing_run_green(run_module, systemd):
    result, failed = run_module(run_info, {"build_name": "nightly-1", "state_root": systemd.state_root,
                                           "missing_ok": True})
    assert failed is False and result["exists"] is False and result["run_state"] is None


@pytest.mark.parametrize("result_, run_state, fails", [
    ("PASS", "COMPLETED", False), ("FAIL", "FAILED", True), ("UNKNOWN", "HUNG", True), ("FAIL", "RUNNING", False),
])
def test_fail_on_result(run_module, systemd, result_, run_state, fails):
    _finished(systemd, "b1", result=result_, run_state=run_state, reasons=["2 of 5 specs failed"])
    args = {"build_name": "b1", "state_root": systemd.state_root, "fail_on_result": True}
    if run_state == "RUNNING":  # not over: no result to fail on yet (its watcher runs)
        systemd.set_state("atvm-run-watcher@b1.service", "active", pid=4242)
    result, failed = run_module(run_info, args)
    assert failed is fails, result
    if fails:
        assert result["failed_on_result"] is True
        assert result["msg"] == "build b1 ended {0} with result {1}: 2 of 5 specs failed".format(run_state, result_)
    plain, failed = run_module(run_info, dict(args, fail_on_result=False))
    assert failed is False and plain["result"] == result_

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.run_info driven through main()."""
from __future__ import annotations

import os
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.state import RunStore
from ansible_collections.atvm.watcher.plugins.modules import run_info, watcher_start

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y"]


def test_reads_a_finished_categorized_run(run_module, systemd):
    store = RunStore(os.path.join(systemd.state_root, "b1")).ensure()
    subruns = []
    for index, name in enumerate(("linux", "windows", "mixed")):
        key = "{0:03d}-{1}".format(index, name)
        store.save_subrun(index, name, {"verdict": {"index": index, "name": name, "state": "COMPLETED", "result": "PASS"},
                                        "posted": True, "text": "t"})
        store.outbox_put({"key": key, "subrun_index": index, "subrun_name": name, "text": "t",
                          "status": "POST_FAILED" if name == "mixed" else "SENT"})
        subruns.append({"index": index, "name": name, "key": key})
    store.save_state(RunState.from_dict({"build_name": "b1", "run_state": "COMPLETED", "result": "PASS",
                                         "categorized": True, "watcher": {"phase": "delivery-failed"}, "subruns": subruns}))
    result, failed = run_module(run_info, {"build_name": "b1", "state_root": systemd.state_root}, check=True)
    assert failed is False and result["changed"] is False
    assert (result["run_state"], result["result"], result["terminal"], result["phase"]) == \
        ("COMPLETED", "PASS", True, "delivery-failed")
    assert [(s["name"], s["result"], s["delivery"]) for s in result["subruns"]] == [
        ("linux", "PASS", "SENT"), ("windows", "PASS", "SENT"), ("mixed", "PASS", "POST_FAILED")]
    assert result["delivery"] == {"sent": 2, "failed": 1, "pending": 0}
    assert result["units"]["watcher"]["ActiveState"] == "inactive"
    assert systemd.mutating() == []


def test_wait_timeout_fails(run_module, systemd):
    assert run_module(watcher_start, {"build_name": "b1", "state_root": systemd.state_root})[1] is False
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

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.run_resend driven through main(): the outbox resent once, over the Mattermost double."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as settings_mod
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore
from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd
from ansible_collections.atvm.watcher.plugins.modules import run_info, run_resend


HOOK = "modulestesthook0000000000001"


@pytest.fixture
def double():
    with mmd.MattermostDouble(hook_ids=(HOOK,)) as server:
        yield server


@pytest.fixture
def controller(tmp_path, monkeypatch, systemd, double):
    """The controller-wide env file pointing at the double, and a FAIL run whose post failed for good."""
    env = tmp_path / "atvm-run-watcher.env"
    env.write_text("MATTERMOST_ATVM_WEBHOOK='{0}'\nMATTERMOST_ATVM_CHANNEL='town-square'\n"
                   "ATVM_DELIVERY_DEADLINE='5'\n".format(double.url_for(HOOK)), encoding="utf-8")
    monkeypatch.setattr(settings_mod, "GLOBAL_ENV_FILE", str(env))
    store = RunStore(RunPaths.at(os.path.join(systemd.state_root, "b1"))).ensure()
    store.outbox_put(OutboxRecord.from_dict({"key": "000-run", "subrun_index": 0, "subrun_name": None, "status": "POST_FAILED",
                                             "text": ":x: FAIL build `b1`", "attempts": 1, "last_error": "HTTP 400: unknown or deleted hook id"}))
    store.save_state(RunState.from_dict({"build_name": "b1", "run_state": "FAILED", "result": "FAIL",
                                         "watcher": {"phase": "delivery-failed"},
                                         "subruns": [{"index": 0, "name": None, "key": "000-run"}]}))
    return env


def test_resends_the_failed_post_exactly_once(run_module, systemd, controller, double):
    args = {"build_name": "b1", "state_root": systemd.state_root}
    result, failed = run_module(run_resend, args)
    assert failed is False and result["changed"] is True
    assert (result["sent"], result["not_sent"]) == (1, 0)
    assert [(r["key"], r["status"]) for r in result["records"]] == [("000-run", "SENT")]
    assert double.texts() == [":x: FAIL build `b1`"]
    again, failed = run_module(run_resend, args)
    assert failed is False and again["changed"] is False and again["records"] == []
    assert len(double.texts()) == 1
    info, failed = run_module(run_info, args)
    assert failed is False and info["undelivered"] == [] and info["delivery"]["sent"] == 1
    assert HOOK not in json.dumps([result, again, info])


def test_check_mode_posts_nothing(run_module, systemd, controller, double):
    result, failed = run_module(run_resend, {"build_name": "b1", "state_root": systemd.state_root}, check=True)
    assert failed is False and result["changed"] is True
    assert [r["key"] for r in result["records"]] == ["000-run"]
    assert double.texts() == []


def test_a_refused_resend_fails_and_keeps_the_record(run_module, systemd, controller, double, tmp_path):
    controller.write_text(controller.read_text(encoding="utf-8").replace(HOOK, "deletedhook00000000000000001"),
                          encoding="utf-8")
    result, failed = run_module(run_resend, {"build_name": "b1", "state_root": systemd.state_root})
    assert failed is True and result["not_sent"] == 1
    assert "b1: 1 post(s) still not delivered: 000-run: HTTP 400" in result["msg"] and "deletedhook" not in json.dumps(result)
    assert RunStore(RunPaths.at(os.path.join(systemd.state_root, "b1"))).outbox_get("000-run").status == "POST_FAILED"
    assert double.texts() == []


def test_refuses_while_the_watcher_runs(run_module, systemd, controller, double):
    systemd.set_state("atvm-run-watcher@b1.service", "active", pid=4242)
    result, failed = run_module(run_resend, {"build_name": "b1", "state_root": systemd.state_root})
    assert failed is True and "still running" in result["msg"]
    assert double.texts() == []


def test_refuses_a_hostile_build_name(run_module, systemd, controller):
    result, failed = run_module(run_resend, {"build_name": "../etc", "state_root": systemd.state_root})
    assert failed is True and result["build_name_refused"] is True and systemd.calls == []

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.run_cancel driven through main()."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.atvm.watcher.plugins.modules import run_cancel, runner_start, watcher_start

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y"]


def live_run(run_module, systemd):
    base = {"build_name": "b1", "state_root": systemd.state_root}
    assert run_module(watcher_start, dict(base, automation_dir=systemd.checkout))[1] is False
    assert run_module(runner_start, dict(base, command="python3 ./run.py"))[1] is False
    return base


def test_cancel_a_live_run(run_module, systemd):
    base = live_run(run_module, systemd)
    result, failed = run_module(run_cancel, dict(base, reason="wrong config", requested_by="alice"), diff=True)
    assert failed is False and result["changed"] is True and result["run_state"] == "CANCELLED"
    assert result["previous_state"] == "RUNNING"
    assert result["diff"] == {"before": "RUNNING", "after": "CANCELLED"}
    assert result["stopped"] == ["atvm-runner@b1.service", "atvm-run-watcher@b1.service"]
    with open(os.path.join(systemd.state_root, "b1", "cancel"), encoding="utf-8") as handle:
        marker = json.load(handle)
    assert (marker["by"], marker["reason"]) == ("alice", "wrong config")
    assert systemd.read_state("b1")["run_state"] == "CANCELLED"
    assert all(u["ActiveState"] == "inactive" for u in systemd.units.values())

    again, failed = run_module(run_cancel, base)
    assert failed is False and again["changed"] is False and "already ended (CANCELLED)" in again["msg"]


def test_cancel_of_a_finished_run_says_so(run_module, systemd):
    base = live_run(run_module, systemd)
    systemd.write_state("b1", run_state="FAILED", result="FAIL", watcher={"phase": "done"})
    for unit in list(systemd.units):
        systemd.set_state(unit, "inactive", "dead")
    result, failed = run_module(run_cancel, base)
    assert failed is False and result["changed"] is False and result["run_state"] == "FAILED"
    assert "already ended (FAILED)" in result["msg"]
    assert not os.path.exists(os.path.join(systemd.state_root, "b1", "cancel"))


def test_check_mode_cancels_nothing(run_module, systemd):
    base = live_run(run_module, systemd)
    stops = systemd.verbs("stop")
    result, failed = run_module(run_cancel, base, check=True)
    assert failed is False and result["changed"] is True
    assert systemd.verbs("stop") == stops
    assert not os.path.exists(os.path.join(systemd.state_root, "b1", "cancel"))
    assert systemd.read_state("b1")["run_state"] == "RUNNING"


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_build_names(run_module, systemd, name):
    result, failed = run_module(run_cancel, {"build_name": name, "state_root": systemd.state_root})
    assert failed is True and result["build_name_refused"] is True
    assert systemd.calls == [] and not os.path.exists(systemd.state_root)


def test_cancelling_an_unknown_build_fails_and_names_the_closest(run_module, systemd):
    live_run(run_module, systemd)
    result, failed = run_module(run_cancel, {"build_name": "b2", "state_root": systemd.state_root})
    assert failed is True and result["unknown_build"] is True
    assert "no run b2 on this controller" in result["msg"] and "the newest builds there: b1;" in result["msg"]
    assert "nothing was cancelled" in result["msg"]
    assert not os.path.exists(os.path.join(systemd.state_root, "b2"))
    assert [c for c in systemd.mutating() if "b2" in c[-1]] == []


def test_missing_ok_cancels_nothing_and_succeeds(run_module, systemd):
    result, failed = run_module(run_cancel, {"build_name": "b2", "state_root": systemd.state_root, "missing_ok": True})
    assert failed is False and result["changed"] is False

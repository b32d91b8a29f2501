# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.runner_start driven through main(): watcher first, idempotence, refusals."""
from __future__ import annotations

import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import read_env_file
from ansible_collections.atvm.watcher.plugins.modules import runner_start, watcher_start

CMD = "python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts --build_name b1"
HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y"]


def start_watcher(run_module, systemd, **extra):
    args = {"build_name": "b1", "state_root": systemd.state_root, "automation_dir": systemd.checkout,
            "metadata": {"runner_command": CMD}}
    args.update(extra)
    result, failed = run_module(watcher_start, args)
    assert failed is False, result


def test_refused_without_a_ready_watcher(run_module, systemd):
    result, failed = run_module(runner_start, {"build_name": "b1", "state_root": systemd.state_root, "command": CMD})
    assert failed is True and "no ready watcher" in result["msg"] and "start the watcher first" in result["msg"]
    assert result["watcher"]["ActiveState"] == "inactive"
    assert systemd.mutating() == []
    assert not os.path.exists(systemd.state_root)


def test_starts_under_a_ready_watcher_then_changes_nothing(run_module, systemd):
    start_watcher(run_module, systemd)
    args = {"build_name": "b1", "state_root": systemd.state_root, "command": CMD}
    result, failed = run_module(runner_start, args, diff=True)
    assert failed is False and result["changed"] is True
    assert result["runner"]["ActiveState"] == "active" and result["workdir"] == systemd.checkout
    env = read_env_file(os.path.join(systemd.state_root, "b1", "runner.env"))
    assert env == {"ATVM_RUNNER_COMMAND": CMD, "ATVM_RUNNER_WORKDIR": systemd.checkout,
                   "ATVM_RUNNER_LOG": os.path.join(systemd.state_root, "b1", "runner.log")}
    assert "ATVM_RUNNER_COMMAND" in result["diff"]["after"]
    again, failed = run_module(runner_start, args)
    assert failed is False and again["changed"] is False
    assert systemd.verbs("start") == ["atvm-run-watcher@b1.service", "atvm-runner@b1.service"]


def test_check_mode(run_module, systemd):
    start_watcher(run_module, systemd)
    result, failed = run_module(runner_start, {"build_name": "b1", "state_root": systemd.state_root, "command": CMD},
                                check=True)
    assert failed is False and result["changed"] is True
    assert not os.path.exists(os.path.join(systemd.state_root, "b1", "runner.env"))
    assert "atvm-runner@b1.service" not in systemd.verbs("start")


def test_other_command_than_announced_is_refused(run_module, systemd):
    start_watcher(run_module, systemd)
    result, failed = run_module(runner_start, {"build_name": "b1", "state_root": systemd.state_root,
                                               "command": "python3 ./other.py"})
    assert failed is True and "differs from the one the watcher was started for" in result["msg"]
    assert "atvm-runner@b1.service" not in systemd.verbs("start")


def test_other_parameters_on_a_live_runner(run_module, systemd):
    start_watcher(run_module, systemd, metadata={})
    base = {"build_name": "b1", "state_root": systemd.state_root, "command": CMD}
    run_module(runner_start, base)
    result, failed = run_module(runner_start, dict(base, command=CMD + " --categorize"))
    assert failed is True and result["differing"] == ["ATVM_RUNNER_COMMAND"]
    assert systemd.units["atvm-runner@b1.service"]["ActiveState"] == "active"


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_build_names(run_module, systemd, name):
    result, failed = run_module(runner_start, {"build_name": name, "state_root": systemd.state_root, "command": CMD})
    assert failed is True and result["build_name_refused"] is True
    assert systemd.calls == [] and not os.path.exists(systemd.state_root)


def test_other_parameters_on_a_live_runner_fail_without_claiming_anything(run_module, systemd):
    start_watcher(run_module, systemd, metadata={})
    base = {"build_name": "b1", "state_root": systemd.state_root}
    assert run_module(runner_start, dict(base, command=CMD))[1] is False
    before = systemd.mutating()
    result, failed = run_module(runner_start, dict(base, command="python3 ./other.py"))
    assert failed is True and result["differing"] == ["ATVM_RUNNER_COMMAND"]
    assert "cancelled" not in result["msg"] and "archived" not in result["msg"]
    assert systemd.mutating() == before
    # force is handled in one layer (watcher_start): runner_start has no such option
    result, failed = run_module(runner_start, dict(base, command="python3 ./other.py", force=True))
    assert failed is True and "force" in result["msg"]
    assert systemd.mutating() == before


def test_a_checkout_removed_since_the_watcher_started_is_named(run_module, systemd, tmp_path):
    checkout = tmp_path / "short-lived"
    checkout.mkdir()
    (checkout / "run-sorry-cypress.py").write_text("print('stand-in')\n", encoding="utf-8")
    start_watcher(run_module, systemd, automation_dir=str(checkout))
    (checkout / "run-sorry-cypress.py").unlink()
    checkout.rmdir()
    result, failed = run_module(runner_start, {"build_name": "b1", "state_root": systemd.state_root, "command": CMD})
    assert failed is True and "the automation checkout {0}".format(checkout) in result["msg"]
    assert "atvm-runner@b1.service" not in systemd.verbs("start")

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cancel.py: the one cancel, from the CLI and the module alike: marker first, then the runner, then
the watcher; units on a controller, process groups (checked with their start time) for --runner-pid runs."""
from __future__ import annotations

import json
import os
import pathlib
import subprocess
import sys
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host import process
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host import systemd as systemd_mod
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.cancel import cancel_run
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore

NO_SYSTEMD = systemd_mod.Systemd(lambda argv: (1, "", "System has not been booted with systemd"))
# A runner entry: its command in a session of its own (as atvm-runner does), then it waits.
RUNNER = ("import subprocess, sys, time; c = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(60)'], "
          "start_new_session=True); open(sys.argv[1], 'w').write(str(c.pid)); c.wait(); time.sleep(60)")


def spawn(*argv):
    return subprocess.Popen([sys.executable, "-c"] + list(argv))  # pylint: disable=consider-using-with


def gone(pid, timeout=5.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


@pytest.fixture
def pid_run(tmp_path):
    """A --runner-pid run: a runner entry with its command's group, and a watcher process."""
    child_file = tmp_path / "child.pid"
    runner = spawn(RUNNER, str(child_file))
    watcher = spawn("import time; time.sleep(60)")
    for _attempt in range(100):
        if child_file.exists() and child_file.read_text():
            break
        time.sleep(0.05)
    child = int(child_file.read_text())
    store = RunStore(RunPaths.at(str(tmp_path / "state" / "b1"))).ensure()
    state = RunState.new("b1")
    state.runner.pid, state.runner.pid_start_time = runner.pid, process.start_time(runner.pid)
    state.watcher.pid, state.watcher.pid_start_time = watcher.pid, process.start_time(watcher.pid)
    state.set_phase("watching")
    store.save_state(state)
    yield store, runner, watcher, child
    for proc in (runner, watcher):
        proc.kill()
        proc.wait()
    try:
        os.kill(child, 9)
    except ProcessLookupError:
        pass


def test_pid_run_cancel_stops_the_runner_group_then_the_watcher(pid_run):
    store, runner, watcher, child = pid_run
    calls = []
    result = cancel_run(store, systemd_mod.Systemd(lambda argv: calls.append(argv) or (1, "", "")), "b1", "me", "why")
    assert calls == [], "a --runner-pid run is stopped through its processes, not systemd"
    assert result["changed"] is True and result["run_state"] == "CANCELLED"
    assert result["stopped"] == ["runner PID {0}".format(runner.pid), "watcher PID {0}".format(watcher.pid)]
    assert runner.wait(5) is not None and watcher.wait(5) is not None
    assert gone(child), "the runner's command (its own process group) survived the cancel"
    assert store.cancel_marker()["reason"] == "why"
    assert store.load_state().run_state == "CANCELLED"


def test_pid_run_cancel_leaves_a_reused_pid_alone(pid_run):
    store, runner, watcher, _child = pid_run
    state = store.load_state()
    state.runner.pid_start_time -= 50
    state.watcher.pid_start_time -= 50
    store.save_state(state)
    result = cancel_run(store, NO_SYSTEMD, "b1", "me", "why")
    assert result["stopped"] == [] and result["run_state"] == "CANCELLED"
    time.sleep(0.3)
    assert runner.poll() is None and watcher.poll() is None


def test_pid_run_check_mode_returns_the_plan(pid_run):
    store, runner, _watcher, _child = pid_run
    result = cancel_run(store, NO_SYSTEMD, "b1", "me", "why", check_mode=True)
    assert result["changed"] is True and result["msg"].startswith("would cancel run b1")
    assert store.cancel_marker() is None and store.load_state().run_state == "RUNNING"
    assert runner.poll() is None


def test_cli_cancel_stops_the_runner_unit_then_the_watcher(tmp_path, monkeypatch, capsys):
    fake_path = pathlib.Path(__file__).resolve().parents[3] / "modules"
    monkeypatch.syspath_prepend(str(fake_path))
    from fake_systemd import FakeSystemd  # pylint: disable=import-outside-toplevel,import-error

    root = tmp_path / "state"
    fake = FakeSystemd(str(root))
    fake.set_state("atvm-runner@b1.service", "active", "running", 4242)
    fake.set_state("atvm-run-watcher@b1.service", "active", "running", 4241)
    fake.write_state("b1", watcher={"phase": "watching"}, runner={"unit": "atvm-runner@b1.service"})
    seen = []

    def runner(argv):
        if argv[:2] == ["systemctl", "stop"]:
            seen.append((argv[-1], os.path.exists(str(root / "b1" / "cancel"))))
        return fake(argv)

    monkeypatch.setattr(systemd_mod, "subprocess_runner", runner)
    monkeypatch.setattr(systemd_mod.Systemd.__init__, "__defaults__", (runner, "systemctl", "journalctl"))
    assert cli.main(["cancel", "--build-name", "b1", "--state-root", str(root), "--reason", "r"], environ={}) == 0
    assert seen == [("atvm-runner@b1.service", True), ("atvm-run-watcher@b1.service", True)]
    assert "stopped: atvm-runner@b1.service, atvm-run-watcher@b1.service" in capsys.readouterr()[0]
    assert fake.read_state("b1")["run_state"] == "CANCELLED"


def test_cli_cancel_without_systemd_writes_the_marker_and_says_what_it_could_not_stop(tmp_path, capsys):
    root = tmp_path / "state"
    (root / "b1").mkdir(parents=True)
    (root / "b1" / "state.json").write_text(json.dumps({"schema": 1, "build_name": "b1", "run_state": "RUNNING",
                                                        "result": "RUN", "subruns": []}))
    assert cli.main(["cancel", "--build-name", "b1", "--state-root", str(root)], environ={"PATH": "/nonexistent"}) == 0
    out = capsys.readouterr()[0]
    assert "run b1 cancelled" in out and "was not stopped" in out
    assert (root / "b1" / "cancel").exists()

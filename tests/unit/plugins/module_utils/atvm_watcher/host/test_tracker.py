# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""tracker.py: the runner tracker, its PID strategy (exit record wins, PID checked with its start time)
and its unit strategy, against real processes and a stand-in systemctl."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host import process
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host.systemd import Systemd
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host.tracker import RunnerTracker

UNIT = "atvm-runner@b1.service"


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def sleeper():
    """A live process that is NOT the runner (stands for a PID the system gave to someone else)."""
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])  # pylint: disable=consider-using-with
    time.sleep(0.2)
    yield proc
    proc.kill()
    proc.wait()


@pytest.fixture
def store(tmp_path):
    return RunStore(RunPaths.at(str(tmp_path / "b1"))).ensure()


def tracker(store, state=None, **kw):
    events = []
    clock = kw.pop("clock", Clock())
    t = RunnerTracker(store, state or RunState(build_name="b1"), lambda event, msg, **f: events.append((event, msg)),
                      clock, kw.pop("start_timeout", 60.0), **kw)
    return t, events


def write_exit(store, **fields):
    record = {"schema": 1, "pid": None, "started_at": "2026-11-27T10:00:00.000Z",
              "ended_at": "2026-11-27T10:05:00.000Z", "exit_code": 0, "signal": None}
    record.update(fields)
    with open(store.paths.runner_exit, "w") as handle:
        json.dump(record, handle)


def test_exit_record_wins_over_a_reused_pid(store, sleeper):
    t, events = tracker(store, pid=sleeper.pid)
    assert t.poll() is False  # the PID lives, no exit record yet: the runner runs
    write_exit(store, exit_code=2)
    started = time.monotonic()
    assert t.poll() is True, "a PID that lives on must not keep a run whose exit is recorded open"
    assert time.monotonic() - started < 2
    assert (t.exit.known, t.exit.exit_code, t.exit.source) == (True, 2, "exit-file")
    assert sleeper.poll() is None  # the unrelated process is left alone
    assert events[-1][0] == "runner-ended"


def test_a_restarted_watcher_checks_the_pid_with_its_start_time(store, sleeper):
    state = RunState(build_name="b1")
    state.runner.pid = sleeper.pid
    state.runner.pid_start_time = process.start_time(sleeper.pid) - 100.0  # the runner seen before was another
    t, events = tracker(store, state, pid=sleeper.pid)
    assert t.poll() is True
    assert (t.exit.known, t.exit.source) == (False, "pid") and "no exit record" in t.exit.detail
    assert events[0][0] == "runner-pid-gone"
    assert state.runner.exit == t.exit.to_dict()


def test_the_same_process_keeps_the_run_open(store, sleeper):
    state = RunState(build_name="b1")
    state.runner.pid = sleeper.pid
    state.runner.pid_start_time = process.start_time(sleeper.pid)
    t, events = tracker(store, state, pid=sleeper.pid)
    assert t.poll() is False and t.started
    assert events[0][0] == "runner-attached"
    sleeper.kill()
    sleeper.wait()
    assert t.wait(2.0) is True  # woken by the exit
    assert t.poll(main_exited=True) is True


def test_same_process_and_signal_refuse_a_reused_pid(sleeper):
    started = process.start_time(sleeper.pid)
    assert process.same_process(sleeper.pid, started)
    assert not process.same_process(sleeper.pid, started - 5)
    assert process.signal_process(sleeper.pid, started - 5) is False
    assert sleeper.poll() is None
    assert process.signal_process(sleeper.pid, started) is True
    assert sleeper.wait(5) == -15


class FakeUnit:
    def __init__(self) -> None:
        self.props = {"ActiveState": "inactive", "ExecMainStartTimestampMonotonic": "0", "InvocationID": ""}
        self.calls = 0

    def __call__(self, argv):
        self.calls += 1
        return 0, "".join("{0}={1}\n".format(k, v) for k, v in self.props.items()), ""


def test_unit_strategy_attaches_then_reads_the_exit(store, sleeper):
    unit = FakeUnit()
    clock = Clock()
    t, _events = tracker(store, systemd=Systemd(unit), unit=UNIT, clock=clock)
    unit.props.update(ActiveState="active", MainPID=str(sleeper.pid), ExecMainStartTimestampMonotonic="5")
    assert t.poll() is False and t.proc.pid == sleeper.pid
    calls = unit.calls
    clock.now += 5
    assert t.poll() is False and unit.calls == calls, "attached: systemd is not asked every poll"
    unit.props.update(ActiveState="failed", Result="exit-code", ExecMainCode="1", ExecMainStatus="3", MainPID="0")
    sleeper.kill()
    sleeper.wait()
    assert t.poll(main_exited=True) is True
    assert (t.exit.exit_code, t.exit.source, t.exit.detail) == (3, "systemd", "exit-code")


def test_unit_that_never_starts_ends_after_the_start_timeout(store):
    clock = Clock()
    t, events = tracker(store, systemd=Systemd(FakeUnit()), unit=UNIT, clock=clock, start_timeout=30)
    assert t.poll() is False
    clock.now += 31
    assert t.poll() is True and t.exit.detail == "never started"
    assert ("runner-never-started" in [e[0] for e in events])


def test_unloaded_unit_with_an_exit_record_ended(store):
    write_exit(store, exit_code=1)
    t, _events = tracker(store, systemd=Systemd(FakeUnit()), unit=UNIT)
    assert t.poll() is True and (t.exit.exit_code, t.exit.source) == (1, "exit-file")


def test_systemd_that_cannot_answer_reads_as_not_started(store):
    clock = Clock()
    t, _events = tracker(store, systemd=Systemd(lambda argv: (1, "", "Failed to connect to bus")), unit=UNIT,
                         clock=clock, start_timeout=10)
    assert t.poll() is False
    clock.now += 11
    assert t.poll() is True and t.exit.detail == "never started"


def test_a_runner_pid_is_recorded_before_the_first_poll(store, sleeper):
    """The watcher prepares the tracker before it says it is ready: a cancel right after finds the PID."""
    state = RunState(build_name="b1")
    t, events = tracker(store, state, pid=sleeper.pid)
    t.prepare()
    assert state.runner.pid == sleeper.pid and state.runner.pid_start_time == process.start_time(sleeper.pid)
    assert events[-1][0] == "runner-attached"
    assert t.poll() is False


def test_a_start_time_one_second_off_is_the_same_process(sleeper):
    """Two processes may read the boot time a second apart: the same runner is still recognised."""
    started = process.start_time(sleeper.pid)
    assert process.same_process(sleeper.pid, started + 1.0)
    assert process.same_process(sleeper.pid, started - 1.0)
    assert not process.same_process(sleeper.pid, started - 100.0)

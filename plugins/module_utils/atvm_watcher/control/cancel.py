# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one cancel of a run (``atvm-run-watcher cancel`` and the ``run_cancel`` module alike).

Marker first (the watcher never posts a run it finds cancelled), then the run state CANCELLED,
then the runner is stopped (its unit, or for a ``--runner-pid`` run the runner's process groups),
then the watcher (its unit, or its PID); the state is written again last so the cancel has the
final word. Nothing is posted. :func:`plan_cancel` decides, :func:`apply_cancel` acts: check mode
returns the plan.
"""
from __future__ import annotations

import dataclasses
import os
import signal
from typing import Any, Dict, List, Optional

from ..errors import LaunchError
from ..models import CANCELLED
from ..host.process import same_process, signal_process, stop_runner_process, wait_gone
from ..store.runstate import RunState
from ..store.runstore import RunStore
from ..host.systemd import Systemd, UnitStatus

WATCHER_GRACE = 15.0  # seconds a --runner-pid run's watcher gets to record the cancel and exit


@dataclasses.dataclass
class CancelPlan:
    """What a cancel will do (and, once applied, what it did)."""

    build_name: str
    store: RunStore
    state: Optional[RunState]
    by: str
    reason: str
    units: Dict[str, Optional[UnitStatus]]  # "runner" / "watcher" -> status (None: systemd cannot tell)
    pid_mode: bool  # a --runner-pid run: processes, not units
    cancel: bool = False  # write the marker and record CANCELLED
    stop_runner: bool = False
    msg: str = ""
    stopped: List[str] = dataclasses.field(default_factory=list)
    notes: List[str] = dataclasses.field(default_factory=list)

    @property
    def before(self) -> Optional[str]:
        return self.state.run_state if self.state is not None else None

    def result(self, check_mode: bool) -> Dict[str, Any]:
        after = CANCELLED if self.cancel else self.before
        changed = self.cancel or self.stop_runner
        msg = self.msg if not (check_mode and changed) else "would " + self.msg
        if self.notes:
            msg = "{0} ({1})".format(msg, "; ".join(self.notes))
        return {"changed": changed, "build_name": self.build_name, "state_dir": self.store.paths.dir,
                "previous_state": self.before, "run_state": after, "stopped": list(self.stopped),
                "diff": {"before": self.before, "after": after}, "msg": msg}


def _show(systemd: Systemd, unit: str) -> Optional[UnitStatus]:
    try:
        return systemd.show(unit)
    except LaunchError:
        return None


def _runner_alive(plan: CancelPlan) -> bool:
    if plan.pid_mode:
        runner = plan.state.runner  # type: ignore[union-attr]
        return same_process(runner.pid, runner.pid_start_time)
    status = plan.units["runner"]
    return status is not None and status.live


def plan_cancel(store: RunStore, systemd: Systemd, build_name: str, by: str, reason: str) -> CancelPlan:
    """Decide what cancelling ``build_name`` means now (reads only)."""
    state = store.load_state()
    pid_mode = state is not None and state.runner.unit is None and state.runner.pid is not None
    units: Dict[str, Optional[UnitStatus]] = {}
    if not pid_mode:
        units = {"runner": _show(systemd, store.paths.runner_unit),
                 "watcher": _show(systemd, store.paths.watcher_unit)}
    plan = CancelPlan(build_name=build_name, store=store, state=state, by=by, reason=reason, units=units,
                      pid_mode=pid_mode)
    runner_alive = _runner_alive(plan)
    if state is not None and state.terminal:
        plan.stop_runner = runner_alive
        plan.msg = "stop the runner of run {0}, which had already ended ({1})".format(build_name, state.run_state) \
            if runner_alive else "run {0} had already ended ({1}); nothing was changed".format(build_name, state.run_state)
        return plan
    live_units = any(s is not None and s.live for s in units.values())
    if state is None and not live_units and not os.path.isdir(store.paths.dir):
        plan.msg = "there is no run {0}; nothing was changed".format(build_name)
        return plan
    plan.cancel = plan.stop_runner = True
    plan.msg = "cancel run {0}; nothing is posted".format(build_name)
    return plan


def _stop_unit(plan: CancelPlan, systemd: Systemd, kind: str) -> None:
    status = plan.units.get(kind)
    unit = plan.store.paths.runner_unit if kind == "runner" else plan.store.paths.watcher_unit
    if status is None:
        plan.notes.append("systemd could not be asked, {0} was not stopped".format(unit))
        return
    if status.live:
        plan.stopped.append(unit)
    systemd.stop(unit)  # harmless when already inactive, closes a start in flight


def _stop_runner(plan: CancelPlan, systemd: Systemd) -> None:
    if not plan.pid_mode:
        _stop_unit(plan, systemd, "runner")
        return
    runner = plan.state.runner  # type: ignore[union-attr]
    if stop_runner_process(runner.pid, runner.pid_start_time):
        plan.stopped.append("runner PID {0}".format(runner.pid))


def _stop_watcher(plan: CancelPlan, systemd: Systemd) -> None:
    if not plan.pid_mode:
        _stop_unit(plan, systemd, "watcher")
        return
    watcher = plan.state.watcher  # type: ignore[union-attr]
    if watcher.pid == os.getpid():
        return
    if signal_process(watcher.pid, watcher.pid_start_time, signal.SIGTERM):
        plan.stopped.append("watcher PID {0}".format(watcher.pid))
        if not wait_gone(watcher.pid, watcher.pid_start_time, WATCHER_GRACE):
            plan.notes.append("the watcher PID {0} had not exited after {1:g} s".format(watcher.pid, WATCHER_GRACE))


def _record_cancelled(plan: CancelPlan) -> None:
    state = plan.store.load_state() or RunState.new(plan.build_name)
    if state.run_state == CANCELLED:
        return
    state.mark_cancelled(plan.by, plan.reason)
    plan.store.save_state(state)


def apply_cancel(plan: CancelPlan, systemd: Systemd) -> Dict[str, Any]:
    """Do what :func:`plan_cancel` decided; the module's / CLI's result."""
    if plan.cancel:
        plan.store.ensure()
        plan.store.write_cancel_marker(plan.reason, plan.by)
        _record_cancelled(plan)
        plan.store.event("cancel-requested", by=plan.by, reason=plan.reason)
    if plan.stop_runner:
        _stop_runner(plan, systemd)
    if plan.cancel:
        _stop_watcher(plan, systemd)
        # The watcher may have written its in-memory state while stopping: the cancel is the last word.
        _record_cancelled(plan)
        plan.msg = "run {0} cancelled; nothing was posted".format(plan.build_name)
    elif plan.stop_runner:
        plan.msg = "run {0} had already ended ({1}); its runner was still active and was stopped".format(
            plan.build_name, plan.before)
    return plan.result(check_mode=False)


def cancel_run(store: RunStore, systemd: Systemd, build_name: str, by: str, reason: str,
               check_mode: bool = False) -> Dict[str, Any]:
    """Cancel a run (see the module docstring); in check mode, the plan."""
    plan = plan_cancel(store, systemd, build_name, by, reason)
    if check_mode:
        return plan.result(check_mode=True)
    return apply_cancel(plan, systemd)

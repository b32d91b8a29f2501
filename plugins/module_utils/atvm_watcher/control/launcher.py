# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The launcher: start a run's watcher, then its runner; cancel and read runs (the logic of the modules).

Each start is a plan (what the run's files and units say, what would be done; refusals raise
:class:`LaunchError`) and an apply; check mode returns the plan. ``force`` is handled here only:
``start_watcher(force=True)`` replaces a live run with other parameters through the one cancel.
"""
from __future__ import annotations

import dataclasses
import os
import time
from typing import Any, Callable, Dict, Optional, Tuple

from .cancel import cancel_run
from ..settings import DEFAULT_STATE_ROOT, GLOBAL_ENV_FILE
from ..runpaths import RunPaths
from ..errors import ConfigError, LaunchError
from .request import RunnerRequest, WatcherRequest, changed_keys, env_of, global_secrets, read_text
from .runinfo import read_run, wait_run
from ..store.runstate import LIVE_PHASES, PHASE_DELIVERING, PHASE_STARTING, PHASE_WATCHING, RunState
from ..safetext import redact
from ..store.runstore import RunStore, archive_state_dir
from ..durable import atomic_write_bytes
from ..host.systemd import CommandRunner, Systemd, UnitStatus

KEEP, WAIT, RESUME, REPLACE, NEW, START = "keep", "wait", "resume", "replace", "new", "start"


@dataclasses.dataclass
class Plan:
    """What a start would do: ``action`` (keep / wait / resume / replace / new / start) and its result."""

    action: str
    result: Dict[str, Any]
    msg: str  # what is (or would be) done, without "would"

    @property
    def changed(self) -> bool:
        return self.action not in (KEEP, WAIT)

    def checked(self) -> Dict[str, Any]:
        """The check-mode result: the plan."""
        return dict(self.result, changed=self.changed, msg=("would " + self.msg) if self.changed else self.msg)

    def done(self, msg: str, **facts: Any) -> Dict[str, Any]:
        return dict(self.result, changed=self.changed, msg=msg, **facts)


class Launcher:
    """Start, cancel and read the runs of one controller."""

    def __init__(self, systemd: Systemd, state_root: str = DEFAULT_STATE_ROOT,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 poll: float = 0.25, global_env_file: str = GLOBAL_ENV_FILE, archive_keep: int = 5,
                 by: str = "ansible") -> None:
        if not os.path.isabs(state_root):
            raise ConfigError("state root {0!r} is not an absolute path".format(state_root))
        self.systemd = systemd
        self.state_root = state_root
        self.clock = clock
        self.sleep = sleep
        self.poll = poll
        self.global_env_file = global_env_file
        self.archive_keep = archive_keep
        self.by = by

    # ---- reading ----
    def _paths(self, build_name: str) -> RunPaths:
        return RunPaths(self.state_root, build_name)

    def _store(self, build_name: str) -> RunStore:
        return RunStore(self._paths(build_name))

    def _units(self, build_name: str) -> Tuple[UnitStatus, UnitStatus]:
        paths = self._paths(build_name)
        return (self.systemd.show(paths.watcher_unit), self.systemd.show(paths.runner_unit))

    @staticmethod
    def _phase(state: Optional[RunState]) -> Optional[str]:
        return state.phase if state is not None else None

    @staticmethod
    def _is_live(watcher: UnitStatus, runner: UnitStatus, state: Optional[RunState]) -> bool:
        """A run is live while its runner runs, or its watcher runs a run that is not over."""
        return runner.live or (watcher.live and not (state is not None and state.terminal))

    def _secrets(self) -> list:
        return global_secrets(self.global_env_file)

    def _journal(self, unit: str) -> str:
        return redact(self.systemd.journal_tail(unit), self._secrets())

    def _check_root(self, state_root: str) -> None:
        if state_root != self.state_root:
            raise ConfigError("the request's state root differs from the launcher's")

    # ---- watcher ----
    def plan_watcher(self, request: WatcherRequest, force: bool = False) -> Plan:
        """What starting this watcher means now (reads only; refusals raise LaunchError)."""
        self._check_root(request.state_root)
        build, paths = request.build_name, request.paths
        unit = paths.watcher_unit
        env_path = paths.watcher_env
        new_text = request.render()
        old_text = read_text(env_path)
        watcher, runner = self._units(build)
        if watcher.load_state == "not-found":
            raise LaunchError("the unit {0} is not installed on this host (install the controller first)".format(unit))
        state = self._store(build).load_state()
        result: Dict[str, Any] = {
            "build_name": build, "unit": unit, "state_dir": paths.dir, "env_file": env_path,
            "runner_log": request.runner_log_path, "archived_to": None, "cancelled_previous": False,
            "new_run": True, "resumed": False,
            "diff": {"before": old_text or "", "after": new_text, "before_header": env_path, "after_header": env_path}}
        if not self._is_live(watcher, runner, state):
            archive = "archive the previous state and " if os.path.isdir(paths.dir) else ""
            return Plan(NEW, result, "{0}start the watcher of run {1}".format(archive, build))
        differs = changed_keys(env_of(old_text, env_path), request.env())
        if differs and not force:
            raise LaunchError("run {0} is live with other parameters ({1} differ); nothing was changed. Wait for it "
                              "to end, cancel it, or use force to cancel and replace it".format(build, ", ".join(differs)),
                              differing=differs, watcher=watcher.to_dict(), runner=runner.to_dict())
        if differs:
            result["cancelled_previous"] = True
            return Plan(REPLACE, result, "cancel the live run {0} and start a new watcher".format(build))
        result.update(new_run=False, diff=dict(result["diff"], before=new_text), phase=self._phase(state))
        if watcher.active:  # watching, or posting a finished sub-run of a categorized run: leave it alone
            return Plan(KEEP, dict(result, watcher=watcher.to_dict()),
                        "run {0} is already live with these parameters".format(build))
        if watcher.live:  # starting up (or restarting after a crash): wait for it, change nothing
            return Plan(WAIT, dict(result, watcher=watcher.to_dict()), "the watcher of run {0} is starting".format(build))
        result["resumed"] = True  # the runner runs unwatched (the watcher died for good)
        return Plan(RESUME, result, "restart the watcher of the live run {0}".format(build))

    def start_watcher(self, request: WatcherRequest, check_mode: bool = False, force: bool = False,
                      timeout: float = 60.0) -> Dict[str, Any]:
        """Write ``watcher.env`` and start the watcher; return when it is really watching (check mode: the plan)."""
        plan = self.plan_watcher(request, force)
        if check_mode:
            return plan.checked()
        return self.apply_watcher(plan, request, force, timeout)

    def apply_watcher(self, plan: Plan, request: WatcherRequest, force: bool, timeout: float) -> Dict[str, Any]:
        build = request.build_name
        store = self._store(build)
        if plan.action == KEEP:
            return plan.done(plan.msg)
        if plan.action in (WAIT, RESUME):
            status = self._wait_ready(build, store, timeout, LIVE_PHASES, stop_on_timeout=False) \
                if plan.action == WAIT else self._start_unit_ready(build, store, timeout, LIVE_PHASES, stop_on_timeout=False)
            msg = "run {0} is already live with these parameters".format(build) if plan.action == WAIT \
                else "restarted the watcher of the live run {0} on its state".format(build)
            return plan.done(msg, watcher=status.to_dict(), phase=self._phase(store.load_state()))
        if plan.action == REPLACE:
            cancel_run(store, self.systemd, build, self.by, "replaced by a forced launch with other parameters")
        self._clear_previous(build, store, force, timeout)
        paths = request.paths
        archived = archive_state_dir(paths, keep=self.archive_keep) if os.path.isdir(paths.dir) else None
        store.ensure()
        atomic_write_bytes(paths.watcher_env, request.render().encode("utf-8"), 0o600)
        self._start_unit_ready(build, store, timeout)
        return plan.done("watcher of run {0} started and watching".format(build), archived_to=archived,
                         watcher=self.systemd.show(paths.watcher_unit).to_dict(), phase=PHASE_WATCHING)

    def _clear_previous(self, build: str, store: RunStore, force: bool, timeout: float) -> None:
        """A watcher still running for a finished run is stale: stopped; one still posting is let finish."""
        unit = self._paths(build).watcher_unit
        watcher = self.systemd.show(unit)
        if not watcher.live:
            return
        if self._phase(store.load_state()) == PHASE_DELIVERING and not force:
            watcher = self._wait_unit_end(unit, timeout)
            if watcher.live:
                raise LaunchError("the watcher of the previous run {0} is still posting its result after {1:g} "
                                  "seconds; try again later (force would interrupt it)".format(build, timeout),
                                  watcher=watcher.to_dict())
        self.systemd.stop(unit)

    def _start_unit_ready(self, build: str, store: RunStore, timeout: float,
                          phases: Tuple[str, ...] = (PHASE_WATCHING,), stop_on_timeout: bool = True) -> UnitStatus:
        unit = self._paths(build).watcher_unit
        rc, err = self.systemd.start(unit)
        if rc != 0:
            raise LaunchError("cannot start {0}: systemctl start exited {1}: {2}".format(unit, rc, redact(err, self._secrets())),
                              journal=self._journal(unit), watcher=self._safe_show(unit))
        return self._wait_ready(build, store, timeout, phases, stop_on_timeout)

    def _safe_show(self, unit: str) -> Dict[str, Any]:
        try:
            return self.systemd.show(unit).to_dict()
        except LaunchError as exc:
            return {"unit": unit, "error": str(exc)}

    def _wait_ready(self, build: str, store: RunStore, timeout: float,
                    phases: Tuple[str, ...] = (PHASE_WATCHING,), stop_on_timeout: bool = True) -> UnitStatus:
        """Until the unit is active AND state.json shows one of ``phases``, or fail with the journal.

        A new run's watcher that is not ready in time is stopped; a live run's is left to systemd.
        """
        unit = self._paths(build).watcher_unit
        deadline = self.clock() + timeout
        while True:
            status = self.systemd.show(unit)
            phase = self._phase(store.load_state())
            if status.active and phase in phases:
                return status
            if status.active_state in ("failed", "inactive") or (status.active and phase not in (None, PHASE_STARTING)):
                why = "is {0} ({1})".format(status.active_state, status.result or status.sub_state) if not status.active \
                    else "is in phase {0}".format(phase)
                raise LaunchError("the watcher {0} {1} instead of watching".format(unit, why),
                                  journal=self._journal(unit), watcher=status.to_dict(), phase=phase)
            if self.clock() >= deadline:
                stopped = ""
                if stop_on_timeout:
                    try:
                        self.systemd.stop(unit)
                        stopped = " and was stopped"
                    except LaunchError:
                        pass
                raise LaunchError("the watcher {0} was not watching after {1:g} seconds (ActiveState={2}, phase={3}){4}"
                                  .format(unit, timeout, status.active_state, phase, stopped),
                                  journal=self._journal(unit), watcher=status.to_dict(), phase=phase)
            self.sleep(self.poll)

    def _wait_unit_end(self, unit: str, timeout: float) -> UnitStatus:
        deadline = self.clock() + timeout
        while True:
            status = self.systemd.show(unit)
            if not status.live or self.clock() >= deadline:
                return status
            self.sleep(self.poll)

    # ---- runner ----
    def plan_runner(self, request: RunnerRequest) -> Plan:
        """What starting this runner means now (reads only): only under a ready watcher of this very run."""
        self._check_root(request.state_root)
        build, paths = request.build_name, request.paths
        unit = paths.runner_unit
        watcher_env_path = paths.watcher_env
        env_path = paths.runner_env
        watcher_env = env_of(read_text(watcher_env_path), watcher_env_path)
        new_env = request.env(watcher_env)
        new_text = request.render(watcher_env)
        old_text = read_text(env_path)
        watcher, runner = self._units(build)
        if runner.load_state == "not-found":
            raise LaunchError("the unit {0} is not installed on this host (install the controller first)".format(unit))
        state = self._store(build).load_state()
        same = not changed_keys(env_of(old_text, env_path), new_env)
        result: Dict[str, Any] = {
            "build_name": build, "unit": unit, "env_file": env_path, "runner_log": new_env["ATVM_RUNNER_LOG"],
            "workdir": new_env["ATVM_RUNNER_WORKDIR"],
            "diff": {"before": old_text or "", "after": new_text, "before_header": env_path, "after_header": env_path}}
        kept = dict(result, diff=dict(result["diff"], before=new_text), runner=runner.to_dict())
        if runner.live:
            if same:
                return Plan(KEEP, kept, "the runner of run {0} is already running with these parameters".format(build))
            differs = changed_keys(env_of(old_text, env_path), new_env)
            raise LaunchError("the runner of run {0} is running with other parameters ({1} differ); nothing was changed. "
                              "Wait for it to end, or cancel the run (atvm.watcher.run_cancel) and launch it "
                              "again".format(build, ", ".join(differs)), differing=differs, runner=runner.to_dict())
        self._refuse_unwatched(build, watcher, state)
        if (state is not None and state.terminal) or os.path.exists(paths.runner_exit) \
                or os.path.exists(paths.runner_exit_running):
            if same:
                return Plan(KEEP, kept, "the runner of run {0} already ran with these parameters; nothing was "
                                        "changed".format(build))
            raise LaunchError("refusing to start the runner of {0} again: this run's runner already ran; launch a new "
                              "run (watcher_start) for another one".format(build))
        self._refuse_unseen(build, request, watcher_env, new_env)
        return Plan(START, result, "start the runner of run {0}".format(build))

    @staticmethod
    def _refuse_unwatched(build: str, watcher: UnitStatus, state: Optional[RunState]) -> None:
        """Watcher first: a runner only starts under a watcher that is ready for this very run."""
        phase = state.phase if state is not None else None
        if not (watcher.active and phase == PHASE_WATCHING):
            raise LaunchError("refusing to start the runner of {0}: no ready watcher watches it ({1} is {2}, phase {3}); "
                              "start the watcher first".format(build, watcher.unit, watcher.active_state, phase or "none"),
                              watcher=watcher.to_dict(), phase=phase)
        if state is not None and state.build_name not in ("", build):
            raise LaunchError("refusing to start the runner of {0}: its state belongs to build {1!r}".format(
                build, state.build_name))

    @staticmethod
    def _refuse_unseen(build: str, request: RunnerRequest, watcher_env: Dict[str, str], new_env: Dict[str, str]) -> None:
        """A runner the watcher would not see (another log, another command) is refused."""
        expected_log = watcher_env.get("ATVM_RUNNER_LOG")
        if expected_log and new_env["ATVM_RUNNER_LOG"] != expected_log:
            raise LaunchError("refusing to start the runner of {0}: its log {1} is not the log the watcher reads "
                              "({2})".format(build, new_env["ATVM_RUNNER_LOG"], expected_log))
        announced = watcher_env.get("ATVM_RUNNER_COMMAND")
        if announced and announced != request.command:
            raise LaunchError("refusing to start the runner of {0}: its command differs from the one the watcher was "
                              "started for".format(build), runner_command=request.command,
                              watcher_runner_command=announced)

    def start_runner(self, request: RunnerRequest, check_mode: bool = False) -> Dict[str, Any]:
        """Write ``runner.env`` and start the runner, only when a ready watcher watches this build."""
        plan = self.plan_runner(request)
        if check_mode or plan.action == KEEP:
            return plan.checked()
        unit = plan.result["unit"]
        atomic_write_bytes(plan.result["env_file"], plan.result["diff"]["after"].encode("utf-8"), 0o600)
        rc, err = self.systemd.start(unit)
        if rc != 0:
            raise LaunchError("cannot start {0}: systemctl start exited {1}: {2}".format(unit, rc, redact(err, self._secrets())),
                              journal=self._journal(unit), runner=self._safe_show(unit))
        return plan.done("runner of run {0} started".format(request.build_name), runner=self.systemd.show(unit).to_dict())

    # ---- cancel and read ----
    def cancel(self, build_name: str, reason: str = "cancelled from Ansible", check_mode: bool = False) -> Dict[str, Any]:
        """The one cancel (see :mod:`.cancel`)."""
        return cancel_run(self._store(build_name), self.systemd, build_name, self.by, reason, check_mode)

    def info(self, build_name: str, wait: bool = False, timeout: float = 3600.0) -> Dict[str, Any]:
        """The run as its files and units say; with ``wait``, once it is over and its watcher gone."""
        store = self._store(build_name)
        return wait_run(lambda: read_run(store, self.systemd, build_name), wait, timeout, self.clock, self.sleep,
                        self.poll)


def launcher(run: CommandRunner, state_root: str = DEFAULT_STATE_ROOT, **kwargs: Any) -> Launcher:
    """A :class:`Launcher` over ``systemctl`` run through ``run``."""
    return Launcher(Systemd(run), state_root=state_root, **kwargs)

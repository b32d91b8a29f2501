# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner tracker: has the run's runner started, is it over, how did it end.

Two strategies follow a runner: :class:`UnitStrategy` (a systemd unit, the launch's way) and
:class:`PidStrategy` (a PID given with ``--runner-pid``). Both read the runner entry's exit record
(``runner-exit.json``), which is more precise than systemd and wins over a PID: a PID that another
process has taken since the runner ended never keeps a run open. A PID is always checked together
with its start time (psutil ``create_time``, kept in ``state.json`` as ``runner.pid_start_time``).
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Optional

from ..durable import CorruptFileError, epoch_of, read_json
from ..errors import LaunchError, StateError
from ..models import ExitInfo
from .process import ProcessWatch, exit_info_from_record, merge_exit
from ..store.runstate import RunState
from ..store.runstore import RunStore
from .systemd import Systemd, UnitStatus

Journal = Callable[..., Any]

UNIT_QUERY_UNATTACHED = 1.0  # seconds between two systemctl show while no runner PID is followed
UNIT_QUERY_ATTACHED = 30.0  # with the runner's PID (its pidfd wakes the loop at its exit)


class RunnerTracker:
    """Follows the runner of one run; ``poll()`` says when it is over and sets ``exit``."""

    def __init__(self, store: RunStore, state: RunState, journal: Journal, clock: Callable[[], float],
                 start_timeout: float, systemd: Optional[Systemd] = None, unit: Optional[str] = None,
                 pid: Optional[int] = None, changed: Callable[[], None] = lambda: None) -> None:
        self.store = store
        self.state = state
        self.journal = journal
        self.clock = clock
        self.start_timeout = start_timeout
        self.began = clock()
        self.changed = changed
        self.proc: Optional[ProcessWatch] = None
        self.started = False
        self.over = False
        self.exit = ExitInfo()
        if pid and not unit:
            self.strategy: Any = PidStrategy(self, pid)
        else:
            self.strategy = UnitStrategy(self, unit or "", systemd or Systemd())

    # ---- what both strategies share ----
    def attach(self, pid: int, expect_start: Optional[float] = None) -> None:
        """Follow ``pid`` (recorded in state.json with its start time)."""
        if self.proc is not None and self.proc.pid == pid:
            return
        if self.proc is not None:
            self.proc.close()
        self.proc = ProcessWatch(pid, expect_start)
        self.started = True
        self.state.runner.pid = pid
        self.state.runner.pid_start_time = self.proc.start_time if expect_start is None else expect_start
        self.changed()
        if self.proc.main_alive():
            self.journal("runner-attached", "watching runner PID {0}".format(pid), pid=pid)
        else:
            self.journal("runner-pid-gone", "runner PID {0} is no longer the runner (ended or reused)".format(pid),
                         pid=pid)

    def prepare(self) -> None:
        """Before the watcher says it is ready: a ``--runner-pid`` runner is attached (its PID and
        start time recorded) at once, so a cancel that comes right after the ready finds it."""
        if isinstance(self.strategy, PidStrategy):
            self.strategy.attach()

    def started_epoch(self) -> Optional[float]:
        """When this run's runner started, from what outlives state.json: the runner entry's own
        record (``runner-exit.json.running`` at its start, ``runner-exit.json`` at its end; written
        before its command starts, and of this run only: old state is archived at launch) and the
        followed PID's start time (a reused PID started later). The earliest, or None."""
        found = []
        for path in (self.store.paths.runner_exit_running, self.store.paths.runner_exit):
            try:
                record = read_json(path)
            except (CorruptFileError, StateError):
                record = None
            found.append(epoch_of((record or {}).get("started_at")))
        if self.proc is not None:
            found.append(self.proc.start_time)
        known = [stamp for stamp in found if stamp]
        return min(known) if known else None

    def exit_record(self) -> Optional[ExitInfo]:
        return exit_info_from_record(self.store.exit_record())

    def main_alive(self) -> bool:
        return self.proc is not None and self.proc.main_alive()

    def poll(self, main_exited: bool = False) -> bool:
        """Look at the runner (cheap unless it just exited); True once it is over."""
        if not self.over:
            ended = self.strategy.poll(main_exited, self.clock())
            if ended is not None:
                self.over = True
                self.exit = ended
                self.state.runner.exit = ended.to_dict()
                self.changed()
                self.journal("runner-ended", "runner ended: exit code {0}, signal {1}, {2}".format(
                    ended.exit_code, ended.signal, ended.detail or ended.source), exit=ended.to_dict())
        return self.over

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking at once when the runner's main process exits (True then)."""
        if self.proc is not None:
            return self.proc.wait(timeout)
        time.sleep(timeout)
        return False

    def cpu_seconds(self) -> Optional[float]:
        return round(self.proc.tree_cpu_seconds(), 2) if self.proc is not None else None

    def close(self) -> None:
        if self.proc is not None:
            self.proc.close()


class PidStrategy:
    """``--runner-pid``: the runner entry's PID, its descendants and its command's session."""

    def __init__(self, tracker: RunnerTracker, pid: int) -> None:
        self.tracker = tracker
        self.pid = pid

    def attach(self) -> None:
        t = self.tracker
        if t.proc is None:
            runner = t.state.runner
            # A restarted watcher: the PID must still be the process seen before (a reused one is not).
            expect = runner.pid_start_time if runner.pid == self.pid else None
            t.attach(self.pid, expect)

    def poll(self, main_exited: bool, now: float) -> Optional[ExitInfo]:
        t = self.tracker
        self.attach()
        if t.proc is None:  # pragma: no cover - attach always sets it
            return None
        record = t.store.exit_record() if os.path.exists(t.store.paths.runner_exit) else None
        ended = bool(record) and "ended_at" in record  # type: ignore[operator]
        if not ended and t.proc.main_alive():
            return None
        if ended:
            t.proc.forget_main()  # the exit record wins over a PID that lives on
        record = record or t.store.exit_record() or {}
        if isinstance(record.get("pid"), int) and record["pid"] > 1:
            t.proc.add_session(record["pid"])  # the command's own session
        if t.proc.alive_pids():
            return None  # orphaned Cypress children still alive: the request is not over
        return exit_info_from_record(record) or ExitInfo(
            known=False, running=False, source="pid", detail="no exit record (the runner entry did not record its end)")


class UnitStrategy:
    """A systemd unit: asked now and then, at once when the followed main PID exits."""

    def __init__(self, tracker: RunnerTracker, unit: str, systemd: Systemd) -> None:
        self.tracker = tracker
        self.unit = unit
        self.systemd = systemd
        self.last_query = float("-inf")

    def _show(self) -> UnitStatus:
        try:
            return self.systemd.show(self.unit)
        except LaunchError:
            return UnitStatus(unit=self.unit)  # systemd cannot tell: as if not started yet

    def poll(self, main_exited: bool, now: float) -> Optional[ExitInfo]:
        t = self.tracker
        main_dead = t.proc is not None and not t.proc.main_alive()
        interval = UNIT_QUERY_UNATTACHED if t.proc is None else UNIT_QUERY_ATTACHED
        if not (main_exited or main_dead or now - self.last_query >= interval):
            return None
        self.last_query = now
        status = self._show()
        info = status.exit_info()
        if info.running:
            if status.main_pid:
                t.attach(status.main_pid)
            t.started = True
            return None
        if status.started:
            return merge_exit(info, t.exit_record())
        # systemd unloads a unit that ended cleanly, so it reads as never started: the runner
        # entry's exit record (of this run: old state is archived at launch) says it ran.
        record = t.exit_record()
        if record is not None and not t.main_alive():
            return merge_exit(info, record)
        if not t.started:
            if now - t.began <= t.start_timeout:
                return None
            t.journal("runner-never-started", "runner unit {0} did not start within {1:.0f} s".format(
                self.unit, t.start_timeout))
            return ExitInfo(known=False, running=False, source="systemd", detail="never started")
        if t.proc is not None and not t.proc.main_alive():
            return ExitInfo(known=False, running=False, source="systemd", detail="unit unloaded without an exit record")
        return None

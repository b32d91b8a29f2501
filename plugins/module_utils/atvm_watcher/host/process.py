# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runner processes: a PID (checked with its start time) and its tree with psutil, the runner's exit record.

systemd units are in :mod:`.systemd`; which of the two follows a run is :mod:`.tracker`'s business.
"""
from __future__ import annotations

import contextlib
import os
import select
import signal
import time
from typing import Dict, Optional, Set

from ..models import ExitInfo

try:
    import psutil

    HAS_PSUTIL = True
except ImportError:  # pragma: no cover - exercised by the sanity import test
    psutil = None
    HAS_PSUTIL = False

# Seconds: two start times closer than this are the same process. psutil adds the boot time read
# from /proc/stat, which two processes can see one second apart; a reused PID belongs to a process
# that started after the first one ended, so runs of more than this never look alike.
START_SLACK = 1.5


def start_time(pid: int) -> Optional[float]:
    """The start time (psutil ``create_time``) of process ``pid``; None when there is none (or no psutil)."""
    if not HAS_PSUTIL or not isinstance(pid, int) or pid <= 1:
        return None
    try:
        return psutil.Process(pid).create_time()
    except (psutil.Error, OSError):
        return None


def same_process(pid: Optional[int], started: Optional[float]) -> bool:
    """True when ``pid`` still is the live process that started at ``started`` (a reused PID is not)."""
    if not HAS_PSUTIL or not pid or started is None:
        return False
    try:
        proc = psutil.Process(pid)
        return abs(proc.create_time() - started) < START_SLACK and proc.status() != psutil.STATUS_ZOMBIE
    except (psutil.Error, OSError):
        return False


def signal_process(pid: Optional[int], started: Optional[float], signum: int = signal.SIGTERM,
                   group: bool = False) -> bool:
    """Send ``signum`` to ``pid`` (or its process group) only when it still is the process that started
    at ``started``; True when sent. A PID that another process has taken since is left alone."""
    if not same_process(pid, started):
        return False
    try:
        if group:
            os.killpg(os.getpgid(pid), signum)  # type: ignore[arg-type]
        else:
            os.kill(pid, signum)  # type: ignore[arg-type]
    except (ProcessLookupError, PermissionError):
        return False
    return True


def wait_gone(pid: Optional[int], started: Optional[float], timeout: float) -> bool:
    """Wait up to ``timeout`` seconds until ``pid`` is no longer the process started at ``started``."""
    deadline = time.monotonic() + timeout
    while same_process(pid, started):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.05)
    return True


def exit_info_from_record(record: Optional[Dict[str, object]]) -> Optional[ExitInfo]:
    """Exit info from ``runner-exit.json`` (written by the runner entry)."""
    if not record or "ended_at" not in record:
        return None
    code = record.get("exit_code")
    sig = record.get("signal")
    return ExitInfo(known=True, running=False, exit_code=code if isinstance(code, int) else None,
                    signal=sig if isinstance(sig, int) else None, source="exit-file")


def merge_exit(unit_or_pid: ExitInfo, record: Optional[ExitInfo]) -> ExitInfo:
    """The runner entry's record is more precise than systemd's (it saw the command itself)."""
    if unit_or_pid.running:
        return unit_or_pid
    if record is not None:
        if unit_or_pid.known and unit_or_pid.signal is not None and record.signal is None and record.exit_code == 0:
            return unit_or_pid
        if unit_or_pid.detail and not record.detail:
            record.detail = unit_or_pid.detail
        return record
    return unit_or_pid


class ProcessWatch:
    """Follows a process tree: is it alive, how much CPU has it used, wake on the main PID's exit."""

    def __init__(self, pid: int, expect_start: Optional[float] = None) -> None:
        """Follow ``pid``; with ``expect_start`` (its start time seen before) a PID that another process
        has taken since reads as gone at once."""
        self.pid = pid
        self.start_time: Optional[float] = None
        self._known: Dict[int, float] = {}  # pid -> create_time of every process seen in the tree
        self._pidfd: Optional[int] = None
        self._exited = False
        self._main_gone = False
        self._sessions: Set[int] = set()
        self._proc = None
        if HAS_PSUTIL:
            try:
                self._proc = psutil.Process(pid)
                self.start_time = self._proc.create_time()
                self._known[pid] = self.start_time
            except (psutil.Error, OSError):
                self._proc = None
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(pid)  # pylint: disable=no-member
            except OSError:
                self._pidfd = None
        if expect_start is not None and (self.start_time is None or abs(self.start_time - expect_start) >= START_SLACK):
            self.forget_main()

    def forget_main(self) -> None:
        """The main process is over (its exit is recorded, or its PID was reused): stop following it;
        its descendants and sessions are still followed."""
        self._main_gone = True
        self._exited = True
        self._known.pop(self.pid, None)
        self.close()

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def main_alive(self) -> bool:
        if self._main_gone:
            return False
        if self._pidfd is not None:
            # The pidfd turns readable at the exit, and wait() notes that: no /proc read needed.
            return not self._exited
        if self._proc is not None:
            try:
                return self._proc.is_running() and self._proc.status() != psutil.STATUS_ZOMBIE
            except psutil.Error:
                return False
        try:
            os.kill(self.pid, 0)
        except ProcessLookupError:
            return False
        except PermissionError:
            return True
        return True

    def refresh_tree(self) -> None:
        """Remember the current descendants (so orphans are still followed after the parent exits)."""
        if self._proc is None or self._main_gone:
            return
        try:
            for child in self._proc.children(recursive=True):
                try:
                    self._known.setdefault(child.pid, child.create_time())
                except psutil.Error:
                    continue
        except psutil.Error:
            pass

    def add_session(self, sid: int) -> None:
        """Follow every process of session ``sid`` too (the runner starts its command in its own
        session, so a child that was forked and orphaned between two looks is still found)."""
        self._sessions.add(sid)

    def _session_members(self) -> None:
        if not self._sessions or not HAS_PSUTIL:
            return
        for pid in psutil.pids():
            try:
                if os.getsid(pid) in self._sessions and pid not in self._known:
                    self._known[pid] = psutil.Process(pid).create_time()
            except (OSError, psutil.Error):
                continue

    def alive_pids(self) -> Set[int]:
        alive: Set[int] = set()
        if not HAS_PSUTIL:
            return {self.pid} if self.main_alive() else set()
        self._session_members()
        for pid, created in list(self._known.items()):
            try:
                proc = psutil.Process(pid)
                if abs(proc.create_time() - created) < START_SLACK and proc.status() != psutil.STATUS_ZOMBIE:
                    alive.add(pid)
                    continue
            except psutil.Error:
                pass
            del self._known[pid]
        return alive

    def tree_cpu_seconds(self) -> float:
        total = 0.0
        if not HAS_PSUTIL:
            return total
        self.refresh_tree()
        for pid in self.alive_pids():
            try:
                times = psutil.Process(pid).cpu_times()
                total += times.user + times.system + getattr(times, "children_user", 0.0) + getattr(times, "children_system", 0.0)
            except psutil.Error:
                continue
        return total

    def wait(self, timeout: float) -> bool:
        """Sleep up to ``timeout`` seconds, waking at once when the main process exits; True if it did.

        Once the main process is gone (its orphans may live on) this is a plain sleep.
        """
        if self._exited:
            select.select([], [], [], timeout)
            return False
        if self._pidfd is not None:
            ready, _w, _x = select.select([self._pidfd], [], [], timeout)
            self._exited = bool(ready)
            return self._exited
        if self._proc is not None:
            try:
                self._proc.wait(timeout)
                self._exited = True
            except psutil.TimeoutExpired:
                return False
            except psutil.Error:
                self._exited = True
            return self._exited
        select.select([], [], [], timeout)
        return not self.main_alive()


def stop_runner_process(pid: Optional[int], started: Optional[float], signum: int = signal.SIGTERM) -> bool:
    """Signal a ``--runner-pid`` runner: the process group of each child that leads its own group (the
    runner entry starts its command in a session of its own), then the runner itself (its whole group
    when it leads one). Only when ``pid`` still is the process that started at ``started``."""
    if pid is None or not same_process(pid, started):
        return False
    groups = set()
    try:
        for child in psutil.Process(pid).children():
            with contextlib.suppress(OSError):
                if os.getpgid(child.pid) == child.pid:
                    groups.add(child.pid)
    except (psutil.Error, OSError):
        pass
    for group in sorted(groups):
        with contextlib.suppress(OSError):
            os.killpg(group, signum)
    try:
        return signal_process(pid, started, signum, group=os.getpgid(pid) == pid)
    except OSError:
        return False

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Runner process state: systemd unit properties, a PID with psutil, the runner's exit record.

Commands run through an injected runner (``run_command(argv) -> (rc, stdout, stderr)``), so the
daemon uses subprocess and modules use ``module.run_command``.
"""
from __future__ import annotations

import os
import select
import subprocess
from typing import Callable, Dict, List, Optional, Set, Tuple

from .models import ExitInfo

try:
    import psutil

    HAS_PSUTIL = True
except ImportError:  # pragma: no cover - exercised by the sanity import test
    psutil = None
    HAS_PSUTIL = False

CommandRunner = Callable[[List[str]], Tuple[int, str, str]]

UNIT_PROPERTIES = ("ActiveState", "SubState", "Result", "ExecMainStatus", "ExecMainCode", "MainPID",
                   "ExecMainStartTimestampMonotonic", "InvocationID")
CLD_EXITED, CLD_KILLED, CLD_DUMPED = 1, 2, 3


def subprocess_runner(argv: List[str]) -> Tuple[int, str, str]:
    proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=30,
                          universal_newlines=True)
    return proc.returncode, proc.stdout, proc.stderr


def parse_show(text: str) -> Dict[str, str]:
    props: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key] = value
    return props


def unit_properties(unit: str, run_command: CommandRunner = subprocess_runner) -> Dict[str, str]:
    rc, out, _err = run_command(["systemctl", "show", "-p", ",".join(UNIT_PROPERTIES), "--", unit])
    if rc != 0:
        return {}
    return parse_show(out)


def exit_info_from_unit(props: Dict[str, str]) -> Tuple[ExitInfo, bool]:
    """(exit info, started) from ``systemctl show`` properties of the runner unit."""
    state = props.get("ActiveState", "")
    started = props.get("ExecMainStartTimestampMonotonic", "0") not in ("", "0") or bool(props.get("InvocationID"))
    if state in ("active", "activating", "deactivating", "reloading"):
        return ExitInfo(known=False, running=True, source="systemd"), True
    if not started:
        return ExitInfo(known=False, running=False, source="systemd", detail="not started"), False
    try:
        code = int(props.get("ExecMainCode", "0"))
        status = int(props.get("ExecMainStatus", "0"))
    except ValueError:
        return ExitInfo(known=False, running=False, source="systemd", detail="unreadable unit status"), True
    result = props.get("Result") or None
    if code == CLD_EXITED:
        return ExitInfo(known=True, running=False, exit_code=status, source="systemd", detail=result), True
    if code in (CLD_KILLED, CLD_DUMPED):
        return ExitInfo(known=True, running=False, signal=status, source="systemd", detail=result), True
    return ExitInfo(known=False, running=False, source="systemd", detail=result), True


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

    def __init__(self, pid: int) -> None:
        self.pid = pid
        self._known: Dict[int, float] = {}  # pid -> create_time of every process seen in the tree
        self._pidfd: Optional[int] = None
        self._exited = False
        self._sessions: Set[int] = set()
        self._proc = None
        if HAS_PSUTIL:
            try:
                self._proc = psutil.Process(pid)
                self._known[pid] = self._proc.create_time()
            except (psutil.Error, OSError):
                self._proc = None
        if hasattr(os, "pidfd_open"):
            try:
                self._pidfd = os.pidfd_open(pid)  # pylint: disable=no-member
            except OSError:
                self._pidfd = None

    def close(self) -> None:
        if self._pidfd is not None:
            os.close(self._pidfd)
            self._pidfd = None

    def main_alive(self) -> bool:
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
        if self._proc is None:
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
                if abs(proc.create_time() - created) < 0.01 and proc.status() != psutil.STATUS_ZOMBIE:
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

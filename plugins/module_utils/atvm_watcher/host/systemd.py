# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd: the one layer over ``systemctl`` and ``journalctl`` (the watcher, the launch and the cancel).

Every command goes through an injected command runner (``run(argv) -> (rc, stdout, stderr)``):
modules pass ``module.run_command``, the daemon and the CLI pass :func:`subprocess_runner`.
"""
from __future__ import annotations

import dataclasses
import subprocess
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import LaunchError
from ..models import ExitInfo

CommandRunner = Callable[[List[str]], Tuple[int, str, str]]

UNIT_PROPERTIES = ("LoadState", "ActiveState", "SubState", "Result", "ExecMainStatus", "ExecMainCode", "MainPID",
                   "ExecMainStartTimestampMonotonic", "InvocationID")
LIVE_STATES = ("active", "activating", "deactivating", "reloading")
CLD_EXITED, CLD_KILLED, CLD_DUMPED = 1, 2, 3
JOURNAL_LINES = 30
COMMAND_TIMEOUT = 120


def subprocess_runner(argv: List[str], timeout: float = COMMAND_TIMEOUT) -> Tuple[int, str, str]:
    """The command runner of the daemon and the CLI: never raises (127 cannot run, 124 timed out)."""
    try:
        proc = subprocess.run(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, check=False, timeout=timeout,
                              universal_newlines=True)
    except OSError as exc:
        return 127, "", "cannot run {0}: {1}".format(argv[0], exc.strerror or exc)
    except subprocess.TimeoutExpired:
        return 124, "", "{0} did not answer within {1:g} seconds".format(" ".join(argv[:2]), timeout)
    return proc.returncode, proc.stdout, proc.stderr


def parse_show(text: str) -> Dict[str, str]:
    """``systemctl show`` output (``Key=value`` lines) as a dict."""
    props: Dict[str, str] = {}
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if sep:
            props[key.strip()] = value.strip()
    return props


def _int_or_none(value: Optional[str]) -> Optional[int]:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


@dataclasses.dataclass
class UnitStatus:
    """The properties of one unit that the launch and the watcher decide by."""

    unit: str
    load_state: str = ""
    active_state: str = "inactive"
    sub_state: str = ""
    result: str = ""
    exec_main_status: Optional[int] = None
    exec_main_code: Optional[int] = None
    main_pid: Optional[int] = None
    started: bool = False  # this boot has started it (a start timestamp or an invocation ID)

    @classmethod
    def from_props(cls, unit: str, props: Dict[str, str]) -> "UnitStatus":
        pid = _int_or_none(props.get("MainPID"))
        return cls(
            unit=unit, load_state=props.get("LoadState", ""),
            active_state=props.get("ActiveState", "inactive") or "inactive", sub_state=props.get("SubState", ""),
            result=props.get("Result", ""), exec_main_status=_int_or_none(props.get("ExecMainStatus")),
            exec_main_code=_int_or_none(props.get("ExecMainCode")), main_pid=pid if pid else None,
            started=props.get("ExecMainStartTimestampMonotonic", "0") not in ("", "0") or bool(props.get("InvocationID")),
        )

    @property
    def live(self) -> bool:
        return self.active_state in LIVE_STATES

    @property
    def active(self) -> bool:
        return self.active_state == "active"

    def to_dict(self) -> Dict[str, Any]:
        return {
            "unit": self.unit, "LoadState": self.load_state, "ActiveState": self.active_state,
            "SubState": self.sub_state, "Result": self.result, "ExecMainStatus": self.exec_main_status,
            "ExecMainCode": self.exec_main_code, "MainPID": self.main_pid,
        }

    def exit_info(self) -> ExitInfo:
        """What the unit says about its main process's end (``running`` while it is live)."""
        if self.live:
            return ExitInfo(known=False, running=True, source="systemd")
        if not self.started:
            return ExitInfo(known=False, running=False, source="systemd", detail="not started")
        result = self.result or None
        if self.exec_main_code is None or self.exec_main_status is None:
            return ExitInfo(known=False, running=False, source="systemd", detail=result or "unreadable unit status")
        if self.exec_main_code == CLD_EXITED:
            return ExitInfo(known=True, running=False, exit_code=self.exec_main_status, source="systemd", detail=result)
        if self.exec_main_code in (CLD_KILLED, CLD_DUMPED):
            return ExitInfo(known=True, running=False, signal=self.exec_main_status, source="systemd", detail=result)
        return ExitInfo(known=False, running=False, source="systemd", detail=result)


class Systemd:
    """``systemctl`` / ``journalctl`` through an injected command runner."""

    def __init__(self, run: CommandRunner = subprocess_runner, systemctl: str = "systemctl",
                 journalctl: str = "journalctl") -> None:
        self.run = run
        self.systemctl = systemctl
        self.journalctl = journalctl

    def show(self, unit: str) -> UnitStatus:
        """The unit's status; raises :class:`LaunchError` when systemctl cannot tell."""
        rc, out, err = self.run([self.systemctl, "show", "-p", ",".join(UNIT_PROPERTIES), "--", unit])
        if rc != 0:
            raise LaunchError("cannot read the state of {0}: systemctl show exited {1}: {2}".format(
                unit, rc, (err or out).strip()))
        return UnitStatus.from_props(unit, parse_show(out))

    def start(self, unit: str) -> Tuple[int, str]:
        rc, out, err = self.run([self.systemctl, "start", "--", unit])
        return rc, (err or out).strip()

    def stop(self, unit: str) -> None:
        rc, out, err = self.run([self.systemctl, "stop", "--", unit])
        if rc != 0:
            raise LaunchError("cannot stop {0}: systemctl stop exited {1}: {2}".format(unit, rc, (err or out).strip()))

    def journal_tail(self, unit: str, lines: int = JOURNAL_LINES) -> str:
        rc, out, err = self.run([self.journalctl, "-u", unit, "-n", str(lines), "--no-pager", "-o", "short-iso"])
        if rc != 0:
            return "(journalctl -u {0} exited {1}: {2})".format(unit, rc, (err or out).strip())
        return out

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A stand-in for a controller's systemctl / journalctl, used as the injected command runner.

It answers ``systemctl show/start/stop/is-active`` and ``journalctl -u`` for the two template
units, and plays the watcher's part at start: it writes ``state.json`` with the phase a real
watcher would reach (``watching`` when ready), or fails, or never gets ready.
"""
from __future__ import annotations

import json
import os
import re
from typing import Any

UNIT_RE = re.compile(r"^(atvm-run-watcher|atvm-runner)@(.+)\.service$")
HOOK = "http://127.0.0.1:8065/hooks/abcdef0123456789"


class FakeSystemd:
    def __init__(self, state_root: str) -> None:
        self.state_root = state_root
        self.units: dict[str, dict[str, Any]] = {}
        self.calls: list[list[str]] = []
        self.watcher_mode = "ready"  # ready | fail | stuck (activating) | starting (active, phase starting)
        self.runner_mode = "run"  # run | fail
        self.installed = True
        self.next_pid = 1000
        self.path = os.environ.get("PATH", "/usr/bin:/bin")  # the PATH the units get
        self.checkout = ""  # the automation checkout of the tests' runs

    # ---- helpers for tests ----
    def unit(self, name: str) -> dict[str, Any]:
        return self.units.setdefault(name, {"ActiveState": "inactive", "SubState": "dead", "Result": "success",
                                            "MainPID": 0, "ExecMainCode": 0, "ExecMainStatus": 0})

    def set_state(self, name: str, active: str, sub: str = "running", pid: int = 0) -> None:
        self.unit(name).update(ActiveState=active, SubState=sub, MainPID=pid)

    def verbs(self, verb: str) -> list[str]:
        return [c[-1] for c in self.calls if c[0] == "systemctl" and c[1] == verb]

    def mutating(self) -> list[list[str]]:
        return [c for c in self.calls if c[0] == "systemctl" and c[1] in ("start", "stop", "restart", "kill")]

    def state_path(self, build: str) -> str:
        return os.path.join(self.state_root, build, "state.json")

    def write_state(self, build: str, **fields: Any) -> dict[str, Any]:
        path = self.state_path(build)
        state: dict[str, Any] = {}
        if os.path.exists(path):
            with open(path, encoding="utf-8") as handle:
                state = json.load(handle)
        state.setdefault("schema", 1)
        state.setdefault("build_name", build)
        state.setdefault("run_state", "RUNNING")
        state.setdefault("result", "RUN")
        state.setdefault("subruns", [])
        state.update(fields)
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(state, handle)
        return state

    def read_state(self, build: str) -> dict[str, Any] | None:
        try:
            with open(self.state_path(build), encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None

    # ---- the command runner ----
    def __call__(self, argv: list[str]) -> tuple[int, str, str]:
        argv = [str(a) for a in argv]
        self.calls.append(argv)
        if argv[0] == "journalctl":
            unit = argv[argv.index("-u") + 1]
            return 0, "Nov 27 10:00:00 ctl atvm-run-watcher[42]: {0}: posting to {1} failed\n".format(unit, HOOK), ""
        if argv[0] != "systemctl":
            return 127, "", "unexpected command {0}".format(argv[0])
        if argv[1:] == ["show-environment"]:  # the service manager's environment: the units' PATH
            return 0, "LANG=C.UTF-8\nPATH={0}\n".format(self.path), ""
        verb, unit = argv[1], argv[-1]
        match = UNIT_RE.match(unit)
        if not match:
            return 1, "", "Invalid unit name {0!r}".format(unit)
        kind, build = match.group(1), match.group(2)
        if verb == "show":
            props = dict(self.unit(unit))
            props["LoadState"] = "loaded" if self.installed else "not-found"
            return 0, "".join("{0}={1}\n".format(k, v) for k, v in props.items()), ""
        if verb == "is-active":
            return (0 if self.unit(unit)["ActiveState"] == "active" else 3), "", ""
        if verb == "stop":
            self.set_state(unit, "inactive", "dead", 0)
            return 0, "", ""
        if verb == "start":
            if not self.installed:
                return 5, "", "Failed to start {0}: Unit {0} not found.".format(unit)
            if self.unit(unit)["ActiveState"] == "active":
                return 0, "", ""
            self.next_pid += 1
            if kind == "atvm-run-watcher":
                return self._start_watcher(unit, build)
            if self.runner_mode == "fail":
                self.unit(unit).update(ActiveState="failed", SubState="failed", Result="exit-code")
                return 1, "", "Job for {0} failed because the control process exited with error code.".format(unit)
            self.set_state(unit, "active", "running", self.next_pid)
            return 0, "", ""
        return 1, "", "unknown verb {0}".format(verb)

    def _start_watcher(self, unit: str, build: str) -> tuple[int, str, str]:
        if self.watcher_mode == "fail":
            self.unit(unit).update(ActiveState="failed", SubState="failed", Result="exit-code", MainPID=0)
            return 1, "", "Job for {0} failed because the control process exited with error code.".format(unit)
        if self.watcher_mode == "stuck":
            self.set_state(unit, "activating", "start", self.next_pid)
            self.write_state(build, watcher={"pid": self.next_pid, "phase": "starting"})
            return 0, "", ""
        phase = "starting" if self.watcher_mode == "starting" else "watching"
        self.write_state(build, watcher={"pid": self.next_pid, "phase": phase})
        self.set_state(unit, "active", "running", self.next_pid)
        return 0, "", ""

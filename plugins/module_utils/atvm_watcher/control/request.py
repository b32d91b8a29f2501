# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a launch is made of: the per-run requests (``watcher.env``, ``runner.env``) and what is shown.

Private to the atvm.watcher collection. Build names are validated before any path or unit name is
built from them. The launcher that acts on the requests is :mod:`.launcher`.
"""
from __future__ import annotations

import dataclasses
import os
import re
import shlex
from collections.abc import Mapping
from typing import Any

from ..settings import DEFAULT_AUTOMATION_DIR, DEFAULT_STATE_ROOT, ENV_MAP, METADATA_ENV, unknown_names
from ..runpaths import BuildName, RunPaths
from ..envfile import parse_env_text, read_env_file, render_env_file
from ..errors import ConfigError, LaunchError

HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
# Per-run settings the launch modules write themselves; ``settings`` may not override them.
OWN_KEYS = ("ATVM_BUILD_NAME", "ATVM_CATEGORIZED", "ATVM_EXPECTED_HOSTS", "ATVM_AUTOMATION_DIR", "ATVM_RUNNER_LOG",
            "ATVM_STATE_ROOT", "ATVM_RUNNER_UNIT", "ATVM_RUNNER_PID")
METADATA_KEYS = {key: env for env, key in METADATA_ENV.items()}


@dataclasses.dataclass
class WatcherRequest:
    """Everything ``watcher.env`` holds for one run."""

    build_name: BuildName
    state_root: str = DEFAULT_STATE_ROOT
    automation_dir: str = DEFAULT_AUTOMATION_DIR
    categorized: bool = False
    expected_hosts: list[str] = dataclasses.field(default_factory=list)
    runner_log: str | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)  # keys: METADATA_ENV values
    settings: dict[str, str] = dataclasses.field(default_factory=dict)  # extra ENV_MAP names

    def __post_init__(self) -> None:
        self.build_name = BuildName(self.build_name)
        if not os.path.isabs(self.state_root):
            raise ConfigError(f"state root {self.state_root!r} is not an absolute path")
        if not os.path.isabs(self.automation_dir):
            raise ConfigError(f"automation directory {self.automation_dir!r} is not an absolute path")
        if self.runner_log and not os.path.isabs(self.runner_log):
            raise ConfigError(f"runner log {self.runner_log!r} is not an absolute path")
        for host in self.expected_hosts:
            if not isinstance(host, str) or not HOST_RE.match(host):
                raise ConfigError(f"expected host {host!r} is not a host name (letters, digits, '.', '_', '-')")
        for key in self.metadata:
            if key not in METADATA_KEYS:
                raise ConfigError("unknown run metadata {!r} (known: {})".format(key, ", ".join(sorted(METADATA_KEYS))))
        for key in self.settings:
            if key not in ENV_MAP:
                problem = (unknown_names({key: ""}) or [f"{key} is not a watcher setting"])[0]
                raise ConfigError(f"unknown watcher setting: {problem} (docs/settings.md lists them)")
            if key.startswith("MATTERMOST_"):
                raise ConfigError(f"{key} belongs in the controller-wide env file, not in a run's settings")
            if key in OWN_KEYS:
                raise ConfigError(f"{key} is set by its own option, not through settings")

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.state_root, self.build_name)

    @property
    def runner_log_path(self) -> str:
        return self.runner_log or self.paths.runner_log

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {str(k): str(v) for k, v in self.settings.items()}
        values.update({
            "ATVM_BUILD_NAME": self.build_name,
            "ATVM_STATE_ROOT": self.state_root,
            "ATVM_CATEGORIZED": "true" if self.categorized else "false",
            "ATVM_EXPECTED_HOSTS": ",".join(self.expected_hosts),
            "ATVM_AUTOMATION_DIR": self.automation_dir,
            "ATVM_RUNNER_LOG": self.runner_log_path,
            "ATVM_RUNNER_UNIT": self.paths.runner_unit,
        })
        for key, value in self.metadata.items():
            if value not in (None, ""):
                values[METADATA_KEYS[key]] = str(value)
        return values

    def render(self) -> str:
        return render_env_file(self.env(), header=f"Run {self.build_name}: written by atvm.watcher.watcher_start")


@dataclasses.dataclass
class RunnerRequest:
    """Everything ``runner.env`` holds for one run; unset workdir / log come from ``watcher.env``."""

    build_name: BuildName
    command: str
    state_root: str = DEFAULT_STATE_ROOT
    workdir: str | None = None
    runner_log: str | None = None

    def __post_init__(self) -> None:
        self.build_name = BuildName(self.build_name)
        if not os.path.isabs(self.state_root):
            raise ConfigError(f"state root {self.state_root!r} is not an absolute path")
        try:
            argv = shlex.split(self.command or "")
        except ValueError as exc:
            raise ConfigError(f"cannot split the runner command: {exc}") from None
        if not argv:
            raise ConfigError("the runner command is empty")
        for name, path in (("workdir", self.workdir), ("runner log", self.runner_log)):
            if path and not os.path.isabs(path):
                raise ConfigError(f"{name} {path!r} is not an absolute path")

    @property
    def paths(self) -> RunPaths:
        return RunPaths(self.state_root, self.build_name)

    def env(self, watcher_env: Mapping[str, str]) -> dict[str, str]:
        return {
            "ATVM_RUNNER_COMMAND": self.command,
            "ATVM_RUNNER_WORKDIR": self.workdir or watcher_env.get("ATVM_AUTOMATION_DIR") or DEFAULT_AUTOMATION_DIR,
            "ATVM_RUNNER_LOG": self.runner_log or watcher_env.get("ATVM_RUNNER_LOG")
            or self.paths.runner_log,
        }

    def render(self, watcher_env: Mapping[str, str]) -> str:
        return render_env_file(self.env(watcher_env), header=f"Run {self.build_name}: written by atvm.watcher.runner_start")


# ---------------------------------------------------------------------------------------------


def metadata_from(values: Mapping[str, Any]) -> dict[str, str]:
    """Keep the run metadata keys (``template``, ``config_family``, ...) that have a value."""
    return {k: str(v) for k, v in values.items() if k in METADATA_KEYS and v not in (None, "")}


def read_text(path: str) -> str | None:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LaunchError("cannot read {}: {}".format(path, getattr(exc, "strerror", None) or exc)) from None


def env_of(text: str | None, path: str) -> dict[str, str]:
    if not text:
        return {}
    try:
        return parse_env_text(text, path)
    except ConfigError:
        return {"__unreadable__": path}


def changed_keys(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def global_secrets(path: str) -> list[str]:
    """The webhook from the controller-wide env file, to redact it from anything shown."""
    try:
        values = read_env_file(path)
    except ConfigError:
        return []
    return [v for k, v in values.items() if k.startswith("MATTERMOST_") and "WEBHOOK" in k and v]

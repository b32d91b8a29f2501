# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Launch, cancel and read ATVM runs: the logic behind the modules (and usable by the CLI).

Private to the atvm.watcher collection. Every systemd command goes through an injected command
runner (``run(argv) -> (rc, stdout, stderr)``): modules pass ``module.run_command``, the CLI
passes :func:`subprocess_runner`. Build names are validated before any path or unit name is built
from them. Results are plain dicts (``changed``, ``msg``, ``diff`` and the facts of the run).
"""
from __future__ import annotations

import dataclasses
import datetime
import os
import re
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from typing import Any, Callable

from .config import (
    DEFAULT_AUTOMATION_DIR,
    DEFAULT_STATE_ROOT,
    ENV_MAP,
    GLOBAL_ENV_FILE,
    METADATA_ENV,
    RUNNER_UNIT,
    WATCHER_UNIT,
    parse_env_text,
    read_env_file,
    redact,
    render_env_file,
    validate_build_name,
)
from .errors import ConfigError, WatcherError
from .models import CANCELLED, RUN, TERMINAL_STATES, UNKNOWN
from .state import RunStore, archive_state_dir, atomic_write_bytes

CommandRunner = Callable[[list[str]], tuple[int, str, str]]

UNIT_PROPERTIES = ("LoadState", "ActiveState", "SubState", "Result", "ExecMainStatus", "ExecMainCode", "MainPID")
LIVE_STATES = ("active", "activating", "deactivating", "reloading")
WATCHER_ENV = "watcher.env"
RUNNER_ENV = "runner.env"
RUNNER_EXIT = "runner-exit.json"
READY_PHASE = "watching"
DELIVERING_PHASE = "delivering"
LIVE_PHASES = (READY_PHASE, DELIVERING_PHASE)  # a live run's watcher between two sub-run posts, or posting one
JOURNAL_LINES = 30
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
HOOK_RE = re.compile(r"(/hooks/)[A-Za-z0-9]+")
# Per-run settings the launch modules write themselves; ``settings`` may not override them.
OWN_KEYS = ("ATVM_BUILD_NAME", "ATVM_CATEGORIZED", "ATVM_EXPECTED_HOSTS", "ATVM_AUTOMATION_DIR", "ATVM_RUNNER_LOG",
            "ATVM_STATE_ROOT", "ATVM_RUNNER_UNIT", "ATVM_RUNNER_PID")
METADATA_KEYS = {key: env for env, key in METADATA_ENV.items()}


class LaunchError(WatcherError):
    """A launch, cancel or read step failed; ``details`` carries the facts to show (journal, log tail)."""

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.details = details


def subprocess_runner(argv: list[str]) -> tuple[int, str, str]:
    """The command runner of the CLI (modules pass ``module.run_command`` instead)."""
    try:
        proc = subprocess.run(argv, capture_output=True, check=False, timeout=120,
                              text=True)
    except OSError as exc:
        return 127, "", f"cannot run {argv[0]}: {exc.strerror or exc}"
    except subprocess.TimeoutExpired:
        return 124, "", "{} did not answer within 120 seconds".format(" ".join(argv[:2]))
    return proc.returncode, proc.stdout, proc.stderr


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def scrub(text: str, secrets: Iterable[str | None] = ()) -> str:
    """Remove secrets (and any webhook hook id) from text shown to the user."""
    return HOOK_RE.sub(r"\1***", redact(text, list(secrets)))


# ---------------------------------------------------------------------------------------------
# systemd
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class UnitStatus:
    """The properties of one unit that the launch decides by."""

    unit: str
    load_state: str = ""
    active_state: str = "inactive"
    sub_state: str = ""
    result: str = ""
    exec_main_status: int | None = None
    exec_main_code: int | None = None
    main_pid: int | None = None

    @property
    def live(self) -> bool:
        return self.active_state in LIVE_STATES

    @property
    def active(self) -> bool:
        return self.active_state == "active"

    def to_dict(self) -> dict[str, Any]:
        return {
            "unit": self.unit, "LoadState": self.load_state, "ActiveState": self.active_state,
            "SubState": self.sub_state, "Result": self.result, "ExecMainStatus": self.exec_main_status,
            "ExecMainCode": self.exec_main_code, "MainPID": self.main_pid,
        }


def _int_or_none(value: str | None) -> int | None:
    try:
        return int(value) if value not in (None, "") else None
    except ValueError:
        return None


class Systemd:
    """``systemctl`` / ``journalctl`` through an injected command runner."""

    def __init__(self, run: CommandRunner, systemctl: str = "systemctl", journalctl: str = "journalctl") -> None:
        self.run = run
        self.systemctl = systemctl
        self.journalctl = journalctl

    def show(self, unit: str) -> UnitStatus:
        argv = [self.systemctl, "show", "-p", ",".join(UNIT_PROPERTIES), "--", unit]
        rc, out, err = self.run(argv)
        if rc != 0:
            raise LaunchError(f"cannot read the state of {unit}: systemctl show exited {rc}: {(err or out).strip()}")
        props: dict[str, str] = {}
        for line in out.splitlines():
            key, sep, value = line.partition("=")
            if sep:
                props[key.strip()] = value.strip()
        pid = _int_or_none(props.get("MainPID"))
        return UnitStatus(
            unit=unit,
            load_state=props.get("LoadState", ""),
            active_state=props.get("ActiveState", "inactive") or "inactive",
            sub_state=props.get("SubState", ""),
            result=props.get("Result", ""),
            exec_main_status=_int_or_none(props.get("ExecMainStatus")),
            exec_main_code=_int_or_none(props.get("ExecMainCode")),
            main_pid=pid if pid else None,
        )

    def start(self, unit: str) -> tuple[int, str]:
        rc, out, err = self.run([self.systemctl, "start", "--", unit])
        return rc, (err or out).strip()

    def stop(self, unit: str) -> None:
        rc, out, err = self.run([self.systemctl, "stop", "--", unit])
        if rc != 0:
            raise LaunchError(f"cannot stop {unit}: systemctl stop exited {rc}: {(err or out).strip()}")

    def is_active(self, unit: str) -> bool:
        rc, _out, _err = self.run([self.systemctl, "is-active", "--quiet", "--", unit])
        return rc == 0

    def journal_tail(self, unit: str, lines: int = JOURNAL_LINES) -> str:
        rc, out, err = self.run([self.journalctl, "-u", unit, "-n", str(lines), "--no-pager", "-o", "short-iso"])
        if rc != 0:
            return f"(journalctl -u {unit} exited {rc}: {(err or out).strip()})"
        return out


# ---------------------------------------------------------------------------------------------
# requests (typed options, built from module params or CLI flags)
# ---------------------------------------------------------------------------------------------


def _state_dir(state_root: str, build_name: str) -> str:
    return os.path.join(state_root, validate_build_name(build_name))


@dataclasses.dataclass
class WatcherRequest:
    """Everything ``watcher.env`` holds for one run."""

    build_name: str
    state_root: str = DEFAULT_STATE_ROOT
    automation_dir: str = DEFAULT_AUTOMATION_DIR
    categorized: bool = False
    expected_hosts: list[str] = dataclasses.field(default_factory=list)
    runner_log: str | None = None
    metadata: dict[str, str] = dataclasses.field(default_factory=dict)  # keys: METADATA_ENV values
    settings: dict[str, str] = dataclasses.field(default_factory=dict)  # extra ENV_MAP names

    def __post_init__(self) -> None:
        validate_build_name(self.build_name)
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
                raise ConfigError(f"unknown watcher setting {key!r} (see the ENV_MAP names)")
            if key.startswith("MATTERMOST_"):
                raise ConfigError(f"{key} belongs in the controller-wide env file, not in a run's settings")
            if key in OWN_KEYS:
                raise ConfigError(f"{key} is set by its own option, not through settings")

    @property
    def state_dir(self) -> str:
        return _state_dir(self.state_root, self.build_name)

    @property
    def runner_log_path(self) -> str:
        return self.runner_log or os.path.join(self.state_dir, "runner.log")

    def env(self) -> dict[str, str]:
        values: dict[str, str] = {str(k): str(v) for k, v in self.settings.items()}
        values.update({
            "ATVM_BUILD_NAME": self.build_name,
            "ATVM_STATE_ROOT": self.state_root,
            "ATVM_CATEGORIZED": "true" if self.categorized else "false",
            "ATVM_EXPECTED_HOSTS": ",".join(self.expected_hosts),
            "ATVM_AUTOMATION_DIR": self.automation_dir,
            "ATVM_RUNNER_LOG": self.runner_log_path,
            "ATVM_RUNNER_UNIT": RUNNER_UNIT.format(self.build_name),
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

    build_name: str
    command: str
    state_root: str = DEFAULT_STATE_ROOT
    workdir: str | None = None
    runner_log: str | None = None

    def __post_init__(self) -> None:
        validate_build_name(self.build_name)
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
    def state_dir(self) -> str:
        return _state_dir(self.state_root, self.build_name)

    def env(self, watcher_env: Mapping[str, str]) -> dict[str, str]:
        return {
            "ATVM_RUNNER_COMMAND": self.command,
            "ATVM_RUNNER_WORKDIR": self.workdir or watcher_env.get("ATVM_AUTOMATION_DIR") or DEFAULT_AUTOMATION_DIR,
            "ATVM_RUNNER_LOG": self.runner_log or watcher_env.get("ATVM_RUNNER_LOG")
            or os.path.join(self.state_dir, "runner.log"),
        }

    def render(self, watcher_env: Mapping[str, str]) -> str:
        return render_env_file(self.env(watcher_env), header=f"Run {self.build_name}: written by atvm.watcher.runner_start")


# ---------------------------------------------------------------------------------------------
# the template step
# ---------------------------------------------------------------------------------------------


def _tail(path: str, lines: int, limit: int = 256 * 1024) -> list[str]:
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            size = handle.tell()
            handle.seek(max(0, size - limit))
            data = handle.read()
    except OSError:
        return []
    text = data.decode("utf-8", "replace").replace("\r\n", "\n")
    out = text.splitlines()
    if size > limit and out:
        out = out[1:]  # first line is probably cut
    return out[-lines:] if lines > 0 else []


def _open_log(path: str) -> int:
    """Open (truncate) the launch log without following a symlink planted in /tmp."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags, 0o600)
    except OSError as exc:
        raise LaunchError(f"cannot open the launch log {path}: {exc.strerror or exc}") from None
    os.fchmod(fd, 0o600)
    return fd


def _kill_group(proc: subprocess.Popen[bytes], grace: float) -> None:
    for sig in (signal.SIGTERM, signal.SIGKILL):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(grace)
            return
        except subprocess.TimeoutExpired:
            continue


def render_template(build_name: str, command: str, chdir: str, log_path: str | None = None,
                    timeout: float = 900.0, tail_lines: int = 30, environment: Mapping[str, str] | None = None,
                    check_mode: bool = False, secrets: Iterable[str | None] = (), kill_grace: float = 5.0
                    ) -> dict[str, Any]:
    """Run the approved template command synchronously in ``chdir`` (no shell), output to the log.

    Raises :class:`LaunchError` (with ``rc``, ``log_path``, ``log_tail``) when the command cannot
    start, exits non-zero or outlives ``timeout`` (then its whole process group is killed).
    """
    validate_build_name(build_name)
    log_path = log_path or f"/tmp/{build_name}.launch.log"
    try:
        argv = shlex.split(command or "")
    except ValueError as exc:
        raise ConfigError(f"cannot split the template command: {exc}") from None
    if not argv:
        raise ConfigError("the template command is empty")
    if not os.path.isabs(log_path):
        raise ConfigError(f"launch log {log_path!r} is not an absolute path")
    if not os.path.isdir(chdir):
        raise LaunchError(f"cannot run the template command: the automation directory {chdir} does not exist",
                          cmd=argv, log_path=log_path, rc=None, log_tail=[])
    if timeout <= 0:
        raise ConfigError("the template timeout must be greater than 0")
    result: dict[str, Any] = {"changed": True, "cmd": argv, "chdir": chdir, "log_path": log_path, "rc": None,
                              "timed_out": False, "duration": 0.0, "log_tail": []}
    if check_mode:
        result["msg"] = f"would run the template command in {chdir}"
        return result
    hidden = list(secrets) + [v for v in (environment or {}).values() if v and len(str(v)) >= 4]
    env = dict(os.environ)
    env.update({str(k): str(v) for k, v in (environment or {}).items()})
    fd = _open_log(log_path)
    started = time.monotonic()
    try:
        try:
            # Its own session: on timeout the whole group (the tool and its children) is killed.
            proc = subprocess.Popen(argv, cwd=chdir, stdin=subprocess.DEVNULL, stdout=fd, stderr=fd,  # pylint: disable=consider-using-with
                                    start_new_session=True, env=env)
        except OSError as exc:
            os.write(fd, f"cannot start {argv[0]}: {exc.strerror or exc}\n".encode("utf-8", "replace"))
            raise LaunchError(f"cannot start the template command {argv[0]}: {exc.strerror or exc}",
                              cmd=argv, log_path=log_path, rc=None, log_tail=[]) from None
    finally:
        os.close(fd)
    try:
        rc = proc.wait(timeout)
    except subprocess.TimeoutExpired:
        _kill_group(proc, kill_grace)
        result.update(timed_out=True, rc=proc.returncode, duration=round(time.monotonic() - started, 3),
                      log_tail=[scrub(line, hidden) for line in _tail(log_path, tail_lines)])
        raise LaunchError(f"the template command did not finish within {timeout:g} seconds and was killed; nothing else "
                          f"was started (log: {log_path})",
                          **{k: v for k, v in result.items() if k not in ("changed", "msg")}) from None
    result.update(rc=rc, duration=round(time.monotonic() - started, 3),
                  log_tail=[scrub(line, hidden) for line in _tail(log_path, tail_lines)])
    if rc != 0:
        raise LaunchError(f"the template command exited with {rc}; nothing else was started (log: {log_path})",
                          **{k: v for k, v in result.items() if k not in ("changed", "msg")})
    result["msg"] = f"template command finished (log: {log_path})"
    return result


# ---------------------------------------------------------------------------------------------
# the launcher
# ---------------------------------------------------------------------------------------------


def _read_text(path: str) -> str | None:
    try:
        with open(path, "r", encoding="utf-8") as handle:
            return handle.read()
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as exc:
        raise LaunchError("cannot read {}: {}".format(path, getattr(exc, "strerror", None) or exc)) from None


def _env_of(text: str | None, path: str) -> dict[str, str]:
    if not text:
        return {}
    try:
        return parse_env_text(text, path)
    except ConfigError:
        return {"__unreadable__": path}


def _changed_keys(old: Mapping[str, str], new: Mapping[str, str]) -> list[str]:
    return sorted(k for k in set(old) | set(new) if old.get(k) != new.get(k))


def global_secrets(path: str) -> list[str]:
    """The webhook from the controller-wide env file, to redact it from anything shown."""
    try:
        values = read_env_file(path)
    except ConfigError:
        return []
    return [v for k, v in values.items() if k.startswith("MATTERMOST_") and "WEBHOOK" in k and v]


class Launcher:
    """Start, cancel and read the runs of one controller."""

    def __init__(self, systemd: Systemd, state_root: str = DEFAULT_STATE_ROOT,
                 clock: Callable[[], float] = time.monotonic, sleep: Callable[[float], None] = time.sleep,
                 poll: float = 0.25, global_env_file: str = GLOBAL_ENV_FILE, archive_keep: int = 5,
                 by: str = "ansible") -> None:
        if not os.path.isabs(state_root):
            raise ConfigError(f"state root {state_root!r} is not an absolute path")
        self.systemd = systemd
        self.state_root = state_root
        self.clock = clock
        self.sleep = sleep
        self.poll = poll
        self.global_env_file = global_env_file
        self.archive_keep = archive_keep
        self.by = by

    # ---- reading ----
    def _store(self, build_name: str) -> RunStore:
        return RunStore(_state_dir(self.state_root, build_name))

    def _units(self, build_name: str) -> tuple[UnitStatus, UnitStatus]:
        return (self.systemd.show(WATCHER_UNIT.format(build_name)), self.systemd.show(RUNNER_UNIT.format(build_name)))

    @staticmethod
    def _load_state(store: RunStore) -> dict[str, Any] | None:
        try:
            state = store.load_state()
        except WatcherError:
            return None
        return state if isinstance(state, dict) and state else None

    @staticmethod
    def _phase(state: Mapping[str, Any] | None) -> str | None:
        watcher = (state or {}).get("watcher")
        return watcher.get("phase") if isinstance(watcher, dict) else None

    @staticmethod
    def _terminal(state: Mapping[str, Any] | None) -> bool:
        return bool(state) and state.get("run_state") in TERMINAL_STATES  # type: ignore[union-attr]

    def _is_live(self, watcher: UnitStatus, runner: UnitStatus, state: Mapping[str, Any] | None) -> bool:
        """A run is live while its runner runs, or its watcher runs a run that is not over."""
        return runner.live or (watcher.live and not self._terminal(state))

    def _secrets(self) -> list[str]:
        return global_secrets(self.global_env_file)

    def _journal(self, unit: str) -> str:
        return scrub(self.systemd.journal_tail(unit), self._secrets())

    # ---- watcher ----
    def start_watcher(self, request: WatcherRequest, check_mode: bool = False, force: bool = False,
                      timeout: float = 60.0) -> dict[str, Any]:
        """Write ``watcher.env`` and start the watcher; return when it is really watching."""
        if request.state_root != self.state_root:
            raise ConfigError("the request's state root differs from the launcher's")
        build = request.build_name
        unit = WATCHER_UNIT.format(build)
        store = self._store(build)
        env_path = os.path.join(request.state_dir, WATCHER_ENV)
        new_text = request.render()
        old_text = _read_text(env_path)
        watcher, runner = self._units(build)
        if watcher.load_state == "not-found":
            raise LaunchError(f"the unit {unit} is not installed on this host (install the controller first)")
        state = self._load_state(store)
        diff = {"before": old_text or "", "after": new_text, "before_header": env_path, "after_header": env_path}
        result: dict[str, Any] = {"build_name": build, "unit": unit, "state_dir": request.state_dir, "env_file": env_path,
                                  "runner_log": request.runner_log_path, "archived_to": None, "cancelled_previous": False,
                                  "new_run": False, "resumed": False}
        live = self._is_live(watcher, runner, state)
        if live:
            differs = _changed_keys(_env_of(old_text, env_path), request.env())
            if differs:
                if not force:
                    raise LaunchError(
                        "run {} is live with other parameters ({} differ); nothing was changed. Wait for it "
                        "to end, cancel it, or use force to cancel and replace it".format(build, ", ".join(differs)),
                        differing=differs, watcher=watcher.to_dict(), runner=runner.to_dict())
                result["cancelled_previous"] = True
                result["new_run"] = True
                if check_mode:
                    return dict(result, changed=True, diff=diff,
                                msg=f"would cancel the live run {build} and start a new watcher")
                self.cancel(build, reason="replaced by a forced launch with other parameters")
                watcher, runner = self._units(build)
                state = self._load_state(store)
            elif watcher.active:
                # Watching, or posting a finished sub-run of a categorized run: leave it alone.
                return dict(result, changed=False, diff=dict(diff, before=new_text), watcher=watcher.to_dict(),
                            phase=self._phase(state), msg=f"run {build} is already live with these parameters")
            elif watcher.live:
                # Starting up (or restarting after a crash): wait for it, change nothing.
                if check_mode:
                    return dict(result, changed=False, diff=dict(diff, before=new_text), watcher=watcher.to_dict(),
                                phase=self._phase(state), msg=f"the watcher of run {build} is starting")
                status = self._wait_ready(build, store, timeout, LIVE_PHASES, stop_on_timeout=False)
                return dict(result, changed=False, diff=dict(diff, before=new_text), watcher=status.to_dict(),
                            phase=self._phase(self._load_state(store)),
                            msg=f"run {build} is already live with these parameters")
            else:
                # The runner runs unwatched (the watcher died for good): resume its watcher on the same state.
                result["resumed"] = True
                if check_mode:
                    return dict(result, changed=True, diff=dict(diff, before=new_text),
                                msg=f"would restart the watcher of the live run {build}")
                status = self._start_unit_ready(build, store, timeout, LIVE_PHASES, stop_on_timeout=False)
                return dict(result, changed=True, diff=dict(diff, before=new_text), watcher=status.to_dict(),
                            phase=self._phase(self._load_state(store)),
                            msg=f"restarted the watcher of the live run {build} on its state")

        # A new run. A watcher still running for a finished run is stale; one still posting is let finish.
        result["new_run"] = True
        if check_mode:
            return dict(result, changed=True, diff=diff,
                        msg="would {}start the watcher of run {}".format(
                            "archive the previous state and " if os.path.isdir(request.state_dir) else "", build))
        if watcher.live:
            if self._phase(state) == DELIVERING_PHASE and not force:
                watcher = self._wait_unit_end(unit, timeout)
                if watcher.live:
                    raise LaunchError(f"the watcher of the previous run {build} is still posting its result after {timeout:g} "
                                      "seconds; try again later (force would interrupt it)",
                                      watcher=watcher.to_dict())
            self.systemd.stop(unit)
        if os.path.isdir(request.state_dir):
            result["archived_to"] = archive_state_dir(self.state_root, build, keep=self.archive_keep)
        store.ensure()
        atomic_write_bytes(env_path, new_text.encode("utf-8"), 0o600)
        self._start_unit_ready(build, store, timeout)
        diff["before"] = old_text or ""
        return dict(result, changed=True, diff=diff, watcher=self.systemd.show(unit).to_dict(), phase=READY_PHASE,
                    msg=f"watcher of run {build} started and watching")

    def _start_unit_ready(self, build: str, store: RunStore, timeout: float,
                          phases: tuple[str, ...] = (READY_PHASE,), stop_on_timeout: bool = True) -> UnitStatus:
        unit = WATCHER_UNIT.format(build)
        rc, err = self.systemd.start(unit)
        if rc != 0:
            raise LaunchError(f"cannot start {unit}: systemctl start exited {rc}: {scrub(err, self._secrets())}",
                              journal=self._journal(unit), watcher=self._safe_show(unit))
        return self._wait_ready(build, store, timeout, phases, stop_on_timeout)

    def _safe_show(self, unit: str) -> dict[str, Any]:
        try:
            return self.systemd.show(unit).to_dict()
        except LaunchError as exc:
            return {"unit": unit, "error": str(exc)}

    def _wait_ready(self, build: str, store: RunStore, timeout: float,
                    phases: tuple[str, ...] = (READY_PHASE,), stop_on_timeout: bool = True) -> UnitStatus:
        """Until the unit is active AND state.json shows one of ``phases``, or fail with the journal.

        A new run's watcher that is not ready in time is stopped; a live run's is left to systemd.
        """
        unit = WATCHER_UNIT.format(build)
        deadline = self.clock() + timeout
        while True:
            status = self.systemd.show(unit)
            phase = self._phase(self._load_state(store))
            if status.active and phase in phases:
                return status
            if status.active_state in ("failed", "inactive") or (status.active and phase not in (None, "starting")):
                why = f"is {status.active_state} ({status.result or status.sub_state})" if not status.active \
                    else f"is in phase {phase}"
                raise LaunchError(f"the watcher {unit} {why} instead of watching",
                                  journal=self._journal(unit), watcher=status.to_dict(), phase=phase)
            if self.clock() >= deadline:
                stopped = ""
                if stop_on_timeout:
                    try:
                        self.systemd.stop(unit)
                        stopped = " and was stopped"
                    except LaunchError:
                        pass
                raise LaunchError(f"the watcher {unit} was not watching after {timeout:g} seconds "
                                  f"(ActiveState={status.active_state}, phase={phase}){stopped}",
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
    def start_runner(self, request: RunnerRequest, check_mode: bool = False, force: bool = False) -> dict[str, Any]:
        """Write ``runner.env`` and start the runner, only when a ready watcher watches this build."""
        if request.state_root != self.state_root:
            raise ConfigError("the request's state root differs from the launcher's")
        build = request.build_name
        unit = RUNNER_UNIT.format(build)
        store = self._store(build)
        watcher_env_path = os.path.join(request.state_dir, WATCHER_ENV)
        env_path = os.path.join(request.state_dir, RUNNER_ENV)
        watcher_env = _env_of(_read_text(watcher_env_path), watcher_env_path)
        new_env = request.env(watcher_env)
        new_text = request.render(watcher_env)
        old_text = _read_text(env_path)
        watcher, runner = self._units(build)
        if runner.load_state == "not-found":
            raise LaunchError(f"the unit {unit} is not installed on this host (install the controller first)")
        state = self._load_state(store)
        diff = {"before": old_text or "", "after": new_text, "before_header": env_path, "after_header": env_path}
        result: dict[str, Any] = {"build_name": build, "unit": unit, "env_file": env_path,
                                  "runner_log": new_env["ATVM_RUNNER_LOG"], "workdir": new_env["ATVM_RUNNER_WORKDIR"]}
        if runner.live:
            differs = _changed_keys(_env_of(old_text, env_path), new_env)
            if not differs:
                return dict(result, changed=False, diff=dict(diff, before=new_text), runner=runner.to_dict(),
                            msg=f"the runner of run {build} is already running with these parameters")
            if not force:
                raise LaunchError("the runner of run {} is running with other parameters ({} differ); nothing was "
                                  "changed. Wait for it to end, cancel it, or use force".format(build, ", ".join(differs)),
                                  differing=differs, runner=runner.to_dict())
            if check_mode:
                return dict(result, changed=True, diff=diff,
                            msg=f"would cancel the live run {build}; a new watcher is then needed")
            self.cancel(build, reason="replaced by a forced runner start with other parameters")
            raise LaunchError(f"the live run {build} was cancelled and archived on force; start a new watcher "
                              "(atvm.watcher.watcher_start) before its runner", cancelled_previous=True)
        # Watcher first: a runner only starts under a watcher that is ready for this very run.
        phase = self._phase(state)
        if not (watcher.active and phase == READY_PHASE):
            raise LaunchError("refusing to start the runner of {}: no ready watcher watches it ({} is {}, phase {}); "
                              "start the watcher first".format(build, watcher.unit, watcher.active_state, phase or "none"),
                              watcher=watcher.to_dict(), phase=phase)
        if (state or {}).get("build_name") not in (None, build):
            raise LaunchError("refusing to start the runner of {}: its state belongs to build {!r}".format(
                build, state.get("build_name")))  # type: ignore[union-attr]
        exit_path = os.path.join(request.state_dir, RUNNER_EXIT)
        if self._terminal(state) or os.path.exists(exit_path) or os.path.exists(exit_path + ".running"):
            if not _changed_keys(_env_of(old_text, env_path), new_env):
                return dict(result, changed=False, diff=dict(diff, before=new_text), runner=runner.to_dict(),
                            msg=f"the runner of run {build} already ran with these parameters; nothing was changed")
            raise LaunchError(f"refusing to start the runner of {build} again: this run's runner already ran; launch a new "
                              "run (watcher_start) for another one")
        expected_log = watcher_env.get("ATVM_RUNNER_LOG")
        if expected_log and new_env["ATVM_RUNNER_LOG"] != expected_log:
            raise LaunchError("refusing to start the runner of {}: its log {} is not the log the watcher reads ({})".format(
                build, new_env["ATVM_RUNNER_LOG"], expected_log))
        announced = watcher_env.get("ATVM_RUNNER_COMMAND")
        if announced and announced != request.command:
            raise LaunchError(f"refusing to start the runner of {build}: its command differs from the one the watcher was "
                              "started for", runner_command=request.command, watcher_runner_command=announced)
        if check_mode:
            return dict(result, changed=True, diff=diff, msg=f"would start the runner of run {build}")
        atomic_write_bytes(env_path, new_text.encode("utf-8"), 0o600)
        rc, err = self.systemd.start(unit)
        if rc != 0:
            raise LaunchError(f"cannot start {unit}: systemctl start exited {rc}: {scrub(err, self._secrets())}",
                              journal=self._journal(unit), runner=self._safe_show(unit))
        return dict(result, changed=True, diff=diff, runner=self.systemd.show(unit).to_dict(),
                    msg=f"runner of run {build} started")

    # ---- cancel ----
    def cancel(self, build_name: str, reason: str = "cancelled from Ansible", check_mode: bool = False) -> dict[str, Any]:
        """Marker first, then state CANCELLED, then stop runner and watcher. Nothing is posted."""
        validate_build_name(build_name)
        store = self._store(build_name)
        state_dir = _state_dir(self.state_root, build_name)
        watcher, runner = self._units(build_name)
        state = self._load_state(store)
        before = (state or {}).get("run_state")
        result: dict[str, Any] = {"build_name": build_name, "state_dir": state_dir, "previous_state": before,
                                  "stopped": []}
        if self._terminal(state) and not runner.live:
            return dict(result, changed=False, run_state=before, diff={"before": before, "after": before},
                        msg=f"run {build_name} had already ended ({before}); nothing was changed")
        if self._terminal(state):
            # e.g. HUNG with the runner still alive: the verdict stands, the runner goes.
            if check_mode:
                return dict(result, changed=True, run_state=before, diff={"before": before, "after": before},
                            msg=f"would stop the runner of run {build_name}, which had already ended ({before})")
            self.systemd.stop(runner.unit)
            return dict(result, changed=True, run_state=before, stopped=[runner.unit],
                        diff={"before": before, "after": before},
                        msg=f"run {build_name} had already ended ({before}); its runner was still active and was stopped")
        if state is None and not watcher.live and not runner.live and not os.path.isdir(state_dir):
            return dict(result, changed=False, run_state=None, diff={"before": None, "after": None},
                        msg=f"there is no run {build_name}; nothing was changed")
        diff = {"before": before, "after": CANCELLED}
        if check_mode:
            return dict(result, changed=True, run_state=CANCELLED, diff=diff,
                        msg=f"would cancel run {build_name}")
        store.ensure()
        store.write_cancel_marker(reason, self.by)
        self._mark_cancelled(store, build_name, reason)
        stopped = []
        for status in (runner, watcher):
            if status.live:
                stopped.append(status.unit)
            self.systemd.stop(status.unit)  # harmless when already inactive, closes a start in flight
        # The watcher may have written its in-memory state while stopping: the cancel is the last word.
        final = self._load_state(store)
        if not final or final.get("run_state") != CANCELLED:
            self._mark_cancelled(store, build_name, reason)
        return dict(result, changed=True, run_state=CANCELLED, stopped=stopped, diff=diff,
                    msg=f"run {build_name} cancelled; nothing was posted")

    def _mark_cancelled(self, store: RunStore, build_name: str, reason: str) -> None:
        state = self._load_state(store) or {"schema": 1, "build_name": build_name, "created_at": _now(),
                                            "result": "UNKNOWN", "subruns": [], "reasons": []}
        now = _now()
        state["run_state"] = CANCELLED
        if state.get("result") in (None, RUN):
            state["result"] = UNKNOWN  # the run never got to its verdict
        state["updated_at"] = now
        state["ended_at"] = state.get("ended_at") or now
        reasons = state.get("reasons") if isinstance(state.get("reasons"), list) else []
        note = f"cancelled by {self.by}: {reason}"
        if note not in reasons:
            reasons.append(note)
        state["reasons"] = reasons
        store.save_state(state)

    # ---- info ----
    def info(self, build_name: str, wait: bool = False, timeout: float = 3600.0) -> dict[str, Any]:
        """The run as its files and units say; with ``wait``, once it is over and its watcher gone."""
        validate_build_name(build_name)
        deadline = self.clock() + timeout
        while True:
            data = self._info_once(build_name)
            done = not data["exists"] or (data["terminal"] and not data["units"]["watcher"]["live"])
            if not wait or done:
                return dict(data, changed=False, waited=wait, timed_out=False)
            if self.clock() >= deadline:
                raise LaunchError("run {} was still {} after waiting {:g} seconds".format(
                    build_name, data["run_state"] or "starting", timeout), **dict(data, timed_out=True))
            self.sleep(max(self.poll, min(1.0, deadline - self.clock())))

    def _info_once(self, build_name: str) -> dict[str, Any]:
        store = self._store(build_name)
        state_dir = _state_dir(self.state_root, build_name)
        watcher, runner = self._units(build_name)
        state = self._load_state(store)
        try:
            marker = store.cancel_marker()
        except WatcherError:
            marker = None
        try:
            outbox = store.outbox_list() or []
        except WatcherError:
            outbox = []
        deliveries = {}
        counts = {"sent": 0, "failed": 0, "pending": 0}
        outbox_summary = []
        for record in outbox:
            if not isinstance(record, dict):
                continue
            status = record.get("status")
            deliveries[record.get("key")] = status
            counts["sent" if status == "SENT" else "failed" if status == "POST_FAILED" else "pending"] += 1
            outbox_summary.append({k: record.get(k) for k in (
                "key", "subrun_index", "subrun_name", "status", "attempts", "possible_duplicate", "sent_at", "last_error")})
        subruns = []
        for entry in (state or {}).get("subruns") or []:
            if not isinstance(entry, dict):
                continue
            merged = dict(entry)
            try:
                detail = store.load_subrun(entry.get("index"), entry.get("name"))
            except (WatcherError, TypeError, ValueError):
                detail = None
            if isinstance(detail, dict):
                # The watcher keeps the sub-run's verdict under "verdict"; flat records are read as well.
                verdict = detail.get("verdict") if isinstance(detail.get("verdict"), dict) else detail
                for key in ("state", "result", "reasons", "started_at", "ended_at"):
                    if verdict.get(key) is not None:
                        merged[key] = verdict[key]
                if isinstance(verdict.get("hosts"), list):
                    merged["hosts"] = [{k: h.get(k) for k in ("host", "result", "reasons")}
                                       for h in verdict["hosts"] if isinstance(h, dict)]
                if "posted" in detail:
                    merged["posted"] = detail["posted"]
            if merged.get("key") in deliveries:
                merged["delivery"] = deliveries[merged.get("key")]
            subruns.append({k: merged.get(k) for k in (
                "index", "name", "state", "result", "delivery", "key", "posted", "reasons", "hosts", "started_at",
                "ended_at")})
        run_state = (state or {}).get("run_state")
        exists = state is not None or os.path.isdir(state_dir) or watcher.live or runner.live
        units = {"watcher": dict(watcher.to_dict(), live=watcher.live), "runner": dict(runner.to_dict(), live=runner.live)}
        return {
            "build_name": build_name,
            "state_dir": state_dir,
            "exists": exists,
            "run_state": run_state,
            "result": (state or {}).get("result"),
            "terminal": self._terminal(state),
            "live": self._is_live(watcher, runner, state),
            "phase": self._phase(state),
            "categorized": (state or {}).get("categorized"),
            "created_at": (state or {}).get("created_at"),
            "updated_at": (state or {}).get("updated_at"),
            "ended_at": (state or {}).get("ended_at"),
            "reasons": (state or {}).get("reasons") or [],
            "metadata": (state or {}).get("metadata") or {},
            "runner_exit": ((state or {}).get("runner") or {}).get("exit") if isinstance((state or {}).get("runner"), dict) else None,
            "subruns": subruns,
            "delivery": counts if outbox_summary or not isinstance((state or {}).get("delivery"), dict)
            else {k: (state or {})["delivery"].get(k, 0) for k in ("sent", "failed", "pending")},
            "outbox": outbox_summary,
            "cancel_marker": marker if isinstance(marker, dict) else None,
            "units": units,
        }


def metadata_from(values: Mapping[str, Any]) -> dict[str, str]:
    """Keep the run metadata keys (``template``, ``config_family``, ...) that have a value."""
    return {k: str(v) for k, v in values.items() if k in METADATA_KEYS and v not in (None, "")}


def launcher(run: CommandRunner, state_root: str = DEFAULT_STATE_ROOT, **kwargs: Any) -> Launcher:
    """A :class:`Launcher` over ``systemctl`` run through ``run``."""
    return Launcher(Systemd(run), state_root=state_root, **kwargs)


__all__ = [
    "CommandRunner", "LaunchError", "Launcher", "RunnerRequest", "Systemd", "UnitStatus", "WatcherRequest",
    "global_secrets", "launcher", "metadata_from", "render_template", "scrub", "subprocess_runner",
]

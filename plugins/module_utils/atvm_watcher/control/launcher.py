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
import re
import shlex
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

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

# systemd's PATH for a service that sets none (the runner unit sets none): used when the manager
# cannot be asked (``systemctl show-environment``).
SERVICE_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
# A first word that runs its second word as a script (python3 ./run-sorry-cypress.py ...).
SCRIPT_RUNNERS = re.compile(r"^(python[0-9.]*|node|nodejs|bash|sh|dash|perl|ruby)$")


def _resolve(word: str, workdir: str, path: str) -> Optional[str]:
    """Where the runner would find the executable ``word``: a path (relative to ``workdir``) or on ``path``."""
    if "/" in word:
        return os.path.normpath(os.path.join(workdir, word))
    for folder in path.split(os.pathsep):
        candidate = os.path.join(folder or ".", word)
        if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return candidate
    return None


def _shebang(path: str) -> Optional[List[str]]:
    """The interpreter line of a script (``#!/usr/bin/env node`` -> ["/usr/bin/env", "node"]), or None."""
    try:
        with open(path, "rb") as handle:
            first = handle.readline(512)
    except OSError:
        return None
    if not first.startswith(b"#!"):
        return None
    return first[2:].decode("utf-8", "replace").split() or None


def _missing_interpreter(line: Optional[List[str]], workdir: str, path: str) -> Optional[str]:
    """The interpreter of a ``#!`` line that cannot be found (``/usr/bin/env X``: X on ``path``), or None."""
    if not line:
        return None
    if not os.path.isfile(os.path.join(workdir, line[0])):  # the kernel takes it as a path
        return line[0]
    if os.path.basename(line[0]) == "env" and len(line) > 1 and not line[1].startswith("-") \
            and _resolve(line[1], workdir, path) is None:
        return line[1]
    return None


def _script_of(argv: List[str]) -> Optional[str]:
    """The script an interpreter is given as its first word (``python3 ./run.py``), or None."""
    if len(argv) < 2 or not SCRIPT_RUNNERS.match(os.path.basename(argv[0])) or argv[1].startswith("-"):
        return None
    if "/" in argv[1] or argv[1].endswith((".py", ".js", ".mjs", ".cjs", ".sh", ".pl", ".rb")):
        return argv[1]
    return None


_SHELL_WORDS = {"|": "a pipe (|)", "&": "& or && (background, and-then)", ";": "; (command separator)",
                "<": "a redirection (<)", ">": "a redirection (>)", "`": "a command substitution (`...`)",
                "$": "a variable or substitution ($)"}


def shell_syntax(command: str) -> Optional[str]:
    """The first shell syntax outside quotes in ``command`` (pipes, redirections, ``&&``, ``;``, ``$X``,
    backquotes), in words, or None. The commands are split into words and run without a shell, so
    such syntax would reach the program as literal arguments."""
    quote = ""
    escaped = False
    for index, char in enumerate(command or ""):
        if escaped:
            escaped = False
        elif char == "\\" and quote != "'":
            escaped = True
        elif quote:
            if char == quote:
                quote = ""
            elif quote == '"' and char in "`$" and command[index + 1:index + 2] not in ("", " "):
                return _SHELL_WORDS[char]
        elif char in "'\"":
            quote = char
        elif char in _SHELL_WORDS and not (char == "$" and command[index + 1:index + 2] in ("", " ")):
            return _SHELL_WORDS[char]
    return None


def shell_syntax_problem(command: str, what: str) -> Optional[str]:
    """The refusal of a command holding shell syntax, saying how it is run, or None."""
    found = shell_syntax(command)
    if found is None:
        return None
    return ("the {0} holds {1}, but it is run without a shell (split into words like a shell does, then run "
            "as they are): quote it, or run a shell explicitly, for example bash -c '...'".format(what, found))


def launch_problems(command: Optional[str], workdir: str, path: str = SERVICE_PATH) -> List[str]:
    """What keeps ``command`` from starting in ``workdir`` the way the runner unit starts it ([] when nothing).

    Checked before anything of a run starts: the working directory, the command's executable (on the
    unit's ``path``, or relative to ``workdir``), the interpreter of a script it names, and the script an
    interpreter is given (``python3 ./run-sorry-cypress.py``). ``command`` None: the directory only.
    """
    if not os.path.isabs(workdir or ""):
        return ["the working directory {0!r} is not an absolute path".format(workdir)]
    if not os.path.isdir(workdir):
        what = "is not a directory" if os.path.exists(workdir) else "does not exist"
        return ["the automation checkout {0} (the run's working directory) {1} on this host; give the right one "
                "with atvm_automation_dir, or install the controller with controller_automation_dir".format(workdir, what)]
    if command is None:
        return []
    try:
        argv = shlex.split(command or "")
    except ValueError as exc:
        return ["the runner command cannot be split into words: {0}".format(exc)]
    if not argv:
        return ["the runner command is empty"]
    problems: List[str] = []
    syntax = shell_syntax_problem(command, "runner command")
    if syntax:
        problems.append(syntax)
    found = _resolve(argv[0], workdir, path)
    if found is None:
        problems.append("{0} is not found on the runner's PATH ({1})".format(argv[0], path))
    elif not os.path.isfile(found):
        problems.append("{0} ({1}) {2}".format(argv[0], found, "is not a file" if os.path.exists(found) else "does not exist"))
    elif not os.access(found, os.X_OK):
        problems.append("{0} ({1}) is not executable".format(argv[0], found))
    else:
        missing = _missing_interpreter(_shebang(found), workdir, path)
        if missing:
            problems.append("{0} starts with #!{1}, but {2} is not on this host".format(
                argv[0], " ".join(_shebang(found) or []), missing))
    script = _script_of(argv)
    if found and script and not os.path.isfile(os.path.join(workdir, script)):
        problems.append("the script {0} that {1} runs is not in {2}".format(script, argv[0], workdir))
    return problems


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
                              "to end, cancel it, or replace it: force=true (-e atvm_force=true with launch_run.yml) cancels it, "
                              "nothing posted, and starts the new run".format(build, ", ".join(differs)),
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

    # ---- before anything starts ----
    def service_path(self) -> str:
        """The PATH the runner unit gets: the service manager's, or systemd's default when it cannot be asked."""
        try:
            rc, out, _err = self.systemd.run([self.systemd.systemctl, "show-environment"])
        except OSError:
            return SERVICE_PATH
        if rc == 0:
            for line in out.splitlines():
                if line.startswith("PATH="):
                    return line[len("PATH="):]
        return SERVICE_PATH

    def check_launchable(self, command: Optional[str], workdir: str, template_command: Optional[str] = None) -> None:
        """Raise :class:`LaunchError` naming what keeps ``command`` (and the template step's ``template_command``)
        from starting in ``workdir``; nothing is changed."""
        problems = launch_problems(command, workdir, self.service_path())
        template = shell_syntax_problem(template_command, "template command") if template_command else None
        problems += [template] if template else []
        if problems:
            raise LaunchError("the run cannot start: {0}; nothing was started".format("; ".join(problems)),
                              launch_problems=problems, workdir=workdir)

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

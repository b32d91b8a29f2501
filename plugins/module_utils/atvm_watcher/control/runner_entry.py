# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner entry (``atvm-runner``): run the runner command, append its output to the runner log,
record how it ended in ``runner-exit.json``.

The command is split with shlex (no shell). It runs in its own process group; SIGTERM, SIGINT and
SIGHUP are forwarded to the group. When the command is killed by a signal, the entry records the
signal and then ends by the same signal, so systemd sees what happened. The command never gets a
``MATTERMOST_*`` variable (the webhook is the watcher's alone), whatever the entry was started with.
"""
from __future__ import annotations

import argparse
import contextlib
import errno
import fcntl
import os
import shlex
import signal
import stat
import subprocess
import sys
from typing import Dict, List, Mapping, Optional

from ..settings import DEFAULT_STATE_ROOT
from ..runpaths import RunPaths
from ..errors import ConfigError, StateError
from ..inputs import not_regular
from ..durable import atomic_write_json, dump_json, utc_now

# The in-progress record is padded to this size, so that the final record can still be written over
# it in place (no new block needed) when the disk is full.
RESERVED_BYTES = 1024


def _say(text: str) -> None:
    """One line on stderr: the unit's journal."""
    try:
        sys.stderr.write("atvm-runner: {0}\n".format(text))
        sys.stderr.flush()
    except (OSError, ValueError):
        pass


def _write_running(path: str, record: Dict[str, object]) -> None:
    """The in-progress record, padded to :data:`RESERVED_BYTES` (JSON allows trailing blanks)."""
    data = dump_json(record)
    try:
        atomic_write_json(path, record)
        with open(path, "ab") as handle:
            handle.write(b" " * max(0, RESERVED_BYTES - len(data)))
            handle.flush()
            os.fsync(handle.fileno())
    except (StateError, OSError) as exc:
        _say("cannot write {0}: {1}".format(path, getattr(exc, "strerror", None) or exc))


def _write_in_place(reserved: str, path: str, record: Dict[str, object]) -> None:
    """Overwrite the reserved in-progress record with ``record``, then rename it to ``path``."""
    data = dump_json(record)
    fd = os.open(reserved, os.O_WRONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        if len(data) > os.fstat(fd).st_size:
            raise OSError(errno.ENOSPC, "the reserved record is too small")
        os.pwrite(fd, data, 0)
        os.ftruncate(fd, len(data))
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(reserved, path)


def _write_exit(path: str, record: Dict[str, object], reserved: Optional[str] = None) -> bool:
    """Record how the command ended; never raises. A failure is journalled with the exit itself, and
    the entry still ends with the command's status, so systemd's unit status keeps it."""
    try:
        atomic_write_json(path, record)
    except StateError as exc:
        failure = str(exc)
    else:
        if reserved:
            with contextlib.suppress(OSError):
                os.unlink(reserved)
        return True
    if reserved:
        try:
            _write_in_place(reserved, path, record)
            _say("{0}; the exit was written over the reserved record instead".format(failure))
            return True
        except OSError as exc:
            failure += "; over the reserved record: {0}".format(exc.strerror or exc)
    _say("{0}: the command ended with exit code {1}, signal {2} (kept in the unit's exit status)".format(
        failure, record.get("exit_code"), record.get("signal")))
    return False


def _open_log(log_path: str) -> int:
    """Open the runner log for appending; only a regular file (a FIFO or a device is refused, without
    blocking on it)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(log_path, flags, 0o640)
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):
            os.close(fd)
            raise not_regular(mode)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # a FIFO without a reader
            exc = not_regular(stat.S_IFIFO)
        raise ConfigError("cannot open the runner log {0}: {1}".format(log_path, exc.strerror or exc)) from None
    fcntl.fcntl(fd, fcntl.F_SETFL, fcntl.fcntl(fd, fcntl.F_GETFL) & ~os.O_NONBLOCK)
    return fd


def start_failure_cause(argv: List[str], workdir: Optional[str], exc: OSError,
                        path: Optional[str] = None) -> str:
    """Why ``argv`` could not be started, in words: the working directory comes first (``subprocess``
    reports a missing working directory as the executable's "No such file or directory")."""
    if workdir and not os.path.isdir(workdir):
        return "its working directory {0} {1}".format(
            workdir, "is not a directory" if os.path.exists(workdir) else "does not exist")
    if exc.errno == errno.ENOENT and "/" not in argv[0]:
        return "not found on PATH ({0})".format(path if path is not None else os.environ.get("PATH", ""))
    if exc.errno == errno.ENOENT:
        target = os.path.join(workdir or os.getcwd(), argv[0])
        if os.path.isfile(target):
            return "the interpreter of its #! line does not exist"
        return "no such file in {0}".format(workdir or os.getcwd())
    return str(exc.strerror or exc)


def _start_failed(log_fd: int, exit_path: str, argv: List[str], exc: OSError, started: str,
                  workdir: Optional[str] = None) -> int:
    cause = start_failure_cause(argv, workdir, exc)
    try:
        os.write(log_fd, "atvm-runner: cannot start {0}: {1}\n".format(argv[0], cause).encode())
    except OSError:
        pass
    os.close(log_fd)
    _say("cannot start {0}: {1}".format(argv[0], cause))
    _write_exit(exit_path, {"schema": 1, "pid": None, "exit_code": 127, "signal": None,
                            "started_at": started, "ended_at": utc_now(), "error": "cannot start command"})
    return 127


def child_environment(environ: Mapping[str, str]) -> Dict[str, str]:
    """The command's environment: the entry's own, without any ``MATTERMOST_*`` variable."""
    return {k: v for k, v in environ.items() if not k.upper().startswith("MATTERMOST_")}


def run(build_name: str, state_root: str, command: str, workdir: Optional[str], log_path: Optional[str]) -> int:
    paths = RunPaths(state_root, build_name)
    if not os.path.isdir(paths.dir):
        raise ConfigError("state directory {0} does not exist: start the watcher first".format(paths.dir))
    argv = shlex.split(command)
    if not argv:
        raise ConfigError("ATVM_RUNNER_COMMAND is empty")
    log_path = log_path or paths.runner_log
    exit_path = paths.runner_exit
    reserved = paths.runner_exit_running
    if os.path.exists(exit_path):
        os.replace(exit_path, exit_path + ".previous")
    log_fd = _open_log(log_path)
    started = utc_now()
    try:
        child = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, cwd=workdir or None, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
            start_new_session=True, env=child_environment(os.environ),
        )
    except OSError as exc:
        return _start_failed(log_fd, exit_path, argv, exc, started, workdir)
    os.close(log_fd)
    _write_running(reserved, {"schema": 1, "pid": child.pid, "started_at": started})

    def forward(signum: int, _frame: object) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    code = child.wait()
    record: Dict[str, object] = {"schema": 1, "pid": child.pid, "started_at": started, "ended_at": utc_now(),
                                 "exit_code": code if code >= 0 else None, "signal": -code if code < 0 else None}
    _write_exit(exit_path, record, reserved)
    if code < 0:
        signal.signal(-code, signal.SIG_DFL)
        os.kill(os.getpid(), -code)
        return 128 - code
    return code


def main(argv: Optional[List[str]] = None, environ: Optional[Dict[str, str]] = None) -> int:
    env = dict(os.environ if environ is None else environ)
    parser = argparse.ArgumentParser(prog="atvm-runner", description="Run an ATVM runner command for a build.")
    parser.add_argument("--build-name", required=True)
    parser.add_argument("--state-root", default=env.get("ATVM_STATE_ROOT") or DEFAULT_STATE_ROOT)
    parser.add_argument("--command", default=env.get("ATVM_RUNNER_COMMAND"),
                        help="the command (default: ATVM_RUNNER_COMMAND)")
    parser.add_argument("--workdir", default=env.get("ATVM_RUNNER_WORKDIR"))
    parser.add_argument("--log", default=env.get("ATVM_RUNNER_LOG"))
    args = parser.parse_args(argv)
    try:
        if not args.command:
            raise ConfigError("no runner command: set ATVM_RUNNER_COMMAND or --command")
        return run(args.build_name, args.state_root, args.command, args.workdir, args.log)
    except ConfigError as exc:
        sys.stderr.write("atvm-runner: {0}\n".format(exc))
        return 1

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner entry (``atvm-runner``): run the runner command, append its output to the runner log,
record how it ended in ``runner-exit.json``.

The command is split with shlex (no shell). It runs in its own process group; SIGTERM, SIGINT and
SIGHUP are forwarded to the group. When the command is killed by a signal, the entry records the
signal and then ends by the same signal, so systemd sees what happened.
"""
from __future__ import annotations

import argparse
import datetime
import json
import os
import shlex
import signal
import subprocess
import sys
from typing import Dict, List, Optional

from .config import DEFAULT_STATE_ROOT, validate_build_name
from .errors import ConfigError


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _write_exit(path: str, record: Dict[str, object]) -> None:
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as handle:
        json.dump(record, handle)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(os.path.dirname(path) or ".", os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


def run(build_name: str, state_root: str, command: str, workdir: Optional[str], log_path: Optional[str]) -> int:
    validate_build_name(build_name)
    state_dir = os.path.join(state_root, build_name)
    if not os.path.isdir(state_dir):
        raise ConfigError("state directory {0} does not exist: start the watcher first".format(state_dir))
    argv = shlex.split(command)
    if not argv:
        raise ConfigError("ATVM_RUNNER_COMMAND is empty")
    log_path = log_path or os.path.join(state_dir, "runner.log")
    exit_path = os.path.join(state_dir, "runner-exit.json")
    if os.path.exists(exit_path):
        os.replace(exit_path, exit_path + ".previous")
    log_fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o640)
    started = _now()
    try:
        child = subprocess.Popen(  # pylint: disable=consider-using-with
            argv, cwd=workdir or None, stdin=subprocess.DEVNULL, stdout=log_fd, stderr=log_fd,
            start_new_session=True,
        )
    except OSError as exc:
        os.write(log_fd, "atvm-runner: cannot start {0}: {1}\n".format(argv[0], exc.strerror).encode())
        os.close(log_fd)
        _write_exit(exit_path, {"schema": 1, "pid": None, "exit_code": 127, "signal": None,
                                "started_at": started, "ended_at": _now(), "error": "cannot start command"})
        return 127
    os.close(log_fd)
    _write_exit(exit_path + ".running", {"schema": 1, "pid": child.pid, "started_at": started})

    def forward(signum: int, _frame: object) -> None:
        try:
            os.killpg(child.pid, signum)
        except ProcessLookupError:
            pass

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, forward)
    code = child.wait()
    record: Dict[str, object] = {"schema": 1, "pid": child.pid, "started_at": started, "ended_at": _now(),
                                 "exit_code": code if code >= 0 else None, "signal": -code if code < 0 else None}
    _write_exit(exit_path, record)
    try:
        os.unlink(exit_path + ".running")
    except OSError:
        pass
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

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The template step of a launch: run the approved template command synchronously, output to its log."""
from __future__ import annotations

import os
import shlex
import signal
import subprocess
import time
from collections.abc import Iterable, Mapping
from typing import Any

from ..runpaths import BuildName
from ..errors import ConfigError, LaunchError
from ..safetext import redact


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


def _checked_argv(command: str, chdir: str, log_path: str, timeout: float) -> list[str]:
    """The template command split (no shell), once its directory, log path and timeout are valid."""
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
    return argv


def render_template(build_name: str, command: str, chdir: str, log_path: str | None = None,
                    timeout: float = 900.0, tail_lines: int = 30, environment: Mapping[str, str] | None = None,
                    check_mode: bool = False, secrets: Iterable[str | None] = (), kill_grace: float = 5.0
                    ) -> dict[str, Any]:
    """Run the approved template command synchronously in ``chdir`` (no shell), output to the log.

    Raises :class:`LaunchError` (with ``rc``, ``log_path``, ``log_tail``) when the command cannot
    start, exits non-zero or outlives ``timeout`` (then its whole process group is killed).
    """
    build_name = BuildName(build_name)
    log_path = log_path or f"/tmp/{build_name}.launch.log"
    argv = _checked_argv(command, chdir, log_path, timeout)
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
                      log_tail=[redact(line, hidden) for line in _tail(log_path, tail_lines)])
        raise LaunchError(f"the template command did not finish within {timeout:g} seconds and was killed; nothing else "
                          f"was started (log: {log_path})",
                          **{k: v for k, v in result.items() if k not in ("changed", "msg")}) from None
    result.update(rc=rc, duration=round(time.monotonic() - started, 3),
                  log_tail=[redact(line, hidden) for line in _tail(log_path, tail_lines)])
    if rc != 0:
        raise LaunchError(f"the template command exited with {rc}; nothing else was started (log: {log_path})",
                          **{k: v for k, v in result.items() if k not in ("changed", "msg")})
    result["msg"] = f"template command finished (log: {log_path})"
    return result


# ---------------------------------------------------------------------------------------------
# the launcher

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A run's names: its checked build name and every file and folder of its state directory.

A build name is checked once, where it enters (a module's argument, a CLI flag, the runner entry,
a per-run env file), into a :class:`BuildName`; inner code takes a ``BuildName`` and trusts it.
:class:`RunPaths` is the one owner of the run directory's layout (docs/architecture.md, "Per-run state
directory"): nothing else spells ``state.json``, ``runner.log`` or ``outbox/``.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Optional

from .errors import BuildNameError

BUILD_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
BUILD_NAME_MAX = 100

WATCHER_UNIT = "atvm-run-watcher@{0}.service"
RUNNER_UNIT = "atvm-runner@{0}.service"

# The files and folders of <state root>/<build>/ (written by: the launch, the runner entry, the
# watcher, a cancel, a resend); the archive of older runs sits beside the builds.
_STATE = "state.json"
_EVENTS = "events.jsonl"
_CANCEL = "cancel"
_RUNNER_EXIT = "runner-exit.json"
_RUNNER_EXIT_RUNNING = _RUNNER_EXIT + ".running"
_RUNNER_LOG = "runner.log"
_WATCHER_ENV = "watcher.env"
_RUNNER_ENV = "runner.env"
_READING = "reading.json"
_SUBRUNS = "subruns"
_OUTBOX = "outbox"
_ARCHIVE = ".archive"
_HISTORY = ".history"


def validate_build_name(name: Any) -> str:
    """Return ``name`` when it is a safe build name, else raise :class:`BuildNameError`.

    ``[A-Za-z0-9][A-Za-z0-9._-]*``, at most 100 characters, and never ``..``: anything else
    (slashes, spaces, newlines, ``@``) is refused before a path or a unit name is built from it.
    """
    if not isinstance(name, str) or not name:
        raise BuildNameError("invalid build name {0!r}: it must be a non-empty string".format(name))
    if len(name) > BUILD_NAME_MAX:
        raise BuildNameError(
            "invalid build name {0!r}: longer than {1} characters".format(name[:40] + "...", BUILD_NAME_MAX)
        )
    if not BUILD_NAME_RE.fullmatch(name) or ".." in name:
        raise BuildNameError(
            "invalid build name {0!r}: only letters, digits, '.', '_' and '-' are allowed, it must start "
            "with a letter or digit and must not contain '..'".format(name)
        )
    return name


class BuildName(str):
    """A build name that has been checked (:func:`validate_build_name`); constructing one checks it."""

    __slots__ = ()

    def __new__(cls, name: Any) -> "BuildName":
        if isinstance(name, BuildName):
            return name
        return super().__new__(cls, validate_build_name(name))


@dataclasses.dataclass(frozen=True)
class RunPaths:
    """Every file and folder of one run under ``root`` (the state root)."""

    root: str
    build: BuildName

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", os.path.abspath(self.root))
        object.__setattr__(self, "build", BuildName(self.build))

    @classmethod
    def at(cls, state_dir: str) -> "RunPaths":
        """The paths of the run whose state directory is ``state_dir`` (its last component is the build)."""
        state_dir = os.path.abspath(state_dir)
        return cls(os.path.dirname(state_dir), BuildName(os.path.basename(state_dir)))

    # ---- the run directory and its files ----
    @property
    def dir(self) -> str:
        return os.path.join(self.root, self.build)

    def _in(self, *parts: str) -> str:
        return os.path.join(self.root, self.build, *parts)

    @property
    def state(self) -> str:
        """``state.json``: the run (:class:`~.store.runstate.RunState`)."""
        return self._in(_STATE)

    @property
    def events(self) -> str:
        """``events.jsonl``: the append-only journal."""
        return self._in(_EVENTS)

    @property
    def cancel(self) -> str:
        """``cancel``: the cancellation marker."""
        return self._in(_CANCEL)

    @property
    def runner_exit(self) -> str:
        """``runner-exit.json``: how the runner entry's command ended."""
        return self._in(_RUNNER_EXIT)

    @property
    def runner_exit_running(self) -> str:
        """``runner-exit.json.running``: reserved by the runner entry at its start."""
        return self._in(_RUNNER_EXIT_RUNNING)

    @property
    def runner_log(self) -> str:
        """``runner.log``: the runner's output when no other log is configured."""
        return self._in(_RUNNER_LOG)

    @property
    def watcher_env(self) -> str:
        """``watcher.env``: the run's settings and metadata (written by the launch)."""
        return self._in(_WATCHER_ENV)

    @property
    def runner_env(self) -> str:
        """``runner.env``: the runner's command, working directory and log (written by the launch)."""
        return self._in(_RUNNER_ENV)

    @property
    def reading(self) -> str:
        """``reading.json``: what the watcher has read of the runner log (files, offsets, runs)."""
        return self._in(_READING)

    @property
    def subruns_dir(self) -> str:
        return self._in(_SUBRUNS)

    def subrun_dir(self, key: str) -> str:
        return self._in(_SUBRUNS, key)

    def subrun_state(self, key: str) -> str:
        return self._in(_SUBRUNS, key, _STATE)

    @property
    def outbox_dir(self) -> str:
        return self._in(_OUTBOX)

    def outbox(self, key: str) -> str:
        return self._in(_OUTBOX, key + ".json")

    def rel(self, path: str) -> str:
        """``path`` as it is named in messages: relative to the run directory (``outbox/000-a.json``)."""
        return os.path.relpath(path, self.dir) if path.startswith(self.dir + os.sep) else path

    # ---- beside the run directory ----
    @property
    def archive_root(self) -> str:
        """``<root>/.archive``: older runs of every build, moved aside by a new launch."""
        return os.path.join(self.root, _ARCHIVE)

    @property
    def history(self) -> "HistoryPaths":
        """``<root>/.history``: the history of every suite (docs/history.md)."""
        return HistoryPaths(self.root)

    # ---- the run's units ----
    @property
    def watcher_unit(self) -> str:
        return WATCHER_UNIT.format(self.build)

    @property
    def runner_unit(self) -> str:
        return RUNNER_UNIT.format(self.build)


SUITE_ID_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


@dataclasses.dataclass(frozen=True)
class HistoryPaths:
    """The history of the suites under ``root`` (the state root): one file per suite in ``.history/``
    (docs/history.md), beside the builds and their archive."""

    root: str

    def __post_init__(self) -> None:
        object.__setattr__(self, "root", os.path.abspath(self.root))

    @property
    def dir(self) -> str:
        return os.path.join(self.root, _HISTORY)

    def _checked(self, suite_id: str) -> str:
        if not isinstance(suite_id, str) or not SUITE_ID_RE.fullmatch(suite_id) or ".." in suite_id:
            raise BuildNameError("invalid suite id {0!r}: letters, digits, '.', '_' and '-' only".format(suite_id))
        return suite_id

    def suite(self, suite_id: str) -> str:
        """``.history/<suite id>.json``: one suite's runs and tests."""
        return os.path.join(self.dir, self._checked(suite_id) + ".json")

    def lock(self, suite_id: str) -> str:
        """``.history/.<suite id>.lock``: held while the suite's file is read and rewritten."""
        return os.path.join(self.dir, "." + self._checked(suite_id) + ".lock")

    def suite_id_of(self, path: str) -> Optional[str]:
        """The suite id of a file of :attr:`dir` (None for anything else)."""
        name = os.path.basename(path)
        if not name.endswith(".json") or os.path.dirname(os.path.abspath(path)) != self.dir:
            return None
        suite_id = name[:-5]
        return suite_id if SUITE_ID_RE.fullmatch(suite_id) and ".." not in suite_id else None

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable per-run state: the run store (state.json, sub-runs, outbox, markers, journal) and the archive.

The files are named by :class:`~..runpaths.RunPaths` (docs/architecture.md, "Per-run state directory"):
the run (owned by :class:`.runstate.RunState`), one file per sub-run, one delivery record per post
(the exact payload), the cancellation marker, the runner entry's exit record (read only) and the
append-only journal.

Every write is atomic and a corrupt file is set aside, never deleted (see :mod:`.durable`); the
loaders never raise for corrupt content.
"""
from __future__ import annotations

import contextlib
import errno
import json
import logging
import os
import re
import shutil
import tempfile
import time
from typing import Any, Dict, Iterator, List, Optional, Tuple

from ..runpaths import RunPaths
from ..errors import StateError
from ..durable import (
    CORRUPT_SUFFIX,
    DIR_MODE,
    FILE_MODE,
    SCHEMA,
    STAMP_RE,
    CorruptFileError,
    Journal,
    Validator,
    atomic_write_json,
    dump_json,
    free_name,
    fsync_dir,
    json_default,
    json_type,
    load_json_or_quarantine,
    locked,
    read_json,
    say,
    strerror,
    utc_now,
    utc_stamp,
)
from ..models import safe_name
from .reading import ReadingRecord
from .records import OutboxRecord, SubrunRecord
from .runstate import CORRUPT, OUTBOX_STATUSES, RunState
from ..safetext import redact

LOG = logging.getLogger(__name__)


REQUEST_KEY = "request"  # the request post's outbox key (docs/decision-rules.md, "The channel never contradicts the run")
KEY_RE = re.compile(r"[0-9]{3,6}-[A-Za-z0-9._-]+|" + REQUEST_KEY)
KEY_MAX = 120
_TEMP_MAX_AGE = 600.0


# ---------------------------------------------------------------------------------------------
# names
# ---------------------------------------------------------------------------------------------


def validate_key(key: Any) -> str:
    """Return ``key`` when it is a safe outbox / sub-run key (``NNN-name``, or ``request``), else raise
    :class:`StateError`."""
    if not isinstance(key, str) or len(key) > KEY_MAX or not KEY_RE.fullmatch(key) or ".." in key:
        raise StateError(
            "invalid delivery key {0!r}: expected three digits, '-', then letters, digits, '.', '_' or '-'".format(
                key if isinstance(key, str) and len(key) <= KEY_MAX else "<invalid>")
        )
    return key


def subrun_key(index: int, name: Any) -> str:
    """The key of sub-run ``index`` (0-based) named ``name``: ``000-linux``."""
    if not isinstance(index, int) or isinstance(index, bool) or index < 0 or index > 999999:
        raise StateError("invalid sub-run index {0!r}".format(index))
    return validate_key("{0:03d}-{1}".format(index, safe_name(name)))


def _key_sort(key: str) -> Tuple[int, str]:
    """Sub-runs in index order, the request post after them."""
    number, dummy, rest = key.partition("-")
    return (int(number), rest) if number.isdigit() else (1 << 30, key)


def _validate_outbox_record(obj: Dict[str, Any]) -> Optional[str]:
    if obj.get("status") not in OUTBOX_STATUSES:
        return "status {0!r} is not one of {1}".format(obj.get("status"), ", ".join(OUTBOX_STATUSES))
    if not isinstance(obj.get("text"), str):
        return "no message text"
    payload = obj.get("payload")
    if payload is not None and not (isinstance(payload, dict) and isinstance(payload.get("text"), str)):
        return "the payload is not a message object with a text"
    return None


def _validate_subrun_record(obj: Dict[str, Any]) -> Optional[str]:
    for name, kind in (("index", int), ("name", str), ("key", str)):
        if not isinstance(obj.get(name), kind) or isinstance(obj.get(name), bool):
            return "{0} is {1}".format(name, json_type(obj.get(name)))
    if not isinstance(obj.get("verdict", {}), dict):
        return "verdict is {0}".format(json_type(obj.get("verdict")))
    return None


def _validate_cancel(obj: Dict[str, Any]) -> Optional[str]:
    if "requested_at" not in obj:
        return "no requested_at"
    return None


# ---------------------------------------------------------------------------------------------
# the run store
# ---------------------------------------------------------------------------------------------


class RunStore:
    """One run's state directory. Loaders never raise for corrupt content (they report and set aside).

    ``journal`` is a callable taking one plain line (e.g. the watcher's logger); every set-aside file
    is also recorded in ``events.jsonl``. ``secrets`` are redacted from journal events.
    """

    def __init__(self, paths: RunPaths, journal: Journal = None, secrets: Tuple[Optional[str], ...] = ()) -> None:
        self.paths = paths
        self._journal = journal
        self._secrets = tuple(s for s in secrets if s)
        self._exit_reported: Optional[Tuple[float, int]] = None

    @classmethod
    def for_build(cls, state_root: str, build_name: str, **kwargs: Any) -> "RunStore":
        """The store of ``build_name`` under ``state_root`` (the build name is checked first)."""
        return cls(RunPaths(state_root, build_name), **kwargs)

    def __repr__(self) -> str:
        return "RunStore({0!r})".format(self.paths.dir)

    def outbox_path(self, key: str) -> str:
        return self.paths.outbox(validate_key(key))

    # ---- reporting ----
    def _report(self, line: str, **fields: Any) -> None:
        say(self._journal, line)
        self.event("state_file_set_aside", message=line, **fields)

    def _load(self, path: str, label: str, validate: Validator = None) -> Optional[Dict[str, Any]]:
        lines: List[str] = []
        obj = load_json_or_quarantine(path, lines.append, label=label, validate=validate)
        for line in lines:
            self._report(line, file=label)
        return obj

    # ---- directory ----
    def ensure(self) -> "RunStore":
        """Create the state directory (0750) with ``subruns/`` and ``outbox/``; sweep stale temp files."""
        try:
            for directory in (self.paths.dir, self.paths.subruns_dir, self.paths.outbox_dir):
                created = not os.path.isdir(directory)
                os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
                if created:
                    os.chmod(directory, DIR_MODE)
            os.chmod(self.paths.dir, DIR_MODE)
        except OSError as exc:
            raise StateError("cannot create state directory {0}: {1}".format(self.paths.dir, strerror(exc))) from None
        self._sweep_temp_files()
        return self

    def exists(self) -> bool:
        return os.path.isdir(self.paths.dir)

    def _sweep_temp_files(self) -> None:
        """Remove temp files left by a write interrupted long ago (a crash between mkstemp and rename)."""
        now = time.time()
        dirs = [self.paths.dir, self.paths.outbox_dir]
        with contextlib.suppress(OSError):
            dirs.extend(e.path for e in os.scandir(self.paths.subruns_dir) if e.is_dir(follow_symlinks=False))
        for directory in dirs:
            try:
                entries = list(os.scandir(directory))
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith(".") and entry.name.endswith(".tmp") and entry.is_file(follow_symlinks=False):
                    with contextlib.suppress(OSError):
                        if now - entry.stat(follow_symlinks=False).st_mtime > _TEMP_MAX_AGE:
                            os.unlink(entry.path)

    # ---- state.json ----
    def load_state(self) -> Optional[RunState]:
        """The run's state, or None: missing, or corrupt (set aside, journalled: the one reader of state.json).

        Raises :class:`StateError` only when the file cannot be read at all (permissions, I/O error).
        """
        obj = self._load(self.paths.state, self.paths.rel(self.paths.state), validate=RunState.problem)
        return RunState.from_dict(obj) if obj is not None else None

    def save_state(self, state: RunState) -> RunState:
        """Write state.json atomically (sets ``updated_at``, and ``created_at`` when missing)."""
        now = utc_now()
        state.created_at = state.created_at or now
        state.updated_at = now
        atomic_write_json(self.paths.state, state.to_dict(), secrets=self._secrets)
        return state

    # ---- reading.json ----
    def load_reading(self) -> Optional[ReadingRecord]:
        """What an earlier watcher read of the log, or None (missing, or corrupt: set aside, journalled)."""
        obj = self._load(self.paths.reading, self.paths.rel(self.paths.reading), validate=ReadingRecord.problem)
        if obj is None:
            return None
        try:
            return ReadingRecord.from_dict(obj)
        except (KeyError, TypeError, ValueError) as exc:
            self._report("{0} is corrupt ({1}); the log is read again from its files".format(
                self.paths.rel(self.paths.reading), exc), file=self.paths.rel(self.paths.reading))
            return None

    def save_reading(self, record: ReadingRecord) -> None:
        """Write reading.json atomically."""
        atomic_write_json(self.paths.reading, record.to_dict(), secrets=self._secrets)

    # ---- sub-runs ----
    def subrun_dir(self, index: int, name: Any) -> str:
        return self.paths.subrun_dir(subrun_key(index, name))

    def _load_subrun_key(self, key: str) -> Optional[SubrunRecord]:
        path = self.paths.subrun_state(key)
        obj = self._load(path, self.paths.rel(path), validate=_validate_subrun_record)
        return SubrunRecord.from_dict(obj) if obj is not None else None

    def load_subrun(self, index: int, name: Any) -> Optional[SubrunRecord]:
        return self._load_subrun_key(subrun_key(index, name))

    def save_subrun(self, record: SubrunRecord) -> SubrunRecord:
        """Write one sub-run's decision atomically (sets ``created_at`` once and ``updated_at``)."""
        key = subrun_key(record.index, record.name)
        record.key = record.key or key
        directory = self.paths.subrun_dir(key)
        try:
            os.makedirs(directory, mode=DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise StateError("cannot create {0}: {1}".format(directory, strerror(exc))) from None
        now = utc_now()
        record.created_at = record.created_at or now
        record.updated_at = now
        atomic_write_json(self.paths.subrun_state(key), record.to_dict(), secrets=self._secrets)
        return record

    def list_subruns(self) -> List[SubrunRecord]:
        """Every readable sub-run decision, in index order (corrupt ones are set aside and reported)."""
        out: List[SubrunRecord] = []
        try:
            names = sorted(n for n in os.listdir(self.paths.subruns_dir) if KEY_RE.fullmatch(n))
        except OSError:
            return out
        for key in sorted(names, key=_key_sort):
            obj = self._load_subrun_key(key)
            if obj is not None:
                out.append(obj)
        return out

    # ---- cancellation marker ----
    def cancel_marker(self) -> Optional[Dict[str, Any]]:
        """The cancellation marker, or None.

        An unreadable marker still means somebody asked to cancel: it is set aside and replaced by a
        valid marker saying so, and that marker is returned.
        """
        lines: List[str] = []
        label = self.paths.rel(self.paths.cancel)
        marker = load_json_or_quarantine(self.paths.cancel, lines.append, label=label, validate=_validate_cancel)
        if marker is not None or not lines:
            return marker
        for line in lines:
            self._report(line, file=label)
        replacement = {
            "schema": SCHEMA, "requested_at": utc_now(), "by": "unknown",
            "reason": "the cancellation marker was unreadable ({0})".format(lines[0]),
        }
        try:
            atomic_write_json(self.paths.cancel, replacement)
        except StateError as exc:
            say(self._journal, str(exc))
        return replacement

    def write_cancel_marker(self, reason: str, by: str) -> Dict[str, Any]:
        """Write the cancellation marker atomically; when one exists already, keep it and return it."""
        self.ensure()
        existing = self.cancel_marker()
        if existing is not None:
            return existing
        marker = {"schema": SCHEMA, "requested_at": utc_now(), "by": str(by)[:200], "reason": str(reason)[:2000]}
        try:
            data = dump_json(marker)
            fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(self.paths.cancel) + ".", suffix=".tmp",
                                       dir=self.paths.dir)
        except OSError as exc:
            raise StateError("cannot write {0}: {1}".format(self.paths.cancel, strerror(exc))) from None
        try:
            try:
                os.fchmod(fd, FILE_MODE)
                os.write(fd, data)
                os.fsync(fd)
            finally:
                os.close(fd)
            try:
                os.link(tmp, self.paths.cancel)  # fails when a marker appeared meanwhile: first one wins
            except FileExistsError:
                first = self.cancel_marker()
                if first is not None:
                    return first
                raise
        except OSError as exc:
            raise StateError("cannot write {0}: {1}".format(self.paths.cancel, strerror(exc))) from None
        finally:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
        fsync_dir(self.paths.dir)
        return marker

    # ---- runner exit record ----
    def exit_record(self) -> Optional[Dict[str, Any]]:
        """runner-exit.json, or None (missing or corrupt; a corrupt one is reported once, left in place).

        The file belongs to the runner entry, so it is not moved: the watcher then decides from
        systemd and the process table instead.
        """
        try:
            return read_json(self.paths.runner_exit)
        except CorruptFileError as exc:
            try:
                st = os.stat(self.paths.runner_exit)
                signature: Optional[Tuple[float, int]] = (st.st_mtime, st.st_size)
            except OSError:
                signature = None
            if signature != self._exit_reported:
                self._exit_reported = signature
                name = self.paths.rel(self.paths.runner_exit)
                line = "{0} is corrupt ({1}); the runner's exit status is taken from elsewhere".format(name, exc.detail)
                say(self._journal, line)
                self.event("state_file_corrupt", message=line, file=name)
            return None
        except StateError as exc:
            say(self._journal, str(exc))
            return None

    # ---- journal ----
    def event(self, kind: str, **fields: Any) -> bool:
        """Append one JSON line ``{"ts":..,"event":kind,...}`` to events.jsonl (flushed, fsynced).

        Never raises: returns False when the line could not be written (full disk, missing directory).
        """
        try:
            record: Dict[str, Any] = {"ts": utc_now(), "event": str(kind)}
            for key, value in fields.items():
                if key not in ("ts", "event"):
                    record[key] = value
            line = json.dumps(record, sort_keys=False, ensure_ascii=True, default=_event_default)
            line = redact(line, self._secrets)
            data = (line + "\n").encode("ascii")
            fd = os.open(self.paths.events, os.O_WRONLY | os.O_APPEND | os.O_CREAT | getattr(os, "O_CLOEXEC", 0),
                         FILE_MODE)
            try:
                written = os.write(fd, data)  # one write on an O_APPEND fd: lines never interleave
                if written != len(data):
                    return False
                os.fsync(fd)
            finally:
                os.close(fd)
            return True
        except Exception:  # noqa: BLE001 - the journal is best effort by contract
            return False

    def read_events(self, limit: Optional[int] = None) -> List[Dict[str, Any]]:
        """The journal's records (undecodable lines, e.g. a torn last line, are skipped)."""
        out: List[Dict[str, Any]] = []
        try:
            with open(self.paths.events, "rb") as handle:
                for raw in handle:
                    try:
                        obj = json.loads(raw.decode("utf-8"))
                    except (UnicodeDecodeError, ValueError):
                        continue
                    if isinstance(obj, dict):
                        out.append(obj)
        except OSError:
            return out
        return out[-limit:] if limit else out

    # ---- outbox ----
    @contextlib.contextmanager
    def outbox_lock(self, key: str) -> Iterator[None]:
        """Exclusive per-key lock (flock) so two processes (watcher, resend) never post the same key at once."""
        validate_key(key)
        with locked(os.path.join(self.paths.outbox_dir, "." + key + ".lock")):
            yield

    def _corrupt_leftovers(self, key: str) -> List[str]:
        prefix = os.path.basename(self.paths.outbox(key)) + CORRUPT_SUFFIX
        try:
            return sorted(n for n in os.listdir(self.paths.outbox_dir) if n.startswith(prefix))
        except OSError:
            return []

    def _corrupt_placeholder(self, key: str, leftovers: List[str]) -> OutboxRecord:
        return OutboxRecord(
            key=key, status=CORRUPT, possible_duplicate=True,
            corrupt_files=[self.paths.rel(os.path.join(self.paths.outbox_dir, n)) for n in leftovers],
            last_error="the delivery record was unreadable and set aside; whether it was posted is unknown")

    def outbox_get(self, key: str) -> Optional[OutboxRecord]:
        """The outbox record of ``key``; None when there never was one.

        A corrupt record is set aside and reported; the key then reads as status ``CORRUPT`` (never
        as SENT): delivering it again marks the post as a possible duplicate.
        """
        path = self.outbox_path(key)
        obj = self._load(path, self.paths.rel(path), validate=_validate_outbox_record)
        if obj is not None:
            return OutboxRecord.from_dict(obj)
        leftovers = self._corrupt_leftovers(key)
        if leftovers and not os.path.exists(path):
            return self._corrupt_placeholder(key, leftovers)
        return None

    def outbox_put(self, record: OutboxRecord) -> OutboxRecord:
        """Write one outbox record atomically (sets ``created_at`` once and ``updated_at``)."""
        key = validate_key(record.key)
        problem = _validate_outbox_record(record.to_dict())
        if problem:
            raise StateError("cannot write outbox record {0}: {1}".format(key, problem))
        now = utc_now()
        record.created_at = record.created_at or now
        record.updated_at = now
        try:
            os.makedirs(self.paths.outbox_dir, mode=DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise StateError("cannot create {0}: {1}".format(self.paths.outbox_dir, strerror(exc))) from None
        atomic_write_json(self.outbox_path(key), record.to_dict(), secrets=self._secrets)
        return record

    def outbox_list(self) -> List[OutboxRecord]:
        """Every outbox record sorted by key; corrupt ones are set aside, reported, and listed as CORRUPT."""
        try:
            names = os.listdir(self.paths.outbox_dir)
        except OSError:
            return []
        keys = set()
        for name in names:
            if name.endswith(".json") and KEY_RE.fullmatch(name[:-5]):
                keys.add(name[:-5])
            elif CORRUPT_SUFFIX in name:
                stem = name.split(CORRUPT_SUFFIX, 1)[0]
                if stem.endswith(".json") and KEY_RE.fullmatch(stem[:-5]):
                    keys.add(stem[:-5])
        out = []
        for key in sorted(keys, key=_key_sort):
            if ".." in key or len(key) > KEY_MAX:
                continue
            record = self.outbox_get(key)
            if record is not None:
                out.append(record)
        return out


def _event_default(value: Any) -> Any:
    try:
        return json_default(value)
    except TypeError:
        return repr(value)


# ---------------------------------------------------------------------------------------------
# archive of old runs
# ---------------------------------------------------------------------------------------------


def archive_state_dir(paths: RunPaths, keep: int = 5) -> Optional[str]:
    """Move the run directory to ``<root>/.archive/<build>.<UTC timestamp>[.n]`` and prune old archives.

    A rename on the same filesystem: nothing of the old run is destroyed except archives of the same
    build beyond the newest ``keep`` (at least 1). Returns the archive path, or None when there was
    no state directory to move.
    """
    if not os.path.lexists(paths.dir):
        return None
    try:
        os.makedirs(paths.archive_root, mode=DIR_MODE, exist_ok=True)
        target = _next_archive_name(paths.archive_root, paths.build, utc_stamp())
        os.rename(paths.dir, target)
    except OSError as exc:
        raise StateError("cannot archive state directory {0}: {1}".format(paths.dir, strerror(exc))) from None
    fsync_dir(paths.root)
    fsync_dir(paths.archive_root)
    prune_archives(paths, keep, protect=target)
    return target


def _next_archive_name(archive_root: str, build: str, stamp: str) -> str:
    """``<build>.<stamp>``, or ``.n`` above every archive of that second (so it sorts as the newest)."""
    base = os.path.join(archive_root, "{0}.{1}".format(build, stamp))
    pattern = re.compile(re.escape("{0}.{1}".format(build, stamp)) + r"(?:\.([0-9]+))?")
    highest = -1
    for name in os.listdir(archive_root):
        match = pattern.fullmatch(name)
        if match:
            highest = max(highest, int(match.group(1) or 0))
    if highest < 0:
        return base
    return free_name("{0}.{1}".format(base, highest + 1))


def list_archives(paths: RunPaths) -> List[str]:
    """Archive paths of the run's build, oldest first."""
    pattern = re.compile(re.escape(paths.build) + r"\.(" + STAMP_RE + r")(?:\.([0-9]+))?")
    found = []
    try:
        names = os.listdir(paths.archive_root)
    except OSError:
        return []
    for name in names:
        match = pattern.fullmatch(name)
        if match:
            found.append((match.group(1), int(match.group(2) or 0), name))
    return [os.path.join(paths.archive_root, entry[2]) for entry in sorted(found)]


def prune_archives(paths: RunPaths, keep: int = 5, protect: Optional[str] = None) -> List[str]:
    """Delete archives of the run's build beyond the newest ``keep`` (at least 1); returns what was removed.

    ``protect`` (the archive just made) is never removed.
    """
    archives = list_archives(paths)
    keep = max(1, int(keep))
    removed = []
    for path in archives[:-keep]:
        if protect and os.path.abspath(path) == os.path.abspath(protect):
            continue
        try:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.unlink(path)
            removed.append(path)
        except OSError as exc:
            if exc.errno != errno.ENOENT:
                LOG.warning("cannot remove old archive %s: %s", path, strerror(exc))
    return removed

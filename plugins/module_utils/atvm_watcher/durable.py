# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Durable files of a run directory: one timestamp format, atomic writes, JSON read or set aside.

Every write is atomic (temp file in the same directory, fsync, rename, fsync of the directory).
A corrupt file is moved aside to ``<file>.corrupt-<UTC timestamp>`` (never deleted) and reported
in one plain journal line; :func:`load_json_or_quarantine` never raises for corrupt content.
Every timestamp written into a run directory comes from :func:`utc_now`.
"""
from __future__ import annotations

import contextlib
import datetime
import json
import logging
import os
import tempfile
import time
from typing import Any, Callable, Dict, Iterable, Iterator, Optional

from .errors import StateError
from .safetext import redact

try:
    import fcntl

    HAS_FCNTL = True
except ImportError:  # pragma: no cover - not on a Linux controller
    fcntl = None  # type: ignore[assignment]
    HAS_FCNTL = False

LOG = logging.getLogger(__name__)

SCHEMA = 1  # of every JSON record written into a run directory
DIR_MODE = 0o750
FILE_MODE = 0o640
CORRUPT_SUFFIX = ".corrupt-"
STAMP_RE = r"[0-9]{8}T[0-9]{6}Z"

Journal = Optional[Callable[[str], Any]]
Validator = Optional[Callable[[Dict[str, Any]], Optional[str]]]


# ---------------------------------------------------------------------------------------------
# time
# ---------------------------------------------------------------------------------------------


def utc_now() -> str:
    """Now as ISO 8601 UTC with milliseconds: ``2026-11-27T10:00:00.123Z``."""
    now = datetime.datetime.now(datetime.timezone.utc)
    return now.isoformat(timespec="milliseconds").replace("+00:00", "Z")


def epoch_of(stamp: Any) -> Optional[float]:
    """The epoch of a :func:`utc_now` timestamp, or None when ``stamp`` is not one."""
    if not isinstance(stamp, str):
        return None
    try:
        parsed = datetime.datetime.strptime(stamp, "%Y-%m-%dT%H:%M:%S.%fZ")
    except ValueError:
        return None
    return parsed.replace(tzinfo=datetime.timezone.utc).timestamp()


def utc_stamp(when: Optional[float] = None) -> str:
    """A UTC timestamp usable in a file name: ``20261127T100000Z``."""
    moment = datetime.datetime.fromtimestamp(time.time() if when is None else when, datetime.timezone.utc)
    return moment.strftime("%Y%m%dT%H%M%SZ")


# ---------------------------------------------------------------------------------------------
# atomic files
# ---------------------------------------------------------------------------------------------


def fsync_dir(path: str) -> None:
    """fsync a directory so a rename inside it survives a power cut (best effort)."""
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def strerror(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or exc.__class__.__name__


def atomic_write_bytes(path: str, data: bytes, mode: int = FILE_MODE) -> None:
    """Write ``data`` to ``path`` atomically: temp file in the same directory, fsync, rename, fsync dir.

    Readers see the old content or the new one, never a torn file. Raises :class:`StateError`.
    """
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + base + ".", suffix=".tmp", dir=directory)
    except OSError as exc:
        raise StateError("cannot write {0}: {1}".format(path, strerror(exc))) from None
    try:
        try:
            os.fchmod(fd, mode)
            view = memoryview(data)
            while view:
                written = os.write(fd, view)
                view = view[written:]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException as exc:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        if isinstance(exc, OSError):
            raise StateError("cannot write {0}: {1}".format(path, strerror(exc))) from None
        raise
    fsync_dir(directory)


@contextlib.contextmanager
def locked(path: str) -> Iterator[None]:
    """Hold an exclusive lock (flock) on the file ``path`` (made when missing) while the block runs, so
    two processes never rewrite the same record at once. Raises :class:`StateError`."""
    if not HAS_FCNTL:
        yield
        return
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_CLOEXEC", 0), FILE_MODE)
    except OSError as exc:
        raise StateError("cannot lock {0}: {1}".format(path, strerror(exc))) from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        with contextlib.suppress(OSError):
            fcntl.flock(fd, fcntl.LOCK_UN)
        os.close(fd)


def json_default(value: Any) -> Any:
    to_dict = getattr(value, "to_dict", None)
    if callable(to_dict):
        return to_dict()
    if isinstance(value, (set, frozenset, tuple)):
        return list(value)
    raise TypeError("value of type {0} is not JSON-serialisable".format(type(value).__name__))


def dump_json(obj: Any, secrets: Iterable[Optional[str]] = ()) -> bytes:
    """The on-disk JSON form: indented, sorted keys, UTF-8, newline at the end; redacted (the webhook,
    any ``/hooks/<id>``) and encodable (a lone surrogate becomes U+FFFD)."""
    text = json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False, default=json_default)
    return (redact(text, secrets) + "\n").encode("utf-8")


def atomic_write_json(path: str, obj: Any, mode: int = FILE_MODE, secrets: Iterable[Optional[str]] = ()) -> None:
    """Write ``obj`` as JSON to ``path`` atomically (see :func:`atomic_write_bytes`), redacted."""
    try:
        data = dump_json(obj, secrets)
    except (TypeError, ValueError) as exc:
        raise StateError("cannot write {0}: {1}".format(path, exc)) from None
    atomic_write_bytes(path, data, mode)


class CorruptFileError(StateError):
    """A state file exists but does not hold what it should (``detail`` says what and where)."""

    def __init__(self, path: str, detail: str) -> None:
        super().__init__("{0} is corrupt: {1}".format(path, detail))
        self.path = path
        self.detail = detail


def read_json(path: str, validate: Validator = None) -> Optional[Dict[str, Any]]:
    """Read a JSON object from ``path``; None when the file does not exist.

    Raises :class:`CorruptFileError` for undecodable or invalid content (not UTF-8, not JSON,
    not an object, or rejected by ``validate`` which returns a problem text or None), and
    :class:`StateError` when the file cannot be read at all (permissions, I/O error).
    """
    try:
        with open(path, "rb") as handle:
            data = handle.read()
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise CorruptFileError(path, "a directory where a file was expected") from None
    except OSError as exc:
        raise StateError("cannot read {0}: {1}".format(path, strerror(exc))) from None
    if not data.strip():
        raise CorruptFileError(path, "empty file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise CorruptFileError(path, "not UTF-8 at byte {0}".format(exc.start)) from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as exc:
        raise CorruptFileError(path, "line {0} column {1}: {2}".format(exc.lineno, exc.colno, exc.msg)) from None
    except RecursionError:
        raise CorruptFileError(path, "nested too deeply") from None
    if not isinstance(obj, dict):
        raise CorruptFileError(path, "not a JSON object but {0}".format(json_type(obj)))
    if validate is not None:
        problem = validate(obj)
        if problem:
            raise CorruptFileError(path, problem)
    return obj


def json_type(obj: Any) -> str:
    """What a decoded JSON value is, for messages: ``a list``, ``a string``, ``null``, ..."""
    if obj is None:
        return "null"
    if isinstance(obj, bool):
        return "a boolean"
    if isinstance(obj, (int, float)):
        return "a number"
    if isinstance(obj, str):
        return "a string"
    if isinstance(obj, list):
        return "a list"
    if isinstance(obj, dict):
        return "an object"
    return type(obj).__name__


def free_name(path: str) -> str:
    if not os.path.lexists(path):
        return path
    n = 1
    while os.path.lexists("{0}.{1}".format(path, n)):
        n += 1
    return "{0}.{1}".format(path, n)


def quarantine(path: str) -> str:
    """Move ``path`` aside to ``<path>.corrupt-<UTC timestamp>[.n]`` (never deletes); returns the new path."""
    target = free_name(path + CORRUPT_SUFFIX + utc_stamp())
    os.rename(path, target)
    fsync_dir(os.path.dirname(os.path.abspath(path)))
    return target


def say(journal: Journal, line: str) -> None:
    if journal is None:
        LOG.warning("%s", line)
        return
    try:
        journal(line)
    except Exception:  # a broken journal must not turn a recoverable problem into a crash
        LOG.warning("%s", line)


def load_json_or_quarantine(path: str, journal: Journal = None, label: Optional[str] = None,
                            validate: Validator = None
                            ) -> Optional[Dict[str, Any]]:
    """Read a JSON object; on undecodable or invalid content set the file aside and return None.

    The journal (a callable taking one line; default: a logging warning) gets e.g.
    ``state.json was corrupt (line 1 column 7: Expecting value), set aside as /x/state.json.corrupt-...``.
    Never raises for corrupt content; a file that cannot be read at all raises :class:`StateError`.
    """
    name = label or os.path.basename(path)
    try:
        return read_json(path, validate)
    except CorruptFileError as exc:
        try:
            aside = quarantine(path)
        except OSError as move_exc:
            say(journal, "{0} was corrupt ({1}) and could not be set aside ({2}); it was left in place".format(
                name, exc.detail, strerror(move_exc)))
            return None
        say(journal, "{0} was corrupt ({1}), set aside as {2}".format(name, exc.detail, aside))
        return None

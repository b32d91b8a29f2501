# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the readers of the run's files share: reading an input whole without blocking, JSON
decoding with a clear error, listing a directory's files, and the tolerant value helpers.

The readers (:mod:`reporter`, :mod:`junit`, :mod:`mochawesome`, :mod:`inventory`; what they read:
docs/decision-rules.md, "What the watcher reads") never raise for
bad content: the returned object carries ``error`` (what was wrong and where) so a broken file can
never read as a PASS. Counts are always counted from the test entries; the totals a file declares
are kept apart and never trusted over them.
"""
from __future__ import annotations

import fnmatch
import json
import os
from collections.abc import Iterable
from typing import Any

from .. import inputs
from ..safetext import clean_json

MAX_MESSAGE_CHARS = 4000  # a failure message kept from JUnit / mochawesome


def stat_path(path: str) -> tuple[os.stat_result | None, str | None]:
    """(stat, None) of ``path``, or (None, why not)."""
    try:
        return os.stat(path), None
    except OSError as exc:
        return None, exc.strerror or str(exc)


def read_input(path: str, limit: int) -> tuple[os.stat_result | None, bytes | None, str | None]:
    """(stat, bytes, error) of an input file read whole, or why it was not (missing, not a regular file,
    over ``limit``, unreadable). Never blocks: a FIFO or a device is refused, not opened for reading."""
    try:
        fd, st = inputs.open_regular(path)
    except FileNotFoundError as exc:
        return None, None, exc.strerror or str(exc)
    except OSError as exc:
        return stat_path(path)[0], None, f"cannot open: {exc.strerror or exc}"
    try:
        if st.st_size > limit:
            return st, None, f"larger than {limit} bytes ({st.st_size} bytes)"
        data = inputs.read_fd(fd, limit + 1)
    except OSError as exc:
        return st, None, f"cannot read: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > limit:
        return st, None, f"larger than {limit} bytes"
    return st, data, None


def _json_error_text(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"


def decode_json_bytes(data: bytes) -> tuple[Any, str | None]:
    """Parse JSON bytes (UTF-8, BOM tolerated); returns (value, error)."""
    if not data.strip():
        return None, "empty file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
    if "\x00" in text:
        return None, "binary content (NUL byte at offset {})".format(text.index("\x00"))
    try:
        return clean_json(json.loads(text), text), None  # "\ud83d" (half an emoji) becomes U+FFFD
    except json.JSONDecodeError as exc:
        return None, _json_error_text(exc)
    except RecursionError:
        return None, "invalid JSON: nested too deeply"
    except ValueError as exc:  # e.g. an integer too long to convert
        return None, f"invalid JSON: {exc}"


def clip(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> str | None:
    """``text`` cut to ``limit`` characters (marked), None kept."""
    if text is None:
        return None
    if len(text) > limit:
        return text[:limit] + " [...]"
    return text


def walk_files(directory: str, patterns: Iterable[str]) -> list[str]:
    """Files under ``directory`` (recursive, symlinked directories not followed) whose name matches."""
    pats = list(patterns)
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            if any(fnmatch.fnmatch(name, p) for p in pats):
                found.append(os.path.join(root, name))
    return sorted(found)


def listed_files(directory: str, patterns: Iterable[str]) -> list[tuple[str, os.stat_result]]:
    """(path, stat) of every matching file under ``directory``, by path; a path that is a file is
    listed alone, a missing path gives []. Files that vanish while listed are left out."""
    if os.path.isfile(directory):
        paths = [directory]
    elif os.path.isdir(directory):
        paths = walk_files(directory, patterns)
    else:
        return []
    out: list[tuple[str, os.stat_result]] = []
    for path in paths:
        st, _err = stat_path(path)
        if st is not None:  # else vanished since the directory was listed (e.g. replaced by a rename)
            out.append((path, st))
    return out


def recent_files(directory: str, patterns: Iterable[str], since: float | None) -> list[str]:
    """:func:`listed_files` paths not older than ``since`` (all of them when ``since`` is None)."""
    return [path for path, st in listed_files(directory, patterns) if since is None or st.st_mtime >= since]


def as_count(value: Any, what: str, notes: list[str]) -> int | None:
    """A valid count is a non-negative int (not a bool, not a string, not a float)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        notes.append(f"{what} is not a count: {value if not isinstance(value, str) else value[:40]!r}")
        return None
    if value < 0:
        notes.append(f"{what} is negative: {value}")
        return None
    return value


def as_text(value: Any) -> str:
    """A JSON value as text (non-strings as compact JSON); None is ''."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def opt_text(value: Any) -> str | None:
    """:func:`as_text` stripped, None when empty."""
    if value is None:
        return None
    text = as_text(value).strip()
    return text or None

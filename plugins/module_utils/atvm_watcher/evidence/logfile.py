# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Incremental byte reader of the runner log, its rotated files, and compressed ones read whole.

:class:`LogReader` hands out only the bytes appended since the previous call, in large chunks,
and notices when the file it follows was truncated or replaced (log rotation, a new run writing
the same path): it then starts again from byte 0 and says so with ``restarted`` so that the
caller resets its parser. It never decodes anything (:mod:`.logtext` does).
"""
from __future__ import annotations

import os
import stat
from typing import Iterator, List, Optional, Sequence, Tuple

from .. import inputs
from ..errors import InputError

DEFAULT_CHUNK_SIZE = 8 << 20
_FINGERPRINT = 64  # bytes just before our offset, re-read to notice a rewritten file

COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z")
_DECOMPRESSORS = {".gz": "gzip", ".xz": "lzma", ".bz2": "bz2"}  # the standard library's
MAX_DECOMPRESSED = 4 << 30  # bytes of one compressed rotated log read at most


def _rotation_order(rest: str) -> Tuple[int, int, str]:
    """Oldest content first: logrotate's numbers (``.N``) count up with age (``.2`` before ``.1``);
    dates (``-20261129``) and other suffixes sort by name."""
    number = rest[1:].split(".", 1)[0]
    if rest[0] == "." and number.isdigit() and len(number) <= 4:
        return (0, -int(number), rest)
    return (1, 0, rest)


def rotated_logs(path: str, since: float) -> List[str]:
    """The rotated files of the log ``path`` written during this run, oldest content first.

    Beside ``path``, the files named ``<name>.<suffix>``, ``<name>-<suffix>`` or ``<name>_<suffix>``
    (logrotate's numbers and dates, ``savelog``), compressed or not, that are regular files (not
    symlinks) modified at or after ``since`` (the run's start, less 2 s for coarse file times), other
    than the file the path names now."""
    folder, name = os.path.split(path)
    try:
        entries = os.listdir(folder or ".")
    except OSError:
        return []
    try:
        current = os.stat(path)
        current_ident: Optional[Tuple[int, int]] = (current.st_dev, current.st_ino)
    except OSError:
        current_ident = None  # renamed away and not created again
    found = []
    for entry in entries:
        if len(entry) <= len(name) + 1 or not entry.startswith(name) or entry[len(name)] not in ".-_":
            continue
        full = os.path.join(folder, entry)
        try:
            st = os.lstat(full)  # a rotation makes regular files, never symlinks (one may point anywhere)
        except OSError:
            continue
        if not stat.S_ISREG(st.st_mode) or st.st_mtime < since - 2.0 or (st.st_dev, st.st_ino) == current_ident:
            continue
        found.append((_rotation_order(entry[len(name):]), full))
    return [full for dummy, full in sorted(found)]


def read_compressed(path: str, chunk_size: int = 1 << 20, limit: int = MAX_DECOMPRESSED) -> Iterator[bytes]:
    """The bytes of a compressed rotated log (gzip, xz, bzip2), a chunk at a time; only a regular file
    is opened, without blocking. Raises :class:`InputError` for another compression, a file that
    cannot be opened or decompressed, or one that decompresses to more than ``limit`` bytes (a bomb:
    the chunks already yielded stand)."""
    module = next((mod for ext, mod in _DECOMPRESSORS.items() if path.endswith(ext)), None)
    if module is None:
        raise InputError(path, "compressed with a format this watcher cannot read")
    try:
        fd, dummy = inputs.open_regular(path)
    except OSError as exc:
        raise InputError(path, "cannot open: {0}".format(exc.strerror or exc)) from None
    opener = __import__(module).open
    try:
        with os.fdopen(fd, "rb") as raw, opener(raw, "rb") as stream:
            total = 0
            while True:
                data = stream.read(chunk_size)
                if not data:
                    return
                total += len(data)
                if total > limit:
                    raise InputError(path, "decompresses to more than {0} bytes: the rest is not read".format(limit))
                yield data
    except (OSError, EOFError, ValueError) as exc:  # gzip.BadGzipFile, lzma.LZMAError are OSErrors
        raise InputError(path, "cannot decompress: {0}".format(exc)) from None


class LogReader:
    """Follow one log file through rotations and return only the bytes appended since the last call.

    ``LogReader(path, chunk_size=8 MiB)``

    - :meth:`poll` returns the next chunk of new bytes (at most ``chunk_size``), or ``None`` when
      there is nothing new. A missing file is not an error: it is "nothing yet" (the runner may
      not have created it). Other errors (permission denied, a directory, a FIFO or a device:
      only a regular file is read, and opening never blocks) raise :class:`~.errors.InputError`.
    - Rotations never lose what was read and keep one stream of bytes for the parser:

      * replaced (the path now names another file: rename-and-create rotation): the file read so
        far stays open and is read to its end first, and as long as it grows (a writer that does
        not reopen its log, such as the runner entry, keeps writing there); the new file is read
        from byte 0 after it. Several rotations keep several old files, read oldest first (the
        oldest is the one the runner entry still writes to). The old files are let go once none
        has new bytes and the new file has some. While the path is missing (between the rename and
        the create), the old files are still followed.
      * truncated (the file became smaller than ``offset``: copytruncate) or rewritten (the bytes
        just before ``offset``, or the first bytes of the file, are no longer the ones read:
        truncated then grown again between two polls): reading goes on from byte 0 of the same file. Bytes written between the last poll
        and the truncation went to the copy only: ``gap`` is True for such a restart.

      The :meth:`poll` that notices one sets ``restarted`` to True (every other poll sets it to
      False), ``restart_reason`` to ``"truncated"``, ``"replaced"`` or ``"rewritten"`` and
      increments ``restarts``. The caller keeps its parser (the bytes continue the same text) and
      journals the rotation.
    - ``offset`` is the number of bytes of the current file handed out so far; ``total`` counts
      every byte handed out.
    - :meth:`follow_rotated` makes a reader that starts late (a restarted watcher) read the rotated
      files of the same log first (:func:`rotated_logs` finds them), as if it had followed every
      rotation.
    - :meth:`size_hint` is the current size of the file (``None`` when it is missing).
    - :meth:`chunks` yields chunks until the end of the file as it is now (for one-shot reads).

    Memory: one chunk at a time plus two 64-byte fingerprints; the file is never read whole.
    """

    def __init__(self, path: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if chunk_size < 1:
            raise ValueError("chunk_size must be at least 1")
        self.path = path
        self.chunk_size = chunk_size
        self.offset = 0
        self.total = 0
        self.restarted = False
        self.restart_reason: Optional[str] = None
        self.gap = False
        self.restarts = 0
        self._fd: Optional[int] = None
        self._ident: Optional[Tuple[int, int]] = None
        self._tail = b""  # the last bytes handed out (up to _FINGERPRINT), ending at ``offset``
        self._head = b""  # the first bytes of the file (up to _FINGERPRINT)
        self._olds: List[Tuple[int, int]] = []  # (fd, offset) of replaced files still followed, oldest first

    # ------------------------------------------------------------------ helpers
    def close(self) -> None:
        """Close the file descriptors (the next poll reopens the path and checks it again)."""
        for fd in [self._fd] + [old[0] for old in self._olds]:
            if fd is not None:
                try:
                    os.close(fd)
                except OSError:
                    pass
        self._fd = None
        self._olds = []

    def follow_rotated(self, paths: Sequence[str]) -> List[str]:
        """Before the first poll: read ``paths`` (rotated files of this log, oldest first) before the
        path itself, each to its end and on as it grows, as after a rotation seen live. Returns the
        paths that could not be opened (not regular files, unreadable): they are skipped."""
        skipped = []
        for path in paths:
            try:
                fd, dummy = inputs.open_regular(path)
            except OSError:
                skipped.append(path)
                continue
            self._olds.append((fd, 0))
        return skipped

    def __enter__(self) -> "LogReader":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _error(self, action: str, exc: OSError) -> InputError:
        return InputError(self.path, "{0}: {1}".format(action, exc.strerror or exc))

    def _restart(self, reason: str) -> None:
        self.offset = 0
        self._tail = b""
        self._head = b""
        self.restarted = True
        self.restart_reason = reason
        self.gap = reason != "replaced"
        self.restarts += 1

    def size_hint(self) -> Optional[int]:
        """The current size of the file in bytes, or ``None`` when it does not exist."""
        try:
            return os.stat(self.path).st_size
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error("cannot stat the log", exc) from None

    def _open(self) -> Optional[os.stat_result]:
        try:
            fd, st = inputs.open_regular(self.path)
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise self._error("cannot open the log", exc) from None
        self._fd = fd
        return st

    def _pread(self, fd: int, offset: int) -> bytes:
        try:
            return os.pread(fd, self.chunk_size, offset)
        except OSError as exc:
            raise self._error("cannot read the log at offset {0}".format(offset), exc) from None

    def _retire(self) -> None:
        """The path names another file now: keep the one read so far to drain (and follow) it."""
        if self._fd is not None:
            self._olds.append((self._fd, self.offset))
        self._fd = None

    def _check(self) -> bool:
        """Make sure ``_fd`` reads the file the path names now; False when there is no file."""
        try:
            path_st: Optional[os.stat_result] = os.stat(self.path)
        except FileNotFoundError:
            path_st = None  # renamed away (rotation in progress) or not created yet
        except OSError as exc:
            raise self._error("cannot stat the log", exc) from None
        if path_st is None:
            return self._fd is not None  # keep following the file read so far
        if self._fd is not None and (path_st.st_dev, path_st.st_ino) != self._ident:
            self._retire()
        if self._fd is None:
            st = self._open()
            if st is None:
                return False
            ident = (st.st_dev, st.st_ino)
            if self._ident is not None and ident != self._ident:
                self._restart("replaced")
            self._ident = ident
        else:
            try:
                st = os.fstat(self._fd)
            except OSError as exc:
                raise self._error("cannot stat the log", exc) from None
        if st.st_size < self.offset:
            self._restart("truncated")
        elif self._tail and (self._pread_at(len(self._tail), self.offset - len(self._tail)) != self._tail
                             or self._pread_at(len(self._head), 0) != self._head):
            self._restart("rewritten")
        return True

    def _pread_at(self, size: int, offset: int) -> bytes:
        try:
            return os.pread(self._fd, size, offset) if self._fd is not None else b""
        except OSError as exc:
            raise self._error("cannot read the log", exc) from None

    def _from_old(self) -> Optional[bytes]:
        """New bytes of the oldest replaced file that has some, or None (then the replaced files
        are let go if the new file has bytes)."""
        for index, (fd, offset) in enumerate(self._olds):
            data = self._pread(fd, offset)
            if data:
                self._olds[index] = (fd, offset + len(data))
                return data
        if self._olds and self._fd is not None and (self.offset > 0 or os.fstat(self._fd).st_size > 0):
            for old in self._olds:
                os.close(old[0])
            self._olds = []
        return None

    # ------------------------------------------------------------------ reading
    def poll(self) -> Optional[bytes]:
        """The next chunk of new bytes (at most ``chunk_size``) or ``None`` when there is none."""
        self.restarted = False
        self.restart_reason = None
        self.gap = False
        if not self._check():
            data = self._from_old()
        else:
            data = self._from_old()
            if data is None and self._fd is not None:
                data = self._pread(self._fd, self.offset) or None
                if data:
                    if len(self._head) < _FINGERPRINT:
                        self._head = (self._head + data)[:_FINGERPRINT]
                    self.offset += len(data)
                    self._tail = (self._tail + data[-_FINGERPRINT:])[-_FINGERPRINT:]  # never a copy of the chunk
        if data:
            self.total += len(data)
        return data

    def chunks(self) -> Iterator[bytes]:
        """Yield new chunks until the end of the file as it is now (restarts are followed)."""
        while True:
            data = self.poll()
            if data is None:
                return
            yield data

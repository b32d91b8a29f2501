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
from typing import Iterator, List, Optional, Sequence, Tuple

from .. import inputs
from ..errors import InputError
from .logtext import clean_line
from .rotation import DECOMPRESSORS

DEFAULT_CHUNK_SIZE = 8 << 20
_FINGERPRINT = 64  # bytes just before our offset, re-read to notice a rewritten file

MAX_DECOMPRESSED = 4 << 30  # bytes of one compressed rotated log read at most


def read_compressed(path: str, chunk_size: int = 1 << 20, limit: int = MAX_DECOMPRESSED) -> Iterator[bytes]:
    """The bytes of a compressed rotated log (gzip, xz, bzip2), a chunk at a time; only a regular file
    is opened, without blocking. Raises :class:`InputError` for another compression, a file that
    cannot be opened or decompressed, or one that decompresses to more than ``limit`` bytes (a bomb:
    the chunks already yielded stand)."""
    module = next((mod for ext, mod in DECOMPRESSORS.items() if path.endswith(ext)), None)
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


def read_plain(path: str, chunk_size: int = 1 << 20) -> Iterator[bytes]:
    """The bytes of a plain rotated log as they are now, a chunk at a time (only a regular file is
    opened, without blocking). Raises :class:`InputError` when it cannot be opened or read."""
    try:
        fd, dummy = inputs.open_regular(path)
    except OSError as exc:
        raise InputError(path, "cannot open: {0}".format(exc.strerror or exc)) from None
    try:
        while True:
            try:
                data = os.read(fd, chunk_size)
            except OSError as exc:
                raise InputError(path, "cannot read: {0}".format(exc.strerror or exc)) from None
            if not data:
                return
            yield data
    finally:
        os.close(fd)


def tail_lines(path: str, count: int = 12, max_bytes: int = 16384) -> List[str]:
    """The last ``count`` non-blank lines of the log (cleaned text, read from at most its last
    ``max_bytes``); [] when it cannot be read. For the words of a run that died early."""
    try:
        fd, st = inputs.open_regular(path)
    except OSError:
        return []
    try:
        start = max(0, st.st_size - max_bytes)
        data = os.pread(fd, max_bytes, start)
    except OSError:
        return []
    finally:
        os.close(fd)
    lines = data.split(b"\n")
    if start > 0:
        lines = lines[1:]  # the first one is cut
    text = [clean_line(line).rstrip() for line in lines]
    return [line for line in text if line.strip()][-count:]


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
      files of the same log first (:mod:`.rotation` says which), as if it had followed every rotation.
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
        self._olds: List[Tuple[int, int, Tuple[int, int]]] = []  # (fd, offset, ident) of replaced files still followed
        # Where the bytes of the last poll came from: the file's (device, inode) and their offset in it.
        self.source: Optional[Tuple[Tuple[int, int], int]] = None

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
                fd, st = inputs.open_regular(path)
            except OSError:
                skipped.append(path)
                continue
            self._olds.append((fd, 0, (st.st_dev, st.st_ino)))
        return skipped

    def follow_from(self, path: str, offset: int) -> bool:
        """Follow a rotated file from ``offset`` on (its bytes before it were read otherwise): what its
        writer adds later is read before the log's new bytes. False when it cannot be opened."""
        try:
            fd, st = inputs.open_regular(path)
        except OSError:
            return False
        self._olds.append((fd, offset, (st.st_dev, st.st_ino)))
        return True

    def attach(self) -> None:
        """Open the file the path names now, reading nothing: a rotation from here on is followed
        (its text is read from the renamed file), even one that comes before the first poll."""
        self._check()

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
        if self._fd is not None and self._ident is not None:
            self._olds.append((self._fd, self.offset, self._ident))
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
        for index, (fd, offset, ident) in enumerate(self._olds):
            data = self._pread(fd, offset)
            if data:
                self._olds[index] = (fd, offset + len(data), ident)
                self.source = (ident, offset)
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
        self.source = None
        if not self._check():
            data = self._from_old()
        else:
            data = self._from_old()
            if data is None and self._fd is not None:
                data = self._pread(self._fd, self.offset) or None
                if data and self._ident is not None:
                    self.source = (self._ident, self.offset)
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

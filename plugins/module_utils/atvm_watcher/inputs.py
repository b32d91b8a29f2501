# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opening input files without ever blocking: only regular files are read, and never whole.

Every file the watcher reads but does not own (runner log, reporter and JUnit files, the
inventory, the message template, env files) is opened here. ``open()`` on a FIFO blocks until a
writer appears, and nothing (not even SIGTERM, with Python's retry on EINTR) gets the process out of
it; a character device such as ``/dev/zero`` never ends. So the path is opened with ``O_NONBLOCK``
(opening a FIFO then returns at once), the opened descriptor is checked with ``fstat`` (not the
path: it can be swapped in between) and anything but a regular file is refused with an
:class:`OSError` whose ``strerror`` says what it is. Reads are bounded by the caller's limit.
"""
from __future__ import annotations

import errno
import os
import stat
from typing import Tuple

_KINDS = (
    (stat.S_ISFIFO, "a FIFO"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
    (stat.S_ISDIR, "a directory"),
)


def file_kind(mode: int) -> str:
    """What a non-regular file is, in words ("a FIFO", "a character device", ...)."""
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def not_regular(mode: int) -> OSError:
    """The error for a file that is not a regular file (``strerror`` names its kind)."""
    return OSError(errno.EINVAL, "not a regular file ({0})".format(file_kind(mode)))


def open_regular(path: str) -> Tuple[int, os.stat_result]:
    """Open ``path`` read-only without blocking; (fd, fstat of that fd). Raises :class:`OSError`.

    Symlinks are followed (the descriptor's own type is what is checked). A FIFO, device, socket or
    directory is closed again and refused. ``O_NONBLOCK`` stays set: it changes nothing for a
    regular file.
    """
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOCTTY", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise not_regular(st.st_mode)
    except BaseException:
        os.close(fd)
        raise
    return fd, st


def read_fd(fd: int, limit: int, offset: int = 0) -> bytes:
    """At most ``limit`` bytes from ``fd`` starting at ``offset`` (fewer at the end of the file)."""
    parts = []
    got = 0
    while got < limit:
        data = os.pread(fd, min(limit - got, 1 << 20), offset + got)
        if not data:
            break
        parts.append(data)
        got += len(data)
    return b"".join(parts)


def read_regular(path: str, limit: int) -> Tuple[os.stat_result, bytes]:
    """(stat, bytes) of the regular file ``path``, at most ``limit + 1`` bytes read.

    The caller compares ``len(data)`` with ``limit`` to tell a file that is too large (it may
    grow while it is read). Raises :class:`OSError` (``strerror`` says why).
    """
    fd, st = open_regular(path)
    try:
        return st, read_fd(fd, limit + 1)
    finally:
        os.close(fd)

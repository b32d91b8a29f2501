# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Which files hold a runner log's text after rotations: found by name, taken only when provably ours.

A file is who its first bytes and, where it was read, its inode say (:class:`FileKey`). A restarted
watcher compares what lies beside the log (and in logrotate's ``olddir``) with the files it recorded
while reading (docs/decision-rules.md, "Rotated logs"):

- a recorded file is found again when a candidate has its inode and its first bytes (renamed), or
  its first bytes alone (a copy, logrotate's ``copytruncate``, compressed or not) while the inode it
  had no longer holds them;
- a candidate the record does not know is taken only when it is named as logrotate names this log's
  rotations (``<log>.N``, ``<log>-YYYYMMDD``, ``<log>.YYYY-MM-DD``, compressed or not), was written
  during this run, is newer than every recorded file, is no other run's log and does not repeat
  another taken file (an operator's copy); without a record, the same minus the first condition;
- a recorded file found nowhere is lost: its runs are decided from their other evidence, and the
  unreadable candidates that may hold it (a compression the controller's Python cannot read) are
  named.
"""
from __future__ import annotations

import dataclasses
import fnmatch
import glob
import hashlib
import os
import re
import shlex
import stat
from typing import Any, Dict, Iterable, List, Mapping, Optional, Sequence, Set, Tuple

from .. import inputs

HEAD_BYTES = 4096  # the first bytes that say who a file is
MIN_SAME = 64  # fewer first bytes than this tell no copy from another file that starts alike
COMPRESSED = (".gz", ".xz", ".bz2", ".zst", ".lz4", ".Z")
DECOMPRESSORS = {".gz": "gzip", ".xz": "lzma", ".bz2": "bz2"}  # the standard library's
MAX_CANDIDATES = 200  # files looked at beside one log (a folder of thousands is not read whole)
LOGROTATE_CONF = "/etc/logrotate.conf"

_COMP = r"(?P<comp>\.(?:gz|xz|bz2|zst|lz4|Z))?"
_SUFFIX_RE = re.compile(
    r"(?:\.(?P<num>\d{1,4})"  # logrotate's numbers: .1, .2, ...
    r"|[.-](?P<date>\d{8,14}|\d{4}-\d\d-\d\d(?:[-_T]?\d\d(?:[-:]?\d\d(?:[-:]?\d\d)?)?)?)(?:\.(?P<n2>\d{1,4}))?"  # dateext
    r")" + _COMP + r"$")


@dataclasses.dataclass(frozen=True)
class FileKey:
    """Who a log file is: where it was read (``dev``, ``ino``; None for a compressed copy) and the
    SHA-256 of its first ``head_len`` bytes (at most :data:`HEAD_BYTES`)."""

    dev: Optional[int]
    ino: Optional[int]
    head_len: int
    head_sha256: str

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "FileKey":
        return cls(dev=obj.get("dev"), ino=obj.get("ino"), head_len=int(obj["head_len"]),
                   head_sha256=str(obj["head_sha256"]))


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def compression_of(path: str) -> Optional[str]:
    """The compression suffix of ``path`` (``.gz``), or None for a plain file."""
    return next((ext for ext in COMPRESSED if path.endswith(ext)), None)


def readable_compression(path: str) -> bool:
    ext = compression_of(path)
    return ext is None or ext in DECOMPRESSORS


def read_head(path: str, size: int = HEAD_BYTES) -> bytes:
    """The first ``size`` bytes of ``path`` (decompressed for gzip, xz, bzip2); only a regular file is
    opened, without blocking. Raises OSError (or ValueError for a corrupt compressed file)."""
    fd, dummy = inputs.open_regular(path)
    ext = compression_of(path)
    with os.fdopen(fd, "rb") as raw:
        if ext is None:
            return raw.read(size)
        opener = __import__(DECOMPRESSORS[ext]).open
        with opener(raw, "rb") as stream:
            try:
                return stream.read(size)
            except EOFError as exc:
                raise ValueError(str(exc)) from None


def head_matches(head: bytes, key: FileKey) -> bool:
    """True when ``head`` begins with the bytes ``key`` was taken from."""
    return len(head) >= key.head_len and digest(head[:key.head_len]) == key.head_sha256


@dataclasses.dataclass
class Candidate:
    """A file that may hold some of the log's text."""

    path: str
    rank: Tuple[int, int, str]  # oldest content first
    dev: int
    ino: int
    mtime: float
    compressed: Optional[str]  # the suffix, None for a plain file
    head: Optional[bytes] = None  # None: could not be read (see ``problem``)
    problem: Optional[str] = None

    @property
    def readable(self) -> bool:
        return self.head is not None


def _rank(suffix: re.Match) -> Tuple[int, int, str]:
    """Oldest first: logrotate's numbers count up with age (.2 before .1); dates sort as written."""
    if suffix.group("num"):
        return (0, -int(suffix.group("num")), "")
    return (1, -int(suffix.group("n2") or 0), re.sub(r"\D", "", suffix.group("date")))


def rotation_name(name: str, entry: str) -> Optional[re.Match]:
    """The suffix match when ``entry`` is named as logrotate names a rotation of ``name``, else None."""
    if not entry.startswith(name):
        return None
    return _SUFFIX_RE.fullmatch(entry[len(name):])


def logrotate_olddirs(log_path: str, conf: str = LOGROTATE_CONF) -> List[str]:
    """The ``olddir`` of the logrotate stanzas that name ``log_path`` (the main file and what it
    includes, ``/etc/logrotate.d`` usually); a global ``olddir`` counts for every log. Unreadable
    files are skipped: this only widens where rotated files are looked for."""
    found: List[str] = []
    for path in _conf_files(conf):
        try:
            data = inputs.read_regular(path, 1 << 20)[1].decode("utf-8", "replace")
        except OSError:
            continue
        found.extend(_olddirs_in(data, log_path))
    out: List[str] = []
    for folder in found:
        if not os.path.isabs(folder):
            folder = os.path.join(os.path.dirname(log_path), folder)
        folder = os.path.normpath(folder)
        if folder not in out:
            out.append(folder)
    return out


def _conf_files(conf: str) -> List[str]:
    files = [conf]
    try:
        text = inputs.read_regular(conf, 1 << 20)[1].decode("utf-8", "replace")
    except OSError:
        return []
    for line in text.splitlines():
        words = line.split()
        if len(words) == 2 and words[0] == "include":
            target = words[1]
            if os.path.isdir(target):
                files.extend(sorted(os.path.join(target, n) for n in os.listdir(target)
                                    if not n.startswith(".") and not n.endswith((".dpkg-old", ".rpmsave", "~")))[:200])
            else:
                files.extend(sorted(glob.glob(target))[:200])
    return files


def _olddirs_in(text: str, log_path: str) -> List[str]:
    """``olddir`` values of ``text`` (a logrotate config) that apply to ``log_path``."""
    found: List[str] = []
    depth, applies, pending = 0, False, []  # pending: the words naming files before a "{"
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        if depth == 0 and "{" in line:
            head = line.split("{", 1)[0]
            try:
                names = pending + shlex.split(head)
            except ValueError:
                names = pending + head.split()
            applies = any(fnmatch.fnmatch(log_path, pattern) for pattern in names)
            pending, depth = [], 1
            continue
        if depth == 0:
            words = line.split()
            if words[0] == "olddir" and len(words) == 2:
                found.append(words[1])  # a global olddir
            elif words[0].startswith("/"):
                pending.extend(words)
            continue
        if "}" in line:
            depth, applies = 0, False
            continue
        words = line.split()
        if applies and words[0] == "olddir" and len(words) >= 2:
            found.append(words[1])
    return found


def candidates(log_path: str, olddirs: Sequence[str] = ()) -> List[Candidate]:
    """The files beside ``log_path`` (and in ``olddirs``) named as rotations of it, oldest first; each
    regular file (never a symlink) is read for its first bytes."""
    folder, name = os.path.split(log_path)
    found: List[Candidate] = []
    for where in [folder or "."] + [d for d in olddirs if d]:
        try:
            entries = sorted(os.listdir(where))
        except OSError:
            continue
        for entry in entries:
            suffix = rotation_name(name, entry)
            if suffix is None:
                continue
            full = os.path.join(where, entry)
            try:
                st = os.lstat(full)
            except OSError:
                continue
            if not stat.S_ISREG(st.st_mode):
                continue
            found.append(Candidate(full, _rank(suffix), st.st_dev, st.st_ino, st.st_mtime, compression_of(entry)))
            if len(found) >= MAX_CANDIDATES:
                break
    found.sort(key=lambda c: (c.rank, c.path))
    for cand in found:
        if not readable_compression(cand.path):
            cand.problem = "compressed as {0}, which this controller's Python cannot read".format(cand.compressed)
            continue
        try:
            cand.head = read_head(cand.path)
        except (OSError, ValueError) as exc:
            cand.problem = "cannot read it: {0}".format(getattr(exc, "strerror", None) or exc)
    return found


@dataclasses.dataclass
class Plan:
    """What a restarted watcher reads, in order, and what it cannot."""

    sources: List[Tuple[str, Optional[int]]]  # (path, recorded file id or None), oldest first, the log last
    lost: Dict[int, str]  # recorded file id -> why its text is gone (naming where it may be)
    skipped: List[Tuple[str, str]]  # (path, why it was not taken)


def plan(log_path: str, recorded: Sequence[Tuple[str, FileKey]], found: Sequence[Candidate], since: float,
         others: Iterable[str] = (), live_head: Optional[bytes] = None,
         live_ident: Optional[Tuple[int, int]] = None) -> Plan:
    """Which of ``found`` (from :func:`candidates`) hold this log's text, in reading order.

    ``recorded``: the files the record saw, as (name, key), in the order they were read.
    ``others``: the logs of other runs (never taken). ``live_head`` / ``live_ident``: the first bytes
    and identity of the file the log's path names now (None when it is missing).
    """
    others_real = {os.path.realpath(p) for p in others}
    live_is = _live_is(recorded, live_head, live_ident)
    taken, lost = _find_recorded(recorded, found, live_is)
    newest = max([found.index(c) for c in found if c.path in taken], default=-1)
    heads = [c.head for c in found if c.path in taken] + ([live_head] if live_head else [])
    skipped: List[Tuple[str, str]] = []
    for pos, cand in enumerate(found):
        if cand.path in taken:
            continue
        why = _refused(cand, pos, newest, bool(recorded), since, others_real, heads, live_ident)
        if why:
            skipped.append((cand.path, why))
            continue
        taken[cand.path] = None
        heads.append(cand.head)
    sources = [(c.path, taken[c.path]) for c in found if c.path in taken]
    sources.append((log_path, live_is))
    return Plan(sources=sources, lost=lost, skipped=skipped)


def _live_is(recorded: Sequence[Tuple[str, FileKey]], live_head: Optional[bytes],
             live_ident: Optional[Tuple[int, int]]) -> Optional[int]:
    """The recorded file the log still is: the newest one it can be (its inode, its first bytes)."""
    for fid in reversed(range(len(recorded))):
        key = recorded[fid][1]
        if live_ident is not None and live_head is not None and (key.dev, key.ino) == live_ident \
                and head_matches(live_head, key):
            return fid
    return None


def _find_recorded(recorded: Sequence[Tuple[str, FileKey]], found: Sequence[Candidate],
                   live_is: Optional[int]) -> Tuple[Dict[str, Optional[int]], Dict[int, str]]:
    """Each recorded file found again among ``found`` (path -> file id), and those that are lost (why)."""
    taken: Dict[str, Optional[int]] = {}
    lost: Dict[int, str] = {}
    # An inode holds the text of the newest recorded file read in it: an older one read in the same
    # inode was truncated away (copytruncate), so it can only be found as a copy.
    newest_in = {(key.dev, key.ino): fid for fid, (dummy, key) in enumerate(recorded)}
    for fid, (name, key) in enumerate(recorded):
        if fid == live_is:
            continue
        same = [c for c in found if c.readable and c.path not in taken and newest_in[(key.dev, key.ino)] == fid
                and (c.dev, c.ino) == (key.dev, key.ino) and head_matches(c.head, key)]
        # a copy: the same first bytes (a short file's copy: the same bytes, all of them)
        copy = [c for c in found if c.readable and c.path not in taken and head_matches(c.head, key)
                and (key.head_len >= MIN_SAME or len(c.head) == key.head_len)]
        pick = (same or copy or [None])[0]
        if pick is not None:
            taken[pick.path] = fid
            continue
        unreadable = [c.path for c in found if not c.readable]
        lost[fid] = "the log file {0} is gone{1}".format(
            name, ": it may be {0} ({1})".format(", ".join(os.path.basename(p) for p in unreadable),
                                                 "; ".join(sorted({c.problem for c in found if not c.readable})))
            if unreadable else " (not beside the log nor in an olddir)")
    return taken, lost


def _refused(cand: Candidate, pos: int, newest: int, recorded: bool, since: float, others: Set[str],
             heads: List[Optional[bytes]], live_ident: Optional[Tuple[int, int]]) -> Optional[str]:
    """Why a file the record does not know is not this log's text, or None (it is taken)."""
    if not cand.readable:
        return cand.problem
    if live_ident is not None and (cand.dev, cand.ino) == live_ident:
        return "it is the log itself (a hard link)"
    if os.path.realpath(cand.path) in others:
        return "it is the log of another run"
    if cand.mtime < since - 2.0:
        return "it was last written before this run started"
    if recorded and pos < newest:
        return "it is older than the files this watcher read"
    head = cand.head or b""
    for other in heads:
        if other and min(len(other), len(head)) >= MIN_SAME and (other.startswith(head) or head.startswith(other)):
            return "it repeats the first bytes of a file already read (a copy)"
    return None

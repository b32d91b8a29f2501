# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner log as the watcher reads it: across rotations and restarts, at a bounded cost per poll.

:class:`LogFollower` feeds the parser the log's text in order: after a restart first the rotated files
that provably hold this log's text (:mod:`..evidence.rotation`: found by name, taken by who they are),
compressed ones read whole, then the plain ones and the log itself, followed as they grow. It
knows where every (sub-)run began (which file, which offset) and keeps that in ``reading.json``
(:mod:`..store.reading`) as it reads, so a restarted watcher gives each run it reads again the index
recorded for the same place: no sub-run is renumbered, and a recorded run whose text is gone (a
rotated file deleted, moved away or compressed in a way this Python cannot read) keeps its index
and is decided from its other evidence, never as PASS.

Reading is paid for in slices (:meth:`LogFollower.read` takes a time budget): the watcher reports
ready before it catches up with old text, and stays responsive (cancel, runner exit, signals) while
it does.
"""
from __future__ import annotations

import bisect
import dataclasses
import os
import time
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set, Tuple

from ..envfile import read_env_file
from ..errors import ConfigError, InputError
from ..evidence import rotation
from ..evidence.cypress_log import CypressLogParser
from ..evidence.logfile import LogReader, read_compressed, read_plain
from ..models import CypressRun
from ..runpaths import RunPaths
from ..store.reading import MAX_PROBLEMS, MAX_SPECS, ReadFile, ReadingRecord, ReadRun
from ..store.runstore import RunStore

Journal = Callable[..., Any]
_Source = Tuple[Any, int]  # (file identity, offset in that file)


def other_logs(state_root: str, mine: str, limit: int = 2000) -> List[str]:
    """The runner logs other runs under ``state_root`` set in their ``watcher.env`` (never this log's text;
    a run without one writes into its own state directory, where no other run's log is)."""
    out: List[str] = []
    try:
        builds = sorted(os.listdir(state_root))[:limit]
    except OSError:
        return out
    for build in builds:
        if build.startswith("."):
            continue
        try:
            log = read_env_file(RunPaths(state_root, build).watcher_env).get("ATVM_RUNNER_LOG")
        except (ConfigError, OSError):
            continue
        if log and os.path.abspath(log) != os.path.abspath(mine):
            out.append(log)
    return out


@dataclasses.dataclass
class _File:
    """A file being read: its entry in the record (once its first bytes are known)."""

    name: str
    fid: Optional[int] = None
    head: bytes = b""


class LogFollower:
    """Reads the runner log for the watcher (see the module documentation)."""

    def __init__(self, log_path: str, parser: CypressLogParser, store: RunStore, journal: Journal,
                 olddirs: Sequence[str] = (), logrotate_conf: str = rotation.LOGROTATE_CONF,
                 others: Sequence[str] = (), clock: Callable[[], float] = time.monotonic,
                 taps: Sequence[Any] = ()) -> None:
        self.log_path = log_path
        self.parser = parser
        self.taps = list(taps)  # fed what the parser is fed (feed, gap, finish): the console's tests
        self.store = store
        self.journal = journal
        self.olddirs = list(olddirs)
        self.logrotate_conf = logrotate_conf
        self.others = list(others)
        self.clock = clock
        self.reader = LogReader(log_path)
        self.record = ReadingRecord()
        self.caught_up = False  # a read has found the end of everything there was to read
        self._dirty = False
        self._whole: List[Tuple[str, Any]] = []  # rotated files read whole, in order: (path, identity)
        self._chunks: Optional[Iterator[bytes]] = None
        self._chunk_path = ""
        self._chunk_ident: Any = None
        self._chunk_offset = 0
        self._files: Dict[Any, _File] = {}  # identity ((dev, ino), or a compressed file's path) -> file
        self._by_path: Dict[str, Optional[int]] = {}  # planned plain sources -> recorded file id
        self._segments: List[Tuple[int, Optional[int], int]] = []  # (stream offset, file id, file offset)
        self._stream = 0  # bytes fed to the parser (a UTF-8 log's offsets in its text)
        self._true: Dict[int, int] = {}  # parser position -> the run's index for good
        self._lost: Dict[int, CypressRun] = {}  # index -> a recorded run whose text is gone
        self._recorded: Dict[Tuple[int, int], ReadRun] = {}
        self._by_index: Dict[int, ReadRun] = {}
        self._signatures: Dict[int, Tuple[Any, ...]] = {}
        self._next = 0
        self._lost_files: Set[int] = set()  # recorded files whose text is gone
        self._files_with_runs: Set[int] = set()  # files in which a run was found (the first one may be the rest of a lost one)

    # ------------------------------------------------------------------ before reading
    def prepare(self, since: float) -> None:
        """Plan what to read (cheap: names, identities and first bytes only). ``since``: the run's start."""
        record = self.store.load_reading()
        if record is not None:
            self.record = record
            self._by_index = {r.index: r for r in record.runs}
            self._recorded = {(r.file, r.offset): r for r in record.runs if r.file is not None and r.offset is not None}
            self._next = max(self._by_index, default=-1) + 1
        olddirs = self.olddirs + rotation.logrotate_olddirs(self.log_path, self.logrotate_conf)
        found = rotation.candidates(self.log_path, olddirs)
        live_head, live_ident = self._live()
        plan = rotation.plan(self.log_path, [(f.name, f.key) for f in self.record.files], found, since,
                             others=self.others, live_head=live_head, live_ident=live_ident)
        for path, why in plan.skipped:
            self.journal("log-rotated-skipped", "{0} is not read as this run's log: {1}".format(path, why), file=path)
        for fid, why in sorted(plan.lost.items()):
            self.journal("log-rotated-unread", "{0}: the sub-runs whose text it held are decided from their other "
                         "evidence, never as PASS".format(why), file=self.record.files[fid].name)
            for run in self.record.runs:
                if run.file == fid:
                    self._lost[run.index] = _restored(run, "the log holding this run's text was rotated away "
                                                           "unread ({0})".format(why))
        self._lost_files = set(plan.lost)
        self._plan_sources(plan.sources, found, live_ident)

    def _live(self) -> Tuple[Optional[bytes], Optional[Tuple[int, int]]]:
        try:
            st = os.stat(self.log_path)
            return rotation.read_head(self.log_path), (st.st_dev, st.st_ino)
        except (OSError, ValueError):
            return None, None

    def _plan_sources(self, sources: Sequence[Tuple[str, Optional[int]]], found: Sequence[rotation.Candidate],
                      live_ident: Optional[Tuple[int, int]]) -> None:
        # Up to the last compressed file everything is read whole, in order (nothing writes to a file
        # older than a compressed one); the plain files after it, and the log, are followed as they grow.
        rotated = [(p, fid) for p, fid in sources if p != self.log_path]
        last = max([i for i, (p, dummy) in enumerate(rotated) if rotation.compression_of(p)], default=-1)
        plain: List[str] = []
        for pos, (path, fid) in enumerate(rotated):
            cand = next((c for c in found if c.path == path), None)
            compressed = rotation.compression_of(path) is not None
            ident: Any = ("compressed", path) if compressed or cand is None else (cand.dev, cand.ino)
            self._files[ident] = _File(os.path.basename(path), fid)
            if pos <= last:
                self._whole.append((path, ident))
            else:
                plain.append(path)
        live = next(((p, fid) for p, fid in sources if p == self.log_path), None)
        if live is not None and live[1] is not None and live_ident is not None:
            self._files[live_ident] = _File(self.record.files[live[1]].name, live[1])
        for path in self.reader.follow_rotated(plain):
            self.journal("log-rotated-unread", "{0} is not read: not a readable regular file".format(path), file=path)
        self.reader.attach()
        read = [p for p, dummy in sources if p != self.log_path]
        if read:
            self.journal("log-rotated", "runner log rotated before this watcher started: reading {0} first".format(
                ", ".join(read)), reason="rotated-before-start", files=read)

    # ------------------------------------------------------------------ reading
    def read(self, budget: float) -> bool:
        """Feed the parser what there is to read, for at most ``budget`` seconds; True when anything was."""
        deadline = self.clock() + budget
        got = False
        while True:
            data, source = self._next_chunk()
            if data is None:
                if not self.caught_up:
                    self.caught_up = True
                    self.note_runs()
                    self._unmatched()
                break
            got = True
            self._feed(data, source)
            if self.clock() >= deadline:
                break
        if got:
            self.note_runs()
        return got

    def _next_chunk(self) -> Tuple[Optional[bytes], Optional[_Source]]:
        while self._chunks is not None or self._whole:
            if self._chunks is None:
                self._chunk_path, self._chunk_ident = self._whole.pop(0)
                plain = not rotation.compression_of(self._chunk_path)
                self._chunks = read_plain(self._chunk_path) if plain else read_compressed(self._chunk_path)
                self._chunk_offset = 0
            try:
                data = next(self._chunks, None)
            except InputError as exc:
                self.journal("log-rotated-unread", "{0}; the rest of it is not read".format(exc), file=str(exc.path))
                data = None
                self._gap("a rotated runner log could not be read to its end")
            if data:
                source = (self._chunk_ident, self._chunk_offset)
                self._chunk_offset += len(data)
                return data, source
            if not rotation.compression_of(self._chunk_path):  # a plain file may still grow: followed from here
                self.reader.follow_from(self._chunk_path, self._chunk_offset)
            self._chunks = None
        data = self.reader.poll()
        self._rotation_seen()
        if not data:
            return None, None
        return data, self.reader.source

    def _rotation_seen(self) -> None:
        if not self.reader.restarted:
            return
        reason = self.reader.restart_reason
        self.journal("log-rotated", "runner log {0} (rotation): reading goes on in {1}{2}".format(
            reason, "the new file after the old one" if reason == "replaced" else "the same file from its start",
            "; text written just before may be lost" if self.reader.gap else ""), reason=reason)
        if self.reader.gap:
            self._gap("the runner log was {0} (rotation) while this sub-run ran".format(reason))
        if reason in ("truncated", "rewritten"):  # the same inode holds other text now: a new file
            ident = self.reader.source[0] if self.reader.source else None
            for key in [k for k in self._files if k == ident or k == self._current_ident()]:
                self._files.pop(key, None)

    def _gap(self, what: str) -> None:
        self.parser.gap(what)
        for tap in self.taps:
            tap.gap(what)

    def _current_ident(self) -> Optional[Tuple[int, int]]:
        try:
            st = os.stat(self.log_path)
        except OSError:
            return None
        return st.st_dev, st.st_ino

    def _feed(self, data: bytes, source: Optional[_Source]) -> None:
        fid, offset = self._place(data, source)
        last = self._segments[-1] if self._segments else None
        if last is None or last[1] != fid or fid is None or last[2] + (self._stream - last[0]) != offset:
            self._segments.append((self._stream, fid, offset))
        self._stream += len(data)
        self.parser.feed(data)
        for tap in self.taps:
            tap.feed(data)

    def _place(self, data: bytes, source: Optional[_Source]) -> Tuple[Optional[int], int]:
        """The recorded file id and offset of a chunk (a new file is recorded once its first bytes are known)."""
        if source is None:
            return None, 0
        ident, offset = source
        entry = self._files.get(ident)
        if entry is None:
            entry = self._files[ident] = _File(os.path.basename(self.log_path), None)
        grown = offset == len(entry.head) < rotation.HEAD_BYTES
        if grown:  # the first bytes say who the file is: all of them, up to HEAD_BYTES, as they come
            entry.head += data[:rotation.HEAD_BYTES - len(entry.head)]
        if entry.fid is None or grown:
            dev, ino = ident if ident[0] != "compressed" else (None, None)
            key = rotation.FileKey(dev, ino, len(entry.head), rotation.digest(entry.head))
            if entry.fid is None:
                entry.fid = len(self.record.files)
                self.record.files.append(ReadFile(entry.name, key))
            elif self.record.files[entry.fid].key.head_len < key.head_len:
                self.record.files[entry.fid].key = key
            self._dirty = True
        return entry.fid, offset

    def _locate(self, stream_offset: int) -> Tuple[Optional[int], Optional[int]]:
        pos = bisect.bisect_right([s[0] for s in self._segments], stream_offset) - 1
        if pos < 0:
            return None, None
        start, fid, offset = self._segments[pos]
        return fid, offset + (stream_offset - start)

    # ------------------------------------------------------------------ runs
    def note_runs(self) -> None:
        """Give every run the parser found its index for good, and keep the record up to date."""
        for pos, run in enumerate(self.parser.runs):
            if pos not in self._true:
                self._true[pos] = self._index_of(run)
            index = self._true[pos]
            signature = (run.finished, len(run.problems), len(run.specs_found) + len(run.specs_run), run.label)
            if self._signatures.get(index) != signature:
                self._signatures[index] = signature
                self._remember(index, run)

    def _unmatched(self) -> None:
        """Once caught up: a recorded run not found again where its file was read is decided as lost."""
        found = set(self._true.values()) | set(self._lost)
        for entry in self.record.runs:
            if entry.index not in found:
                self._lost[entry.index] = _restored(entry, "its text was not found again in the runner log")

    def _index_of(self, run: CypressRun) -> int:
        fid, offset = self._locate(run.start_offset)
        first_in_file = fid is not None and fid not in self._files_with_runs
        if fid is not None:
            self._files_with_runs.add(fid)
        recorded = self._recorded.get((fid, offset)) if fid is not None else None
        if recorded is None and fid is not None:  # same file, same label, not yet matched (decoded offsets)
            taken = set(self._true.values())
            recorded = next((r for r in self.record.runs if r.file == fid and r.index not in taken
                             and r.label == run.label and r.label is not None), None)
        if recorded is not None:
            return recorded.index
        rest_of = self._rest_of(fid, run) if first_in_file else None
        if rest_of is not None:
            placeholder = self._lost.pop(rest_of)
            run.text_lost = placeholder.text_lost
            run.label = run.label or placeholder.label
            run.label_source = run.label_source or placeholder.label_source
            return rest_of
        index = self._next
        self._next += 1
        return index

    def _rest_of(self, fid: Optional[int], run: CypressRun) -> Optional[int]:
        """The lost run ``run`` is the rest of: the first run read in a file that follows a lost one is
        the rest of that file's last run, when no marker opens it (or a marker of the same label: its
        own, cut by the rotation) and that run did not end in the lost file."""
        if fid is None or fid - 1 not in self._lost_files:
            return None
        taken = set(self._true.values())
        last = [r for r in self.record.runs if r.file == fid - 1 and r.index in self._lost and r.index not in taken]
        if not last or self._ended_unread(last[-1].index):
            return None
        if _continues(run) or run.label == last[-1].label:
            return last[-1].index
        return None

    def _ended_unread(self, index: int) -> bool:
        """A lost run that ended in the lost file itself: what follows is not its rest."""
        entry = self._by_index.get(index)
        return bool(entry and entry.finished and entry.end_file is not None and entry.end_file == entry.file)

    def _remember(self, index: int, run: CypressRun) -> None:
        fid, offset = self._locate(run.start_offset)
        entry = self._by_index.get(index)
        if entry is None:
            entry = ReadRun(index=index, file=fid, offset=offset)
            self._by_index[index] = entry
            self.record.runs.append(entry)
            self.record.runs.sort(key=lambda r: r.index)
            if fid is not None and offset is not None:
                self._recorded[(fid, offset)] = entry
        entry.label, entry.label_source = run.label, run.label_source
        if run.finished and not entry.finished and run.end_offset is not None:
            entry.end_file = self._locate(max(run.end_offset - 1, 0))[0]
        entry.finished = entry.finished or run.finished
        entry.failed_specs, entry.total_specs = run.failed_specs, run.total_specs
        entry.problems = list(run.problems[:MAX_PROBLEMS])
        entry.specs = list(dict.fromkeys(run.specs_found + run.specs_run))[:MAX_SPECS]
        self._dirty = True

    def finish(self) -> None:
        """End of input (the runner is over): the parser closes what the last line left open."""
        self.parser.finish()
        for tap in self.taps:
            tap.finish()
        self.note_runs()
        self.save()

    def runs(self) -> List[CypressRun]:
        """Every run, with its index for good, in index order: the parser's and the lost ones."""
        out = [dataclasses.replace(run, index=self._true[pos]) for pos, run in enumerate(self.parser.runs)
               if pos in self._true]
        out.extend(run for index, run in self._lost.items() if index not in self._true.values())
        return sorted(out, key=lambda r: r.index)

    def save(self) -> None:
        """Write ``reading.json`` when it changed (before anything is decided from it)."""
        if self._dirty:
            self.store.save_reading(self.record)
            self._dirty = False

    @property
    def total(self) -> int:
        return self._stream

    def close(self) -> None:
        self.reader.close()


def _continues(run: CypressRun) -> bool:
    """True for a run no wrapper marker opened: after a lost file it is the rest of the last lost run
    (its Cypress output, or the part of it after the rotation); a marker always begins a new group."""
    return run.label_source != "marker"


def _restored(recorded: ReadRun, why: str) -> CypressRun:
    """A recorded run whose text is gone: what was seen of it, never enough for a PASS."""
    run = CypressRun(index=recorded.index, label=recorded.label, label_source=recorded.label_source, started=True,
                     specs_found=list(recorded.specs), problems=list(recorded.problems), text_lost=why)
    if recorded.failed_specs:
        run.problems.append("{0} of {1} spec(s) had failed before its text was lost".format(
            recorded.failed_specs, recorded.total_specs if recorded.total_specs is not None else "?"))
    return run

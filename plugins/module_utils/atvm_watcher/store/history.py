# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The history of each suite: its last runs and their per-test results (docs/history.md).

One file per suite, ``<state root>/.history/<suite id>.json`` (:class:`~..runpaths.HistoryPaths`)::

    {"schema": 1,
     "suite": {"id": "cmc-e2e-gold-linux-...-3f9a0c1b2d", "key": ["cmc-e2e", "gold", "linux", ["h1", "h2"]],
               "text": "cmc-e2e · gold · linux · h1,h2"},
     "tests": [["cypress/e2e/migration/h1.cy.ts", "Migration of h1 boots the target VM"], ...],
     "runs": [{"id": "B42#0", "build": "B42", "subrun": 0, "name": "linux", "run_started": "...",
               "decided_at": "...", "state": "COMPLETED", "result": "FAIL",
               "tests": {"passed": "<hex>", "flaky": "<hex>", "failed": "<hex>", "skipped": "<hex>"},
               "why": "", "changes": {...}}]}

A run's ``tests`` are one bit mask per state over the suite's ``tests`` table (bit ``i``: test ``i``),
written in hexadecimal; null when its per-test results are not known (``why`` says why). A run is
``<build>#<sub-run index>``: recording it again (a restarted watcher, a resend) replaces it where it
stands, so it is never counted twice and the runs after it keep what they were compared with.

The file is rewritten atomically under a lock (two watchers of the same suite may finish together),
keeps the newest ``max_runs`` runs and stays within ``max_bytes`` (the oldest runs go first; tests no
kept run names leave the table). A corrupt file is set aside with one journal line and the suite's
history starts again: never fatal.
"""
from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import operator
import os
import re
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Set

from ..durable import (
    DIR_MODE, FILE_MODE, SCHEMA, Journal, atomic_write_bytes, load_json_or_quarantine, locked, say, strerror, utc_now,
)
from ..errors import ConfigError, MissingDependencyError, StateError
from ..evidence.testcases import STATES, TestKey
from ..models import safe_name
from ..runpaths import HistoryPaths
from ..safetext import hook_id, redact

try:
    import jmespath
    import jmespath.exceptions

    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - exercised only on hosts without jmespath
    jmespath = None
    HAS_JMESPATH = False

CHANGE_LISTS = ("new_failures", "fixed", "still_failing", "flaky")  # masks of a run's "changes"
MAX_SUITES_LISTED = 10000
_HEX_RE = re.compile(r"[0-9a-f]*")
_LIST_RE = re.compile(r"(?:[0-9]{1,9}(?:,[0-9]{1,9})*)?")
_BIT = (1).__lshift__  # test index -> its bit

Masks = Dict[str, int]


# ---------------------------------------------------------------------------------------------
# the suite's key
# ---------------------------------------------------------------------------------------------


class SuiteKey:
    """What makes runs comparable (``ATVM_HISTORY_KEY`` over the run's metadata): its value, as text,
    and the id that names its file."""

    def __init__(self, value: Any) -> None:
        self.value = value
        self.text = key_text(value)
        digest = hashlib.sha256(json.dumps(value, sort_keys=True, ensure_ascii=False).encode("utf-8", "replace"))
        self.id = "{0}-{1}".format(safe_name(self.text, "suite")[:60].rstrip("._-") or "suite", digest.hexdigest()[:10])

    def to_dict(self) -> Dict[str, Any]:
        return {"id": self.id, "key": self.value, "text": self.text}


def key_text(value: Any) -> str:
    """A key as one line: lists joined by `` · `` (a list inside by commas), null as ``-``."""
    def part(item: Any, top: bool) -> str:
        if item is None or item == "" or item == []:
            return "-"
        if isinstance(item, list):
            return (" \u00b7 " if top else ",").join(part(i, False) for i in item)
        if isinstance(item, dict):
            return ",".join("{0}={1}".format(k, part(v, False)) for k, v in sorted(item.items()))
        if isinstance(item, bool):
            return "yes" if item else "no"
        return str(item)

    return part(value, True)


def suite_key(expression: str, document: Dict[str, Any]) -> Optional[SuiteKey]:
    """The suite of a (sub-)run: ``expression`` (JMESPath) over ``document`` (its metadata, ``subrun``,
    ``hosts``, ``categorized``); None when it gives nothing (null, "" or []): no history then.
    Raises :class:`ConfigError` for an invalid expression, :class:`MissingDependencyError` without jmespath."""
    if not HAS_JMESPATH:
        raise MissingDependencyError("jmespath")
    try:
        value = jmespath.search(expression, document)
    except jmespath.exceptions.JMESPathError as exc:
        raise ConfigError("ATVM_HISTORY_KEY {0!r} is not a valid JMESPath expression: {1}".format(expression, exc)) from None
    except (TypeError, ValueError) as exc:
        raise ConfigError("ATVM_HISTORY_KEY {0!r} cannot be evaluated: {1}".format(expression, exc)) from None
    if value is None or value == "" or value == [] or value == {}:
        return None
    return SuiteKey(value)


# ---------------------------------------------------------------------------------------------
# a suite's document
# ---------------------------------------------------------------------------------------------


class _Bad(ValueError):
    """A part of a suite's document that is not what it should be (its text says what and where)."""


def _problem(doc: Dict[str, Any]) -> Optional[str]:
    """What is wrong with a suite's history document (None: nothing). Every run's masks are read on
    the way (kept with the run under ``_tests`` and ``_changes``, never written)."""
    if doc.get("schema") != SCHEMA:
        return "schema is {0!r}, not {1}".format(doc.get("schema"), SCHEMA)
    if not isinstance(doc.get("suite"), dict) or not isinstance(doc["suite"].get("id"), str):
        return "suite is not an object with an id"
    specs, tests = doc.get("specs"), doc.get("tests")
    if not isinstance(specs, list) or not all(isinstance(spec, str) for spec in specs):
        return "specs is not a list of spec paths"
    if not isinstance(tests, list):
        return "tests is not a list"
    if not _pairs(tests, len(specs)):
        return "tests holds an entry that is not [spec, title]"
    runs = doc.get("runs")
    if not isinstance(runs, list):
        return "runs is not a list"
    for i, run in enumerate(runs):
        if not isinstance(run, dict) or not isinstance(run.get("id"), str) or not isinstance(run.get("build"), str):
            return "runs[{0}] is not a run (id and build)".format(i)
        try:
            _read_run(run, len(tests))
        except _Bad as exc:
            return "runs[{0}].{1}".format(i, exc)
    return None


def _pairs(tests: List[Any], specs: int) -> bool:
    """Every entry of ``tests`` is ``[spec index, title]`` (checked in C: a suite holds thousands)."""
    if not tests:
        return True
    if set(map(type, tests)) != {list} or set(map(len, tests)) != {2}:
        return False
    firsts, seconds = zip(*tests)
    return (set(map(type, firsts)) == {int} and set(map(type, seconds)) == {str}
            and min(firsts) >= 0 and max(firsts) < specs)


def _check(value: Any, names: Optional[Sequence[str]], size: int, where: str) -> None:
    """``{name: mask}`` as written (:func:`_pack`), every test in the table; :class:`_Bad` when not.
    A mask is read only where it is used (:func:`_unpack`)."""
    if not isinstance(value, dict):
        raise _Bad("{0} is not an object".format(where))
    for name, packed in value.items():
        if names is not None and name not in names:
            raise _Bad("{0}.{1} is not one of {2}".format(where, name, ", ".join(names)))
        if not isinstance(packed, str):
            raise _Bad("{0}.{1} is not a mask".format(where, name))
        if packed.startswith("i:"):
            # ascending as written: the last index is the highest (a bit beyond the table is dropped when read)
            if not _LIST_RE.fullmatch(packed, 2) or (len(packed) > 2 and int(packed[packed.rfind(",") + 1:].replace(
                    "i:", "")) >= size):
                raise _Bad("{0}.{1} is not a list of the table's tests".format(where, name))
        elif not _HEX_RE.fullmatch(packed) or (packed and int(packed, 16).bit_length() > size):
            raise _Bad("{0}.{1} is not a mask of the table's tests".format(where, name))


def _read_run(run: Dict[str, Any], size: int) -> None:
    """Check one run's masks and its changes'; :class:`_Bad` when one is wrong. The table's size is
    kept with the run (``_size``, never written) for when its masks are read."""
    run["_size"] = size
    if run.get("tests") is not None:
        _check(run["tests"], STATES, size, "tests")
    changes = run.get("changes")
    if changes is None:
        return
    if not isinstance(changes, dict):
        raise _Bad("changes is not an object")
    _check(changes.get("masks") or {}, CHANGE_LISTS, size, "changes.masks")
    _check(changes.get("streaks") or {}, None, size, "changes.streaks")
    if not all(str(n).isdigit() for n in changes.get("streaks") or {}):
        raise _Bad("changes.streaks is not by number of runs")


def _unpack(packed: Any, size: int) -> int:
    """A mask as :func:`_pack` wrote it (already checked), within a table of ``size`` tests."""
    if not packed:
        return 0
    if packed.startswith("i:"):
        mask = functools.reduce(operator.or_, map(_BIT, map(int, packed[2:].split(","))), 0) if packed[2:] else 0
        return mask & ((1 << size) - 1)
    return int(packed, 16)


def _pack(mask: int) -> str:
    """A mask as written: ``i:`` and its test indexes, ascending, when that is shorter (a few
    failures among thousands of tests), else hexadecimal."""
    count = bin(mask).count("1")
    if count * 6 < mask.bit_length() // 4:
        return "i:" + ",".join(map(str, bits_of(mask)))
    return format(mask, "x")


def bits_of(mask: int) -> Iterator[int]:
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def _decode(run: Dict[str, Any]) -> Optional[Masks]:
    """A run's masks (read once, when first needed), None when its per-test results are not known."""
    if "_tests" not in run:
        packed = run.get("tests")
        size = run.get("_size", 0)
        run["_tests"] = None if packed is None else {state: _unpack(packed.get(state), size) for state in STATES}
    return run["_tests"]


def _encode(masks: Masks) -> Dict[str, Any]:
    return {state: _pack(masks.get(state, 0)) for state in STATES}


def _pack_changes(changes: Dict[str, Any]) -> Dict[str, Any]:
    """A run's changes as written: their masks and streak masks packed (:func:`_pack`)."""
    out = dict(changes)
    out["masks"] = {name: _pack(int(v)) for name, v in (changes.get("masks") or {}).items()}
    out["streaks"] = {str(n): _pack(int(v)) for n, v in (changes.get("streaks") or {}).items()}
    return out


def kept_changes(run: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """What a run of a suite's document keeps of its changes, masks read (for ``decode``), or None."""
    if "_changes" not in run:
        changes = run.get("changes")
        if not isinstance(changes, dict):
            return None
        read = dict(changes)
        size = run.get("_size", 0)
        read["masks"] = {name: _unpack(v, size) for name, v in (changes.get("masks") or {}).items()}
        read["streaks"] = {int(n): _unpack(v, size) for n, v in (changes.get("streaks") or {}).items()}
        run["_changes"] = read
    return run["_changes"]


class _Table:
    """The suite's tests: index by key, and by spec file name and title (a spec named by its full
    path in one run and by its name alone in another is the same spec when only one matches)."""

    def __init__(self, tests: List[List[str]]) -> None:
        self.keys: List[TestKey] = [(t[0], t[1]) for t in tests]
        self.index: Dict[TestKey, int] = {}
        for i, key in enumerate(self.keys):
            self.index.setdefault(key, i)
        self._short: Optional[Dict[TestKey, Optional[int]]] = None  # made when a name is not found as it is

    def _short_of(self, key: TestKey) -> Optional[int]:
        if self._short is None:
            self._short = {}
            for i, known in enumerate(self.keys):
                self._learn(i, known)
        return self._short.get((os.path.basename(key[0]), key[1]))

    def _learn(self, i: int, key: TestKey) -> None:
        short = (os.path.basename(key[0]), key[1])
        if self._short is not None:
            self._short[short] = i if short not in self._short else None  # None: ambiguous

    def _of(self, key: TestKey, taken: Set[int]) -> int:
        found = self.index.get(key)
        if found is None or found in taken:
            found = self._short_of(key)
            if found is not None and (found in taken or not same_spec(self.keys[found][0], key[0])):
                found = None
            elif found is not None:
                self.index[key] = found
                if len(key[0]) > len(self.keys[found][0]):
                    self.keys[found] = key  # the longer spelling of its spec is kept
        if found is None:
            found = len(self.keys)
            self.keys.append(key)
            self.index.setdefault(key, found)
            self._learn(found, key)
        return found

    def masks(self, states: Dict[TestKey, str]) -> Masks:
        """One run's masks; each of its tests gets its own entry (exact names first, then a spec's other
        spelling in name order), a new one when the table has none."""
        out = {state: 0 for state in STATES}
        taken: Set[int] = set()
        index = self.index
        others = []
        for key, state in states.items():
            i = index.get(key)
            if i is None or i in taken:
                others.append(key)
            else:
                taken.add(i)
                out[state] |= 1 << i
        for key in sorted(others):
            i = self._of(key, taken)
            taken.add(i)
            out[states[key]] |= 1 << i
        return out


def same_spec(a: str, b: str) -> bool:
    """Two spellings of one spec: equal, or one is the other's end after a ``/`` (the console names a
    spec relative to the common folder of the run's specs, a report from the project's root)."""
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def _dump(doc: Dict[str, Any]) -> bytes:
    """The file's bytes: compact JSON (a suite may hold thousands of tests); what was read of the runs
    (``_tests``, ``_changes``) is not written. Its text was made safe as it came in (:class:`_Safe`)."""
    runs = [{k: v for k, v in run.items() if not k.startswith("_")} for run in doc["runs"]]
    return (json.dumps(dict(doc, runs=runs), ensure_ascii=False, separators=(",", ":")) + "\n").encode(
        "utf-8", "replace")


class _Safe:
    """Text made safe as it enters a suite's history (test names, reasons, the key): the one
    redaction of the webhook (:func:`~..safetext.redact`), run only on text that may hold it."""

    def __init__(self, secrets: Sequence[str]) -> None:
        self.secrets = tuple(secrets)
        needles = ("/hooks/",) + self.secrets + tuple(i for i in (hook_id(s) for s in self.secrets) if i)
        self.needle = re.compile("|".join(re.escape(n) for n in needles))

    def text(self, text: str) -> str:
        return redact(text, self.secrets) if self.needle.search(text) else text

    def key(self, key: TestKey) -> TestKey:
        return self.text(key[0]), self.text(key[1])

    def value(self, value: Any) -> Any:
        """A JSON-like value with every string made safe."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, dict):
            return {self.text(str(k)): self.value(v) for k, v in value.items()}
        if isinstance(value, list):
            return [self.value(v) for v in value]
        return value


def table_keys(doc: Dict[str, Any]) -> List[TestKey]:
    """A suite's table of tests: (spec, title) of each, in order (the spec paths are kept once)."""
    specs = doc.get("specs") or []
    return [(specs[t[0]], t[1]) for t in doc.get("tests") or []]


def set_table(doc: Dict[str, Any], keys: Sequence[TestKey]) -> None:
    where: Dict[str, int] = {}
    tests = []
    for spec, title in keys:
        i = where.get(spec)
        if i is None:
            i = where[spec] = len(where)
        tests.append([i, title])
    doc["specs"], doc["tests"] = list(where), tests


# ---------------------------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------------------------


class Earlier:  # pylint: disable=too-few-public-methods
    """An earlier run as the comparison sees it: build, when it was decided, its masks (None: not
    known), read only when the comparison asks for them."""

    def __init__(self, run: Dict[str, Any]) -> None:
        self._run = run
        self.build = run["build"]
        self.decided_at = run.get("decided_at")

    @property
    def masks(self) -> Optional[Masks]:
        return _decode(self._run)


Compare = Callable[[Sequence[TestKey], Optional[Masks], List[Earlier]], Any]
Restore = Callable[[Sequence[TestKey], Dict[str, Any]], Any]


class HistoryStore:
    """The suites' history under a state root (see the module documentation)."""

    def __init__(self, paths: HistoryPaths, journal: Journal = None, max_runs: int = 100,
                 max_bytes: int = 4 * 1024 * 1024, secrets: Sequence[Optional[str]] = ()) -> None:
        self.paths = paths
        self.journal = journal
        self.max_runs = max(1, int(max_runs))
        self.max_bytes = max(4096, int(max_bytes))
        self.secrets = tuple(s for s in secrets if s)
        self._safe = _Safe(self.secrets)

    # ---- reading ----
    def load(self, suite_id: str) -> Optional[Dict[str, Any]]:
        """A suite's document, or None (none yet, or corrupt: set aside with one journal line)."""
        path = self.paths.suite(suite_id)
        return load_json_or_quarantine(path, self.journal, label="history " + os.path.relpath(path, self.paths.root),
                                       validate=_problem)

    def suites(self) -> List[Dict[str, Any]]:
        """Every suite: its id, key, text, number of runs and last run (newest last run first)."""
        try:
            names = sorted(os.listdir(self.paths.dir))[:MAX_SUITES_LISTED]
        except OSError:
            return []
        out = []
        for name in names:
            suite_id = self.paths.suite_id_of(os.path.join(self.paths.dir, name))
            if suite_id is None:
                continue
            doc = self.load(suite_id)
            if doc is None:
                continue
            last = doc["runs"][-1] if doc["runs"] else {}
            out.append(dict(doc["suite"], runs=len(doc["runs"]), tests=len(doc["tests"]),
                            last_build=last.get("build"), last_decided_at=last.get("decided_at")))
        return sorted(out, key=lambda s: s.get("last_decided_at") or "", reverse=True)

    # ---- writing ----
    @contextlib.contextmanager
    def _locked(self, suite_id: str) -> Iterator[None]:
        try:
            os.makedirs(self.paths.dir, mode=DIR_MODE, exist_ok=True)
        except OSError as exc:
            raise StateError("cannot create {0}: {1}".format(self.paths.dir, strerror(exc))) from None
        with locked(self.paths.lock(suite_id)):
            yield

    def record(self, suite: SuiteKey, run: Dict[str, Any], states: Optional[Dict[TestKey, str]], why: str,
               compare: Compare, restore: Restore) -> Any:
        """Record one decided (sub-)run of ``suite`` and return what changed since the run before it.

        ``run``: ``id`` (``<build>#<index>``), ``build``, ``subrun``, ``name``, ``run_started``,
        ``state``, ``result``; ``states``: its tests' states (None: not known, ``why`` says why).
        ``compare(table, masks, earlier)`` gets the suite's table of tests, this run's masks over it
        and the runs before it (oldest first); what it returns has ``encode()`` (kept with the run).
        A run recorded before under the same id is replaced where it stands; with the same results
        it is answered what it was answered then (``restore(table, kept)``), whatever was dropped since.
        Raises :class:`StateError` when the file cannot be written.
        """
        with self._locked(suite.id):
            doc = self.load(suite.id) or {"schema": SCHEMA, "suite": {}, "specs": [], "tests": [], "runs": []}
            doc["suite"] = self._safe.value(suite.to_dict())
            table = _Table(table_keys(doc))
            masks = table.masks({self._safe.key(k): v for k, v in states.items()}) if states is not None else None
            encoded = _encode(masks) if masks is not None else None
            runs: List[Dict[str, Any]] = doc["runs"]
            position = next((i for i, r in enumerate(runs) if r.get("id") == run["id"]), None)
            if position is not None and runs[position].get("run_started") != run.get("run_started"):
                runs.pop(position)  # the build name was launched again: a new run of it, at the end
                position = None
            kept = runs[position] if position is not None else None
            if kept is not None and _decode(kept) == masks and kept_changes(kept) is not None:
                changes = restore(table.keys, kept_changes(kept))  # a restarted watcher: the answer it had
            else:
                earlier = [Earlier(r) for r in (runs if position is None else runs[:position])]
                changes = compare(table.keys, masks, earlier)
            said = changes.encode()  # its masks as they are; its text (names, reasons) made safe
            kept_changes_now = self._safe.value({k: v for k, v in said.items() if k not in ("masks", "streaks")})
            kept_changes_now.update(masks=said["masks"], streaks=said["streaks"])
            record = self._safe.value(dict(run, decided_at=(kept or {}).get("decided_at") or run.get("decided_at")
                                           or utc_now(), why=why if masks is None else ""))
            record.update(tests=encoded, changes=_pack_changes(kept_changes_now), _tests=masks,
                          _changes=kept_changes_now)
            if position is None:
                runs.append(record)
            else:
                runs[position] = record
            set_table(doc, table.keys)
            self._write(doc, run["id"])
            return changes

    def _write(self, doc: Dict[str, Any], keep: str) -> None:
        """Bounded (runs, then bytes: the oldest runs go first, the run ``keep`` last of all), then
        written atomically."""
        del doc["runs"][:-self.max_runs]
        _compact(doc)
        data = _dump(doc)
        while len(data) > self.max_bytes and len(doc["runs"]) > 1:
            share = max(1, len(doc["runs"]) * (len(data) - self.max_bytes) // len(data))
            victims = [r["id"] for r in doc["runs"] if r["id"] != keep][:share]
            doc["runs"] = [r for r in doc["runs"] if r["id"] not in victims]
            _compact(doc, force=True)
            data = _dump(doc)
        if len(data) > self.max_bytes:
            for run in doc["runs"]:
                run["tests"], run["_tests"] = None, None
                run["why"] = "its per-test results do not fit the history's size cap ({0} bytes)".format(self.max_bytes)
                changes = kept_changes(run)
                if changes is not None:
                    changes.update(masks={}, streaks={})
                    run["changes"] = _pack_changes(changes)
            _compact(doc, force=True)
            data = _dump(doc)
            say(self.journal, "history {0}: one run's per-test results do not fit its size cap of {1} bytes; "
                              "kept without them".format(doc["suite"]["id"], self.max_bytes))
        atomic_write_bytes(self.paths.suite(doc["suite"]["id"]), data, FILE_MODE)


def _renumber(value: int, where: Dict[int, int]) -> int:
    """``value`` with bit ``i`` moved to ``where[i]`` (a bit ``where`` does not keep is dropped)."""
    out = 0
    while value:
        low = value & -value
        new = where.get(low.bit_length() - 1)
        if new is not None:
            out |= 1 << new
        value ^= low
    return out


def _compact(doc: Dict[str, Any], force: bool = False) -> None:
    """Drop the tests no kept run names from the table when they are a quarter of it or more, the
    runs' masks, their changes' masks and streaks renumbered. Looked at only when the table grew by a
    quarter since the last look (``compacted``: its size then), or with ``force`` (runs were dropped
    for the size cap): a steady suite's runs are not all read at every run."""
    total = len(doc["tests"])
    last = doc.get("compacted") if isinstance(doc.get("compacted"), int) else 0
    if not total or (not force and total <= last * 5 // 4):
        return
    used = 0
    for run in doc["runs"]:
        for value in (_decode(run) or {}).values():
            used |= value
    doc["compacted"] = total
    if bin(used).count("1") > total * 3 // 4:
        return
    keep = [i for i in range(total) if used >> i & 1]
    where = {old: new for new, old in enumerate(keep)}
    keys = table_keys(doc)
    set_table(doc, [keys[i] for i in keep])
    doc["compacted"] = len(keep)
    for run in doc["runs"]:
        masks = _decode(run)
        if masks is not None:
            run["_tests"] = {state: _renumber(value, where) for state, value in masks.items()}
            run["tests"] = _encode(run["_tests"])
        changes = kept_changes(run)
        if changes is not None:
            # a run's changes name only its own tests (a bit the table no longer has is dropped)
            for part in ("masks", "streaks"):
                changes[part] = {name: _renumber(v, where) for name, v in (changes.get(part) or {}).items()}
            run["changes"] = _pack_changes(changes)


def run_id(build: str, index: int) -> str:
    """A run of a suite: its build and its sub-run (``B42#0``)."""
    return "{0}#{1}".format(build, index)

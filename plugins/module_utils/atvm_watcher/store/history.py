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
import hashlib
import json
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
from ..safetext import redact

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


def _problem(doc: Dict[str, Any]) -> Optional[str]:
    """What is wrong with a suite's history document (None: nothing)."""
    if doc.get("schema") != SCHEMA:
        return "schema is {0!r}, not {1}".format(doc.get("schema"), SCHEMA)
    if not isinstance(doc.get("suite"), dict) or not isinstance(doc["suite"].get("id"), str):
        return "suite is not an object with an id"
    tests = doc.get("tests")
    if not isinstance(tests, list):
        return "tests is not a list"
    for i, test in enumerate(tests):
        if not (isinstance(test, list) and len(test) == 2 and all(isinstance(t, str) for t in test)):
            return "tests[{0}] is not [spec, title]".format(i)
    runs = doc.get("runs")
    if not isinstance(runs, list):
        return "runs is not a list"
    for i, run in enumerate(runs):
        if not isinstance(run, dict) or not isinstance(run.get("id"), str) or not isinstance(run.get("build"), str):
            return "runs[{0}] is not a run (id and build)".format(i)
        problem = _run_problem(run, len(tests))
        if problem:
            return "runs[{0}].{1}".format(i, problem)
    return None


def _mask_problem(masks: Any, names: Sequence[str], where: str) -> Optional[str]:
    if not isinstance(masks, dict):
        return "{0} is not an object".format(where)
    for name, text in masks.items():
        if name not in names or not isinstance(text, str) or not _HEX_RE.fullmatch(text):
            return "{0}.{1} is not a mask".format(where, name)
    return None


def _run_problem(run: Dict[str, Any], size: int) -> Optional[str]:
    """What is wrong with one run of a suite's document (its masks, its changes)."""
    masks = run.get("tests")
    own = 0
    if masks is not None:
        problem = _mask_problem(masks, STATES, "tests")
        if problem:
            return problem
        for text in masks.values():
            own |= int(text or "0", 16)
        if own.bit_length() > size:
            return "tests names tests beyond the table"
    changes = run.get("changes")
    if changes is None:
        return None
    if not isinstance(changes, dict):
        return "changes is not an object"
    problem = _mask_problem(changes.get("masks") or {}, CHANGE_LISTS, "changes.masks")
    if problem:
        return problem
    if any(int(t or "0", 16) & ~own for t in (changes.get("masks") or {}).values()):
        return "changes names tests the run does not have"
    streaks = changes.get("streaks") or []
    if not isinstance(streaks, list) or not all(
            isinstance(s, list) and len(s) == 2 and all(isinstance(v, int) for v in s) and 0 <= s[0] < size
            for s in streaks):
        return "changes.streaks is not a list of [test, runs]"
    return None


def _decode(run: Dict[str, Any]) -> Optional[Masks]:
    masks = run.get("tests")
    if masks is None:
        return None
    return {state: int(masks[state], 16) if masks.get(state) else 0 for state in STATES}


def _encode(masks: Masks) -> Dict[str, str]:
    return {state: format(masks.get(state, 0), "x") for state in STATES}


class _Table:
    """The suite's tests: index by key, and by spec file name and title (a spec named by its full
    path in one run and by its name alone in another is the same spec when only one matches)."""

    def __init__(self, tests: List[List[str]]) -> None:
        self.keys: List[TestKey] = [(t[0], t[1]) for t in tests]
        self.index: Dict[TestKey, int] = {}
        self.short: Dict[TestKey, Optional[int]] = {}
        for i, key in enumerate(self.keys):
            self._learn(i, key)

    def _learn(self, i: int, key: TestKey) -> None:
        self.index.setdefault(key, i)
        short = (os.path.basename(key[0]), key[1])
        self.short[short] = i if short not in self.short else None  # None: ambiguous

    def _of(self, key: TestKey, taken: Set[int]) -> int:
        found = self.index.get(key)
        if found is None or found in taken:
            found = self.short.get((os.path.basename(key[0]), key[1]))
            if found is not None and (found in taken or not same_spec(self.keys[found][0], key[0])):
                found = None
            elif found is not None:
                self.index[key] = found
                if len(key[0]) > len(self.keys[found][0]):
                    self.keys[found] = key  # the longer spelling of its spec is kept
        if found is None:
            found = len(self.keys)
            self.keys.append(key)
            self._learn(found, key)
        return found

    def masks(self, states: Dict[TestKey, str]) -> Masks:
        """One run's masks; each of its tests gets its own entry (exact names first, then a spec's other
        spelling), a new one when the table has none."""
        out = {state: 0 for state in STATES}
        taken: Set[int] = set()
        exact = sorted(k for k in states if k in self.index)
        for key in exact + sorted(k for k in states if k not in self.index):
            i = self._of(key, taken)
            taken.add(i)
            out[states[key]] |= 1 << i
        return out


def same_spec(a: str, b: str) -> bool:
    """Two spellings of one spec: equal, or one is the other's end after a ``/`` (the console names a
    spec relative to the common folder of the run's specs, a report from the project's root)."""
    return a == b or a.endswith("/" + b) or b.endswith("/" + a)


def _dump(doc: Dict[str, Any], secrets: Sequence[str]) -> bytes:
    """The file's bytes: compact JSON (a suite may hold thousands of tests), redacted."""
    return (redact(json.dumps(doc, sort_keys=True, ensure_ascii=False, separators=(",", ":")), secrets)
            + "\n").encode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------
# the store
# ---------------------------------------------------------------------------------------------


class Earlier:  # pylint: disable=too-few-public-methods
    """An earlier run as the comparison sees it: build, when it was decided, masks (None: not known)."""

    def __init__(self, build: str, decided_at: Optional[str], masks: Optional[Masks]) -> None:
        self.build = build
        self.decided_at = decided_at
        self.masks = masks


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
            doc = self.load(suite.id) or {"schema": SCHEMA, "suite": suite.to_dict(), "tests": [], "runs": []}
            doc["suite"] = suite.to_dict()
            table = _Table(doc["tests"])
            masks = table.masks(states) if states is not None else None
            encoded = _encode(masks) if masks is not None else None
            runs: List[Dict[str, Any]] = doc["runs"]
            position = next((i for i, r in enumerate(runs) if r.get("id") == run["id"]), None)
            if position is not None and runs[position].get("run_started") != run.get("run_started"):
                runs.pop(position)  # the build name was launched again: a new run of it, at the end
                position = None
            kept = runs[position] if position is not None else None
            if kept is not None and kept.get("tests") == encoded and isinstance(kept.get("changes"), dict):
                changes = restore(table.keys, kept["changes"])  # a restarted watcher: the answer it had
            else:
                earlier = [Earlier(r["build"], r.get("decided_at"), _decode(r))
                           for r in (runs if position is None else runs[:position])]
                changes = compare(table.keys, masks, earlier)
            record = dict(run, decided_at=(kept or {}).get("decided_at") or run.get("decided_at") or utc_now(),
                          why=why if masks is None else "", tests=encoded, changes=changes.encode())
            if position is None:
                runs.append(record)
            else:
                runs[position] = record
            doc["tests"] = [list(k) for k in table.keys]
            self._write(doc, run["id"])
            return changes

    def _write(self, doc: Dict[str, Any], keep: str) -> None:
        """Bounded (runs, then bytes; the run ``keep`` last of all), then written atomically."""
        del doc["runs"][:-self.max_runs]
        _compact(doc)
        data = _dump(doc, self.secrets)
        while len(data) > self.max_bytes and len(doc["runs"]) > 1:
            share = max(1, len(doc["runs"]) * (len(data) - self.max_bytes) // len(data))
            victims = {r["id"] for r in doc["runs"] if r["id"] != keep}
            victims = set(list(r["id"] for r in doc["runs"] if r["id"] in victims)[:share])
            doc["runs"] = [r for r in doc["runs"] if r["id"] not in victims]
            _compact(doc)
            data = _dump(doc, self.secrets)
        if len(data) > self.max_bytes:
            for run in doc["runs"]:
                run["tests"] = None
                run["why"] = "its per-test results do not fit the history's size cap ({0} bytes)".format(self.max_bytes)
            _compact(doc)
            data = _dump(doc, self.secrets)
            say(self.journal, "history {0}: one run's per-test results do not fit its size cap of {1} bytes; "
                              "kept without them".format(doc["suite"]["id"], self.max_bytes))
        atomic_write_bytes(self.paths.suite(doc["suite"]["id"]), data, FILE_MODE)


def _renumber(value: int, where: Dict[int, int]) -> int:
    out = 0
    while value:
        low = value & -value
        out |= 1 << where[low.bit_length() - 1]
        value ^= low
    return out


def _compact(doc: Dict[str, Any]) -> None:
    """Drop the tests no kept run names from the table (when they are a quarter of it or more), the
    runs' masks, their changes' masks and streaks renumbered."""
    decoded = [(run, _decode(run)) for run in doc["runs"]]
    used = 0
    for _run, masks in decoded:
        for value in (masks or {}).values():
            used |= value
    total = len(doc["tests"])
    if not total or bin(used).count("1") > total * 3 // 4:
        return
    keep = [i for i in range(total) if used >> i & 1]
    where = {old: new for new, old in enumerate(keep)}
    doc["tests"] = [doc["tests"][i] for i in keep]
    for run, masks in decoded:
        if masks is not None:
            run["tests"] = _encode({state: _renumber(value, where) for state, value in masks.items()})
        changes = run.get("changes")
        if isinstance(changes, dict) and isinstance(changes.get("masks"), dict):
            # a run's changes name only its own tests: every bit is one the run's masks keep
            changes["masks"] = {name: format(_renumber(int(text or "0", 16), where), "x")
                                for name, text in changes["masks"].items()}
            changes["streaks"] = [[where[i], n] for i, n in changes.get("streaks") or [] if i in where]


def run_id(build: str, index: int) -> str:
    """A run of a suite: its build and its sub-run (``B42#0``)."""
    return "{0}#{1}".format(build, index)

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run's ``state.json``: one typed owner, its vocabularies, its validation and its delivery counts.

Everything that reads or writes ``state.json`` (the watcher, the cancel, ``run_info``, ``status``)
goes through :class:`RunState` and :meth:`.state.RunStore.load_state` / ``save_state``. A document
that is valid JSON but has the wrong shape (``"subruns": null``, ``"runner": null``,
``"subruns": [1, 2]``, ...) is corrupt: :meth:`RunState.problem` says what and where, and the store
sets the file aside with a journal line.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterable, List, Mapping, Optional, Tuple

from ..durable import SCHEMA, json_type, utc_now
from ..models import CANCELLED, RUN, RUNNING, TERMINAL_STATES, UNKNOWN

# The watcher's phase (``state.json`` -> ``watcher.phase``).
PHASE_STARTING = "starting"  # reading the log so far, not ready yet
PHASE_WATCHING = "watching"  # ready (also signalled to systemd with READY=1): a runner may start
PHASE_DELIVERING = "delivering"  # posting a decided sub-run
PHASE_DONE = "done"  # the run ended and every post was delivered (or not due)
PHASE_DELIVERY_FAILED = "delivery-failed"  # the run ended and a post failed (kept in the outbox for resend)
PHASE_STOPPED = "stopped"  # stopped by a signal without a cancellation: a new watcher of the build resumes
PHASES = (PHASE_STARTING, PHASE_WATCHING, PHASE_DELIVERING, PHASE_DONE, PHASE_DELIVERY_FAILED, PHASE_STOPPED)
LIVE_PHASES = (PHASE_WATCHING, PHASE_DELIVERING)  # a live run's watcher between two posts, or posting one

# Delivery statuses. SENDING / SENT / POST_FAILED are outbox record statuses; CORRUPT is what the
# store reports for a record that was unreadable and set aside (the post may or may not exist);
# PENDING (decided, not yet sending) and NOT_POSTED (a state that is never posted) exist only in
# the sub-run entries of ``state.json``.
PENDING = "PENDING"
SENDING = "SENDING"
SENT = "SENT"
POST_FAILED = "POST_FAILED"
CORRUPT = "CORRUPT"
NOT_POSTED = "NOT_POSTED"
OUTBOX_STATUSES = (SENDING, SENT, POST_FAILED)
DELIVERY_COUNTED = {SENT: "sent", POST_FAILED: "failed", PENDING: "pending", SENDING: "pending", CORRUPT: "corrupt"}

_NUMBER = (int, float)
_Spec = Dict[str, Tuple[Tuple[type, ...], bool]]  # field -> (types, null allowed)


def delivery_counts(statuses: Iterable[Optional[str]]) -> Dict[str, int]:
    """``{"sent", "failed", "pending"}`` over delivery statuses, plus ``corrupt`` when a record was unreadable.

    The one place delivery counts are made (state.json, ``run_info``, ``status``). A CORRUPT record
    is neither sent nor pending: whether it was posted is unknown, so it is counted as what it is.
    """
    counts = {"sent": 0, "failed": 0, "pending": 0}
    for status in statuses:
        name = DELIVERY_COUNTED.get(status or "")
        if name:
            counts[name] = counts.get(name, 0) + 1
    return counts


def _problem(obj: Mapping[str, Any], spec: _Spec, where: str) -> Optional[str]:
    for name, (types, nullable) in spec.items():
        if name not in obj:
            continue
        value = obj[name]
        if value is None and nullable:
            continue
        if value is None or isinstance(value, bool) and bool not in types or not isinstance(value, types):
            return "{0}{1} is {2}".format(where, name, json_type(value))
    return None


def _known(obj: Mapping[str, Any], spec: _Spec) -> Tuple[Dict[str, Any], Dict[str, Any]]:
    known = {k: v for k, v in obj.items() if k in spec}
    extra = {k: v for k, v in obj.items() if k not in spec and k != "schema"}
    return known, extra


@dataclasses.dataclass
class SubrunEntry:
    """One sub-run as ``state.json`` lists it (its verdict and text live in ``subruns/<key>/state.json``)."""

    index: int
    name: Optional[str] = None
    state: str = RUNNING
    result: str = RUN
    finalized: bool = False
    key: Optional[str] = None
    delivery: Optional[str] = None
    first_seen: Optional[float] = None  # epoch when a watcher saw it start live (bounds its artifacts)
    finished_seen: Optional[float] = None
    finalized_at: Optional[str] = None
    seen_late: bool = False  # first found in the log read at a watcher's start: never gets a first_seen
    held: bool = False  # decided and recorded, not posted: the request's posts reached ATVM_MAX_POSTS
    # what changed since the suite's previous run (docs/history.md): {"new_failure": n, "fixed": n,
    # "still_failing": n, "flaky": n}; None when its per-test results are not known or there is no history
    tests: Optional[Dict[str, int]] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    SPEC = {"index": ((int,), False), "name": ((str,), True), "state": ((str,), False), "result": ((str,), False),
            "finalized": ((bool,), False), "key": ((str,), True), "delivery": ((str,), True),
            "first_seen": (_NUMBER, True), "finished_seen": (_NUMBER, True), "finalized_at": ((str,), True),
            "seen_late": ((bool,), False), "held": ((bool,), False), "tests": ((dict,), True)}

    @classmethod
    def problem(cls, obj: Any, where: str) -> Optional[str]:
        if not isinstance(obj, dict):
            return "{0} is {1}, not an object".format(where.rstrip("."), json_type(obj))
        if "index" not in obj:
            return "{0}index is missing".format(where)
        return _problem(obj, cls.SPEC, where)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "SubrunEntry":
        known, extra = _known(obj, cls.SPEC)
        return cls(extra=extra, **known)

    def to_dict(self) -> Dict[str, Any]:
        return _part_dict(self)


@dataclasses.dataclass
class WatcherInfo:
    """The watcher process of the run (``pid_start_time``: its psutil start time, to tell a reused PID)."""

    pid: Optional[int] = None
    phase: Optional[str] = None
    started_at: Optional[str] = None
    pid_start_time: Optional[float] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    SPEC = {"pid": ((int,), True), "phase": ((str,), True), "started_at": ((str,), True),
            "pid_start_time": (_NUMBER, True)}


@dataclasses.dataclass
class RunnerInfo:
    """The runner: its unit (None for a ``--runner-pid`` run), its PID with its start time, its exit."""

    unit: Optional[str] = None
    pid: Optional[int] = None
    pid_start_time: Optional[float] = None
    exit: Optional[Dict[str, Any]] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    SPEC = {"unit": ((str,), True), "pid": ((int,), True), "pid_start_time": (_NUMBER, True),
            "exit": ((dict,), True)}


@dataclasses.dataclass
class RequestEntry:
    """The request post, when the request needed one: the state and result it says, its delivery."""

    key: str
    state: str
    result: str
    delivery: Optional[str] = None
    decided_at: Optional[str] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    SPEC = {"key": ((str,), False), "state": ((str,), False), "result": ((str,), False), "delivery": ((str,), True),
            "decided_at": ((str,), True)}

    def to_dict(self) -> Dict[str, Any]:
        return _part_dict(self)


def _part_from(cls: Any, obj: Optional[Mapping[str, Any]]) -> Any:
    known, extra = _known(obj or {}, cls.SPEC)
    return cls(extra=extra, **known)


def _part_dict(part: Any) -> Dict[str, Any]:
    out = dict(part.extra)
    out.update({f.name: getattr(part, f.name) for f in dataclasses.fields(part) if f.name != "extra"})
    return out


@dataclasses.dataclass
class RunState:
    """The run (``state.json``, schema 1). Unknown keys are kept as they were (``extra``)."""

    build_name: str
    run_state: str = RUNNING
    result: str = RUN
    categorized: bool = False
    created_at: Optional[str] = None
    created_epoch: Optional[float] = None
    updated_at: Optional[str] = None
    ended_at: Optional[str] = None
    watcher: WatcherInfo = dataclasses.field(default_factory=WatcherInfo)
    runner: RunnerInfo = dataclasses.field(default_factory=RunnerInfo)
    metadata: Dict[str, Any] = dataclasses.field(default_factory=dict)
    subruns: List[SubrunEntry] = dataclasses.field(default_factory=list)
    reasons: List[str] = dataclasses.field(default_factory=list)
    delivery: Dict[str, int] = dataclasses.field(default_factory=lambda: delivery_counts(()))
    request: Optional[RequestEntry] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    SPEC = {"build_name": ((str,), False), "run_state": ((str,), False), "result": ((str,), False),
            "categorized": ((bool,), False), "created_at": ((str,), True), "created_epoch": (_NUMBER, True),
            "updated_at": ((str,), True), "ended_at": ((str,), True), "watcher": ((dict,), False),
            "runner": ((dict,), False), "metadata": ((dict,), False), "subruns": ((list,), False),
            "reasons": ((list,), False), "delivery": ((dict,), False), "request": ((dict,), True)}

    # ---- reading ----
    @classmethod
    def problem(cls, obj: Mapping[str, Any]) -> Optional[str]:
        """What is wrong with a decoded ``state.json`` (None when it is a run state)."""
        found = _problem(obj, cls.SPEC, "")
        if found:
            return found
        for part, part_cls in (("watcher", WatcherInfo), ("runner", RunnerInfo), ("request", RequestEntry)):
            found = _problem(obj.get(part) or {}, part_cls.SPEC, part + ".")
            if found:
                return found
        request = obj.get("request")
        if request is not None and not all(k in request for k in ("key", "state", "result")):
            return "request is missing its key, state or result"
        for pos, reason in enumerate(obj.get("reasons") or []):
            if not isinstance(reason, str):
                return "reasons[{0}] is {1}".format(pos, json_type(reason))
        seen = set()
        for pos, entry in enumerate(obj.get("subruns") or []):
            found = SubrunEntry.problem(entry, "subruns[{0}].".format(pos))
            if found:
                return found
            if entry["index"] in seen or entry["index"] < 0:
                return "subruns[{0}].index {1} is negative or repeated".format(pos, entry["index"])
            seen.add(entry["index"])
        return None

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "RunState":
        """The run state of a decoded document; raises ValueError (what and where) when it is not one."""
        found = cls.problem(obj)
        if found:
            raise ValueError("not a run state: " + found)
        known, extra = _known(obj, cls.SPEC)
        known.setdefault("build_name", "")
        known["watcher"] = _part_from(WatcherInfo, known.get("watcher"))
        known["runner"] = _part_from(RunnerInfo, known.get("runner"))
        if known.get("request") is not None:
            known["request"] = _part_from(RequestEntry, known["request"])
        known["subruns"] = sorted((SubrunEntry.from_dict(e) for e in known.get("subruns", [])), key=lambda e: e.index)
        known["metadata"] = dict(known.get("metadata", {}))
        known["reasons"] = list(known.get("reasons", []))
        if "delivery" in known:
            known["delivery"] = dict(known["delivery"])
        return cls(extra=extra, **known)

    @classmethod
    def new(cls, build_name: str, categorized: bool = False, metadata: Optional[Mapping[str, Any]] = None,
            epoch: Optional[float] = None) -> "RunState":
        """A run that has just begun."""
        return cls(build_name=build_name, categorized=bool(categorized), created_at=utc_now(), created_epoch=epoch,
                   metadata=dict(metadata or {}))

    def to_dict(self) -> Dict[str, Any]:
        out = dict(self.extra)
        out.update({
            "schema": SCHEMA, "build_name": self.build_name, "run_state": self.run_state, "result": self.result,
            "categorized": self.categorized, "created_at": self.created_at, "updated_at": self.updated_at,
            "ended_at": self.ended_at, "watcher": _part_dict(self.watcher), "runner": _part_dict(self.runner),
            "metadata": dict(self.metadata), "subruns": [e.to_dict() for e in self.subruns],
            "reasons": list(self.reasons), "delivery": dict(self.delivery),
        })
        if self.request is not None:
            out["request"] = self.request.to_dict()
        if self.created_epoch is not None:
            out["created_epoch"] = self.created_epoch
        return out

    # ---- facts ----
    @property
    def terminal(self) -> bool:
        return self.run_state in TERMINAL_STATES

    @property
    def phase(self) -> Optional[str]:
        return self.watcher.phase

    def entry(self, index: int) -> Tuple[SubrunEntry, bool]:
        """The entry of sub-run ``index`` and whether it was created now (entries stay in index order)."""
        for entry in self.subruns:
            if entry.index == index:
                return entry, False
        entry = SubrunEntry(index=index)
        self.subruns.append(entry)
        self.subruns.sort(key=lambda e: e.index)
        return entry, True

    # ---- changes ----
    def set_phase(self, phase: str) -> bool:
        """Set the watcher's phase (one of :data:`PHASES`); True when it changed."""
        if phase not in PHASES:
            raise ValueError("unknown watcher phase {0!r}".format(phase))
        changed = self.watcher.phase != phase
        self.watcher.phase = phase
        return changed

    def count_deliveries(self) -> Dict[str, int]:
        statuses = [e.delivery for e in self.subruns] + ([self.request.delivery] if self.request else [])
        self.delivery = delivery_counts(statuses)
        return self.delivery

    def mark_cancelled(self, by: str, reason: str) -> None:
        """CANCELLED; a run that never got to its verdict has the result UNKNOWN; the reason is kept once."""
        now = utc_now()
        self.run_state = CANCELLED
        if self.result == RUN:
            self.result = UNKNOWN
        self.ended_at = self.ended_at or now
        note = "cancelled by {0}: {1}".format(by, reason)
        if note not in self.reasons:
            self.reasons.append(note)

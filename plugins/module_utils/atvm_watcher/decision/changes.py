# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changed since the last run of the same suite: the rules of docs/history.md, a pure function.

The runs of a suite are compared test by test over the suite's table of tests (its spec path and
full title each): a run's results are one bit mask per state over that table (bit ``i`` is test
``i``), so comparing two runs of thousands of tests is a few integer operations.

- the previous run is the latest earlier run whose per-test results are known;
- a **new failure** failed now and did not fail in the previous run (it passed, was flaky or
  skipped there, or did not exist);
- **fixed** failed in the previous run and passes now (flaky included): a test that fails now is
  never fixed;
- **still failing** failed in both; its streak counts the runs with per-test results it has
  failed in a row, this one included;
- **flaky** passed now after a failed attempt (it is told even on a first run);
- a run whose per-test results are not known tells no change ("no per-test results"), and the
  history never changes a run's result.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, Iterator, List, Optional, Sequence, Tuple

from ..evidence.testcases import FAILED, FLAKY, PASSED, STATES, TestKey

Masks = Dict[str, int]  # state -> bit mask over the suite's table of tests

# the names of the counts in metrics and status (one per list of Changes)
TALLIES = ("new_failure", "fixed", "still_failing", "flaky")


@dataclasses.dataclass
class Earlier:
    """An earlier run of the suite: its build, when it was decided, its masks (None: not known)."""

    build: str
    decided_at: Optional[str]
    masks: Optional[Masks]


@dataclasses.dataclass
class Changes:
    """What changed since the previous run of the suite with per-test results."""

    suite: str = ""  # the suite's key, as text
    first_run: bool = False  # no earlier run of the suite at all
    known: bool = False  # this run's per-test results are known
    why: str = ""  # why they are not
    previous_build: Optional[str] = None
    previous_at: Optional[str] = None  # when the previous run was decided
    new_failures: List[TestKey] = dataclasses.field(default_factory=list)
    fixed: List[TestKey] = dataclasses.field(default_factory=list)
    still_failing: List[Tuple[TestKey, int]] = dataclasses.field(default_factory=list)  # with its streak
    flaky: List[TestKey] = dataclasses.field(default_factory=list)
    tests: Dict[str, int] = dataclasses.field(default_factory=dict)  # this run's tests by state
    disagreements: List[Dict[str, Any]] = dataclasses.field(default_factory=list)  # tests the sources disagree on
    # the lists as masks over the suite's table, and the streaks by test index: what the history keeps
    masks: Dict[str, int] = dataclasses.field(default_factory=dict, compare=False)
    streaks: Dict[int, int] = dataclasses.field(default_factory=dict, compare=False)

    @property
    def compared(self) -> bool:
        """Compared with an earlier run (else: first run, no earlier per-test results, or none now)."""
        return self.known and self.previous_build is not None

    @property
    def longest_streak(self) -> int:
        return max((n for _key, n in self.still_failing), default=0)

    def tallies(self) -> Dict[str, int]:
        """``{"new_failure": n, "fixed": n, "still_failing": n, "flaky": n}``."""
        return dict(zip(TALLIES, (len(self.new_failures), len(self.fixed), len(self.still_failing),
                                  len(self.flaky))))

    def summary(self) -> str:
        """One plain line: ``since B41: 1 new failure, 1 fixed, 0 still failing, 1 flaky`` (journal, ``status``)."""
        return summary_of(self.to_dict())

    def to_dict(self) -> Dict[str, Any]:
        """As ``status --json`` and ``run_info`` return it: every list of tests as ``{spec, title}``."""
        def tests(keys: Sequence[TestKey]) -> List[Dict[str, str]]:
            return [{"spec": spec, "title": title} for spec, title in keys]

        return {
            "suite": self.suite, "first_run": self.first_run, "per_test_results": self.known, "why": self.why,
            "previous_build": self.previous_build, "previous_at": self.previous_at,
            "new_failures": tests(self.new_failures), "fixed": tests(self.fixed),
            "still_failing": [{"spec": spec, "title": title, "streak": n} for (spec, title), n in self.still_failing],
            "flaky": tests(self.flaky), "tests": dict(self.tests), "disagreements": list(self.disagreements),
        }

    @classmethod
    def from_dict(cls, obj: Dict[str, Any]) -> "Changes":
        """The inverse of :meth:`to_dict` (entries that are not ``{spec, title}`` objects are left out)."""
        def keys(name: str) -> List[TestKey]:
            return [(str(t["spec"]), str(t["title"])) for t in obj.get(name) or []
                    if isinstance(t, dict) and "spec" in t and "title" in t]

        still = [((str(t["spec"]), str(t["title"])), int(t.get("streak") or 2)) for t in obj.get("still_failing") or []
                 if isinstance(t, dict) and "spec" in t and "title" in t]
        return cls(suite=str(obj.get("suite") or ""), first_run=bool(obj.get("first_run")),
                   known=bool(obj.get("per_test_results")), why=str(obj.get("why") or ""),
                   previous_build=obj.get("previous_build"), previous_at=obj.get("previous_at"),
                   new_failures=keys("new_failures"), fixed=keys("fixed"), still_failing=still, flaky=keys("flaky"),
                   tests={k: int(v) for k, v in (obj.get("tests") or {}).items() if isinstance(v, int)},
                   disagreements=[d for d in obj.get("disagreements") or [] if isinstance(d, dict)])

    def encode(self) -> Dict[str, Any]:
        """What the suite's history keeps with the run: the lists as masks over the suite's table, the
        streaks as one mask per length (``{runs: mask}``); see :func:`decode`."""
        by_length: Dict[int, int] = {}
        for i, n in self.streaks.items():
            by_length[n] = by_length.get(n, 0) | 1 << i
        return {"suite": self.suite, "first_run": self.first_run, "known": self.known, "why": self.why,
                "previous_build": self.previous_build, "previous_at": self.previous_at, "tests": dict(self.tests),
                "disagreements": list(self.disagreements),
                "masks": {name: self.masks.get(name, 0) for name in LISTS}, "streaks": by_length}


LISTS = ("new_failures", "fixed", "still_failing", "flaky")  # the lists of Changes, as the history keeps them
_WORDS = (("new_failures", "new failure", "new failures"), ("fixed", "fixed", "fixed"),
          ("still_failing", "still failing", "still failing"), ("flaky", "flaky", "flaky"))


def summary_of(data: Dict[str, Any]) -> str:
    """:meth:`Changes.summary` of what :meth:`Changes.to_dict` gave (``status`` reads it from a sub-run's file)."""
    if not data.get("per_test_results"):
        return "no per-test results ({0})".format(data.get("why") or "not known")
    counts = ", ".join("{0} {1}".format(len(data.get(name) or []), one if len(data.get(name) or []) == 1 else many)
                       for name, one, many in _WORDS)
    if data.get("previous_build"):
        return "since {0}: {1}".format(data["previous_build"], counts)
    if data.get("first_run"):
        return "first run of this suite: {0}".format(counts)
    return "no earlier run with per-test results: {0}".format(counts)


def decode(table: Sequence[TestKey], data: Dict[str, Any]) -> Changes:
    """The :class:`Changes` a history keeps (:meth:`Changes.encode`), its tests named by ``table``."""
    masks = {name: int((data.get("masks") or {}).get(name) or 0) for name in LISTS}
    streaks = {i: int(n) for n, mask in (data.get("streaks") or {}).items() for i in bits(int(mask))}
    changes = Changes(suite=str(data.get("suite") or ""), first_run=bool(data.get("first_run")),
                      known=bool(data.get("known")), why=str(data.get("why") or ""),
                      previous_build=data.get("previous_build"), previous_at=data.get("previous_at"),
                      tests=dict(data.get("tests") or {}), disagreements=list(data.get("disagreements") or []),
                      masks=masks, streaks=streaks)
    _name(changes, table)
    return changes


def _name(changes: Changes, table: Sequence[TestKey]) -> None:
    """Fill the lists of ``changes`` from its masks and streaks."""
    changes.new_failures = _keys(table, changes.masks.get("new_failures", 0))
    changes.fixed = _keys(table, changes.masks.get("fixed", 0))
    changes.flaky = _keys(table, changes.masks.get("flaky", 0))
    changes.still_failing = sorted(((table[i], changes.streaks.get(i, 2)) for i in bits(changes.masks.get(
        "still_failing", 0))), key=lambda item: item[0])


def bits(mask: int) -> Iterator[int]:
    """The indexes of the set bits of ``mask``, lowest first."""
    while mask:
        low = mask & -mask
        yield low.bit_length() - 1
        mask ^= low


def mask_of(indexes: Sequence[int]) -> int:
    out = 0
    for i in indexes:
        out |= 1 << i
    return out


def _keys(table: Sequence[TestKey], mask: int) -> List[TestKey]:
    return sorted(table[i] for i in bits(mask))


def compare(table: Sequence[TestKey], current: Optional[Masks], earlier: Sequence[Earlier], suite: str = "",
            why: str = "") -> Changes:
    """What changed from the runs ``earlier`` (oldest first) to this run (``current``: its masks
    over ``table``, None when its per-test results are not known, ``why`` says why)."""
    changes = Changes(suite=suite, first_run=not earlier, known=current is not None, why=why if current is None else "")
    if current is None:
        return changes
    changes.tests = {state: bin(current.get(state, 0)).count("1") for state in STATES}
    now_failed = current.get(FAILED, 0)
    changes.masks["flaky"] = current.get(FLAKY, 0)
    # the latest earlier run with per-test results (an earlier run's masks may be read only when asked for)
    previous = next((n for n in range(len(earlier) - 1, -1, -1) if earlier[n].masks is not None), None)
    if previous is not None:
        before = earlier[previous].masks or {}
        was_failed = before.get(FAILED, 0)
        changes.previous_build, changes.previous_at = earlier[previous].build, earlier[previous].decided_at
        changes.masks["new_failures"] = now_failed & ~was_failed
        changes.masks["fixed"] = was_failed & (current.get(PASSED, 0) | current.get(FLAKY, 0)) & ~now_failed
        changes.masks["still_failing"] = now_failed & was_failed
        changes.streaks = _streaks(changes.masks["still_failing"], earlier[:previous])
    _name(changes, table)
    return changes


def _streaks(still: int, older: Sequence[Earlier]) -> Dict[int, int]:
    """Test index -> the runs in a row it has failed in (at least 2: this one and the previous),
    walking back through ``older`` (oldest first) as far as needed; a run without per-test results
    is passed over."""
    out: Dict[int, int] = {}
    alive, streak = still, 2
    for run in reversed(older):
        if not alive:
            break
        masks = run.masks
        if masks is None:
            continue
        failed = masks.get(FAILED, 0)
        for i in bits(alive & ~failed):
            out[i] = streak
        alive &= failed
        streak += 1
    for i in bits(alive):
        out[i] = streak
    return out

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the watch loop asks of the history: a decided (sub-)run's per-test results, recorded in its
suite's history, and what changed since the suite's previous run (docs/history.md).

The console's tests are read as the log is read (:class:`~..evidence.testlines.ConsoleTests`, fed by
the log follower); the reports when the (sub-)run is decided. Nothing here ever changes a verdict, and
a history that cannot be read or written never stops a post: it is journalled and the post goes out
without its History field.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional, Sequence

from ..decision.changes import Changes, Earlier, compare, decode
from ..decision.rules import hosts_of_run, run_specs
from ..errors import WatcherError
from ..evidence.junit import scan_junit_dir
from ..evidence.mochawesome import scan_mochawesome_dir
from ..evidence.testcases import RunTests, TestKey, run_tests
from ..evidence.testlines import ConsoleTests
from ..models import CANCELLED, CypressRun, InventoryHost, JUnitReport, RunVerdict, SubrunVerdict
from ..safetext import redact_command
from ..settings import Settings
from ..store.history import HistoryStore, Masks, SuiteKey, run_id, suite_key

NOT_FINISHED = "the Cypress run did not finish (no (Run Finished) table)"


class History:
    """The history side of one watcher (``enabled`` False with ``ATVM_HISTORY_RUNS=0``)."""

    def __init__(self, settings: Settings, journal: Callable[..., None]) -> None:
        self.settings = settings
        self.journal = journal
        self.enabled = settings.history_runs > 0
        self.console = ConsoleTests()
        self.store = HistoryStore(settings.paths.history, journal=lambda line: journal("history-set-aside", line),
                                  max_runs=max(settings.history_runs, 1), max_bytes=settings.history_max_bytes,
                                  secrets=(settings.webhook,))

    # ---- the (sub-)run's tests ----
    def tests(self, sub: SubrunVerdict, runs: Sequence[CypressRun], not_before: Optional[float],
              since: Optional[float], junit: Optional[List[JUnitReport]] = None) -> RunTests:
        """Its per-test results: reports not older than ``since`` (the run's start) and, for its own
        specs, not older than ``not_before`` (``junit``: the JUnit reports the verdict read, else read
        here); the console's test list of its part of the log."""
        mine = self._runs_of(sub, runs)
        specs: List[str] = []
        for run in mine:
            specs.extend(s for s in run_specs(run) if s not in specs)
        console = []
        if not any(run.text_lost for run in mine):
            for run in mine:
                later = [r.start_offset for r in runs if r.start_offset > run.start_offset]
                console.extend(self.console.between(run.start_offset, min(later) if later else None))
        settings = self.settings
        if junit is None:
            junit = scan_junit_dir(settings.junit_dir_path(), settings.junit_glob, since=since)
        mochawesome = scan_mochawesome_dir(settings.mochawesome_dir_path(), settings.mochawesome_glob, since=since)
        found = run_tests(specs, sub.counts, junit, mochawesome, console, not_before)
        if not mine or not all(run.finished for run in mine):
            found.known, found.why = False, NOT_FINISHED  # its own counts are not known: nothing to check against
        return found

    def _runs_of(self, sub: SubrunVerdict, runs: Sequence[CypressRun]) -> List[CypressRun]:
        if self.settings.categorized:
            return [r for r in runs if r.index == sub.index]
        return list(runs)

    # ---- the suite ----
    def suite(self, verdict: RunVerdict, sub: SubrunVerdict, runs: Sequence[CypressRun],
              inventory: Dict[str, InventoryHost]) -> Optional[SuiteKey]:
        """The (sub-)run's suite (``ATVM_HISTORY_KEY`` over its metadata), None when the key gives nothing."""
        hosts: List[str] = []
        for run in self._runs_of(sub, runs):
            hosts.extend(h for h in hosts_of_run(run, inventory, self.settings.host_pattern) if h not in hosts)
        if not verdict.categorized:
            hosts.extend(h for h in self.settings.expected_hosts if h not in hosts)
        names = getattr(self.settings, "redact_names", "") or None  # a key never holds a credential of a command
        document: Dict[str, Any] = {k: redact_command(v, names) for k, v in (self.settings.metadata or {}).items()}
        document.update(subrun=sub.label or sub.name, hosts=sorted(hosts), categorized=verdict.categorized)
        return suite_key(self.settings.history_key, document)

    # ---- one decided (sub-)run ----
    def record(self, build: str, run_started: Optional[str], verdict: RunVerdict, sub: SubrunVerdict,
               runs: Sequence[CypressRun], inventory: Dict[str, InventoryHost], not_before: Optional[float],
               since: Optional[float], junit: Optional[List[JUnitReport]] = None) -> Optional[Changes]:
        """Record ``sub`` in its suite's history once and say what changed; None when there is no
        history (off, a cancelled run, no key, or it could not be read or written: journalled)."""
        if not self.enabled or sub.state == CANCELLED:
            return None
        try:
            suite = self.suite(verdict, sub, runs, inventory)
            if suite is None:
                self.journal("history", "sub-run {0} {1}: ATVM_HISTORY_KEY gives no key, no history kept".format(
                    sub.index + 1, sub.name))
                return None
            found = self.tests(sub, runs, not_before, since, junit)
            states = found.states() if found.known else None
            disagreements = [t.to_dict() for t in found.disagreements]

            def compared(table: Sequence[TestKey], masks: Optional[Masks], earlier: List[Earlier]) -> Changes:
                out = compare(table, masks, earlier, suite=suite.text, why=found.why)
                out.disagreements = disagreements
                return out

            record = {"id": run_id(build, sub.index), "build": build, "subrun": sub.index, "name": sub.name,
                      "run_started": run_started, "state": sub.state, "result": sub.result}
            changes = self.store.record(suite, record, states, found.why, compared, decode)
        except WatcherError as exc:
            self.journal("history-failed", "sub-run {0} {1}: no history: {2}".format(sub.index + 1, sub.name, exc))
            return None
        except Exception as exc:  # pylint: disable=broad-except  # the history never stops a post
            self.journal("history-failed", "sub-run {0} {1}: no history: {2}: {3}".format(
                sub.index + 1, sub.name, type(exc).__name__, exc))
            return None
        self.journal("history", "sub-run {0} {1}: suite {2}: {3}".format(
            sub.index + 1, sub.name, suite.text, changes.summary()), suite=suite.id, changes=changes.tallies())
        return changes

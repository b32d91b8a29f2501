# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watch loop: follow one run until it is over, post each finished (sub-)run exactly once.

The loop sleeps on the runner's PID (pidfd) with a short timeout, so it wakes at once when the
runner exits and within ``poll_interval`` when the log grows. Everything it decides is written to
``state.json``, ``subruns/`` and ``events.jsonl`` before anything is posted, so a restarted watcher
resumes where the killed one stopped. When sub-runs are decided and posted: docs/architecture.md.
"""
from __future__ import annotations

import os
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO, Tuple

from ..host import sdnotify
from ..settings import Settings
from ..evidence.cypress_log import CypressLogParser
from ..decision.rules import decide
from ..delivery.client import MattermostClient
from ..errors import EXIT_DELIVERY_FAILED, EXIT_OK
from ..durable import utc_now
from ..store.metrics import MetricsWriter
from ..models import CANCELLED, HUNG, POSTED_STATES, UNKNOWN, CypressRun, ExitInfo
from ..host.process import start_time
from ..safetext import redact
from ..store.runstate import (
    PHASE_DELIVERY_FAILED, PHASE_DONE, PHASE_STARTING, PHASE_STOPPED,
    PHASE_WATCHING, POST_FAILED, RunState, SubrunEntry, WatcherInfo,
)
from ..store.runstore import RunStore
from .follow import LogFollower, other_logs
from .gathering import Gathering
from .history import History
from .posting import Posting
from ..host.systemd import CommandRunner, Systemd, subprocess_runner
from ..host.tracker import RunnerTracker


READ_BUDGET = 0.5  # seconds of reading per poll: a long catch-up never holds the loop


class Watcher(Gathering, Posting):
    """Watches one build. ``run()`` returns the process exit code."""

    def __init__(self, settings: Settings, run_command: CommandRunner = subprocess_runner,
                 clock: Callable[[], float] = time.time, log_stream: TextIO = sys.stderr,
                 client: Optional[MattermostClient] = None, environ: Optional[Dict[str, str]] = None,
                 monotonic: Optional[Callable[[], float]] = None) -> None:
        self.settings = settings
        self.build = settings.build_name or ""
        self.log_stream = log_stream
        self.store = RunStore(settings.paths, journal=self._say, secrets=(settings.webhook,))
        self.systemd = Systemd(run_command)
        self.clock = clock  # wall time: stamps compared with file times (the run's start, a sub-run's)
        # Durations that decide (HUNG, the runner's start timeout) never follow a wall clock that jumps
        # (an NTP step, a resumed VM): they are measured on the monotonic clock.
        self.monotonic = monotonic or (time.monotonic if clock is time.time else clock)
        self.environ = environ if environ is not None else dict(os.environ)
        self.client = client or MattermostClient.from_settings(settings)
        self.parser = CypressLogParser(settings.marker_regex)
        self.history = History(settings, self.journal)
        self.last_junit: Optional[List[Any]] = None  # the JUnit reports the last decision read
        self.follower = LogFollower(settings.runner_log_path(), self.parser, self.store, self.journal,
                                    olddirs=settings.log_olddirs, logrotate_conf=settings.logrotate_conf,
                                    others=other_logs(settings.state_root, settings.runner_log_path()),
                                    taps=(self.history.console,))
        self.state = RunState(build_name=self.build)
        self.runner: Optional[RunnerTracker] = None
        self._saved: Dict[str, Any] = {}
        self._dirty = False  # state changed since the last save (the poll loop saves only then)
        self.started_at = clock()
        self._inventory: Dict[str, Any] = {}
        self._inventory_mtime: Optional[float] = None
        self._progress_sig: Any = None
        self._last_progress = self.monotonic()
        self._last_hang_check = 0.0
        self._quiet_cache: Dict[int, Any] = {}
        self._caught_up_at: Optional[float] = None  # when a read last found the log's end
        self._caught_up_mono: Optional[float] = None  # the same moment on the monotonic clock
        # When this process saw a sub-run start ("first") or finish ("finished"), on the monotonic
        # clock: settle waits are measured from these (from the wall stamps of state.json only for
        # moments an earlier watcher saw).
        self._mono_seen: Dict[Tuple[str, int], float] = {}
        self.delivery_failed = False
        self._stop_signal: Optional[int] = None
        self.metrics = MetricsWriter(settings.metrics_dir, self.build, clock, self.journal)

    # ---------------------------------------------------------------- journal
    def _say(self, line: str) -> None:
        """One plain line on the log stream (the unit's journal), webhook redacted."""
        try:
            self.log_stream.write("{0}: {1}\n".format(self.build, redact(line, [self.settings.webhook])))
            self.log_stream.flush()
        except (OSError, ValueError):
            pass

    def journal(self, event: str, message: str, **fields: Any) -> None:
        text = redact(message, [self.settings.webhook])
        self._say(text)
        self.store.event(event, message=text, **fields)

    # ---------------------------------------------------------------- state
    def _load_state(self) -> None:
        """The run's state from state.json (a corrupt one was set aside and journalled), or a new run."""
        loaded = self.store.load_state()
        if loaded is None or loaded.build_name != self.build:
            loaded = RunState.new(self.build, self.settings.categorized, self.settings.metadata, epoch=self.clock())
        if loaded.created_epoch is None:
            loaded.created_epoch = self.clock()
        self.state = loaded

    def save(self) -> None:
        self._dirty = False
        current = dict(self.state.to_dict(), updated_at=None)
        if current == self._saved:
            return
        self.store.save_state(self.state)
        self._saved = current
        self.metrics.update(self.state)

    def mark_dirty(self) -> None:
        self._dirty = True

    def set_phase(self, phase: str) -> None:
        """The watcher's phase, written at once (the launch waits on it)."""
        self.state.set_phase(phase)
        self.save()

    def _subrun_entry(self, index: int) -> SubrunEntry:
        entry, created = self.state.entry(index)
        if created:
            self._dirty = True
        return entry

    @property
    def runner_over(self) -> bool:
        return self.runner is not None and self.runner.over

    # ---------------------------------------------------------------- evidence
    def read_log(self) -> bool:
        """Feed the parser what the log holds now, for at most :data:`READ_BUDGET` seconds."""
        before, before_mono = self.clock(), self.monotonic()
        got = self.follower.read(READ_BUDGET)
        if not got:  # what the log holds later was written after this
            self._caught_up_at, self._caught_up_mono = before, before_mono
        self.follower.save()
        return got

    def runs(self) -> List[CypressRun]:
        """The runs found so far, each with its index for good (see :class:`.follow.LogFollower`)."""
        return self.follower.runs()

    # ---------------------------------------------------------------- sub-runs
    def track_subruns(self, live: bool) -> None:
        """Note when each sub-run was seen starting and finishing. One first found in the log read at
        start-up (``live`` False) was not seen starting: it never gets a ``first_seen`` later either.
        A sub-run first found now started after the last read that found the log's end: that is its
        ``first_seen`` (a watcher busy posting, or slowed by load, reads its start late)."""
        now, now_mono = self.clock(), self.monotonic()
        started = self._caught_up_at if self._caught_up_at is not None else now
        started_mono = self._caught_up_mono if self._caught_up_mono is not None else now_mono
        for run in self.runs():
            entry = self._subrun_entry(run.index)
            if not live and entry.first_seen is None and not entry.seen_late:
                entry.seen_late = True
                self._dirty = True
            if live and entry.first_seen is None and not entry.seen_late:
                entry.first_seen = started
                self._mono_seen[("first", run.index)] = started_mono
                self._dirty = True
            if run.finished and not entry.finished_seen:
                entry.finished_seen = now
                self._mono_seen[("finished", run.index)] = now_mono
                self._dirty = True

    def _waited(self, moment: str, index: int, stamp: Optional[float]) -> Optional[float]:
        """Seconds since sub-run ``index`` was seen at ``moment`` ("first", "finished"): on the
        monotonic clock when this process saw it, else from its wall stamp (never negative)."""
        seen = self._mono_seen.get((moment, index))
        if seen is not None:
            return self.monotonic() - seen
        return None if stamp is None else max(0.0, self.clock() - float(stamp))

    def consider_subruns(self) -> None:
        """Categorized: finalize every sub-run whose end is known and whose artifacts settled.

        A sub-run is over when a later one started (or the runner ended). The last sub-run, even
        with its (Run Finished) table, waits for the runner to go on or exit, because the parent's
        exit status bears on it; if the runner stays silent for ``settle_max`` seconds it is
        posted without it.
        """
        runs = self.runs()
        if not runs:
            return
        self.follower.save()  # every run's index is durable before one is decided
        pending = []
        last = len(runs) - 1
        for pos, run in enumerate(runs):
            entry = self._subrun_entry(run.index)
            if entry.finalized:
                continue
            if self.runner_over:
                pending.append(run.index)
                continue
            finished = self._waited("finished", run.index, entry.finished_seen) if entry.finished_seen else None
            if pos < last:
                after = runs[pos + 1].index
                over = self._subrun_entry(after).first_seen
                waited = self._waited("first", after, over) if over else finished
                waited = self.settings.settle_max if waited is None else waited
                if waited >= self.settings.settle_max or self._hosts_quiet(run.index):
                    pending.append(run.index)
            elif run.finished and finished is not None and finished >= self.settings.settle_max:
                pending.append(run.index)
        if not pending:
            return
        verdict = decide(self.evidence())
        by_index = {s.index: s for s in verdict.subruns}
        total = len(runs) if self.runner_over else 0
        for index in pending:
            sub = by_index.get(index)
            if sub is None:
                continue
            self.finalize(verdict, sub, total)

    # ---------------------------------------------------------------- end states
    def finish(self, state: Optional[str] = None, reasons: Optional[List[str]] = None) -> int:
        """Decide the request, finalize what is left, write the final state; return the exit code."""
        if state != CANCELLED and self.cancel_requested():
            state = CANCELLED
        ev = self.evidence()
        if state == CANCELLED:
            ev.cancelled = True
        elif state == HUNG:
            ev.hung = True
        verdict = decide(ev)
        if state == CANCELLED or state == HUNG:
            verdict.state = state
        for sub in verdict.subruns:
            entry = self._subrun_entry(sub.index)
            if entry.finalized:
                continue
            if not self.settings.categorized:
                sub.state = verdict.state
                if verdict.state not in POSTED_STATES and sub.result == "PASS":
                    sub.result = UNKNOWN
            if state in (CANCELLED, HUNG):
                sub.state = state
            self.finalize(verdict, sub, len(verdict.subruns))
        self.tell_request(verdict)
        self.state.run_state = verdict.state
        self.state.result = verdict.result
        self.state.reasons = list(verdict.reasons) + list(reasons or [])
        self.state.ended_at = utc_now()
        self.state.runner.exit = self.runner_exit().to_dict()
        self.state.count_deliveries()
        self.set_phase(PHASE_DELIVERY_FAILED if self.delivery_failed else PHASE_DONE)
        self.journal("run-ended", "run {0}: {1} / {2}".format(self.build, verdict.state, verdict.result),
                     state=verdict.state, result=verdict.result, reasons=self.state.reasons)
        return EXIT_DELIVERY_FAILED if self.delivery_failed else EXIT_OK

    # ---------------------------------------------------------------- main
    def runner_exit(self) -> ExitInfo:
        return self.runner.exit if self.runner is not None else ExitInfo()

    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._stop_signal = signum

    def _start(self) -> None:
        """Load the state, record this watcher and how the runner is followed."""
        self.store.ensure()
        self._load_state()
        if self.settings.runner_unit is None and not self.settings.runner_pid:
            self.settings.runner_unit = self.settings.paths.runner_unit
        self.state.runner.unit = self.settings.runner_unit
        pid = os.getpid()
        self.state.watcher = WatcherInfo(pid=pid, phase=PHASE_STARTING, started_at=utc_now(),
                                         pid_start_time=start_time(pid))
        self.save()
        self.runner = RunnerTracker(self.store, self.state, self.journal, self.monotonic,
                                    self.settings.runner_start_timeout, systemd=self.systemd,
                                    unit=self.settings.runner_unit, pid=self.settings.runner_pid, changed=self.mark_dirty)
        self.journal("watcher-start", "watching build {0} (state {1})".format(self.build, self.store.paths.dir),
                     categorized=self.settings.categorized)

    def _finish_delivery_only(self) -> int:
        """A run that had already ended: only finish its deliveries."""
        self.resume_deliveries()
        self.state.count_deliveries()
        failed = any(e.delivery == POST_FAILED for e in self.state.subruns)
        self.set_phase(PHASE_DELIVERY_FAILED if failed else PHASE_DONE)
        self.journal("already-ended", "run already ended ({0}); nothing left to watch".format(self.state.run_state))
        return EXIT_DELIVERY_FAILED if failed else EXIT_OK

    def run(self) -> int:
        self._start()
        if self.state.terminal:
            return self._finish_delivery_only()
        # Ready first, catch up after: the old text (rotated files too) is read in slices by the loop,
        # and sub-runs found before it reached the log's end were not seen live.
        self.follower.prepare(self.run_start())
        self._tracker().prepare()
        self.set_phase(PHASE_WATCHING)
        sdnotify.ready(self.environ)
        self.resume_deliveries()
        self.journal("watcher-ready", "ready: following {0}".format(
            self.settings.runner_unit or "PID {0}".format(self.settings.runner_pid)))
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        try:
            return self._loop()
        finally:
            self.follower.close()
            if self.runner is not None:
                self.runner.close()

    def _loop(self) -> int:
        runner = self._tracker()
        main_exited = False
        while True:
            code = self._poll(runner, main_exited)
            if code is not None:
                return code
            main_exited = runner.wait(self.settings.poll_interval)

    def _tracker(self) -> RunnerTracker:
        if self.runner is None:
            raise RuntimeError("the watcher has not started")
        return self.runner

    def cancel_requested(self) -> bool:
        """True when the cancellation marker exists now (read afresh: a cancel writes it before it
        stops anything, so a runner found ended after it was written ended because of it)."""
        return self.store.cancel_marker() is not None

    def _finish_cancelled(self) -> int:
        self.journal("cancelled", "cancellation marker found: nothing more will be posted")
        return self.finish(CANCELLED)

    def _poll(self, runner: RunnerTracker, main_exited: bool) -> Optional[int]:
        """One look at the run; the exit code once the watch is over."""
        if self.cancel_requested():
            return self._finish_cancelled()
        if self._stop_signal is not None:
            # Stopped from outside (systemctl stop) without a cancellation: leave the state as it is,
            # so a new watcher of this build resumes it.
            self.set_phase(PHASE_STOPPED)
            self.journal("watcher-stopped", "stopped by signal {0} while the run goes on".format(self._stop_signal))
            return EXIT_OK
        live = self.follower.caught_up
        if self.read_log():
            self.track_subruns(live=live)
        if runner.poll(main_exited):
            live = self.follower.caught_up
            while self.read_log():
                pass
            self.follower.finish()
            self.track_subruns(live=live)
            if self.cancel_requested():  # the marker may have come after this poll's first look
                return self._finish_cancelled()
            if self.settings.categorized:
                self.consider_subruns()
            return self.finish()
        if self.settings.categorized:
            self.consider_subruns()
        if self.check_hang():
            self.journal("hung", "no progress (log, CPU, artifacts) for {0:.0f} s: HUNG".format(
                self.settings.hang_timeout))
            return self.finish(HUNG)
        if self._dirty:
            self.save()
        self.metrics.update(self.state)  # the heartbeat (bounded: written only when due)
        return None

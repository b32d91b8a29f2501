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
from ..evidence.inventory import read_inventory
from ..evidence.junit import scan_junit_dir
from ..evidence.reporter import artifact_signature, scan_reporter_dir
from ..settings import Settings
from ..runpaths import RUNNER_UNIT
from ..evidence.cypress_log import CypressLogParser
from ..decision.channel import SUBRUN, Told, request_post_needed
from ..decision.rules import Evidence, decide, hosts_of_run
from ..delivery.client import MattermostClient
from ..delivery.outbox import deliver_once
from ..errors import EXIT_DELIVERY_FAILED, EXIT_OK, InputError
from ..durable import utc_now
from ..evidence.logfile import tail_lines
from ..store.metrics import MetricsWriter
from ..models import CANCELLED, HUNG, POSTED_STATES, UNKNOWN, CypressRun, ExitInfo, Message, RunVerdict, SubrunVerdict
from ..host.process import start_time
from ..message.attachment import build_post
from ..message.text import add_duplicate_note
from ..message.request import RequestFacts, build_request_post
from ..safetext import redact
from ..store.runstate import (
    NOT_POSTED, PENDING, PHASE_DELIVERING, PHASE_DELIVERY_FAILED, PHASE_DONE, PHASE_STARTING, PHASE_STOPPED,
    PHASE_WATCHING, POST_FAILED, SENT, RequestEntry, RunState, SubrunEntry, WatcherInfo,
)
from ..store.records import SubrunRecord
from ..store.runstore import REQUEST_KEY, RunStore, subrun_key
from .follow import LogFollower, other_logs
from .history import History
from ..host.systemd import CommandRunner, Systemd, subprocess_runner
from ..host.tracker import RunnerTracker


READ_BUDGET = 0.5  # seconds of reading per poll: a long catch-up never holds the loop


class Watcher:
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

    def inventory(self) -> Dict[str, Any]:
        path = self.settings.inventory_path()
        try:
            mtime = os.stat(path).st_mtime
        except OSError:
            return self._inventory
        if mtime != self._inventory_mtime:
            try:
                self._inventory = read_inventory(path)
            except InputError as exc:
                self.journal("inventory-unreadable", str(exc))
                self._inventory = {}
            self._inventory_mtime = mtime
        return self._inventory

    def run_start(self) -> float:
        """When the run started: state.json's ``created_epoch``, or the runner's start when that is
        earlier (a corrupt state.json set aside gave the run a new, later one: the reporter artifacts
        written before it must still count)."""
        created = float(self.state.created_epoch or self.started_at)
        runner = self.runner.started_epoch() if self.runner is not None else None
        if runner is not None and runner < created:
            self.journal("run-start", "the run's start is its runner's start, {0:.1f} s before the one "
                         "state.json had".format(created - runner))
            self.state.created_epoch = created = runner
            self._dirty = True
        return created

    def not_before(self, index: int) -> float:
        """The earliest time a file of sub-run ``index`` may have been written (as :meth:`evidence` has it)."""
        prev = self.run_start()
        for entry in self.state.subruns:
            prev = float(entry.first_seen) if entry.first_seen else prev
            if entry.index == index:
                break
        return prev

    def evidence(self) -> Evidence:
        created = self.run_start()
        not_before: Dict[int, float] = {}
        prev = created
        for entry in self.state.subruns:
            seen = entry.first_seen
            not_before[entry.index] = float(seen) if seen else prev
            prev = not_before[entry.index]
        reporter_dir = self.settings.reporter_dir_path()
        artifacts = scan_reporter_dir(reporter_dir, self.settings, since=created - 2.0)
        junit = scan_junit_dir(self.settings.junit_dir_path(), self.settings.junit_glob, since=created - 2.0)
        self.last_junit = junit  # what the history takes its per-test results from (read once)
        return Evidence(
            runs=self.runs(), preamble_problems=list(self.parser.preamble_problems),
            preamble_fatal=self.parser.preamble_fatal,
            artifacts=artifacts, junit=junit, inventory=self.inventory(), exit=self.runner_exit(),
            runner_over=self.runner_over, log_exists=os.path.exists(self.settings.runner_log_path()),
            cancelled=False, hung=False, categorized=self.settings.categorized,
            expected_hosts=list(self.settings.expected_hosts), host_pattern=self.settings.host_pattern,
            not_before=not_before, run_not_before=created,
        )

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

    def _existing_key(self, index: int) -> Optional[str]:
        prefix = "{0:03d}-".format(index)
        for record in self.store.outbox_list():
            if record.key.startswith(prefix):
                return record.key
        return None

    def finalize(self, verdict: RunVerdict, sub: SubrunVerdict, total: int) -> None:
        entry = self._subrun_entry(sub.index)
        if entry.finalized:
            return
        name = entry.name or sub.name
        sub.name = name
        key = entry.key or self._existing_key(sub.index) or subrun_key(sub.index, name)
        if sub.state in POSTED_STATES and self.cancel_requested():
            sub.state = CANCELLED  # a cancelled run is never posted, whenever the marker came
        entry.name, entry.state, entry.result, entry.key = name, sub.state, sub.result, key
        entry.finalized, entry.finalized_at = True, utc_now()
        post = sub.state in POSTED_STATES
        if post and self._posted() >= self.settings.max_posts:
            post, entry.held = False, True  # the request post counts it (the post cap: docs/decision-rules.md)
        changes = self.history.record(self.build, self.state.created_at, verdict, sub, self.runs(), self.inventory(),
                                      self.not_before(sub.index), self.run_start() - 2.0, self.last_junit)
        entry.tests = changes.tallies() if changes is not None and changes.known else None
        payload = build_post(verdict, sub, self.settings, self.build, total, changes=changes) if post else None
        self.store.save_subrun(SubrunRecord(
            index=sub.index, name=name, key=key, verdict=sub.to_dict(), posted=post, payload=payload,
            text=payload["text"] if payload else None, decided_at=utc_now(),
            changes=changes.to_dict() if changes is not None else None))
        self.journal("subrun-decided", "sub-run {0} {1}: {2} / {3}{4}".format(
            sub.index + 1, name, sub.state, sub.result,
            " (not posted: {0} posts already)".format(self.settings.max_posts) if entry.held
            else "" if post else " (not posted)"),
            index=sub.index, state=sub.state, result=sub.result, reasons=sub.reasons)
        entry.delivery = PENDING if post else NOT_POSTED
        self.save()
        if post:
            self.deliver_subrun(entry, payload or "")

    def _posted(self) -> int:
        """Sub-run posts of this request so far (sent, being sent, or kept for a resend)."""
        return sum(1 for e in self.state.subruns if e.finalized and e.delivery not in (None, NOT_POSTED))

    def deliver(self, entry: Any, message: Message, meta: Dict[str, Any], what: str) -> None:
        """Post ``message`` under ``entry.key`` exactly once; ``entry.delivery`` says how it went."""
        if self.cancel_requested():
            self.journal("delivery", "{0} not posted: the run was cancelled".format(what))
            entry.delivery = NOT_POSTED
            self.save()
            return
        self.set_phase(PHASE_DELIVERING)
        limit = self.settings.max_post_chars
        record = deliver_once(self.store, self.client, entry.key or "", message, meta,
                              journal=lambda m: self.journal("delivery", m),
                              render_duplicate=lambda t: add_duplicate_note(t, limit))
        entry.delivery = record.status
        if entry.delivery != SENT:
            self.delivery_failed = True
        self.state.set_phase(PHASE_WATCHING)
        self.state.count_deliveries()
        self.save()

    def deliver_subrun(self, entry: SubrunEntry, message: Message) -> None:
        self.deliver(entry, message, {"subrun_index": entry.index, "subrun_name": entry.name},
                     "sub-run {0} {1}".format(entry.index + 1, entry.name))

    def resume_deliveries(self) -> None:
        """Finish what a killed watcher left: decided sub-runs not yet SENT."""
        for entry in self.state.subruns:
            if not entry.finalized or entry.delivery in (SENT, NOT_POSTED, POST_FAILED):
                continue
            record = self.store.load_subrun(entry.index, entry.name)
            if not record or not record.posted:
                continue
            self.journal("delivery-resume", "resuming delivery of sub-run {0} {1}".format(entry.index + 1, entry.name))
            self.deliver_subrun(entry, record.message() or "")
        request = self.state.request
        if request is not None and request.delivery not in (SENT, NOT_POSTED, POST_FAILED):
            record = self.store.outbox_get(request.key)
            message = record.message() if record else None
            if message is not None:
                self.journal("delivery-resume", "resuming delivery of the request post")
                self.deliver(request, message, {"request": True}, "the request post")

    def _hosts_quiet(self, run_index: int) -> bool:
        """True when the reporter artifacts of this sub-run's hosts have settled.

        Settled: none written for ``settle_quiet`` seconds and none still saying RUN. Scans are
        throttled (the next sub-run may be writing artifacts all the time).
        """
        now, now_mono = self.clock(), self.monotonic()
        cached = self._quiet_cache.get(run_index)
        if cached is not None and now_mono - cached[0] < max(self.settings.poll_interval, 0.5):
            return cached[1]
        run = next((r for r in self.runs() if r.index == run_index), None)
        hosts = set(hosts_of_run(run, self.inventory(), self.settings.host_pattern)) if run else set()
        entry = self._subrun_entry(run_index)
        since = entry.first_seen or self.run_start()
        newest = 0.0
        running = False
        for art in scan_reporter_dir(self.settings.reporter_dir_path(), self.settings,
                                     since=float(since) - 2.0 if since else None):
            if art.host in hosts:
                newest = max(newest, art.mtime)
                running = running or (art.status or "").upper() == "RUN"
        quiet = not running and now - newest >= self.settings.settle_quiet
        self._quiet_cache[run_index] = (now_mono, quiet)
        return quiet

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

    def tell_request(self, verdict: RunVerdict) -> None:
        """The request post, when the sub-run posts do not say how the request ended (exactly once)."""
        if self.state.request is not None:  # decided by a watcher that stopped before the end
            self.resume_deliveries()
            return
        subruns = [e for e in self.state.subruns if e.finalized]
        told = [Told(SUBRUN, e.state, e.result) for e in subruns if e.delivery not in (None, NOT_POSTED)]
        held = [e for e in subruns if e.held]
        spoke = any(run.started for run in self.runs())
        if not request_post_needed(verdict.state, verdict.result, told, not_posted=len(held), cypress_spoke=spoke):
            return
        names = {e.index: e.name or "" for e in subruns}
        facts = RequestFacts(
            build_name=self.build, state=verdict.state, result=verdict.result, categorized=self.settings.categorized,
            exit=verdict.exit, reasons=list(verdict.reasons) or self._why_request(verdict),
            posted=[(e.index, e.name or "", e.state, e.result) for e in subruns if e.delivery not in (None, NOT_POSTED)],
            held=[(e.index, e.name or "", e.state, e.result) for e in held],
            lost=[(r.index, names.get(r.index) or r.label or "", r.text_lost or "") for r in self.runs() if r.text_lost],
            log_tail=tail_lines(self.settings.runner_log_path()), max_posts=self.settings.max_posts)
        payload = build_request_post(facts, self.settings)
        self.state.request = RequestEntry(key=REQUEST_KEY, state=verdict.state, result=verdict.result,
                                          delivery=PENDING, decided_at=utc_now())
        self.journal("request-decided", "the request post: {0} / {1} (the sub-run posts do not say so)".format(
            verdict.state, verdict.result), state=verdict.state, result=verdict.result)
        self.save()
        self.deliver(self.state.request, payload, {"request": True}, "the request post")

    @staticmethod
    def _why_request(verdict: RunVerdict) -> List[str]:
        """Reasons for a request whose own reasons are empty: what its sub-runs say."""
        return [r for sub in verdict.subruns for r in sub.reasons][:5]

    def check_hang(self) -> bool:
        now = self.monotonic()
        if now - self._last_hang_check < self.settings.hang_check_interval:
            return False
        self._last_hang_check = now
        cpu = self.runner.cpu_seconds() if self.runner is not None else None
        sig = (self.follower.total, cpu, artifact_signature(self.settings.reporter_dir_path()))
        if sig != self._progress_sig:
            self._progress_sig = sig
            self._last_progress = now
            return False
        started = self.runner is not None and self.runner.started
        return started and now - self._last_progress >= self.settings.hang_timeout

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
            self.settings.runner_unit = RUNNER_UNIT.format(self.build)
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

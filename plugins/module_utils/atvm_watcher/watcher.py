# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watch loop: follow one run until it is over, post each finished (sub-)run exactly once.

The loop sleeps on the runner's PID (pidfd) with a short timeout, so it wakes at once when the
runner exits and within ``poll_interval`` when the log grows. Everything it decides is written to
``state.json``, ``subruns/`` and ``events.jsonl`` before anything is posted, so a restarted watcher
resumes where the killed one stopped.
"""
from __future__ import annotations

import datetime
import json
import os
import signal
import sys
import time
from typing import Any, Callable, Dict, List, Optional, TextIO

from . import sdnotify
from .artifacts import artifact_signature, read_inventory, scan_junit_dir, scan_reporter_dir
from .config import RUNNER_UNIT, Settings, redact
from .cypress_log import CypressLogParser
from .decide import Evidence, decide, hosts_of_run
from .delivery import MattermostClient, deliver_once
from .errors import InputError
from .logreader import LogReader
from .models import (
    CANCELLED, HUNG, POSTED_STATES, RUNNING, TERMINAL_STATES, UNKNOWN,
    ExitInfo, RunVerdict, SubrunVerdict,
)
from .process import (
    CommandRunner, ProcessWatch, exit_info_from_record, exit_info_from_unit, merge_exit, subprocess_runner,
    unit_properties,
)
from .render import add_duplicate_note, render_subrun
from .state import RunStore, load_json_or_quarantine, subrun_key

EXIT_OK = 0
EXIT_DELIVERY_FAILED = 3
SCHEMA = 1


def utcnow() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Watcher:
    """Watches one build. ``run()`` returns the process exit code."""

    def __init__(self, settings: Settings, run_command: CommandRunner = subprocess_runner,
                 clock: Callable[[], float] = time.time, log_stream: TextIO = sys.stderr,
                 client: Optional[MattermostClient] = None, environ: Optional[Dict[str, str]] = None) -> None:
        self.settings = settings
        self.build = settings.build_name or ""
        self.store = RunStore(settings.state_dir())
        self.run_command = run_command
        self.clock = clock
        self.log_stream = log_stream
        self.environ = environ if environ is not None else dict(os.environ)
        self.client = client or MattermostClient(
            settings.webhook or "", channel=settings.channel, username=settings.username,
            http_timeout=settings.http_timeout, deadline=settings.delivery_deadline)
        self.reader = LogReader(settings.runner_log_path())
        self.parser = CypressLogParser(settings.marker_regex)
        self.state: Dict[str, Any] = {}
        self._saved = ""
        self._dirty = False  # state changed since the last save (the poll loop saves only then)
        self.proc: Optional[ProcessWatch] = None
        self.exit = ExitInfo()
        self.runner_over = False
        self.runner_started = False
        self.started_at = clock()
        self._last_unit_query = 0.0
        self._inventory: Dict[str, Any] = {}
        self._inventory_mtime: Optional[float] = None
        self._progress_sig: Any = None
        self._last_progress = clock()
        self._last_hang_check = 0.0
        self._quiet_cache: Dict[int, Any] = {}
        self.delivery_failed = False
        self._stop_signal: Optional[int] = None

    # ---------------------------------------------------------------- journal
    def journal(self, event: str, message: str, **fields: Any) -> None:
        text = redact(message, [self.settings.webhook])
        try:
            self.log_stream.write("{0}: {1}\n".format(self.build, text))
            self.log_stream.flush()
        except (OSError, ValueError):
            pass
        self.store.event(event, message=text, **fields)

    # ---------------------------------------------------------------- state
    def _load_state(self) -> None:
        path = os.path.join(self.store.state_dir, "state.json")
        loaded = load_json_or_quarantine(path, lambda m: self.journal("state-corrupt", m))
        now = utcnow()
        if not loaded or loaded.get("build_name") != self.build:
            loaded = {
                "schema": SCHEMA, "build_name": self.build, "run_state": RUNNING, "result": "RUN",
                "categorized": self.settings.categorized, "created_at": now, "created_epoch": self.clock(),
                "ended_at": None, "metadata": dict(self.settings.metadata), "subruns": [], "reasons": [],
                "runner": {}, "watcher": {}, "delivery": {"sent": 0, "failed": 0, "pending": 0},
            }
        loaded.setdefault("subruns", [])
        loaded.setdefault("created_epoch", self.clock())
        self.state = loaded

    def save(self) -> None:
        self.state["updated_at"] = utcnow()
        self._dirty = False
        blob = json.dumps({k: v for k, v in self.state.items() if k != "updated_at"}, sort_keys=True, default=str)
        if blob == self._saved:
            return
        self.store.save_state(self.state)
        self._saved = blob

    def _subrun_entry(self, index: int) -> Dict[str, Any]:
        for entry in self.state["subruns"]:
            if entry.get("index") == index:
                return entry
        entry = {"index": index, "name": None, "state": RUNNING, "result": "RUN", "finalized": False,
                 "key": None, "delivery": None, "first_seen": None}
        self.state["subruns"].append(entry)
        self.state["subruns"].sort(key=lambda e: e["index"])
        self._dirty = True
        return entry

    # ---------------------------------------------------------------- runner
    def _attach_pid(self, pid: int) -> None:
        if self.proc is None or self.proc.pid != pid:
            if self.proc is not None:
                self.proc.close()
            self.proc = ProcessWatch(pid)
            self.runner_started = True
            self.state.setdefault("runner", {})["pid"] = pid
            self._dirty = True
            self.journal("runner-attached", "watching runner PID {0}".format(pid), pid=pid)

    def _exit_record(self) -> Optional[ExitInfo]:
        return exit_info_from_record(self.store.exit_record())

    def check_runner(self, woke: bool) -> None:
        """Update ``runner_over`` / ``exit``; cheap unless the runner just exited."""
        if self.runner_over:
            return
        now = self.clock()
        unit = self.settings.runner_unit
        if self.settings.runner_pid and not unit:
            if self.proc is None:
                self._attach_pid(self.settings.runner_pid)
            if self.proc is None:
                return
            if self.proc.main_alive():
                return
            record = self.store.exit_record() or {}
            if isinstance(record.get("pid"), int) and record["pid"] > 1:
                self.proc.add_session(record["pid"])  # the command's own session
            if self.proc.alive_pids():
                return  # orphaned Cypress children still alive: the request is not over
            record = self._exit_record()
            self.exit = record or ExitInfo(known=False, running=False, source="pid",
                                           detail="no exit record (the runner entry did not record its end)")
            self._runner_ended()
            return
        if not unit:
            return
        main_dead = self.proc is not None and not self.proc.main_alive()
        # Attached to the main PID, its pidfd wakes us at its exit: systemd is only asked now and then.
        interval = 1.0 if self.proc is None else 30.0
        if not (woke or main_dead or now - self._last_unit_query >= interval):
            return
        self._last_unit_query = now
        props = unit_properties(unit, self.run_command)
        info, started = exit_info_from_unit(props)
        if info.running:
            pid = int(props.get("MainPID", "0") or 0)
            if pid > 0:
                self._attach_pid(pid)
            self.runner_started = True
            return
        if not started:
            # systemd unloads a unit that ended cleanly, so it reads as never started: the runner
            # entry's exit record (of this run: old state is archived at launch) says it ran.
            record = self._exit_record()
            if record is not None and (self.proc is None or not self.proc.main_alive()):
                self.exit = merge_exit(info, record)
                self._runner_ended()
                return
        if not started and not self.runner_started:
            if now - self.started_at > self.settings.runner_start_timeout:
                self.exit = ExitInfo(known=False, running=False, source="systemd", detail="never started")
                self.journal("runner-never-started", "runner unit {0} did not start within {1:.0f} s".format(
                    unit, self.settings.runner_start_timeout))
                self._runner_ended()
            return
        if not started and self.runner_started:
            if self.proc is not None and not self.proc.main_alive():
                self.exit = ExitInfo(known=False, running=False, source="systemd",
                                     detail="unit unloaded without an exit record")
                self._runner_ended()
            return
        self.exit = merge_exit(info, self._exit_record())
        self._runner_ended()

    def _runner_ended(self) -> None:
        self.runner_over = True
        self.state.setdefault("runner", {})["exit"] = self.exit.to_dict()
        self.journal("runner-ended", "runner ended: exit code {0}, signal {1}, {2}".format(
            self.exit.exit_code, self.exit.signal, self.exit.detail or self.exit.source), exit=self.exit.to_dict())

    # ---------------------------------------------------------------- evidence
    def read_log(self) -> bool:
        data = self.reader.poll()
        if self.reader.restarted:
            self.journal("log-restarted", "runner log was truncated or replaced: reading it again from the start")
            self.parser.reset()
        if data:
            self.parser.feed(data)
            return True
        return False

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

    def evidence(self) -> Evidence:
        created = float(self.state.get("created_epoch") or self.started_at)
        not_before: Dict[int, float] = {}
        prev = created
        for entry in self.state["subruns"]:
            seen = entry.get("first_seen")
            not_before[entry["index"]] = float(seen) if seen else prev
            prev = not_before[entry["index"]]
        reporter_dir = self.settings.reporter_dir_path()
        artifacts = scan_reporter_dir(reporter_dir, self.settings, since=created - 2.0)
        junit = scan_junit_dir(self.settings.junit_dir_path(), self.settings.junit_glob, since=created - 2.0)
        return Evidence(
            runs=list(self.parser.runs), preamble_problems=list(self.parser.preamble_problems),
            preamble_fatal=self.parser.preamble_fatal,
            artifacts=artifacts, junit=junit, inventory=self.inventory(), exit=self.exit,
            runner_over=self.runner_over, log_exists=os.path.exists(self.settings.runner_log_path()),
            cancelled=False, hung=False, categorized=self.settings.categorized,
            expected_hosts=list(self.settings.expected_hosts), host_pattern=self.settings.host_pattern,
            not_before=not_before, run_not_before=created,
        )

    # ---------------------------------------------------------------- sub-runs
    def track_subruns(self, live: bool) -> None:
        now = self.clock()
        for run in self.parser.runs:
            entry = self._subrun_entry(run.index)
            if entry.get("first_seen") is None and live:
                entry["first_seen"] = now
                self._dirty = True
            if run.finished and not entry.get("finished_seen"):
                entry["finished_seen"] = now
                self._dirty = True

    def _existing_key(self, index: int) -> Optional[str]:
        prefix = "{0:03d}-".format(index)
        for record in self.store.outbox_list():
            if str(record.get("key", "")).startswith(prefix):
                return record["key"]
        return None

    def finalize(self, verdict: RunVerdict, sub: SubrunVerdict, total: int) -> None:
        entry = self._subrun_entry(sub.index)
        if entry.get("finalized"):
            return
        name = entry.get("name") or sub.name
        sub.name = name
        key = entry.get("key") or self._existing_key(sub.index) or subrun_key(sub.index, name)
        entry.update({"name": name, "state": sub.state, "result": sub.result, "key": key,
                      "finalized": True, "finalized_at": utcnow()})
        post = sub.state in POSTED_STATES
        text = render_subrun(verdict, sub, self.settings, self.build, total) if post else None
        record = {"schema": SCHEMA, "index": sub.index, "name": name, "key": key, "verdict": sub.to_dict(),
                  "posted": post, "text": text, "decided_at": utcnow()}
        self.store.save_subrun(sub.index, name, record)
        self.journal("subrun-decided", "sub-run {0} {1}: {2} / {3}{4}".format(
            sub.index + 1, name, sub.state, sub.result, "" if post else " (not posted)"),
            index=sub.index, state=sub.state, result=sub.result, reasons=sub.reasons)
        entry["delivery"] = "PENDING" if post else "NOT_POSTED"
        self.save()
        if post:
            self.deliver(entry, text or "")

    def deliver(self, entry: Dict[str, Any], text: str) -> None:
        self.state.setdefault("watcher", {})["phase"] = "delivering"
        self.save()
        meta = {"subrun_index": entry["index"], "subrun_name": entry["name"]}
        limit = self.settings.max_post_chars
        record = deliver_once(self.store, self.client, entry["key"], text, meta,
                              journal=lambda m: self.journal("delivery", m),
                              render_duplicate=lambda t: add_duplicate_note(t, limit))
        entry["delivery"] = record.get("status")
        if record.get("status") != "SENT":
            self.delivery_failed = True
        self.state["watcher"]["phase"] = "watching"
        self._count_deliveries()
        self.save()

    def _count_deliveries(self) -> None:
        counts = {"sent": 0, "failed": 0, "pending": 0}
        for entry in self.state["subruns"]:
            status = entry.get("delivery")
            if status == "SENT":
                counts["sent"] += 1
            elif status == "POST_FAILED":
                counts["failed"] += 1
            elif status in ("PENDING", "SENDING"):
                counts["pending"] += 1
        self.state["delivery"] = counts

    def resume_deliveries(self) -> None:
        """Finish what a killed watcher left: decided sub-runs not yet SENT."""
        for entry in self.state["subruns"]:
            if not entry.get("finalized") or entry.get("delivery") in ("SENT", "NOT_POSTED", "POST_FAILED"):
                continue
            record = self.store.load_subrun(entry["index"], entry["name"])
            if not record or not record.get("posted"):
                continue
            self.journal("delivery-resume", "resuming delivery of sub-run {0} {1}".format(entry["index"] + 1, entry["name"]))
            self.deliver(entry, record.get("text") or "")

    def _hosts_quiet(self, run_index: int) -> bool:
        """True when the reporter artifacts of this sub-run's hosts have settled.

        Settled: none written for ``settle_quiet`` seconds and none still saying RUN. Scans are
        throttled (the next sub-run may be writing artifacts all the time).
        """
        now = self.clock()
        cached = self._quiet_cache.get(run_index)
        if cached is not None and now - cached[0] < max(self.settings.poll_interval, 0.5):
            return cached[1]
        run = next((r for r in self.parser.runs if r.index == run_index), None)
        hosts = set(hosts_of_run(run, self.inventory(), self.settings.host_pattern)) if run else set()
        entry = self._subrun_entry(run_index)
        since = entry.get("first_seen") or self.state.get("created_epoch")
        newest = 0.0
        running = False
        for art in scan_reporter_dir(self.settings.reporter_dir_path(), self.settings,
                                     since=float(since) - 2.0 if since else None):
            if art.host in hosts:
                newest = max(newest, art.mtime)
                running = running or (art.status or "").upper() == "RUN"
        quiet = not running and now - newest >= self.settings.settle_quiet
        self._quiet_cache[run_index] = (now, quiet)
        return quiet

    def consider_subruns(self) -> None:
        """Categorized: finalize every sub-run whose end is known and whose artifacts settled.

        A sub-run is over when a later one started (or the runner ended). The last sub-run, even
        with its (Run Finished) table, waits for the runner to go on or exit, because the parent's
        exit status bears on it; if the runner stays silent for ``settle_max`` seconds it is
        posted without it.
        """
        runs = self.parser.runs
        if not runs:
            return
        now = self.clock()
        pending = []
        last = len(runs) - 1
        for pos, run in enumerate(runs):
            entry = self._subrun_entry(run.index)
            if entry.get("finalized"):
                continue
            if self.runner_over:
                pending.append(run.index)
                continue
            if pos < last:
                over_since = self._subrun_entry(runs[pos + 1].index).get("first_seen") or entry.get("finished_seen")
                waited = now - float(over_since) if over_since else self.settings.settle_max
                if waited >= self.settings.settle_max or self._hosts_quiet(run.index):
                    pending.append(run.index)
            elif run.finished and entry.get("finished_seen") and \
                    now - float(entry["finished_seen"]) >= self.settings.settle_max:
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
            if entry.get("finalized"):
                continue
            if not self.settings.categorized:
                sub.state = verdict.state
                if verdict.state not in POSTED_STATES and sub.result == "PASS":
                    sub.result = UNKNOWN
            if state in (CANCELLED, HUNG):
                sub.state = state
            self.finalize(verdict, sub, len(verdict.subruns))
        self.state["run_state"] = verdict.state
        self.state["result"] = verdict.result
        self.state["reasons"] = list(verdict.reasons) + list(reasons or [])
        self.state["ended_at"] = utcnow()
        self.state["runner"]["exit"] = self.exit.to_dict()
        self._count_deliveries()
        self.state["watcher"]["phase"] = "delivery-failed" if self.delivery_failed else "done"
        self.save()
        self.journal("run-ended", "run {0}: {1} / {2}".format(self.build, verdict.state, verdict.result),
                     state=verdict.state, result=verdict.result, reasons=self.state["reasons"])
        return EXIT_DELIVERY_FAILED if self.delivery_failed else EXIT_OK

    def check_hang(self) -> bool:
        now = self.clock()
        if now - self._last_hang_check < self.settings.hang_check_interval:
            return False
        self._last_hang_check = now
        cpu = round(self.proc.tree_cpu_seconds(), 2) if self.proc is not None else None
        sig = (self.reader.offset, cpu, artifact_signature(self.settings.reporter_dir_path()))
        if sig != self._progress_sig:
            self._progress_sig = sig
            self._last_progress = now
            return False
        return self.runner_started and now - self._last_progress >= self.settings.hang_timeout

    # ---------------------------------------------------------------- main
    def _on_signal(self, signum: int, _frame: Any) -> None:
        self._stop_signal = signum

    def run(self) -> int:
        self.store.ensure()
        self._load_state()
        if self.settings.runner_unit is None and not self.settings.runner_pid:
            self.settings.runner_unit = RUNNER_UNIT.format(self.build)
        self.state["runner"]["unit"] = self.settings.runner_unit
        self.state["watcher"] = {"pid": os.getpid(), "phase": "starting", "started_at": utcnow()}
        self.save()
        self.journal("watcher-start", "watching build {0} (state {1})".format(self.build, self.store.state_dir),
                     categorized=self.settings.categorized)
        if self.state.get("run_state") in TERMINAL_STATES:
            self.resume_deliveries()
            self._count_deliveries()
            failed = any(e.get("delivery") == "POST_FAILED" for e in self.state["subruns"])
            self.state["watcher"]["phase"] = "delivery-failed" if failed else "done"
            self.save()
            self.journal("already-ended", "run already ended ({0}); nothing left to watch".format(self.state["run_state"]))
            return EXIT_DELIVERY_FAILED if failed else EXIT_OK
        self.resume_deliveries()
        # Catch up with the log so far (sub-runs found now were not seen live).
        while self.read_log():
            pass
        self.track_subruns(live=False)
        self.state["watcher"]["phase"] = "watching"
        self.save()
        sdnotify.ready(self.environ)
        self.journal("watcher-ready", "ready: following {0}".format(
            self.settings.runner_unit or "PID {0}".format(self.settings.runner_pid)))
        woke = False
        signal.signal(signal.SIGTERM, self._on_signal)
        signal.signal(signal.SIGINT, self._on_signal)
        while True:
            if self._stop_signal is not None and self.store.cancel_marker() is None:
                # Stopped from outside (systemctl stop) without a cancellation: leave the state as it
                # is, so a new watcher of this build resumes it.
                self.state["watcher"]["phase"] = "stopped"
                self.save()
                self.journal("watcher-stopped", "stopped by signal {0} while the run goes on".format(self._stop_signal))
                return EXIT_OK
            if self.store.cancel_marker() is not None:
                self.journal("cancelled", "cancellation marker found: nothing more will be posted")
                return self.finish(CANCELLED)
            grew = self.read_log()
            if grew:
                self.track_subruns(live=True)
            self.check_runner(woke)
            if self.runner_over:
                while self.read_log():
                    pass
                self.parser.finish()
                self.track_subruns(live=True)
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
            if self.proc is not None:
                woke = self.proc.wait(self.settings.poll_interval)
            else:
                time.sleep(self.settings.poll_interval)
                woke = False

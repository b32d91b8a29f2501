# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the watcher knows of a run's evidence now: the inventory, when the run and each sub-run
began, the reporter artifacts and JUnit reports, whether a finished sub-run's artifacts settled.

A part of :class:`.loop.Watcher` (a mixin over its state, settings and follower).
"""
from __future__ import annotations

import os
from typing import Any, Dict

from ..decision.rules import Evidence, hosts_of_run
from ..errors import InputError
from ..evidence.inventory import read_inventory
from ..evidence.junit import scan_junit_dir
from ..evidence.reporter import artifact_signature, scan_reporter_dir


class Gathering:
    """Evidence for the watcher (mixed into :class:`.loop.Watcher`)."""

    # pylint: disable=no-member  # the watcher's attributes: state, settings, runner, journal, ...

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

    def check_hang(self) -> bool:
        """True when nothing progressed (new log bytes, CPU time of the runner's tree, a reporter artifact
        touched) for the hang timeout, on the monotonic clock, since the runner started."""
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

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rules of docs/decision-rules.md: run state and result, per (sub-)run and per host.

Pure functions over already-read evidence: the same code decides for the watcher and for the
offline ``verdict`` command. PASS only when every source agrees; every other outcome says why.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from ..evidence.specs import host_for_spec, is_meta_spec
from .labels import os_mismatch
from ..models import (
    CANCELLED, COMPLETED, FAIL, FAILED, HUNG, MISSING, PASS, RUN, RUNNING, TERMINATED, UNKNOWN,
    Counts, CypressRun, ExitInfo, HostArtifact, HostVerdict, InventoryHost, JUnitReport, RunVerdict,
    SpecRow, SubrunVerdict, safe_name, worst_result,
)

NOT_FINISHED = "no (Run Finished) table: the Cypress run did not finish"
INTERLEAVED = ("the log interleaves the output of several Cypress runs and shows no end of this one: "
               "whether it finished cannot be told from the log")
SLACK_SECONDS = 2.0


@dataclasses.dataclass
class Evidence:
    """Everything the rules look at, already read from files and processes."""

    runs: List[CypressRun]
    preamble_problems: List[str] = dataclasses.field(default_factory=list)
    preamble_fatal: bool = False  # a fatal failure signature before any Cypress run
    artifacts: Optional[List[HostArtifact]] = None  # None: no reporter directory to look at
    junit: List[JUnitReport] = dataclasses.field(default_factory=list)
    inventory: Dict[str, InventoryHost] = dataclasses.field(default_factory=dict)
    exit: ExitInfo = dataclasses.field(default_factory=ExitInfo)
    runner_over: bool = False  # the runner and its process tree are gone (or, offline, the exit is given)
    offline: bool = False  # verdict command: an unknown exit means "decide from the log alone"
    log_exists: bool = True
    cancelled: bool = False
    hung: bool = False
    categorized: bool = False
    expected_hosts: List[str] = dataclasses.field(default_factory=list)
    host_pattern: str = r"(?P<host>[A-Za-z0-9][A-Za-z0-9_-]*)\.(?:cy|spec)\.[cm]?[jt]sx?$"
    not_before: Dict[int, float] = dataclasses.field(default_factory=dict)  # sub-run index -> epoch
    run_not_before: Optional[float] = None  # artifacts older than this belong to an older run


# ------------------------------------------------------------------------------------------------
# hosts of a (sub-)run
# ------------------------------------------------------------------------------------------------


def run_specs(run: CypressRun) -> List[str]:
    """Every spec the run listed or executed, in first-seen order."""
    seen: Dict[str, None] = {}
    for spec in list(run.specs_found) + list(run.specs_run) + [r.spec for r in run.spec_results] + [
            r.spec for r in run.finished_rows]:
        if spec and spec not in seen:
            seen[spec] = None
    if run.current_spec and run.current_spec not in seen:
        seen[run.current_spec] = None
    return list(seen)


def hosts_of_run(run: CypressRun, inventory: Dict[str, InventoryHost], host_pattern: str) -> List[str]:
    hosts: Dict[str, None] = {}
    for spec in run_specs(run):
        if is_meta_spec(spec):
            continue
        host = host_for_spec(spec, list(inventory), host_pattern)
        if host:
            hosts[host] = None
    return list(hosts)


def subrun_name(run: CypressRun, hosts: Sequence[str], inventory: Dict[str, InventoryHost],
                host_pattern: str) -> Tuple[str, Optional[str]]:
    """The sub-run's name and, when the label named another host than the specs, the mismatch."""
    label = run.label
    executed_hosts = list(hosts)
    if label:
        label_host = None
        lowered = label.lower()
        for host in sorted(inventory, key=len, reverse=True):
            if host.lower() in lowered:
                label_host = host
                break
        if label_host is None:
            match = re.search(host_pattern, label + ".cy.ts")
            if match and "host" in match.groupdict() and match.group("host") in inventory:
                label_host = match.group("host")
        if label_host is not None and executed_hosts and label_host not in executed_hosts:
            inferred = safe_name("+".join(executed_hosts))
            return inferred, "label {0!r} names host {1} but the specs ran for {2}".format(
                label, label_host, ", ".join(executed_hosts))
        os_word = os_mismatch(label, executed_hosts, inventory) if label_host is None else None
        if os_word is not None:
            return safe_name("+".join(executed_hosts)), "label {0!r} names {1} but the specs ran for {2}".format(
                label, os_word, ", ".join(executed_hosts))
        return safe_name(label), None
    if executed_hosts:
        return safe_name("+".join(executed_hosts)), None
    return "run-{0}".format(run.index + 1), None


# ------------------------------------------------------------------------------------------------
# per-source verdicts
# ------------------------------------------------------------------------------------------------


def _artifact_results(artifact: HostArtifact, reasons: List[str]) -> List[str]:
    """Results one artifact allows (empty: PASS), appending its reasons."""
    if artifact.error:
        reasons.append("reporter artifact unreadable: {0}".format(artifact.error))
        return [FAIL]
    results: List[str] = []
    status = (artifact.status or "").upper()
    failure_events = [e for e in artifact.events if e.failure]
    for event in failure_events:
        reasons.append(event.message or event.type)
    if status == "FAIL":
        results.append(FAIL)
        if not failure_events:
            reasons.append("reporter status FAIL")
    elif status == "RUN":
        results.append(RUN)
        reasons.append("still running (reporter status RUN)")
    elif status != "PASS":
        results.append(UNKNOWN)
        reasons.append("unknown reporter status {0!r}".format(artifact.status))
    counts = artifact.counts
    if failure_events:
        results.append(FAIL)
    if counts.failed:
        results.append(FAIL)
        if status == "PASS":
            reasons.append("{0} failed test(s) although the status says PASS".format(counts.failed))
    if counts.pending:
        results.append(RUN)
        reasons.append("{0} pending test(s)".format(counts.pending))
    if status == "PASS" and not counts.tests:
        results.append(FAIL)
        reasons.append("no tests counted" if counts.tests == 0 else "test count missing")
    for note in getattr(artifact, "notes", None) or []:
        # A field that is present but unusable (a count given as a string, ...) forbids a PASS.
        results.append(UNKNOWN)
        reasons.append("reporter artifact: {0}".format(note))
    return results


def host_verdict(host: str, artifacts: List[HostArtifact], inventory: Dict[str, InventoryHost],
                 source_available: bool) -> HostVerdict:
    """One host's result over every artifact it wrote during the (sub-)run (the worst one wins)."""
    inv = inventory.get(host)
    verdict = HostVerdict(host=host, result=UNKNOWN, os=inv.os if inv else None, kernel=inv.kernel if inv else None)
    if not source_available:
        verdict.reasons.append("no reporter directory to read")
        return verdict
    if not artifacts:
        verdict.result = MISSING
        verdict.reasons.append("no reporter artifact newer than the run's start")
        return verdict
    verdict.artifact = ", ".join(a.path for a in artifacts)
    results: List[str] = []
    total = Counts()
    for artifact in artifacts:
        results.extend(_artifact_results(artifact, verdict.reasons))
        for field in ("tests", "passed", "failed", "pending", "skipped"):
            value = getattr(artifact.counts, field)
            if value is not None:
                setattr(total, field, (getattr(total, field) or 0) + value)
    verdict.counts = total
    verdict.result = worst_result(results) if results else PASS
    return verdict


def _merge_runs(runs: List[CypressRun]) -> CypressRun:
    """One view over several Cypress runs of a non-categorized request."""
    if len(runs) == 1:
        return runs[0]
    merged = CypressRun(index=0, label=runs[0].label, label_source=runs[0].label_source)
    merged.started = all(r.started for r in runs)
    merged.finished = all(r.finished for r in runs)
    summaries = [r.all_passed for r in runs]
    merged.all_passed = None if any(s is None for s in summaries) else all(summaries)
    merged.failed_specs = sum(r.failed_specs or 0 for r in runs)
    merged.total_specs = sum(r.total_specs or 0 for r in runs)
    tot = Counts(0, 0, 0, 0, 0)
    for run in runs:
        for field in ("tests", "passed", "failed", "pending", "skipped"):
            setattr(tot, field, getattr(tot, field) + (getattr(run.totals, field) or 0))
        merged.specs_found.extend(run.specs_found)
        merged.specs_run.extend(run.specs_run)
        merged.spec_results.extend(run.spec_results)
        merged.finished_rows.extend(run.finished_rows)
        merged.problems.extend(run.problems)
        merged.run_url = merged.run_url or run.recorded_run_url or run.run_url
    merged.totals = tot
    merged.current_spec = runs[-1].current_spec
    unfinished = [r for r in runs if not r.finished]
    merged.concurrent = bool(unfinished) and all(r.concurrent for r in unfinished)
    merged.overflow = sum(r.overflow for r in runs)
    merged.dropped = sum(r.dropped for r in runs)
    merged.crashed = any(r.crashed for r in runs)
    merged.plugin_error = any(r.plugin_error for r in runs)
    merged.canceled = any(r.canceled for r in runs)
    merged.no_specs = any(r.no_specs for r in runs)
    return merged


def log_reasons(run: CypressRun) -> List[str]:
    """Why the Cypress console output of this run does not allow a PASS (empty list: it does)."""
    reasons: List[str] = []
    if not run.started:
        reasons.append("the Cypress run never started")
    elif not run.finished:
        reasons.append(NOT_FINISHED)
    if not run.finished:
        failing = [r for r in run.spec_results if r.counts.failed]
        if failing:
            # a log cut before its table still says that tests failed
            reasons.append("{0} test(s) failed in {1}".format(
                sum(r.counts.failed or 0 for r in failing),
                failing[0].spec or "a spec" if len(failing) == 1 else "{0} specs: {1}".format(
                    len(failing), ", ".join(r.spec for r in failing[:5]) + (", ..." if len(failing) > 5 else ""))))
    else:
        if run.all_passed is False:
            if run.canceled:
                reasons.append("the Cypress run was canceled")
            else:
                reasons.append("{0} of {1} spec(s) failed".format(
                    run.failed_specs if run.failed_specs is not None else "some",
                    run.total_specs if run.total_specs is not None else "?"))
        elif run.all_passed is None:
            reasons.append("the (Run Finished) summary could not be read")
        elif not run.totals.tests:
            reasons.append("zero tests ran although Cypress printed 'All specs passed!'")
    reasons.extend(p for p in run.problems if p not in reasons)
    return reasons


def unread_reasons(run: CypressRun) -> List[str]:
    """Why what the log says of this run is not all known (never a PASS, not a failure either)."""
    reasons = []
    if run.concurrent and not run.finished:
        reasons.append(INTERLEAVED)
    if run.overflow:
        reasons.append("this sub-run stands for {0} more Cypress run(s) that the log holds beyond the ones read one "
                       "by one".format(run.overflow))
    if run.dropped:
        reasons.append("{0} spec entries of this run beyond what the log reader keeps were not read".format(
            run.dropped))
    return reasons


def _spec_keys(run: CypressRun) -> set:
    keys = set()
    for spec in run_specs(run):
        base = os.path.basename(spec.replace("\\", "/"))
        keys.add(base)
    return keys


def junit_reasons(reports: List[JUnitReport], run: CypressRun, categorized: bool,
                  not_before: Optional[float], window: Optional[Callable[[float], bool]] = None) -> List[str]:
    """Why the JUnit XML does not allow a PASS. In a categorized request a report counts for the
    sub-run whose specs it names; an unreadable one (no names to go by) for the sub-run it was
    written in (``window``: its modification time is in this sub-run's window)."""
    reasons: List[str] = []
    keys = _spec_keys(run)
    for report in reports:
        if not_before is not None and report.mtime and report.mtime < not_before:
            continue
        if report.error:
            if not categorized or not report.mtime or window is None or window(report.mtime):
                reasons.append("JUnit XML {0} unreadable: {1}".format(os.path.basename(report.path), report.error))
            continue
        if report.meta_only:
            continue
        if categorized:
            files = {os.path.basename(f.replace("\\", "/")) for f in report.files}
            if not files & keys:
                continue
        failed = (report.counts.failed or 0) + (report.errors or 0)
        if failed:
            reasons.append("JUnit XML {0}: {1} failure(s)/error(s)".format(os.path.basename(report.path), failed))
    return reasons


def _artifacts_by_host(artifacts: List[HostArtifact], not_before: Optional[float]) -> Dict[str, List[HostArtifact]]:
    """{host: its artifacts written after ``not_before``, by path} in one pass (one or more per host)."""
    by_host: Dict[str, List[HostArtifact]] = {}
    for art in sorted(artifacts, key=lambda a: a.path):
        if not_before is None or art.mtime >= not_before:
            by_host.setdefault(art.host or "", []).append(art)
    return by_host


# ------------------------------------------------------------------------------------------------
# the decisions
# ------------------------------------------------------------------------------------------------


def _subrun_state(ev: Evidence, run: CypressRun, is_last: bool, later_started: bool,
                  exit_explained: bool = False) -> str:
    if ev.cancelled:
        return CANCELLED
    exit_ = ev.exit
    if run.finished:
        if is_last and ev.runner_over and exit_.known and not exit_explained:
            if exit_.signal is not None:
                return TERMINATED
            if exit_.exit_code not in (0, None):
                return FAILED
        return COMPLETED
    unseen = run.text_lost or run.concurrent  # its end may be missing from the text, not from the run
    if unseen and (later_started or (ev.runner_over and exit_.known and exit_.exit_code == 0)):
        return COMPLETED  # its end is not in the text: decided from the other evidence
    if later_started:
        return FAILED
    if ev.hung and is_last:
        return HUNG
    if not ev.runner_over:
        if ev.offline and (run.plugin_error or run.no_specs or (not ev.runs and ev.preamble_fatal)):
            return FAILED
        return RUNNING
    if exit_.known:
        return TERMINATED if exit_.signal is not None else FAILED
    if run.problems:
        return FAILED
    return TERMINATED


def decide_subrun(ev: Evidence, run: CypressRun, claimed: Dict[str, int], is_last: bool,
                  later_started: bool, state_override: Optional[str] = None,
                  earlier_failed: bool = False, never_ran: Sequence[str] = ()) -> SubrunVerdict:
    """One (sub-)run; ``never_ran``: expected hosts no earlier sub-run had, owed by this (last) one."""
    hosts, name, mismatch = _subrun_hosts(ev, run, never_ran)
    not_before = ev.not_before.get(run.index, ev.run_not_before)
    if not_before is not None:
        not_before -= SLACK_SECONDS
    # A categorized wrapper that exits non-zero after a finished last sub-run, when an earlier
    # sub-run failed, is explained by that failure (wrappers report the request as a whole); only
    # an unexplained non-zero exit bears on a last sub-run that reached its (Run Finished) table.
    exit_explained = bool(ev.categorized and run.finished and earlier_failed and ev.exit.signal is None)
    state = state_override or _subrun_state(ev, run, is_last, later_started, exit_explained)
    verdict = SubrunVerdict(index=run.index, name=name, state=state, result=RUN, label=run.label,
                            name_mismatch=mismatch, run_url=run.recorded_run_url or run.run_url)
    verdict.specs = list(run.finished_rows) or list(run.spec_results)
    verdict.counts = run.totals if run.finished else _sum_results(run.spec_results)
    reasons, results = _log_evidence(ev, run, state)
    # Hosts.
    artifacts = ev.artifacts
    source = artifacts is not None
    _add_window_hosts(ev, run, hosts, claimed, not_before, artifacts, source)
    if not hosts:
        reasons.append("no host results: no spec named a host and no reporter artifact was found")
        results.append(UNKNOWN)
    by_host = _artifacts_by_host(artifacts or [], not_before)
    for host in hosts:
        hv = host_verdict(host, by_host.get(host, []), ev.inventory, source)
        if state == RUNNING and hv.result == MISSING:
            hv.result = RUN  # its artifact may not be written yet
        verdict.hosts.append(hv)
        results.append(hv.result)
    # JUnit.
    jreasons = junit_reasons(ev.junit, run, ev.categorized, not_before, lambda mtime: _in_window(ev, run.index, mtime))
    if jreasons:
        reasons.extend(jreasons)
        results.append(FAIL)
    _exit_evidence(ev, is_last, exit_explained, reasons, results)
    if run.text_lost and run.finished:  # a note: its (Run Finished) table, which was read, lists every spec
        reasons.append("{0}: decided from its (Run Finished) table and its other evidence".format(run.text_lost))
    if mismatch:
        reasons.append("sub-run name inferred from its hosts: " + mismatch)
    verdict.reasons = reasons
    verdict.result = _subrun_result(state, results)
    return verdict


def _subrun_hosts(ev: Evidence, run: CypressRun, never_ran: Sequence[str]) -> Tuple[List[str], str, Optional[str]]:
    """The sub-run's hosts (from its specs, the expected ones of a plain request, those it owes),
    its name and why that name was inferred from its hosts."""
    hosts = hosts_of_run(run, ev.inventory, ev.host_pattern)
    if not ev.categorized:
        for host in ev.expected_hosts:
            if host not in hosts:
                hosts.append(host)
    name, mismatch = subrun_name(run, hosts, ev.inventory, ev.host_pattern)
    hosts.extend(h for h in never_ran if h not in hosts)
    return hosts, name, mismatch


def _log_evidence(ev: Evidence, run: CypressRun, state: str) -> Tuple[List[str], List[str]]:
    """The reasons the sub-run's log gives, and the results they stand for."""
    reasons = log_reasons(run)
    if state == RUNNING:
        # Not finished yet is not a failure while it runs.
        reasons = [r for r in reasons if r != NOT_FINISHED]
    if ev.preamble_problems and run.index == 0:
        reasons = list(ev.preamble_problems) + reasons
    lost = bool(run.text_lost and not run.finished)
    if lost or (run.concurrent and not run.finished):
        reasons = [r for r in reasons if r != NOT_FINISHED]
    results: List[str] = [FAIL] if reasons else []
    if lost:
        # Never a PASS without its own summary: UNKNOWN at best, FAIL when other evidence fails.
        reasons.append("{0}: its end is not in the log, so it is decided from its reporter artifacts and "
                       "JUnit reports only".format(run.text_lost))
        results.append(UNKNOWN)
    for reason in unread_reasons(run):
        reasons.append(reason)
        results.append(UNKNOWN)
    return reasons, results


def _add_window_hosts(ev: Evidence, run: CypressRun, hosts: List[str], claimed: Dict[str, int],
                      not_before: Optional[float], artifacts: Optional[List[HostArtifact]], source: bool) -> None:
    """Add to ``hosts`` the hosts of the artifacts written during this sub-run's window."""
    # Unclaimed artifacts written during this sub-run's window count too: a FAIL there must not vanish.
    known = set(hosts)
    if source and ev.categorized:
        for art in artifacts:
            if art.host and art.host not in known and claimed.get(art.host, run.index) == run.index \
                    and (not_before is None or art.mtime >= not_before) and _in_window(ev, run.index, art.mtime):
                hosts.append(art.host)
                known.add(art.host)
    elif source:
        for art in artifacts:
            if art.host and art.host not in known and (not_before is None or art.mtime >= not_before):
                hosts.append(art.host)
                known.add(art.host)


def _exit_evidence(ev: Evidence, is_last: bool, exit_explained: bool, reasons: List[str], results: List[str]) -> None:
    """The runner's exit bears on the (sub-)run that was running when it exited."""
    if is_last and ev.runner_over and ev.exit.known and not exit_explained:
        if ev.exit.signal is not None:
            reasons.append("the runner was killed by signal {0}".format(ev.exit.signal))
            results.append(FAIL)
        elif ev.exit.exit_code not in (0, None):
            reasons.append("the runner exited with code {0}".format(ev.exit.exit_code))
            results.append(FAIL)


def _subrun_result(state: str, results: List[str]) -> str:
    """The sub-run's result from its state and the results of its evidence."""
    evidence_result = worst_result(results) if results else PASS
    if state == RUNNING:
        return FAIL if evidence_result == FAIL else RUN
    if state == COMPLETED:
        return evidence_result
    if state == FAILED:
        return FAIL
    return FAIL if evidence_result == FAIL else UNKNOWN


def _in_window(ev: Evidence, index: int, mtime: float) -> bool:
    start = ev.not_before.get(index)
    end = ev.not_before.get(index + 1)
    if start is not None and mtime < start - SLACK_SECONDS:
        return False
    if end is not None and mtime >= end - SLACK_SECONDS:
        return False
    return True


def _sum_results(rows: List[SpecRow]) -> Counts:
    total = Counts(0, 0, 0, 0, 0)
    for row in rows:
        for field in ("tests", "passed", "failed", "pending", "skipped"):
            setattr(total, field, getattr(total, field) + (getattr(row.counts, field) or 0))
    return total


def request_state(ev: Evidence) -> Tuple[str, List[str]]:
    runs = ev.runs
    if ev.cancelled:
        return CANCELLED, ["cancelled (cancellation marker)"]
    if ev.hung:
        return HUNG, ["no progress for the hang timeout"]
    if not ev.runner_over:
        if ev.offline and not runs and ev.preamble_fatal:
            return FAILED, ["the Cypress run never started"]
        if ev.offline and runs:
            # Decided from the log alone: only the last run can still be running; an unfinished
            # run followed by another one ended without its table, unless their output is
            # interleaved (concurrent): then its end is missing from the text, not known to be missing.
            earlier = [r for r in runs[:-1] if not r.finished and not r.concurrent]
            unseen = [r for r in runs if not r.finished and r.concurrent]
            last = runs[-1]
            if last.finished or last.plugin_error or last.no_specs or (unseen and any(r.finished for r in runs)):
                if earlier or not (last.finished or last.concurrent):
                    return FAILED, ["{0} Cypress run(s) ended without their (Run Finished) table".format(
                        len(earlier) + (0 if last.finished else 1))]
                if unseen:
                    return UNKNOWN, ["the log interleaves the output of {0} Cypress runs and shows no end of {1} of "
                                     "them".format(sum(1 for r in runs if r.concurrent), len(unseen))]
                return COMPLETED, []
        return RUNNING, []
    if not runs:
        if not ev.log_exists and not ev.exit.known:
            return UNKNOWN, ["no runner log and no exit status: the run never started"]
        if ev.exit.known and ev.exit.signal is not None:
            return TERMINATED, ["the runner was killed by signal {0}".format(ev.exit.signal)]
        if ev.exit.known:
            return FAILED, ["no Cypress run found in the runner log (exit code {0})".format(ev.exit.exit_code)]
        return UNKNOWN, ["no Cypress run found in the runner log"]
    if ev.exit.known and ev.exit.signal is not None:
        return TERMINATED, ["the runner was stopped by signal {0} ({1})".format(
            ev.exit.signal, ev.exit.detail or "from outside")]
    unfinished = [r for r in runs if not r.finished and not r.concurrent]
    if ev.exit.known:
        if ev.exit.exit_code == 0 and not unfinished:
            return COMPLETED, []
        reasons = []
        if ev.exit.exit_code not in (0, None):
            reasons.append("the runner exited with code {0}".format(ev.exit.exit_code))
        if unfinished:
            reasons.append("{0} Cypress run(s) ended without their (Run Finished) table".format(len(unfinished)))
        return FAILED, reasons
    if not unfinished:
        return COMPLETED, []
    if any(r.problems for r in unfinished):
        return FAILED, ["{0} Cypress run(s) ended without their (Run Finished) table".format(len(unfinished))]
    return TERMINATED, ["the runner ended without an exit status while a Cypress run was unfinished"]


def decide(ev: Evidence) -> RunVerdict:
    """Decide the whole request: its state, its result and every sub-run."""
    state, reasons = request_state(ev)
    verdict = RunVerdict(state=state, result=RUN, exit=ev.exit, categorized=ev.categorized, reasons=reasons)
    # Failure texts before any run: a run that never started carries them (and is posted).
    runs = ev.runs or ([CypressRun(index=0)] if ev.preamble_problems else [])
    if not runs:
        verdict.result = UNKNOWN if state not in (RUNNING,) else RUN
        if state == FAILED:
            verdict.result = FAIL
        return verdict
    if not ev.categorized:
        merged = _merge_runs(runs)
        # A non-categorized request has one (sub-)run: its state is the request's.
        sub = decide_subrun(ev, merged, {}, True, False, state_override=state)
        verdict.subruns = [sub]
        verdict.result = sub.result
        return verdict
    claimed: Dict[str, int] = {}
    for run in runs:
        for host in hosts_of_run(run, ev.inventory, ev.host_pattern):
            claimed.setdefault(host, run.index)
    last = len(runs) - 1
    for pos, run in enumerate(runs):
        earlier_failed = any(s.result == FAIL for s in verdict.subruns)
        # Once the request is over no sub-run can follow: an expected host that no sub-run had is
        # MISSING in the last one, so that a post says so.
        seen = {h.host for s in verdict.subruns for h in s.hosts}
        never_ran = [h for h in ev.expected_hosts if h not in seen] if pos == last and state in (COMPLETED, FAILED) else []
        verdict.subruns.append(decide_subrun(ev, run, claimed, pos == last, pos < last,
                                             earlier_failed=earlier_failed, never_ran=never_ran))
    results = [s.result for s in verdict.subruns]
    if state in (COMPLETED, FAILED):
        ran = {h.host for s in verdict.subruns for h in s.hosts if h.result != MISSING}
        missing = [h for h in ev.expected_hosts if h not in ran]
        if missing:
            verdict.reasons.append("expected host(s) never ran: {0}".format(", ".join(missing)))
            results.append(FAIL)
        if state == FAILED:
            results.append(FAIL)
    verdict.result = worst_result(results)
    if state == RUNNING and verdict.result == PASS:
        verdict.result = RUN
    if state in (CANCELLED, TERMINATED, HUNG, UNKNOWN) and verdict.result == PASS:
        verdict.result = UNKNOWN
    return verdict

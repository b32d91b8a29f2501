# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a post says about one decided (sub-)run, built once: the facts both formatters show.

:class:`SubrunView` holds the headline facts (result, state, build, position, name), the hosts (in
inventory order, with the order they are kept in when rows must be dropped: worst first), the
reasons, the counts, the duration, the recorded run, the name mismatch, the run's metadata as shown
(credentials hidden), the commands and the runner's exit. The formatters (:mod:`.attachment`, the
webhook payload; :mod:`.markdown`, the operator template and the ``verdict`` message) only lay it
out and fit it to their limits: a new piece of content is one field here and one place in each.

Text from the evidence stays as it was read (one line); each formatter makes it safe where it shows it.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import List, Optional, Tuple

from .. import settings as config
from ..decision.changes import Changes
from ..durable import epoch_of
from ..models import PASS, Counts, ExitInfo, HostVerdict, RunVerdict, SubrunVerdict
from ..safetext import redact_command
from .text import SEVERITY, emoji, format_duration, has_counts, one_line

METADATA_LABELS = (
    ("template", "Template"),
    ("config_family", "Config family"),
    ("config_file", "Config file"),
    ("migration_style", "Migration style"),
    ("integration_plugin", "Integration plugin"),
    ("scope", "Scope"),
    ("template_command", "Template command"),
    ("runner_command", "Runner command"),
)


def shown_metadata(settings: config.Settings) -> dict[str, str]:
    """The run's metadata as shown: credentials in commands (and in any other value) hidden."""
    names = getattr(settings, "redact_names", "") or None
    return {str(k): redact_command(v, names) for k, v in (settings.metadata or {}).items() if v}


@dataclass
class HostView:
    """One host as a post shows it."""

    name: str
    os: str  # "" when not known
    kernel: str  # "" when not known
    result: str
    counts: Counts
    reasons: List[str]  # one line each, empty ones left out


@dataclass
class ChangesView:
    """What changed since the suite's previous run (docs/history.md), as a post shows it."""

    known: bool  # the per-test results of this run are known
    why: str  # why not
    first_run: bool
    previous_build: str  # "" when there is no earlier run with per-test results
    ago: Optional[float]  # seconds since that run was decided (None: not known)
    new_failures: List[Tuple[str, str]]  # (spec, full title), sorted
    fixed: List[Tuple[str, str]]
    still_failing: List[Tuple[Tuple[str, str], int]]  # with the runs in a row it failed in
    flaky: List[Tuple[str, str]]
    disagreements: List[Tuple[str, str, List[Tuple[str, str]]]]  # spec, title, [(source, state)]
    longest_streak: int


def changes_view(changes: Optional[Changes], now: Optional[float] = None) -> Optional[ChangesView]:
    if changes is None:
        return None
    then = epoch_of(changes.previous_at)
    current = time.time() if now is None else now
    return ChangesView(
        known=changes.known, why=changes.why, first_run=changes.first_run,
        previous_build=changes.previous_build or "",
        ago=max(0.0, current - then) if then is not None else None,
        new_failures=list(changes.new_failures), fixed=list(changes.fixed),
        still_failing=list(changes.still_failing), flaky=list(changes.flaky),
        disagreements=[(str(d.get("spec", "")), str(d.get("title", "")), sorted((str(k), str(v)) for k, v in
                                                                                (d.get("says") or {}).items()))
                       for d in changes.disagreements],
        longest_streak=changes.longest_streak)


@dataclass
class SubrunView:
    """One decided (sub-)run as a post shows it (see the module's docstring)."""

    # headline facts
    result: str
    state: str
    emoji: str
    build_name: str
    categorized: bool
    index: int  # 0-based
    total: int  # number of sub-runs; 0: not known yet (the request is still running)
    name: str
    # hosts, in inventory order
    hosts: List[HostView]
    row_order: List[int]  # host indices, the rows kept first: worst result first, then inventory order
    not_pass: List[int]  # host indices of the hosts that did not PASS, worst first
    # why: the sub-run's own reasons; for a non-categorized run also the run's (one line each)
    reasons: List[str]
    reasons_title: str
    # a categorized request's own reasons, shown apart from the sub-run's
    request_reasons: List[str]
    counts: Optional[Counts]  # None: no count known
    duration: str  # "" when unknown
    run_url: str
    name_mismatch: str
    started_at: str
    ended_at: str
    # the run's metadata as shown (credentials hidden): (key, label, value) in METADATA_LABELS order,
    # then the other keys by name (label: the key itself)
    metadata: List[Tuple[str, str, str]]
    extra_metadata: List[Tuple[str, str]]
    runner: ExitInfo
    hosts_by_result: List[Tuple[str, int]]  # worst first
    changes: Optional[ChangesView] = None  # since the suite's previous run; None: no history

    @property
    def position(self) -> str:
        """``2/3``, or ``2`` while the number of sub-runs is not known."""
        if self.total:
            return "{0}/{1}".format(self.index + 1, self.total)
        return str(self.index + 1)

    def metadata_value(self, key: str) -> str:
        for known, _label, value in self.metadata:
            if known == key:
                return value
        return ""


def tally(hosts: List[HostView]) -> List[Tuple[str, int]]:
    """(result, number of hosts), worst result first."""
    counts: dict[str, int] = {}
    for host in hosts:
        counts[host.result] = counts.get(host.result, 0) + 1
    return sorted(counts.items(), key=lambda item: (SEVERITY.get(item[0], 2), item[0]))


def subrun_reasons(verdict: RunVerdict, sub: SubrunVerdict) -> List[str]:
    """The reasons of this post: the sub-run's own; for a non-categorized run also the run's."""
    reasons = [r for r in sub.reasons if r]
    if not verdict.categorized:
        for reason in verdict.reasons:
            if reason and reason not in reasons:
                reasons.append(reason)
    return reasons


def _host(host: HostVerdict) -> HostView:
    return HostView(name=host.host, os=host.os or "", kernel=host.kernel or "", result=host.result,
                    counts=host.counts, reasons=[one_line(r) for r in host.reasons if r])


def build_view(verdict: RunVerdict, sub: SubrunVerdict, settings: config.Settings, build_name: str,
               total_subruns: int, changes: Optional[Changes] = None, now: Optional[float] = None) -> SubrunView:
    """The view of ``sub`` (a sub-run of ``verdict``) in build ``build_name`` of ``total_subruns``
    (0: not known yet); ``changes``: since its suite's previous run (``now``: the time it is told at)."""
    hosts = [_host(h) for h in sub.hosts]
    order = sorted(range(len(hosts)), key=lambda i: (SEVERITY.get(hosts[i].result, 2), i))
    meta = shown_metadata(settings)
    known = {key for key, _label in METADATA_LABELS}
    return SubrunView(
        result=sub.result,
        state=sub.state,
        emoji=emoji(sub.result),
        build_name=build_name,
        categorized=verdict.categorized,
        index=sub.index,
        total=max(int(total_subruns), sub.index + 1) if total_subruns else 0,
        name=sub.name,
        hosts=hosts,
        row_order=order,
        not_pass=[i for i in order if hosts[i].result != PASS],
        reasons=[one_line(r) for r in subrun_reasons(verdict, sub)],
        reasons_title="Why not PASS" if sub.result != PASS else "Notes",
        request_reasons=list(verdict.reasons) if verdict.categorized else [],
        counts=sub.counts if has_counts(sub.counts) else None,
        duration=format_duration(sub.duration_seconds),
        run_url=sub.run_url or "",
        name_mismatch=sub.name_mismatch or "",
        started_at=sub.started_at or "",
        ended_at=sub.ended_at or "",
        metadata=[(key, label, meta[key]) for key, label in METADATA_LABELS if meta.get(key)],
        extra_metadata=[(key, meta[key]) for key in sorted(k for k in meta if k not in known)],
        runner=verdict.exit,
        hosts_by_result=tally(hosts),
        changes=changes_view(changes, now),
    )

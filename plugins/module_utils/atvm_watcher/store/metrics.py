# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Opt-in metrics for node_exporter's textfile collector (``ATVM_METRICS_DIR``; empty: off).

The watcher of a build writes ``atvm_watcher_<build>.prom`` in that directory: the run state, the
result and the watcher's phase (labelled gauges, 1 for the current value, 0 for the others), the
posts sent / failed / pending, and the watcher's last heartbeat (unix time). It is rewritten when
one of them changes and at least every :data:`HEARTBEAT_INTERVAL` seconds, never at every poll.
Each write is atomic (a temp file in the same directory, then a rename), so the collector never
reads half a file. Only bounded vocabularies are labels (a value outside them is ``other``); the
build name is validated and escaped like every label value. A failed write is journalled, never
fatal. Once the watcher has ended, ``resend`` rewrites the file through :func:`refresh_from_outbox`
(the outbox is then the truth), so an alert on a failed post clears when the post went out. The
metric names and an alert rule: docs/metrics.md.
"""
from __future__ import annotations

import os
import time
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from ..settings import Settings
from ..runpaths import BuildName
from ..durable import atomic_write_bytes, epoch_of
from ..errors import BuildNameError, StateError
from ..models import PASS, FAIL, RUN, RUNNING, TERMINAL_STATES, UNKNOWN
from .runstate import PHASES, RunState, delivery_counts
from .runstore import RunStore

PREFIX = "atvm_watcher"
HEARTBEAT_INTERVAL = 30.0  # seconds between two writes when nothing changed
FILE_MODE = 0o644  # read by node_exporter's user; holds nothing secret
OTHER = "other"

RUN_STATES = (RUNNING,) + tuple(s for s in TERMINAL_STATES if s != RUNNING)
RESULTS = (PASS, FAIL, RUN, UNKNOWN)
POST_STATUSES = ("sent", "failed", "pending", "corrupt")
TEST_CHANGES = ("new_failure", "fixed", "still_failing", "flaky")  # docs/history.md

Sample = Tuple[Dict[str, str], float]


def escape_label(value: str) -> str:
    """A label value as the text exposition format writes it (``\\``, ``"`` and newline escaped)."""
    return value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def metrics_file(directory: str, build: str) -> str:
    """The build's metrics file (``atvm_watcher_<build>.prom``); raises BuildNameError for an unsafe name."""
    return os.path.join(directory, "{0}_{1}.prom".format(PREFIX, BuildName(build)))


def _format_value(value: float) -> str:
    return repr(float(value)) if value != int(value) else str(int(value))


def _family(name: str, help_text: str, samples: Iterable[Sample]) -> List[str]:
    lines = ["# HELP {0}_{1} {2}".format(PREFIX, name, help_text), "# TYPE {0}_{1} gauge".format(PREFIX, name)]
    for labels, value in samples:
        text = ",".join('{0}="{1}"'.format(k, escape_label(v)) for k, v in labels.items())
        lines.append("{0}_{1}{{{2}}} {3}".format(PREFIX, name, text, _format_value(value)))
    return lines


def _one_of(build: str, label: str, value: Optional[str], vocabulary: Sequence[str]) -> List[Sample]:
    """1 for the current value, 0 for the rest of the vocabulary; a value outside it is ``other``."""
    current = value if value in vocabulary else OTHER
    return [({"build": build, label: v}, 1.0 if v == current else 0.0) for v in tuple(vocabulary) + (OTHER,)]


def render_metrics(state: RunState, heartbeat: float, posts: Optional[Dict[str, int]] = None) -> str:
    """The text of the metrics file for ``state`` (text exposition format 0.0.4); the post counts
    from ``posts`` when given, else from the delivery status of the sub-runs and the request post in ``state``."""
    build = state.build_name
    posts = dict(state.count_deliveries()) if posts is None else posts
    lines: List[str] = []
    lines += _family("run_state", "State of the ATVM run (1 for the current one).",
                     _one_of(build, "state", state.run_state, RUN_STATES))
    lines += _family("run_result", "Result of the ATVM run (1 for the current one; RUN while undecided).",
                     _one_of(build, "result", state.result, RESULTS))
    lines += _family("phase", "Phase of the run's watcher (1 for the current one).",
                     _one_of(build, "phase", state.phase, PHASES))
    lines += _family("posts", "Mattermost posts of the run by delivery status.",
                     [({"build": build, "status": s}, float(posts.get(s, 0))) for s in POST_STATUSES])
    lines += _family("tests", "Tests of the run's (sub-)runs by what changed since their suite's previous run.",
                     [({"build": build, "state": name}, float(tests_changed(state).get(name, 0))) for name in TEST_CHANGES])
    lines += _family("heartbeat_timestamp_seconds", "Unix time of the watcher's last look at the run.",
                     [({"build": build}, float(int(heartbeat)))])
    return "\n".join(lines) + "\n"


def tests_changed(state: RunState) -> Dict[str, int]:
    """The sub-runs' counts of new failures, fixed, still failing and flaky tests, summed."""
    out = {name: 0 for name in TEST_CHANGES}
    for entry in state.subruns:
        for name in TEST_CHANGES:
            value = (entry.tests or {}).get(name)
            if isinstance(value, int) and not isinstance(value, bool):
                out[name] += value
    return out


class MetricsWriter:
    """Writes one build's metrics file when its content changes or its heartbeat is due."""

    def __init__(self, directory: str, build: str, clock: Callable[[], float],
                 journal: Callable[..., None], interval: float = HEARTBEAT_INTERVAL) -> None:
        self.directory = directory
        self.build = build
        self.clock = clock
        self.journal = journal
        self.interval = interval
        self._written: Optional[str] = None  # the last content written, heartbeat left out
        self._written_at: Optional[float] = None
        self._error: Optional[str] = None

    @property
    def enabled(self) -> bool:
        return bool(self.directory)

    def update(self, state: RunState, posts: Optional[Dict[str, int]] = None,
               heartbeat: Optional[float] = None) -> bool:
        """Write when the state's metrics changed or the heartbeat is due; True when the file was written.
        ``posts`` replaces the counts read from ``state``; ``heartbeat`` the time written (now)."""
        if not self.enabled:
            return False
        now = self.clock()
        body = render_metrics(state, 0.0, posts)
        due = self._written_at is None or now - self._written_at >= self.interval
        if not due and body == self._written:
            return False
        return self._write(body, now, render_metrics(state, now if heartbeat is None else heartbeat, posts))

    def _write(self, body: str, now: float, text: str) -> bool:
        """Write ``text`` (``body`` with its heartbeat); ``body`` and ``now`` are what the next update compares."""
        self._written, self._written_at = body, now  # a failure is retried at the next change or heartbeat
        try:
            path = metrics_file(self.directory, self.build)
            atomic_write_bytes(path, text.encode("utf-8"), FILE_MODE)
        except (StateError, BuildNameError) as exc:
            if str(exc) != self._error:
                self._error = str(exc)
                self.journal("metrics-write-failed", "metrics not written: {0}".format(exc))
            return False
        if self._error is not None:
            self._error = None
            self.journal("metrics-written", "metrics written again to {0}".format(path))
        return True


def refresh_from_outbox(settings: Settings, store: RunStore, journal: Callable[..., Any]) -> bool:
    """After ``resend``: rewrite the build's metrics file with the post counts of the outbox (which
    a resend updates, state.json being the ended watcher's). The heartbeat stays the watcher's last
    look (state.json's ``updated_at``): a resend is not a watcher. True when the file was written;
    nothing happens with metrics off or without a state."""
    if not settings.metrics_dir:
        return False
    state = store.load_state()
    if state is None:
        return False
    posts = delivery_counts(r.status for r in store.outbox_list())
    writer = MetricsWriter(settings.metrics_dir, state.build_name, time.time, journal)
    return writer.update(state, posts=posts, heartbeat=epoch_of(state.updated_at) or time.time())

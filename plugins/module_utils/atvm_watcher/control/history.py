# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The suites' history as ``atvm-run-watcher history`` shows it (docs/history.md): the suites, or the
last runs of one suite with their counts and the tests that changed."""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..decision.changes import decode, summary_of
from ..errors import WatcherError
from ..store.history import HistoryStore, kept_changes, table_keys

RUNS_SHOWN = 20
NAMES_SHOWN = 10  # per list, in the text output (--json has them all)


def find_suite(store: HistoryStore, wanted: str) -> Dict[str, Any]:
    """The suite named ``wanted``: its id, its key as text, or a part of either that only one suite has."""
    suites = store.suites()
    for suite in suites:
        if wanted in (suite["id"], suite["text"]):
            return suite
    found = [s for s in suites if wanted.lower() in s["id"].lower() or wanted.lower() in s["text"].lower()]
    if len(found) == 1:
        return found[0]
    if not found:
        raise WatcherError("no suite {0!r} in {1} ({2} suites: atvm-run-watcher history lists them)".format(
            wanted, store.paths.dir, len(suites)))
    raise WatcherError("{0!r} names {1} suites: {2}".format(wanted, len(found), ", ".join(s["id"] for s in found[:10])))


def suite_runs(store: HistoryStore, suite_id: str, limit: int = RUNS_SHOWN) -> Dict[str, Any]:
    """The suite and its last ``limit`` runs (newest last), each with what changed since the one before."""
    doc = store.load(suite_id)
    if doc is None:
        raise WatcherError("no history for suite {0} in {1}".format(suite_id, store.paths.dir))
    table = table_keys(doc)
    runs: List[Dict[str, Any]] = []
    for run in doc["runs"][-limit:]:
        kept = kept_changes(run)
        changes = decode(table, kept).to_dict() if kept is not None else None
        shown = {key: run.get(key) for key in ("id", "build", "subrun", "name", "state", "result", "decided_at")}
        shown.update(per_test_results=run.get("tests") is not None, why=run.get("why") or "", changes=changes)
        runs.append(shown)
    return {"suite": dict(doc["suite"], runs=len(doc["runs"]), tests=len(doc["tests"])), "runs": runs}


def suites_lines(suites: List[Dict[str, Any]]) -> List[str]:
    if not suites:
        return ["no suite has a history yet"]
    return ["{0}: {1} run(s), last {2} ({3}); {4}".format(s["id"], s["runs"], s.get("last_build") or "-",
                                                          s.get("last_decided_at") or "-", s["text"]) for s in suites]


def runs_lines(data: Dict[str, Any]) -> List[str]:
    suite = data["suite"]
    lines = ["suite {0}: {1} ({2} run(s) kept, {3} tests)".format(
        suite["id"], suite["text"], suite["runs"], suite["tests"])]
    for run in data["runs"]:
        lines.append("  {0} {1}: {2} / {3} at {4}".format(run["build"], run.get("name") or "-", run.get("state"),
                                                          run.get("result"), run.get("decided_at") or "-"))
        changes: Optional[Dict[str, Any]] = run.get("changes")
        if changes is None:
            lines.append("    tests: no per-test results ({0})".format(run["why"] or "not known"))
            continue
        lines.append("    tests: " + summary_of(changes))
        for name, word in (("new_failures", "new failure"), ("fixed", "fixed"), ("still_failing", "still failing"),
                           ("flaky", "flaky")):
            items = changes.get(name) or []
            for item in items[:NAMES_SHOWN]:
                streak = ", {0} runs in a row".format(item["streak"]) if "streak" in item else ""
                lines.append("      {0}: {1} ({2}){3}".format(word, item["title"], item["spec"], streak))
            if len(items) > NAMES_SHOWN:
                lines.append("      {0}: ... and {1} more".format(word, len(items) - NAMES_SHOWN))
    return lines

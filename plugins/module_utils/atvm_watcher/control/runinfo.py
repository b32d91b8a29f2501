# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What a run is now, as its files and units say: the one reader behind ``run_info`` and ``status``."""
from __future__ import annotations

import difflib
import os
import time
from typing import Any, Callable, Dict, List, Optional

from ..runpaths import RunPaths
from ..decision.changes import summary_of
from ..errors import LaunchError, WatcherError
from ..store.runstate import RunState, SubrunEntry, delivery_counts
from ..store.runstore import RunStore
from ..host.systemd import Systemd

OUTBOX_FIELDS = ("key", "subrun_index", "subrun_name", "status", "attempts", "possible_duplicate", "sent_at",
                 "last_error")
SUBRUN_FIELDS = ("index", "name", "state", "result", "delivery", "key", "posted", "reasons", "hosts", "started_at",
                 "ended_at", "changes")


def _units(systemd: Systemd, paths: RunPaths) -> Dict[str, Dict[str, Any]]:
    units = {}
    for kind, unit in (("watcher", paths.watcher_unit), ("runner", paths.runner_unit)):
        try:
            status = systemd.show(unit)
        except LaunchError as exc:  # no systemd here (a --runner-pid run on a bare host): say so
            units[kind] = {"unit": unit, "live": False, "error": str(exc)}
            continue
        units[kind] = dict(status.to_dict(), live=status.live)
    return units


def _subrun(store: RunStore, entry: SubrunEntry, deliveries: Dict[Any, Any]) -> Dict[str, Any]:
    merged = entry.to_dict()
    try:
        detail = store.load_subrun(entry.index, entry.name) if entry.name else None
    except WatcherError:
        detail = None
    verdict = detail.verdict if detail is not None else None
    if verdict:
        for key in ("state", "result", "reasons", "started_at", "ended_at"):
            if verdict.get(key) is not None:
                merged[key] = verdict[key]
        if isinstance(verdict.get("hosts"), list):
            merged["hosts"] = [{k: h.get(k) for k in ("host", "result", "reasons")}
                               for h in verdict["hosts"] if isinstance(h, dict)]
    if detail is not None:
        merged["posted"] = detail.posted
    if detail is not None and detail.changes is not None:
        merged["changes"] = detail.changes  # since its suite's previous run (docs/history.md)
    if entry.key in deliveries:
        merged["delivery"] = deliveries[entry.key]
    return {k: merged.get(k) for k in SUBRUN_FIELDS}


def _request(state: Optional[RunState], deliveries: Dict[Any, Any]) -> Optional[Dict[str, Any]]:
    """The request post, when the request needed one (its delivery as the outbox says)."""
    if state is None or state.request is None:
        return None
    req = state.request
    return {"key": req.key, "state": req.state, "result": req.result,
            "delivery": deliveries.get(req.key, req.delivery), "decided_at": req.decided_at}


def read_run(store: RunStore, systemd: Systemd, build_name: str) -> Dict[str, Any]:
    """The run now: state, sub-runs with their verdicts, deliveries (the outbox wins), units, marker."""
    units = _units(systemd, store.paths)
    state: Optional[RunState] = store.load_state()
    marker = store.cancel_marker()
    outbox = [{k: getattr(r, k) for k in OUTBOX_FIELDS} for r in store.outbox_list()]
    deliveries = {r["key"]: r["status"] for r in outbox}
    subruns = [_subrun(store, e, deliveries) for e in state.subruns] if state is not None else []
    counts = delivery_counts(r["status"] for r in outbox) if outbox or state is None else dict(state.delivery)
    terminal = state is not None and state.terminal
    runner_live, watcher_live = units["runner"]["live"], units["watcher"]["live"]
    asked = "error" not in units["watcher"] and "error" not in units["runner"]  # systemd answered
    return {
        "build_name": build_name,
        "state_dir": store.paths.dir,
        "exists": state is not None or os.path.isdir(store.paths.dir) or watcher_live or runner_live,
        "run_state": state.run_state if state is not None else None,
        "result": state.result if state is not None else None,
        "terminal": terminal,
        "live": runner_live or (watcher_live and not terminal),
        # Not over, and neither unit runs: nothing will decide or post this run unless its watcher
        # is started again (it resumes and posts once) or the run is cancelled.
        "watcher_gone": state is not None and not terminal and not runner_live and not watcher_live and asked,
        "phase": state.phase if state is not None else None,
        "categorized": state.categorized if state is not None else None,
        "created_at": state.created_at if state is not None else None,
        "updated_at": state.updated_at if state is not None else None,
        "ended_at": state.ended_at if state is not None else None,
        "reasons": list(state.reasons) if state is not None else [],
        "metadata": dict(state.metadata) if state is not None else {},
        "runner_exit": state.runner.exit if state is not None else None,
        "subruns": subruns,
        "request": _request(state, deliveries),
        "delivery": counts,
        "outbox": outbox,
        "cancel_marker": marker,
        "units": units,
    }


def wait_run(read: Callable[[], Dict[str, Any]], wait: bool, timeout: float, clock: Callable[[], float] = time.monotonic,
             sleep: Callable[[float], None] = time.sleep, poll: float = 0.25) -> Dict[str, Any]:
    """``read()`` once, or with ``wait`` until the run is over and its watcher gone (LaunchError on timeout)."""
    deadline = clock() + timeout
    while True:
        data = read()
        done = not data["exists"] or data["watcher_gone"] or (data["terminal"] and not data["units"]["watcher"]["live"])
        if not wait or done:
            return dict(data, changed=False, waited=wait, timed_out=False)
        if clock() >= deadline:
            raise LaunchError("run {0} was still {1} after waiting {2:g} seconds".format(
                data["build_name"], data["run_state"] or "starting", timeout), **dict(data, timed_out=True))
        sleep(max(poll, min(1.0, deadline - clock())))


def watcher_gone_text(info: Dict[str, Any]) -> str:
    """What to do about a run that is not over while neither of its units runs."""
    watcher = info["units"]["watcher"]
    unit = watcher["unit"]
    return ("build {0} is not over ({1}) but neither its runner nor its watcher runs (watcher {2}{3}): its result "
            "was not decided or posted. Start the watcher again, it resumes and posts once: systemctl reset-failed "
            "{4}; systemctl start {4} (or cancel the run: ansible-playbook atvm.watcher.cancel_run -e build_name={0})"
            ).format(info["build_name"], info["run_state"], watcher.get("ActiveState") or "unknown",
                     "/" + watcher["Result"] if watcher.get("Result") else "", unit)


def existing_builds(state_root: str) -> List[str]:
    """The build names that have a state directory under ``state_root``, newest first."""
    try:
        entries = [e for e in os.scandir(state_root) if not e.name.startswith(".") and e.is_dir(follow_symlinks=False)]
    except OSError:
        return []
    entries.sort(key=lambda e: (-e.stat(follow_symlinks=False).st_mtime, e.name))
    return [e.name for e in entries]


def closest_builds(state_root: str, build_name: str, limit: int = 3) -> List[str]:
    """The existing build names closest to ``build_name`` (a typo's likely meaning), best first."""
    names = existing_builds(state_root)
    close = difflib.get_close_matches(build_name, names, n=limit, cutoff=0.6)
    lowered = [n for n in names if n.lower() == build_name.lower() and n not in close]
    return (lowered + close)[:limit]


def unknown_build_text(build_name: str, state_root: str) -> str:
    """What to say about a build name with no run: the closest existing builds, or the newest ones."""
    close = closest_builds(state_root, build_name)
    if close:
        hint = "did you mean {0}?".format(" or ".join(close))
    else:
        newest = existing_builds(state_root)[:5]
        hint = "the newest builds there: {0}".format(", ".join(newest)) if newest else "there is no run there at all"
    return "no run {0} on this controller (state root {1}): {2}".format(build_name, state_root, hint)


def status_lines(info: Dict[str, Any]) -> List[str]:
    """The human-readable ``atvm-run-watcher status``."""
    categorized = " (categorized)" if info["categorized"] else ""
    lines = ["build {0}: {1} / {2}{3}".format(info["build_name"], info["run_state"], info["result"], categorized)]
    lines.extend("  reason: {0}".format(reason) for reason in info["reasons"])
    for sub in info["subruns"]:
        lines.append("  sub-run {0} {1}: {2} / {3}, delivery {4}".format(
            (sub.get("index") or 0) + 1, sub.get("name") or "?", sub.get("state"), sub.get("result"),
            sub.get("delivery") or "-"))
        if sub.get("changes"):
            lines.append("    tests: " + summary_of(sub["changes"]))
    if info.get("request"):
        req = info["request"]
        lines.append("  request post: {0} / {1}, delivery {2}".format(req["state"], req["result"], req["delivery"] or "-"))
    for rec in info["outbox"]:
        if rec.get("status") != "SENT":
            lines.append("  outbox {0}: {1} ({2})".format(rec.get("key"), rec.get("status"), rec.get("last_error") or ""))
    if info["cancel_marker"]:
        lines.append("  cancelled: {0}".format(info["cancel_marker"].get("reason") or "(no reason)"))
    if info["watcher_gone"]:
        lines.append("  " + watcher_gone_text(info))
    lines.append("  state directory: {0}".format(info["state_dir"]))
    return lines

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Action of atvm.watcher.run_info: waiting shows a progress line at least every minute.

Without ``wait`` the module runs once. With ``wait`` the module waits on the controller in slices of
``progress_interval`` seconds; after each slice that ends with the run not over, a line saying where
the run is (state, watcher phase, sub-runs done, posts) is printed, so an AWX job or a terminal is
never silent for an hour. The outcome is the module's own, the timeout its total.
"""
from __future__ import annotations

import time
from typing import Any, Dict, Optional

from ansible.module_utils.parsing.convert_bool import boolean
from ansible.plugins.action import ActionBase
from ansible.utils.display import Display

display = Display()

DEFAULT_INTERVAL = 55.0  # a slice, plus the module's round trip, stays under a minute
DEFAULT_TIMEOUT = 3600.0


def _number(value: Any, default: float) -> Optional[float]:
    if value is None:
        return default
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def progress_line(result: Dict[str, Any], waited: float, total: float) -> str:
    """One line about a run that is not over yet."""
    subruns = result.get("subruns") or []
    done = [s for s in subruns if (s.get("state") or "RUNNING") != "RUNNING"]
    delivery = result.get("delivery") or {}
    categorized = " (categorized)" if result.get("categorized") else ""
    return ("{0}: {1}{2}, watcher {3}; sub-runs done {4} of {5} seen; posts sent {6}, failed {7}, pending {8}; "
            "waited {9} of {10}").format(
        result.get("build_name"), result.get("run_state") or "starting", categorized, result.get("phase") or "-",
        len(done), len(subruns), delivery.get("sent", 0), delivery.get("failed", 0), delivery.get("pending", 0),
        _duration(waited), _duration(total))


def _duration(seconds: float) -> str:
    seconds = int(round(seconds))
    if seconds < 120:
        return "{0} s".format(seconds)
    return "{0} min".format(seconds // 60) if seconds < 7200 else "{0} h {1} min".format(seconds // 3600, seconds % 3600 // 60)


class ActionModule(ActionBase):
    """run_info, with progress lines while it waits."""

    _supports_check_mode = True

    def run(self, tmp: Any = None, task_vars: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
        result = super().run(tmp, task_vars)
        args = dict(self._task.args)
        interval = _number(args.pop("progress_interval", None), DEFAULT_INTERVAL)
        total = _number(args.get("timeout"), DEFAULT_TIMEOUT)
        try:
            wait = boolean(args.get("wait", False), strict=True)
        except TypeError:
            wait = False  # the module's argument spec refuses it with its own words
        if not wait or interval is None or total is None or interval <= 0:
            if interval is None or (interval is not None and interval <= 0):
                result.update(failed=True, msg="progress_interval must be a number of seconds greater than 0")
                return result
            result.update(self._execute_module(module_args=args, task_vars=task_vars))
            return result
        host = (task_vars or {}).get("inventory_hostname", "")
        started = time.monotonic()
        while True:
            remaining = total - (time.monotonic() - started)
            answer = self._execute_module(module_args=dict(args, timeout=max(0.5, min(interval, remaining))),
                                          task_vars=task_vars)
            waited = time.monotonic() - started
            if not (answer.get("failed") and answer.get("timed_out")) or waited >= total:
                break
            # on stderr, as warnings are: a terminal and an AWX job show it, a machine-read stdout
            # (a JSON callback) stays as it is
            display.display("[{0}] {1}".format(host, progress_line(answer, waited, total)) if host
                            else progress_line(answer, waited, total), stderr=True)
        if answer.get("failed") and answer.get("timed_out"):
            answer["msg"] = "run {0} was still {1} after waiting {2:g} seconds".format(
                answer.get("build_name"), answer.get("run_state") or "starting", total)
        answer["waited"] = True
        result.update(answer)
        return result

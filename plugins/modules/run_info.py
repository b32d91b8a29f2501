#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module run_info: read an ATVM run's state, optionally waiting until it is over."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: run_info
short_description: Read the state of an ATVM run, optionally waiting until it is over
version_added: 1.0.0
description:
  - Validates the build name before any path or unit name is built from it.
  - Reads the run's C(state.json), its sub-runs (C(subruns/*/state.json)), its outbox (one delivery record per
    post) and the cancellation marker, and the C(ActiveState) of its watcher and runner units.
  - With O(wait=true), returns once the run state is terminal and its watcher has exited (so its posts are
    done), or fails after O(timeout) seconds. While it waits, a progress line is printed at least every minute
    (O(progress_interval)).
  - Fails when the run has ended and a post failed or is still pending with no watcher left to send it (the
    message names the build, the posts and the command that resends them), unless O(fail_on_undelivered=false).
  - Fails too when the run is not over but neither its runner nor its watcher unit runs (the watcher gave up, for
    example after systemd's start limit), as nothing would then decide or post it. The message says how to start the
    watcher again (it resumes and posts once). With O(wait=true) this ends the wait at once.
    So a job that reads the run turns red when its result did not reach the channel.
  - Fails when the build has no run on this host (a mistyped build name), naming the closest existing builds,
    unless O(missing_ok=true); with O(wait=true) too, at once.
  - With O(fail_on_result=true), fails when the run is over and its result is not V(PASS), so an AWX workflow can
    branch on a failed run.
  - Never changes anything.
author:
  - atvm.watcher contributors (!UNKNOWN)
extends_documentation_fragment:
  - atvm.watcher.run
options:
  wait:
    description:
      - Wait until the run is over and its watcher has exited.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait with O(wait=true) before the task fails.
    type: float
    default: 3600
  progress_interval:
    description:
      - With O(wait=true), a line saying where the run is (state, watcher phase, sub-runs done, posts sent, failed and
        pending, time waited) is printed after every O(progress_interval) seconds of waiting, so the output of a
        terminal or an AWX job is never silent for long. The default keeps it under a minute.
    type: float
    default: 55
    version_added: 2.1.0
  fail_on_undelivered:
    description:
      - Fail when the run has ended, its watcher is gone, and a post failed (V(POST_FAILED)) or is still pending;
        or when the run is not over and neither its runner nor its watcher runs (RV(watcher_gone)).
      - V(false) reports the same facts (RV(undelivered)) without failing.
    type: bool
    default: true
    version_added: 2.0.0
  missing_ok:
    description:
      - V(false) fails the task when the build has no run on this host, naming the closest existing build names.
      - V(true) returns RV(exists=false) without failing (for scripts that probe whether a run exists).
    type: bool
    default: false
    version_added: 2.1.0
  fail_on_result:
    description:
      - Fail when the run is over (a terminal state) and its result is not V(PASS) (V(FAIL) or V(UNKNOWN)), with the
        result and the reasons. Nothing fails while the run is not over; use O(wait=true) to wait for its end.
      - V(false) reports the result without failing on it.
    type: bool
    default: false
    version_added: 2.1.0
attributes:
  check_mode:
    description: The module only reads; it runs the same in check mode.
    support: full
  diff_mode:
    description: Nothing changes, so there is nothing to show.
    support: none
seealso:
  - module: atvm.watcher.run_cancel
"""

EXAMPLES = r"""
- name: Read a run
  atvm.watcher.run_info:
    build_name: nightly-42
  register: run

- name: Wait up to two hours for the run to end
  atvm.watcher.run_info:
    build_name: nightly-42
    wait: true
    timeout: 7200
  register: run

- name: Wait for the run and fail the job when it did not pass (an AWX workflow branches on it)
  atvm.watcher.run_info:
    build_name: nightly-42
    wait: true
    fail_on_result: true

- name: Only ask whether a run exists
  atvm.watcher.run_info:
    build_name: nightly-42
    missing_ok: true
  register: run
"""

RETURN = r"""
build_name:
  description: The build name of the run.
  returned: always
  type: str
  sample: nightly-42
state_dir:
  description: The run's state directory.
  returned: always
  type: str
  sample: /var/lib/atvm-run-watcher/nightly-42
exists:
  description: Whether the run exists (a state directory, a state file or an active unit).
  returned: always
  type: bool
  sample: true
run_state:
  description:
    - V(RUNNING), V(COMPLETED), V(FAILED), V(CANCELLED), V(TERMINATED), V(HUNG) or V(UNKNOWN).
    - Null before the watcher wrote its state.
  returned: always
  type: str
  sample: COMPLETED
result:
  description: V(PASS), V(FAIL), V(RUN) or V(UNKNOWN).
  returned: always
  type: str
  sample: PASS
terminal:
  description: Whether the run state is terminal.
  returned: always
  type: bool
  sample: true
watcher_gone:
  description:
    - The run is not over but neither its runner nor its watcher unit runs, so nothing will decide or post it until
      its watcher is started again. False when systemd could not be asked.
  returned: always
  type: bool
  sample: false
  version_added: 2.0.0
live:
  description: Whether the run is live (its runner runs, or its watcher watches a run that is not over).
  returned: always
  type: bool
  sample: false
phase:
  description: The watcher's phase (V(starting), V(watching), V(delivering), V(done), V(delivery-failed)).
  returned: always
  type: str
  sample: done
categorized:
  description: Whether the run is categorized.
  returned: always
  type: bool
created_at:
  description: When the run's state was created (UTC).
  returned: always
  type: str
updated_at:
  description: When the run's state was last written (UTC).
  returned: always
  type: str
ended_at:
  description: When the run ended (UTC), or null.
  returned: always
  type: str
reasons:
  description: Why the run is not a PASS (or why it was cancelled).
  returned: always
  type: list
  elements: str
metadata:
  description: The run metadata (template, config family, config file, ...).
  returned: always
  type: dict
runner_exit:
  description: How the runner ended, as the watcher recorded it.
  returned: always
  type: dict
subruns:
  description: One entry per (sub-)run.
  returned: always
  type: list
  elements: dict
  contains:
    index:
      description: Position of the sub-run in the request (0-based).
      type: int
    name:
      description: The sub-run's name.
      type: str
    state:
      description: The sub-run's state.
      type: str
    result:
      description: The sub-run's result.
      type: str
    delivery:
      description: The delivery status of its post (V(SENDING), V(SENT), V(POST_FAILED), V(CORRUPT)) or null.
      type: str
    key:
      description: The delivery key (C(000-linux)).
      type: str
    changes:
      description:
        - What changed since the last run of the sub-run's suite (see the collection's docs/history.md), or null
          when the run keeps no history.
        - C(previous_build) (null on a first run or without earlier per-test results), C(previous_at),
          C(first_run), C(per_test_results) (false with C(why) when the per-test evidence is missing or
          incomplete), C(new_failures), C(fixed), C(still_failing) (each with its C(streak)), C(flaky) (lists of
          C(spec) and C(title)), C(tests) (this run's tests by state), C(disagreements), C(suite).
      type: dict
      version_added: 2.0.0
  sample: [{"index": 0, "name": "linux", "state": "COMPLETED", "result": "PASS", "delivery": "SENT", "key": "000-linux",
            "changes": {"previous_build": "nightly-41", "new_failures": [], "still_failing": [],
                        "fixed": [{"spec": "cypress/e2e/migration/rhel96-fc-01.cy.ts",
                                   "title": "Migration of rhel96-fc-01 boots the target VM"}], "flaky": []}}]
request:
  description:
    - The request post, when the request needed one (its sub-run posts did not say how it ended, see
      the collection's docs/decision-rules.md); null otherwise.
  returned: always
  type: dict
  contains:
    key:
      description: Its delivery key (always C(request)).
      type: str
    state:
      description: The request's final state the post says.
      type: str
    result:
      description: The request's result the post says.
      type: str
    delivery:
      description: The delivery status of the post.
      type: str
    decided_at:
      description: When it was decided.
      type: str
  sample: {"key": "request", "state": "FAILED", "result": "FAIL", "delivery": "SENT", "decided_at": "2026-11-27T10:41:07.120Z"}
delivery:
  description:
    - Counts of the run's posts by delivery status (V(SENT), V(POST_FAILED), V(PENDING) or V(SENDING)).
    - C(corrupt) is present when a delivery record was unreadable and set aside; whether that post was made
      is unknown, so it is neither sent nor pending.
  returned: always
  type: dict
  sample: {"sent": 3, "failed": 0, "pending": 0}
outbox:
  description: The delivery records without their message text.
  returned: always
  type: list
  elements: dict
cancel_marker:
  description: The cancellation marker, or null.
  returned: always
  type: dict
  sample: {"schema": 1, "requested_at": "2026-11-27T10:00:00.000Z", "by": "ansible", "reason": "cancelled from Ansible"}
units:
  description:
    - The watcher and runner units' properties (C(ActiveState), C(SubState), C(Result), C(MainPID), ...) and C(live).
    - When systemd cannot be asked, a unit has only C(unit), C(live=false) and C(error).
  returned: always
  type: dict
waited:
  description: Whether the task waited.
  returned: always
  type: bool
timed_out:
  description: Whether waiting timed out (the task then fails).
  returned: always
  type: bool
undelivered:
  description:
    - The delivery records of an ended run, with no watcher left, that are not V(SENT) (failed or pending).
    - Empty while the run or its watcher is still going.
  returned: always
  type: list
  elements: dict
  version_added: 2.0.0
  sample: [{"key": "000-linux", "status": "POST_FAILED", "last_error": "HTTP 400 ... (permanent)"}]
unknown_build:
  description: Set when the task failed because the build has no run on this host.
  returned: on failure because the build has no run
  type: bool
  version_added: 2.1.0
failed_on_result:
  description: Set when the task failed because of O(fail_on_result=true).
  returned: on failure because of the run's result
  type: bool
  version_added: 2.1.0
"""

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import LaunchError
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.runinfo import (
    unknown_build_text,
    watcher_gone_text,
)


def _read(module: glue.AnsibleModule, build: str) -> dict:
    params = module.params
    info = glue.launcher(module, params["state_root"]).info(build, wait=params["wait"], timeout=params["timeout"])
    ended = info["terminal"] and not info["units"]["watcher"]["live"]
    undelivered = [r for r in info["outbox"] if r.get("status") != "SENT"] if ended else []
    info["undelivered"] = undelivered
    if not info["exists"] and not params["missing_ok"]:
        raise LaunchError(unknown_build_text(build, params["state_root"]) + " (missing_ok=true accepts a run that "
                          "does not exist)", unknown_build=True, **info)
    if info["watcher_gone"] and params["fail_on_undelivered"]:
        raise LaunchError(watcher_gone_text(info), **info)
    if undelivered and params["fail_on_undelivered"]:
        posts = "; ".join("{0} {1}{2}".format(r.get("key"), r.get("status"), " ({0})".format(r["last_error"])
                                              if r.get("last_error") else "") for r in undelivered)
        raise LaunchError(
            "build {0} ended ({1} {2}) but {3} post(s) did not reach the channel: {4}. Resend them with: "
            "ansible-playbook atvm.watcher.resend_run -e build_name={0} (on the controller: atvm-run-watcher "
            "resend --build-name {0})".format(build, info["run_state"], info["result"], len(undelivered), posts),
            **info)
    if params["fail_on_result"] and info["terminal"] and info["result"] != "PASS":
        reasons = "; ".join(info["reasons"])
        raise LaunchError("build {0} ended {1} with result {2}{3}".format(
            build, info["run_state"], info["result"], ": " + reasons if reasons else ""), failed_on_result=True, **info)
    return info


def main() -> None:
    spec = glue.run_spec()
    spec.update({
        "wait": {"type": "bool", "default": False},
        "timeout": {"type": "float", "default": 3600},
        "fail_on_undelivered": {"type": "bool", "default": True},
        "missing_ok": {"type": "bool", "default": False},
        "fail_on_result": {"type": "bool", "default": False},
        "progress_interval": {"type": "float", "default": 55},  # used by the action plugin
    })
    module = glue.new_module(spec)
    build = glue.checked_build_name(module)
    glue.finish(module, lambda: _read(module, build))


if __name__ == "__main__":
    main()

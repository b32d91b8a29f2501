#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module runner_start: write a run's runner.env and start its runner under a ready watcher."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: runner_start
short_description: Start the runner of an ATVM run, only under a ready watcher
version_added: 1.0.0
description:
  - Validates the build name before any path or unit name is built from it.
  - Refuses to start the runner unless the run's watcher C(atvm-run-watcher@<build_name>.service) is C(active)
    B(and) its C(state.json) says it is C(watching); watcher first is enforced, not just documented.
    Start the watcher with M(atvm.watcher.watcher_start) first.
  - Refuses to start a runner a second time under the same watcher (the run's runner already ran), a runner
    whose log is not the log the watcher reads, and a runner command other than the one the watcher was
    started for (when M(atvm.watcher.watcher_start) was given O(atvm.watcher.watcher_start#module:metadata.runner_command)).
  - Before it starts the runner, checks on this host what the command needs (its working directory, its program
    on the runner unit's C(PATH), the script it runs, the interpreter of a C(#!) script, no shell syntax) and
    fails naming what is missing, with nothing started.
  - Writes C(<state_root>/<build_name>/runner.env) (mode C(0600), quoted values) with C(ATVM_RUNNER_COMMAND),
    C(ATVM_RUNNER_WORKDIR) and C(ATVM_RUNNER_LOG), then starts C(atvm-runner@<build_name>.service).
  - When the runner is already running with the same parameters nothing changes; with other parameters the
    task fails and changes nothing. To replace a live run, cancel it (M(atvm.watcher.run_cancel)) or start its
    watcher again with O(atvm.watcher.watcher_start#module:force=true), then start the runner.
author:
  - atvm.watcher contributors (!UNKNOWN)
extends_documentation_fragment:
  - atvm.watcher.run
options:
  command:
    description:
      - The runner command (the wrapper), split with shlex by the runner entry; no shell runs it.
    type: str
    required: true
  workdir:
    description:
      - The directory the command runs in. Default the automation checkout the watcher was started with.
    type: path
  runner_log:
    description:
      - The log the runner appends to. Default the runner log the watcher reads; another path is refused.
    type: path
attributes:
  check_mode:
    description: Nothing is written or started; the checks run and the task reports what would happen.
    support: full
  diff_mode:
    description: Shows the per-run runner env file before and after.
    support: full
seealso:
  - module: atvm.watcher.watcher_start
  - module: atvm.watcher.run_cancel
"""

EXAMPLES = r"""
- name: Start the runner of a run whose watcher is ready
  atvm.watcher.runner_start:
    build_name: nightly-42
    command: python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts --build_name nightly-42 --categorize
"""

RETURN = r"""
build_name:
  description: The build name of the run.
  returned: success
  type: str
  sample: nightly-42
unit:
  description: The runner unit of the run.
  returned: success
  type: str
  sample: atvm-runner@nightly-42.service
env_file:
  description: The per-run env file written for the runner.
  returned: success
  type: str
  sample: /var/lib/atvm-run-watcher/nightly-42/runner.env
runner_log:
  description: The log the runner appends to.
  returned: success
  type: str
  sample: /var/lib/atvm-run-watcher/nightly-42/runner.log
workdir:
  description: The directory the runner command runs in.
  returned: success
  type: str
  sample: /root/cdc-e2e-cyp-12.17.4
runner:
  description: The runner unit's properties after the start.
  returned: success, except in check mode
  type: dict
  sample: {"unit": "atvm-runner@nightly-42.service", "ActiveState": "active", "SubState": "running", "MainPID": 4343}
watcher:
  description: The watcher unit's properties.
  returned: on failure because no ready watcher watches the run
  type: dict
phase:
  description: The watcher's phase from C(state.json).
  returned: on failure because no ready watcher watches the run
  type: str
differing:
  description: The runner settings that differ from those of the running runner.
  returned: on failure because the runner runs with other parameters
  type: list
  elements: str
journal:
  description: The runner unit's last 30 journal lines (webhook redacted).
  returned: on failure to start
  type: str
"""

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.request import RunnerRequest


def main() -> None:
    spec = glue.run_spec()
    spec.update({
        "command": {"type": "str", "required": True},
        "workdir": {"type": "path"},
        "runner_log": {"type": "path"},
    })
    module = glue.new_module(spec)
    build = glue.checked_build_name(module)
    params = module.params

    def call() -> dict:
        request = RunnerRequest(build_name=build, command=params["command"], state_root=params["state_root"],
                                workdir=params["workdir"], runner_log=params["runner_log"])
        launcher = glue.launcher(module, params["state_root"])
        plan = launcher.plan_runner(request)
        if plan.changed:  # before the runner starts: its working directory and its command on this host
            launcher.check_launchable(request.command, plan.result["workdir"])
        return launcher.start_runner(request, check_mode=module.check_mode)

    glue.finish(module, call)


if __name__ == "__main__":
    main()

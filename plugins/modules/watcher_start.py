#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module watcher_start: write a run's watcher.env and start its watcher, ready."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: watcher_start
short_description: Start the watcher of an ATVM run and wait until it really watches
version_added: 1.0.0
description:
  - Validates the build name before any path or unit name is built from it.
  - Writes the per-run settings C(<state_root>/<build_name>/watcher.env) (mode C(0600), every value quoted so
    that no value can inject another variable) with the run's settings and metadata.
  - For a new run, stops a stale watcher of the same build name (one still posting the previous run's result
    is let finish, up to O(timeout)), moves the previous run's state directory aside to
    C(<state_root>/.archive/) (the newest O(archive_keep) are kept), starts C(atvm-run-watcher@<build_name>.service)
    and waits until the unit is C(active) B(and) the run's C(state.json) says the watcher is C(watching).
  - Before a new run starts (in check mode too), checks on this host what the run needs and fails naming what
    is missing, with nothing started - the automation checkout O(automation_dir), and, when
    O(metadata.runner_command) is given, its program on the runner unit's C(PATH) (the service manager's), the
    script it runs and the interpreter of a C(#!) script; a runner or template command holding shell syntax
    outside quotes (pipes, redirections, C(&&), C($X)) is refused, as no shell runs it.
  - On a live run (its runner runs, or its watcher watches a run that is not over) the same parameters change
    nothing and restart nothing; other parameters fail unless O(force=true), which cancels the live run (no post),
    archives it and starts a new watcher.
  - When the watcher does not become ready, the task fails with the unit's journal tail (webhook redacted);
    a watcher that was still starting after O(timeout) is stopped.
author:
  - atvm.watcher contributors (!UNKNOWN)
extends_documentation_fragment:
  - atvm.watcher.run
options:
  automation_dir:
    description:
      - The automation checkout (C(ATVM_AUTOMATION_DIR)); the reporter artifacts, JUnit XML and VM inventory
        are found under it unless O(settings) says otherwise, and the runner runs in it by default.
    type: path
    default: /root/cdc-e2e-cyp-12.17.4
  categorized:
    description:
      - Whether the runner executes grouped sub-runs (C(--categorize)); the watcher then posts one status per
        finished sub-run.
    type: bool
    default: false
  expected_hosts:
    description:
      - Hosts the run must report on, in addition to the hosts found in the specs it runs.
    type: list
    elements: str
    default: []
  runner_log:
    description:
      - The runner log the watcher reads and the runner appends to. Default C(<state_root>/<build_name>/runner.log).
    type: path
  metadata:
    description:
      - Run metadata shown in the posted status and kept in C(state.json).
    type: dict
    default: {}
    suboptions:
      template:
        description: The template name.
        type: str
      config_family:
        description: The config family.
        type: str
      config_file:
        description: The Cypress config file.
        type: str
      migration_style:
        description: The migration style.
        type: str
      integration_plugin:
        description: The integration plugin.
        type: str
      scope:
        description: A description of the run's scope.
        type: str
      template_command:
        description: The template command the run was rendered with.
        type: str
      runner_command:
        description:
          - The runner command the run is started with. When set, M(atvm.watcher.runner_start) refuses to
            start another command under this watcher.
        type: str
  settings:
    description:
      - Further per-run watcher settings by their environment variable name, for example
        C(ATVM_REPORTER_DIR), C(ATVM_HANG_TIMEOUT), C(ATVM_SETTLE_QUIET).
      - The Mattermost settings are refused here (they belong in the controller-wide env file), and so are the
        names this module sets from its own options.
    type: dict
    default: {}
  force:
    description:
      - Replace a live run that has other parameters. The live run is cancelled (marker first, nothing posted),
        its state archived, and a new watcher started.
    type: bool
    default: false
  timeout:
    description:
      - Seconds to wait for the watcher to become ready (and for a previous watcher to finish posting).
    type: float
    default: 60
  archive_keep:
    description:
      - How many archived state directories of this build name are kept.
    type: int
    default: 5
attributes:
  check_mode:
    description: Nothing is written, stopped or started; the task reports what would happen.
    support: full
  diff_mode:
    description: Shows the per-run env file before and after.
    support: full
seealso:
  - module: atvm.watcher.runner_start
  - module: atvm.watcher.run_cancel
  - module: atvm.watcher.run_info
"""

EXAMPLES = r"""
- name: Start the watcher of a categorized run
  atvm.watcher.watcher_start:
    build_name: nightly-42
    categorized: true
    expected_hosts: [rhel96-fc-01, win2022-fc-02]
    metadata:
      config_file: cypress.atvm-config-gold.ts
      runner_command: python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts --build_name nightly-42 --categorize

- name: Replace a live run that was started with other parameters
  atvm.watcher.watcher_start:
    build_name: nightly-42
    settings:
      ATVM_HANG_TIMEOUT: "3600"
    force: true
"""

RETURN = r"""
build_name:
  description: The build name of the run.
  returned: success
  type: str
  sample: nightly-42
unit:
  description: The watcher unit of the run.
  returned: success
  type: str
  sample: atvm-run-watcher@nightly-42.service
state_dir:
  description: The run's state directory.
  returned: success
  type: str
  sample: /var/lib/atvm-run-watcher/nightly-42
env_file:
  description: The per-run env file written for the watcher.
  returned: success
  type: str
  sample: /var/lib/atvm-run-watcher/nightly-42/watcher.env
runner_log:
  description: The runner log the watcher reads.
  returned: success
  type: str
  sample: /var/lib/atvm-run-watcher/nightly-42/runner.log
archived_to:
  description: Where the previous run's state directory was moved, or null.
  returned: success
  type: str
  sample: /var/lib/atvm-run-watcher/.archive/nightly-42.20261127T100000Z
cancelled_previous:
  description: Whether a live run with other parameters was cancelled (O(force=true)).
  returned: success
  type: bool
  sample: false
new_run:
  description:
    - Whether a new run is (or, in check mode, would be) started, as opposed to a live run left as it is.
    - A playbook can run this module in check mode first to learn whether the template step is due.
  returned: success
  type: bool
  sample: true
resumed:
  description: Whether the watcher of a live run had died and was started again on the run's state.
  returned: success
  type: bool
  sample: false
phase:
  description: The watcher's phase from C(state.json) (V(watching) when ready).
  returned: success, except in check mode
  type: str
  sample: watching
watcher:
  description: The watcher unit's properties.
  returned: success, except in check mode; on failure when known
  type: dict
  sample: {"unit": "atvm-run-watcher@nightly-42.service", "ActiveState": "active", "SubState": "running",
           "Result": "success", "MainPID": 4242, "ExecMainStatus": 0, "ExecMainCode": 0, "LoadState": "loaded"}
journal:
  description: The watcher unit's last 30 journal lines (webhook redacted).
  returned: on failure to start or to become ready
  type: str
differing:
  description: The settings that differ from those of the live run.
  returned: on failure because a live run has other parameters
  type: list
  elements: str
  sample: ["ATVM_CATEGORIZED"]
build_name_refused:
  description: Set when the build name was refused (nothing was written).
  returned: on failure because of the build name
  type: bool
"""

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.request import WatcherRequest, metadata_from
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import DEFAULT_AUTOMATION_DIR

METADATA_OPTIONS = ("template", "config_family", "config_file", "migration_style", "integration_plugin", "scope",
                    "template_command", "runner_command")


def _env_value(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return "" if value is None else str(value)


def main() -> None:
    spec = glue.run_spec()
    spec.update({
        "automation_dir": {"type": "path", "default": DEFAULT_AUTOMATION_DIR},
        "categorized": {"type": "bool", "default": False},
        "expected_hosts": {"type": "list", "elements": "str", "default": []},
        "runner_log": {"type": "path"},
        "metadata": {"type": "dict", "default": {},
                     "options": {name: {"type": "str"} for name in METADATA_OPTIONS}},
        "settings": {"type": "dict", "default": {}},
        "force": {"type": "bool", "default": False},
        "timeout": {"type": "float", "default": 60},
        "archive_keep": {"type": "int", "default": 5},
    })
    module = glue.new_module(spec)
    build = glue.checked_build_name(module)
    params = module.params

    def call() -> dict:
        request = WatcherRequest(
            build_name=build, state_root=params["state_root"], automation_dir=params["automation_dir"],
            categorized=params["categorized"], expected_hosts=params["expected_hosts"],
            runner_log=params["runner_log"], metadata=metadata_from(params["metadata"] or {}),
            settings={str(k): _env_value(v) for k, v in (params["settings"] or {}).items()},
        )
        launcher = glue.launcher(module, params["state_root"], archive_keep=params["archive_keep"])
        if launcher.plan_watcher(request, params["force"]).result["new_run"]:
            # before anything starts: what the run needs on this host (the checkout, the command)
            launcher.check_launchable(request.metadata.get("runner_command"), request.automation_dir,
                                      request.metadata.get("template_command"))
        return launcher.start_watcher(request, check_mode=module.check_mode, force=params["force"],
                                      timeout=params["timeout"])

    glue.finish(module, call)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module template_render: run the approved template command of a run."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: template_render
short_description: Run the approved template command of an ATVM run
version_added: 1.0.0
description:
  - Runs the approved template command (for example C(python3 ./cmc-templates.py --template_name cmc-e2e ...))
    synchronously in the automation checkout, before the watcher and the runner of a run are started.
  - The command is split like a shell would split it (C(shlex)) but no shell runs it; its standard output
    and standard error go to the launch log, which is truncated first and created mode C(0600).
  - When the command exits non-zero or outlives O(timeout) (its whole process group is then killed), the
    task fails with the last lines of the launch log, so the tasks after it (watcher, runner) never run.
  - The build name is validated before any path is built from it.
author:
  - atvm.watcher contributors (!UNKNOWN)
options:
  build_name:
    description:
      - The build name of the run (letters, digits, V(.), V(_), V(-); starts with a letter or digit; no V(..)).
    type: str
    required: true
  command:
    description:
      - The template command, split with shlex (quotes are honoured, no shell expansion, no pipes).
      - A command holding shell syntax outside quotes (C(|), C(>), C(&&), C(;), C($X), backquotes) is refused before
        anything runs; run a shell explicitly when one is needed (C(bash -c '...')).
    type: str
    required: true
  chdir:
    description:
      - The automation checkout the command runs in.
    type: path
    default: /root/cdc-e2e-cyp-12.17.4
  log_path:
    description:
      - Where the command's output goes. Default C(/tmp/<build_name>.launch.log).
      - The file is truncated, never followed through a symbolic link, and kept mode C(0600).
    type: path
  timeout:
    description:
      - Seconds the command may run before its process group is killed and the task fails.
    type: float
    default: 900
  tail_lines:
    description:
      - How many last lines of the launch log a failure (and a success) returns.
    type: int
    default: 30
  environment:
    description:
      - Extra environment variables for the command (for example credentials the template tool needs).
      - Their values are never shown in the task output and are removed from the returned log tail.
    type: dict
    default: {}
attributes:
  check_mode:
    description: In check mode the command is not run; the task reports what would run.
    support: full
  diff_mode:
    description: Running a command has no before/after state to show.
    support: none
notes:
  - The task always reports C(changed) when the command ran.
seealso:
  - module: atvm.watcher.watcher_start
  - module: atvm.watcher.runner_start
"""

EXAMPLES = r"""
- name: Render the Cypress config of the run
  atvm.watcher.template_render:
    build_name: nightly-42
    command: python3 ./cmc-templates.py --template_name cmc-e2e --config_file cypress.atvm-config-gold.ts
    chdir: /root/cdc-e2e-cyp-12.17.4
    timeout: 600

- name: Render with a credential the template tool reads from its environment
  atvm.watcher.template_render:
    build_name: nightly-42
    command: python3 ./cmc-templates.py --template_name cmc-e2e
    environment:
      CMC_TOKEN: "{{ vault_cmc_token }}"
  no_log: true
"""

RETURN = r"""
cmd:
  description: The command as it was run (after shlex splitting).
  returned: always
  type: list
  elements: str
  sample: ["python3", "./cmc-templates.py", "--template_name", "cmc-e2e"]
chdir:
  description: The directory the command ran in.
  returned: always
  type: str
  sample: /root/cdc-e2e-cyp-12.17.4
log_path:
  description: The launch log holding the command's output.
  returned: always
  type: str
  sample: /tmp/nightly-42.launch.log
rc:
  description: The command's exit status (negative when it was killed by a signal); null in check mode.
  returned: always
  type: int
  sample: 0
timed_out:
  description: Whether the command outlived O(timeout) and was killed.
  returned: always
  type: bool
  sample: false
duration:
  description: Seconds the command ran.
  returned: always
  type: float
  sample: 12.48
log_tail:
  description: The last O(tail_lines) lines of the launch log (secrets removed).
  returned: always
  type: list
  elements: str
  sample: ["rendered cypress.atvm-config-gold.ts"]
"""

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.launcher import shell_syntax_problem
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.template_step import render_template
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import DEFAULT_AUTOMATION_DIR


def main() -> None:
    module = glue.new_module({
        "build_name": {"type": "str", "required": True},
        "command": {"type": "str", "required": True},
        "chdir": {"type": "path", "default": DEFAULT_AUTOMATION_DIR},
        "log_path": {"type": "path"},
        "timeout": {"type": "float", "default": 900},
        "tail_lines": {"type": "int", "default": 30},
        "environment": {"type": "dict", "default": {}, "no_log": True},
    })
    build = glue.checked_build_name(module)
    params = module.params
    syntax = shell_syntax_problem(params["command"], "template command")
    if syntax:
        module.fail_json(msg=syntax + "; nothing was run")
    glue.finish(module, lambda: render_template(
        build, params["command"], params["chdir"], log_path=params["log_path"], timeout=params["timeout"],
        tail_lines=params["tail_lines"], environment=params["environment"], check_mode=module.check_mode,
        secrets=glue.global_secrets(),
    ))


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module run_cancel: cancel an ATVM run without posting anything."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: run_cancel
short_description: Cancel an ATVM run (nothing is posted)
version_added: 1.0.0
description:
  - Validates the build name before any path or unit name is built from it.
  - Writes the cancellation marker B(first), then sets the run state in C(state.json) to V(CANCELLED), then stops
    C(atvm-runner@<build_name>.service) and C(atvm-run-watcher@<build_name>.service). The watcher sees the marker
    and never posts a cancelled run; the run state is set again after the units stopped, so it is the last word.
  - A run that had already ended (any terminal state) is left as it is and the task says so without a change;
    when such a run's runner is still alive (for example a V(HUNG) run) the runner is stopped and the verdict kept.
  - A build name with no run on this host fails the task (naming the closest existing builds) and changes nothing;
    with O(missing_ok=true) it changes nothing and succeeds.
author:
  - atvm.watcher contributors (!UNKNOWN)
extends_documentation_fragment:
  - atvm.watcher.run
options:
  reason:
    description:
      - Why the run is cancelled (kept in the marker and in C(state.json)).
    type: str
    default: cancelled from Ansible
  requested_by:
    description:
      - Who cancels (kept in the marker).
    type: str
    default: ansible
  missing_ok:
    description:
      - Succeed without a change when the build has no run on this host, instead of failing.
    type: bool
    default: false
    version_added: 2.1.0
attributes:
  check_mode:
    description: Nothing is written or stopped; the task reports what would happen.
    support: full
  diff_mode:
    description: Shows the run state before and after.
    support: full
seealso:
  - module: atvm.watcher.run_info
"""

EXAMPLES = r"""
- name: Cancel a run
  atvm.watcher.run_cancel:
    build_name: nightly-42
    reason: wrong config family
    requested_by: "{{ tower_user_name | default('ansible') }}"
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
previous_state:
  description: The run state before the task (null when the run had no state yet).
  returned: always
  type: str
  sample: RUNNING
run_state:
  description: The run state after the task (V(CANCELLED), or the terminal state the run had already reached).
  returned: always
  type: str
  sample: CANCELLED
stopped:
  description: The units that were active and have been stopped.
  returned: always
  type: list
  elements: str
  sample: ["atvm-runner@nightly-42.service", "atvm-run-watcher@nightly-42.service"]
unknown_build:
  description: Set when the task failed because the build has no run on this host.
  returned: on failure because the build has no run
  type: bool
  version_added: 2.1.0
"""

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.runinfo import unknown_build_text
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import LaunchError


def main() -> None:
    spec = glue.run_spec()
    spec.update({
        "reason": {"type": "str", "default": "cancelled from Ansible"},
        "requested_by": {"type": "str", "default": "ansible"},
        "missing_ok": {"type": "bool", "default": False},
    })
    module = glue.new_module(spec)
    build = glue.checked_build_name(module)
    params = module.params
    launcher = glue.launcher(module, params["state_root"], by=params["requested_by"])

    def call() -> dict:
        if not params["missing_ok"] and not launcher.info(build)["exists"]:
            raise LaunchError(unknown_build_text(build, params["state_root"]) + "; nothing was cancelled "
                              "(missing_ok=true accepts a run that does not exist)", unknown_build=True)
        return launcher.cancel(build, reason=params["reason"], check_mode=module.check_mode)

    glue.finish(module, call)


if __name__ == "__main__":
    main()

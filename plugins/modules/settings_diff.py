#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module settings_diff: what a new watcher env file changes, with the secrets masked."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: settings_diff
short_description: Show what a new watcher env file changes, with the webhook and other secrets masked
version_added: 2.1.0
description:
  - Compares the settings of the env file O(path) on the host with those of O(content) (the file about to be
    written) and reports the settings that change, as a diff of C(NAME="value") lines.
  - The value of the webhook, and of every setting whose name says it is a secret (C(WEBHOOK), C(PASSWORD), C(SECRET),
    C(TOKEN), C(KEY), C(CREDENTIAL)), is never shown; a changed secret shows as C(******** (changed)). The webhook
    is also removed from any other value that holds it.
  - Reads only; changes nothing. The controller role runs it with C(--diff), before it writes the env file with its
    output hidden, so C(--check --diff) shows the settings that a reinstall changes.
author:
  - atvm.watcher contributors (!UNKNOWN)
options:
  path:
    description: The env file on the host (for example C(/etc/atvm-run-watcher.env)); a missing file has no settings.
    type: path
    required: true
  content:
    description: The new text of the env file. Holds secrets; never shown.
    type: str
    required: true
attributes:
  check_mode:
    description: The module only reads; it runs the same in check mode.
    support: full
  diff_mode:
    description: The diff of the settings, secrets masked.
    support: full
"""

EXAMPLES = r"""
- name: Show the settings a reinstall changes, secrets masked
  atvm.watcher.settings_diff:
    path: /etc/atvm-run-watcher.env
    content: "{{ lookup('ansible.builtin.template', 'atvm-run-watcher.env.j2') }}"
  when: ansible_diff_mode | bool
"""

RETURN = r"""
changed_settings:
  description: The names of the settings that are added, removed or changed.
  returned: always
  type: list
  elements: str
  sample: ["ATVM_HANG_TIMEOUT", "MATTERMOST_ATVM_WEBHOOK"]
"""

import os
import re

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import (
    parse_env_text,
    quote_env_value,
    read_env_file,
)
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.safetext import redact

SECRET_NAME = re.compile(r"WEBHOOK|PASSW(OR)?D|SECRET|TOKEN|KEY|CREDENTIAL", re.IGNORECASE)
MASK = "********"


def shown_lines(values: dict, previous: dict, secrets: list) -> str:
    """``NAME="value"`` lines, sorted, with secret values masked (``(changed)`` when it differs from ``previous``)."""
    lines = []
    for name in sorted(values):
        if SECRET_NAME.search(name):
            value = MASK + (" (changed)" if name in previous and previous[name] != values[name] else "")
        else:
            value = quote_env_value(redact(values[name], secrets)) if secrets else quote_env_value(values[name])
        lines.append("{0}={1}".format(name, value))
    return "".join(line + "\n" for line in lines)


def main() -> None:
    module = glue.new_module({
        "path": {"type": "path", "required": True},
        "content": {"type": "str", "required": True, "no_log": True},
    })
    path = module.params["path"]
    try:
        before = read_env_file(path) if os.path.exists(path) else {}
        after = parse_env_text(module.params["content"], "the new content of " + path)
    except glue.WatcherError as exc:
        glue.fail(module, exc)
        return
    secrets = [v for k, v in list(before.items()) + list(after.items()) if SECRET_NAME.search(k) and v]
    changed = sorted(name for name in set(before) | set(after) if before.get(name) != after.get(name))
    result = {"changed": bool(changed), "changed_settings": changed}
    if module._diff:  # pylint: disable=protected-access
        result["diff"] = {"before": shown_lines(before, {}, secrets), "after": shown_lines(after, before, secrets),
                          "before_header": path + " (settings, secrets masked)",
                          "after_header": path + " (settings, secrets masked)"}
    module.exit_json(**result)


if __name__ == "__main__":
    main()

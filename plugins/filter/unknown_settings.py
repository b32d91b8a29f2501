# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Filter unknown_settings: the ATVM_ names in a list that the watcher does not read."""
from __future__ import annotations

DOCUMENTATION = r"""
name: unknown_settings
author: atvm.watcher contributors (!UNKNOWN)
short_description: Name the C(ATVM_*) variables the watcher does not read
version_added: 2.0.0
description:
  - Takes variable names (a list, or a dict whose keys are the names; its values are never read) and returns one
    line per C(ATVM_*) name that is not a watcher setting, a run metadata name or a name the entry scripts read
    (a typo, a removed setting), with the closest setting name or what replaces a removed one.
  - The same check as C(atvm-run-watcher check-config --strict). Other names (C(MATTERMOST_ATVM_*), proxies) are
    not checked.
positional: _input
options:
  _input:
    description: The variable names.
    type: raw
    required: true
"""

EXAMPLES = r"""
- name: Refuse a mistyped setting before writing the env file
  ansible.builtin.assert:
    that: (controller_env | atvm.watcher.unknown_settings) | length == 0
    fail_msg: "{{ controller_env | atvm.watcher.unknown_settings | join('; ') }}"
"""

RETURN = r"""
_value:
  description: One line per unknown name, sorted by name; empty when every name is known.
  type: list
  elements: str
  sample: ["ATVM_HANG_TIMOUT is not a setting, nothing reads it; did you mean ATVM_HANG_TIMEOUT?"]
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import unknown_names


def unknown_settings(names):
    """The problem lines for the unknown ``ATVM_*`` names (see DOCUMENTATION)."""
    if isinstance(names, Mapping):
        names = list(names.keys())
    if isinstance(names, (str, bytes)) or not isinstance(names, (list, tuple)):
        raise AnsibleFilterError("unknown_settings expects a list of names or a dict, got {0}".format(type(names).__name__))
    return unknown_names({str(name): "" for name in names})


class FilterModule:

    def filters(self):
        return {"unknown_settings": unknown_settings}

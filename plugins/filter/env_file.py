# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: env_file
author: atvm.watcher contributors (!UNKNOWN)
short_description: Render a mapping as a systemd environment file, every value quoted
version_added: 1.0.0
description:
  - Renders C(NAME="value") lines, sorted by name, with the same quoting rules the watcher uses
    for its own env files, so that no value can add a second variable or a line.
  - Quotes, backslashes, C($) and backticks are escaped inside double quotes. A value that could end
    or bend a line for systemd or for any line-splitting reader is refused, that is control characters other
    than tab (newline, carriage return, NUL, vertical tab, form feed, the C1 range with next-line),
    the Unicode line and paragraph separators U+2028 and U+2029, and lone surrogates. A name that is
    not a valid environment variable name is refused too. Booleans become C(true) / C(false);
    C(null) values are left out.
  - The error message names the variable, never its value (values may be secrets).
positional: _input
options:
  _input:
    description: The variables to render.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Write an env file
  ansible.builtin.copy:
    dest: /etc/example.env
    content: "{{ {'MATTERMOST_ATVM_CHANNEL': 'town-square', 'ATVM_HANG_TIMEOUT': 2700} | atvm.watcher.env_file }}"
    mode: "0600"
"""

RETURN = r"""
_value:
  description: The env file text, one C(NAME="value") line per variable, ending with a newline.
  type: str
  sample: |
    ATVM_HANG_TIMEOUT="2700"
    MATTERMOST_ATVM_CHANNEL="town-square"
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import render_env_file
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError


def env_file(values):
    """Render ``values`` as env file text (see DOCUMENTATION)."""
    if not isinstance(values, Mapping):
        raise AnsibleFilterError("env_file expects a dict, got {0}".format(type(values).__name__))
    for name in sorted(values):
        try:
            render_env_file({str(name): values[name]})
        except ConfigError as exc:
            raise AnsibleFilterError("cannot write variable {0!s} to an env file: {1}".format(name, exc)) from None
    return render_env_file({str(name): value for name, value in values.items()})


class FilterModule:

    def filters(self):
        return {"env_file": env_file}

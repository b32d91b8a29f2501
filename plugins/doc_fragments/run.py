# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Options shared by the modules that address one run by its build name."""

from __future__ import annotations


class ModuleDocFragment:  # pylint: disable=too-few-public-methods
    """The run a module works on: its build name and the state root."""

    DOCUMENTATION = r"""
options:
  build_name:
    description:
      - The build name of the run (letters, digits, V(.), V(_), V(-); starts with a letter or digit; no V(..);
        at most 100 characters).
      - Refused before any path or unit name is built from it.
    type: str
    required: true
  state_root:
    description:
      - The directory holding one state directory per build name.
      - Must be the state root the installed units use.
    type: path
    default: /var/lib/atvm-run-watcher
"""

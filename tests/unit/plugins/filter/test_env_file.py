# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""env_file filter: env file text that the watcher (and systemd) read back value for value."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.atvm.watcher.plugins.filter.env_file import FilterModule, env_file
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import parse_env_text

AWKWARD = {
    "ATVM_JP_HOST": '"host"',
    "ATVM_SUBRUN_MARKER_REGEX": r"^\s*=+ ATVM category: (?P<label>[A-Za-z0-9._-]+) =+\s*$",
    "ATVM_SCOPE": "it's `uname` and $HOME and \\ back",
    "MATTERMOST_ATVM_CHANNEL": "town-square",
}


def test_values_read_back_unchanged():
    assert parse_env_text(env_file(AWKWARD)) == AWKWARD


def test_lines_are_sorted_and_quoted():
    assert env_file({"B": 2, "A": True, "C": None}) == 'A="true"\nB="2"\n'


@pytest.mark.parametrize("value", ["town-square\nATVM_STATE_ROOT=/tmp", "a\rb", "a\x00b", "a\u2028ATVM_X=1", "a\x85b", "a\x0bb"])
def test_a_value_that_could_add_a_line_is_refused_without_showing_it(value):
    with pytest.raises(AnsibleFilterError) as info:
        env_file({"MATTERMOST_ATVM_WEBHOOK": value})
    assert "MATTERMOST_ATVM_WEBHOOK" in str(info.value)
    assert value not in str(info.value)


def test_a_bad_name_is_refused():
    with pytest.raises(AnsibleFilterError, match="invalid environment variable name 'A-B'"):
        env_file({"A-B": "x"})


def test_not_a_dict_is_refused():
    with pytest.raises(AnsibleFilterError, match="expects a dict"):
        env_file(["A=1"])


def test_registered_name():
    assert FilterModule().filters() == {"env_file": env_file}

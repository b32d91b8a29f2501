# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""unknown_settings filter: the controller role's check of controller_env names, before the env file."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.atvm.watcher.plugins.filter.unknown_settings import FilterModule, unknown_settings


def test_known_names_and_other_variables_pass():
    assert unknown_settings({"ATVM_HANG_TIMEOUT": 1, "ATVM_SCOPE": "x", "ATVM_RUNNER_WORKDIR": "/srv",
                             "MATTERMOST_ATVM_WEBHOOK": "secret", "HTTPS_PROXY": "p"}) == []


def test_a_typo_gets_the_closest_name_and_a_removed_setting_its_replacement_values_never_read():
    class Exploding:
        def __str__(self):
            raise AssertionError("a value was read")

    lines = unknown_settings({"ATVM_HANG_TIMOUT": Exploding(), "ATVM_ARCHIVE_KEEP": Exploding(), "ATVM_FOO": 1})
    assert lines == [
        "ATVM_ARCHIVE_KEEP is no longer a setting (removed in 2.0.0: how many old runs of a build are kept is the "
        "archive_keep option of atvm.watcher.watcher_start)",
        "ATVM_FOO is not a setting, nothing reads it",
        "ATVM_HANG_TIMOUT is not a setting, nothing reads it; did you mean ATVM_HANG_TIMEOUT?"]
    assert unknown_settings(["ATVM_POLL_INTERVL"]) == [
        "ATVM_POLL_INTERVL is not a setting, nothing reads it; did you mean ATVM_POLL_INTERVAL?"]


@pytest.mark.parametrize("bad", ["ATVM_X", 3, None])
def test_other_inputs_are_refused(bad):
    with pytest.raises(AnsibleFilterError, match="expects a list of names or a dict"):
        unknown_settings(bad)


def test_registered():
    assert FilterModule().filters()["unknown_settings"] is unknown_settings

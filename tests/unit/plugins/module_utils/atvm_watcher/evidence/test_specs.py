# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the spec path rules: the host a spec belongs to, the meta spec."""
from __future__ import annotations

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import specs

HOSTS = ["rhel96-fc-01", "rhel96-fc", "win2022-dc-02", "rhel96.example.com"]


@pytest.mark.parametrize("spec,expected", [
    ("cypress/e2e/migration/rhel96-fc-01.cy.ts", "rhel96-fc-01"),  # stem, longest of two matching hosts
    ("cypress/e2e/migration/rhel96-fc.cy.ts", "rhel96-fc"),
    ("cypress\\e2e\\WIN2022-DC-02\\boot.cy.ts", "win2022-dc-02"),  # directory component, any case, backslashes
    ("cypress/e2e/rhel96.example.com.cy.ts", "rhel96.example.com"),  # a host with dots
    ("cypress/e2e/migration/linux_rhel96-fc-01_smoke.cy.ts", "rhel96-fc-01"),  # embedded between non-host chars
    ("cypress/e2e/migration/rhel96-fc-010.cy.ts", "rhel96-fc-010"),  # no inventory host: the pattern
    ("cypress/e2e/migration/sles15-db-04.spec.js", "sles15-db-04"),  # pattern, .spec.js
    ("cypress/e2e/check-xml-files.ts", None),  # meta spec: no host
    ("cypress/e2e/migration/readme.md", None),
    ("", None),
])
def test_host_for_spec(spec, expected):
    assert specs.host_for_spec(spec, HOSTS, config.DEFAULT_HOST_PATTERN) == expected


def test_host_for_spec_pattern_result_takes_inventory_spelling():
    assert specs.host_for_spec("e2e/RHEL96-FC-01.cy.ts", [], config.DEFAULT_HOST_PATTERN) == "RHEL96-FC-01"
    assert specs.host_for_spec("e2e/x/vm-RHEL96-FC-01-check.cy.ts", ["rhel96-fc-01"],
                               r"vm-(?P<host>.+)-check") == "rhel96-fc-01"


def test_host_for_spec_bad_pattern():
    with pytest.raises(errors.ConfigError, match="not a valid regular expression"):
        specs.host_for_spec("e2e/a.cy.ts", [], "(?P<host>")
    with pytest.raises(errors.ConfigError, match="has no named group"):
        specs.host_for_spec("e2e/a.cy.ts", [], r"(\w+)\.cy")


def test_is_meta_spec():
    assert specs.is_meta_spec("cypress\\e2e\\check-xml-files.ts")
    assert specs.is_meta_spec("check-xml-files.cy.ts")
    assert not specs.is_meta_spec("cypress/e2e/check-xml-files-extra.ts")
    assert not specs.is_meta_spec("cypress/e2e/rhel96-fc-01.cy.ts")

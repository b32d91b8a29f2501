# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One rule each: sub-run names, the meta spec, JSON type names in messages."""
from __future__ import annotations

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision import rules as decide
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import durable
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import CypressRun, InventoryHost

HOSTS = {h: InventoryHost(host=h) for h in ("rhel96-fc-01", "win2022-02")}


def run_with(*specs):
    run = CypressRun(index=0, started=True)
    run.specs_found = list(specs)
    return run


@pytest.mark.parametrize("raw, name", [
    ("rhel96-fc-01+win2022-02", "rhel96-fc-01-win2022-02"),
    ("Group: rhel 9/x", "Group-rhel-9-x"),
    ("../..", "run"),
    ("..hidden..name..", "hidden.name"),
    ("x" * 100, "x" * 80),
])
def test_one_sub_run_name_rule_for_posts_and_keys(raw, name):
    assert models.safe_name(raw) == name
    assert state.subrun_key(0, raw) == "000-" + name


def test_decide_names_a_sub_run_with_the_same_rule():
    hosts = ["h{0:02d}-{1}".format(n, "x" * 8) for n in range(8)]
    run = run_with(*["cypress/e2e/{0}.cy.ts".format(h) for h in hosts])
    inventory = {h: InventoryHost(host=h) for h in hosts}
    name, _mismatch = decide.subrun_name(run, hosts, inventory, r"(?P<host>[A-Za-z0-9_-]+)\.cy\.ts$")
    assert name == models.safe_name("+".join(hosts)) and len(name) == models.NAME_MAX


def test_decide_uses_the_strict_meta_spec_rule():
    # Only check-xml-files itself (any extension) is the meta spec; a host spec whose name merely
    # starts with it still names its host.
    run = run_with("cypress/e2e/check-xml-files.ts", "cypress/e2e/rhel96-fc-01/check-xml-files-rhel96-fc-01.cy.ts")
    assert decide.hosts_of_run(run, HOSTS, r"(?P<host>[A-Za-z0-9_-]+)\.cy\.ts$") == ["rhel96-fc-01"]
    assert decide.hosts_of_run(run_with("check-xml-files.cy.ts"), HOSTS, "(?P<host>x)") == []


@pytest.mark.parametrize("value, name", [(None, "null"), (True, "a boolean"), (1.5, "a number"), ("x", "a string"),
                                         ([], "a list"), ({}, "an object")])
def test_json_type_names(value, name):
    assert durable.json_type(value) == name

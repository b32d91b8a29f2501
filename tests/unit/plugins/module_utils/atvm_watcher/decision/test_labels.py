# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sub-run labels against the hosts that actually ran: OS family, distribution, version."""
from __future__ import annotations

import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.inventory import read_inventory
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.rules import subrun_name
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.labels import host_items, os_mismatch
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import CypressRun, InventoryHost

INV = read_inventory(str(pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "artifacts" / "inventory"
                         / "vm-inventory.md"))
PATTERN = r"(?P<host>[A-Za-z0-9][A-Za-z0-9_-]*)\.(?:cy|spec)\.[cm]?[jt]sx?$"
RHEL, WIN, UBUNTU, SLES = "rhel96-fc-01", "win2022-dc-02", "ubuntu2404-app-03", "sles15-db-04"


@pytest.mark.parametrize("label, hosts, word", [
    # family
    ("linux", [WIN], "linux"),
    ("windows", [RHEL], "windows"),
    ("windows", [RHEL, UBUNTU], "windows"),
    ("linux", [RHEL, UBUNTU, SLES], None),
    ("windows", [WIN], None),
    ("linux-smoke", [RHEL], None),
    # distribution
    ("rhel", [UBUNTU], "rhel"),
    ("ubuntu", [RHEL, SLES], "ubuntu"),
    ("sles", [SLES], None),
    ("redhat", [RHEL], None),
    # version
    ("ubuntu2404", [UBUNTU], None),
    ("ubuntu2204", [UBUNTU], "ubuntu2204"),
    ("rhel96", [RHEL], None),
    ("rhel9", [RHEL], None),
    ("rhel8", [RHEL], "rhel8"),
    ("w2k25", [WIN], "w2k25"),
    ("w2k22", [WIN], None),
    ("win2022", [WIN], None),
    ("windows2025", [WIN], "windows2025"),
    # several words: each must fit one of the hosts
    ("linux-rhel96", [RHEL, WIN], None),
    ("rhel96+w2k25", [RHEL, WIN], "w2k25"),
    # words that are no OS are not judged
    ("group-a", [RHEL], None),
    ("fc-smoke", [WIN], None),
])
def test_os_words_of_the_label_against_the_executed_hosts(label, hosts, word):
    assert os_mismatch(label, hosts, INV) == word


def test_the_inventory_os_column_counts_when_the_name_says_nothing():
    inv = {"vm-07": InventoryHost(host="vm-07", os="Red Hat Enterprise Linux 9.4"),
           "vm-08": InventoryHost(host="vm-08", os="Windows Server 2025 Datacenter")}
    assert os_mismatch("rhel9", ["vm-07"], inv) is None
    assert os_mismatch("ubuntu", ["vm-07"], inv) == "ubuntu"
    assert os_mismatch("w2k25", ["vm-08"], inv) is None
    assert os_mismatch("linux", ["vm-08"], inv) == "linux"
    assert ("linux", "rhel", "94") in host_items("vm-07", inv["vm-07"])


def test_unknown_operating_system_is_no_mismatch():
    assert os_mismatch("windows", ["vm-09"], {}) is None


def _run(label, specs):
    return CypressRun(index=0, label=label, label_source="marker", started=True, specs_run=list(specs))


def test_subrun_is_named_after_its_hosts_when_the_label_names_another_os():
    name, mismatch = subrun_name(_run("windows", ["cypress/e2e/rhel96-fc-01.cy.ts"]), [RHEL], INV, PATTERN)
    assert name == RHEL
    assert mismatch == "label 'windows' names windows but the specs ran for rhel96-fc-01"
    name, mismatch = subrun_name(_run("w2k25", [WIN + ".cy.ts"]), [WIN], INV, PATTERN)
    assert (name, "w2k25" in mismatch) == (WIN, True)


def test_subrun_keeps_a_label_that_fits():
    assert subrun_name(_run("linux", [RHEL + ".cy.ts", UBUNTU + ".cy.ts"]), [RHEL, UBUNTU], INV, PATTERN) == (
        "linux", None)
    assert subrun_name(_run("windows", [WIN + ".cy.ts"]), [WIN], INV, PATTERN) == ("windows", None)


def test_the_post_shows_the_inferred_name_and_the_mismatch():
    from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
    from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
    from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.rules import Evidence, decide

    run = _run("w2k25", ["cypress/e2e/" + WIN + ".cy.ts"])
    run.finished, run.all_passed = True, True
    verdict = decide(Evidence(runs=[run], inventory=INV, categorized=True, offline=True))
    sub = verdict.subruns[0]
    assert sub.name == WIN
    text = render.render_subrun(verdict, sub, config.Settings(), "B42", 1)
    assert "`{0}`".format(WIN) in text
    assert "label 'w2k25' names w2k25 but the specs ran for {0}".format(WIN) in text

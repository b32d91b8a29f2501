# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the VM inventory reader (Markdown tables)."""
from __future__ import annotations

import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import inventory

TESTS = pathlib.Path(__file__).resolve().parents[5]
INVENTORY = TESTS / "fixtures" / "artifacts" / "inventory"


def test_inventory_plain_table_with_markdown_decoration():
    inv = inventory.read_inventory(str(INVENTORY / "vm-inventory.md"))
    assert list(inv) == ["rhel96-fc-01", "win2022-dc-02", "ubuntu2404-app-03", "sles15-db-04", "rhel96-fc"]
    assert (inv["rhel96-fc-01"].os, inv["rhel96-fc-01"].kernel) == ("RHEL 9.6", "5.14.0-570.12.1.el9_6.x86_64")
    assert (inv["win2022-dc-02"].os, inv["win2022-dc-02"].kernel) == ("Windows Server 2022", "10.0.20348")
    assert inv["win2022-dc-02"].fields["Notes"] == "domain controller | DNS"  # escaped pipe kept in the cell
    assert inv["ubuntu2404-app-03"].kernel == "6.8.0-45-generic"  # backticks stripped
    assert inv["rhel96-fc"].kernel is None  # "-" means nothing
    assert inv["sles15-db-04"].fields == {
        "Host": "sles15-db-04", "OS": "SLES 15 SP5", "Kernel": "5.14.21-150500.55.65-default",
        "Owner": "team-c", "Notes": "Oracle"}


def test_inventory_header_spellings_without_outer_pipes():
    inv = inventory.read_inventory(str(INVENTORY / "header-variants.md"))
    assert list(inv) == ["centos7-legacy-05", "oel8-ora-06", "debian12-web-07"]
    assert (inv["centos7-legacy-05"].os, inv["centos7-legacy-05"].kernel) == ("CentOS 7.9", "3.10.0-1160.el7.x86_64")
    assert inv["oel8-ora-06"].os == "Oracle Linux 8.10"  # host given as __bold__
    assert inv["debian12-web-07"].kernel is None  # n/a
    assert inv["debian12-web-07"].fields["RAM (GB)"] == "2"


def test_inventory_several_tables():
    inv = inventory.read_inventory(str(INVENTORY / "two-tables.md"))
    assert list(inv) == ["rhel96-fc-01", "alma9-web-08", "win2019-file-09"]  # VLAN table and code fence ignored
    assert inv["alma9-web-08"].kernel == "5.14.0-427.13.1.el9_4.x86_64"  # "Kernel (uname -r)"
    assert inv["alma9-web-08"].os == "AlmaLinux 9.4"  # "Distribution"
    assert inv["win2019-file-09"].os == "Windows Server 2019"  # "Operating System" under "VM"
    assert inv["win2019-file-09"].kernel is None
    assert inv["rhel96-fc-01"].os == "RHEL 9.6"  # the first row of a host wins over a later duplicate


def test_inventory_without_table_and_missing_file(tmp_path):
    assert inventory.read_inventory(str(INVENTORY / "no-table.md")) == {}
    empty = tmp_path / "empty.md"
    empty.write_text("")
    assert inventory.read_inventory(str(empty)) == {}
    with pytest.raises(errors.InputError) as info:
        inventory.read_inventory(str(tmp_path / "vm-inventory.md"))
    assert info.value.path == str(tmp_path / "vm-inventory.md")
    assert "No such file or directory" in str(info.value)


@pytest.mark.parametrize("header,column", [
    ("| Host | Distribution | Kernel Version |", ("os", "kernel")),
    ("| hostname | guest_os | KERNEL |", ("os", "kernel")),
    ("| **VM name** | OS | Kernel release |", ("os", "kernel")),
    ("| Name | Guest-OS | kernel-version |", ("os", "kernel")),
])
def test_inventory_header_matching(header, column):
    n = header.count("|") - 1
    text = "\n".join([header, "|" + "---|" * n, "| vm-01 | Linux X | 1.2.3 |"])
    inv = inventory.parse_inventory_text(text)
    assert (inv["vm-01"].os, inv["vm-01"].kernel) == ("Linux X", "1.2.3")


def test_inventory_hostname_preferred_over_name():
    text = "| Name | Hostname | OS |\n|---|---|---|\n| Web server | web-01 | Debian |\n"
    assert list(inventory.parse_inventory_text(text)) == ["web-01"]

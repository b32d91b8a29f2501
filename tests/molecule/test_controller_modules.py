# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Modules against a real systemd: the Molecule controller container, through pytest-ansible's fixtures.

Run by the controller scenario's verify step (extensions/molecule/controller/verify.yml) with
``--ansible-inventory`` set to Molecule's inventory of the container and ``--ansible-host-pattern``
to the container; each module's JSON result is checked here, per host.
"""
from __future__ import annotations

BUILD = "pytest-ansible-1"


def _module(ansible_module, name, **args):
    """Run ``atvm.watcher.<name>`` on the selected host(s); returns {host: result}."""
    results = getattr(ansible_module, "atvm.watcher." + name)(**args)
    return {host: dict(result) for host, result in results.contacted.items()}


def test_run_info_reads_the_units_of_a_build_that_never_ran(ansible_module):
    results = _module(ansible_module, "run_info", build_name=BUILD, missing_ok=True)
    assert results, "no host answered"
    for host, result in results.items():
        assert not result.get("failed"), (host, result)
        assert result["changed"] is False and result["exists"] is False, (host, result)
        assert result["state_dir"] == "/var/lib/atvm-run-watcher/" + BUILD
        watcher, runner = result["units"]["watcher"], result["units"]["runner"]
        # systemd itself answered: the template units installed by the role load, nothing runs
        assert watcher["unit"] == "atvm-run-watcher@{0}.service".format(BUILD), watcher
        assert runner["unit"] == "atvm-runner@{0}.service".format(BUILD), runner
        for unit in (watcher, runner):
            assert unit["LoadState"] == "loaded" and unit["ActiveState"] == "inactive", unit
            assert unit["live"] is False and unit["MainPID"] in (0, None), unit


def test_a_hostile_build_name_is_refused_before_systemd_is_asked(ansible_module):
    results = _module(ansible_module, "run_info", build_name="../../etc")
    assert results, "no host answered"
    for host, result in results.items():
        assert result.get("failed") is True, (host, result)
        assert "invalid build name" in result["msg"], (host, result)

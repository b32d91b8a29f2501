# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Drive a module's main() with module args, a stand-in systemd behind run_command, and capture the result."""
from __future__ import annotations

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.atvm.watcher.tests.unit.plugins.modules.fake_systemd import FakeSystemd


class ModuleExit(Exception):
    def __init__(self, result: dict, failed: bool) -> None:
        super().__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@pytest.fixture
def systemd(tmp_path, tmp_path_factory):
    fake = FakeSystemd(str(tmp_path / "state"))
    # an automation checkout holding the scripts the tests' runner commands name
    checkout = tmp_path_factory.mktemp("checkout")
    for script in ("run-sorry-cypress.py", "run.py", "other.py"):
        (checkout / script).write_text("print('stand-in')\n", encoding="utf-8")
    fake.checkout = str(checkout)
    return fake


@pytest.fixture
def run_module(monkeypatch, systemd):
    """``run_module(module, args, check=False, diff=False)`` -> (result dict, failed)."""

    def exit_json(self, **kwargs):
        raise ModuleExit(kwargs, failed=False)

    def fail_json(self, msg, **kwargs):
        kwargs["msg"] = msg
        raise ModuleExit(kwargs, failed=True)

    def run_command(self, args, check_rc=False, environ_update=None, **_kwargs):
        assert environ_update and environ_update.get("SYSTEMD_PAGER") == ""
        return systemd(list(args))

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)
    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)

    def run(module, args, check=False, diff=False):
        args = dict(args)
        if check:
            args["_ansible_check_mode"] = True
        if diff:
            args["_ansible_diff"] = True
        with patch_module_args(args):
            with pytest.raises(ModuleExit) as info:
                module.main()
        return info.value.result, info.value.failed

    return run

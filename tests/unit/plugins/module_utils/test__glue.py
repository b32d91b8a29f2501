# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""glue.py: shared argument spec, command runner, error translation, missing core library."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
from ansible.module_utils import basic
from ansible.module_utils.testing import patch_module_args

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError, LaunchError, MissingDependencyError


class Exit(Exception):
    def __init__(self, result, failed):
        super().__init__(result.get("msg"))
        self.result = result
        self.failed = failed


@pytest.fixture
def module(monkeypatch):
    def exit_json(self, **kwargs):
        raise Exit(kwargs, False)

    def fail_json(self, msg, **kwargs):
        raise Exit(dict(kwargs, msg=msg), True)

    monkeypatch.setattr(basic.AnsibleModule, "exit_json", exit_json)
    monkeypatch.setattr(basic.AnsibleModule, "fail_json", fail_json)

    def make(args, diff=False):
        args = dict(args, _ansible_diff=diff)
        with patch_module_args(args):
            return glue.new_module(glue.run_spec())

    return make


def test_run_spec():
    assert glue.run_spec() == {"build_name": {"type": "str", "required": True},
                               "state_root": {"type": "path", "default": "/var/lib/atvm-run-watcher"}}


def test_command_runner_uses_run_command_without_pager(module, monkeypatch):
    seen = []

    def run_command(self, args, check_rc=False, environ_update=None, **_kw):
        seen.append((args, check_rc, environ_update))
        return 3, "out", "err"

    monkeypatch.setattr(basic.AnsibleModule, "run_command", run_command)
    mod = module({"build_name": "b1"})
    assert glue.command_runner(mod)(["systemctl", "is-active", "x"]) == (3, "out", "err")
    assert seen == [(["systemctl", "is-active", "x"], False, {"SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0",
                                                              "SYSTEMD_URLIFY": "0"})]


def test_checked_build_name_fails_the_module(module):
    mod = module({"build_name": "../../etc/x"})
    with pytest.raises(Exit) as info:
        glue.checked_build_name(mod)
    assert info.value.failed and info.value.result["build_name_refused"] is True
    assert "invalid build name '../../etc/x'" in info.value.result["msg"]


def test_finish_translates_core_errors_and_keeps_details(module):
    mod = module({"build_name": "b1"})

    def boom():
        raise LaunchError("cannot start x", journal="j", msg="must not override", changed=True, rc=4)

    with pytest.raises(Exit) as info:
        glue.finish(mod, boom)
    assert info.value.failed
    assert info.value.result == {"msg": "cannot start x", "journal": "j", "rc": 4}

    def bad_setting():
        raise ConfigError("bad setting X")

    with pytest.raises(Exit) as info:
        glue.finish(mod, bad_setting)
    assert info.value.failed and info.value.result == {"msg": "bad setting X"}

    def missing():
        raise MissingDependencyError("psutil")

    with pytest.raises(Exit) as info:
        glue.finish(mod, missing)
    assert info.value.failed and "psutil" in info.value.result["msg"] and "library" in info.value.result["msg"]


@pytest.mark.parametrize("diff", [False, True])
def test_finish_returns_diff_only_in_diff_mode(module, diff):
    mod = module({"build_name": "b1"}, diff=diff)
    with pytest.raises(Exit) as info:
        glue.finish(mod, lambda: {"changed": True, "diff": {"before": "a", "after": "b"}, "x": 1})
    assert not info.value.failed and info.value.result["x"] == 1
    assert ("diff" in info.value.result) is diff


def test_the_core_imports_without_its_third_party_libraries():
    """A target without requests, psutil or jmespath still imports every module's core: the call
    that needs the library fails with MissingDependencyError, which fail() turns into missing_required_lib."""
    script = textwrap.dedent("""
        import sys
        for name in ("requests", "psutil", "jmespath", "defusedxml"):
            sys.modules[name] = None
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import launcher, template_step
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import resend, runinfo
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.watch import loop
        print("imported")
    """)
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False,
                         env=dict(os.environ, PYTHONPATH=os.pathsep.join(sys.path)))
    assert out.returncode == 0 and out.stdout.strip() == "imported", out.stderr


def test_missing_library_fails_with_missing_required_lib(module):
    mod = module({"build_name": "b1"})
    with pytest.raises(Exit) as info:
        glue.finish(mod, lambda: (item for item in ()).throw(MissingDependencyError("psutil")))
    assert info.value.failed
    assert info.value.result["msg"].startswith("Failed to import the required Python library (psutil)")

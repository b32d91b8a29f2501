# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.watcher_start driven through main() with a stand-in systemd behind run_command."""
from __future__ import annotations

import os
import stat

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import read_env_file
from ansible_collections.atvm.watcher.plugins.modules import watcher_start

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y"]


@pytest.fixture
def args(systemd):
    return {"build_name": "nightly-42", "state_root": systemd.state_root, "automation_dir": systemd.checkout,
            "categorized": True, "expected_hosts": ["rhel96-fc-01"],
            "metadata": {"template": "cmc-e2e", "config_file": "cypress.atvm-config-gold.ts",
                         "runner_command": "python3 ./run-sorry-cypress.py --build_name nightly-42 --categorize"},
            "settings": {"ATVM_SETTLE_QUIET": 1, "ATVM_HANG_TIMEOUT": "600"}}


def test_start_then_idempotent_then_refuse_other_parameters(run_module, systemd, args):
    result, failed = run_module(watcher_start, args, diff=True)
    assert failed is False and result["changed"] is True and result["phase"] == "watching"
    assert result["unit"] == "atvm-run-watcher@nightly-42.service"
    env_file = os.path.join(systemd.state_root, "nightly-42", "watcher.env")
    assert result["env_file"] == env_file and stat.S_IMODE(os.stat(env_file).st_mode) == 0o600
    values = read_env_file(env_file)
    assert values["ATVM_CATEGORIZED"] == "true" and values["ATVM_EXPECTED_HOSTS"] == "rhel96-fc-01"
    assert values["ATVM_TEMPLATE_NAME"] == "cmc-e2e" and values["ATVM_SETTLE_QUIET"] == "1"
    assert values["ATVM_CONFIG_FILE"] == "cypress.atvm-config-gold.ts"
    assert "ATVM_SCOPE" not in values
    assert result["diff"]["before"] == "" and result["diff"]["after"].count("\n") == len(values) + 1

    starts = systemd.verbs("start")
    again, failed = run_module(watcher_start, args)
    assert failed is False and again["changed"] is False and "diff" not in again
    assert systemd.verbs("start") == starts and systemd.verbs("stop") == []

    other = dict(args, categorized=False)
    refused, failed = run_module(watcher_start, other)
    assert failed is True and "live with other parameters" in refused["msg"]
    assert "-e atvm_force=true" in refused["msg"] and "use force" not in refused["msg"]
    assert refused["differing"] == ["ATVM_CATEGORIZED"]
    assert read_env_file(env_file)["ATVM_CATEGORIZED"] == "true"

    forced, failed = run_module(watcher_start, dict(other, force=True))
    assert failed is False and forced["changed"] is True and forced["cancelled_previous"] is True
    assert os.path.isfile(os.path.join(forced["archived_to"], "cancel"))
    assert read_env_file(env_file)["ATVM_CATEGORIZED"] == "false"


def test_check_mode_writes_and_starts_nothing(run_module, systemd, args):
    result, failed = run_module(watcher_start, args, check=True, diff=True)
    assert failed is False and result["changed"] is True and "ATVM_BUILD_NAME" in result["diff"]["after"]
    assert not os.path.exists(systemd.state_root)
    assert systemd.mutating() == []


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_build_names_refused_before_anything(run_module, systemd, args, name):
    result, failed = run_module(watcher_start, dict(args, build_name=name))
    assert failed is True and result["build_name_refused"] is True
    assert systemd.calls == []
    assert not os.path.exists(systemd.state_root)


def test_failure_to_become_ready_returns_the_redacted_journal(run_module, systemd, args):
    systemd.watcher_mode = "stuck"
    result, failed = run_module(watcher_start, dict(args, timeout=0.3))
    assert failed is True and "was not watching after 0.3 seconds" in result["msg"]
    assert "/hooks/***" in result["journal"] and "abcdef0123456789" not in result["journal"]
    assert result["watcher"]["ActiveState"] == "activating"
    assert systemd.units["atvm-run-watcher@nightly-42.service"]["ActiveState"] == "inactive"


@pytest.mark.parametrize("settings, needle", [
    ({"MATTERMOST_ATVM_WEBHOOK": "http://x/hooks/abc"}, "controller-wide"),
    ({"ATVM_BUILD_NAME": "other"}, "its own option"),
])
def test_settings_that_do_not_belong_are_refused(run_module, systemd, args, settings, needle):
    result, failed = run_module(watcher_start, dict(args, settings=settings))
    assert failed is True and needle in result["msg"]
    assert not os.path.exists(systemd.state_root)


def test_unknown_metadata_is_an_argument_error(run_module, systemd, args):
    result, failed = run_module(watcher_start, dict(args, metadata={"colour": "blue"}))
    assert failed is True and "colour" in result["msg"]
    assert systemd.calls == []


def test_newline_in_metadata_cannot_inject_a_variable(run_module, systemd, args):
    evil = dict(args, metadata={"scope": "linux\nATVM_BUILD_NAME=other"})
    result, failed = run_module(watcher_start, evil)
    assert failed is True and "newline" in result["msg"]
    assert not os.path.exists(os.path.join(systemd.state_root, "nightly-42", "watcher.env"))


# ---- before anything starts: what the run needs on this host ----

def test_a_missing_checkout_fails_the_launch_before_anything_starts(run_module, systemd, args):
    missing = os.path.join(systemd.checkout, "nope")
    for check in (True, False):  # the launch role asks in check mode first: it fails there already
        result, failed = run_module(watcher_start, dict(args, automation_dir=missing), check=check)
        assert failed is True, result
        assert "the automation checkout {0} (the run's working directory) does not exist".format(missing) in result["msg"]
        assert "atvm_automation_dir" in result["msg"] and "nothing was started" in result["msg"]
    assert systemd.mutating() == [] and not os.path.exists(systemd.state_root)


@pytest.mark.parametrize("command, cause", [
    ("python3 ./run-sorry-cypress.py --build_name nightly-42", None),
    ("python3 ./no-such-wrapper.py --build_name nightly-42", "the script ./no-such-wrapper.py that python3 runs is not in"),
    ("no-such-python3 ./run-sorry-cypress.py", "no-such-python3 is not found on the runner's PATH"),
    ("./wrapper.sh --build_name nightly-42",
     "./wrapper.sh starts with #!/nonexistent/interpreter, but /nonexistent/interpreter is not on this host"),
    ("./plain.txt", "is not executable"),
])
def test_the_command_is_checked_on_the_units_path(run_module, systemd, args, command, cause):
    wrapper = os.path.join(systemd.checkout, "wrapper.sh")
    with open(wrapper, "w", encoding="utf-8") as handle:
        handle.write("#!/nonexistent/interpreter\necho run\n")
    os.chmod(wrapper, 0o755)
    with open(os.path.join(systemd.checkout, "plain.txt"), "w", encoding="utf-8") as handle:
        handle.write("not a program\n")
    call = dict(args, metadata=dict(args["metadata"], runner_command=command))
    result, failed = run_module(watcher_start, call, check=True)
    if cause is None:
        assert failed is False and result["new_run"] is True, result
        return
    assert failed is True and cause in result["msg"], result["msg"]
    assert systemd.mutating() == []


def test_the_units_path_is_the_service_managers(run_module, systemd, args):
    systemd.path = "/nonexistent/bin"  # python3 is not on the units' PATH, whatever the module's own PATH says
    result, failed = run_module(watcher_start, args, check=True)
    assert failed is True and "python3 is not found on the runner's PATH (/nonexistent/bin)" in result["msg"]


@pytest.mark.parametrize("field, command, words", [
    ("runner_command", "python3 ./run-sorry-cypress.py --build_name nightly-42 && echo done", "the runner command holds"),
    ("template_command", "python3 ./run.py | tee /tmp/x", "the template command holds a pipe (|)"),
])
def test_shell_syntax_in_a_command_is_refused_before_anything_starts(run_module, systemd, args, field, command, words):
    call = dict(args, metadata=dict(args["metadata"], **{field: command}))
    result, failed = run_module(watcher_start, call, check=True)
    assert failed is True and words in result["msg"] and "run without a shell" in result["msg"]
    assert systemd.mutating() == []

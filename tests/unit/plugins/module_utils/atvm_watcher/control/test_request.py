# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""launch, template, launcher, systemd: template step, watcher / runner start, cancel and info against a stand-in systemd."""
from __future__ import annotations

import json
import os
import pathlib
import stat
import time

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord, SubrunRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import request as launch
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import template_step as template
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import launcher as launcher_mod
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host import systemd as systemd_mod
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import parse_env_text
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import BuildNameError, ConfigError, LaunchError
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore

from ansible_collections.atvm.watcher.tests.unit.plugins.modules import fake_systemd
from ansible_collections.atvm.watcher.tests.unit.plugins.modules.fake_systemd import FakeSystemd

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y", "..", "", ".hidden", "a/b", "a" * 101]
W = "atvm-run-watcher@{0}.service"
R = "atvm-runner@{0}.service"
RUNNER_CMD = "python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts --build_name b1"


class Clock:
    def __init__(self) -> None:
        self.now = 0.0
        self.hooks: list = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds
        for hook in list(self.hooks):
            hook(self.now)


@pytest.fixture
def env(tmp_path):
    root = str(tmp_path / "state")
    systemd = FakeSystemd(root)
    clock = Clock()
    launcher = launcher_mod.Launcher(systemd_mod.Systemd(systemd), state_root=root, clock=clock, sleep=clock.sleep, poll=0.5,
                                     global_env_file=str(tmp_path / "global.env"))
    return launcher, systemd, clock, root


def wreq(root, build="b1", **kw):
    kw.setdefault("automation_dir", "/srv/auto")
    kw.setdefault("metadata", {"runner_command": RUNNER_CMD, "config_file": "cypress.atvm-config-gold.ts"})
    return launch.WatcherRequest(build_name=build, state_root=root, **kw)


def read_env(path):
    with open(path, encoding="utf-8") as handle:
        return parse_env_text(handle.read(), path)


def tree(path):
    return sorted(str(p.relative_to(path)) for p in pathlib.Path(path).rglob("*")) if os.path.exists(path) else []


# ---------------------------------------------------------------------------------------------
# requests
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_build_names_are_refused_by_every_entry(tmp_path, name, env):
    launcher, systemd, _clock, root = env
    with pytest.raises(BuildNameError):
        launch.WatcherRequest(build_name=name, state_root=root)
    with pytest.raises(BuildNameError):
        launch.RunnerRequest(build_name=name, command="true", state_root=root)
    with pytest.raises(BuildNameError):
        launcher.cancel(name)
    with pytest.raises(BuildNameError):
        launcher.info(name)
    with pytest.raises(BuildNameError):
        template.render_template(name, "true", str(tmp_path), log_path=str(tmp_path / "x.log"))
    assert systemd.calls == []
    assert not os.path.exists(root)
    assert not os.path.exists(tmp_path / "x.log")


def test_watcher_env_holds_settings_and_metadata_quoted(tmp_path):
    root = str(tmp_path)
    req = wreq(root, categorized=True, expected_hosts=["rhel96-fc-01", "win2022-02"],
               metadata={"template": "cmc-e2e", "scope": 'linux "gold" $HOME `id`', "runner_command": RUNNER_CMD},
               settings={"ATVM_HANG_TIMEOUT": "600"})
    text = req.render()
    values = parse_env_text(text)
    assert values == {
        "ATVM_BUILD_NAME": "b1", "ATVM_STATE_ROOT": root, "ATVM_CATEGORIZED": "true",
        "ATVM_EXPECTED_HOSTS": "rhel96-fc-01,win2022-02", "ATVM_AUTOMATION_DIR": "/srv/auto",
        "ATVM_RUNNER_LOG": os.path.join(root, "b1", "runner.log"), "ATVM_RUNNER_UNIT": "atvm-runner@b1.service",
        "ATVM_TEMPLATE_NAME": "cmc-e2e", "ATVM_SCOPE": 'linux "gold" $HOME `id`', "ATVM_RUNNER_COMMAND": RUNNER_CMD,
        "ATVM_HANG_TIMEOUT": "600",
    }
    assert 'ATVM_SCOPE="linux \\"gold\\" \\$HOME \\`id\\`"' in text.splitlines()


@pytest.mark.parametrize("kwargs, needle", [
    ({"metadata": {"scope": "a\nATVM_BUILD_NAME=evil"}}, "newline"),
    ({"metadata": {"colour": "blue"}}, "unknown run metadata"),
    ({"settings": {"MATTERMOST_ATVM_WEBHOOK": "http://x/hooks/abc"}}, "controller-wide"),
    ({"settings": {"ATVM_BUILD_NAME": "other"}}, "its own option"),
    ({"settings": {"NOT_A_SETTING": "1"}}, "unknown watcher setting"),
    ({"settings": {"ATVM_HANG_TIMOUT": "60"}}, "did you mean ATVM_HANG_TIMEOUT"),
    ({"settings": {"ATVM_ARCHIVE_KEEP": "3"}}, "archive_keep option of atvm.watcher.watcher_start"),
    ({"expected_hosts": ["a,b"]}, "not a host name"),
    ({"automation_dir": "relative/dir"}, "absolute"),
    ({"runner_log": "runner.log"}, "absolute"),
])
def test_watcher_request_refuses_bad_values(tmp_path, kwargs, needle):
    with pytest.raises(ConfigError, match=needle):
        wreq(str(tmp_path), **kwargs).render()


def test_runner_request_refuses_empty_or_unbalanced_command(tmp_path):
    with pytest.raises(ConfigError, match="empty"):
        launch.RunnerRequest(build_name="b1", command="  ", state_root=str(tmp_path))
    with pytest.raises(ConfigError, match="split"):
        launch.RunnerRequest(build_name="b1", command="python3 'unterminated", state_root=str(tmp_path))


def test_systemd_show_parses_properties():
    out = "LoadState=loaded\nActiveState=active\nSubState=running\nResult=success\nExecMainStatus=0\nExecMainCode=0\nMainPID=77\n"
    seen = []

    def run(argv):
        seen.append(argv)
        return 0, out, ""

    status = systemd_mod.Systemd(run).show("atvm-runner@b1.service")
    assert seen == [["systemctl", "show", "-p", ",".join(systemd_mod.UNIT_PROPERTIES), "--", "atvm-runner@b1.service"]]
    assert (status.active, status.live, status.main_pid, status.exec_main_code) == (True, True, 77, 0)
    with pytest.raises(LaunchError, match="systemctl show exited 1"):
        systemd_mod.Systemd(lambda argv: (1, "", "Failed to connect to bus")).show("atvm-runner@b1.service")


# ---------------------------------------------------------------------------------------------
# template step
# ---------------------------------------------------------------------------------------------


def test_template_success_writes_the_log(tmp_path):
    log = tmp_path / "b1.launch.log"
    result = template.render_template("b1", "sh -c 'echo rendered; echo warn >&2; pwd'", str(tmp_path), log_path=str(log))
    assert result["rc"] == 0 and result["changed"] is True and result["timed_out"] is False
    assert log.read_text().splitlines() == ["rendered", "warn", str(tmp_path)]
    assert result["log_tail"] == ["rendered", "warn", str(tmp_path)]
    assert stat.S_IMODE(os.stat(log).st_mode) == 0o600


def test_template_failure_returns_the_tail_of_the_log(tmp_path):
    log = tmp_path / "b1.launch.log"
    log.write_text("old content of a previous launch\n")
    script = "for i in $(seq 1 50); do echo line $i; done; echo 'ERROR: template cmc-e2e not found' >&2; exit 3"
    with pytest.raises(LaunchError) as info:
        template.render_template("b1", "sh -c " + json.dumps(script), str(tmp_path), log_path=str(log), tail_lines=5)
    assert "exited with 3" in str(info.value) and "nothing else was started" in str(info.value)
    assert info.value.details["rc"] == 3
    assert info.value.details["log_tail"] == ["line 47", "line 48", "line 49", "line 50",
                                              "ERROR: template cmc-e2e not found"]
    assert "old content" not in log.read_text()


def test_template_timeout_kills_the_whole_process_group(tmp_path):
    pidfile = tmp_path / "child.pid"
    script = "sleep 30 & echo $! > {0}; echo started; wait".format(pidfile)
    started = time.monotonic()
    with pytest.raises(LaunchError, match="did not finish within 0.5 seconds") as info:
        template.render_template("b1", "sh -c " + json.dumps(script), str(tmp_path), log_path=str(tmp_path / "l.log"),
                                 timeout=0.5, kill_grace=2)
    assert time.monotonic() - started < 5
    assert info.value.details["timed_out"] is True
    assert info.value.details["log_tail"] == ["started"]
    child = int(pidfile.read_text())
    for _attempt in range(50):  # the orphaned grandchild is reaped by init shortly after the kill
        try:
            os.kill(child, 0)
        except ProcessLookupError:
            break
        time.sleep(0.05)
    else:
        pytest.fail("the template command's child {0} survived the timeout".format(child))


def test_template_check_mode_runs_nothing(tmp_path):
    marker = tmp_path / "ran"
    result = template.render_template("b1", "touch {0}".format(marker), str(tmp_path), log_path=str(tmp_path / "l.log"),
                                      check_mode=True)
    assert result["changed"] is True and result["rc"] is None
    assert not marker.exists() and not (tmp_path / "l.log").exists()


def test_template_refuses_a_planted_symlink(tmp_path):
    target = tmp_path / "victim"
    target.write_text("keep me\n")
    os.symlink(target, tmp_path / "b1.launch.log")
    with pytest.raises(LaunchError, match="cannot open the launch log"):
        template.render_template("b1", "echo x", str(tmp_path), log_path=str(tmp_path / "b1.launch.log"))
    assert target.read_text() == "keep me\n"


def test_template_hides_environment_values_and_webhook_in_the_tail(tmp_path):
    script = "echo token=$CMC_TOKEN; echo posting to http://mm.local/hooks/s3cr3tH00k; exit 1"
    with pytest.raises(LaunchError) as info:
        template.render_template("b1", "sh -c " + json.dumps(script), str(tmp_path), log_path=str(tmp_path / "l.log"),
                                 environment={"CMC_TOKEN": "tok-123456"})
    tail = "\n".join(info.value.details["log_tail"])
    assert "tok-123456" not in tail and "s3cr3tH00k" not in tail
    assert "token=***" in tail and "/hooks/***" in tail


def test_template_missing_program_or_directory(tmp_path):
    with pytest.raises(LaunchError, match="cannot start the template command"):
        template.render_template("b1", "/nonexistent/tool --x", str(tmp_path), log_path=str(tmp_path / "l.log"))
    assert "cannot start /nonexistent/tool" in (tmp_path / "l.log").read_text()
    with pytest.raises(LaunchError, match="does not exist"):
        template.render_template("b1", "true", str(tmp_path / "nope"), log_path=str(tmp_path / "m.log"))


def test_template_default_log_path_is_per_build(tmp_path, monkeypatch):
    result = template.render_template("b1-x", "true", str(tmp_path), check_mode=True)
    assert result["log_path"] == "/tmp/b1-x.launch.log"


# ---------------------------------------------------------------------------------------------
# watcher
# ---------------------------------------------------------------------------------------------


def test_start_watcher_writes_env_and_waits_until_watching(env):
    launcher, systemd, _clock, root = env
    result = launcher.start_watcher(wreq(root))
    assert result["changed"] is True and result["phase"] == "watching" and result["archived_to"] is None
    env_path = os.path.join(root, "b1", "watcher.env")
    assert stat.S_IMODE(os.stat(env_path).st_mode) == 0o600
    assert read_env(env_path)["ATVM_RUNNER_COMMAND"] == RUNNER_CMD
    assert stat.S_IMODE(os.stat(os.path.join(root, "b1")).st_mode) == 0o750
    assert systemd.verbs("start") == [W.format("b1")]
    assert result["diff"]["before"] == "" and "ATVM_BUILD_NAME=\"b1\"" in result["diff"]["after"]


def test_start_watcher_check_mode_writes_nothing(env):
    launcher, systemd, _clock, root = env
    result = launcher.start_watcher(wreq(root), check_mode=True)
    assert result["changed"] is True
    assert not os.path.exists(root)
    assert systemd.mutating() == []


def test_same_parameters_on_a_live_run_change_nothing(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    before = systemd.mutating()
    mtime = os.stat(os.path.join(root, "b1", "watcher.env")).st_mtime_ns
    result = launcher.start_watcher(wreq(root))
    assert result["changed"] is False
    assert systemd.mutating() == before
    assert os.stat(os.path.join(root, "b1", "watcher.env")).st_mtime_ns == mtime
    assert result["diff"]["before"] == result["diff"]["after"]


def test_a_live_categorized_run_posting_a_subrun_is_left_alone(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root, categorized=True))
    systemd.set_state(R.format("b1"), "active", "running", 555)
    systemd.write_state("b1", watcher={"phase": "delivering"})
    before = systemd.mutating()
    result = launcher.start_watcher(wreq(root, categorized=True))
    assert result["changed"] is False and result["phase"] == "delivering"
    assert systemd.mutating() == before


def test_a_restarting_watcher_of_a_live_run_is_waited_for_never_stopped(env):
    launcher, systemd, clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.set_state(R.format("b1"), "active", "running", 555)
    systemd.set_state(W.format("b1"), "activating", "auto-restart")
    clock.hooks.append(lambda now: now >= 2 and systemd.set_state(W.format("b1"), "active", "running", 77))
    result = launcher.start_watcher(wreq(root), timeout=10)
    assert result["changed"] is False and result["watcher"]["MainPID"] == 77
    systemd.set_state(W.format("b1"), "activating", "auto-restart")
    clock.hooks.clear()
    stops = len(systemd.verbs("stop"))
    with pytest.raises(LaunchError, match="was not watching after 3 seconds"):
        launcher.start_watcher(wreq(root), timeout=3)
    assert len(systemd.verbs("stop")) == stops, "the watcher of a live run must not be stopped"


def test_other_parameters_on_a_live_run_fail_and_change_nothing(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    env_text = pathlib.Path(root, "b1", "watcher.env").read_text()
    before = systemd.mutating()
    with pytest.raises(LaunchError, match="live with other parameters") as info:
        launcher.start_watcher(wreq(root, categorized=True))
    assert info.value.details["differing"] == ["ATVM_CATEGORIZED"]
    assert systemd.mutating() == before
    assert pathlib.Path(root, "b1", "watcher.env").read_text() == env_text
    assert not os.path.exists(os.path.join(root, "b1", "cancel"))


def test_force_cancels_archives_and_replaces_a_live_run(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.set_state(R.format("b1"), "active", "running", 555)
    result = launcher.start_watcher(wreq(root, categorized=True), force=True)
    assert result["changed"] is True and result["cancelled_previous"] is True
    archived = result["archived_to"]
    assert archived and os.path.isdir(archived)
    with open(os.path.join(archived, "cancel"), encoding="utf-8") as handle:
        assert "forced launch" in json.load(handle)["reason"]
    with open(os.path.join(archived, "state.json"), encoding="utf-8") as handle:
        assert json.load(handle)["run_state"] == "CANCELLED"
    assert not os.path.exists(os.path.join(root, "b1", "cancel"))
    assert read_env(os.path.join(root, "b1", "watcher.env"))["ATVM_CATEGORIZED"] == "true"
    assert systemd.units[R.format("b1")]["ActiveState"] == "inactive"
    assert systemd.units[W.format("b1")]["ActiveState"] == "active"


def test_a_finished_run_is_archived_and_a_new_one_started(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.write_state("b1", run_state="COMPLETED", result="PASS", watcher={"phase": "done"})
    systemd.set_state(W.format("b1"), "inactive", "dead")
    pathlib.Path(root, "b1", "cancel").write_text('{"schema": 1, "requested_at": "x"}')
    result = launcher.start_watcher(wreq(root))
    assert result["changed"] is True
    assert result["archived_to"].startswith(os.path.join(root, ".archive", "b1."))
    assert os.path.exists(os.path.join(result["archived_to"], "cancel"))
    assert not os.path.exists(os.path.join(root, "b1", "cancel")), "a stale marker leaked into the new run"
    assert systemd.read_state("b1")["run_state"] == "RUNNING"


def test_a_stale_watcher_still_posting_is_let_finish(env):
    launcher, systemd, clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.write_state("b1", run_state="COMPLETED", result="PASS", watcher={"phase": "delivering"})
    clock.hooks.append(lambda now: now >= 3 and systemd.set_state(W.format("b1"), "inactive", "dead"))
    result = launcher.start_watcher(wreq(root), timeout=10)
    assert result["changed"] is True and result["archived_to"]
    with open(os.path.join(result["archived_to"], "state.json"), encoding="utf-8") as handle:
        assert json.load(handle)["run_state"] == "COMPLETED"


def test_a_stale_watcher_posting_too_long_fails_the_launch(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.write_state("b1", run_state="FAILED", result="FAIL", watcher={"phase": "delivering"})
    stops = len(systemd.verbs("stop"))
    with pytest.raises(LaunchError, match="still posting"):
        launcher.start_watcher(wreq(root), timeout=5)
    assert len(systemd.verbs("stop")) == stops
    assert systemd.read_state("b1")["run_state"] == "FAILED"


def test_watcher_that_fails_returns_its_journal_redacted(env):
    launcher, systemd, _clock, root = env
    systemd.watcher_mode = "fail"
    with pytest.raises(LaunchError, match="cannot start atvm-run-watcher@b1.service") as info:
        launcher.start_watcher(wreq(root))
    journal = info.value.details["journal"]
    assert "posting to http://127.0.0.1:8065/hooks/***" in journal
    assert "abcdef0123456789" not in journal
    assert ["journalctl", "-u", W.format("b1"), "-n", "30", "--no-pager", "-o", "short-iso"] in systemd.calls


def test_webhook_from_the_global_env_file_is_redacted(env, tmp_path):
    launcher, systemd, _clock, root = env
    (tmp_path / "global.env").write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\n'.format(fake_systemd.HOOK))
    systemd.watcher_mode = "fail"
    with pytest.raises(LaunchError) as info:
        launcher.start_watcher(wreq(root))
    assert fake_systemd.HOOK not in info.value.details["journal"]
    assert "abcdef0123456789" not in info.value.details["journal"]


@pytest.mark.parametrize("mode", ["stuck", "starting"])
def test_watcher_not_ready_in_time_is_stopped_and_reported(env, mode):
    launcher, systemd, clock, root = env
    systemd.watcher_mode = mode
    with pytest.raises(LaunchError, match="was not watching after 4 seconds") as info:
        launcher.start_watcher(wreq(root), timeout=4)
    assert clock.now >= 4
    assert info.value.details["phase"] == "starting"
    assert systemd.units[W.format("b1")]["ActiveState"] == "inactive"
    assert "journal" in info.value.details


def test_watcher_reaching_another_phase_is_a_failure(env):
    launcher, systemd, _clock, root = env
    systemd.watcher_mode = "starting"
    original = systemd._start_watcher

    def start(unit, build):
        out = original(unit, build)
        systemd.write_state(build, watcher={"phase": "delivery-failed"})
        return out

    systemd._start_watcher = start
    with pytest.raises(LaunchError, match="is in phase delivery-failed"):
        launcher.start_watcher(wreq(root))


def test_units_not_installed(env):
    launcher, systemd, _clock, root = env
    systemd.installed = False
    with pytest.raises(LaunchError, match="not installed"):
        launcher.start_watcher(wreq(root))
    assert not os.path.exists(root)


def test_a_live_runner_without_its_watcher_gets_the_watcher_back_on_the_same_state(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.set_state(R.format("b1"), "active", "running", 4242)
    systemd.set_state(W.format("b1"), "failed", "failed")
    systemd.write_state("b1", subruns=[{"index": 0, "name": "linux", "state": "COMPLETED", "result": "PASS"}])
    result = launcher.start_watcher(wreq(root))
    assert result["changed"] is True and result["resumed"] is True and result["archived_to"] is None
    assert systemd.read_state("b1")["subruns"][0]["name"] == "linux"
    assert not os.path.exists(os.path.join(root, ".archive"))


# ---------------------------------------------------------------------------------------------
# runner
# ---------------------------------------------------------------------------------------------


def rreq(root, build="b1", **kw):
    return launch.RunnerRequest(build_name=build, command=kw.pop("command", RUNNER_CMD), state_root=root, **kw)


def test_runner_refused_without_a_ready_watcher(env):
    launcher, systemd, _clock, root = env
    with pytest.raises(LaunchError, match="no ready watcher"):
        launcher.start_runner(rreq(root))
    assert systemd.mutating() == [] and not os.path.exists(root)
    launcher.start_watcher(wreq(root))
    systemd.write_state("b1", watcher={"phase": "starting"})
    with pytest.raises(LaunchError, match="phase starting"):
        launcher.start_runner(rreq(root))
    assert not os.path.exists(os.path.join(root, "b1", "runner.env"))
    assert R.format("b1") not in systemd.verbs("start")


def test_runner_starts_under_a_ready_watcher_with_its_settings(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    result = launcher.start_runner(rreq(root))
    assert result["changed"] is True
    env_path = os.path.join(root, "b1", "runner.env")
    assert read_env(env_path) == {"ATVM_RUNNER_COMMAND": RUNNER_CMD, "ATVM_RUNNER_WORKDIR": "/srv/auto",
                                  "ATVM_RUNNER_LOG": os.path.join(root, "b1", "runner.log")}
    assert stat.S_IMODE(os.stat(env_path).st_mode) == 0o600
    assert systemd.verbs("start") == [W.format("b1"), R.format("b1")]
    again = launcher.start_runner(rreq(root))
    assert again["changed"] is False
    assert systemd.verbs("start") == [W.format("b1"), R.format("b1")]


def test_runner_check_mode_checks_but_writes_nothing(env):
    launcher, systemd, _clock, root = env
    with pytest.raises(LaunchError, match="no ready watcher"):
        launcher.start_runner(rreq(root), check_mode=True)
    launcher.start_watcher(wreq(root))
    result = launcher.start_runner(rreq(root), check_mode=True)
    assert result["changed"] is True
    assert not os.path.exists(os.path.join(root, "b1", "runner.env"))
    assert R.format("b1") not in systemd.verbs("start")


def test_runner_with_other_parameters_fails_and_changes_nothing(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root, metadata={}))
    launcher.start_runner(rreq(root))
    before = systemd.mutating()
    for check_mode in (True, False):
        with pytest.raises(LaunchError, match="other parameters") as info:
            launcher.start_runner(rreq(root, command="python3 ./other.py"), check_mode=check_mode)
        assert info.value.details["differing"] == ["ATVM_RUNNER_COMMAND"]
        assert "run_cancel" in str(info.value) and "archived" not in str(info.value)
    assert systemd.mutating() == before
    assert systemd.units[R.format("b1")]["ActiveState"] == "active"
    assert RunStore(RunPaths.at(os.path.join(root, "b1"))).cancel_marker() is None
    with pytest.raises(TypeError):
        launcher.start_runner(rreq(root, command="python3 ./other.py"), force=True)  # force lives in one layer


@pytest.mark.parametrize("kwargs, needle", [
    ({"runner_log": "/tmp/elsewhere.log"}, "not the log the watcher reads"),
    ({"command": "python3 ./something-else.py"}, "differs from the one the watcher was started for"),
])
def test_runner_that_the_watcher_would_not_see_is_refused(env, kwargs, needle):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    with pytest.raises(LaunchError, match=needle):
        launcher.start_runner(rreq(root, **kwargs))
    assert not os.path.exists(os.path.join(root, "b1", "runner.env"))


@pytest.mark.parametrize("leftover", ["runner-exit.json", "runner-exit.json.running"])
def test_runner_is_not_started_twice_in_one_run(env, leftover):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    pathlib.Path(root, "b1", leftover).write_text('{"schema": 1, "pid": 9}')
    with pytest.raises(LaunchError, match="already ran"):
        launcher.start_runner(rreq(root))
    assert R.format("b1") not in systemd.verbs("start")


def test_runner_that_already_ended_with_the_same_parameters_changes_nothing(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    launcher.start_runner(rreq(root))
    systemd.set_state(R.format("b1"), "inactive", "dead")
    pathlib.Path(root, "b1", "runner-exit.json").write_text('{"schema": 1, "pid": 9, "exit_code": 0}')
    result = launcher.start_runner(rreq(root))
    assert result["changed"] is False and "already ran" in result["msg"]
    assert systemd.verbs("start").count(R.format("b1")) == 1
    with pytest.raises(LaunchError, match="already ran"):
        launcher.start_runner(rreq(root, command=RUNNER_CMD + " --x"))


def test_new_run_and_plan_flags(env):
    launcher, systemd, _clock, root = env
    plan = launcher.start_watcher(wreq(root), check_mode=True)
    assert (plan["new_run"], plan["cancelled_previous"], plan["resumed"]) == (True, False, False)
    launcher.start_watcher(wreq(root))
    same = launcher.start_watcher(wreq(root), check_mode=True)
    assert (same["changed"], same["new_run"], same["cancelled_previous"]) == (False, False, False)
    replace = launcher.start_watcher(wreq(root, categorized=True), check_mode=True, force=True)
    assert (replace["changed"], replace["new_run"], replace["cancelled_previous"]) == (True, True, True)
    assert systemd.verbs("stop") == []


def test_runner_start_failure_returns_the_journal(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.runner_mode = "fail"
    with pytest.raises(LaunchError, match="cannot start atvm-runner@b1.service") as info:
        launcher.start_runner(rreq(root))
    assert "/hooks/***" in info.value.details["journal"]


# ---------------------------------------------------------------------------------------------
# cancel
# ---------------------------------------------------------------------------------------------


def test_cancel_writes_the_marker_before_stopping_anything(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    launcher.start_runner(rreq(root))
    seen = []
    inner = launcher.systemd.run

    def spy(argv):
        if argv[:2] == ["systemctl", "stop"]:
            seen.append((argv[-1], os.path.exists(os.path.join(root, "b1", "cancel")),
                         systemd.read_state("b1")["run_state"]))
        return inner(argv)

    launcher.systemd.run = spy
    result = launcher.cancel("b1", reason="wrong config family")
    assert result["changed"] is True and result["run_state"] == "CANCELLED"
    assert result["stopped"] == [R.format("b1"), W.format("b1")]
    assert seen == [(R.format("b1"), True, "CANCELLED"), (W.format("b1"), True, "CANCELLED")]
    marker = RunStore(RunPaths.at(os.path.join(root, "b1"))).cancel_marker()
    assert marker["reason"] == "wrong config family" and marker["by"] == "ansible"
    state = systemd.read_state("b1")
    assert state["run_state"] == "CANCELLED" and "cancelled by ansible: wrong config family" in state["reasons"]
    assert state["result"] == "UNKNOWN" and state["ended_at"]
    assert not os.path.exists(os.path.join(root, "b1", "outbox")) or os.listdir(os.path.join(root, "b1", "outbox")) == []


def test_cancel_has_the_last_word_over_a_watcher_writing_on_stop(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    inner = launcher.systemd.run

    def watcher_rewrites(argv):
        out = inner(argv)
        if argv[:2] == ["systemctl", "stop"] and argv[-1] == W.format("b1"):
            systemd.write_state("b1", run_state="RUNNING", watcher={"phase": "done"})
        return out

    launcher.systemd.run = watcher_rewrites
    launcher.cancel("b1")
    assert systemd.read_state("b1")["run_state"] == "CANCELLED"


def test_cancel_of_a_finished_run_changes_nothing(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    systemd.write_state("b1", run_state="COMPLETED", result="PASS", watcher={"phase": "done"})
    systemd.set_state(W.format("b1"), "inactive", "dead")
    before = tree(os.path.join(root, "b1"))
    stops = len(systemd.verbs("stop"))
    result = launcher.cancel("b1")
    assert result["changed"] is False and result["run_state"] == "COMPLETED"
    assert "already ended (COMPLETED)" in result["msg"]
    assert tree(os.path.join(root, "b1")) == before
    assert len(systemd.verbs("stop")) == stops
    assert systemd.read_state("b1")["run_state"] == "COMPLETED"


def test_cancel_of_a_hung_run_stops_its_runner_and_keeps_the_verdict(env):
    launcher, systemd, _clock, root = env
    launcher.start_watcher(wreq(root))
    launcher.start_runner(rreq(root))
    systemd.write_state("b1", run_state="HUNG", result="FAIL")
    result = launcher.cancel("b1")
    assert result["changed"] is True and result["stopped"] == [R.format("b1")]
    assert systemd.read_state("b1")["run_state"] == "HUNG"
    assert not os.path.exists(os.path.join(root, "b1", "cancel"))


def test_cancel_check_mode_and_unknown_run(env):
    launcher, systemd, _clock, root = env
    assert launcher.cancel("nothing-here")["changed"] is False
    assert not os.path.exists(root)
    launcher.start_watcher(wreq(root))
    before = systemd.mutating()
    result = launcher.cancel("b1", check_mode=True)
    assert result["changed"] is True and result["diff"] == {"before": "RUNNING", "after": "CANCELLED"}
    assert systemd.mutating() == before
    assert not os.path.exists(os.path.join(root, "b1", "cancel"))


# ---------------------------------------------------------------------------------------------
# info
# ---------------------------------------------------------------------------------------------


def seed_finished_categorized(root, store_state="COMPLETED"):
    store = RunStore(RunPaths.at(os.path.join(root, "b1"))).ensure()
    subruns = []
    for index, (name, result) in enumerate([("linux", "PASS"), ("windows", "FAIL"), ("mixed", "PASS")]):
        key = "{0:03d}-{1}".format(index, name)
        verdict = {"index": index, "name": name, "state": "COMPLETED" if result == "PASS" else "FAILED",
                   "result": result, "reasons": [] if result == "PASS" else ["win2022-01: 1 test failed"],
                   "hosts": [{"host": name + "-01", "result": result, "counts": {"tests": 6}, "reasons": []}]}
        # The watcher's record: the verdict nested, as watcher.finalize writes it.
        store.save_subrun(SubrunRecord(index, name, key, verdict, posted=True, text="status of " + name))
        store.outbox_put(OutboxRecord.from_dict({"key": key, "subrun_index": index, "subrun_name": name, "status": "SENT",
                                                 "text": "status of " + name, "attempts": 1}))
        subruns.append({"index": index, "name": name, "state": "RUNNING", "result": "RUN", "delivery": "SENDING",
                        "key": key})
    store.save_state(RunState.from_dict({
        "build_name": "b1", "run_state": store_state, "result": "FAIL", "categorized": True,
        "watcher": {"pid": 1, "phase": "done"}, "subruns": subruns, "reasons": ["windows failed"],
        "metadata": {"config_file": "cypress.atvm-config-gold.ts"}, "delivery": {"sent": 0, "failed": 0, "pending": 3}}))
    return store


def test_info_reports_subruns_deliveries_and_units(env):
    launcher, systemd, _clock, root = env
    seed_finished_categorized(root)
    info = launcher.info("b1")
    assert (info["exists"], info["run_state"], info["result"], info["terminal"], info["live"]) == \
        (True, "COMPLETED", "FAIL", True, False)
    assert [(s["name"], s["state"], s["result"], s["delivery"]) for s in info["subruns"]] == [
        ("linux", "COMPLETED", "PASS", "SENT"), ("windows", "FAILED", "FAIL", "SENT"), ("mixed", "COMPLETED", "PASS", "SENT")]
    assert info["subruns"][1]["reasons"] == ["win2022-01: 1 test failed"]
    assert info["subruns"][1]["hosts"] == [{"host": "windows-01", "result": "FAIL", "reasons": []}]
    assert info["subruns"][0]["posted"] is True
    assert info["delivery"] == {"sent": 3, "failed": 0, "pending": 0}
    assert [o["status"] for o in info["outbox"]] == ["SENT"] * 3
    assert all("text" not in o for o in info["outbox"])
    assert info["units"]["watcher"]["ActiveState"] == "inactive" and info["units"]["runner"]["live"] is False
    assert info["changed"] is False
    assert systemd.mutating() == []


def test_info_of_an_unknown_run(env):
    launcher, _systemd, _clock, root = env
    info = launcher.info("nope", wait=True, timeout=5)
    assert info["exists"] is False and info["run_state"] is None and info["subruns"] == []
    assert not os.path.exists(root)


def test_info_waits_until_over_and_watcher_gone(env):
    launcher, systemd, clock, root = env
    launcher.start_watcher(wreq(root))

    def progress(now):
        if now >= 5:
            systemd.write_state("b1", run_state="COMPLETED", result="PASS", watcher={"phase": "delivering"})
        if now >= 8:
            systemd.set_state(W.format("b1"), "inactive", "dead")

    clock.hooks.append(progress)
    info = launcher.info("b1", wait=True, timeout=60)
    assert info["run_state"] == "COMPLETED" and info["units"]["watcher"]["live"] is False
    assert 8 <= clock.now < 10


def test_info_wait_timeout_fails_with_the_state(env):
    launcher, _systemd, clock, root = env
    launcher.start_watcher(wreq(root))
    with pytest.raises(LaunchError, match="still RUNNING after waiting 3 seconds") as info:
        launcher.info("b1", wait=True, timeout=3)
    assert info.value.details["timed_out"] is True and info.value.details["run_state"] == "RUNNING"
    assert 3 <= clock.now < 5


def test_check_mode_returns_the_plan_that_apply_then_carries_out(env):
    launcher, systemd, _clock, root = env
    plans = [launcher.start_watcher(wreq(root), check_mode=True)]
    assert plans[0]["msg"] == "would start the watcher of run b1" and systemd.mutating() == []
    applied = launcher.start_watcher(wreq(root))
    assert {k: applied[k] for k in ("new_run", "cancelled_previous", "resumed", "changed")} == \
        {k: plans[0][k] for k in ("new_run", "cancelled_previous", "resumed", "changed")}
    replace = launcher.start_watcher(wreq(root, categorized=True), check_mode=True, force=True)
    assert replace["msg"] == "would cancel the live run b1 and start a new watcher"
    runner_plan = launcher.start_runner(rreq(root), check_mode=True)
    assert runner_plan["msg"] == "would start the runner of run b1" and runner_plan["changed"] is True
    cancel_plan = launcher.cancel("b1", check_mode=True)
    assert cancel_plan["msg"].startswith("would cancel run b1") and cancel_plan["run_state"] == "CANCELLED"
    assert not os.path.exists(os.path.join(root, "b1", "cancel"))

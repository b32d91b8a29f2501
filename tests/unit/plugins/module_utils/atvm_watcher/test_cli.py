# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The CLI: ``verdict`` on the real corpus and on hostile input, ``check-config``, ``status``, ``cancel``."""
from __future__ import annotations

import json
import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.tests.support import cypress_sim

HERE = pathlib.Path(__file__).resolve()
ROOT = HERE.parents[5]
CORPUS = ROOT / "tests" / "fixtures" / "cypress"
HOOK = "http://127.0.0.1:9/hooks/clitesthook01"


def verdict(capsys, *args):
    rc = cli.main(["verdict", "--json"] + [str(a) for a in args], environ={})
    out, err = capsys.readouterr()
    assert rc == 0, err
    assert "Traceback" not in err
    return json.loads(out)


# What a person reading each corpus log would say about the run (no reporter artifacts given:
# the host source is missing, so nothing may PASS).
CORPUS_STATES = {
    "cy10-component-vite-hang-no-results.log": ("RUNNING", "RUN"),
    "cy10-nx-cucumber-zero-tests-all-passed.log": ("COMPLETED", "FAIL"),
    "cy11-recorded-hook-failures.log": ("COMPLETED", "FAIL"),
    "cy12-seven-specs-one-failing.log": ("COMPLETED", "FAIL"),
    "cy13-gitlab-recorded-cloud-pass.log": ("COMPLETED", "UNKNOWN"),
    "cy13-windows-headed-mochawesome-one-failing.log": ("COMPLETED", "FAIL"),
    "cy14-electron-renderer-crash.log": ("RUNNING", "FAIL"),
    "cy14-windows-after-run-error-no-run-finished.log": ("FAILED", "FAIL"),
    # an interrupted run (the prompt came back), then a complete run: the first ended without its table
    "cy14-windows-chrome-retries-18-failing.log": ("FAILED", "FAIL"),
    "cy15-ansi-gha-beforeeach-fail-43-skipped.log": ("COMPLETED", "FAIL"),
    "cy15-three-specs-two-failing-one-pending.log": ("COMPLETED", "FAIL"),
    "cy9-jenkins-two-specs-one-failing.log": ("COMPLETED", "FAIL"),
    "cy9-jenkins-two-specs-pass.log": ("COMPLETED", "UNKNOWN"),
    "snapshot-cy13-electron-tab-crash-continues-run-finished.log": ("COMPLETED", "FAIL"),
    "snapshot-cy13-parallel-group-run-canceled.log": ("COMPLETED", "FAIL"),
}


def test_every_corpus_log_has_an_expected_verdict():
    assert sorted(p.name for p in (CORPUS / "stdout").glob("*.log")) == sorted(CORPUS_STATES)


@pytest.mark.parametrize("name", sorted(CORPUS_STATES))
def test_verdict_on_corpus(capsys, name):
    doc = verdict(capsys, "--log", CORPUS / "stdout" / name)
    assert (doc["state"], doc["result"]) == CORPUS_STATES[name]
    assert len(doc["subruns"]) == 1
    sub = doc["subruns"][0]
    assert sub["result"] != "PASS"
    assert sub["message"].startswith("####")
    assert sub["post"]["text"] == sub["message"].splitlines()[0]
    assert sub["post"]["attachments"][0]["color"] in ("#D24B4E", "#8D8D8D")


def test_verdict_exit_code_makes_the_state(capsys):
    log = CORPUS / "stdout" / "cy9-jenkins-two-specs-pass.log"
    assert verdict(capsys, "--log", log, "--exit-code", "0")["state"] == "COMPLETED"
    doc = verdict(capsys, "--log", log, "--exit-code", "3")
    assert (doc["state"], doc["result"]) == ("FAILED", "FAIL")
    assert verdict(capsys, "--log", log, "--exit-code", "137")["state"] == "TERMINATED"


def _generated(tmp_path, *extra):
    sim = cypress_sim
    log = tmp_path / "runner.log"
    rep = tmp_path / "rep"
    junit = tmp_path / "junit"
    inv = tmp_path / "inv.md"
    argv = ["--hosts", "rhel96-fc-01,win2022-01", "--reporter-dir", str(rep), "--junit-dir", str(junit),
            "--write-inventory", str(inv), "--log", str(log)] + list(extra)
    code = sim.main(argv)
    return log, rep, junit, inv, code


def test_verdict_pass_needs_every_source(capsys, tmp_path):
    log, rep, junit, inv, code = _generated(tmp_path)
    doc = verdict(capsys, "--log", log, "--reporter-dir", rep, "--junit", junit, "--inventory", inv,
                  "--exit-code", code)
    assert (doc["state"], doc["result"]) == ("COMPLETED", "PASS")
    hosts = doc["subruns"][0]["hosts"]
    assert [(h["host"], h["result"]) for h in hosts] == [("rhel96-fc-01", "PASS"), ("win2022-01", "PASS")]
    assert hosts[0]["kernel"]
    # the same run with one artifact gone: MISSING host, FAIL
    (rep / "win2022-01.json").unlink()
    doc = verdict(capsys, "--log", log, "--reporter-dir", rep, "--junit", junit, "--inventory", inv, "--exit-code", 0)
    assert doc["result"] == "FAIL"
    assert doc["subruns"][0]["hosts"][1]["result"] == "MISSING"


def test_verdict_expected_host_that_never_ran(capsys, tmp_path):
    log, rep, junit, inv, code = _generated(tmp_path)
    doc = verdict(capsys, "--log", log, "--reporter-dir", rep, "--inventory", inv, "--exit-code", code,
                  "--expect-hosts", "rhel96-fc-01,ol8-03")
    assert doc["result"] == "FAIL"
    assert any(h["host"] == "ol8-03" and h["result"] == "MISSING" for h in doc["subruns"][0]["hosts"])


def test_verdict_hostile_inputs_are_not_pass(capsys, tmp_path):
    log, rep, junit, inv, code = _generated(tmp_path)
    # a 50 MB single line, binary garbage and invalid UTF-8 in the log
    with open(log, "ab") as handle:
        handle.write(b"x" * (50 * 1024 * 1024) + b"\n")
        handle.write(bytes(range(256)) * 64 + b"\n\xff\xfe\xfd not utf-8 \x00\x00\n")
    bomb = tmp_path / "bomb.xml"
    bomb.write_text('<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>'
                    '<testsuites><testsuite name="&lol2;"/></testsuites>')
    (rep / "rhel96-fc-01.json").write_bytes(b'{"host": "rhel96-fc-01", "status": "PASS", "stats": {"tests": 3,')
    doc = verdict(capsys, "--log", log, "--reporter-dir", rep, "--junit", bomb, "--inventory", inv, "--exit-code", 0)
    assert doc["result"] == "FAIL"
    reasons = " ".join(doc["subruns"][0]["reasons"] + doc["subruns"][0]["hosts"][0]["reasons"])
    assert "unreadable" in reasons


def test_verdict_missing_log_is_a_clear_error(capsys, tmp_path):
    rc = cli.main(["verdict", "--json", "--log", str(tmp_path / "nope.log")], environ={})
    _out, err = capsys.readouterr()
    assert rc == 1
    assert "nope.log" in err and "Traceback" not in err


def test_check_config(capsys, tmp_path):
    good = tmp_path / "good.env"
    good.write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\nMATTERMOST_ATVM_CHANNEL="atvm-runs"\n'.format(HOOK))
    assert cli.main(["check-config", "--env-file", str(good)], environ={}) == 0
    bad = tmp_path / "bad.env"
    bad.write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\nMATTERMOST_ATVM_CHANNEL="Town Square"\nATVM_HANG_TIMEOUT="soon"\n'.format(HOOK))
    assert cli.main(["check-config", "--env-file", str(bad)], environ={}) == 1
    out, err = capsys.readouterr()
    assert "ATVM_HANG_TIMEOUT" in err
    assert "clitesthook" not in out + err


def test_check_config_names_a_typo_and_a_removed_setting_and_strict_refuses_them(capsys, tmp_path):
    env = tmp_path / "controller.env"
    env.write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\nATVM_HANG_TIMOUT="60"\nATVM_ARCHIVE_KEEP="3"\n'
                   'ATVM_RUNNER_WORKDIR="/srv"\nHTTPS_PROXY="http://proxy:3128"\n'.format(HOOK))
    assert cli.main(["check-config", "--env-file", str(env)], environ={}) == 0
    out, err = capsys.readouterr()
    assert "configuration OK" in out
    assert err.splitlines() == [
        "atvm-run-watcher: warning: ATVM_ARCHIVE_KEEP is no longer a setting (removed in 2.0.0: how many old runs "
        "of a build are kept is the archive_keep option of atvm.watcher.watcher_start)",
        "atvm-run-watcher: warning: ATVM_HANG_TIMOUT is not a setting, nothing reads it; did you mean ATVM_HANG_TIMEOUT?"]
    assert cli.main(["check-config", "--strict", "--env-file", str(env)], environ={}) == 1
    out, err = capsys.readouterr()
    assert out == "" and "ATVM_HANG_TIMOUT is not a setting" in err and "warning" not in err
    env.write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\nATVM_HANG_TIMEOUT="60"\n'.format(HOOK))
    assert cli.main(["check-config", "--strict", "--env-file", str(env)], environ={}) == 0
    assert "clitesthook" not in "".join(capsys.readouterr())


def test_status_and_cancel(capsys, tmp_path):
    root = tmp_path / "state"
    assert cli.main(["status", "--build-name", "b1", "--state-root", str(root)], environ={}) == 1
    assert "no state" in capsys.readouterr()[1]
    (root / "b1").mkdir(parents=True)
    (root / "b1" / "state.json").write_text(json.dumps({"schema": 1, "build_name": "b1", "run_state": "RUNNING",
                                                        "result": "RUN", "subruns": []}))
    assert cli.main(["cancel", "--build-name", "b1", "--state-root", str(root)], environ={}) == 0
    assert (root / "b1" / "cancel").exists()
    assert cli.main(["status", "--build-name", "b1", "--state-root", str(root), "--json"], environ={}) == 0
    out = capsys.readouterr()[0]
    info = json.loads(out[out.index("{"):])
    assert info["run_state"] == "CANCELLED" and info["cancel_marker"]["by"] == "atvm-run-watcher cancel"


@pytest.mark.parametrize("name", ["../../etc/x", "a b", "a\nb", "x@y", ".hidden", "a/b", ""])
def test_hostile_build_names_are_refused(capsys, tmp_path, name):
    rc = cli.main(["status", "--build-name", name, "--state-root", str(tmp_path)], environ={})
    assert rc == 1
    assert "invalid build name" in capsys.readouterr()[1]
    assert list(tmp_path.iterdir()) == []

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What an operator reads from the command line: help on every option, examples and exit codes, the verdict as an
exit status, and check-config naming what it read."""
from __future__ import annotations

import argparse
import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as settings_module
from ansible_collections.atvm.watcher.tests.support import cypress_sim as sim

CORPUS = pathlib.Path(__file__).resolve().parents[5] / "tests" / "fixtures" / "cypress" / "stdout"
HOOK = "http://127.0.0.1:9/hooks/clioperatorhook01"


def _subparsers(parser):
    for action in parser._actions:  # pylint: disable=protected-access
        if isinstance(action, argparse._SubParsersAction):  # pylint: disable=protected-access
            return action.choices
    return {}


def test_every_option_of_every_command_has_help():
    missing = []
    for name, sub in _subparsers(cli.build_parser()).items():
        for action in sub._actions:  # pylint: disable=protected-access
            if action.option_strings and not action.help:
                missing.append("{0} {1}".format(name, "/".join(action.option_strings)))
    assert missing == []


def test_help_shows_examples_and_exit_codes(capsys):
    with pytest.raises(SystemExit) as done:
        cli.main(["--help"], environ={})
    assert done.value.code == 0
    out = capsys.readouterr().out
    assert "examples:\n  atvm-run-watcher status --build-name nightly-42" in out
    for line in ("  0  success", "  2  usage", "  3  a post could not be delivered", "  4  the configuration is invalid"):
        assert line in out
    with pytest.raises(SystemExit):
        cli.main(["verdict", "--help"], environ={})
    out = capsys.readouterr().out
    assert "--exit-status" in out and "0 PASS, 1 FAIL, 2 anything else" in out and "examples:" in out


def test_verdict_exit_status(capsys, tmp_path):
    log, rep = tmp_path / "runner.log", tmp_path / "rep"
    code = sim.main(["--hosts", "rhel96-fc-01", "--reporter-dir", str(rep), "--junit-dir", str(tmp_path / "junit"),
                     "--log", str(log)])
    passed = ["verdict", "--log", str(log), "--reporter-dir", str(rep), "--exit-code", str(code)]
    assert cli.main(passed, environ={}) == 0 and cli.main(passed + ["--exit-status"], environ={}) == 0
    failing = ["verdict", "--log", str(CORPUS / "cy12-seven-specs-one-failing.log")]
    assert cli.main(failing, environ={}) == 0  # without --exit-status: the verdict was made
    assert cli.main(failing + ["--exit-status"], environ={}) == 1
    unknown = ["verdict", "--log", str(CORPUS / "cy9-jenkins-two-specs-pass.log"), "--exit-status"]  # no host source
    assert cli.main(unknown, environ={}) == 2
    assert cli.main(["verdict", "--log", str(tmp_path / "none.log"), "--exit-status"], environ={}) == 1
    capsys.readouterr()


def _good(path):
    path.write_text("MATTERMOST_ATVM_WEBHOOK='{0}'\nMATTERMOST_ATVM_CHANNEL='atvm-runs'\n".format(HOOK), encoding="utf-8")
    return str(path)


def test_check_config_names_the_file_it_read(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(settings_module, "GLOBAL_ENV_FILE", _good(tmp_path / "atvm-run-watcher.env"))
    assert cli.main(["check-config"], environ={"ATVM_HANG_TIMEOUT": "60"}) == 0
    out = capsys.readouterr().out
    assert out == "configuration OK ({0}, then ATVM_HANG_TIMEOUT from the environment)\n".format(
        tmp_path / "atvm-run-watcher.env")
    assert cli.main(["check-config"], environ={}) == 0
    assert capsys.readouterr().out == "configuration OK ({0})\n".format(tmp_path / "atvm-run-watcher.env")


def test_check_config_without_a_file_says_so(capsys, tmp_path, monkeypatch):
    monkeypatch.setattr(settings_module, "GLOBAL_ENV_FILE", str(tmp_path / "missing.env"))
    assert cli.main(["check-config"], environ={"MATTERMOST_ATVM_WEBHOOK": HOOK, "MATTERMOST_ATVM_CHANNEL": "atvm-runs"}) == 0
    out, err = capsys.readouterr()
    assert out == ("configuration OK (no env file: {0} is missing; MATTERMOST_ATVM_CHANNEL, MATTERMOST_ATVM_WEBHOOK "
                   "from the environment)\n".format(tmp_path / "missing.env"))
    assert "clioperatorhook" not in out + err


def test_check_config_with_env_files_names_them(capsys, tmp_path):
    path = _good(tmp_path / "a.env")
    assert cli.main(["check-config", "--env-file", path], environ={}) == 0
    assert capsys.readouterr().out == "configuration OK ({0})\n".format(path)

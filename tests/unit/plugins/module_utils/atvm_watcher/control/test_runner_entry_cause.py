# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner entry names the real cause of a command that cannot start (the journal and the runner log)."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import runner_entry as runner


@pytest.fixture
def state_root(tmp_path):
    (tmp_path / "b1").mkdir()
    return tmp_path


def _said(state_root, capsys):
    log = (state_root / "b1" / "runner.log").read_text(encoding="utf-8")
    with open(state_root / "b1" / "runner-exit.json", encoding="utf-8") as handle:
        record = json.load(handle)
    return log, capsys.readouterr().err, record


def test_a_missing_working_directory_is_named_not_the_interpreter(state_root, capsys):
    workdir = str(state_root / "nope")
    assert runner.run("b1", str(state_root), "python3 ./run-sorry-cypress.py", workdir, None) == 127
    log, err, record = _said(state_root, capsys)
    expected = "atvm-runner: cannot start python3: its working directory {0} does not exist".format(workdir)
    assert expected in log and expected in err and record["exit_code"] == 127
    assert "No such file or directory" not in log + err


def test_an_executable_not_on_path(state_root, capsys, monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent/bin")
    assert runner.run("b1", str(state_root), "no-such-tool --x", str(state_root), None) == 127
    log, err, _record = _said(state_root, capsys)
    assert "cannot start no-such-tool: not found on PATH (/nonexistent/bin)" in log + err


def test_a_script_whose_interpreter_is_missing(state_root, capsys):
    script = state_root / "wrapper.sh"
    script.write_text("#!/nonexistent/interpreter\necho hi\n", encoding="utf-8")
    os.chmod(script, 0o755)
    assert runner.run("b1", str(state_root), "./wrapper.sh", str(state_root), None) == 127
    log, _err, _record = _said(state_root, capsys)
    assert "cannot start ./wrapper.sh: the interpreter of its #! line does not exist" in log


def test_a_missing_relative_program(state_root, capsys):
    assert runner.run("b1", str(state_root), "./gone.sh", str(state_root), None) == 127
    log, _err, _record = _said(state_root, capsys)
    assert "cannot start ./gone.sh: no such file in {0}".format(state_root) in log

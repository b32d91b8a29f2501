# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.template_render driven through main()."""
from __future__ import annotations

import json

import pytest

from ansible_collections.atvm.watcher.plugins.modules import template_render

HOSTILE = ["../../etc/x", "a b", "a\nb", "x@y"]


def test_success(run_module, tmp_path):
    log = tmp_path / "b1.launch.log"
    result, failed = run_module(template_render, {"build_name": "b1", "command": "sh -c 'echo rendered config'",
                                                  "chdir": str(tmp_path), "log_path": str(log)})
    assert failed is False and result["changed"] is True and result["rc"] == 0
    assert result["cmd"] == ["sh", "-c", "echo rendered config"]
    assert result["log_tail"] == ["rendered config"] and log.read_text() == "rendered config\n"


def test_failure_returns_the_tail_and_the_log(run_module, tmp_path):
    log = tmp_path / "b1.launch.log"
    script = "echo one; echo two; echo 'Traceback: KeyError: cmc-e2e' >&2; exit 2"
    result, failed = run_module(template_render, {"build_name": "b1", "command": "sh -c " + json.dumps(script),
                                                  "chdir": str(tmp_path), "log_path": str(log), "tail_lines": 2})
    assert failed is True
    assert result["msg"].startswith("the template command exited with 2; nothing else was started")
    assert result["rc"] == 2 and result["log_tail"] == ["two", "Traceback: KeyError: cmc-e2e"]
    assert result["log_path"] == str(log)


def test_timeout(run_module, tmp_path):
    result, failed = run_module(template_render, {"build_name": "b1", "command": "sleep 20", "chdir": str(tmp_path),
                                                  "log_path": str(tmp_path / "l.log"), "timeout": 0.3})
    assert failed is True and result["timed_out"] is True and "did not finish within 0.3 seconds" in result["msg"]


def test_check_mode_runs_nothing(run_module, tmp_path):
    marker = tmp_path / "ran"
    result, failed = run_module(template_render, {"build_name": "b1", "command": "touch " + str(marker),
                                                  "chdir": str(tmp_path), "log_path": str(tmp_path / "l.log")},
                                check=True)
    assert failed is False and result["changed"] is True
    assert not marker.exists() and not (tmp_path / "l.log").exists()


@pytest.mark.parametrize("name", HOSTILE)
def test_hostile_build_name_refused_before_anything(run_module, tmp_path, name):
    marker = tmp_path / "ran"
    result, failed = run_module(template_render, {"build_name": name, "command": "touch " + str(marker),
                                                  "chdir": str(tmp_path)})
    assert failed is True and result["build_name_refused"] is True and "invalid build name" in result["msg"]
    assert not marker.exists()
    assert list(tmp_path.iterdir()) == []


def test_environment_is_passed_and_kept_out_of_the_output(run_module, tmp_path):
    result, failed = run_module(template_render, {"build_name": "b1", "command": "sh -c 'echo got=$CMC_TOKEN; exit 1'",
                                                  "chdir": str(tmp_path), "log_path": str(tmp_path / "l.log"),
                                                  "environment": {"CMC_TOKEN": "s3cret-token"}})
    assert failed is True
    assert (tmp_path / "l.log").read_text() == "got=s3cret-token\n"
    assert "s3cret-token" not in json.dumps(result)


@pytest.mark.parametrize("command, words", [
    ("python3 ./cmc-templates.py --template_name cmc-e2e | tee out.txt", "a pipe (|)"),
    ("python3 ./cmc-templates.py > out.txt", "a redirection (>)"),
    ("python3 ./a.py && python3 ./b.py", "& or &&"),
    ("python3 ./cmc-templates.py --out $HOME/x", "a variable or substitution ($)"),
])
def test_shell_syntax_is_refused_before_anything_runs(run_module, tmp_path, command, words):
    log = tmp_path / "b1.launch.log"
    result, failed = run_module(template_render, {"build_name": "b1", "command": command, "chdir": str(tmp_path),
                                                  "log_path": str(log)})
    assert failed is True and words in result["msg"] and "run without a shell" in result["msg"]
    assert "bash -c" in result["msg"] and not log.exists()


def test_quoted_shell_characters_are_arguments(run_module, tmp_path):
    result, failed = run_module(template_render, {"build_name": "b1", "command": "printf '%s\\n' 'a|b' \"c > d\"",
                                                  "chdir": str(tmp_path), "log_path": str(tmp_path / "l.log")})
    assert failed is False and result["log_tail"] == ["a|b", "c > d"]

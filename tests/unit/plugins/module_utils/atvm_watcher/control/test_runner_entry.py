# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runner entry: the exit record, a full disk, a runner log that is not a regular file."""
from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import textwrap

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import runner_entry as runner
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError, StateError

# A child Python imports the collection as the tests do: from the directory that holds ansible_collections/.
_COLLECTIONS_ROOT = os.path.abspath(os.path.join(os.path.dirname(runner.__file__), *[os.pardir] * 7))
CHILD_ENV = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [_COLLECTIONS_ROOT, os.environ.get("PYTHONPATH")])))


@pytest.fixture
def state_root(tmp_path):
    (tmp_path / "b1").mkdir()
    return tmp_path


def _record(state_root):
    return json.loads((state_root / "b1" / "runner-exit.json").read_text())


def test_exit_code_is_recorded_and_the_reserve_removed(state_root):
    code = runner.run("b1", str(state_root), "sh -c 'echo out; exit 3'", None, None)
    assert code == 3
    record = _record(state_root)
    assert (record["exit_code"], record["signal"], record["schema"]) == (3, None, 1)
    assert record["ended_at"].endswith("Z") and record["started_at"] <= record["ended_at"]
    assert not (state_root / "b1" / "runner-exit.json.running").exists()
    assert not [p for p in (state_root / "b1").iterdir() if p.name.endswith(".tmp")]
    assert (state_root / "b1" / "runner.log").read_text() == "out\n"
    assert oct((state_root / "b1" / "runner-exit.json").stat().st_mode & 0o777) == "0o640"


def test_a_failed_exit_write_uses_the_reserved_record(state_root, monkeypatch, capsys):
    real = runner.atomic_write_json

    def full_disk(path, obj, mode=0o640):
        if path.endswith("runner-exit.json"):
            raise StateError("cannot write {0}: No space left on device".format(path))
        real(path, obj, mode)

    monkeypatch.setattr(runner, "atomic_write_json", full_disk)
    assert runner.run("b1", str(state_root), "sh -c 'exit 5'", None, None) == 5
    assert _record(state_root)["exit_code"] == 5
    err = capsys.readouterr().err
    assert "No space left on device" in err and "written over the reserved record" in err


def test_without_any_record_the_failure_and_the_exit_are_journalled(state_root, monkeypatch, capsys):
    def full_disk(path, obj, mode=0o640):
        raise StateError("cannot write {0}: No space left on device".format(path))

    monkeypatch.setattr(runner, "atomic_write_json", full_disk)
    assert runner.run("b1", str(state_root), "sh -c 'exit 4'", None, None) == 4
    assert not (state_root / "b1" / "runner-exit.json").exists()
    err = capsys.readouterr().err
    assert "the command ended with exit code 4, signal None (kept in the unit's exit status)" in err


def test_a_file_size_limit_of_zero_loses_no_exit_code_and_raises_nothing(state_root):
    """A real write failure (EFBIG from RLIMIT_FSIZE, as ENOSPC would be): the process ends with the
    command's code, the journal (stderr) says why the record is missing, and there is no traceback."""
    script = textwrap.dedent("""
        import resource, sys
        resource.setrlimit(resource.RLIMIT_FSIZE, (0, resource.RLIM_INFINITY))
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import runner_entry as runner
        sys.exit(runner.main(["--build-name", "b1", "--state-root", sys.argv[1], "--command", "sh -c 'exit 6'"]))
    """)
    proc = subprocess.run([sys.executable, "-c", script, str(state_root)], capture_output=True, text=True,
                          env=CHILD_ENV, timeout=60, check=False)
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" not in proc.stderr
    assert "File too large" in proc.stderr
    assert "exit code 6" in proc.stderr
    assert resource.getrlimit(resource.RLIMIT_FSIZE)[0] != 0  # the limit stayed in the child


def test_a_signal_is_recorded(state_root):
    script = "import importlib, sys; sys.exit(importlib.import_module('" + runner.__name__ + "').run(" \
             "'b1', sys.argv[1], \"sh -c 'kill -TERM $$'\", None, None))"
    proc = subprocess.run([sys.executable, "-c", script, str(state_root)], capture_output=True, text=True,
                          env=CHILD_ENV, timeout=60, check=False)
    assert proc.returncode == -15, proc.stderr
    record = _record(state_root)
    assert (record["exit_code"], record["signal"]) == (None, 15)


def test_a_fifo_as_runner_log_is_refused_without_blocking(state_root):
    fifo = state_root / "b1" / "runner.log"
    os.mkfifo(fifo)
    with pytest.raises(ConfigError, match=r"runner log .*not a regular file \(a FIFO\)"):
        runner.run("b1", str(state_root), "true", None, None)


def test_a_character_device_as_runner_log_is_refused(state_root):
    with pytest.raises(ConfigError, match=r"not a regular file \(a character device\)"):
        runner.run("b1", str(state_root), "true", None, "/dev/null")


def test_a_command_that_cannot_start_is_recorded(state_root, capsys):
    assert runner.run("b1", str(state_root), "/nonexistent/cmd", None, None) == 127
    assert _record(state_root)["exit_code"] == 127
    assert "cannot start /nonexistent/cmd" in capsys.readouterr().err

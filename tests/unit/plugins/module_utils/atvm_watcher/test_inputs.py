# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Input files never block: a FIFO, a symlink to one, a device or a directory is unreadable evidence."""
from __future__ import annotations

import contextlib
import os
import signal

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import envfile
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import inputs
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import inventory
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import junit
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import mochawesome
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import reporter
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError, InputError
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.logfile import LogReader


class Blocked(Exception):
    pass


@contextlib.contextmanager
def bounded(seconds=3):
    """Fail (instead of hanging the suite) when the body blocks."""
    def alarm(_signum, _frame):
        raise Blocked("blocked for {0} s".format(seconds))

    old = signal.signal(signal.SIGALRM, alarm)
    signal.alarm(seconds)
    try:
        yield
    finally:
        signal.alarm(0)
        signal.signal(signal.SIGALRM, old)


@pytest.fixture(params=["fifo", "symlink-to-fifo", "char-device", "directory"])
def odd(request, tmp_path):
    """A path that is not a regular file, and how the refusal names it."""
    kind = request.param
    path = tmp_path / "odd"
    if kind == "fifo":
        os.mkfifo(path)
        return str(path), "a FIFO"
    if kind == "symlink-to-fifo":
        os.mkfifo(tmp_path / "real-fifo")
        path.symlink_to(tmp_path / "real-fifo")
        return str(path), "a FIFO"
    if kind == "char-device":
        path.symlink_to("/dev/zero")
        return str(path), "a character device"
    path.mkdir()
    return str(path), "a directory"


def test_open_regular_refuses_without_blocking(odd):
    path, kind = odd
    with bounded(), pytest.raises(OSError) as info:
        inputs.open_regular(path)
    assert info.value.strerror in ("not a regular file ({0})".format(kind), "Is a directory")


def test_read_regular_is_bounded(tmp_path):
    path = tmp_path / "big"
    path.write_bytes(b"x" * 5000)
    st, data = inputs.read_regular(str(path), 100)
    assert (st.st_size, len(data)) == (5000, 101)
    assert inputs.read_regular(str(path), 10000)[1] == b"x" * 5000


def test_every_reader_reports_an_odd_file_as_unreadable(odd, tmp_path):
    path, _kind = odd
    settings = config.Settings()
    with bounded():
        art = reporter.read_reporter_artifact(path, settings)
        assert art.error and "cannot read reporter artifact" in art.error
        assert junit.read_junit(path).error
        assert mochawesome.read_mochawesome(path).error
        with pytest.raises(InputError, match="inventory file"):
            inventory.read_inventory(path)
        with pytest.raises(InputError, match="cannot open the log"):
            LogReader(path).poll()
        with pytest.raises(ConfigError, match="cannot read message template"):
            render._load_template(path)  # pylint: disable=protected-access
        with pytest.raises(ConfigError, match="cannot read env file"):
            envfile.read_env_file(path)


def test_a_fifo_in_the_reporter_and_junit_dirs_is_an_unreadable_artifact(tmp_path):
    reporter_dir = tmp_path / "reporter"
    reporter_dir.mkdir()
    (reporter_dir / "rhel96-fc-01.json").write_text('{"host": "rhel96-fc-01", "status": "PASS"}')
    os.mkfifo(reporter_dir / "win2022-01.json")
    os.mkfifo(tmp_path / "elsewhere.json")
    (reporter_dir / "ol8-03.json").symlink_to(tmp_path / "elsewhere.json")
    junit_dir = tmp_path / "junit"
    junit_dir.mkdir()
    os.mkfifo(junit_dir / "results-1.xml")
    with bounded():
        arts = reporter.scan_reporter_dir(str(reporter_dir), config.Settings())
        reports = junit.scan_junit_dir(str(junit_dir))
    by_host = {a.host: a for a in arts}
    assert by_host["rhel96-fc-01"].error is None
    assert "not a regular file (a FIFO)" in by_host["win2022-01"].error
    assert "not a regular file (a FIFO)" in by_host["ol8-03"].error
    assert len(reports) == 1 and "not a regular file (a FIFO)" in reports[0].error


def test_the_log_reader_refuses_a_log_replaced_by_a_fifo(tmp_path):
    log = tmp_path / "runner.log"
    log.write_bytes(b"line\n")
    reader = LogReader(str(log))
    assert reader.poll() == b"line\n"
    log.unlink()
    os.mkfifo(log)
    with bounded(), pytest.raises(InputError, match=r"not a regular file \(a FIFO\)"):
        reader.poll()

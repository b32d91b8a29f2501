# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``atvm-run-watcher check-config --send-test`` against the Mattermost double."""
from __future__ import annotations

import socket

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import __version__
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd

HOOK = "clisendtesthook00000000001"


@pytest.fixture
def double():
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs"),
                              locked_channel="atvm-runs") as server:
        yield server


def _env_file(tmp_path, double, hook=HOOK, channel="atvm-runs"):
    path = tmp_path / "atvm-run-watcher.env"
    path.write_text("MATTERMOST_ATVM_WEBHOOK='{0}'\nMATTERMOST_ATVM_CHANNEL='{1}'\nATVM_DELIVERY_DEADLINE='5'\n".format(
        double.url_for(hook), channel), encoding="utf-8")
    return str(path)


def test_send_test_posts_one_line(capsys, tmp_path, double):
    assert cli.main(["check-config", "--env-file", _env_file(tmp_path, double), "--send-test"], environ={}) == 0
    assert double.texts() == ["atvm.watcher {0} installed on {1}; run results will be posted here".format(
        __version__, socket.gethostname())]
    out = capsys.readouterr().out
    assert "test post sent to atvm-runs" in out and HOOK not in out


@pytest.mark.parametrize("hook, channel, words", [
    ("deletedhook000000000000001", "atvm-runs", "HTTP 400"),
    (HOOK, "town-square", "locked to another channel"),
])
def test_send_test_fails_with_the_servers_answer(capsys, tmp_path, double, hook, channel, words):
    assert cli.main(["check-config", "--env-file", _env_file(tmp_path, double, hook, channel), "--send-test"],
                    environ={}) == 1
    captured = capsys.readouterr()
    assert "the test post was refused: " in captured.err and words in captured.err
    assert hook not in captured.out + captured.err
    assert double.texts() == []


def test_send_test_needs_a_webhook(capsys, tmp_path):
    env = tmp_path / "empty.env"
    env.write_text("MATTERMOST_ATVM_CHANNEL='atvm-runs'\n", encoding="utf-8")
    assert cli.main(["check-config", "--env-file", str(env), "--no-webhook", "--send-test"], environ={}) == 1
    assert "MATTERMOST_ATVM_WEBHOOK is not set" in capsys.readouterr().err


def test_send_test_to_a_server_that_cannot_be_reached_fails_at_once(capsys, tmp_path):
    import time  # pylint: disable=import-outside-toplevel

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = tmp_path / "atvm-run-watcher.env"
    env.write_text("MATTERMOST_ATVM_WEBHOOK='http://127.0.0.1:{0}/hooks/{1}'\nMATTERMOST_ATVM_CHANNEL='atvm-runs'\n"
                   .format(port, HOOK), encoding="utf-8")
    started = time.monotonic()
    assert cli.main(["check-config", "--env-file", str(env), "--send-test"], environ={}) == 1
    assert time.monotonic() - started < 3
    err = capsys.readouterr().err
    assert "the test post could not reach Mattermost: cannot reach the Mattermost server http://127.0.0.1:" in err
    assert "refused the test post" not in err and "was refused:" not in err and HOOK not in err

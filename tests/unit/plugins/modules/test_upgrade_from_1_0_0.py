# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A state root written by 1.0.0 (tests/fixtures/state-1.0.0) read and resent by this release (docs/upgrade.md)."""
from __future__ import annotations

import json
import pathlib
import shutil

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as settings_mod
from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd
from ansible_collections.atvm.watcher.plugins.modules import run_info, run_resend

FIXTURE = pathlib.Path(__file__).resolve().parents[3] / "fixtures" / "state-1.0.0"
BUILD = "nightly-41"


HOOK = "modulestesthook0000000000001"


@pytest.fixture
def double():
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs")) as server:
        yield server


@pytest.fixture
def old_root(tmp_path, systemd, monkeypatch, double):
    shutil.copytree(str(FIXTURE / BUILD), str(pathlib.Path(systemd.state_root) / BUILD))
    env = tmp_path / "atvm-run-watcher.env"
    env.write_text("MATTERMOST_ATVM_WEBHOOK='{0}'\nMATTERMOST_ATVM_CHANNEL='atvm-runs'\nATVM_DELIVERY_DEADLINE='5'\n"
                   "ATVM_STATE_ROOT='{1}'\n".format(double.url_for(HOOK), systemd.state_root), encoding="utf-8")
    monkeypatch.setattr(settings_mod, "GLOBAL_ENV_FILE", str(env))
    return pathlib.Path(systemd.state_root) / BUILD


def _stored(path: pathlib.Path, key: str) -> dict:
    return json.loads((path / "outbox" / "{0}.json".format(key)).read_text(encoding="utf-8"))


def test_run_info_reads_the_old_run_and_names_the_failed_post(run_module, systemd, old_root):
    result, failed = run_module(run_info, {"build_name": BUILD, "state_root": systemd.state_root})
    assert failed is True
    assert result["run_state"] == "FAILED" and result["result"] == "FAIL" and result["phase"] == "delivery-failed"
    assert [(s["name"], s["result"], s["delivery"]) for s in result["subruns"]] == [
        ("linux", "PASS", "SENT"), ("windows", "FAIL", "POST_FAILED")]
    worst = {"host": "win2022-01", "result": "FAIL", "reasons": ["3 of 18 tests failed"]}
    assert result["subruns"][1]["hosts"][0] == worst
    assert result["metadata"]["config_family"] == "gold"
    assert result["delivery"] == {"sent": 1, "failed": 1, "pending": 0}
    assert [r["key"] for r in result["undelivered"]] == ["001-windows"]
    assert "001-windows POST_FAILED (HTTP 403" in result["msg"]


def test_the_old_failed_post_is_resent_once_with_its_stored_text(run_module, systemd, old_root, double):
    text = _stored(old_root, "001-windows")["text"]
    result, failed = run_module(run_resend, {"build_name": BUILD, "state_root": systemd.state_root})
    assert failed is False and [(r["key"], r["status"]) for r in result["records"]] == [("001-windows", "SENT")]
    assert double.texts() == [text]
    assert run_module(run_resend, {"build_name": BUILD, "state_root": systemd.state_root})[0]["records"] == []
    assert double.texts() == [text]
    assert _stored(old_root, "000-linux")["sent_at"] == "2026-11-20T01:41:09.280Z"  # untouched
    info, failed = run_module(run_info, {"build_name": BUILD, "state_root": systemd.state_root})
    assert failed is False and info["delivery"] == {"sent": 2, "failed": 0, "pending": 0}


def test_the_command_line_reads_the_old_run(capsys, systemd, old_root):
    assert cli.main(["status", "--build-name", BUILD, "--json"], environ={}) == 0
    shown = json.loads(capsys.readouterr().out)
    assert (shown["build_name"], shown["run_state"], shown["result"]) == (BUILD, "FAILED", "FAIL")
    assert shown["delivery"] == {"sent": 1, "failed": 1, "pending": 0}
    assert [(r["key"], r["status"]) for r in shown["outbox"]] == [("000-linux", "SENT"), ("001-windows", "POST_FAILED")]

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.settings_diff: the settings a new env file changes, shown with the secrets masked."""
from __future__ import annotations

import json

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import render_env_file
from ansible_collections.atvm.watcher.plugins.modules import settings_diff

HOOK = "https://chat.example.org/hooks/FAKEsettingsDiffHook1"
NEW_HOOK = "https://chat.example.org/hooks/FAKEsettingsDiffHook2"
OLD = {"MATTERMOST_ATVM_WEBHOOK": HOOK, "MATTERMOST_ATVM_CHANNEL": "atvm-runs", "ATVM_HANG_TIMEOUT": "1800",
       "ATVM_STATE_ROOT": "/var/lib/atvm-run-watcher"}


def _env(tmp_path, values=None):
    path = tmp_path / "atvm-run-watcher.env"
    path.write_text(render_env_file(OLD if values is None else values, header="managed"), encoding="utf-8")
    return str(path)


def test_a_changed_setting_shows_in_the_diff_and_the_webhook_never(run_module, tmp_path):
    content = render_env_file(dict(OLD, ATVM_HANG_TIMEOUT="3600", ATVM_API_TOKEN="tok-9f8e7d"), header="new header")
    result, failed = run_module(settings_diff, {"path": _env(tmp_path), "content": content}, check=True, diff=True)
    assert failed is False and result["changed"] is True
    assert result["changed_settings"] == ["ATVM_API_TOKEN", "ATVM_HANG_TIMEOUT"]
    before, after = result["diff"]["before"], result["diff"]["after"]
    assert 'ATVM_HANG_TIMEOUT="1800"\n' in before and 'ATVM_HANG_TIMEOUT="3600"\n' in after
    assert "MATTERMOST_ATVM_WEBHOOK=********\n" in before and "MATTERMOST_ATVM_WEBHOOK=********\n" in after
    assert "ATVM_API_TOKEN=********\n" in after
    shown = json.dumps(result)
    assert HOOK not in shown and "FAKEsettingsDiffHook" not in shown and "tok-9f8e7d" not in shown


def test_a_changed_webhook_is_said_to_change_without_showing_it(run_module, tmp_path):
    content = render_env_file(dict(OLD, MATTERMOST_ATVM_WEBHOOK=NEW_HOOK))
    result, failed = run_module(settings_diff, {"path": _env(tmp_path), "content": content}, diff=True)
    assert failed is False and result["changed_settings"] == ["MATTERMOST_ATVM_WEBHOOK"]
    assert "MATTERMOST_ATVM_WEBHOOK=********\n" in result["diff"]["before"]
    assert "MATTERMOST_ATVM_WEBHOOK=******** (changed)\n" in result["diff"]["after"]
    assert "FAKEsettingsDiffHook" not in json.dumps(result)


def test_the_webhook_inside_another_value_is_removed(run_module, tmp_path):
    content = render_env_file(dict(OLD, ATVM_MESSAGE_TEMPLATE="/etc/t.md", ATVM_SCOPE_NOTE="see " + HOOK))
    result, _failed = run_module(settings_diff, {"path": _env(tmp_path), "content": content}, diff=True)
    assert "FAKEsettingsDiffHook" not in json.dumps(result)


def test_the_same_settings_change_nothing_whatever_the_comments(run_module, tmp_path):
    result, failed = run_module(settings_diff, {"path": _env(tmp_path), "content": render_env_file(OLD, header="x")},
                                diff=True)
    assert failed is False and result["changed"] is False and result["changed_settings"] == []


def test_a_first_install_shows_every_setting(run_module, tmp_path):
    result, failed = run_module(settings_diff, {"path": str(tmp_path / "none.env"), "content": render_env_file(OLD)},
                                diff=True)
    assert failed is False and result["changed"] is True and result["diff"]["before"] == ""
    assert result["diff"]["after"].count("\n") == len(OLD) and HOOK not in json.dumps(result)


def test_without_diff_mode_no_diff(run_module, tmp_path):
    content = render_env_file(dict(OLD, ATVM_HANG_TIMEOUT="3600"))
    result, _failed = run_module(settings_diff, {"path": _env(tmp_path), "content": content})
    assert "diff" not in result and result["changed"] is True

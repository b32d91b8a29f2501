# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""atvm.watcher.webhook_test driven through main(), against the Mattermost double."""
from __future__ import annotations

import json

import pytest

from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd
from ansible_collections.atvm.watcher.plugins.modules import webhook_test

TEXT = "atvm.watcher 2.0.0 installed on ctl-01; run results will be posted here"


HOOK = "modulestesthook0000000000001"


@pytest.fixture
def double():
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs")) as server:
        yield server


def _args(double, **extra):
    return dict({"webhook": double.url_for(HOOK), "channel": "atvm-runs", "text": TEXT, "timeout": 5}, **extra)


def test_posts_the_line(run_module, double):
    result, failed = run_module(webhook_test, _args(double))
    assert failed is False and result["changed"] is True and result["posted"] is True
    assert [(p["channel"], p["text"]) for p in double.public_posts()] == [("atvm-runs", TEXT)]


@pytest.mark.parametrize("args, error_id", [
    ({"webhook_hook": "unknownhook0000000000000001"}, "HTTP 400 web.incoming_webhook.general.app_error: "
                                                      "the server rejected the post without saying why: most likely "
                                                      "an unknown or deleted hook id"),
    ({"channel": "no-such-channel"}, "HTTP 404 web.incoming_webhook.general.app_error: the channel was not found"),
])
def test_fails_with_the_servers_error(run_module, double, args, error_id):
    args = dict(args)
    hook = args.pop("webhook_hook", None)
    call = _args(double, **args)
    if hook:
        call["webhook"] = double.url_for(hook)
    result, failed = run_module(webhook_test, call)
    assert failed is True and result["posted"] is False
    assert error_id in result["msg"] and result["msg"].startswith("Mattermost refused the test post: HTTP")
    assert "(permanent)" in result["msg"]
    assert call["webhook"] not in json.dumps(result) and (hook or HOOK) not in json.dumps(result)
    assert double.texts() == []


def test_a_locked_hook_names_the_lock(run_module):
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs"),
                              locked_channel="town-square") as locked:
        result, failed = run_module(webhook_test, _args(locked))
    assert failed is True and "HTTP 403" in result["msg"] and "locked to another channel" in result["msg"]


@pytest.mark.parametrize("same_hook, same_channel, posts", [(True, True, 0), (False, True, 1), (True, False, 1)])
def test_only_when_the_destination_changed(run_module, double, tmp_path, same_hook, same_channel, posts):
    env = tmp_path / "atvm-run-watcher.env"
    hook = double.url_for(HOOK) if same_hook else double.url_for("oldhook0000000000000000001")
    env.write_text("MATTERMOST_ATVM_WEBHOOK='{0}'\nMATTERMOST_ATVM_CHANNEL='{1}'\n".format(
        hook, "atvm-runs" if same_channel else "town-square"), encoding="utf-8")
    result, failed = run_module(webhook_test, _args(double, only_if_changed_from=str(env)))
    assert failed is False and result["posted"] is bool(posts) and result["changed"] is bool(posts)
    assert len(double.texts()) == posts


def test_a_missing_env_file_counts_as_changed(run_module, double, tmp_path):
    result, failed = run_module(webhook_test, _args(double, only_if_changed_from=str(tmp_path / "none.env")))
    assert failed is False and result["posted"] is True


def test_check_mode_posts_nothing(run_module, double):
    result, failed = run_module(webhook_test, _args(double), check=True)
    assert failed is False and result["changed"] is True and result["posted"] is False
    assert double.texts() == []

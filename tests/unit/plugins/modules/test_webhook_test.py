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


# ---- cannot reach, refused, not a URL: told apart, within seconds ----

def _free_port():
    import socket  # pylint: disable=import-outside-toplevel

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_refused_connection_is_cannot_reach_and_fails_at_once(run_module):
    import time  # pylint: disable=import-outside-toplevel

    webhook = "http://127.0.0.1:{0}/hooks/{1}".format(_free_port(), HOOK)
    started = time.monotonic()
    result, failed = run_module(webhook_test, {"webhook": webhook, "channel": "atvm-runs", "text": TEXT})
    assert time.monotonic() - started < 3
    assert failed is True and result["outcome"] == "unreachable" and result["attempts"] == 1
    assert result["msg"].startswith("Mattermost cannot be reached for the test post: cannot reach the Mattermost "
                                    "server http://127.0.0.1:")
    assert "the connection was refused" in result["msg"] and "refused the test post" not in result["msg"]
    assert HOOK not in json.dumps(result)


def test_tls_to_a_plain_server_is_cannot_reach(run_module, double):
    webhook = double.url_for(HOOK).replace("http://", "https://")
    result, failed = run_module(webhook_test, _args(double, webhook=webhook))
    assert failed is True and result["outcome"] == "unreachable" and "TLS" in result["msg"]
    assert HOOK not in json.dumps(result) and double.texts() == []


@pytest.mark.parametrize("webhook, words", [
    ("chat.example.org/hooks/abc", "not an http(s) URL"),
    ("https:///hooks/abc", "has no host name"),
    ("https://chat.example.org", "has no path"),
    ("https://chat.example.org/hooks/abc def", "blanks or control characters"),
    ("https://chat.example.org:99999/hooks/abc", "not a valid URL"),
    ("", "the webhook is empty"),
])
@pytest.mark.parametrize("check", [False, True])
def test_not_a_url_is_an_argument_error_before_any_network(run_module, webhook, words, check):
    result, failed = run_module(webhook_test, {"webhook": webhook, "channel": "atvm-runs", "text": TEXT}, check=check)
    assert failed is True and result["outcome"] == "not_url" and result["attempts"] == 0
    assert result["msg"].startswith("The webhook is not an incoming webhook URL: ") and words in result["msg"]
    assert "refused" not in result["msg"]
    if webhook:
        assert webhook not in result["msg"]


def test_a_busy_server_is_not_called_a_refusal(run_module, double):
    double.set_faults(fail_status=503, fail_5xx=1)
    result, failed = run_module(webhook_test, _args(double))
    assert failed is True and result["outcome"] == "server_error"
    assert result["msg"].startswith("Mattermost could not take the test post: HTTP 503") and "try again" in result["msg"]


def test_the_outcome_of_a_refusal(run_module, double):
    result, failed = run_module(webhook_test, _args(double, channel="no-such-channel"))
    assert failed is True and result["outcome"] == "refused" and result["attempts"] == 1

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Mattermost double answers every row of the webhook contract exactly, and fails on request."""
from __future__ import annotations

import http.client
import json
import os
import signal
import subprocess
import sys
import time
import urllib.parse

import pytest

from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd

HOOK = "k3q9zt7wbpf1xm5ye8rgo2ncud"
OTHER = "h4x8s2m6v0c7n1b5j9d3f6g8aa"
UNKNOWN = "zzzzzzzzzzzzzzzzzzzzzzzzzz"


@pytest.fixture
def double(tmp_path):
    d = mmd.MattermostDouble(hook_ids=(HOOK, OTHER), channels=("town-square", "atvm-runs"),
                             users=("sysadmin",), private_channels=("secret-room",),
                             record_path=str(tmp_path / "posts.jsonl")).start()
    yield d
    d.stop()


def call(double, method, path, body=b"", headers=None, timeout=5.0):
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=timeout)
    try:
        conn.putrequest(method, path, skip_accept_encoding=True)
        for key, value in (headers or {}).items():
            conn.putheader(key, value)
        if body or method == "POST":
            conn.putheader("Content-Length", str(len(body)))
        conn.endheaders(body)
        resp = conn.getresponse()
        return resp.status, {k.lower(): v for k, v in resp.getheaders()}, resp.read()
    finally:
        conn.close()


def post_json(double, obj, hook=HOOK, content_type="application/json"):
    headers = {"Content-Type": content_type} if content_type is not None else {}
    data = obj if isinstance(obj, bytes) else json.dumps(obj).encode("utf-8")
    return call(double, "POST", "/hooks/" + hook, data, headers)


def error_of(status_headers_body):
    status, headers, body = status_headers_body
    assert headers["content-type"] == "application/json"
    obj = json.loads(body)
    assert set(obj) == {"id", "message", "detailed_error", "request_id", "status_code"}
    assert obj["status_code"] == status
    assert obj["request_id"] == headers["x-request-id"]
    return status, obj


# ---------------------------------------------------------------------------------------------
# success
# ---------------------------------------------------------------------------------------------


def test_valid_post_answers_ok_text_plain_with_request_and_version_ids(double):
    status, headers, body = post_json(double, {"text": "hello", "username": "atvm"})
    assert (status, body) == (200, b"ok")
    assert headers["content-type"] == "text/plain"
    assert headers["content-length"] == "2"
    assert len(headers["x-request-id"]) == 26 and headers["x-request-id"].isalnum()
    assert headers["x-version-id"]
    assert len(double.posts) == 1
    post = double.posts[0]
    assert (post["text"], post["channel"], post["username"], post["hook_id"], post["hook"]) == (
        "hello", "town-square", "atvm", HOOK, "hook-1")
    assert post["received_at"].endswith("Z")


def test_json_without_content_type_is_read_as_json(double):
    status, dummy, body = post_json(double, {"text": "no type"}, content_type=None)
    assert (status, body) == (200, b"ok")
    assert double.texts() == ["no type"]


def test_content_type_is_case_insensitive_and_parameters_are_ignored(double):
    assert post_json(double, {"text": "a"}, content_type="Application/JSON; charset=UTF-8")[0] == 200
    assert post_json(double, {"text": "b"}, content_type="application/json; charset")[0] == 200
    assert double.texts() == ["a", "b"]


def test_form_urlencoded_payload_field(double):
    data = urllib.parse.urlencode({"payload": json.dumps({"text": "from a form", "channel": "atvm-runs"})}).encode()
    status, dummy, body = call(double, "POST", "/hooks/" + HOOK, data,
                               {"Content-Type": "APPLICATION/X-WWW-FORM-URLENCODED"})
    assert (status, body) == (200, b"ok")
    assert [(p["text"], p["channel"]) for p in double.posts] == [("from a form", "atvm-runs")]


def test_channel_leading_hash_is_stripped_and_username_accepted(double):
    assert post_json(double, {"text": "x", "channel": "#atvm-runs", "username": "bot"})[:3:2] == (200, b"ok")
    assert double.posts[0]["channel"] == "atvm-runs"


def test_direct_message_to_a_known_user(double):
    assert post_json(double, {"text": "dm", "channel": "@sysadmin"})[2] == b"ok"
    assert double.posts[0]["channel"] == "@sysadmin"


def test_control_characters_inside_json_strings_are_accepted_like_the_server(double):
    assert post_json(double, b'{"text": "line one\nline two"}')[0] == 200
    assert double.texts() == ["line one\nline two"]


def test_attachments_without_text_is_a_post(double):
    assert post_json(double, {"attachments": [{"text": "att"}]})[0] == 200
    assert double.posts[0]["attachments"] == [{"text": "att"}]


# ---------------------------------------------------------------------------------------------
# every error row of the contract
# ---------------------------------------------------------------------------------------------


def test_unparsable_content_type_is_400_media_type(double):
    status, obj = error_of(post_json(double, {"text": "x"}, content_type="json"))
    assert (status, obj["id"]) == (400, "web.incoming_webhook.media_type.app_error")
    assert double.posts == []


@pytest.mark.parametrize("body,ctype", [
    (b"{not json", "application/json"),
    (b"", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"text": "x", "priority": "high"}', "application/json"),
    (b'{"text": 42}', "application/json"),
    (b"other=1", "application/x-www-form-urlencoded"),
], ids=["bad-json", "empty", "array", "priority-string", "text-number", "form-without-payload"])
def test_undecodable_payloads_are_400_decode(double, body, ctype):
    status, obj = error_of(post_json(double, body, content_type=ctype))
    assert (status, obj["id"]) == (400, "web.incoming_webhook.decode.app_error")
    assert double.posts == []


def test_incoming_webhooks_disabled_is_501(double):
    double.set_faults(disabled=True)
    status, obj = error_of(post_json(double, {"text": "x"}))
    assert (status, obj["id"]) == (501, "web.incoming_webhook.general.app_error")
    double.set_faults(old_server=True)
    assert error_of(post_json(double, {"text": "x"}))[1]["id"] == "web.incoming_webhook.disabled.app_error"


def test_empty_text_without_attachments_is_400_text(double):
    status, obj = error_of(post_json(double, {"text": ""}))
    assert (status, obj["id"], obj["detailed_error"]) == (400, "web.incoming_webhook.general.app_error", "")
    double.set_faults(developer_mode=True)
    assert "No text specified." in error_of(post_json(double, {"channel": "town-square"}))[1]["detailed_error"]


def test_unknown_hook_is_400_not_404_wrapped_like_newer_servers(double):
    status, obj = error_of(post_json(double, {"text": "x"}, hook=UNKNOWN))
    assert status == 400
    assert obj["id"] == "web.incoming_webhook.general.app_error"
    assert obj["detailed_error"] == ""
    assert UNKNOWN in obj["message"]  # as the real server: the message holds the secret hook id
    double.set_faults(developer_mode=True)
    detailed = error_of(post_json(double, {"text": "x"}, hook=UNKNOWN))[1]["detailed_error"]
    assert "Invalid webhook." in detailed
    double.set_faults(developer_mode=False, old_server=True)
    assert error_of(post_json(double, {"text": "x"}, hook=UNKNOWN))[1]["id"] == "web.incoming_webhook.invalid.app_error"
    assert double.posts == []


def test_text_check_comes_before_the_hook_check(double):
    double.set_faults(old_server=True)
    assert error_of(post_json(double, {"text": ""}, hook=UNKNOWN))[1]["id"] == "web.incoming_webhook.text.app_error"


def test_unknown_user_is_400(double):
    double.set_faults(old_server=True)
    status, obj = error_of(post_json(double, {"text": "x", "channel": "@nobody"}))
    assert (status, obj["id"]) == (400, "web.incoming_webhook.user.app_error")


def test_unknown_channel_is_404(double):
    status, obj = error_of(post_json(double, {"text": "x", "channel": "Town Square"}))
    assert (status, obj["id"]) == (404, "web.incoming_webhook.general.app_error")
    double.set_faults(old_server=True)
    assert error_of(post_json(double, {"text": "x", "channel": "nope"}))[1]["id"] == \
        "web.incoming_webhook.channel.app_error"


def test_locked_hook_asked_for_another_channel_is_403(tmp_path):
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs"),
                              locked_channel="atvm-runs", old_server=True) as d:
        status, obj = error_of(post_json(d, {"text": "x", "channel": "town-square"}))
        assert (status, obj["id"]) == (403, "web.incoming_webhook.channel_locked.app_error")
        assert post_json(d, {"text": "own channel", "channel": "atvm-runs"})[2] == b"ok"
        assert post_json(d, {"text": "default channel"})[2] == b"ok"
        assert [p["channel"] for p in d.posts] == ["atvm-runs", "atvm-runs"]


def test_private_channel_without_permission_is_403(double):
    double.set_faults(old_server=True)
    status, obj = error_of(post_json(double, {"text": "x", "channel": "secret-room"}))
    assert (status, obj["id"]) == (403, "web.incoming_webhook.permissions.app_error")


def test_props_too_long_is_400(double):
    double.set_faults(old_server=True)
    status, obj = error_of(post_json(double, {"text": "x", "props": {"big": "a" * 760001}}))
    assert (status, obj["id"]) == (400, "web.incoming_webhook.split_props_length.app_error")


def test_post_creation_failure_is_500_and_nothing_posted(double):
    status, obj = error_of(post_json(double, {"text": "x", "type": "weird"}))
    assert status == 500
    assert double.posts == []


def test_server_rate_limiter_answers_429_text_plain(double):
    double.set_faults(ratelimit_server=True, ratelimit_burst=1, ratelimit_per_sec=0.01)
    assert post_json(double, {"text": "1"})[0] == 200
    assert post_json(double, {"text": "2"})[0] == 200
    status, headers, body = post_json(double, {"text": "3"})
    assert (status, body) == (429, b"limit exceeded\n")
    assert headers["content-type"] == "text/plain; charset=utf-8"
    assert int(headers["retry-after"]) >= 1
    assert headers["x-ratelimit-limit"] == "2"
    assert headers["x-ratelimit-remaining"] == "0"
    assert "x-ratelimit-reset" in headers
    assert double.texts() == ["1", "2"]


def test_get_on_a_hook_path_is_the_web_app_page(double):
    for hook in (HOOK, UNKNOWN):
        status, headers, body = call(double, "GET", "/hooks/" + hook)
        assert status == 200
        assert headers["content-type"].startswith("text/html")
        assert b"<title>Mattermost</title>" in body
    assert double.posts == []


def test_post_to_a_path_that_is_not_a_hook_id_is_404(double):
    status, headers, body = call(double, "POST", "/hooks/abc-def", b'{"text":"x"}', {"Content-Type": "application/json"})
    assert status == 404
    assert headers["content-type"].startswith("text/plain")
    assert json.loads(body)["id"] == "api.context.404.app_error"
    assert call(double, "POST", "/hooks/" + HOOK + "/", b'{"text":"x"}')[0] == 404


def test_text_over_the_post_size_is_split_into_several_posts_with_one_ok(double):
    limit = 16383
    text = "\U0001F600" * limit + "b" * limit + "tail"  # runes, not bytes: an emoji counts once
    status, dummy, body = post_json(double, {"text": text})
    assert (status, body) == (200, b"ok")
    parts = [p["text"] for p in double.posts]
    assert [len(p) for p in parts] == [limit, limit, 4]
    assert "".join(parts) == text
    assert [(p["part"], p["parts"]) for p in double.posts] == [(1, 3), (2, 3), (3, 3)]
    assert len({p["request_id"] for p in double.posts}) == 1


# ---------------------------------------------------------------------------------------------
# faults
# ---------------------------------------------------------------------------------------------


def test_fail_5xx_for_n_requests_then_ok(double):
    double.set_faults(fail_5xx=2, fail_status=503)
    first = post_json(double, {"text": "x"})
    assert first[0] == 503 and first[1]["content-type"] == "text/html"
    assert post_json(double, {"text": "x"})[0] == 503
    assert post_json(double, {"text": "x"})[:3:2] == (200, b"ok")
    assert len(double.posts) == 1
    assert [r["status"] for r in double.requests] == [503, 503, 200]


def test_fail_500_after_create_records_the_post(double):
    double.set_faults(fail_5xx=1, fail_status=500, fail_after_create=True)
    status, obj = error_of(post_json(double, {"text": "created anyway"}))
    assert status == 500
    assert double.texts() == ["created anyway"]


def test_rate_limit_fault_sends_retry_after(double):
    double.set_faults(rate_limit=1, retry_after=7)
    status, headers, body = post_json(double, {"text": "x"})
    assert (status, body, headers["retry-after"]) == (429, b"limit exceeded\n", "7")
    assert headers["x-ratelimit-remaining"] == "0"
    assert post_json(double, {"text": "x"})[0] == 200


def test_delay_records_the_post_after_the_delay_even_when_the_client_gave_up(double):
    double.set_faults(delay=0.5, delay_count=1)
    with pytest.raises(OSError):  # socket.timeout: the client gave up
        call(double, "POST", "/hooks/" + HOOK, b'{"text":"late"}', {"Content-Type": "application/json"}, timeout=0.2)
    assert double.posts == []
    assert [p["text"] for p in double.wait_for_posts(1, 3.0)] == ["late"]
    assert post_json(double, {"text": "fast"})[0] == 200  # delay_count consumed


def test_wrong_body_is_a_200_html_login_page_and_nothing_is_recorded(double):
    double.set_faults(wrong_body=1)
    status, headers, body = post_json(double, {"text": "x"})
    assert status == 200 and body != b"ok"
    assert headers["content-type"].startswith("text/html") and b"Sign in" in body
    assert double.posts == []


def test_drop_closes_the_connection_without_an_answer(double):
    double.set_faults(drop=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        post_json(double, {"text": "x"})
    assert double.posts == []
    assert double.requests[-1]["status"] is None and double.requests[-1]["fault"] == "drop"
    double.set_faults(drop=1, drop_after_create=True)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionResetError)):
        post_json(double, {"text": "dropped after create"})
    assert double.texts() == ["dropped after create"]


# ---------------------------------------------------------------------------------------------
# record file, control endpoints, secrecy
# ---------------------------------------------------------------------------------------------


def test_record_file_has_every_accepted_post_and_no_hook_id(double, tmp_path):
    post_json(double, {"text": "one"})
    post_json(double, {"text": "bad"}, hook=UNKNOWN)
    post_json(double, {"text": "two", "channel": "atvm-runs"}, hook=OTHER)
    raw = (tmp_path / "posts.jsonl").read_text(encoding="utf-8")
    lines = [json.loads(line) for line in raw.splitlines()]
    assert [(p["text"], p["channel"], p["hook"]) for p in lines] == [
        ("one", "town-square", "hook-1"), ("two", "atvm-runs", "hook-2")]
    assert HOOK not in raw and OTHER not in raw
    assert all(HOOK not in r["path"] and UNKNOWN not in r["path"] for r in double.requests)


def test_control_endpoints_change_faults_and_list_posts(double):
    status, dummy, body = call(double, "POST", "/_control/faults", json.dumps({"fail_5xx": 1, "fail_status": 502}).encode())
    assert status == 200 and json.loads(body)["fail_5xx"] == 1
    assert post_json(double, {"text": "x"})[0] == 502
    assert post_json(double, {"text": "y"})[0] == 200
    status, dummy, body = call(double, "GET", "/_control/posts")
    posts = json.loads(body)
    assert [p["text"] for p in posts] == ["y"] and "hook_id" not in posts[0]
    status, dummy, body = call(double, "POST", "/_control/faults", b'{"no_such_fault": 1}')
    assert status == 400 and "no_such_fault" in json.loads(body)["error"]
    assert call(double, "POST", "/_control/reset")[0] == 200
    assert double.posts == [] and double.faults.fail_5xx == 0


def test_command_line_mode(tmp_path):
    port_file = tmp_path / "port"
    record = tmp_path / "record.jsonl"
    proc = subprocess.Popen(
        [sys.executable, mmd.__file__, "--host", "127.0.0.1", "--port", "0", "--port-file", str(port_file),
         "--hook-id", HOOK, "--channel", "town-square", "--channel", "atvm-runs", "--record", str(record),
         "--fail-5xx", "1", "--fail-status", "503"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while not port_file.exists() and time.monotonic() < deadline:
            time.sleep(0.02)
        port = int(port_file.read_text())
        conn_double = type("D", (), {"port": port})()
        assert post_json(conn_double, {"text": "cli"})[0] == 503
        assert post_json(conn_double, {"text": "cli", "channel": "atvm-runs"})[:3:2] == (200, b"ok")
        status, dummy, body = call(conn_double, "POST", "/_control/faults", b'{"rate_limit": 1, "retry_after": 2}')
        assert status == 200
        assert post_json(conn_double, {"text": "limited"})[0] == 429
        assert [p["text"] for p in json.loads(call(conn_double, "GET", "/_control/posts")[2])] == ["cli"]
        lines = [json.loads(x) for x in record.read_text(encoding="utf-8").splitlines()]
        assert [(p["text"], p["channel"]) for p in lines] == [("cli", "atvm-runs")]
    finally:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=10)
    assert proc.returncode == 0
    assert out.decode() == "listening on 127.0.0.1:{0}\n".format(port)
    assert HOOK.encode() not in out + err
    assert HOOK not in record.read_text(encoding="utf-8")
    assert not os.path.exists(str(port_file) + ".tmp")


# ---------------------------------------------------------------------------------------------
# rich posts: attachments, props, priority (reference/mattermost-rich-posts.md)
# ---------------------------------------------------------------------------------------------


def test_attachments_are_stored_as_the_server_decodes_them(double):
    payload = {
        "text": "headline",
        "attachments": [None, {
            "Color": "#D24B4E", "fallback": "FAIL", "text": "body", "footer": "f",
            "fields": [{"title": "Tests", "value": 42, "short": "TRUE"}, None,
                       {"title": "Ok", "value": True, "short": False}, {"title": "Ratio", "value": 0.5}],
            "unknown_key": "ignored",
        }],
        "props": {"card": "**card**", "attachments": [{"text": "dropped"}], "override_username": "x",
                  "from_webhook": "false", "webhook_display_name": "y", "custom": 1},
        "priority": {"priority": "important"},
    }
    assert post_json(double, payload)[:3:2] == (200, b"ok")
    post = double.posts[0]
    assert post["type"] == "slack_attachment"
    assert post["attachments"] == [{
        "color": "#D24B4E", "fallback": "FAIL", "text": "body", "footer": "f",
        "fields": [{"title": "Tests", "value": "42", "short": True}, {"title": "Ok", "value": "true", "short": False},
                   {"title": "Ratio", "value": "0.5", "short": False}],
    }]
    assert post["props"] == {"card": "**card**", "custom": 1}
    assert post["priority"] == {"priority": "important"}
    assert post["warnings"] == []


@pytest.mark.parametrize("attachments", [[], [None]], ids=["empty", "all-null"])
def test_empty_or_null_attachments_count_as_none(double, attachments):
    status, obj = error_of(post_json(double, {"text": "", "attachments": attachments}))
    assert (status, obj["id"]) == (400, "web.incoming_webhook.general.app_error")
    double.set_faults(old_server=True)
    assert error_of(post_json(double, {"attachments": attachments}))[1]["id"] == "web.incoming_webhook.text.app_error"
    assert double.posts == []


@pytest.mark.parametrize("payload", [
    {"text": "x", "attachments": {"text": "a"}},
    {"text": "x", "attachments": ["a"]},
    {"text": "x", "attachments": [{"color": 5}]},
    {"text": "x", "attachments": [{"text": ["a"]}]},
    {"text": "x", "attachments": [{"fields": {"title": "a"}}]},
    {"text": "x", "attachments": [{"fields": ["a"]}]},
    {"text": "x", "attachments": [{"fields": [{"title": 1, "value": "v"}]}]},
    {"text": "x", "attachments": [{"fields": [{"title": "t", "value": "v", "short": None}]}]},
    {"text": "x", "attachments": [{"fields": [{"title": "t", "value": "v", "short": 1}]}]},
    {"text": "x", "attachments": [{"fields": [{"title": "t", "value": "v", "short": "yes"}]}]},
    {"text": "x", "attachments": [{"id": "7"}]},
    {"text": "x", "attachments": [{"actions": {}}]},
    {"text": "x", "props": ["card"]},
    {"text": "x", "props": "card"},
    {"text": "x", "priority": "urgent"},
    {"text": "x", "priority": {"priority": 1}},
    {"text": "x", "priority": {"priority": "important", "requested_ack": "yes"}},
    {"text": "x", "priority": {"priority": "urgent", "persistent_notifications": 1}},
], ids=["attachments-object", "attachment-string", "color-number", "text-array", "fields-object", "field-string",
        "title-number", "short-null", "short-one", "short-yes", "id-string", "actions-object", "props-array",
        "props-string", "priority-string", "priority-number", "ack-string", "persistent-number"])
def test_wrong_json_types_in_rich_posts_are_400_decode(double, payload):
    status, obj = error_of(post_json(double, payload))
    assert (status, obj["id"]) == (400, "web.incoming_webhook.decode.app_error")
    assert double.posts == []


def test_priority_without_its_inner_priority_is_400_invalid_param(double):
    for priority in ({}, {"priority": None, "requested_ack": True}):
        status, obj = error_of(post_json(double, {"text": "x", "priority": priority}))
        assert (status, obj["id"]) == (400, "web.incoming_webhook.general.app_error")
    double.set_faults(old_server=True, developer_mode=True)
    status, obj = error_of(post_json(double, {"text": "x", "priority": {"requested_ack": False}}))
    assert (status, obj["id"]) == (400, "api.context.invalid_param.app_error")
    assert "webhook.priority.priority" in obj["message"]
    assert double.posts == []


def test_priority_values_are_not_checked_on_the_webhook_path(double):
    priority = {"priority": "whatever", "requested_ack": True, "persistent_notifications": False}
    assert post_json(double, {"text": "x", "priority": priority})[0] == 200
    assert double.posts[0]["priority"] == priority


def test_semantic_problems_are_only_warnings_and_the_post_is_created(double):
    attachments = [{"color": "red", "title_link": "https://example.org", "author_link": "https://example.org/a"},
                   {"color": "good", "image_url": "ftp://example.org/x.png", "ts": {"t": 1}},
                   {"color": "#2eb886", "title": "t", "title_link": "https://example.org", "ts": 1719000000}]
    status, dummy, body = post_json(double, {"text": "x", "attachments": attachments})
    assert (status, body) == (200, b"ok")
    assert double.posts[0]["warnings"] == [
        "attachment 1: invalid color 'red'",
        "attachment 1: author_link without author_name",
        "attachment 1: title_link without title",
        "attachment 2: image_url is not an http(s) URL",
        "attachment 2: ts is neither a string nor a number",
    ]


def test_attachments_that_do_not_fit_one_post_start_new_posts_with_empty_text(tmp_path):
    with mmd.MattermostDouble(hook_ids=(HOOK,), max_props_runes=3000, max_post_runes=10) as d:
        payload = {"text": "a" * 15, "props": {"card": "c"}, "priority": {"priority": "important"},
                   "attachments": [{"text": "1" * 1200}, {"text": "2" * 1200}, {"text": "3" * 1200}]}
        assert post_json(d, payload)[0] == 200
        posts = d.posts
        assert [p["text"] for p in posts] == ["a" * 10, "a" * 5, ""]
        assert [len(p["attachments"] or []) for p in posts] == [0, 2, 1]
        assert [p["attachments"][0]["text"][0] for p in posts[1:]] == ["1", "3"]
        assert all(p["priority"] == {"priority": "important"} and p["props"] == {"card": "c"} for p in posts)
        assert all(p["type"] == "slack_attachment" for p in posts)


def test_an_attachment_alone_too_large_has_its_text_truncated_by_the_excess(tmp_path):
    with mmd.MattermostDouble(hook_ids=(HOOK,), max_props_runes=1000) as d:
        assert post_json(d, {"text": "x", "attachments": [{"title": "t", "text": "z" * 5000}]})[0] == 200
        [post] = d.posts
        assert mmd.props_runes({"attachments": post["attachments"]}) == 1000
        assert post["attachments"][0]["text"] == "z" * len(post["attachments"][0]["text"])


def test_props_or_an_attachment_that_cannot_fit_are_400_split_and_nothing_is_posted(tmp_path):
    with mmd.MattermostDouble(hook_ids=(HOOK,), max_props_runes=1000, old_server=True) as d:
        status, obj = error_of(post_json(d, {"text": "x", "props": {"card": "c" * 1000}}))
        assert (status, obj["id"]) == (400, "web.incoming_webhook.split_props_length.app_error")
        status, obj = error_of(post_json(d, {"text": "x", "attachments": [{"text": "ok"}, {"pretext": "p" * 1000}]}))
        assert (status, obj["id"]) == (400, "web.incoming_webhook.split_props_length.app_error")
        assert d.posts == []


def test_json_body_over_the_newest_servers_limit_is_400_decode(tmp_path):
    with mmd.MattermostDouble(hook_ids=(HOOK,), max_json_body=128 * 1024) as d:
        big = {"text": "x", "attachments": [{"text": "y" * (128 * 1024)}]}
        status, obj = error_of(post_json(d, big))
        assert (status, obj["id"]) == (400, "web.incoming_webhook.decode.app_error")
        assert post_json(d, {"text": "x", "attachments": [{"text": "y" * (120 * 1024)}]})[0] == 200

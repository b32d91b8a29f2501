# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The webhook client and the outbox against the real Mattermost double: every fault's outcome, exactly once, and no secret anywhere."""
from __future__ import annotations

import json
import logging
import os
import pathlib
import signal
import subprocess
import sys
import textwrap
import threading
import time

import pytest

import functools

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OutboxRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery import client as delivery_client
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery import outbox as delivery
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message.text import DUPLICATE_NOTE, add_duplicate_note
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import (
    ConfigError, MissingDependencyError, StateError)

from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd

HOOK = "k3q9zt7wbpf1xm5ye8rgo2ncud"
UNKNOWN = "u7d2f9h4k6m8p1r3t5v0x2z4bq"
NOTE = DUPLICATE_NOTE


def noted(text):
    """The possible-duplicate note as the watcher adds it (the server's limit)."""
    return add_duplicate_note(text, delivery_client.MAX_POST_CHARS)


# The outbox as the watcher and resend use it: with the message layer's note.
deliver_once = functools.partial(delivery.deliver_once, render_duplicate=noted)
resend = functools.partial(delivery.resend, render_duplicate=noted)


class Clock:
    """Monotonic time plus whatever the client 'slept' (sleeps are recorded, not waited)."""

    def __init__(self):
        self.offset = 0.0
        self.sleeps = []

    def now(self):
        return time.monotonic() + self.offset

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.offset += seconds


@pytest.fixture
def double(tmp_path):
    d = mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs"), users=("sysadmin",),
                             locked_channel=None, record_path=str(tmp_path / "double-posts.jsonl")).start()
    yield d
    d.stop()


@pytest.fixture
def store(tmp_path):
    return state.RunStore(RunPaths.at(str(tmp_path / "state" / "B"))).ensure()


def make_client(url, clock=None, **kwargs):
    clock = clock or Clock()
    options = {"http_timeout": 0.3, "deadline": 5.0, "backoff_base": 0.01, "backoff_max": 0.08,
               "sleep": clock.sleep, "clock": clock.now, "rand": lambda: 1.0, "min_delay": 0.0}
    options.update(kwargs)
    client = delivery_client.MattermostClient(url, **options)
    client.test_clock = clock
    return client


# ---------------------------------------------------------------------------------------------
# the client, fault by fault
# ---------------------------------------------------------------------------------------------


def test_success_is_200_ok_in_one_attempt(double):
    client = make_client(double.url_for(HOOK), channel="atvm-runs", username="atvm-watcher")
    result = client.post("run B: PASS")
    assert (result.ok, result.outcome, result.status, result.attempts, result.ambiguous) == (True, "sent", 200, 1, False)
    assert result.request_id == double.requests[-1]["request_id"] == double.posts[0]["request_id"]
    post = double.posts[0]
    assert (post["text"], post["channel"], post["username"]) == ("run B: PASS", "atvm-runs", "atvm-watcher")
    assert client.test_clock.sleeps == []


def test_payload_leaves_out_channel_and_username_when_not_set(double):
    assert make_client(double.url_for(HOOK)).post("x").ok
    post = double.posts[0]
    assert (post["channel"], post["username"]) == ("town-square", None)


def test_5xx_n_times_then_sent_after_n_plus_one_attempts_with_backoff(double):
    double.set_faults(fail_5xx=3, fail_status=503)
    client = make_client(double.url_for(HOOK))
    result = client.post("x")
    assert (result.ok, result.attempts, result.ambiguous) == (True, 4, False)
    assert client.test_clock.sleeps == pytest.approx([0.01, 0.02, 0.04])  # exponential, rand=1
    assert result.history[0] == "attempt 1: HTTP 503: service unavailable, retrying"
    assert double.texts() == ["x"]


def test_backoff_is_bounded_and_jittered():
    client = delivery_client.MattermostClient("http://127.0.0.1:9/hooks/" + HOOK, backoff_base=1.0, backoff_max=60.0,
                                              rand=lambda: 0.0)
    assert [client._backoff(n) for n in (0, 1, 2, 10, 40)] == [0.5, 1.0, 2.0, 30.0, 30.0]


@pytest.mark.parametrize("status,ambiguous", [(502, False), (503, False), (504, True), (500, True)])
def test_retryable_statuses(double, status, ambiguous):
    double.set_faults(fail_5xx=1, fail_status=status)
    result = make_client(double.url_for(HOOK)).post("x", text_after_ambiguous="NOTED x")
    assert (result.ok, result.attempts, result.ambiguous, result.noted) == (True, 2, ambiguous, ambiguous)
    assert double.texts() == (["NOTED x"] if ambiguous else ["x"])


def test_500_after_create_then_success_leaves_two_posts_the_second_noted(double):
    double.set_faults(fail_5xx=1, fail_status=500, fail_after_create=True)
    result = make_client(double.url_for(HOOK)).post("status", text_after_ambiguous=NOTE + "\n\nstatus")
    assert result.ok and result.ambiguous and result.noted
    assert "api.post.create_webhook_post.creating.app_error" in result.history[0]
    assert double.texts() == ["status", NOTE + "\n\nstatus"]


def test_429_honours_retry_after(double):
    double.set_faults(rate_limit=1, retry_after=2)
    client = make_client(double.url_for(HOOK))
    result = client.post("x")
    assert (result.ok, result.attempts) == (True, 2)
    assert client.test_clock.sleeps == [2.0]
    assert result.history[0] == "attempt 1: HTTP 429: rate limited by the server (Retry-After 2 s), retrying"


def test_429_with_retry_after_beyond_the_deadline_gives_up_without_waiting(double):
    double.set_faults(rate_limit=5, retry_after=30)
    client = make_client(double.url_for(HOOK), deadline=10.0)
    result = client.post("x")
    assert (result.ok, result.outcome, result.attempts, result.status) == (False, "deadline", 1, 429)
    assert client.test_clock.sleeps == []
    assert "the server asked to wait 30 s" in result.reason
    assert double.posts == []


def test_server_rate_limiter_is_retried(double):
    double.set_faults(ratelimit_server=True, ratelimit_burst=0, ratelimit_per_sec=1000)
    client = make_client(double.url_for(HOOK))
    assert client.post("a").ok and client.post("b").ok
    assert double.texts() == ["a", "b"]


def test_unknown_hook_is_permanent_at_once(double):
    client = make_client(double.url_for(UNKNOWN))
    result = client.post("x")
    assert (result.ok, result.outcome, result.status, result.attempts) == (False, "permanent", 400, 1)
    assert result.reason.startswith("HTTP 400 web.incoming_webhook.general.app_error: ")
    assert "unknown or deleted hook id" in result.reason and result.reason.endswith("(permanent)")
    assert client.test_clock.sleeps == []


@pytest.mark.parametrize("faults", [{"old_server": True}, {"developer_mode": True}])
def test_unknown_hook_inner_id_in_plain_words(double, faults):
    double.set_faults(**faults)
    result = make_client(double.url_for(UNKNOWN)).post("x")
    assert result.reason == "HTTP 400 web.incoming_webhook.invalid.app_error: unknown or deleted hook id (permanent)"


@pytest.mark.parametrize("body,status,inner", [
    ({"channel": "no-such-channel"}, 404, "web.incoming_webhook.channel.app_error"),
    ({"channel": "@nobody"}, 400, "web.incoming_webhook.user.app_error"),
])
def test_channel_errors_are_permanent(tmp_path, body, status, inner):
    with mmd.MattermostDouble(hook_ids=(HOOK,), developer_mode=True) as d:
        result = make_client(d.url_for(HOOK), channel=body["channel"]).post("x")
    assert (result.outcome, result.status, result.attempts) == ("permanent", status, 1)
    assert result.reason.startswith("HTTP {0} {1}: ".format(status, inner))


def test_404_channel_without_developer_mode_says_channel(double):
    result = make_client(double.url_for(HOOK), channel="Town Square").post("x")
    assert (result.outcome, result.status, result.attempts) == ("permanent", 404, 1)
    assert "channel was not found" in result.reason


def test_locked_channel_is_403_permanent():
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs"), locked_channel="atvm-runs",
                              old_server=True) as d:
        result = make_client(d.url_for(HOOK), channel="town-square").post("x")
    assert (result.outcome, result.status) == ("permanent", 403)
    assert "locked to its own channel" in result.reason


@pytest.mark.parametrize("faults,status,words", [
    ({"disabled": True}, 501, "incoming webhooks are disabled"),
    ({"fail_5xx": 1, "fail_status": 413}, 413, "too large"),
])
def test_other_permanent_errors(double, faults, status, words):
    double.set_faults(**faults)
    client = make_client(double.url_for(HOOK))
    result = client.post("x")
    assert (result.outcome, result.status, result.attempts) == ("permanent", status, 1)
    assert words in result.reason
    assert client.test_clock.sleeps == []


def test_200_html_login_page_is_not_success_and_is_ambiguous(double):
    double.set_faults(wrong_body=1)
    result = make_client(double.url_for(HOOK)).post("x", text_after_ambiguous="NOTED x")
    assert (result.ok, result.attempts, result.ambiguous, result.noted) == (True, 2, True, True)
    assert "not Mattermost's 'ok'" in result.history[0] and "login page" in result.history[0]
    assert "ambiguous" in result.history[0]
    assert double.texts() == ["NOTED x"]


def test_200_with_another_body_gives_at_most_one_more_copy_marked(double):
    # a proxy that passes the post on but answers "okay": the post exists, the client cannot know
    double.set_faults(wrong_body=1000, wrong_body_text="okay", wrong_body_after_create=True)
    client = make_client(double.url_for(HOOK), deadline=60.0)
    result = client.post("x", text_after_ambiguous=NOTE + "\n\nx")
    assert (result.ok, result.outcome, result.status, result.attempts, result.ambiguous) == (
        False, "ambiguous", 200, 2, True)
    assert result.reason.startswith("gave up after 2 attempts in ")
    assert "at most 1 more copy" in result.reason
    assert double.texts() == ["x", NOTE + "\n\nx"]


def test_copies_after_a_200_with_another_body_follow_the_setting(double):
    double.set_faults(wrong_body=1000, wrong_body_text="{}", wrong_body_after_create=True)
    result = make_client(double.url_for(HOOK), deadline=60.0, ambiguous_copies=0).post("x", text_after_ambiguous="N")
    assert (result.outcome, result.attempts) == ("ambiguous", 1)
    assert double.texts() == ["x"]
    double.reset()
    double.set_faults(wrong_body=1000, wrong_body_text="", wrong_body_after_create=True)
    result = make_client(double.url_for(HOOK), deadline=60.0, ambiguous_copies=3).post("x", text_after_ambiguous="N")
    assert (result.outcome, result.attempts) == ("ambiguous", 4)
    assert double.texts() == ["x", "N", "N", "N"]


def test_429_with_retry_after_0_is_floored_and_capped(double):
    double.set_faults(rate_limit=100000, retry_after=0)
    client = make_client(double.url_for(HOOK), deadline=3600.0, min_delay=0.5, max_attempts=7)
    result = client.post("x")
    assert (result.ok, result.outcome, result.attempts, result.status) == (False, "attempts", 7, 429)
    assert client.test_clock.sleeps == [0.5] * 6
    assert "at most 7 attempts per post" in result.reason
    assert len(double.requests) == 7 and double.posts == []


def test_default_bounds_hold_whatever_the_server_says():
    client = delivery_client.MattermostClient("http://127.0.0.1:9/hooks/" + HOOK)
    assert (client.min_delay, client.max_attempts, client.ambiguous_copies) == (1.0, 30, 1)
    with pytest.raises(ConfigError):
        delivery_client.MattermostClient("http://127.0.0.1:9/hooks/" + HOOK, max_attempts=0)


def test_an_answer_dripping_byte_by_byte_is_cut_at_the_attempt_limit(double):
    double.set_faults(drip=1, drip_interval=0.1, drip_for=30.0)
    started = time.monotonic()
    result = make_client(double.url_for(HOOK), http_timeout=0.5, deadline=30.0).post("x", text_after_ambiguous="N")
    took = time.monotonic() - started
    assert result.ok and result.attempts == 2 and result.ambiguous
    assert "no complete answer within 1 s" in result.history[0]
    assert took < 3.0  # 0.5 s + the watchdog's margin, not the 30 s of dripping
    assert double.texts() == ["N"]


def test_dripping_forever_ends_within_the_deadline(double):
    double.set_faults(drip=1000, drip_interval=0.1, drip_for=30.0)
    started = time.monotonic()
    result = delivery_client.MattermostClient(double.url_for(HOOK), http_timeout=0.5, deadline=2.0, min_delay=0.1).post("x")
    assert result.outcome == "deadline" and not result.ok
    assert time.monotonic() - started < 2.0 + 1.0 + 0.5


def test_delay_past_the_timeout_is_ambiguous_then_success_is_noted(double):
    double.set_faults(delay=0.6, delay_count=1)
    result = make_client(double.url_for(HOOK), http_timeout=0.3).post("status", text_after_ambiguous="NOTED status")
    assert (result.ok, result.ambiguous, result.noted, result.attempts) == (True, True, True, 2)
    assert "read timeout" in result.history[0] and "ambiguous" in result.history[0]
    assert sorted(p["text"] for p in double.wait_for_posts(2, 3.0)) == ["NOTED status", "status"]


def test_dropped_connection_is_ambiguous_and_retried(double):
    double.set_faults(drop=1, drop_after_create=True)
    result = make_client(double.url_for(HOOK)).post("x", text_after_ambiguous="NOTED x")
    assert (result.ok, result.ambiguous, result.attempts) == (True, True, 2)
    assert "the connection broke after the request was sent" in result.history[0]
    assert double.texts() == ["x", "NOTED x"]


def test_connection_refused_is_retried_not_ambiguous_and_ends_at_the_deadline(double):
    url = double.url_for(HOOK)
    double.stop()
    client = make_client(url, deadline=0.5, backoff_base=0.1, backoff_max=0.2)
    result = client.post("x")
    assert (result.ok, result.outcome, result.ambiguous, result.status) == (False, "deadline", False, None)
    assert "cannot connect to the Mattermost server (connection refused)" in result.reason


def test_invalid_url_is_permanent():
    result = make_client("127.0.0.1/hooks/" + HOOK).post("x")
    assert (result.outcome, result.attempts) == ("permanent", 1)
    assert "not a valid http(s) URL" in result.reason


class FakeResponse:
    def __init__(self, status, headers, body):
        self.status_code = status
        self.headers = headers
        self._body = body
        self.raw = None
        self.content = body

    def close(self):
        pass


class FakeSession:
    def __init__(self, *responses):
        self.responses = list(responses)
        self.calls = []

    def post(self, url, **kwargs):
        self.calls.append(kwargs)
        return self.responses.pop(0)


def test_json_error_bodies_are_parsed_only_when_the_content_type_says_json():
    body = json.dumps({"id": "web.incoming_webhook.invalid.app_error"}).encode()
    session = FakeSession(FakeResponse(400, {"Content-Type": "text/html"}, body))
    result = make_client("http://x/hooks/" + HOOK, session=session).post("x")
    assert result.reason.startswith("HTTP 400: ") and "invalid.app_error" not in result.reason
    session = FakeSession(FakeResponse(400, {"Content-Type": "application/json; charset=utf-8"}, body))
    assert "HTTP 400 web.incoming_webhook.invalid.app_error" in make_client(
        "http://x/hooks/" + HOOK, session=session).post("x").reason


def test_hostile_error_ids_are_not_echoed():
    body = json.dumps({"id": "<script>" + HOOK, "message": HOOK}).encode()
    session = FakeSession(FakeResponse(400, {"Content-Type": "application/json"}, body))
    result = make_client("http://x/hooks/" + HOOK, session=session).post("x")
    assert "script" not in result.reason and HOOK not in result.reason


def test_a_redirect_is_permanent_and_never_followed():
    session = FakeSession(FakeResponse(301, {"Location": "https://x/hooks/" + HOOK}, b""))
    result = make_client("http://x/hooks/" + HOOK, session=session).post("x")
    assert (result.outcome, result.status) == ("permanent", 301)
    assert session.calls[0]["allow_redirects"] is False
    assert HOOK not in result.reason


def test_200_ok_with_whitespace_is_not_ok():
    session = FakeSession(FakeResponse(200, {"Content-Type": "text/plain"}, b"ok\n"),
                          FakeResponse(200, {"Content-Type": "text/plain"}, b"ok"))
    result = make_client("http://x/hooks/" + HOOK, session=session).post("x")
    assert (result.ok, result.attempts) == (True, 2)
    assert "unexpected body" in result.history[0]


def test_on_attempt_sees_every_try_with_its_ambiguity(double):
    double.set_faults(fail_5xx=1, fail_status=500)
    seen = []
    make_client(double.url_for(HOOK)).post("x", on_attempt=lambda n, d: seen.append((n, d.line, d.ambiguous)))
    assert [(n, amb) for n, dummy, amb in seen] == [(1, True), (2, False)]
    assert seen[1][1] == "HTTP 200 ok"


def test_missing_requests_is_reported(monkeypatch):
    monkeypatch.setattr(delivery_client, "HAS_REQUESTS", False)
    with pytest.raises(MissingDependencyError) as info:
        delivery_client.MattermostClient("http://x/hooks/" + HOOK)
    assert info.value.library == "requests"


def test_no_webhook_is_a_config_error():
    with pytest.raises(ConfigError, match="MATTERMOST_ATVM_WEBHOOK"):
        delivery_client.MattermostClient("")


def test_repr_hides_the_webhook():
    client = delivery_client.MattermostClient("http://x/hooks/" + HOOK, channel="c")
    assert HOOK not in repr(client) and "***" in repr(client)


# ---------------------------------------------------------------------------------------------
# exactly once
# ---------------------------------------------------------------------------------------------


def test_deliver_once_writes_sending_then_sent(double, store):
    seen_before_request = []
    client = make_client(double.url_for(HOOK))
    real_post = client.post

    def spying_post(text, **kwargs):
        seen_before_request.append(store.outbox_get("000-linux"))
        return real_post(text, **kwargs)

    client.post = spying_post
    lines = []
    record = deliver_once(store, client, "000-linux", "run B linux: PASS",
                          {"subrun_index": 0, "subrun_name": "linux", "status": "hijack"}, journal=lines.append)
    assert seen_before_request[0].status == "SENDING" and seen_before_request[0].text == "run B linux: PASS"
    assert (record.status, record.possible_duplicate, record.attempts) == ("SENT", False, 1)
    assert record.sent_at and record.subrun_name == "linux"
    assert store.outbox_get("000-linux") == record
    assert double.texts() == ["run B linux: PASS"]
    assert lines[-1] == "delivery 000-linux: sent after 1 attempt"
    assert [e["event"] for e in store.read_events()][-2:] == ["delivery_attempt", "delivery_sent"]


def test_sent_record_is_never_posted_again(double, store):
    client = make_client(double.url_for(HOOK))
    first = deliver_once(store, client, "000-linux", "text", {})
    again = deliver_once(store, client, "000-linux", "text", {})
    assert again == first
    assert len(double.requests) == 1
    assert resend(store, client, "000-linux") == [first]
    assert len(double.requests) == 1


def test_sending_record_is_resent_with_the_note(double, store):
    store.outbox_put(OutboxRecord.from_dict({"key": "001-win", "status": "SENDING", "text": "run B win: FAIL", "attempts": 1,
                                             "subrun_index": 1}))
    record = deliver_once(store, make_client(double.url_for(HOOK)), "001-win", "re-rendered text", {})
    assert (record.status, record.possible_duplicate, record.attempts) == ("SENT", True, 2)
    assert record.text == "run B win: FAIL"  # the exact message of the interrupted attempt
    assert double.texts() == [NOTE + "\n\nrun B win: FAIL"]
    assert record.sent_text == double.texts()[0]


def test_render_duplicate_lets_the_caller_re_render(double, store):
    store.outbox_put(OutboxRecord.from_dict({"key": "001-win", "status": "SENDING", "text": "body"}))
    delivery.deliver_once(store, make_client(double.url_for(HOOK)), "001-win", "body", {},
                          render_duplicate=lambda t: "**maybe twice** " + t)
    assert double.texts() == ["**maybe twice** body"]


def test_killed_between_sending_and_sent_then_restarted(double, store):
    """A real SIGKILL after the server said ok but before SENT was written: re-sent with the note."""
    script = textwrap.dedent("""
        import os, signal, sys
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery import client as delivery_client
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery.outbox import deliver_once
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message.text import add_duplicate_note
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
        from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths

        class KilledAfterPost(delivery_client.MattermostClient):
            def post(self, text, **kwargs):
                result = super().post(text, **kwargs)
                assert result.ok
                os.kill(os.getpid(), signal.SIGKILL)

        store = state.RunStore(RunPaths.at(sys.argv[1]))
        client = KilledAfterPost(os.environ["TEST_WEBHOOK"], http_timeout=2, deadline=5)
        deliver_once(store, client, "000-linux", "run B: PASS", {"subrun_index": 0}, render_duplicate=add_duplicate_note)
    """)
    root = pathlib.Path(delivery.__file__).parents[7]
    env = dict(os.environ, TEST_WEBHOOK=double.url_for(HOOK), PYTHONPATH=str(root))
    proc = subprocess.run([sys.executable, "-c", script, store.paths.dir], env=env, capture_output=True, timeout=60, check=False)
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()
    assert store.outbox_get("000-linux").status == "SENDING"
    assert double.texts() == ["run B: PASS"]
    record = deliver_once(store, make_client(double.url_for(HOOK)), "000-linux", "run B: PASS", {})
    assert (record.status, record.possible_duplicate) == ("SENT", True)
    assert double.texts() == ["run B: PASS", NOTE + "\n\nrun B: PASS"]
    # and a third start posts nothing
    deliver_once(store, make_client(double.url_for(HOOK)), "000-linux", "run B: PASS", {})
    assert len(double.posts) == 2


def test_ambiguous_attempt_then_success_is_marked_and_noted(double, store):
    double.set_faults(delay=0.6, delay_count=1)
    record = deliver_once(store, make_client(double.url_for(HOOK), http_timeout=0.3), "000-a", "status A", {})
    assert (record.status, record.possible_duplicate, record.attempts) == ("SENT", True, 2)
    assert record.sent_text == NOTE + "\n\nstatus A"
    assert sorted(p["text"] for p in double.wait_for_posts(2, 3.0)) == sorted(["status A", NOTE + "\n\nstatus A"])


def test_deadline_exceeded_keeps_post_failed_for_resend(double, store):
    double.set_faults(fail_5xx=1000, fail_status=503)
    client = make_client(double.url_for(HOOK), deadline=0.5, backoff_base=0.1, backoff_max=0.2)
    lines = []
    record = deliver_once(store, client, "002-x", "status X", {"subrun_index": 2}, journal=lines.append)
    assert (record.status, record.outcome, record.text) == ("POST_FAILED", "deadline", "status X")
    assert record.possible_duplicate is False
    assert "HTTP 503" in record.last_error
    assert store.outbox_get("002-x").status == "POST_FAILED"
    assert lines[-1].startswith("delivery 002-x: failed (gave up after ")
    assert double.posts == []
    # the server recovers: resend posts the kept message, once, without a note
    double.set_faults(fail_5xx=0)
    resent = resend(store, make_client(double.url_for(HOOK)))
    assert [(r.key, r.status, r.possible_duplicate) for r in resent] == [("002-x", "SENT", False)]
    assert double.texts() == ["status X"]
    assert resend(store, make_client(double.url_for(HOOK))) == []
    assert double.texts() == ["status X"]


def test_post_failed_after_an_ambiguous_attempt_is_resent_with_the_note(double, store):
    double.set_faults(fail_5xx=1000, fail_status=500)
    record = deliver_once(store, make_client(double.url_for(HOOK), deadline=0.3, backoff_base=0.2), "000-a",
                          "A", {})
    assert (record.status, record.possible_duplicate) == ("POST_FAILED", True)
    double.set_faults(fail_5xx=0)
    [resent] = resend(store, make_client(double.url_for(HOOK)), key="000-a")
    assert (resent.status, resent.possible_duplicate) == ("SENT", True)
    assert double.texts() == [NOTE + "\n\nA"]


def test_permanent_failure_is_post_failed_at_once(double, store):
    record = deliver_once(store, make_client(double.url_for(UNKNOWN)), "000-a", "A", {})
    assert (record.status, record.outcome, record.attempts, record.http_status) == (
        "POST_FAILED", "permanent", 1, 400)


def test_corrupt_record_is_resent_as_a_possible_duplicate(double, store):
    with open(store.outbox_path("000-a"), "w") as handle:
        handle.write('{"status": "SE')
    record = deliver_once(store, make_client(double.url_for(HOOK)), "000-a", "A", {}, journal=lambda m: None)
    assert (record.status, record.possible_duplicate) == ("SENT", True)
    assert double.texts() == [NOTE + "\n\nA"]


def test_resend_of_an_unknown_key_is_a_state_error(double, store):
    with pytest.raises(StateError, match="no such delivery record"):
        resend(store, make_client(double.url_for(HOOK)), key="009-none")


def test_nothing_is_posted_when_sending_cannot_be_written(double, store, monkeypatch):
    def full(record):
        raise StateError("cannot write outbox: No space left on device")

    monkeypatch.setattr(store, "outbox_put", full)
    with pytest.raises(StateError):
        deliver_once(store, make_client(double.url_for(HOOK)), "000-a", "A", {})
    assert double.requests == []


def test_concurrent_deliveries_of_one_key_post_once(double, store):
    results = []

    def go():
        other = state.RunStore(RunPaths.at(store.paths.dir))
        results.append(deliver_once(other, make_client(double.url_for(HOOK)), "000-a", "A", {}))

    threads = [threading.Thread(target=go) for dummy in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert double.texts() == ["A"]
    assert {r.status for r in results} == {"SENT"}


# ---------------------------------------------------------------------------------------------
# secrecy
# ---------------------------------------------------------------------------------------------


def test_the_webhook_url_and_hook_id_appear_nowhere(tmp_path, store, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    lines = []
    results = []
    with mmd.MattermostDouble(hook_ids=(HOOK,), developer_mode=True, record_path=str(tmp_path / "rec.jsonl")) as d:
        good, bad = d.url_for(HOOK), d.url_for(UNKNOWN)
        # the server's own error message and detailed_error carry the unknown hook id
        results.append(deliver_once(store, make_client(bad), "000-bad", "A", {}, journal=lines.append))
        d.set_faults(drop=1, fail_5xx=1, fail_status=500, rate_limit=1, wrong_body=1)
        results.append(deliver_once(store, make_client(good), "001-good", "B", {}, journal=lines.append))
        d.set_faults(delay=0.5, delay_count=1)
        results.append(deliver_once(store, make_client(good, http_timeout=0.2), "002-slow", "C", {},
                                    journal=lines.append))
        d.wait_for_posts(3, 2.0)
    dead = make_client(good, deadline=0.3, backoff_base=0.1)
    results.append(deliver_once(store, dead, "003-dead", "D", {}, journal=lines.append))
    results.extend(resend(store, dead, journal=lines.append))
    try:
        resend(store, dead, key="009-none")
    except StateError as exc:
        lines.append(str(exc))
    out, err = capsys.readouterr()
    texts = [caplog.text, out, err, "\n".join(lines), json.dumps([r.to_dict() for r in results]), repr(dead), json.dumps(d.requests)]
    for path in sorted(tmp_path.rglob("*")):
        if path.is_file():
            texts.append(path.read_text(encoding="utf-8", errors="replace"))
    blob = "\n".join(texts)
    assert "urllib3" in caplog.text and "POST /hooks/***" in caplog.text  # the library did log the request
    assert "web.incoming_webhook.invalid.app_error" in blob
    for secret in (HOOK, UNKNOWN, good, bad):
        assert secret not in blob
    assert [r.status for r in results[:4]] == ["POST_FAILED", "SENT", "SENT", "POST_FAILED"]

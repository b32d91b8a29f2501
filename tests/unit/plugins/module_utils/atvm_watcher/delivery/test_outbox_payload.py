# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Delivery of rich posts: the outbox keeps the exact payload it sends (schema 2), records of schema 1
(text only) are resent as they were, the possible-duplicate note shows on a re-sent copy, and every
string of the payload is made safe (webhook redacted, mentions defused)."""
from __future__ import annotations

import json
import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import OUTBOX_SCHEMA, OutboxRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import attachment as post
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstate
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import StateError
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.delivery.test_outbox import (
    HOOK, NOTE, deliver_once, make_client, mmd, resend)
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.test_attachment import (
    MENTION, _settings, _verdict)


@pytest.fixture
def sink():
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs")) as d:
        yield d


@pytest.fixture
def outbox(tmp_path):
    return state.RunStore(RunPaths.at(str(tmp_path / "state" / "B42"))).ensure()


def _payload(**settings):
    verdict, sub = _verdict()
    return post.build_post(verdict, sub, _settings(fail_priority="important", **settings), "B42", 3)


def _record_file(store, key):
    with open(store.outbox_path(key), encoding="utf-8") as handle:
        return json.load(handle)


def _posted(double):
    """What the channel got, without the double's bookkeeping."""
    return [{k: p[k] for k in ("text", "attachments", "props", "priority")} for p in double.posts]


def test_a_payload_is_posted_as_built_and_kept_in_the_outbox_as_sent(sink, outbox):
    payload = _payload()
    record = deliver_once(outbox, make_client(sink.url_for(HOOK)), "001-linux", payload)
    assert record.status == runstate.SENT
    stored = _record_file(outbox, "001-linux")
    assert stored["schema"] == OUTBOX_SCHEMA == 2
    assert stored["payload"] == payload
    assert stored["text"] == stored["sent_text"] == payload["text"]
    assert _posted(sink) == [{"text": payload["text"], "attachments": payload["attachments"],
                              "props": payload["props"], "priority": {"priority": "important"}}]
    assert sink.posts[0]["warnings"] == []


def test_a_schema_1_record_is_resent_as_it_was(sink, outbox):
    text = "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `B42`\n\n| Host | Result |\n|---|---|\n| h1 | FAIL |"
    with open(outbox.outbox_path("000-B42"), "w", encoding="utf-8") as handle:
        json.dump({"schema": 1, "key": "000-B42", "status": "POST_FAILED", "text": text, "attempts": 3,
                   "last_error": "HTTP 503 (service unavailable)", "possible_duplicate": False}, handle)
    [record] = resend(outbox, make_client(sink.url_for(HOOK)))
    assert record.status == runstate.SENT
    assert _posted(sink) == [{"text": text, "attachments": None, "props": None, "priority": None}]
    assert _record_file(outbox, "000-B42")["payload"] == {"text": text}


def test_a_failed_payload_is_resent_as_stored_not_as_rendered_again(sink, outbox):
    payload = _payload()
    sink.set_faults(disabled=True)
    first = deliver_once(outbox, make_client(sink.url_for(HOOK)), "001-linux", payload)
    assert first.status == runstate.POST_FAILED and sink.posts == []
    sink.set_faults(disabled=False)
    [record] = resend(outbox, make_client(sink.url_for(HOOK)), key="001-linux")
    assert record.status == runstate.SENT
    assert _posted(sink)[0] == {k: payload.get(k) for k in ("text", "attachments", "props", "priority")}


def test_a_later_delivery_of_the_same_key_keeps_the_first_payload(sink, outbox):
    payload = _payload()
    sink.set_faults(disabled=True)
    deliver_once(outbox, make_client(sink.url_for(HOOK)), "001-linux", payload)
    sink.set_faults(disabled=False)
    deliver_once(outbox, make_client(sink.url_for(HOOK)), "001-linux", {"text": "rendered again"})
    assert _posted(sink)[0]["text"] == payload["text"]


def test_the_note_is_on_the_re_sent_copy_after_an_ambiguous_answer(sink, outbox):
    payload = _payload()
    sink.set_faults(fail_5xx=1, fail_status=500, fail_after_create=True)
    record = deliver_once(outbox, make_client(sink.url_for(HOOK)), "001-linux", payload)
    assert record.status == runstate.SENT and record.possible_duplicate is True
    first, second = _posted(sink)
    assert first["text"] == payload["text"]
    assert second["text"].startswith(NOTE) and second["text"].endswith(payload["text"])
    assert second["attachments"] == first["attachments"] == payload["attachments"]
    assert record.sent_text == second["text"] and record.payload == payload


def test_an_interrupted_payload_is_sent_again_with_the_note(sink, outbox):
    payload = _payload()
    outbox.outbox_put(OutboxRecord.from_dict({"key": "001-linux", "status": runstate.SENDING, "payload": payload, "text": payload["text"],
                                              "possible_duplicate": False, "attempts": 1}))
    record = deliver_once(outbox, make_client(sink.url_for(HOOK)), "001-linux", {"text": "other"})
    assert record.status == runstate.SENT
    [sent] = _posted(sink)
    assert sent["text"] == NOTE + "\n\n" + payload["text"]
    assert sent["props"] == payload["props"] and sent["priority"] == payload["priority"]


def test_every_string_of_the_payload_is_made_safe_before_it_is_stored_and_sent(sink, outbox):
    url = sink.url_for(HOOK)
    hostile = {
        "text": "FAIL <!channel>",
        "attachments": [{"color": "#D24B4E", "text": "see " + url + " @here",
                         "fields": [{"title": "Recorded run", "value": url, "short": False}]}],
        "props": {"card": "runner: curl " + url + " @all"},
    }
    record = deliver_once(outbox, make_client(url), "001-linux", hostile)
    assert record.status == runstate.SENT
    dumped = json.dumps([_posted(sink), _record_file(outbox, "001-linux")], ensure_ascii=False)
    assert HOOK not in dumped
    assert MENTION.findall(dumped) == []
    assert sink.posts[0]["attachments"][0]["text"] == "see *** @\u200bhere"
    assert sink.posts[0]["attachments"][0]["fields"][0]["value"] == "***"


def test_an_outbox_record_with_a_broken_payload_is_refused(outbox):
    with pytest.raises(StateError, match="payload is not a message object"):
        outbox.outbox_put(OutboxRecord.from_dict({"key": "001-linux", "status": runstate.SENDING, "text": "x", "payload": {"text": 3}}))
    assert not os.path.exists(outbox.outbox_path("001-linux"))


def test_the_watcher_client_posts_a_pass_payload_in_green(sink, outbox):
    verdict, sub = _verdict(result=models.PASS, hosts=[], sub_reasons=[], run_reasons=[])
    payload = post.build_post(verdict, sub, _settings(), "B42", 3)
    client = make_client(sink.url_for(HOOK), channel="atvm-runs", username="atvm-watcher")
    assert client.post(payload).ok
    [stored] = sink.posts
    assert (stored["channel"], stored["username"]) == ("atvm-runs", "atvm-watcher")
    assert stored["attachments"][0]["color"] == post.COLOR_PASS
    assert "priority" not in payload and stored["priority"] is None

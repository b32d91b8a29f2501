# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""safetext: sanitising, the one redaction, credentials in commands, mentions; and, as properties,
that no text at all (lone surrogates included) makes render, state or delivery raise."""
from __future__ import annotations

import json
import os
import tempfile

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.records import SubrunRecord
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery import client as delivery_client
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery import outbox as delivery
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import text as post_text
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import safetext
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store import runstore as state
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.junit import scan_junit_dir
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.reporter import (
    read_reporter_artifact, scan_reporter_dir)

HOOK = "k3q9zt7wbpf1xm5ye8rgo2ncud"
WEBHOOK = "https://mm.example.com/hooks/" + HOOK


# ---------------------------------------------------------------------------------------------
# sanitising
# ---------------------------------------------------------------------------------------------


def test_clean_replaces_lone_surrogates_and_keeps_everything_else():
    assert safetext.clean("x \ud83d") == "x \ufffd"
    assert safetext.clean("\udcff\ud800\udfff ok \U0001f600") == "\ufffd\ufffd\ufffd ok \U0001f600"
    assert safetext.clean(None) == "" and safetext.clean(42) == "42"
    text = "plain ✅ text"
    assert safetext.clean(text) is text


def test_clean_json_cleans_keys_and_values_at_any_depth():
    source = '{"a\\ud83d": [["\\udc00"], {"b": "\\ud800 x"}], "n": 1}'
    deep = json.loads(source)
    assert safetext.clean_json(deep, source) == {"a\ufffd": [["\ufffd"], {"b": "\ufffd x"}], "n": 1}
    nested = "[" * 900 + '"\\ud83d"' + "]" * 900
    doc = safetext.clean_json(json.loads(nested), nested)  # no recursion: any depth
    for _dummy in range(900):
        doc = doc[0]
    assert doc == "\ufffd"


def test_clean_json_without_surrogate_escapes_returns_the_document_itself():
    source = '{"a": ["b"]}'
    doc = json.loads(source)
    assert safetext.clean_json(doc, source) is doc


def test_show_path_shows_undecodable_bytes_escaped():
    name = os.fsdecode(b"/r/host-\xff\xfe.json")
    assert safetext.show_path(name) == "/r/host-\\xff\\xfe.json"
    assert safetext.show_path(b"/r/\xc3\xa9-\xff.json") == "/r/\u00e9-\\xff.json"
    assert safetext.show_path("/r/plain.json") == "/r/plain.json"
    assert safetext.show_path("/r/half-\ud83d.json") == "/r/half-\ufffd.json"
    safetext.show_path(name).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# the one redaction
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("text", [
    "posting to " + WEBHOOK,
    "ERROR " + WEBHOOK + "?x=1 failed",
    "id alone: " + HOOK,
    '{"url": "http://other.example/hooks/' + HOOK + '"}',
])
def test_redact_hides_the_webhook_and_its_id(text):
    out = safetext.redact(text, [WEBHOOK])
    assert HOOK not in out and WEBHOOK not in out and "***" in out


def test_redact_hides_any_hooks_path_even_of_another_webhook():
    out = safetext.redact("see http://x.example:8065/hooks/zz9otherhook1 and /hooks/abc-def_1 now")
    assert out == "see http://x.example:8065/hooks/*** and /hooks/*** now"
    assert safetext.redact('"/hooks/abc123"', ()) == '"/hooks/***"'


def test_redact_is_idempotent_and_keeps_ordinary_text():
    assert safetext.redact("nothing secret here", [WEBHOOK, None, ""]) == "nothing secret here"
    once = safetext.redact("u " + WEBHOOK, [WEBHOOK])
    assert safetext.redact(once, [WEBHOOK]) == once


# ---------------------------------------------------------------------------------------------
# credentials in commands
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("command,hidden,kept", [
    ("npx cypress run --env password=s3cr3t,user=bob", "s3cr3t", "user=bob"),
    ("run.py --record-key 0f1e2d3c --build_name B42", "0f1e2d3c", "--build_name B42"),
    ("run.py --api-token=tok_abc --x 1", "tok_abc", "--x 1"),
    ("CYPRESS_AUTH_HEADER='Bearer abc def' npx cypress run", "Bearer abc def", "npx cypress run"),
    ("git clone https://user:pa55@git.example/x.git", "pa55", "git.example/x.git"),
    ("curl https://ghp_tok3n@git.example/x", "ghp_tok3n", "git.example/x"),
    ("run.py --env '{\"db_password\": \"pw1\", \"host\": \"h\"}'", "pw1", "\"host\": \"h\""),
    ("run.py -secret s1 --verbose", "s1", "--verbose"),
])
def test_redact_command_hides_secrets(command, hidden, kept):
    out = safetext.redact_command(command)
    assert hidden not in out and kept in out and "***" in out


def test_redact_command_leaves_a_plain_command_alone():
    command = "python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts --build_name B42 --categorize"
    assert safetext.redact_command(command) == command


def test_redact_command_takes_more_names_from_a_pattern():
    assert safetext.redact_command("tool --pin 1234 --x 1", "pin|otp") == "tool --pin *** --x 1"
    assert safetext.redact_command("tool --pin 1234", "([") == "tool --pin 1234"  # invalid: ignored here


# ---------------------------------------------------------------------------------------------
# mentions and posts
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("mention", ["@channel", "@here", "@all", "@ALL", "@Channel", "<!channel>", "<!here>",
                                     "<!all>", "<!CHANNEL>", "<!here|here>"])
def test_every_channel_wide_mention_is_defused(mention):
    out = safetext.defuse_mentions("ping " + mention + " now")
    assert mention not in out
    assert out.replace(safetext.ZWSP, "") == "ping " + mention + " now"


def test_defusing_leaves_other_user_mentions_and_is_idempotent():
    assert safetext.defuse_mentions("@alice @bob.smith") == "@alice @bob.smith"
    assert "@channel0" not in safetext.defuse_mentions("@channel0 @all_hands")
    once = safetext.defuse_mentions("@here <!all>")
    assert safetext.defuse_mentions(once) == once


def test_safe_post_does_everything_once():
    text = "x \ud83d @channel <!here> " + WEBHOOK + " \x00end"
    out = safetext.safe_post(text, [WEBHOOK])
    assert out == safetext.safe_post(out, [WEBHOOK])
    out.encode("utf-8")
    assert HOOK not in out and "\x00" not in out and "@channel" not in out and "<!here>" not in out


def test_safe_payload_makes_every_string_of_a_payload_safe_and_leaves_the_original():
    field = {"title": "<!all>", "value": WEBHOOK, "short": True}
    payload = {"text": "@here", "attachments": [{"fields": [field], "color": "#FF0000"}],
               "props": {"card": "x \ud83d"}, "n": 1}
    out = safetext.safe_payload(payload, [WEBHOOK])
    assert out["text"] == "@\u200bhere" and out["props"]["card"] == "x \ufffd" and out["n"] == 1
    field = out["attachments"][0]["fields"][0]
    assert (field["title"], field["value"], field["short"]) == ("<!\u200ball>", "***", True)
    assert payload["attachments"][0]["fields"][0]["value"] == WEBHOOK  # a copy
    json.dumps(out, ensure_ascii=False).encode("utf-8")


# ---------------------------------------------------------------------------------------------
# properties: nothing from render to delivery raises on any text
# ---------------------------------------------------------------------------------------------

ANY_TEXT = st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=60)
MENTIONS = st.sampled_from(["@channel", "<!here>", "@ALL", WEBHOOK, "|", "`", "\n", "\ud83d", "\udcff", "$build_name"])
TEXT = st.lists(st.one_of(ANY_TEXT, MENTIONS), max_size=4).map("".join)


class _Session:
    """Takes the request as requests would send it, answers 200 ok."""

    def __init__(self):
        self.bodies = []

    def post(self, url, data=None, **kwargs):
        assert isinstance(data, bytes)
        self.bodies.append(json.loads(data.decode("utf-8")))
        return _Response()


class _Response:
    status_code = 200
    headers = {"Content-Type": "text/plain"}
    content = b"ok"

    def close(self):
        pass


@st.composite
def verdicts(draw):
    hosts = [models.HostVerdict(host=draw(TEXT), result=draw(st.sampled_from([models.PASS, models.FAIL])),
                                os=draw(TEXT), kernel=draw(TEXT), reasons=draw(st.lists(TEXT, max_size=3)))
             for dummy in range(draw(st.integers(0, 3)))]
    sub = models.SubrunVerdict(index=0, name=draw(TEXT), state=models.COMPLETED, result=models.FAIL, hosts=hosts,
                               reasons=draw(st.lists(TEXT, max_size=3)), run_url=draw(TEXT),
                               name_mismatch=draw(TEXT), started_at=draw(TEXT))
    verdict = models.RunVerdict(state=models.COMPLETED, result=models.FAIL, subruns=[sub],
                                reasons=draw(st.lists(TEXT, max_size=3)), categorized=draw(st.booleans()))
    metadata = {"runner_command": draw(TEXT), "scope": draw(TEXT), draw(TEXT): draw(TEXT)}
    return verdict, sub, metadata


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(verdicts())
def test_any_text_renders_stores_and_posts_without_raising(drawn):
    verdict, sub, metadata = drawn
    settings = config.Settings(build_name="B1", webhook=WEBHOOK, metadata=metadata)
    text = render.render_subrun(verdict, sub, settings, "B1", 1)
    text.encode("utf-8")
    assert HOOK not in text
    assert "@channel" not in text and "<!here>" not in text and len(text) <= settings.max_post_chars
    with tempfile.TemporaryDirectory() as tmp:
        store = state.RunStore(RunPaths.at(os.path.join(tmp, "B1")), secrets=(WEBHOOK,)).ensure()
        store.save_subrun(SubrunRecord(0, sub.name, "", sub.to_dict(), posted=True, text=text))
        store.event("subrun-decided", reasons=sub.reasons)
        session = _Session()
        client = delivery_client.MattermostClient(WEBHOOK, session=session)
        record = delivery.deliver_once(store, client, "000-x", text + sub.name, render_duplicate=post_text.add_duplicate_note)
        assert record.status == "SENT"
        for root, _dirs, files in os.walk(tmp):
            for name in files:
                with open(os.path.join(root, name), "rb") as handle:
                    data = handle.read()
                data.decode("utf-8")
                assert HOOK.encode() not in data
    posted = session.bodies[0]["text"]
    assert HOOK not in posted and "@channel" not in posted


@hsettings(max_examples=100, deadline=None)
@given(TEXT)
def test_resend_of_any_stored_text_never_raises(text):
    with tempfile.TemporaryDirectory() as tmp:
        store = state.RunStore(RunPaths.at(os.path.join(tmp, "B1"))).ensure()
        # a record as an older version could have left it: the raw text, surrogates escaped
        path = store.outbox_path("000-x")
        with open(path, "w", encoding="ascii") as handle:
            json.dump({"key": "000-x", "status": "POST_FAILED", "text": text, "possibly_posted": True}, handle)
        session = _Session()
        records = delivery.resend(store, delivery_client.MattermostClient(WEBHOOK, session=session),
                                  render_duplicate=lambda t: post_text.add_duplicate_note(t, 1000))
        assert [r.status for r in records] == ["SENT"]
        posted = session.bodies[0]["text"]
        assert posted.startswith(post_text.DUPLICATE_NOTE) and len(posted) <= 1000


# ---------------------------------------------------------------------------------------------
# where evidence enters: reporter JSON, file names
# ---------------------------------------------------------------------------------------------


def test_a_reporter_event_cut_in_half_is_read_as_a_replacement_character(tmp_path):
    path = tmp_path / "rhel96-fc-01.json"
    path.write_bytes(b'{"host": "rhel96-fc-01", "status": "FAIL\\ud83d", '
                     b'"stats": {"tests": 1, "passes": 0, "failures": 1, "pending": 0, "skipped": 0}, '
                     b'"events": [["2026-11-27T10:40:00Z", "error", "boot check failed \\ud83d"]], '
                     b'"x\\udcff": "\\ud83d\\ude00 whole"}')
    art = read_reporter_artifact(str(path), config.Settings())
    assert art.error is None and art.host == "rhel96-fc-01"
    assert art.events[0].message == "boot check failed \ufffd"
    assert art.status == "FAIL\ufffd"
    json.dumps(art.to_dict(), ensure_ascii=False).encode("utf-8")


def test_a_file_name_that_is_not_utf8_is_read_and_shown_escaped(tmp_path):
    reporter = tmp_path / "reporter"
    reporter.mkdir()
    raw = os.fsencode(str(reporter)) + b"/host-\xff.json"
    with open(raw, "wb") as handle:
        handle.write(b'{"host": "host-x", "status": "PASS", "stats": {"tests": 1, "passes": 1, "failures": 0, '
                     b'"pending": 0, "skipped": 0}}')
    # and one that cannot be parsed: its host comes from its name
    broken = os.fsencode(str(reporter)) + b"/vm-\xfe.json"
    with open(broken, "wb") as handle:
        handle.write(b"{")
    found = {a.path: a for a in scan_reporter_dir(str(reporter), config.Settings())}
    good = found[str(reporter) + "/host-\\xff.json"]
    assert good.error is None and good.status == "PASS"
    bad = found[str(reporter) + "/vm-\\xfe.json"]
    assert bad.host == "vm-\\xfe" and "vm-\\xfe.json" in bad.error
    junit_dir = tmp_path / "junit"
    junit_dir.mkdir()
    with open(os.fsencode(str(junit_dir)) + b"/results-\xff.xml", "wb") as handle:
        handle.write(b"<testsuites><testsuite name='x' file='a.cy.ts'><testcase name='t'/></testsuite></testsuites>")
    (report,) = scan_junit_dir(str(junit_dir))
    assert report.error is None and report.path.endswith("results-\\xff.xml") and report.counts.tests == 1
    for text in [a.path for a in found.values()] + [bad.error, bad.host, report.path]:
        text.encode("utf-8")

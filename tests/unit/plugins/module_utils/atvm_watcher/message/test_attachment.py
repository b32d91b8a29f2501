# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The rich post (headline, coloured attachment, card, priority) against what Mattermost accepts."""
from __future__ import annotations

import http.client
import json
import re

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery.outbox import with_note
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import attachment as post
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import text as post_text
from ansible_collections.atvm.watcher.tests.support import mattermost_double as mmd
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.live_markup import (
    strings as _strings)
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.test_markdown import METADATA


HOOK = "p7c2m9x4q1w8e5r3t6y0u2i4oa"
NEWEST_SERVER_BODY = 128 * 1024
MENTION = re.compile(r"(?:@|<!)(?:channel|here|all)\b", re.IGNORECASE)
HEX_COLOR = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _settings(**kwargs) -> config.Settings:
    kwargs.setdefault("metadata", dict(METADATA))
    return config.Settings(**kwargs)


def _host(name, result, reasons=(), counts=(9, 9, 0, 0, 0), os_name="RHEL 9.6", kernel="5.14.0-570.12.1.el9_6.x86_64"):
    return models.HostVerdict(host=name, result=result, os=os_name, kernel=kernel, counts=models.Counts(*counts),
                              reasons=list(reasons))


def _hosts():
    return [
        _host("rhel96-fc-01", models.FAIL, ["post-migration boot check failed"], (12, 11, 1, 0, 0)),
        _host("win2022-dc-02", models.PASS, os_name="Windows Server 2022", kernel="10.0.20348"),
        _host("sles15-db-04", models.RUN, ["still running (reporter status RUN)", "5 pending test(s)"], (8, 3, 0, 5, 0),
              os_name="SLES 15 SP5", kernel=None),
        _host("ubuntu2404-app-03", models.MISSING, ["no reporter artifact newer than the run's start"],
              (None,) * 5, os_name=None, kernel=None),
    ]


def _verdict(result=models.FAIL, state=models.COMPLETED, hosts=None, sub_reasons=None, categorized=True,
             name="linux", run_reasons=None):
    sub = models.SubrunVerdict(
        index=1, name=name, state=state, result=result, hosts=_hosts() if hosts is None else hosts,
        reasons=["1 of 4 spec(s) failed"] if sub_reasons is None else sub_reasons,
        counts=models.Counts(29, 23, 1, 5, 0), run_url="http://127.0.0.1:1234/runs/42", duration_seconds=3725.4,
        started_at="2026-11-29T10:00:00Z", ended_at="2026-11-29T11:02:05Z")
    verdict = models.RunVerdict(state=state, result=result, subruns=[sub], categorized=categorized,
                                reasons=["runner exited with code 1"] if run_reasons is None else run_reasons,
                                exit=models.ExitInfo(known=True, running=False, exit_code=1, source="systemd"))
    return verdict, sub


def _build(result=models.FAIL, settings=None, **kwargs):
    verdict, sub = _verdict(result=result, **kwargs)
    return post.build_post(verdict, sub, settings or _settings(), "B42", 3)


def _send(double, payload, **transport):
    """POST the payload as the client does (UTF-8 JSON) and return the answer."""
    body = dict(payload, **transport)
    data = json.dumps(body, ensure_ascii=False).encode("utf-8")
    conn = http.client.HTTPConnection("127.0.0.1", double.port, timeout=10)
    try:
        conn.request("POST", "/hooks/" + HOOK, data, {"Content-Type": "application/json"})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


@pytest.fixture
def double():
    with mmd.MattermostDouble(hook_ids=(HOOK,), channels=("town-square", "atvm-runs"),
                              max_json_body=NEWEST_SERVER_BODY) as d:
        yield d


# ---------------------------------------------------------------------------------------------
# layout
# ---------------------------------------------------------------------------------------------


def test_fail_post_layout():
    payload = _build(settings=_settings(fail_priority="important"))
    assert set(payload) == {"text", "attachments", "props", "priority"}
    assert payload["text"] == "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `B42` \u00b7 sub-run 2/3 `linux`"
    [att] = payload["attachments"]
    assert att["color"] == post.COLOR_FAIL
    assert att["fallback"] == "FAIL \u00b7 COMPLETED \u00b7 build B42 \u00b7 sub-run 2/3 linux"
    assert [(f["title"], f["value"], f["short"]) for f in att["fields"]] == [
        ("Result", "\u274c FAIL", True),
        ("State", "COMPLETED", True),
        ("Tests / passed / failed / pending / skipped", "29 / 23 / 1 / 5 / 0", True),
        ("Duration", "1h 02m 05s", True),
        ("Config family", "`gold`", True),
        ("Hosts", "1 FAIL \u00b7 1 MISSING \u00b7 1 RUN \u00b7 1 PASS", True),
        ("Recorded run", "http://127.0.0.1:1234/runs/42", False),
    ]
    assert payload["priority"] == {"priority": "important"}
    assert att["footer"].startswith("atvm.watcher ")


def test_headline_is_one_line_and_names_result_state_build_and_subrun():
    for result, state in ((models.PASS, models.COMPLETED), (models.FAIL, models.FAILED), (models.UNKNOWN, models.FAILED)):
        text = _build(result=result, state=state)["text"]
        assert "\n" not in text
        assert text.startswith("#### " + post_text.RESULT_EMOJI[result] + " " + result + " \u00b7 " + state + " \u00b7 ")
        assert state in text and "`B42`" in text and "sub-run 2/3 `linux`" in text
    assert "sub-run" not in _build(categorized=False)["text"]


def test_reasons_then_hosts_not_pass_worst_first_then_the_whole_host_table():
    text = _build()["attachments"][0]["text"]
    why = text.index("**Why not PASS:**")
    not_pass = text.index("**Hosts not PASS (3 of 4):**")
    table = text.index("| Host | OS | Kernel | Result |")
    assert why < not_pass < table
    listed = re.findall(r"^- \S+ \*\*([^*]+)\*\* (\w+)", text[not_pass:table], re.M)
    assert listed == [("rhel96-fc-01", "FAIL"), ("ubuntu2404-app-03", "MISSING"), ("sles15-db-04", "RUN")]
    assert "- \u23f3 **sles15-db-04** RUN: still running (reporter status RUN); 5 pending test(s)" in text
    rows = [line.split(" | ")[0][2:] for line in text[table:].splitlines()[2:]]
    assert rows == ["rhel96-fc-01", "win2022-dc-02", "sles15-db-04", "ubuntu2404-app-03"]
    assert "| ubuntu2404-app-03 | - | - | \u2753 MISSING | - / - / - / - / - |" in text


def test_a_pass_post_has_no_hosts_not_pass_and_notes_instead_of_why_not_pass():
    hosts = [_host("rhel96-fc-01", models.PASS), _host("win2022-dc-02", models.PASS)]
    payload = _build(result=models.PASS, hosts=hosts, sub_reasons=["2 spec(s) retried before passing"], run_reasons=[])
    text = payload["attachments"][0]["text"]
    assert "Hosts not PASS" not in text and "Why not PASS" not in text
    assert text.startswith("**Notes:**\n- 2 spec(s) retried before passing\n\n| Host |")
    assert payload["attachments"][0]["color"] == post.COLOR_PASS


def test_non_categorized_post_carries_the_run_reasons_too():
    text = _build(categorized=False)["attachments"][0]["text"]
    assert "- 1 of 4 spec(s) failed\n- runner exited with code 1" in text


@pytest.mark.parametrize("result,color", [
    (models.PASS, "#2EB886"), (models.FAIL, "#D24B4E"), (models.RUN, "#8D8D8D"), (models.UNKNOWN, "#8D8D8D"),
    ("SOMETHING-NEW", "#8D8D8D"),
])
def test_colour_by_result_is_a_hex_colour_the_server_validates(result, color):
    assert post.result_color(result) == color
    assert HEX_COLOR.match(_build(result=result)["attachments"][0]["color"])


def test_fields_are_short_strings_and_unknown_values_are_left_out():
    verdict, sub = _verdict(hosts=[])
    sub.counts = models.Counts()
    sub.duration_seconds = None
    sub.run_url = None
    payload = post.build_post(verdict, sub, _settings(metadata={}), "B42", 3)
    fields = payload["attachments"][0]["fields"]
    assert [f["title"] for f in fields] == ["Result", "State"]
    assert payload["attachments"][0]["text"] == "**Why not PASS:**\n- 1 of 4 spec(s) failed\n\n_No host results._"


def test_a_name_mismatch_is_a_field():
    verdict, sub = _verdict()
    sub.name_mismatch = "the marker said 'windows' but the specs ran on rhel96-fc-01"
    fields = post.build_post(verdict, sub, _settings(), "B42", 3)["attachments"][0]["fields"]
    assert fields[-1] == {"title": "Sub-run name", "short": False,
                          "value": "`linux` (the marker said 'windows' but the specs ran on rhel96-fc-01)"}


def test_card_holds_the_run_metadata_and_the_commands():
    card = _build()["props"]["card"]
    assert card.startswith("### Build `B42` \u00b7 sub-run 2/3 `linux`\n")
    for line in ("**Template:** `cmc-e2e`", "**Config family:** `gold`", "**Config file:** `cypress.atvm-config-gold.ts`",
                 "**Migration style:** `cold`", "**Integration plugin:** `vmware`", "**Scope:** `linux+windows`",
                 "**Categorized:** yes", "**Runner:** exit code 1 [systemd]", "**Run:** runner exited with code 1",
                 "**Started:** 2026-11-29T10:00:00Z"):
        assert line in card.splitlines()
    assert "**Runner command:**\n```\n" + METADATA["runner_command"] + "\n```" in card
    assert "**Template command:**\n```\n" + METADATA["template_command"] + "\n```" in card


def test_a_backtick_in_a_command_cannot_close_the_code_block():
    meta = dict(METADATA, runner_command="sh -c 'echo ```; echo `date`'")
    card = _build(settings=_settings(metadata=meta))["props"]["card"]
    assert card.count("```") == 4
    assert "sh -c 'echo '''; echo 'date''" in card


def test_priority_only_for_fail_and_only_when_asked():
    assert "priority" not in _build()
    assert _build(settings=_settings(fail_priority="urgent"))["priority"] == {"priority": "urgent"}
    for result in (models.PASS, models.UNKNOWN, models.RUN):
        assert "priority" not in _build(result=result, settings=_settings(fail_priority="important"))


def test_the_setting_is_read_from_the_environment_and_checked():
    assert config.Settings.from_env({"ATVM_FAIL_PRIORITY": "important"}).fail_priority == "important"
    assert config.Settings().fail_priority == ""
    problems = config.Settings(fail_priority="high").check(require_webhook=False)
    assert any("ATVM_FAIL_PRIORITY 'high' is not one of" in p for p in problems)


def test_an_operator_template_replaces_the_layout(tmp_path):
    template = tmp_path / "post.md"
    template.write_text("$emoji $result of $build_name\n$hosts_table\n", encoding="utf-8")
    payload = _build(settings=_settings(message_template=str(template), fail_priority="important"))
    assert set(payload) == {"text", "priority"}
    assert payload["text"].startswith("\u274c FAIL of B42\n| Host |")


def test_mentions_are_defused_in_every_string_of_the_payload():
    hosts = [_host("rhel96-fc-01", models.FAIL, ["@channel the VM is gone", "ping @here and @ALL"])]
    meta = dict(METADATA, scope="@channel scope", runner_command="notify @all")
    verdict, sub = _verdict(hosts=hosts, sub_reasons=["@here the run crashed"], name="@here")
    payload = post.build_post(verdict, sub, _settings(metadata=meta), "B42", 3)
    found = [s for s in _strings(payload) if MENTION.search(s)]
    assert found == []
    assert "the VM is gone" in payload["attachments"][0]["text"]


def test_with_note_marks_the_text_and_keeps_the_rest():
    payload = _build()
    noted = with_note(payload, lambda text: ":warning: possible duplicate\n\n" + text)
    assert noted["text"] == ":warning: possible duplicate\n\n" + payload["text"]
    assert noted["attachments"] == payload["attachments"] and noted["props"] == payload["props"]
    assert payload["text"].startswith("#### \u274c")


# ---------------------------------------------------------------------------------------------
# limits
# ---------------------------------------------------------------------------------------------


def _many_hosts(n_fail, n_pass, reason="x" * 300):
    hosts = [_host("fail-{0:03d}".format(i), models.FAIL, [reason + str(i), "second", "third", "fourth", "fifth", "sixth"])
             for i in range(n_fail)]
    hosts += [_host("pass-{0:03d}".format(i), models.PASS) for i in range(n_pass)]
    return hosts


def test_many_hosts_are_cut_by_whole_rows_non_pass_hosts_kept_first():
    settings = _settings(max_post_chars=4000)
    payload = _build(hosts=_many_hosts(10, 200), settings=settings)
    text = payload["attachments"][0]["text"]
    assert len(text) <= 4000
    rows = re.findall(r"^\| (fail|pass)-\d{3} \|", text, re.M)
    assert rows[: rows.count("fail")] == ["fail"] * rows.count("fail")
    assert rows.count("fail") == 10 and rows.count("pass") < 200
    more = re.search(r"^\u2026 and (\d+) more hosts \((\d+) PASS\)$", text, re.M)
    assert more and int(more.group(1)) == 200 - rows.count("pass") == int(more.group(2))
    assert "**Hosts not PASS (10 of 210):**" in text


def test_many_hosts_not_pass_and_reasons_are_cut_with_and_n_more():
    settings = _settings(max_post_chars=3000)
    reasons = ["reason number {0} ".format(i) + "y" * 200 for i in range(40)]
    payload = _build(hosts=_many_hosts(60, 5), sub_reasons=reasons, settings=settings)
    text = payload["attachments"][0]["text"]
    assert len(text) <= 3000
    shown = len(re.findall(r"^- reason number", text, re.M))
    assert 0 < shown < 40
    assert "- \u2026 and {0} more reasons".format(40 - shown) in text
    listed = len(re.findall(r"^- \u274c \*\*fail-", text, re.M))
    assert 0 < listed < 60
    assert "- \u2026 and {0} more hosts not PASS".format(60 - listed) in text
    assert text.index("Why not PASS") < text.index("Hosts not PASS")


def test_long_host_reasons_are_shortened_before_anything_is_dropped():
    payload = _build(hosts=_many_hosts(3, 0, reason="z" * 3000))
    text = payload["attachments"][0]["text"]
    assert "z" * 401 not in text and "\u2026" in text
    assert "\u2026 and 1 more reason" in text  # 6 reasons per host, 5 shown at the first level
    assert len(re.findall(r"^- \u274c \*\*fail-", text, re.M)) == 3


def test_every_size_limit_of_the_reference_holds_for_a_huge_run():
    emoji_reason = "\U0001F4A5" * 2000  # 4 bytes each in UTF-8
    meta = dict(METADATA, runner_command="\u4e2d" * 20000, template_command="\u4e2d" * 20000, scope="s" * 5000)
    hosts = [_host("host-{0:04d}".format(i), models.FAIL, [emoji_reason]) for i in range(2000)]
    verdict, sub = _verdict(hosts=hosts, sub_reasons=[emoji_reason] * 200)
    payload = post.build_post(verdict, sub, _settings(metadata=meta, max_post_chars=16383), "B42", 3)
    att = payload["attachments"][0]
    assert post.body_size(payload) <= post.MAX_BODY_BYTES - post.BODY_RESERVE_BYTES
    assert len(payload["text"]) <= 16383 and len(att["text"]) <= 16383 and len(payload["props"]["card"]) <= 16383
    assert len(att["footer"]) <= post.MAX_FOOTER_CHARS
    assert all(len(f["value"]) <= post.MAX_FIELD_CHARS and isinstance(f["short"], bool) for f in att["fields"])
    assert "more host" in att["text"]


def test_a_huge_post_with_transport_fields_and_the_duplicate_note_is_accepted_by_the_newest_server(double):
    emoji_reason = "\U0001F4A5" * 2000
    hosts = [_host("host-{0:04d}".format(i), models.FAIL, [emoji_reason]) for i in range(500)]
    meta = dict(METADATA, runner_command="\u4e2d" * 20000)
    verdict, sub = _verdict(hosts=hosts, sub_reasons=[emoji_reason] * 50)
    payload = post.build_post(verdict, sub, _settings(metadata=meta, max_post_chars=16383), "B42", 3)
    noted = with_note(payload, lambda t: ":warning: possible duplicate: " + "n" * 200 + "\n\n" + t)
    status, body = _send(double, noted, channel="atvm-runs", username="atvm-" + "u" * 60,
                         icon_url="https://example.org/" + "i" * 500 + ".png")
    assert (status, body) == (200, b"ok")
    [stored] = double.posts
    assert stored["warnings"] == [] and stored["type"] == "slack_attachment"
    assert stored["attachments"][0]["text"] == payload["attachments"][0]["text"]


@pytest.mark.parametrize("result", [models.PASS, models.FAIL, models.UNKNOWN])
def test_the_double_accepts_the_post_as_built_without_a_warning(double, result):
    payload = _build(result=result, settings=_settings(fail_priority="important"))
    assert _send(double, payload) == (200, b"ok")
    [stored] = double.posts
    assert stored["warnings"] == []
    assert stored["text"] == payload["text"]
    assert stored["props"] == payload["props"]
    assert stored["attachments"] == payload["attachments"]
    assert stored["priority"] == payload.get("priority")


def test_the_webhook_is_redacted_from_every_string_of_the_payload():
    webhook = "https://chat.example.org/hooks/" + HOOK
    hosts = [_host("rhel96-fc-01", models.FAIL, ["POST " + webhook + " failed"])]
    meta = dict(METADATA, runner_command="notify --url " + webhook, scope=webhook)
    verdict, sub = _verdict(hosts=hosts, sub_reasons=["posting to " + webhook])
    sub.run_url = webhook
    payload = post.build_post(verdict, sub, _settings(metadata=meta, webhook=webhook), "B42", 3)
    assert [s for s in _strings(payload) if HOOK in s or "/hooks/" + HOOK[:6] in s] == []
    assert "POST `***` failed" in payload["attachments"][0]["text"]  # a URL from evidence: inline code


# every code point, lone surrogates included, and the pieces that matter: mentions, table and code marks
_ANY_TEXT = st.lists(st.one_of(
    st.text(alphabet=st.characters(min_codepoint=0, max_codepoint=0x10FFFF), max_size=200),
    st.sampled_from(["@channel", "<!here>", "@ALL", "|", "`", "```", "\n", "\ud83d", "\udcff", "\U0001F4A5" * 50])),
    max_size=6).map("".join)


@hsettings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(_ANY_TEXT, min_size=0, max_size=6), reasons=st.lists(_ANY_TEXT, max_size=8),
       meta=st.dictionaries(st.sampled_from(sorted(METADATA)), _ANY_TEXT, max_size=4),
       result=st.sampled_from([models.PASS, models.FAIL, models.RUN, models.UNKNOWN, "??"]),
       max_chars=st.integers(1000, 16383))
def test_any_text_gives_a_payload_that_encodes_and_keeps_its_limits(names, reasons, meta, result, max_chars):
    hosts = [_host(name, models.FAIL if i % 2 else models.PASS, reasons[:3]) for i, name in enumerate(names)]
    verdict, sub = _verdict(result=result, hosts=hosts, sub_reasons=reasons, name=(names or ["x"])[0])
    payload = post.build_post(verdict, sub, _settings(metadata=meta, max_post_chars=max_chars), "B42", 3)
    json.dumps(payload, ensure_ascii=False).encode("utf-8")  # never raises (no lone surrogate left)
    att = payload["attachments"][0]
    assert "\n" not in payload["text"] and len(att["text"]) <= max_chars and len(payload["props"]["card"]) <= max_chars
    assert post.body_size(payload) <= post.MAX_BODY_BYTES - post.BODY_RESERVE_BYTES
    assert all(isinstance(f["short"], bool) and len(f["value"]) <= post.MAX_FIELD_CHARS for f in att["fields"])
    assert [s for s in _strings(payload) if MENTION.search(s)] == []

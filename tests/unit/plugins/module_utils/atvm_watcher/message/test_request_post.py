# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The request post: what it says, within the limits, evidence inert."""
from __future__ import annotations

import json

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message.request import (
    RequestFacts, build_request_post)
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import ExitInfo
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import Settings
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.live_markup import (
    live_markup, strings)
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.test_inert import EVIDENCE

HOOK = "https://mm.example.org/hooks/FAKEhookForTests01"
EXIT1 = ExitInfo(known=True, running=False, exit_code=1, source="exit-file")


def facts(**kw):
    base = dict(build_name="nightly-7", state="FAILED", result="FAIL", categorized=True, exit=EXIT1,
                reasons=["the runner exited with code 1"])
    base.update(kw)
    return RequestFacts(**base)


def test_it_says_the_state_the_result_the_exit_and_the_runners_last_words():
    post = build_request_post(facts(
        posted=[(0, "linux", "COMPLETED", "PASS"), (1, "windows", "COMPLETED", "PASS")],
        log_tail=["upload of the merged report failed: 503", "exit 1"]), Settings(webhook=HOOK))
    assert post["text"] == "#### \u274c FAIL \u00b7 FAILED \u00b7 build `nightly-7` \u00b7 the request"
    attachment = post["attachments"][0]
    assert attachment["color"] == "#D24B4E"
    assert {f["title"]: f["value"] for f in attachment["fields"]} == {
        "Result": "\u274c FAIL", "State": "FAILED", "Runner": "exit code 1 [exit-file]", "Sub-runs posted": "2 PASS"}
    assert "**What the sub-run posts said (2 PASS):**" in attachment["text"]
    assert attachment["text"].endswith("```\nupload of the merged report failed: 503\nexit 1\n```")


def test_held_lost_and_stray_are_counted_and_the_list_is_bounded():
    held = [(n, "g{0}".format(n), "COMPLETED", "PASS") for n in range(5, 40)]
    text = build_request_post(facts(state="COMPLETED", result="PASS", reasons=[], held=held, max_posts=5,
                                    lost=[(2, "windows", "the log file runner.log is gone")], stray_markers=400,
                                    stray_labels=["g1"] * 5), Settings())["attachments"][0]["text"]
    assert "**Decided, not posted (35 PASS; at most 5 posts per request):**" in text
    assert text.count("- sub-run ") == 20 + 1  # the first 20 held, the lost one
    assert "\u2026 and 15 more" in text and "400 wrapper marker line(s) began no sub-run" in text


@hsettings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(EVIDENCE, min_size=1, max_size=4), st.lists(EVIDENCE, max_size=4), EVIDENCE)
def test_no_evidence_yields_live_markup_and_the_webhook_never_shows(reasons, tail, name):
    post = build_request_post(facts(reasons=reasons + [HOOK], log_tail=tail + [HOOK], lost=[(1, name, name)],
                                    posted=[(0, name, "COMPLETED", "PASS")], stray_markers=1, stray_labels=[name]),
                              Settings(webhook=HOOK, max_post_chars=2000))
    for text in strings(post):
        assert live_markup(text) == [], text
    assert "FAKEhookForTests01" not in json.dumps(post)
    assert len(post["attachments"][0]["text"]) <= 2000

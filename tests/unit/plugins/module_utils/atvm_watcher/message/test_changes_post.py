# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What changed since the suite's previous run, in a post (docs/history.md): one field, the first names
in the attachment, every name in the card, within the post's limits, evidence inert."""
from __future__ import annotations

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.changes import Changes
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import attachment as post
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message.changes import format_ago
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message.view import changes_view
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.live_markup import (
    live_markup, strings)
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.test_attachment import (
    _settings, _verdict)

SPEC = "cypress/e2e/migration/rhel96-fc-01.cy.ts"


def _key(n, spec=SPEC):
    return spec, "Migration of rhel96-fc-01 check {0:04d}".format(n)


def _changes(new=(), fixed=(), still=(), flaky=(), previous="B41", known=True, first=False, why="", disagree=()):
    return Changes(suite="cmc-e2e", first_run=first, known=known, why=why, previous_build=previous,
                   previous_at="2026-11-29T07:00:00.000Z" if previous else None, new_failures=list(new),
                   fixed=list(fixed), still_failing=list(still), flaky=list(flaky), disagreements=list(disagree))


def _payload(changes, result=models.FAIL, settings=None):
    verdict, sub = _verdict(result=result)
    return post.build_post(verdict, sub, settings or _settings(), "B42", 3, changes=changes)


def _field(payload):
    [value] = [f["value"] for f in payload["attachments"][0]["fields"] if f["title"] == "History"]
    return value


def test_the_field_counts_each_list_and_the_longest_streak():
    changes = _changes(new=[_key(1), _key(2)], fixed=[_key(3)], still=[(_key(4), 3), (_key(5), 7)], flaky=[_key(6)])
    value = _field(_payload(changes))
    assert value.startswith("Since `B41` (")
    assert value.endswith("): 2 new failures \u00b7 1 fixed \u00b7 2 still failing (longest: 7 runs in a row) \u00b7 "
                          "1 flaky (passed on a retry)")


@pytest.mark.parametrize("changes, value", [
    (_changes(previous=None, first=True), "first run of this suite"),
    (_changes(previous=None, first=True, flaky=[_key(1)]), "first run of this suite \u00b7 1 flaky (passed on a retry)"),
    (_changes(previous=None), "no earlier run of this suite with per-test results"),
    (_changes(known=False, why="the reports name 6 of its 10 passed tests"),
     "no per-test results: the reports name 6 of its 10 passed tests"),
], ids=["first", "first-flaky", "no-earlier", "unknown"])
def test_the_field_without_a_comparison(changes, value):
    assert _field(_payload(changes)) == value


def test_a_pass_with_flaky_tests_is_a_pass_that_says_so():
    payload = _payload(_changes(flaky=[_key(1)]), result=models.PASS, settings=_settings())
    assert payload["text"].startswith("#### \u2705 PASS") and payload["attachments"][0]["color"] == post.COLOR_PASS
    assert _field(payload).endswith(": 1 flaky (passed on a retry)")


def test_first_names_in_the_attachment_every_name_in_the_card():
    changes = _changes(new=[_key(n) for n in range(12)], fixed=[_key(100)])
    payload = _payload(changes)
    text = payload["attachments"][0]["text"]
    line = next(ln for ln in text.splitlines() if ln.startswith("- New failures (12): "))
    assert line.count("check 00") == 5 and line.endswith("\u2026 and 7 more")  # five names at the first level
    assert "- Fixed (1): Migration of rhel96-fc-01 check 0100 (rhel96-fc-01.cy.ts)" in text
    card = payload["props"]["card"]
    assert "**New failures (12):**" in card and all("check {0:04d}".format(n) in card for n in range(12))
    assert "and 7 more" not in card


def test_thousands_of_changed_tests_stay_within_the_post_and_say_how_many_more():
    changes = _changes(new=[_key(n) for n in range(5000)], still=[(_key(n), 4) for n in range(5000, 7000)])
    payload = _payload(changes)
    limit = _settings().max_post_chars
    assert len(payload["attachments"][0]["text"]) <= limit and len(payload["props"]["card"]) <= limit
    assert post.body_size(payload) <= post.MAX_BODY_BYTES - post.BODY_RESERVE_BYTES
    card = payload["props"]["card"]
    assert card.rstrip().endswith("more tests") and "\u2026 and " in card.splitlines()[-1]
    shown = sum(1 for ln in card.splitlines() if ln.startswith("- Migration of"))
    assert card.splitlines()[-1] == "- \u2026 and {0} more tests".format(7000 - shown)
    assert "- New failures (5000): " in payload["attachments"][0]["text"]


def test_a_small_post_limit_still_holds_the_field():
    settings = _settings(max_post_chars=1000)
    payload = _payload(_changes(new=[_key(n) for n in range(300)]), settings=settings)
    assert len(payload["attachments"][0]["text"]) <= 1000 and len(payload["props"]["card"]) <= 1000
    assert _field(payload).startswith("Since `B41`")


def test_test_names_are_evidence_and_shown_inert():
    hostile = ("cypress/e2e/x.cy.ts", "opens http://evil.example/x ![img](http://e/i.png) <b>hi</b> @channel *b*")
    said = {"spec": hostile[0], "title": hostile[1], "says": {"JUnit": "passed", "console": "failed"}}
    payload = _payload(_changes(new=[hostile], disagree=[said]))
    for string in strings(payload):
        assert live_markup(string, allowed_links=["http://127.0.0.1:1234/runs/42"]) == [], string
        assert "@channel" not in string
    assert "- Sources disagree (1): " in payload["attachments"][0]["text"]
    assert "JUnit passed, console failed" in payload["attachments"][0]["text"]


def test_how_long_ago_is_counted_from_when_the_previous_run_was_decided():
    # 2026-11-29T07:00:00Z, then 3 h 53 min later
    assert changes_view(_changes(), now=1_795_935_600.0 + 3 * 3600 + 53 * 60).ago == 3 * 3600 + 53 * 60


def test_the_markdown_post_and_the_template_placeholders():
    verdict, sub = _verdict()
    changes = _changes(new=[_key(1)])
    text = render.render_view(render.build_view(verdict, sub, _settings(), "B42", 3, changes), _settings())
    assert "**History:** Since `B41` (" in text and "- New failures (1): Migration of rhel96-fc-01 check 0001" in text
    assert "changes" in render.PLACEHOLDERS and "changed_tests" in render.PLACEHOLDERS


def test_without_a_history_nothing_is_said():
    payload = _payload(None)
    assert [f for f in payload["attachments"][0]["fields"] if f["title"] == "History"] == []
    assert "Since" not in payload["attachments"][0]["text"] and "Since" not in payload["props"]["card"]


@pytest.mark.parametrize("seconds, text", [(None, ""), (5, "just now"), (59, "just now"), (60, "1 min ago"),
                                           (3599, "59 min ago"), (3600, "1 h ago"), (47 * 3600, "47 h ago"),
                                           (2 * 86400, "2 d ago")])
def test_how_long_ago(seconds, text):
    assert format_ago(seconds) == text

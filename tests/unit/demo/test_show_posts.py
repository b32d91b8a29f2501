# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""demo/show_posts.py prints a recorded post as the channel shows it: headline, coloured attachment, card."""
from __future__ import annotations

import importlib.util
import json
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[3]
_spec = importlib.util.spec_from_file_location("atvm_demo_show_posts", ROOT / "demo" / "show_posts.py")
show = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(show)

POST = {
    "text": "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `demo-1` \u00b7 sub-run 3/3 `windows`",
    "channel": "town-square", "username": None, "received_at": "2026-11-29T14:10:05.123456Z",
    "priority": {"priority": "important"},
    "attachments": [{
        "fallback": "FAIL", "color": "#D24B4E", "footer": "atvm.watcher 1.0.0",
        "fields": [{"title": "Result", "value": "\u274c FAIL", "short": True},
                   {"title": "State", "value": "COMPLETED", "short": True},
                   {"title": "Duration", "value": "42s", "short": True},
                   {"title": "Recorded run", "value": "http://127.0.0.1/runs/1", "short": False}],
        "text": "**Why not PASS:**\n- 1 of 2 spec(s) failed",
    }],
    "props": {"card": "### Build `demo-1`\n**Scope:** `demo`"},
}


@pytest.fixture
def record(tmp_path):
    path = tmp_path / "posts.jsonl"
    other = dict(POST, text="#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `other`", attachments=[], priority=None)
    path.write_text(json.dumps(POST) + "\n" + json.dumps(other) + "\n", encoding="utf-8")
    return path


def test_a_post_with_its_attachment_colour_fields_and_card(record, capsys, monkeypatch):
    monkeypatch.delenv("NO_COLOR", raising=False)
    assert show.main([str(record), "--build", "demo-1", "--color"]) == 0
    out = capsys.readouterr().out
    stripe = "\x1b[38;2;210;75;78m\u2503\x1b[0m"
    lines = out.splitlines()
    assert lines[1] == "\u250c\u2500 ~town-square \u00b7 webhook \u00b7 14:10:05 UTC"
    assert lines[2:4] == ["\u2502 [IMPORTANT]", "\u2502 " + POST["text"]]
    assert lines[4] == "\u2502 {0} attachment, red (#D24B4E)".format(stripe)
    assert lines[5].startswith("\u2502 {0} Result: \u274c FAIL ".format(stripe)) and lines[5].endswith("State: COMPLETED")
    assert lines[6] == "\u2502 {0} Duration: 42s".format(stripe)
    assert lines[7] == "\u2502 {0} Recorded run: http://127.0.0.1/runs/1".format(stripe)
    assert "\u2502 {0} - 1 of 2 spec(s) failed".format(stripe) in lines
    assert "\u2502 {0} atvm.watcher 1.0.0".format(stripe) in lines
    assert "\u2502     **Scope:** `demo`" in lines
    assert "build `other`" not in out


def test_no_color_prints_the_colour_in_words_only(record, capsys, monkeypatch):
    monkeypatch.setenv("NO_COLOR", "1")
    show.main([str(record), "--color"])
    out = capsys.readouterr().out
    assert "\x1b[" not in out
    assert "\u2502 \u2503 attachment, red (#D24B4E)" in out
    assert "build `other`" in out


def test_the_history_field_of_a_post_is_shown(tmp_path, capsys, monkeypatch):
    """demo/steps/40-history.sh shows the second run of a suite: its History field says what changed."""
    monkeypatch.setenv("NO_COLOR", "1")
    value = "Since `history-1` (just now): 1 fixed \u00b7 1 flaky (passed on a retry)"
    post = dict(POST, attachments=[dict(POST["attachments"][0], color="#2EB886", fields=[
        {"title": "Result", "value": "\u2705 PASS", "short": True},
        {"title": "History", "value": value, "short": False}])])
    path = tmp_path / "posts.jsonl"
    path.write_text(json.dumps(post) + "\n", encoding="utf-8")
    assert show.main([str(path)]) == 0
    assert "\u2502 \u2503 History: " + value in capsys.readouterr().out

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The text helpers of a post: durations, the runner's exit, emoji, "… and N more", cutting."""
from __future__ import annotations

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import text as post_text


@pytest.mark.parametrize("seconds,expected", [
    (None, ""), (0, "0s"), (59.4, "59s"), (61, "1m 01s"), (3600, "1h 00m 00s"), (90061, "25h 01m 01s")])
def test_format_duration(seconds, expected):
    assert post_text.format_duration(seconds) == expected


@pytest.mark.parametrize("exit_info,expected", [
    (models.ExitInfo(), "running"),
    (models.ExitInfo(known=False, running=False), "exit unknown"),
    (models.ExitInfo(known=True, running=False, exit_code=0, source="exit-file"), "exit code 0 [exit-file]"),
    (models.ExitInfo(known=True, running=False, signal=9, source="systemd", detail="oom-kill"),
     "killed by signal 9 (oom-kill) [systemd]"),
])
def test_describe_exit(exit_info, expected):
    assert post_text.describe_exit(exit_info) == expected


@pytest.mark.parametrize("result,expected", [
    (models.PASS, "\u2705"), (models.FAIL, "\u274c"), (models.RUN, "\u23f3"), (models.UNKNOWN, "\u2754"),
    (models.MISSING, "\u2753"), ("BOGUS", "\u2754")])
def test_emoji_of_each_result_and_of_one_it_does_not_know(result, expected):
    assert post_text.emoji(result) == expected


@pytest.mark.parametrize("n,word,tail,expected", [
    (3, "", "", "\u2026 and 3 more"),
    (1, "reason", "", "\u2026 and 1 more reason"),
    (2, "reason", "", "\u2026 and 2 more reasons"),
    (4, "host", " not PASS", "\u2026 and 4 more hosts not PASS"),
])
def test_and_n_more(n, word, tail, expected):
    assert post_text.more(n, word, tail) == expected


def test_hard_cut_keeps_whole_first_lines_and_says_so():
    text = "headline\n" + "\n".join("line {0}".format(i) for i in range(100))
    cut = post_text.hard_cut(text, 120)
    assert len(cut) <= 120 and cut.startswith("headline\nline 0\n") and cut.endswith(post_text.TRUNCATED_LINE)
    assert post_text.hard_cut("short", 120) == "short"


def test_most_finds_the_largest_fitting_count():
    assert post_text.most(100, lambda n: n * 7 <= 300) == 42
    assert post_text.most(100, lambda n: n == 0) == 0
    assert post_text.most(5, lambda n: True) == 5

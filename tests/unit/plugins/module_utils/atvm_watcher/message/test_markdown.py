# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the Markdown post (the operator template, the verdict message), with hand-built verdicts."""
from __future__ import annotations

import pathlib
import re

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import text as post_text

TESTS = pathlib.Path(__file__).resolve().parents[5]
TEMPLATES = TESTS / "fixtures" / "artifacts" / "templates"

METADATA = {
    "template": "cmc-e2e",
    "config_family": "gold",
    "config_file": "cypress.atvm-config-gold.ts",
    "migration_style": "cold",
    "integration_plugin": "vmware",
    "scope": "linux+windows",
    "template_command": "python3 ./cmc-templates.py --template_name cmc-e2e",
    "runner_command": "python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts --build_name B42 --categorize",
}

UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")


def _settings(**kwargs) -> config.Settings:
    kwargs.setdefault("metadata", dict(METADATA))
    return config.Settings(**kwargs)


def _hosts():
    return [
        models.HostVerdict(host="rhel96-fc-01", result=models.FAIL, os="RHEL 9.6", kernel="5.14.0-570.12.1.el9_6.x86_64",
                           counts=models.Counts(12, 12, 0, 0, 0), reasons=["post-migration boot check failed"],
                           artifact="/x/rhel96-fc-01.json"),
        models.HostVerdict(host="win2022-dc-02", result=models.PASS, os="Windows Server 2022", kernel="10.0.20348",
                           counts=models.Counts(9, 9, 0, 0, 0)),
        models.HostVerdict(host="sles15-db-04", result=models.RUN, os="SLES 15 SP5", kernel=None,
                           counts=models.Counts(8, 3, 0, 5, 0),
                           reasons=["still running (reporter status RUN)", "5 pending test(s)"]),
        models.HostVerdict(host="ubuntu2404-app-03", result=models.MISSING,
                           reasons=["no reporter artifact newer than the run's start"]),
    ]


def _verdict(categorized=True, hosts=None, sub_reasons=None, run_reasons=None, result=models.FAIL,
             state=models.COMPLETED, index=1, name="linux"):
    sub = models.SubrunVerdict(
        index=index, name=name, state=state, result=result,
        hosts=_hosts() if hosts is None else hosts,
        reasons=["1 of 4 spec(s) failed"] if sub_reasons is None else sub_reasons,
        counts=models.Counts(29, 24, 0, 5, 0), run_url="http://127.0.0.1:1234/runs/42",
        duration_seconds=3725.4,
    )
    verdict = models.RunVerdict(state=state, result=result, subruns=[sub],
                                reasons=["runner exited with code 1"] if run_reasons is None else run_reasons,
                                categorized=categorized)
    return verdict, sub


def _table_rows(text):
    return [line for line in text.splitlines() if line.startswith("| ") and not line.startswith("| Host |")]


# ---------------------------------------------------------------------------------------------
# content
# ---------------------------------------------------------------------------------------------


def test_post_headline_metadata_table_reasons_and_link():
    verdict, sub = _verdict()
    text = render.render_subrun(verdict, sub, _settings(), "B42", 3)
    lines = text.splitlines()
    assert lines[0] == "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `B42` \u00b7 sub-run 2/3 `linux`"
    assert "**Tests / passed / failed / pending / skipped:** 29 / 24 / 0 / 5 / 0" in lines
    assert "**Duration:** 1h 02m 05s" in lines
    assert "**Recorded run:** http://127.0.0.1:1234/runs/42" in lines
    meta_lines = [line for line in lines if line.startswith("**") and line.split(":**")[0][2:] in (
        "Template", "Config family", "Config file", "Migration style", "Integration plugin", "Scope",
        "Template command", "Runner command", "Categorized")]
    assert meta_lines == [
        "**Template:** `cmc-e2e`",
        "**Config family:** `gold`",
        "**Config file:** `cypress.atvm-config-gold.ts`",
        "**Migration style:** `cold`",
        "**Integration plugin:** `vmware`",
        "**Scope:** `linux+windows`",
        "**Template command:** `python3 ./cmc-templates.py --template_name cmc-e2e`",
        "**Runner command:** `python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts "
        "--build_name B42 --categorize`",
        "**Categorized:** yes",
    ]
    header = lines.index("| Host | OS | Kernel | Result | Tests / passed / failed / pending / skipped | Failure reasons |")
    assert lines[header + 1] == "|---|---|---|---|---|---|"
    assert _table_rows(text) == [
        "| rhel96-fc-01 | RHEL 9.6 | 5.14.0-570.12.1.el9_6.x86_64 | \u274c FAIL | 12 / 12 / 0 / 0 / 0 | "
        "post-migration boot check failed |",
        "| win2022-dc-02 | Windows Server 2022 | 10.0.20348 | \u2705 PASS | 9 / 9 / 0 / 0 / 0 |  |",
        "| sles15-db-04 | SLES 15 SP5 | - | \u23f3 RUN | 8 / 3 / 0 / 5 / 0 | still running (reporter status RUN); "
        "5 pending test(s) |",
        "| ubuntu2404-app-03 | - | - | \u2753 MISSING | - / - / - / - / - | "
        "no reporter artifact newer than the run's start |",
    ]
    # categorized: only the sub-run's reasons (the parent's exit bears on the request, not this sub-run)
    assert text.endswith("**Why not PASS:**\n- 1 of 4 spec(s) failed")
    assert "runner exited with code 1" not in text
    assert len(text) <= _settings().max_post_chars


def test_non_categorized_post_has_no_subrun_part_and_takes_run_reasons():
    verdict, sub = _verdict(categorized=False, index=0, name="default")
    text = render.render_subrun(verdict, sub, _settings(), "B42", 1)
    assert text.splitlines()[0] == "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `B42`"
    assert "**Categorized:** no" in text
    assert text.endswith("**Why not PASS:**\n- 1 of 4 spec(s) failed\n- runner exited with code 1")


@pytest.mark.parametrize("result,emoji", [
    (models.PASS, "\u2705"), (models.FAIL, "\u274c"), (models.RUN, "\u23f3"), (models.UNKNOWN, "\u2754")])
def test_headline_emoji_by_result(result, emoji):
    verdict, sub = _verdict(result=result, sub_reasons=[], run_reasons=[], hosts=[])
    text = render.render_subrun(verdict, sub, _settings(), "B42", 2)
    assert text.startswith("#### {0} {1} \u00b7 COMPLETED \u00b7 build `B42`".format(emoji, result))
    assert "_No host results._" in text
    assert "Why not PASS" not in text


def test_headline_of_a_result_it_does_not_know_and_of_a_request_still_running():
    verdict, sub = _verdict(result="BOGUS", sub_reasons=[], run_reasons=[], hosts=[], index=1)
    # 0 sub-runs in total: the request is still running, only the position is known
    text = render.render_subrun(verdict, sub, _settings(), "B42", 0)
    assert text.splitlines()[0] == "#### \u2754 BOGUS \u00b7 COMPLETED \u00b7 build `B42` \u00b7 sub-run 2 `linux`"


def test_headline_cuts_long_build_and_subrun_names():
    verdict, sub = _verdict(name="n" * 150, index=0)
    head = render.render_subrun(verdict, sub, _settings(), "b" * 150, 1).splitlines()[0]
    cut = "b" * 99 + post_text.ELLIPSIS
    assert head == "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `{0}` \u00b7 sub-run 1/1 `{1}`".format(
        cut, "n" * 99 + post_text.ELLIPSIS)


def test_empty_metadata_and_no_link():
    verdict, sub = _verdict(hosts=[])
    sub.run_url = None
    sub.duration_seconds = None
    text = render.render_subrun(verdict, sub, _settings(metadata={}), "B42", 3)
    assert "**Categorized:** yes" in text
    assert "Template" not in text and "Recorded run" not in text and "Duration" not in text


def test_cells_are_escaped():
    hosts = [models.HostVerdict(
        host="rhel|01", result=models.FAIL, os="RHEL\n9.6", kernel="5.14 | x",
        reasons=["line one\nline two | with pipe\r\nand crlf", "\x1b[31mred\x1b[0m text", "ping @channel and @ALL",
                 "C:\\Windows\\path"])]
    verdict, sub = _verdict(hosts=hosts, sub_reasons=["a\nmultiline | run reason"])
    text = render.render_subrun(verdict, sub, _settings(), "B42", 3)
    (row,) = _table_rows(text)
    assert len(UNESCAPED_PIPE.split(row)) == 8  # 6 cells between 7 real column separators
    assert row == ("| rhel\\|01 | RHEL 9.6 | 5.14 \\| x | \u274c FAIL | - / - / - / - / - | "
                   "line one line two \\| with pipe and crlf; red text; ping @\u200bchannel and @\u200bALL; "
                   "C:\\Windows\\path |")  # a backslash before a letter shows as it is (doubled, Mattermost shows two)
    assert "- a multiline | run reason" in text.splitlines()
    assert "\x1b" not in text
    assert "@channel" not in text and "@ALL" not in text


def test_long_reasons_in_a_cell_are_shortened_and_counted():
    reasons = ["reason {0} ".format(i) + "x" * 2000 for i in range(8)]
    hosts = [models.HostVerdict(host="h1", result=models.FAIL, reasons=reasons)]
    verdict, sub = _verdict(hosts=hosts)
    text = render.render_subrun(verdict, sub, _settings(), "B42", 3)
    (row,) = _table_rows(text)
    assert "\u2026 and 3 more" in row  # 5 reasons shown at the most detailed level
    assert row.count("\u2026;") == 5  # each shown reason cut with an ellipsis
    assert len(row) < 2500


def test_name_mismatch_is_shown():
    verdict, sub = _verdict()
    sub.name = "rhel96-fc-01"
    sub.name_mismatch = "label 'windows' does not match the hosts of the executed specs"
    text = render.render_subrun(verdict, sub, _settings(), "B42", 3)
    assert ("**Sub-run name:** `rhel96-fc-01` (label 'windows' does not match the hosts of the executed specs)"
            in text.splitlines())


# ---------------------------------------------------------------------------------------------
# possible duplicate
# ---------------------------------------------------------------------------------------------


def test_duplicate_note_on_top():
    verdict, sub = _verdict()
    text = render.render_subrun(verdict, sub, _settings(), "B42", 3, possible_duplicate=True)
    lines = text.splitlines()
    assert lines[0] == (":warning: possible duplicate: an earlier attempt to post this status may have reached "
                        "the channel.")
    assert lines[1].startswith("#### \u274c FAIL")
    plain = render.render_subrun(verdict, sub, _settings(), "B42", 3)
    assert "possible duplicate" not in plain
    assert post_text.add_duplicate_note(plain) == post_text.DUPLICATE_NOTE + "\n\n" + plain
    assert post_text.add_duplicate_note(post_text.add_duplicate_note(plain)) == post_text.add_duplicate_note(plain)


# ---------------------------------------------------------------------------------------------
# size cap
# ---------------------------------------------------------------------------------------------


def _big_verdict(n_hosts=500, reason_kb=10, n_reasons=40):
    big = "x" * (reason_kb * 1024)
    hosts = []
    for i in range(n_hosts):
        result = models.FAIL if i % 50 == 7 else models.PASS
        hosts.append(models.HostVerdict(
            host="vm-{0:03d}".format(i), result=result, os="RHEL 9.6", kernel="5.14.0-570.12.1.el9_6.x86_64",
            counts=models.Counts(12, 12 if result == models.PASS else 10, 0 if result == models.PASS else 2, 0, 0),
            reasons=["boot check failed: " + big, "second | reason\n" + big] if result == models.FAIL else []))
    return _verdict(hosts=hosts, sub_reasons=["run reason {0}: {1}".format(i, big) for i in range(n_reasons)])


@pytest.mark.parametrize("max_chars", [1000, 4000, 15000, 16383])
@pytest.mark.parametrize("duplicate", [False, True])
def test_size_cap_500_hosts_10kb_reasons(max_chars, duplicate):
    verdict, sub = _big_verdict()
    settings = _settings(max_post_chars=max_chars)
    text = render.render_subrun(verdict, sub, settings, "B42", 3, possible_duplicate=duplicate)
    assert len(text) <= max_chars
    if not duplicate:
        # room is kept for the note, so adding it later stays within the limit
        assert len(post_text.add_duplicate_note(text)) <= max_chars
    lines = text.splitlines()
    headline = "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `B42` \u00b7 sub-run 2/3 `linux`"
    assert lines[1 if duplicate else 0] == headline
    if duplicate:
        assert lines[0] == post_text.DUPLICATE_NOTE
    # whole rows only
    for line in lines:
        if line.startswith("|"):
            assert line.endswith("|") and len(UNESCAPED_PIPE.split(line)) == 8
    rows = _table_rows(text)
    more = re.search(r"^\u2026 and (\d+) more hosts \((\d+) FAIL, (\d+) PASS\)$|^\u2026 and (\d+) more hosts \((\d+) PASS\)$",
                     text, re.MULTILINE)
    assert more, text[-500:]
    dropped = int(more.group(1) or more.group(4))
    assert len(rows) + dropped == 500
    # failing hosts are kept before passing ones
    failing_rows = [r for r in rows if "\u274c FAIL" in r]
    assert len(failing_rows) == min(10, len(rows))
    assert re.search(r"^- \u2026 and \d+ more reasons$", text, re.MULTILINE)


def test_size_cap_keeps_everything_that_fits():
    verdict, sub = _big_verdict(n_hosts=20, reason_kb=0, n_reasons=2)
    text = render.render_subrun(verdict, sub, _settings(), "B42", 3)
    assert len(_table_rows(text)) == 20
    assert "more hosts" not in text and "more reasons" not in text


def test_default_max_post_chars_with_huge_verdict():
    verdict, sub = _big_verdict()
    settings = _settings()
    text = render.render_subrun(verdict, sub, settings, "B42", 3)
    assert len(text) <= settings.max_post_chars - len(post_text.DUPLICATE_NOTE) - 2
    assert len(_table_rows(text)) > 50  # the budget is used, not thrown away


# ---------------------------------------------------------------------------------------------
# operator template
# ---------------------------------------------------------------------------------------------


def test_operator_template():
    verdict, sub = _verdict()
    settings = _settings(message_template=str(TEMPLATES / "operator.md"))
    text = render.render_subrun(verdict, sub, settings, "B42", 3)
    lines = text.splitlines()
    assert lines[0] == "\u274c ATVM FAIL for B42 (COMPLETED) [2/3 linux]"  # empty $duplicate_note stripped
    assert "Took: 1h 02m 05s" in lines
    assert "Run: http://127.0.0.1:1234/runs/42" in lines
    assert "**Runner command:** `python3 ./run-sorry-cypress.py --config_file cypress.atvm-config-gold.ts " \
           "--build_name B42 --categorize`" in lines
    assert len(_table_rows(text)) == 4
    assert "- 1 of 4 spec(s) failed" in lines
    assert lines[-1] == "Literal dollar: $5, unknown placeholder kept: $not_a_placeholder"
    dup = render.render_subrun(verdict, sub, settings, "B42", 3, possible_duplicate=True)
    assert dup.splitlines()[0] == post_text.DUPLICATE_NOTE


def test_operator_template_without_duplicate_placeholder_still_shows_the_note(tmp_path):
    template = tmp_path / "t.md"
    template.write_text("${emoji} $result $build_name\n$hosts_table\n")
    verdict, sub = _verdict()
    settings = _settings(message_template=str(template))
    text = render.render_subrun(verdict, sub, settings, "B42", 3, possible_duplicate=True)
    assert text.startswith(post_text.DUPLICATE_NOTE + "\n\n\u274c FAIL B42\n| Host |")


def test_operator_template_is_size_capped(tmp_path):
    verdict, sub = _big_verdict()
    settings = _settings(message_template=str(TEMPLATES / "operator.md"), max_post_chars=5000)
    text = render.render_subrun(verdict, sub, settings, "B42", 3)
    assert len(text) <= 5000 - len(post_text.DUPLICATE_NOTE) - 2
    assert text.startswith("\u274c ATVM FAIL for B42")
    assert re.search(r"^\u2026 and \d+ more hosts", text, re.MULTILINE)
    # a template with a huge static text is cut at a line, the first line survives
    template = tmp_path / "huge.md"
    template.write_text("$emoji $result $build_name\n" + ("static line\n" * 2000))
    text = render.render_subrun(verdict, sub, _settings(message_template=str(template), max_post_chars=2000), "B42", 3)
    assert len(text) <= 2000
    assert text.startswith("\u274c FAIL B42\nstatic line\n")
    assert text.endswith(post_text.TRUNCATED_LINE)


def test_unreadable_template_is_a_config_error(tmp_path):
    verdict, sub = _verdict()
    missing = tmp_path / "missing.md"
    with pytest.raises(errors.ConfigError, match="cannot read message template {0}: No such file".format(
            re.escape(str(missing)))):
        render.render_subrun(verdict, sub, _settings(message_template=str(missing)), "B42", 3)
    binary = tmp_path / "binary.md"
    binary.write_bytes(b"\xff\xfe\xfa")
    with pytest.raises(errors.ConfigError, match="not UTF-8"):
        render.render_subrun(verdict, sub, _settings(message_template=str(binary)), "B42", 3)


# ---------------------------------------------------------------------------------------------
# safe text: mentions, the webhook, credentials, undecodable text
# ---------------------------------------------------------------------------------------------

WEBHOOK = "https://mm.example.com/hooks/fakehookk3q9zt7w"


def test_slack_style_and_at_mentions_are_defused_everywhere(tmp_path):
    hosts = [models.HostVerdict(host="h1", result=models.FAIL, reasons=["<!channel> look", "<!here>"])]
    verdict, sub = _verdict(hosts=hosts, sub_reasons=["ping <!all> and @HERE"], name="<!channel>")
    template = tmp_path / "t.md"
    template.write_text("@channel $result <!here>\n$reasons\n")
    for settings in (_settings(), _settings(message_template=str(template))):
        text = render.render_subrun(verdict, sub, settings, "B42", 3)
        for mention in ("<!channel>", "<!here>", "<!all>", "@HERE", "@channel"):
            assert mention not in text
        assert "<!\u200bhere>" in text and "@\u200bHERE" in text  # shown, not notifying


def test_the_webhook_in_evidence_is_redacted_from_the_post():
    hosts = [models.HostVerdict(host="h1", result=models.FAIL, reasons=["POST " + WEBHOOK + " failed"])]
    verdict, sub = _verdict(hosts=hosts, sub_reasons=["crash while posting to http://other:8065/hooks/abcdef12345"])
    settings = _settings(webhook=WEBHOOK)
    for text in (render.render_subrun(verdict, sub, settings, "B42", 3),):
        assert "k3q9zt7wbpf1xm5ye8rgo2ncud" not in text and "abcdef12345" not in text
        assert "/hooks/***" in text or "***" in text


def test_credentials_in_the_commands_are_hidden_in_the_post():
    meta = dict(METADATA, runner_command="python3 run.py --record-key 0f1e2d3c --env password=pw9,user=bob",
                template_command="tool --pin 4321 https://me:pa55@git.example/x")
    verdict, sub = _verdict()
    settings = _settings(metadata=meta, redact_names="pin")
    for text in (render.render_subrun(verdict, sub, settings, "B42", 3),):
        for secret in ("0f1e2d3c", "pw9", "4321", "pa55"):
            assert secret not in text
        assert "user=bob" in text and "git.example/x" in text


def test_lone_surrogates_anywhere_render_as_replacement_characters():
    hosts = [models.HostVerdict(host="h\udcff", result=models.FAIL, os="\ud83d", reasons=["x \ud83d"])]
    verdict, sub = _verdict(hosts=hosts, sub_reasons=["cut emoji \ud83d"], name="lin\udc80ux")
    settings = _settings(metadata=dict(METADATA, scope="a\ud800b"))
    for text in (render.render_subrun(verdict, sub, settings, "B42", 3),):
        text.encode("utf-8")
        assert "x \ufffd" in text

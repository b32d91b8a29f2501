# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Evidence is inert in posts: no image, link, autolinked URL or HTML tag from what the runner log,
the reporter artifacts, the JUnit reports or their file names say, in any string of the payload
or of the Markdown message; and the reader sees the characters the evidence is made of."""
from __future__ import annotations

import json
import pathlib
import re

import pytest
from hypothesis import HealthCheck, given, settings as hsettings, strategies as st
from markdown_it import MarkdownIt

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import attachment as post
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import text as post_text
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.offline import offline_verdict
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.live_markup import (
    live_markup, strings)
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.test_markdown import METADATA

TESTS = pathlib.Path(__file__).resolve().parents[5]
CRASH_LOG = TESTS / "fixtures" / "cypress" / "stdout" / "cy14-electron-renderer-crash.log"

IMAGE = "![x](http://tracker.example/pixel.png)"
LINK = "[Open report](http://reports.example/run/42)"
BARE = "http://tracker.example/beacon"
ALL_PLACEHOLDERS = "\n".join("$" + name for name in render.PLACEHOLDERS) + "\n"
# a plain http(s) URL (what the Cypress banner prints): the only link a post may hold
PLAIN_URL = re.compile(r"^https?://[A-Za-z0-9.-]+(?::[0-9]+)?(?:[/?#][A-Za-z0-9\-._~/?#%&=+,;:!$]*)?$")


def _everything(verdict, sub, tmp_path, **settings):
    """Every text a post of ``sub`` can be: the payload's strings, the verdict message, a template."""
    template = tmp_path / "all.md"
    template.write_text(ALL_PLACEHOLDERS, encoding="utf-8")
    base = config.Settings(**dict(dict(metadata=dict(METADATA)), **settings))
    texts = list(strings(post.build_post(verdict, sub, base, "B42", 3)))
    texts.append(render.render_subrun(verdict, sub, base, "B42", 3))
    with_template = config.Settings(**dict(dict(metadata=dict(METADATA), message_template=str(template)), **settings))
    texts.extend(strings(post.build_post(verdict, sub, with_template, "B42", 3)))
    return texts


def _allowed(sub):
    return [sub.run_url] if sub.run_url and PLAIN_URL.match(sub.run_url) else []


# ---------------------------------------------------------------------------------------------
# the examples, through the real readers (fault injection into a real Cypress log)
# ---------------------------------------------------------------------------------------------


def _evidence(tmp_path):
    """A real renderer-crash log with Markdown injected into the crash line and a Recorded Run line,
    reporter artifacts whose events and host hold an image and a link, an unreadable artifact and
    a JUnit report named like a link."""
    lines = CRASH_LOG.read_text(encoding="utf-8").splitlines(True)
    at = next(i for i, line in enumerate(lines) if "Renderer process just crashed" in line)
    lines[at] = "We detected that the Electron Renderer process just crashed. {0} {1} {2} <img src=x>\n".format(
        IMAGE, LINK, BARE)
    lines.insert(at + 1, "  Recorded Run: [x](http://tracker.example/run)\n")
    log = tmp_path / "runner.log"
    log.write_text("".join(lines), encoding="utf-8")
    reporter = tmp_path / "cmc"
    reporter.mkdir()
    (reporter / "rhel96-fc-01.json").write_text(json.dumps({
        "host": "rhel96-fc-01", "status": "FAIL", "stats": {"tests": 3, "passes": 2, "failures": 1, "pending": 0},
        "events": [["2026-11-27T10:40:00Z", "error", IMAGE + " boot check failed"],
                   {"type": "error", "message": "see " + LINK, "severity": "error"}]}), encoding="utf-8")
    (reporter / "win.json").write_text(json.dumps({
        "host": "[win](http://tracker.example/host)", "status": "PASS",
        "stats": {"tests": 3, "passes": 3, "failures": 0, "pending": 0}, "events": []}), encoding="utf-8")
    (reporter / "![x](http:tracker.example).json").write_text('{"host": "broken"', encoding="utf-8")
    junit = tmp_path / "results"
    junit.mkdir()
    (junit / "[Open report](report.html).xml").write_text(
        '<?xml version="1.0"?><testsuites tests="1" failures="1"><testsuite name="repro" tests="1" failures="1">'
        '<testcase name="t" classname="repro.cy.ts" file="repro.cy.ts"><failure message="{0}">x</failure>'
        '</testcase></testsuite></testsuites>'.format(IMAGE), encoding="utf-8")
    return log, reporter, junit


def test_images_and_links_from_log_reporter_junit_and_file_names_are_inert(tmp_path):
    log, reporter, junit = _evidence(tmp_path)
    doc = offline_verdict(config.Settings(metadata=dict(METADATA)), str(log), reporter_dir=str(reporter),
                          junit=str(junit), exit_code=1)
    [sub] = doc["subruns"]
    payload, message = sub["post"], sub["message"]
    text = payload["attachments"][0]["text"]
    # the evidence is there, every character of it, and none of it is live
    assert "`{0}`".format(IMAGE) in text and "`{0}`".format(BARE) in text
    assert "\\[Open `report](http://reports.example/run/42)`" in text
    assert "&lt;img src=x>" in text
    assert "JUnit XML \\[Open report\\](report.html).xml: 1 failure(s)/error(s)" in text
    assert "| `[win](http://tracker.example/host)` |" in text
    assert payload["attachments"][0]["fields"][-1] == {
        "title": "Recorded run", "value": "`[x](http://tracker.example/run)`", "short": False}
    for string in list(strings(payload)) + [message]:
        assert live_markup(string) == [], string


def test_every_place_evidence_is_shown_is_inert(tmp_path):
    evil = [IMAGE, LINK, BARE, "<b>bold</b>", "www.tracker.example", "me@tracker.example", "<http://t.example>",
            "# heading", "> quote", "`code`", "*em* _em_ ~~del~~", "a | b", "C:\\temp\\x", "mailto:a@b.example"]
    hosts = [models.HostVerdict(host=e, result=models.FAIL, os=e, kernel=e, reasons=[e, "x " + e]) for e in evil]
    sub = models.SubrunVerdict(index=1, name=IMAGE, state=models.COMPLETED, result=models.FAIL, hosts=hosts,
                               reasons=list(evil), run_url=LINK, name_mismatch=LINK, started_at=IMAGE, ended_at=LINK)
    ended = models.ExitInfo(known=True, running=False, exit_code=1, detail=LINK, source=IMAGE)
    verdict = models.RunVerdict(state=models.COMPLETED, result=models.FAIL, subruns=[sub], categorized=True,
                                reasons=list(evil), exit=ended)
    meta = dict(METADATA, scope=IMAGE, config_family=LINK, **{"extra " + LINK: IMAGE})
    for categorized in (True, False):
        verdict.categorized = categorized
        for max_chars in (16383, 2000):
            for text in _everything(verdict, sub, tmp_path, metadata=meta, max_post_chars=max_chars):
                assert live_markup(text) == [], text


def test_the_recorded_run_stays_a_link_only_when_it_is_a_plain_http_url():
    verdict, sub = _verdict_with_url("https://cloud.cypress.io/projects/pwxho8/runs/2")
    payload = post.build_post(verdict, sub, config.Settings(), "B42", 3)
    assert {"title": "Recorded run", "value": sub.run_url, "short": False} in payload["attachments"][0]["fields"]
    assert "**Recorded run:** " + sub.run_url in render.render_subrun(verdict, sub, config.Settings(), "B42", 3)
    for url in ("javascript:alert(1)", "http://x.example/a(b)", "https://user:pw@x.example/", "http://x/<b>",
                "ftp://x.example/f"):
        verdict, sub = _verdict_with_url(url)
        field = post.build_post(verdict, sub, config.Settings(), "B42", 3)["attachments"][0]["fields"][-1]
        assert field["value"].startswith("`") and live_markup(field["value"]) == []


def _verdict_with_url(url):
    sub = models.SubrunVerdict(index=0, name="linux", state=models.COMPLETED, result=models.PASS, run_url=url)
    return models.RunVerdict(state=models.COMPLETED, result=models.PASS, subruns=[sub]), sub


# ---------------------------------------------------------------------------------------------
# any evidence at all
# ---------------------------------------------------------------------------------------------

# the characters and pieces Markdown and Mattermost act on, and any text
_PIECES = st.sampled_from([
    "![", "](", "[", "]", "(", ")", "!", "<", ">", "`", "*", "_", "~", "#", "|", "\\", "&", ";", ":", "/", "@",
    ".", "-", "+", "=", "1.", " ", "\n", "\t", "http://", "https://", "HTTP://", "mailto:", "tel:", "www.",
    "www1.", ".com/", "x.io/", "a@b.example", "<img src=x>", "<http://x.example>", "<a@b.example>", "</p>",
    "<!-- c -->", "&lt;", "&#60;", "&amp;", "<!here>", "@channel", "javascript:", "[x]: http://y", "~~", "**",
    "__", "\u200b", "\u00a0", "é", "x", "report", "1", "\ud83d", "[Open report](report.html)", "![x](p.png)",
    "[a][b]", "[b]: c",
])
EVIDENCE = st.lists(st.one_of(_PIECES, st.text(max_size=8)), max_size=12).map("".join)


@st.composite
def _verdicts(draw):
    hosts = [models.HostVerdict(host=draw(EVIDENCE), result=draw(st.sampled_from([models.PASS, models.FAIL, models.MISSING])),
                                os=draw(EVIDENCE), kernel=draw(EVIDENCE), reasons=draw(st.lists(EVIDENCE, max_size=3)))
             for dummy in range(draw(st.integers(0, 3)))]
    sub = models.SubrunVerdict(index=draw(st.integers(0, 2)), name=draw(EVIDENCE), state=models.COMPLETED,
                               result=draw(st.sampled_from([models.PASS, models.FAIL])), hosts=hosts,
                               reasons=draw(st.lists(EVIDENCE, max_size=3)),
                               run_url=draw(st.one_of(EVIDENCE, st.just("http://127.0.0.1:1234/runs/42"))),
                               name_mismatch=draw(EVIDENCE), started_at=draw(EVIDENCE), ended_at=draw(EVIDENCE))
    verdict = models.RunVerdict(state=models.COMPLETED, result=sub.result, subruns=[sub],
                                reasons=draw(st.lists(EVIDENCE, max_size=3)), categorized=draw(st.booleans()),
                                exit=models.ExitInfo(known=True, running=False, exit_code=1, detail=draw(EVIDENCE),
                                                     source=draw(EVIDENCE)))
    metadata = {key: draw(EVIDENCE) for key in ("scope", "config_family", "runner_command")}
    metadata[draw(EVIDENCE)] = draw(EVIDENCE)
    return verdict, sub, metadata


@hsettings(max_examples=120, deadline=None,
           suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(drawn=_verdicts(), max_chars=st.sampled_from([600, 16383]))
def test_no_evidence_yields_an_image_a_link_html_or_an_autolinked_url(tmp_path, drawn, max_chars):
    verdict, sub, metadata = drawn
    for text in _everything(verdict, sub, tmp_path, metadata=metadata, max_post_chars=max_chars):
        assert live_markup(text, _allowed(sub)) == [], text


_MD = MarkdownIt("commonmark").enable(["table", "strikethrough"])


def _shown(markdown: str) -> str:
    """The characters a reader sees (text and code), as the parser renders them."""
    out = []
    for block in _MD.parse(markdown):
        for token in block.children or ():
            if token.type in ("text", "code_inline", "text_special"):
                out.append(token.content)
            elif token.type == "softbreak":
                out.append("\n")
    return "".join(out)


@hsettings(max_examples=300, deadline=None)
@given(EVIDENCE)
def test_the_reader_sees_the_characters_of_the_evidence(evidence):
    line = post_text.one_line(evidence)
    expected = line.replace("`", "'")
    assert _shown(post_text.inert(evidence)).replace("`", "'") == expected
    cell = _shown("| h |\n|---|\n| {0} |".format(post_text.inert(evidence, in_cell=True)))[1:].replace("`", "'")
    if "|" not in expected:
        assert cell == expected.strip()
    assert not re.search(r"(?<!\\)(?:\\\\)*\|", post_text.inert(evidence, in_cell=True).replace("\\|", ""))


@pytest.mark.parametrize("text,limit", [("a `http://x.example/long/path` b", 12), ("a \\[b", 4), ("`x` y", 2)])
def test_a_cut_never_opens_inline_code_nor_splits_an_escape(text, limit):
    cut = post_text.cut_markdown(text, limit)
    assert len(cut) <= limit and cut.endswith(post_text.ELLIPSIS)
    assert cut.count("`") % 2 == 0 and not cut[:-1].endswith("\\")

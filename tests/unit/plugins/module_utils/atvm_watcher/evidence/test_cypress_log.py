# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the Cypress console parser against the real corpus and crafted logs."""
from __future__ import annotations

import pathlib
import random
import re
from typing import Any, Dict, List, Optional

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import cypress_log
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import cypress_failures
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import signatures
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser, parse_log_file

HERE = pathlib.Path(__file__).resolve().parent
FIXTURES = HERE.parents[4] / "fixtures"
STDOUT = FIXTURES / "cypress" / "stdout"
LOGS = FIXTURES / "logs"


def _read(name: str) -> bytes:
    return (STDOUT / name).read_bytes()


def run(**kw: Any) -> Dict[str, Any]:
    """The expected reading of one Cypress run; whatever is not given has its empty value."""
    exp: Dict[str, Any] = {
        "label": None, "label_source": None, "cypress": None, "browser": None, "specs": [], "count": None,
        "parallel": None, "run_url": None, "recorded": None, "started": True, "specs_run": [], "current": None,
        "results": [], "finished": False, "rows": [], "all_passed": None, "failed_specs": None,
        "total_specs": None, "totals": (None, None, None, None, None), "problems": [], "flags": set(),
        "exit_text": None,
    }
    unknown = set(kw) - set(exp)
    assert not unknown, unknown
    exp.update(kw)
    return exp


def _counts(c) -> tuple:
    return (c.tests, c.passed, c.failed, c.pending, c.skipped)


def check(actual, exp: Dict[str, Any]) -> None:
    assert actual.label == exp["label"]
    assert actual.label_source == exp["label_source"]
    assert actual.cypress_version == exp["cypress"]
    assert actual.browser == exp["browser"]
    assert actual.specs_found == exp["specs"]
    assert actual.specs_found_count == exp["count"]
    assert actual.parallel == exp["parallel"]
    assert actual.run_url == exp["run_url"]
    assert actual.recorded_run_url == exp["recorded"]
    assert actual.started is exp["started"]
    assert actual.specs_run == exp["specs_run"]
    assert actual.current_spec == exp["current"]
    assert [(r.spec, r.status, r.duration) + _counts(r.counts) for r in actual.spec_results] == exp["results"]
    assert actual.finished is exp["finished"]
    assert [(r.spec, r.status, r.duration) + _counts(r.counts) for r in actual.finished_rows] == exp["rows"]
    assert actual.all_passed is exp["all_passed"]
    assert actual.failed_specs == exp["failed_specs"]
    assert actual.total_specs == exp["total_specs"]
    assert _counts(actual.totals) == exp["totals"]
    assert actual.problems == exp["problems"]
    flags = {f for f in ("crashed", "plugin_error", "canceled", "no_specs") if getattr(actual, f)}
    assert flags == exp["flags"]
    assert actual.exit_text == exp["exit_text"]
    assert (actual.end_offset is not None) is exp["finished"]


CY12 = ["UseCase.cy.ts", "article.cy.ts", "auth.cy.ts", "favorite.cy.ts", "follow.cy.ts", "home.cy.ts", "tag.cy.ts"]
CY12_RUN = dict(
    cypress="12.17.4", browser="Electron 106 (headless)", specs=CY12, count=7, specs_run=CY12,
    results=[("UseCase.cy.ts", "failed", "16 seconds", 5, 4, 1, 0, 0),
             ("article.cy.ts", "passed", "4 seconds", 3, 3, 0, 0, 0),
             ("auth.cy.ts", "passed", "8 seconds", 9, 9, 0, 0, 0),
             ("favorite.cy.ts", "passed", "1 second", 2, 2, 0, 0, 0),
             ("follow.cy.ts", "passed", "2 seconds", 2, 2, 0, 0, 0),
             ("home.cy.ts", "passed", "2 seconds", 7, 7, 0, 0, 0),
             ("tag.cy.ts", "passed", "1 second", 2, 2, 0, 0, 0)],
    finished=True,
    rows=[("UseCase.cy.ts", "failed", "00:16", 5, 4, 1, 0, 0),
          ("article.cy.ts", "passed", "00:04", 3, 3, 0, 0, 0),
          ("auth.cy.ts", "passed", "00:08", 9, 9, 0, 0, 0),
          ("favorite.cy.ts", "passed", "00:01", 2, 2, 0, 0, 0),
          ("follow.cy.ts", "passed", "00:02", 2, 2, 0, 0, 0),
          ("home.cy.ts", "passed", "00:02", 7, 7, 0, 0, 0),
          ("tag.cy.ts", "passed", "00:01", 2, 2, 0, 0, 0)],
    all_passed=False, failed_specs=1, total_specs=7, totals=(30, 29, 1, 0, 0),
)
CY9_SPECS = ["1-my-tests/api/users.spec.js", "1-my-tests/pages/index.spec.js"]
CRASH = "We detected that the Electron Renderer process just crashed."

# What a person reading each corpus log says about it: one entry per Cypress run, in log order.
CORPUS: Dict[str, List[Dict[str, Any]]] = {
    # hung component run: banner, the first spec started, then only vite debug output
    "cy10-component-vite-hang-no-results.log": [run(
        cypress="10.0.0", browser="Electron 100 (headless)",
        specs=["App.cy.jsx", "AppCompilationError.cy.jsx", "MissingReact.cy.jsx", "MissingReactInSpec.cy.jsx"],
        count=4, specs_run=["App.cy.jsx"], current="App.cy.jsx")],
    # a cucumber spec that registered no test: "All specs passed!" with zero tests
    "cy10-nx-cucumber-zero-tests-all-passed.log": [run(
        cypress="10.8.0", browser="Electron 102 (headless)", specs=["landing.feature"], count=1,
        specs_run=["landing.feature"], results=[("landing.feature", "passed", "0 seconds", 0, 0, 0, 0, 0)],
        finished=True, rows=[("landing.feature", "passed", "0ms", 0, 0, 0, 0, 0)],
        all_passed=True, failed_specs=0, total_specs=1, totals=(0, 0, 0, 0, 0))],
    # recorded run (Group: false, so no label), hook failures, ESC-less "[0m"/"[39m" remnants in the banner
    "cy11-recorded-hook-failures.log": [run(
        cypress="11.1.0", browser="Electron 106 (headless)", specs=["spec.cy.js"], count=1, parallel=False,
        run_url="https://dashboard.cypress.io/projects/wnkmbr/runs/3",
        recorded="https://dashboard.cypress.io/projects/wnkmbr/runs/3", specs_run=["spec.cy.js"],
        results=[("spec.cy.js", "failed", "0 seconds", 1, 0, 1, 0, 0)], finished=True,
        rows=[("spec.cy.js", "failed", "827ms", 1, 0, 1, 0, 0)],
        all_passed=False, failed_specs=1, total_specs=1, totals=(1, 0, 1, 0, 0))],
    # the same 7-spec run printed twice (the npm script ran twice): two runs, 1 of 7 failed each
    "cy12-seven-specs-one-failing.log": [run(**CY12_RUN), run(**CY12_RUN)],
    "cy13-gitlab-recorded-cloud-pass.log": [run(
        cypress="13.6.4", browser="Chrome 118 (headless)", specs=["login.cy.js"], count=1, parallel=False,
        run_url="https://cloud.cypress.io/projects/pwxho8/runs/2",
        recorded="https://cloud.cypress.io/projects/pwxho8/runs/2", specs_run=["login.cy.js"],
        results=[("login.cy.js", "passed", "14 seconds", 1, 1, 0, 0, 0)], finished=True,
        rows=[("login.cy.js", "passed", "00:14", 1, 1, 0, 0, 0)],
        all_passed=True, failed_specs=0, total_specs=1, totals=(1, 1, 0, 0, 0))],
    # Windows, headed Electron (no "(headless)"), "Warning: We failed to trash" is not a failure
    "cy13-windows-headed-mochawesome-one-failing.log": [run(
        cypress="13.17.0", browser="Electron 118", specs=["A_grblHal_master_spec.cy.js"], count=1,
        specs_run=["A_grblHal_master_spec.cy.js"],
        results=[("A_grblHal_master_spec.cy.js", "failed", "2 minutes, 31 seconds", 5, 4, 1, 0, 0)], finished=True,
        rows=[("A_grblHal_master_spec.cy.js", "failed", "02:31", 5, 4, 1, 0, 0)],
        all_passed=False, failed_specs=1, total_specs=1, totals=(5, 4, 1, 0, 0))],
    # renderer crash; the excerpt ends after the crashed spec's (Results) box
    "cy14-electron-renderer-crash.log": [run(
        cypress="14.5.4", browser="Electron 130 (headless)", specs=["repro.cy.ts"], count=1,
        specs_run=["repro.cy.ts"], results=[("repro.cy.ts", "failed", "1 second", 8, 0, 1, 0, 7)],
        problems=[CRASH], flags={"crashed"})],
    # after:run handler error in the plugins file: both specs ran, no (Run Finished) table
    "cy14-windows-after-run-error-no-run-finished.log": [run(
        cypress="14.5.2", browser="Electron 130 (headless)", specs=["home.spec.cy.js", "spec.cy.js"], count=2,
        specs_run=["home.spec.cy.js", "spec.cy.js"],
        results=[("home.spec.cy.js", "failed", "1 minute, 8 seconds", 7, 0, 7, 0, 0),
                 ("spec.cy.js", "passed", "2 seconds", 1, 1, 0, 0, 0)],
        problems=["An error was thrown in your plugins file while executing the handler for the after:run event."],
        flags={"plugin_error"})],
    # a first invocation interrupted at test 10 (the PowerShell prompt comes back), then a complete re-run
    "cy14-windows-chrome-retries-18-failing.log": [
        run(cypress="14.5.4", browser="Chrome 148 (headless)", specs=["cart.cy.js"], count=1,
            specs_run=["cart.cy.js"], current="cart.cy.js"),
        run(cypress="14.5.4", browser="Chrome 148 (headless)", specs=["cart.cy.js"], count=1,
            specs_run=["cart.cy.js"], results=[("cart.cy.js", "failed", "17 minutes, 2 seconds", 28, 10, 18, 0, 0)],
            finished=True, rows=[("cart.cy.js", "failed", "17:02", 28, 10, 18, 0, 0)],
            all_passed=False, failed_specs=1, total_specs=1, totals=(28, 10, 18, 0, 0))],
    # raw ANSI output, "tput" noise between "(Run Finished)" and the table
    "cy15-ansi-gha-beforeeach-fail-43-skipped.log": [run(
        cypress="15.7.0", browser="Electron 138 (headless)", specs=["01-authentication.cy.js"], count=1,
        specs_run=["01-authentication.cy.js"],
        results=[("01-authentication.cy.js", "failed", "0 seconds", 44, 0, 1, 0, 43)], finished=True,
        rows=[("01-authentication.cy.js", "failed", "395ms", 44, 0, 1, 0, 43)],
        all_passed=False, failed_specs=1, total_specs=1, totals=(44, 0, 1, 0, 43))],
    "cy15-three-specs-two-failing-one-pending.log": [run(
        cypress="15.17.0", browser="Chrome 148 (headless)",
        specs=["completar-cadastro.cy.ts", "criar-conta.cy.ts", "submeter-proposta.cy.ts"], count=3,
        specs_run=["completar-cadastro.cy.ts", "criar-conta.cy.ts", "submeter-proposta.cy.ts"],
        results=[("completar-cadastro.cy.ts", "passed", "41 seconds", 5, 5, 0, 0, 0),
                 ("criar-conta.cy.ts", "failed", "13 seconds", 2, 1, 1, 0, 0),
                 ("submeter-proposta.cy.ts", "failed", "1 minute, 7 seconds", 4, 2, 1, 1, 0)],
        finished=True,
        rows=[("completar-cadastro.cy.ts", "passed", "00:41", 5, 5, 0, 0, 0),
              ("criar-conta.cy.ts", "failed", "00:13", 2, 1, 1, 0, 0),
              ("submeter-proposta.cy.ts", "failed", "01:07", 4, 2, 1, 1, 0)],
        all_passed=False, failed_specs=2, total_specs=3, totals=(11, 8, 2, 1, 0))],
    "cy9-jenkins-two-specs-one-failing.log": [run(
        cypress="9.4.1", browser="Electron 94 (headless)", specs=CY9_SPECS, count=2, specs_run=CY9_SPECS,
        results=[(CY9_SPECS[0], "failed", "8 seconds", 11, 0, 11, 0, 0),
                 (CY9_SPECS[1], "passed", "1 second", 1, 1, 0, 0, 0)],
        finished=True,
        rows=[(CY9_SPECS[0], "failed", "00:08", 11, 0, 11, 0, 0), (CY9_SPECS[1], "passed", "00:01", 1, 1, 0, 0, 0)],
        all_passed=False, failed_specs=1, total_specs=2, totals=(12, 1, 11, 0, 0))],
    # Chromium "Failed to connect to the bus" noise is not a failure text
    "cy9-jenkins-two-specs-pass.log": [run(
        cypress="9.4.1", browser="Electron 94 (headless)", specs=CY9_SPECS, count=2, specs_run=CY9_SPECS,
        results=[(CY9_SPECS[0], "passed", "5 seconds", 11, 11, 0, 0, 0),
                 (CY9_SPECS[1], "passed", "1 second", 1, 1, 0, 0, 0)],
        finished=True,
        rows=[(CY9_SPECS[0], "passed", "00:05", 11, 11, 0, 0, 0), (CY9_SPECS[1], "passed", "00:01", 1, 1, 0, 0, 0)],
        all_passed=True, failed_specs=0, total_specs=2, totals=(12, 12, 0, 0, 0))],
    # renderer crash in spec 1, Cypress goes on with spec 2 and prints the whole table
    "snapshot-cy13-electron-tab-crash-continues-run-finished.log": [run(
        cypress="1.2.3", browser="FooBrowser 88", specs=["chrome_tab_crash.cy.js", "simple.cy.js"], count=2,
        specs_run=["chrome_tab_crash.cy.js", "simple.cy.js"],
        results=[("chrome_tab_crash.cy.js", "failed", "X seconds", 2, 1, 1, 0, 0),
                 ("simple.cy.js", "passed", "X seconds", 1, 1, 0, 0, 0)],
        finished=True,
        rows=[("chrome_tab_crash.cy.js", "failed", "XX:XX", 2, 1, 1, 0, 0),
              ("simple.cy.js", "passed", "XX:XX", 1, 1, 0, 0, 0)],
        all_passed=False, failed_specs=1, total_specs=2, totals=(3, 2, 1, 0, 0),
        problems=[CRASH], flags={"crashed"})],
    # parallel recorded run, Group abc, canceled: first spec SKIPPED, summary "The run was canceled"
    "snapshot-cy13-parallel-group-run-canceled.log": [run(
        label="abc", label_source="group", cypress="1.2.3", browser="FooBrowser 88",
        specs=["a_record_instantfail.cy.js", "b_record.cy.js"], count=2, parallel=True,
        run_url="https://dashboard.cypress.io/projects/cjvoj7/runs/12",
        recorded="https://dashboard.cypress.io/projects/cjvoj7/runs/12",
        specs_run=["a_record_instantfail.cy.js", "b_record.cy.js"],
        results=[("b_record.cy.js", "passed", "X seconds", 1, 1, 0, 0, 0)], finished=True,
        rows=[("a_record_instantfail.cy.js", "skipped", None, 0, 0, 0, 0, 0),
              ("b_record.cy.js", "passed", "XX:XX", 1, 1, 0, 0, 0)],
        all_passed=False, failed_specs=0, total_specs=2, totals=(1, 1, 0, 0, 0),
        problems=["This spec and its tests were skipped because the run has been canceled.",
                  "The run was canceled",
                  "Exiting with non-zero exit code because the run was canceled."],
        flags={"canceled"}, exit_text="Exiting with non-zero exit code because the run was canceled.")],
}


def test_every_corpus_log_has_an_expected_reading():
    assert sorted(p.name for p in STDOUT.glob("*.log")) == sorted(CORPUS)


def _line_start(data: bytes, pos: int) -> int:
    return data.rfind(b"\n", 0, pos) + 1


def _expected_offsets(data: bytes):
    """Offsets found independently: each "Run Starting" line, and the line after each summary row."""
    starts = [_line_start(data, m.start()) for m in re.finditer(rb"Run Starting", data)]
    ends = []
    for m in re.finditer(rb"Run Finished", data):
        summary = re.compile(rb"All specs passed!|\d+ of \d+ failed \(\d+%\)|The run was canceled").search(data, m.end())
        ends.append(data.index(b"\n", summary.end()) + 1)
    return starts, ends


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_corpus_reading(name):
    data = _read(name)
    parser = parse_log_file(str(STDOUT / name))
    assert parser.preamble_problems == []
    expected = CORPUS[name]
    assert len(parser.runs) == len(expected)
    for index, (actual, exp) in enumerate(zip(parser.runs, expected)):
        assert actual.index == index
        check(actual, exp)
    starts, ends = _expected_offsets(data)
    assert [r.start_offset for r in parser.runs] == starts
    assert [r.end_offset for r in parser.runs if r.finished] == ends
    assert parser.offset == len(data)


def _dicts(parser: CypressLogParser, offsets: bool = True) -> List[Dict[str, Any]]:
    out = []
    for r in parser.runs:
        d = r.to_dict()
        if not offsets:
            d.pop("start_offset")
            d.pop("end_offset")
        out.append(d)
    return out


def _feed(data: bytes, sizes, marker_regex: Optional[str] = config.DEFAULT_MARKER_REGEX) -> CypressLogParser:
    parser = CypressLogParser(marker_regex)
    pos = 0
    sizes = iter(sizes)
    while pos < len(data):
        size = next(sizes)
        parser.feed(data[pos:pos + size])
        pos += size
    parser.finish()
    return parser


def _whole(data: bytes, marker_regex: Optional[str] = config.DEFAULT_MARKER_REGEX) -> CypressLogParser:
    parser = CypressLogParser(marker_regex)
    parser.feed(data)
    parser.finish()
    return parser


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_chunk_sizes_give_identical_results(name):
    data = _read(name)
    reference = _whole(data)
    rng = random.Random(name)
    for sizes in ([1] * len(data), [7] * len(data), [65536] * (len(data) // 65536 + 1),
                  [rng.randint(1, 5000) for _i in range(len(data))]):
        parser = _feed(data, sizes)
        assert _dicts(parser) == _dicts(reference)
        assert parser.preamble_problems == reference.preamble_problems


# ------------------------------------------------------------------------------ hostile bytes
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_crlf_lines_read_the_same(name):
    data = _read(name)
    assert b"\r\n" not in data
    assert _dicts(_whole(data.replace(b"\n", b"\r\n")), offsets=False) == _dicts(_whole(data), offsets=False)


def _colourize(data: bytes) -> bytes:
    """Colour a plain log the way Cypress does on a colour terminal (cf. the cy15 corpus log)."""
    text = data.decode("utf-8")
    for word in ("Run Starting", "Results", "Run Finished"):
        text = text.replace("({0})".format(word), "(\x1b[4m\x1b[1m{0}\x1b[22m\x1b[24m)".format(word))
    for ch in "\u2500\u2502\u250c\u2510\u2514\u2518\u251c\u2524":
        text = text.replace(ch, "\x1b[90m{0}\x1b[39m".format(ch))
    text = text.replace("\u2714", "\x1b[32m\u2714\x1b[39m").replace("\u2716", "\x1b[31m\u2716\x1b[39m")
    text = re.sub(r"(Running:\s+)(\S+)", lambda m: m.group(1) + "\x1b[90m" + m.group(2) + "\x1b[39m", text)
    text = re.sub(r"\b(\d+)\b", "\x1b[31m\\1\x1b[39m", text)
    return "\n".join("\x1b[0m" + line + "\x1b[0m" if line.strip() else line for line in text.split("\n")).encode()


@pytest.mark.parametrize("name", [n for n in sorted(CORPUS) if b"\x1b" not in _read(n)])
def test_ansi_coloured_output_reads_the_same(name):
    data = _read(name)
    coloured = _colourize(data)
    assert coloured.count(b"\x1b[") > 100
    assert _dicts(_whole(coloured), offsets=False) == _dicts(_whole(data), offsets=False)


def _with_garbage(data: bytes, seed: str) -> bytes:
    """Insert lines of binary garbage (invalid UTF-8, NUL, control bytes) after blank lines."""
    rng = random.Random(seed)
    out = []
    for i, line in enumerate(data.split(b"\n")):
        out.append(line)
        if not line.strip() and i % 3 == 0:
            junk = bytes(rng.choice([b for b in range(256) if b != 10]) for _i in range(rng.randint(1, 300)))
            out.append(b"\x00\xff\xfe\x80\x1b[" + junk + b"\xc3")
    return b"\n".join(out)


@pytest.mark.parametrize("name", sorted(CORPUS))
def test_invalid_utf8_nul_and_binary_garbage_lines(name):
    data = _read(name)
    dirty = _with_garbage(data, name)
    assert len(dirty) > len(data) or b"\n\n" not in data
    assert _dicts(_whole(dirty), offsets=False) == _dicts(_whole(data), offsets=False)


def test_multi_megabyte_line_keeps_memory_bounded():
    first = _read("cy9-jenkins-two-specs-pass.log")
    second = _read("cy15-three-specs-two-failing-one-pending.log")
    huge = b"\x00garbage " + b"x" * (6 * 1024 * 1024) + b" (Run Starting) " + b"y" * 1000
    data = first + huge + b"\n" + second
    parser = CypressLogParser()
    peak = 0
    for pos in range(0, len(data), 65536):
        parser.feed(data[pos:pos + 65536])
        peak = max(peak, parser.buffered)
    parser.finish()
    assert peak <= parser.line_cap == cypress_log.LINE_CAP
    assert parser.buffered == 0
    # the "(Run Starting)" deep inside the 6 MB line is beyond the line cap: ignored
    assert [r.finished for r in parser.runs] == [True, True]
    assert [r.all_passed for r in parser.runs] == [True, False]
    assert parser.runs[1].start_offset == len(first) + len(huge) + 1 + second.index(b"  (Run Starting)")
    # the same bytes in one feed() call
    assert _dicts(_whole(data)) == _dicts(parser)


def test_long_line_without_newline_at_end_is_bounded():
    parser = CypressLogParser(line_cap=4096)
    parser.feed(_read("cy9-jenkins-two-specs-pass.log"))
    parser.feed(b"z" * (3 * 1024 * 1024))
    assert parser.buffered == 4096
    parser.finish()
    assert parser.buffered == 0
    assert len(parser.runs) == 1 and parser.runs[0].finished


# ------------------------------------------------------------------------------ several runs
def _marker(label: str) -> bytes:
    return "===== ATVM category: {0} =====\n".format(label).encode()


def test_runs_with_wrapper_markers():
    parts = [
        (_marker("linux-rhel"), "cy9-jenkins-two-specs-pass.log"),
        (_marker("windows-2022"), "cy15-three-specs-two-failing-one-pending.log"),
        (_marker("no-run-here"), None),
        (b"\x1b[1m" + _marker("recorded").rstrip(b"\n") + b"\x1b[0m\r\n", "snapshot-cy13-parallel-group-run-canceled.log"),
        (_marker("tail-without-run"), None),
    ]
    data = b""
    marker_offsets = []
    for marker, name in parts:
        marker_offsets.append(len(data))
        data += marker
        if name:
            data += _read(name)
    parser = _whole(data)
    runs = parser.runs
    # "no-run-here" printed nothing before the next marker: no group ran, it is a stray marker
    assert [r.label for r in runs] == ["linux-rhel", "windows-2022", "recorded", "tail-without-run"]
    assert (parser.stray_markers.count, parser.stray_markers.labels) == (1, ["no-run-here"])
    assert [r.label_source for r in runs] == ["marker"] * 4
    assert [r.started for r in runs] == [True, True, True, False]
    assert [r.finished for r in runs] == [True, True, True, False]
    assert [r.all_passed for r in runs] == [True, False, False, None]
    assert [r.start_offset for r in runs] == [marker_offsets[i] for i in (0, 1, 3, 4)]
    assert runs[2].parallel is True and runs[2].canceled  # its "Group: abc" does not replace the marker label
    assert runs[3].specs_run == []
    assert runs[1].end_offset < runs[2].start_offset
    # each run knows the line that opened it: the marker, cleaned of ANSI codes and CR
    assert [r.opened_by for r in runs] == [cypress_log.digest("===== ATVM category: {0} =====".format(label))
                                           for label in ("linux-rhel", "windows-2022", "recorded", "tail-without-run")]
    assert _dicts(_feed(data, [997] * len(data))) == _dicts(parser)


def test_stray_markers_are_counted_once_and_make_no_run():
    lines = b"".join(_marker("g{0}".format(i)) for i in range(400))
    parser = _whole(lines + _marker("real") + _read("cy9-jenkins-two-specs-pass.log"))
    assert [(r.label, r.finished, r.all_passed) for r in parser.runs] == [("real", True, True)]
    assert parser.stray_markers.count == 400
    assert parser.stray_markers.labels == ["g{0}".format(i) for i in range(cypress_log.MAX_STRAY_LABELS)]


def test_a_marker_followed_by_a_failure_is_a_group_that_failed():
    data = (_marker("g1") + b"connecting to the director at https://director.example.invalid\n"
            + b"ERROR: cannot reach the director: connection refused\n"
            + _marker("g2") + _read("cy13-gitlab-recorded-cloud-pass.log"))
    parser = _whole(data)
    first, second = parser.runs
    assert (first.label, first.started, first.problems) == (
        "g1", False, ["ERROR: cannot reach the director: connection refused"])
    assert (second.label, second.finished, second.all_passed) == ("g2", True, True)
    assert parser.stray_markers.count == 0
    # the same with a Cypress failure text: a run with its flag
    parser = _whole(_marker("g1") + b"Can't run because no spec files were found.\n" + _marker("g2"))
    assert [(r.label, r.no_specs) for r in parser.runs] == [("g1", True), ("g2", False)]


def test_a_long_stretch_of_output_under_a_marker_is_a_group_that_ran():
    noise = b"".join(b"npm http fetch GET 200 https://registry.example.invalid/pkg-%d 12ms\n" % i
                     for i in range(cypress_log.PENDING_LINES + 1))
    parser = _whole(_marker("g1") + noise + _marker("g2"))
    assert [r.label for r in parser.runs] == ["g1", "g2"]
    assert [r.started for r in parser.runs] == [False, False]
    parser = _whole(_marker("g1") + b"".join(noise.splitlines(True)[:30]) + _marker("g2"))
    assert [r.label for r in parser.runs] == ["g2"] and parser.stray_markers.count == 1


def test_first_index_numbers_the_runs_of_a_resumed_parser():
    data = _read("cy12-seven-specs-one-failing.log")
    parser = CypressLogParser(first_index=5)
    parser.feed(data)
    parser.finish()
    assert [r.index for r in parser.runs] == [5, 6]
    assert [r.to_dict() for r in parser.runs] == [dict(r.to_dict(), index=r.index + 5) for r in _whole(data).runs]
    parser.reset()
    parser.feed(_read("cy9-jenkins-two-specs-pass.log"))
    assert [r.index for r in parser.runs] == [5]


def test_opened_by_of_a_banner_is_its_first_line_without_prefixes_and_colour():
    data = _read("cy9-jenkins-two-specs-pass.log")
    plain = _whole(data).runs[0].opened_by
    assert plain == cypress_log.digest("(Run Starting)") and len(plain) == 16
    prefixed = b"".join(b"2024-05-01T10:00:00.1234567Z " + line for line in data.splitlines(True))
    coloured = data.replace(b"(Run Starting)", b"(\x1b[4m\x1b[1mRun Starting\x1b[22m\x1b[24m)")
    assert _whole(prefixed).runs[0].opened_by == plain == _whole(coloured).runs[0].opened_by


def test_runs_without_markers_use_group_labels():
    names = ["cy9-jenkins-two-specs-pass.log", "snapshot-cy13-parallel-group-run-canceled.log",
             "cy15-three-specs-two-failing-one-pending.log", "cy13-gitlab-recorded-cloud-pass.log"]
    data = b"".join(_read(n) for n in names)
    runs = _whole(data).runs
    assert len(runs) == 4
    assert [r.label for r in runs] == [None, "abc", None, None]
    assert [r.label_source for r in runs] == [None, "group", None, None]
    assert [r.all_passed for r in runs] == [True, False, False, True]
    assert [r.totals.tests for r in runs] == [12, 1, 11, 1]
    assert [r.start_offset for r in runs] == _expected_offsets(data)[0]


def test_markers_disabled():
    data = _marker("ignored") + _read("cy9-jenkins-two-specs-pass.log")
    runs = _whole(data, marker_regex=None).runs
    assert len(runs) == 1 and runs[0].label is None and runs[0].start_offset > 0


def test_custom_marker_regex_without_literal_checks_every_line():
    regex = r"^#+\s*(?P<label>[a-z]+)\s*#+$"
    assert signatures.required_literal(regex) is None
    data = b"## alpha ##\n" + _read("cy9-jenkins-two-specs-pass.log") + b"### beta ###\n"
    runs = _whole(data, marker_regex=regex).runs
    assert [(r.label, r.started, r.finished) for r in runs] == [("alpha", True, True), ("beta", False, False)]


@pytest.mark.parametrize("regex, literal", [
    (config.DEFAULT_MARKER_REGEX, " ATVM category: "),
    (r"^>>> sub-run (?P<label>\S+) starting <<<$", " starting <<<"),
    (r"RUN\s+(?P<label>\w+)", "RUN"),
    (r"(?i)category: (?P<label>\w+)", None),
    (r"(?P<label>a|b)|c", None),
    (r"^\[wrapper\] group=(?P<label>[\w-]+)$", "[wrapper] group="),
])
def test_required_literal(regex, literal):
    assert signatures.required_literal(regex) == literal


@pytest.mark.parametrize("regex", [r"(unclosed", r"no label group (\w+)"])
def test_bad_marker_regex_is_a_config_error(regex):
    with pytest.raises(errors.ConfigError):
        CypressLogParser(regex)


# ------------------------------------------------------------------------------ failure texts
BANNER = (
    b"  (Run Starting)\n\n"
    b"  \xe2\x94\x8c" + b"\xe2\x94\x80" * 10 + b"\xe2\x94\x90\n"
    b"  \xe2\x94\x82 Cypress:        12.17.4      \xe2\x94\x82\n"
    b"  \xe2\x94\x82 Specs:          1 found (rhel96-fc-01.cy.ts) \xe2\x94\x82\n"
    b"  \xe2\x94\x94" + b"\xe2\x94\x80" * 10 + b"\xe2\x94\x98\n\n"
    b"  Running:  rhel96-fc-01.cy.ts                                   (1 of 1)\n"
)


def test_failures_before_start_belong_to_the_marked_run_or_the_preamble():
    lone = _whole(b"Can't run because no spec files were found.\n\nWe searched for specs inside of this folder:\n")
    assert lone.runs == []
    assert lone.preamble_problems == ["Can't run because no spec files were found."]

    data = (_marker("cfg")
            + b"Your \x1b[33mconfigFile\x1b[39m threw an error from: /root/cdc/cypress.config.ts\n\n"
            + b"We stopped running your tests because your config file crashed.\n"
            + _marker("nospecs")
            + b"Can't run because \x1b[94mno spec files\x1b[39m were found.\n"
            + _marker("disconnect") + BANNER
            + b"    \xe2\x9c\x93 boots (3000ms)\n"
            + b"The automation client disconnected. Cannot continue running tests.\n"
            + _marker("timeout") + BANNER
            + b"Timed out waiting for the browser to connect. Retrying...\n"
            + b"The browser never connected. Something is wrong. The tests cannot run. Aborting...\n"
            + _marker("plugins")
            + b"An error was thrown in your plugins file while executing the handler for the "
            + b"\x1b[34mbefore:run\x1b[39m event.\n")
    parser = _whole(data)
    assert parser.preamble_problems == []
    cfg, nospecs, disconnect, timeout, plugins = parser.runs
    assert (cfg.started, cfg.plugin_error, cfg.crashed) == (False, True, False)
    assert cfg.problems == ["Your configFile threw an error from: /root/cdc/cypress.config.ts",
                            "We stopped running your tests because your config file crashed."]
    assert (nospecs.started, nospecs.no_specs, nospecs.problems) == (
        False, True, ["Can't run because no spec files were found."])
    assert (disconnect.started, disconnect.finished, disconnect.crashed) == (True, False, True)
    assert disconnect.current_spec == "rhel96-fc-01.cy.ts"
    assert disconnect.cypress_version == "12.17.4" and disconnect.specs_found == ["rhel96-fc-01.cy.ts"]
    assert disconnect.problems == ["The automation client disconnected. Cannot continue running tests."]
    assert timeout.crashed and timeout.problems == [
        "Timed out waiting for the browser to connect. Retrying...",
        "The browser never connected. Something is wrong. The tests cannot run. Aborting..."]
    assert plugins.plugin_error and not plugins.started
    assert plugins.problems == [
        "An error was thrown in your plugins file while executing the handler for the before:run event."]


def test_retried_browser_connection_is_recorded_without_a_flag():
    parser = _whole(BANNER + b"Timed out waiting for the browser to connect. Retrying...\n")
    run = parser.runs[0]
    assert run.problems == ["Timed out waiting for the browser to connect. Retrying..."]
    assert not (run.crashed or run.plugin_error or run.canceled or run.no_specs)


def test_ordinary_output_mentioning_the_words_is_not_a_failure():
    data = BANNER + (
        b"    \xe2\x9c\x93 VM rhel96 has not crashed after cutover (2000ms)\n"
        b"    \xe2\x9c\x93 order canceled by the user is refunded (10ms)\n"
        b"[app] Device connected.\n"
        b"  vite:config   configFile: undefined,\n"
        b"Your changes were saved\n"
        b"[12026:ERROR:bus.cc(392)] Failed to connect to the bus: Failed to connect to socket\n")
    run = _whole(data).runs[0]
    assert run.problems == []
    assert not (run.crashed or run.plugin_error or run.canceled or run.no_specs)


def test_repeated_failure_text_is_recorded_once_and_bounded():
    lines = b"".join(b"Timed out waiting for the browser to connect. Retrying (%d)...\n" % i for i in range(200))
    run = _whole(BANNER + lines * 2).runs[0]
    assert len(run.problems) == cypress_failures.MAX_PROBLEMS
    assert run.problems[0] == "Timed out waiting for the browser to connect. Retrying (0)..."


# ------------------------------------------------------------------------------ wrapped names
def test_wrapped_spec_names_in_banner_running_results_and_run_finished_rows():
    parser = parse_log_file(str(LOGS / "wrapped-spec-names.log"))
    long_spec = "migration/linux/rhel96-fc-01-online-cutover-with-storage-and-network-remap.cy.ts"
    specs = [long_spec, "migration/windows/win2022-dc-02.cy.ts", "migration/windows/win2019-sql-03-offline.cy.ts"]
    first, many = parser.runs
    check(first, run(
        label="linux-wrapped", label_source="marker", cypress="13.6.4", browser="Electron 118 (headless)",
        specs=specs, count=3, specs_run=specs,
        results=[(specs[0], "passed", "1 minute, 1 second", 1, 1, 0, 0, 0),
                 (specs[1], "passed", "7 seconds", 2, 2, 0, 0, 0),
                 (specs[2], "failed", "9 seconds", 2, 1, 1, 0, 0)],
        finished=True,
        rows=[(specs[0], "passed", "01:01", 1, 1, 0, 0, 0),
              (specs[1], "passed", "00:07", 2, 2, 0, 0, 0),
              (specs[2], "failed", "00:09", 2, 1, 1, 0, 0)],
        all_passed=False, failed_specs=1, total_specs=3, totals=(5, 4, 1, 0, 0)))
    hosts = ["migration/linux/host-%02d-%s.cy.ts" % (i, "x" * 20) for i in range(1, 10)]
    check(many, run(
        label="linux-many", label_source="marker", cypress="13.6.4", browser="Electron 118 (headless)",
        specs=hosts[:4], count=9, parallel=False, specs_run=hosts,
        results=[(h, "passed", "1 second", 1, 1, 0, 0, 0) for h in hosts], finished=True,
        rows=[(h, "passed", "00:01", 1, 1, 0, 0, 0) for h in hosts],
        all_passed=True, failed_specs=0, total_specs=9, totals=(9, 9, 0, 0, 0)))


# ------------------------------------------------------------------------------ incremental use
def test_live_feeding_shows_progress_and_finish_flushes_the_last_line():
    data = _read("cy12-seven-specs-one-failing.log")
    second_run = data.index(b"(Run Starting)", data.index(b"(Run Finished)"))
    cut = data.index(b"\n", data.index(b"Running:  auth.cy.ts", second_run)) + 1
    parser = CypressLogParser()
    parser.feed(data[:cut - 30])
    assert parser.runs[1].current_spec is None  # the Running: line is not complete yet
    parser.feed(data[cut - 30:cut])
    first, current = parser.runs
    assert first.finished and not current.finished and current.started
    assert current.current_spec == "auth.cy.ts"
    assert [r.spec for r in current.spec_results] == ["UseCase.cy.ts", "article.cy.ts"]
    rest = data[cut:].rstrip(b"\n")  # the summary row arrives without its newline
    parser.feed(rest)
    assert not current.finished
    parser.finish()
    assert current.finished and current.end_offset == cut + len(rest)
    assert current.totals.tests == 30


def test_reset_forgets_everything():
    parser = CypressLogParser()
    parser.feed(_read("cy9-jenkins-two-specs-pass.log")[:-10])
    assert parser.runs and parser.buffered
    parser.reset()
    assert parser.runs == [] and parser.preamble_problems == [] and parser.offset == 0 and parser.buffered == 0
    parser.feed(_read("cy13-gitlab-recorded-cloud-pass.log"))
    parser.finish()
    assert len(parser.runs) == 1 and parser.runs[0].all_passed is True


def test_parse_log_file_missing_is_an_input_error(tmp_path):
    with pytest.raises(errors.InputError):
        parse_log_file(str(tmp_path / "nope.log"))

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The real logs read the same through what people and tools do to them: prefixes before every line,
blank lines lost in a paste, the output of several runs interleaved, other encodings; and text that is
not a failure is not read as one. Property tests (hypothesis) on the real logs of fixtures/cypress."""
from __future__ import annotations

import codecs
import pathlib
import random
import re
from typing import Any, Dict, List, Tuple

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.rules import (
    INTERLEAVED, NOT_FINISHED, Evidence, decide, log_reasons,
)
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import cypress_log
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.evidence.test_log_normalisation import read

FIXTURES = pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "cypress"
FOLDERS = ("stdout", "stdout-real", "stdout-real2", "stdout-found")
# Every UTF-8 real log (the UTF-16 ones are read in test_cypress_log_real.py).
LOGS: Dict[str, bytes] = {
    "{0}/{1}".format(folder, path.name): path.read_bytes()
    for folder in FOLDERS for path in sorted((FIXTURES / folder).glob("*.log"))
    if not path.read_bytes().startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE))
}
# Complete runs that passed, and logs where something failed (a careful reader says so: see
# test_cypress_log.py and test_cypress_log_real.py for their readings).
PASSING = ["stdout/cy9-jenkins-two-specs-pass.log", "stdout/cy13-gitlab-recorded-cloud-pass.log", "stdout-real/real-01.log",
           "stdout-real/real-03.log", "stdout-real/real-04.log", "stdout-real/real-13.log", "stdout-real/real-19.log",
           "stdout-real2/real2-02.log", "stdout-real2/real2-05.log", "stdout-real2/real2-07.log",
           "stdout-real2/real2-08.log"]
FAILING = ["stdout/cy9-jenkins-two-specs-one-failing.log", "stdout/cy15-three-specs-two-failing-one-pending.log",
           "stdout/cy14-windows-after-run-error-no-run-finished.log", "stdout/cy14-electron-renderer-crash.log",
           "stdout-real/real-07.log", "stdout-real2/real2-01.log", "stdout-real2/real2-03.log"]


def reading(parser: CypressLogParser) -> Tuple[Any, ...]:
    """What a reader says of a log: per run finished, summary, totals, failure texts, flags."""
    runs = []
    for r in parser.runs:
        t = r.totals
        runs.append((r.finished, r.all_passed, r.failed_specs, r.total_specs, (t.tests, t.passed, t.failed, t.pending,
                     t.skipped), r.problems, r.crashed, r.plugin_error, r.canceled, r.no_specs,
                     [(s.spec, s.counts.failed) for s in r.spec_results if s.counts.failed]))
    return tuple(runs), tuple(parser.preamble_problems)


def offline(parser: CypressLogParser):
    return decide(Evidence(runs=list(parser.runs), preamble_problems=list(parser.preamble_problems),
                           preamble_fatal=parser.preamble_fatal, offline=True))


def prefixed(data: bytes, prefix) -> bytes:
    """Every line of ``data`` with ``prefix(n)`` before it (n: the line's number)."""
    return b"".join(prefix(n) + line for n, line in enumerate(data.splitlines(True)))


def without_blank_lines(data: bytes) -> bytes:
    return b"".join(line for line in data.splitlines(True) if line.strip())


READINGS = {name: reading(read(data)) for name, data in LOGS.items()}


def test_the_logs_are_the_fixtures():
    assert len(LOGS) >= 45
    assert set(PASSING) | set(FAILING) <= set(LOGS)


# ------------------------------------------------------------------------------ prefixes, blank lines
# Prefixes that CI systems and tools put before every line, as they print them.
PREFIX_STYLES = {
    "netlify": lambda n: "{0}:{1:02d}:{2:02d} {3}M: ".format(9 + n // 3600 % 4, n // 60 % 60, n % 60, "AP"[n % 2]).encode(),
    "bamboo": lambda n: "build\t07-Feb-2019 10:{0:02d}:{1:02d}\t".format(n // 60 % 60, n % 60).encode(),
    "bamboo-stderr": lambda n: ("error" if n % 7 == 0 else "build").encode() + b"\t07-Feb-2019 10:11:12\t",
    "maven": lambda n: b"[INFO] ",
    "jenkins-failed": lambda n: b"[FAILED] ",
    "pnpm-workspace": lambda n: b"packages/e2e test: ",
    "jenkins-one-space": lambda n: "13:34:{0:02d} ".format(n % 60).encode(),
    "netlify-and-jenkins": lambda n: "9:53:58 AM: 13:34:{0:02d} ".format(n % 60).encode(),
    "markdown-quote": lambda n: b"> ",
}


@pytest.mark.parametrize("style", sorted(PREFIX_STYLES))
def test_every_log_reads_the_same_with_a_prefix_on_every_line(style):
    for name, data in LOGS.items():
        assert reading(read(prefixed(data, PREFIX_STYLES[style]), chunk=4093)) == READINGS[name], name


@pytest.mark.parametrize("style", [""] + sorted(PREFIX_STYLES))
def test_every_log_reads_the_same_without_its_blank_lines(style):
    """Authors tidy logs they paste: blank lines go, the table is read all the same."""
    for name, data in LOGS.items():
        tidy = without_blank_lines(data)
        if style:
            tidy = prefixed(tidy, PREFIX_STYLES[style])
        assert reading(read(tidy)) == READINGS[name], name


# A learnable prefix: decoration (digits, brackets, a colon, a slash, a pipe, a tab) and words,
# constant or with digits changing from line to line, ending with a separator.
_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=8)
_PIECE = st.one_of(
    st.tuples(st.just("digits"), st.integers(1, 4)),
    st.tuples(st.just("word"), _WORD),
    st.tuples(st.just("sep"), st.sampled_from(["-", ":", "/", ".", "_", " ", "\t"])),
    st.tuples(st.just("bracket"), _WORD),
)
_PREFIX = st.tuples(st.lists(_PIECE, min_size=1, max_size=5), st.sampled_from([": ", " ", "\t", "] ", " | ", ":\t"]))


def _render(pieces, end: str, n: int) -> bytes:
    out = []
    for kind, value in pieces:
        if kind == "digits":
            out.append(str(n * 7919 % 10 ** value).zfill(value))
        elif kind == "bracket":
            out.append("[" + value + "]")
        else:
            out.append(value)
    return ("".join(out) + end).encode()


def _learnable(pieces, end: str) -> bool:
    """A prefix a person takes for one: decoration in it, not blank at its start, and not what
    Cypress's own lines start with (a bare number and a space, or a number, a word and a space:
    "1 passing (2s)", "2 failing")."""
    text = _render(pieces, end, 1).decode()
    head = text.rstrip()
    if re.fullmatch(r"[\d .]+", text) or not re.search(r"[\d\[\]|:\t/>]", head):
        return False
    if re.fullmatch(r"\d+[ \t]+[A-Za-z]+ +", text):
        return False
    return not head[:1].isspace() and head[:1] not in "-."


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(name=st.sampled_from(sorted(LOGS)), prefix=_PREFIX, tidy=st.booleans(), chunk=st.sampled_from([0, 1013, 65536]))
def test_property_a_learned_prefix_removed_gives_the_reading_without_it(name, prefix, tidy, chunk):
    pieces, end = prefix
    if not _learnable(pieces, end):
        return
    text = _render(pieces, end, 1).decode()
    # "name: " and "name | " are a runner's name (docker compose, nx): the same on each of its lines
    runner = text[:1].isalnum() and text.endswith((": ", ":\t", "| "))
    data = without_blank_lines(LOGS[name]) if tidy else LOGS[name]
    line_prefix = (lambda n: _render(pieces, end, 1)) if runner else (lambda n: _render(pieces, end, n))
    assert reading(read(prefixed(data, line_prefix), chunk)) == READINGS[name]


# ------------------------------------------------------------------------------ interleaved runs
def interleave(logs: List[bytes], seed: int, by: str) -> bytes:
    """The lines of ``logs`` mixed as parallel runs print them into one stream: by line, or by blocks
    of up to 40 lines; each log's own order is kept."""
    rng = random.Random(seed)
    parts = [data.splitlines(True) for data in logs]
    done = [0] * len(parts)
    out: List[bytes] = []
    while any(done[i] < len(parts[i]) for i in range(len(parts))):
        i = rng.choice([j for j in range(len(parts)) if done[j] < len(parts[j])])
        size = 1 if by == "line" else rng.randint(1, 40)
        out.extend(parts[i][done[i]:done[i] + size])
        done[i] += size
    return b"".join(line if line.endswith(b"\n") else line + b"\n" for line in out)


def test_three_runs_of_a_kubectl_logs_by_block_all_finish_and_pass():
    data = interleave([LOGS[n] for n in ("stdout-real2/real2-07.log", "stdout-real/real-04.log",
                                         "stdout/cy9-jenkins-two-specs-pass.log")], seed=7, by="block")
    parser = read(data)
    assert [(r.finished, r.all_passed) for r in parser.runs] == [(True, True)] * 3
    assert sorted(r.totals.tests for r in parser.runs) == [1, 1, 12]
    verdict = offline(parser)
    assert (verdict.state, verdict.result) == ("COMPLETED", "UNKNOWN")  # no host source offline: never PASS
    assert "ended without" not in " ".join(verdict.reasons)


def test_runs_interleaved_line_by_line_all_finish():
    data = interleave([LOGS[n] for n in ("stdout-real/real-01.log", "stdout-real/real-13.log")], seed=3, by="line")
    parser = read(data)
    assert [(r.finished, r.all_passed) for r in parser.runs] == [(True, True)] * 2
    assert all(r.concurrent for r in parser.runs)
    assert offline(parser).state == "COMPLETED"


def test_an_interleaved_run_without_its_end_is_unknown_never_fail():
    """The log shows three runs, and the end of two: the third's end cannot be attributed."""
    cut = LOGS["stdout-real/real-02.log"]  # a README excerpt cut after its (Results) box: 6 of 6 passing
    data = interleave([LOGS["stdout-real2/real2-07.log"], cut, LOGS["stdout-real/real-04.log"]], seed=11, by="block")
    parser = read(data)
    assert sorted(r.finished for r in parser.runs) == [False, True, True]
    unfinished = [r for r in parser.runs if not r.finished][0]
    assert unfinished.concurrent
    assert log_reasons(unfinished) == [NOT_FINISHED]
    verdict = offline(parser)
    assert (verdict.state, verdict.result) == ("UNKNOWN", "UNKNOWN")
    assert verdict.reasons == ["the log interleaves the output of 3 Cypress runs and shows no end of 1 of them"]
    assert INTERLEAVED in verdict.subruns[0].reasons


def test_an_unfinished_run_followed_by_another_is_still_a_failure():
    """Sequential output: a run that shows no end and then another run: the first ended without its
    table (real-18: an invocation cut off, then a complete one)."""
    first = LOGS["stdout/cy14-windows-after-run-error-no-run-finished.log"]
    parser = read(first + LOGS["stdout/cy9-jenkins-two-specs-pass.log"])
    assert [(r.finished, r.concurrent) for r in parser.runs] == [(False, False), (True, False)]
    verdict = offline(parser)
    assert (verdict.state, verdict.result) == ("FAILED", "FAIL")
    # a cut run (no crash text) followed by a complete one: FAILED too
    cut = LOGS["stdout-real/real-02.log"]
    verdict = offline(read(cut + LOGS["stdout/cy9-jenkins-two-specs-pass.log"]))
    assert (verdict.state, verdict.result) == ("FAILED", "FAIL")
    assert verdict.reasons == ["1 Cypress run(s) ended without their (Run Finished) table"]


def test_categorized_sub_runs_follow_each_other_an_unfinished_one_failed():
    def marker(label: str) -> bytes:
        return "===== ATVM category: {0} =====\n".format(label).encode()

    data = (marker("g1") + LOGS["stdout-real/real-02.log"] + marker("g2") + LOGS["stdout/cy9-jenkins-two-specs-pass.log"]
            + marker("g3") + LOGS["stdout-real2/real2-07.log"])
    parser = read(data)
    assert [(r.label, r.finished, r.concurrent) for r in parser.runs] == [
        ("g1", False, False), ("g2", True, False), ("g3", True, False)]
    verdict = decide(Evidence(runs=list(parser.runs), offline=True, categorized=True))
    assert [(s.name, s.state, s.result) for s in verdict.subruns] == [
        ("g1", "FAILED", "FAIL"), ("g2", "COMPLETED", "UNKNOWN"), ("g3", "COMPLETED", "UNKNOWN")]


_MIX = st.tuples(st.integers(0, 10 ** 6), st.sampled_from(["line", "block"]))


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.sampled_from(PASSING), min_size=2, max_size=4), mix=_MIX)
def test_property_interleaved_complete_runs_that_passed_never_fail(names, mix):
    parser = read(interleave([LOGS[n] for n in names], *mix))
    verdict = offline(parser)
    assert verdict.result != "FAIL" and verdict.state != "FAILED", verdict.reasons
    assert all(not r.problems for r in parser.runs)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(st.sampled_from(PASSING), min_size=1, max_size=3), failing=st.sampled_from(FAILING),
       where=st.integers(0, 3), mix=_MIX)
def test_property_a_failure_interleaved_with_passing_runs_is_never_lost(names, failing, where, mix):
    names = list(names)
    names.insert(where % (len(names) + 1), failing)
    assert offline(read(interleave([LOGS[n] for n in names], *mix))).result == "FAIL"


# ------------------------------------------------------------------------------ text that is not a failure
RUN_PASSING = LOGS["stdout/cy9-jenkins-two-specs-pass.log"].decode()


def _with_spec_output(lines: str) -> bytes:
    """The real passing run with ``lines`` in its first spec's output (after its Running: line)."""
    at = RUN_PASSING.index("\n", RUN_PASSING.index("Running:")) + 1
    return (RUN_PASSING[:at] + lines + RUN_PASSING[at:]).encode()


@pytest.mark.parametrize("lines", [
    "    \u2713 warns when the user set an invalid value (23ms)\n",
    "    \u2713 restarts the worker after a Segmentation fault in the child (101ms)\n",
    "    \u221a reports JavaScript heap out of memory as a crash (5ms)\n",
    "\x1b[32m    \u2713\x1b[0m\x1b[90m shows 'The automation client disconnected' banner\x1b[0m\n",
    "    - skips when Cypress failed to start (pending)\n",
    "    (Attempt 1 of 3) retries when the browser never connected\n",
    "  Segmentation fault handling\n    \u2713 restarts the worker (12ms)\n",
    "  Config validation\n    set an invalid value\n      \u2713 is refused (3ms)\n",
    "  - /builds/app/cypress/screenshots/set an invalid value.cy.js/form (failed).png (1280x720)\n",
])
def test_a_failure_wording_in_a_test_title_or_a_path_is_no_failure(lines):
    parser = read(_with_spec_output(lines))
    assert reading(parser) == READINGS["stdout/cy9-jenkins-two-specs-pass.log"]


@pytest.mark.parametrize("lines, problem", [
    ("We detected that the Electron Renderer process just crashed.\n\n",
     "We detected that the Electron Renderer process just crashed."),
    ("  This spec and its tests were skipped because the run has been canceled.\n\n",
     "This spec and its tests were skipped because the run has been canceled."),
    # indented, but the next line is not indented further: no suite title
    ("    Segmentation fault (core dumped)\n  1 passing (2s)\n",
     "Segmentation fault (core dumped)"),
])
def test_a_failure_text_in_a_spec_output_is_still_one(lines, problem):
    parser = read(_with_spec_output(lines))
    assert parser.runs[0].problems == [problem]


def test_a_utf8_log_whose_first_line_is_utf16_is_read_as_utf8():
    data = "OK\r\n".encode("utf-16-le") + LOGS["stdout/cy9-jenkins-two-specs-pass.log"]
    for chunk in (0, 1, 7, 4096):
        assert reading(read(data, chunk)) == READINGS["stdout/cy9-jenkins-two-specs-pass.log"]


def test_an_encoding_that_changes_in_the_log_is_followed():
    """PowerShell appends UTF-16 to a UTF-8 log (Out-File -Append), then a UTF-8 tool appends again."""
    first, second = LOGS["stdout/cy9-jenkins-two-specs-pass.log"], LOGS["stdout/cy15-three-specs-two-failing-one-pending.log"]
    third = LOGS["stdout-real2/real2-07.log"]
    data = first + second.decode().encode("utf-16-le") + third
    expected = READINGS["stdout/cy9-jenkins-two-specs-pass.log"][0] + READINGS[
        "stdout/cy15-three-specs-two-failing-one-pending.log"][0] + READINGS["stdout-real2/real2-07.log"][0]
    for chunk in (0, 1, 3, 4096):
        parser = read(data, chunk)
        assert reading(parser)[0] == expected, chunk
        assert parser._decoder.changes == 2  # pylint: disable=protected-access


# ------------------------------------------------------------------------------ the fast path
# Every line of the real logs, and lines a wrapper prints: the material of random logs.
CORPUS_LINES = sorted({line for data in LOGS.values() for line in data.splitlines(True) if line.endswith(b"\n")}
                      | {"===== ATVM category: g{0} =====\n".format(i).encode() for i in range(3)})


def _dump(parser: CypressLogParser) -> Any:
    return ([r.to_dict() for r in parser.runs], parser.preamble_problems, parser.preamble_fatal,
            parser.stray_markers.to_dict())


def _parse(data: bytes, sizes: List[int], every_line: bool) -> CypressLogParser:
    parser = CypressLogParser(every_line=every_line)
    pos, i = 0, 0
    while pos < len(data):
        size = sizes[i % len(sizes)]
        parser.feed(data[pos:pos + size])
        pos, i = pos + size, i + 1
    parser.finish()
    return parser


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(picks=st.lists(st.tuples(st.integers(0, len(CORPUS_LINES) - 1), st.integers(1, 400)), min_size=1, max_size=120),
       whole=st.lists(st.sampled_from(sorted(LOGS)), max_size=2),
       sizes=st.lists(st.one_of(st.integers(1, 16), st.integers(17, 70000)), min_size=1, max_size=5),
       prefix=st.one_of(st.none(), _PREFIX), same=st.booleans(), step=st.integers(1, 3))
def test_property_the_fast_path_reads_what_every_line_read_reads(picks, whole, sizes, prefix, same, step):
    """The byte scan, the cache of cleaned lines and the counting of repeated lines decide nothing:
    random mixes of real log lines (each repeated up to 400 times), with whole real logs among them,
    read the same when every line is read the slow way (``every_line=True``), in any chunks; with
    a prefix before every line or every second or third one too (the same on each, a runner's name,
    or changing digits): a line the scan passes by teaches no prefix or runner's name."""
    parts = [LOGS[n] for n in whole]
    for index, times in picks:
        parts.insert(index % (len(parts) + 1), CORPUS_LINES[index] * (times if index % 3 == 0 else 1))
    data = b"".join(parts)
    if prefix is not None:
        data = prefixed(data, lambda n: _render(prefix[0], prefix[1], 1 if same else n) if n % step == 0 else b"")
    sizes = [size * 64 if len(data) > 50000 and size <= 16 else size for size in sizes]  # 1-byte feeding costs
    assert _dump(_parse(data, sizes, False)) == _dump(_parse(data, [len(data) or 1], True))


def test_a_line_the_scan_passes_by_teaches_no_runner_name():
    """``A: `` alone on a line would make "A" a runner's name, removed before any text on later
    lines; the byte scan never stops at such a line, so it teaches nothing, whichever path reads it.
    Next to a failure line that starts with it, it is that line's prefix (learned there)."""
    oom = b"FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory\n"
    apart = b"A: \nsome output\nA: " + oom + b"more output\n"
    fast, slow = _parse(apart, [7], False), _parse(apart, [len(apart)], True)
    assert _dump(fast) == _dump(slow)
    assert fast.preamble_problems == ["A: " + oom.decode().strip()]
    together = b"A: \nA: " + oom
    fast, slow = _parse(together, [7], False), _parse(together, [len(together)], True)
    assert _dump(fast) == _dump(slow)
    assert fast.preamble_problems == [oom.decode().strip()]


def test_repeated_lines_are_counted_not_read_again():
    """A flood of one line (a crash loop, headings, markers) costs a comparison a line, and reads as
    every copy read one by one."""
    for line, count in ((b"  (Run Starting)\n", 5000), (b"  (Results)\n", 5000), (b"Segmentation fault\n", 5000),
                        (b"===== ATVM category: g1 =====\n", 5000)):
        data = LOGS["stdout/cy9-jenkins-two-specs-pass.log"] + line * count
        fast, slow = _parse(data, [4096], False), _parse(data, [len(data)], True)
        assert _dump(fast) == _dump(slow)
    flood = _parse(b"  (Run Starting)\n" * 5000, [65536], False)
    assert len(flood.runs) == cypress_log.MAX_RUNS + 1 and flood.runs[-1].overflow == 5000 - cypress_log.MAX_RUNS
    assert _parse(b"===== ATVM category: g1 =====\n" * 5000, [65536], False).stray_markers.count == 4999


def test_a_failure_line_neighbour_is_the_same_line_whatever_the_chunks():
    """A failure line's previous line decides whether their shared start is a prefix (learned);
    when a chunk begins with the end of a cut line, the previous line of the next line is still
    the line before it, not the cut line's tail joined to it."""
    problem = b"Your configFile is invalid: /srv/app/cypress.config.ts\n"
    data = b"".join((b"%06d: " % (n * 7919 % 10 ** 6) if n % 2 == 0 else b"") + problem for n in range(120))
    whole = _dump(_parse(data, [len(data)], False))
    for size in range(40, 400, 9):
        assert _dump(_parse(data, [size], False)) == whole, size
        assert _dump(_parse(data, [size], True)) == whole, size


def test_a_number_then_a_space_and_a_tab_before_every_line_is_a_prefix():
    """``1 <TAB>`` before each line (a numbered paste): a failure line whose neighbours carry it too
    teaches it, though ``1 `` alone would read as the start of ``1 passing``."""
    name = "stdout-found/found-01-oom-config-manager.log"
    data = prefixed(LOGS[name], lambda n: "{0} \t".format(n % 10).encode())
    for chunk in (0, 1013):
        assert reading(read(data, chunk)) == READINGS[name]

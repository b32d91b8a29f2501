# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the Cypress run simulator (tests/support/cypress_sim.py)."""
from __future__ import annotations

import io
import json
import os
import pathlib
import re
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import inventory
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import junit
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import reporter
from ansible_collections.atvm.watcher.tests.support import cypress_sim as sim

TESTS = pathlib.Path(__file__).resolve().parents[2]
SIM_PATH = TESTS / "support" / "cypress_sim.py"
CORPUS = TESTS / "fixtures" / "cypress" / "stdout"

GROUPS = "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01,win2019-01;sles:sles15sp5-01"
ALL_HOSTS = ["rhel96-fc-01", "ubuntu2204-01", "win2022-01", "win2019-01", "sles15sp5-01"]
MARKER_RE = re.compile(config.DEFAULT_MARKER_REGEX)


def _run(argv):
    """Run the simulator in-process; returns (exit code, console text)."""
    out = io.BytesIO()
    code = sim.main(argv, out=out)
    return code, out.getvalue().decode("utf-8")


def _corpus_lines(name):
    return (CORPUS / name).read_text(encoding="utf-8").split("\n")


def _summary_lines(text):
    return [line for line in text.split("\n") if re.match(r"^    [\u2714\u2716-]  ", line)]


def _phrase(line):
    """The summary row's text cell ("All specs passed!", "1 of 2 failed (50%)")."""
    return line[7:43].strip()


@pytest.fixture()
def categorized(tmp_path):
    """A categorized 3-group run with one failing host, artifacts, JUnit and inventory."""
    dirs = {"cmc": tmp_path / "cmc", "junit": tmp_path / "results", "inv": tmp_path / "vm-inventory.md",
            "log": tmp_path / "runner.log"}
    argv = ["--groups", GROUPS, "--fail", "ubuntu2204-01", "--reporter-dir", str(dirs["cmc"]),
            "--junit-dir", str(dirs["junit"]), "--write-inventory", str(dirs["inv"]), "--log", str(dirs["log"])]
    code = sim.main(argv)
    dirs["code"] = code
    dirs["text"] = dirs["log"].read_text(encoding="utf-8")
    return dirs


# ---------------------------------------------------------------------------------------------
# the console output of a categorized run
# ---------------------------------------------------------------------------------------------


def test_categorized_log_structure(categorized):
    text = categorized["text"]
    lines = text.split("\n")
    labels = [MARKER_RE.match(line).group("label") for line in lines if MARKER_RE.match(line)]
    assert labels == ["linux", "windows", "sles"]
    assert text.count("  (Run Starting)") == 3
    assert text.count("  (Run Finished)") == 3
    assert text.count("  (Results)") == 5
    # each marker comes before its own banner, and each run lists its own specs
    chunks = re.split(r"^===== ATVM category: .* =====$", text, flags=re.M)
    assert chunks[0] == ""
    assert "Specs:          2 found (rhel96-fc-01.cy.ts, ubuntu2204-01.cy.ts)" in chunks[1]
    assert "Specs:          2 found (win2022-01.cy.ts, win2019-01.cy.ts)" in chunks[2]
    assert "Specs:          1 found (sles15sp5-01.cy.ts)" in chunks[3]
    assert re.findall(r"Running:  (\S+)\s+\((\d+) of (\d+)\)", text) == [
        ("rhel96-fc-01.cy.ts", "1", "2"), ("ubuntu2204-01.cy.ts", "2", "2"),
        ("win2022-01.cy.ts", "1", "2"), ("win2019-01.cy.ts", "2", "2"), ("sles15sp5-01.cy.ts", "1", "1")]
    summaries = _summary_lines(text)
    assert [_phrase(s) for s in summaries] == ["1 of 2 failed (50%)", "All specs passed!", "All specs passed!"]
    # summary counts: tests, passing, failing (6 tests per spec, one failing test)
    counts = [s.split()[-5:] for s in summaries]
    assert counts == [["12", "11", "1", "-", "-"], ["12", "12", "-", "-", "-"], ["6", "6", "-", "-", "-"]]
    rows = re.findall(r"^  \u2502 ([\u2714\u2716])  (\S+)", text, flags=re.M)
    assert rows == [("\u2714", "rhel96-fc-01.cy.ts"), ("\u2716", "ubuntu2204-01.cy.ts"),
                    ("\u2714", "win2022-01.cy.ts"), ("\u2714", "win2019-01.cy.ts"), ("\u2714", "sles15sp5-01.cy.ts")]
    assert "  5 passing (" in text and "  1 failing" in text
    assert "  1) Migration of ubuntu2204-01" in text
    # every box line is exactly as wide as Cypress prints it
    box = [line for line in lines if line[:3] in ("  \u250c", "  \u2502", "  \u251c", "  \u2514")]
    assert box and all(len(line) == 100 for line in box)
    assert categorized["code"] == 1


def test_plan_describes_the_subruns():
    plan = sim.build_plan(["--groups", GROUPS, "--fail", "ubuntu2204-01"])
    assert plan.categorized and plan.hosts == ALL_HOSTS
    assert [(s.label, s.finished, s.all_passed, s.failed_specs, s.total_specs) for s in plan.subruns] == [
        ("linux", True, False, 1, 2), ("windows", True, True, 0, 2), ("sles", True, True, 0, 1)]
    assert plan.exit_code == 1 and plan.end == "exit"


def test_output_is_deterministic_and_seeded():
    argv = ["--hosts", "a1,a2,a3", "--fail", "a2"]

    def console(extra):
        plan = sim.build_plan(argv + extra)
        return b"".join(s.data for s in plan.steps if s.kind == "write")

    assert console([]) == console([])
    assert console(["--seed", "0"]) == console([])
    assert console(["--seed", "7"]) != console([])


# ---------------------------------------------------------------------------------------------
# fidelity: the same layout as real Cypress output in the corpus
# ---------------------------------------------------------------------------------------------


def test_run_finished_table_matches_corpus_layout():
    corpus = _corpus_lines("cy12-seven-specs-one-failing.log")
    header = next(line for line in corpus if line.startswith("       Spec "))
    row = next(line for line in corpus if "\u2502 \u2716  UseCase.cy.ts" in line)
    footer = next(line for line in corpus if "1 of 7 failed (14%)" in line)
    assert sim._summary_row("\u2716", "UseCase.cy.ts", "00:16", ["5", "4", "1", "-", "-"]) == [row]
    assert sim._summary_row("\u2716", "1 of 7 failed (14%)", "00:37", ["30", "29", "1", "-", "-"], border=" ") == [footer]
    plan = sim.build_plan(["--hosts", "h1"])
    text = b"".join(s.data for s in plan.steps if s.kind == "write").decode("utf-8")
    assert header in text.split("\n")
    canceled = _corpus_lines("snapshot-cy13-parallel-group-run-canceled.log")
    skipped = next(line for line in canceled if "SKIPPED" in line)
    assert sim._summary_row("-", "a_record_instantfail.cy.js", "SKIPPED", ["-"] * 5) == [skipped]


def test_boxes_and_spec_header_match_corpus_layout():
    corpus = _corpus_lines("cy15-three-specs-two-failing-one-pending.log")
    start = corpus.index("  (Run Starting)") + 2
    banner = sim._box([
        ("Cypress:", "15.17.0"), ("Browser:", "Chrome 148 (headless)"),
        ("Node Version:", "v22.17.0 (/home/lucasliz/.nvm/versions/node/v22.17.0/bin/node)"),
        ("Specs:", "3 found (completar-cadastro.cy.ts, criar-conta.cy.ts, submeter-proposta.cy.ts)"),
        ("Searched:", "cypress/e2e/**/*.cy.{js,jsx,ts,tsx}")], 16)
    assert banner == corpus[start:start + len(banner)]
    results = corpus.index("  (Results)") + 2
    box = sim._box([("Tests:", "5"), ("Passing:", "5"), ("Failing:", "0"), ("Pending:", "0"), ("Skipped:", "0"),
                    ("Screenshots:", "0"), ("Video:", "false"), ("Duration:", sim._human_long(41000)),
                    ("Spec Ran:", "completar-cadastro.cy.ts")], 14)
    assert box == corpus[results:results + len(box)]
    running = corpus.index(next(line for line in corpus if "Running:  criar-conta.cy.ts" in line))
    assert sim._running_lines("criar-conta.cy.ts", 2, 3) == corpus[running - 3:running + 1]
    wrapped = _corpus_lines("cy12-seven-specs-one-failing.log")
    specs = "7 found (UseCase.cy.ts, article.cy.ts, auth.cy.ts, favorite.cy.ts, follow.cy.ts, home.cy.ts, tag.cy.ts)"
    box = sim._box([("Specs:", specs)], 16)
    assert box[1:3] == [line for line in wrapped if "found (UseCase" in line or "s, home.cy.ts" in line][:2]


def test_durations_are_formatted_like_cypress_and_mocha():
    assert sim._duration(827) == "827ms"
    assert sim._duration(16400) == "00:16"
    assert sim._duration(67000) == "01:07"
    assert sim._duration(2467000) == "41:07"
    assert sim._duration(0) == "0ms"
    assert sim._human_long(67000) == "1 minute, 7 seconds"
    assert sim._human_long(1000) == "1 second"
    assert sim._human_long(3723000) == "1 hour, 2 minutes, 3 seconds"
    assert sim._mocha_ms(67000) == "1m" and sim._mocha_ms(16400) == "16s" and sim._mocha_ms(829) == "829ms"


# ---------------------------------------------------------------------------------------------
# reporter artifacts, JUnit, inventory
# ---------------------------------------------------------------------------------------------


def test_artifacts_default_layout_and_final_status(categorized):
    cmc = categorized["cmc"]
    assert sorted(os.listdir(cmc)) == sorted(h + ".json" for h in ALL_HOSTS)  # no temp file left
    for host in ALL_HOSTS:
        doc = json.loads((cmc / (host + ".json")).read_text(encoding="utf-8"))
        assert sorted(doc) == ["endedAt", "events", "host", "spec", "startedAt", "stats", "status"]
        assert doc["host"] == host and doc["spec"] == "cypress/e2e/migration/{0}.cy.ts".format(host)
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$", doc["startedAt"])
        assert doc["endedAt"] >= doc["startedAt"]
        assert sorted(doc["stats"]) == ["failures", "passes", "pending", "skipped", "tests"]
        assert isinstance(doc["events"], list)
        assert any(isinstance(e, dict) for e in doc["events"]) and any(isinstance(e, list) for e in doc["events"])
        failing = host == "ubuntu2204-01"
        assert doc["status"] == ("FAIL" if failing else "PASS")
        assert doc["stats"] == {"tests": 6, "passes": 5 if failing else 6, "failures": 1 if failing else 0,
                                "pending": 0, "skipped": 0}
        errors = [e for e in doc["events"] if isinstance(e, list) and e[1] == "error"]
        assert len(errors) == (1 if failing else 0)
    # the watcher core reads them with its default settings
    read = reporter.read_reporter_artifact(str(cmc / "ubuntu2204-01.json"), config.Settings())
    assert read.host == "ubuntu2204-01" and read.status == "FAIL" and read.error is None
    assert (read.counts.tests, read.counts.passed, read.counts.failed) == (6, 5, 1)
    assert [e.failure for e in read.events].count(True) == 1
    good = reporter.read_reporter_artifact(str(cmc / "rhel96-fc-01.json"), config.Settings())
    assert good.status == "PASS" and not any(e.failure for e in good.events)


def test_artifact_is_run_while_the_spec_runs(tmp_path):
    plan = sim.build_plan(["--hosts", "h1,h2", "--reporter-dir", str(tmp_path), "--hang-after-spec", "0"])
    hung = []
    assert sim.execute(plan, out=io.BytesIO(), on_hang=lambda: hung.append(True)) == 0
    assert hung == [True] and plan.end == "hang"
    doc = json.loads((tmp_path / "h1.json").read_text(encoding="utf-8"))
    assert doc["status"] == "RUN" and doc["endedAt"] is None
    assert not (tmp_path / "h2.json").exists()


def test_artifact_variants(tmp_path):
    argv = ["--hosts", "h1,h2,h3,h4,h5", "--reporter-dir", str(tmp_path), "--events-as-object",
            "--missing-artifact", "h1", "--artifact-fail", "h2", "--artifact-error-event", "h3",
            "--leave-running", "h4"]
    code, text = _run(argv)
    assert code == 0 and "All specs passed!" in text
    assert sorted(os.listdir(tmp_path)) == ["h2.json", "h3.json", "h4.json", "h5.json"]
    docs = {h: json.loads((tmp_path / (h + ".json")).read_text(encoding="utf-8")) for h in ("h2", "h3", "h4", "h5")}
    assert all(isinstance(d["events"], dict) for d in docs.values())
    assert [docs[h]["status"] for h in ("h2", "h3", "h4", "h5")] == ["FAIL", "PASS", "RUN", "PASS"]
    settings = config.Settings()
    failures = {h: [e.message for e in reporter.read_reporter_artifact(str(tmp_path / (h + ".json")), settings).events
                    if e.failure] for h in docs}
    assert failures["h2"] == ["post-migration boot check failed"]
    assert failures["h3"] == ["post-migration service check reported an error"]
    assert failures["h4"] == [] and failures["h5"] == []


def test_artifact_lag_writes_the_final_artifact_after_run_finished(tmp_path):
    seen = {}

    class Watch(io.BytesIO):
        def write(self, data):
            if b"(Run Finished)" in data:
                seen["status"] = json.loads((tmp_path / "h1.json").read_text(encoding="utf-8"))["status"]
            return super().write(data)

    plan = sim.build_plan(["--hosts", "h1", "--reporter-dir", str(tmp_path), "--artifact-lag", "0.3"])
    started = time.monotonic()
    assert sim.execute(plan, out=Watch()) == 0
    assert time.monotonic() - started >= 0.3
    assert seen == {"status": "RUN"}
    assert json.loads((tmp_path / "h1.json").read_text(encoding="utf-8"))["status"] == "PASS"


def test_junit_files(categorized):
    files = sorted(categorized["junit"].iterdir())
    assert len(files) == 3 and all(re.match(r"^results-[0-9a-f]{32}\.xml$", f.name) for f in files)
    by_spec = {}
    for path in files:
        root = ET.parse(str(path)).getroot()
        assert root.tag == "testsuites" and root.get("name") == "Mocha Tests"
        cases = root.findall(".//testcase")
        failures = root.findall(".//testcase/failure")
        assert int(root.get("tests")) == len(cases) and int(root.get("failures")) == len(failures)
        specs = [s.get("file") for s in root.findall("testsuite") if s.get("file")]
        by_spec[tuple(specs)] = (len(cases), len(failures))
    assert by_spec == {
        ("cypress/e2e/migration/rhel96-fc-01.cy.ts", "cypress/e2e/migration/ubuntu2204-01.cy.ts"): (12, 1),
        ("cypress/e2e/migration/win2022-01.cy.ts", "cypress/e2e/migration/win2019-01.cy.ts"): (12, 0),
        ("cypress/e2e/migration/sles15sp5-01.cy.ts",): (6, 0),
    }
    # the watcher core reads them too
    report = junit.read_junit(str(files[0]))
    assert report.error is None and not report.meta_only


def test_junit_meta_only_and_per_spec(tmp_path):
    meta, per_spec = tmp_path / "meta", tmp_path / "per-spec"
    assert _run(["--groups", "a:h1;b:h2", "--junit-dir", str(meta), "--junit-meta-only"])[0] == 0
    files = list(meta.iterdir())
    assert len(files) == 2
    for path in files:
        root = ET.parse(str(path)).getroot()
        assert [s.get("file") for s in root.findall("testsuite") if s.get("file")] == ["cypress/e2e/check-xml-files.ts"]
        assert junit.read_junit(str(path)).meta_only
    assert _run(["--hosts", "h1,h2,h3", "--fail", "h3", "--junit-dir", str(per_spec), "--junit-per-spec"])[0] == 1
    failures = sorted(len(ET.parse(str(p)).getroot().findall(".//failure")) for p in per_spec.iterdir())
    assert failures == [0, 0, 1]


def test_inventory(categorized, tmp_path):
    text = categorized["inv"].read_text(encoding="utf-8")
    lines = [line for line in text.split("\n") if line.startswith("|")]
    assert lines[0] == "| Host | OS | Kernel | Arch | Firmware | Source |"
    assert [line.split("|")[1].strip() for line in lines[2:]] == ALL_HOSTS
    hosts = inventory.parse_inventory_text(text)
    assert hosts["rhel96-fc-01"].os == "Red Hat Enterprise Linux 9.6"
    assert hosts["rhel96-fc-01"].kernel == "5.14.0-570.12.1.el9_6.x86_64"
    assert hosts["ubuntu2204-01"].kernel == "5.15.0-122-generic"
    assert hosts["win2022-01"].os == "Windows Server 2022" and hosts["win2022-01"].kernel == "10.0.20348"
    assert hosts["sles15sp5-01"].kernel == "5.14.21-150500.55.65-default"
    only = tmp_path / "only.md"
    code, console = _run(["--hosts", "rhel810-01", "--write-inventory", str(only), "--inventory-only"])
    assert code == 0 and console == ""
    assert "| rhel810-01 | Red Hat Enterprise Linux 8.10 | 4.18.0-553.16.1.el8_10.x86_64 |" in only.read_text("utf-8")


# ---------------------------------------------------------------------------------------------
# outcomes and exit codes
# ---------------------------------------------------------------------------------------------


def test_exit_code_is_the_number_of_failed_tests():
    code, text = _run(["--hosts", "h1,h2,h3", "--fail", "h1,h3"])
    assert code == 2
    assert _phrase(_summary_lines(text)[0]) == "2 of 3 failed (67%)"
    code, text = _run(["--groups", "a:h1,h2;b:h3", "--fail", "h1", "--fail", "h3"])
    assert code == 2  # the wrapper sums its runs' codes


def test_forced_exit_code_with_all_specs_passed():
    code, text = _run(["--hosts", "h1,h2", "--exit-code", "3"])
    assert code == 3
    assert "All specs passed!" in _summary_lines(text)[0]


def test_crash_ends_the_subrun_without_run_finished(tmp_path):
    code, text = _run(["--groups", GROUPS, "--crash-in", "windows", "--reporter-dir", str(tmp_path)])
    assert code == 1
    chunks = re.split(r"^===== ATVM category: .* =====$", text, flags=re.M)
    assert "We detected that the Electron Renderer process just crashed." in chunks[2]
    assert "(Run Finished)" not in chunks[2] and "(Results)" not in chunks[2]
    assert "Running:  win2019-01.cy.ts" not in chunks[2]
    assert "(Run Finished)" in chunks[1] and "(Run Finished)" in chunks[3]  # the wrapper went on
    assert json.loads((tmp_path / "win2022-01.json").read_text(encoding="utf-8"))["status"] == "RUN"
    assert not (tmp_path / "win2019-01.json").exists()
    plan = sim.build_plan(["--groups", GROUPS, "--crash-in", "windows"])
    assert [(s.finished, s.crashed) for s in plan.subruns] == [(True, False), (False, True), (True, False)]


def test_crash_continue_behaves_like_cypress():
    code, text = _run(["--hosts", "h1,h2", "--crash-in", "h1", "--crash-continue"])
    assert code == 1
    assert text.count("(Results)") == 2 and "(Run Finished)" in text
    assert _phrase(_summary_lines(text)[0]) == "1 of 2 failed (50%)"
    assert re.search(r"\u2502 \u2716  h1\.cy\.ts\s+\S+\s+6\s+3\s+1\s+-\s+2 \u2502", text)


def test_plugin_error_has_no_run_finished():
    code, text = _run(["--groups", "a:h1;b:h2", "--plugin-error-in", "a"])
    assert code == 1
    first, second = re.split(r"^===== ATVM category: .* =====$", text, flags=re.M)[1:]
    assert "An error was thrown in your plugins file while executing the handler for the after:run event." in first
    assert "(Run Finished)" not in first and "(Results)" in first
    assert "All specs passed!" in second


def test_zero_tests_still_all_specs_passed():
    code, text = _run(["--hosts", "h1", "--zero-tests", "h1"])
    assert code == 0
    assert "  0 passing (0ms)" in text
    assert re.search(r"\u2502 \u2714  h1\.cy\.ts\s+0ms\s+-\s+-\s+-\s+-\s+- \u2502", text)
    assert "All specs passed!" in _summary_lines(text)[0]


def test_canceled_recorded_run():
    code, text = _run(["--hosts", "h1,h2,h3", "--canceled", "--record-url", "http://127.0.0.1:9/"])
    assert code == 1
    assert text.count("This spec and its tests were skipped because the run has been canceled.") == 2
    assert "    -  The run was canceled" in text
    assert re.search(r"^  Recorded Run: http://127\.0\.0\.1:9/run/[0-9a-f]{16}$", text, flags=re.M)
    assert "  Exiting with non-zero exit code because the run was canceled." in text
    assert "Params:         Tag: false, Group: false, Parallel: false" in text


def test_no_markers_and_label_mismatch():
    code, text = _run(["--groups", "linux:h1;windows:w1", "--no-markers"])
    assert code == 0 and not any(MARKER_RE.match(line) for line in text.split("\n"))
    assert re.findall(r"Params:\s+Tag: false, Group: (\S+), Parallel: false", text) == ["linux", "windows"]
    assert len(re.findall(r"^\s+\u2502 Run URL:\s+http://127\.0\.0\.1:8080/run/", text, flags=re.M)) == 2
    code, text = _run(["--groups", "linux:h1;windows:w1", "--label-mismatch", "linux"])
    labels = [MARKER_RE.match(line).group("label") for line in text.split("\n") if MARKER_RE.match(line)]
    assert labels == ["w1", "windows"]
    code, text = _run(["--groups", "linux:h1;windows:w1", "--label-mismatch", "windows=h1", "--record-url",
                       "http://127.0.0.1:9"])
    assert re.findall(r"Group: (\S+),", text) == ["linux", "h1"]


def test_bad_arguments_are_refused():
    with pytest.raises(SystemExit) as exc:
        sim.build_plan(["--hosts", "h1", "--fail", "nope"])
    assert exc.value.code == 2
    with pytest.raises(SystemExit):
        sim.build_plan(["--hosts", "h1", "--groups", "a:h2"])
    with pytest.raises(SystemExit):
        sim.build_plan(["--groups", "a:h1;b:h1"])


# ---------------------------------------------------------------------------------------------
# replay and real time
# ---------------------------------------------------------------------------------------------


def test_replay_writes_corpus_bytes_exactly(tmp_path):
    log = tmp_path / "runner.log"
    crlf = tmp_path / "crlf.log"
    crlf.write_bytes(b"line one\r\n\xff\xfe invalid utf-8\r\nno newline at end")
    names = ["cy15-ansi-gha-beforeeach-fail-43-skipped.log", "cy14-windows-after-run-error-no-run-finished.log"]
    argv = ["--log", str(log)]
    for name in names:
        argv += ["--replay", str(CORPUS / name)]
    argv += ["--replay", str(crlf)]
    assert sim.main(argv) == 0
    expected = b"".join((CORPUS / n).read_bytes() for n in names) + crlf.read_bytes()
    assert log.read_bytes() == expected
    labelled = tmp_path / "labelled.log"
    assert sim.main(["--log", str(labelled), "--replay", "linux=" + str(CORPUS / names[0])]) == 0
    assert labelled.read_bytes() == b"===== ATVM category: linux =====\n" + (CORPUS / names[0]).read_bytes()


def test_log_is_appended(tmp_path):
    log = tmp_path / "runner.log"
    log.write_bytes(b"wrapper preamble\n")
    assert sim.main(["--hosts", "h1", "--log", str(log)]) == 0
    data = log.read_bytes()
    assert data.startswith(b"wrapper preamble\n\n====") and data.count(b"(Run Finished)") == 1


def test_schedule_runs_in_real_time(tmp_path):
    log = tmp_path / "runner.log"
    plan = sim.build_plan(["--hosts", "h1,h2", "--tests-per-spec", "2", "--spec-seconds", "0.4", "--speed", "2",
                           "--log", str(log)])
    assert sum(s.seconds for s in plan.steps if s.kind == "sleep") == pytest.approx(0.4, abs=0.01)
    started = time.monotonic()
    assert sim.execute(plan) == 0
    assert time.monotonic() - started >= 0.39
    # printed durations are the unscaled schedule: 2 tests sharing 0.4 s of a spec
    durations = [int(ms) for ms in re.findall(r"\u2713 .* \((\d+)ms\)", log.read_text(encoding="utf-8"))]
    assert len(durations) == 4 and 350 <= durations[0] + durations[1] <= 400


# ---------------------------------------------------------------------------------------------
# processes: signals and hangs
# ---------------------------------------------------------------------------------------------


def _spawn(args):
    return subprocess.Popen([sys.executable, str(SIM_PATH)] + args, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_signal_at_the_end_kills_the_process():
    proc = _spawn(["--hosts", "h1,h2", "--signal", "SIGTERM"])
    out, err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGTERM
    assert b"All specs passed!" in out and err == b""


def test_signal_after_spec(tmp_path):
    proc = _spawn(["--hosts", "h1,h2,h3", "--signal-after-spec", "1", "KILL", "--reporter-dir", str(tmp_path)])
    out, _err = proc.communicate(timeout=30)
    assert proc.returncode == -signal.SIGKILL
    assert out.count(b"(Results)") == 1 and b"(Run Finished)" not in out
    assert sorted(os.listdir(tmp_path)) == ["h1.json"]


def _cpu_ticks(pid):
    fields = pathlib.Path("/proc/{0}/stat".format(pid)).read_text().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


@pytest.mark.parametrize("extra, last", [
    (["--hang"], b"All specs passed!"),
    (["--hang-after-spec", "1"], b"Spec Ran:     h1.cy.ts"),
])
def test_hang_stays_alive_silently(tmp_path, extra, last):
    log = tmp_path / "runner.log"
    proc = subprocess.Popen([sys.executable, str(SIM_PATH), "--hosts", "h1,h2", "--log", str(log)] + extra)
    try:
        deadline = time.monotonic() + 20
        while last not in (log.read_bytes() if log.exists() else b"") and time.monotonic() < deadline:
            time.sleep(0.05)
        size = log.stat().st_size
        ticks = _cpu_ticks(proc.pid)
        time.sleep(1.0)
        assert proc.poll() is None
        assert log.stat().st_size == size
        assert _cpu_ticks(proc.pid) - ticks <= 2  # sleeping, not spinning
        assert b"Running:  h2.cy.ts" not in log.read_bytes() or extra == ["--hang"]
    finally:
        proc.kill()
        proc.wait(timeout=10)
    assert proc.returncode == -signal.SIGKILL


def test_help_lists_the_options():
    proc = subprocess.run([sys.executable, str(SIM_PATH), "--help"], stdout=subprocess.PIPE, timeout=30, check=True)
    for option in (b"--replay", b"--groups", b"--crash-in", b"--hang-after-spec", b"--signal-after-spec",
                   b"--junit-meta-only", b"--write-inventory", b"--events-as-object"):
        assert option in proc.stdout


# ---------------------------------------------------------------------------------------------
# the watcher's own Cypress log parser reads what the simulator writes
# ---------------------------------------------------------------------------------------------

PARSER_CASES = [
    ("categorized-one-failing", ["--groups", GROUPS, "--fail", "ubuntu2204-01"]),
    ("non-categorized-pass", ["--hosts", "h1,h2,h3"]),
    ("non-categorized-two-failing", ["--hosts", "h1,h2,h3", "--fail", "h1,h3"]),
    ("crash-aborts-subrun", ["--groups", GROUPS, "--crash-in", "windows"]),
    ("crash-continue", ["--groups", "a:h1,h2;b:h3", "--crash-in", "h1", "--crash-continue"]),
    ("plugin-error", ["--groups", "a:h1;b:h2", "--plugin-error-in", "a", "--fail", "h2"]),
    ("no-markers-recorded", ["--groups", "linux:h1,h2;windows:w1", "--no-markers"]),
    ("label-mismatch", ["--groups", "linux:h1;windows:w1", "--label-mismatch", "linux"]),
    ("zero-tests", ["--hosts", "h1,h2", "--zero-tests", "h2"]),
    ("canceled", ["--groups", "a:h1,h2,h3;b:h4", "--canceled-in", "a"]),
    ("cypress-13-recorded", ["--hosts", "h1", "--cypress-version", "13.6.4", "--record-url", "http://127.0.0.1:9"]),
]


@pytest.mark.parametrize("argv", [c[1] for c in PARSER_CASES], ids=[c[0] for c in PARSER_CASES])
def test_generated_logs_parse_with_the_watcher_parser(argv):
    from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import cypress_log

    plan = sim.build_plan(argv)
    data = b"".join(s.data for s in plan.steps if s.kind == "write")
    parser = cypress_log.CypressLogParser(config.DEFAULT_MARKER_REGEX)
    for start in range(0, len(data), 997):  # incremental, cutting lines and UTF-8 characters anywhere
        parser.feed(data[start:start + 997])
    parser.finish()
    runs = parser.runs
    assert len(runs) == len(plan.subruns)
    for run, sub in zip(runs, plan.subruns):
        assert run.started
        assert run.label == sub.label
        assert run.label_source == (("group" if "--no-markers" in argv else "marker") if plan.categorized else None)
        assert run.cypress_version == ("13.6.4" if "13.6.4" in argv else "12.17.4")
        assert run.specs_found == [s.display for s in sub.specs]
        assert run.run_url == sub.record_url
        assert run.finished == sub.finished
        assert run.crashed == sub.crashed
        assert run.plugin_error == sub.plugin_error
        assert run.canceled == sub.canceled
        ran = [s.display for s in sub.specs if s.outcome not in ("not-run",)]
        assert run.specs_run == ran
        if sub.finished:
            assert run.all_passed == sub.all_passed
            assert [r.spec for r in run.finished_rows] == [s.display for s in sub.specs]
            assert [r.status for r in run.finished_rows] == [
                "skipped" if s.outcome == "skipped" else ("failed" if s.failures else "passed") for s in sub.specs]
            assert (run.totals.tests, run.totals.passed, run.totals.failed) == (sub.tests, sub.passes, sub.failures)
            if sub.all_passed is False and not sub.canceled:
                assert (run.failed_specs, run.total_specs) == (sub.failed_specs, sub.total_specs)
        else:
            assert run.all_passed is None and not run.finished_rows

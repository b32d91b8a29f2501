# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Each post says what changed since the last run of the same suite (docs/history.md): builds of one
suite in a row, watched end to end, read from the channel and from ``status --json``."""
from __future__ import annotations

import json
import pathlib
import subprocess
import sys
import time

from conftest import cypress_sim
from e2e_posts import sending_indexes

BIN = pathlib.Path(__file__).resolve().parents[2] / "bin"

HOSTS2 = "rhel96-fc-01,ubuntu2204-01"
GROUPS2 = "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01"
FAST = ["--spec-seconds", "0.4", "--line-interval", "0.1", "--tests-per-spec", "4"]
SUITE = {"ATVM_TEMPLATE_NAME": "cmc-e2e", "ATVM_CONFIG_FAMILY": "gold"}


def failing_test(*args):
    """The full title of the test the simulator fails (--fail) or retries (--flaky) with these arguments."""
    [spec] = [s for sub in cypress_sim.build_plan(list(args)).subruns for s in sub.specs
              if s.failed_index is not None or s.flaky_index is not None]
    index = spec.failed_index if spec.failed_index is not None else spec.flaky_index
    return "Migration of {0} {1}".format(spec.host, spec.tests[index])


def cli(run, *args):
    out = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher")] + list(args) + [
        "--state-root", str(run.state_root)], env=run.env, capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


def _posts_of(run):
    marker = "build `{0}`".format(run.build)
    return [p for p in run.double.posts if marker in p["text"]]


def test_three_runs_of_one_suite_fail_flaky_pass(make_run, tmp_path):
    root = tmp_path / "shared-state"
    seen = []
    for build, extra, result in (("hist-1", ["--fail", "ubuntu2204-01", "--exit-code", "0"], "FAIL"),
                                 ("hist-2", ["--flaky", "ubuntu2204-01"], "PASS"),
                                 ("hist-3", [], "PASS")):
        run = make_run(build, ["--hosts", HOSTS2] + FAST + extra, hosts=HOSTS2, env=SUITE, state_root=root)
        assert run.run_to_end() == 0
        [post] = _posts_of(run)
        assert post["text"].startswith("#### {0} {1} \u00b7 COMPLETED".format(
            "\u274c" if result == "FAIL" else "\u2705", result))
        [value] = [f["value"] for f in post["attachments"][0]["fields"] if f["title"] == "History"]
        status = json.loads(cli(run, "status", "--build-name", build, "--json"))
        seen.append((value, post, status["subruns"][0]["changes"]))
        run.assert_no_secret()
    (first, _p1, changes1), (second, post2, changes2), (third, _p3, changes3) = seen
    flaky = failing_test("--hosts", HOSTS2, *FAST, "--flaky", "ubuntu2204-01")
    assert flaky == failing_test("--hosts", HOSTS2, *FAST, "--fail", "ubuntu2204-01")
    assert first == "first run of this suite" and changes1["first_run"] and changes1["previous_build"] is None
    # the second post: the failing test of the first run passed on its retry
    assert second == "Since `hist-1` (just now): 1 fixed \u00b7 1 flaky (passed on a retry)"
    assert "- Fixed (1): {0} (ubuntu2204-01.cy.ts)".format(flaky) in post2["attachments"][0]["text"]
    assert "**Flaky (passed on a retry) (1):**\n- {0} (ubuntu2204-01.cy.ts)".format(flaky) in post2["props"]["card"]
    fixed = [{"spec": "cypress/e2e/migration/ubuntu2204-01.cy.ts", "title": flaky}]
    assert changes2["previous_build"] == "hist-1" and changes2["fixed"] == changes2["flaky"] == fixed
    assert changes2["new_failures"] == changes2["still_failing"] == []
    assert changes2["tests"] == {"passed": 7, "flaky": 1, "failed": 0, "skipped": 0}
    assert third == "Since `hist-2` (just now): no change"
    assert changes3["fixed"] == changes3["flaky"] == changes3["new_failures"] == []
    # the suite's history, as the command line lists it
    [suite] = json.loads(cli(run, "history", "--json"))["suites"]
    assert suite["runs"] == 3 and suite["last_build"] == "hist-3"
    runs = json.loads(cli(run, "history", "--suite", suite["id"], "--json"))["runs"]
    assert [(r["build"], r["result"], r["per_test_results"]) for r in runs] == [
        ("hist-1", "FAIL", True), ("hist-2", "PASS", True), ("hist-3", "PASS", True)]


def test_two_suites_of_one_request_never_mix(make_run, tmp_path):
    root = tmp_path / "shared-state"
    heads = []
    for build, extra in (("mix-1", ["--fail", "win2022-01"]), ("mix-2", [])):
        run = make_run(build, ["--groups", GROUPS2, "--exit-code", "0"] + FAST + extra, categorized=True,
                       hosts=GROUPS2, env=SUITE, state_root=root)
        assert run.run_to_end() == 0
        heads.append([[f["value"] for f in p["attachments"][0]["fields"] if f["title"] == "History"][0]
                      for p in _posts_of(run)])
    assert heads == [["first run of this suite", "first run of this suite"],
                     ["Since `mix-1` (just now): no change", "Since `mix-1` (just now): 1 fixed"]]
    suites = json.loads(cli(run, "history", "--json"))["suites"]
    assert sorted((s["text"], s["runs"]) for s in suites) == [
        ("cmc-e2e \u00b7 gold \u00b7 linux \u00b7 rhel96-fc-01,ubuntu2204-01", 2),
        ("cmc-e2e \u00b7 gold \u00b7 windows \u00b7 win2022-01", 2)]


def test_a_restart_between_decision_and_post_counts_the_run_once(make_run, double, tmp_path):
    """Killed while its post is on the wire (decided, recorded, SENDING): the restarted watcher sends the
    same post again, marked, and the suite's history holds the run once."""
    root = tmp_path / "shared-state"
    first = make_run("once-1", ["--hosts", HOSTS2, "--fail", "ubuntu2204-01", "--exit-code", "0"] + FAST,
                     hosts=HOSTS2, env=SUITE, state_root=root)
    assert first.run_to_end() == 0
    run = make_run("once-2", ["--hosts", HOSTS2, "--flaky", "ubuntu2204-01"] + FAST, hosts=HOSTS2, env=SUITE,
                   state_root=root)
    double.set_faults(delay=3.0, delay_count=1)  # the first copy stays on the wire for 3 s
    gate = run.tmp / "runner-gate"
    run.start_runner(gate)
    watcher = run.start_watcher()
    run.wait_ready()
    gate.touch()
    deadline = time.time() + 60
    while not sending_indexes(run) and time.time() < deadline:
        time.sleep(0.01)
    assert sending_indexes(run) == [1]
    watcher.kill()
    watcher.communicate()
    assert run.wait_watcher(run.start_watcher(), 60) == 0
    time.sleep(3.5)  # the first copy arrives too (a possible duplicate, and marked as such in the second)
    texts = _posts_of(run)
    assert 1 <= len(texts) <= 2
    values = {[f["value"] for f in p["attachments"][0]["fields"] if f["title"] == "History"][0] for p in texts}
    assert values == {"Since `once-1` (just now): 1 fixed \u00b7 1 flaky (passed on a retry)"}
    [suite] = json.loads(cli(run, "history", "--json"))["suites"]
    assert suite["runs"] == 2
    double.set_faults(delay=0.0, delay_count=None)

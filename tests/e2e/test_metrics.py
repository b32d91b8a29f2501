# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A watched run with ``ATVM_METRICS_DIR`` set leaves its metrics for node_exporter's textfile collector."""
from __future__ import annotations

import os
import pathlib
import subprocess
import sys
import time

from conftest import prom_text

BIN = pathlib.Path(__file__).resolve().parents[2] / "bin"

HOSTS2 = "rhel96-fc-01,ubuntu2204-01"
FAST = ["--spec-seconds", "0.4", "--line-interval", "0.1", "--tests-per-spec", "3"]


def _current(families, name, label):
    """The label value whose gauge is 1 (exactly one)."""
    ones = [labels[label] for labels, value in families[name]["samples"] if value == 1]
    assert len(ones) == 1, ones
    return ones[0]


def _posts(families):
    return {labels["status"]: value for labels, value in families["atvm_watcher_posts"]["samples"]}


def test_watched_run_leaves_its_metrics(make_run, tmp_path):
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    run = make_run("metrics-pass", ["--hosts", HOSTS2, "--spec-seconds", "1.5", "--line-interval", "0.1"],
                   hosts=HOSTS2, env={"ATVM_METRICS_DIR": str(textfile)})
    prom = textfile / "atvm_watcher_metrics-pass.prom"
    gate = run.tmp / "runner-gate"
    run.start_runner(gate)  # the runner's command waits for the watcher, as the launch does
    watcher = run.start_watcher()
    run.wait_ready()
    gate.touch()
    live = prom_text.parse(prom.read_text())  # written as soon as the watcher saved its state
    assert _current(live, "atvm_watcher_run_state", "state") == "RUNNING"
    assert _current(live, "atvm_watcher_run_result", "result") == "RUN"
    beat = live["atvm_watcher_heartbeat_timestamp_seconds"]["samples"][0][1]
    assert abs(beat - time.time()) < 30
    assert run.wait_watcher(watcher) == 0
    final = prom_text.parse(prom.read_text())
    assert _current(final, "atvm_watcher_run_state", "state") == "COMPLETED"
    assert _current(final, "atvm_watcher_run_result", "result") == "PASS"
    assert _current(final, "atvm_watcher_phase", "phase") == "done"
    assert _posts(final) == {"sent": 1, "failed": 0, "pending": 0, "corrupt": 0}
    assert os.listdir(textfile) == [prom.name], "no temp file left behind"
    run.assert_no_secret()


def test_failed_post_shows_in_the_metrics(make_run, double, tmp_path):
    textfile = tmp_path / "textfile"
    textfile.mkdir()
    run = make_run("metrics-failed", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2,
                   env={"ATVM_METRICS_DIR": str(textfile), "ATVM_DELIVERY_DEADLINE": "2"})
    double.set_faults(fail_5xx=10000, fail_status=503)
    assert run.run_to_end() == 3
    double.set_faults(fail_5xx=0)
    final = prom_text.parse((textfile / "atvm_watcher_metrics-failed.prom").read_text())
    assert _posts(final) == {"sent": 0, "failed": 1, "pending": 0, "corrupt": 0}
    assert _current(final, "atvm_watcher_phase", "phase") == "delivery-failed"
    assert _current(final, "atvm_watcher_run_result", "result") == "PASS"
    beat = final["atvm_watcher_heartbeat_timestamp_seconds"]["samples"][0][1]
    # The post goes out with resend: the file says so (the failed-post alert clears), the heartbeat
    # stays the watcher's.
    resent = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher"), "resend", "--build-name", run.build,
                             "--state-root", str(run.state_root)], env=run.env, capture_output=True, text=True,
                            timeout=60, check=False)
    assert resent.returncode == 0, resent.stdout + resent.stderr
    assert len(run.posts()) == 1
    after = prom_text.parse((textfile / "atvm_watcher_metrics-failed.prom").read_text())
    assert _posts(after) == {"sent": 1, "failed": 0, "pending": 0, "corrupt": 0}
    assert _current(after, "atvm_watcher_run_state", "state") == "COMPLETED"
    assert after["atvm_watcher_heartbeat_timestamp_seconds"]["samples"][0][1] == beat
    assert sorted(os.listdir(textfile)) == ["atvm_watcher_metrics-failed.prom"]
    run.outputs.extend([resent.stdout, resent.stderr])
    run.assert_no_secret()


def test_unwritable_metrics_directory_is_journalled_and_the_run_still_posts(make_run, tmp_path):
    missing = tmp_path / "no-textfile-dir"
    run = make_run("metrics-nodir", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2, env={"ATVM_METRICS_DIR": str(missing)})
    assert run.run_to_end() == 0
    assert len(run.posts()) == 1
    events = (run.state_dir / "events.jsonl").read_text()
    assert events.count('"metrics-write-failed"') == 1
    assert not missing.exists()

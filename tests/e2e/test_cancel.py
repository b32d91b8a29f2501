# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``atvm-run-watcher cancel`` end to end on a --runner-pid run: the runner stops too, nothing is posted."""
from __future__ import annotations

import pathlib
import subprocess
import sys
import time

BIN = pathlib.Path(__file__).resolve().parents[2] / "bin"
HOSTS2 = "rhel96-fc-01,ubuntu2204-01"


def test_cli_cancel_stops_the_runner_and_the_watcher(make_run):
    run = make_run("cancel-all", ["--hosts", HOSTS2, "--spec-seconds", "30", "--line-interval", "0.5"], hosts=HOSTS2)
    run.start_runner()
    watcher = run.start_watcher()
    run.wait_ready()
    deadline = time.time() + 30
    while time.time() < deadline and not (run.state_dir / "runner-exit.json.running").exists():
        time.sleep(0.05)
    assert run.state()["runner"]["pid"] == run.runner.pid  # recorded before the watcher said it is ready
    out = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher"), "cancel", "--build-name", "cancel-all",
                          "--state-root", str(run.state_root), "--reason", "test"], env=run.env,
                         capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert "run cancel-all cancelled" in out.stdout and "runner PID {0}".format(run.runner.pid) in out.stdout
    # The runner entry and its command end because of the cancel itself (nobody else kills them here).
    run.runner.wait(60)
    record = run.exit_record()
    assert record["signal"] == 15 or record["exit_code"] not in (None, 0), record
    assert run.wait_watcher(watcher, 60) == 0
    assert run.state()["run_state"] == "CANCELLED"
    assert run.posts() == [] and run.outbox() == []

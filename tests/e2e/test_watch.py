# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""``watch`` end to end, by hand (no systemd): posts, cancel, signals, hangs, delivery failures."""
from __future__ import annotations

import json
import pathlib
import re
import signal
import subprocess
import sys
import time

from e2e_posts import assert_each_posted_once, sending_indexes

BIN = pathlib.Path(__file__).resolve().parents[2] / "bin"

HOSTS2 = "rhel96-fc-01,ubuntu2204-01"
GROUPS3 = "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01;oracle:ol8-03"


def heads(run):
    """First lines of the build's posts; "sub-run 2/3" and "sub-run 2" (total not known yet) alike."""
    return [re.sub(r"sub-run (\d+)/\d+", r"sub-run \1", p.splitlines()[0]) for p in run.posts()]


FAST = ["--spec-seconds", "0.4", "--line-interval", "0.1", "--tests-per-spec", "3"]


def test_non_categorized_pass_posts_once(make_run):
    run = make_run("nc-pass", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2)
    assert run.run_to_end() == 0
    posts = run.posts()
    assert len(posts) == 1
    assert posts[0].startswith("#### ✅ PASS · COMPLETED · build `nc-pass`")
    assert "rhel96-fc-01" in posts[0] and "ubuntu2204-01" in posts[0]
    state = run.state()
    assert (state["run_state"], state["result"]) == ("COMPLETED", "PASS")
    assert state["watcher"]["phase"] == "done"
    assert [r["status"] for r in run.outbox()] == ["SENT"]
    run.assert_no_secret()


def test_non_categorized_fail_posts_once(make_run):
    run = make_run("nc-fail", ["--hosts", HOSTS2, "--fail", "ubuntu2204-01"] + FAST, hosts=HOSTS2)
    assert run.run_to_end() == 0
    posts = run.posts()
    assert len(posts) == 1
    assert posts[0].startswith("#### ❌ FAIL · FAILED · build `nc-fail`")
    assert run.exit_record()["exit_code"] == 1
    assert run.state()["run_state"] == "FAILED"


def test_categorized_three_groups_posts_in_order(make_run):
    run = make_run("cat3", ["--groups", GROUPS3, "--fail", "win2022-01", "--exit-code", "0"] + FAST,
                   categorized=True, hosts=GROUPS3)
    assert run.run_to_end() == 0
    assert heads(run) == [
        "#### ✅ PASS · COMPLETED · build `cat3` · sub-run 1 `linux`",
        "#### ❌ FAIL · COMPLETED · build `cat3` · sub-run 2 `windows`",
        "#### ✅ PASS · COMPLETED · build `cat3` · sub-run 3 `oracle`",
    ]
    state = run.state()
    assert (state["run_state"], state["result"]) == ("COMPLETED", "FAIL")
    assert [(s["name"], s["state"], s["result"], s["delivery"]) for s in state["subruns"]] == [
        ("linux", "COMPLETED", "PASS", "SENT"), ("windows", "COMPLETED", "FAIL", "SENT"),
        ("oracle", "COMPLETED", "PASS", "SENT")]
    subdirs = sorted(p.name for p in (run.state_dir / "subruns").iterdir())
    assert subdirs == ["000-linux", "001-windows", "002-oracle"]
    verdict = json.loads((run.state_dir / "subruns" / "001-windows" / "state.json").read_text())["verdict"]
    assert verdict["hosts"][0]["host"] == "win2022-01" and verdict["hosts"][0]["result"] == "FAIL"
    run.assert_no_secret()


def test_categorized_parent_exit_code_bears_on_last_subrun(make_run):
    run = make_run("cat-exit", ["--groups", GROUPS3, "--exit-code", "3"] + FAST, categorized=True, hosts=GROUPS3)
    assert run.run_to_end() == 0
    assert heads(run)[:2] == [
        "#### ✅ PASS · COMPLETED · build `cat-exit` · sub-run 1 `linux`",
        "#### ✅ PASS · COMPLETED · build `cat-exit` · sub-run 2 `windows`"]
    assert heads(run)[2] == "#### ❌ FAIL · FAILED · build `cat-exit` · sub-run 3 `oracle`"
    assert "the runner exited with code 3" in run.posts()[2]
    assert run.state()["run_state"] == "FAILED"


def test_categorized_crashed_subrun_is_posted_failed(make_run):
    run = make_run("cat-crash", ["--groups", GROUPS3, "--crash-in", "windows", "--exit-code", "0"] + FAST,
                   categorized=True, hosts=GROUPS3)
    assert run.run_to_end() == 0
    assert heads(run)[1] == "#### ❌ FAIL · FAILED · build `cat-crash` · sub-run 2 `windows`"
    assert "Renderer process just crashed" in run.posts()[1]
    assert run.state()["run_state"] == "FAILED"


def test_cancel_marker_means_no_post(make_run):
    run = make_run("cancel", ["--hosts", HOSTS2, "--spec-seconds", "30", "--line-interval", "0.5"], hosts=HOSTS2)
    run.start_runner()
    watcher = run.start_watcher()
    run.wait_ready()
    deadline = time.time() + 30  # the runner's command runs (the cancel stops it: its end is no TERMINATED)
    while time.time() < deadline and not (run.state_dir / "runner-exit.json.running").exists():
        time.sleep(0.05)
    out = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher"), "cancel", "--build-name", "cancel",
                          "--state-root", str(run.state_root), "--reason", "test"], env=run.env,
                         capture_output=True, text=True, check=False, timeout=60)
    assert out.returncode == 0, out.stderr
    assert run.wait_watcher(watcher, 60) == 0
    assert run.state()["run_state"] == "CANCELLED"
    run.kill_runner_tree()
    assert run.posts() == []
    assert run.outbox() == []


REQUEST = " \u00b7 the request"


def test_runner_killed_by_signal_is_terminated_and_told(make_run):
    """Killed from outside: no result is posted for the run, the request post says TERMINATED."""
    run = make_run("killed", ["--hosts", HOSTS2, "--signal-after-spec", "1", "KILL"] + FAST, hosts=HOSTS2)
    assert run.run_to_end() == 0
    assert run.exit_record()["signal"] == signal.SIGKILL
    state = run.state()
    assert (state["run_state"], state["result"]) == ("TERMINATED", "FAIL")
    (post,) = run.posts()
    assert post.splitlines()[0] == "#### ❌ FAIL · TERMINATED · build `killed`" + REQUEST
    assert "killed by signal 9" in post


def test_runner_entry_killed_without_exit_record(make_run):
    run = make_run("killed-entry", ["--hosts", HOSTS2, "--spec-seconds", "30"], hosts=HOSTS2)
    run.start_runner()
    watcher = run.start_watcher()
    run.wait_ready()
    time.sleep(0.5)
    run.runner.kill()  # the runner entry itself: no exit record is written
    run.runner.wait()
    # its simulator child lives on in its own group; the request is not over until it is gone too
    subprocess.run(["pkill", "-KILL", "-f", "cypress_sim.py --hosts {0} --spec-seconds 30".format(HOSTS2)], check=False)
    assert run.wait_watcher(watcher, 20) == 0
    assert run.state()["run_state"] == "TERMINATED"
    assert [p.splitlines()[0] for p in run.posts()] == [
        "#### ❌ FAIL · TERMINATED · build `killed-entry`" + REQUEST]


def test_hang_is_detected_and_told(make_run):
    run = make_run("hang", ["--hosts", HOSTS2, "--hang-after-spec", "1"] + FAST, hosts=HOSTS2,
                   env={"ATVM_HANG_TIMEOUT": "2", "ATVM_HANG_CHECK_INTERVAL": "0.3"})
    started = time.time()
    assert run.run_to_end(timeout=30) == 0
    assert time.time() - started < 15
    state = run.state()
    assert (state["run_state"], state["result"]) == ("HUNG", "FAIL")
    assert [p.splitlines()[0] for p in run.posts()] == ["#### ❌ FAIL · HUNG · build `hang`" + REQUEST]


def test_delivery_deadline_keeps_the_message_and_resend_posts_it(make_run, double):
    run = make_run("deadline", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2, env={"ATVM_DELIVERY_DEADLINE": "2"})
    double.set_faults(fail_5xx=10000, fail_status=503)
    assert run.run_to_end() == 3
    outbox = run.outbox()
    assert [r["status"] for r in outbox] == ["POST_FAILED"]
    assert outbox[0]["text"].startswith("#### ✅ PASS")
    state = run.state()
    assert state["watcher"]["phase"] == "delivery-failed"
    assert state["delivery"]["failed"] == 1
    assert run.posts() == []
    double.set_faults(fail_5xx=0)
    out = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher"), "resend", "--build-name", "deadline",
                          "--state-root", str(run.state_root)], env=run.env, capture_output=True, text=True, check=False)
    run.outputs.extend([out.stdout, out.stderr])
    assert out.returncode == 0, out.stderr
    assert len(run.posts()) == 1
    assert [r["status"] for r in run.outbox()] == ["SENT"]
    run.assert_no_secret()


def test_unknown_hook_is_permanent(make_run, double):
    run = make_run("badhook", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2)
    run.env["MATTERMOST_ATVM_WEBHOOK"] = double.url_for("nosuchhook0000000000000001")
    started = time.time()
    assert run.run_to_end() == 3
    assert time.time() - started < 15
    record = run.outbox()[0]
    assert record["status"] == "POST_FAILED"
    assert "permanent" in record["last_error"]
    assert "nosuchhook0000000000000001" not in "".join(run.outputs) + json.dumps(record)


def test_corrupt_state_is_set_aside_and_nothing_is_lost(make_run):
    run = make_run("corrupt", ["--groups", GROUPS3, "--exit-code", "0", "--spec-seconds", "1"],
                   categorized=True, hosts=GROUPS3)
    run.start_runner(run.tmp / "gate")  # watcher first, as the launch does
    watcher = run.start_watcher()
    run.wait_ready(30)
    (run.tmp / "gate").touch()
    deadline = time.time() + 30
    while time.time() < deadline and len(run.posts()) < 1:
        time.sleep(0.05)
    watcher.kill()
    watcher.communicate()
    # The kill may land between SENDING and SENT of a later post: that post is then sent again,
    # marked as a possible duplicate (the delivery contract), and nothing else may repeat.
    interrupted = sending_indexes(run)
    (run.state_dir / "state.json").write_bytes(b"{\"schema\": 1, \"run_state\": \x00\xff garbage")
    assert run.wait_watcher(run.start_watcher(), 60) == 0
    assert list(run.state_dir.glob("state.json.corrupt-*"))
    assert "state.json" in "".join(run.outputs) and "corrupt" in "".join(run.outputs)
    assert_each_posted_once(run, [
        "#### ✅ PASS · COMPLETED · build `corrupt` · sub-run 1 `linux`",
        "#### ✅ PASS · COMPLETED · build `corrupt` · sub-run 2 `windows`",
        "#### ✅ PASS · COMPLETED · build `corrupt` · sub-run 3 `oracle`"], interrupted)
    assert run.state()["run_state"] == "COMPLETED"


def test_orphaned_children_keep_the_request_alive(make_run, tmp_path):
    """The runner's command exits while a child it forked late (and orphaned) still runs."""
    # No process-tree look while it runs (hang check every 60 s): only the session finds the child.
    run = make_run("orphans", [], hosts=HOSTS2, env={"ATVM_HANG_CHECK_INTERVAL": "60"})
    flag = tmp_path / "child-done"
    script = tmp_path / "wrapper.sh"
    script.write_text("#!/bin/sh\nsleep 1\n( sleep 4; touch {0} ) &\nexit 0\n".format(flag))
    script.chmod(0o755)
    run.sim_args = []
    runner = subprocess.Popen([sys.executable, str(BIN / "atvm-runner"), "--build-name", "orphans", "--state-root",
                               str(run.state_root), "--log", str(run.log), "--command", str(script)], env=run.env)
    run.runner = runner
    watcher = run.start_watcher()
    assert run.wait_watcher(watcher, 30) == 0
    assert flag.exists(), "the watcher ended while the orphaned child was still running"


def test_categorized_wrapper_exit_explained_by_failed_group(make_run):
    """The simulated wrapper exits 1 because windows failed: oracle, which passed, stays PASS."""
    run = make_run("cat-sum", ["--groups", GROUPS3, "--fail", "win2022-01"] + FAST, categorized=True, hosts=GROUPS3)
    assert run.run_to_end() == 0
    assert run.exit_record()["exit_code"] == 1
    assert heads(run) == [
        "#### ✅ PASS · COMPLETED · build `cat-sum` · sub-run 1 `linux`",
        "#### ❌ FAIL · COMPLETED · build `cat-sum` · sub-run 2 `windows`",
        "#### ✅ PASS · COMPLETED · build `cat-sum` · sub-run 3 `oracle`",
    ]
    assert (run.state()["run_state"], run.state()["result"]) == ("FAILED", "FAIL")

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection on the evidence and the runner, process level: stray FIFOs, pasted env values, a
full disk under the runner, a huge reporter directory, a kill at a known point of delivery.

Each test starts the real entry points (``atvm-runner`` running the Cypress simulator,
``atvm-run-watcher``) against the Mattermost double on loopback and checks the promise: every
sub-run posted exactly once (a second copy only when the contract allows it, then marked), nothing
hangs past a bound, no traceback, the webhook URL and its hook id nowhere.
"""
from __future__ import annotations

import gzip
import json
import os
import pathlib
import subprocess
import sys
import time

import pytest
from conftest import HOOK_ID
from e2e_posts import assert_each_posted_once, head, sending_indexes

BIN = pathlib.Path(__file__).resolve().parents[2] / "bin"
HOSTS2 = "rhel96-fc-01,ubuntu2204-01"
GROUPS3 = "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01;oracle:ol8-03"
FAST = ["--spec-seconds", "0.4", "--line-interval", "0.1", "--tests-per-spec", "3"]


def cli(run, *args, timeout=30):
    """``atvm-run-watcher ARGS`` with the run's environment; its output joins the run's outputs."""
    started = time.monotonic()
    proc = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher")] + list(args), env=run.env,
                          capture_output=True, text=True, timeout=timeout, check=False)
    run.outputs.extend([proc.stdout, proc.stderr])
    return proc, time.monotonic() - started


def no_traceback(run):
    for text in run.outputs:
        assert "Traceback" not in text, text


# ---------------------------------------------------------------------------------------------- 3
def test_fifos_among_the_inputs_never_block_and_are_unreadable_evidence(make_run):
    run = make_run("fifo", ["--hosts", HOSTS2, "--spec-seconds", "1.5", "--line-interval", "0.1"], hosts=HOSTS2)
    inventory = run.inventory.read_bytes()
    run.inventory.unlink()
    os.mkfifo(run.inventory)
    started = time.monotonic()
    run.start_runner()
    watcher = run.start_watcher()
    run.wait_ready()
    # Stray FIFOs appear while the run goes on (the run's own files are written around them).
    os.mkfifo(run.reporter / "stray.json")
    os.mkfifo(run.tmp / "elsewhere.json")
    (run.reporter / "linked.json").symlink_to(run.tmp / "elsewhere.json")
    os.mkfifo(run.junit / "results-fifo.xml")
    assert run.wait_watcher(watcher, 60) == 0
    assert time.monotonic() - started < 45
    posts = run.posts()
    assert len(posts) == 1, [head(p) for p in posts]
    assert not posts[0].startswith("#### ✅ PASS"), head(posts[0])
    assert "not a regular file (a FIFO)" in posts[0]
    events = (run.state_dir / "events.jsonl").read_text()
    assert "inventory-unreadable" in events and "not a regular file (a FIFO)" in events
    # The same stray files with a readable inventory: the verdict names them and still ends at once.
    run.inventory.unlink()
    run.inventory.write_bytes(inventory)
    proc, took = cli(run, "verdict", "--log", str(run.log), "--reporter-dir", str(run.reporter), "--junit",
                     str(run.junit), "--inventory", str(run.inventory), "--exit-code", "0", "--json")
    assert proc.returncode == 0 and took < 20, proc.stderr
    doc = json.loads(proc.stdout)
    assert doc["result"] != "PASS"
    assert "results-fifo.xml" in json.dumps(doc)
    no_traceback(run)
    run.assert_no_secret()


def test_a_fifo_as_runner_log_or_template_is_a_clear_error_not_a_hang(make_run):
    run = make_run("fifo-log", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2)
    os.mkfifo(run.log)
    run.start_runner()
    out = run.runner.communicate(timeout=20)[0].decode()
    run.outputs.append(out)
    assert run.runner.returncode == 1
    assert "cannot open the runner log" in out and "not a regular file (a FIFO)" in out
    proc = run.start_watcher()
    assert run.wait_watcher(proc, 20) == 1
    assert "not a regular file (a FIFO)" in run.outputs[-1]
    template = run.auto / "post.md"
    os.mkfifo(template)
    run.env["ATVM_MESSAGE_TEMPLATE"] = str(template)
    proc, took = cli(run, "check-config")
    assert proc.returncode == 1 and took < 20
    assert "ATVM_MESSAGE_TEMPLATE" in proc.stderr
    no_traceback(run)
    run.assert_no_secret()


# ---------------------------------------------------------------------------------------------- 4
def test_a_pasted_value_cannot_add_a_setting_or_post_the_env_file(make_run):
    run = make_run("envfile", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2)
    env_file = run.tmp.parent / "etc" / "atvm-run-watcher.env"  # outside the run's files (it holds the webhook)
    env_file.parent.mkdir(exist_ok=True)
    env_file.write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\nMATTERMOST_ATVM_CHANNEL="atvm-runs"\n'.format(
        run.env["MATTERMOST_ATVM_WEBHOOK"]))
    per_run = run.tmp / "watcher.env"
    # What the launch would write is refused at the source...
    writer = ("import sys; from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import "
              "render_env_file; sys.stdout.write(render_env_file({'ATVM_SCOPE': sys.argv[1]}))")
    evil = "linux\u2028ATVM_MESSAGE_TEMPLATE={0}".format(env_file)
    proc = subprocess.run([sys.executable, "-c", writer, evil], capture_output=True, text=True, check=False,
                          env=dict(run.env, PYTHONPATH=os.environ.get("PYTHONPATH", "")), timeout=30)
    assert proc.returncode == 1 and "line separator" in proc.stderr and "ATVM_MESSAGE_TEMPLATE" not in proc.stderr
    # ... and the same text written by hand stays one value, refused by the reader with its line
    per_run.write_text('ATVM_SCOPE="{0}"\n'.format(evil))
    proc, took = cli(run, "check-config", "--env-file", str(env_file), "--env-file", str(per_run))
    assert proc.returncode == 1 and took < 20
    assert "watcher.env: line 1: the value of ATVM_SCOPE must not contain a line separator" in proc.stderr
    # A template that names the env file itself (or anything outside the automation directory) is refused.
    per_run.write_text('ATVM_MESSAGE_TEMPLATE="{0}"\n'.format(env_file))
    run.start_runner()
    watch = run.watch_argv() + ["--env-file", str(env_file), "--env-file", str(per_run)]
    proc = subprocess.run(watch, env=run.env, capture_output=True, text=True, timeout=30, check=False)
    run.outputs.extend([proc.stdout, proc.stderr])
    assert proc.returncode == 4, proc.stderr
    assert "is an env file" in proc.stderr
    run.kill_runner_tree()
    assert run.posts() == []
    no_traceback(run)
    run.assert_no_secret()


# --------------------------------------------------------------------------------------------- 11
@pytest.fixture
def small_disk(tmp_path):
    """A 1 MiB tmpfs: a real full disk (needs root, as the Molecule tests do)."""
    if os.geteuid() != 0:
        pytest.fail("the full-disk test mounts a tmpfs: run it as root")
    mount = tmp_path / "disk"
    mount.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m,mode=0755", "tmpfs", str(mount)], check=True)
    yield mount
    subprocess.run(["umount", "-l", str(mount)], check=False)


def _fill(path: pathlib.Path) -> None:
    """Write ``path`` until the disk is full."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o600)
    try:
        while os.write(fd, b"\0" * 4096):
            pass
    except OSError:
        pass
    finally:
        os.close(fd)


def test_runner_on_a_full_disk_keeps_the_exit_and_the_post(make_run, small_disk):
    run = make_run("fulldisk", ["--hosts", HOSTS2, "--fail", "ubuntu2204-01", "--spec-seconds", "1.5",
                                "--line-interval", "0.1", "--tests-per-spec", "3"], hosts=HOSTS2)
    # The state directory on the small disk; the log elsewhere (it keeps the evidence).
    run.state_root = small_disk
    run.state_dir = small_disk / "fulldisk"
    run.state_dir.mkdir()
    run.log = run.tmp / "runner.log"
    run.start_runner()
    deadline = time.time() + 10
    while not (run.state_dir / "runner-exit.json.running").exists() and time.time() < deadline:
        time.sleep(0.02)
    filler = small_disk / "filler"
    _fill(filler)
    out = run.runner.communicate(timeout=60)[0].decode()
    run.outputs.append(out)
    assert run.runner.returncode == 1  # the simulated Cypress run failed: its exit code is not lost
    assert "No space left on device" in out and "written over the reserved record" in out
    record = run.exit_record()
    assert (record["exit_code"], record["signal"]) == (1, None)
    # Without even room for the reserve, the journal (the entry's stderr) keeps the code.
    (small_disk / "second").mkdir()
    _fill(small_disk / "filler-2")
    proc = subprocess.run([sys.executable, str(BIN / "atvm-runner"), "--build-name", "second", "--state-root",
                           str(small_disk), "--log", str(run.tmp / "second.log"), "--command", "sh -c 'exit 7'"],
                          env=run.env, capture_output=True, text=True, timeout=30, check=False)
    run.outputs.extend([proc.stdout, proc.stderr])
    assert proc.returncode == 7
    assert "the command ended with exit code 7" in proc.stderr
    # Room again: the watcher posts the run, FAIL, with the recorded exit of the first runner.
    assert not (small_disk / "second" / "runner-exit.json").exists()
    filler.unlink()
    (small_disk / "filler-2").unlink()
    assert run.wait_watcher(run.start_watcher(), 60) == 0
    assert_each_posted_once(run, ["#### ❌ FAIL · FAILED · build `fulldisk`"])
    no_traceback(run)
    run.assert_no_secret()


# --------------------------------------------------------------------------------------------- 10
def test_a_reused_runner_pid_never_holds_the_post(make_run):
    """The runner ended (its exit record says so) and another process now has its PID: the watcher
    posts at once, long before the HUNG bound, and leaves that process alone."""
    run = make_run("reused", ["--hosts", HOSTS2, "--fail", "ubuntu2204-01"] + FAST, hosts=HOSTS2,
                   env={"ATVM_HANG_TIMEOUT": "300", "ATVM_RUNNER_START_TIMEOUT": "300"})
    run.start_runner()
    run.runner.communicate(timeout=60)
    assert "ended_at" in run.exit_record()
    stranger = subprocess.Popen(["sleep", "600"], start_new_session=True)  # holds "the runner's" PID now
    try:
        argv = run.watch_argv()
        argv[argv.index("--runner-pid") + 1] = str(stranger.pid)
        started = time.monotonic()
        watcher = subprocess.Popen(argv, env=run.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        run.watchers.append(watcher)
        assert run.wait_watcher(watcher, 90) == 0
        assert time.monotonic() - started < 60  # waiting for the stranger would last 300 s (HUNG)
        assert stranger.poll() is None  # not signalled, not waited for
    finally:
        stranger.kill()
        stranger.wait()
    assert_each_posted_once(run, ["#### ❌ FAIL · FAILED · build `reused`"])
    assert run.state()["runner"]["exit"]["exit_code"] == 1
    no_traceback(run)
    run.assert_no_secret()


# --------------------------------------------------------------------------------------------- 12
def test_verdict_over_a_huge_reporter_directory_ends_in_linear_time(make_run):
    run = make_run("manyfiles", ["--hosts", HOSTS2] + FAST, hosts=HOSTS2)
    assert run.run_to_end() == 0
    for number in range(24000):
        host = "h{0:05d}".format(number)
        (run.reporter / (host + ".json")).write_text(json.dumps({
            "host": host, "spec": "cypress/e2e/{0}.cy.ts".format(host), "status": "PASS",
            "stats": {"tests": 1, "passes": 1, "failures": 0, "pending": 0, "skipped": 0}}))
    proc, took = cli(run, "verdict", "--log", str(run.log), "--reporter-dir", str(run.reporter), "--inventory",
                     str(run.inventory), "--exit-code", "0", "--json", timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert took < 60, took  # quadratic, this took minutes
    doc = json.loads(proc.stdout)
    assert sum(len(s["hosts"]) for s in doc["subruns"]) == 24002
    no_traceback(run)


# --------------------------------------------------------------------------------------------- 13
def test_kill_between_sending_and_sent_gives_one_marked_copy_at_most(make_run, double):
    run = make_run("killsend", ["--groups", GROUPS3, "--exit-code", "0"] + FAST, categorized=True, hosts=GROUPS3,
                   env={"ATVM_SETTLE_QUIET": "0.2"})
    double.set_faults(delay=1.0)  # a wide window between SENDING and SENT
    run.start_runner()
    watcher = run.start_watcher()
    deadline = time.time() + 30
    while time.time() < deadline and not sending_indexes(run):
        time.sleep(0.01)
    watcher.kill()
    watcher.communicate()
    interrupted = sending_indexes(run)  # the known point: read once the watcher is dead
    assert interrupted, "no post was between SENDING and SENT"
    double.set_faults(delay=0)
    assert run.wait_watcher(run.start_watcher(), 60) == 0
    by_head = assert_each_posted_once(run, [
        "#### ✅ PASS · COMPLETED · build `killsend` · sub-run 1 `linux`",
        "#### ✅ PASS · COMPLETED · build `killsend` · sub-run 2 `windows`",
        "#### ✅ PASS · COMPLETED · build `killsend` · sub-run 3 `oracle`"], interrupted)
    resent = [t for texts in by_head.values() for t in texts if "possible duplicate" in t]
    assert len(resent) == 1  # the interrupted post went out again, marked
    assert [s["delivery"] for s in run.state()["subruns"]] == ["SENT"] * 3
    no_traceback(run)
    run.assert_no_secret()
    assert HOOK_ID not in json.dumps(double.public_posts())


# ---------------------------------------------------------------------------------------------- 2
def _three_groups_until_the_first_post(make_run, build, spec_seconds):
    """A categorized run of three groups (the middle one failing), watcher first as the launch does,
    until sub-run 1 is posted; returns the run and its watcher."""
    run = make_run(build, ["--groups", GROUPS3, "--fail", "win2022-01", "--exit-code", "0", "--spec-seconds",
                           spec_seconds, "--line-interval", "0.1", "--tests-per-spec", "3"], categorized=True,
                   hosts=GROUPS3)
    run.start_runner(run.tmp / "gate")
    watcher = run.start_watcher()
    run.wait_ready(30)
    (run.tmp / "gate").touch()
    deadline = time.time() + 30
    while time.time() < deadline and not run.posts():
        time.sleep(0.05)
    assert run.posts(), "sub-run 1 was never posted"
    return run, watcher


@pytest.mark.parametrize("rotation", ["copytruncate", "rename-and-create"])
def test_log_rotation_mid_run_loses_no_subrun(make_run, rotation):
    build = "rot-" + rotation.split("-")[0]
    run, watcher = _three_groups_until_the_first_post(make_run, build, "1")
    rotated = run.log.with_name("runner.log.1")
    if rotation == "copytruncate":  # what logrotate's copytruncate does
        rotated.write_bytes(run.log.read_bytes())
        with open(run.log, "r+b") as handle:
            handle.truncate(0)
    else:  # logrotate's default: rename, then create an empty log (the runner keeps its descriptor)
        run.log.rename(rotated)
        run.log.write_bytes(b"")
    assert run.wait_watcher(watcher, 60) == 0
    assert_each_posted_once(run, [
        "#### ✅ PASS · COMPLETED · build `{0}` · sub-run 1 `linux`".format(build),
        "#### ❌ FAIL · COMPLETED · build `{0}` · sub-run 2 `windows`".format(build),
        "#### ✅ PASS · COMPLETED · build `{0}` · sub-run 3 `oracle`".format(build)])
    state = run.state()
    assert (state["run_state"], state["result"]) == ("COMPLETED", "FAIL")
    assert [(s["name"], s["result"], s["delivery"]) for s in state["subruns"]] == [
        ("linux", "PASS", "SENT"), ("windows", "FAIL", "SENT"), ("oracle", "PASS", "SENT")]
    events = [json.loads(line) for line in (run.state_dir / "events.jsonl").read_text().splitlines()]
    rotations = [e for e in events if e["event"] == "log-rotated"]
    assert rotations and rotations[0]["reason"] == ("truncated" if rotation == "copytruncate" else "replaced")
    no_traceback(run)
    run.assert_no_secret()


def _copytruncate(log: pathlib.Path, copy: pathlib.Path) -> None:
    copy.write_bytes(log.read_bytes())
    with open(log, "r+b") as handle:
        handle.truncate(0)


@pytest.mark.parametrize("rotation", ["rename-and-create", "copytruncate-twice-compressed"])
def test_log_rotated_while_the_watcher_was_down_loses_no_subrun(make_run, rotation):
    """The watcher is killed after the log was rotated: the one systemd starts again reads the rotated
    files of the run (a compressed one too) before the log, so no sub-run is lost or posted twice."""
    build = "rotdown-" + rotation.split("-")[0]
    run, watcher = _three_groups_until_the_first_post(make_run, build, "1.5")
    first = run.log.with_name("runner.log.1")
    if rotation == "rename-and-create":  # the runner entry keeps writing to the renamed file
        run.log.rename(first)
        run.log.write_bytes(b"")
    else:  # logrotate copytruncate + compress (no delaycompress), twice
        _copytruncate(run.log, first)
        time.sleep(0.8)
        with open(first, "rb") as plain, gzip.open(run.log.with_name("runner.log.2.gz"), "wb") as packed:
            packed.write(plain.read())
        first.unlink()
        _copytruncate(run.log, first)
    watcher.kill()
    watcher.communicate()
    interrupted = sending_indexes(run)
    assert run.wait_watcher(run.start_watcher(), 90) == 0
    assert_each_posted_once(run, [
        "#### ✅ PASS · COMPLETED · build `{0}` · sub-run 1 `linux`".format(build),
        "#### ❌ FAIL · COMPLETED · build `{0}` · sub-run 2 `windows`".format(build),
        "#### ✅ PASS · COMPLETED · build `{0}` · sub-run 3 `oracle`".format(build)], interrupted)
    state = run.state()
    assert (state["run_state"], state["result"]) == ("COMPLETED", "FAIL")
    assert [(s["name"], s["result"], s["delivery"]) for s in state["subruns"]] == [
        ("linux", "PASS", "SENT"), ("windows", "FAIL", "SENT"), ("oracle", "PASS", "SENT")]
    events = [json.loads(line) for line in (run.state_dir / "events.jsonl").read_text().splitlines()]
    assert [e for e in events if e.get("reason") == "rotated-before-start"]
    assert not [e for e in events if e["event"] == "log-rotated-unread"]
    no_traceback(run)
    run.assert_no_secret()

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The channel never contradicts the run: ordinary failures of real controllers, at process level.

A run that dies before Cypress speaks, a late non-zero exit, rotated logs a restarted watcher cannot
read, files that merely look like rotations, a needle-dense rotated file, a flood of sub-runs. Each
test reproduces what left the channel green or silent while state.json said FAILED; the e2e fixture
also checks every run with tests/support/channel_truth.py when it ends.
"""
from __future__ import annotations

import gzip
import json
import re
import os
import shutil
import pathlib
import subprocess
import sys
import time

import pytest

from e2e_posts import assert_each_posted_once, sending_indexes

BIN = pathlib.Path(__file__).resolve().parents[2] / "bin"
HOSTS2 = "rhel96-fc-01,ubuntu2204-01"
GROUPS2 = "linux:rhel96-fc-01;windows:win2022-01"
GROUPS3 = "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01;oracle:ol8-03"
FAST = ["--spec-seconds", "0.3", "--line-interval", "0.05", "--tests-per-spec", "3"]
REQUEST = " \u00b7 the request"


def events(run):
    return [json.loads(line) for line in (run.state_dir / "events.jsonl").read_text().splitlines()]


def the_request_post(run):
    posts = [p for p in run.posts() if REQUEST in p.splitlines()[0]]
    assert len(posts) == 1, run.posts()
    return posts[0]


# ---------------------------------------------------------------------------------------------- 1
@pytest.mark.parametrize("case, wrap, words", [
    ("missing", "exec /nonexistent/run-cypress --config_file x.ts", "/nonexistent/run-cypress: not found"),
    ("director", "echo '===== ATVM category: linux ====='; echo 'run-sorry-cypress: cannot reach the director "
                 "at http://director:1234' >&2; exit 1", "cannot reach the director"),
    ("config", "echo \"Error: Cannot find module '/auto/cypress.atvm-config-gold.ts'\" >&2; exit 1",
     "Cannot find module"),
], ids=["exit-127", "categorized-exit-1-before-its-first-group", "config-error-before-the-banner"])
def test_a_run_that_dies_before_cypress_speaks_is_posted_with_the_runners_words(make_run, case, wrap, words):
    run = make_run("early-" + case, ["--groups", GROUPS2] + FAST, categorized=case == "director", hosts=GROUPS2,
                   wrap=wrap)
    assert run.run_to_end() == 0
    state = run.state()
    assert (state["run_state"], state["result"]) == ("FAILED", "FAIL")
    post = the_request_post(run)
    assert post.splitlines()[0] == "#### \u274c FAIL \u00b7 FAILED \u00b7 build `early-{0}`{1}".format(case, REQUEST)
    assert words in post  # the runner's own words, from its last output
    assert "exit code {0}".format(127 if case == "missing" else 1) in post
    assert run.posts()[-1] == post  # told last (a wrapper marker alone may have been posted as a failed sub-run)
    assert state["request"]["delivery"] == "SENT" and state["delivery"]["sent"] == len(run.posts())
    status = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher"), "status", "--build-name", run.build,
                             "--state-root", str(run.state_root), "--json"], env=run.env, capture_output=True,
                            text=True, check=False, timeout=60)
    info = json.loads(status.stdout)
    assert (info["run_state"], info["result"]) == ("FAILED", "FAIL")
    assert {k: info["request"][k] for k in ("state", "result", "delivery")} == {
        "state": "FAILED", "result": "FAIL", "delivery": "SENT"}
    run.assert_no_secret()


# ---------------------------------------------------------------------------------------------- 2
def test_a_late_non_zero_exit_after_the_last_group_is_told(make_run):
    """Both groups pass and are posted; the wrapper then works on longer than the settle maximum
    (merging reports, uploading) and exits 1: one request post says FAILED / FAIL."""
    run = make_run("late-exit", ["--groups", GROUPS2, "--exit-code", "0"] + FAST, categorized=True, hosts=GROUPS2,
                   wrap="{sim}; sleep 3; echo 'upload of the merged report failed: 503' >&2; exit 1",
                   env={"ATVM_SETTLE_MAX": "1"})
    assert run.run_to_end() == 0
    state = run.state()
    assert (state["run_state"], state["result"]) == ("FAILED", "FAIL")
    heads = [p.splitlines()[0] for p in run.posts()]
    assert heads[:2] == ["#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `late-exit` \u00b7 sub-run 1 `linux`",
                         "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `late-exit` \u00b7 sub-run 2 `windows`"]
    post = the_request_post(run)
    assert post.splitlines()[0] == "#### \u274c FAIL \u00b7 FAILED \u00b7 build `late-exit`" + REQUEST
    assert "upload of the merged report failed: 503" in post and "exit code 1" in post
    assert len(heads) == 3


# ---------------------------------------------------------------------------------------------- 3
def _g2_running_then_watcher_killed(make_run, build, env=None):
    """Three groups (windows failing); the watcher is killed once sub-run 1 is posted, while sub-run 2 runs."""
    run = make_run(build, ["--groups", GROUPS3, "--fail", "win2022-01", "--exit-code", "0", "--spec-seconds", "1.5",
                           "--line-interval", "0.1", "--tests-per-spec", "3"], categorized=True, hosts=GROUPS3,
                   env=env)
    run.start_runner(run.tmp / "gate")
    watcher = run.start_watcher()
    run.wait_ready(30)
    (run.tmp / "gate").touch()
    deadline = time.time() + 30
    while time.time() < deadline and not run.posts():
        time.sleep(0.05)
    assert run.posts(), "sub-run 1 was never posted"
    watcher.kill()
    watcher.communicate()
    return run


def _copytruncate(log, copy):
    copy.write_bytes(log.read_bytes())
    with open(log, "r+b") as handle:
        handle.truncate(0)


@pytest.mark.parametrize("loss", ["zstd", "deleted", "olddir-unknown"])
def test_a_rotated_log_the_restarted_watcher_cannot_read_never_renumbers(make_run, loss):
    """The log is rotated (copytruncate) while sub-run 2 runs and the watcher is down; the rotated
    text is compressed with zstd, deleted, or moved where nothing says to look. The restarted watcher
    keeps the recorded numbers: sub-run 2 is posted as itself (never PASS, naming what was lost),
    sub-run 3 as sub-run 3 with its own hosts, sub-run 1 is not posted again."""
    build = "lost-" + loss.split("-")[0]
    run = _g2_running_then_watcher_killed(make_run, build)
    first = run.log.with_name("runner.log.1")
    _copytruncate(run.log, first)
    if loss == "zstd":
        if shutil.which("zstd") is None:
            pytest.fail("zstd is needed for this test (the host packages of `make test` install it)")
        subprocess.run(["zstd", "-q", "--rm", str(first)], check=True)
    elif loss == "deleted":
        first.unlink()
    else:
        elsewhere = run.tmp / "old-logs"
        elsewhere.mkdir()
        first.rename(elsewhere / first.name)
    interrupted = sending_indexes(run)
    assert run.wait_watcher(run.start_watcher(), 90) == 0
    by_head = assert_each_posted_once(run, [
        "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `{0}` \u00b7 sub-run 1 `linux`".format(build),
        "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `{0}` \u00b7 sub-run 2 `windows`".format(build),
        "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `{0}` \u00b7 sub-run 3 `oracle`".format(build)], interrupted)
    third = by_head["#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `{0}` \u00b7 sub-run 3 `oracle`".format(build)][0]
    assert "ol8-03" in third and "rhel96-fc-01" not in third  # its own host, not sub-run 1's
    second = by_head["#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `{0}` \u00b7 sub-run 2 `windows`".format(build)][0]
    assert "rotated away unread" in second
    if loss == "zstd":
        assert "runner.log.1.zst" in second
    state = run.state()
    assert [(s["index"], s["name"], s["delivery"]) for s in state["subruns"]] == [
        (0, "linux", "SENT"), (1, "windows", "SENT"), (2, "oracle", "SENT")]
    assert [e for e in events(run) if e["event"] == "log-rotated-unread"]


def test_olddir_named_by_the_logrotate_configuration_is_read(make_run, tmp_path):
    """The rotated file moved by logrotate's olddir: found where the configuration says, nothing lost."""
    conf = tmp_path / "logrotate.conf"
    build = "olddir"
    run = _g2_running_then_watcher_killed(make_run, build, env={"ATVM_LOGROTATE_CONF": str(conf)})
    olddir = run.tmp / "old-logs"
    olddir.mkdir()
    conf.write_text("weekly\n{0} {{\n  copytruncate\n  olddir {1}\n}}\n".format(run.log, olddir))
    _copytruncate(run.log, olddir / "runner.log.1")
    interrupted = sending_indexes(run)
    assert run.wait_watcher(run.start_watcher(), 90) == 0
    assert_each_posted_once(run, [
        "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `olddir` \u00b7 sub-run 1 `linux`",
        "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `olddir` \u00b7 sub-run 2 `windows`",
        "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `olddir` \u00b7 sub-run 3 `oracle`"], interrupted)
    assert not [e for e in events(run) if e["event"] == "log-rotated-unread"]
    assert "rotated away" not in "\n".join(run.posts())


# ---------------------------------------------------------------------------------------------- 4
def test_an_operators_copy_of_the_log_is_not_read_again(make_run):
    build = "bak"
    run = _g2_running_then_watcher_killed(make_run, build)
    shutil.copy(str(run.log), str(run.log.with_name("runner.log.bak")))
    shutil.copy(str(run.log), str(run.log.with_name("runner.log.1")))  # even when named as a rotation
    interrupted = sending_indexes(run)
    assert run.wait_watcher(run.start_watcher(), 90) == 0
    assert_each_posted_once(run, [
        "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `bak` \u00b7 sub-run 1 `linux`",
        "#### \u274c FAIL \u00b7 COMPLETED \u00b7 build `bak` \u00b7 sub-run 2 `windows`",
        "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `bak` \u00b7 sub-run 3 `oracle`"], interrupted)
    skipped = [e for e in events(run) if e["event"] == "log-rotated-skipped"]
    assert [os.path.basename(e["file"]) for e in skipped] == ["runner.log.1"]  # .bak is no rotation name


def test_another_builds_log_with_a_longer_name_is_never_taken(make_run, tmp_path):
    """Logs named /logs/<build>: build `alike` never reads the live log of build `alike-2` (which fails)."""
    logs = tmp_path / "logs"
    other = make_run("alike-2", ["--hosts", "win2022-01", "--fail", "win2022-01"] + FAST, hosts="win2022-01",
                     log=logs / "alike-2")
    assert other.run_to_end() == 0
    run = make_run("alike", ["--hosts", HOSTS2, "--spec-seconds", "1"], hosts=HOSTS2, log=logs / "alike")
    run.start_runner(run.tmp / "gate")
    watcher = run.start_watcher()
    run.wait_ready(30)
    (run.tmp / "gate").touch()
    time.sleep(1.0)
    watcher.kill()  # a restart: the one started again looks for rotated files of its log
    watcher.communicate()
    assert run.wait_watcher(run.start_watcher(), 60) == 0
    (post,) = run.posts()
    assert post.startswith("#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `alike`")
    assert "win2022-01" not in post


# ---------------------------------------------------------------------------------------------- 5
def test_a_needle_dense_rotated_file_never_holds_the_start(make_run):
    """A rotated file of 16 MiB of `(Results)` lines beside the log: the restarted watcher is ready
    at once and reads it in slices, answering a cancel while it does."""
    run = make_run("dense", ["--hosts", HOSTS2, "--spec-seconds", "30"], hosts=HOSTS2)
    line = b"  (Results)\n"
    with gzip.open(run.log.with_name("runner.log.1.gz"), "wb", compresslevel=1) as packed:
        packed.write(line * (16 * 1024 * 1024 // len(line)))
    run.start_runner()
    started = time.monotonic()
    watcher = run.start_watcher()
    run.wait_ready(30)
    ready = time.monotonic() - started
    assert ready < 5.0, "ready after {0:.1f} s".format(ready)
    cancel = time.monotonic()
    (run.state_dir / "cancel").write_text(json.dumps({"schema": 1, "requested_at": "now", "by": "t", "reason": "t"}))
    assert run.wait_watcher(watcher, 30) == 0
    assert time.monotonic() - cancel < 10
    assert run.state()["run_state"] == "CANCELLED"


# ---------------------------------------------------------------------------------------------- 6
def test_a_flood_of_sub_runs_is_bounded_by_the_post_cap(make_run):
    groups = ";".join("g{0}:rhel96-fc-{0:02d}".format(n) for n in range(1, 9))
    run = make_run("flood", ["--groups", groups, "--spec-seconds", "0", "--tests-per-spec", "1"], categorized=True,
                   hosts=groups, env={"ATVM_MAX_POSTS": "5"})
    assert run.run_to_end(timeout=90) == 0
    heads = [p.splitlines()[0] for p in run.posts()]
    assert len(heads) == 6, heads
    assert all("sub-run" in h for h in heads[:5])
    post = the_request_post(run)
    assert post.splitlines()[0] == "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `flood`" + REQUEST
    assert "Decided, not posted (3 PASS; at most 5 posts per request)" in post
    state = run.state()
    assert [s["held"] for s in state["subruns"]] == [False] * 5 + [True] * 3


# ---------------------------------------------------------------------------------------------- stray
def test_a_wrapper_marker_that_began_no_group_is_told_in_the_request_post(make_run):
    """The wrapper announces a group and goes straight to the next one (it skipped it): the marker
    is stray, no sub-run is made of it; both groups that ran pass and are posted, and one request
    post names the stray marker (the sub-run posts alone would not show that a group was announced
    and never ran)."""
    run = make_run("stray-marker", ["--groups", GROUPS2, "--exit-code", "0"] + FAST, categorized=True, hosts=GROUPS2,
                   wrap="echo '===== ATVM category: oracle ====='; {sim}")
    assert run.run_to_end() == 0
    state = run.state()
    assert (state["run_state"], state["result"]) == ("COMPLETED", "PASS")
    heads = [p.splitlines()[0] for p in run.posts()]
    # "sub-run 1" while the wrapper runs, "sub-run 1/2" once it is over: either, by the design
    for head, position, name in zip(heads, ("1", "2"), ("linux", "windows")):
        assert re.fullmatch("#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `stray-marker` \u00b7 sub-run {0}(/2)? `{1}`"
                            .format(position, name), head), heads
    post = the_request_post(run)
    assert post.splitlines()[0] == "#### \u2705 PASS \u00b7 COMPLETED \u00b7 build `stray-marker`" + REQUEST
    assert "**Stray markers:** 1 wrapper marker line(s) began no sub-run" in post and "`oracle`" in post, post
    assert len(heads) == 3 and state["request"]["delivery"] == "SENT"


def test_four_hundred_markers_with_no_group_after_them_are_one_request_post(make_run):
    """A wrapper prints its category marker 400 times and exits 1 without running anything: the
    markers followed by the next one are stray (no sub-run, no post), the last one is a group that
    never started (one FAIL post); one request post counts the stray ones. Not 400 posts."""
    run = make_run("marker-flood", FAST, categorized=True, hosts=GROUPS2,
                   wrap="for i in $(seq 400); do echo \"===== ATVM category: g$i =====\"; done; exit 1")
    assert run.run_to_end(timeout=90) == 0
    state = run.state()
    assert (state["run_state"], state["result"]) == ("FAILED", "FAIL")
    heads = [p.splitlines()[0] for p in run.posts()]
    assert len(heads) == 2, heads
    assert heads[0].startswith("#### \u274c FAIL \u00b7 FAILED \u00b7 build `marker-flood` \u00b7 sub-run 1") and "`g400`" in heads[0]
    post = the_request_post(run)
    assert post.splitlines()[0] == "#### \u274c FAIL \u00b7 FAILED \u00b7 build `marker-flood`" + REQUEST
    assert "**Stray markers:** 399 wrapper marker line(s) began no sub-run" in post and "`g1`" in post, post

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Fault injection at process level: what a hostile-but-ordinary world throws at text and delivery.

Each test starts the real entry points (``bin/atvm-runner`` running the Cypress simulator,
``bin/atvm-run-watcher watch`` / ``resend`` / ``verdict`` / ``check-config`` / ``status``) against the
Mattermost double on loopback, and asserts the promise: every sub-run posted exactly once (extra
copies marked), nothing hangs past a bound, no traceback, and the webhook URL and its hook id
nowhere (posts, every file under the run's directories, stdout, stderr, ``status --json``, the
runner log). The evidence is made hostile by a wrapper around the simulator (``INJECT``): after the
Cypress run it edits the failing host's reporter artifact, adds files, prints lines and its own
environment into the runner log.
"""
from __future__ import annotations

import datetime
import json
import pathlib
import shlex
import subprocess
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "bin"
SIM = ROOT / "tests" / "support" / "cypress_sim.py"
HOSTS = "rhel96-fc-01,ubuntu2204-01"
FAILING = "ubuntu2204-01"
FAST = ["--spec-seconds", "0.3", "--line-interval", "0.05", "--tests-per-spec", "3"]
NOTE = "possible duplicate"

INJECT = r'''
import json, os, subprocess, sys
args = json.loads(sys.argv[1])
rc = subprocess.call(args["sim"])
sys.stdout.flush()
if args.get("event"):
    path = os.path.join(args["reporter"], args["host"] + ".json")
    with open(path, encoding="utf-8") as handle:
        doc = json.load(handle)
    doc["events"].append(["2026-11-27T10:40:00Z", "error", args["event"]])
    with open(path, "w", encoding="ascii") as handle:
        json.dump(doc, handle, ensure_ascii=True)  # a lone surrogate stays a \ud83d escape, as JavaScript writes it
for name_hex, content in args.get("files", []):
    with open(os.fsencode(args["reporter"]) + b"/" + bytes.fromhex(name_hex), "w", encoding="utf-8") as handle:
        handle.write(content)
for line in args.get("print", []):
    print(line)
if args.get("printenv"):
    for key in sorted(os.environ):
        print("env {0}={1}".format(key, os.environ[key]))
sys.exit(rc)
'''


def _start_runner(run, **inject):
    """``run.start_runner()`` with the simulator wrapped by INJECT (the same runner entry, the same log)."""
    script = run.tmp / "inject.py"
    script.write_text(INJECT)
    sim = [sys.executable, str(SIM)] + run.sim_args + ["--reporter-dir", str(run.reporter), "--junit-dir", str(run.junit)]
    inject.update({"sim": sim, "reporter": str(run.reporter), "host": FAILING})
    command = " ".join(shlex.quote(a) for a in [sys.executable, str(script), json.dumps(inject)])
    run.runner = subprocess.Popen(
        [sys.executable, str(BIN / "atvm-runner"), "--build-name", run.build, "--state-root", str(run.state_root),
         "--log", str(run.log), "--command", command],
        env=run.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    return run.runner


def _cli(run, *args, env=None, timeout=60):
    """A watcher sub-command; its output joins what no secret may appear in."""
    proc = subprocess.run([sys.executable, str(BIN / "atvm-run-watcher")] + [str(a) for a in args],
                          env=env or run.env, capture_output=True, timeout=timeout, check=False)
    out, err = proc.stdout.decode("utf-8", "replace"), proc.stderr.decode("utf-8", "replace")
    run.outputs.extend([out, err])
    assert "Traceback" not in out + err, out + err
    return proc.returncode, out, err


def _watch(run, timeout=60, **inject):
    _start_runner(run, **inject)
    time.sleep(0.1)
    started = time.monotonic()
    rc = run.wait_watcher(run.start_watcher(), timeout)
    assert "Traceback" not in run.outputs[-1], run.outputs[-1]
    return rc, time.monotonic() - started


def _status(run):
    rc, out, _err = _cli(run, "status", "--build-name", run.build, "--state-root", run.state_root, "--json")
    assert rc == 0
    return json.loads(out)


def _hook_id(run):
    return run.env["MATTERMOST_ATVM_WEBHOOK"].rsplit("/", 1)[-1]


def _secrets(run):
    return (run.env["MATTERMOST_ATVM_WEBHOOK"], _hook_id(run))


def _assert_nowhere(run, *texts, planted=()):
    """No secret in posts, outputs, ``status --json``, the given texts, or any file of the run (runner
    log included), except the ``planted`` evidence files where the test itself put the webhook."""
    if (run.state_dir / "state.json").exists():
        texts += (json.dumps(_status(run)),)
    if not planted:
        run.assert_no_secret()
    for path in run.tmp.rglob("*"):
        if path.is_file() and path not in planted:
            texts += (path.read_bytes().decode("utf-8", "replace"),)
    for text in list(texts) + run.posts() + run.outputs:
        for secret in _secrets(run):
            assert secret not in text


def _requests_of_hook(double):
    return [r for r in double.requests if r.get("method") == "POST" and r.get("path") == "/hooks/hook-1"]


# ---------------------------------------------------------------------------------------------
# 1. text that JavaScript really writes, file names that are not UTF-8
# ---------------------------------------------------------------------------------------------


def test_item1_lone_surrogate_and_undecodable_file_name_lose_nothing(make_run, double):
    run = make_run("surrogate", ["--hosts", HOSTS, "--fail", FAILING] + FAST, hosts=HOSTS)
    rc, _took = _watch(run, event="boot check failed \ud83d",
                       files=[(b"vm-\xff\xfe.json".hex(), "{"), (b"h\xe9-\xff.json".hex(), '{"host": 1}')])
    assert rc == 0
    (post,) = run.posts()
    assert post.startswith("#### \u274c FAIL \u00b7 FAILED \u00b7 build `surrogate`")
    assert "boot check failed \ufffd" in post
    assert [r["status"] for r in run.outbox()] == ["SENT"]
    state = run.state()
    assert (state["run_state"], [s["delivery"] for s in state["subruns"]]) == ("FAILED", ["SENT"])
    # verdict without --json on a strict UTF-8 stdout
    strict = dict(run.env, PYTHONIOENCODING="utf-8:strict", LC_ALL="C.UTF-8")
    rc, out, _err = _cli(run, "verdict", "--log", run.log, "--reporter-dir", run.reporter, "--inventory", run.inventory,
                         "--exit-code", "1", env=strict)
    assert rc == 0 and out.startswith("FAILED / FAIL") and "\ufffd" in out
    rc, out, _err = _cli(run, "status", "--build-name", run.build, "--state-root", run.state_root, env=strict)
    assert rc == 0 and "FAILED" in out
    _assert_nowhere(run)


def test_item1_resend_of_a_stored_surrogate_posts_once(make_run, double):
    run = make_run("resend-surrogate", ["--hosts", HOSTS] + FAST, hosts=HOSTS)
    outbox = run.state_dir / "outbox"
    outbox.mkdir(parents=True)
    # a record as the watcher leaves it after a failed delivery, the text holding half an emoji
    (outbox / "000-run.json").write_text(json.dumps({
        "schema": 1, "key": "000-run", "status": "POST_FAILED", "text": "#### FAIL build `resend-surrogate` x \ud83d",
        "possibly_posted": False, "attempts": 3}, ensure_ascii=True))
    rc, out, _err = _cli(run, "resend", "--build-name", run.build, "--state-root", run.state_root,
                         env=dict(run.env, PYTHONIOENCODING="utf-8:strict"))
    assert rc == 0 and "000-run: SENT" in out
    assert run.posts() == ["#### FAIL build `resend-surrogate` x \ufffd"]
    rc, out, _err = _cli(run, "resend", "--build-name", run.build, "--state-root", run.state_root, "--key", "000-run")
    assert rc == 0 and len(run.posts()) == 1  # SENT is never posted again
    _assert_nowhere(run)


# ---------------------------------------------------------------------------------------------
# 5. the webhook never escapes: not through evidence, not through the runner
# ---------------------------------------------------------------------------------------------


def test_item5_webhook_in_evidence_and_runner_environment_leaks_nowhere(make_run, double):
    run = make_run("leak", ["--hosts", HOSTS, "--fail", FAILING] + FAST, hosts=HOSTS,
                   env={"ATVM_RUNNER_COMMAND": "python3 run.py --record-key s3cr3tk3y --env password=pw9,user=bob",
                        "ATVM_TEMPLATE_COMMAND": "tool --pin 4321 https://me:pa55@git.example/x",
                        "ATVM_REDACT_NAMES": "pin"})
    webhook = run.env["MATTERMOST_ATVM_WEBHOOK"]
    rc, _took = _watch(run, event="POST {0} failed: 502, other hook http://mm.example/hooks/zz0other0hook0".format(webhook),
                       print=["Error: could not reach {0}".format(webhook)], printenv=True)
    assert rc == 0
    log = run.log.read_text(encoding="utf-8", errors="replace")
    assert "env PATH=" in log  # the wrapper did print its environment ...
    assert "MATTERMOST_" not in log  # ... and the runner entry gave it no MATTERMOST_* variable
    assert log.count(webhook) == 1  # only the crash line the command printed itself
    (post,) = run.posts()
    assert "POST `***` failed" in post and "/hooks/***" in post  # a URL from evidence is inline code
    for secret in ("s3cr3tk3y", "pw9", "4321", "pa55", "zz0other0hook0"):
        assert secret not in post
    assert "user=bob" in post
    (decided_path,) = (run.state_dir / "subruns").glob("*/state.json")
    decided = decided_path.read_text()
    assert "POST *** failed" in decided  # the verdict was kept, redacted
    _assert_nowhere(run, planted=(run.log, run.reporter / (FAILING + ".json")))
    # the unit: the runner reads only its per-run env file
    unit = (ROOT / "roles" / "controller" / "templates" / "atvm-runner@.service.j2").read_text()
    assert "EnvironmentFile={{ _controller_env_file }}" not in unit
    assert [line for line in unit.splitlines() if line.startswith("EnvironmentFile=")] == [
        "EnvironmentFile={{ controller_state_root }}/%i/runner.env"]
    assert "--state-root {{ controller_state_root }}" in unit
    # ... and the watcher none: it reads the global and its per-run env file itself, once
    watcher_unit = (ROOT / "roles" / "controller" / "templates" / "atvm-run-watcher@.service.j2").read_text()
    assert not [line for line in watcher_unit.splitlines() if line.startswith("EnvironmentFile=")]
    assert "watch --build-name %i --state-root {{ controller_state_root }}" in watcher_unit


def test_item5_check_config_never_echoes_a_hooks_url(make_run, double, tmp_path):
    run = make_run("check", ["--hosts", HOSTS] + FAST, hosts=HOSTS)
    url = "http://mm.example:8065/hooks/" + _hook_id(run)
    env_file = tmp_path / "bad.env"
    env_file.write_text('MATTERMOST_ATVM_WEBHOOK="{0}"\nMATTERMOST_ATVM_CHANNEL="{0}"\nATVM_SCOPE="{0}"\n'
                        'ATVM_SUBRUN_MARKER_REGEX="({0}"\nATVM_HANG_TIMEOUT="{0}"\n'.format(url))
    clean = {k: v for k, v in run.env.items() if not k.startswith(("ATVM_", "MATTERMOST_"))}
    rc, out, err = _cli(run, "check-config", "--env-file", env_file, env=clean)
    assert rc != 0 and "ATVM_HANG_TIMEOUT" in err
    env_file.write_text(env_file.read_text().replace('ATVM_HANG_TIMEOUT="{0}"\n'.format(url), ""))
    rc, out, err = _cli(run, "check-config", "--env-file", env_file, env=clean)
    assert rc != 0 and "MATTERMOST_ATVM_CHANNEL" in err and "ATVM_SUBRUN_MARKER_REGEX" in err
    for text in (out, err):
        assert _hook_id(run) not in text and url not in text


# ---------------------------------------------------------------------------------------------
# 6. a 200 whose body is not "ok"
# ---------------------------------------------------------------------------------------------


def test_item6_200_with_another_body_gives_marked_copies_and_at_most_one_more(make_run, double):
    # once: the proxy passed the post on and answered "okay"; the retry gets Mattermost's "ok"
    run = make_run("odd200", ["--hosts", HOSTS] + FAST, hosts=HOSTS)
    double.set_faults(wrong_body=1, wrong_body_text="okay", wrong_body_after_create=True)
    assert _watch(run)[0] == 0
    first, second = run.posts()
    assert NOTE not in first and second.startswith(":warning: possible duplicate")
    (record,) = run.outbox()
    assert (record["status"], record["possible_duplicate"]) == ("SENT", True)
    # always: one more copy (marked), then the delivery fails and the watcher says so
    double.reset()
    run2 = make_run("odd200-always", ["--hosts", HOSTS] + FAST, hosts=HOSTS)
    double.set_faults(wrong_body=1000, wrong_body_text="okay", wrong_body_after_create=True)
    rc, took = _watch(run2)
    assert rc == 3 and took < 20
    first, second = run2.posts()
    assert NOTE not in first and NOTE in second
    assert len(_requests_of_hook(double)) == 2
    (record,) = run2.outbox()
    assert record["status"] == "POST_FAILED" and record["possible_duplicate"] and "at most 1 more copy" in record["last_error"]
    _assert_nowhere(run)
    _assert_nowhere(run2)


# ---------------------------------------------------------------------------------------------
# 7. 429 with Retry-After: 0
# ---------------------------------------------------------------------------------------------


def test_item7_429_retry_after_0_is_not_a_tight_loop(make_run, double):
    run = make_run("ratelimit0", ["--hosts", HOSTS] + FAST, hosts=HOSTS,
                   env={"ATVM_DELIVERY_MAX_ATTEMPTS": "6", "ATVM_RETRY_MIN_DELAY": "0.4"})
    double.set_faults(rate_limit=1000000, retry_after=0)
    rc, took = _watch(run)
    assert rc == 3 and took < 20
    requests = _requests_of_hook(double)
    assert len(requests) == 6 and all(r["status"] == 429 for r in requests)
    (record,) = run.outbox()
    assert record["status"] == "POST_FAILED" and "at most 6 attempts per post" in record["last_error"]
    assert not record.get("possible_duplicate")
    # the default floor of 1 s holds against the server
    double.reset()
    double.set_faults(rate_limit=1000000, retry_after=0)
    env = {k: v for k, v in run.env.items() if k != "ATVM_RETRY_MIN_DELAY"}
    env["ATVM_DELIVERY_MAX_ATTEMPTS"] = "3"
    rc, out, _err = _cli(run, "resend", "--build-name", run.build, "--state-root", run.state_root, env=env)
    assert rc == 3 and "at most 3 attempts per post" in out
    times = [datetime.datetime.fromisoformat(r["received_at"].replace("Z", "+00:00")) for r in _requests_of_hook(double)]
    assert len(times) == 3
    assert all((later - earlier).total_seconds() >= 0.95 for earlier, later in zip(times, times[1:])), times
    # the server lets go: the post arrives once, unmarked (a 429 created nothing)
    double.reset()
    rc, out, _err = _cli(run, "resend", "--build-name", run.build, "--state-root", run.state_root)
    assert rc == 0
    (post,) = run.posts()
    assert NOTE not in post
    _assert_nowhere(run)


# ---------------------------------------------------------------------------------------------
# 8. an answer dripping one byte every 1.5 s
# ---------------------------------------------------------------------------------------------


def test_item8_dripping_server_cannot_hold_the_watcher_past_its_deadline(make_run, double):
    run = make_run("drip", ["--hosts", HOSTS] + FAST, hosts=HOSTS,
                   env={"ATVM_HTTP_TIMEOUT": "2", "ATVM_DELIVERY_DEADLINE": "8"})
    double.set_faults(drip=1000, drip_interval=1.5, drip_for=60.0)
    rc, took = _watch(run, timeout=40)
    # the run itself takes a few seconds; the delivery at most its deadline plus one attempt's margin
    assert rc == 3 and took < 8 + 3 + 10, took
    (record,) = run.outbox()
    # the last attempt is cut by the watchdog, or (with less than its margin left) by the read timeout
    assert record["status"] == "POST_FAILED" and "(ambiguous: the post may exist)" in record["last_error"]
    assert record["possible_duplicate"]
    events = (run.state_dir / "events.jsonl").read_text()
    assert "(the time limit of one attempt)" in events  # the watchdog cut the dripping answers
    # once the server behaves, resend posts it once, marked (an attempt may have reached the channel)
    double.reset()
    double.set_faults(drip=1, drip_interval=1.5, drip_for=60.0)
    started = time.monotonic()
    rc, out, _err = _cli(run, "resend", "--build-name", run.build, "--state-root", run.state_root)
    assert rc == 0 and time.monotonic() - started < 8
    (post,) = run.posts()
    assert post.startswith(":warning: possible duplicate")
    _assert_nowhere(run)


# ---------------------------------------------------------------------------------------------
# 9. channel-wide mentions
# ---------------------------------------------------------------------------------------------


def test_item9_no_mention_form_pings_the_channel(make_run, double):
    run = make_run("mentions", ["--hosts", HOSTS, "--fail", FAILING] + FAST, hosts=HOSTS,
                   env={"ATVM_SCOPE": "linux @all"})
    rc, _took = _watch(run, event="<!channel> <!here> <!all> <!HERE> @channel @Here @ALL @all-hands failed")
    assert rc == 0
    (post,) = run.posts()
    assert "failed" in post and "\u200b" in post
    lowered = post.lower()
    for mention in ("<!channel>", "<!here>", "<!all>", "@channel", "@here", "@all"):
        assert mention not in lowered
    _assert_nowhere(run)

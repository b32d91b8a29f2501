# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""End to end without systemd: the Cypress run simulator (through the runner entry), the Mattermost
double and ``atvm-run-watcher watch`` in separate processes."""
from __future__ import annotations

import json
import os
import pathlib
import signal
import subprocess
import sys
import time
from typing import Any, Dict, List, Optional

import pytest

# Imported here, before pytest-ansible puts Ansible's collection loader in front (which cannot load
# this package afterwards); the tests take prom_text and cypress_sim from this module.
from ansible_collections.atvm.watcher.tests.support import cypress_sim, mattermost_double, prom_text  # noqa: F401  # pylint: disable=unused-import
from ansible_collections.atvm.watcher.tests.support.channel_truth import assert_channel_agrees

ROOT = pathlib.Path(__file__).resolve().parents[2]
BIN = ROOT / "bin"
SIM = ROOT / "tests" / "support" / "cypress_sim.py"
HOOK_ID = "e2ehook0000000000000000001"
CHANNEL = "atvm-runs"


@pytest.fixture(scope="session")
def double():
    server = mattermost_double.MattermostDouble(hook_ids=(HOOK_ID,), channels=(CHANNEL,))
    server.start()
    yield server
    server.stop()


class E2ERun:
    """One build: its directories, its runner and watcher processes, what the double got for it."""

    def __init__(self, tmp: pathlib.Path, double: Any, build: str, sim_args: List[str], categorized: bool,
                 env: Optional[Dict[str, str]] = None, hosts: str = "", wrap: Optional[str] = None,
                 log: Optional[pathlib.Path] = None, state_root: Optional[pathlib.Path] = None) -> None:
        self.tmp = tmp
        self.double = double
        self.build = build
        self.sim_args = sim_args
        self.categorized = categorized
        self.state_root = state_root or tmp / "state"  # a shared one: the builds of one suite (its history)
        self.state_dir = self.state_root / build
        self.auto = tmp / "auto"
        self.reporter = self.auto / "cypress" / "reports" / "cmc"
        self.junit = self.auto / "cypress" / "results"
        self.inventory = self.auto / "atvm" / "inventory" / "vm-inventory.md"
        self.log = log or self.state_dir / "runner.log"
        # A wrapper around the simulator, as a shell command with {sim} where the simulator runs (or
        # without it: a wrapper that never starts Cypress).
        self.wrap = wrap
        for path in (self.state_dir, self.reporter, self.junit, self.inventory.parent, self.log.parent):
            path.mkdir(parents=True, exist_ok=True)
        self.env = dict(os.environ)
        self.env.update({
            "MATTERMOST_ATVM_WEBHOOK": double.url_for(HOOK_ID), "MATTERMOST_ATVM_CHANNEL": CHANNEL,
            "ATVM_SETTLE_QUIET": "0.3", "ATVM_SETTLE_MAX": "20", "ATVM_HANG_TIMEOUT": "60",
            "ATVM_HANG_CHECK_INTERVAL": "0.5", "ATVM_DELIVERY_DEADLINE": "20", "ATVM_HTTP_TIMEOUT": "2",
            "ATVM_POLL_INTERVAL": "0.1",
        })
        self.env.update(env or {})
        self.runner: Optional[subprocess.Popen] = None
        self.watchers: List[subprocess.Popen] = []
        self.outputs: List[str] = []
        self.channel: List[str] = []  # every post of this build the double held at some point (a test may reset it)
        subprocess.run([sys.executable, str(SIM), "--write-inventory", str(self.inventory), "--inventory-only"]
                       + (["--groups", hosts] if ";" in hosts or ":" in hosts else ["--hosts", hosts]),
                       check=True, capture_output=True)

    # processes ------------------------------------------------------------------------------------
    def start_runner(self, gate: Optional[pathlib.Path] = None) -> subprocess.Popen:
        """Start the runner entry; with ``gate`` its command waits until that file exists (as the launch
        holds the runner until the watcher is ready)."""
        command = " ".join([sys.executable, str(SIM)] + [_quote(a) for a in self.sim_args] + [
            "--reporter-dir", str(self.reporter), "--junit-dir", str(self.junit)])
        if self.wrap is not None:
            command = "sh -c " + _quote(self.wrap.replace("{sim}", command))
        if gate is not None:
            command = "sh -c " + _quote("while [ ! -e {0} ]; do sleep 0.02; done; exec {1}".format(
                _quote(str(gate)), command))
        self.runner = subprocess.Popen(
            [sys.executable, str(BIN / "atvm-runner"), "--build-name", self.build, "--state-root", str(self.state_root),
             "--log", str(self.log), "--command", command],
            env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        return self.runner

    def watch_argv(self) -> List[str]:
        assert self.runner is not None
        argv = [sys.executable, str(BIN / "atvm-run-watcher"), "watch", "--build-name", self.build,
                "--state-root", str(self.state_root), "--runner-log", str(self.log),
                "--reporter-dir", str(self.reporter), "--junit-dir", str(self.junit),
                "--inventory", str(self.inventory), "--runner-pid", str(self.runner.pid)]
        return argv + (["--categorized"] if self.categorized else [])

    def start_watcher(self) -> subprocess.Popen:
        proc = subprocess.Popen(self.watch_argv(), env=self.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.watchers.append(proc)
        return proc

    def wait_watcher(self, proc: subprocess.Popen, timeout: float = 60) -> int:
        try:
            out = proc.communicate(timeout=timeout)[0]
        except subprocess.TimeoutExpired:
            proc.kill()
            out = proc.communicate()[0]
            self.outputs.append(out.decode("utf-8", "replace"))
            raise AssertionError("the watcher did not exit within {0} s:\n{1}".format(timeout, self.outputs[-1]))
        self.outputs.append(out.decode("utf-8", "replace"))
        self.remember_posts()
        return proc.returncode

    def remember_posts(self) -> List[str]:
        for text in self.posts():
            if text not in self.channel:
                self.channel.append(text)
        return self.channel

    def run_to_end(self, timeout: float = 60) -> int:
        """Watcher first, then the runner's command, as the launch does (the watcher's start bounds
        which artifacts belong to the run: a slow watcher start must not make them look older)."""
        gate = self.tmp / "runner-gate"
        self.start_runner(gate)
        watcher = self.start_watcher()
        self.wait_ready(timeout)
        gate.touch()
        return self.wait_watcher(watcher, timeout)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.time() + timeout
        while time.time() < deadline:
            state = self.state()
            if state and state.get("watcher", {}).get("phase") == "watching":
                return
            time.sleep(0.05)
        raise AssertionError("the watcher never became ready")

    def kill_runner_tree(self) -> None:
        if self.runner is not None and self.runner.poll() is None:
            self.runner.send_signal(signal.SIGTERM)
            try:
                self.runner.wait(30)
            except subprocess.TimeoutExpired:
                self.runner.kill()
                self.runner.wait()

    def cleanup(self) -> None:
        for proc in self.watchers:
            if proc.poll() is None:
                proc.kill()
                proc.communicate()
        self.kill_runner_tree()
        if self.runner is not None and self.runner.stdout:
            self.runner.stdout.close()

    # results ----------------------------------------------------------------------------------------
    def state(self) -> Dict[str, Any]:
        try:
            return json.loads((self.state_dir / "state.json").read_text())
        except (OSError, ValueError):
            return {}

    def outbox(self) -> List[Dict[str, Any]]:
        records = []
        for path in sorted((self.state_dir / "outbox").glob("*.json")):
            records.append(json.loads(path.read_text()))
        return records

    def posts(self) -> List[str]:
        """What the channel shows of each post of this build: its text, then its attachments and card."""
        marker = "build `{0}`".format(self.build)
        return [shown(p) for p in self.double.posts if marker in p["text"]]

    def exit_record(self) -> Dict[str, Any]:
        return json.loads((self.state_dir / "runner-exit.json").read_text())

    def assert_no_secret(self) -> None:
        """The webhook URL and the hook id appear in no output and no file of the run."""
        secrets = (self.env["MATTERMOST_ATVM_WEBHOOK"], HOOK_ID)
        for text in self.outputs:
            for secret in secrets:
                assert secret not in text
        for path in self.tmp.rglob("*"):
            if path.is_file():
                data = path.read_bytes()
                for secret in secrets:
                    assert secret.encode() not in data, "{0} holds the webhook".format(path)


def shown(post: Dict[str, Any]) -> str:
    """A post as text: the message, each attachment's fields, text and footer, then the info card."""
    lines = [post["text"]]
    for attachment in post.get("attachments") or []:
        lines.extend("{0}: {1}".format(f["title"], f["value"]) for f in attachment.get("fields") or [])
        lines.extend(attachment.get(key) or "" for key in ("text", "footer"))
    lines.append(((post.get("props") or {}).get("card")) or "")
    return "\n".join(line for line in lines if line)


def _quote(arg: str) -> str:
    import shlex  # pylint: disable=import-outside-toplevel

    return shlex.quote(arg)


@pytest.fixture
def make_run(tmp_path, double):
    runs: List[E2ERun] = []

    def factory(build: str, sim_args: List[str], categorized: bool = False, hosts: str = "", **kw: Any) -> E2ERun:
        run = E2ERun(tmp_path / build, double, build, sim_args, categorized, hosts=hosts, **kw)
        runs.append(run)
        return run

    yield factory
    try:
        for run in runs:
            run.cleanup()
            # Every e2e and fault-injection test: when a request ended, its posts imply how.
            assert_channel_agrees(run.state(), run.remember_posts())
    finally:
        double.reset()

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Benchmark of the watch loop: what a watcher costs while it watches, and how fast a run's end is posted.

Not a test: it starts real processes (the runner entry running the Cypress run simulator, the
watcher, the Mattermost double, all on 127.0.0.1 and in a temporary directory), measures them and
prints each figure next to its target with the ratio measured / target (below 1.00 meets it).

    python benchmarks/bench_watch.py                # the real measurement (about 5 minutes)
    python benchmarks/bench_watch.py --quick        # smoke run: shorter, fewer repetitions
    python benchmarks/bench_watch.py --only 2       # one part (repeatable)

Run it with a Python that has the watcher's dependencies (requests, psutil, jmespath): the runner
entry, the simulator and the watcher are started with the same interpreter.

Parts:

1. live     one run that writes about a line a second (simulator, ``--line-interval 1``), watched for
            a 60 s window: watcher CPU (psutil ``cpu_times`` before / after) < 0.5 % of one core,
            peak RSS < 50 MB. A categorized run (3 groups) is watched alongside.
2. latency  from the runner's exit to the post accepted by the double < 1 s (median, p90, max of 20
            runs). The runner's exit is the ``ended_at`` of ``runner-exit.json`` (written by the
            runner entry just before it exits, so the figure is slightly pessimistic); the post is
            the double's ``received_at``. Run with the default settings, again with
            ``ATVM_SETTLE_QUIET=0.5`` (does settling delay the exit path?), and for categorized runs.
3. fleet    50 watchers at once, each on its own run (build name, state directory, reporter and JUnit
            directories, inventory, log), all posting to one double: every build gets exactly its
            expected posts with the expected results, and the per-watcher figures hold under load.

A run's expected posts are not written down here: once its runner has ended, the offline
``atvm-run-watcher verdict`` decides the same files (log, reporter and JUnit directories, inventory,
exit code) with the product's own rules (docs/decision-rules.md), and every post the watcher made
must carry exactly the headline that verdict renders, once per sub-run.

``--checks-only`` (with tiny sizes, as the test suite's smoke run uses it): the exit status says
only whether every check held (the right posts, once each; every watcher exited); the figures are
printed but not judged against their targets.

Every run is started the way the launch does it: the watcher first, the runner's command held at a
gate until the watcher says ``watching`` in ``state.json``. Each watcher runs under a tiny wrapper
that forks it and reaps it with ``wait4``, so its peak RSS and total CPU come from the kernel
(``ru_maxrss``, ``ru_utime + ru_stime``) and are not polluted by this process's memory.
"""
from __future__ import annotations

import argparse
import dataclasses
import datetime
import json
import os
import re
import shlex
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from typing import Any, Dict, List, Optional, Sequence, Tuple

try:
    import psutil

    HAS_PSUTIL = True
except ImportError:
    psutil = None
    HAS_PSUTIL = False

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WATCHER_BIN = os.path.join(ROOT, "bin", "atvm-run-watcher")
RUNNER_BIN = os.path.join(ROOT, "bin", "atvm-runner")
SIM = os.path.join(ROOT, "tests", "support", "cypress_sim.py")
DOUBLE = os.path.join(ROOT, "tests", "support", "mattermost_double.py")

HOST = "127.0.0.1"
HOOK_ID = "benchwatchhook00000000000001"
CHANNEL = "atvm-runs"

CPU_TARGET = 0.5  # % of one core while watching
RSS_TARGET_MB = 50.0
LATENCY_TARGET = 1.0  # s from the runner's exit to the post

# Forks the command, forwards TERM/INT/HUP to it, reaps it with wait4 and writes what the kernel
# says about it. Forking from this small process (not from the benchmark) keeps ru_maxrss honest:
# the kernel carries the pre-exec memory of the forked copy into the child's maxrss.
MEASURE = r"""
import json, os, signal, sys, time
out, argv = sys.argv[1], sys.argv[2:]
pid = os.fork()
if pid == 0:
    try:
        os.execv(argv[0], argv)
    finally:
        os._exit(127)
def forward(signum, frame):
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
    signal.signal(signum, forward)
with open(out + ".pid", "w") as handle:
    handle.write(str(pid))
_pid, status, usage = os.wait4(pid, 0)
ended = time.time()
code = os.waitstatus_to_exitcode(status)
with open(out + ".tmp", "w") as handle:
    json.dump({"pid": pid, "code": code, "ended": ended, "maxrss_kb": usage.ru_maxrss,
               "utime": usage.ru_utime, "stime": usage.ru_stime}, handle)
os.replace(out + ".tmp", out)
sys.exit(code if code >= 0 else 128 - code)
"""

# Holds the runner's command until the benchmark creates the go file (the watcher is ready by then).
GATE = "import os, sys, time\nwhile not os.path.exists(sys.argv[1]):\n    time.sleep(0.05)\nos.execv(sys.argv[2], sys.argv[2:])\n"

HEADLINE_RE = re.compile(
    r"^(?:#### )?\S+ (?:\*\*)?(?P<result>[A-Z]+)(?:\*\*)? \u00b7 (?P<state>[A-Z]+) \u00b7 build `(?P<build>[^`]+)`"
    r"(?: \u00b7 sub-run (?P<index>\d+)(?:/(?P<total>\d+))? `(?P<name>[^`]+)`)?", re.MULTILINE)
DUPLICATE_WORDS = "possible duplicate"


# ------------------------------------------------------------------------------------------------
# small helpers
# ------------------------------------------------------------------------------------------------

def parse_utc(text: str) -> float:
    """Epoch seconds of an ISO 8601 UTC timestamp ending in Z (with or without fraction)."""
    text = text.rstrip("Z")
    fmt = "%Y-%m-%dT%H:%M:%S.%f" if "." in text else "%Y-%m-%dT%H:%M:%S"
    return datetime.datetime.strptime(text, fmt).replace(tzinfo=datetime.timezone.utc).timestamp()


def read_json(path: str) -> Optional[Dict[str, Any]]:
    try:
        with open(path, encoding="utf-8") as handle:
            return json.load(handle)
    except (OSError, ValueError):
        return None


def read_jsonl(path: str) -> List[Dict[str, Any]]:
    out: List[Dict[str, Any]] = []
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                line = line.strip()
                if line:
                    try:
                        out.append(json.loads(line))
                    except ValueError:
                        continue
    except OSError:
        pass
    return out


def percentile(values: Sequence[float], pct: float) -> float:
    """Nearest-rank percentile (p90 of 20 values is the 18th smallest)."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = max(1, int(-(-pct * len(ordered) // 100)))
    return ordered[min(rank, len(ordered)) - 1]


def distribution(values: Sequence[float]) -> Dict[str, float]:
    if not values:
        return {"n": 0}
    return {"n": len(values), "min": min(values), "median": statistics.median(values),
            "p90": percentile(values, 90), "max": max(values), "mean": statistics.fmean(values)}


def verdict_word(value: float, target: float) -> str:
    return "ok" if value < target else "OVER"


def say(text: str = "") -> None:
    sys.stdout.write(text + "\n")
    sys.stdout.flush()


def figure(label: str, value: float, unit: str, target: float, fmt: str = "{0:.3f}") -> str:
    """One printed figure: value, target, ratio, ok/OVER."""
    ratio = value / target if target else float("nan")
    return "  {0:<46} {1:>9} {2:<4} target < {3:g} {2:<4} ratio {4:5.2f}  {5}".format(
        label, fmt.format(value), unit, target, ratio, verdict_word(value, target))


def dist_line(label: str, dist: Dict[str, float], unit: str, scale: float = 1.0, fmt: str = "{0:.3f}") -> str:
    if not dist.get("n"):
        return "  {0:<46} (no values)".format(label)
    return "  {0:<46} n={1} median {2} p90 {3} max {4} min {5} {6}".format(
        label, dist["n"], fmt.format(dist["median"] * scale), fmt.format(dist["p90"] * scale),
        fmt.format(dist["max"] * scale), fmt.format(dist["min"] * scale), unit)


# ------------------------------------------------------------------------------------------------
# processes
# ------------------------------------------------------------------------------------------------

class Procs:
    """Every process this benchmark starts, and their cleanup (TERM, then KILL) on any exit."""

    def __init__(self, workdir: str) -> None:
        self.workdir = workdir
        self.popens: List[subprocess.Popen] = []  # type: ignore[type-arg]
        self.extra_pids: List[Tuple[int, float]] = []  # (pid, create_time) of grandchildren we know
        self._lock = threading.Lock()

    def spawn(self, argv: List[str], log_path: str, env: Optional[Dict[str, str]] = None) -> subprocess.Popen:  # type: ignore[type-arg]
        with open(log_path, "ab") as log:
            proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,  # pylint: disable=consider-using-with
                                    env=env, cwd=self.workdir, start_new_session=True)
        with self._lock:
            self.popens.append(proc)
        return proc

    def remember(self, pid: int) -> None:
        """Remember a grandchild (watcher under its wrapper, simulator under the runner) for cleanup."""
        try:
            created = psutil.Process(pid).create_time()
        except psutil.Error:
            return
        with self._lock:
            self.extra_pids.append((pid, created))

    def _targets(self) -> List[Any]:
        found: Dict[int, Any] = {}
        with self._lock:
            popens = list(self.popens)
            extra = list(self.extra_pids)
        for proc in popens:
            if proc.poll() is not None:
                continue
            try:
                parent = psutil.Process(proc.pid)
                found[parent.pid] = parent
                for child in parent.children(recursive=True):
                    found[child.pid] = child
            except psutil.Error:
                continue
        for pid, created in extra:
            try:
                proc = psutil.Process(pid)
                if abs(proc.create_time() - created) < 0.01:
                    found[pid] = proc
                    for child in proc.children(recursive=True):
                        found[child.pid] = child
            except psutil.Error:
                continue
        return list(found.values())

    def cleanup(self, grace: float = 3.0) -> int:
        """End every process still alive (by its id, TERM then KILL); returns how many were alive."""
        targets = self._targets()
        for proc in targets:
            try:
                proc.terminate()
            except psutil.Error:
                pass
        _gone, alive = psutil.wait_procs(targets, timeout=grace)
        for proc in alive:
            try:
                proc.kill()
            except psutil.Error:
                pass
        psutil.wait_procs(alive, timeout=grace)
        for proc in self.popens:
            try:
                proc.wait(timeout=0.5)
            except subprocess.TimeoutExpired:
                pass
        return len(targets)


class Double:
    """The Mattermost double as its own process (its accepted posts read from its JSONL record)."""

    def __init__(self, procs: Procs, workdir: str, python: str) -> None:
        self.record = os.path.join(workdir, "posts.jsonl")
        port_file = os.path.join(workdir, "double.port")
        self.proc = procs.spawn([python, DOUBLE, "--host", HOST, "--port", "0", "--port-file", port_file,
                                 "--hook-id", HOOK_ID, "--channel", CHANNEL, "--record", self.record],
                                os.path.join(workdir, "double.log"))
        deadline = time.monotonic() + 15
        while not os.path.exists(port_file):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the Mattermost double did not start (see {0})".format(
                    os.path.join(workdir, "double.log")))
            time.sleep(0.02)
        with open(port_file, encoding="ascii") as handle:
            self.port = int(handle.read().strip())
        self.url = "http://{0}:{1}/hooks/{2}".format(HOST, self.port, HOOK_ID)

    def posts(self) -> List[Dict[str, Any]]:
        return read_jsonl(self.record)


# ------------------------------------------------------------------------------------------------
# runs
# ------------------------------------------------------------------------------------------------

@dataclasses.dataclass
class Kind:
    """A kind of run: what the simulator does (the posts it must get come from the verdict)."""

    name: str
    categorized: bool
    groups: List[Tuple[str, List[str]]]  # non-categorized: one group named "" with the hosts
    fail: List[str]

    @property
    def specs(self) -> int:
        return sum(len(hosts) for _name, hosts in self.groups)


LINUX, WINDOWS, ORACLE = "rhel96-fc-01", "win2022-01", "ol8-03"
GROUPS3 = [("linux", [LINUX]), ("windows", [WINDOWS]), ("oracle", [ORACLE])]

# The simulated wrapper exits 1 when a test failed: with a middle group failing, that exit is explained
# by the failed sub-run (docs/decision-rules.md), so the last one keeps its own result.
KINDS = {
    "plain-pass": Kind("plain-pass", False, [("", [LINUX, WINDOWS])], []),
    "plain-pass-1": Kind("plain-pass-1", False, [("", [LINUX])], []),
    "plain-fail": Kind("plain-fail", False, [("", [LINUX, WINDOWS])], [WINDOWS]),
    "cat-pass": Kind("cat-pass", True, GROUPS3, []),
    "cat-fail-last": Kind("cat-fail-last", True, GROUPS3, [ORACLE]),
    "cat-fail-middle": Kind("cat-fail-middle", True, GROUPS3, [WINDOWS]),
}
FLEET_MIX = ("plain-pass", "plain-fail", "cat-pass", "cat-fail-last", "cat-fail-middle")


class Run:
    """One build: its directories, runner (held at the gate), watcher (under the measuring wrapper)."""

    def __init__(self, ctx: "Context", name: str, kind: Kind, duration: float, env: Optional[Dict[str, str]] = None,
                 startup: float = 0.0) -> None:
        self.ctx = ctx
        self.name = name
        self.kind = kind
        self.duration = duration
        self.env_extra = dict(env or {})
        self.startup = startup
        self.dir = os.path.join(ctx.workdir, "runs", name)
        self.state_dir = os.path.join(ctx.state_root, name)
        self.log = os.path.join(self.state_dir, "runner.log")
        self.reporter = os.path.join(self.dir, "cmc")
        self.junit = os.path.join(self.dir, "results")
        self.inventory = os.path.join(self.dir, "vm-inventory.md")
        self.go_file = os.path.join(self.dir, "go")
        self.measure_out = os.path.join(self.dir, "watcher.measure.json")
        self.runner: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        self.wrapper: Optional[subprocess.Popen] = None  # type: ignore[type-arg]
        self.watcher_pid: Optional[int] = None
        self.released_at: Optional[float] = None
        self.runner_gone_at: Optional[float] = None  # when this process saw the runner entry exit
        self._expected: Optional[List[Dict[str, Any]]] = None  # the offline verdict's headlines

    # ---- commands ----
    def sim_argv(self) -> List[str]:
        spec_seconds = max(self.duration, 0.0) / max(self.kind.specs, 1)
        argv = [self.ctx.python, SIM, "--tests-per-spec", "6", "--spec-seconds", "{0:.3f}".format(spec_seconds),
                "--line-interval", "1", "--reporter-dir", self.reporter, "--junit-dir", self.junit,
                "--write-inventory", self.inventory, "--seed", str(sum(map(ord, self.name)) % 1000)]
        if self.startup:
            argv += ["--startup-seconds", "{0:.3f}".format(self.startup)]
        if self.kind.categorized:
            argv += ["--groups", ";".join("{0}:{1}".format(n, ",".join(h)) for n, h in self.kind.groups)]
        else:
            argv += ["--hosts", ",".join(self.kind.groups[0][1])]
        for host in self.kind.fail:
            argv += ["--fail", host]
        return argv

    def start(self) -> None:
        os.makedirs(self.reporter)
        os.makedirs(self.junit)
        os.makedirs(self.state_dir, mode=0o750)
        command = shlex.join([self.ctx.python, "-c", GATE, self.go_file] + self.sim_argv())
        self.runner = self.ctx.procs.spawn(
            [self.ctx.python, RUNNER_BIN, "--build-name", self.name, "--state-root", self.ctx.state_root,
             "--log", self.log, "--command", command],
            os.path.join(self.dir, "runner.out"), env=self.ctx.base_env)
        runner = self.runner

        def reap() -> None:
            runner.wait()
            self.runner_gone_at = time.time()

        threading.Thread(target=reap, name="reap-" + self.name, daemon=True).start()
        profile: List[str] = []
        if self.ctx.profile_dir:
            profile = ["-m", "cProfile", "-o", os.path.join(self.ctx.profile_dir, self.name + ".prof")]
        watch = [self.ctx.python] + profile + [
            WATCHER_BIN, "watch", "--build-name", self.name, "--state-root", self.ctx.state_root,
            "--env-file", self.ctx.empty_env, "--runner-log", self.log, "--reporter-dir", self.reporter,
            "--junit-dir", self.junit, "--inventory", self.inventory, "--runner-pid", str(self.runner.pid)]
        if self.kind.categorized:
            watch.append("--categorized")
        env = dict(self.ctx.base_env)
        env.update({"MATTERMOST_ATVM_WEBHOOK": self.ctx.double.url, "MATTERMOST_ATVM_CHANNEL": CHANNEL})
        env.update(self.env_extra)
        self.wrapper = self.ctx.procs.spawn([self.ctx.python, "-c", MEASURE, self.measure_out] + watch,
                                            os.path.join(self.dir, "watcher.err"), env=env)

    def expected(self) -> List[Dict[str, Any]]:
        """The posts the rules make of this run's files: the headline of each sub-run of the offline verdict.

        Asked once the runner has ended (its exit code is part of the evidence); an empty list when
        the verdict cannot be had (the check then says so).
        """
        if self._expected is None:
            code = self.exit_record().get("exit_code")
            argv = [self.ctx.python, WATCHER_BIN, "verdict", "--json", "--build-name", self.name, "--log", self.log,
                    "--reporter-dir", self.reporter, "--junit", self.junit, "--inventory", self.inventory,
                    "--env-file", self.ctx.empty_env]
            if code is not None:
                argv += ["--exit-code", str(code)]
            if self.kind.categorized:
                argv.append("--categorized")
            proc = subprocess.run(argv, capture_output=True, text=True, check=False, env=self.ctx.base_env)
            try:
                doc = json.loads(proc.stdout)
            except ValueError:
                doc = {"subruns": []}
            self._expected = [headline(sub.get("message") or "") for sub in doc.get("subruns") or []]
        return self._expected

    def phase(self) -> Optional[str]:
        state = read_json(os.path.join(self.state_dir, "state.json")) or {}
        return (state.get("watcher") or {}).get("phase")

    def ready(self) -> bool:
        if self.watcher_pid is None:
            try:
                with open(self.measure_out + ".pid", encoding="ascii") as handle:
                    self.watcher_pid = int(handle.read().strip())
                self.ctx.procs.remember(self.watcher_pid)
            except (OSError, ValueError):
                return False
        return self.phase() == "watching"

    def failed_early(self) -> bool:
        return self.wrapper is not None and self.wrapper.poll() is not None and not os.path.exists(self.measure_out)

    def release(self) -> None:
        with open(self.go_file, "w", encoding="ascii") as handle:
            handle.write("go\n")
        self.released_at = time.time()
        if self.runner is not None:
            try:
                for child in psutil.Process(self.runner.pid).children():
                    self.ctx.procs.remember(child.pid)
            except psutil.Error:
                pass

    def watcher_done(self) -> bool:
        return self.wrapper is not None and self.wrapper.poll() is not None

    def cpu_seconds(self) -> Optional[float]:
        try:
            times = psutil.Process(self.watcher_pid).cpu_times()
            return times.user + times.system
        except (psutil.Error, TypeError, ValueError):
            return None

    def rss_now(self) -> Optional[int]:
        try:
            return psutil.Process(self.watcher_pid).memory_info().rss
        except (psutil.Error, TypeError, ValueError):
            return None

    def log_size(self) -> int:
        try:
            return os.path.getsize(self.log)
        except OSError:
            return 0

    def log_lines(self, start: int, end: int) -> int:
        try:
            with open(self.log, "rb") as handle:
                handle.seek(start)
                return handle.read(max(end - start, 0)).count(b"\n")
        except OSError:
            return 0

    # ---- results ----
    def measure(self) -> Dict[str, Any]:
        return read_json(self.measure_out) or {}

    def exit_record(self) -> Dict[str, Any]:
        return read_json(os.path.join(self.state_dir, "runner-exit.json")) or {}

    def ended_at(self) -> Optional[float]:
        ended = self.exit_record().get("ended_at")
        return parse_utc(ended) if isinstance(ended, str) else None

    def events(self) -> List[Dict[str, Any]]:
        return read_jsonl(os.path.join(self.state_dir, "events.jsonl"))

    def state(self) -> Dict[str, Any]:
        return read_json(os.path.join(self.state_dir, "state.json")) or {}


@dataclasses.dataclass
class Context:
    procs: Procs
    workdir: str
    state_root: str
    python: str
    base_env: Dict[str, str]
    empty_env: str
    double: Double
    profile_dir: Optional[str] = None


def wait_ready(runs: Sequence[Run], timeout: float) -> float:
    """Wait until every watcher says ``watching``; returns the seconds it took."""
    start = time.monotonic()
    pending = list(runs)
    while pending:
        for run in list(pending):
            if run.failed_early():
                raise RuntimeError("the watcher of {0} ended before it was ready (see {1})".format(
                    run.name, os.path.join(run.dir, "watcher.err")))
            if run.ready():
                pending.remove(run)
        if not pending:
            break
        if time.monotonic() - start > timeout:
            raise RuntimeError("{0} watcher(s) not ready after {1:.0f} s: {2}".format(
                len(pending), timeout, ", ".join(r.name for r in pending[:5])))
        time.sleep(0.05)
    return time.monotonic() - start


def wait_done(runs: Sequence[Run], timeout: float) -> List[Run]:
    """Wait until every watcher exited; returns those still running at the timeout."""
    end = time.monotonic() + timeout
    pending = [r for r in runs if not r.watcher_done()]
    while pending and time.monotonic() < end:
        time.sleep(0.1)
        pending = [r for r in pending if not r.watcher_done()]
    # the reaper threads record the runner's end a moment after it exits
    settle = time.monotonic() + 2
    while time.monotonic() < settle and any(r.runner is not None and r.runner.poll() is not None
                                            and r.runner_gone_at is None for r in runs):
        time.sleep(0.01)
    return pending


# ------------------------------------------------------------------------------------------------
# checking posts and latency
# ------------------------------------------------------------------------------------------------

def headline(text: str) -> Dict[str, Any]:
    """The parts of a post's headline (empty when the text has none)."""
    match = HEADLINE_RE.search(text)
    if not match:
        return {}
    return {"_result": match.group("result"), "_state": match.group("state"), "_build": match.group("build"),
            "_index": int(match.group("index") or 1), "_total": match.group("total"), "_name": match.group("name") or ""}


def posts_by_build(posts: Sequence[Dict[str, Any]]) -> Tuple[Dict[str, List[Dict[str, Any]]], List[Dict[str, Any]]]:
    by_build: Dict[str, List[Dict[str, Any]]] = {}
    stray: List[Dict[str, Any]] = []
    for post in posts:
        head = headline(post.get("text") or "")
        if not head:
            stray.append(post)
            continue
        item = dict(post)
        item.update(head)
        item["_received"] = parse_utc(post["received_at"])
        by_build.setdefault(head["_build"], []).append(item)
    return by_build, stray


def check_run(run: Run, posts: List[Dict[str, Any]]) -> List[str]:
    """What is wrong with this build's posts (empty: exactly the posts the offline verdict renders)."""
    problems: List[str] = []
    expected = run.expected()
    if not expected or not all(expected):
        problems.append("the offline verdict of the run's files gave no headline to compare with")
    if len(posts) != len(expected):
        problems.append("{0} post(s), expected {1}".format(len(posts), len(expected)))
    seen = sorted(posts, key=lambda p: p["_index"])
    indexes = [p["_index"] for p in seen]
    if len(set(indexes)) != len(indexes):
        problems.append("sub-run posted twice: {0}".format(indexes))
    for number, want in enumerate(expected, 1):
        match = [p for p in seen if p["_index"] == number]
        if not match:
            problems.append("no post for sub-run {0}".format(number))
            continue
        post = match[0]
        if any(post[k] != want.get(k) for k in ("_result", "_state", "_name")):
            problems.append("sub-run {0}: posted {1} / {2} `{3}`, the verdict says {4} / {5} `{6}`".format(
                number, post["_result"], post["_state"], post["_name"], want.get("_result"), want.get("_state"),
                want.get("_name")))
    for post in posts:
        if DUPLICATE_WORDS in (post.get("text") or ""):
            problems.append("a post carries the possible-duplicate note")
        if post.get("channel") != CHANNEL:
            problems.append("a post went to channel {0!r}".format(post.get("channel")))
    code = run.measure().get("code")
    if code != 0:
        problems.append("watcher exit code {0}".format(code))
    return problems


def latency(run: Run, posts: List[Dict[str, Any]]) -> Dict[str, Any]:
    """Exit-to-post figures of one run (None where a timestamp is missing)."""
    out: Dict[str, Any] = {"build": run.name, "kind": run.kind.name}
    ended = run.ended_at()
    out["ended_at"] = ended
    after = sorted(p["_received"] for p in posts if ended is not None and p["_received"] >= ended - 0.001)
    out["posts_after_exit"] = len(after)
    out["to_first_post"] = after[0] - ended if after and ended is not None else None
    out["to_last_post"] = after[-1] - ended if after and ended is not None else None
    out["runner_shutdown"] = (run.runner_gone_at - ended) if run.runner_gone_at and ended else None
    measure = run.measure()
    out["to_watcher_exit"] = measure["ended"] - ended if measure.get("ended") and ended else None
    events = run.events()
    ready = next((parse_utc(e["ts"]) for e in events if e.get("event") == "watcher-ready"), None)
    out["ready_before_exit"] = bool(ready is not None and ended is not None and ready < ended)
    noticed = next((parse_utc(e["ts"]) for e in events if e.get("event") == "runner-ended"), None)
    decided = [parse_utc(e["ts"]) for e in events if e.get("event") == "subrun-decided"]
    decided_after = [t for t in decided if noticed is not None and t >= noticed]
    out["noticed"] = noticed - ended if noticed is not None and ended is not None else None
    out["decided"] = decided_after[0] - noticed if decided_after and noticed is not None else None
    out["first_post_after_decided"] = (after[0] - decided_after[0]) if after and decided_after else None
    return out


def print_profile(path: str, title: str, top: int = 14) -> None:
    """Where a watcher spent its CPU time (cProfile, whole life: start-up imports included)."""
    import io  # pylint: disable=import-outside-toplevel
    import pstats  # pylint: disable=import-outside-toplevel

    if not os.path.exists(path):
        say("  profile of {0}: none written".format(title))
        return
    out = io.StringIO()
    stats = pstats.Stats(path, stream=out)
    stats.strip_dirs().sort_stats("tottime").print_stats(top)
    ours = (r"loop\.py|follow\.py|logfile|logtext|cypress_log|process\.py|runstore\.py|rules\.py|reporter|junit|inventory"
            r"|readers|specs|outbox|client|markdown|attachment")
    stats.sort_stats("cumulative").print_stats(ours, top)
    say("  profile of {0} ({1}):".format(title, path))
    for line in out.getvalue().splitlines():
        if line.strip():
            say("    " + line.rstrip())


def machine_note() -> None:
    """Say how busy the machine is (other work on it shows in the figures)."""
    load = os.getloadavg()
    say("  machine: load average {0:.2f} / {1:.2f} / {2:.2f} (1 / 5 / 15 min) on {3} CPU(s)".format(
        load[0], load[1], load[2], os.cpu_count()))


def ms(value: Optional[float]) -> str:
    return "-" if value is None else "{0:.0f} ms".format(value * 1000)


# ------------------------------------------------------------------------------------------------
# part 1: live run, a line a second
# ------------------------------------------------------------------------------------------------

def part_live(ctx: Context, args: argparse.Namespace, report: Dict[str, Any]) -> bool:
    window = args.window
    warm, tail = 3.0, 6.0
    say("== 1. live run writing about a line a second: watcher cost over a {0:.0f} s window".format(window))
    machine_note()
    runs = [Run(ctx, "live-plain", KINDS["plain-pass-1"], warm + window + tail),
            Run(ctx, "live-categorized", KINDS["cat-pass"], warm + window + tail)]
    for run in runs:
        run.start()
    took = wait_ready(runs, 60)
    time.sleep(0.5)
    for run in runs:
        run.release()
    time.sleep(warm)
    before = {r.name: (r.cpu_seconds(), r.log_size()) for r in runs}
    t0 = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - t0
    after = {r.name: (r.cpu_seconds(), r.log_size(), r.rss_now()) for r in runs}
    window_end = time.time()
    stuck = wait_done(runs, warm + tail + 120)
    by_build, _stray = posts_by_build(ctx.double.posts())
    ok = not stuck
    say("  watchers ready {0:.2f} s after start; window measured {1:.1f} s".format(took, elapsed))
    part: Dict[str, Any] = {"window": elapsed, "runs": []}
    for run in runs:
        cpu0, size0 = before[run.name]
        cpu1, size1, rss_now = after[run.name]
        measure = run.measure()
        posts = by_build.get(run.name, [])
        problems = check_run(run, posts)
        lines = run.log_lines(size0, size1)
        cpu_pct = (cpu1 - cpu0) / elapsed * 100 if cpu0 is not None and cpu1 is not None else float("nan")
        peak_mb = measure.get("maxrss_kb", 0) / 1024.0
        ended = run.ended_at()
        lat = latency(run, posts)
        say("  -- {0} ({1}): {2} log lines in the window ({3:.2f}/s), runner ended {4:+.1f} s after the window"
            .format(run.name, "categorized, 3 groups of 1 host" if run.kind.categorized else "non-categorized, 1 host",
                    lines, lines / elapsed, (ended - window_end) if ended else float("nan")))
        say(figure("watcher CPU over the window (% of one core)", cpu_pct, "%", CPU_TARGET))
        say(figure("watcher peak RSS, whole life (ru_maxrss)", peak_mb, "MB", RSS_TARGET_MB, "{0:.1f}"))
        say("  {0:<46} {1:.1f} MB".format("watcher RSS at the window's end", (rss_now or 0) / 1048576.0))
        say("  {0:<46} {1:.3f} s CPU over {2:.0f} s of life".format(
            "watcher CPU, whole life (ru_utime+ru_stime)", measure.get("utime", 0) + measure.get("stime", 0),
            (measure.get("ended", 0) - (run.released_at or 0)) + 0.5))
        if lat.get("to_last_post") is not None:
            say("  {0:<46} {1}".format("runner exit -> last post", ms(lat["to_last_post"])))
        say("  posts: {0}".format("as expected ({0})".format(", ".join(
            "{0}/{1}".format(p["_result"], p["_state"]) for p in sorted(posts, key=lambda p: p["_index"])))
            if not problems else "WRONG: " + "; ".join(problems)))
        ok = ok and not problems and cpu_pct < CPU_TARGET and peak_mb < RSS_TARGET_MB
        part["runs"].append({"build": run.name, "kind": run.kind.name, "lines": lines, "cpu_pct": cpu_pct,
                             "peak_rss_mb": peak_mb, "rss_window_end_mb": (rss_now or 0) / 1048576.0,
                             "cpu_life_s": measure.get("utime", 0) + measure.get("stime", 0),
                             "latency": lat, "problems": problems})
        if ended is not None and ended < window_end:
            say("  note: the run ended inside the window; the window figure includes the end")
    if stuck:
        say("  WATCHER(S) DID NOT EXIT: {0}".format(", ".join(r.name for r in stuck)))
    if ctx.profile_dir:
        for run in runs:
            print_profile(os.path.join(ctx.profile_dir, run.name + ".prof"), run.name)
    part["stuck"] = [r.name for r in stuck]
    report["live"] = part
    return ok


# ------------------------------------------------------------------------------------------------
# part 2: exit-to-post latency
# ------------------------------------------------------------------------------------------------

def run_series(ctx: Context, label: str, kinds: Sequence[str], count: int, env: Dict[str, str],
               spec_total: float) -> Tuple[List[Dict[str, Any]], List[str]]:
    results: List[Dict[str, Any]] = []
    problems: List[str] = []
    for number in range(count):
        kind = KINDS[kinds[number % len(kinds)]]
        run = Run(ctx, "lat-{0}-{1:02d}".format(label, number), kind, spec_total, env=env)
        run.start()
        wait_ready([run], 30)
        time.sleep(0.3)  # ready is written just before the loop: let it start sleeping on the runner
        run.release()
        stuck = wait_done([run], 60)
        if stuck:
            problems.append("{0}: watcher did not exit".format(run.name))
            continue
        posts = posts_by_build(ctx.double.posts())[0].get(run.name, [])
        wrong = check_run(run, posts)
        if wrong:
            problems.append("{0} ({1}): {2}".format(run.name, kind.name, "; ".join(wrong)))
        results.append(latency(run, posts))
    return results, problems


def print_latency(title: str, results: List[Dict[str, Any]], problems: List[str]) -> bool:
    say("  -- {0}".format(title))
    honest = [r for r in results if r["ready_before_exit"] and r["to_last_post"] is not None]
    if len(honest) != len(results):
        say("  {0} run(s) left out: the watcher was not ready before the runner ended".format(len(results) - len(honest)))
    last = [r["to_last_post"] for r in honest]
    first = [r["to_first_post"] for r in honest]
    dist_last = distribution(last)
    ok = bool(last) and not problems
    if dist_last.get("n"):
        say(dist_line("runner exit -> last post of the run", dist_last, "ms", 1000, "{0:.0f}"))
        if any(r["posts_after_exit"] > 1 for r in honest):
            say(dist_line("runner exit -> first post after the exit", distribution(first), "ms", 1000, "{0:.0f}"))
            say("  {0:<46} {1}".format("posts made after the exit per run", sorted({r["posts_after_exit"] for r in honest})))
        say(figure("median", dist_last["median"], "s", LATENCY_TARGET))
        say(figure("p90", dist_last["p90"], "s", LATENCY_TARGET))
        say(figure("max", dist_last["max"], "s", LATENCY_TARGET))
        ok = ok and dist_last["max"] < LATENCY_TARGET
        parts = [("exit -> watcher noticed (runner-ended event)", "noticed"),
                 ("noticed -> first sub-run decided", "decided"),
                 ("decided -> first post accepted", "first_post_after_decided"),
                 ("exit record written -> runner process gone", "runner_shutdown"),
                 ("exit -> watcher process exited", "to_watcher_exit")]
        for text, key in parts:
            values = [r[key] for r in honest if r.get(key) is not None]
            say(dist_line(text, distribution(values), "ms", 1000, "{0:.0f}"))
    say("  posts: {0}".format("every run got exactly its expected posts ({0} runs)".format(len(results))
                              if not problems else "WRONG: " + " | ".join(problems)))
    return ok


def part_latency(ctx: Context, args: argparse.Namespace, report: Dict[str, Any]) -> bool:
    count = args.repeat
    say("== 2. runner exit -> post accepted by the double ({0} runs per series, sequential)".format(count))
    say("  exit = runner-exit.json ended_at (written by the runner entry just before it exits);"
        " post = the double's received_at")
    series = [
        ("default", "non-categorized (2 hosts, pass / fail alternating), default settings (ATVM_SETTLE_QUIET 5 s)",
         ("plain-pass", "plain-fail"), count, {}, 1.0),
        ("quiet05", "the same with ATVM_SETTLE_QUIET=0.5",
         ("plain-pass", "plain-fail"), count, {"ATVM_SETTLE_QUIET": "0.5"}, 1.0),
        ("cat", "categorized (3 groups, pass / fail-last alternating), default settings",
         ("cat-pass", "cat-fail-last"), max(count // 2, 3), {}, 1.5),
    ]
    machine_note()
    ok = True
    part: Dict[str, Any] = {}
    for label, title, kinds, n, env, spec_total in series:
        results, problems = run_series(ctx, label, kinds, n, env, spec_total)
        ok = print_latency(title, results, problems) and ok
        part[label] = {"title": title, "runs": results, "problems": problems}
    report["latency"] = part
    return ok


# ------------------------------------------------------------------------------------------------
# part 3: many watchers at once
# ------------------------------------------------------------------------------------------------

def part_fleet(ctx: Context, args: argparse.Namespace, report: Dict[str, Any]) -> bool:
    count, window, spread = args.watchers, args.window, args.end_spread
    warm, tail = 6.0, 4.0
    say("== 3. {0} watchers at once on {1} CPU(s), one run each, one double; {2:.0f} s window, runs end over {3:.0f} s"
        .format(count, os.cpu_count(), window, spread))
    runs: List[Run] = []
    for number in range(count):
        kind = KINDS[FLEET_MIX[number % len(FLEET_MIX)]]
        ends = warm + window + tail + (spread * number / max(count - 1, 1))
        runs.append(Run(ctx, "fleet-{0:03d}".format(number), kind, ends))
    machine_note()
    first_post = len(ctx.double.posts())
    start = time.monotonic()
    for run in runs:
        run.start()
    took = wait_ready(runs, 300)
    say("  {0} runners (held) and watchers started, all watchers ready after {1:.1f} s".format(count, took))
    time.sleep(1.0)
    for run in runs:
        run.release()
    time.sleep(warm)
    machine0 = psutil.cpu_times()
    before = {r.name: (r.cpu_seconds(), r.log_size()) for r in runs}
    t0 = time.monotonic()
    time.sleep(window)
    elapsed = time.monotonic() - t0
    after = {r.name: (r.cpu_seconds(), r.log_size(), r.rss_now()) for r in runs}
    machine1 = psutil.cpu_times()
    window_end = time.time()
    load = os.getloadavg()
    stuck = wait_done(runs, tail + spread + 180)
    total = time.monotonic() - start
    posts = ctx.double.posts()[first_post:]
    by_build, stray = posts_by_build(posts)

    busy = sum(getattr(machine1, f) - getattr(machine0, f) for f in ("user", "system", "nice", "irq", "softirq"))
    say("  machine CPU during the window: {0:.0f} % of {1} cores busy (load average {2:.1f}); {3:.0f} s in all"
        .format(busy / elapsed / (os.cpu_count() or 1) * 100, os.cpu_count(), load[0], total))
    cpu, peaks, lines, early = [], [], [], []
    problems: Dict[str, List[str]] = {}
    lats: List[Dict[str, Any]] = []
    for run in runs:
        cpu0, size0 = before[run.name]
        cpu1, size1, _rss = after[run.name]
        if cpu0 is not None and cpu1 is not None:
            cpu.append((cpu1 - cpu0) / elapsed * 100)
        peaks.append(run.measure().get("maxrss_kb", 0) / 1024.0)
        lines.append(run.log_lines(size0, size1) / elapsed)
        ended = run.ended_at()
        if ended is not None and ended < window_end:
            early.append(run.name)
        wrong = check_run(run, by_build.get(run.name, []))
        if wrong:
            problems[run.name] = wrong
        lats.append(latency(run, by_build.get(run.name, [])))
    say(dist_line("log lines per second per run in the window", distribution(lines), "/s", 1, "{0:.2f}"))
    if early:
        say("  note: {0} run(s) ended inside the window: {1}".format(len(early), ", ".join(early)))
    cpu_d, rss_d = distribution(cpu), distribution(peaks)
    say(dist_line("watcher CPU over the window (% of one core)", cpu_d, "%"))
    say(figure("watcher CPU, worst watcher", cpu_d.get("max", float("nan")), "%", CPU_TARGET))
    say("  {0:<46} {1} of {2}".format("watchers over the CPU target", sum(1 for c in cpu if c >= CPU_TARGET), len(cpu)))
    say(dist_line("watcher peak RSS (ru_maxrss)", rss_d, "MB", 1, "{0:.1f}"))
    say(figure("watcher peak RSS, worst watcher", rss_d.get("max", float("nan")), "MB", RSS_TARGET_MB, "{0:.1f}"))
    honest = [r for r in lats if r["ready_before_exit"] and r["to_last_post"] is not None]
    last = [r["to_last_post"] for r in honest]
    lat_d = distribution(last)
    ends = sorted(r["ended_at"] for r in honest)
    if ends:
        say("  {0:<46} {1} runs ended within {2:.1f} s (busiest second: {3} ends)".format(
            "runner exits", len(ends), ends[-1] - ends[0],
            max(sum(1 for e in ends if t <= e < t + 1.0) for t in ends)))
    say(dist_line("runner exit -> last post of the run", lat_d, "ms", 1000, "{0:.0f}"))
    for kind in FLEET_MIX:
        values = [r["to_last_post"] for r in honest if r["kind"] == kind]
        say(dist_line("  of which " + kind, distribution(values), "ms", 1000, "{0:.0f}"))
    for text, key in (("exit -> watcher noticed", "noticed"), ("noticed -> first sub-run decided", "decided"),
                      ("decided -> first post accepted", "first_post_after_decided")):
        say(dist_line(text, distribution([r[key] for r in honest if r.get(key) is not None]), "ms", 1000, "{0:.0f}"))
    say(figure("latency median", lat_d.get("median", float("nan")), "s", LATENCY_TARGET))
    say(figure("latency p90", lat_d.get("p90", float("nan")), "s", LATENCY_TARGET))
    say(figure("latency max", lat_d.get("max", float("nan")), "s", LATENCY_TARGET))
    say("  {0:<46} {1} of {2}".format("runs over the latency target", sum(1 for v in last if v >= LATENCY_TARGET), len(last)))
    expected_total = sum(len(r.expected()) for r in runs)
    ours = sum(len(by_build.get(r.name, [])) for r in runs)
    say("  posts: {0} accepted, {1} expected, {2} stray; builds with wrong posts: {3}".format(
        len(posts), expected_total, len(posts) - ours, len(problems)))
    for name, wrong in sorted(problems.items()):
        say("    {0} ({1}): {2}".format(name, next(r.kind.name for r in runs if r.name == name), "; ".join(wrong)))
    if stuck:
        say("  WATCHER(S) DID NOT EXIT: {0}".format(", ".join(r.name for r in stuck)))
    report["fleet"] = {"watchers": count, "window": elapsed, "cpu_pct": cpu, "peak_rss_mb": peaks,
                       "latency": lats, "problems": problems, "early": early, "stuck": [r.name for r in stuck],
                       "posts": len(posts), "expected_posts": expected_total, "machine_busy_pct":
                       busy / elapsed / (os.cpu_count() or 1) * 100}
    return (not problems and not stuck and len(posts) == expected_total and bool(cpu)
            and max(cpu) < CPU_TARGET and max(peaks) < RSS_TARGET_MB
            and bool(last) and max(last) < LATENCY_TARGET)


# ------------------------------------------------------------------------------------------------
# main
# ------------------------------------------------------------------------------------------------

def parse_args(argv: Optional[List[str]]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="Benchmark of the watcher's cost and speed (prints figures).")
    parser.add_argument("--quick", action="store_true", help="smoke run: 15 s windows, 5 runs per series, 10 watchers")
    parser.add_argument("--only", action="append", choices=("1", "2", "3"), help="run only this part (repeatable)")
    parser.add_argument("--window", type=float, help="CPU window in seconds (default 60; quick 15)")
    parser.add_argument("--repeat", type=int, help="runs per latency series (default 20; quick 5)")
    parser.add_argument("--watchers", type=int, help="watchers at once in part 3 (default 50; quick 10)")
    parser.add_argument("--end-spread", type=float, help="part 3: the runs end spread over this many seconds "
                                                         "(default 20; quick 5; 0 = all at once)")
    parser.add_argument("--profile", metavar="DIR", help="run every watcher under cProfile, write DIR/<build>.prof and "
                                                         "print where part 1's watchers spend their time (the "
                                                         "profiler's overhead then shows in the CPU figures)")
    parser.add_argument("--checks-only", action="store_true", help="exit status from the checks of the posts and "
                                                                   "the watchers' exits only, not from the targets")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory (its path is printed)")
    parser.add_argument("--json", metavar="FILE", help="also write every figure as JSON to FILE")
    args = parser.parse_args(argv)
    quick = args.quick
    if args.window is None:
        args.window = 15.0 if quick else 60.0
    if args.repeat is None:
        args.repeat = 5 if quick else 20
    if args.watchers is None:
        args.watchers = 10 if quick else 50
    if args.end_spread is None:
        args.end_spread = 5.0 if quick else 20.0
    return args


def check_failures(report: Dict[str, Any]) -> List[str]:
    """Every failed check in the report (wrong or missing posts, watchers that did not exit); no figure."""
    failed: List[str] = []
    live = report.get("live") or {}
    failed += ["live {0}: {1}".format(r["build"], "; ".join(r["problems"])) for r in live.get("runs", []) if r["problems"]]
    failed += ["live {0}: watcher did not exit".format(name) for name in live.get("stuck", [])]
    for label, series in (report.get("latency") or {}).items():
        failed += ["latency {0}: {1}".format(label, p) for p in series["problems"]]
    fleet = report.get("fleet") or {}
    failed += ["fleet {0}: {1}".format(name, "; ".join(p)) for name, p in sorted(fleet.get("problems", {}).items())]
    failed += ["fleet {0}: watcher did not exit".format(name) for name in fleet.get("stuck", [])]
    if fleet and fleet.get("posts") != fleet.get("expected_posts"):
        failed.append("fleet: {0} posts, {1} expected".format(fleet.get("posts"), fleet.get("expected_posts")))
    return failed


def _interrupt(signum: int, _frame: Any) -> None:
    raise KeyboardInterrupt("signal {0}".format(signum))


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if not HAS_PSUTIL:
        sys.stderr.write("bench_watch: psutil is needed (run it with the project's virtualenv Python)\n")
        return 2
    probe = subprocess.run([sys.executable, "-c", "import requests, jmespath, psutil"], check=False,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if probe.returncode != 0:
        sys.stderr.write("bench_watch: {0} lacks requests / jmespath / psutil, which the watcher needs\n".format(
            sys.executable))
        return 2
    parts = args.only or ["1", "2", "3"]
    workdir = tempfile.mkdtemp(prefix="bench-watch-")
    procs = Procs(workdir)
    # SIGINT too: a shell starting this in the background would otherwise leave it ignored.
    previous = {signum: signal.signal(signum, _interrupt) for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP)}
    report: Dict[str, Any] = {"started": time.time(), "cpus": os.cpu_count(), "python": sys.version.split()[0],
                              "quick": args.quick}
    results: Dict[str, bool] = {}
    code = 0
    try:
        say("bench_watch: {0} CPU(s), Python {1}, temporary directory {2}{3}".format(
            os.cpu_count(), report["python"], workdir, " (quick)" if args.quick else ""))
        say("targets: watcher CPU < {0} % of one core, peak RSS < {1:g} MB, runner exit -> post < {2:g} s".format(
            CPU_TARGET, RSS_TARGET_MB, LATENCY_TARGET))
        state_root = os.path.join(workdir, "state")
        os.makedirs(state_root)
        empty_env = os.path.join(workdir, "empty.env")
        with open(empty_env, "w", encoding="ascii") as handle:
            handle.write("# no settings: everything comes from the environment\n")
        base_env = {k: v for k, v in os.environ.items()
                    if not k.startswith(("ATVM_", "MATTERMOST_ATVM_")) and k != "NOTIFY_SOCKET"}
        double = Double(procs, workdir, sys.executable)
        profile_dir = os.path.abspath(args.profile) if args.profile else None
        if profile_dir:
            os.makedirs(profile_dir, exist_ok=True)
        ctx = Context(procs, workdir, state_root, sys.executable, base_env, empty_env, double, profile_dir)
        steps = {"1": part_live, "2": part_latency, "3": part_fleet}
        for part in parts:
            say()
            results[part] = steps[part](ctx, args, report)
        say()
        say("summary: " + ", ".join("part {0} {1}".format(p, "meets the targets" if ok else "MISSES a target or a check")
                                    for p, ok in results.items()))
        code = 0 if all(results.values()) else 1
        if args.checks_only:
            failed = check_failures(report)
            say("checks: " + ("every check held" if not failed else "FAILED: " + " | ".join(failed)))
            code = 1 if failed else 0
    except KeyboardInterrupt:
        say("\ninterrupted: cleaning up")
        code = 130
    except RuntimeError as exc:
        say("bench_watch: {0}".format(exc))
        code = 1
    finally:
        # cleanup first (a closed stdout must not leave processes or files behind), and not cut
        # short by a second Ctrl-C
        for signum in previous:
            signal.signal(signum, signal.SIG_IGN)
        alive = procs.cleanup()
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if args.json:
            report["results"] = results
            with open(args.json, "w", encoding="utf-8") as handle:
                json.dump(report, handle, indent=1, default=str)
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
        try:
            if alive:
                say("cleanup: ended {0} process(es) still running".format(alive))
            if args.keep:
                say("kept {0}".format(workdir))
        except OSError:
            pass
    return code


if __name__ == "__main__":
    sys.exit(main())

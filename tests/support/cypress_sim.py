# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Cypress run simulator: the runner command of the end-to-end tests.

It prints what a ``cypress run`` (or the categorizing wrapper running one ``cypress run`` per
group) prints, in real time, and writes the per-host reporter artifacts (cmcReporter JSON), the
JUnit XML files and the VM inventory that the watcher reads. It can pass, fail, crash mid-spec,
hit an ``after:run`` plugin error, be canceled, hang, exit with a given code or die by a signal.

Standalone (standard library only, Python 3.9+)::

    python3 tests/support/cypress_sim.py --groups "linux:rhel96-fc-01,ubuntu2204-01;windows:win2022-01" \\
        --reporter-dir /tmp/cmc --junit-dir /tmp/results --fail ubuntu2204-01 --spec-seconds 5

and importable::

    plan = build_plan(["--hosts", "h1,h2", "--fail", "h2"])
    code = main(["--hosts", "h1,h2", "--log", "/tmp/runner.log"])

The console text follows Cypress 12/13 (``packages/server/lib/util/print-run.ts`` and Mocha's
spec reporter) as seen in ``tests/fixtures/cypress/stdout``: box widths, column alignment and
blank lines are those of a non-TTY run (100 columns). Everything printed is deterministic for the
same arguments (durations come from a seeded generator, not from the clock); only the timestamps
inside artifacts and JUnit files are real.
"""
from __future__ import annotations

import argparse
import dataclasses
import hashlib
import io
import json
import os
import random
import re
import signal
import sys
import time
from datetime import datetime, timezone
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

__all__ = [
    "Plan", "Step", "SubRunPlan", "SpecPlan", "build_parser", "build_plan", "execute", "main",
    "inventory_row", "MARKER_FORMAT",
]

MARKER_FORMAT = "===== ATVM category: {0} ====="
LABEL_RE = re.compile(r"^[A-Za-z0-9._-]+$")
HOST_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_-]*$")

WIDTH = 100  # Cypress prints 100 columns when stdout is not a terminal
DEFAULT_PROJECT_DIR = "/root/cdc-e2e-cyp-12.17.4"
DEFAULT_SPEC_TEMPLATE = "cypress/e2e/migration/{host}.cy.ts"
META_SPEC = "cypress/e2e/check-xml-files.ts"
DEFAULT_RECORD_URL = "http://127.0.0.1:8080"
ELECTRON_BY_MAJOR = {9: 94, 10: 100, 11: 106, 12: 106, 13: 118, 14: 130, 15: 136}

TEST_TITLES = [
    "connects to the source hypervisor",
    "discovers the source VM",
    "creates the migration plan",
    "replicates the disks",
    "performs the cutover",
    "boots the target VM",
    "checks the network connectivity",
    "checks the kernel and OS version",
    "runs the post-migration checks",
    "cleans up the migration plan",
]

FAILURE_MESSAGE = ("AssertionError: Timed out retrying after 600000ms: Expected to find content: 'Completed' within "
                   "the element: <span.migration-status> but never did.")

CRASH_TEXT = [
    "We detected that the Electron Renderer process just crashed.",
    "",
    "We have failed the current spec but will continue running the next spec.",
    "",
    "This can happen for a number of different reasons.",
    "",
    "If you're running lots of tests on a memory intense application.",
    "  - Try increasing the CPU/memory on the machine you're running on.",
    "  - Try enabling experimentalMemoryManagement in your config file.",
    "  - Try lowering numTestsKeptInMemory in your config file during 'cypress open'.",
    "",
    "You can learn more here:",
    "",
    "https://on.cypress.io/renderer-process-crashed",
    "",
]


# ---------------------------------------------------------------------------------------------
# the plan
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class Step:
    """One thing the executor does, in order.

    kinds: ``write`` (bytes to the console), ``sleep`` (seconds, already divided by ``--speed``),
    ``mark`` (remember the time under ``key``), ``artifact`` (write ``doc`` as JSON to ``path``),
    ``junit`` (write ``text`` to ``results-<md5>.xml`` in ``path``), ``file`` (write ``text`` to
    ``path``), ``defer`` (run ``inner`` ``seconds`` later, without blocking), ``hang``,
    ``signal`` (kill the process with ``signum``), ``exit`` (stop here with ``code``).
    ``@@iso:KEY@@`` / ``@@junit:KEY@@`` in a document or text is replaced at execution by the
    time of mark ``KEY`` (``now`` = the current time), as JavaScript's ``toISOString()`` or as
    mocha-junit-reporter's timestamp.
    """

    kind: str
    data: bytes = b""
    seconds: float = 0.0
    key: str = ""
    path: str = ""
    doc: Any = None
    text: str = ""
    signum: int = 0
    code: int = 0
    inner: Optional["Step"] = None


@dataclasses.dataclass
class SpecPlan:
    host: str
    spec: str  # path as given to Cypress
    display: str  # as Cypress prints it (relative to the common root of the run's specs)
    tests: List[str] = dataclasses.field(default_factory=list)
    durations: List[int] = dataclasses.field(default_factory=list)  # displayed ms per test
    wall_ms: int = 0
    failed_index: Optional[int] = None
    flaky_index: Optional[int] = None  # this test fails its first attempt and passes on the retry
    outcome: str = "pass"  # pass | fail | zero | crash | skipped (canceled) | not-run
    passes: int = 0
    failures: int = 0
    pending: int = 0
    skipped: int = 0

    @property
    def count(self) -> int:
        return len(self.tests)


@dataclasses.dataclass
class SubRunPlan:
    """What one ``cypress run`` of the plan is going to show (for tests and callers)."""

    index: int
    group: Optional[str]  # the group name given (None: non-categorized)
    label: Optional[str]  # the label printed (marker / Group:), differs with --label-mismatch
    hosts: List[str]
    specs: List[SpecPlan]
    record_url: Optional[str] = None  # Run URL when recorded
    finished: bool = True  # prints its (Run Finished) table
    all_passed: Optional[bool] = None  # the summary row says "All specs passed!"
    failed_specs: int = 0
    total_specs: int = 0
    crashed: bool = False
    plugin_error: bool = False
    canceled: bool = False
    exit_code: int = 0  # what this cypress run exits with
    tests: int = 0
    passes: int = 0
    failures: int = 0


@dataclasses.dataclass
class Plan:
    steps: List[Step]
    exit_code: int  # the exit code the simulator ends with (unless it hangs or is signalled)
    subruns: List[SubRunPlan] = dataclasses.field(default_factory=list)
    categorized: bool = False
    hosts: List[str] = dataclasses.field(default_factory=list)
    end: str = "exit"  # exit | hang | signal
    end_signal: Optional[int] = None
    log: Optional[str] = None  # --log FILE (None: stdout)
    speed: float = 1.0


# ---------------------------------------------------------------------------------------------
# text helpers (Cypress formatting)
# ---------------------------------------------------------------------------------------------


def _chunks(text: str, width: int) -> List[str]:
    """Cypress ``formatPath``: a newline every ``width`` characters."""
    if not text:
        return [""]
    return [text[i:i + width] for i in range(0, len(text), width)]


def _duration(ms: int) -> str:
    """Cypress ``duration.format``: ``827ms``, ``00:16``, ``41:07`` (minutes are not wrapped)."""
    secs = (ms // 1000) % 60
    mins = ms // 60000
    if mins:
        return "{0:02d}:{1:02d}".format(mins, secs)
    if secs:
        return "00:{0:02d}".format(secs)
    return "{0}ms".format(ms % 1000)


def _plural(n: int, word: str) -> str:
    return "{0} {1}{2}".format(n, word, "" if n == 1 else "s")


def _human_long(ms: int) -> str:
    """Cypress ``humanTime.long``: ``16 seconds``, ``1 minute, 7 seconds``."""
    hours = ms // 3600000
    minutes = (ms // 60000) % 60
    seconds = (ms // 1000) % 60
    parts = []
    if hours:
        parts.append(_plural(hours, "hour"))
    if minutes:
        parts.append(_plural(minutes, "minute"))
    parts.append(_plural(seconds, "second"))
    return ", ".join(parts)


def _mocha_ms(ms: int) -> str:
    """Mocha's ``ms()`` used in ``N passing (Xs)``."""
    for unit, size in (("d", 86400000), ("h", 3600000), ("m", 60000), ("s", 1000)):
        if ms >= size:
            return "{0}{1}".format(int(round(ms / size)), unit)
    return "{0}ms".format(ms)


def _box(rows: Sequence[Tuple[str, str]], label_width: int) -> List[str]:
    """An ``outsideBorder`` table (Run Starting / Results): 100 columns, values wrapped."""
    value_width = WIDTH - 6 - label_width
    lines = ["  \u250c" + "\u2500" * (WIDTH - 4) + "\u2510"]
    for label, value in rows:
        for i, chunk in enumerate(_chunks(value, value_width)):
            lines.append("  \u2502 " + (label if i == 0 else "").ljust(label_width) + chunk.ljust(value_width) + " \u2502")
    lines.append("  \u2514" + "\u2500" * (WIDTH - 4) + "\u2518")
    return lines


def _count(n: Optional[int]) -> str:
    return "-" if not n else str(n)


def _summary_row(sym: str, spec: str, dur: str, counts: Sequence[str], border: str = "\u2502") -> List[str]:
    """One row of the (Run Finished) table (spec cells wrap at 36 characters)."""
    chunks = _chunks(spec, 36)
    lines = []
    for i, chunk in enumerate(chunks):
        if i == 0:
            cells = "".join(" " + c.rjust(7) + " " for c in counts)
            lines.append("  " + border + " " + sym.ljust(1) + "  " + chunk.ljust(36) + "  " + dur.rjust(8) + " " + cells + border)
        else:
            lines.append("  " + border + "    " + chunk.ljust(36) + " " * 56 + border)
    return lines


def _running_lines(spec: str, n: int, total: int) -> List[str]:
    lines = ["", "\u2500" * WIDTH, " " * WIDTH]
    chunks = _chunks(spec, 68)
    for i, chunk in enumerate(chunks):
        left = "  Running:" if i == 0 else " " * 10
        right = "({0} of {1})".format(n, total) if i == 0 else ""
        lines.append(left + ("  " + chunk).ljust(70) + right.rjust(20))
    return lines


def _iso(ts: float) -> str:
    """JavaScript ``new Date().toISOString()``."""
    dt = datetime.fromtimestamp(ts, tz=timezone.utc)
    return dt.strftime("%Y-%m-%dT%H:%M:%S.") + "{0:03d}Z".format(dt.microsecond // 1000)


def _junit_ts(ts: float) -> str:
    return datetime.fromtimestamp(ts, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")


def _xml_attr(text: str) -> str:
    return (text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
            .replace('"', "&quot;").replace("'", "&apos;"))


# ---------------------------------------------------------------------------------------------
# inventory
# ---------------------------------------------------------------------------------------------

_RHEL9_KERNELS = {0: "70.13.1", 1: "162.6.1", 2: "284.11.1", 3: "362.8.1", 4: "427.13.1", 5: "503.11.1",
                  6: "570.12.1"}
_RHEL8_KERNELS = {6: "372.9.1", 7: "425.3.1", 8: "477.10.1", 9: "513.5.1", 10: "553.16.1"}
_UBUNTU_KERNELS = {"1804": "4.15.0-213-generic", "2004": "5.4.0-196-generic", "2204": "5.15.0-122-generic",
                   "2404": "6.8.0-45-generic"}
_WINDOWS = {"2012": ("Windows Server 2012 R2", "6.3.9600"), "2016": ("Windows Server 2016", "10.0.14393"),
            "2019": ("Windows Server 2019", "10.0.17763"), "2022": ("Windows Server 2022", "10.0.20348"),
            "2025": ("Windows Server 2025", "10.0.26100"), "10": ("Windows 10 Enterprise", "10.0.19045"),
            "11": ("Windows 11 Enterprise", "10.0.22631")}
_DEBIAN_KERNELS = {"10": "4.19.0-27-amd64", "11": "5.10.0-32-amd64", "12": "6.1.0-25-amd64"}


def _el_version(digits: str) -> Tuple[int, int]:
    major = int(digits[0])
    minor = int(digits[1:]) if len(digits) > 1 else 0
    return major, minor


def _el_kernel(major: int, minor: int) -> str:
    if major >= 9:
        return "5.14.0-{0}.el9_{1}.x86_64".format(_RHEL9_KERNELS.get(minor, "427.13.1"), minor)
    if major == 8:
        return "4.18.0-{0}.el8_{1}.x86_64".format(_RHEL8_KERNELS.get(minor, "553.16.1"), minor)
    return "3.10.0-1160.119.1.el7.x86_64"


def inventory_row(host: str) -> Dict[str, str]:
    """OS, kernel, arch, firmware and source of ``host``, derived plausibly from its name."""
    name = host.lower()
    os_name, kernel = "unknown", "unknown"
    el = re.match(r"(rhel|rocky|alma|ol|centos)(\d+)", name)
    ubuntu = re.match(r"ubuntu(\d{4})", name)
    windows = re.match(r"win(?:dows)?-?(\d{2,4})", name)
    sles = re.match(r"sles(\d{2})(?:sp(\d))?", name)
    debian = re.match(r"debian(\d+)", name)
    if el:
        family = el.group(1)
        major, minor = _el_version(el.group(2))
        label = {"rhel": "Red Hat Enterprise Linux", "rocky": "Rocky Linux", "alma": "AlmaLinux",
                 "ol": "Oracle Linux Server", "centos": "CentOS Linux"}[family]
        os_name = "{0} {1}".format(label, major) if family == "centos" else "{0} {1}.{2}".format(label, major, minor)
        kernel = _el_kernel(major, minor)
        if family == "ol" and major >= 8:
            kernel = "5.15.0-209.161.7.2.el{0}uek.x86_64".format(major)
    elif ubuntu:
        ver = ubuntu.group(1)
        os_name = "Ubuntu {0}.{1} LTS".format(ver[:2], ver[2:])
        kernel = _UBUNTU_KERNELS.get(ver, "5.15.0-122-generic")
    elif windows:
        ver = windows.group(1)
        os_name, kernel = _WINDOWS.get(ver, ("Windows Server " + ver, "10.0.20348"))
    elif sles:
        sp = sles.group(2) or "5"
        os_name = "SUSE Linux Enterprise Server {0} SP{1}".format(sles.group(1), sp)
        kernel = "5.14.21-150{0}00.55.65-default".format(sp)
    elif debian:
        ver = debian.group(1)
        os_name = "Debian GNU/Linux {0}".format(ver)
        kernel = _DEBIAN_KERNELS.get(ver, "6.1.0-25-amd64")
    digest = int(hashlib.md5(host.encode("utf-8")).hexdigest(), 16)
    return {
        "Host": host,
        "OS": os_name,
        "Kernel": kernel,
        "Arch": "x86_64",
        "Firmware": "UEFI" if digest % 2 else "BIOS",
        "Source": "vSphere 8.0" if digest % 3 else "vSphere 7.0",
    }


def _inventory_text(hosts: Sequence[str]) -> str:
    headers = ["Host", "OS", "Kernel", "Arch", "Firmware", "Source"]
    lines = ["# VM inventory", "", "| " + " | ".join(headers) + " |",
             "|" + "|".join("-" * (len(h) + 2) for h in headers) + "|"]
    for host in hosts:
        row = inventory_row(host)
        lines.append("| " + " | ".join(row[h] for h in headers) + " |")
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------------------------------
# argument parsing
# ---------------------------------------------------------------------------------------------


def _csv(value: str) -> List[str]:
    return [v.strip() for v in value.split(",") if v.strip()]


def _signal_number(value: str) -> int:
    text = value.strip().upper()
    if text.isdigit():
        return int(text)
    if not text.startswith("SIG"):
        text = "SIG" + text
    sig = getattr(signal, text, None)
    if not isinstance(sig, int):
        raise argparse.ArgumentTypeError("unknown signal {0!r}".format(value))
    return int(sig)


def _nonneg_float(value: str) -> float:
    number = float(value)
    if number < 0:
        raise argparse.ArgumentTypeError("must not be negative: {0}".format(value))
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="cypress_sim.py",
        description=(
            "Simulate a Cypress run (or a categorized wrapper running one Cypress run per group): "
            "console output in real time, cmcReporter artifacts, JUnit XML, VM inventory, and the "
            "way it ends (pass, fail, crash, plugin error, cancel, hang, exit code, signal)."
        ),
        epilog=(
            "Names given to --fail, --zero-tests, --missing-artifact, --artifact-fail, "
            "--artifact-error-event and --leave-running are hosts (comma-separated, repeatable); "
            "--crash-in takes a group or a host, --plugin-error-in and --canceled-in a group "
            "('*' = every run, which is also how a non-categorized run is named). The exit code "
            "is the number of failed tests (Cypress), at most 255; a run that crashed, hit a "
            "plugin error or was canceled exits 1; a categorized run exits with the sum of its "
            "runs' codes (at most 255). --exit-code overrides it."
        ),
    )
    out = parser.add_argument_group("output")
    out.add_argument("--log", metavar="FILE", help="append the console output to FILE instead of stdout")
    src = parser.add_argument_group("what to print (one of)")
    src.add_argument("--replay", metavar="[LABEL=]FILE", action="append", default=[],
                     help="replay a recorded console log byte for byte (repeatable; with LABEL= a wrapper "
                          "marker line for LABEL is printed before it)")
    src.add_argument("--line-delay", type=_nonneg_float, default=0.0, metavar="S",
                     help="seconds between replayed lines (default 0)")
    src.add_argument("--hosts", metavar="H1,H2", help="one non-categorized Cypress run, one spec per host")
    src.add_argument("--groups", metavar="NAME:H1,H2;NAME:H3",
                     help="categorized: one Cypress run per group, one after the other")
    gen = parser.add_argument_group("generated runs")
    gen.add_argument("--no-markers", action="store_true",
                     help="no wrapper marker lines; the runs are recorded and name their group only in "
                          "'Params: Tag: false, Group: NAME, Parallel: false'")
    gen.add_argument("--label-mismatch", action="append", default=[], metavar="GROUP[=LABEL]",
                     help="print LABEL (default: the first host of the next group) instead of GROUP in the "
                          "marker and Group: (repeatable)")
    gen.add_argument("--spec-template", default=DEFAULT_SPEC_TEMPLATE,
                     help="spec path of a host (default %(default)s)")
    gen.add_argument("--searched", metavar="PATTERN",
                     help="the 'Searched:' value (default: the run's spec paths, comma-separated)")
    gen.add_argument("--tests-per-spec", type=int, default=6, metavar="N", help="tests per spec (default 6)")
    gen.add_argument("--spec-seconds", type=_nonneg_float, default=0.0, metavar="S",
                     help="wall time of each spec; its test lines are spread over it (default 0)")
    gen.add_argument("--line-interval", type=_nonneg_float, default=0.0, metavar="S",
                     help="inside a spec, print a progress line every S seconds while a test runs (0: never)")
    gen.add_argument("--startup-seconds", type=_nonneg_float, default=0.0, metavar="S",
                     help="delay before each (Run Starting) banner (default 0)")
    gen.add_argument("--speed", type=float, default=1.0, metavar="X",
                     help="divide every delay by X (default 1)")
    gen.add_argument("--cypress-version", default="12.17.4", help="default %(default)s")
    gen.add_argument("--browser", help="the 'Browser:' value (default: the Electron of that Cypress version)")
    gen.add_argument("--node-version", default="v18.20.4 (/usr/bin/node)", help="default %(default)s")
    gen.add_argument("--project-dir", default=DEFAULT_PROJECT_DIR,
                     help="automation checkout shown in paths (default %(default)s)")
    gen.add_argument("--record-url", metavar="URL",
                     help="record the runs to this dashboard: Params, Run URL, uploads and Recorded Run footer")
    gen.add_argument("--divider-width", type=int, default=WIDTH, metavar="N",
                     help="width of the '=' dividers (100 when not a terminal, as under systemd)")
    gen.add_argument("--seed", type=int, default=0, help="seed of every random choice (default 0)")
    art = parser.add_argument_group("reporter artifacts (cmcReporter JSON)")
    art.add_argument("--reporter-dir", metavar="DIR", help="write one artifact per host spec into DIR")
    art.add_argument("--artifact-name", default="{host}.json", help="file name (default %(default)s)")
    art.add_argument("--artifact-progress", action="store_true", help="also rewrite the artifact after every test")
    art.add_argument("--artifact-lag", type=_nonneg_float, default=0.0, metavar="S",
                     help="write each final artifact S seconds after its spec ended (the run goes on meanwhile)")
    art.add_argument("--events-as-object", action="store_true", help="'events' as an object keyed by id")
    art.add_argument("--missing-artifact", action="append", default=[], metavar="HOSTS",
                     help="never write an artifact for these hosts")
    art.add_argument("--artifact-fail", action="append", default=[], metavar="HOSTS",
                     help="artifact says FAIL with an error event although the console says pass")
    art.add_argument("--artifact-error-event", action="append", default=[], metavar="HOSTS",
                     help="artifact says PASS but carries an error event")
    art.add_argument("--leave-running", action="append", default=[], metavar="HOSTS",
                     help="the artifact stays RUN (never updated at the spec end)")
    jun = parser.add_argument_group("JUnit XML (mocha-junit-reporter)")
    jun.add_argument("--junit-dir", metavar="DIR", help="write results-<md5>.xml files into DIR")
    jun.add_argument("--junit-per-spec", action="store_true",
                     help="one file per spec as it ends (what mocha-junit-reporter does) instead of one per run")
    jun.add_argument("--junit-meta-only", action="store_true",
                     help="files hold only the check-xml-files.ts meta spec")
    inv = parser.add_argument_group("inventory")
    inv.add_argument("--write-inventory", metavar="FILE", help="write the Markdown VM inventory of all hosts")
    inv.add_argument("--inventory-only", action="store_true", help="write the inventory and exit 0")
    res = parser.add_argument_group("outcomes")
    res.add_argument("--fail", action="append", default=[], metavar="HOSTS", help="these specs fail one test")
    res.add_argument("--flaky", action="append", default=[], metavar="HOSTS",
                     help="in these specs one test (the one --fail would fail) fails its first attempt and passes "
                          "on the retry: Cypress prints '(Attempt 1 of 2) title' before its pass")
    res.add_argument("--zero-tests", action="append", default=[], metavar="HOSTS",
                     help="these specs register 0 tests (still 'All specs passed!')")
    res.add_argument("--crash-in", action="append", default=[], metavar="GROUP_OR_HOST",
                     help="Electron renderer crash mid-spec (a group: its first spec); the Cypress run ends "
                          "there without (Results) or (Run Finished), the wrapper goes on")
    res.add_argument("--crash-continue", action="store_true",
                     help="after a crash, go on like Cypress itself: fail the spec, run the next, print (Run Finished)")
    res.add_argument("--plugin-error-in", action="append", default=[], metavar="GROUP",
                     help="after:run plugin error after the group's last spec; no (Run Finished)")
    res.add_argument("--canceled", action="store_true",
                     help="every run is canceled in Cypress Cloud after its first spec (implies recording)")
    res.add_argument("--canceled-in", action="append", default=[], metavar="GROUP",
                     help="this group's run is canceled after its first spec (implies recording)")
    res.add_argument("--hang-after-spec", type=int, metavar="N",
                     help="after the N-th spec (counted over all runs; 0: right after the first 'Running:' "
                          "line) stop writing and sleep forever")
    res.add_argument("--hang", action="store_true", help="print everything, then sleep forever instead of exiting")
    res.add_argument("--exit-code", type=int, metavar="N", help="exit with N whatever happened")
    res.add_argument("--signal", type=_signal_number, metavar="SIG",
                     help="at the end, kill itself with SIG (TERM, SIGKILL, 9, ...)")
    res.add_argument("--signal-after-spec", nargs=2, metavar=("N", "SIG"),
                     help="kill itself with SIG after the N-th spec (counted over all runs)")
    return parser


# ---------------------------------------------------------------------------------------------
# building the plan
# ---------------------------------------------------------------------------------------------


class _Builder:
    def __init__(self, speed: float) -> None:
        self.steps: List[Step] = []
        self.speed = speed if speed > 0 else 1.0

    def line(self, text: str = "") -> None:
        self.steps.append(Step("write", data=(text + "\n").encode("utf-8")))

    def lines(self, texts: Sequence[str]) -> None:
        for text in texts:
            self.line(text)

    def raw(self, data: bytes) -> None:
        self.steps.append(Step("write", data=data))

    def sleep(self, seconds: float) -> None:
        if seconds > 0:
            self.steps.append(Step("sleep", seconds=seconds / self.speed))

    def add(self, step: Step, lag: float = 0.0) -> None:
        if lag > 0:
            self.steps.append(Step("defer", seconds=lag / self.speed, inner=step))
        else:
            self.steps.append(step)


def _parse_groups(text: str, parser: argparse.ArgumentParser) -> List[Tuple[str, List[str]]]:
    groups: List[Tuple[str, List[str]]] = []
    for part in text.split(";"):
        part = part.strip()
        if not part:
            continue
        name, sep, hosts = part.partition(":")
        name = name.strip()
        if not sep or not LABEL_RE.match(name) or not _csv(hosts):
            parser.error("--groups: expected NAME:HOST[,HOST...] separated by ';', got {0!r}".format(part))
        groups.append((name, _csv(hosts)))
    if not groups:
        parser.error("--groups: no group given")
    names = [g[0] for g in groups]
    if len(set(names)) != len(names):
        parser.error("--groups: a group name is given twice")
    return groups


def _host_set(values: Sequence[str]) -> List[str]:
    out: List[str] = []
    for value in values:
        for host in _csv(value):
            if host not in out:
                out.append(host)
    return out


def _display_names(specs: Sequence[str]) -> List[str]:
    """Cypress ``relativeToCommonRoot``: spec paths relative to their common directory."""
    dirs = [os.path.dirname(s) for s in specs]
    try:
        root = os.path.commonpath(dirs) if dirs else ""
    except ValueError:
        root = ""
    return [os.path.relpath(s, root) if root else s for s in specs]


def _spec_plans(hosts: Sequence[str], args: argparse.Namespace, rng: random.Random,
                fails: Sequence[str], zeros: Sequence[str], flaky: Sequence[str] = ()) -> List[SpecPlan]:
    specs = [args.spec_template.format(host=h) for h in hosts]
    displays = _display_names(specs)
    plans = []
    for host, spec, display in zip(hosts, specs, displays):
        plan = SpecPlan(host=host, spec=spec, display=display)
        count = 0 if host in zeros else max(0, args.tests_per_spec)
        titles = [TEST_TITLES[i] if i < len(TEST_TITLES) else "runs check #{0}".format(i + 1) for i in range(count)]
        plan.tests = titles
        if count:
            if args.spec_seconds > 0:
                weights = [rng.uniform(0.6, 1.4) for _index in range(count)]
                total = sum(weights)
                budget = args.spec_seconds * 1000.0 * 0.97
                plan.durations = [max(1, int(round(budget * w / total))) for w in weights]
                plan.wall_ms = int(round(args.spec_seconds * 1000.0))
            else:
                plan.durations = [rng.randint(20000, 420000) for _index in range(count)]
                plan.wall_ms = sum(plan.durations) + rng.randint(800, 4000)
        else:
            plan.wall_ms = 0
        if host in fails and count:
            plan.failed_index = rng.randrange(count)
            plan.outcome = "fail"
        elif host in flaky and count:
            plan.flaky_index = rng.randrange(count)  # the test --fail would fail, with the same seed
        elif count == 0:
            plan.outcome = "zero"
        plans.append(plan)
    return plans


def _check_hosts(parser: argparse.ArgumentParser, option: str, names: Sequence[str], known: Sequence[str]) -> None:
    for name in names:
        if name not in known:
            parser.error("{0}: {1!r} is not one of the hosts ({2})".format(option, name, ", ".join(known)))


def build_plan(args: Any) -> Plan:
    """Build the whole schedule from an argv list or a parsed ``argparse.Namespace``."""
    parser = build_parser()
    if not isinstance(args, argparse.Namespace):
        args = parser.parse_args(list(args))
    return _Planner(parser, args).build()


class _Planner:
    def __init__(self, parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
        self.parser = parser
        self.args = args
        self.b = _Builder(args.speed)
        self.rng = random.Random(args.seed)
        self.spec_counter = 0  # specs completed over all runs
        self.stopped = False  # a hang / signal step ended the plan
        self.end = "exit"
        self.end_signal: Optional[int] = None
        found = re.match(r"\d+", args.cypress_version)
        self.major = int(found.group(0)) if found else 12

    # ---- top level ----
    def build(self) -> Plan:
        args, parser = self.args, self.parser
        sources = [bool(args.replay), bool(args.hosts), bool(args.groups)]
        if sum(sources) > 1:
            parser.error("give only one of --replay, --hosts, --groups")
        if args.speed <= 0:
            parser.error("--speed must be greater than 0")
        if args.tests_per_spec < 0:
            parser.error("--tests-per-spec must not be negative")
        if args.signal_after_spec:
            try:
                self.signal_after = (int(args.signal_after_spec[0]), _signal_number(args.signal_after_spec[1]))
            except (ValueError, argparse.ArgumentTypeError) as exc:
                parser.error("--signal-after-spec N SIG: {0}".format(exc))
        else:
            self.signal_after = None
        if args.replay:
            if args.write_inventory or args.inventory_only:
                parser.error("--write-inventory needs --hosts or --groups, not --replay")
            return self._replay_plan()
        if args.groups:
            groups: List[Tuple[Optional[str], List[str]]] = list(_parse_groups(args.groups, parser))
            categorized = True
        elif args.hosts:
            groups = [(None, _csv(args.hosts))]
            categorized = False
        else:
            if args.inventory_only or args.write_inventory:
                parser.error("--write-inventory needs --hosts or --groups")
            parser.error("nothing to do: give --replay, --hosts or --groups")
        all_hosts: List[str] = []
        for _name, hosts in groups:
            for host in hosts:
                if not HOST_RE.match(host):
                    parser.error("invalid host name {0!r}".format(host))
                if host in all_hosts:
                    parser.error("host {0!r} is given twice".format(host))
                all_hosts.append(host)
        self.all_hosts = all_hosts
        self.group_names = [g for g, _h in groups if g]
        self.fails = _host_set(args.fail)
        self.flaky = _host_set(args.flaky)
        self.zeros = _host_set(args.zero_tests)
        self.missing = _host_set(args.missing_artifact)
        self.art_fail = _host_set(args.artifact_fail)
        self.art_error = _host_set(args.artifact_error_event)
        self.leave_running = _host_set(args.leave_running)
        for option, names in (("--fail", self.fails), ("--flaky", self.flaky), ("--zero-tests", self.zeros),
                              ("--missing-artifact", self.missing), ("--artifact-fail", self.art_fail),
                              ("--artifact-error-event", self.art_error), ("--leave-running", self.leave_running)):
            _check_hosts(parser, option, names, all_hosts)
        for name in args.crash_in:
            if name != "*" and name not in all_hosts and name not in self.group_names:
                parser.error("--crash-in: {0!r} is neither a group nor a host".format(name))
        for option, names in (("--plugin-error-in", args.plugin_error_in), ("--canceled-in", args.canceled_in)):
            for name in names:
                if name != "*" and name not in self.group_names:
                    parser.error("{0}: {1!r} is not a group ('*' for every run)".format(option, name))
        mismatch: Dict[str, Optional[str]] = {}
        for item in args.label_mismatch:
            name, sep, label = item.partition("=")
            if name not in self.group_names:
                parser.error("--label-mismatch: {0!r} is not a group".format(name))
            if sep and not LABEL_RE.match(label):
                parser.error("--label-mismatch: invalid label {0!r}".format(label))
            mismatch[name] = label if sep else None

        if args.write_inventory:
            self.b.add(Step("file", path=args.write_inventory, text=_inventory_text(all_hosts)))
        if args.inventory_only:
            return Plan(steps=self.b.steps, exit_code=0, hosts=all_hosts, categorized=categorized,
                        log=args.log, speed=args.speed)

        record = args.record_url
        if not record and (args.no_markers or args.canceled or args.canceled_in):
            record = DEFAULT_RECORD_URL
        subruns: List[SubRunPlan] = []
        for index, (group, hosts) in enumerate(groups):
            label = group
            if group in mismatch:
                label = mismatch[group] or self._other_host_label(groups, index)
            specs = _spec_plans(hosts, args, self.rng, self.fails, self.zeros, self.flaky)
            sub = SubRunPlan(index=index, group=group, label=label, hosts=list(hosts), specs=specs)
            if record:
                run_id = hashlib.sha1("{0}:{1}:{2}".format(args.seed, index, label).encode("utf-8")).hexdigest()[:16]
                sub.record_url = record.rstrip("/") + "/run/" + run_id
            subruns.append(sub)
        for sub in subruns:
            if self.stopped:
                break
            if categorized and not args.no_markers:
                self.b.line(MARKER_FORMAT.format(sub.label))
            self._cypress_run(sub)
        if self.stopped:
            exit_code = 0
        else:
            codes = [s.exit_code for s in subruns]
            exit_code = min(255, sum(codes)) if categorized else codes[0]
            if args.exit_code is not None:
                exit_code = args.exit_code
            if args.hang:
                self.end = "hang"
                self.b.add(Step("hang"))
            elif args.signal:
                self.end = "signal"
                self.end_signal = args.signal
                self.b.add(Step("signal", signum=args.signal))
            else:
                self.b.add(Step("exit", code=exit_code))
        return Plan(steps=self.b.steps, exit_code=exit_code, subruns=subruns, categorized=categorized,
                    hosts=all_hosts, end=self.end, end_signal=self.end_signal, log=args.log, speed=args.speed)

    def _other_host_label(self, groups: Sequence[Tuple[Optional[str], List[str]]], index: int) -> str:
        nxt = groups[(index + 1) % len(groups)]
        if nxt[1] and nxt is not groups[index]:
            return nxt[1][0]
        return "{0}-mislabeled".format(groups[index][0])

    def _replay_plan(self) -> Plan:
        args = self.args
        for item in args.replay:
            label, sep, path = item.partition("=")
            if not sep or os.path.exists(item) or not LABEL_RE.match(label):
                label, path = "", item
            try:
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError as exc:
                self.parser.error("--replay: cannot read {0}: {1}".format(path, exc.strerror or exc))
            if label:
                self.b.line(MARKER_FORMAT.format(label))
            for chunk in io.BytesIO(data).readlines():
                self.b.raw(chunk)
                self.b.sleep(args.line_delay)
        code = args.exit_code if args.exit_code is not None else 0
        if args.hang:
            self.end = "hang"
            self.b.add(Step("hang"))
        elif args.signal:
            self.end, self.end_signal = "signal", args.signal
            self.b.add(Step("signal", signum=args.signal))
        else:
            self.b.add(Step("exit", code=code))
        return Plan(steps=self.b.steps, exit_code=code, end=self.end, end_signal=self.end_signal,
                    log=args.log, speed=args.speed)

    # ---- one cypress run ----
    def _in(self, names: Sequence[str], sub: SubRunPlan) -> bool:
        return "*" in names or (sub.group is not None and sub.group in names)

    def _cypress_run(self, sub: SubRunPlan) -> None:
        args, b = self.args, self.b
        b.sleep(args.startup_seconds)
        browser = args.browser or "Electron {0} (headless)".format(ELECTRON_BY_MAJOR.get(self.major, 106))
        names = [s.display for s in sub.specs]
        joined = ", ".join(names)
        if len(joined) > 250:
            joined = joined[:247] + "..."
        rows = [
            ("Cypress:", args.cypress_version),
            ("Browser:", browser),
            ("Node Version:", args.node_version),
            ("Specs:", "{0} found ({1})".format(len(names), joined)),
            ("Searched:", args.searched or ", ".join(s.spec for s in sub.specs)),
        ]
        if sub.record_url:
            rows.append(("Params:", "Tag: false, Group: {0}, Parallel: false".format(sub.label if sub.label else "false")))
            rows.append(("Run URL:", sub.record_url))
        b.lines(["", "=" * args.divider_width, "", "  (Run Starting)", ""])
        b.lines(_box(rows, 16))
        b.line()
        crash_target = None
        for name in args.crash_in:
            if name == "*" or name == sub.group:
                crash_target = sub.specs[0].host if sub.specs else None
            elif name in sub.hosts:
                crash_target = name
        canceled = bool(args.canceled) or self._in(args.canceled_in, sub)
        total = len(sub.specs)
        aborted = False
        for n, spec in enumerate(sub.specs, 1):
            if self.stopped:
                return
            if aborted:
                spec.outcome = "not-run"
                continue
            if canceled and n > 1:
                spec.outcome = "skipped"
                b.lines(_running_lines(spec.display, n, total))
                # Cypress prints one blank line between this text and the next divider
                b.lines(["", "  This spec and its tests were skipped because the run has been canceled."])
                continue
            if spec.host == crash_target:
                spec.outcome = "crash"
                aborted = not args.crash_continue
            self._spec(sub, spec, n, total, crash=spec.host == crash_target)
        if self.stopped:
            return
        if aborted:
            sub.finished = False
            sub.crashed = True
            sub.exit_code = 1
            self._tally(sub)
            return
        sub.crashed = crash_target is not None
        self._junit_run(sub)
        if self._in(args.plugin_error_in, sub):
            sub.finished = False
            sub.plugin_error = True
            sub.exit_code = 1
            self._tally(sub)
            b.lines(self._plugin_error_text())
            return
        self._run_finished(sub, canceled)

    def _tally(self, sub: SubRunPlan) -> None:
        ran = [s for s in sub.specs if s.outcome not in ("skipped", "not-run")]
        sub.total_specs = len(sub.specs)
        sub.failed_specs = sum(1 for s in ran if s.failures)
        sub.tests = sum(s.count for s in ran)
        sub.passes = sum(s.passes for s in ran)
        sub.failures = sum(s.failures for s in ran)

    def _artifact_doc(self, spec: SpecPlan, status: str, events: List[Any], ended: bool) -> Dict[str, Any]:
        doc: Dict[str, Any] = {
            "host": spec.host,
            "spec": spec.spec,
            "status": status,
            "startedAt": "@@iso:start-{0}@@".format(spec.host),
            "endedAt": "@@iso:now@@" if ended else None,
            "stats": {
                "tests": spec.count,
                "passes": spec.passes,
                "failures": spec.failures,
                "pending": spec.pending,
                "skipped": spec.skipped,
            },
            "events": events,
        }
        if self.args.events_as_object:
            doc["events"] = {"e{0}".format(i + 1): ev for i, ev in enumerate(events)}
        return doc

    def _artifact_path(self, host: str) -> Optional[str]:
        if not self.args.reporter_dir or host in self.missing:
            return None
        return os.path.join(self.args.reporter_dir, self.args.artifact_name.format(host=host))

    def _spec(self, sub: SubRunPlan, spec: SpecPlan, n: int, total: int, crash: bool = False) -> None:
        args, b = self.args, self.b
        b.lines(_running_lines(spec.display, n, total))
        b.add(Step("mark", key="start-" + spec.host))
        path = self._artifact_path(spec.host)
        start_events: List[Any] = [{"type": "spec", "message": "spec started", "severity": "info"}]
        if path:
            b.add(Step("artifact", path=path, doc=self._artifact_doc(spec, "RUN", list(start_events), False)))
        if args.hang_after_spec == 0 and self.spec_counter == 0:
            self._stop_hang()
            return
        b.line()
        b.line()
        crash_at = spec.count // 2 if crash else None
        if spec.count:
            b.line("  Migration of {0}".format(spec.host))
        elif crash_at is None:
            self._epilogue(spec, [], spec.wall_ms, blank=False)
        failure_lines: List[str] = []
        for i, title in enumerate(spec.tests):
            if crash_at is not None and i == crash_at:
                break
            self._wait_test(spec, spec.durations[i], title)
            if i == spec.failed_index:
                spec.failures += 1
                b.line("    {0}) {1}".format(spec.failures, title))
                failure_lines = self._failure_block(spec, title, spec.failures)
            else:
                spec.passes += 1
                if i == spec.flaky_index:
                    b.line("    (Attempt 1 of 2) {0}".format(title))
                b.line("    \u2713 {0} ({1}ms)".format(title, spec.durations[i]))
            if path and args.artifact_progress:
                b.add(Step("artifact", path=path, doc=self._artifact_doc(spec, "RUN", list(start_events), False)))
        if args.spec_seconds > 0 and crash_at is None:
            self.b.sleep((spec.wall_ms - sum(spec.durations)) / 1000.0)  # hooks, screenshots, video
        shown_ms = spec.wall_ms
        if crash_at is not None:
            # Cypress counts the crashed test as failing and the rest as skipped
            spec.failures = 1
            spec.skipped = max(0, spec.count - spec.passes - 1)
            shown_ms = sum(spec.durations[:crash_at]) + 1000
            spec.wall_ms = shown_ms
            b.line()
            b.lines(CRASH_TEXT)
            if not args.crash_continue:
                return
        elif spec.count:
            self._epilogue(spec, failure_lines, shown_ms, blank=True)
        self._spec_end_artifact(spec, path, start_events, crashed=crash_at is not None)
        screenshots = self._screenshots(spec)
        b.line("  (Results)")
        b.line()
        rows = [
            ("Tests:", str(spec.count)), ("Passing:", str(spec.passes)), ("Failing:", str(spec.failures)),
            ("Pending:", str(spec.pending)), ("Skipped:", str(spec.skipped)),
            ("Screenshots:", str(len(screenshots))), ("Video:", "false"), ("Duration:", _human_long(spec.wall_ms)),
            ("Spec Ran:", spec.display),
        ]
        b.lines(_box(rows, 14))
        b.line()
        if screenshots:
            b.lines(["", "  (Screenshots)", ""])
            for shot in screenshots:
                for i, chunk in enumerate(_chunks(shot, 80)):
                    if i == 0:
                        b.line("  -  " + chunk.ljust(80) + "(1280x720)".rjust(15))
                    else:
                        b.line("     " + chunk.ljust(95))
            b.line()
        if sub.record_url:
            b.line()
            if self.major >= 13:
                b.lines(["  (Uploading Cloud Artifacts)", "", "  - Video - Nothing to upload ",
                         "  - Screenshot - Nothing to upload ",
                         "  - Test Replay - Nothing to upload - Test Replay is disabled for this project. "
                         "Enable Test Replay in Cloud project settings"])
            else:
                b.lines(["  (Uploading Results)", ""])
                if screenshots:
                    for k, shot in enumerate(screenshots, 1):
                        b.line("  - Done Uploading ({0}/{1}) {2}".format(k, len(screenshots), shot))
                else:
                    b.line("  - Nothing to Upload")
        if args.junit_dir and args.junit_per_spec:
            self._junit_write([spec])
        self.spec_counter += 1
        if args.hang_after_spec is not None and args.hang_after_spec > 0 and self.spec_counter == args.hang_after_spec:
            self._stop_hang()
        elif self.signal_after and self.signal_after[0] == self.spec_counter:
            self.stopped = True
            self.end = "signal"
            self.end_signal = self.signal_after[1]
            b.add(Step("signal", signum=self.signal_after[1]))

    def _epilogue(self, spec: SpecPlan, failure_lines: List[str], shown_ms: int, blank: bool) -> None:
        """Mocha's spec reporter epilogue: counts, then the numbered failure details."""
        b = self.b
        if blank:
            b.lines(["", ""])
        b.line("  {0} passing ({1})".format(spec.passes, _mocha_ms(shown_ms)))
        if spec.pending:
            b.line("  {0} pending".format(spec.pending))
        if spec.failures:
            b.line("  {0} failing".format(spec.failures))
            b.line()
            b.lines(failure_lines)
            b.line()
        b.lines(["", ""])

    def _stop_hang(self) -> None:
        self.stopped = True
        self.end = "hang"
        self.b.add(Step("hang"))

    def _wait_test(self, spec: SpecPlan, ms: int, title: str) -> None:
        args, b = self.args, self.b
        if args.spec_seconds <= 0:
            return
        seconds = ms / 1000.0
        if args.line_interval > 0:
            elapsed = 0.0
            while elapsed + args.line_interval < seconds:
                b.sleep(args.line_interval)
                elapsed += args.line_interval
                b.line("      [cmcReporter] {0}: {1} still running ({2:.1f}s)".format(spec.host, title, elapsed))
            b.sleep(seconds - elapsed)
        else:
            b.sleep(seconds)

    def _failure_block(self, spec: SpecPlan, title: str, number: int) -> List[str]:
        return [
            "  {0}) Migration of {1}".format(number, spec.host),
            "       {0}:".format(title),
            "     " + FAILURE_MESSAGE,
            "      at Context.eval (webpack://cdc-e2e/./{0}:{1}:0)".format(spec.spec, 40 + 7 * (spec.failed_index or 0)),
            "",
        ]

    def _screenshots(self, spec: SpecPlan) -> List[str]:
        if not spec.failures:
            return []
        title = spec.tests[spec.failed_index] if spec.failed_index is not None else spec.tests[min(spec.passes, spec.count - 1)]
        return ["{0}/cypress/screenshots/{1}/Migration of {2} -- {3} (failed).png".format(
            self.args.project_dir, spec.display, spec.host, title)]

    def _spec_end_artifact(self, spec: SpecPlan, path: Optional[str], start_events: List[Any], crashed: bool) -> None:
        if not path or spec.host in self.leave_running:
            return
        events = list(start_events)
        events.append({"type": "migration", "message": "migration of {0} started".format(spec.host),
                       "severity": "info"})
        status = "PASS"
        if spec.failures:
            status = "FAIL"
            if crashed:
                events.append(["@@iso:now@@", "error", "the Electron renderer process crashed"])
            else:
                events.append(["@@iso:now@@", "error", "{0} failed: {1}".format(
                    spec.tests[spec.failed_index or 0], FAILURE_MESSAGE)])
        else:
            events.append(["@@iso:now@@", "migration", "cutover done"])
        if spec.host in self.art_fail:
            status = "FAIL"
            events.append(["@@iso:now@@", "failure", "post-migration boot check failed", "critical"])
        if spec.host in self.art_error:
            events.append({"type": "check", "message": "post-migration service check reported an error",
                           "severity": "error"})
        doc = self._artifact_doc(spec, status, events, True)
        self.b.add(Step("artifact", path=path, doc=doc), lag=self.args.artifact_lag)

    def _plugin_error_text(self) -> List[str]:
        cache = "/root/.cache/Cypress/{0}/Cypress/resources/app".format(self.args.cypress_version)
        return [
            "An error was thrown in your plugins file while executing the handler for the after:run event.",
            "",
            "The error we received was:",
            "",
            "TypeError: Cannot read properties of undefined (reading 'length')",
            "    at Object.handler ({0}/cypress.atvm-config-gold.ts:212:31)".format(self.args.project_dir),
            "    at invoke ({0}/node_modules/@packages/server/lib/plugins/child/run_plugins.js:185:18)".format(cache),
            "    at {0}/node_modules/@packages/server/lib/plugins/util.js:59:14".format(cache),
            "    at tryCatcher ({0}/node_modules/bluebird/js/release/util.js:16:23)".format(cache),
            "    at Promise.attempt.Promise.try ({0}/node_modules/bluebird/js/release/method.js:39:29)".format(cache),
            "    at Object.wrapChildPromise ({0}/node_modules/@packages/server/lib/plugins/util.js:58:23)".format(cache),
            "    at RunPlugins.execute ({0}/node_modules/@packages/server/lib/plugins/child/run_plugins.js:164:21)".format(cache),
            "    at EventEmitter.<anonymous> ({0}/node_modules/@packages/server/lib/plugins/child/run_plugins.js:56:12)".format(cache),
            "    at EventEmitter.emit (node:events:517:28)",
            "    at process.<anonymous> ({0}/node_modules/@packages/server/lib/plugins/util.js:33:22)".format(cache),
            "    at process.emit (node:events:517:28)",
            "    at emit (node:internal/child_process:944:14)",
            "    at process.processTicksAndRejections (node:internal/process/task_queues:83:21)",
            "",
        ]

    def _run_finished(self, sub: SubRunPlan, canceled: bool) -> None:
        b, args = self.b, self.args
        self._tally(sub)
        ran = [s for s in sub.specs if s.outcome != "skipped"]
        total_failed = sum(s.failures for s in ran)
        is_canceled = canceled and any(s.outcome == "skipped" for s in sub.specs)
        b.lines(["", "=" * args.divider_width, "", "  (Run Finished)", "", ""])
        header = ("       " + "Spec".ljust(36) + "  " + "".rjust(8) + " "
                  + "".join(" " + h.rjust(7) + " " for h in ("Tests", "Passing", "Failing", "Pending", "Skipped")) + " ")
        b.line(header)
        b.line("  \u250c" + "\u2500" * (WIDTH - 4) + "\u2510")
        for i, spec in enumerate(sub.specs):
            if i:
                b.line("  \u251c" + "\u2500" * (WIDTH - 4) + "\u2524")
            if spec.outcome == "skipped":
                b.lines(_summary_row("-", spec.display, "SKIPPED", ["-"] * 5))
                continue
            sym = "\u2716" if spec.failures else "\u2714"
            b.lines(_summary_row(sym, spec.display, _duration(spec.wall_ms),
                                 [_count(spec.count), _count(spec.passes), _count(spec.failures),
                                  _count(spec.pending), _count(spec.skipped)]))
        b.line("  \u2514" + "\u2500" * (WIDTH - 4) + "\u2518")
        if is_canceled:
            phrase, sym = "The run was canceled", "-"
        elif not total_failed:
            phrase, sym = "All specs passed!", "\u2714"
        else:
            failing = sum(1 for s in ran if s.failures)
            phrase = "{0} of {1} failed ({2}%)".format(failing, len(sub.specs),
                                                       int(failing * 100.0 / len(sub.specs) + 0.5))
            sym = "\u2716"
        totals = [sum(s.count for s in ran), sum(s.passes for s in ran), total_failed,
                  sum(s.pending for s in ran), sum(s.skipped for s in ran)]
        b.lines(_summary_row(sym, phrase, _duration(sum(s.wall_ms for s in ran)), [_count(c) for c in totals],
                             border=" "))
        b.line()
        if sub.record_url:
            b.lines(["", "\u2500" * (WIDTH + 3), " " * (WIDTH + 3), "  Recorded Run: " + sub.record_url, ""])
        if is_canceled:
            b.lines(["", "  Exiting with non-zero exit code because the run was canceled.", ""])
        sub.canceled = is_canceled
        sub.finished = True
        sub.all_passed = not total_failed and not is_canceled
        if is_canceled:
            sub.exit_code = 1
        else:
            sub.exit_code = min(255, total_failed)

    # ---- JUnit ----
    def _junit_run(self, sub: SubRunPlan) -> None:
        if self.args.junit_dir and not self.args.junit_per_spec:
            self._junit_write([s for s in sub.specs if s.outcome not in ("skipped", "not-run")])

    def _junit_write(self, specs: Sequence[SpecPlan]) -> None:
        if self.args.junit_meta_only:
            text = self._junit_xml_meta()
        else:
            text = self._junit_xml(specs)
        self.b.add(Step("junit", path=self.args.junit_dir, text=text))

    def _junit_xml(self, specs: Sequence[SpecPlan]) -> str:
        tests = sum(s.passes + s.failures for s in specs)
        failures = sum(s.failures for s in specs)
        total_time = sum(sum(s.durations[:s.passes + s.failures]) for s in specs) / 1000.0
        out = ['<?xml version="1.0" encoding="UTF-8"?>',
               '<testsuites name="Mocha Tests" time="{0:.3f}" tests="{1}" failures="{2}">'.format(total_time, tests, failures)]
        for spec in specs:
            ts = "@@junit:start-{0}@@".format(spec.host)
            out.append('  <testsuite name="Root Suite" timestamp="{0}" tests="0" file="{1}" time="0.000" failures="0">'.format(
                ts, _xml_attr(spec.spec)))
            out.append("  </testsuite>")
            run = spec.passes + spec.failures
            if not spec.count:
                continue
            suite = "Migration of {0}".format(spec.host)
            out.append('  <testsuite name="{0}" timestamp="{1}" tests="{2}" time="{3:.3f}" failures="{4}">'.format(
                _xml_attr(suite), ts, run, sum(spec.durations[:run]) / 1000.0, spec.failures))
            for i in range(min(run, spec.count)):
                title = spec.tests[i]
                failed = i == spec.failed_index or (spec.outcome == "crash" and i == run - 1 and spec.failures)
                seconds = 0.0 if failed else spec.durations[i] / 1000.0
                out.append('    <testcase name="{0}" time="{1:.3f}" classname="{2}">'.format(
                    _xml_attr(suite + " " + title), seconds, _xml_attr(title)))
                if failed:
                    message = FAILURE_MESSAGE
                    plain = message.split(": ", 1)[1]
                    out.append('      <failure message="{0}" type="AssertionError"><![CDATA[{1}\n    at Context.eval '
                               '(webpack://cdc-e2e/./{2}:{3}:0)]]></failure>'.format(
                                   _xml_attr(plain), message, spec.spec, 40 + 7 * i))
                out.append("    </testcase>")
            out.append("  </testsuite>")
        out.append("</testsuites>")
        return "\n".join(out) + "\n"

    def _junit_xml_meta(self) -> str:
        suite = "Check XML files"
        title = "checks the xml result files"
        seconds = "{0:.3f}".format(self.rng.randint(200, 900) / 1000.0)
        return "\n".join([
            '<?xml version="1.0" encoding="UTF-8"?>',
            '<testsuites name="Mocha Tests" time="{0}" tests="1" failures="0">'.format(seconds),
            '  <testsuite name="Root Suite" timestamp="@@junit:now@@" tests="0" file="{0}" time="0.000" '
            'failures="0">'.format(META_SPEC),
            "  </testsuite>",
            '  <testsuite name="{0}" timestamp="@@junit:now@@" tests="1" time="{1}" failures="0">'.format(suite, seconds),
            '    <testcase name="{0} {1}" time="{2}" classname="{1}">'.format(suite, title, seconds),
            "    </testcase>",
            "  </testsuite>",
            "</testsuites>",
        ]) + "\n"


# ---------------------------------------------------------------------------------------------
# execution
# ---------------------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"@@(iso|junit):([A-Za-z0-9._-]+)@@")


class _Executor:
    def __init__(self, plan: Plan, out: Any, on_hang: Optional[Callable[[], None]], allow_signal: bool) -> None:
        self.plan = plan
        self.out = out
        self.on_hang = on_hang
        self.allow_signal = allow_signal
        self.marks: Dict[str, float] = {}
        self.deferred: List[Tuple[float, int, Step]] = []
        self.seq = 0

    def _fill(self, text: str) -> str:
        now = time.time()

        def repl(match: "re.Match[str]") -> str:
            ts = now if match.group(2) == "now" else self.marks.get(match.group(2), now)
            return _iso(ts) if match.group(1) == "iso" else _junit_ts(ts)
        return _PLACEHOLDER.sub(repl, text)

    def _atomic_write(self, path: str, data: bytes) -> None:
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        tmp = os.path.join(directory, ".{0}.{1}.tmp".format(os.path.basename(path), os.getpid()))
        with open(tmp, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)

    def _sleep(self, seconds: float) -> None:
        end = time.monotonic() + seconds
        while True:
            self._run_due()
            now = time.monotonic()
            if now >= end:
                return
            wake = end
            if self.deferred:
                wake = min(wake, self.deferred[0][0])
            time.sleep(max(0.0, wake - now))

    def _run_due(self) -> None:
        while self.deferred and self.deferred[0][0] <= time.monotonic():
            _due, _seq, step = self.deferred.pop(0)
            self._do(step)

    def _flush_deferred(self) -> None:
        while self.deferred:
            self._sleep(max(0.0, self.deferred[0][0] - time.monotonic()))

    def _do(self, step: Step) -> Optional[int]:
        kind = step.kind
        if kind == "write":
            self.out.write(step.data)
            self.out.flush()
        elif kind == "sleep":
            self._sleep(step.seconds)
        elif kind == "mark":
            self.marks[step.key] = time.time()
        elif kind == "artifact":
            text = self._fill(json.dumps(step.doc, indent=2, ensure_ascii=False))
            self._atomic_write(step.path, (text + "\n").encode("utf-8"))
        elif kind == "junit":
            data = self._fill(step.text).encode("utf-8")
            name = "results-{0}.xml".format(hashlib.md5(data).hexdigest())
            self._atomic_write(os.path.join(step.path, name), data)
        elif kind == "file":
            self._atomic_write(step.path, step.text.encode("utf-8"))
        elif kind == "defer":
            self.seq += 1
            self.deferred.append((time.monotonic() + step.seconds, self.seq, step.inner))  # type: ignore[arg-type]
            self.deferred.sort(key=lambda item: (item[0], item[1]))
        elif kind == "hang":
            self._flush_deferred()
            if self.on_hang is not None:
                self.on_hang()
                return 0
            while True:  # stay alive, consume no CPU, die only by a signal
                time.sleep(3600)
        elif kind == "signal":
            self._flush_deferred()
            if not self.allow_signal:
                return 128 + step.signum
            try:
                signal.signal(step.signum, signal.SIG_DFL)
            except (OSError, ValueError, RuntimeError):
                pass
            os.kill(os.getpid(), step.signum)
            time.sleep(1.0)  # the signal did not end the process (ignored or harmless)
            return 128 + step.signum
        elif kind == "exit":
            self._flush_deferred()
            return step.code
        return None

    def run(self) -> int:
        for step in self.plan.steps:
            self._run_due()
            code = self._do(step)
            if code is not None:
                return code
        self._flush_deferred()
        return self.plan.exit_code


def execute(plan: Plan, out: Any = None, on_hang: Optional[Callable[[], None]] = None,
            allow_signal: bool = True) -> int:
    """Run ``plan`` and return the exit code.

    ``out`` is a binary file (default: ``plan.log`` opened for append, else ``sys.stdout.buffer``).
    ``on_hang``: called instead of sleeping forever (for in-process callers). With
    ``allow_signal=False`` a signal step returns ``128 + signum`` instead of killing the process.
    """
    handle = None
    if out is None:
        if plan.log:
            directory = os.path.dirname(os.path.abspath(plan.log))
            os.makedirs(directory, exist_ok=True)
            handle = open(plan.log, "ab")  # pylint: disable=consider-using-with
            out = handle
        else:
            out = sys.stdout.buffer
    try:
        return _Executor(plan, out, on_hang, allow_signal).run()
    finally:
        if handle is not None:
            handle.close()


def main(argv: Optional[Sequence[str]] = None, out: Any = None) -> int:
    """Command-line entry: parse, plan, execute; returns the exit code."""
    plan = build_plan(list(sys.argv[1:] if argv is None else argv))
    try:
        return execute(plan, out=out)
    except BrokenPipeError:
        return 141


if __name__ == "__main__":
    sys.exit(main())

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Probe of the watcher unit's sandbox, run as atvm-run-watcher@probe.service (Molecule verify).

Everything the real watcher needs must work under the unit's hardening: its libraries and the
installed core import, the environment reads as systemd parsed the env files, ``systemctl show``
answers about the runner unit, the runner's /proc and process tree are readable, the state root
is writable, the automation checkout readable, the rest of the system read-only, and READY=1 (sent
by the core's sdnotify) reaches systemd (Type=notify, NotifyAccess=main). The findings go to
<state root>/probe/probe.json.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys


def attempt_write(path: str) -> str:
    try:
        with open(path, "w", encoding="utf-8") as handle:
            handle.write("probe\n")
    except OSError as exc:
        return type(exc).__name__ + ":" + (exc.strerror or "")
    os.unlink(path)
    return "ok"


def read_text(path: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            return handle.read()
    except OSError as exc:
        return type(exc).__name__ + ":" + (exc.strerror or "")


def runner_facts(unit: str) -> dict:
    shown = subprocess.run(
        ["systemctl", "show", "-p", "MainPID,ActiveState", unit],
        capture_output=True, text=True, check=False,
    )
    props = dict(line.split("=", 1) for line in shown.stdout.splitlines() if "=" in line)
    facts = {"systemctl_rc": shown.returncode, "systemctl_stderr": shown.stderr.strip(), "props": props}
    pid = int(props.get("MainPID", "0") or 0)
    if pid <= 0:
        return facts
    import psutil  # pylint: disable=import-outside-toplevel

    proc = psutil.Process(pid)
    facts.update({
        "pid": pid,
        "cmdline": proc.cmdline(),
        "children": sorted(child.pid for child in proc.children(recursive=True)),
        "cpu_times": list(proc.cpu_times())[:2],
        "status": proc.status(),
        "proc_stat": read_text("/proc/{0}/stat".format(pid)).split(" ")[1],
    })
    return facts


def main(argv: list) -> int:
    install_root, automation_dir = argv[1], argv[2]
    state_root = os.environ.get("ATVM_STATE_ROOT", "/var/lib/atvm-run-watcher")
    results: dict = {}
    libraries = {}
    for name in ("ssl", "requests", "psutil", "jmespath"):
        try:
            __import__(name)
            libraries[name] = "ok"
        except ImportError as exc:
            libraries[name] = str(exc)
    results["libraries"] = libraries
    sys.path.insert(0, install_root)
    from atvm_watcher import cli  # pylint: disable=import-outside-toplevel,import-error
    from atvm_watcher import settings as config
    from atvm_watcher.host import sdnotify

    results["core"] = [os.path.dirname(cli.__file__), config.DEFAULT_STATE_ROOT]
    # The settings as the watcher reads them in its sandbox (the unit loads no env file itself).
    settings = config.load_env(None, {}, "probe", state_root)
    results["env"] = {key: settings.get(key) for key in (
        "ATVM_JP_HOST", "ATVM_SUBRUN_MARKER_REGEX", "MATTERMOST_ATVM_CHANNEL", "ATVM_STATE_ROOT", "ATVM_HANG_TIMEOUT")}
    results["environ_mattermost"] = sorted(key for key in os.environ if key.startswith("MATTERMOST_"))
    results["runner"] = runner_facts("atvm-runner@probe.service")
    results["write"] = {
        "state_root": attempt_write(os.path.join(state_root, "probe", "write-test")),
        "tmp": attempt_write("/tmp/atvm-probe"),
        "etc": attempt_write("/etc/atvm-probe"),
        "install_root": attempt_write(os.path.join(install_root, "atvm-probe")),
        "automation_dir": attempt_write(os.path.join(automation_dir, "atvm-probe")),
    }
    results["read"] = {"automation_dir": read_text(os.path.join(automation_dir, "atvm", "inventory", "vm-inventory.md"))}
    target = os.path.join(state_root, "probe", "probe.json")
    with open(target + ".tmp", "w", encoding="utf-8") as handle:
        json.dump(results, handle, indent=1, sort_keys=True)
    os.replace(target + ".tmp", target)
    # READY=1 through the watcher's own sdnotify, as the real watcher sends it.
    return 0 if sdnotify.ready() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))

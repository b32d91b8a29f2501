# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""run_info with wait=true prints a progress line while it waits (ansible-playbook on localhost, a planted
state directory, a stand-in systemctl on PATH whose units a test thread changes)."""
from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ansible_collections.atvm.watcher.plugins.action.run_info import progress_line
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import RunState
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore

COLLECTIONS = Path(importlib.util.find_spec("ansible_collections.atvm.watcher").submodule_search_locations[0]).parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))

SYSTEMCTL = """#!{python}
import json, sys
units = json.load(open({units!r}))
if sys.argv[1] == "show":
    props = {{"ActiveState": "inactive", "SubState": "dead", "Result": "success", "MainPID": "0",
              "LoadState": "loaded", "ExecMainStatus": "0", "ExecMainCode": "0"}}
    props.update(units.get(sys.argv[-1], {{}}))
    sys.stdout.write("".join("%s=%s\\n" % item for item in props.items()))
    sys.exit(0)
sys.exit(1)
"""

PLAYBOOK = """
- hosts: localhost
  gather_facts: false
  tasks:
    - name: Wait for the run that ends
      atvm.watcher.run_info: {{build_name: ends, state_root: "{root}", wait: true, timeout: 60, progress_interval: 1}}
      register: ends
    - name: Wait for the run that does not end
      atvm.watcher.run_info: {{build_name: lasts, state_root: "{root}", wait: true, timeout: 3, progress_interval: 1}}
      register: lasts
      ignore_errors: true
    - name: Show
      ansible.builtin.debug:
        msg: "RESULT {{{{ {{'ends': [ends.run_state, ends.result, ends.waited], 'lasts': [lasts.failed, lasts.msg]}} | to_json }}}}"
"""


def _running(root: Path, build: str) -> RunStore:
    store = RunStore(RunPaths(str(root), build)).ensure()
    store.save_state(RunState.from_dict({"build_name": build, "run_state": "RUNNING", "result": "RUN", "categorized": True,
                                         "watcher": {"phase": "watching"},
                                         "subruns": [{"index": 0, "name": "linux", "state": "COMPLETED", "key": "000-linux"},
                                                     {"index": 1, "name": "windows", "state": "RUNNING"}]}))
    return store


def test_waiting_prints_a_progress_line_per_interval(tmp_path):
    root = tmp_path / "state"
    ends, _lasts = _running(root, "ends"), _running(root, "lasts")
    units = tmp_path / "units.json"
    live = {"ActiveState": "active", "SubState": "running", "MainPID": "4242"}
    units.write_text(json.dumps({"atvm-run-watcher@ends.service": live, "atvm-run-watcher@lasts.service": live,
                                 "atvm-runner@lasts.service": live}), encoding="utf-8")
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "systemctl").write_text(SYSTEMCTL.format(python=sys.executable, units=str(units)), encoding="utf-8")
    os.chmod(bindir / "systemctl", 0o755)
    playbook = tmp_path / "wait.yml"
    playbook.write_text(PLAYBOOK.format(root=root), encoding="utf-8")

    def end_the_run():
        time.sleep(6)
        ends.save_state(RunState.from_dict({"build_name": "ends", "run_state": "COMPLETED", "result": "PASS",
                                            "watcher": {"phase": "done"}, "subruns": []}))
        data = json.loads(units.read_text(encoding="utf-8"))
        del data["atvm-run-watcher@ends.service"]
        units.write_text(json.dumps(data), encoding="utf-8")

    env = dict(os.environ, PATH="{0}:{1}".format(bindir, os.environ.get("PATH", "")),
               ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1", ANSIBLE_LOCALHOST_WARNING="false",
               ANSIBLE_INVENTORY_UNPARSED_WARNING="false", ANSIBLE_PYTHON_INTERPRETER=sys.executable)
    ender = threading.Thread(target=end_the_run)
    ender.start()
    out = subprocess.run([ANSIBLE_PLAYBOOK, "-i", "localhost,", "-c", "local", str(playbook)], env=env, text=True,
                         capture_output=True, timeout=240, check=False)
    ender.join()
    assert out.returncode == 0, out.stdout + out.stderr
    lines = out.stdout.splitlines()
    said = out.stderr.splitlines()  # stdout stays the callback's alone
    progress = [line for line in said if line.startswith("[localhost] ends: RUNNING (categorized)")]
    assert len(progress) >= 2, out.stderr
    assert "watcher watching; sub-runs done 1 of 2 seen; posts sent 0, failed 0, pending 0; waited" in progress[0]
    assert [line for line in said if line.startswith("[localhost] lasts: RUNNING")], out.stderr
    assert not [line for line in lines if line.startswith("[localhost] ")]
    shown = next(line for line in lines if "RESULT " in line).split("RESULT ", 1)[1].rstrip('"')
    result = json.loads(shown.replace('\\"', '"'))
    assert result["ends"] == ["COMPLETED", "PASS", True]
    assert result["lasts"] == [True, "run lasts was still RUNNING after waiting 3 seconds"]


def test_the_progress_line():
    line = progress_line({"build_name": "n42", "run_state": "RUNNING", "phase": "delivering", "categorized": False,
                          "subruns": [{"state": "FAILED"}, {"state": "COMPLETED"}, {"state": "RUNNING"}],
                          "delivery": {"sent": 1, "failed": 1, "pending": 0}}, 125, 3600)
    assert line == ("n42: RUNNING, watcher delivering; sub-runs done 2 of 3 seen; posts sent 1, failed 1, pending 0; "
                    "waited 2 min of 60 min")

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The playbooks check their inputs before they act: every role entry point they include is validated by its
argument spec (ansible-core validates tasks_from X only when X names the entry point, without ".yml")."""
from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator, Tuple

import yaml

ROOT = Path(__file__).resolve().parents[3]
COLLECTIONS = Path(importlib.util.find_spec("ansible_collections.atvm.watcher").submodule_search_locations[0]).parents[2]
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))


def _includes(value: Any) -> Iterator[Tuple[str, str]]:
    """(role, tasks_from) of every include_role / import_role in a loaded YAML document."""
    if isinstance(value, dict):
        for key, inner in value.items():
            if key in ("ansible.builtin.include_role", "ansible.builtin.import_role", "include_role", "import_role") \
                    and isinstance(inner, dict) and inner.get("tasks_from"):
                yield inner["name"], inner["tasks_from"]
            yield from _includes(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _includes(inner)


def _files():
    return sorted((ROOT / "playbooks").glob("*.yml")) + sorted((ROOT / "roles").glob("*/tasks/*.yml"))


def test_entry_points_are_included_by_their_name():
    seen = []
    for path in _files():
        for role, tasks_from in _includes(yaml.safe_load(path.read_text(encoding="utf-8"))):
            specs = yaml.safe_load((ROOT / "roles" / role.split(".")[-1] / "meta" / "argument_specs.yml").read_text(
                encoding="utf-8"))["argument_specs"]
            stem = tasks_from[:-4] if tasks_from.endswith(".yml") else tasks_from
            if stem in specs:
                assert tasks_from == stem, "{0}: tasks_from: {1} skips the argument spec {2!r}; write tasks_from: {2}".format(
                    path.relative_to(ROOT), tasks_from, stem)
                seen.append(stem)
    assert "uninstall" in seen


def test_uninstall_refuses_a_mistyped_boolean_before_anything(tmp_path):
    inventory = tmp_path / "inventory.ini"
    inventory.write_text("[atvm_controllers]\nlocalhost ansible_connection=local ansible_python_interpreter={0}\n".format(
        sys.executable), encoding="utf-8")
    env = dict(os.environ, ANSIBLE_COLLECTIONS_PATH=str(COLLECTIONS), ANSIBLE_NOCOLOR="1",
               ANSIBLE_RETRY_FILES_ENABLED="false")
    out = subprocess.run([ANSIBLE_PLAYBOOK, "-i", str(inventory), "--check", str(ROOT / "playbooks" / "uninstall.yml"),
                          "-e", "controller_uninstall_force=ture"], env=env, text=True, capture_output=True,
                         timeout=240, check=False)
    assert out.returncode != 0
    assert "Validating arguments against arg spec 'uninstall'" in out.stdout
    assert "argument 'controller_uninstall_force' is of type str and we were unable to convert to bool" in out.stdout
    assert "The value 'ture' is not a valid boolean" in out.stdout
    assert "List the units of runs" not in out.stdout  # nothing ran after the validation

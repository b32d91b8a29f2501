# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The collection's execution environment metadata, read by ansible-builder itself.

- ``ansible-builder introspect`` on the collection laid out under ansible_collections/atvm/watcher
  lists the Python and system dependencies of requirements.txt and bindep.txt;
- requirements.txt names exactly the third-party libraries the watcher core imports;
- extensions/ee/build.sh creates a build context (no container runtime needed), without a warning
  from ansible-builder, whose galaxy requirements install the collection tarball; introspecting
  that installed collection finds the same dependencies, and the image's builder stage (its own
  introspect script, with the definition's exclusions) keeps only what the control node needs.
"""
from __future__ import annotations

import ast
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path
from typing import Dict, List

import yaml

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
BIN = Path(sys.executable).parent
CORE = ROOT / "plugins" / "module_utils" / "atvm_watcher"
EE_FILE = ROOT / "extensions" / "ee" / "execution-environment.yml"


def _lines(path: Path) -> List[str]:
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.lstrip().startswith("#")]


def _requirement_name(line: str) -> str:
    return re.match(r"[A-Za-z0-9._-]+", line).group(0).lower()


def _introspect(collections_dir: Path) -> Dict[str, List[str]]:
    proc = subprocess.run([str(BIN / "ansible-builder"), "introspect", "--sanitize", str(collections_dir)],
                          capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    data = yaml.safe_load(proc.stdout[proc.stdout.index("---"):])
    return {"python": data.get("python") or [], "system": data.get("system") or []}


def _check_introspection(data: Dict[str, List[str]]) -> None:
    expected_python = _lines(ROOT / "requirements.txt")
    expected_system = _lines(ROOT / "bindep.txt")
    assert data["python"] == ["{0}  # from collection atvm.watcher".format(line) for line in expected_python]
    assert data["system"] == ["{0}  # from collection atvm.watcher".format(line) for line in expected_system]
    names = {_requirement_name(line) for line in data["python"]}
    assert {"requests", "psutil", "jmespath", "defusedxml"} <= names


def test_meta_execution_environment_points_to_the_files():
    meta = yaml.safe_load((ROOT / "meta" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert meta["version"] == 1
    assert meta["dependencies"] == {"python": "requirements.txt", "system": "bindep.txt"}
    for relative in meta["dependencies"].values():
        assert (ROOT / relative).is_file()


def test_introspect_lists_the_collection_dependencies(tmp_path):
    collection = tmp_path / "ansible_collections" / "atvm" / "watcher"
    (collection / "meta").mkdir(parents=True)
    for relative in ("galaxy.yml", "requirements.txt", "bindep.txt", "meta/execution-environment.yml"):
        shutil.copyfile(ROOT / relative, collection / relative)
    _check_introspection(_introspect(tmp_path))


def test_requirements_are_what_the_core_imports():
    imported = set()
    for path in sorted(CORE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                imported.update(alias.name.split(".")[0] for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                imported.add(node.module.split(".")[0])
    third_party = {name for name in imported if name not in sys.stdlib_module_names and name != "__future__"}
    assert third_party, "no import found in {0}".format(CORE)
    required = {_requirement_name(line) for line in _lines(ROOT / "requirements.txt")}
    assert third_party == required, "core imports {0}, requirements.txt lists {1}".format(
        sorted(third_party), sorted(required))


def test_ee_definition_follows_the_collection_requirements():
    ee = yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    assert ee["version"] == 3
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core" + runtime["requires_ansible"]
    assert ee["dependencies"]["galaxy"]["collections"] == [{"name": "collections/atvm-watcher.tar.gz", "type": "file"}]
    assert ee["additional_build_files"] == [{"src": "atvm-watcher.tar.gz", "dest": "collections"}]
    # The minimal image: a base image named here (ansible-builder's default is outdated) and its
    # package manager (microdnf; the default /usr/bin/dnf is not in a minimal image).
    assert ee["images"]["base_image"]["name"].endswith("/ee-minimal-rhel9:latest")
    assert ee["options"]["package_manager_path"] == "/usr/bin/microdnf"
    # The controller-side libraries of the collection stay out of the image.
    assert ee["dependencies"]["exclude"] == {"all_from_collections": ["atvm.watcher"]}


def test_build_script_creates_a_context_that_installs_the_collection(tmp_path):
    out = tmp_path / "ee"
    env = dict(os.environ)
    env.update({"ATVM_EE_BUILD_DIR": str(out), "ANSIBLE_GALAXY": str(BIN / "ansible-galaxy"),
                "ANSIBLE_BUILDER": str(BIN / "ansible-builder")})
    proc = subprocess.run([str(ROOT / "extensions" / "ee" / "build.sh"), "create"], capture_output=True,
                          text=True, env=env, timeout=300, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # ansible-builder create on the definition build.sh laid out: not one warning.
    again = subprocess.run([str(BIN / "ansible-builder"), "create", "--file", str(out / "execution-environment.yml"),
                            "--context", str(tmp_path / "context-again")], capture_output=True, text=True,
                           timeout=120, check=False, cwd=str(out))
    assert again.returncode == 0 and "Complete! The build context can be found at" in again.stdout, again.stderr
    assert "WARNING" not in (again.stdout + again.stderr).upper(), again.stdout + again.stderr
    context = out / "context"
    containerfile = next(p for p in (context / "Containerfile", context / "Dockerfile") if p.is_file())
    steps = containerfile.read_text(encoding="utf-8")
    assert "ansible-galaxy collection install" in steps
    assert "introspect.py introspect" in steps
    assert "install-from-bindep" in steps
    tarball = context / "_build" / "collections" / "atvm-watcher.tar.gz"
    with tarfile.open(tarball) as archive:
        names = set(archive.getnames())
    for member in ("meta/execution-environment.yml", "requirements.txt", "bindep.txt", "meta/runtime.yml",
                   "extensions/awx/job_templates.yml", "playbooks/launch_run.yml", "playbooks/install.yml",
                   "playbooks/cancel_run.yml", "playbooks/run_status.yml", "roles/controller/tasks/main.yml",
                   "roles/launch/tasks/main.yml", "plugins/module_utils/atvm_watcher/watch/loop.py"):
        assert member in names, "{0} is not in the collection tarball".format(member)
    assert not any(name.startswith("tests/") for name in names)

    # The image's galaxy stage: install from the context's requirements; its builder stage:
    # introspect what was installed. (Without PYTHONPATH: a checkout on it counts as installed.)
    installed = tmp_path / "installed"
    env.pop("PYTHONPATH", None)
    galaxy = subprocess.run(
        [str(BIN / "ansible-galaxy"), "collection", "install", "--offline", "--force", "-r", "requirements.yml",
         "--collections-path", str(installed)],
        cwd=str(context / "_build"), capture_output=True, text=True, timeout=300, check=False,
        env=dict(env, ANSIBLE_GALAXY_DISABLE_GPG_VERIFY="1", ANSIBLE_COLLECTIONS_PATH=str(installed)),
    )
    assert galaxy.returncode == 0, galaxy.stdout + galaxy.stderr
    assert (installed / "ansible_collections" / "atvm" / "watcher" / "MANIFEST.json").is_file(), galaxy.stdout
    _check_introspection(_introspect(installed))

    # The builder stage, as the Containerfile runs it: what the final image installs.
    step = re.search(r"^RUN \$PYCMD /output/scripts/introspect\.py introspect (.*)$", steps, re.M)
    assert step, steps
    args = step.group(1).split()
    assert "--exclude-collection-reqs=exclude-collections.txt" in args
    pip, bindep = tmp_path / "requirements.txt", tmp_path / "bindep.txt"
    build = subprocess.run(
        [sys.executable, "scripts/introspect.py", "introspect", str(installed), "--user-bindep=bindep.txt",
         "--exclude-collection-reqs=exclude-collections.txt", "--write-bindep={0}".format(bindep),
         "--write-pip={0}".format(pip)],
        cwd=str(context / "_build"), capture_output=True, text=True, timeout=120, check=False)
    assert build.returncode == 0, build.stdout + build.stderr
    assert not pip.exists() or _lines(pip) == []
    assert [line.split("#")[0].strip() for line in _lines(bindep)] == ["openssh-clients [platform:rpm]"]


def test_the_definition_names_its_interpreter_and_the_docs_the_registry_login():
    ee = yaml.safe_load(EE_FILE.read_text(encoding="utf-8"))
    interpreter = ee["dependencies"]["python_interpreter"]
    assert interpreter == {"package_system": "python3.11", "python_path": "/usr/bin/python3.11"}
    assert ee["images"]["base_image"]["name"].startswith("registry.redhat.io/")
    awx = (ROOT / "docs" / "awx.md").read_text(encoding="utf-8")
    assert "podman login registry.redhat.io" in awx and "make ee" in awx
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert "\nee: " in makefile and "extensions/ee/build-local.sh" in makefile

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""core_files lookup: the manifest of the core files the controller role installs."""
from __future__ import annotations

import hashlib
import json
import pathlib

import pytest
from ansible.errors import AnsibleLookupError

from ansible_collections.atvm.watcher.plugins.lookup import core_files

ROOT = pathlib.Path(__file__).resolve().parents[4]


def test_manifest_of_this_checkout_lists_every_core_module_and_both_entry_scripts():
    manifest = core_files.LookupModule().run([])[0]
    core_dir = ROOT / "plugins/module_utils/atvm_watcher"
    core = sorted("atvm_watcher/" + p.relative_to(core_dir).as_posix() for p in core_dir.rglob("*.py"))
    assert "atvm_watcher/decision/rules.py" in core
    assert [f["path"] for f in manifest["files"]] == sorted(core + ["bin/atvm-run-watcher", "bin/atvm-runner"])
    assert manifest["dirs"] == ["atvm_watcher"] + sorted(
        "atvm_watcher/" + p.relative_to(core_dir).as_posix() for p in core_dir.iterdir()
        if p.is_dir() and p.name != "__pycache__")
    assert manifest["collection"] == "atvm.watcher"
    assert manifest["version"] == "2.0.0"
    for entry in manifest["files"]:
        data = pathlib.Path(entry["src"]).read_bytes()
        assert entry["sha256"] == hashlib.sha256(data).hexdigest()
        assert manifest["digests"][entry["path"]] == entry["sha256"]
        assert entry["mode"] == ("0755" if entry["path"].startswith("bin/") else "0644")


def _fake_collection(tmp_path, version_file="galaxy"):
    core = tmp_path / "plugins" / "module_utils" / "atvm_watcher"
    core.mkdir(parents=True)
    (core / "cli.py").write_bytes(b"print('cli')\n")
    (core / "config.py").write_bytes(b"X = 1\n")
    (core / "notes.txt").write_bytes(b"not a module\n")
    (core / "store").mkdir()
    (core / "store" / "runstore.py").write_bytes(b"Y = 2\n")
    (core / "__pycache__").mkdir()
    (core / "__pycache__" / "cli.cpython-311.pyc").write_bytes(b"\0")
    (tmp_path / "bin").mkdir()
    for script in ("atvm-run-watcher", "atvm-runner"):
        (tmp_path / "bin" / script).write_bytes(script.encode() + b"\n")
    if version_file == "galaxy":
        (tmp_path / "galaxy.yml").write_text("namespace: atvm\nname: watcher\nversion: 2.3.4\n")
    else:
        (tmp_path / "MANIFEST.json").write_text(json.dumps({"collection_info": {"version": "9.8.7"}}))
    return tmp_path


def test_digest_covers_the_sorted_path_and_hash_lines(tmp_path):
    manifest = core_files.core_manifest(str(_fake_collection(tmp_path)))
    lines = "".join("{0}  {1}\n".format(hashlib.sha256(data).hexdigest(), path) for path, data in sorted([
        ("atvm_watcher/cli.py", b"print('cli')\n"),
        ("atvm_watcher/config.py", b"X = 1\n"),
        ("atvm_watcher/store/runstore.py", b"Y = 2\n"),
        ("bin/atvm-run-watcher", b"atvm-run-watcher\n"),
        ("bin/atvm-runner", b"atvm-runner\n"),
    ]))
    assert manifest["digest"] == hashlib.sha256(lines.encode()).hexdigest()
    assert manifest["version"] == "2.3.4"
    assert "atvm_watcher/notes.txt" not in manifest["digests"]
    assert manifest["dirs"] == ["atvm_watcher", "atvm_watcher/store"]


def test_an_installed_collection_takes_its_version_from_manifest_json(tmp_path):
    assert core_files.core_manifest(str(_fake_collection(tmp_path, "manifest")))["version"] == "9.8.7"


def test_one_changed_byte_changes_the_digest(tmp_path):
    root = _fake_collection(tmp_path)
    before = core_files.core_manifest(str(root))
    (root / "plugins/module_utils/atvm_watcher/config.py").write_bytes(b"X = 2\n")
    after = core_files.core_manifest(str(root))
    assert after["digest"] != before["digest"]
    assert after["digests"]["atvm_watcher/cli.py"] == before["digests"]["atvm_watcher/cli.py"]


def test_a_tree_without_the_core_is_refused(tmp_path):
    (tmp_path / "plugins" / "module_utils" / "atvm_watcher").mkdir(parents=True)
    with pytest.raises(AnsibleLookupError, match="no cli.py"):
        core_files.core_manifest(str(tmp_path))


def test_terms_are_refused():
    with pytest.raises(AnsibleLookupError, match="takes no terms"):
        core_files.LookupModule().run(["x"])

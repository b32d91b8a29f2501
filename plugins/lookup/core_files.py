# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
from __future__ import annotations

DOCUMENTATION = r"""
name: core_files
author: atvm.watcher contributors (!UNKNOWN)
short_description: The watcher core files of this collection, with their digests
version_added: 1.0.0
description:
  - Returns one manifest of the files that the C(atvm.watcher.controller) role installs on a
    controller, read from this collection as it is installed (or checked out) on the Ansible
    controller.
  - The files are the watcher core package C(plugins/module_utils/atvm_watcher/), every C(*.py) file
    of it and of its folders, installed as C(atvm_watcher/), and the entry scripts C(bin/atvm-run-watcher) and C(bin/atvm-runner),
    installed as C(bin/).
  - The digest of the whole set is the SHA-256 of the lines C(<sha256>  <path>) of every file,
    sorted by path, so two installs with the same digest run the same code.
options: {}
notes:
  - Takes no terms. Use it with C(query) (or C(lookup(..., wantlist=true))) and take the first
    element.
"""

EXAMPLES = r"""
- name: Show the version and the digest of the watcher core shipped with this collection
  ansible.builtin.debug:
    msg: "{{ _core.version }} {{ _core.digest }}"
  vars:
    _core: "{{ query('atvm.watcher.core_files') | first }}"
"""

RETURN = r"""
_raw:
  description: A list with one manifest.
  type: list
  elements: dict
  contains:
    collection:
      description: The collection the files come from.
      type: str
      sample: atvm.watcher
    version:
      description: The version of the collection (C(MANIFEST.json) when installed, C(galaxy.yml) in a checkout).
      type: str
      sample: 1.0.0
    digest:
      description: SHA-256 over the sorted C(<sha256>  <path>) lines of all files.
      type: str
    digests:
      description: The SHA-256 of every file, by its path under the install root.
      type: dict
      sample: {"atvm_watcher/cli.py": "9f2c..."}
    dirs:
      description: The folders of the core under the install root, sorted, C(atvm_watcher) first.
      type: list
      elements: str
      sample: ["atvm_watcher", "atvm_watcher/decision", "atvm_watcher/evidence"]
    files:
      description: One entry per file, sorted by C(path).
      type: list
      elements: dict
      contains:
        path:
          description: Path under the install root, for example C(atvm_watcher/cli.py) or C(bin/atvm-runner).
          type: str
        src:
          description: Absolute path of the file on the Ansible controller.
          type: str
        sha256:
          description: SHA-256 of the file's content.
          type: str
        mode:
          description: The mode to install it with (C(0755) for entry scripts, C(0644) otherwise).
          type: str
"""

import hashlib
import json
import os

from ansible.errors import AnsibleLookupError
from ansible.plugins.lookup import LookupBase
from ansible.module_utils.common.yaml import yaml_load

COLLECTION = "atvm.watcher"
CORE_DIR = os.path.join("plugins", "module_utils", "atvm_watcher")
ENTRY_SCRIPTS = ("atvm-run-watcher", "atvm-runner")


def collection_root() -> str:
    """The root of this collection: three levels above this file (plugins/lookup/core_files.py)."""
    return os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def _sha256(path: str) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for chunk in iter(lambda: handle.read(1024 * 1024), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _version(root: str) -> str:
    manifest = os.path.join(root, "MANIFEST.json")
    if os.path.isfile(manifest):
        with open(manifest, "rb") as handle:
            return str(json.load(handle)["collection_info"]["version"])
    with open(os.path.join(root, "galaxy.yml"), "rb") as handle:
        return str(yaml_load(handle)["version"])


def core_manifest(root: str) -> dict:
    """Build the manifest of the core files under ``root`` (a collection root)."""
    sources = []
    core = os.path.join(root, CORE_DIR)
    dirs = ["atvm_watcher"]
    for here, subdirs, names in os.walk(core):
        subdirs[:] = sorted(d for d in subdirs if d != "__pycache__" and not d.startswith("."))
        rel = os.path.relpath(here, core)
        prefix = "atvm_watcher" if rel == "." else "atvm_watcher/" + rel.replace(os.sep, "/")
        if rel != ".":
            dirs.append(prefix)
        for name in sorted(names):
            if name.endswith(".py") and os.path.isfile(os.path.join(here, name)):
                sources.append((prefix + "/" + name, os.path.join(here, name), "0644"))
    if "atvm_watcher/cli.py" not in [source[0] for source in sources]:
        raise AnsibleLookupError("cannot find the watcher core in {0}: no cli.py".format(core))
    for script in ENTRY_SCRIPTS:
        sources.append(("bin/" + script, os.path.join(root, "bin", script), "0755"))
    files = []
    for path, src, mode in sorted(sources):
        files.append({"path": path, "src": src, "sha256": _sha256(src), "mode": mode})
    lines = "".join("{0}  {1}\n".format(f["sha256"], f["path"]) for f in files)
    return {
        "collection": COLLECTION,
        "version": _version(root),
        "digest": hashlib.sha256(lines.encode("utf-8")).hexdigest(),
        "digests": {f["path"]: f["sha256"] for f in files},
        "files": files,
        "dirs": sorted(dirs),
    }


class LookupModule(LookupBase):

    def run(self, terms, variables=None, **kwargs):
        if terms:
            raise AnsibleLookupError("lookup atvm.watcher.core_files takes no terms")
        self.set_options(var_options=variables, direct=kwargs)
        root = collection_root()
        try:
            return [core_manifest(root)]
        except (OSError, KeyError, ValueError) as exc:
            raise AnsibleLookupError("cannot read the watcher core files of {0} in {1}: {2}".format(COLLECTION, root, exc)) from exc

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The operator documentation against the files it describes.

- the ansible-core range is stated once (docs/install.md), equal to meta/runtime.yml, and the
  execution environment installs that same range; no other page names an ansible-core release;
- every playbook the collection ships is documented, and no page sends the operator to the
  install root's entry script instead of the command on PATH.
"""
from __future__ import annotations

import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]
PAGES = [ROOT / "README.md"] + sorted((ROOT / "docs").glob("*.md"))
RANGE_RE = re.compile(r">=\s*\d+\.\d+(?:\.\d+)?\s*,\s*<\s*\d+\.\d+(?:\.\d+)?")
RELEASE_RE = re.compile(r"ansible-core[ `]+(?:\d+\.\d+|[<>=])")


def _runtime_range() -> str:
    runtime = yaml.safe_load((ROOT / "meta" / "runtime.yml").read_text(encoding="utf-8"))
    return runtime["requires_ansible"]


def test_the_range_is_stated_once_and_is_the_runtimes():
    statements = [(page.name, found) for page in PAGES for found in RANGE_RE.findall(page.read_text(encoding="utf-8"))]
    assert statements == [("install.md", _runtime_range())], statements


def test_no_other_page_names_an_ansible_core_release():
    named = [(page.name, m.group(0)) for page in PAGES for m in RELEASE_RE.finditer(page.read_text(encoding="utf-8"))]
    assert named == [("install.md", "ansible-core `>")], named


def test_the_execution_environment_installs_the_runtime_range():
    ee = yaml.safe_load((ROOT / "extensions" / "ee" / "execution-environment.yml").read_text(encoding="utf-8"))
    assert ee["dependencies"]["ansible_core"]["package_pip"] == "ansible-core" + _runtime_range()


def test_every_playbook_is_documented():
    text = "\n".join(page.read_text(encoding="utf-8") for page in PAGES)
    for playbook in sorted((ROOT / "playbooks").glob("*.yml")):
        assert "atvm.watcher." + playbook.stem in text or "playbooks/" + playbook.name in text, playbook.name


def test_the_command_line_is_named_as_on_path():
    for page in PAGES:
        assert "atvm-watcher-service/bin/atvm-run-watcher" not in page.read_text(encoding="utf-8"), page.name

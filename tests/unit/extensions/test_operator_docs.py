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
import sys
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


def _tested_ansible_core() -> str:
    text = (ROOT / "tests" / "requirements.txt").read_text(encoding="utf-8")
    return re.search(r"^ansible-core==(\d+\.\d+\.\d+)$", text, re.M).group(1)


def test_the_range_is_what_the_tests_run_with():
    """The declared range holds the ansible-core release the tests pin, and no later minor release."""
    found = re.fullmatch(r">=(\d+)\.(\d+)\.\d+,<(\d+)\.(\d+)", _runtime_range())
    assert found, _runtime_range()
    major, minor = (int(part) for part in _tested_ansible_core().split(".")[:2])
    assert (int(found.group(1)), int(found.group(2))) == (major, minor), _tested_ansible_core()
    assert (int(found.group(3)), int(found.group(4))) == (major, minor + 1), "an untested release is claimed"


def test_the_python_stated_is_the_one_the_tests_run_with():
    page = (ROOT / "docs" / "install.md").read_text(encoding="utf-8")
    stated = re.search(r"ansible-core `[^`]+` on Python (\d+\.\d+)", page).group(1)
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert set(re.findall(r"ansible-test \w+ --python (\d+\.\d+)", makefile)) == {stated}
    assert "{0}.{1}".format(*sys.version_info[:2]) == stated


def test_the_quick_start_installs_ansible_core_before_it_uses_it():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    start = readme[readme.index("## Quick start"):]
    assert start.index("pip install") < start.index("ansible-galaxy")
    assert "atvm-watcher-{0}.tar.gz".format(yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]) \
        in start


def test_the_readme_starts_with_its_title_then_the_two_commands():
    lines = (ROOT / "README.md").read_text(encoding="utf-8").splitlines()
    assert lines[0] == "# atvm.watcher"
    assert lines[1:6] == ["", "```sh", "make demo", "make test", "```"]


def test_no_table_is_split_by_a_blank_line():
    """A table row right after a blank line must start a new table (a header row, then its |---| line)."""
    for page in PAGES:
        lines = page.read_text(encoding="utf-8").splitlines()
        fence = False
        for number, line in enumerate(lines):
            if line.startswith("```"):
                fence = not fence
            if fence or not line.startswith("|") or number == 0 or lines[number - 1].strip():
                continue
            assert number + 1 < len(lines) and re.match(r"^\|[\s:|-]+\|$", lines[number + 1]), \
                "{0}:{1}: a table row after a blank line: {2}".format(page.name, number + 1, line[:60])


def test_no_page_claims_a_shape_it_is_not_tested_against():
    for page in PAGES:
        assert "infra.aap_configuration" not in page.read_text(encoding="utf-8"), page.name


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

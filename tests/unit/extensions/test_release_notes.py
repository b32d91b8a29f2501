# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The release notes operators read (CHANGELOG.rst, also in the built artifact) cover the version galaxy.yml
declares: a version bump without `make release` fails here."""
from __future__ import annotations

import fnmatch
import re
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[3]


def _version() -> str:
    return yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["version"]


def _changelog() -> dict:
    return yaml.safe_load((ROOT / "changelogs" / "changelog.yaml").read_text(encoding="utf-8"))


def test_the_declared_version_has_its_section_in_changelog_rst():
    text = (ROOT / "CHANGELOG.rst").read_text(encoding="utf-8")
    headings = re.findall(r"^v(\d+\.\d+\.\d+)\n=+$", text, flags=re.MULTILINE)
    assert headings, "CHANGELOG.rst has no version section"
    assert headings[0] == _version(), "galaxy.yml says {0}, CHANGELOG.rst starts at v{1}: run make release".format(
        _version(), headings[0])


def test_the_declared_version_is_released_in_changelog_yaml():
    releases = _changelog()["releases"]
    assert _version() in releases and releases[_version()].get("release_date")
    newest = max(releases, key=lambda v: tuple(int(p) for p in v.split(".")))
    assert newest == _version()


def test_fragments_left_are_not_released_ones():
    """The fragments in changelogs/fragments wait for the next version: none is one a release already took."""
    released = {name for release in _changelog()["releases"].values() for name in release.get("fragments", [])}
    left = {path.name for path in (ROOT / "changelogs" / "fragments").glob("*.yml")}
    assert not left & released, sorted(left & released)


def test_the_artifact_carries_changelog_rst_and_not_the_fragments():
    ignored = yaml.safe_load((ROOT / "galaxy.yml").read_text(encoding="utf-8"))["build_ignore"]
    assert not any(fnmatch.fnmatch("CHANGELOG.rst", pattern) for pattern in ignored)
    assert "changelogs/fragments" in ignored
    assert "CHANGELOG.rst" in (ROOT / "docs" / "upgrade.md").read_text(encoding="utf-8")

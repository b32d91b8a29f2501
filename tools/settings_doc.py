# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The settings reference ``docs/settings.md``, made from the Settings declarations in settings.py.

``make settings-doc`` writes it; a unit test fails when the committed file is not what this makes.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import (
    GLOBAL_ENV_FILE, KINDS, METADATA_ENV, SETTING_FIELDS,
)


def _default_text(field: "dataclasses.Field[Any]") -> str:
    meta = field.metadata
    if meta["default_doc"]:
        return meta["default_doc"]
    default = field.default if field.default is not dataclasses.MISSING else field.default_factory()
    if default is None or default == []:
        return "not set"
    if isinstance(default, bool):
        return "`true`" if default else "`false`"
    if isinstance(default, float) and default.is_integer():
        default = int(default)
    return "`{0}`".format(default)


def settings_reference() -> str:
    """The Markdown reference of every setting (``docs/settings.md``), made from the declarations."""
    lines = [
        "<!-- Copyright: (c) 2026, atvm.watcher contributors",
        "     GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or "
        "https://www.gnu.org/licenses/gpl-3.0.txt)",
        "     Generated from the Settings declarations in plugins/module_utils/atvm_watcher/settings.py",
        "     by tools/settings_doc.py:",
        "     do not edit; run `make settings-doc`. -->",
        "# Watcher settings",
        "",
        "The watcher reads these environment variables from the controller-wide env file "
        "(`{0}`) and the run's own `watcher.env`; `atvm-run-watcher check-config` checks them "
        "all.".format(GLOBAL_ENV_FILE),
        "An empty value is the same as an unset one.",
    ]
    sections: Dict[str, List[str]] = {}
    for field in SETTING_FIELDS:
        meta = field.metadata
        rules = [KINDS[meta["kind"]], "default " + _default_text(field)]
        if meta["above"] is not None:
            rules.append("greater than {0}".format(meta["above"]))
        if meta["at_least"] is not None:
            rules.append("at least {0}".format(meta["at_least"]))
        if meta["between"] is not None:
            rules.append("from {0} to {1}".format(*meta["between"]))
        if meta["choices"]:
            rules[0] = "one of " + ", ".join("`{0}`".format(c) for c in meta["choices"])
        if meta["group"]:
            rules.append("with the named group `(?P<{0}>...)`".format(meta["group"]))
        if meta["kind"] == "webhook":
            rules.append("required by the watcher")
        sections.setdefault(meta["section"], []).append(
            "- `{0}` ({1}): {2} Attribute `{3}`.".format(meta["env"], "; ".join(rules), meta["doc"], field.name))
    for title, entries in sections.items():
        lines.extend(["", "## " + title, ""] + entries)
    lines.extend(["", "## Run metadata", "",
                  "Written into the run's `watcher.env` by the launch modules and shown by `status`:", ""])
    lines.extend("- `{0}`: {1}".format(name, key.replace("_", " ")) for name, key in METADATA_ENV.items())
    return "\n".join(lines) + "\n"

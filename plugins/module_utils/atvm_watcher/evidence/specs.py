# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Spec paths: their one spelling (backslashes -> '/'), the meta spec, and the host a spec belongs to."""
from __future__ import annotations

import re
from collections.abc import Iterable

from .. import settings as config
from ..errors import ConfigError

META_SPEC_RE = re.compile(r"(?:^|/)check-xml-files(?:\.[A-Za-z0-9]+)*$", re.IGNORECASE)

_HOST_BOUNDARY = r"[A-Za-z0-9-]"


def normalise_spec(path: str) -> str:
    """A spec path with '/' separators (Windows paths are written with backslashes)."""
    return path.replace("\\", "/")


def is_meta_spec(spec: str) -> bool:
    """True for the ``check-xml-files.ts`` meta spec (it says nothing about hosts)."""
    return bool(META_SPEC_RE.search(normalise_spec(spec).strip()))


def _pattern_host(path: str, host_pattern: str) -> str | None:
    try:
        regex = re.compile(host_pattern)
    except re.error as exc:
        raise ConfigError(f"ATVM_HOST_PATTERN {host_pattern!r} is not a valid regular expression: {exc}") from None
    if "host" not in regex.groupindex:
        raise ConfigError(f"ATVM_HOST_PATTERN {host_pattern!r} has no named group (?P<host>...)")
    match = regex.search(path)
    return match.group("host") if match and match.group("host") else None


def host_for_spec(spec_path: str, hosts: Iterable[str], host_pattern: str = config.DEFAULT_HOST_PATTERN) -> str | None:
    """The host a spec path belongs to.

    1. an inventory host equal to a path component, or to the file name up to one of its dots
       (``rhel96-fc-01.cy.ts`` -> ``rhel96-fc-01``), case-insensitive, the longest such host;
    2. else an inventory host found inside the path between characters that cannot be part of a host
       name (anything but letters, digits and '-'), the longest;
    3. else the ``host`` group of ``host_pattern`` searched in the path (returned with the inventory's
       spelling when it names an inventory host);
    4. else None.
    """
    if not spec_path:
        return None
    path = normalise_spec(spec_path).strip()
    lowered = path.lower()
    parts = [p for p in lowered.split("/") if p]
    candidates = set(parts)
    if parts:
        name = parts[-1]
        pieces = name.split(".")
        for n in range(1, len(pieces) + 1):
            candidates.add(".".join(pieces[:n]))
    host_list = [h for h in hosts if h]
    by_lower: dict[str, str] = {}
    for host in host_list:
        by_lower.setdefault(host.lower(), host)

    exact = [h for h in by_lower if h in candidates]
    if exact:
        return by_lower[max(exact, key=len)]
    embedded = []
    for low in by_lower:
        if re.search(rf"(?<!{_HOST_BOUNDARY}){re.escape(low)}(?!{_HOST_BOUNDARY})", lowered):
            embedded.append(low)
    if embedded:
        return by_lower[max(embedded, key=len)]
    found = _pattern_host(path, host_pattern)
    return by_lower.get(found.lower(), found) if found else None

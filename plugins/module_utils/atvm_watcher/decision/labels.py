# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Does a sub-run's label fit the hosts it actually ran on? (OS family, distribution, version).

A categorized wrapper labels each child run (``linux``, ``windows``, ``rhel96``, ``ubuntu2404``,
``w2k25``, ...). :func:`os_mismatch` reads the operating-system words of the label and says which
one none of the executed hosts has, judging each host by its name (``rhel96-fc-01``,
``win2022-dc-02``) and by the OS column of the inventory (``RHEL 9.6``, ``Windows Server 2022``,
``Ubuntu 24.04 LTS``).

Words understood: the families ``linux``, ``windows`` (``win``); the distributions ``rhel``
(``redhat``), ``centos``, ``rocky``, ``alma``, ``oracle`` / ``ol``, ``fedora``, ``amzn`` / ``amazon``,
``ubuntu``, ``debian``, ``sles`` / ``suse``, ``opensuse``; each optionally followed by a version
(``rhel96``, ``rhel9``, ``ubuntu2404``, ``sles15``); Windows versions as ``win2022``,
``windows2025``, ``w2k25``, ``w2k19``. A label version matches a host version it begins
(``rhel9`` fits RHEL 9.6). Other label words (``smoke``, ``fc``, ``group-a``) are not judged.
"""
from __future__ import annotations

import re
from typing import Dict, Iterable, List, Optional, Set, Tuple

from ..models import InventoryHost

_DISTROS = {
    "rhel": "rhel", "redhat": "rhel", "centos": "centos", "rocky": "rocky", "alma": "alma",
    "almalinux": "alma", "oracle": "oracle", "ol": "oracle", "oel": "oracle", "fedora": "fedora",
    "amzn": "amzn", "amazon": "amzn", "ubuntu": "ubuntu", "debian": "debian", "sles": "sles", "suse": "sles",
    "opensuse": "opensuse",
}
_WINDOWS = ("windows", "win")
# (family, distribution or None, version or None)
Item = Tuple[str, Optional[str], Optional[str]]

_WORD_RE = re.compile(r"^(?P<alpha>[a-z]+)(?P<ver>\d[\d.]*)?$")
_W2K_RE = re.compile(r"^w2k(?P<yy>\d\d)(?:r2)?$")


def _year(digits: str) -> str:
    """``25`` -> ``2025`` (server years); ``10`` and ``11`` stay client versions."""
    return "20" + digits if len(digits) == 2 and int(digits) >= 12 else digits


def _item(word: str, version: Optional[str] = None) -> Optional[Item]:
    """The OS item one lower-case word names (``version``: a separate version word after it)."""
    w2k = _W2K_RE.match(word)
    if w2k:
        return ("windows", "windows", _year(w2k.group("yy")))
    match = _WORD_RE.match(word)
    if match is None:
        return None
    alpha, ver = match.group("alpha"), match.group("ver") or version
    ver = ver.replace(".", "") if ver else None
    if alpha == "linux":
        return ("linux", None, None)
    if alpha in _WINDOWS:
        return ("windows", "windows", _year(ver) if ver and len(ver) in (2, 4) else None)
    if alpha in _DISTROS:
        return ("linux", _DISTROS[alpha], ver)
    return None


def _words(text: str) -> List[str]:
    text = text.lower().replace("red hat", "redhat")
    return re.findall(r"[a-z]+\d[\d.]*|[a-z]+|\d[\d.]*", text)


def label_items(label: str) -> List[Tuple[str, Item]]:
    """``(word, item)`` for every OS word of a label."""
    items = []
    for word in re.split(r"[^a-z0-9.]+", label.lower()):
        item = _item(word.strip("."))
        if item is not None:
            items.append((word, item))
    return items


def host_items(host: str, inv: Optional[InventoryHost]) -> Set[Item]:
    """What the host's name and its inventory OS column say about its operating system."""
    items: Set[Item] = set()
    for word in re.split(r"[^a-z0-9]+", host.lower()):
        item = _item(word)
        if item is not None:
            items.add(item)
    words = _words(inv.os or "") if inv is not None else []
    for pos, word in enumerate(words):
        following = [w for w in words[pos + 1:pos + 4] if w[0].isdigit()]
        item = _item(word, following[0] if following else None)
        if item is not None:
            items.add(item)
    for family, distro, _ver in list(items):
        items.add((family, distro, None))
        items.add((family, None, None))
    return items


def _fits(item: Item, items: Set[Item]) -> bool:
    family, distro, ver = item
    for h_family, h_distro, h_ver in items:
        if h_family != family or (distro is not None and h_distro != distro):
            continue
        if ver is None or (h_ver is not None and h_ver.startswith(ver)):
            return True
    return False


def os_mismatch(label: str, hosts: Iterable[str], inventory: Dict[str, InventoryHost]) -> Optional[str]:
    """The first OS word of ``label`` that none of ``hosts`` has, or None.

    None as well when a host's operating system is unknown (neither its name nor the inventory
    tells it): the label may then be right.
    """
    per_host = [host_items(h, inventory.get(h)) for h in hosts]
    if not per_host or any(not items for items in per_host):
        return None
    for word, item in label_items(label):
        if not any(_fits(item, items) for items in per_host):
            return word
    return None

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The VM inventory: the hosts of the Markdown tables in the inventory file (host, OS, kernel)."""
from __future__ import annotations

import re
from collections.abc import Iterable

from ..errors import InputError
from .readers import read_input
from ..models import InventoryHost

MAX_INVENTORY_BYTES = 8 * 1024 * 1024

HOST_HEADERS = ("hostname", "host name", "host", "vm name", "vm", "name")
OS_HEADERS = ("os", "guest os", "distribution", "distro", "operating system", "os version")
KERNEL_HEADERS = ("kernel", "kernel version", "kernel release")

_DELIM_CELL_RE = re.compile(r"^:?-{1,}:?$")
_FENCE_RE = re.compile(r"^\s*(```|~~~)")
_LINK_RE = re.compile(r"\[([^\]]*)\]\([^)]*\)")
_EMPTY_CELL = ("", "-", "--", "n/a", "na", "none", "tbd", "?")


def _split_row(line: str) -> list[str]:
    text = line.strip()
    text = text.removeprefix("|")
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\" and i + 1 < len(text) and text[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if ch == "|":  # as in GitHub Flavored Markdown, also inside a code span
            cells.append("".join(current))
            current = []
        else:
            current.append(ch)
        i += 1
    cells.append("".join(current))
    return cells


def clean_cell(cell: str) -> str:
    """A table cell without Markdown decoration: trimmed, backticks, bold/italics and links removed."""
    text = cell.strip()
    text = _LINK_RE.sub(r"\1", text)
    text = re.sub(r"<br\s*/?>", " ", text, flags=re.IGNORECASE)
    for mark in ("**", "__"):
        if text.startswith(mark) and text.endswith(mark) and len(text) >= 2 * len(mark):
            text = text[len(mark):-len(mark)].strip()
    text = text.replace("**", "").replace("`", "")
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "*_" and text[1] != text[0]:
        text = text[1:-1]
    return " ".join(text.split())


def _header_key(cell: str) -> str:
    text = clean_cell(cell).lower()
    text = re.sub(r"\([^)]*\)", " ", text)  # "Kernel (uname -r)" -> "kernel"
    text = re.sub(r"[_\-]+", " ", text)
    text = re.sub(r"[^a-z0-9 ]+", "", text)
    return " ".join(text.split())


def _pick_column(keys: list[str], names: Iterable[str]) -> int | None:
    for name in names:  # the order of ``names`` is the preference
        if name in keys:
            return keys.index(name)
    return None


def _is_delimiter(line: str) -> bool:
    if "-" not in line:
        return False
    cells = [c.strip() for c in _split_row(line)]
    return bool(cells) and all(_DELIM_CELL_RE.match(c) for c in cells if c != "") and any(cells)


def _tables(lines: list[str]) -> list[tuple[list[str], list[list[str]]]]:
    """Every Markdown table: (header cells, body rows). Code fences are skipped."""
    tables: list[tuple[list[str], list[list[str]]]] = []
    in_fence = False
    i = 0
    while i < len(lines):
        line = lines[i]
        if _FENCE_RE.match(line):
            in_fence = not in_fence
            i += 1
            continue
        if in_fence or "|" not in line or i + 1 >= len(lines) or not _is_delimiter(lines[i + 1]):
            i += 1
            continue
        header = _split_row(line)
        rows: list[list[str]] = []
        i += 2
        while i < len(lines) and "|" in lines[i] and lines[i].strip() and not _FENCE_RE.match(lines[i]):
            rows.append(_split_row(lines[i]))
            i += 1
        tables.append((header, rows))
    return tables


def _cell(cells: list[str], col: int | None) -> str | None:
    if col is None or col >= len(cells):
        return None
    value = cells[col]
    return None if value.lower() in _EMPTY_CELL else value


def parse_inventory_text(text: str) -> dict[str, InventoryHost]:
    """Hosts of every Markdown table in ``text`` that has a host column (first occurrence of a host wins;
    a later row only fills an OS or kernel the first one lacked)."""
    hosts: dict[str, InventoryHost] = {}
    lower_index: dict[str, str] = {}
    for header, rows in _tables(text.splitlines()):
        keys = [_header_key(h) for h in header]
        host_col = _pick_column(keys, HOST_HEADERS)
        if host_col is None:
            continue
        os_col = _pick_column(keys, OS_HEADERS)
        kernel_col = _pick_column(keys, KERNEL_HEADERS)
        titles = [clean_cell(h) or f"column {n + 1}" for n, h in enumerate(header)]
        for row in rows:
            cells = [clean_cell(c) for c in row]
            if host_col >= len(cells):
                continue
            name = cells[host_col]
            if name.lower() in _EMPTY_CELL:
                continue

            fields = {titles[n]: cells[n] for n in range(min(len(titles), len(cells)))}
            existing_key = lower_index.get(name.lower())
            if existing_key is not None:
                existing = hosts[existing_key]
                existing.os = existing.os or _cell(cells, os_col)
                existing.kernel = existing.kernel or _cell(cells, kernel_col)
                for key, value in fields.items():
                    existing.fields.setdefault(key, value)
                continue
            hosts[name] = InventoryHost(
                host=name, os=_cell(cells, os_col), kernel=_cell(cells, kernel_col), fields=fields,
            )
            lower_index[name.lower()] = name
    return hosts


def read_inventory(path: str) -> dict[str, InventoryHost]:
    """Read the VM inventory Markdown file: {host: InventoryHost}.

    A missing or unreadable file raises :class:`InputError`; a file without a usable table gives {}.
    """
    _st, data, err = read_input(path, MAX_INVENTORY_BYTES)
    if data is None:
        raise InputError(path, f"inventory file: {err}")
    return parse_inventory_text(data.decode("utf-8-sig", errors="replace"))

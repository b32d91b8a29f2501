# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A strict reader of the Prometheus text exposition format (0.0.4), as node_exporter's textfile
collector reads it: every line is checked, label values are unescaped, anything off raises ValueError
with the line number."""
from __future__ import annotations

import math
import re
from typing import Any, Dict, List, Tuple

METRIC_NAME = r"[a-zA-Z_:][a-zA-Z0-9_:]*"
LABEL_NAME = r"[a-zA-Z_][a-zA-Z0-9_]*"
TYPES = ("counter", "gauge", "histogram", "summary", "untyped")
_ESCAPES = {"\\": "\\", '"': '"', "n": "\n"}


def _labels(text: str, where: str) -> Tuple[Dict[str, str], str]:
    """The labels of ``{...}`` at the start of ``text`` and what follows them."""
    labels: Dict[str, str] = {}
    pos = 1
    while True:
        if text[pos:pos + 1] == "}":
            return labels, text[pos + 1:]
        match = re.match(LABEL_NAME + '="', text[pos:])
        if not match:
            raise ValueError("{0}: bad label at {1!r}".format(where, text[pos:pos + 20]))
        name = match.group(0)[:-2]
        pos += match.end()
        value: List[str] = []
        while True:
            if pos >= len(text):
                raise ValueError("{0}: unterminated label value".format(where))
            char = text[pos]
            if char == "\\":
                nxt = text[pos + 1:pos + 2]
                if nxt not in _ESCAPES:
                    raise ValueError("{0}: bad escape \\{1} in a label value".format(where, nxt))
                value.append(_ESCAPES[nxt])
                pos += 2
            elif char == '"':
                pos += 1
                break
            else:
                value.append(char)
                pos += 1
        if name in labels:
            raise ValueError("{0}: label {1} twice".format(where, name))
        labels[name] = "".join(value)
        if text[pos:pos + 1] == ",":
            pos += 1


def _value(text: str, where: str) -> float:
    parts = text.strip(" ").split(" ")
    if not text.startswith(" ") or len(parts) not in (1, 2):
        raise ValueError("{0}: expected ' VALUE [TIMESTAMP]', got {1!r}".format(where, text))
    if len(parts) == 2 and not re.fullmatch(r"-?[0-9]+", parts[1]):
        raise ValueError("{0}: bad timestamp {1!r}".format(where, parts[1]))
    if parts[0] in ("+Inf", "-Inf", "NaN"):
        return {"+Inf": math.inf, "-Inf": -math.inf, "NaN": math.nan}[parts[0]]
    if not re.fullmatch(r"[-+]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][-+]?[0-9]+)?", parts[0]):
        raise ValueError("{0}: bad value {1!r}".format(where, parts[0]))
    return float(parts[0])


def _comment(line: str, where: str, families: Dict[str, Dict[str, Any]], sampled: set) -> None:
    match = re.fullmatch(r"# (HELP|TYPE) (" + METRIC_NAME + r") (.*)", line)
    if not match:
        return  # any other comment is allowed
    kind, name, rest = match.groups()
    family = families.setdefault(name, {"help": None, "type": None, "samples": []})
    if name in sampled:
        raise ValueError("{0}: {1} for {2} after its samples".format(where, kind, name))
    key = kind.lower()
    if family[key] is not None:
        raise ValueError("{0}: second {1} line for {2}".format(where, kind, name))
    if key == "type" and rest not in TYPES:
        raise ValueError("{0}: unknown type {1!r}".format(where, rest))
    if key == "help" and re.search(r"\\[^\\n]", rest):
        raise ValueError("{0}: bad escape in HELP text".format(where))
    family[key] = rest


def parse(text: str) -> Dict[str, Dict[str, Any]]:
    """{metric name: {"help", "type", "samples": [(labels, value)]}}; raises ValueError on any bad line."""
    if text and not text.endswith("\n"):
        raise ValueError("the last line does not end with a newline")
    families: Dict[str, Dict[str, Any]] = {}
    sampled: set = set()
    seen: set = set()
    current = None
    for number, line in enumerate(text.split("\n")[:-1], 1):
        where = "line {0}".format(number)
        if line.startswith("#"):
            _comment(line, where, families, sampled)
            continue
        if not line.strip():
            raise ValueError("{0}: empty line".format(where))
        match = re.match(METRIC_NAME, line)
        if not match:
            raise ValueError("{0}: no metric name".format(where))
        name, rest = match.group(0), line[match.end():]
        labels, rest = _labels(rest, where) if rest.startswith("{") else ({}, rest)
        value = _value(rest, where)
        if name in sampled and name != current:
            raise ValueError("{0}: samples of {1} are not together".format(where, name))
        key = (name, tuple(sorted(labels.items())))
        if key in seen:
            raise ValueError("{0}: sample {1} twice".format(where, key))
        seen.add(key)
        sampled.add(name)
        current = name
        families.setdefault(name, {"help": None, "type": None, "samples": []})["samples"].append((labels, value))
    return families

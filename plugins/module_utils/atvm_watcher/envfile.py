# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Env files: systemd ``EnvironmentFile=`` text written (every value quoted), read and checked.

The per-run ``watcher.env`` / ``runner.env`` and the controller's ``/etc/atvm-run-watcher.env`` are
written with :func:`render_env_file` and read with :func:`read_env_file` exactly as systemd reads them.
"""
from __future__ import annotations

import re
from typing import Any, Dict, List, Mapping, Optional

from .errors import ConfigError
from .inputs import read_regular

ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# ---------------------------------------------------------------------------------------------
# env files (systemd EnvironmentFile= syntax, the subset we write and read)
#
# systemd ends a line at "\n" or "\r" (outside quotes), keeps both inside quotes (a value may span
# lines), strips only " \t" around keys and unquoted values, treats a line starting with "#" or ";"
# as a comment, unescapes '"', '\\', '`' and '$' after a backslash inside double quotes (any other
# escaped character keeps its backslash), reads single quotes literally and joins the pieces of
# a value (`A="x"'y'z` is "xyz"); values that are not UTF-8 are dropped. The writer below produces
# one double-quoted value per line and refuses every character that could end or bend a line for
# systemd or for any line-splitting reader: control characters (C0, DEL, C1; TAB is kept), the
# Unicode line and paragraph separators, and lone surrogates (not UTF-8). The reader follows
# systemd's rules on each "\n"-terminated line, and refuses what systemd would read differently
# from a line-by-line reading (a line break inside quotes, a trailing backslash, a lone "\r").
# ---------------------------------------------------------------------------------------------

_SHELL_ESCAPED = '"\\`$'
_LINE_BLANKS = " \t"


def _refused_char(ch: str) -> bool:
    if ch == "\t":
        return False
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029) or 0xD800 <= code <= 0xDFFF


_CHAR_NAMES = {"\n": "a newline", "\r": "a carriage return", "\x00": "a NUL byte", "\x85": "a next-line (NEL)",
               "\u2028": "a line separator", "\u2029": "a paragraph separator"}


def _refused_in(text: str) -> Optional[str]:
    """A description of the first character a value must not hold, or None."""
    for pos, ch in enumerate(text):
        if _refused_char(ch):
            what = _CHAR_NAMES.get(ch) or ("a lone surrogate" if 0xD800 <= ord(ch) <= 0xDFFF else "a control character")
            return "{0} (U+{1:04X} at position {2})".format(what, ord(ch), pos)
    return None


def quote_env_value(value: Any) -> str:
    """Quote ``value`` for a systemd EnvironmentFile so it stays one variable on one line.

    Refused (:class:`ConfigError`, which names the character, never the value): control characters
    other than TAB (newline, carriage return, NUL, vertical tab, form feed, the C1 range with NEL),
    U+2028 / U+2029 and lone surrogates. Quotes, backslashes, backticks and ``$`` are escaped
    inside double quotes; everything else is written as it is.
    """
    text = "" if value is None else str(value)
    bad = _refused_in(text)
    if bad:
        raise ConfigError("an env file value must stay on one line and must not contain {0}".format(bad))
    escaped = "".join("\\" + ch if ch in _SHELL_ESCAPED else ch for ch in text)
    return '"{0}"'.format(escaped)


def render_env_file(values: Mapping[str, Any], header: Optional[str] = None) -> str:
    """Render ``values`` as an env file (sorted keys, every value quoted)."""
    lines: List[str] = []
    if header:
        for line in header.split("\n"):
            if _refused_in(line) or line.endswith("\\"):
                raise ConfigError("an env file header line must be plain text")
            lines.append("# " + line)
    for key in sorted(values):
        if not ENV_NAME_RE.match(key):
            raise ConfigError("invalid environment variable name {0!r}".format(key))
        value = values[key]
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append("{0}={1}".format(key, quote_env_value(value)))
    return "\n".join(lines) + "\n"


def _quoted(raw: str, i: int, out: List[str], where: str) -> int:
    """Append the quoted piece starting at ``raw[i]`` (a quote) to ``out``; the index after it."""
    quote, n = raw[i], len(raw)
    i += 1
    while i < n and raw[i] != quote:
        if quote == '"' and raw[i] == "\\" and i + 1 < n:
            nxt = raw[i + 1]
            out.append(nxt if nxt in _SHELL_ESCAPED else "\\" + nxt)
            i += 2
            continue
        out.append(raw[i])
        i += 1
    if i >= n:
        raise ConfigError("{0}: unterminated quoted value (a value never spans lines)".format(where))
    return i + 1


def _parse_value(raw: str, where: str) -> str:
    """The value of one line after ``=``, read as systemd reads it (see the rules above): quotes open
    only where a value (or a piece after a closing quote) starts; unquoted trailing blanks go."""
    out: List[str] = []
    keep = 0  # ``out[:keep]`` is what stays (unquoted trailing blanks are dropped)
    pre = True  # before a value or after a closing quote: blanks skipped, quotes open
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if pre and ch in _LINE_BLANKS:
            i += 1
        elif pre and ch in "'\"":
            i = _quoted(raw, i, out, where)
            keep = len(out)
        elif ch == "\\":
            if i + 1 >= n:
                raise ConfigError("{0}: a backslash at the end of the line (a value never spans lines)".format(where))
            out.append(raw[i + 1])
            i += 2
            keep, pre = len(out), False
        else:
            out.append(ch)
            if ch not in _LINE_BLANKS:
                keep = len(out)
            i += 1
            pre = False
    return "".join(out[:keep])


def parse_env_text(text: str, path: str = "<env>") -> Dict[str, str]:
    """Parse env file text as systemd does; lines end at ``\n`` only (a ``\r`` just before it is
    dropped). Comments (#, ;) and blank lines are skipped; errors name the line, never a value."""
    values: Dict[str, str] = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        where = "{0}: line {1}".format(path, lineno)
        if line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            raise ConfigError("{0}: a carriage return inside the line".format(where))
        stripped = line.lstrip(_LINE_BLANKS)
        if stripped[:1] in ("#", ";") and stripped.endswith("\\"):
            raise ConfigError("{0}: a comment ends with a backslash (older systemd reads the next line as "
                              "part of it)".format(where))
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, raw = stripped.partition("=")
        key = key.rstrip(_LINE_BLANKS)
        if not sep or not ENV_NAME_RE.match(key):
            raise ConfigError("{0}: expected NAME=value".format(where))
        value = _parse_value(raw, where)
        bad = _refused_in(value)
        if bad:
            raise ConfigError("{0}: the value of {1} must not contain {2}".format(where, key, bad))
        values[key] = value
    return values


def read_env_file(path: str) -> Dict[str, str]:
    try:
        data = read_regular(path, 1024 * 1024)[1]
    except OSError as exc:
        raise ConfigError("cannot read env file {0}: {1}".format(path, exc.strerror or exc)) from None
    if len(data) > 1024 * 1024:
        raise ConfigError("cannot read env file {0}: larger than 1 MiB".format(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("cannot read env file {0}: not UTF-8 at byte {1}".format(path, exc.start)) from None
    return parse_env_text(text, path)

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Text that is safe to keep, show and post: sanitising, the one redaction, mention defusing.

- :func:`clean` makes any text encodable: lone UTF-16 surrogates (JavaScript cutting an emoji in
  half, ``"\\ud83d"`` in a reporter's JSON) become U+FFFD. :func:`clean_json` does it for every
  string of a parsed JSON document, :func:`show_path` for a file name that is not UTF-8 (its bytes
  are shown escaped, ``\\xff``). Evidence passes these where it is read, so nothing later can fail
  to encode it.
- :func:`redact` is the one redaction of the webhook: the configured URL, its hook id and any
  ``/hooks/<id>`` path. Every text that leaves the watcher (posts, the outbox, state files, the
  journal, command output) passes it.
- :func:`redact_command` hides credentials in the commands shown in a post: the user part of URLs
  and the values of options and variables whose names say secret (``password``, ``token``,
  ``secret``, ``key``, ``auth``, plus the ``ATVM_REDACT_NAMES`` pattern).
- :func:`defuse_mentions` stops ``@channel`` / ``@here`` / ``@all`` and ``<!channel>`` /
  ``<!here>`` / ``<!all>`` (any case) from notifying a whole channel.
- :func:`safe_post` is all of it for a post's text (idempotent); :func:`safe_payload` for every
  string of a whole payload (attachments, props).
"""
from __future__ import annotations

import os
import re
from typing import Any, Iterable, List, Optional, Union

REPLACEMENT = "\ufffd"
MASK = "***"

_SURROGATE_RE = re.compile("[\ud800-\udfff]")
# a JSON string escape of a surrogate: the only way a strictly decoded document can hold one
_JSON_SURROGATE_RE = re.compile(r"\\u[dD][89a-fA-F]")
# the id of any incoming webhook URL; what may follow an id ends it (also inside JSON text)
_HOOK_RE = re.compile(r"(/hooks/)[^\s/?#\"'<>`\\|,;()\[\]{}]+")
_MIN_HOOK_ID = 6  # a shorter "id" is too likely to be an ordinary word to be replaced everywhere

# any word that starts like one ("@channel0", "@all_hands"): never guess how the server splits words
_MENTION_AT_RE = re.compile(r"@(?=(?:channel|here|all))", re.IGNORECASE)
_MENTION_SLACK_RE = re.compile(r"<!(?=(?:channel|here|all))", re.IGNORECASE)
ZWSP = "\u200b"

SECRET_WORDS = ("password", "passwd", "token", "secret", "key", "auth")
_NAME_CHARS = r"[A-Za-z0-9_.-]"
_VALUE = r"(?:\"[^\"]*\"|'[^']*'|[^\s,;&]+)"
_URL_USERINFO_RE = re.compile(r"\b([A-Za-z][A-Za-z0-9+.-]*://)[^\s/@]+@")


# ---------------------------------------------------------------------------------------------
# sanitising
# ---------------------------------------------------------------------------------------------


def clean(value: Any) -> str:
    """``value`` as text that always encodes to UTF-8 (lone surrogates become U+FFFD)."""
    text = value if isinstance(value, str) else ("" if value is None else str(value))
    if _SURROGATE_RE.search(text) is None:
        return text
    return _SURROGATE_RE.sub(REPLACEMENT, text)


def clean_json(document: Any, source: Optional[str] = None) -> Any:
    """``document`` (parsed JSON) with every string, keys included, passed through :func:`clean`.

    With ``source`` (the JSON text it was parsed from) a document that cannot hold a surrogate is
    returned at once. Containers are changed in place; no recursion (any depth is fine).
    """
    if source is not None and _JSON_SURROGATE_RE.search(source) is None:
        return document
    if isinstance(document, str):
        return clean(document)
    stack: List[Any] = [document]
    while stack:
        container = stack.pop()
        if isinstance(container, list):
            for index, item in enumerate(container):
                if isinstance(item, str):
                    container[index] = clean(item)
                elif isinstance(item, (list, dict)):
                    stack.append(item)
        elif isinstance(container, dict):
            items = list(container.items())
            container.clear()
            for key, item in items:
                if isinstance(item, str):
                    item = clean(item)
                elif isinstance(item, (list, dict)):
                    stack.append(item)
                container[clean(key) if isinstance(key, str) else key] = item
    return document


def show_path(path: Union[str, bytes, "os.PathLike[str]"]) -> str:
    """A file name as text to show: bytes that are not UTF-8 appear escaped (``\\xff``)."""
    raw = os.fspath(path)
    if isinstance(raw, bytes):
        return raw.decode("utf-8", "backslashreplace")
    if _SURROGATE_RE.search(raw) is None:
        return raw
    try:
        data = os.fsencode(raw)  # undoes surrogateescape: the name's own bytes
    except UnicodeEncodeError:
        return clean(raw)
    return clean(data.decode("utf-8", "backslashreplace"))


# ---------------------------------------------------------------------------------------------
# the one redaction
# ---------------------------------------------------------------------------------------------


def hook_id(webhook: Optional[str]) -> Optional[str]:
    """The hook id of a webhook URL (its last path segment), or None."""
    if not webhook:
        return None
    last = webhook.split("?", 1)[0].split("#", 1)[0].rstrip("/").rsplit("/", 1)[-1]
    return last or None


def redact(text: Any, secrets: Iterable[Optional[str]] = ()) -> str:
    """``text`` without the secrets (each replaced by ``***``), their hook ids, nor any ``/hooks/<id>``."""
    out = clean(text)
    for secret in secrets:
        if not secret:
            continue
        if secret in out:
            out = out.replace(secret, MASK)
        ident = hook_id(secret)
        if ident and len(ident) >= _MIN_HOOK_ID and ident in out:
            out = out.replace(ident, MASK)
    if "/hooks/" in out:
        out = _HOOK_RE.sub(r"\1" + MASK, out)
    return out


# ---------------------------------------------------------------------------------------------
# credentials in commands
# ---------------------------------------------------------------------------------------------


def _secret_name_re(extra: Optional[str]) -> str:
    words = "|".join(SECRET_WORDS)
    if extra:
        try:
            re.compile(extra)
        except re.error:
            extra = None
    return "(?:{0}{1})".format(words, "|(?:" + extra + ")" if extra else "")


def _command_patterns(extra: Optional[str]) -> List["re.Pattern[str]"]:
    secret = _secret_name_re(extra)
    name = "{0}*{1}{0}*".format(_NAME_CHARS, secret)
    return [
        # NAME=value, --name=value, name:value in Cypress --env lists
        re.compile(r"(?<![A-Za-z0-9_.-])(?P<atvm_head>-{{0,2}}{0}=)(?P<atvm_value>{1})".format(name, _VALUE),
                   re.IGNORECASE),
        # --name value, -name value
        re.compile(r"(?<![A-Za-z0-9_.-])(?P<atvm_head>-{{1,2}}{0}\s+)(?!-)(?P<atvm_value>{1})".format(name, _VALUE),
                   re.IGNORECASE),
        # "name": "value" (JSON given as an argument)
        re.compile(r"(?P<atvm_head>\"{0}\"\s*:\s*)(?P<atvm_value>\"(?:[^\"\\]|\\.)*\")".format(name),
                   re.IGNORECASE),
    ]


_PATTERN_CACHE: dict = {}


def redact_command(command: Any, extra_names: Optional[str] = None) -> str:
    """``command`` with URL credentials and the values of secret-named options / variables hidden.

    ``extra_names`` is a regular expression of more secret names (case-insensitive); an invalid one
    is ignored here (the configuration check reports it).
    """
    out = clean(command)
    out = _URL_USERINFO_RE.sub(r"\1" + MASK + "@", out)
    patterns = _PATTERN_CACHE.get(extra_names)
    if patterns is None:
        patterns = _command_patterns(extra_names)
        if len(_PATTERN_CACHE) < 32:
            _PATTERN_CACHE[extra_names] = patterns
    for pattern in patterns:
        out = pattern.sub(_mask_value, out)
    return out


def _mask_value(match: "re.Match[str]") -> str:
    value = match.group("atvm_value")
    quote = value[:1] if value[:1] in ("'", '"') else ""
    return match.group("atvm_head") + quote + MASK + quote


# ---------------------------------------------------------------------------------------------
# mentions and posts
# ---------------------------------------------------------------------------------------------


def defuse_mentions(text: Any) -> str:
    """``text`` in which no channel-wide mention works (a zero-width space after ``@`` / ``<!``)."""
    out = clean(text)
    if "@" in out:
        out = _MENTION_AT_RE.sub("@" + ZWSP, out)
    if "<!" in out:
        out = _MENTION_SLACK_RE.sub("<!" + ZWSP, out)
    return out


def safe_post(text: Any, secrets: Iterable[Optional[str]] = ()) -> str:
    """A post's text made safe: encodable, no NUL, webhook redacted, mentions defused (idempotent)."""
    out = clean(text).replace("\x00", "")
    return defuse_mentions(redact(out, secrets))


def safe_payload(payload: Any, secrets: Iterable[Optional[str]] = ()) -> Any:
    """A copy of a JSON-like payload with every string value passed through :func:`safe_post`."""
    hidden = list(secrets)
    if isinstance(payload, str):
        return safe_post(payload, hidden)
    if not isinstance(payload, (list, dict)):
        return payload
    root = _copy(payload)
    stack: List[Any] = [root]
    while stack:
        container = stack.pop()
        items = container.items() if isinstance(container, dict) else enumerate(container)
        for key, item in list(items):
            if isinstance(item, str):
                container[key] = safe_post(item, hidden)
            elif isinstance(item, (list, dict)):
                container[key] = _copy(item)
                stack.append(container[key])
    return root


def _copy(container: Any) -> Any:
    return dict(container) if isinstance(container, dict) else list(container)

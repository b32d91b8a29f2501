# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""cmcReporter per-host JSON artifacts, read through the JMESPath settings (``jp_*``).

Never raises for bad content: a broken artifact carries ``error`` (what was wrong and where) so it
can never read as a PASS; fields present but unusable are left None and described in ``notes``.
"""
from __future__ import annotations

import os
import re
from collections.abc import Iterable
from typing import Any

from .. import settings as config
from ..durable import json_type
from ..errors import ConfigError, MissingDependencyError
from .readers import as_count, as_text, decode_json_bytes, listed_files, opt_text, read_input, recent_files
from ..models import Counts, HostArtifact, HostEvent
from ..safetext import show_path
from .specs import normalise_spec

try:
    import jmespath
    import jmespath.exceptions

    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - exercised only on hosts without jmespath
    jmespath = None
    HAS_JMESPATH = False

MAX_REPORTER_BYTES = 16 * 1024 * 1024

FAILURE_SEVERITIES = frozenset(("error", "fatal", "critical"))
FAILURE_TYPES = frozenset(("error", "failure", "fail", "failed"))

REPORTER_PATTERNS = ("*.json", "*.JSON")

_JP_CACHE: dict[str, Any] = {}
_TOP_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def _compiled(expression: str) -> Any:
    if not HAS_JMESPATH:
        raise MissingDependencyError("jmespath")
    compiled = _JP_CACHE.get(expression)
    if compiled is None:
        try:
            compiled = jmespath.compile(expression)
        except jmespath.exceptions.JMESPathError as exc:  # ParseError, LexerError, ...
            raise ConfigError(f"invalid JMESPath expression {expression!r}: {exc}") from None
        _JP_CACHE[expression] = compiled
    return compiled


def host_from_filename(path: str) -> str | None:
    """The host a reporter artifact's file name suggests (its name without ``.json``), or None."""
    name = os.path.basename(path)
    if name.lower().endswith(".json"):
        name = name[:-5]
    name = name.strip()
    return name or None


def _salvage_host(data: bytes, jp_host: str) -> str | None:
    """The host of an unparsable artifact when ``jp_host`` is a plain top-level key and the text has
    ``{"<key>": "<host>"`` as its first member (the default layout writes the host first)."""
    if not _TOP_KEY_RE.match(jp_host):
        return None
    text = data[:4096].decode("utf-8", errors="replace")
    match = re.match(r'\ufeff?\s*\{\s*"' + re.escape(jp_host) + r'"\s*:\s*"([A-Za-z0-9][A-Za-z0-9._-]{0,252})"', text)
    return match.group(1) if match else None


def _search(expression: str, data: Any, notes: list[str], what: str) -> Any:
    try:
        return _compiled(expression).search(data)
    except (ConfigError, MissingDependencyError):
        raise
    except (jmespath.exceptions.JMESPathError, TypeError, ValueError) as exc:  # e.g. a function on the wrong type
        notes.append(f"{what}: JMESPath {expression!r} failed: {exc}")
        return None


def _scalar_text(value: Any, what: str, notes: list[str]) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        notes.append(f"{what} is a boolean ({value!r}), ignored")
        return None
    if isinstance(value, (str, int, float)):
        text = str(value).strip()
        return text or None
    notes.append(f"{what} is a {type(value).__name__}, not a text, ignored")
    return None


def _is_failure(etype: str, severity: str | None) -> bool:
    if severity is not None and severity.strip().lower() in FAILURE_SEVERITIES:
        return True
    return etype.strip().lower() in FAILURE_TYPES


def _first_present(raw: dict[str, Any], keys: Iterable[str]) -> Any:
    for key in keys:
        if raw.get(key) is not None:
            return raw.get(key)
    return None


def parse_event(raw: Any) -> HostEvent | None:
    """One event, list-shaped ``[ts, type, message(, severity)]`` or dict-shaped; None when neither."""
    if isinstance(raw, (list, tuple)):
        items = list(raw)
        if not items:
            return None
        timestamp = opt_text(items[0]) if len(items) > 0 else None
        etype = as_text(items[1]).strip() if len(items) > 1 else ""
        message = as_text(items[2]) if len(items) > 2 else ""
        severity = opt_text(items[3]) if len(items) > 3 else None
        if len(items) > 4:
            message = " ".join([message] + [as_text(x) for x in items[4:]]).strip()
    elif isinstance(raw, dict):
        timestamp = opt_text(_first_present(raw, ("timestamp", "ts", "time", "at")))
        etype = as_text(raw.get("type", raw.get("kind", ""))).strip()
        found = _first_present(raw, ("message", "msg", "text", "detail"))
        message = "" if found is None else as_text(found)
        severity = opt_text(_first_present(raw, ("severity", "level")))
    else:
        return None
    return HostEvent(
        timestamp=timestamp,
        type=etype,
        message=message,
        severity=severity,
        failure=_is_failure(etype, severity),
    )


def _events(value: Any, notes: list[str]) -> list[HostEvent]:
    if value is None:
        return []
    if isinstance(value, dict):
        items = list(value.items())
    elif isinstance(value, list):
        items = [(str(i), v) for i, v in enumerate(value)]
    else:
        notes.append(f"events is a {type(value).__name__}, neither a list nor an object")
        return []
    out: list[HostEvent] = []
    for key, raw in items:
        event = parse_event(raw)
        if event is None:
            notes.append(f"event {key} is neither a list nor an object: {as_text(raw)[:80]}")
            continue
        out.append(event)
    return out


def _fail(art: HostArtifact, detail: str) -> HostArtifact:
    art.host = host_from_filename(art.path)
    art.error = f"cannot read reporter artifact {art.path}: {detail}"
    return art


def _fill_fields(art: HostArtifact, doc: dict[str, Any], settings: config.Settings) -> HostArtifact:
    """Everything but the host, from the parsed document (the host is already set)."""
    notes = art.notes
    art.spec = _scalar_text(_search(settings.jp_spec, doc, notes, "spec"), "spec", notes)
    if art.spec:
        art.spec = normalise_spec(art.spec)
    status = _scalar_text(_search(settings.jp_status, doc, notes, "status"), "status", notes)
    art.status = status.upper() if status else None
    if art.status is None:
        notes.append(f"no status (JMESPath {settings.jp_status!r} found nothing)")
    art.started_at = _scalar_text(_search(settings.jp_started, doc, notes, "started"), "started", notes)
    art.ended_at = _scalar_text(_search(settings.jp_ended, doc, notes, "ended"), "ended", notes)
    art.counts = Counts(
        tests=as_count(_search(settings.jp_tests, doc, notes, "tests"), "tests count", notes),
        passed=as_count(_search(settings.jp_passed, doc, notes, "passed"), "passed count", notes),
        failed=as_count(_search(settings.jp_failed, doc, notes, "failed"), "failed count", notes),
        pending=as_count(_search(settings.jp_pending, doc, notes, "pending"), "pending count", notes),
        skipped=as_count(_search(settings.jp_skipped, doc, notes, "skipped"), "skipped count", notes),
    )
    art.events = _events(_search(settings.jp_events, doc, notes, "events"), notes)
    return art


def read_reporter_artifact(path: str, settings: config.Settings) -> HostArtifact:
    """Read one cmcReporter JSON file through the ``settings.jp_*`` JMESPath expressions.

    Never raises for bad content: truncated JSON, binary garbage, an empty or huge file, a JSON
    value that is not an object, or a missing host give an artifact with ``error`` set (then it is
    never a PASS) and ``host`` taken from the file name (for unparsable JSON whose first member is
    the plain ``jp_host`` key, from that member). Fields present but unusable (a count that is a
    string, a bool or negative; events of the wrong type) are kept None and described in
    ``notes``. Raises only for a bad setting
    (:class:`ConfigError`, invalid JMESPath) or a missing ``jmespath`` library.
    """
    for attr in config.JP_FIELDS:  # fail fast on a bad setting, whatever the file holds
        _compiled(getattr(settings, attr))
    real, path = path, show_path(path)  # opened by its real name, shown (and kept) as text
    art = HostArtifact(path=path, host=None)
    st, data, err = read_input(real, MAX_REPORTER_BYTES)
    if st is not None:
        art.mtime = st.st_mtime
        art.size = st.st_size
    if data is None:
        return _fail(art, err or "unreadable")
    art.size = len(data)
    doc, err = decode_json_bytes(data)
    if err:
        _fail(art, err)
        salvaged = _salvage_host(data, settings.jp_host)
        if salvaged:  # a file cut short while being written still names its host near the top
            art.host = salvaged
            art.notes.append("host read from the unparsable text")
        return art
    if not isinstance(doc, dict):
        return _fail(art, f"the JSON value is {json_type(doc)}, not an object")
    host_raw = _search(settings.jp_host, doc, art.notes, "host")
    if host_raw is None or (isinstance(host_raw, str) and not host_raw.strip()):
        return _fail(art, f"no host (JMESPath {settings.jp_host!r} found nothing)")
    if not isinstance(host_raw, str):
        return _fail(art, f"the host (JMESPath {settings.jp_host!r}) is {json_type(host_raw)}, not a host name")
    art.host = host_raw.strip()
    return _fill_fields(art, doc, settings)


def scan_reporter_dir(directory: str, settings: config.Settings, since: float | None = None) -> list[HostArtifact]:
    """Every ``*.json`` under ``directory`` (recursive), sorted by path, skipping files older than ``since``.

    A missing directory gives []. A path that is a file is read alone.
    """
    return [read_reporter_artifact(path, settings) for path in recent_files(directory, REPORTER_PATTERNS, since)]


def artifact_signature(
    directory: str, patterns: Iterable[str] = REPORTER_PATTERNS,
) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every matching file under ``directory``: equal signatures = nothing changed."""
    return tuple((path, st.st_size, st.st_mtime_ns) for path, st in listed_files(directory, patterns))

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Readers of the run's files other than the runner log (docs/decision-rules.md, "What the watcher reads").

- cmcReporter per-host JSON artifacts, read through the JMESPath settings (``jp_*``);
- JUnit XML written by mocha-junit-reporter (hostile XML refused: defusedxml when present, else a
  DOCTYPE/ENTITY check before the stdlib parser sees the document);
- mochawesome JSON (7.x ``results[]``, legacy 3.x top-level ``suites``, mochawesome-merge output);
- the VM inventory Markdown table;
- spec path -> inventory host.

Artifact readers never raise for bad content: the returned object carries ``error`` (what was wrong
and where) so a broken file can never read as a PASS. Counts are always counted from the test
entries; the totals a file declares are kept apart and never trusted over them.
"""
from __future__ import annotations

import codecs
import dataclasses
import fnmatch
import json
import os
import re
import xml.etree.ElementTree as StdET  # only ever fed documents without DOCTYPE/ENTITY (see _parse_xml)
from collections.abc import Iterable
from typing import Any

from . import config, inputs
from .errors import ConfigError, InputError, MissingDependencyError
from .durable import json_type
from .safetext import clean_json, show_path
from .models import (
    Counts,
    HostArtifact,
    HostEvent,
    InventoryHost,
    JUnitCase,
    JUnitReport,
)

try:
    import jmespath
    import jmespath.exceptions

    HAS_JMESPATH = True
except ImportError:  # pragma: no cover - exercised only on hosts without jmespath
    jmespath = None
    HAS_JMESPATH = False

try:
    import defusedxml.ElementTree as DefusedET
    from defusedxml import DefusedXmlException

    HAS_DEFUSEDXML = True
except ImportError:  # pragma: no cover - exercised through monkeypatching in the tests
    DefusedET = None
    DefusedXmlException = ValueError
    HAS_DEFUSEDXML = False

MAX_REPORTER_BYTES = 16 * 1024 * 1024
MAX_JUNIT_BYTES = 64 * 1024 * 1024
MAX_MOCHAWESOME_BYTES = 64 * 1024 * 1024
MAX_INVENTORY_BYTES = 8 * 1024 * 1024
MAX_MESSAGE_CHARS = 4000  # a failure message kept from JUnit / mochawesome

FAILURE_SEVERITIES = frozenset(("error", "fatal", "critical"))
FAILURE_TYPES = frozenset(("error", "failure", "fail", "failed"))

META_SPEC_RE = re.compile(r"(?:^|/)check-xml-files(?:\.[A-Za-z0-9]+)*$", re.IGNORECASE)

_JP_CACHE: dict[str, Any] = {}


# ---------------------------------------------------------------------------------------------
# small helpers
# ---------------------------------------------------------------------------------------------


def _stat(path: str) -> tuple[os.stat_result | None, str | None]:
    try:
        return os.stat(path), None
    except OSError as exc:
        return None, exc.strerror or str(exc)


def _read_input(path: str, limit: int) -> tuple[os.stat_result | None, bytes | None, str | None]:
    """(stat, bytes, error) of an input file read whole, or why it was not (missing, not a regular file,
    over ``limit``, unreadable). Never blocks: a FIFO or a device is refused, not opened for reading."""
    try:
        fd, st = inputs.open_regular(path)
    except FileNotFoundError as exc:
        return None, None, exc.strerror or str(exc)
    except OSError as exc:
        return _stat(path)[0], None, f"cannot open: {exc.strerror or exc}"
    try:
        if st.st_size > limit:
            return st, None, f"larger than {limit} bytes ({st.st_size} bytes)"
        data = inputs.read_fd(fd, limit + 1)
    except OSError as exc:
        return st, None, f"cannot read: {exc.strerror or exc}"
    finally:
        os.close(fd)
    if len(data) > limit:
        return st, None, f"larger than {limit} bytes"
    return st, data, None


def _json_error_text(exc: json.JSONDecodeError) -> str:
    return f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"


def _decode_json_bytes(data: bytes) -> tuple[Any, str | None]:
    """Parse JSON bytes (UTF-8, BOM tolerated); returns (value, error)."""
    if not data.strip():
        return None, "empty file"
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, f"not UTF-8 text (invalid byte 0x{data[exc.start]:02x} at offset {exc.start})"
    if "\x00" in text:
        return None, "binary content (NUL byte at offset {})".format(text.index("\x00"))
    try:
        return clean_json(json.loads(text), text), None  # "\ud83d" (half an emoji) becomes U+FFFD
    except json.JSONDecodeError as exc:
        return None, _json_error_text(exc)
    except RecursionError:
        return None, "invalid JSON: nested too deeply"
    except ValueError as exc:  # e.g. an integer too long to convert
        return None, f"invalid JSON: {exc}"


def _normalise_spec(path: str) -> str:
    return path.replace("\\", "/")


def _clip(text: str | None, limit: int = MAX_MESSAGE_CHARS) -> str | None:
    if text is None:
        return None
    if len(text) > limit:
        return text[:limit] + " [...]"
    return text


def _mtime_ok(mtime: float, since: float | None) -> bool:
    return since is None or mtime >= since


def _walk_files(directory: str, patterns: Iterable[str]) -> list[str]:
    """Files under ``directory`` (recursive, symlinked directories not followed) whose name matches."""
    pats = list(patterns)
    found: list[str] = []
    for root, dirs, files in os.walk(directory):
        dirs.sort()
        for name in files:
            if any(fnmatch.fnmatch(name, p) for p in pats):
                found.append(os.path.join(root, name))
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# reporter artifacts (cmcReporter JSON)
# ---------------------------------------------------------------------------------------------


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


_TOP_KEY_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


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


def _count(value: Any, what: str, notes: list[str]) -> int | None:
    """A valid count is a non-negative int (not a bool, not a string, not a float)."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        notes.append(f"{what} is not a count: {value if not isinstance(value, str) else value[:40]!r}")
        return None
    if value < 0:
        notes.append(f"{what} is negative: {value}")
        return None
    return value


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    try:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    except (TypeError, ValueError):
        return str(value)


def _opt_text(value: Any) -> str | None:
    if value is None:
        return None
    text = _text(value).strip()
    return text or None


def _is_failure(etype: str, severity: str | None) -> bool:
    if severity is not None and severity.strip().lower() in FAILURE_SEVERITIES:
        return True
    return etype.strip().lower() in FAILURE_TYPES


def parse_event(raw: Any) -> HostEvent | None:
    """One event, list-shaped ``[ts, type, message(, severity)]`` or dict-shaped; None when neither."""
    if isinstance(raw, (list, tuple)):
        items = list(raw)
        if not items:
            return None
        timestamp = _opt_text(items[0]) if len(items) > 0 else None
        etype = _text(items[1]).strip() if len(items) > 1 else ""
        message = _text(items[2]) if len(items) > 2 else ""
        severity = _opt_text(items[3]) if len(items) > 3 else None
        if len(items) > 4:
            message = " ".join([message] + [_text(x) for x in items[4:]]).strip()
    elif isinstance(raw, dict):
        timestamp = None
        for key in ("timestamp", "ts", "time", "at"):
            if raw.get(key) is not None:
                timestamp = _opt_text(raw.get(key))
                break
        etype = _text(raw.get("type", raw.get("kind", ""))).strip()
        message = None
        for key in ("message", "msg", "text", "detail"):
            if raw.get(key) is not None:
                message = _text(raw.get(key))
                break
        if message is None:
            message = ""
        severity = None
        for key in ("severity", "level"):
            if raw.get(key) is not None:
                severity = _opt_text(raw.get(key))
                break
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
            notes.append(f"event {key} is neither a list nor an object: {_text(raw)[:80]}")
            continue
        out.append(event)
    return out


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
    st, data, err = _read_input(real, MAX_REPORTER_BYTES)
    if st is not None:
        art.mtime = st.st_mtime
        art.size = st.st_size

    def fail(detail: str) -> HostArtifact:
        art.host = host_from_filename(path)
        art.error = f"cannot read reporter artifact {path}: {detail}"
        return art

    if data is None:
        return fail(err or "unreadable")
    art.size = len(data)
    doc, err = _decode_json_bytes(data)
    if err:
        fail(err)
        salvaged = _salvage_host(data, settings.jp_host)
        if salvaged:  # a file cut short while being written still names its host near the top
            art.host = salvaged
            art.notes.append("host read from the unparsable text")
        return art
    if not isinstance(doc, dict):
        return fail(f"the JSON value is {json_type(doc)}, not an object")

    notes = art.notes
    host_raw = _search(settings.jp_host, doc, notes, "host")
    if host_raw is None or (isinstance(host_raw, str) and not host_raw.strip()):
        return fail(f"no host (JMESPath {settings.jp_host!r} found nothing)")
    if not isinstance(host_raw, str):
        return fail(f"the host (JMESPath {settings.jp_host!r}) is {json_type(host_raw)}, not a host name")
    art.host = host_raw.strip()
    art.spec = _scalar_text(_search(settings.jp_spec, doc, notes, "spec"), "spec", notes)
    if art.spec:
        art.spec = _normalise_spec(art.spec)
    status = _scalar_text(_search(settings.jp_status, doc, notes, "status"), "status", notes)
    art.status = status.upper() if status else None
    if art.status is None:
        notes.append(f"no status (JMESPath {settings.jp_status!r} found nothing)")
    art.started_at = _scalar_text(_search(settings.jp_started, doc, notes, "started"), "started", notes)
    art.ended_at = _scalar_text(_search(settings.jp_ended, doc, notes, "ended"), "ended", notes)
    art.counts = Counts(
        tests=_count(_search(settings.jp_tests, doc, notes, "tests"), "tests count", notes),
        passed=_count(_search(settings.jp_passed, doc, notes, "passed"), "passed count", notes),
        failed=_count(_search(settings.jp_failed, doc, notes, "failed"), "failed count", notes),
        pending=_count(_search(settings.jp_pending, doc, notes, "pending"), "pending count", notes),
        skipped=_count(_search(settings.jp_skipped, doc, notes, "skipped"), "skipped count", notes),
    )
    art.events = _events(_search(settings.jp_events, doc, notes, "events"), notes)
    return art


def scan_reporter_dir(directory: str, settings: config.Settings, since: float | None = None) -> list[HostArtifact]:
    """Every ``*.json`` under ``directory`` (recursive), sorted by path, skipping files older than ``since``.

    A missing directory gives []. A path that is a file is read alone.
    """
    if os.path.isfile(directory):
        paths = [directory]
    elif os.path.isdir(directory):
        paths = _walk_files(directory, ("*.json", "*.JSON"))
    else:
        return []
    out: list[HostArtifact] = []
    for path in paths:
        st, _err = _stat(path)
        if st is None:  # vanished since the directory was listed (e.g. replaced by a rename)
            continue
        if not _mtime_ok(st.st_mtime, since):
            continue
        out.append(read_reporter_artifact(path, settings))
    return out


def artifact_signature(
    directory: str, patterns: Iterable[str] = ("*.json", "*.JSON"),
) -> tuple[tuple[str, int, int], ...]:
    """(path, size, mtime_ns) of every matching file under ``directory``: equal signatures = nothing changed."""
    if os.path.isfile(directory):
        paths = [directory]
    elif os.path.isdir(directory):
        paths = _walk_files(directory, patterns)
    else:
        return ()
    sig: list[tuple[str, int, int]] = []
    for path in paths:
        st, _err = _stat(path)
        if st is None:
            continue
        sig.append((path, st.st_size, st.st_mtime_ns))
    return tuple(sig)


# ---------------------------------------------------------------------------------------------
# JUnit XML (mocha-junit-reporter)
# ---------------------------------------------------------------------------------------------

_DECL_ENCODING_RE = re.compile(rb"""^<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._-]+)["']""")
_NO_DTD = "a JUnit report never needs a DTD or entities"
_DTD_RE = re.compile(r"<!\s*(DOCTYPE|ENTITY)", re.IGNORECASE)


def _sniff_encoding(data: bytes) -> str:
    for bom, name in (
        (codecs.BOM_UTF32_LE, "utf-32"), (codecs.BOM_UTF32_BE, "utf-32"),
        (codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"),
    ):
        if data.startswith(bom):
            return name
    head = data[:4]
    if head == b"\x00\x00\x00<":
        return "utf-32-be"
    if head == b"<\x00\x00\x00":
        return "utf-32-le"
    if head[:2] == b"\x00<":
        return "utf-16-be"
    if head[:2] == b"<\x00":
        return "utf-16-le"
    match = _DECL_ENCODING_RE.match(data.lstrip()[:200])
    if match:
        return match.group(1).decode("ascii")
    return "utf-8"


def _xml_text(data: bytes) -> tuple[str | None, str | None]:
    """Decode an XML document to text the way a parser would; (text, error)."""
    encoding = _sniff_encoding(data)
    try:
        codecs.lookup(encoding)
    except LookupError:
        return None, f"unknown encoding {encoding!r}"
    try:
        return data.decode(encoding), None
    except UnicodeDecodeError as exc:
        return None, f"not valid {encoding} text (byte offset {exc.start})"


def _position_text(exc: Exception) -> str:
    position = getattr(exc, "position", None)
    text = str(exc)
    if position and "line" not in text:
        text = f"{text}: line {position[0]}, column {position[1]}"
    return text


def _defused_what(exc: Exception) -> str:
    kind = type(exc).__name__
    name = getattr(exc, "name", None)
    if kind == "DTDForbidden":
        return f"a <!DOCTYPE {name}> declaration" if name else "a <!DOCTYPE> declaration"
    if kind == "EntitiesForbidden":
        return f"an <!ENTITY {name}> declaration" if name else "an <!ENTITY> declaration"
    if kind == "ExternalReferenceForbidden":
        return "an external reference"
    return f"{kind}: {exc}"


def _parse_xml(data: bytes) -> tuple[Any, str | None]:
    """Parse untrusted XML; returns (root element, error). DTDs and entities are always refused."""
    if HAS_DEFUSEDXML:
        try:
            return DefusedET.fromstring(data, forbid_dtd=True, forbid_entities=True, forbid_external=True), None
        except StdET.ParseError as exc:
            return None, f"malformed XML: {_position_text(exc)}"
        except (ValueError, LookupError) as exc:  # DefusedXmlException is a ValueError
            if isinstance(exc, DefusedXmlException):
                return None, f"refused hostile XML ({_defused_what(exc)}); {_NO_DTD}"
            return None, f"malformed XML: {exc}"
    # Fallback without defusedxml: decode the document ourselves (so no declared encoding can hide
    # a declaration from the check), refuse any DOCTYPE/ENTITY declaration, then parse the text.
    text, err = _xml_text(data)
    if text is None:
        return None, f"malformed XML: {err}"
    match = _DTD_RE.search(text)
    if match:
        line = text.count("\n", 0, match.start()) + 1
        what = match.group(1).upper()
        return None, f"refused hostile XML (a <!{what} declaration at line {line}); {_NO_DTD}"
    try:
        parser = StdET.XMLParser()
        parser.feed(text)
        return parser.close(), None
    except StdET.ParseError as exc:
        return None, f"malformed XML: {_position_text(exc)}"
    except (ValueError, LookupError) as exc:
        return None, f"malformed XML: {exc}"


def _local(tag: Any) -> str:
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1]


def _attr_int(element: Any, name: str) -> int | None:
    raw = element.get(name)
    if raw is None:
        return None
    try:
        return int(str(raw).strip())
    except ValueError:
        try:
            return int(float(str(raw).strip()))
        except ValueError:
            return None


def _child(element: Any, name: str) -> Any:
    for child in element:
        if _local(child.tag) == name:
            return child
    return None


def _case_message(element: Any) -> str | None:
    if element is None:
        return None
    message = element.get("message")
    if not message:
        message = (element.text or "").strip()
    return _clip(message or None)


def is_meta_spec(spec: str) -> bool:
    """True for the ``check-xml-files.ts`` meta spec (it says nothing about hosts)."""
    return bool(META_SPEC_RE.search(_normalise_spec(spec).strip()))


def read_junit(path: str) -> JUnitReport:
    """Read a JUnit XML file; counts come from the ``<testcase>`` elements, never from attributes.

    ``counts.tests`` = testcases, ``counts.failed`` = those with a ``<failure>``, ``errors`` = those
    with an ``<error>`` (and no ``<failure>``), ``counts.skipped`` = those with ``<skipped>``,
    ``counts.passed`` = the rest; ``declared`` holds the root element's own attributes. A
    ``<testsuite>`` without ``file=`` belongs to the spec of the last one that had it (that is how
    mocha-junit-reporter writes them). Never raises for bad content: hostile (DTD / entities), malformed, huge or unreadable files give
    a report with ``error`` set.
    """
    real, path = path, show_path(path)  # opened by its real name, shown (and kept) as text
    report = JUnitReport(path=path)
    st, data, err = _read_input(real, MAX_JUNIT_BYTES)
    if st is not None:
        report.mtime = st.st_mtime
    if data is None:
        report.error = f"cannot read JUnit XML {path}: {err}"
        return report
    if not data.strip():
        report.error = f"cannot read JUnit XML {path}: empty file"
        return report
    root, err = _parse_xml(data)
    if root is None:
        report.error = f"cannot read JUnit XML {path}: {err}"
        return report
    root_tag = _local(root.tag)
    if root_tag not in ("testsuites", "testsuite"):
        report.error = (f"cannot read JUnit XML {path}: the root element is <{root_tag}>, "
                        "not <testsuites> or <testsuite>")
        return report

    report.declared = Counts(
        tests=_attr_int(root, "tests"),
        failed=_attr_int(root, "failures"),
        skipped=_attr_int(root, "skipped"),
    )
    suites = [root] if root_tag == "testsuite" else []
    suites.extend(el for el in root.iter() if _local(el.tag) == "testsuite" and el is not root)
    current_file: str | None = None
    files: list[str] = []
    cases: list[JUnitCase] = []
    for suite in suites:
        suite_file = suite.get("file")
        if suite_file:
            current_file = _normalise_spec(suite_file.strip())
            if current_file not in files:
                files.append(current_file)
        for el in suite:
            if _local(el.tag) != "testcase":
                continue
            failure = _child(el, "failure")
            error = _child(el, "error")
            skipped = _child(el, "skipped")
            case_file = el.get("file")
            cases.append(JUnitCase(
                name=el.get("name") or "",
                classname=el.get("classname"),
                file=_normalise_spec(case_file) if case_file else current_file,
                failed=failure is not None,
                error=error is not None,
                skipped=skipped is not None and failure is None and error is None,
                message=_case_message(failure if failure is not None else error),
            ))
    for case in cases:
        if case.file and case.file not in files:
            files.append(case.file)
    # ``counts.failed``: cases with a <failure>; ``errors``: cases with an <error> and no <failure>.
    n_failed = sum(1 for c in cases if c.failed)
    n_errors = sum(1 for c in cases if c.error and not c.failed)
    n_skipped = sum(1 for c in cases if c.skipped)
    report.cases = cases
    report.files = files
    report.errors = n_errors
    report.counts = Counts(
        tests=len(cases),
        passed=len(cases) - n_failed - n_errors - n_skipped,
        failed=n_failed,
        pending=None,
        skipped=n_skipped,
    )
    report.meta_only = bool(files) and all(is_meta_spec(f) for f in files) and all(
        c.file is not None and is_meta_spec(c.file) for c in cases)
    return report


def scan_junit_dir(directory: str, pattern: str = "*.xml", since: float | None = None) -> list[JUnitReport]:
    """Every file matching ``pattern`` under ``directory`` (recursive), sorted by path, skipping files older
    than ``since``. A path that is a file is read alone (``since`` still applies); a missing path gives []."""
    if os.path.isfile(directory):
        paths = [directory]
    elif os.path.isdir(directory):
        paths = _walk_files(directory, (pattern,))
    else:
        return []
    out: list[JUnitReport] = []
    for path in paths:
        st, _err = _stat(path)
        if st is None:  # vanished since the directory was listed
            continue
        if not _mtime_ok(st.st_mtime, since):
            continue
        out.append(read_junit(path))
    return out


# ---------------------------------------------------------------------------------------------
# mochawesome JSON
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class MochawesomeFailure:
    title: str
    full_title: str | None = None
    file: str | None = None
    message: str | None = None
    hook: bool = False

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass
class MochawesomeReport:
    """A mochawesome report: counts counted from the test entries, ``declared`` as its stats block says."""

    path: str
    stats: Counts = dataclasses.field(default_factory=Counts)  # counted from the tests
    declared: Counts = dataclasses.field(default_factory=Counts)  # the file's "stats" block
    files: list[str] = dataclasses.field(default_factory=list)  # spec files (backslashes -> '/')
    failures: list[MochawesomeFailure] = dataclasses.field(default_factory=list)
    legacy_v3: bool = False  # mochawesome 3.x layout (top-level "suites", no "results")
    mtime: float = 0.0
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)


def _test_state(test: dict[str, Any]) -> str:
    state = test.get("state")
    if test.get("fail") is True or state == "failed":
        return "failed"
    if test.get("pending") is True or state == "pending":
        return "pending"
    if test.get("skipped") is True or state == "skipped":
        return "skipped"
    if test.get("pass") is True or state == "passed":
        return "passed"
    return "unknown"


def _err_message(test: dict[str, Any]) -> str | None:
    err = test.get("err")
    if not isinstance(err, dict):
        return _clip(_opt_text(err))
    message = err.get("message") or err.get("estack")
    return _clip(_opt_text(message))


def _suite_file(suite: dict[str, Any]) -> str | None:
    for key in ("file", "fullFile"):
        value = suite.get(key)
        if isinstance(value, str) and value.strip():
            return _normalise_spec(value.strip())
    return None


def read_mochawesome(path: str) -> MochawesomeReport:
    """Read a mochawesome JSON report (7.x, legacy 3.x or mochawesome-merge output). Never raises for
    bad content: ``error`` is set instead."""
    real, path = path, show_path(path)  # opened by its real name, shown (and kept) as text
    report = MochawesomeReport(path=path)
    st, data, err = _read_input(real, MAX_MOCHAWESOME_BYTES)
    if st is not None:
        report.mtime = st.st_mtime
    if data is None:
        report.error = f"cannot read mochawesome report {path}: {err}"
        return report
    doc, err = _decode_json_bytes(data)
    if err:
        report.error = f"cannot read mochawesome report {path}: {err}"
        return report
    if not isinstance(doc, dict):
        report.error = f"cannot read mochawesome report {path}: the JSON value is {json_type(doc)}, not an object"
        return report
    if isinstance(doc.get("results"), list):
        roots = [r for r in doc["results"] if isinstance(r, dict)]
    elif isinstance(doc.get("suites"), dict):
        report.legacy_v3 = True
        roots = [doc["suites"]]
    else:
        report.error = f"cannot read mochawesome report {path}: neither \"results\" (mochawesome 4+) nor \"suites\" " \
                       "(mochawesome 3) found"
        return report

    stats = doc.get("stats") if isinstance(doc.get("stats"), dict) else {}
    notes: list[str] = []
    report.declared = Counts(
        tests=_count(stats.get("tests"), "tests", notes),
        passed=_count(stats.get("passes"), "passes", notes),
        failed=_count(stats.get("failures"), "failures", notes),
        pending=_count(stats.get("pending"), "pending", notes),
        skipped=_count(stats.get("skipped"), "skipped", notes),
    )
    tally = {"passed": 0, "failed": 0, "pending": 0, "skipped": 0, "unknown": 0}
    seen = set()

    def visit(suite: dict[str, Any], inherited_file: str | None, depth: int) -> None:
        if depth > 200:
            return
        suite_file = _suite_file(suite) or inherited_file
        if suite_file and suite_file not in report.files:
            report.files.append(suite_file)
        entries = []
        for key in ("tests",):
            entries.extend((t, False) for t in (suite.get(key) or []) if isinstance(t, dict))
        for key in ("beforeHooks", "afterHooks"):
            entries.extend((h, True) for h in (suite.get(key) or []) if isinstance(h, dict))
        for test, from_hooks in entries:
            uid = test.get("uuid")
            if uid is not None:
                if uid in seen:
                    continue
                seen.add(uid)
            state = _test_state(test)
            hook = from_hooks or test.get("isHook") is True
            if hook and state != "failed":
                continue  # a hook is a test only when it failed
            tally[state] += 1
            if state == "failed":
                report.failures.append(MochawesomeFailure(
                    title=_text(test.get("title")),
                    full_title=_opt_text(test.get("fullTitle")),
                    file=suite_file,
                    message=_err_message(test),
                    hook=hook,
                ))
        for child in suite.get("suites") or []:
            if isinstance(child, dict):
                visit(child, suite_file, depth + 1)

    for root in roots:
        visit(root, None, 0)
    total = sum(tally.values())
    report.stats = Counts(
        tests=total,
        passed=tally["passed"],
        failed=tally["failed"],
        pending=tally["pending"],
        skipped=tally["skipped"],
    )
    return report


# ---------------------------------------------------------------------------------------------
# VM inventory (Markdown tables)
# ---------------------------------------------------------------------------------------------

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
    _st, data, err = _read_input(path, MAX_INVENTORY_BYTES)
    if data is None:
        raise InputError(path, f"inventory file: {err}")
    return parse_inventory_text(data.decode("utf-8-sig", errors="replace"))


# ---------------------------------------------------------------------------------------------
# spec path -> host
# ---------------------------------------------------------------------------------------------

_HOST_BOUNDARY = r"[A-Za-z0-9-]"


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
    path = _normalise_spec(spec_path).strip()
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
    try:
        regex = re.compile(host_pattern)
    except re.error as exc:
        raise ConfigError(f"ATVM_HOST_PATTERN {host_pattern!r} is not a valid regular expression: {exc}") from None
    if "host" not in regex.groupindex:
        raise ConfigError(f"ATVM_HOST_PATTERN {host_pattern!r} has no named group (?P<host>...)")
    match = regex.search(path)
    if match and match.group("host"):
        found = match.group("host")
        return by_lower.get(found.lower(), found)
    return None

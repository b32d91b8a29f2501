# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""JUnit XML written by mocha-junit-reporter.

Hostile XML is refused: defusedxml when present, else a DOCTYPE/ENTITY check on the decoded text
before the stdlib parser sees the document. Counts come from the ``<testcase>`` elements; the root's
own attributes are kept apart (``declared``). Never raises for bad content: ``error`` is set.
"""
from __future__ import annotations

import codecs
import re
import xml.etree.ElementTree as StdET  # only ever fed documents without DOCTYPE/ENTITY (see _parse_xml)
from typing import Any

from .readers import clip, read_input, recent_files
from ..models import Counts, JUnitCase, JUnitReport
from ..safetext import show_path
from .specs import is_meta_spec, normalise_spec

try:
    import defusedxml.ElementTree as DefusedET
    from defusedxml import DefusedXmlException

    HAS_DEFUSEDXML = True
except ImportError:  # pragma: no cover - exercised through monkeypatching in the tests
    DefusedET = None
    DefusedXmlException = ValueError
    HAS_DEFUSEDXML = False

MAX_JUNIT_BYTES = 64 * 1024 * 1024

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
    return clip(message or None)


def _junit_root(real: str, report: JUnitReport) -> tuple[Any, str | None]:
    """(root element, its local tag) of the file ``real`` (shown as ``report.path``), or (None, None)
    with ``report.error`` set."""
    path = report.path
    st, data, err = read_input(real, MAX_JUNIT_BYTES)
    if st is not None:
        report.mtime = st.st_mtime
    if data is None:
        report.error = f"cannot read JUnit XML {path}: {err}"
        return None, None
    if not data.strip():
        report.error = f"cannot read JUnit XML {path}: empty file"
        return None, None
    root, err = _parse_xml(data)
    if root is None:
        report.error = f"cannot read JUnit XML {path}: {err}"
        return None, None
    root_tag = _local(root.tag)
    if root_tag not in ("testsuites", "testsuite"):
        report.error = (f"cannot read JUnit XML {path}: the root element is <{root_tag}>, "
                        "not <testsuites> or <testsuite>")
        return None, None
    return root, root_tag


def _case(el: Any, current_file: str | None) -> JUnitCase:
    failure = _child(el, "failure")
    error = _child(el, "error")
    skipped = _child(el, "skipped")
    case_file = el.get("file")
    return JUnitCase(
        name=el.get("name") or "",
        classname=el.get("classname"),
        file=normalise_spec(case_file) if case_file else current_file,
        failed=failure is not None,
        error=error is not None,
        skipped=skipped is not None and failure is None and error is None,
        message=_case_message(failure if failure is not None else error),
    )


def _cases(root: Any, root_tag: str) -> tuple[list[str], list[JUnitCase]]:
    """(spec files, test cases) of every ``<testsuite>``; a suite without ``file=`` belongs to the
    spec of the last one that had it."""
    suites = [root] if root_tag == "testsuite" else []
    suites.extend(el for el in root.iter() if _local(el.tag) == "testsuite" and el is not root)
    current_file: str | None = None
    files: list[str] = []
    cases: list[JUnitCase] = []
    for suite in suites:
        suite_file = suite.get("file")
        if suite_file:
            current_file = normalise_spec(suite_file.strip())
            if current_file not in files:
                files.append(current_file)
        cases.extend(_case(el, current_file) for el in suite if _local(el.tag) == "testcase")
    for case in cases:
        if case.file and case.file not in files:
            files.append(case.file)
    return files, cases


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
    root, root_tag = _junit_root(real, report)
    if root is None:
        return report
    report.declared = Counts(
        tests=_attr_int(root, "tests"),
        failed=_attr_int(root, "failures"),
        skipped=_attr_int(root, "skipped"),
    )
    files, cases = _cases(root, root_tag)
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
    return [read_junit(path) for path in recent_files(directory, (pattern,), since)]

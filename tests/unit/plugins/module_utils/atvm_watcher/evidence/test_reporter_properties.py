# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Property tests of the reporter artifact reader and the host rule over it: any JSON value a
reporter file can hold never raises, and is never a PASS unless it is a well-formed report of a
passing host (docs/decision-rules.md, "reporter artifacts")."""
from __future__ import annotations

import json
import os
import tempfile
from typing import Any

from hypothesis import HealthCheck, given, settings as hsettings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision import rules as decide
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import mochawesome
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import reporter

SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-2 ** 70, 2 ** 70),
                    st.floats(allow_nan=False, allow_infinity=False), st.text(max_size=12),
                    st.sampled_from(["PASS", "pass", " Pass ", "FAIL", "RUN", "error", "fatal", "info", ""]))
ANY_JSON = st.recursive(SCALARS, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.dictionaries(st.text(max_size=8), inner, max_size=4)), max_leaves=12)
MISSING = object()

VALID = {
    "host": st.sampled_from(["rhel96-fc-01", "win2022-01", " ol8-03 "]),
    "status": st.sampled_from(["PASS", "pass", " Pass "]),
    "spec": st.sampled_from(["cypress/e2e/a.cy.ts", None]),
    "startedAt": st.sampled_from(["2026-11-27T10:00:00Z", None]),
    "tests": st.integers(1, 500),
    "passes": st.integers(0, 500),
    "failures": st.just(0),
    "pending": st.just(0),
    "skipped": st.integers(0, 50),
    "events": st.lists(st.one_of(
        st.fixed_dictionaries({"type": st.sampled_from(["migration", "info", "cutover"]), "message": st.text(max_size=20)}),
        st.tuples(st.just("2026-11-27T10:40:00Z"), st.sampled_from(["migration", "step"]), st.text(max_size=20),
                  st.sampled_from(["info", "warning"])).map(list)), max_size=3),
}
EVENT_WORDS = st.sampled_from(["error", " Failure", "FAIL", "failed", "migration", "info"])
SEVERITY_WORDS = st.sampled_from(["error", "Fatal ", "critical", "info", "warning"])
NOT_A_COUNT = [-1, True, False, "0", "3", 0.0, 2.5]
NEAR = {  # values next to the valid ones: where a rule that decides PASS sits
    "host": st.sampled_from(["", "   ", 5, True, ["h1"], None]),
    "status": st.sampled_from(["FAIL", "RUN", "PASSED", "", "P A S S", 1, True, None, "pass\n"]),
    "spec": st.sampled_from([["a"], {"f": 1}, True, 3]),
    "startedAt": st.sampled_from([["a"], {"t": 1}, False]),
    "events": st.one_of(st.sampled_from(["error", 3, {"a": 1}, [[]], [None]]), st.lists(st.one_of(
        st.fixed_dictionaries({"type": EVENT_WORDS}), st.fixed_dictionaries({"kind": EVENT_WORDS}),
        st.fixed_dictionaries({"severity": SEVERITY_WORDS, "type": st.just("step")}),
        st.fixed_dictionaries({"level": SEVERITY_WORDS}),
        st.tuples(st.none(), EVENT_WORDS, st.text(max_size=5)).map(list),
        st.tuples(st.none(), st.just("step"), st.text(max_size=5), SEVERITY_WORDS).map(list)), min_size=1, max_size=3)),
}
NEAR.update({"tests": st.sampled_from([0] + NOT_A_COUNT), "passes": st.sampled_from(NOT_A_COUNT),
             "skipped": st.sampled_from(NOT_A_COUNT)})
NEAR.update({key: st.sampled_from([1, 2, 2 ** 64] + NOT_A_COUNT) for key in ("failures", "pending")})
TOP = ("host", "status", "spec", "startedAt", "events")
STATS = ("tests", "passes", "failures", "pending", "skipped")


@st.composite
def reports(draw: Any) -> tuple:
    """A valid report with a few of its fields (none, one, two or more) missing, next to valid or
    any JSON value; or any JSON value at all. Returns the document and whether it was drawn valid."""
    if draw(st.integers(0, 9)) == 0:
        return draw(ANY_JSON), False
    fields = TOP + STATS + ("stats",)
    changed = draw(st.lists(st.sampled_from(fields), max_size=draw(st.sampled_from([1, 1, 1, 2, 3])), unique=True))
    all_valid = True
    doc: dict = {}
    stats: dict = {}
    for key in TOP + STATS:
        kind = draw(st.sampled_from(["missing", "near", "near", "any"])) if key in changed else "valid"
        value = {"valid": VALID, "near": NEAR, "any": {key: ANY_JSON}}[kind][key] if kind != "missing" else MISSING
        value = value if value is MISSING else draw(value)
        if kind in ("any", "near") or (kind == "missing" and key in ("host", "status", "tests")):
            all_valid = False
        if value is not MISSING:
            (stats if key in STATS else doc)[key] = value
    doc["stats"] = draw(ANY_JSON) if "stats" in changed else stats
    return doc, all_valid and "stats" not in changed


def _count(value: Any, positive: bool = False, zero: bool = False) -> bool:
    """A usable count: absent, or an int (not a bool) that is not negative (positive / zero when asked)."""
    if value is None:
        return not positive
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        return False
    return (value > 0 or not positive) and (value == 0 or not zero)


def _word(value: Any, words: frozenset) -> bool:
    return isinstance(value, str) and value.strip().lower() in words


def _failure_event(item: Any) -> bool:
    if isinstance(item, list):
        return (len(item) > 1 and _word(item[1], reporter.FAILURE_TYPES)) or (
            len(item) > 3 and _word(item[3], reporter.FAILURE_SEVERITIES))
    kind = item.get("type", item.get("kind"))
    severity = item.get("severity") if item.get("severity") is not None else item.get("level")
    return _word(kind, reporter.FAILURE_TYPES) or _word(severity, reporter.FAILURE_SEVERITIES)


def _events_ok(events: Any) -> bool:
    if events is None:
        return True
    if not isinstance(events, (list, dict)):
        return False
    items = list(events.values()) if isinstance(events, dict) else events
    return all(isinstance(i, dict) or (isinstance(i, list) and i) for i in items) and not any(
        _failure_event(i) for i in items)


def _text_or_absent(value: Any) -> bool:
    return value is None or (isinstance(value, (str, int, float)) and not isinstance(value, bool))


def well_formed_pass(doc: Any) -> bool:
    """Written from the rules, not from the reader: what a report must be for its host to PASS."""
    if not isinstance(doc, dict) or not isinstance(doc.get("stats"), dict):
        return False
    stats = doc["stats"]
    host, status = doc.get("host"), doc.get("status")
    return (isinstance(host, str) and bool(host.strip()) and isinstance(status, str) and status.strip().upper() == "PASS"
            and _count(stats.get("tests"), positive=True) and _count(stats.get("failures"), zero=True)
            and _count(stats.get("pending"), zero=True) and _count(stats.get("passes")) and _count(stats.get("skipped"))
            and all(_text_or_absent(doc.get(k)) for k in ("spec", "startedAt", "endedAt")) and _events_ok(doc.get("events")))


def _verdict_of(data: bytes) -> models.HostVerdict:
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "drawn-host.json")
        with open(path, "wb") as handle:
            handle.write(data)
        art = reporter.read_reporter_artifact(path, config.Settings())
    return decide.host_verdict(art.host or "drawn-host", [art], {}, True)


@hsettings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(reports())
def test_any_reporter_json_never_raises_and_passes_only_when_well_formed(drawn):
    doc, all_valid = drawn
    verdict = _verdict_of(json.dumps(doc).encode("utf-8"))
    assert verdict.result in models.RESULT_ORDER
    if verdict.result == models.PASS:
        assert well_formed_pass(doc), (doc, verdict.reasons)
    if all_valid:  # the other way round: a report drawn whole from valid parts is a PASS
        assert verdict.result == models.PASS, (doc, verdict.reasons)


@st.composite
def one_field_off(draw: Any) -> dict:
    """A valid report with exactly one field set next to valid (or removed)."""
    doc: dict = {key: draw(VALID[key]) for key in TOP}
    doc["stats"] = {key: draw(VALID[key]) for key in STATS}
    key = draw(st.sampled_from(TOP + STATS))
    where = doc["stats"] if key in STATS else doc
    if draw(st.integers(0, 5)) == 0:
        where.pop(key)
    else:
        where[key] = draw(NEAR[key])
    return doc


@hsettings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(one_field_off())
def test_one_field_next_to_valid_passes_exactly_when_the_rules_allow(doc):
    """Every rule at its edge: a count of 1 failed or pending test, zero tests, a count that is a
    bool, a string or negative, a failure event by type, kind, severity or level, a blank host."""
    verdict = _verdict_of(json.dumps(doc).encode("utf-8"))
    assert (verdict.result == models.PASS) == well_formed_pass(doc), (doc, verdict.result, verdict.reasons)


@hsettings(max_examples=150, deadline=None)
@given(st.binary(max_size=200), st.integers(0, 120))
def test_any_bytes_and_any_cut_of_a_good_report_never_pass_when_broken(garbage, cut):
    good = json.dumps({"host": "h1", "status": "PASS", "stats": {"tests": 3, "failures": 0}}).encode()
    for data in (garbage, good[:cut], garbage + good, good + garbage):
        try:
            parsed = json.loads(data.decode("utf-8"))
        except ValueError:
            parsed = None
        verdict = _verdict_of(data)
        if verdict.result == models.PASS:
            assert parsed is not None and well_formed_pass(parsed), data


@hsettings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(ANY_JSON)
def test_any_json_as_a_mochawesome_report_never_raises(doc):
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mochawesome.json")
        with open(path, "w", encoding="utf-8") as handle:
            json.dump(doc, handle)
        report = mochawesome.read_mochawesome(path)
    assert report.error is not None or report.stats is not None
    json.dumps(report.to_dict())

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exactly-once delivery over the outbox: a post is SENDING before it goes out, SENT after 200 ``ok``,
POST_FAILED (kept for ``resend``) when it cannot be delivered (docs/architecture.md, "Outbox record").

A post that may already exist (an interrupted attempt, an unreadable record, an ambiguous answer)
goes out again with the possible-duplicate note, which the caller renders (``render_duplicate``):
the outbox never renders a message, it stores and sends the caller's.
"""
from __future__ import annotations

import dataclasses
import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import StateError
from ..models import Message, Payload
from ..store.runstore import RunStore, validate_key
from ..store.runstate import CORRUPT, POST_FAILED, SENDING, SENT
from ..durable import utc_now
from ..store.records import OutboxRecord
from .client import AttemptNote, DeliveryResult, MattermostClient, safe_payload

LOG = logging.getLogger(__name__)

_RECORD_FIELDS = frozenset(f.name for f in dataclasses.fields(OutboxRecord)) | {"schema", "possibly_posted"}


def with_note(payload: Payload, note_text: Callable[[str], str]) -> Payload:
    """A copy of ``payload`` whose ``text`` went through ``note_text`` (the possible-duplicate note)."""
    out = dict(payload)
    out["text"] = note_text(str(payload.get("text") or ""))
    return out


# ---------------------------------------------------------------------------------------------
# exactly once
# ---------------------------------------------------------------------------------------------


def _journal(journal: Optional[Callable[[str], Any]], line: str) -> None:
    if journal is None:
        LOG.info("%s", line)
        return
    try:
        journal(line)
    except Exception:  # noqa: BLE001
        LOG.info("%s", line)


def deliver_once(store: RunStore, client: MattermostClient, key: str, text: Message,
                 meta: Optional[Dict[str, Any]] = None, *, render_duplicate: Callable[[str], str],
                 journal: Optional[Callable[[str], Any]] = None) -> OutboxRecord:
    """Post ``text`` (a text or a payload) under ``key`` at most once, and never lose it
    (docs/decision-rules.md). Returns the final record.

    SENT: nothing is posted. SENDING, CORRUPT, or POST_FAILED after an ambiguous attempt: the post
    may exist, so it goes out again with the possible-duplicate note. Otherwise: SENDING with the
    exact payload (``payload``; its ``text`` also as ``text``) is written (atomically) before the
    request; SENT after 200 ``ok``; POST_FAILED with ``last_error`` (the payload kept for ``resend``)
    when it cannot be delivered. An earlier record's message wins: its ``payload``, or the ``text``
    of a record written before payloads were kept, sent as it was.
    Every string is made safe first (:func:`~.safetext.safe_post`): what is stored is what is posted.
    The note is added to the payload's ``text`` by ``render_duplicate`` (the message layer's
    :func:`~..message.text.add_duplicate_note`, once, within the post's limit). ``meta``: the
    record's ``subrun_index`` / ``subrun_name``, or other facts kept with it.
    Raises :class:`StateError` when the SENDING record cannot be written (then nothing is posted).
    """
    validate_key(key)

    def render(body: Payload) -> Payload:
        return safe_payload(with_note(body, render_duplicate), client.secrets)

    with store.outbox_lock(key):
        existing = store.outbox_get(key)
        if existing is not None and existing.status == SENT:
            _journal(journal, "delivery {0}: already sent at {1}, not posting again".format(key, existing.sent_at))
            return existing
        base = safe_payload(text, client.secrets)
        record, base, possible_duplicate = _carry_on(existing, base, key, journal, client.secrets)
        for field, value in (meta or {}).items():
            if field in ("subrun_index", "subrun_name"):
                setattr(record, field, value)
            elif field not in _RECORD_FIELDS:  # never a field the delivery itself keeps
                record.extra[field] = value
        noted = render(base)
        first = noted if possible_duplicate else base
        record = _write_sending(store, record, base, first, possible_duplicate)
        previous_attempts = record.attempts
        on_attempt = _attempt_recorder(store, record, noted, journal)
        result = client.post(first, text_after_ambiguous=noted, on_attempt=on_attempt)
        line = _settle(record, result, previous_attempts, (base, noted), possible_duplicate)
        return _write_outcome(store, record, result, line, journal)


def _carry_on(existing: Optional[OutboxRecord], base: Payload, key: str, journal: Optional[Callable[[str], Any]],
              secrets: List[str]) -> Tuple[OutboxRecord, Payload, bool]:
    """An earlier record's (not SENT) part: the record, the message (its own wins), whether the post may exist."""
    if existing is None or existing.status == CORRUPT:
        if existing is not None:
            _journal(journal, "delivery {0}: the earlier delivery record was unreadable, sending again "
                              "marked as a possible duplicate".format(key))
        return OutboxRecord(key=key, status=SENDING), base, existing is not None
    possible_duplicate = existing.possible_duplicate
    if existing.status == SENDING:
        possible_duplicate = True
        _journal(journal, "delivery {0}: an earlier attempt was interrupted (SENDING), sending again "
                          "marked as a possible duplicate".format(key))
    first_message = existing.message()
    if first_message is not None and first_message != {"text": ""}:
        base = safe_payload(first_message, secrets)  # the message of the first attempt
    return existing, base, possible_duplicate


def _write_sending(store: RunStore, record: OutboxRecord, base: Payload, first: Payload,
                   possible_duplicate: bool) -> OutboxRecord:
    """The SENDING record with the exact payload, durable before any request."""
    record.status, record.payload, record.text, record.sent_text = SENDING, base, base["text"], first["text"]
    record.possible_duplicate, record.sent_at, record.outcome = possible_duplicate, None, None
    record = store.outbox_put(record)  # durable before the request: a crash from here on is "interrupted"
    store.event("delivery_sending", key=record.key, possible_duplicate=possible_duplicate)
    return record


def _attempt_recorder(store: RunStore, record: OutboxRecord, noted: Payload,
                      journal: Optional[Callable[[str], Any]]) -> Callable[[int, AttemptNote], None]:
    """Journals every attempt; after the first ambiguous one, writes that later ones carry the note."""
    previous_attempts = record.attempts
    progress: Dict[str, Any] = {"ambiguous": False}

    def on_attempt(number: int, attempt: AttemptNote) -> None:
        _journal(journal, "delivery {0}: attempt {1}: {2}".format(record.key, previous_attempts + number, attempt.line))
        store.event("delivery_attempt", key=record.key, attempt=previous_attempts + number, detail=attempt.line)
        if attempt.ambiguous and not progress["ambiguous"]:
            progress["ambiguous"] = True
            # later attempts carry the note: record that the post may now be doubled
            record.attempts, record.last_error = previous_attempts + number, attempt.line
            record.possible_duplicate, record.sent_text = True, noted["text"]
            try:
                store.outbox_put(record)
            except StateError as exc:
                _journal(journal, "delivery {0}: cannot update the delivery record: {1}".format(record.key, exc))

    return on_attempt


def _settle(record: OutboxRecord, result: DeliveryResult, previous_attempts: int,
            messages: Tuple[Payload, Payload], possible_duplicate: bool) -> str:
    """``record`` made SENT or POST_FAILED (not written yet); the journal line. ``messages``: base, noted."""
    base, noted = messages
    record.attempts = previous_attempts + result.attempts
    record.http_status, record.outcome = result.status, result.outcome
    if result.request_id:
        record.request_id = result.request_id
    record.possible_duplicate = possible_duplicate or result.ambiguous
    if not result.ok:
        record.status, record.last_error = POST_FAILED, result.reason
        return "delivery {0}: failed ({1}); the message is kept in the outbox for resend".format(record.key, result.reason)
    record.status, record.sent_at, record.last_error = SENT, utc_now(), None
    record.sent_text = noted["text"] if (possible_duplicate or result.noted) else base["text"]
    return "delivery {0}: sent after {1} attempt{2}{3}".format(
        record.key, result.attempts, "" if result.attempts == 1 else "s",
        " (marked as a possible duplicate)" if record.possible_duplicate else "")


def _write_outcome(store: RunStore, record: OutboxRecord, result: DeliveryResult, line: str,
                   journal: Optional[Callable[[str], Any]]) -> OutboxRecord:
    """Write the final record (SENT or POST_FAILED), journal and record the event; the record."""
    try:
        record = store.outbox_put(record)
    except StateError as exc:
        record.persist_error = str(exc)
        line += "; but the delivery record could not be written ({0})".format(exc)
    _journal(journal, line)
    store.event("delivery_" + ("sent" if result.ok else "failed"), key=record.key, attempts=result.attempts,
                outcome=result.outcome, possible_duplicate=record.possible_duplicate, reason=result.reason)
    return record


def resend(store: RunStore, client: MattermostClient, key: Optional[str] = None, *,
           render_duplicate: Callable[[str], str],
           journal: Optional[Callable[[str], Any]] = None) -> List[OutboxRecord]:
    """Send POST_FAILED records again (all, or only ``key``) through :func:`deliver_once`.

    With ``key``: a SENT record is returned untouched (never posted twice), a SENDING one is sent
    with the possible-duplicate note, a CORRUPT one cannot be resent (no text) and is returned as is.
    Raises :class:`StateError` when ``key`` has no record.
    """
    if key is not None:
        record = store.outbox_get(validate_key(key))
        if record is None:
            raise StateError("cannot resend {0}: no such delivery record in {1}".format(key, store.paths.outbox_dir))
        records = [record]
    else:
        records = [r for r in store.outbox_list() if r.status == POST_FAILED]
    out: List[OutboxRecord] = []
    for record in records:
        if record.status == SENT:
            _journal(journal, "delivery {0}: already sent at {1}, not posting again".format(record.key, record.sent_at))
            out.append(record)
            continue
        message = record.message()
        if record.status == CORRUPT or message is None:
            _journal(journal, "delivery {0}: the record was unreadable and set aside ({1}); its text is lost, "
                              "nothing to resend".format(record.key, ", ".join(record.corrupt_files)))
            out.append(record)
            continue
        out.append(deliver_once(store, client, record.key, message, journal=journal,
                                render_duplicate=render_duplicate))
    return out

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exactly-once delivery over the outbox: a post is SENDING before it goes out, SENT after 200 ``ok``,
POST_FAILED (kept for ``resend``) when it cannot be delivered (docs/architecture.md, "Outbox record").

A post that may already exist (an interrupted attempt, an unreadable record, an ambiguous answer)
goes out again with the possible-duplicate note, which the caller renders (``render_duplicate``):
the outbox never renders a message, it stores and sends the caller's.
"""
from __future__ import annotations

import logging
from typing import Any, Callable, Dict, List, Optional, Tuple

from ..errors import StateError
from ..models import Message, Payload
from ..store.runstore import RunStore, validate_key
from ..store.runstate import CORRUPT, POST_FAILED, SENDING, SENT
from ..durable import utc_now
from .client import DeliveryResult, MattermostClient, safe_payload

LOG = logging.getLogger(__name__)


def with_note(payload: Payload, note_text: Callable[[str], str]) -> Payload:
    """A copy of ``payload`` whose ``text`` went through ``note_text`` (the possible-duplicate note)."""
    out = dict(payload)
    out["text"] = note_text(str(payload.get("text") or ""))
    return out


def stored_message(record: Dict[str, Any]) -> Optional[Payload]:
    """What an outbox record posts: its ``payload`` (schema 2), else its ``text`` (schema 1, as it was)."""
    payload = record.get("payload")
    if isinstance(payload, dict) and isinstance(payload.get("text"), str):
        return payload
    text = record.get("text")
    if isinstance(text, str):
        return {"text": text}
    return None


# ---------------------------------------------------------------------------------------------
# exactly once
# ---------------------------------------------------------------------------------------------

_PROTECTED = ("key", "status", "text", "payload", "schema", "created_at", "updated_at", "sent_at", "possible_duplicate",
              "attempts", "last_error", "sent_text", "outcome", "possibly_posted", "http_status")


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
                 journal: Optional[Callable[[str], Any]] = None) -> Dict[str, Any]:
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
    :func:`~..message.text.add_duplicate_note`, once, within the post's limit).
    Raises :class:`StateError` when the SENDING record cannot be written (then nothing is posted).
    """
    validate_key(key)

    def render(body: Payload) -> Payload:
        return safe_payload(with_note(body, render_duplicate), client.secrets)

    with store.outbox_lock(key):
        existing = store.outbox_get(key)
        if existing is not None and existing.get("status") == SENT:
            _journal(journal, "delivery {0}: already sent at {1}, not posting again".format(
                key, existing.get("sent_at")))
            return existing
        base = safe_payload(text, client.secrets)
        record, base, possible_duplicate = _carry_on(existing, base, key, journal, client.secrets)
        for field, value in (meta or {}).items():
            if field not in _PROTECTED:
                record[field] = value
        noted = render(base)
        first = noted if possible_duplicate else base
        record = _write_sending(store, record, key, base, first, possible_duplicate)
        previous_attempts = record["attempts"]
        on_attempt = _attempt_recorder(store, record, key, noted, journal)
        result = client.post(first, text_after_ambiguous=noted, on_attempt=on_attempt)
        line = _settle(record, result, previous_attempts, key, (base, noted), possible_duplicate)
        return _write_outcome(store, record, result, key, line, journal)


def _carry_on(existing: Optional[Dict[str, Any]], base: Payload, key: str, journal: Optional[Callable[[str], Any]],
              secrets: List[str]) -> Tuple[Dict[str, Any], Payload, bool]:
    """An earlier record's (not SENT) part: the record, the message (its own wins), whether the post may exist."""
    if existing is None:
        return {}, base, False
    possible_duplicate = False
    record: Dict[str, Any] = {}
    status = existing.get("status")
    if status == SENDING:
        possible_duplicate = True
        _journal(journal, "delivery {0}: an earlier attempt was interrupted (SENDING), sending again "
                          "marked as a possible duplicate".format(key))
    elif status == CORRUPT:
        possible_duplicate = True
        _journal(journal, "delivery {0}: the earlier delivery record was unreadable, sending again "
                          "marked as a possible duplicate".format(key))
    elif status == POST_FAILED and (existing.get("possibly_posted") or existing.get("possible_duplicate")):
        possible_duplicate = True
    if status != CORRUPT:
        record = {k: v for k, v in existing.items() if k != "corrupt_files"}
        first_message = stored_message(existing)
        if first_message is not None and first_message != {"text": ""}:
            base = safe_payload(first_message, secrets)  # the message of the first attempt
    return record, base, possible_duplicate


def _write_sending(store: RunStore, record: Dict[str, Any], key: str, base: Payload, first: Payload,
                   possible_duplicate: bool) -> Dict[str, Any]:
    """The SENDING record with the exact payload, durable before any request."""
    record.update({
        "key": key, "status": SENDING, "payload": base, "text": base["text"], "sent_text": first["text"],
        "possible_duplicate": possible_duplicate, "attempts": int(record.get("attempts") or 0),
        "sent_at": None, "last_error": record.get("last_error"),
    })
    record.pop("outcome", None)
    record = store.outbox_put(record)  # durable before the request: a crash from here on is "interrupted"
    store.event("delivery_sending", key=key, possible_duplicate=possible_duplicate)
    return record


def _attempt_recorder(store: RunStore, record: Dict[str, Any], key: str, noted: Payload,
                      journal: Optional[Callable[[str], Any]]) -> Callable[[int, str], None]:
    """Journals every attempt; after the first ambiguous one, writes that later ones carry the note."""
    previous_attempts = record["attempts"]
    progress: Dict[str, Any] = {"ambiguous": False}

    def on_attempt(number: int, detail: str) -> None:
        _journal(journal, "delivery {0}: attempt {1}: {2}".format(key, previous_attempts + number, detail))
        store.event("delivery_attempt", key=key, attempt=previous_attempts + number, detail=detail)
        if getattr(detail, "ambiguous", False) and not progress["ambiguous"]:
            progress["ambiguous"] = True
            # later attempts carry the note: record that the post may now be doubled
            try:
                record.update({"attempts": previous_attempts + number, "last_error": detail,
                               "possible_duplicate": True, "sent_text": noted["text"]})
                store.outbox_put(record)
            except StateError as exc:
                _journal(journal, "delivery {0}: cannot update the delivery record: {1}".format(key, exc))

    return on_attempt


def _settle(record: Dict[str, Any], result: DeliveryResult, previous_attempts: int, key: str,
            messages: Tuple[Payload, Payload], possible_duplicate: bool) -> str:
    """``record`` made SENT or POST_FAILED (not written yet); the journal line. ``messages``: base, noted."""
    base, noted = messages
    record["attempts"] = previous_attempts + result.attempts
    record["http_status"] = result.status
    record["outcome"] = result.outcome
    if result.request_id:
        record["request_id"] = result.request_id
    if not result.ok:
        record.update({"status": POST_FAILED, "last_error": result.reason,
                       "possibly_posted": bool(possible_duplicate or result.ambiguous)})
        return "delivery {0}: failed ({1}); the message is kept in the outbox for resend".format(key, result.reason)
    duplicate = possible_duplicate or result.ambiguous
    record.update({"status": SENT, "sent_at": utc_now(), "possible_duplicate": duplicate,
                   "sent_text": noted["text"] if (possible_duplicate or result.noted) else base["text"],
                   "last_error": None})
    record.pop("possibly_posted", None)
    return "delivery {0}: sent after {1} attempt{2}{3}".format(key, result.attempts, "" if result.attempts == 1 else "s",
                                                               " (marked as a possible duplicate)" if duplicate else "")


def _write_outcome(store: RunStore, record: Dict[str, Any], result: DeliveryResult, key: str, line: str,
                   journal: Optional[Callable[[str], Any]]) -> Dict[str, Any]:
    """Write the final record (SENT or POST_FAILED), journal and record the event; the record."""
    try:
        record = store.outbox_put(record)
    except StateError as exc:
        record["persist_error"] = str(exc)
        line += "; but the delivery record could not be written ({0})".format(exc)
    _journal(journal, line)
    store.event("delivery_" + ("sent" if result.ok else "failed"), key=key, attempts=result.attempts, outcome=result.outcome,
                possible_duplicate=bool(record.get("possible_duplicate")), reason=result.reason)
    return record


def resend(store: RunStore, client: MattermostClient, key: Optional[str] = None, *,
           render_duplicate: Callable[[str], str],
           journal: Optional[Callable[[str], Any]] = None) -> List[Dict[str, Any]]:
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
        records = [r for r in store.outbox_list() if r.get("status") == POST_FAILED]
    out: List[Dict[str, Any]] = []
    for record in records:
        status = record.get("status")
        if status == SENT:
            _journal(journal, "delivery {0}: already sent at {1}, not posting again".format(
                record["key"], record.get("sent_at")))
            out.append(record)
            continue
        message = stored_message(record)
        if status == CORRUPT or message is None:
            _journal(journal, "delivery {0}: the record was unreadable and set aside ({1}); its text is lost, "
                              "nothing to resend".format(record["key"], ", ".join(record.get("corrupt_files") or [])))
            out.append(record)
            continue
        out.append(deliver_once(store, client, record["key"], message, journal=journal,
                                render_duplicate=render_duplicate))
    return out

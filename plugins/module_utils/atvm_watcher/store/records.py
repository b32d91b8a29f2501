# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The records the watcher writes besides ``state.json``: one delivery record per post
(``outbox/<key>.json``) and one decision per sub-run (``subruns/<key>/state.json``), typed.

Each reads a decoded document (``from_dict``; unknown keys are kept as they were) and writes one
(``to_dict``). The on-disk formats are in docs/architecture.md ("Outbox record", "Per-run state
directory"); records written by earlier versions are read as they are.
"""
from __future__ import annotations

import dataclasses
from typing import Any, Dict, List, Mapping, Optional

from ..durable import SCHEMA
from ..models import Payload

OUTBOX_SCHEMA = 2  # 2: the record keeps the exact payload it posts; 1: its text only (still read and resent)


def _split(cls: Any, obj: Mapping[str, Any]) -> Dict[str, Any]:
    names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
    known = {k: v for k, v in obj.items() if k in names}
    known["extra"] = {k: v for k, v in obj.items() if k not in names and k != "schema"}
    return known


def _message(payload: Optional[Payload], text: Optional[str]) -> Optional[Payload]:
    """A record's post: its ``payload`` (schema 2), else its ``text`` (schema 1, as it was)."""
    if isinstance(payload, dict) and isinstance(payload.get("text"), str):
        return payload
    if isinstance(text, str):
        return {"text": text}
    return None


def _out(record: Any, schema: int) -> Dict[str, Any]:
    out = dict(record.extra)
    out.update({f.name: getattr(record, f.name) for f in dataclasses.fields(record) if f.name != "extra"})
    out["schema"] = schema
    return out


@dataclasses.dataclass
class OutboxRecord:
    """One post's delivery: SENDING before the request, SENT after 200 ``ok``, POST_FAILED (kept for
    ``resend``); CORRUPT for a record that was unreadable and set aside (``corrupt_files``)."""

    key: str
    status: str
    payload: Optional[Payload] = None  # the exact message posted (schema 2)
    text: Optional[str] = None  # its headline; a 1.0.0 record's whole message
    sent_text: Optional[str] = None  # the headline of the last copy sent (with the note when it had it)
    # A post of this key may be in the channel already (an interrupted attempt, an ambiguous answer, an
    # unreadable record): every copy sent from now on carries the possible-duplicate note.
    possible_duplicate: bool = False
    attempts: int = 0
    last_error: Optional[str] = None
    sent_at: Optional[str] = None
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    http_status: Optional[int] = None
    outcome: Optional[str] = None
    request_id: Optional[str] = None
    subrun_index: Optional[int] = None
    subrun_name: Optional[str] = None
    corrupt_files: List[str] = dataclasses.field(default_factory=list)
    persist_error: Optional[str] = None  # the final status could not be written (the record on disk is older)
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "OutboxRecord":
        known = _split(cls, obj)
        # 2.0.0 kept "the post may exist" of a failed delivery apart (possibly_posted): it is one fact
        if known["extra"].pop("possibly_posted", False):
            known["possible_duplicate"] = True
        known["possible_duplicate"] = bool(known.get("possible_duplicate"))
        known["attempts"] = int(known.get("attempts") or 0)
        known["corrupt_files"] = list(known.get("corrupt_files") or [])
        return cls(**known)

    def to_dict(self) -> Dict[str, Any]:
        out = _out(self, OUTBOX_SCHEMA if self.payload is not None else SCHEMA)
        if not self.corrupt_files:
            out.pop("corrupt_files")
        if self.persist_error is None:
            out.pop("persist_error")
        return out

    def message(self) -> Optional[Payload]:
        """What this record posts: its ``payload`` (schema 2), else its ``text`` (schema 1, as it was)."""
        return _message(self.payload, self.text)


@dataclasses.dataclass
class SubrunRecord:
    """One decided sub-run: its verdict as decided, and the post it got (``posted``), written before the
    post's outbox record says SENDING."""

    index: int
    name: str
    key: str
    verdict: Dict[str, Any]  # the SubrunVerdict, as decided (to_dict)
    posted: bool
    payload: Optional[Payload] = None
    text: Optional[str] = None
    decided_at: Optional[str] = None
    changes: Optional[Dict[str, Any]] = None  # since its suite's previous run (docs/history.md)
    created_at: Optional[str] = None
    updated_at: Optional[str] = None
    extra: Dict[str, Any] = dataclasses.field(default_factory=dict)

    @classmethod
    def from_dict(cls, obj: Mapping[str, Any]) -> "SubrunRecord":
        known = _split(cls, obj)
        known.setdefault("verdict", {})
        known["posted"] = bool(known.get("posted"))
        return cls(**known)

    def to_dict(self) -> Dict[str, Any]:
        return _out(self, SCHEMA)

    def message(self) -> Optional[Payload]:
        """The post this decision made (None when it was not posted)."""
        return _message(self.payload, self.text)

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The watcher's posts: each decided sub-run's post and the request post, exactly once over the outbox.

A part of :class:`.loop.Watcher` (a mixin over its state, store, client and settings): when a post
goes out, what a killed watcher left is resumed, and whether the request needs its own post
(docs/decision-rules.md § 10) is decided here.
"""
from __future__ import annotations

from typing import Any, Dict, List, Optional

from ..decision.channel import SUBRUN, Told, request_post_needed
from ..delivery.outbox import deliver_once
from ..durable import utc_now
from ..evidence.logfile import tail_lines
from ..message.attachment import build_post
from ..message.request import RequestFacts, build_request_post
from ..message.text import add_duplicate_note
from ..models import CANCELLED, POSTED_STATES, Message, RunVerdict, SubrunVerdict
from ..store.runstate import (
    NOT_POSTED, PENDING, PHASE_DELIVERING, PHASE_WATCHING, POST_FAILED, SENT, RequestEntry, SubrunEntry,
)
from ..store.records import SubrunRecord
from ..store.runstore import REQUEST_KEY, subrun_key


class Posting:
    """Posting for the watcher (mixed into :class:`.loop.Watcher`)."""

    # pylint: disable=no-member  # the watcher's attributes: state, store, client, settings, journal, ...

    def _existing_key(self, index: int) -> Optional[str]:
        prefix = "{0:03d}-".format(index)
        for record in self.store.outbox_list():
            if record.key.startswith(prefix):
                return record.key
        return None

    def finalize(self, verdict: RunVerdict, sub: SubrunVerdict, total: int) -> None:
        entry = self._subrun_entry(sub.index)
        if entry.finalized:
            return
        name = entry.name or sub.name
        sub.name = name
        key = entry.key or self._existing_key(sub.index) or subrun_key(sub.index, name)
        if sub.state in POSTED_STATES and self.cancel_requested():
            sub.state = CANCELLED  # a cancelled run is never posted, whenever the marker came
        entry.name, entry.state, entry.result, entry.key = name, sub.state, sub.result, key
        entry.finalized, entry.finalized_at = True, utc_now()
        post = sub.state in POSTED_STATES
        if post and self._posted() >= self.settings.max_posts:
            post, entry.held = False, True  # the request post counts it (the post cap: docs/decision-rules.md)
        changes = self.history.record(self.build, self.state.created_at, verdict, sub, self.runs(), self.inventory(),
                                      self.not_before(sub.index), self.run_start() - 2.0, self.last_junit)
        entry.tests = changes.tallies() if changes is not None and changes.known else None
        payload = build_post(verdict, sub, self.settings, self.build, total, changes=changes) if post else None
        self.store.save_subrun(SubrunRecord(
            index=sub.index, name=name, key=key, verdict=sub.to_dict(), posted=post, payload=payload,
            text=payload["text"] if payload else None, decided_at=utc_now(),
            changes=changes.to_dict() if changes is not None else None))
        self.journal("subrun-decided", "sub-run {0} {1}: {2} / {3}{4}".format(
            sub.index + 1, name, sub.state, sub.result,
            " (not posted: {0} posts already)".format(self.settings.max_posts) if entry.held
            else "" if post else " (not posted)"),
            index=sub.index, state=sub.state, result=sub.result, reasons=sub.reasons)
        entry.delivery = PENDING if post else NOT_POSTED
        self.save()
        if post:
            self.deliver_subrun(entry, payload or "")

    def _posted(self) -> int:
        """Sub-run posts of this request so far (sent, being sent, or kept for a resend)."""
        return sum(1 for e in self.state.subruns if e.finalized and e.delivery not in (None, NOT_POSTED))

    def deliver(self, entry: Any, message: Message, meta: Dict[str, Any], what: str) -> None:
        """Post ``message`` under ``entry.key`` exactly once; ``entry.delivery`` says how it went."""
        if self.cancel_requested():
            self.journal("delivery", "{0} not posted: the run was cancelled".format(what))
            entry.delivery = NOT_POSTED
            self.save()
            return
        self.set_phase(PHASE_DELIVERING)
        limit = self.settings.max_post_chars
        record = deliver_once(self.store, self.client, entry.key or "", message, meta,
                              journal=lambda m: self.journal("delivery", m),
                              render_duplicate=lambda t: add_duplicate_note(t, limit))
        entry.delivery = record.status
        if entry.delivery != SENT:
            self.delivery_failed = True
        self.state.set_phase(PHASE_WATCHING)
        self.state.count_deliveries()
        self.save()

    def deliver_subrun(self, entry: SubrunEntry, message: Message) -> None:
        self.deliver(entry, message, {"subrun_index": entry.index, "subrun_name": entry.name},
                     "sub-run {0} {1}".format(entry.index + 1, entry.name))

    def resume_deliveries(self) -> None:
        """Finish what a killed watcher left: decided sub-runs not yet SENT."""
        for entry in self.state.subruns:
            if not entry.finalized or entry.delivery in (SENT, NOT_POSTED, POST_FAILED):
                continue
            record = self.store.load_subrun(entry.index, entry.name)
            if not record or not record.posted:
                continue
            self.journal("delivery-resume", "resuming delivery of sub-run {0} {1}".format(entry.index + 1, entry.name))
            self.deliver_subrun(entry, record.message() or "")
        request = self.state.request
        if request is not None and request.delivery not in (SENT, NOT_POSTED, POST_FAILED):
            record = self.store.outbox_get(request.key)
            message = record.message() if record else None
            if message is not None:
                self.journal("delivery-resume", "resuming delivery of the request post")
                self.deliver(request, message, {"request": True}, "the request post")

    def tell_request(self, verdict: RunVerdict) -> None:
        """The request post, when the sub-run posts do not say how the request ended (exactly once)."""
        if self.state.request is not None:  # decided by a watcher that stopped before the end
            self.resume_deliveries()
            return
        subruns = [e for e in self.state.subruns if e.finalized]
        told = [Told(SUBRUN, e.state, e.result) for e in subruns if e.delivery not in (None, NOT_POSTED)]
        held = [e for e in subruns if e.held]
        spoke = any(run.started for run in self.runs())
        stray = self.parser.stray_markers  # since this watcher began reading (a restart reads on from its offset)
        if not request_post_needed(verdict.state, verdict.result, told, not_posted=len(held),
                                   stray_markers=stray.count, cypress_spoke=spoke):
            return
        names = {e.index: e.name or "" for e in subruns}
        facts = RequestFacts(
            build_name=self.build, state=verdict.state, result=verdict.result, categorized=self.settings.categorized,
            exit=verdict.exit, reasons=list(verdict.reasons) or self._why_request(verdict),
            posted=[(e.index, e.name or "", e.state, e.result) for e in subruns if e.delivery not in (None, NOT_POSTED)],
            held=[(e.index, e.name or "", e.state, e.result) for e in held],
            lost=[(r.index, names.get(r.index) or r.label or "", r.text_lost or "") for r in self.runs() if r.text_lost],
            stray_markers=stray.count, stray_labels=list(stray.labels),
            log_tail=tail_lines(self.settings.runner_log_path()), max_posts=self.settings.max_posts)
        payload = build_request_post(facts, self.settings)
        self.state.request = RequestEntry(key=REQUEST_KEY, state=verdict.state, result=verdict.result,
                                          delivery=PENDING, decided_at=utc_now())
        self.journal("request-decided", "the request post: {0} / {1} (the sub-run posts do not say so)".format(
            verdict.state, verdict.result), state=verdict.state, result=verdict.result)
        self.save()
        self.deliver(self.state.request, payload, {"request": True}, "the request post")

    @staticmethod
    def _why_request(verdict: RunVerdict) -> List[str]:
        """Reasons for a request whose own reasons are empty: what its sub-runs say."""
        return [r for sub in verdict.subruns for r in sub.reasons][:5]

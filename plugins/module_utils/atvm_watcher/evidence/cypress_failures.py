# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure texts in Cypress console output, and the prefixes and runner names before them.

A line holding a failure wording (:mod:`.signatures`) is a problem of the run it belongs to, unless
it is a test's title, a suite's title or a path; a failure line and its neighbour that start the same
way teach a prefix removed from every later line; ``name: `` before a line is a runner's name
(learned only from a line the byte scan stops at, see :mod:`.cypress_feed`).

A part of :class:`~.cypress_log.CypressLogParser` (a mixin over its state).
"""
from __future__ import annotations

import re
from typing import List, Optional, Set, Tuple

from ..models import CypressRun
from .logtext import clean_line, prefix_shape, shared_prefix, split_prefix
from .signatures import SIGNATURES, Signature, match_line, match_words

MAX_PROBLEMS = 50
PROBLEM_CHARS = 400
MAX_NAMES = 64  # runner names (prefix streams) followed
MAX_SHAPES = 8  # prefixes learned from the log
_CACHE_SIZE = 4096
_CACHE_LINE = 256
# Lines that are no failure whatever words they hold: a test's title (passing, pending, failing,
# an attempt of a retried one) and the items of the screenshot and video lists.
_NOT_FAILURE_RE = re.compile(
    r"^\s*(?:[\u2713\u2714\u221a]\s|-\s|\d+\)\s|\(Attempt \d+ of \d+\)\s)")
# What a wrapper prints when a group it announced failed before Cypress started.
_WRAPPER_FAILURE_RE = re.compile(
    r"(?i)\b(?:errors?|fail(?:ed|s|ure)?|fatal|cannot|can't|could not|couldn't|unable to|refused|denied"
    r"|abort(?:ed|ing)?|exception|timed out|killed|not found|no such|unreachable|panic)\b")
# Cypress texts that it prints indented inside a spec's output: never a suite's title.
_INDENTED_BY_CYPRESS = ("CLOUD_CANCEL_SKIPPED_SPEC",)

_WORDINGS = {sig.name: sig.wordings for sig in SIGNATURES}


class FailureText:
    """Failure texts, prefixes, runner names (mixed into :class:`~.cypress_log.CypressLogParser`)."""

    # pylint: disable=no-member  # the parser's state: runs, current run, streams, markers, ...

    def _run(self) -> Optional[CypressRun]:
        raise NotImplementedError  # the parser knows the run a line belongs to

    def _switch(self, key: str) -> None:
        raise NotImplementedError  # the parser follows each runner's state

    def _problem_text(self, run: Optional[CypressRun], text: str) -> Optional[List[str]]:
        """Record ``text`` (cleaned, cut, once) on ``run`` or the preamble; the list if it was new."""
        target = run.problems if run is not None else self.preamble_problems
        if len(target) >= MAX_PROBLEMS:
            return None
        text = text.strip()[:PROBLEM_CHARS]
        if text in target:
            return None
        target.append(text)
        return target

    def _problem(self, text: str, sig: Signature) -> None:
        run = self._run()
        target = self._problem_text(run, text)
        if not sig.fatal:
            if target is not None:
                self._retried.append((target, text.strip()[:PROBLEM_CHARS], sig.cleared_by))
            return
        if run is None:
            self.preamble_fatal = True
            return
        if sig.name == "RUN_CANCELED_EXIT":
            run.exit_text = text.strip()[:PROBLEM_CHARS]
        if sig.flag:
            setattr(run, sig.flag, True)

    def _overcome(self, what: str) -> None:
        """Forget the retried problems that ``what`` overcomes ("run_start", "connected")."""
        if not self._retried:
            return
        keep = []
        for target, text, cleared_by in self._retried:
            if cleared_by != what:
                keep.append((target, text, cleared_by))
            elif text in target:
                target.remove(text)
        self._retried = keep

    def _learn_prefix(self, body: str) -> None:
        """The text before a Cypress heading is a prefix of this log's lines: learn its shape."""
        if not body.strip() or len(self._shapes) >= MAX_SHAPES:
            return
        shape = prefix_shape(body)
        if shape is not None and all(s.pattern != shape.pattern for s in self._shapes):
            self._shapes.append(shape)
            self._cache = {}

    def _failures(self, raw: bytes, text: str) -> None:
        if self.every_line:
            sig = match_line(text)
        else:
            words = self._scanner.words_in(raw)
            sig = match_words(words, text) if words else None
        if sig is None:
            if self._marker is not None and _WRAPPER_FAILURE_RE.search(text) and len(self._marker_texts) < 5:
                self._marker_texts.append(text.strip()[:PROBLEM_CHARS])
            return
        if _NOT_FAILURE_RE.match(text) and sig.name != "RUN_CANCELED_SUMMARY":
            return  # a test's title or a list item: not a failure, whatever words it holds
        indent = len(text) - len(text.lstrip(" "))
        run = self.runs[self._cur] if self._cur is not None and self._marker is None else None
        if not (run is not None and run.current_spec and indent >= 2 and sig.name not in _INDENTED_BY_CYPRESS):
            indent = -1
        body = self._body(text, sig) if len(self._shapes) < MAX_SHAPES else 0
        if body and self._learn_shared(text, self._neighbour(self._previous(), text), body):
            text, body = self._text_after_shapes(text), 0
        if indent >= 0 or body:
            self._release_held(None)
            self._held = (text, sig, indent, body)  # decided by the next line
            return
        self._problem(text, sig)

    def _neighbour(self, raw: bytes, text: str) -> str:
        """The text of a line next to the failure text ``text`` (no runner name learned from it),
        with the runner's name that ``text`` still starts with (``A: FATAL ERROR`` under ``A: ``)."""
        name, rest = split_prefix(clean_line(raw), set(self._known))
        if name and text.startswith(name + ": "):
            rest = name + ": " + rest
        return self._text_after_shapes(rest)

    def _text_after_shapes(self, text: str) -> str:
        for shape in self._shapes:
            match = shape.match(text)
            if match is not None:
                return text[match.end():]
        return text

    def _learn_shared(self, text: str, other: str, body: int) -> bool:
        """The decoration before the failure wording of ``text`` that ``other`` (the line before or
        after it) starts with too is a prefix of this log's lines: learned (True) when it is one."""
        if len(self._shapes) >= MAX_SHAPES:
            return False
        shape = prefix_shape(shared_prefix(text, other, body))
        if shape is None or not shape.match(text) or not shape.match(other):
            return False
        self._shapes.append(shape)
        self._cache = {}
        return True

    @staticmethod
    def _body(text: str, sig: Signature) -> int:
        """Where the failure wording of ``text`` starts when text that may be a prefix is before it
        (``packages/e2e test: ``), else 0."""
        at = -1
        for wording in _WORDINGS[sig.name]:
            i = text.find(wording)
            if i == 0:
                return 0
            if i > 0 and (at < 0 or i < at):
                at = i
        return at if at > 0 and text[:at].strip() else 0

    def _release_held(self, text: Optional[str], raw: Optional[bytes] = None) -> None:
        """Decide a held failure text from the next non-blank line ``text`` (None: none will come):
        a suite's title when that line is indented further (no failure then); and when that line
        starts with the same decoration as the text before the failure wording, that is a prefix of
        this log's lines, learned as such (a log without a Cypress heading to learn it from)."""
        if self._held is None or (text is not None and not text.strip()):
            return
        held, sig, indent, body = self._held
        self._held = None
        if text is not None and indent >= 0 and len(text) - len(text.lstrip(" ")) > indent:
            return  # the line after it is indented further: it was a suite's title
        name, rest = split_prefix(held, self._known)  # a runner's name known since it was held
        if name:
            held, body = rest, self._body(rest, sig)
        for shape in self._shapes:  # learned since it was held
            match = shape.match(held)
            if match is not None:
                held, body = held[match.end():], 0
                break
        if text is not None and body and self._learn_shared(held, text if raw is None else self._neighbour(raw, held), body):
            held = self._text_after_shapes(held)
        self._problem(held, sig)

    def _text(self, raw: bytes) -> str:
        """The cleaned text of a line without its prefixes; the parser state is the line's runner's.

        A runner's name is learned (``name: `` then removed before any text) only from a line that
        is read whatever the reading path: one holding a word, or read in a box, a table, a marker's
        group; ``every_line`` reads the other lines too, and learns nothing from them, nor changes
        runner for them (the byte scan never stops at them: reading them may change nothing)."""
        if not self._teach:
            return self._split(raw, set(self._known))[1]
        hit = self._cache.get(raw)
        if hit is None:
            known = len(self._known)
            key, text = self._split(raw, self._known)
            if len(self._known) != known:
                if len(self._known) > MAX_NAMES:
                    self._known.discard(key)
                self._cache = {}
            if len(raw) <= _CACHE_LINE:
                if len(self._cache) >= _CACHE_SIZE:
                    self._cache = {}
                self._cache[raw] = (key, text)
        else:
            key, text = hit
        if key != self._key:
            self._switch(key)
        return text

    def _split(self, raw: bytes, known: Set[str]) -> Tuple[str, str]:
        """(runner's name, text) of a line: without its CI and runner prefixes and a learned prefix."""
        key, text = split_prefix(clean_line(raw), known)
        for shape in self._shapes:
            match = shape.match(text)
            if match:
                key2, text = split_prefix(text[match.end():], known)
                return key or key2, text
        return key, text

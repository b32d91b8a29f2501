# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Mattermost incoming-webhook client: one post, every attempt bounded (docs/decision-rules.md).

The contract is ``docs/decision-rules.md``: success is status 200 with the body
exactly ``ok``; connection failures, 429 (after ``Retry-After``), 502/503/504 and a wrong 200 body
are retried with bounded exponential backoff inside an overall deadline; 400/403/404/413/501 stop at
once; a read timeout, a dropped connection after the request went out, 500, 504 and a 200 whose
body is not ``ok`` are *ambiguous* (the post may exist), so later attempts carry a visible
possible-duplicate note. Copies after a 200 with another body are bounded (``ambiguous_copies``).

Whatever the server says, attempts are at least ``min_delay`` apart and at most ``max_attempts``
per post, and each attempt ends within ``http_timeout`` in total: a watchdog closes the connection
of an attempt that runs longer (a server dripping its answer byte by byte). The rules are in
docs/architecture.md (delivery).

The webhook URL and its hook id never appear in a reason, an exception, a log line or a record
(:func:`~.safetext.redact`); every text posted passes :func:`~.safetext.safe_post`.
"""
from __future__ import annotations

import dataclasses
import json
import logging
import random
import time
from typing import Any, Callable, Dict, List, Optional, Tuple

from .. import __version__, safetext
from . import wire
from ..errors import ConfigError, MissingDependencyError
from ..models import Message, Payload
from ..safetext import redact

from .wire import ERROR_WORDS, HAS_REQUESTS, STATUS_WORDS, requests

LOG = logging.getLogger(__name__)

SENT_OUTCOME = "sent"
PERMANENT = "permanent"
DEADLINE = "deadline"
AMBIGUOUS = "ambiguous"  # gave up: the copies allowed after an ambiguous 200 are spent
ATTEMPTS = "attempts"  # gave up: the attempts allowed per post are spent

MAX_POST_CHARS = 16383  # the server's own limit: a longer text becomes several posts


def as_payload(message: Message) -> Payload:
    """``message`` as a payload: a plain text becomes ``{"text": text}`` (a copy either way)."""
    return dict(message) if isinstance(message, dict) else {"text": message}


def safe_payload(message: Message, secrets: List[Optional[str]]) -> Payload:
    """``message`` as a payload with every string in it made safe (:func:`~.safetext.safe_payload`)."""
    return safetext.safe_payload(as_payload(message), secrets)


def _require_requests() -> None:
    if not HAS_REQUESTS:
        raise MissingDependencyError("requests")


# ---------------------------------------------------------------------------------------------
# redaction of library logs
# ---------------------------------------------------------------------------------------------


class _RedactingFilter(logging.Filter):
    """Rewrites urllib3 log records (they carry the request path, hence the hook id)."""

    def __init__(self) -> None:
        super().__init__("atvm_watcher_redact")
        self.secrets: List[str] = []

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken record is still redacted as far as possible
            message = str(record.msg)
        clean = redact(message, list(self.secrets))
        if clean != message:
            record.msg = clean
            record.args = ()
        return True


_FILTER = _RedactingFilter()
_FILTERED_LOGGERS = ("urllib3.connectionpool", "urllib3.connection", "urllib3.util.retry", "requests")


def _install_log_filter(webhook: str) -> None:
    if webhook not in _FILTER.secrets:
        _FILTER.secrets.append(webhook)
    for name in _FILTERED_LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


# ---------------------------------------------------------------------------------------------
# the client
# ---------------------------------------------------------------------------------------------


@dataclasses.dataclass
class DeliveryResult:
    """The outcome of one :meth:`MattermostClient.post` (all attempts)."""

    ok: bool
    outcome: str  # "sent" | "permanent" | "deadline"
    status: Optional[int]  # HTTP status of the last answer (None: no answer)
    reason: str  # plain words, redacted
    attempts: int
    ambiguous: bool  # an attempt may have created the post (read timeout, 500, 504, dropped connection)
    elapsed: float = 0.0
    noted: bool = False  # the successful attempt carried ``text_after_ambiguous``
    request_id: Optional[str] = None  # X-Request-Id of the last answer (server log correlation)
    history: List[str] = dataclasses.field(default_factory=list)  # one plain line per attempt

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


@dataclasses.dataclass(frozen=True)
class AttemptNote:
    """What ``on_attempt`` hears of one attempt: a plain, redacted line, whether the attempt was
    ambiguous (the post may exist), and the HTTP status of its answer (None: no answer)."""

    line: str
    ambiguous: bool = False
    status: Optional[int] = None


@dataclasses.dataclass
class _Attempt:
    kind: str  # "sent" | "permanent" | "retry"
    status: Optional[int]
    reason: str
    ambiguous: bool = False
    retry_after: Optional[float] = None
    request_id: Optional[str] = None


class MattermostClient:
    """Posts one message to a Mattermost incoming webhook, following the server's real contract.

    ``sleep``, ``clock`` and ``rand`` are injectable for tests. ``on_attempt(attempt_no, note)``
    is called after every attempt with a plain, redacted line.
    """

    def __init__(self, webhook: str, channel: Optional[str] = None, username: Optional[str] = None,
                 http_timeout: float = 10.0, deadline: float = 900.0, session: Any = None,
                 sleep: Callable[[float], Any] = time.sleep, clock: Callable[[], float] = time.monotonic,
                 backoff_base: float = 1.0, backoff_max: float = 60.0,
                 on_attempt: Optional[Callable[[int, AttemptNote], Any]] = None,
                 rand: Callable[[], float] = random.random, icon_url: Optional[str] = None,
                 min_delay: float = 1.0, max_attempts: int = 30, ambiguous_copies: int = 1) -> None:
        _require_requests()
        if not webhook or not isinstance(webhook, str):
            raise ConfigError("no Mattermost webhook URL configured (MATTERMOST_ATVM_WEBHOOK)")
        if http_timeout <= 0 or deadline <= 0:
            raise ConfigError("the HTTP timeout and the delivery deadline must be greater than 0")
        if min_delay < 0 or max_attempts < 1 or ambiguous_copies < 0:
            raise ConfigError("the delay between attempts must not be negative, the attempts per post at least 1 "
                              "and the copies after an ambiguous answer not negative")
        self._webhook = webhook
        self.channel = channel or None
        self.username = username or None
        self.icon_url = icon_url or None
        self.http_timeout = float(http_timeout)
        self.deadline = float(deadline)
        self._session = session
        self._sleep = sleep
        self._clock = clock
        self._rand = rand
        self.backoff_base = max(0.0, float(backoff_base))
        self.backoff_max = max(self.backoff_base, float(backoff_max))
        self.on_attempt = on_attempt
        self.min_delay = float(min_delay)
        self.max_attempts = int(max_attempts)
        self.ambiguous_copies = int(ambiguous_copies)
        _install_log_filter(webhook)

    @classmethod
    def from_settings(cls, settings: Any, **kwargs: Any) -> "MattermostClient":
        """The client the settings describe (webhook, channel, username, timeouts and retry bounds)."""
        options: Dict[str, Any] = {
            "channel": settings.channel, "username": settings.username, "http_timeout": settings.http_timeout,
            "deadline": settings.delivery_deadline, "min_delay": settings.retry_min_delay,
            "max_attempts": settings.delivery_max_attempts, "ambiguous_copies": settings.ambiguous_copies,
        }
        options.update(kwargs)
        return cls(settings.webhook or "", **options)

    def __repr__(self) -> str:
        return "MattermostClient(webhook=***, channel={0!r})".format(self.channel)

    @property
    def secrets(self) -> List[str]:
        """What must be redacted from anything derived from this client's traffic."""
        return [self._webhook]

    def payload(self, message: Message) -> Dict[str, Any]:
        """The request body: ``message`` (a text or a payload, every string made safe), channel, username, icon."""
        body = safe_payload(message, self.secrets)
        if self.channel:
            body["channel"] = self.channel
        if self.username:
            body["username"] = self.username
        if self.icon_url:
            body["icon_url"] = self.icon_url
        return body

    # ---- one HTTP exchange ----
    def _exchange(self, session: Any, text: Message, timeout: float,
                  watchdog: Optional["wire.Watchdog"] = None) -> _Attempt:
        """One POST; with ``watchdog`` the attempt's connection is closed when it outlives its time."""
        if watchdog is None:
            return self._exchange_once(session, text, timeout)
        wire.CURRENT.watchdog = watchdog
        watchdog.start()
        try:
            attempt = self._exchange_once(session, text, timeout)
        finally:
            watchdog.cancel()
            wire.CURRENT.watchdog = None
        if watchdog.expired and attempt.kind != SENT_OUTCOME:
            # whatever was parsed from a cut answer (a status line, part of the headers) is no answer
            reason = ("no complete answer within {0:g} s (the time limit of one attempt), retrying "
                      "(ambiguous: the post may exist)".format(watchdog.seconds))
            return _Attempt("retry", None, reason, ambiguous=True)
        return attempt

    def _exchange_once(self, session: Any, text: Message, timeout: float) -> _Attempt:
        data = json.dumps(self.payload(text), ensure_ascii=False).encode("utf-8")
        headers = {
            "Content-Type": "application/json",
            "Accept": "*/*",
            "User-Agent": "atvm-watcher/{0}".format(__version__),
            "Connection": "close",  # a stale pooled connection must never look like an ambiguous drop
        }
        try:
            response = session.post(self._webhook, data=data, headers=headers, timeout=(timeout, timeout),
                                    allow_redirects=False, stream=True)
        except Exception as exc:  # noqa: BLE001 - classified below, never re-raised with the URL
            return self._classify_exception(exc)
        try:
            body = wire.read_limited(response)
        except Exception as exc:  # noqa: BLE001 - the body broke after the headers: the request went out
            response.close()
            reason = "HTTP {0} but the answer broke off ({1})".format(response.status_code, self._exc_words(exc))
            return _Attempt("retry", response.status_code, reason, ambiguous=True)
        response.close()
        return self._classify_response(response.status_code, response.headers, body)

    def _classify_response(self, status: int, headers: Any, body: bytes) -> _Attempt:
        request_id = wire.header_token(headers.get("X-Request-Id"))
        content_type = (headers.get("Content-Type") or "").split(";", 1)[0].strip().lower()
        if status == 200 and body == b"ok":
            return _Attempt(SENT_OUTCOME, status, "HTTP 200 ok", request_id=request_id)
        if 200 <= status < 300:
            what = "an HTML page" if content_type == "text/html" or body.lstrip()[:1] == b"<" else (
                "an empty body" if not body else "an unexpected body")
            reason = ("HTTP {0} but the answer is not Mattermost's 'ok' ({1}: probably a proxy or a login "
                      "page answered, not Mattermost), retrying (ambiguous: the post may exist)".format(status, what))
            return _Attempt("retry", status, reason, ambiguous=True, request_id=request_id)
        error_id, inner_id = (None, None)
        if content_type == "application/json":
            error_id, inner_id = wire.parse_error_body(body)
        words = ERROR_WORDS.get(inner_id or "") or STATUS_WORDS.get(status) or STATUS_WORDS.get(
            status // 100 * 100, "unexpected answer")
        label = "HTTP {0}".format(status)
        shown_id = inner_id or error_id
        if shown_id:
            label += " " + shown_id
        if status == 429:
            retry_after = wire.parse_retry_after(headers.get("Retry-After"))
            if retry_after is None:
                reason = "{0}: rate limited by the server, retrying".format(label)
            else:
                reason = "{0}: rate limited by the server (Retry-After {1:g} s), retrying".format(label, retry_after)
            return _Attempt("retry", status, reason, retry_after=retry_after, request_id=request_id)
        if 300 <= status < 400:
            return _Attempt(PERMANENT, status, "{0}: {1} (permanent)".format(label, STATUS_WORDS[300]),
                            request_id=request_id)
        if status in wire.RETRY_CLEAN:
            return _Attempt("retry", status, "{0}: {1}, retrying".format(label, words), request_id=request_id)
        if status >= 500 and status != 501:
            return _Attempt("retry", status, "{0}: {1}, retrying (ambiguous: the post may exist)".format(label, words),
                            ambiguous=True, request_id=request_id)
        return _Attempt(PERMANENT, status, "{0}: {1} (permanent)".format(label, words), request_id=request_id)

    def _exc_words(self, exc: BaseException) -> str:
        text = "{0}: {1}".format(type(exc).__name__, exc) if str(exc) else type(exc).__name__
        return redact(text, self.secrets)[:300]

    def _classify_exception(self, exc: BaseException) -> _Attempt:
        exceptions = requests.exceptions
        if isinstance(exc, exceptions.ConnectTimeout):
            return _Attempt("retry", None, "connection to the Mattermost server timed out, retrying")
        if isinstance(exc, exceptions.ReadTimeout):
            return _Attempt("retry", None, "no answer within {0:g} s (read timeout), retrying "
                                           "(ambiguous: the post may exist)".format(self.http_timeout), ambiguous=True)
        if isinstance(exc, (exceptions.MissingSchema, exceptions.InvalidSchema, exceptions.InvalidURL,
                            exceptions.URLRequired)):
            return _Attempt(PERMANENT, None, "the webhook URL is not a valid http(s) URL (permanent)")
        if isinstance(exc, exceptions.SSLError):
            if "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify failed" in str(exc):
                return _Attempt(PERMANENT, None, "the server's TLS certificate is not trusted (permanent)")
            return _Attempt("retry", None, "TLS handshake failed ({0}), retrying".format(self._exc_words(exc)))
        if isinstance(exc, exceptions.ConnectionError):
            cause = wire.root_cause(exc)
            if wire.is_connect_failure(exc):
                words = wire.os_words(cause) or "connection failed"
                return _Attempt("retry", None, "cannot connect to the Mattermost server ({0}), retrying".format(words))
            words = wire.os_words(cause) or "the connection was closed"
            return _Attempt("retry", None, "the connection broke after the request was sent ({0}), retrying "
                                           "(ambiguous: the post may exist)".format(words), ambiguous=True)
        return _Attempt("retry", None, "request failed ({0}), retrying (ambiguous: the post may exist)".format(
            self._exc_words(exc)), ambiguous=True)

    # ---- the retry loop ----
    def _backoff(self, n: int) -> float:
        delay = min(self.backoff_max, self.backoff_base * (2 ** min(n, 30)))
        return delay * (0.5 + 0.5 * self._rand())

    def post(self, text: Message, text_after_ambiguous: Optional[Message] = None,
             on_attempt: Optional[Callable[[int, AttemptNote], Any]] = None) -> DeliveryResult:
        """Post ``text`` (a text or a payload); after an ambiguous attempt, later attempts send
        ``text_after_ambiguous`` when given.

        Never raises for network or server trouble: the result says what happened.
        """
        callback = on_attempt or self.on_attempt
        start = self._clock()
        attempts = retries = odd_200 = 0
        ambiguous = False
        history: List[str] = []
        while True:
            attempts += 1
            noted = ambiguous and text_after_ambiguous is not None
            attempt = self._attempt(text_after_ambiguous if noted else text, self.deadline - (self._clock() - start))
            ambiguous = ambiguous or attempt.ambiguous
            odd_200 += 1 if attempt.status is not None and 200 <= attempt.status < 300 and attempt.ambiguous else 0
            reason = redact(attempt.reason, self.secrets)
            history.append("attempt {0}: {1}".format(attempts, reason))
            LOG.debug("Mattermost delivery attempt %d: %s", attempts, reason)
            if callback is not None:
                try:
                    callback(attempts, AttemptNote(reason, attempt.ambiguous, attempt.status))
                except Exception:  # noqa: BLE001 - a journal problem must not stop the delivery
                    LOG.warning("the delivery attempt callback failed", exc_info=True)
            elapsed = self._clock() - start
            if attempt.kind in (SENT_OUTCOME, PERMANENT):
                ok = attempt.kind == SENT_OUTCOME
                return DeliveryResult(ok, attempt.kind, attempt.status, reason, attempts, ambiguous, elapsed,
                                      ok and noted, attempt.request_id, history)
            wait = max(self.min_delay, attempt.retry_after if attempt.retry_after is not None else self._backoff(retries))
            retries += 1
            why, outcome = self._stop_reason(attempt, attempts, odd_200, wait, self.deadline - elapsed)
            if why:
                final = "gave up after {0} attempt{1} in {2:.1f} s ({3}); last error: {4}".format(
                    attempts, "" if attempts == 1 else "s", elapsed, why, _strip_retrying(reason))
                return DeliveryResult(False, outcome, attempt.status, final, attempts, ambiguous, elapsed, False,
                                      attempt.request_id, history)
            self._sleep(wait)

    def _attempt(self, text: Message, remaining: float) -> _Attempt:
        """One attempt on a fresh connection, bounded in total by the HTTP timeout (and what is left)."""
        timeout = max(min(self.http_timeout, remaining), min(self.http_timeout, 1.0))
        if self._session is not None:
            return self._exchange(self._session, text, timeout)
        # a fresh connection per attempt: a pooled connection the server is closing must never
        # turn into a "connection dropped after sending" (ambiguous) failure
        session = requests.Session()
        for prefix in ("http://", "https://"):
            session.mount(prefix, wire.WatchedAdapter())
        # past the per-read timeouts (which say more when they fire), never past the deadline
        limit = min(timeout + max(0.5, timeout / 4), max(remaining, timeout))
        try:
            return self._exchange(session, text, timeout, wire.Watchdog(limit))
        finally:
            session.close()

    def _stop_reason(self, attempt: _Attempt, attempts: int, odd_200: int, wait: float,
                     remaining: float) -> Tuple[str, str]:
        """Why no further attempt is made (and the outcome), or ("", "") to go on after ``wait``."""
        if odd_200 > self.ambiguous_copies:
            return ("{0} answer{1} HTTP 2xx without 'ok': the post may exist, and at most {2} more cop{3} "
                    "may be sent".format(odd_200, "" if odd_200 == 1 else "s", self.ambiguous_copies,
                                         "y" if self.ambiguous_copies == 1 else "ies"), AMBIGUOUS)
        if attempts >= self.max_attempts:
            return "at most {0} attempt{1} per post".format(
                self.max_attempts, "" if self.max_attempts == 1 else "s"), ATTEMPTS
        if wait >= remaining:
            if attempt.retry_after is not None and remaining > 0 and attempt.retry_after >= remaining:
                return "the server asked to wait {0:g} s, more than the {1:.1f} s left".format(
                    attempt.retry_after, remaining), DEADLINE
            return "the delivery deadline of {0:g} s leaves no time for another try".format(self.deadline), DEADLINE
        return "", ""


def _strip_retrying(reason: str) -> str:
    return reason.replace(", retrying (ambiguous: the post may exist)", " (ambiguous: the post may exist)").replace(
        ", retrying", "")

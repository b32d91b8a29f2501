# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The wire level of a Mattermost incoming webhook: what an answer means, and one attempt bounded.

- What the server's answers mean in plain words (``ERROR_WORDS``, ``STATUS_WORDS``), read from
  fixed ids only (never from the message, which may carry the hook id): :func:`parse_error_body`,
  :func:`parse_retry_after`, :func:`header_token`, :func:`read_limited`.
- What a failed request means: :func:`root_cause`, :func:`is_connect_failure` (the request surely
  never reached the server), :func:`os_words`.
- :class:`Watchdog` and :class:`WatchedAdapter`: a requests adapter whose connections report their
  socket to the attempt's watchdog, which shuts it down when the attempt outlives its time (a
  per-read timeout never fires on an answer dripping one byte at a time).

The contract itself is in docs/architecture.md (delivery); :mod:`.delivery` uses all of this.
"""
from __future__ import annotations

import email.utils
import json
import math
import re
import socket
import threading
import time
from typing import Any, List, Optional, Tuple

try:
    import requests
    import requests.adapters
    from requests.packages import urllib3  # the urllib3 that requests itself runs on

    HAS_REQUESTS = True
except ImportError:  # pragma: no cover - exercised only without requests
    requests = None  # type: ignore[assignment]
    HAS_REQUESTS = False

_ID_RE = re.compile(r"^[a-z0-9_.]{1,120}$")
_MAX_BODY = 65536

# inner error id -> plain words (reference table)
ERROR_WORDS = {
    "web.incoming_webhook.invalid.app_error": "unknown or deleted hook id",
    "web.incoming_webhook.text.app_error": "the message text is empty",
    "web.incoming_webhook.decode.app_error": "the server could not decode the JSON payload",
    "web.incoming_webhook.media_type.app_error": "the server could not parse the Content-Type",
    "web.incoming_webhook.parse_form.app_error": "the server could not parse the form body",
    "web.incoming_webhook.parse_multipart.app_error": "the server could not parse the multipart body",
    "web.incoming_webhook.parse.app_error": "the server could not parse the payload",
    "web.incoming_webhook.disabled.app_error": "incoming webhooks are disabled on the server",
    "web.incoming_webhook.user.app_error": "the @user given as channel does not exist",
    "web.incoming_webhook.channel.app_error": "the channel was not found in the webhook's team "
                                              "(give its name, e.g. town-square, not its display name)",
    "web.incoming_webhook.channel_locked.app_error": "the webhook is locked to its own channel and may not "
                                                     "post to the requested one",
    "web.incoming_webhook.permissions.app_error": "the webhook's creator cannot read that private channel",
    "web.incoming_webhook.split_props_length.app_error": "the message properties are too large",
    "api.post.create_webhook_post.creating.app_error": "the server failed to create the post "
                                                       "(part of it may have been posted)",
    "api.context.invalid_param.app_error": "the server refused a parameter of the payload",
    "api.context.404.app_error": "no webhook at that address (the URL path is wrong)",
}

# the server's English messages, as they appear in ``detailed_error`` (developer mode) -> inner id
_MESSAGE_IDS = (
    ("Invalid webhook.", "web.incoming_webhook.invalid.app_error"),
    ("No text specified.", "web.incoming_webhook.text.app_error"),
    ("Couldn't find the channel.", "web.incoming_webhook.channel.app_error"),
    ("Couldn't find the user", "web.incoming_webhook.user.app_error"),
    ("not permitted to post to the requested channel", "web.incoming_webhook.channel_locked.app_error"),
    ("does not have appropriate permissions to channel", "web.incoming_webhook.permissions.app_error"),
    ("disabled by the system admin", "web.incoming_webhook.disabled.app_error"),
    ("Unable to split webhook props", "web.incoming_webhook.split_props_length.app_error"),
    ("Unable to parse incoming data.", "web.incoming_webhook.parse.app_error"),
)

_WRAPPER_IDS = ("web.incoming_webhook.general.app_error", "api.webhook.incoming.error")

# what a status means when the body does not tell (newer servers without developer mode, proxies)
STATUS_WORDS = {
    300: "the webhook URL redirects (fix the URL, e.g. http -> https)",
    400: "the server rejected the post without saying why: most likely an unknown or deleted hook id "
         "(or an unknown @user as channel)",
    401: "the server or a proxy in front of it asks for authentication",
    403: "the webhook may not post to that channel (locked to another channel, or a private channel)",
    404: "the channel was not found in the webhook's team, or the webhook URL path is wrong",
    405: "the address does not accept POST (is it really an incoming webhook URL?)",
    413: "the request is too large for the server or a proxy in front of it",
    414: "the request URL is too long",
    429: "rate limited",
    500: "internal server error (the post may have been created)",
    501: "incoming webhooks are disabled on the server",
    502: "bad gateway (a proxy could not reach Mattermost)",
    503: "service unavailable",
    504: "gateway timeout (the post may have been created behind the proxy)",
}

# statuses retried without ambiguity: the request surely created nothing
RETRY_CLEAN = (408, 425, 429, 502, 503)


def read_limited(response: Any) -> bytes:
    raw = getattr(response, "raw", None)
    if raw is not None and hasattr(raw, "read"):
        chunks = []
        size = 0
        for chunk in response.iter_content(8192):
            chunks.append(chunk)
            size += len(chunk)
            if size >= _MAX_BODY:
                break
        return b"".join(chunks)[:_MAX_BODY]
    return bytes(response.content or b"")[:_MAX_BODY]


def header_token(value: Optional[str]) -> Optional[str]:
    if value and re.fullmatch(r"[A-Za-z0-9]{1,64}", value.strip()):
        return value.strip()
    return None


def parse_retry_after(value: Optional[str]) -> Optional[float]:
    if value is None:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when is None:
            return None
        seconds = when.timestamp() - time.time()
    if math.isnan(seconds) or math.isinf(seconds):
        return None
    return max(0.0, seconds)


def parse_error_body(body: bytes) -> Tuple[Optional[str], Optional[str]]:
    """(outer id, inner id) from a Mattermost JSON error; ids are fixed strings, never the message."""
    try:
        obj = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None, None
    if not isinstance(obj, dict):
        return None, None
    outer = obj.get("id")
    outer = outer if isinstance(outer, str) and _ID_RE.match(outer) else None
    inner = None
    if outer and outer in ERROR_WORDS:
        inner = outer
    detailed = obj.get("detailed_error")
    if isinstance(detailed, str) and detailed and (inner is None or outer in _WRAPPER_IDS):
        for known in ERROR_WORDS:
            if known in detailed:
                inner = known
                break
        else:
            for fragment, known in _MESSAGE_IDS:
                if fragment in detailed:
                    inner = known
                    break
    return outer, inner


def root_cause(exc: BaseException) -> BaseException:
    seen = set()
    current: Any = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        nxt = getattr(current, "reason", None)
        if not isinstance(nxt, BaseException):
            nxt = None
            for arg in getattr(current, "args", ()):
                if isinstance(arg, BaseException):
                    nxt = arg
                    break
        if nxt is None:
            nxt = current.__cause__ or current.__context__
        if nxt is None:
            return current
        current = nxt
    return current


def _chain(exc: BaseException) -> List[BaseException]:
    out: List[BaseException] = []
    stack: List[Any] = [exc]
    while stack and len(out) < 20:
        current = stack.pop()
        if not isinstance(current, BaseException) or any(current is e for e in out):
            continue
        out.append(current)
        stack.extend(a for a in getattr(current, "args", ()) if isinstance(a, BaseException))
        for attr in ("reason", "__cause__", "__context__"):
            value = getattr(current, attr, None)
            if isinstance(value, BaseException):
                stack.append(value)
    return out


def is_connect_failure(exc: BaseException) -> bool:
    """True when the request surely never reached the server (refused, DNS, no route, connect timeout)."""
    for item in _chain(exc):
        name = type(item).__name__
        if name in ("NewConnectionError", "NameResolutionError", "ConnectTimeoutError", "gaierror"):
            return True
        if isinstance(item, (ConnectionRefusedError,)):
            return True
        if isinstance(item, OSError) and getattr(item, "errno", None) in (101, 110, 111, 113):
            return True
    return False


def os_words(exc: BaseException) -> Optional[str]:
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror.lower()
    name = type(exc).__name__
    if name == "RemoteDisconnected":
        return "the server closed the connection without answering"
    if name == "IncompleteRead":
        return "the answer was cut off"
    return None


# ---------------------------------------------------------------------------------------------
# the watchdog of one attempt
# ---------------------------------------------------------------------------------------------

CURRENT = threading.local()


class Watchdog:
    """Shuts the attempt's sockets down when it runs past ``seconds`` (a reply dripping byte by byte
    defeats a per-read timeout); the blocked read then fails at once."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.expired = False
        self._sockets: List[Any] = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(seconds, self._fire)
        self._timer.daemon = True

    def start(self) -> None:
        self._timer.start()

    def cancel(self) -> None:
        self._timer.cancel()

    def register(self, sock: Any) -> None:
        with self._lock:
            self._sockets.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)

    def _fire(self) -> None:
        with self._lock:
            self.expired = True
            sockets = list(self._sockets)
        for sock in sockets:
            _shutdown(sock)


def _shutdown(sock: Any) -> None:
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, AttributeError, ValueError):
        pass


def _register_socket(connection: Any) -> None:
    watchdog = getattr(CURRENT, "watchdog", None)
    sock = getattr(connection, "sock", None)
    if watchdog is not None and sock is not None:
        watchdog.register(sock)


if HAS_REQUESTS:
    class _WatchedHTTPConnection(urllib3.connection.HTTPConnection):
        def connect(self) -> None:
            super().connect()
            _register_socket(self)

    class _WatchedHTTPSConnection(urllib3.connection.HTTPSConnection):
        def connect(self) -> None:
            super().connect()
            _register_socket(self)

    class _WatchedHTTPPool(urllib3.connectionpool.HTTPConnectionPool):
        ConnectionCls = _WatchedHTTPConnection

    class _WatchedHTTPSPool(urllib3.connectionpool.HTTPSConnectionPool):
        ConnectionCls = _WatchedHTTPSConnection

    class WatchedAdapter(requests.adapters.HTTPAdapter):
        """requests' adapter whose connections report their socket to the attempt's watchdog."""

        def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
            super().init_poolmanager(*args, **kwargs)
            _watch_pools(self.poolmanager)

        def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
            manager = super().proxy_manager_for(proxy, **proxy_kwargs)
            if type(manager).__name__ == "ProxyManager":  # not SOCKS: it has its own pools
                _watch_pools(manager)
            return manager


def _watch_pools(manager: Any) -> None:
    classes = dict(getattr(manager, "pool_classes_by_scheme", {}) or {})
    classes.update({"http": _WatchedHTTPPool, "https": _WatchedHTTPSPool})
    manager.pool_classes_by_scheme = classes

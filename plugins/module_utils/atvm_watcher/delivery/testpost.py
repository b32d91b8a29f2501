# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The test post: one short line through an incoming webhook, answered within seconds.

Used by the install (module ``webhook_test``) before anything is installed, and by
``atvm-run-watcher check-config --send-test``. It tells three failures apart, each in plain words:

- *not a URL*: the webhook is not an ``http(s)://HOST/...`` URL; said before any network;
- *cannot reach*: no answer from the server (the host name does not resolve, the connection is
  refused or times out, TLS fails); one attempt, no retries: a wrong host fails at once;
- *refused*: the server answered no (a 4xx with Mattermost's own error words, a redirect, 501).

A server that answered but could not take the post (5xx, 429, a 200 that is not Mattermost's
``ok``) is reported as such. Standard library only (``urllib``), so it runs on a controller before
the watcher's libraries are installed; proxies come from the environment, as for the watcher. The
webhook URL and its hook id never appear in a result: only the scheme, host and port are named.
"""
from __future__ import annotations

import dataclasses
import json
import socket
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from typing import Any, Callable, Optional

from .. import __version__
from ..safetext import redact
from . import wire

SENT = "sent"
NOT_URL = "not_url"
UNREACHABLE = "unreachable"
REFUSED = "refused"
SERVER_ERROR = "server_error"


@dataclasses.dataclass
class TestPostResult:
    """What the test post came to: ``outcome`` (sent, not_url, unreachable, refused, server_error) and why."""

    __test__ = False  # not a pytest test class

    outcome: str
    reason: str
    status: Optional[int] = None
    elapsed: float = 0.0

    @property
    def ok(self) -> bool:
        return self.outcome == SENT

    def to_dict(self) -> dict:
        return dict(dataclasses.asdict(self), ok=self.ok)


def url_problem(webhook: Any) -> Optional[str]:
    """Why ``webhook`` is not an incoming webhook URL (without repeating it), or None."""
    if not isinstance(webhook, str) or not webhook.strip():
        return "the webhook is empty"
    if webhook != webhook.strip() or any(ch.isspace() or ord(ch) < 32 for ch in webhook):
        return "the webhook URL holds blanks or control characters"
    try:
        parts = urllib.parse.urlsplit(webhook)
        port = parts.port
    except ValueError as exc:
        return "the webhook is not a valid URL ({0})".format(str(exc).split(":", maxsplit=1)[0])
    if parts.scheme.lower() not in ("http", "https"):
        return "the webhook is not an http(s) URL ({0})".format(
            "its scheme is {0}:".format(parts.scheme) if parts.scheme and parts.scheme.isalpha()
            else "no http:// or https:// in front")
    if not parts.hostname:
        return "the webhook URL has no host name"
    if port == 0:
        return "the webhook URL has port 0"
    if not parts.path.strip("/"):
        return "the webhook URL has no path (an incoming webhook is https://HOST/hooks/ID)"
    return None


def server_of(webhook: str) -> str:
    """``scheme://host[:port]`` of the webhook: what may be named (never the path, which holds the hook id)."""
    parts = urllib.parse.urlsplit(webhook)
    host = parts.hostname or "?"
    if ":" in host:
        host = "[{0}]".format(host)
    return "{0}://{1}{2}".format(parts.scheme.lower(), host, ":{0}".format(parts.port) if parts.port else "")


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    """A redirect is an answer to report (the URL needs fixing), never followed with the post."""

    def redirect_request(self, req, fp, code, msg, headers, newurl):  # noqa: D102 - urllib's signature
        return None


def _opener() -> urllib.request.OpenerDirector:
    return urllib.request.build_opener(_NoRedirect())


def _unreachable_words(reason: Any) -> str:
    if isinstance(reason, socket.gaierror):
        return "the host name does not resolve"
    if isinstance(reason, ssl.SSLCertVerificationError):
        return "its TLS certificate is not trusted ({0})".format(getattr(reason, "verify_message", "") or "verify failed")
    if isinstance(reason, ssl.SSLError):
        return "the TLS handshake failed ({0})".format(reason.reason or reason.__class__.__name__)
    if isinstance(reason, ConnectionRefusedError):
        return "the connection was refused (nothing listens on that port)"
    if isinstance(reason, (socket.timeout, TimeoutError)):
        return "no connection within the time limit"
    if isinstance(reason, OSError) and reason.strerror:
        return reason.strerror.lower()
    return str(reason) or reason.__class__.__name__


def _answer(status: int, content_type: str, body: bytes) -> TestPostResult:
    """What the server's answer means (the words of the watcher's own delivery)."""
    if status == 200 and body == b"ok":
        return TestPostResult(SENT, "HTTP 200 ok", status)
    if 200 <= status < 300:
        return TestPostResult(SERVER_ERROR, "HTTP {0} but the answer is not Mattermost's 'ok' (probably a proxy or a "
                                            "login page answered, not Mattermost)".format(status), status)
    error_id, inner_id = wire.parse_error_body(body) if content_type == "application/json" else (None, None)
    words = wire.ERROR_WORDS.get(inner_id or "") or wire.STATUS_WORDS.get(status) or wire.STATUS_WORDS.get(
        status // 100 * 100, "unexpected answer")
    label = "HTTP {0}".format(status) + (" " + (inner_id or error_id) if inner_id or error_id else "")
    if 300 <= status < 400:
        return TestPostResult(REFUSED, "{0}: {1} (permanent)".format(label, wire.STATUS_WORDS[300]), status)
    if status in wire.RETRY_CLEAN or status >= 500 and status != 501:
        return TestPostResult(SERVER_ERROR, "{0}: {1}; try again later".format(label, words), status)
    return TestPostResult(REFUSED, "{0}: {1} (permanent)".format(label, words), status)


def send_test_post(webhook: str, text: str, channel: Optional[str] = None, username: Optional[str] = None,
                   timeout: float = 10.0, opener: Optional[urllib.request.OpenerDirector] = None,
                   clock: Callable[[], float] = time.monotonic) -> TestPostResult:
    """Post ``text`` once; never raises for network or server trouble, and never names the hook."""
    started = clock()
    problem = url_problem(webhook)
    if problem:
        return TestPostResult(NOT_URL, problem)
    server = server_of(webhook)
    body = {"text": redact(text, [webhook])}
    if channel:
        body["channel"] = channel
    if username:
        body["username"] = username
    request = urllib.request.Request(webhook, data=json.dumps(body, ensure_ascii=False).encode("utf-8"), method="POST",
                                     headers={"Content-Type": "application/json", "Accept": "*/*",
                                              "User-Agent": "atvm-watcher/{0}".format(__version__)})
    try:
        with (opener or _opener()).open(request, timeout=timeout) as response:
            result = _answer(response.status, _content_type(response.headers), response.read(65536))
    except urllib.error.HTTPError as exc:
        with exc:
            result = _answer(exc.code, _content_type(exc.headers), exc.read(65536) if exc.fp else b"")
    except urllib.error.URLError as exc:
        result = TestPostResult(UNREACHABLE, "cannot reach the Mattermost server {0}: {1}".format(
            server, _unreachable_words(exc.reason)))
    except (socket.timeout, TimeoutError):
        result = TestPostResult(UNREACHABLE, "no answer from the Mattermost server {0} within {1:g} s (the post may "
                                             "exist)".format(server, timeout))
    except (OSError, ValueError) as exc:
        result = TestPostResult(UNREACHABLE, "cannot reach the Mattermost server {0}: {1}".format(
            server, _unreachable_words(exc)))
    result.reason = redact(result.reason, [webhook])
    result.elapsed = clock() - started
    return result


def _content_type(headers: Any) -> str:
    return ((headers.get("Content-Type") if headers is not None else "") or "").split(";", 1)[0].strip().lower()

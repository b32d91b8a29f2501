# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A local double of a Mattermost server's incoming webhooks (standard library only).

It answers exactly as ``docs/decision-rules.md`` (delivery contract) describes the real server
(``server/channels/web/webhook.go`` and ``app/webhook.go``): 200 ``text/plain`` ``ok`` with
``X-Request-Id`` / ``X-Version-Id``; JSON errors wrapped the way newer servers wrap them (outer id
``web.incoming_webhook.general.app_error``, ``detailed_error`` empty unless developer mode, or the
inner id on top with ``old_server``); 429 ``text/plain`` ``limit exceeded\\n``; a GET on a hook path
is the web app's HTML page; text over the post size limit is split into several posts.

It can be told to fail: 5xx for N requests (optionally after the post was created), 429 with
``Retry-After`` for N requests, a delay (the post is recorded after it), a 200 HTML login page, a
dropped connection. Every accepted post is kept in memory and appended to a JSONL record file.

In-process::

    double = MattermostDouble(hook_ids=("abc123def456ghi789jkl012mn",)).start()
    url = double.url_for("abc123def456ghi789jkl012mn")
    ...
    double.stop()

From the command line (prints only ``listening on HOST:PORT``; hook ids are never printed)::

    python3 tests/support/mattermost_double.py --port 0 --port-file F --hook-id ID --record posts.jsonl

Control endpoints (for a test in another process or a container): ``POST /_control/faults``
(JSON object of fault fields, merged), ``GET /_control/faults``, ``GET /_control/posts``,
``GET /_control/requests``, ``POST /_control/reset``. Outside the process, posts name their hook
as ``hook-<n>`` (1-based position in ``hook_ids``), never by its id.
"""
# No ``from __future__ import annotations`` here: the file is also loaded by path (importlib)
# without a sys.modules entry, and dataclasses then need evaluated annotations.

import argparse
import dataclasses
import datetime
import json
import math
import os
import random
import re
import signal
import socket
import string
import sys
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, Iterable, List, Optional, Tuple

VERSION_ID = "10.11.0.10.11.0.7b3f1d2c9a8e4f5b6c7d8e9f0a1b2c3d.false"
MAX_POST_RUNES = 16383
MAX_PROPS_RUNES = 760000
HOOK_PATH_RE = re.compile(r"^/hooks/([A-Za-z0-9]+)$")
_ALLOWED_TYPES = ("", "slack_attachment")

WEBAPP_PAGE = (
    "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\">"
    "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1,maximum-scale=1\">"
    "<meta name=\"robots\" content=\"noindex, nofollow\"><title>Mattermost</title></head>"
    "<body class=\"font--open_sans enable-animations\"><noscript>To use Mattermost, please enable "
    "JavaScript.</noscript><div id=\"root\"></div><div id=\"root-portal\"></div></body></html>"
).encode("utf-8")

LOGIN_PAGE = (
    "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>Sign in - Corporate SSO</title></head>"
    "<body><form method=\"post\" action=\"/sso/login\"><h1>Sign in</h1>"
    "<input name=\"username\"><input name=\"password\" type=\"password\"><button>Sign in</button>"
    "</form></body></html>\n"
).encode("utf-8")

_PROXY_TITLES = {500: "500 Internal Server Error", 502: "502 Bad Gateway", 503: "503 Service Temporarily Unavailable",
                 504: "504 Gateway Time-out"}

# the server's English messages (server/i18n/en.json)
MESSAGES = {
    "web.incoming_webhook.general.app_error":
        "Failed to handle the payload of media type {media_type} for incoming webhook {hook_id}.",
    "web.incoming_webhook.decode.app_error":
        "Failed to decode the payload of media type {media_type} for incoming webhook {hook_id}.",
    "web.incoming_webhook.media_type.app_error": "Failed to parse media incoming webhook {hook_id}.",
    "web.incoming_webhook.parse_form.app_error": "Failed to parse form for webhook {hook_id}.",
    "web.incoming_webhook.parse_multipart.app_error": "Failed to parse multipart form for webhook {hook_id}.",
    "web.incoming_webhook.parse.app_error": "Unable to parse incoming data.",
    "web.incoming_webhook.disabled.app_error": "Incoming webhooks have been disabled by the system admin.",
    "web.incoming_webhook.text.app_error": "No text specified.",
    "web.incoming_webhook.invalid.app_error": "Invalid webhook.",
    "web.incoming_webhook.user.app_error": "Couldn't find the user {user}",
    "web.incoming_webhook.channel.app_error": "Couldn't find the channel.",
    "web.incoming_webhook.channel_locked.app_error":
        "This webhook is not permitted to post to the requested channel {channel_id}",
    "web.incoming_webhook.permissions.app_error":
        "User {user} does not have appropriate permissions to channel {channel}",
    "web.incoming_webhook.split_props_length.app_error": "Unable to split webhook props into {max} character parts.",
    "api.post.create_webhook_post.creating.app_error": "Failed to create post.",
    "api.context.invalid_param.app_error": "Invalid or missing {name} parameter in request URL.",
    "api.context.404.app_error": "Sorry, we could not find the page.",
}


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


def new_id() -> str:
    """A Mattermost-style id: 26 lower-case letters and digits."""
    return "".join(random.choice(string.ascii_lowercase + string.digits) for dummy in range(26))


@dataclasses.dataclass
class Faults:
    """What the double does wrong (counters count POST requests to a hook path, then stop)."""

    fail_5xx: int = 0  # answer fail_status for the next N requests
    fail_status: int = 503
    fail_after_create: bool = False  # the 5xx comes after the post was recorded (ambiguous case)
    rate_limit: int = 0  # answer 429 for the next N requests
    retry_after: int = 1  # Retry-After seconds of those 429s
    delay: float = 0.0  # sleep this long before handling (the post is recorded after the sleep)
    delay_count: Optional[int] = None  # delay only the next N requests (None: every request)
    wrong_body: int = 0  # 200 text/html login page (a proxy), nothing recorded, for N requests
    wrong_body_text: str = ""  # with wrong_body: answer 200 text/plain with this body instead of the page
    wrong_body_after_create: bool = False  # with wrong_body: the post is recorded first (a proxy rewrote "ok")
    drip: int = 0  # answer the next N requests one header byte every drip_interval s (never finishing)
    drip_interval: float = 1.5
    drip_for: float = 60.0  # the server gives up dripping after this long (no immortal threads)
    drop: int = 0  # close the connection without an answer, for N requests
    drop_after_create: bool = False  # drop after the post was recorded
    ratelimit_server: bool = False  # the server's own rate limiter (10/s, burst 100, per address)
    ratelimit_per_sec: float = 10.0
    ratelimit_burst: int = 100
    disabled: bool = False  # incoming webhooks disabled (501)
    developer_mode: bool = False  # detailed_error filled in
    old_server: bool = False  # the inner error id on top (older servers), not wrapped

    def update(self, values: Dict[str, Any]) -> None:
        names = {f.name: f for f in dataclasses.fields(self)}
        unknown = sorted(set(values) - set(names))
        if unknown:
            raise ValueError("unknown fault field(s): {0}".format(", ".join(unknown)))
        for key, value in values.items():
            current = getattr(self, key)
            if key == "delay_count":
                value = None if value is None else int(value)
            elif isinstance(current, bool):
                if not isinstance(value, bool):
                    raise ValueError("{0} must be true or false".format(key))
            elif isinstance(current, int):
                value = int(value)
            elif isinstance(current, float):
                value = float(value)
            setattr(self, key, value)

    def to_dict(self) -> Dict[str, Any]:
        return dataclasses.asdict(self)


class _AppError(Exception):
    """A Mattermost AppError: id, status, template parameters, wrapped error text."""

    def __init__(self, where: str, error_id: str, status: int, params: Optional[Dict[str, Any]] = None,
                 detailed: str = "", wrapped: Optional[str] = None) -> None:
        super().__init__(error_id)
        self.where = where
        self.id = error_id
        self.status = status
        self.params = params or {}
        self.detailed = detailed
        self.wrapped = wrapped

    @property
    def message(self) -> str:
        template = MESSAGES.get(self.id, self.id)
        try:
            return template.format(**dict(self.params.items()))
        except (KeyError, IndexError):
            return template

    def error_text(self) -> str:
        """Go's AppError.Error(): where: message, detailed, wrapped."""
        out = "{0}: {1}".format(self.where, self.message)
        if self.detailed:
            out += ", " + self.detailed
        if self.wrapped:
            out += ", " + self.wrapped
        return out

    def detailed_json(self) -> str:
        out = self.detailed
        if self.wrapped:
            out = (out + ", " if out else "") + self.wrapped
        return out


class _Drop(Exception):
    """Close the connection without answering."""


class _LockedHook:
    def __init__(self, hook_id: str, channel: str, locked: bool) -> None:
        self.id = hook_id
        self.channel = channel
        self.locked = locked


class MattermostDouble:
    """The double's state and server. Thread-safe; ``posts`` and ``requests`` are live lists."""

    def __init__(self, host: str = "127.0.0.1", port: int = 0, hook_ids: Iterable[str] = ("atvmdoublehook0000000000001",),
                 channels: Iterable[str] = ("town-square", "off-topic", "atvm-runs"),
                 users: Iterable[str] = ("sysadmin", "atvm-operator"), record_path: Optional[str] = None,
                 locked_channel: Optional[str] = None, private_channels: Iterable[str] = (),
                 max_post_runes: int = MAX_POST_RUNES, max_json_body: Optional[int] = None,
                 max_props_runes: int = MAX_PROPS_RUNES,
                 faults: Optional[Faults] = None, **fault_values: Any) -> None:
        self.host = host
        self._requested_port = port
        self.hook_ids = list(hook_ids)
        for hook in self.hook_ids:
            if not re.fullmatch(r"[A-Za-z0-9]+", hook):
                raise ValueError("a hook id is letters and digits only")
        self.channels = [c.lstrip("#") for c in channels]
        self.private_channels = [c.lstrip("#") for c in private_channels]
        self.users = list(users)
        self.record_path = record_path
        self.locked_channel = locked_channel.lstrip("#") if locked_channel else None
        default_channel = self.locked_channel or (self.channels[0] if self.channels else "town-square")
        self.hooks = {h: _LockedHook(h, default_channel, bool(self.locked_channel)) for h in self.hook_ids}
        self.max_post_runes = int(max_post_runes)
        self.max_json_body = max_json_body
        self.max_props_runes = int(max_props_runes)
        self.faults = faults or Faults()
        if fault_values:
            self.faults.update(fault_values)
        self.posts: List[Dict[str, Any]] = []
        self.requests: List[Dict[str, Any]] = []
        self.errors: List[str] = []
        self._lock = threading.RLock()
        self._buckets: Dict[str, Tuple[float, float]] = {}
        self._server: Optional[ThreadingHTTPServer] = None
        self._port: Optional[int] = None
        self._thread: Optional[threading.Thread] = None

    # ---- lifecycle ----
    def start(self) -> "MattermostDouble":
        server = _Server((self.host, self._requested_port), _Handler)
        server.double = self
        self._server = server
        self._port = int(server.server_address[1])
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.01},
                                        name="mattermost-double", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def __enter__(self) -> "MattermostDouble":
        return self.start()

    def __exit__(self, *exc: Any) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("the double was never started")
        return self._port

    @property
    def base_url(self) -> str:
        return "http://{0}:{1}".format(self.host, self.port)

    def url_for(self, hook_id: str) -> str:
        return "{0}/hooks/{1}".format(self.base_url, hook_id)

    # ---- faults and records ----
    def set_faults(self, **values: Any) -> Dict[str, Any]:
        with self._lock:
            self.faults.update(values)
            return self.faults.to_dict()

    def reset(self) -> None:
        with self._lock:
            self.posts.clear()
            self.requests.clear()
            self.errors.clear()
            self.faults = Faults()
            self._buckets.clear()

    def hook_ref(self, hook_id: Optional[str]) -> str:
        if hook_id in self.hook_ids:
            return "hook-{0}".format(self.hook_ids.index(hook_id) + 1)
        return "unknown-hook"

    def public_post(self, post: Dict[str, Any]) -> Dict[str, Any]:
        return {k: v for k, v in post.items() if k != "hook_id"}

    def public_posts(self) -> List[Dict[str, Any]]:
        with self._lock:
            return [self.public_post(p) for p in self.posts]

    def texts(self) -> List[str]:
        with self._lock:
            return [p["text"] for p in self.posts]

    def wait_for_posts(self, count: int, timeout: float = 5.0) -> List[Dict[str, Any]]:
        """Wait until at least ``count`` posts were recorded (or the timeout); returns the posts."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            with self._lock:
                if len(self.posts) >= count:
                    return list(self.posts)
            time.sleep(0.01)
        with self._lock:
            return list(self.posts)

    def _record(self, posts: List[Dict[str, Any]]) -> None:
        with self._lock:
            self.posts.extend(posts)
            if self.record_path:
                with open(self.record_path, "a", encoding="utf-8") as handle:
                    for post in posts:
                        handle.write(json.dumps(self.public_post(post), ensure_ascii=False) + "\n")
                    handle.flush()
                    os.fsync(handle.fileno())

    def _log_request(self, entry: Dict[str, Any]) -> None:
        with self._lock:
            self.requests.append(entry)

    def _take(self, name: str) -> bool:
        """Consume one unit of a counted fault."""
        with self._lock:
            value = getattr(self.faults, name)
            if value and value > 0:
                setattr(self.faults, name, value - 1)
                return True
            return False

    def _take_delay(self) -> float:
        with self._lock:
            if self.faults.delay <= 0:
                return 0.0
            if self.faults.delay_count is None:
                return self.faults.delay
            if self.faults.delay_count > 0:
                self.faults.delay_count -= 1
                return self.faults.delay
            return 0.0

    def _rate_limited(self, address: str) -> Optional[Dict[str, str]]:
        """The server's limiter (GCRA-like token bucket); the 429 headers when denied."""
        with self._lock:
            if not self.faults.ratelimit_server:
                return None
            rate = max(self.faults.ratelimit_per_sec, 0.001)
            burst = max(int(self.faults.ratelimit_burst), 0) + 1
            now = time.monotonic()
            tokens, last = self._buckets.get(address, (float(burst), now))
            tokens = min(float(burst), tokens + (now - last) * rate)
            if tokens >= 1.0:
                self._buckets[address] = (tokens - 1.0, now)
                return None
            self._buckets[address] = (tokens, now)
            wait = int(math.ceil((1.0 - tokens) / rate))
            return {"Retry-After": str(max(wait, 1)), "X-RateLimit-Limit": str(burst),
                    "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(max(wait, 1))}

    # ---- the webhook itself (app/webhook.go HandleIncomingWebhook + CreateWebhookPost) ----
    def handle_incoming(self, hook_id: str, req: Dict[str, Any], request_id: str) -> List[Dict[str, Any]]:
        """Validate as the server does; returns the posts to record, or raises _AppError."""
        where = "HandleIncomingWebhook"
        if self.faults.disabled:
            raise _AppError(where, "web.incoming_webhook.disabled.app_error", 501)
        text = req.get("text") or ""
        attachments = req.get("attachments") or None  # [] and [null] count as no attachments
        if text == "" and attachments is None:
            raise _AppError(where, "web.incoming_webhook.text.app_error", 400, {"hook_id": hook_id})
        hook = self.hooks.get(hook_id)
        if hook is None:
            raise _AppError(where, "web.incoming_webhook.invalid.app_error", 400, {"hook_id": hook_id},
                            wrapped="resource: IncomingWebhook id: {0}".format(hook_id))
        channel_name = req.get("channel") or ""
        if channel_name.startswith("@"):
            user = channel_name[1:]
            if user not in self.users:
                raise _AppError(where, "web.incoming_webhook.user.app_error", 400, {"hook_id": hook_id, "user": ""},
                                wrapped="resource: User id: username={0}".format(user))
            channel = "@" + user
        elif channel_name:
            name = channel_name[1:] if channel_name.startswith("#") else channel_name
            if name not in self.channels and name not in self.private_channels:
                raise _AppError(where, "web.incoming_webhook.channel.app_error", 404,
                                wrapped="resource: Channel id: name={0}".format(name))
            channel = name
        else:
            channel = hook.channel
        if hook.locked and channel != hook.channel:
            raise _AppError(where, "web.incoming_webhook.channel_locked.app_error", 403,
                            {"hook_id": hook_id, "channel_id": hook.channel})
        if channel in self.private_channels:
            raise _AppError(where, "web.incoming_webhook.permissions.app_error", 403,
                            {"hook_id": hook_id, "user": "", "channel": ""})
        # CreateWebhookPost
        where = "CreateWebhookPost"
        priority = req.get("priority")
        if priority is not None and priority.get("priority") is None:
            raise _AppError(where, "api.context.invalid_param.app_error", 400, {"name": "webhook.priority.priority"},
                            detailed="Setting the priority of a post is required to use priority.")
        post_type = req.get("type") or ""
        if attachments:
            post_type = "slack_attachment"
        if post_type.startswith("system_"):
            raise _AppError(where, "api.context.invalid_param.app_error", 400, {"name": "post.type"})
        props = stored_props(req.get("props"))
        if props_runes(props) > self.max_props_runes:
            raise _AppError("SplitWebhookPost", "web.incoming_webhook.split_props_length.app_error", 400,
                            {"max": self.max_props_runes})
        groups = split_attachments(props, attachments or [], self.max_props_runes)
        if post_type not in _ALLOWED_TYPES and not post_type.startswith("custom_"):
            raise _AppError(where, "api.post.create_webhook_post.creating.app_error", 500,
                            detailed="err=Invalid post type.")
        message = _process_slack_text(text)
        parts = [message[i:i + self.max_post_runes] for i in range(0, len(message), self.max_post_runes)] or [""]
        # the attachments go onto the last text part; those that do not fit there start new posts
        texts = parts + [""] * (len(groups) - 1)
        where_attached = {len(parts) - 1 + n: group for n, group in enumerate(groups)}
        warnings = attachment_warnings(attachments or [])
        received = _now()
        posts = []
        for number, part in enumerate(texts, 1):
            posts.append({
                "text": part, "channel": channel, "username": req.get("username") or None,
                "icon_url": req.get("icon_url") or None, "icon_emoji": req.get("icon_emoji") or None,
                "type": post_type or None, "props": props or None,
                "attachments": where_attached.get(number - 1) or None,
                "priority": priority, "warnings": warnings, "received_at": received, "hook_id": hook_id,
                "hook": self.hook_ref(hook_id), "request_id": request_id, "part": number, "parts": len(texts),
            })
        return posts


def _process_slack_text(text: str) -> str:
    for announcement in ("channel", "here", "all"):
        text = text.replace("<!{0}>".format(announcement), "@" + announcement)
    return re.sub(r"<([^\n<|>]+)\|([^|\n>]+)>", r"[\2](\1)", text)


# ---------------------------------------------------------------------------------------------
# rich posts (reference/mattermost-rich-posts.md): attachments, props, priority
# ---------------------------------------------------------------------------------------------

_ATTACHMENT_STRINGS = ("fallback", "color", "pretext", "author_name", "author_link", "author_icon", "title",
                       "title_link", "text", "image_url", "thumb_url", "footer", "footer_icon")
_ATTACHMENT_KEYS = _ATTACHMENT_STRINGS + ("fields", "actions", "id", "ts")
_ATTACHMENT_URLS = ("author_link", "author_icon", "title_link", "image_url", "thumb_url", "footer_icon")
# props a client may not set: dropped (webhook_display_name is the hook's own)
_RESERVED_PROPS = ("attachments", "override_icon_url", "override_username", "from_webhook", "webhook_display_name")
_COLOR_RE = re.compile(r"^#[0-9A-Fa-f]{6}$")


def _go_key(obj: Dict[str, Any], names: Iterable[str]) -> Dict[str, Any]:
    """Go's case-insensitive match of JSON keys onto struct fields (an exact match wins)."""
    out: Dict[str, Any] = {}
    names = tuple(names)
    for key, value in obj.items():
        field = key if key in names else next((n for n in names if n == key.lower()), None)
        if field is not None and (field not in out or field == key):
            out[field] = value
    return out


def _slack_bool(value: Any, where: str) -> bool:
    """model.SlackCompatibleBool: true, false, "true", "false" (any case); anything else fails decoding."""
    if isinstance(value, bool):
        return value
    if isinstance(value, str) and value.lower() in ("true", "false"):
        return value.lower() == "true"
    raise _DecodeError("json: cannot unmarshal {0} into Go struct field {1} of type model.SlackCompatibleBool".format(
        _go_type(value), where))


def _go_string(value: Any) -> str:
    """How the server turns a field value into a string (fmt's %v, roughly)."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    if isinstance(value, (int, float)):
        return repr(value)
    if isinstance(value, list):
        return "[" + " ".join(_go_string(v) for v in value) + "]"
    if isinstance(value, dict):
        return "map[" + " ".join("{0}:{1}".format(k, _go_string(v)) for k, v in sorted(value.items())) + "]"
    return "<nil>"


def decode_attachment(raw: Dict[str, Any]) -> Dict[str, Any]:
    """One attachment as the server decodes and stores it; a wrong JSON type fails decoding (400)."""
    att = _go_key(raw, _ATTACHMENT_KEYS)
    for key in _ATTACHMENT_STRINGS:
        if key in att and att[key] is not None and not isinstance(att[key], str):
            raise _DecodeError("json: cannot unmarshal {0} into Go struct field SlackAttachment.attachments.{1} of "
                               "type string".format(_go_type(att[key]), key))
    if att.get("id") is not None and (isinstance(att["id"], bool) or not isinstance(att["id"], (int, float))
                                      or not float(att["id"]).is_integer()):
        raise _DecodeError("json: cannot unmarshal {0} into Go struct field SlackAttachment.attachments.id of type "
                           "int64".format(_go_type(att["id"])))
    if att.get("actions") is not None and (not isinstance(att["actions"], list) or any(
            a is not None and not isinstance(a, dict) for a in att["actions"])):
        raise _DecodeError("json: cannot unmarshal {0} into Go struct field SlackAttachment.attachments.actions of "
                           "type []*model.PostAction".format(_go_type(att["actions"])))
    fields = att.get("fields")
    if fields is not None:
        if not isinstance(fields, list) or any(f is not None and not isinstance(f, dict) for f in fields):
            raise _DecodeError("json: cannot unmarshal {0} into Go struct field SlackAttachment.attachments.fields of "
                               "type []*model.SlackAttachmentField".format(_go_type(fields)))
        decoded = []
        for item in fields:
            if item is None:
                continue  # nil entries are dropped
            field = _go_key(item, ("title", "value", "short"))
            if field.get("title") is not None and not isinstance(field["title"], str):
                raise _DecodeError("json: cannot unmarshal {0} into Go struct field SlackAttachmentField.attachments."
                                   "fields.title of type string".format(_go_type(field["title"])))
            short = _slack_bool(field["short"], "SlackAttachmentField.attachments.fields.short") \
                if "short" in field else False
            decoded.append({"title": field.get("title") or "", "value": _go_string(field.get("value")),
                            "short": short})
        att["fields"] = decoded
    return {k: v for k, v in att.items() if v is not None}


def attachment_warnings(attachments: List[Dict[str, Any]]) -> List[str]:
    """MessageAttachment.IsValid: what the server only logs (the post is still created, 200 ok)."""
    warnings = []
    for number, att in enumerate(attachments, 1):
        where = "attachment {0}".format(number)
        color = att.get("color")
        if color and color not in ("good", "warning", "danger") and not _COLOR_RE.match(color):
            warnings.append("{0}: invalid color {1!r}".format(where, color))
        for key in _ATTACHMENT_URLS:
            value = att.get(key)
            if value and not re.match(r"^https?://[^\s/]+", value):
                warnings.append("{0}: {1} is not an http(s) URL".format(where, key))
        if att.get("author_link") and not att.get("author_name"):
            warnings.append("{0}: author_link without author_name".format(where))
        if att.get("title_link") and not att.get("title"):
            warnings.append("{0}: title_link without title".format(where))
        ts = att.get("ts")
        if ts is not None and (isinstance(ts, bool) or not isinstance(ts, (str, int, float))):
            warnings.append("{0}: ts is neither a string nor a number".format(where))
    return warnings


def stored_props(props: Optional[Dict[str, Any]]) -> Dict[str, Any]:
    """The client's props as the server keeps them (reserved keys dropped)."""
    return {k: v for k, v in (props or {}).items() if k not in _RESERVED_PROPS}


def props_runes(props: Dict[str, Any]) -> int:
    """Runes of props serialized as Go's json.Marshal does (<, > and & escaped)."""
    data = json.dumps(props, ensure_ascii=False, separators=(",", ":"))
    return len(data) + 5 * sum(data.count(c) for c in "<>&")


def split_attachments(props: Dict[str, Any], attachments: List[Dict[str, Any]],
                      max_runes: int) -> List[List[Dict[str, Any]]]:
    """splitWebhookPost: attachments in order onto the last part; an attachment that would push the part's
    props over ``max_runes`` starts a new (empty-text) part, or, alone, has its text truncated."""
    groups: List[List[Dict[str, Any]]] = [[]]
    for att in attachments:
        att = dict(att)
        while True:
            size = props_runes(dict(props, attachments=groups[-1] + [att]))
            if size <= max_runes:
                groups[-1].append(att)
                break
            if groups[-1]:
                groups.append([])
                continue
            excess = size - max_runes
            text = att.get("text") or ""
            if excess > len(text):
                raise _AppError("SplitWebhookPost", "web.incoming_webhook.split_props_length.app_error", 400,
                                {"max": max_runes})
            att["text"] = text[:len(text) - excess]
    return groups


# ---------------------------------------------------------------------------------------------
# payload decoding (model.IncomingWebhookRequestFromJSON: Go's encoding/json into a struct)
# ---------------------------------------------------------------------------------------------

_STRING_FIELDS = ("text", "username", "icon_url", "channel", "type", "icon_emoji")
_FIELDS = _STRING_FIELDS + ("props", "attachments", "priority")


class _DecodeError(Exception):
    pass


def _go_type(value: Any) -> str:
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return "null"


def decode_payload(raw: bytes) -> Dict[str, Any]:
    """Decode like Go's json.Decoder into IncomingWebhookRequest (case-insensitive keys, typed fields)."""
    try:
        text = raw.decode("utf-8", "replace")
    except Exception as exc:  # pragma: no cover
        raise _DecodeError(str(exc)) from None
    stripped = text.lstrip(" \t\r\n")
    if not stripped:
        raise _DecodeError("EOF")
    try:
        obj = json.JSONDecoder(strict=False).raw_decode(stripped)[0]
    except json.JSONDecodeError as exc:
        raise _DecodeError("invalid character at offset {0}: {1}".format(exc.pos, exc.msg)) from None
    if obj is None:
        return {}
    if not isinstance(obj, dict):
        raise _DecodeError("json: cannot unmarshal {0} into Go value of type model.IncomingWebhookRequest".format(
            _go_type(obj)))
    out: Dict[str, Any] = {}
    for key, value in obj.items():
        field = next((f for f in _FIELDS if f == key), None) or next((f for f in _FIELDS if f == key.lower()), None)
        if field is None:
            continue
        if value is None:
            out.pop(field, None)
            continue
        if field in _STRING_FIELDS and not isinstance(value, str):
            raise _DecodeError("json: cannot unmarshal {0} into Go struct field IncomingWebhookRequest.{1} of type "
                               "string".format(_go_type(value), field))
        if field == "props" and not isinstance(value, dict):
            raise _DecodeError("json: cannot unmarshal {0} into Go struct field IncomingWebhookRequest.props of type "
                               "model.StringInterface".format(_go_type(value)))
        if field == "attachments":
            if not isinstance(value, list) or any(a is not None and not isinstance(a, dict) for a in value):
                raise _DecodeError("json: cannot unmarshal {0} into Go struct field IncomingWebhookRequest.attachments "
                                   "of type []*model.SlackAttachment".format(_go_type(value)))
            value = [decode_attachment(a) for a in value if a is not None]
        if field == "priority":
            if not isinstance(value, dict):
                raise _DecodeError("json: cannot unmarshal {0} into Go struct field IncomingWebhookRequest.priority "
                                   "of type model.PostPriority".format(_go_type(value)))
            for sub, kind in (("priority", str), ("requested_ack", bool), ("persistent_notifications", bool)):
                if value.get(sub) is not None and not isinstance(value[sub], kind):
                    raise _DecodeError("json: cannot unmarshal {0} into Go struct field PostPriority.{1}".format(
                        _go_type(value[sub]), sub))
        out[field] = value
    return out


_TOKEN_RE = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")


def parse_media_type(value: str) -> str:
    """Go's mime.ParseMediaType, media type only (invalid parameters are tolerated like the server does)."""
    base = value.split(";", 1)[0].strip().lower()
    if "/" not in base:
        if _TOKEN_RE.match(base or "-") and base:
            raise ValueError("mime: expected slash after first token")
        raise ValueError("mime: no media type")
    major, minor = base.split("/", 1)
    if not major or not minor or not _TOKEN_RE.match(major) or not _TOKEN_RE.match(minor):
        raise ValueError("mime: expected token after slash")
    return base


def _form_error(body: str) -> Optional[str]:
    if re.search(r"%(?![0-9A-Fa-f]{2})", body):
        return "invalid URL escape"
    if ";" in body:
        return "invalid semicolon separator in query"
    return None


# ---------------------------------------------------------------------------------------------
# HTTP
# ---------------------------------------------------------------------------------------------


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    double: MattermostDouble

    def handle_error(self, request: Any, client_address: Any) -> None:  # quiet: never print a traceback
        exc = sys.exc_info()[1]
        self.double.errors.append(type(exc).__name__ if exc else "error")


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "MattermostDouble/1.0"
    sys_version = ""
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - never log paths (hook ids)
        return

    @property
    def double(self) -> MattermostDouble:
        return self.server.double

    # ---- I/O helpers ----
    def _read_body(self) -> bytes:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline(3)
            return b"".join(chunks)
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length > 0 else b""

    def _send(self, status: int, body: bytes, content_type: Optional[str], headers: Optional[Dict[str, str]] = None,
              head: bool = False) -> None:
        try:
            self.send_response(status)
            if content_type:
                self.send_header("Content-Type", content_type)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if "close" in (self.headers.get("Connection") or "").lower():
                self.send_header("Connection", "close")  # as Go's net/http answers such a request
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if body and not head:
                self.wfile.write(body)
            self.wfile.flush()
        except (BrokenPipeError, ConnectionResetError, socket.timeout, OSError):
            self.close_connection = True

    def _mm_headers(self, request_id: str) -> Dict[str, str]:
        return {"X-Request-Id": request_id, "X-Version-Id": VERSION_ID}

    def _send_app_error(self, err: _AppError, request_id: str) -> None:
        developer = self.double.faults.developer_mode
        body = {
            "id": err.id, "message": err.message,
            "detailed_error": err.detailed_json() if developer else "",
            "request_id": request_id, "status_code": err.status,
        }
        data = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
        data = data.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
        self._send(err.status, data.encode("utf-8"), "application/json", self._mm_headers(request_id))

    def _json(self, status: int, obj: Any) -> None:
        self._send(status, json.dumps(obj, ensure_ascii=False).encode("utf-8"), "application/json")

    def _path(self) -> Tuple[str, str]:
        parts = urllib.parse.urlsplit(self.path)
        return parts.path, parts.query

    def _log(self, method: str, path: str, status: Optional[int], fault: Optional[str], **extra: Any) -> None:
        """Log the request before it is answered, so a client that got the answer sees the entry."""
        match = HOOK_PATH_RE.match(path)
        shown = "/hooks/" + self.double.hook_ref(match.group(1)) if match else (
            "/hooks/***" if path.startswith("/hooks/") else path)
        entry = {"method": method, "path": shown, "status": status, "fault": fault, "received_at": _now()}
        entry.update(extra)
        self.double._log_request(entry)

    # ---- methods ----
    def do_GET(self) -> None:  # noqa: N802
        self._get(head=False)

    def do_HEAD(self) -> None:  # noqa: N802
        self._get(head=True)

    def _get(self, head: bool) -> None:
        path = self._path()[0]
        double = self.double
        if path == "/_control/posts":
            self._json(200, double.public_posts())
            return
        if path == "/_control/requests":
            with double._lock:
                self._json(200, list(double.requests))
            return
        if path == "/_control/faults":
            with double._lock:
                self._json(200, double.faults.to_dict())
            return
        request_id = new_id()
        limited = double._rate_limited(self.client_address[0])
        if limited is not None:
            self._log("GET", path, 429, "ratelimit-server")
            self._send_limit(limited, request_id)
            return
        if path == "/api/v4/system/ping":
            self._log("GET", path, 200, None)
            self._send(200, b'{"status":"OK"}', "application/json", self._mm_headers(request_id), head=head)
            return
        # the web app's catch-all route: any other GET, hook paths included, is the HTML page
        self._log("GET", path, 200, None)
        self._send(200, WEBAPP_PAGE, "text/html; charset=utf-8", {"Cache-Control": "no-cache, max-age=31556926, public"},
                   head=head)

    def _send_limit(self, headers: Dict[str, str], request_id: str) -> None:
        all_headers = {"X-Content-Type-Options": "nosniff"}
        all_headers.update(headers)
        self._send(429, b"limit exceeded\n", "text/plain; charset=utf-8", all_headers)

    def _method_not_allowed(self) -> None:
        path = self._path()[0]
        self._read_body()
        self._log(self.command, path, 405, None)
        self._send(405, b"", None)

    do_PUT = do_DELETE = do_PATCH = _method_not_allowed  # noqa: N815

    def do_POST(self) -> None:  # noqa: N802
        path, query = self._path()
        double = self.double
        if path.startswith("/_control/"):
            self._control(path)
            return
        body = self._read_body()
        request_id = new_id()
        match = HOOK_PATH_RE.match(path)
        if not match:
            err = _AppError("Handle404", "api.context.404.app_error", 404,
                            detailed="There doesn't appear to be an api call for the url='{0}'.  Typo? are you "
                                     "missing a team_id or user_id as part of the url?".format(
                                         "/hooks/***" if path.startswith("/hooks/") else path))
            data = json.dumps({"id": err.id, "message": err.message, "detailed_error": err.detailed,
                               "request_id": request_id, "status_code": 404}, separators=(",", ":"))
            # the server writes this without a Content-Type: Go sniffs it as text/plain
            self._log("POST", path, 404, None, request_id=request_id)
            self._send(404, data.encode("utf-8"), "text/plain; charset=utf-8", self._mm_headers(request_id))
            return
        hook_id = match.group(1)
        fault: Optional[str] = None
        delay = double._take_delay()
        if delay > 0:
            fault = "delay"
            time.sleep(delay)
        limited = double._rate_limited(self.client_address[0])
        if limited is not None:
            self._log("POST", path, 429, "ratelimit-server", request_id=request_id)
            self._send_limit(limited, request_id)
            return
        if double._take("drop"):
            if double.faults.drop_after_create:
                try:
                    posts = self._process(hook_id, body, query, request_id)
                except (_AppError, _DecodeError):
                    posts = []
                double._record(posts)
            self._log("POST", path, None, "drop", request_id=request_id)
            self._drop()
            return
        if double._take("rate_limit"):
            seconds = str(int(double.faults.retry_after))
            self._log("POST", path, 429, "rate-limit", request_id=request_id)
            self._send_limit({"Retry-After": seconds, "X-RateLimit-Limit": str(double.faults.ratelimit_burst + 1),
                              "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": seconds}, request_id)
            return
        if double._take("fail_5xx"):
            status = int(double.faults.fail_status)
            if double.faults.fail_after_create:
                try:
                    double._record(self._process(hook_id, body, query, request_id))
                except _AppError:
                    pass
            fault = "fail-5xx" + ("-after-create" if double.faults.fail_after_create else "")
            self._log("POST", path, status, fault, request_id=request_id)
            self._send_5xx(status, request_id)
            return
        if double._take("drip"):
            self._log("POST", path, 200, "drip", request_id=request_id)
            self._drip()
            return
        if double._take("wrong_body"):
            if double.faults.wrong_body_after_create:
                try:
                    double._record(self._process(hook_id, body, query, request_id))
                except (_AppError, _DecodeError):
                    pass
            self._log("POST", path, 200, "wrong-body", request_id=request_id)
            if double.faults.wrong_body_text:
                self._send(200, double.faults.wrong_body_text.encode("utf-8"), "text/plain")
            else:
                self._send(200, LOGIN_PAGE, "text/html; charset=utf-8")
            return
        try:
            posts = self._process(hook_id, body, query, request_id)
        except _AppError as err:
            self._log("POST", path, err.status, fault, error_id=err.id, request_id=request_id)
            self._send_app_error(err, request_id)
            return
        double._record(posts)
        self._log("POST", path, 200, fault, posts=len(posts), request_id=request_id)
        self._send(200, b"ok", "text/plain", self._mm_headers(request_id))

    def _send_5xx(self, status: int, request_id: str) -> None:
        if status == 500:
            err = _AppError("CreateWebhookPost", "api.post.create_webhook_post.creating.app_error", 500,
                            detailed="err=Unable to save the post.")
            self._send_app_error(err, request_id)
            return
        title = _PROXY_TITLES.get(status, "{0} Error".format(status))
        page = "<html>\r\n<head><title>{0}</title></head>\r\n<body>\r\n<center><h1>{0}</h1></center>\r\n" \
               "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n".format(title)
        self._send(status, page.encode("ascii"), "text/html")

    def _drip(self) -> None:
        """A status line, then one byte of a header every ``drip_interval`` s: each read gets data in
        time, so only a client that bounds the whole exchange gets away."""
        faults = self.double.faults
        self.close_connection = True
        end = time.monotonic() + faults.drip_for
        try:
            self.wfile.write(b"HTTP/1.1 200 OK\r\nX-Drip: ")
            self.wfile.flush()
            while time.monotonic() < end:
                time.sleep(faults.drip_interval)
                self.wfile.write(b"z")
                self.wfile.flush()
        except OSError:
            return

    def _drop(self) -> None:
        self.close_connection = True
        try:
            self.wfile.flush()
        except OSError:
            pass
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def _process(self, hook_id: str, body: bytes, query: str, request_id: str) -> List[Dict[str, Any]]:
        """web/webhook.go incomingWebhook: parse form, media type, decode, then the app's checks."""
        double = self.double
        ctx = {"hook_id": hook_id, "media_type": ""}
        content_type = self.headers.get("Content-Type")
        media_type = ""
        if query and _form_error(query):
            raise _AppError("incomingWebhook", "web.incoming_webhook.parse_form.app_error", 400, ctx,
                            wrapped=_form_error(query))
        if content_type:
            try:
                media_type = parse_media_type(content_type)
            except ValueError as exc:
                raise _AppError("incomingWebhook", "web.incoming_webhook.media_type.app_error", 400, ctx,
                                wrapped=str(exc)) from None
        ctx["media_type"] = media_type
        try:
            if media_type == "application/x-www-form-urlencoded":
                form_text = body.decode("utf-8", "replace")
                problem = _form_error(form_text)
                if problem:
                    raise _AppError("incomingWebhook", "web.incoming_webhook.parse_form.app_error", 400, ctx,
                                    wrapped=problem)
                form = urllib.parse.parse_qs(form_text, keep_blank_values=True)
                req = decode_payload((form.get("payload") or [""])[0].encode("utf-8"))
            elif media_type == "multipart/form-data":
                req = _decode_multipart(content_type or "", body)
            else:
                if double.max_json_body is not None and len(body) > double.max_json_body:
                    raise _DecodeError("http: request body too large")
                req = decode_payload(body)
        except _DecodeError as exc:
            raise _AppError("incomingWebhook", "web.incoming_webhook.decode.app_error", 400, ctx,
                            wrapped="IncomingWebhookRequestFromJSON: Unable to parse the incoming data., " + str(exc)
                            ) from None
        try:
            return double.handle_incoming(hook_id, req, request_id)
        except _AppError as inner:
            if double.faults.old_server:
                raise
            raise _AppError("incomingWebhook", "web.incoming_webhook.general.app_error", inner.status, ctx,
                            wrapped=inner.error_text()) from None

    # ---- control ----
    def _control(self, path: str) -> None:
        double = self.double
        body = self._read_body()
        if path == "/_control/reset":
            double.reset()
            self._json(200, {"reset": True})
            return
        if path == "/_control/faults":
            try:
                values = json.loads(body.decode("utf-8") or "{}")
                if not isinstance(values, dict):
                    raise ValueError("a JSON object of fault fields is expected")
                current = double.set_faults(**values)
            except (ValueError, TypeError, UnicodeDecodeError) as exc:
                self._json(400, {"error": str(exc)})
                return
            self._json(200, current)
            return
        self._json(404, {"error": "unknown control endpoint"})


def _decode_multipart(content_type: str, body: bytes) -> Dict[str, Any]:
    """multipart/form-data: form fields decoded into the request (gorilla/schema), files ignored."""
    import email.parser
    import email.policy

    message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(
        b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body)
    if not message.is_multipart():
        raise _DecodeError("no multipart boundary param in Content-Type")
    req: Dict[str, Any] = {}
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name in _STRING_FIELDS and not part.get_filename():
            payload = part.get_payload(decode=True) or b""
            req[name] = payload.decode("utf-8", "replace")
    return req


# ---------------------------------------------------------------------------------------------
# command line
# ---------------------------------------------------------------------------------------------


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(description="Mattermost incoming-webhook double (for tests)")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--port-file", help="write the bound port here once listening")
    parser.add_argument("--hook-id", action="append", default=[], help="a valid hook id (repeatable)")
    parser.add_argument("--channel", action="append", default=[], help="a channel name of the team (repeatable)")
    parser.add_argument("--user", action="append", default=[], help="a user name for @user channels (repeatable)")
    parser.add_argument("--private-channel", action="append", default=[],
                        help="a private channel the hook's creator cannot read (403)")
    parser.add_argument("--locked-channel", help="every hook is locked to this channel")
    parser.add_argument("--record", help="append every accepted post to this JSONL file")
    parser.add_argument("--max-post-runes", type=int, default=MAX_POST_RUNES)
    parser.add_argument("--max-json-body", type=int, default=None)
    parser.add_argument("--fail-5xx", type=int, default=0, metavar="N")
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--fail-after-create", action="store_true")
    parser.add_argument("--rate-limit", type=int, default=0, metavar="N")
    parser.add_argument("--retry-after", type=int, default=1, metavar="S")
    parser.add_argument("--delay", type=float, default=0.0, metavar="S")
    parser.add_argument("--delay-count", type=int, default=None, metavar="N")
    parser.add_argument("--wrong-body", type=int, default=0, metavar="N")
    parser.add_argument("--drop", type=int, default=0, metavar="N")
    parser.add_argument("--drop-after-create", action="store_true")
    parser.add_argument("--ratelimit-server", action="store_true")
    parser.add_argument("--disabled", action="store_true")
    parser.add_argument("--developer-mode", action="store_true")
    parser.add_argument("--old-server", action="store_true")
    return parser


def main(argv: Optional[List[str]] = None) -> int:
    args = _parser().parse_args(argv)
    faults = Faults(fail_5xx=args.fail_5xx, fail_status=args.fail_status, fail_after_create=args.fail_after_create,
                    rate_limit=args.rate_limit, retry_after=args.retry_after, delay=args.delay,
                    delay_count=args.delay_count, wrong_body=args.wrong_body, drop=args.drop,
                    drop_after_create=args.drop_after_create, ratelimit_server=args.ratelimit_server,
                    disabled=args.disabled, developer_mode=args.developer_mode, old_server=args.old_server)
    double = MattermostDouble(host=args.host, port=args.port, hook_ids=args.hook_id or ("atvmdoublehook0000000000001",),
                              channels=args.channel or ("town-square", "off-topic", "atvm-runs"),
                              users=args.user or ("sysadmin", "atvm-operator"), record_path=args.record,
                              locked_channel=args.locked_channel, private_channels=args.private_channel,
                              max_post_runes=args.max_post_runes, max_json_body=args.max_json_body, faults=faults)
    double.start()
    stop = threading.Event()

    def _stop(signum: int, frame: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w", encoding="ascii") as handle:
            handle.write("{0}\n".format(double.port))
        os.replace(tmp, args.port_file)
    sys.stdout.write("listening on {0}:{1}\n".format(args.host, double.port))
    sys.stdout.flush()
    while not stop.wait(0.2):
        pass
    double.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())

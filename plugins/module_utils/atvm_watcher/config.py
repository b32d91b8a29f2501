# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings: build-name validation, env files (read, quote, render) and the typed Settings object.

Settings reach the core only as a :class:`Settings` built from a mapping (env file, module
params or CLI flags); nothing deep inside the core reads ``os.environ``.
"""
from __future__ import annotations

import dataclasses
import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

from .errors import BuildNameError, ConfigError
from .fileio import read_regular

BUILD_NAME_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*")
BUILD_NAME_MAX = 100

DEFAULT_STATE_ROOT = "/var/lib/atvm-run-watcher"
DEFAULT_INSTALL_ROOT = "/opt/atvm-watcher-service"
DEFAULT_AUTOMATION_DIR = "/root/cdc-e2e-cyp-12.17.4"
GLOBAL_ENV_FILE = "/etc/atvm-run-watcher.env"
WATCHER_UNIT = "atvm-run-watcher@{0}.service"
RUNNER_UNIT = "atvm-runner@{0}.service"

WEBHOOK_RE = re.compile(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?/hooks/[A-Za-z0-9]+$")
CHANNEL_RE = re.compile(r"^(?:#?[a-z0-9][a-z0-9_-]{0,63}|@[a-z0-9.\-_]{1,64})$")
ENV_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

SECRET_KEYS = ("MATTERMOST_ATVM_WEBHOOK",)

DEFAULT_MARKER_REGEX = r"^\s*=+ ATVM category: (?P<label>[A-Za-z0-9._-]+) =+\s*$"
DEFAULT_HOST_PATTERN = r"(?P<host>[A-Za-z0-9][A-Za-z0-9_-]*)\.(?:cy|spec)\.[cm]?[jt]sx?$"


def validate_build_name(name: Any) -> str:
    """Return ``name`` when it is a safe build name, else raise :class:`BuildNameError`.

    ``[A-Za-z0-9][A-Za-z0-9._-]*``, at most 100 characters, and never ``..``: anything else
    (slashes, spaces, newlines, ``@``) is refused before a path or a unit name is built from it.
    """
    if not isinstance(name, str) or not name:
        raise BuildNameError("invalid build name {0!r}: it must be a non-empty string".format(name))
    if len(name) > BUILD_NAME_MAX:
        raise BuildNameError(
            "invalid build name {0!r}: longer than {1} characters".format(name[:40] + "...", BUILD_NAME_MAX)
        )
    if not BUILD_NAME_RE.fullmatch(name) or ".." in name:
        raise BuildNameError(
            "invalid build name {0!r}: only letters, digits, '.', '_' and '-' are allowed, it must start "
            "with a letter or digit and must not contain '..'".format(name)
        )
    return name


# ---------------------------------------------------------------------------------------------
# env files (systemd EnvironmentFile= syntax, the subset we write and read)
# ---------------------------------------------------------------------------------------------


def quote_env_value(value: Any) -> str:
    """Quote ``value`` for a systemd EnvironmentFile so it stays one variable on one line.

    Newlines and carriage returns are refused outright (a value never needs them); quotes,
    backslashes and ``$`` are escaped inside double quotes.
    """
    text = "" if value is None else str(value)
    if "\n" in text or "\r" in text or "\x00" in text:
        raise ConfigError("an env file value must not contain a newline, carriage return or NUL byte")
    escaped = text.replace("\\", "\\\\").replace('"', '\\"').replace("$", "\\$").replace("`", "\\`")
    return '"{0}"'.format(escaped)


def render_env_file(values: Mapping[str, Any], header: Optional[str] = None) -> str:
    """Render ``values`` as an env file (sorted keys, every value quoted)."""
    lines: List[str] = []
    if header:
        lines.extend("# " + h for h in header.splitlines())
    for key in sorted(values):
        if not ENV_NAME_RE.match(key):
            raise ConfigError("invalid environment variable name {0!r}".format(key))
        value = values[key]
        if value is None:
            continue
        if isinstance(value, bool):
            value = "true" if value else "false"
        lines.append("{0}={1}".format(key, quote_env_value(value)))
    return "\n".join(lines) + "\n"


def _unquote(raw: str, path: str, lineno: int) -> str:
    raw = raw.strip()
    if len(raw) >= 2 and raw[0] == raw[-1] and raw[0] in "\"'":
        body = raw[1:-1]
        if raw[0] == "'":
            return body
        out = []
        i = 0
        while i < len(body):
            ch = body[i]
            if ch == "\\" and i + 1 < len(body):
                out.append(body[i + 1])
                i += 2
                continue
            if ch == '"':
                raise ConfigError("{0}: line {1}: unescaped double quote inside a quoted value".format(path, lineno))
            out.append(ch)
            i += 1
        return "".join(out)
    if raw[:1] in "\"'":
        raise ConfigError("{0}: line {1}: unterminated quoted value".format(path, lineno))
    return raw


def parse_env_text(text: str, path: str = "<env>") -> Dict[str, str]:
    """Parse env file text. Comments (#, ;) and blank lines are skipped; errors name the line."""
    values: Dict[str, str] = {}
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped[0] in "#;":
            continue
        if stripped.startswith("export "):
            stripped = stripped[len("export "):].lstrip()
        key, sep, raw = stripped.partition("=")
        key = key.strip()
        if not sep or not ENV_NAME_RE.match(key):
            raise ConfigError("{0}: line {1}: expected NAME=value".format(path, lineno))
        values[key] = _unquote(raw, path, lineno)
    return values


def read_env_file(path: str) -> Dict[str, str]:
    try:
        data = read_regular(path, 1024 * 1024)[1]
    except OSError as exc:
        raise ConfigError("cannot read env file {0}: {1}".format(path, exc.strerror or exc)) from None
    if len(data) > 1024 * 1024:
        raise ConfigError("cannot read env file {0}: larger than 1 MiB".format(path))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError("cannot read env file {0}: not UTF-8 at byte {1}".format(path, exc.start)) from None
    return parse_env_text(text, path)


def redact(text: str, secrets: Iterable[Optional[str]]) -> str:
    """Replace every secret (and the hook id inside a webhook URL) in ``text`` by ``***``."""
    out = text
    for secret in secrets:
        if not secret:
            continue
        out = out.replace(secret, "***")
        hook_id = secret.rstrip("/").rsplit("/", 1)[-1]
        if len(hook_id) >= 6:
            out = out.replace(hook_id, "***")
    return out


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclasses.dataclass
class Settings:
    """Every setting of the watcher, with its env variable name in ``ENV_MAP``."""

    build_name: Optional[str] = None
    webhook: Optional[str] = dataclasses.field(default=None, repr=False)
    channel: Optional[str] = None
    username: Optional[str] = None
    state_root: str = DEFAULT_STATE_ROOT
    automation_dir: str = DEFAULT_AUTOMATION_DIR
    runner_log: Optional[str] = None  # default: <state dir>/runner.log
    reporter_dir: Optional[str] = None  # default: <automation_dir>/cypress/reports/cmc
    junit_dir: Optional[str] = None  # default: <automation_dir>/cypress/results
    junit_glob: str = "*.xml"
    inventory: Optional[str] = None  # default: <automation_dir>/atvm/inventory/vm-inventory.md
    runner_unit: Optional[str] = None  # default: atvm-runner@<build>.service when run by systemd
    runner_pid: Optional[int] = None
    categorized: bool = False
    expected_hosts: List[str] = dataclasses.field(default_factory=list)
    hang_timeout: float = 2700.0
    runner_start_timeout: float = 3600.0
    poll_interval: float = 0.25
    hang_check_interval: float = 10.0
    settle_quiet: float = 5.0
    settle_max: float = 120.0
    delivery_deadline: float = 900.0
    http_timeout: float = 10.0
    max_post_chars: int = 15000
    message_template: Optional[str] = None
    fail_priority: str = ""  # "" (none), "important" or "urgent": the priority of a FAIL post
    marker_regex: str = DEFAULT_MARKER_REGEX
    host_pattern: str = DEFAULT_HOST_PATTERN
    archive_keep: int = 5
    jp_host: str = "host"
    jp_spec: str = "spec"
    jp_status: str = "status"
    jp_started: str = "startedAt"
    jp_ended: str = "endedAt"
    jp_tests: str = "stats.tests"
    jp_passed: str = "stats.passes"
    jp_failed: str = "stats.failures"
    jp_pending: str = "stats.pending"
    jp_skipped: str = "stats.skipped"
    jp_events: str = "events"
    metadata: Dict[str, str] = dataclasses.field(default_factory=dict)

    # ---- derived paths ----
    def state_dir(self) -> str:
        if not self.build_name:
            raise ConfigError("no build name given")
        return os.path.join(self.state_root, validate_build_name(self.build_name))

    def runner_log_path(self) -> str:
        return self.runner_log or os.path.join(self.state_dir(), "runner.log")

    def reporter_dir_path(self) -> str:
        return self.reporter_dir or os.path.join(self.automation_dir, "cypress", "reports", "cmc")

    def junit_dir_path(self) -> str:
        return self.junit_dir or os.path.join(self.automation_dir, "cypress", "results")

    def inventory_path(self) -> str:
        return self.inventory or os.path.join(self.automation_dir, "atvm", "inventory", "vm-inventory.md")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> "Settings":
        """Build settings from an env mapping (``ENV_MAP`` names) plus keyword overrides."""
        kwargs: Dict[str, Any] = {}
        fields = {f.name: f for f in dataclasses.fields(cls)}
        for env_name, attr in ENV_MAP.items():
            if env_name in env and env[env_name] != "":
                kwargs[attr] = _convert(attr, fields[attr], env[env_name], env_name)
        meta = {}
        for env_name, key in METADATA_ENV.items():
            if env.get(env_name):
                meta[key] = env[env_name]
        kwargs["metadata"] = meta
        for key, value in overrides.items():
            if value is not None:
                kwargs[key] = value
        settings = cls(**kwargs)
        if settings.build_name is not None:
            validate_build_name(settings.build_name)
        return settings

    def check(self, require_webhook: bool = True) -> List[str]:
        """Validate everything that can be validated offline; returns the problems found."""
        problems: List[str] = []
        if require_webhook:
            if not self.webhook:
                problems.append("MATTERMOST_ATVM_WEBHOOK is not set")
            elif not WEBHOOK_RE.match(self.webhook):
                problems.append(
                    "MATTERMOST_ATVM_WEBHOOK is not an incoming webhook URL (expected http(s)://HOST/hooks/ID)"
                )
        if self.channel and not CHANNEL_RE.match(self.channel):
            problems.append(
                "MATTERMOST_ATVM_CHANNEL {0!r} is not a channel name (lower-case name such as "
                "town-square, or @user)".format(self.channel)
            )
        for attr in ("marker_regex", "host_pattern"):
            try:
                compiled = re.compile(getattr(self, attr))
            except re.error as exc:
                problems.append("{0} is not a valid regular expression: {1}".format(_env_name(attr), exc))
                continue
            group = "label" if attr == "marker_regex" else "host"
            if group not in compiled.groupindex:
                problems.append("{0} has no named group (?P<{1}>...)".format(_env_name(attr), group))
        try:
            import jmespath  # pylint: disable=import-outside-toplevel
        except ImportError:
            problems.append("the Python library 'jmespath' is not installed")
        else:
            for attr in JP_FIELDS:
                try:
                    jmespath.compile(getattr(self, attr))
                except Exception as exc:  # jmespath raises several ParseError types
                    problems.append("{0} is not a valid JMESPath expression: {1}".format(_env_name(attr), exc))
        for attr in ("hang_timeout", "runner_start_timeout", "poll_interval", "settle_quiet", "settle_max", "delivery_deadline", "http_timeout"):
            if getattr(self, attr) <= 0:
                problems.append("{0} must be greater than 0".format(_env_name(attr)))
        if self.max_post_chars < 1000 or self.max_post_chars > 16383:
            problems.append("ATVM_MAX_POST_CHARS must be between 1000 and 16383")
        if self.fail_priority not in ("", "important", "urgent"):
            problems.append("ATVM_FAIL_PRIORITY {0!r} is not one of: important, urgent (or empty: no priority)".format(
                self.fail_priority))
        if self.message_template and not os.path.isfile(self.message_template):
            problems.append("ATVM_MESSAGE_TEMPLATE {0} is not a readable file".format(self.message_template))
        if self.build_name is not None:
            try:
                validate_build_name(self.build_name)
            except BuildNameError as exc:
                problems.append(str(exc))
        return problems


JP_FIELDS = (
    "jp_host", "jp_spec", "jp_status", "jp_started", "jp_ended", "jp_tests", "jp_passed",
    "jp_failed", "jp_pending", "jp_skipped", "jp_events",
)

ENV_MAP = {
    "ATVM_BUILD_NAME": "build_name",
    "MATTERMOST_ATVM_WEBHOOK": "webhook",
    "MATTERMOST_ATVM_CHANNEL": "channel",
    "MATTERMOST_ATVM_USERNAME": "username",
    "ATVM_STATE_ROOT": "state_root",
    "ATVM_AUTOMATION_DIR": "automation_dir",
    "ATVM_RUNNER_LOG": "runner_log",
    "ATVM_REPORTER_DIR": "reporter_dir",
    "ATVM_JUNIT_DIR": "junit_dir",
    "ATVM_JUNIT_GLOB": "junit_glob",
    "ATVM_INVENTORY": "inventory",
    "ATVM_RUNNER_UNIT": "runner_unit",
    "ATVM_RUNNER_PID": "runner_pid",
    "ATVM_CATEGORIZED": "categorized",
    "ATVM_EXPECTED_HOSTS": "expected_hosts",
    "ATVM_HANG_TIMEOUT": "hang_timeout",
    "ATVM_RUNNER_START_TIMEOUT": "runner_start_timeout",
    "ATVM_POLL_INTERVAL": "poll_interval",
    "ATVM_HANG_CHECK_INTERVAL": "hang_check_interval",
    "ATVM_SETTLE_QUIET": "settle_quiet",
    "ATVM_SETTLE_MAX": "settle_max",
    "ATVM_DELIVERY_DEADLINE": "delivery_deadline",
    "ATVM_HTTP_TIMEOUT": "http_timeout",
    "ATVM_MAX_POST_CHARS": "max_post_chars",
    "ATVM_MESSAGE_TEMPLATE": "message_template",
    "ATVM_FAIL_PRIORITY": "fail_priority",
    "ATVM_SUBRUN_MARKER_REGEX": "marker_regex",
    "ATVM_HOST_PATTERN": "host_pattern",
    "ATVM_ARCHIVE_KEEP": "archive_keep",
    "ATVM_JP_HOST": "jp_host",
    "ATVM_JP_SPEC": "jp_spec",
    "ATVM_JP_STATUS": "jp_status",
    "ATVM_JP_STARTED": "jp_started",
    "ATVM_JP_ENDED": "jp_ended",
    "ATVM_JP_TESTS": "jp_tests",
    "ATVM_JP_PASSED": "jp_passed",
    "ATVM_JP_FAILED": "jp_failed",
    "ATVM_JP_PENDING": "jp_pending",
    "ATVM_JP_SKIPPED": "jp_skipped",
    "ATVM_JP_EVENTS": "jp_events",
}

# Run metadata shown in the status (per-run env, written by the launch modules).
METADATA_ENV = {
    "ATVM_TEMPLATE_NAME": "template",
    "ATVM_CONFIG_FAMILY": "config_family",
    "ATVM_CONFIG_FILE": "config_file",
    "ATVM_MIGRATION_STYLE": "migration_style",
    "ATVM_INTEGRATION_PLUGIN": "integration_plugin",
    "ATVM_SCOPE": "scope",
    "ATVM_TEMPLATE_COMMAND": "template_command",
    "ATVM_RUNNER_COMMAND": "runner_command",
}


def _env_name(attr: str) -> str:
    for env_name, name in ENV_MAP.items():
        if name == attr:
            return env_name
    return attr


def _convert(attr: str, field: "dataclasses.Field[Any]", raw: str, env_name: str) -> Any:
    default = field.default if field.default is not dataclasses.MISSING else None
    if attr == "expected_hosts":
        return [h.strip() for h in raw.split(",") if h.strip()]
    if attr == "categorized":
        return _truthy(raw)
    if attr in ("runner_pid", "max_post_chars", "archive_keep"):
        try:
            return int(raw)
        except ValueError:
            raise ConfigError("{0}={1!r} is not a whole number".format(env_name, raw)) from None
    if isinstance(default, float):
        try:
            return float(raw)
        except ValueError:
            raise ConfigError("{0}={1!r} is not a number".format(env_name, raw)) from None
    return raw

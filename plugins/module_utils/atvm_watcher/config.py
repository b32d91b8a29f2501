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
from .inputs import read_regular

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
#
# systemd ends a line at "\n" or "\r" (outside quotes), keeps both inside quotes (a value may span
# lines), strips only " \t" around keys and unquoted values, treats a line starting with "#" or ";"
# as a comment, unescapes '"', '\\', '`' and '$' after a backslash inside double quotes (any other
# escaped character keeps its backslash), reads single quotes literally and joins the pieces of
# a value (`A="x"'y'z` is "xyz"); values that are not UTF-8 are dropped. The writer below produces
# one double-quoted value per line and refuses every character that could end or bend a line for
# systemd or for any line-splitting reader: control characters (C0, DEL, C1; TAB is kept), the
# Unicode line and paragraph separators, and lone surrogates (not UTF-8). The reader follows
# systemd's rules on each "\n"-terminated line, and refuses what systemd would read differently
# from a line-by-line reading (a line break inside quotes, a trailing backslash, a lone "\r").
# ---------------------------------------------------------------------------------------------

_SHELL_ESCAPED = '"\\`$'
_LINE_BLANKS = " \t"


def _refused_char(ch: str) -> bool:
    if ch == "\t":
        return False
    code = ord(ch)
    return code < 0x20 or 0x7F <= code <= 0x9F or code in (0x2028, 0x2029) or 0xD800 <= code <= 0xDFFF


_CHAR_NAMES = {"\n": "a newline", "\r": "a carriage return", "\x00": "a NUL byte", "\x85": "a next-line (NEL)",
               "\u2028": "a line separator", "\u2029": "a paragraph separator"}


def _refused_in(text: str) -> Optional[str]:
    """A description of the first character a value must not hold, or None."""
    for pos, ch in enumerate(text):
        if _refused_char(ch):
            what = _CHAR_NAMES.get(ch) or ("a lone surrogate" if 0xD800 <= ord(ch) <= 0xDFFF else "a control character")
            return "{0} (U+{1:04X} at position {2})".format(what, ord(ch), pos)
    return None


def quote_env_value(value: Any) -> str:
    """Quote ``value`` for a systemd EnvironmentFile so it stays one variable on one line.

    Refused (:class:`ConfigError`, which names the character, never the value): control characters
    other than TAB (newline, carriage return, NUL, vertical tab, form feed, the C1 range with NEL),
    U+2028 / U+2029 and lone surrogates. Quotes, backslashes, backticks and ``$`` are escaped
    inside double quotes; everything else is written as it is.
    """
    text = "" if value is None else str(value)
    bad = _refused_in(text)
    if bad:
        raise ConfigError("an env file value must stay on one line and must not contain {0}".format(bad))
    escaped = "".join("\\" + ch if ch in _SHELL_ESCAPED else ch for ch in text)
    return '"{0}"'.format(escaped)


def render_env_file(values: Mapping[str, Any], header: Optional[str] = None) -> str:
    """Render ``values`` as an env file (sorted keys, every value quoted)."""
    lines: List[str] = []
    if header:
        for line in header.split("\n"):
            if _refused_in(line) or line.endswith("\\"):
                raise ConfigError("an env file header line must be plain text")
            lines.append("# " + line)
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


def _quoted(raw: str, i: int, out: List[str], where: str) -> int:
    """Append the quoted piece starting at ``raw[i]`` (a quote) to ``out``; the index after it."""
    quote, n = raw[i], len(raw)
    i += 1
    while i < n and raw[i] != quote:
        if quote == '"' and raw[i] == "\\" and i + 1 < n:
            nxt = raw[i + 1]
            out.append(nxt if nxt in _SHELL_ESCAPED else "\\" + nxt)
            i += 2
            continue
        out.append(raw[i])
        i += 1
    if i >= n:
        raise ConfigError("{0}: unterminated quoted value (a value never spans lines)".format(where))
    return i + 1


def _parse_value(raw: str, where: str) -> str:
    """The value of one line after ``=``, read as systemd reads it (see the rules above): quotes open
    only where a value (or a piece after a closing quote) starts; unquoted trailing blanks go."""
    out: List[str] = []
    keep = 0  # ``out[:keep]`` is what stays (unquoted trailing blanks are dropped)
    pre = True  # before a value or after a closing quote: blanks skipped, quotes open
    i, n = 0, len(raw)
    while i < n:
        ch = raw[i]
        if pre and ch in _LINE_BLANKS:
            i += 1
        elif pre and ch in "'\"":
            i = _quoted(raw, i, out, where)
            keep = len(out)
        elif ch == "\\":
            if i + 1 >= n:
                raise ConfigError("{0}: a backslash at the end of the line (a value never spans lines)".format(where))
            out.append(raw[i + 1])
            i += 2
            keep, pre = len(out), False
        else:
            out.append(ch)
            if ch not in _LINE_BLANKS:
                keep = len(out)
            i += 1
            pre = False
    return "".join(out[:keep])


def parse_env_text(text: str, path: str = "<env>") -> Dict[str, str]:
    """Parse env file text as systemd does; lines end at ``\n`` only (a ``\r`` just before it is
    dropped). Comments (#, ;) and blank lines are skipped; errors name the line, never a value."""
    values: Dict[str, str] = {}
    for lineno, line in enumerate(text.split("\n"), 1):
        where = "{0}: line {1}".format(path, lineno)
        if line.endswith("\r"):
            line = line[:-1]
        if "\r" in line:
            raise ConfigError("{0}: a carriage return inside the line".format(where))
        stripped = line.lstrip(_LINE_BLANKS)
        if stripped[:1] in ("#", ";") and stripped.endswith("\\"):
            raise ConfigError("{0}: a comment ends with a backslash (older systemd reads the next line as "
                              "part of it)".format(where))
        if not stripped or stripped[0] in "#;":
            continue
        key, sep, raw = stripped.partition("=")
        key = key.rstrip(_LINE_BLANKS)
        if not sep or not ENV_NAME_RE.match(key):
            raise ConfigError("{0}: expected NAME=value".format(where))
        value = _parse_value(raw, where)
        bad = _refused_in(value)
        if bad:
            raise ConfigError("{0}: the value of {1} must not contain {2}".format(where, key, bad))
        values[key] = value
    return values


def _same_file(path: str, other: str) -> bool:
    try:
        return os.path.samefile(path, other)
    except OSError:
        return False


def env_file_problem(path: str, env_files: Iterable[str] = (GLOBAL_ENV_FILE,)) -> Optional[str]:
    """Why ``path`` must not be read as a message template: it is an env file (it holds the webhook)."""
    if os.path.basename(os.path.realpath(path)).lower().endswith(".env") or any(
            _same_file(path, env) for env in env_files):
        return "ATVM_MESSAGE_TEMPLATE {0} is an env file: it is never used as a template".format(path)
    return None


def template_path_problem(path: str, automation_dir: str, install_root: str = DEFAULT_INSTALL_ROOT,
                          env_files: Iterable[str] = (GLOBAL_ENV_FILE,)) -> Optional[str]:
    """Why ``path`` cannot be the message template, or None: it must be a file under the automation
    or the install directory (symlinks resolved) and never an env file."""
    problem = env_file_problem(path, env_files)
    if problem:
        return problem
    real = os.path.realpath(path)
    for root in (automation_dir, install_root):
        base = os.path.realpath(root).rstrip("/") + "/" if root else None
        if base and real.startswith(base):
            return None
    return "ATVM_MESSAGE_TEMPLATE {0} is outside the automation directory {1} and the install directory {2}".format(
        path, automation_dir, install_root)


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
    retry_min_delay: float = 1.0  # seconds between two attempts of a post, at least (even after Retry-After: 0)
    delivery_max_attempts: int = 30  # attempts per post, at most
    ambiguous_copies: int = 1  # more copies after a 200 whose body is not "ok", at most
    redact_names: str = ""  # regex of more option / variable names whose values are hidden in posts
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
        if self.retry_min_delay < 0.1:
            problems.append("ATVM_RETRY_MIN_DELAY must be at least 0.1 (seconds)")
        if self.delivery_max_attempts < 1:
            problems.append("ATVM_DELIVERY_MAX_ATTEMPTS must be at least 1")
        if self.ambiguous_copies < 0:
            problems.append("ATVM_AMBIGUOUS_COPIES must not be negative")
        if self.redact_names:
            try:
                re.compile(self.redact_names)
            except re.error as exc:
                problems.append("ATVM_REDACT_NAMES is not a valid regular expression: {0}".format(exc))
        if self.max_post_chars < 1000 or self.max_post_chars > 16383:
            problems.append("ATVM_MAX_POST_CHARS must be between 1000 and 16383")
        if self.fail_priority not in ("", "important", "urgent"):
            problems.append("ATVM_FAIL_PRIORITY {0!r} is not one of: important, urgent (or empty: no priority)".format(
                self.fail_priority))
        if self.message_template and not os.path.isfile(self.message_template):
            problems.append("ATVM_MESSAGE_TEMPLATE {0} is not a readable file".format(self.message_template))
        elif self.message_template:
            problems.extend(filter(None, [template_path_problem(self.message_template, self.automation_dir)]))
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
    "ATVM_RETRY_MIN_DELAY": "retry_min_delay",
    "ATVM_DELIVERY_MAX_ATTEMPTS": "delivery_max_attempts",
    "ATVM_AMBIGUOUS_COPIES": "ambiguous_copies",
    "ATVM_REDACT_NAMES": "redact_names",
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
    if attr in ("runner_pid", "max_post_chars", "archive_keep", "delivery_max_attempts", "ambiguous_copies"):
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

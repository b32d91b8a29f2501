# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings: build-name validation and the typed Settings object (env files: :mod:`.envfile`).

Settings reach the core only as a :class:`Settings` built from a mapping (env file, module
params or CLI flags); nothing deep inside the core reads ``os.environ``.
"""
from __future__ import annotations

import dataclasses
import difflib
import os
import re
from typing import Any, Dict, Iterable, List, Mapping, Optional

from .errors import BuildNameError, ConfigError
from .envfile import read_env_file
from .runpaths import BuildName, RunPaths

DEFAULT_STATE_ROOT = "/var/lib/atvm-run-watcher"
DEFAULT_INSTALL_ROOT = "/opt/atvm-watcher-service"
DEFAULT_AUTOMATION_DIR = "/root/cdc-e2e-cyp-12.17.4"
GLOBAL_ENV_FILE = "/etc/atvm-run-watcher.env"

WEBHOOK_RE = re.compile(r"^https?://[^\s/?#]+(?:/[^\s?#]*)?/hooks/[A-Za-z0-9]+$")
CHANNEL_RE = re.compile(r"^(?:#?[a-z0-9][a-z0-9_-]{0,63}|@[a-z0-9.\-_]{1,64})$")

DEFAULT_MARKER_REGEX = r"^\s*=+ ATVM category: (?P<label>[A-Za-z0-9._-]+) =+\s*$"
DEFAULT_HOST_PATTERN = r"(?P<host>[A-Za-z0-9][A-Za-z0-9_-]*)\.(?:cy|spec)\.[cm]?[jt]sx?$"


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


def load_env(env_files: Optional[List[str]], environ: Dict[str, str], build_name: Optional[str] = None,
             state_root: Optional[str] = None) -> Dict[str, str]:
    """The settings a command sees: env files, then the process environment (later wins).

    The one reader of the env files (the watcher unit loads none itself): without ``env_files`` the
    controller-wide :data:`GLOBAL_ENV_FILE` is read when it exists, then the per-run ``watcher.env``
    of the build when it exists; of the process environment only ``ATVM_*`` and
    ``MATTERMOST_ATVM_*`` names count.
    """
    merged: Dict[str, str] = {}
    files = list(env_files or [])
    if not files:
        if os.path.isfile(GLOBAL_ENV_FILE) and os.access(GLOBAL_ENV_FILE, os.R_OK):
            files.append(GLOBAL_ENV_FILE)
    for path in files:
        merged.update(read_env_file(path))
    if build_name and not env_files:
        root = state_root or environ.get("ATVM_STATE_ROOT") or merged.get("ATVM_STATE_ROOT")
        if root:
            per_run = RunPaths(root, build_name).watcher_env
            if os.path.isfile(per_run):
                merged.update(read_env_file(per_run))
    for key, value in environ.items():
        if key.startswith("ATVM_") or key.startswith("MATTERMOST_ATVM_"):
            merged[key] = value
    return merged


# ---------------------------------------------------------------------------------------------
# Settings
# ---------------------------------------------------------------------------------------------

# Each setting is declared once, as a field of ``Settings`` made by ``_setting()``: its attribute
# name, environment variable, type (``kind``), default, one-line doc and constraints. Reading an env
# mapping (``Settings.from_env``), ``Settings.check()`` (the ``check-config`` command), ``ENV_MAP``
# and the generated reference ``docs/settings.md`` (tools/settings_doc.py) all come from it.

KINDS = {
    # kind: how the docs name it
    "text": "text",
    "path": "path",
    "file": "path of a readable file",
    "int": "whole number",
    "seconds": "seconds",
    "flag": "flag: 1, true, yes or on",
    "list": "comma-separated list",
    "regex": "regular expression",
    "jmespath": "JMESPath expression",
    "webhook": "incoming webhook URL",
    "channel": "channel name",
    "build": "build name",
    "choice": "one of",
}


def _setting(env: str, default: Any, doc: str, kind: str = "text", *, above: Optional[float] = None,
             at_least: Optional[float] = None,
             between: Optional[tuple] = None, group: Optional[str] = None, default_doc: Optional[str] = None,
             choices: Optional[tuple] = None, secret: bool = False, section: str = "") -> Any:
    """Declare one setting (a dataclass field carrying its environment variable, doc and constraints).

    ``above``: the value must be greater than it; ``at_least``: not smaller than it; ``between``: (lowest, highest), both allowed;
    ``group``: the named group a ``regex`` must have; ``choices``: the values a ``choice`` may take
    (empty is always allowed); ``default_doc``: the default as the docs say it
    when it is computed (``None`` in the field); ``secret``: never shown, not even in ``repr``.
    """
    if kind not in KINDS:
        raise ValueError("unknown setting kind {0!r}".format(kind))
    meta = {"env": env, "doc": doc, "kind": kind, "above": above, "at_least": at_least, "between": between, "group": group,
            "default_doc": default_doc, "choices": choices, "secret": secret, "section": section}
    # The field is made here and placed in the class body by the caller.
    # pylint: disable=invalid-field-call
    if isinstance(default, (list, dict)):
        return dataclasses.field(default_factory=lambda: type(default)(default), metadata=meta, repr=not secret)
    return dataclasses.field(default=default, metadata=meta, repr=not secret)


_MM, _PATHS, _RUN, _TIME, _POST, _JP, _HISTORY = (
    "Mattermost", "Paths", "The run", "Timing", "The post", "Reporter JSON fields (JMESPath)",
    "History (docs/history.md)")

DEFAULT_HISTORY_KEY = "[template, config_family, subrun, hosts]"


def _jp(env: str, default: str, what: str) -> Any:
    return _setting(env, default, "Where a cmcReporter JSON file holds {0}.".format(what), "jmespath", section=_JP)


def _truthy(value: Any) -> bool:
    return str(value).strip().lower() in ("1", "true", "yes", "on")


@dataclasses.dataclass
class Settings:
    """Every setting of the watcher; each field is declared once with ``_setting()``."""

    build_name: Optional[str] = _setting(
        "ATVM_BUILD_NAME", None, "The run's build name: its state directory and unit names.", "build", section=_RUN)
    webhook: Optional[str] = _setting(
        "MATTERMOST_ATVM_WEBHOOK", None, "The Mattermost incoming webhook the results are posted to (a secret).",
        "webhook", secret=True, section=_MM)
    channel: Optional[str] = _setting(
        "MATTERMOST_ATVM_CHANNEL", None, "Channel to post to instead of the webhook's own (name or @user).",
        "channel", section=_MM)
    username: Optional[str] = _setting(
        "MATTERMOST_ATVM_USERNAME", None, "User name shown on the posts (if the server allows overriding it).",
        section=_MM)
    state_root: str = _setting(
        "ATVM_STATE_ROOT", DEFAULT_STATE_ROOT, "Directory holding one state directory per build.", "path",
        section=_PATHS)
    automation_dir: str = _setting(
        "ATVM_AUTOMATION_DIR", DEFAULT_AUTOMATION_DIR, "The ATVM automation checkout the run works in.", "path",
        section=_PATHS)
    runner_log: Optional[str] = _setting(
        "ATVM_RUNNER_LOG", None, "The runner's log the watcher reads.", "path",
        default_doc="`<state dir>/runner.log`", section=_PATHS)
    reporter_dir: Optional[str] = _setting(
        "ATVM_REPORTER_DIR", None, "Directory of the per-host cmcReporter JSON files.", "path",
        default_doc="`<automation dir>/cypress/reports/cmc`", section=_PATHS)
    log_olddirs: List[str] = _setting(
        "ATVM_LOG_OLDDIR", [], "Folders where rotated runner logs are moved (logrotate's olddir), besides the "
        "ones the logrotate configuration names for the log.", "list", default_doc="none", section=_PATHS)
    logrotate_conf: str = _setting(
        "ATVM_LOGROTATE_CONF", "/etc/logrotate.conf", "The logrotate configuration read for the log's olddir "
        "(with what it includes).", "path", section=_PATHS)
    junit_dir: Optional[str] = _setting(
        "ATVM_JUNIT_DIR", None, "Directory (or file) of the JUnit XML reports.", "path",
        default_doc="`<automation dir>/cypress/results`", section=_PATHS)
    junit_glob: str = _setting(
        "ATVM_JUNIT_GLOB", "*.xml", "File name pattern of the JUnit reports in that directory.", section=_PATHS)
    mochawesome_dir: Optional[str] = _setting(
        "ATVM_MOCHAWESOME_DIR", None, "Directory (or file) of the mochawesome JSON reports (per-test results "
        "only: a file that is not one is passed over).", "path", default_doc="the JUnit directory", section=_PATHS)
    mochawesome_glob: str = _setting(
        "ATVM_MOCHAWESOME_GLOB", "*.json", "File name pattern of the mochawesome reports in that directory.",
        section=_PATHS)
    inventory: Optional[str] = _setting(
        "ATVM_INVENTORY", None, "The VM inventory that names the run's hosts.", "path",
        default_doc="`<automation dir>/atvm/inventory/vm-inventory.md`", section=_PATHS)
    metrics_dir: str = _setting(
        "ATVM_METRICS_DIR", "", "Directory of node_exporter's textfile collector the watcher writes the run's "
        "metrics to (docs/metrics.md); an absolute path.", "path", default_doc="not set: no metrics", section=_PATHS)
    runner_unit: Optional[str] = _setting(
        "ATVM_RUNNER_UNIT", None, "The systemd unit of the runner the watcher follows.",
        default_doc="`atvm-runner@<build>.service` when run by systemd", section=_RUN)
    runner_pid: Optional[int] = _setting(
        "ATVM_RUNNER_PID", None, "Process id of a runner started without systemd.", "int", section=_RUN)
    categorized: bool = _setting(
        "ATVM_CATEGORIZED", False, "The run is split into sub-runs by category markers in the log.", "flag",
        section=_RUN)
    expected_hosts: List[str] = _setting(
        "ATVM_EXPECTED_HOSTS", [], "Hosts that must report before the run can PASS.", "list", section=_RUN)
    hang_timeout: float = _setting(
        "ATVM_HANG_TIMEOUT", 2700.0, "No progress for this long and the run is HUNG.", "seconds", above=0,
        section=_TIME)
    runner_start_timeout: float = _setting(
        "ATVM_RUNNER_START_TIMEOUT", 3600.0, "How long the runner may take to start.", "seconds", above=0,
        section=_TIME)
    poll_interval: float = _setting(
        "ATVM_POLL_INTERVAL", 0.25, "Pause between two polls of the log and the runner.", "seconds", above=0,
        section=_TIME)
    hang_check_interval: float = _setting(
        "ATVM_HANG_CHECK_INTERVAL", 10.0, "Pause between two hang checks.", "seconds", section=_TIME)
    settle_quiet: float = _setting(
        "ATVM_SETTLE_QUIET", 5.0, "A host's reporter files are settled once none was written for this long.",
        "seconds", above=0, section=_TIME)
    settle_max: float = _setting(
        "ATVM_SETTLE_MAX", 120.0, "Longest wait for reporter files to settle after a sub-run ended.", "seconds",
        above=0, section=_TIME)
    delivery_deadline: float = _setting(
        "ATVM_DELIVERY_DEADLINE", 900.0, "How long one post is retried before it is given up.", "seconds",
        above=0, section=_MM)
    http_timeout: float = _setting(
        "ATVM_HTTP_TIMEOUT", 10.0, "Timeout of one request to Mattermost.", "seconds", above=0, section=_MM)
    retry_min_delay: float = _setting(
        "ATVM_RETRY_MIN_DELAY", 1.0, "Shortest pause between two attempts of a post (even after Retry-After: 0).",
        "seconds", at_least=0.1, section=_MM)
    delivery_max_attempts: int = _setting(
        "ATVM_DELIVERY_MAX_ATTEMPTS", 30, "Most attempts of one post.", "int", at_least=1, section=_MM)
    ambiguous_copies: int = _setting(
        "ATVM_AMBIGUOUS_COPIES", 1, "Most further copies of a post after a 200 whose body is not ok.", "int",
        at_least=0, section=_MM)
    redact_names: str = _setting(
        "ATVM_REDACT_NAMES", "", "More option or variable names whose values are hidden in posts.", "regex",
        default_doc="none", section=_POST)
    max_post_chars: int = _setting(
        "ATVM_MAX_POST_CHARS", 15000, "Longest post, in characters.", "int", between=(1000, 16383), section=_POST)
    max_posts: int = _setting(
        "ATVM_MAX_POSTS", 50, "Most sub-run posts of one request; the sub-runs beyond are decided and recorded, "
        "and the request post counts them.", "int", between=(1, 100000), section=_POST)
    message_template: Optional[str] = _setting(
        "ATVM_MESSAGE_TEMPLATE", None, "An operator's message template (string.Template file).", "file",
        default_doc="the built-in message", section=_POST)
    fail_priority: str = _setting(
        "ATVM_FAIL_PRIORITY", "", "Message priority of a FAIL post (empty: no priority).", "choice",
        choices=("important", "urgent"), section=_POST)
    marker_regex: str = _setting(
        "ATVM_SUBRUN_MARKER_REGEX", DEFAULT_MARKER_REGEX, "The log line that starts a sub-run.", "regex",
        group="label", section=_RUN)
    host_pattern: str = _setting(
        "ATVM_HOST_PATTERN", DEFAULT_HOST_PATTERN, "How a spec file name names its host.", "regex",
        group="host", section=_RUN)
    history_key: str = _setting(
        "ATVM_HISTORY_KEY", DEFAULT_HISTORY_KEY, "What makes two runs of the same suite, over the run's metadata "
        "(`template`, `config_family`, `config_file`, `migration_style`, `integration_plugin`, `scope`, `subrun`: the "
        "sub-run's label, `hosts`: its hosts sorted, `categorized`).", "jmespath", section=_HISTORY)
    history_runs: int = _setting(
        "ATVM_HISTORY_RUNS", 100, "Runs kept per suite (0: no history, and no changes in the posts).", "int",
        between=(0, 10000), section=_HISTORY)
    history_max_bytes: int = _setting(
        "ATVM_HISTORY_MAX_BYTES", 4 * 1024 * 1024, "Largest history file of one suite, in bytes: the oldest runs "
        "go first.", "int", between=(65536, 1 << 30), section=_HISTORY)
    jp_host: str = _jp("ATVM_JP_HOST", "host", "the host name")
    jp_spec: str = _jp("ATVM_JP_SPEC", "spec", "the spec file")
    jp_status: str = _jp("ATVM_JP_STATUS", "status", "the status")
    jp_started: str = _jp("ATVM_JP_STARTED", "startedAt", "the start time")
    jp_ended: str = _jp("ATVM_JP_ENDED", "endedAt", "the end time")
    jp_tests: str = _jp("ATVM_JP_TESTS", "stats.tests", "the number of tests")
    jp_passed: str = _jp("ATVM_JP_PASSED", "stats.passes", "the number of passed tests")
    jp_failed: str = _jp("ATVM_JP_FAILED", "stats.failures", "the number of failed tests")
    jp_pending: str = _jp("ATVM_JP_PENDING", "stats.pending", "the number of pending tests")
    jp_skipped: str = _jp("ATVM_JP_SKIPPED", "stats.skipped", "the number of skipped tests")
    jp_events: str = _jp("ATVM_JP_EVENTS", "events", "the list of events")
    # Run metadata shown in the status, read from the METADATA_ENV variables (not a setting).
    metadata: Dict[str, str] = dataclasses.field(default_factory=dict)

    # ---- derived paths ----
    @property
    def paths(self) -> RunPaths:
        """The run's files (:class:`~.runpaths.RunPaths`); :class:`ConfigError` without a build name."""
        if not self.build_name:
            raise ConfigError("no build name given")
        return RunPaths(self.state_root, self.build_name)

    def runner_log_path(self) -> str:
        return self.runner_log or self.paths.runner_log

    def reporter_dir_path(self) -> str:
        return self.reporter_dir or os.path.join(self.automation_dir, "cypress", "reports", "cmc")

    def junit_dir_path(self) -> str:
        return self.junit_dir or os.path.join(self.automation_dir, "cypress", "results")

    def mochawesome_dir_path(self) -> str:
        return self.mochawesome_dir or self.junit_dir_path()

    def inventory_path(self) -> str:
        return self.inventory or os.path.join(self.automation_dir, "atvm", "inventory", "vm-inventory.md")

    @classmethod
    def from_env(cls, env: Mapping[str, str], **overrides: Any) -> "Settings":
        """Build settings from an env mapping (``ENV_MAP`` names) plus keyword overrides."""
        kwargs: Dict[str, Any] = {}
        for field in SETTING_FIELDS:
            raw = env.get(field.metadata["env"])
            if raw is not None and raw != "":
                kwargs[field.name] = _convert(field, raw)
        kwargs["metadata"] = {key: env[name] for name, key in METADATA_ENV.items() if env.get(name)}
        for key, value in overrides.items():
            if value is not None:
                kwargs[key] = value
        if kwargs.get("build_name") is not None:
            kwargs["build_name"] = BuildName(kwargs["build_name"])
        return cls(**kwargs)

    def check(self, require_webhook: bool = True) -> List[str]:
        """Validate everything that can be validated offline; returns the problems found."""
        problems: List[str] = []
        for field in SETTING_FIELDS:
            for problem in _problems(field, getattr(self, field.name), require_webhook):
                if problem not in problems:
                    problems.append(problem)
        if self.message_template and os.path.isfile(self.message_template):  # it also depends on automation_dir
            problems.extend(filter(None, [template_path_problem(self.message_template, self.automation_dir)]))
        if self.metrics_dir and not os.path.isabs(self.metrics_dir):
            problems.append("ATVM_METRICS_DIR {0} is not an absolute path".format(self.metrics_dir))
        return problems


SETTING_FIELDS = tuple(f for f in dataclasses.fields(Settings) if "env" in f.metadata)
# environment variable -> attribute, for every setting
ENV_MAP = {f.metadata["env"]: f.name for f in SETTING_FIELDS}
JP_FIELDS = tuple(f.name for f in SETTING_FIELDS if f.metadata["kind"] == "jmespath")

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

# ATVM_ names that are read, but are not settings: the runner entry's working directory and the
# interpreter of the entry scripts.
OTHER_NAMES = frozenset(("ATVM_RUNNER_WORKDIR", "ATVM_PYTHON"))
# Settings that were removed, with what to use instead (check-config names them).
REMOVED_SETTINGS = {
    "ATVM_ARCHIVE_KEEP": "removed in 2.0.0: how many old runs of a build are kept is the archive_keep "
                         "option of atvm.watcher.watcher_start",
}


def unknown_names(env: Mapping[str, str]) -> List[str]:
    """One line per ``ATVM_*`` name in ``env`` that nothing reads (a typo, a removed setting), with
    the closest setting name when there is one; empty when every name is known."""
    known = sorted(set(ENV_MAP) | set(METADATA_ENV) | OTHER_NAMES)
    problems = []
    for name in sorted(n for n in env if n.startswith("ATVM_") and n not in known):
        if name in REMOVED_SETTINGS:
            problems.append("{0} is no longer a setting ({1})".format(name, REMOVED_SETTINGS[name]))
            continue
        close = difflib.get_close_matches(name, known, n=1, cutoff=0.8)
        problems.append("{0} is not a setting, nothing reads it{1}".format(
            name, "; did you mean {0}?".format(close[0]) if close else ""))
    return problems


def _convert(field: "dataclasses.Field[Any]", raw: str) -> Any:
    """The value of one setting from its environment text; a clear error names the variable."""
    kind, env_name = field.metadata["kind"], field.metadata["env"]
    if kind == "list":
        return [h.strip() for h in raw.split(",") if h.strip()]
    if kind == "flag":
        return _truthy(raw)
    if kind in ("int", "seconds"):
        try:
            return int(raw) if kind == "int" else float(raw)
        except ValueError:
            what = "a whole number" if kind == "int" else "a number"
            raise ConfigError("{0}={1!r} is not {2}".format(env_name, raw, what)) from None
    return raw


def _kind_problem(kind: str, env_name: str, value: Any, group: Optional[str],
                  choices: Optional[tuple] = None) -> Optional[str]:
    """What is wrong with ``value`` as a value of its kind, or None."""
    if kind == "webhook" and not WEBHOOK_RE.match(value):
        return "{0} is not an incoming webhook URL (expected http(s)://HOST/hooks/ID)".format(env_name)
    if kind == "channel" and not CHANNEL_RE.match(value):
        return "{0} {1!r} is not a channel name (lower-case name such as town-square, or @user)".format(
            env_name, value)
    if kind == "choice" and value not in choices:
        return "{0} {1!r} is not one of: {2} (or empty)".format(env_name, value, ", ".join(choices))
    if kind == "file" and not os.path.isfile(value):
        return "{0} {1} is not a readable file".format(env_name, value)
    if kind == "build":
        try:
            BuildName(value)
        except BuildNameError as exc:
            return str(exc)
    if kind == "regex":
        try:
            compiled = re.compile(value)
        except re.error as exc:
            return "{0} is not a valid regular expression: {1}".format(env_name, exc)
        if group and group not in compiled.groupindex:
            return "{0} has no named group (?P<{1}>...)".format(env_name, group)
    if kind == "jmespath":
        try:
            import jmespath  # pylint: disable=import-outside-toplevel
        except ImportError:
            return "the Python library 'jmespath' is not installed"
        try:
            jmespath.compile(value)
        except Exception as exc:  # jmespath raises several ParseError types
            return "{0} is not a valid JMESPath expression: {1}".format(env_name, exc)
    return None


def _problems(field: "dataclasses.Field[Any]", value: Any, require_webhook: bool) -> List[str]:
    """The problems of one setting's value: its kind, then its constraints."""
    meta = field.metadata
    env_name = meta["env"]
    if value is None or value == "":
        if meta["kind"] == "webhook" and require_webhook:
            return ["{0} is not set".format(env_name)]
        return []
    if meta["kind"] == "webhook" and not require_webhook:
        return []
    problem = _kind_problem(meta["kind"], env_name, value, meta["group"], meta["choices"])
    if problem:
        return [problem]
    if meta["above"] is not None and value <= meta["above"]:
        return ["{0} must be greater than {1}".format(env_name, meta["above"])]
    if meta["at_least"] is not None and value < meta["at_least"]:
        return ["{0} must be at least {1}".format(env_name, meta["at_least"])]
    if meta["between"] is not None and not meta["between"][0] <= value <= meta["between"][1]:
        return ["{0} must be between {1} and {2}".format(env_name, *meta["between"])]
    return []

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Exception types and exit codes of the watcher core. Messages name the action and the object."""
from __future__ import annotations

# Exit codes of ``atvm-run-watcher`` (docs/architecture.md). The watcher unit does not restart on
# EXIT_DELIVERY_FAILED or EXIT_CONFIG: both need an operator.
EXIT_OK = 0
EXIT_ERROR = 1  # bad input, bad config (the message says what and where)
EXIT_USAGE = 2
EXIT_DELIVERY_FAILED = 3  # a post failed; the message is kept in the outbox
EXIT_CONFIG = 4  # the configuration is invalid (watch, resend)


class WatcherError(Exception):
    """Base class of every error the core raises on purpose."""


class ConfigError(WatcherError):
    """A setting is missing or invalid (env file, CLI flag, module option)."""


class BuildNameError(ConfigError):
    """A build name that could escape its directory or its unit name."""


class InputError(WatcherError):
    """An input file (log, artifact, XML, inventory) cannot be read or is malformed.

    ``path`` is the file, ``detail`` says what was wrong and where (line, offset, field).
    """

    def __init__(self, path: str, detail: str) -> None:
        super().__init__("cannot read {0}: {1}".format(path, detail))
        self.path = path
        self.detail = detail


class StateError(WatcherError):
    """Durable state cannot be read or written."""


class MissingDependencyError(WatcherError):
    """A third-party library the core needs (requests, psutil, jmespath) is not importable."""

    def __init__(self, library: str) -> None:
        super().__init__("the Python library {0!r} is required but cannot be imported".format(library))
        self.library = library


class LaunchError(WatcherError):
    """A launch, cancel, systemd or read step failed; ``details`` carries the facts to show (journal, log tail)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details

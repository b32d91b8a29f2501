# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``atvm-run-watcher`` command line: watch, status, cancel, resend, check-config, verdict."""
from __future__ import annotations

import argparse
import os
import sys
from typing import Dict, List, Optional

from .config import GLOBAL_ENV_FILE, Settings, read_env_file, redact
from .errors import ConfigError, WatcherError

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2
EXIT_DELIVERY_FAILED = 3


def _err(message: str, secrets: List[Optional[str]]) -> None:
    sys.stderr.write("atvm-run-watcher: " + redact(message, secrets) + "\n")


def load_env(env_files: Optional[List[str]], environ: Dict[str, str], build_name: Optional[str] = None,
             state_root: Optional[str] = None) -> Dict[str, str]:
    """Merge env files then the process environment (later wins).

    Without ``--env-file`` the global env file is read when it exists, then the per-run
    ``watcher.env`` of the build when it exists.
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
            per_run = os.path.join(root, build_name, "watcher.env")
            if os.path.isfile(per_run):
                merged.update(read_env_file(per_run))
    for key, value in environ.items():
        if key.startswith("ATVM_") or key.startswith("MATTERMOST_ATVM_"):
            merged[key] = value
    return merged


def cmd_check_config(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    env: Dict[str, str] = {}
    for path in args.env_file or []:
        env.update(read_env_file(path))
    if not args.env_file:
        env = load_env(None, environ)
    settings = Settings.from_env(env)
    problems = settings.check(require_webhook=not args.no_webhook)
    secrets = [settings.webhook]
    if problems:
        for problem in problems:
            _err("invalid configuration: " + problem, secrets)
        return EXIT_ERROR
    where = ", ".join(args.env_file) if args.env_file else "the environment"
    sys.stdout.write("configuration OK ({0})\n".format(where))
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atvm-run-watcher", description="Watch ATVM Cypress runs and post their result to Mattermost.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check-config", help="validate settings (env files) without side effects")
    check.add_argument("--env-file", action="append", help="env file to check (repeatable); default: the environment")
    check.add_argument("--no-webhook", action="store_true", help="do not require MATTERMOST_ATVM_WEBHOOK")
    check.set_defaults(func=cmd_check_config)
    return parser


def main(argv: Optional[List[str]] = None, environ: Optional[Dict[str, str]] = None) -> int:
    environ = dict(os.environ if environ is None else environ)
    parser = build_parser()
    args = parser.parse_args(argv)
    secrets = [environ.get("MATTERMOST_ATVM_WEBHOOK")]
    try:
        return int(args.func(args, environ))
    except ConfigError as exc:
        _err("configuration error: {0}".format(exc), secrets)
        return EXIT_ERROR
    except WatcherError as exc:
        _err(str(exc), secrets)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130

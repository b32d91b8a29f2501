# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``atvm-run-watcher`` command line: watch, status, cancel, resend, history, check-config, verdict, signatures."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

from .settings import Settings, load_env, unknown_names
from .runpaths import BuildName
from .envfile import read_env_file
from .errors import EXIT_CONFIG, EXIT_DELIVERY_FAILED, EXIT_ERROR, EXIT_OK, ConfigError, WatcherError
from .safetext import redact


def _err(message: str, secrets: List[Optional[str]]) -> None:
    sys.stderr.write("atvm-run-watcher: " + redact(message, secrets) + "\n")


def _valid(settings: Settings, require_webhook: bool) -> bool:
    """Say every configuration problem on stderr (the webhook redacted); True when there is none."""
    problems = settings.check(require_webhook=require_webhook)
    for problem in problems:
        _err("invalid configuration: " + problem, [settings.webhook])
    return not problems


def cmd_check_config(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    env: Dict[str, str] = {}
    for path in args.env_file or []:
        env.update(read_env_file(path))
    if not args.env_file:
        env = load_env(None, environ)
    settings = Settings.from_env(env)
    unknown = unknown_names(env)
    for line in unknown:
        _err(("" if args.strict else "warning: ") + line, [settings.webhook])
    if not _valid(settings, require_webhook=not args.no_webhook or args.send_test) or (args.strict and unknown):
        return EXIT_ERROR
    where = ", ".join(args.env_file) if args.env_file else "the environment"
    sys.stdout.write("configuration OK ({0})\n".format(where))
    return _send_test(settings) if args.send_test else EXIT_OK


def _send_test(settings: Settings) -> int:
    """Post the one-line test message through the configured webhook; the server's refusal is the error."""
    import socket  # pylint: disable=import-outside-toplevel

    from . import __version__  # pylint: disable=import-outside-toplevel
    from .delivery.client import MattermostClient  # pylint: disable=import-outside-toplevel

    client = MattermostClient.from_settings(settings, deadline=min(settings.delivery_deadline, 60.0))
    result = client.post("atvm.watcher {0} installed on {1}; run results will be posted here".format(
        __version__, socket.gethostname()))
    if not result.ok:
        _err("the test post was refused: " + result.reason, [settings.webhook])
        return EXIT_ERROR
    sys.stdout.write("test post sent to {0}\n".format(settings.channel or "the webhook's channel"))
    return EXIT_OK


def _settings(args: argparse.Namespace, environ: Dict[str, str], **extra: Any) -> Settings:
    build = getattr(args, "build_name", None)
    if build is not None:
        build = BuildName(build)
    env = load_env(getattr(args, "env_file", None), environ, build, getattr(args, "state_root", None))
    overrides: Dict[str, Any] = {"build_name": build, "state_root": getattr(args, "state_root", None)}
    overrides.update(extra)
    return Settings.from_env(env, **overrides)


def cmd_watch(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .watch.loop import Watcher  # pylint: disable=import-outside-toplevel

    extra: Dict[str, Any] = {
        "runner_log": args.runner_log, "reporter_dir": args.reporter_dir, "junit_dir": args.junit_dir,
        "inventory": args.inventory, "runner_pid": args.runner_pid, "runner_unit": args.runner_unit,
    }
    if args.categorized:
        extra["categorized"] = True
    if args.expect_hosts:
        extra["expected_hosts"] = [h.strip() for h in args.expect_hosts.split(",") if h.strip()]
    settings = _settings(args, environ, **extra)
    if not _valid(settings, require_webhook=True):
        return EXIT_CONFIG
    return Watcher(settings, environ=environ).run()


def _store_of(args: argparse.Namespace, environ: Dict[str, str]) -> Any:
    from .store.runstore import RunStore  # pylint: disable=import-outside-toplevel

    settings = _settings(args, environ)
    return settings, RunStore(settings.paths, secrets=(settings.webhook,))


def cmd_status(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .control.runinfo import read_run, status_lines  # pylint: disable=import-outside-toplevel
    from .host.systemd import Systemd  # pylint: disable=import-outside-toplevel

    settings, store = _store_of(args, environ)
    info = read_run(store, Systemd(), settings.build_name)
    if info["run_state"] is None:
        raise WatcherError("no state for build {0} under {1}".format(settings.build_name, settings.state_root))
    if args.json:
        sys.stdout.write(redact(json.dumps(info, indent=2, sort_keys=True, default=str), [settings.webhook]) + "\n")
    else:
        sys.stdout.write(redact("\n".join(status_lines(info)), [settings.webhook]) + "\n")
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .control.cancel import cancel_run  # pylint: disable=import-outside-toplevel
    from .host.systemd import Systemd  # pylint: disable=import-outside-toplevel

    settings, store = _store_of(args, environ)
    if not os.path.isdir(store.paths.dir):
        raise WatcherError("no run {0} under {1}".format(settings.build_name, settings.state_root))
    result = cancel_run(store, Systemd(), settings.build_name, "atvm-run-watcher cancel", args.reason)
    stopped = "; stopped: " + ", ".join(result["stopped"]) if result["stopped"] else ""
    sys.stdout.write("{0}{1}\n".format(result["msg"], stopped))
    return EXIT_OK


def cmd_resend(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .control.resend import resend_run  # pylint: disable=import-outside-toplevel

    settings, store = _store_of(args, environ)
    if not _valid(settings, require_webhook=True):
        return EXIT_CONFIG
    records = resend_run(settings, store, args.key, warn=lambda text: sys.stderr.write(text + "\n"))
    if not records:
        sys.stdout.write("nothing to resend for {0}\n".format(settings.build_name))
        return EXIT_OK
    failed = 0
    for record in records:
        detail = " ({0})".format(record.get("last_error")) if record.get("status") != "SENT" else ""
        sys.stdout.write(redact("{0}: {1}{2}".format(record.get("key"), record.get("status"), detail),
                                [settings.webhook]) + "\n")
        failed += record.get("status") != "SENT"
    return EXIT_DELIVERY_FAILED if failed else EXIT_OK


def cmd_history(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .control.history import find_suite, runs_lines, suite_runs, suites_lines  # pylint: disable=import-outside-toplevel
    from .runpaths import HistoryPaths  # pylint: disable=import-outside-toplevel
    from .store.history import HistoryStore  # pylint: disable=import-outside-toplevel

    settings = _settings(args, environ)
    store = HistoryStore(HistoryPaths(settings.state_root), journal=lambda line: _err(line, [settings.webhook]))
    if args.suite:
        data: Any = suite_runs(store, find_suite(store, args.suite)["id"], max(1, args.runs))
        lines = runs_lines(data)
    else:
        data = {"state_root": settings.state_root, "suites": store.suites()}
        lines = suites_lines(data["suites"])
    text = json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) if args.json else "\n".join(lines)
    sys.stdout.write(redact(text, [settings.webhook]) + "\n")
    return EXIT_OK


def cmd_verdict(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .offline import offline_verdict  # pylint: disable=import-outside-toplevel

    env = load_env(args.env_file, {k: v for k, v in environ.items() if k.startswith("ATVM_")})
    settings = Settings.from_env(env)
    if args.categorized:
        settings.categorized = True
    if args.expect_hosts:
        settings.expected_hosts = [h.strip() for h in args.expect_hosts.split(",") if h.strip()]
    result = offline_verdict(settings, log=args.log, reporter_dir=args.reporter_dir, junit=args.junit,
                             inventory=args.inventory, exit_code=args.exit_code, build_name=args.build_name or "verdict")
    if args.json:
        sys.stdout.write(json.dumps(result, indent=2, sort_keys=True, default=str) + "\n")
    else:
        sys.stdout.write("{0} / {1}\n".format(result["state"], result["result"]))
        for sub in result["subruns"]:
            sys.stdout.write("\n" + redact(sub["message"], [settings.webhook]) + "\n")
    return EXIT_OK


def cmd_signatures(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .evidence import signatures  # pylint: disable=import-outside-toplevel

    if args.literals:
        sys.stdout.write("".join(phrase + "\n" for phrase in signatures.literals()))
    elif args.json:
        sys.stdout.write(json.dumps([s.to_dict() for s in signatures.SIGNATURES], indent=2) + "\n")
    else:
        sys.stdout.write(signatures.table())
    return EXIT_OK


def _run_args(p: argparse.ArgumentParser) -> None:
    """The options of every command about one run."""
    p.add_argument("--build-name", required=True)
    p.add_argument("--state-root", help="state root (default /var/lib/atvm-run-watcher or ATVM_STATE_ROOT)")
    p.add_argument("--env-file", action="append", help="env file (repeatable; default: the global and per-run files)")


def _add_run_commands(sub: Any) -> None:
    """watch, status, cancel, resend: the commands about one run."""
    watch = sub.add_parser("watch", help="watch a run until it is over and post its result")
    _run_args(watch)
    for option in ("--runner-log", "--reporter-dir", "--junit-dir", "--inventory"):
        watch.add_argument(option)
    who = watch.add_mutually_exclusive_group()
    who.add_argument("--runner-pid", type=int)
    who.add_argument("--runner-unit")
    watch.add_argument("--categorized", action="store_true")
    watch.add_argument("--expect-hosts", help="comma-separated hosts expected in the run")
    watch.set_defaults(func=cmd_watch)

    status = sub.add_parser("status", help="show a run's state")
    _run_args(status)
    status.add_argument("--json", action="store_true")
    status.set_defaults(func=cmd_status)

    cancel = sub.add_parser("cancel", help="cancel a run: marker, then stop its runner and its watcher (nothing is posted)")
    _run_args(cancel)
    cancel.add_argument("--reason", default="cancelled with atvm-run-watcher cancel")
    cancel.set_defaults(func=cmd_cancel)

    resend = sub.add_parser("resend", help="post failed deliveries again")
    _run_args(resend)
    resend.add_argument("--key", help="one outbox key (default: every POST_FAILED record)")
    resend.set_defaults(func=cmd_resend)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atvm-run-watcher", description="Watch ATVM Cypress runs and post their result to Mattermost.")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check-config", help="validate settings (env files) without side effects")
    check.add_argument("--env-file", action="append", help="env file to check (repeatable); default: the environment")
    check.add_argument("--no-webhook", action="store_true", help="do not require MATTERMOST_ATVM_WEBHOOK")
    check.add_argument("--strict", action="store_true",
                       help="an ATVM_ name that is not a setting (a typo, a removed setting) is an error, not a warning")
    check.add_argument("--send-test", action="store_true",
                       help="then post one test line to the channel (fails with the server's answer)")
    check.set_defaults(func=cmd_check_config)

    _add_run_commands(sub)

    history = sub.add_parser("history", help="the suites' history: the suites, or the last runs of one suite and the "
                                             "tests that changed (docs/history.md)")
    history.add_argument("--suite", help="a suite: its id, its key, or a part of either only one suite has")
    history.add_argument("--runs", type=int, default=20, help="runs shown of the suite (default 20)")
    history.add_argument("--state-root", help="state root (default /var/lib/atvm-run-watcher or ATVM_STATE_ROOT)")
    history.add_argument("--env-file", action="append", help="env file (repeatable; default: the global file)")
    history.add_argument("--json", action="store_true")
    history.set_defaults(func=cmd_history)

    verdict = sub.add_parser("verdict", help="decide a run offline from its files, without posting")
    verdict.add_argument("--log", required=True)
    verdict.add_argument("--reporter-dir")
    verdict.add_argument("--junit", help="JUnit XML file or directory")
    verdict.add_argument("--inventory")
    verdict.add_argument("--exit-code", type=int)
    verdict.add_argument("--expect-hosts")
    verdict.add_argument("--categorized", action="store_true")
    verdict.add_argument("--build-name")
    verdict.add_argument("--env-file", action="append")
    verdict.add_argument("--json", action="store_true")
    verdict.set_defaults(func=cmd_verdict)

    sigs = sub.add_parser("signatures", help="print the failure signatures searched for in the runner log")
    sigs_how = sigs.add_mutually_exclusive_group()
    sigs_how.add_argument("--literals", action="store_true", help="one phrase per line (for grep -F -f)")
    sigs_how.add_argument("--json", action="store_true")
    sigs.set_defaults(func=cmd_signatures)
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
        return EXIT_CONFIG if getattr(args, "command", "") == "watch" else EXIT_ERROR
    except WatcherError as exc:
        _err(str(exc), secrets)
        return EXIT_ERROR
    except KeyboardInterrupt:
        return 130

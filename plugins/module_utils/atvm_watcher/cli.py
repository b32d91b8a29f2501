# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ``atvm-run-watcher`` command line: watch, status, cancel, resend, history, check-config, verdict, signatures."""
from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any, Dict, List, Optional

from . import settings as settings_module
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
    sys.stdout.write("configuration OK ({0})\n".format(_what_was_read(args.env_file, environ)))
    return _send_test(settings) if args.send_test else EXIT_OK


def _what_was_read(env_files: Optional[List[str]], environ: Dict[str, str]) -> str:
    """The sources check-config read, named: the env files, and the ATVM_ variables of the environment."""
    if env_files:
        return ", ".join(env_files)
    names = sorted(k for k in environ if k.startswith("ATVM_") or k.startswith("MATTERMOST_ATVM_"))
    from_environment = "{0} from the environment".format(", ".join(names)) if names else ""
    global_file = settings_module.GLOBAL_ENV_FILE  # what load_env read
    if os.path.isfile(global_file) and os.access(global_file, os.R_OK):
        return global_file + (", then " + from_environment if from_environment else "")
    return "no env file: {0} is {1}; {2}".format(
        global_file, "not readable" if os.path.exists(global_file) else "missing",
        from_environment or "no ATVM_ variable in the environment either")


def _send_test(settings: Settings) -> int:
    """Post the one-line test message through the configured webhook, once, within seconds: a webhook that is not
    a URL, a server that cannot be reached and a server that refuses the post are each named as such."""
    import socket  # pylint: disable=import-outside-toplevel

    from . import __version__  # pylint: disable=import-outside-toplevel
    from .delivery import testpost  # pylint: disable=import-outside-toplevel

    result = testpost.send_test_post(
        settings.webhook or "", "atvm.watcher {0} installed on {1}; run results will be posted here".format(
            __version__, socket.gethostname()),
        channel=settings.channel, username=settings.username, timeout=min(settings.http_timeout, 10.0))
    if not result.ok:
        words = {testpost.NOT_URL: "the webhook is not an incoming webhook URL",
                 testpost.UNREACHABLE: "the test post could not reach Mattermost",
                 testpost.REFUSED: "the test post was refused",
                 testpost.SERVER_ERROR: "Mattermost could not take the test post"}[result.outcome]
        _err("{0}: {1}".format(words, result.reason), [settings.webhook])
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
        detail = " ({0})".format(record.last_error) if record.status != "SENT" else ""
        sys.stdout.write(redact("{0}: {1}{2}".format(record.key, record.status, detail),
                                [settings.webhook]) + "\n")
        failed += record.status != "SENT"
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
    return verdict_exit_status(result["result"]) if args.exit_status else EXIT_OK


# ``verdict --exit-status``: the result as the exit status, for scripts and CI.
VERDICT_EXIT_PASS, VERDICT_EXIT_FAIL, VERDICT_EXIT_OTHER = 0, 1, 2


def verdict_exit_status(result: str) -> int:
    """0 for PASS, 1 for FAIL, 2 for anything else (RUN, UNKNOWN)."""
    return {"PASS": VERDICT_EXIT_PASS, "FAIL": VERDICT_EXIT_FAIL}.get(result, VERDICT_EXIT_OTHER)


def cmd_signatures(args: argparse.Namespace, environ: Dict[str, str]) -> int:
    from .evidence import signatures  # pylint: disable=import-outside-toplevel

    if args.literals:
        sys.stdout.write("".join(phrase + "\n" for phrase in signatures.literals()))
    elif args.json:
        sys.stdout.write(json.dumps([s.to_dict() for s in signatures.SIGNATURES], indent=2) + "\n")
    else:
        sys.stdout.write(signatures.table())
    return EXIT_OK


EPILOG = """examples:
  atvm-run-watcher status --build-name nightly-42
  atvm-run-watcher status --build-name nightly-42 --json
  atvm-run-watcher cancel --build-name nightly-42 --reason "wrong config family"
  atvm-run-watcher resend --build-name nightly-42
  atvm-run-watcher check-config --send-test
  atvm-run-watcher verdict --log runner.log --reporter-dir cmc/ --exit-code 0 --exit-status

exit status:
  0  success
  1  an error: bad input, a run or file that does not exist, a test post that failed (the message says
     what and where); verdict --exit-status: the result is FAIL
  2  usage (an unknown option); verdict --exit-status: the result is neither PASS nor FAIL
  3  a post could not be delivered (watch, resend): it is kept in the outbox for a resend
  4  the configuration is invalid (watch, resend)
"""

VERDICT_EPILOG = """examples:
  atvm-run-watcher verdict --log runner.log --reporter-dir cmc/ --junit results/ --exit-code 0
  atvm-run-watcher verdict --log runner.log --categorized --json
  atvm-run-watcher verdict --log runner.log --reporter-dir cmc/ --exit-status && echo PASS

exit status: 0 (the verdict was made; with --exit-status: 0 PASS, 1 FAIL, 2 anything else),
1 an input could not be read, 2 usage.
"""


def _run_args(p: argparse.ArgumentParser) -> None:
    """The options of every command about one run."""
    p.add_argument("--build-name", required=True, metavar="B",
                   help="the build name of the run (its state directory <state root>/B, its units atvm-run-watcher@B "
                        "and atvm-runner@B)")
    p.add_argument("--state-root", help="state root (default /var/lib/atvm-run-watcher or ATVM_STATE_ROOT)")
    p.add_argument("--env-file", action="append",
                   help="env file (repeatable; default: /etc/atvm-run-watcher.env, then the run's watcher.env)")


def _add_run_commands(sub: Any) -> None:
    """watch, status, cancel, resend: the commands about one run."""
    watch = sub.add_parser("watch", help="watch a run until it is over and post its result")
    _run_args(watch)
    for option, what in (("--runner-log", "the runner log to follow (ATVM_RUNNER_LOG)"),
                         ("--reporter-dir", "the per-host reporter artifacts (ATVM_REPORTER_DIR)"),
                         ("--junit-dir", "the JUnit XML files (ATVM_JUNIT_DIR)"),
                         ("--inventory", "the VM inventory Markdown file (ATVM_INVENTORY)")):
        watch.add_argument(option, help=what)
    who = watch.add_mutually_exclusive_group()
    who.add_argument("--runner-pid", type=int, help="watch a runner started by hand, by its PID (no systemd unit)")
    who.add_argument("--runner-unit", help="the runner's systemd unit (default atvm-runner@B.service)")
    watch.add_argument("--categorized", action="store_true",
                       help="the runner runs grouped sub-runs one after another: one post per finished sub-run")
    watch.add_argument("--expect-hosts", help="comma-separated hosts expected in the run")
    watch.set_defaults(func=cmd_watch)

    status = sub.add_parser("status", help="show a run's state")
    _run_args(status)
    status.add_argument("--json", action="store_true", help="print the run as JSON (what the run_info module returns)")
    status.set_defaults(func=cmd_status)

    cancel = sub.add_parser("cancel", help="cancel a run: marker, then stop its runner and its watcher (nothing is posted)")
    _run_args(cancel)
    cancel.add_argument("--reason", default="cancelled with atvm-run-watcher cancel",
                        help="why (kept in the cancellation marker and the run's state)")
    cancel.set_defaults(func=cmd_cancel)

    resend = sub.add_parser("resend", help="post failed deliveries again")
    _run_args(resend)
    resend.add_argument("--key", help="one outbox key (default: every POST_FAILED record)")
    resend.set_defaults(func=cmd_resend)


def _add_history_command(sub: Any) -> None:
    history = sub.add_parser("history", help="the suites' history: the suites, or the last runs of one suite and the "
                                             "tests that changed (docs/history.md)")
    history.add_argument("--suite", help="a suite: its id, its key, or a part of either only one suite has")
    history.add_argument("--runs", type=int, default=20, help="runs shown of the suite (default 20)")
    history.add_argument("--state-root", help="state root (default /var/lib/atvm-run-watcher or ATVM_STATE_ROOT)")
    history.add_argument("--env-file", action="append", help="env file (repeatable; default: the global file)")
    history.add_argument("--json", action="store_true", help="print the suites or the runs as JSON")
    history.set_defaults(func=cmd_history)


def _add_verdict_command(sub: Any) -> None:
    verdict = sub.add_parser(
        "verdict", help="decide a run offline from its files, without posting",
        description="Decide a run offline from its files (the runner log, reporter artifacts, JUnit XML) by the "
                    "watcher's own rules, without posting. Without --reporter-dir no host can be checked: the result "
                    "is never PASS.",
        epilog=VERDICT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    verdict.add_argument("--log", required=True, help="the runner log (Cypress console output, with its wrapper's)")
    verdict.add_argument("--reporter-dir", help="the per-host reporter artifacts (cmcReporter JSON)")
    verdict.add_argument("--junit", help="JUnit XML file or directory")
    verdict.add_argument("--inventory", help="the VM inventory Markdown file (each host's OS and kernel)")
    verdict.add_argument("--exit-code", type=int, metavar="N",
                         help="the runner's exit status, when known (non-zero fails the run)")
    verdict.add_argument("--expect-hosts", metavar="H1,H2", help="comma-separated hosts the run must report on")
    verdict.add_argument("--categorized", action="store_true",
                         help="the log holds grouped sub-runs, one after another: one verdict per sub-run")
    verdict.add_argument("--build-name", metavar="B", help="the build name shown in the verdict (default: verdict)")
    verdict.add_argument("--env-file", action="append", help="env file with settings (repeatable)")
    verdict.add_argument("--json", action="store_true", help="print the verdict as JSON")
    verdict.add_argument("--exit-status", action="store_true",
                         help="exit with the result: 0 PASS, 1 FAIL, 2 anything else (for scripts and CI)")
    verdict.set_defaults(func=cmd_verdict)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="atvm-run-watcher", description="Watch ATVM Cypress runs and post their "
                                     "result to Mattermost. Each command has its own --help.",
                                     epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    check = sub.add_parser("check-config", help="validate settings (env files) without side effects")
    check.add_argument("--env-file", action="append", help="env file to check (repeatable); default: "
                       "/etc/atvm-run-watcher.env, then the ATVM_ variables of the environment")
    check.add_argument("--no-webhook", action="store_true", help="do not require MATTERMOST_ATVM_WEBHOOK")
    check.add_argument("--strict", action="store_true",
                       help="an ATVM_ name that is not a setting (a typo, a removed setting) is an error, not a warning")
    check.add_argument("--send-test", action="store_true",
                       help="then post one test line to the channel (fails with the server's answer)")
    check.set_defaults(func=cmd_check_config)

    _add_run_commands(sub)

    _add_history_command(sub)
    _add_verdict_command(sub)

    sigs = sub.add_parser("signatures", help="print the failure signatures searched for in the runner log")
    sigs_how = sigs.add_mutually_exclusive_group()
    sigs_how.add_argument("--literals", action="store_true", help="one phrase per line (for grep -F -f)")
    sigs_how.add_argument("--json", action="store_true", help="the signatures as JSON (phrase, meaning, fatal or retried)")
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

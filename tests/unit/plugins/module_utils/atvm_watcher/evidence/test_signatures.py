# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every failure signature on a real-shaped line, found before, between and after runs."""
from __future__ import annotations

import json
import pathlib
import re

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import cli
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import signatures
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.decision.rules import Evidence, decide
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import ExitInfo

# One line as Cypress (or the tool around it) prints it, per signature; ANSI as Cypress colours it.
LINES = {
    "RENDERER_CRASHED": "We detected that the Electron Renderer process just crashed.",
    "BROWSER_CRASHED": "We detected that the \x1b[33mChrome\x1b[39m process just crashed with code '\x1b[33mnull\x1b[39m'"
                       " and signal '\x1b[33mSIGTRAP\x1b[39m'.",
    "AUTOMATION_SERVER_DISCONNECTED": "The automation client disconnected. Cannot continue running tests.",
    "CDP_COULD_NOT_RECONNECT": "There was an error reconnecting to the Chrome DevTools protocol. Please restart the browser.",
    "CHILD_PROCESS_KILLED": "The Test Runner unexpectedly exited via a exit event with signal SIGSEGV",
    "SEGMENTATION_FAULT": "/root/.cache/Cypress/13.6.1/Cypress/Cypress: line 3:  4242 Segmentation fault      (core dumped)",
    "CONFIG_OR_PLUGIN_CRASHED": "We stopped running your tests because your config file crashed.",
    "TESTS_DID_NOT_START_FAILED": "The browser never connected. Something is wrong. The tests cannot run. Aborting...",
    "TESTS_DID_NOT_START_RETRYING": "Timed out waiting for the browser to connect. Retrying...",
    "CDP_RETRYING_CONNECTION": "Still waiting to connect to Chrome, retrying in 1 second \x1b[90m(attempt 18/62)\x1b[39m",
    "CDP_COULD_NOT_CONNECT": "Cypress failed to make a connection to the Chrome DevTools Protocol after retrying for 50 seconds.",
    "FIREFOX_COULD_NOT_CONNECT": "Cypress failed to make a connection to Firefox.",
    "FIREFOX_MARIONETTE_FAILURE": "Cypress could not connect to Firefox.",
    "MISSING_BROWSER_CRI_CLIENT": "Error: Missing browserCriClient in connectToNewSpec",
    "MISSING_PAGE_CRI_CLIENT": "Error: Missing pageCriClient in connectToNewSpec",
    "PLUGINS_RUN_EVENT_ERROR": "An error was thrown in your plugins file while executing the handler for the "
                               "\x1b[34mafter:run\x1b[39m event.",
    "PLUGINS_FUNCTION_ERROR": "The function exported by the plugins file threw an error.",
    "PLUGINS_FILE_ERROR": "The plugins file is missing or invalid.",
    "PLUGINS_DIDNT_EXPORT_FUNCTION": "The `pluginsFile` must export a function with the following signature:",
    "PLUGINS_VALIDATION_ERROR": "The following validation error was thrown by your plugins file "
                                "(`/app/cypress/plugins/index.js`).",
    "CONFIG_FILE_SETUP_NODE_EVENTS_ERROR": "The error was thrown while executing your \x1b[34me2e.setupNodeEvents()"
                                           "\x1b[39m function:",
    "CONFIG_FILE_ERROR": "Your \x1b[35mconfigFile\x1b[39m threw an error from: \x1b[94m/app/cypress.config.ts\x1b[39m",
    "CONFIG_FILE_REQUIRE_ERROR": "It threw an error when required, check the stack trace below:",
    "SETUP_NODE_EVENTS_IS_NOT_FUNCTION": "The \x1b[35me2e.setupNodeEvents()\x1b[39m function must be defined with the "
                                         "following signature:",
    "SETUP_NODE_EVENTS_INVALID_EVENT_NAME_ERROR": "Your \x1b[35mconfigFile\x1b[39m threw a validation error from: "
                                                  "/app/cypress.config.js",
    "CONFIG_VALIDATION_ERROR": "Your \x1b[34mconfigFile\x1b[39m at \x1b[94m/app/cypress.config.js\x1b[39m set an "
                               "invalid value:",
    "CONFIG_VALIDATION_MSG_ERROR": "An invalid configuration value was set.",
    "CONFIG_FILE_READ_ERROR": "Error reading from: \x1b[34m`/app/cypress.json`\x1b[39m",
    "CONFIG_FILE_NOT_FOUND": "Could not find a Cypress configuration file.",
    "CONFIG_FILES_LANGUAGE_CONFLICT": "Could not load a Cypress configuration file because there are multiple matches.",
    "SUPPORT_FILE_NOT_FOUND": "The supportFile must be a .js, .ts, .coffee file or be supported by your preprocessor "
                              "plugin (if configured).",
    "DEFAULT_SUPPORT_FILE_NOT_FOUND": "Your project does not contain a default \x1b[34msupportFile\x1b[39m. We expect "
                                      "a file matching \x1b[94mcypress/support/e2e.{js,jsx,ts,tsx}\x1b[39m to exist.",
    "NO_SPECS_FOUND": "Can't run because \x1b[33mno spec files\x1b[39m were found.",
    "BROWSER_NOT_FOUND_BY_NAME": "Can't run because you've entered an invalid browser name.",
    "BROWSER_NOT_FOUND_BY_PATH": "We could not identify a known browser at the path you provided: "
                                 "\x1b[94m/usr/bin/chromium\x1b[39m",
    "PORT_IN_USE_LONG": "Can't run project because port is currently in use: \x1b[34m8080\x1b[39m",
    "BINARY_NOT_FOUND": "The cypress npm package is installed, but the Cypress binary is missing.",
    "FAILED_TO_START": "Cypress failed to start.",
    "VERIFICATION_FAILED": "Cypress verification failed.",
    "VERIFICATION_TIMED_OUT": "Cypress verification timed out.",
    "MISSING_XVFB": "Your system is missing the dependency: Xvfb",
    "XVFB_FAILED": "Xvfb exited with a non zero exit code.",
    "CANNOT_CONNECT_BASE_URL": "Cypress failed to verify that your server is running.",
    "CANNOT_CONNECT_BASE_URL_RETRYING": "Cypress could not verify that this server is running:",
    "BUNDLE_ERROR": "Oops...we found an error preparing this test file:",
    "CLOUD_CANCEL_SKIPPED_SPEC": "  This spec and its tests were skipped because the run has been canceled.",
    "RUN_CANCELED_EXIT": "  Exiting with non-zero exit code because the run was canceled.",
    "RUN_CANCELED_SUMMARY": "    -  The run was canceled                     XX:XX        1        1        -        -",
    "CLOUD_API_RESPONSE_FAILED_RETRYING": "We encountered an unexpected error talking to our servers.",
    "CLOUD_CANNOT_PROCEED": "Because you passed the \x1b[34m--parallel\x1b[39m flag, this run cannot proceed because it "
                            "requires a valid response from our servers.",
    "RECORD_KEY_MISSING": "You passed the \x1b[34m--record\x1b[39m flag but did not provide us your Record Key.",
    "CANNOT_RECORD_NO_PROJECT_ID": "You passed the \x1b[34m--record\x1b[39m flag but this project has not been setup to "
                                   "record.",
    "RECORD_KEY_NOT_VALID": "Your Record Key \x1b[33mabc-123\x1b[39m is not valid with this projectId: "
                            "\x1b[34mxyz123\x1b[39m",
    "CLOUD_PROJECT_NOT_FOUND": "We could not find a Cypress Cloud project with the projectId: \x1b[33mxyz123\x1b[39m",
    "CLOUD_STALE_RUN": "You are attempting to pass the \x1b[34m--parallel\x1b[39m flag to a run that was completed over "
                       "24 hours ago.",
    "CLOUD_ALREADY_COMPLETE": "The run you are attempting to access is already complete and will not accept new groups.",
    "INDETERMINATE_CI_BUILD_ID": "You passed the \x1b[34m--group\x1b[39m or \x1b[34m--parallel\x1b[39m flag but we could "
                                 "not automatically determine or generate a ciBuildId.",
    "RECORD_PARAMS_WITHOUT_RECORDING": "You passed the --ci-build-id, --group, --tag, or --parallel flag without also "
                                       "passing the --record flag.",
    "CLOUD_INVALID_RUN_REQUEST": "Recording this run failed because the request was invalid.",
    "HEAP_OUT_OF_MEMORY": "FATAL ERROR: Reached heap limit Allocation failed - JavaScript heap out of memory",
    "COMMAND_FAILED": "Error: Command failed with exit code 6: npm run cypress",
}

RUN = (
    "====================================================================================================\n"
    "\n"
    "  (Run Starting)\n"
    "\n"
    "  \u250c\u2500\u2500\u2500\u2510\n"
    "  \u2502 Cypress:        13.6.1                                              \u2502\n"
    "  \u2502 Specs:          1 found (a.cy.js)                                   \u2502\n"
    "  \u2514\u2500\u2500\u2500\u2518\n"
    "\n"
    "  Running:  a.cy.js                                                                         (1 of 1)\n"
    "\n"
    "  (Results)\n"
    "\n"
    "  \u250c\u2500\u2500\u2500\u2510\n"
    "  \u2502 Tests:        1        \u2502\n"
    "  \u2502 Passing:      1        \u2502\n"
    "  \u2502 Failing:      0        \u2502\n"
    "  \u2514\u2500\u2500\u2500\u2518\n"
    "\n"
    "  (Run Finished)\n"
    "\n"
    "       Spec                                              Tests  Passing  Failing  Pending  Skipped  \n"
    "  \u250c\u2500\u2500\u2500\u2510\n"
    "  \u2502 \u2714  a.cy.js                                  00:01        1        1        -        -        - \u2502\n"
    "  \u2514\u2500\u2500\u2500\u2518\n"
    "    \u2714  All specs passed!                        00:01        1        1        -        -        -  \n"
)


def parse(text: str, chunk: int = 0) -> CypressLogParser:
    parser = CypressLogParser()
    data = text.encode("utf-8")
    if chunk:
        for i in range(0, len(data), chunk):
            parser.feed(data[i:i + chunk])
    else:
        parser.feed(data)
    parser.finish()
    return parser


def test_the_table_has_at_least_thirty_signatures_each_with_a_line():
    names = [s.name for s in signatures.SIGNATURES]
    assert len(names) >= 30
    assert len(set(names)) == len(names)
    assert set(LINES) == set(names)
    for sig in signatures.SIGNATURES:
        assert sig.meaning in signatures.MEANINGS
        assert sig.phrase.isascii() and sig.phrase == sig.phrase.strip()
        assert re.match(r"^(?:\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?|any)$", sig.versions)
        for wording, versions in sig.older:
            assert wording.isascii() and wording == wording.strip() and wording not in sig.phrase
            assert re.match(r"^\d+(?:\.\d+)?(?:-\d+(?:\.\d+)?)?$", versions)
        assert sig.fatal == (sig.cleared_by is None)


@pytest.mark.parametrize("name", sorted(LINES))
def test_each_line_is_named_by_its_signature(name):
    clean = re.sub(r"\x1b\[[0-9;]*m", "", LINES[name])
    assert signatures.match_line(clean).name == name
    # the phrase is in the raw (coloured) line too: grep -F finds it there
    assert signatures.by_name(name).phrase in LINES[name]
    assert signatures.scanner().search(LINES[name].encode())


@pytest.mark.parametrize("name", sorted(LINES))
@pytest.mark.parametrize("where", ["before", "between", "after"])
def test_each_signature_is_found_anywhere_in_the_log(name, where):
    line = LINES[name] + "\n"
    sig = signatures.by_name(name)
    text = {"before": line + RUN + RUN, "between": RUN + line + RUN, "after": RUN + RUN + line}[where]
    parser = parse(text, chunk=7)
    found = parser.preamble_problems if where == "before" else parser.runs[0 if where == "between" else 1].problems
    clean = re.sub(r"\x1b\[[0-9;]*m", "", line).strip()
    if sig.fatal:
        assert clean in found
        if sig.flag and where != "before":
            assert getattr(parser.runs[0 if where == "between" else 1], sig.flag) is True
    elif sig.cleared_by == "run_start" and where != "after":
        assert clean not in found  # a (Run Starting) followed: the condition was overcome
    elif sig.cleared_by == "connected" and where != "after":
        assert clean not in found  # a Running: line / (Results) box followed: the browser connected
    else:
        assert clean in found  # nothing overcame it


# The older wordings, each as the Cypress version that printed it printed it (its source, see signatures.py).
OLDER_LINES = {
    "CONFIG_OR_PLUGIN_CRASHED": "The following error was thrown by a plugin. We've stopped running your tests because "
                                "a plugin crashed.",
    "CDP_RETRYING_CONNECTION": "Failed to connect to Chrome, retrying in 1 second (attempt 18/62)",
    "CONFIG_FILE_REQUIRE_ERROR": "Your configFile is invalid: /app/cypress.config.ts",
    "CONFIG_VALIDATION_ERROR": "We found an invalid value in the file: `cypress.json`",
    "CONFIG_VALIDATION_MSG_ERROR": "We found an invalid configuration value:",
    "CONFIG_FILE_NOT_FOUND": "Could not find any tests to run.",
    "SUPPORT_FILE_NOT_FOUND": "The support file is missing or invalid.",
    "MISSING_XVFB": "Your system is missing the dependency: XVFB",
    "XVFB_FAILED": "Error: XVFB exited with a non zero exit code.",
    "CLOUD_PROJECT_NOT_FOUND": "We could not find a project with the ID: abc123",
}


def test_every_older_wording_has_a_line_and_names_its_signature():
    assert set(OLDER_LINES) == {s.name for s in signatures.SIGNATURES if s.older}
    for name, line in OLDER_LINES.items():
        assert signatures.match_line(line).name == name, line
        assert any(w in line for w, _v in signatures.by_name(name).older)
        run = parse(RUN + line + "\n").runs[0]
        assert run.problems == [line] and run.finished


def test_match_words_gives_what_match_line_gives():
    scan = signatures.scanner()
    lines = list(LINES.values()) + list(OLDER_LINES.values()) + [
        "Can't run because you've entered an invalid browser name.",
        "Timed out waiting for the browser to connect. The browser never connected.",
        "plain output line", "XVFB exited with a non zero exit code. Xvfb exited with a non zero exit code."]
    for line in lines:
        clean = re.sub(r"\x1b\[[0-9;]*m", "", line)
        assert signatures.match_words(scan.words_in(line.encode()), clean) == signatures.match_line(clean), line


def test_lines_that_are_not_failures_are_not_signatures():
    for line in ("Warning: We failed to trash the existing run results.",
                 "This error will not affect or change the exit code.",
                 "Error: spawn Unknown system error -86",
                 "    \u2713 should connect to CNC machine by selecting the first available port (17241ms)",
                 "[12739:0201/230002.514677:ERROR:bus.cc(392)] Failed to connect to the bus: Failed to connect to socket",
                 "  Timed out retrying after 4000ms: expected 'a' to equal 'b'"):
        assert signatures.match_line(line) is None, line


def test_retried_browser_connection_counts_when_nothing_follows():
    text = RUN.split("  Running:", maxsplit=1)[0] + "  Running:  a.cy.js  (1 of 1)\n" + LINES["TESTS_DID_NOT_START_RETRYING"] + "\n"
    run = parse(text).runs[0]
    assert run.problems == [LINES["TESTS_DID_NOT_START_RETRYING"]]


def test_never_started_with_non_zero_exit_is_failed_with_the_reason():
    parser = parse("Cypress could not verify that this server is running:\n\n  > http://localhost:3000\n\n"
                   "We are verifying this server because it has been configured as your baseUrl.\n\n"
                   "Cypress failed to verify that your server is running.\n\n"
                   "Please start this server and then run Cypress again.\n")
    assert parser.runs == [] and parser.preamble_fatal
    ev = Evidence(runs=[], preamble_problems=parser.preamble_problems, preamble_fatal=True, offline=True,
                  runner_over=True, exit=ExitInfo(known=True, running=False, exit_code=1))
    verdict = decide(ev)
    assert (verdict.state, verdict.result) == ("FAILED", "FAIL")
    reasons = verdict.subruns[0].reasons
    assert "Cypress failed to verify that your server is running." in reasons
    assert "the Cypress run never started" in reasons
    # offline without an exit code: not PASS, the reason listed
    verdict = decide(Evidence(runs=[], preamble_problems=parser.preamble_problems, preamble_fatal=True,
                              offline=True))
    assert verdict.state == "FAILED" and verdict.result == "FAIL"
    assert "Cypress failed to verify that your server is running." in verdict.subruns[0].reasons


def test_cli_prints_the_table_and_the_literals(capsys):
    assert cli.main(["signatures", "--literals"], environ={}) == 0
    assert capsys.readouterr().out.splitlines() == signatures.literals()
    assert cli.main(["signatures"], environ={}) == 0
    table = capsys.readouterr().out
    for sig in signatures.SIGNATURES:
        assert sig.name in table and sig.phrase in table
    assert cli.main(["signatures", "--json"], environ={}) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == [s.name for s in signatures.SIGNATURES]


def test_docs_signatures_lists_every_wording_with_its_versions():
    doc = (pathlib.Path(__file__).resolve().parents[6] / "docs" / "signatures.md").read_text(encoding="utf-8")
    rows = [line for line in doc.splitlines() if line.startswith("| ")]
    for sig in signatures.SIGNATURES:
        assert any(row.startswith("| `{0}` | `{1}`".format(sig.name, sig.phrase.replace("|", "\\|")))
                   and " | {0} | ".format(sig.versions) in row for row in rows), sig.name
        for wording, versions in sig.older:
            assert "| | `{0}` | {1} | | |".format(wording, versions) in rows, wording

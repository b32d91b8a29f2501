# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Failure signatures of Cypress console output, as data: the texts that make a run fail.

Every entry of :data:`SIGNATURES` is one text Cypress (or the tools that run it) prints when a
run cannot give a trustworthy result: a crash, a plugin or configuration error, a browser that
never connected, a server that was never verified, a canceled run, no specs, out of memory, a
recording refused by the cloud service, a runner that could not start. Most come from Cypress's
own error catalogue, in every version that printed them: ``packages/server/lib/errors.coffee``
(3.x), ``packages/server/lib/errors.js`` (4.x to 9.x), ``packages/errors/src/errors.ts`` (10.x and
later) and ``cli/lib/errors.js``; the rest are the crash and exit texts of the run output (Node,
Chromium, npm / execa). The table is documented in docs/signatures.md.

Fields of :class:`Signature`:

- ``name``: a stable identifier (the Cypress error name where there is one);
- ``phrase``: the literal text searched for, as the newest versions print it (ASCII, never split by
  Cypress's colouring, so that ``grep -F`` finds it in the raw log too); ``regex``, when given, must
  also match the cleaned line (only where a phrase alone would catch ordinary test output);
- ``older``: the other wordings of the same failure, ``(wording, versions)``, as older versions
  print it (``XVFB exited ...`` in Cypress 3.0 to 3.4); every wording is searched like the phrase;
- ``meaning``: one of :data:`MEANINGS`;
- ``fatal``: True when the text alone means the run (or the spec) failed; False for a retried
  condition, which counts only if nothing shows that it was overcome (``cleared_by``);
- ``cleared_by``: for a retried one, what overcomes it: ``"run_start"`` (a ``(Run Starting)``
  header follows: the server answered) or ``"connected"`` (a ``(Results)`` box, a ``Running:``
  line or the ``(Run Finished)`` table follows: the browser connected);
- ``flag``: the :class:`~.models.CypressRun` flag it sets (``crashed``, ``plugin_error``,
  ``no_specs``, ``canceled``) or None;
- ``versions``: the Cypress major versions that print the phrase (``3.5-15``: from 3.5 on).

:func:`match_line` says which signature a cleaned line carries; :func:`literals` lists every
wording (``atvm-run-watcher signatures --literals``); :func:`scanner` builds the one-pass search the
log parser uses to find the lines that may hold a wording (:class:`Scanner`), and
:meth:`Scanner.words_in` with :func:`match_words` names the signature of such a line without
trying every wording.
"""
from __future__ import annotations

import collections
import dataclasses
import re
from typing import Dict, List, Optional, Pattern, Tuple

MEANINGS: Dict[str, str] = {
    "crashed": "the browser or its renderer crashed",
    "browser_never_connected": "the browser never connected to Cypress",
    "plugin_error": "the plugins / setupNodeEvents code threw an error",
    "config_invalid": "the Cypress configuration is invalid or missing",
    "never_started": "Cypress could not start the run",
    "server_not_verified": "the baseUrl server never answered",
    "no_specs": "no spec file matched",
    "canceled": "the run was canceled",
    "out_of_memory": "a process ran out of memory",
    "spec_error": "a spec file could not be prepared",
    "record_error": "the cloud service refused the recorded run",
    "runner_exit": "the command running Cypress failed",
}


@dataclasses.dataclass(frozen=True)
class Signature:
    name: str
    phrase: str
    meaning: str
    versions: str
    fatal: bool = True
    cleared_by: Optional[str] = None
    flag: Optional[str] = None
    regex: Optional[str] = None
    older: Tuple[Tuple[str, str], ...] = ()  # (wording, versions): what other Cypress versions print

    @property
    def wordings(self) -> Tuple[str, ...]:
        """Every wording of this failure: the phrase, then those of other versions."""
        return (self.phrase,) + tuple(w for w, _v in self.older)

    def to_dict(self) -> Dict[str, object]:
        return dataclasses.asdict(self)


_S = Signature
# Versions: the major versions of Cypress that print the wording, from Cypress's own source at those
# versions (packages/server/lib/errors.coffee in 3.x, errors.js in 4.x to 9.x, packages/errors in
# 10.x and later, cli/lib/errors.js) and its changelog; "any" for what the tools around Cypress print.
SIGNATURES: Tuple[Signature, ...] = (
    # -- crashes
    _S("RENDERER_CRASHED", "Renderer process just crashed", "crashed", "3-15", flag="crashed"),
    _S("BROWSER_CRASHED", "process just crashed with code", "crashed", "12-15", flag="crashed"),
    _S("AUTOMATION_SERVER_DISCONNECTED", "The automation client disconnected", "crashed", "3-15", flag="crashed"),
    _S("CDP_COULD_NOT_RECONNECT", "There was an error reconnecting to the Chrome DevTools protocol", "crashed",
       "8-15", flag="crashed"),
    _S("CHILD_PROCESS_KILLED", "unexpectedly exited via a", "crashed", "3.8-15", flag="crashed"),
    _S("SEGMENTATION_FAULT", "Segmentation fault", "crashed", "any", flag="crashed"),
    _S("CONFIG_OR_PLUGIN_CRASHED", "We stopped running your tests because", "plugin_error", "4-15",
       flag="plugin_error", regex=r"because (?:your config file|a plugin) crashed",
       older=(("We've stopped running your tests because a plugin crashed", "3"),)),
    # -- the browser never connected
    _S("TESTS_DID_NOT_START_FAILED", "The browser never connected", "browser_never_connected", "3-15",
       flag="crashed"),
    _S("TESTS_DID_NOT_START_RETRYING", "Timed out waiting for the browser to connect", "browser_never_connected",
       "3-15", fatal=False, cleared_by="connected"),
    _S("CDP_RETRYING_CONNECTION", "Still waiting to connect to", "browser_never_connected", "10-15", fatal=False,
       cleared_by="connected", older=(("retrying in 1 second (attempt", "4-9"),)),
    _S("CDP_COULD_NOT_CONNECT", "Cypress failed to make a connection to the Chrome DevTools Protocol",
       "browser_never_connected", "4-15", flag="crashed"),
    _S("FIREFOX_COULD_NOT_CONNECT", "Cypress failed to make a connection to Firefox", "browser_never_connected",
       "4-15", flag="crashed"),
    _S("FIREFOX_MARIONETTE_FAILURE", "Cypress could not connect to Firefox", "browser_never_connected", "4-15",
       flag="crashed"),
    _S("MISSING_BROWSER_CRI_CLIENT", "Missing browserCriClient", "browser_never_connected", "10-15",
       flag="crashed"),
    _S("MISSING_PAGE_CRI_CLIENT", "Missing pageCriClient", "browser_never_connected", "12-15", flag="crashed"),
    # -- plugins and configuration
    _S("PLUGINS_RUN_EVENT_ERROR", "An error was thrown in your plugins file while executing the handler",
       "plugin_error", "6-15", flag="plugin_error"),
    _S("PLUGINS_FUNCTION_ERROR", "The function exported by the plugins file threw an error", "plugin_error",
       "3-9", flag="plugin_error"),
    _S("PLUGINS_FILE_ERROR", "The plugins file is missing or invalid", "plugin_error", "3-9",
       flag="plugin_error"),
    _S("PLUGINS_DIDNT_EXPORT_FUNCTION", "pluginsFile` must export a function", "plugin_error", "3-9",
       flag="plugin_error"),
    _S("PLUGINS_VALIDATION_ERROR", "The following validation error was thrown by your plugins file",
       "plugin_error", "4-9", flag="plugin_error"),
    _S("CONFIG_FILE_SETUP_NODE_EVENTS_ERROR", "The error was thrown while executing your", "plugin_error",
       "10-15", flag="plugin_error"),
    _S("CONFIG_FILE_ERROR", "threw an error from:", "plugin_error", "10-15", flag="plugin_error"),
    _S("CONFIG_FILE_REQUIRE_ERROR", "threw an error when required", "config_invalid", "3-15",
       flag="plugin_error", older=(("Your configFile is invalid:", "10-15"),)),
    _S("SETUP_NODE_EVENTS_IS_NOT_FUNCTION", "function must be defined with the following signature",
       "config_invalid", "10-15", flag="plugin_error"),
    _S("SETUP_NODE_EVENTS_INVALID_EVENT_NAME_ERROR", "threw a validation error from:", "config_invalid",
       "10-15", flag="plugin_error"),
    _S("CONFIG_VALIDATION_ERROR", "set an invalid value", "config_invalid", "10-15", flag="plugin_error",
       older=(("We found an invalid value in the file:", "3-9"),
              ("An invalid configuration value returned from the plugins file", "4-9"))),
    _S("CONFIG_VALIDATION_MSG_ERROR", "An invalid configuration value was set", "config_invalid", "10-15",
       flag="plugin_error", older=(("We found an invalid configuration value", "3-9"),)),
    _S("CONFIG_FILE_READ_ERROR", "Error reading from:", "config_invalid", "3-9", flag="plugin_error"),
    _S("CONFIG_FILE_NOT_FOUND", "Could not find a Cypress configuration file", "config_invalid", "5-15",
       flag="plugin_error", older=(("Could not find any tests to run.", "3-4"),)),
    _S("CONFIG_FILES_LANGUAGE_CONFLICT", "Could not load a Cypress configuration file", "config_invalid",
       "10-15", flag="plugin_error"),
    _S("SUPPORT_FILE_NOT_FOUND", "The supportFile must be a .js, .ts, .coffee file", "config_invalid", "10-15",
       flag="plugin_error", older=(("The support file is missing or invalid", "3-9"),)),
    _S("DEFAULT_SUPPORT_FILE_NOT_FOUND", "Your project does not contain a default", "config_invalid", "10-15",
       flag="plugin_error"),
    # -- the run could not start
    _S("NO_SPECS_FOUND", "Can't run because", "no_specs", "3-15", flag="no_specs",
       regex=r"Can.t run because no spec files were found"),
    _S("BROWSER_NOT_FOUND_BY_NAME", "Can't run because you've entered an invalid browser name",
       "never_started", "3-15"),
    _S("BROWSER_NOT_FOUND_BY_PATH", "We could not identify a known browser at the path you provided",
       "never_started", "3-15"),
    _S("PORT_IN_USE_LONG", "Can't run project because port is currently in use", "never_started", "3-15"),
    _S("BINARY_NOT_FOUND", "the Cypress binary is missing", "never_started", "3-15"),
    _S("FAILED_TO_START", "Cypress failed to start", "never_started", "3-15"),
    _S("VERIFICATION_FAILED", "Cypress verification failed", "never_started", "3-15"),
    _S("VERIFICATION_TIMED_OUT", "Cypress verification timed out", "never_started", "3-15"),
    _S("MISSING_XVFB", "Your system is missing the dependency: Xvfb", "never_started", "3.5-15",
       older=(("Your system is missing the dependency: XVFB", "3.0-3.4"),)),
    _S("XVFB_FAILED", "Xvfb exited with a non zero exit code", "never_started", "3.5-15",
       older=(("XVFB exited with a non zero exit code", "3.0-3.4"),)),
    # -- the baseUrl server
    _S("CANNOT_CONNECT_BASE_URL", "Cypress failed to verify that your server is running", "server_not_verified",
       "3-15"),
    _S("CANNOT_CONNECT_BASE_URL_RETRYING", "Cypress could not verify that this server is running",
       "server_not_verified", "3-15", fatal=False, cleared_by="run_start"),
    # -- specs
    _S("BUNDLE_ERROR", "we found an error preparing this test file", "spec_error", "3-15"),
    # -- canceled runs and the cloud service
    _S("CLOUD_CANCEL_SKIPPED_SPEC", "This spec and its tests were skipped because the run has been canceled",
       "canceled", "4-15", flag="canceled"),
    _S("RUN_CANCELED_EXIT", "Exiting with non-zero exit code because the run was canceled", "canceled",
       "6-15", flag="canceled"),
    _S("RUN_CANCELED_SUMMARY", "The run was canceled", "canceled", "6-15", flag="canceled",
       regex=r"(?:^|\s)The run was canceled\b"),
    _S("CLOUD_API_RESPONSE_FAILED_RETRYING", "We encountered an unexpected error talking to our servers",
       "record_error", "3-15", fatal=False, cleared_by="run_start"),
    _S("CLOUD_CANNOT_PROCEED", "this run cannot proceed because it requires a valid response from our servers",
       "record_error", "3-15"),
    _S("RECORD_KEY_MISSING", "but did not provide us your Record Key", "record_error", "3-15"),
    _S("CANNOT_RECORD_NO_PROJECT_ID", "but this project has not been setup to record", "record_error", "3-15"),
    _S("RECORD_KEY_NOT_VALID", "is not valid with this project", "record_error", "3-15"),
    _S("CLOUD_PROJECT_NOT_FOUND", "project with the projectId", "record_error", "10-15",
       older=(("We could not find a project with the ID", "3-9"),)),
    _S("CLOUD_STALE_RUN", "flag to a run that was completed over 24 hours ago", "record_error", "3-15"),
    _S("CLOUD_ALREADY_COMPLETE", "is already complete and will not accept new groups", "record_error", "3-15"),
    _S("INDETERMINATE_CI_BUILD_ID", "could not automatically determine or generate a ciBuildId", "record_error",
       "3-15"),
    _S("RECORD_PARAMS_WITHOUT_RECORDING", "flag without also passing the", "record_error", "3-15"),
    _S("CLOUD_INVALID_RUN_REQUEST", "Recording this run failed because the request was invalid", "record_error",
       "3-15"),
    # -- resources and the command around Cypress
    _S("HEAP_OUT_OF_MEMORY", "JavaScript heap out of memory", "out_of_memory", "any"),
    _S("COMMAND_FAILED", "Command failed with exit code", "runner_exit", "any"),
)

_BY_NAME = {s.name: s for s in SIGNATURES}
_COMPILED: Dict[str, Optional[Pattern[str]]] = {s.name: re.compile(s.regex) if s.regex else None for s in SIGNATURES}
# Longest wording first: a line holding two is named by the more specific one (table order on a tie).
_ORDER: List[Tuple[str, Signature]] = sorted(
    ((w, s) for s in SIGNATURES for w in s.wordings), key=lambda ws: len(ws[0]), reverse=True)
_RANK: Dict[str, int] = {w: i for i, (w, _s) in enumerate(_ORDER)}
_BY_WORDING: Dict[bytes, Signature] = {w.encode("ascii"): s for w, s in _ORDER}


def by_name(name: str) -> Signature:
    return _BY_NAME[name]


def literals() -> List[str]:
    """Every wording of every signature, in table order (what ``grep -F -f`` takes)."""
    return [w for s in SIGNATURES for w in s.wordings]


def match_line(text: str) -> Optional[Signature]:
    """The signature a cleaned line carries (the one with the longest wording), or None."""
    for wording, sig in _ORDER:
        if wording in text:
            rx = _COMPILED[sig.name]
            if rx is None or rx.search(text):
                return sig
    return None


def match_words(words: List[bytes], text: str) -> Optional[Signature]:
    """:func:`match_line` for a line whose wordings are known: ``words``, the ones
    :meth:`Scanner.words_in` found in its raw bytes (the same answer, without trying every wording)."""
    best: Optional[Tuple[int, Signature]] = None
    for word in words:
        sig = _BY_WORDING.get(word)
        if sig is None:
            continue
        rank = _RANK[word.decode("ascii")]
        if best is not None and best[0] <= rank:
            continue
        rx = _COMPILED[sig.name]
        if rx is None or rx.search(text):
            best = (rank, sig)
    return best[1] if best else None


# How often each printable ASCII byte occurs in Cypress console output (per 100,000 bytes, measured
# on the corpus and its test output; a byte missing here is rarer still, space and letters "e"..."t"
# are far more frequent). The scanner anchors each word at rare bytes.
_FREQ = {
    90: 0, 33: 0, 37: 0, 126: 1, 94: 3, 35: 3, 36: 4, 74: 4, 86: 9, 59: 14, 89: 18, 63: 24, 87: 24, 64: 24, 38: 28,
    42: 29, 60: 32, 68: 35, 88: 36, 43: 42, 113: 43, 125: 44, 123: 44, 66: 45, 124: 45, 39: 57, 93: 64, 122: 66,
    81: 67, 62: 69, 76: 74, 85: 76, 79: 81, 71: 84, 92: 98, 91: 100, 78: 103, 72: 127, 70: 134, 83: 140, 77: 155,
    96: 158, 73: 169, 44: 179, 82: 180, 75: 182, 69: 191, 61: 231, 80: 251, 120: 308, 57: 312, 56: 330, 65: 342,
    52: 360, 53: 362, 98: 402, 102: 415, 55: 481, 67: 517, 54: 521, 106: 533, 119: 534, 107: 571, 84: 631, 51: 673,
    118: 678, 40: 714, 50: 730, 34: 780, 41: 853, 103: 1021, 48: 1348, 100: 1366, 121: 1376, 49: 1462, 109: 1538,
    46: 1569, 95: 1594, 108: 1732, 117: 1868, 104: 1993, 45: 2137, 58: 2204, 99: 2491, 112: 2708, 47: 2885,
    105: 2909, 97: 2926, 111: 3227, 110: 4430, 114: 4509, 116: 5371, 115: 5510, 101: 6184,
}


class Scanner:
    """Finds, in raw log bytes, every place where one of ``words`` is (never misses one).

    The standard library searches one literal fast (the regex engine skips from one occurrence of
    a regex's first byte to the next), not many. So a few rare bytes are chosen such that every
    word contains one of them (:attr:`anchor_bytes`: a cover of the words by bytes, of the least
    frequency in Cypress output found); the text is translated with every anchor byte turned into
    ``\x01`` (:meth:`translate`, one C pass, positions unchanged) and one regex that starts with
    ``\x01`` finds, in the translated text, every word from its first anchor byte on: the rest of
    the word, then (a look behind) the whole word, both translated. Each word in the text is
    therefore found; what is found may be no word (another text with the same translation, a
    different byte among the anchors): :meth:`words_in` compares the raw bytes, and the caller reads
    the line and decides (:func:`match_words`). The scan never decides what is detected.
    """

    def __init__(self, words: Tuple[bytes, ...]) -> None:
        words = tuple(w for w in dict.fromkeys(words) if w)
        chosen = _cover(words)
        self.anchor_bytes = bytes(sorted(chosen))
        self.table = bytes(1 if i in chosen else i for i in range(256))
        rests = []
        self._by_byte: Dict[int, List[Tuple[int, bytes, bytes]]] = {}
        for word in words:
            start = min(word.index(bytes([b])) for b in chosen if b in word)  # its first anchor byte
            translated = word.translate(self.table)
            rests.append((translated[start + 1:], translated))
            self._by_byte.setdefault(word[start], []).append((start, translated, word))
        self.regex = re.compile(b"\x01" + _trie(rests))

    def translate(self, data: bytes) -> bytes:
        return data.translate(self.table)

    def search(self, data: bytes) -> bool:
        """True when raw ``data`` (one line) may hold a word."""
        return self.regex.search(data.translate(self.table)) is not None

    def words_in(self, raw: bytes) -> List[bytes]:
        """Every word that ``raw`` (one line) holds, each as often as it occurs (none missed: every
        place where the scan finds a word is tried for each word of that anchor byte, and the whole
        word is compared there)."""
        text = raw.translate(self.table)
        found: List[bytes] = []
        search = self.regex.search
        pos = 0
        while True:
            match = search(text, pos)
            if match is None:
                return found
            at = match.start()
            for start, translated, word in self._by_byte.get(raw[at], ()):
                if at >= start and text.startswith(translated, at - start) and raw.startswith(word, at - start):
                    found.append(word)
            pos = at + 1


def _cover(words: Tuple[bytes, ...]) -> List[int]:
    """Bytes such that every word holds one, of a low total frequency: the byte that covers the most
    words per unit of frequency first (rarest first on ties), then each byte whose words the others
    cover too is dropped. (A cover of lower total frequency is not always faster: a byte that starts
    words common in the text, ``C`` of ``Cypress``, makes the regex walk further at each stop;
    measured on the corpus, this cover scans 1.5x as fast as the one of the least frequency found.)"""
    chosen: List[int] = []
    left = list(words)
    while left:
        candidates = {b for w in left for b in w}
        best = min(candidates, key=lambda b: (_weight(b) / sum(1 for w in left if b in w), b))
        chosen.append(best)
        left = [w for w in left if best not in w]
    for byte in sorted(chosen, key=lambda b: -_weight(b)):
        others = [b for b in chosen if b != byte]
        if all(any(b in w for b in others) for w in words):
            chosen = others
    return chosen


def _trie(items: List[Tuple[bytes, bytes]]) -> bytes:
    """A regex matching, for each ``(rest, whole)``, ``rest`` followed by the look behind ``whole``
    (branches by byte: one level of alternatives per byte)."""
    ends = [whole for rest, whole in items if not rest]
    groups: "collections.OrderedDict[int, List[Tuple[bytes, bytes]]]" = collections.OrderedDict()
    for rest, whole in sorted(item for item in items if item[0]):
        groups.setdefault(rest[0], []).append((rest[1:], whole))
    alts = [b"(?<=" + re.escape(whole) + b")" for whole in dict.fromkeys(ends)]
    alts += [re.escape(bytes([first])) + _trie(more) for first, more in groups.items()]
    return alts[0] if len(alts) == 1 else b"(?:" + b"|".join(alts) + b")"


def _weight(byte: int) -> float:
    """How often ``byte`` occurs (bytes that are not printable ASCII count as rare)."""
    if byte > 126:
        return 1.0
    return float(_FREQ.get(byte, 1 if byte > 32 else 10000))


def scanner(extra: Tuple[bytes, ...] = ()) -> Scanner:
    """The scanner of every signature wording and of ``extra`` literals (structure words, marker)."""
    return Scanner(tuple(w.encode("ascii") for s in SIGNATURES for w in s.wordings) + tuple(extra))


def _class_end(pattern: str, i: int) -> int:
    """The index just after the character class that starts at ``pattern[i]`` (``[``)."""
    n = len(pattern)
    j = i + 1
    if j < n and pattern[j] == "^":
        j += 1
    if j < n and pattern[j] == "]":
        j += 1
    while j < n and pattern[j] != "]":
        j += 2 if pattern[j] == "\\" else 1
    return j + 1


def _group_end(pattern: str, i: int) -> int:
    """The index just after the group that starts at ``pattern[i]`` (``(``)."""
    n = len(pattern)
    depth = 0
    j = i
    while j < n:
        ch = pattern[j]
        if ch == "\\":
            j += 2
            continue
        if ch == "[":
            j = _class_end(pattern, j) - 1
        elif ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
            if depth == 0:
                break
        j += 1
    return j + 1


def _quantifier_end(pattern: str, i: int) -> int:
    """The index just after the quantifier at ``pattern[i]`` (``*``, ``+``, ``?`` or ``{m,n}``)."""
    n = len(pattern)
    if pattern[i] == "{":
        j = pattern.find("}", i)
        i = n if j < 0 else j + 1
    else:
        i += 1
    if i < n and pattern[i] in "?+":
        i += 1
    return i


def _literal_pieces(pattern: str) -> Optional[List[str]]:
    """The runs of plain top-level characters of ``pattern``; None when it has a top-level ``|``."""
    pieces: List[str] = []
    current: List[str] = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == "|" or (c == "\\" and i + 1 >= n):
            return None
        if c == "\\" and not pattern[i + 1].isalnum():
            current.append(pattern[i + 1])
            i += 2
            continue
        if c in "*+?{" and current:
            current.pop()  # the quantified character is optional or repeated
        if c == "\\" or c in "[(*+?{.^$)":
            pieces.append("".join(current))
            current = []
            i = {"\\": i + 2, "[": _class_end(pattern, i), "(": _group_end(pattern, i)}.get(
                c, _quantifier_end(pattern, i) if c in "*+?{" else i + 1)
            continue
        current.append(c)
        i += 1
    pieces.append("".join(current))
    return pieces


def required_literal(pattern: str) -> Optional[str]:
    """The longest run of plain characters every match of ``pattern`` must contain, or None.

    Conservative: only top-level characters outside groups, classes and quantifiers count; an
    alternation at the top level or an inline flag (``(?i)``) gives None. Used to find candidate
    marker lines before the real regex is applied to the cleaned line.
    """
    if re.search(r"\(\?[aiLmsux-]+[:)]", pattern):
        return None
    pieces = _literal_pieces(pattern)
    if pieces is None:
        return None
    best = ""
    for piece in pieces:
        if len(piece.strip()) > len(best.strip()):
            best = piece
    return best if best.strip() else None


def table() -> str:
    """The table as text (``atvm-run-watcher signatures``)."""
    lines = ["{0:<44} {1:<8} {2:<24} {3:<8} {4}".format("NAME", "KIND", "MEANING", "CYPRESS", "WORDING")]
    for s in SIGNATURES:
        kind = "fatal" if s.fatal else "retried"
        lines.append("{0:<44} {1:<8} {2:<24} {3:<8} {4}".format(s.name, kind, s.meaning, s.versions, s.phrase))
        for wording, versions in s.older:
            lines.append("{0:<44} {1:<8} {2:<24} {3:<8} {4}".format("", "", "", versions, wording))
    lines.append("")
    lines.extend("{0:<24} {1}".format(key, text) for key, text in MEANINGS.items())
    lines.append("")
    lines.append("retried: counts only when nothing overcomes it (run_start: a (Run Starting) header follows; "
                 "connected: a Running: line, a (Results) box or the (Run Finished) table follows)")
    return "\n".join(lines) + "\n"

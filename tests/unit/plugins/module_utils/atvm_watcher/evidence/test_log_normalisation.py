# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Line prefixes, encodings and interleaved runners: the same run read through each of them."""
from __future__ import annotations

import codecs
import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.logtext import LogDecoder, clean_line, split_prefix, unmangle

STDOUT = pathlib.Path(__file__).resolve().parents[5] / "fixtures" / "cypress" / "stdout"
# Real: Cypress 12.17.4, 7 specs, 1 of 7 failed, 30 tests, 29 passing, 1 failing (see PROVENANCE.md);
# the file holds the same run twice: its first 391 lines are one run.
BASE = "".join((STDOUT / "cy12-seven-specs-one-failing.log").read_text(encoding="utf-8").splitlines(True)[:391])
BASE_READING = (True, 7, (30, 29, 1, 0, 0), 1)


def read(data: bytes, chunk: int = 0) -> CypressLogParser:
    parser = CypressLogParser()
    step = chunk or len(data) or 1
    for i in range(0, len(data), step):
        parser.feed(data[i:i + step])
    parser.finish()
    return parser


def reading(run) -> tuple:
    t = run.totals
    return (run.finished, len(run.finished_rows), (t.tests, t.passed, t.failed, t.pending, t.skipped),
            run.failed_specs)


def prefixed(prefix: str, text: str = BASE) -> str:
    return "".join(prefix + line for line in text.splitlines(True))


PREFIXES = {
    "nx": "project-e2e: ",
    "github-actions": "2024-05-01T10:00:00.1234567Z ",
    "jenkins-timestamper": "10:00:00  ",
    "bracketed-time": "[10:00:00] ",
    "jenkins-iso": "[2024-05-01T10:00:00.123Z] ",
    "docker-compose": "cypress-1  | ",
    "docker-compose-v1": "cypress_1     | ",
    "compose-and-time": "cypress-1  | 2024-05-01T10:00:00.123456789Z ",
}


def test_the_base_log_reads_as_expected():
    parser = read(BASE.encode("utf-8"))
    assert [reading(r) for r in parser.runs] == [BASE_READING]


@pytest.mark.parametrize("style", sorted(PREFIXES))
def test_each_prefix_style_reads_the_same_run(style):
    parser = read(prefixed(PREFIXES[style]).encode("utf-8"), chunk=4093)
    assert [reading(r) for r in parser.runs] == [BASE_READING]
    assert parser.preamble_problems == []


def test_nx_prefix_names_the_run_and_is_learned_for_other_lines():
    text = prefixed("app-e2e: ", BASE + "We detected that the Electron Renderer process just crashed.\n")
    parser = read(("> nx run app-e2e:e2e\n\n" + text).encode("utf-8"))
    run, = parser.runs
    assert (run.label, run.label_source) == ("app-e2e", "prefix")
    assert run.problems == ["We detected that the Electron Renderer process just crashed."]
    assert run.crashed


def test_interleaved_parallel_runners_are_two_runs():
    other = (STDOUT / "cy9-jenkins-two-specs-pass.log").read_text(encoding="utf-8")
    a = prefixed("shop-e2e: ").splitlines(True)
    b = prefixed("admin-e2e: ", other).splitlines(True)
    mixed = []
    for i in range(max(len(a), len(b))):
        mixed.extend(a[i:i + 1])
        mixed.extend(b[i:i + 1])
    parser = read("".join(mixed).encode("utf-8"), chunk=1000)
    by_label = {r.label: r for r in parser.runs}
    assert sorted(by_label) == ["admin-e2e", "shop-e2e"]
    assert reading(by_label["shop-e2e"]) == BASE_READING
    alone = read(other.encode("utf-8")).runs
    assert [reading(by_label["admin-e2e"])] == [reading(r) for r in alone]
    assert by_label["admin-e2e"].all_passed is True


def test_split_prefix_keeps_cypress_lines_intact():
    known = set()
    assert split_prefix("  Running:  a.cy.js  (1 of 2)", known) == ("", "  Running:  a.cy.js  (1 of 2)")
    assert split_prefix("Running:  a.cy.js  (1 of 2)", known) == ("", "Running:  a.cy.js  (1 of 2)")
    assert split_prefix("Warning: We failed to trash the existing run results.", known)[0] == ""
    assert split_prefix("Error:   boom", known)[0] == ""
    assert split_prefix("web-1  | listening", known) == ("web-1", "listening")
    assert known == set()
    assert split_prefix("app-e2e:   (Run Starting)", known) == ("app-e2e", "  (Run Starting)")
    assert split_prefix("app-e2e: DevTools listening on ws://x", known) == ("app-e2e", "DevTools listening on ws://x")


ENCODINGS = {
    "utf-8-bom": lambda t: codecs.BOM_UTF8 + t.encode("utf-8"),
    "utf-16-le-bom": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-16-le"),
    "utf-16-be-bom": lambda t: codecs.BOM_UTF16_BE + t.encode("utf-16-be"),
    "utf-16-le-no-bom": lambda t: t.encode("utf-16-le"),
    "utf-16-le-bom-crlf": lambda t: codecs.BOM_UTF16_LE + t.replace("\n", "\r\n").encode("utf-16-le"),
    "cp437-mangled": lambda t: t.encode("utf-8").decode("cp437", "replace").encode("utf-8"),
    "cp850-mangled": lambda t: t.encode("utf-8").decode("cp850", "replace").encode("utf-8"),
    "cp850-mangled-utf-16": lambda t: codecs.BOM_UTF16_LE + t.encode("utf-8").decode("cp850").encode("utf-16-le"),
}


@pytest.mark.parametrize("encoding", sorted(ENCODINGS))
@pytest.mark.parametrize("chunk", [1, 5, 65536])
def test_each_encoding_reads_the_same_run(encoding, chunk):
    parser = read(ENCODINGS[encoding](BASE), chunk=chunk)
    assert [reading(r) for r in parser.runs] == [BASE_READING]
    names = [r.spec for r in parser.runs[0].finished_rows]
    assert names == [r.spec for r in read(BASE.encode("utf-8")).runs[0].finished_rows]


def test_utf16_is_decoded_across_chunk_boundaries():
    text = "\u2502 \u00d7 \U0001F600 caf\u00e9\n" * 3
    data = codecs.BOM_UTF16_LE + text.encode("utf-16-le")
    for size in (1, 2, 3, 7):
        decoder = LogDecoder()
        out = b"".join(decoder.decode(data[i:i + size]) for i in range(0, len(data), size)) + decoder.decode(b"", True)
        assert out.decode("utf-8") == text
        assert decoder.encoding == "utf-16-le"


def test_utf8_passes_byte_for_byte():
    decoder = LogDecoder()
    data = codecs.BOM_UTF8 + "\u2502 ok\n".encode("utf-8")
    assert decoder.decode(data[:2]) + decoder.decode(data[2:]) + decoder.decode(b"", True) == data
    assert clean_line(data.rstrip(b"\n")) == "\u2502 ok"


def test_mangled_glyphs_are_mapped_back_and_real_text_is_left_alone():
    assert unmangle("\u0393\u00f6\u00e9") == "\u2502"  # Γöé (CP437)
    assert unmangle("\u00d4\u00f6\u00e9") == "\u2502"  # Ôöé (CP850)
    assert unmangle("\u251c\u00f9") == "\u00d7"  # ├ù
    assert unmangle("\u00d4\u00ea\u00dc") == "\u221a"  # ÔêÜ
    assert clean_line("  \u251c\u2500\u2500\u2500\u2524".encode("utf-8")) == "  \u251c\u2500\u2500\u2500\u2524"
    assert clean_line("Ô Crear M\u251c\u00aedico".encode("utf-8")) == "Ô Crear M\u00e9dico"

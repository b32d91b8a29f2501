# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the incremental runner log reader and of the line cleaner."""
from __future__ import annotations

import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors, logreader
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.logreader import LogReader, clean_line


# ------------------------------------------------------------------------------ clean_line
@pytest.mark.parametrize("raw, text", [
    # Cypress colours each box character (cy15 corpus log)
    (b"\x1b[90m  \xe2\x94\x82\x1b[39m \x1b[90mTests:\x1b[39m        \x1b[31m44\x1b[39m",
     "  \u2502 Tests:        44"),
    (b"\x1b[0m  (\x1b[4m\x1b[1mRun Starting\x1b[22m\x1b[24m)\x1b[0m", "  (Run Starting)"),
    # SGR remnants whose ESC byte is missing (cy11 corpus log)
    (b"\xe2\x94\x82 Node Version:   v14.14.0 (/bin/node)[0m       \xe2\x94\x82",
     "\u2502 Node Version:   v14.14.0 (/bin/node)       \u2502"),
    (b"[39m", ""),
    (b"[1;31mred[0m", "red"),
    # erase-line + cursor sequences (Jenkins/Vercel output in the cy9 corpus log)
    (b"\x1b[2K\x1b[GInspect: https://example.invalid/x [4s]", "Inspect: https://example.invalid/x [4s]"),
    # OSC (window title) with BEL and with ST terminators
    (b"\x1b]0;cypress run\x07text", "text"),
    (b"\x1b]8;;http://x\x1b\\link\x1b]8;;\x1b\\", "link"),
    # CRLF line, carriage returns of progress output, NUL and other control bytes
    (b"line\r", "line"),
    (b"50%\r100%", "50%100%"),
    (b"a\x00b\x07c\x08d", "abcd"),
    (b"tab\there", "tab\there"),
    # invalid UTF-8 is replaced, never an error
    (b"ok \xff\xfe end", "ok \ufffd\ufffd end"),
    (b"\xe2\x94", "\ufffd"),
    # text that merely looks like brackets is kept
    (b"[Pipeline] { (Run CI?)", "[Pipeline] { (Run CI?)"),
    (b"\xe2\x9c\x98 [ERROR] Expected \")\" but found \"}\"", "\u2718 [ERROR] Expected \")\" but found \"}\""),
    (b"    \xe2\x9c\x93 passes (10ms)", "    \u2713 passes (10ms)"),
])
def test_clean_line(raw, text):
    assert clean_line(raw) == text


# ------------------------------------------------------------------------------ LogReader
def _write(path, data, mode="wb"):
    with open(path, mode) as handle:
        handle.write(data)


def test_missing_file_is_nothing_yet_then_read(tmp_path):
    path = str(tmp_path / "runner.log")
    reader = LogReader(path)
    assert reader.poll() is None
    assert reader.size_hint() is None
    assert reader.offset == 0 and not reader.restarted
    _write(path, b"hello\n")
    assert reader.size_hint() == 6
    assert reader.poll() == b"hello\n"
    assert reader.offset == 6
    assert reader.poll() is None
    _write(path, b"world\n", "ab")
    assert reader.poll() == b"world\n"
    assert reader.offset == 12
    assert not reader.restarted
    reader.close()


def test_reads_only_new_bytes_in_chunks(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"0123456789")
    reader = LogReader(path, chunk_size=4)
    assert [reader.poll(), reader.poll(), reader.poll(), reader.poll()] == [b"0123", b"4567", b"89", None]
    _write(path, b"abcdef", "ab")
    assert list(reader.chunks()) == [b"abcd", b"ef"]
    assert reader.offset == 16
    reader.close()


def test_chunk_size_must_be_positive(tmp_path):
    with pytest.raises(ValueError):
        LogReader(str(tmp_path / "x"), chunk_size=0)


def test_truncation_restarts_from_zero(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"x" * 100)
    with LogReader(path) as reader:
        assert reader.poll() == b"x" * 100
        _write(path, b"new run\n")  # truncated and rewritten shorter
        data = reader.poll()
        assert reader.restarted and reader.restart_reason == "truncated" and reader.restarts == 1
        assert data == b"new run\n"
        assert reader.offset == 8
        assert reader.poll() is None
        assert not reader.restarted and reader.restart_reason is None


def test_truncation_to_empty_reports_restart_without_data(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"abc\n")
    with LogReader(path) as reader:
        reader.poll()
        with open(path, "wb"):
            pass
        assert reader.poll() is None
        assert reader.restarted and reader.offset == 0


def test_truncated_then_grown_past_offset_is_noticed(tmp_path):
    # copytruncate-style: between two polls the file was emptied and grew larger than our offset
    path = str(tmp_path / "runner.log")
    _write(path, b"A" * 100)
    with LogReader(path) as reader:
        assert reader.poll() == b"A" * 100
        _write(path, b"B" * 150)
        data = reader.poll()
        assert reader.restarted and reader.restart_reason == "rewritten"
        assert data == b"B" * 150


def test_rotation_replaced_file_restarts(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"old run\n")
    with LogReader(path) as reader:
        assert reader.poll() == b"old run\n"
        os.rename(path, path + ".1")
        assert reader.poll() is None  # rotation in progress: no file, not an error
        assert not reader.restarted
        _write(path, b"second run, longer than the first\n")
        data = reader.poll()
        assert reader.restarted and reader.restart_reason == "replaced"
        assert data == b"second run, longer than the first\n"
        _write(path, b"more\n", "ab")
        assert reader.poll() == b"more\n" and not reader.restarted


def test_replaced_by_same_size_file(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"run one\n")
    with LogReader(path) as reader:
        reader.poll()
        _write(path + ".new", b"run two\n")
        os.replace(path + ".new", path)
        assert reader.poll() == b"run two\n"
        assert reader.restart_reason == "replaced"


def test_directory_is_an_input_error(tmp_path):
    with LogReader(str(tmp_path)) as reader:
        with pytest.raises(errors.InputError) as info:
            reader.poll()
    assert str(tmp_path) in str(info.value)


def test_default_chunk_is_large():
    assert logreader.DEFAULT_CHUNK_SIZE >= 1 << 20

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Tests of the incremental runner log reader and of the line cleaner."""
from __future__ import annotations

import functools
import glob
import os
import pathlib
import subprocess
import sys

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import errors
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import logfile as logreader
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import rotation
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.logfile import LogReader
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.logtext import clean_line


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


# ------------------------------------------------------------------------------ rotations
def test_rename_rotation_follows_the_old_file_while_the_writer_stays_there(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"one\n")
    with LogReader(path) as reader:
        assert reader.poll() == b"one\n"
        os.rename(path, path + ".1")
        _write(path + ".1", b"two\n", "ab")  # the writer still holds the renamed file
        assert reader.poll() == b"two\n" and not reader.restarted
        _write(path, b"")  # logrotate's create
        _write(path + ".1", b"three\n", "ab")
        assert reader.poll() == b"three\n"
        assert reader.restarted and reader.restart_reason == "replaced" and not reader.gap
        _write(path + ".1", b"four\n", "ab")
        assert reader.poll() == b"four\n"
        _write(path, b"five\n", "ab")  # a writer that reopened: the old file is let go
        assert reader.poll() == b"five\n"
        assert reader.total == len(b"one\ntwo\nthree\nfour\nfive\n")


def test_copytruncate_restarts_in_the_same_file_and_says_text_may_be_lost(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"first line\n")
    with LogReader(path) as reader:
        reader.poll()
        with open(path, "r+b") as handle:
            handle.truncate(0)
        assert reader.poll() is None and reader.restarted and reader.gap
        _write(path, b"after\n", "ab")
        assert reader.poll() == b"after\n" and not reader.gap


def test_truncated_and_regrown_with_the_same_tail_is_noticed_by_its_head(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"A" * 70 + b"=" * 70)
    with LogReader(path) as reader:
        reader.poll()
        _write(path, b"B" * 70 + b"=" * 100)  # same bytes just before the offset, other start
        assert reader.poll() == b"B" * 70 + b"=" * 100
        assert reader.restart_reason == "rewritten"


@functools.lru_cache(maxsize=1)
def _categorized_log() -> bytes:
    """A categorized run of three groups, the middle one failing (Cypress run simulator)."""
    sim = pathlib.Path(__file__).resolve().parents[6] / "tests" / "support" / "cypress_sim.py"
    out = subprocess.run([sys.executable, str(sim), "--groups", "linux:rhel96-fc-01;windows:win2022-01;oracle:ol8-03",
                          "--fail", "win2022-01", "--speed", "1000000", "--tests-per-spec", "2"],
                         capture_output=True, check=False, timeout=60)  # exits 1: windows failed
    return out.stdout


def _runs(parser):
    return [{k: v for k, v in run.to_dict().items() if k != "text_lost"} for run in parser.runs]


def _reference() -> list:
    parser = CypressLogParser()
    parser.feed(_categorized_log())
    parser.finish()
    return _runs(parser)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), mode=st.sampled_from(["copytruncate", "rename-writer-stays", "rename-writer-moves"]),
       chunk=st.integers(min_value=64, max_value=1 << 16))
def test_any_chunking_with_any_rotation_point_gives_the_same_runs(tmp_path_factory, data, mode, chunk):
    log = _categorized_log()
    rotate_at = data.draw(st.integers(min_value=0, max_value=len(log)), label="rotation point")
    cuts = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(log)), max_size=12), label="writes"))
    path = str(tmp_path_factory.mktemp("rot") / "runner.log")
    target = path
    parser = CypressLogParser()
    reader = LogReader(path, chunk_size=chunk)

    def drain():
        for piece in reader.chunks():
            parser.feed(piece)

    _write(path, b"")
    previous = 0
    for cut in sorted(set(cuts + [rotate_at, len(log)])):
        _write(target, log[previous:cut], "ab")
        previous = cut
        drain()
        if cut == rotate_at:
            if mode == "copytruncate":
                with open(path, "r+b") as handle:
                    handle.truncate(0)
            else:
                os.rename(path, path + ".1")
                _write(path, b"")
                target = path + ".1" if mode == "rename-writer-stays" else path
            drain()
    drain()
    reader.close()
    parser.finish()
    assert _runs(parser) == _reference()
    assert [r.all_passed for r in parser.runs] == [True, False, True]


# ------------------------------------------------------------------ rotations before the reader started
def test_two_renames_while_the_writer_keeps_its_file_lose_nothing(tmp_path):
    """logrotate renames twice (.1 to .2, the log to .1) while the runner entry keeps writing to the
    file it opened, now runner.log.2: that file is still followed."""
    path = str(tmp_path / "runner.log")
    _write(path, b"one\n")
    with LogReader(path) as reader:
        assert reader.poll() == b"one\n"
        os.rename(path, path + ".1")
        _write(path, b"")
        assert reader.poll() is None
        os.rename(path + ".1", path + ".2")
        os.rename(path, path + ".1")
        _write(path, b"")
        _write(path + ".2", b"two\n", "ab")  # the writer's file
        assert reader.poll() == b"two\n"
        _write(path + ".2", b"three\n", "ab")
        assert reader.poll() == b"three\n"
        _write(path, b"four\n", "ab")  # a writer that reopened: the old files are let go
        assert reader.poll() == b"four\n"
        assert reader.poll() is None


def test_read_compressed_reads_gzip_xz_bzip2_and_refuses_the_rest(tmp_path):
    import bz2  # pylint: disable=import-outside-toplevel
    import gzip  # pylint: disable=import-outside-toplevel
    import lzma  # pylint: disable=import-outside-toplevel

    data = b"line\n" * 50000
    for ext, module in ((".gz", gzip), (".xz", lzma), (".bz2", bz2)):
        path = str(tmp_path / ("runner.log.1" + ext))
        _write(path, module.compress(data))
        assert b"".join(logreader.read_compressed(path, chunk_size=4096)) == data
    _write(str(tmp_path / "runner.log.1.zst"), b"\x28\xb5\x2f\xfd")
    with pytest.raises(errors.InputError, match="cannot read"):
        list(logreader.read_compressed(str(tmp_path / "runner.log.1.zst")))
    _write(str(tmp_path / "bad.gz"), gzip.compress(data)[:200])  # cut short
    with pytest.raises(errors.InputError, match="cannot decompress"):
        list(logreader.read_compressed(str(tmp_path / "bad.gz")))
    _write(str(tmp_path / "bomb.gz"), gzip.compress(b"\0" * 300000))
    with pytest.raises(errors.InputError, match="more than 100000 bytes"):
        list(logreader.read_compressed(str(tmp_path / "bomb.gz"), chunk_size=65536, limit=100000))
    os.mkfifo(str(tmp_path / "fifo.gz"))
    with pytest.raises(errors.InputError, match="cannot open"):
        list(logreader.read_compressed(str(tmp_path / "fifo.gz")))


def test_follow_rotated_reads_the_old_files_first_and_skips_what_it_cannot_open(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path + ".2", b"one\n")
    _write(path + ".1", b"two\n")
    os.mkfifo(path + ".0")
    _write(path, b"three\n")
    with LogReader(path) as reader:
        assert reader.follow_rotated([path + ".2", path + ".0", path + ".1"]) == [path + ".0"]
        assert b"".join(reader.chunks()) == b"one\ntwo\nthree\n"
        assert not reader.restarted


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data(), modes=st.lists(st.sampled_from(["copytruncate", "rename-writer-stays", "rename-writer-moves"]),
                                      min_size=1, max_size=3))
def test_a_reader_started_after_any_rotations_gives_the_same_runs(tmp_path_factory, data, modes):
    """What a restarted watcher does: the log was rotated (up to three times, any mix) before the
    reader started; the rotated files found beside it are read first, and the runs are the same."""
    log = _categorized_log()
    points = sorted(data.draw(st.lists(st.integers(min_value=0, max_value=len(log)), min_size=len(modes),
                                       max_size=len(modes)), label="rotation points"))
    folder = tmp_path_factory.mktemp("rotdown")
    path = str(folder / "runner.log")
    target = path
    previous = 0
    _write(path, b"")
    for mode, point in zip(modes, points):
        _write(target, log[previous:point], "ab")
        previous = point
        for number in range(3, 0, -1):  # logrotate: .2 -> .3, .1 -> .2
            if os.path.exists("{0}.{1}".format(path, number)):
                if target == "{0}.{1}".format(path, number):
                    target = "{0}.{1}".format(path, number + 1)
                os.rename("{0}.{1}".format(path, number), "{0}.{1}".format(path, number + 1))
        if mode == "copytruncate":
            _write(path + ".1", open(path, "rb").read())  # pylint: disable=consider-using-with
            with open(path, "r+b") as handle:
                handle.truncate(0)
        else:
            os.rename(path, path + ".1")
            _write(path, b"")
            if target == path:
                target = path + ".1" if mode == "rename-writer-stays" else path
    _write(target, log[previous:], "ab")
    # Two files of which one starts with all the first bytes of the other (64 or more) cannot be told
    # from a copy by a reader that starts late: the one found later is skipped as one (a documented
    # limit, docs/decision-rules.md section 11; the record of a watcher that read them tells them apart).
    heads = [pathlib.Path(name).read_bytes()[:rotation.HEAD_BYTES] for name in glob.glob(path + "*")]
    assume(not any(min(len(a), len(b)) >= rotation.MIN_SAME and (a.startswith(b) or b.startswith(a))
                   for i, a in enumerate(heads) for b in heads[i + 1:]))
    parser = CypressLogParser()
    with LogReader(path, chunk_size=4096) as reader:
        live = os.stat(path)
        plan = rotation.plan(path, [], rotation.candidates(path), since=0, live_head=rotation.read_head(path),
                             live_ident=(live.st_dev, live.st_ino))
        assert plan.skipped == [] and plan.lost == {}
        assert reader.follow_rotated([p for p, dummy in plan.sources[:-1]]) == []
        for piece in reader.chunks():
            parser.feed(piece)
    parser.finish()
    assert _runs(parser) == _reference()

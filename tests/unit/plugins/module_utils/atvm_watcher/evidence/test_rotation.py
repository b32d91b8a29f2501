# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Rotated runner logs: found by name, taken only when provably this log's text."""
from __future__ import annotations

import gzip
import os

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence import rotation


def _write(path, data, mode="wb"):
    with open(path, mode) as handle:
        handle.write(data)


def _plan(path, recorded=(), since=0, others=()):
    try:
        st = os.stat(path)
        live_head, live_ident = rotation.read_head(path), (st.st_dev, st.st_ino)
    except OSError:
        live_head = live_ident = None
    return rotation.plan(path, list(recorded), rotation.candidates(path), since, others=others,
                         live_head=live_head, live_ident=live_ident)


def _key(path):
    st = os.stat(path)
    head = rotation.read_head(path)
    return os.path.basename(path), rotation.FileKey(st.st_dev, st.st_ino, len(head), rotation.digest(head))


def _names(plan):
    return [os.path.basename(p) for p, dummy in plan.sources]


def test_candidates_are_named_as_logrotate_names_rotations_oldest_first(tmp_path):
    path = str(tmp_path / "runner.log")
    for n, name in enumerate(("runner.log", "runner.log.1", "runner.log.2.gz", "runner.log.10", "runner.logger",
                              "other.log.1", "runner.log-20261129", "runner.log.old", "runner.log.bak",
                              "runner.log-2", "runner.log.2026-11-30.gz", "runner.log_1")):
        _write(str(tmp_path / name), "{0}\n".format(n).encode())
    found = [os.path.basename(c.path) for c in rotation.candidates(path)]
    assert found == ["runner.log.10", "runner.log.2.gz", "runner.log.1", "runner.log-20261129",
                     "runner.log.2026-11-30.gz"]
    os.symlink("/etc/hostname", path + ".9")  # a symlink is no rotated file, wherever it points
    assert "runner.log.9" not in [os.path.basename(c.path) for c in rotation.candidates(path)]


def test_without_a_record_the_rotations_of_this_run_are_taken_and_the_log_is_last(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path + ".2", b"one\n")
    _write(path + ".1.gz", gzip.compress(b"two\n"))
    _write(path, b"three\n")
    _write(path + ".3", b"an earlier run\n")
    os.utime(path + ".3", (1000, 1000))
    plan = _plan(path, since=5000)
    assert _names(plan) == ["runner.log.2", "runner.log.1.gz", "runner.log"]
    assert [(os.path.basename(p), why) for p, why in plan.skipped] == [
        ("runner.log.3", "it was last written before this run started")]


def test_a_copy_a_hard_link_and_another_runs_log_are_never_taken(tmp_path):
    path = str(tmp_path / "alike")
    _write(path, b"=== ATVM category: g1 ===\n" + b"this run, Cypress output of the first group\n" * 3)
    _write(path + ".1", open(path, "rb").read())  # an operator's copy, named as a rotation
    os.link(path, path + ".2")  # the log itself under another name
    other = str(tmp_path / "alike-20261207")  # another build's live log, named like a dateext rotation
    _write(other, b"=== ATVM category: g9 ===\nanother run\n")
    plan = _plan(path, others=[other])
    assert _names(plan) == ["alike"]
    assert sorted((os.path.basename(p), why) for p, why in plan.skipped) == [
        ("alike-20261207", "it is the log of another run"),
        ("alike.1", "it repeats the first bytes of a file already read (a copy)"),
        ("alike.2", "it is the log itself (a hard link)")]


def test_recorded_files_are_found_renamed_copied_or_compressed(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"A" * 5000)
    first = _key(path)
    os.rename(path, path + ".1")  # renamed: the same inode, the same first bytes
    _write(path, b"B" * 100)
    second = _key(path)
    _write(path + ".2.gz", gzip.compress(open(path, "rb").read()))  # copytruncate then compressed
    with open(path, "r+b") as handle:
        handle.truncate(0)
    _write(path, b"C" * 10)
    plan = _plan(path, recorded=[first, second])
    assert _names(plan) == ["runner.log.2.gz", "runner.log.1", "runner.log"]
    assert dict((os.path.basename(p), fid) for p, fid in plan.sources) == {
        "runner.log.2.gz": 1, "runner.log.1": 0, "runner.log": None}
    assert plan.lost == {}


def test_a_recorded_file_found_nowhere_is_lost_and_an_unreadable_candidate_is_named(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path, b"A" * 100)
    recorded = [_key(path)]
    os.rename(path, path + ".1")
    _write(path + ".1.zst", b"\x28\xb5\x2f\xfd")  # what zstd left (this Python cannot read it)
    os.unlink(path + ".1")
    _write(path, b"")
    plan = _plan(path, recorded=recorded)
    assert _names(plan) == ["runner.log"]
    assert plan.lost == {0: "the log file runner.log is gone: it may be runner.log.1.zst (compressed as .zst, "
                            "which this controller's Python cannot read)"}
    os.unlink(path + ".1.zst")
    assert _plan(path, recorded=recorded).lost == {
        0: "the log file runner.log is gone (not beside the log nor in an olddir)"}


def test_an_unknown_file_older_than_the_recorded_ones_is_not_this_runs(tmp_path):
    path = str(tmp_path / "runner.log")
    _write(path + ".3", b"older text\n")  # rotated before this watcher ever read: not its run's
    _write(path, b"X" * 100)
    recorded = [_key(path)]
    os.rename(path, path + ".1")
    _write(path, b"Y" * 10)
    plan = _plan(path, recorded=recorded)
    assert _names(plan) == ["runner.log.1", "runner.log"]
    assert plan.skipped == [(path + ".3", "it is older than the files this watcher read")]


def test_logrotate_olddir_of_the_stanza_that_names_the_log(tmp_path):
    conf = tmp_path / "logrotate.conf"
    included = tmp_path / "logrotate.d"
    included.mkdir()
    conf.write_text("weekly\nolddir /var/log/old  # global\ninclude {0}\n".format(included))
    (included / "atvm").write_text(
        '# the runs\n"/var/lib/atvm-run-watcher/*/runner.log" /logs/other {\n  copytruncate\n  olddir archive\n}\n'
        "/elsewhere.log {\n  olddir /nope\n}\n")
    assert rotation.logrotate_olddirs("/var/lib/atvm-run-watcher/b1/runner.log", str(conf)) == [
        "/var/log/old", "/var/lib/atvm-run-watcher/b1/archive"]
    assert rotation.logrotate_olddirs("/x.log", str(tmp_path / "missing.conf")) == []


def test_candidates_are_looked_for_in_an_olddir(tmp_path):
    path = str(tmp_path / "logs" / "runner.log")
    os.makedirs(os.path.dirname(path))
    old = tmp_path / "old"
    old.mkdir()
    _write(str(old / "runner.log.1"), b"rotated\n")
    _write(path, b"live\n")
    assert [c.path for c in rotation.candidates(path, [str(old)])] == [str(old / "runner.log.1")]

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The log follower: whatever rotations and restarts happen, a sub-run keeps its number."""
from __future__ import annotations

import functools
import gzip
import os
import pathlib
import subprocess
import sys

from hypothesis import HealthCheck, given, settings, strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.evidence.cypress_log import CypressLogParser
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import RunPaths
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.watch.follow import LogFollower, other_logs

LABELS = ["linux", "windows", "oracle"]


@functools.lru_cache(maxsize=1)
def categorized_log() -> bytes:
    """Three groups, the middle one failing (the Cypress run simulator replaying the corpus)."""
    sim = pathlib.Path(__file__).resolve().parents[6] / "tests" / "support" / "cypress_sim.py"
    out = subprocess.run([sys.executable, str(sim), "--groups", "linux:rhel96-fc-01;windows:win2022-01;oracle:ol8-03",
                          "--fail", "win2022-01", "--speed", "1000000", "--tests-per-spec", "2"],
                         capture_output=True, check=False, timeout=60)
    return out.stdout


class Controller:
    """A log, its rotations, and watchers that come and go (each a new parser and follower)."""

    def __init__(self, folder: pathlib.Path) -> None:
        self.path = str(folder / "runner.log")
        self.target = self.path  # the file the writer (the runner entry) writes to
        self.store = RunStore(RunPaths(str(folder / "state"), "b1")).ensure()
        self.journal = []
        self.follower = None
        with open(self.path, "wb"):
            pass
        self.restart()

    def restart(self) -> None:
        if self.follower is not None:
            self.follower.close()
        self.follower = LogFollower(self.path, CypressLogParser(), self.store,
                                    lambda event, text, **kw: self.journal.append((event, text)))
        self.follower.prepare(since=0)

    def write(self, data: bytes) -> None:
        with open(self.target, "ab") as handle:
            handle.write(data)

    def rotate(self, mode: str, then: str) -> None:
        for number in range(5, 0, -1):  # logrotate: .1 -> .2, ...
            for ext in ("", ".gz"):
                old = "{0}.{1}{2}".format(self.path, number, ext)
                if os.path.exists(old):
                    new = "{0}.{1}{2}".format(self.path, number + 1, ext)
                    if self.target == old:
                        self.target = new
                    os.rename(old, new)
        first = self.path + ".1"
        if mode == "copytruncate":
            with open(self.path, "rb") as src, open(first, "wb") as dst:
                dst.write(src.read())
            with open(self.path, "r+b") as handle:
                handle.truncate(0)
        else:
            os.rename(self.path, first)
            with open(self.path, "wb"):
                pass
            if self.target == self.path:
                self.target = first if mode == "rename-writer-stays" else self.path
        if then == "gzip" and self.target != first:
            with open(first, "rb") as plain, gzip.open(first + ".gz", "wb") as packed:
                packed.write(plain.read())
            os.unlink(first)
        elif then == "delete" and self.target != first:
            os.unlink(first)

    def read(self) -> None:
        while self.follower.read(60.0):
            pass
        self.follower.save()

    def numbering(self):
        return {run.index: run.label for run in self.follower.runs()}


STEP = st.one_of(
    st.tuples(st.just("write"), st.integers(min_value=1, max_value=1 << 14)),
    st.tuples(st.just("rotate"), st.sampled_from(["copytruncate", "rename-writer-stays", "rename-writer-moves"]),
              st.sampled_from(["keep", "keep", "gzip", "delete"])),
    st.tuples(st.just("restart")),
    st.tuples(st.just("read")),
)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(steps=st.lists(STEP, max_size=14))
def test_any_rotations_and_restarts_never_renumber_a_sub_run(tmp_path_factory, steps):
    log = categorized_log()
    ctl = Controller(tmp_path_factory.mktemp("follow"))
    written, lost_any = 0, False
    seen = {}
    for step in steps:
        if step[0] == "write":
            piece = log[written:written + step[1]]
            ctl.write(piece)
            written += len(piece)
        elif step[0] == "rotate":
            ctl.rotate(step[1], step[2])
            lost_any = lost_any or step[2] == "delete"
        elif step[0] == "restart":
            ctl.restart()
        ctl.read()
        for index, label in ctl.numbering().items():
            if label is not None:
                assert seen.setdefault(index, label) == label, "sub-run {0} renumbered".format(index)
    ctl.write(log[written:])
    ctl.read()
    ctl.follower.finish()
    numbering = ctl.numbering()
    labelled = [(index, label) for index, label in sorted(numbering.items()) if label is not None]
    assert len({label for dummy, label in labelled}) == len(labelled), numbering  # a group has one number
    assert [label for dummy, label in labelled] == [lb for lb in LABELS if lb in dict(labelled).values()], numbering
    if not lost_any:  # nothing lost: every group has the number it ran as
        for index, label in labelled:
            assert LABELS.index(label) == index, numbering
        assert [numbering.get(i) for i in range(3)] == LABELS, (numbering, ctl.journal)
        runs = ctl.follower.runs()
        assert [r.finished for r in runs] == [True, True, True]
        assert [r.all_passed for r in runs] == [True, False, True]


def test_a_deleted_rotated_file_keeps_its_runs_as_lost_never_pass(tmp_path):
    log = categorized_log()
    ctl = Controller(tmp_path)
    middle = log.index(b"ATVM category: windows")
    ctl.write(log[:middle + 200])  # linux done, windows begun
    ctl.read()
    ctl.rotate("copytruncate", "delete")
    ctl.write(log[middle + 200:])
    ctl.restart()
    ctl.read()
    ctl.follower.finish()
    runs = {r.index: r for r in ctl.follower.runs()}
    assert sorted(runs) == [0, 1, 2]
    assert runs[0].text_lost and runs[0].label == "linux" and not runs[0].finished  # restored from the record
    assert runs[1].label == "windows" and runs[1].text_lost  # its beginning was lost, its end was read
    assert runs[2].label == "oracle" and not runs[2].text_lost
    assert [e for e, dummy in ctl.journal if e == "log-rotated-unread"]


def test_other_logs_are_those_other_runs_name(tmp_path):
    root = tmp_path / "state"
    for build, log in (("b1", "/logs/b1"), ("b2", "/logs/b2"), ("b3", None)):
        (root / build).mkdir(parents=True)
        if log:
            (root / build / "watcher.env").write_text('ATVM_RUNNER_LOG="{0}"\n'.format(log))
    (root / ".archive").mkdir()
    assert other_logs(str(root), "/logs/b1") == ["/logs/b2"]

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Smoke runs of the benchmarks at tiny sizes: each still runs against today's product, and its checks hold.

The figures are not judged here (the machine may be busy); what is judged is what each benchmark
checks: bench_watch's posts against the offline verdict of the same files (every part, including
a categorized run whose middle group failed), bench_log_read's sub-runs against their corpus logs,
bench_verdict's hosts, bench_history's changes against the rules read set by set,
bench_dense_input's bounds on what the parser keeps.
"""
from __future__ import annotations

import pathlib
import runpy
import subprocess
import sys

BENCH = pathlib.Path(__file__).resolve().parents[2] / "benchmarks"


def _bench(tmp_path, script, *args, timeout=600):
    proc = subprocess.run([sys.executable, str(BENCH / script)] + list(args), cwd=str(tmp_path), capture_output=True,
                          text=True, timeout=timeout, check=False)
    return proc.returncode, proc.stdout + proc.stderr


def test_bench_watch_smoke(tmp_path):
    code, out = _bench(tmp_path, "bench_watch.py", "--checks-only", "--window", "1", "--repeat", "1",
                       "--watchers", "5", "--end-spread", "0", "--json", str(tmp_path / "report.json"))
    assert code == 0, out
    assert "checks: every check held" in out, out
    # the fleet mixes every kind of run, the categorized one whose middle group failed among them
    assert "posts: 11 accepted, 11 expected, 0 stray; builds with wrong posts: 0" in out, out
    assert "every run got exactly its expected posts" in out and "WRONG" not in out, out


def test_bench_watch_checks_fail_when_posts_are_wrong(tmp_path):
    """--checks-only fails on a wrong post: the check is not a formality."""
    check_failures = runpy.run_path(str(BENCH / "bench_watch.py"))["check_failures"]
    report = {"fleet": {"problems": {"fleet-004": ["sub-run 3: posted FAIL / FAILED `oracle`, the verdict says PASS / "
                                                   "COMPLETED `oracle`"]}, "stuck": [], "posts": 11,
                        "expected_posts": 11}}
    assert check_failures(report) == [
        "fleet fleet-004: sub-run 3: posted FAIL / FAILED `oracle`, the verdict says PASS / COMPLETED `oracle`"]
    report["fleet"].update(problems={}, posts=12)
    assert check_failures(report) == ["fleet: 12 posts, 11 expected"]


def test_bench_log_read_smoke(tmp_path):
    code, out = _bench(tmp_path, "bench_log_read.py", "--size-mb", "1", "--small-mb", "0", "--subruns", "3",
                       "--repeat", "1", "--tmpdir", str(tmp_path))
    assert code == 0, out
    assert "CHECK FAILED" not in out, out
    assert "check (1 MiB): every sub-run reads the same as its corpus log" in out, out


def test_bench_verdict_smoke(tmp_path):
    code, out = _bench(tmp_path, "bench_verdict.py", "--files", "20", "--timeout", "120")
    assert code == 0, out
    assert "hosts judged 20" in out, out


def test_bench_history_smoke(tmp_path):
    code, out = _bench(tmp_path, "bench_history.py", "--tests", "300", "--runs", "12", "--repeat", "1",
                       "--tmpdir", str(tmp_path), timeout=120)
    assert code == 0, out
    assert "check: the changes are the rules read set by set, 12 runs kept" in out, out


def test_bench_dense_input_smoke(tmp_path):
    code, out = _bench(tmp_path, "bench_dense_input.py", "--size-mb", "0.2", "--tmpdir", str(tmp_path))
    assert code == 0, out
    for name in ("ordinary", "banner", "marker", "results", "run-finished", "table-rows", "signatures", "long-lines"):
        assert "\n{0} ".format(name) in out, out
    # what each input left in the parser is bounded: runs kept one by one, then one overflow record
    banner = [line.split() for line in out.splitlines() if line.startswith("banner ")][-1]
    assert banner[-3] == "201" and int(banner[-2]) > 1000, out

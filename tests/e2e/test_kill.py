# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Kill test: the watcher is SIGKILLed at many moments of a categorized run and restarted each time,
as systemd would. Every sub-run's post must arrive exactly once, except the documented case (killed
between SENDING and SENT, or an ambiguous answer), where the second copy is marked."""
from __future__ import annotations

import json
import random
import re
import time

from e2e_posts import sending_indexes

GROUPS = ";".join("g{0}:h{0}a,h{0}b".format(n) for n in range(1, 7))
DUPLICATE = "possible duplicate"


def test_watcher_killed_at_many_moments_posts_each_subrun_exactly_once(make_run, double):
    run = make_run("killtest", ["--groups", GROUPS, "--fail", "h3a", "--exit-code", "0", "--spec-seconds", "1.2",
                                "--line-interval", "0.1", "--tests-per-spec", "3"],
                   categorized=True, hosts=GROUPS, env={"ATVM_SETTLE_QUIET": "0.2"})
    # Every post takes 0.3 s at the server: a wide window between SENDING and SENT.
    double.set_faults(delay=0.3)
    rng = random.Random(20261127)
    run.start_runner()
    time.sleep(0.1)
    kills = []
    sending_kills = 0
    interrupted = {}  # sub-run number -> kills that left its post in SENDING
    while True:
        watcher = run.start_watcher()
        if len(kills) >= 24 and run.runner.poll() is not None:
            assert run.wait_watcher(watcher, 60) == 0
            break
        mode = "sending" if len(kills) % 3 == 0 else "timer"
        deadline = time.time() + (4.0 if mode == "sending" else rng.uniform(0.05, 0.6))
        hit = False
        while time.time() < deadline and watcher.poll() is None:
            if mode == "sending" and sending_indexes(run):
                hit = True
                break
            time.sleep(0.002)
        if watcher.poll() is not None:
            # It finished on its own (run over): that is fine as long as enough kills happened.
            run.outputs.append(watcher.communicate()[0].decode("utf-8", "replace"))
            if run.runner.poll() is not None and len(kills) >= 20:
                break
            continue
        watcher.kill()
        watcher.communicate()
        left = sending_indexes(run)  # posts this kill interrupted between SENDING and SENT
        for number in left:
            interrupted[number] = interrupted.get(number, 0) + 1
        kills.append((mode, hit, left))
        sending_kills += bool(left)
    print("kills: {0}, of which {1} between SENDING and SENT; interrupted posts per sub-run: {2}".format(
        len(kills), sending_kills, interrupted))
    assert len(kills) >= 20, kills
    assert sending_kills >= 1, "no kill landed between SENDING and SENT: {0}".format(kills)
    posts = run.posts()
    by_index = {}
    for text in posts:
        index = int(re.search(r"sub-run (\d+)", text.splitlines()[0] + text).group(1))
        by_index.setdefault(index, []).append(text)
    assert sorted(by_index) == [1, 2, 3, 4, 5, 6], [p.splitlines()[0] for p in posts]
    for index, texts in by_index.items():
        plain = [t for t in texts if DUPLICATE not in t]
        marked = [t for t in texts if DUPLICATE in t]
        # At most one unmarked copy; every further copy is marked, and there is at most one marked
        # copy per kill that interrupted that very post between SENDING and SENT.
        assert len(plain) <= 1, (index, [t.splitlines()[0] for t in texts])
        assert len(marked) <= interrupted.get(index, 0), (index, len(marked), interrupted, kills)
    results = {i: ("FAIL" if "❌ FAIL" in texts[0] else "PASS") for i, texts in by_index.items()}
    assert results == {1: "PASS", 2: "PASS", 3: "FAIL", 4: "PASS", 5: "PASS", 6: "PASS"}
    state = run.state()
    assert state["run_state"] == "COMPLETED"
    assert [s["delivery"] for s in state["subruns"]] == ["SENT"] * 6
    # every group is a suite of its own, and each holds this run once whatever the kills (docs/history.md)
    suites = [json.loads(p.read_text()) for p in (run.state_root / ".history").glob("*.json")]
    assert sorted(len(doc["runs"]) for doc in suites) == [1] * 6, [[r["id"] for r in d["runs"]] for d in suites]
    run.assert_no_secret()

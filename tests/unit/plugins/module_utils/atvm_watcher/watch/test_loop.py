# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""watcher.py: a cancellation marker found at the moment of deciding wins (written before anything is
stopped); the run's start survives a corrupt state.json."""
from __future__ import annotations

import io
import json
import os

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import Settings
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.models import CypressRun, ExitInfo
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery.client import DeliveryResult
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.watch.loop import Watcher

HOOK = "http://127.0.0.1:9/hooks/watchertesthook"


class NoPostClient:
    """Fails the test at any post."""

    secrets = (HOOK,)

    def __init__(self) -> None:
        self.posts = []

    def post(self, payload, *args, **kwargs):
        self.posts.append(payload)
        raise AssertionError("a post was made")


class RecordingClient:
    """Takes every post (200 ok) and keeps it."""

    secrets = (HOOK,)

    def __init__(self) -> None:
        self.posts = []

    def post(self, payload, *args, **kwargs):
        self.posts.append(payload)
        return DeliveryResult(ok=True, outcome="sent", status=200, reason="ok", attempts=1, ambiguous=False)


class CancelledWhilePolled:
    """A runner that a cancel stops between the poll's first marker read and its look at the runner:
    the marker is written (first, as the cancel does), then the runner is found ended."""

    started = True

    def __init__(self, store, exit_info: ExitInfo, cancel: bool = True) -> None:
        self.store = store
        self.cancel = cancel
        self.over = False
        self.exit = ExitInfo()
        self.ended = exit_info

    def poll(self, main_exited=False):
        if self.cancel:
            self.store.write_cancel_marker("test", "tester")
        self.over, self.exit = True, self.ended
        return True

    def cpu_seconds(self):
        return None

    def started_epoch(self):
        return None


def watcher_for(tmp_path, categorized=False):
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path),
                                 runner_log=str(tmp_path / "runner.log"), categorized=categorized)
    client = NoPostClient()
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, client=client)
    watcher.store.ensure()
    watcher._load_state()  # pylint: disable=protected-access
    return watcher, client


@pytest.mark.parametrize("ended", [
    ExitInfo(known=True, running=False, signal=15, source="exit-file"),  # stopped by the cancel: not TERMINATED
    ExitInfo(known=True, running=False, exit_code=0, source="exit-file"),  # would be decided (and posted)
], ids=["signal", "exit-0"])
@pytest.mark.parametrize("categorized", [False, True])
def test_a_marker_written_after_the_polls_first_read_wins(tmp_path, ended, categorized):
    watcher, client = watcher_for(tmp_path, categorized)
    runner = CancelledWhilePolled(watcher.store, ended)
    watcher.runner = runner  # type: ignore[assignment]
    assert watcher.store.cancel_marker() is None  # the poll's first read finds no marker
    assert watcher._poll(runner, main_exited=True) == 0  # pylint: disable=protected-access
    assert watcher.state.run_state == "CANCELLED"
    assert client.posts == [] and watcher.store.outbox_list() == []


def test_without_a_marker_the_ended_runner_is_decided(tmp_path):
    """The same poll without a cancel: the runner killed by a signal is TERMINATED (the test above can
    fail), and the channel is told so by the request post."""
    watcher, _client = watcher_for(tmp_path)
    watcher.client = client = RecordingClient()
    runner = CancelledWhilePolled(watcher.store, ExitInfo(known=True, running=False, signal=15, source="exit-file"),
                                  cancel=False)
    watcher.runner = runner  # type: ignore[assignment]
    assert watcher._poll(runner, main_exited=True) == 0  # pylint: disable=protected-access
    assert watcher.state.run_state == "TERMINATED"
    assert [p["text"] for p in client.posts] == ["#### \u2754 UNKNOWN \u00b7 TERMINATED \u00b7 build `b1` \u00b7 the request"]
    assert watcher.state.request.delivery == "SENT"


def test_no_post_once_the_marker_exists(tmp_path):
    """A sub-run decided before the marker was written is still not posted when the marker exists at its post."""
    watcher, client = watcher_for(tmp_path)
    entry, _created = watcher.state.entry(0)
    entry.name, entry.key = "linux", "000-linux"
    watcher.store.write_cancel_marker("test", "tester")
    watcher.deliver_subrun(entry, {"text": "PASS"})
    assert client.posts == [] and watcher.store.outbox_list() == []
    assert entry.delivery == "NOT_POSTED"


def _touch(path, mtime):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"host": path.stem}))
    os.utime(str(path), (mtime, mtime))


@pytest.mark.parametrize("record", ["runner-exit.json.running", "runner-exit.json"])
def test_a_corrupt_state_keeps_the_runs_start_from_the_runners_record(tmp_path, record):
    """state.json set aside: the new state's start is now, but the runner's record says when the run
    began, so the artifacts written since still belong to the run (and older ones still do not)."""
    began = 1_700_000_000.0
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path),
                                 reporter_dir=str(tmp_path / "reports"), runner_log=str(tmp_path / "runner.log"))
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, client=NoPostClient(), clock=lambda: began + 600)
    watcher.store.ensure()
    started = "2023-11-14T22:13:20.000Z"  # = began
    with open(os.path.join(watcher.store.paths.dir, record), "w") as handle:
        json.dump({"schema": 1, "pid": 4242, "started_at": started}, handle)
    with open(watcher.store.paths.state, "wb") as handle:
        handle.write(b"{\"schema\": 1, \"run_state\": \x00\xff garbage")
    _touch(tmp_path / "reports" / "old-run.json", began - 3600)  # an earlier run's artifact
    _touch(tmp_path / "reports" / "this-run.json", began + 30)  # written before the state was lost
    watcher._start()  # pylint: disable=protected-access
    assert watcher.state.created_epoch == began + 600  # the new state's own start: after the artifact
    ev = watcher.evidence()
    assert ev.run_not_before == began
    assert [os.path.basename(a.path) for a in ev.artifacts] == ["this-run.json"]
    watcher.save()
    assert json.loads(open(watcher.store.paths.state).read())["created_epoch"] == began
    assert any(e["event"] == "run-start" for e in watcher.store.read_events())


def test_a_sub_run_read_late_starts_at_the_last_read_that_found_the_logs_end(tmp_path):
    """The watcher was busy (a post, a loaded machine) while a sub-run started: its first_seen is the
    last read that found nothing new, not the late read that found it (its artifacts were written
    in between and must count)."""
    now = [100.0]
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path),
                                 runner_log=str(tmp_path / "runner.log"), categorized=True)
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, client=NoPostClient(), clock=lambda: now[0])
    watcher.store.ensure()
    (tmp_path / "runner.log").write_text("")
    assert watcher.read_log() is False  # at 100 the log holds nothing new
    now[0] = 160.0  # the watcher comes back a minute later
    (tmp_path / "runner.log").write_text("Running: linux\n")
    assert watcher.read_log() is True
    watcher.parser.runs.append(CypressRun(index=0, started=True))  # as the parser found it in that text
    watcher.follower.note_runs()
    watcher.track_subruns(live=True)
    assert watcher.state.subruns[0].first_seen == 100.0
    assert watcher.evidence().not_before == {0: 100.0}


class QuietRunner:
    """A runner that has started and is quiet (no CPU used): only time can make it HUNG."""

    started = True
    over = False

    def cpu_seconds(self):
        return 1.0


def test_a_wall_clock_jump_never_makes_a_quiet_run_hung(tmp_path):
    """An NTP step or a resumed VM moves the wall clock by hours: HUNG is measured on the monotonic
    clock, so a quiet run is not declared HUNG (and left unposted) by the jump; real quiet is."""
    wall, mono = [1_800_000_000.0], [50.0]
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK, "ATVM_HANG_TIMEOUT": "600",
                                  "ATVM_HANG_CHECK_INTERVAL": "1"}, build_name="b1", state_root=str(tmp_path),
                                 runner_log=str(tmp_path / "runner.log"))
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, client=NoPostClient(),
                      clock=lambda: wall[0], monotonic=lambda: mono[0])
    watcher.runner = QuietRunner()
    assert watcher.check_hang() is False  # the first look: progress now
    wall[0] += 3 * 3600  # the wall clock jumps three hours, two seconds pass
    mono[0] += 2
    assert watcher.check_hang() is False
    mono[0] += 601  # ten quiet minutes
    assert watcher.check_hang() is True


def test_the_monotonic_clock_follows_a_test_clock_and_is_the_real_one_by_default(tmp_path):
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path))
    fake = Watcher(settings, log_stream=io.StringIO(), environ={}, client=NoPostClient(), clock=lambda: 7.0)
    assert fake.monotonic() == 7.0
    real = Watcher(settings, log_stream=io.StringIO(), environ={}, client=NoPostClient())
    import time  # pylint: disable=import-outside-toplevel

    assert abs(real.monotonic() - time.monotonic()) < 5 and abs(real.clock() - time.time()) < 5


def test_settle_waits_follow_the_monotonic_clock_and_a_restored_stamp_never_counts_negative(tmp_path):
    """A sub-run seen finishing by this watcher: its settle wait is monotonic time, whatever the wall
    clock does; one an earlier watcher saw (only its wall stamp in state.json) counts from that stamp."""
    wall, mono = [1_800_000_000.0], [10.0]
    settings = Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": HOOK}, build_name="b1", state_root=str(tmp_path),
                                 runner_log=str(tmp_path / "runner.log"), categorized=True)
    watcher = Watcher(settings, log_stream=io.StringIO(), environ={}, client=NoPostClient(),
                      clock=lambda: wall[0], monotonic=lambda: mono[0])
    watcher.parser.runs.append(CypressRun(index=0, started=True, finished=True))
    watcher.follower.note_runs()
    watcher.track_subruns(live=True)
    stamp = watcher.state.subruns[0].finished_seen
    assert stamp == wall[0]
    wall[0] -= 3600  # the wall clock steps back an hour
    mono[0] += 30
    assert watcher._waited("finished", 0, stamp) == 30  # pylint: disable=protected-access
    wall[0] += 7200  # and forward two hours
    assert watcher._waited("finished", 0, stamp) == 30  # pylint: disable=protected-access
    assert watcher._waited("finished", 1, wall[0] - 12) == 12  # pylint: disable=protected-access
    assert watcher._waited("finished", 1, wall[0] + 600) == 0  # pylint: disable=protected-access
    assert watcher._waited("first", 1, None) is None  # pylint: disable=protected-access

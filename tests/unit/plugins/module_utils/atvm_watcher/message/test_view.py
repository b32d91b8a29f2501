# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The view of a decided (sub-)run: the facts both formatters show, built once."""
from __future__ import annotations

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import models
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import view as post_view
from ansible_collections.atvm.watcher.tests.unit.plugins.module_utils.atvm_watcher.message.test_markdown import (
    METADATA, _verdict)


def _view(total=3, **kwargs):
    verdict, sub = _verdict(**kwargs)
    return post_view.build_view(verdict, sub, config.Settings(metadata=dict(METADATA)), "B42", total)


def test_headline_facts_and_position():
    view = _view()
    assert (view.result, view.state, view.emoji, view.build_name, view.name) == (
        models.FAIL, models.COMPLETED, "\u274c", "B42", "linux")
    assert view.position == "2/3"
    assert _view(total=0).position == "2"  # the number of sub-runs is not known yet
    assert _view(total=1).position == "2/2"  # never fewer sub-runs than this one's position


def test_hosts_worst_first_and_the_ones_not_pass():
    view = _view()
    names = [h.name for h in view.hosts]
    assert names == ["rhel96-fc-01", "win2022-dc-02", "sles15-db-04", "ubuntu2404-app-03"]  # inventory order
    assert [names[i] for i in view.row_order] == ["rhel96-fc-01", "ubuntu2404-app-03", "sles15-db-04", "win2022-dc-02"]
    assert [names[i] for i in view.not_pass] == ["rhel96-fc-01", "ubuntu2404-app-03", "sles15-db-04"]
    assert view.hosts_by_result == [(models.FAIL, 1), (models.MISSING, 1), (models.RUN, 1), (models.PASS, 1)]
    assert view.hosts[2].kernel == "" and view.hosts[3].os == ""


def test_reasons_of_a_categorized_and_of_a_plain_run():
    categorized = _view()
    assert categorized.reasons == ["1 of 4 spec(s) failed"]
    assert categorized.request_reasons == ["runner exited with code 1"]
    assert categorized.reasons_title == "Why not PASS"
    plain = _view(categorized=False, sub_reasons=["a", "", "b"], run_reasons=["b", "c\nd"])
    assert plain.reasons == ["a", "b", "c d"] and plain.request_reasons == []
    assert _view(result=models.PASS).reasons_title == "Notes"


def test_metadata_as_shown_credentials_hidden():
    verdict, sub = _verdict()
    meta = dict(METADATA, runner_command="run --token s3cr3t", zz="z", aa="a", scope="")
    view = post_view.build_view(verdict, sub, config.Settings(metadata=meta), "B42", 3)
    assert [key for key, _label, _value in view.metadata] == [
        "template", "config_family", "config_file", "migration_style", "integration_plugin", "template_command",
        "runner_command"]
    assert view.metadata_value("runner_command") == "run --token ***"
    assert view.metadata_value("scope") == ""
    assert view.extra_metadata == [("aa", "a"), ("zz", "z")]


def test_counts_duration_and_the_recorded_run():
    view = _view()
    assert view.counts == models.Counts(29, 24, 0, 5, 0)
    assert view.duration == "1h 02m 05s" and view.run_url == "http://127.0.0.1:1234/runs/42"
    verdict, sub = _verdict()
    sub.counts, sub.duration_seconds, sub.run_url = models.Counts(), None, None
    empty = post_view.build_view(verdict, sub, config.Settings(), "B42", 3)
    assert (empty.counts, empty.duration, empty.run_url) == (None, "", "")

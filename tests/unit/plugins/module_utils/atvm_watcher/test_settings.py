# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings: one declaration per setting, and everything read from it (conversion, checks, docs)."""
from __future__ import annotations

import dataclasses
import pathlib

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError
from ansible_collections.atvm.watcher.tools.settings_doc import settings_reference

ROOT = pathlib.Path(config.__file__).resolve().parents[3]
HOOK = "https://chat.example.test/hooks/abcdef123456"


def test_every_setting_is_declared_once_with_its_variable_and_doc():
    fields = [f for f in dataclasses.fields(config.Settings) if f.name != "metadata"]
    assert [f.name for f in fields] == [f.name for f in config.SETTING_FIELDS]
    names = [f.metadata["env"] for f in fields]
    assert len(set(names)) == len(names)
    assert all(n.startswith(("ATVM_", "MATTERMOST_ATVM_")) for n in names)
    assert all(f.metadata["doc"].endswith(".") and f.metadata["kind"] in config.KINDS for f in fields)
    assert config.ENV_MAP == {f.metadata["env"]: f.name for f in fields}
    assert config.ENV_MAP["ATVM_HANG_TIMEOUT"] == "hang_timeout"
    assert "ATVM_ARCHIVE_KEEP" not in config.ENV_MAP  # read by nothing: the module option decides


def test_the_defaults_pass_the_checks():
    assert config.Settings().check(require_webhook=False) == []
    assert config.Settings(webhook=HOOK).check() == []
    assert config.Settings().check() == ["MATTERMOST_ATVM_WEBHOOK is not set"]


def test_from_env_converts_by_kind():
    settings = config.Settings.from_env({
        "ATVM_HANG_TIMEOUT": "90", "ATVM_MAX_POST_CHARS": "4000", "ATVM_CATEGORIZED": "yes",
        "ATVM_EXPECTED_HOSTS": " win2022-01, rhel96-fc-01,,", "ATVM_RUNNER_PID": "4242", "ATVM_JUNIT_GLOB": "",
        "ATVM_SCOPE": "smoke", "ATVM_UNKNOWN": "ignored",
    }, build_name="b1")
    assert (settings.hang_timeout, settings.max_post_chars, settings.categorized) == (90.0, 4000, True)
    assert settings.expected_hosts == ["win2022-01", "rhel96-fc-01"]
    assert settings.runner_pid == 4242 and settings.junit_glob == "*.xml"  # empty is unset
    assert settings.metadata == {"scope": "smoke"} and settings.build_name == "b1"
    assert config.Settings.from_env({"ATVM_CATEGORIZED": "off"}).categorized is False
    assert config.Settings().expected_hosts is not config.Settings().expected_hosts


@pytest.mark.parametrize("env, raw, what", [
    ("ATVM_MAX_POST_CHARS", "4k", "not a whole number"),
    ("ATVM_RUNNER_PID", "12.5", "not a whole number"),
    ("ATVM_SETTLE_MAX", "soon", "not a number"),
])
def test_from_env_names_the_variable_it_cannot_read(env, raw, what):
    with pytest.raises(ConfigError, match="^{0}='{1}' is {2}$".format(env, raw, what)):
        config.Settings.from_env({env: raw})


@pytest.mark.parametrize("env, raw, problem", [
    ("ATVM_HANG_TIMEOUT", "0", "ATVM_HANG_TIMEOUT must be greater than 0"),
    ("ATVM_POLL_INTERVAL", "-1", "ATVM_POLL_INTERVAL must be greater than 0"),
    ("ATVM_MAX_POST_CHARS", "999", "ATVM_MAX_POST_CHARS must be between 1000 and 16383"),
    ("ATVM_MAX_POST_CHARS", "16384", "ATVM_MAX_POST_CHARS must be between 1000 and 16383"),
    ("MATTERMOST_ATVM_CHANNEL", "Town Square", "MATTERMOST_ATVM_CHANNEL 'Town Square' is not a channel name"),
    ("MATTERMOST_ATVM_WEBHOOK", "https://chat.example.test/api/v4/posts", "MATTERMOST_ATVM_WEBHOOK is not an incoming"),
    ("ATVM_SUBRUN_MARKER_REGEX", "(", "ATVM_SUBRUN_MARKER_REGEX is not a valid regular expression"),
    ("ATVM_HOST_PATTERN", r"(?P<name>\w+)\.cy\.js", "ATVM_HOST_PATTERN has no named group (?P<host>...)"),
    ("ATVM_JP_FAILED", "stats.[", "ATVM_JP_FAILED is not a valid JMESPath expression"),
    ("ATVM_MESSAGE_TEMPLATE", "/nonexistent/template.md", "ATVM_MESSAGE_TEMPLATE /nonexistent/template.md is not"),
    ("ATVM_BUILD_NAME", "../etc", "invalid build name '../etc'"),
])
def test_check_names_each_broken_setting(env, raw, problem):
    env_map = {"MATTERMOST_ATVM_WEBHOOK": HOOK, env: raw}
    if env == "ATVM_BUILD_NAME":  # from_env refuses it outright; check() says it too
        with pytest.raises(ConfigError, match="invalid build name"):
            config.Settings.from_env(env_map)
        problems = config.Settings(webhook=HOOK, build_name=raw).check()
    else:
        problems = config.Settings.from_env(env_map).check()
    assert len(problems) == 1 and problems[0].startswith(problem), problems


def test_check_without_webhook_ignores_it_and_never_shows_it():
    settings = config.Settings.from_env({"MATTERMOST_ATVM_WEBHOOK": "not a url"})
    assert settings.check(require_webhook=False) == []
    assert HOOK not in repr(config.Settings(webhook=HOOK))


def test_every_jmespath_setting_is_checked():
    broken = {name: "a.[" for name, attr in config.ENV_MAP.items() if attr in config.JP_FIELDS}
    problems = config.Settings.from_env(dict(broken, MATTERMOST_ATVM_WEBHOOK=HOOK)).check()
    assert sorted(p.split()[0] for p in problems) == sorted(broken)


def test_settings_reference_lists_every_setting():
    text = settings_reference()
    for field in config.SETTING_FIELDS:
        assert "- `{0}` (".format(field.metadata["env"]) in text
    assert "`ATVM_HANG_TIMEOUT` (seconds; default `2700`; greater than 0)" in text
    assert "from 1000 to 16383" in text and HOOK not in text


def test_docs_settings_md_is_current():
    committed = (ROOT / "docs" / "settings.md").read_text(encoding="utf-8")
    assert committed == settings_reference(), "docs/settings.md is stale: run `make settings-doc`"

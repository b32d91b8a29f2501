# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Env files: the writer, the reader and systemd agree on every value, and the template is no env file."""
from __future__ import annotations

import os

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import settings as config
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.message import markdown as render
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import template_path_problem
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import (
    ENV_NAME_RE, parse_env_text, quote_env_value, render_env_file)
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import ConfigError

NEWLINE, WHITESPACE, COMMENTS, SHELL_NEED_ESCAPE = "\n\r", " \t\n\r", "#;", '"\\`$'


def systemd_parse(text):
    """An independent model of systemd's EnvironmentFile= parser (src/basic/env-file.c, v254+, as a
    state machine over the whole text, line breaks inside quotes included); entries whose value
    holds invalid UTF-8 or whose name is not a valid name are dropped, as systemd does."""
    out, key, value, state = {}, [], None, "PRE_KEY"
    key_ws = value_ws = None

    def push():
        name = "".join(key[:key_ws] if key_ws is not None else key)
        val = "".join(value or [])
        if ENV_NAME_RE.match(name):
            out[name] = val

    for c in text:
        if state == "PRE_KEY":
            if c in COMMENTS:
                state = "COMMENT"
            elif c not in WHITESPACE:
                state, key, key_ws = "KEY", [c], None
        elif state == "KEY":
            if c in NEWLINE:
                state = "PRE_KEY"
            elif c == "=":
                state, value, value_ws = "PRE_VALUE", [], None
            else:
                if c not in WHITESPACE:
                    key_ws = None
                elif key_ws is None:
                    key_ws = len(key)
                key.append(c)
        elif state == "PRE_VALUE":
            if c in NEWLINE:
                push()
                state = "PRE_KEY"
            elif c == "'":
                state = "SQ"
            elif c == '"':
                state = "DQ"
            elif c == "\\":
                state = "VALUE_ESCAPE"
            elif c not in WHITESPACE:
                state = "VALUE"
                value.append(c)
        elif state == "VALUE":
            if c in NEWLINE:
                if value_ws is not None:
                    del value[value_ws:]
                push()
                state = "PRE_KEY"
            elif c == "\\":
                state, value_ws = "VALUE_ESCAPE", None
            else:
                if c not in WHITESPACE:
                    value_ws = None
                elif value_ws is None:
                    value_ws = len(value)
                value.append(c)
        elif state == "VALUE_ESCAPE":
            state = "VALUE"
            if c not in NEWLINE:
                value.append(c)
        elif state == "SQ":
            if c == "'":
                state = "PRE_VALUE"
            else:
                value.append(c)
        elif state == "DQ":
            if c == '"':
                state = "PRE_VALUE"
            elif c == "\\":
                state = "DQ_ESCAPE"
            else:
                value.append(c)
        elif state == "DQ_ESCAPE":
            state = "DQ"
            if c in SHELL_NEED_ESCAPE:
                value.append(c)
            elif c != "\n":
                value.extend(("\\", c))
        elif state == "COMMENT":
            if c == "\\":
                state = "COMMENT_ESCAPE"
            elif c in NEWLINE:
                state = "PRE_KEY"
        elif state == "COMMENT_ESCAPE":
            state = "PRE_KEY" if c in NEWLINE else "COMMENT"
    if state in ("PRE_VALUE", "VALUE", "VALUE_ESCAPE", "SQ", "DQ", "DQ_ESCAPE"):
        if state == "VALUE" and value_ws is not None:
            del value[value_ws:]
        push()
    return out


TRICKY = st.sampled_from(list("ab =#;'\"\\`$\t\n\r\x00\x0b\x0c\x1c\x1d\x1e\x85\x7f\u2028\u2029\ud83d") + ["x y"])
TRICKY_TEXT = st.lists(TRICKY, max_size=12).map("".join)


@settings(max_examples=400, deadline=None)
@given(value=st.one_of(st.text(), TRICKY_TEXT))
def test_any_string_round_trips_as_one_value_or_is_refused(value):
    try:
        text = render_env_file({"ATVM_SCOPE": value, "ATVM_TEMPLATE_NAME": "after"})
    except ConfigError as exc:
        assert value not in str(exc) or len(value) < 2
        return
    expected = {"ATVM_SCOPE": value, "ATVM_TEMPLATE_NAME": "after"}
    assert parse_env_text(text) == expected
    assert systemd_parse(text) == expected
    assert len(text.splitlines()) == 2 and text.count("\n") == 2
    text.encode("utf-8")  # valid UTF-8: systemd keeps it


@settings(max_examples=400, deadline=None)
@given(text=st.lists(st.one_of(TRICKY, st.sampled_from(["A=", "B=", "\nC=", "\n", "export D="])), max_size=16)
       .map("".join))
def test_whatever_the_reader_accepts_systemd_reads_the_same(text):
    try:
        ours = parse_env_text(text)
    except ConfigError:
        return
    assert ours == systemd_parse(text)


@pytest.mark.parametrize("char", ["\n", "\r", "\x00", "\x0b", "\x0c", "\x1c", "\x1d", "\x1e", "\x85", "\x7f",
                                  "\u2028", "\u2029", "\ud83d"])
def test_every_line_bending_character_is_refused_by_name(char):
    with pytest.raises(ConfigError, match=r"U\+{0:04X} at position 1".format(ord(char))):
        quote_env_value("a" + char + "b")


def test_a_pasted_line_separator_cannot_add_a_setting():
    evil = "linux\u2028ATVM_MESSAGE_TEMPLATE=/etc/atvm-run-watcher.env"
    with pytest.raises(ConfigError, match="line separator"):
        render_env_file({"ATVM_SCOPE": evil})
    # written by hand, the reader keeps it one value (systemd does too) and refuses it by name
    with pytest.raises(ConfigError, match="line 1: the value of ATVM_SCOPE must not contain a line separator"):
        parse_env_text('ATVM_SCOPE="{0}"\n'.format(evil))


def test_tabs_and_shell_characters_survive():
    value = "a\tb \"q\" 'x' `c` $HOME \\ # ;"
    assert parse_env_text(render_env_file({"A": value})) == {"A": value}


@pytest.mark.parametrize("text, expected", [
    ("A=plain value  \n", {"A": "plain value"}),
    ("  A = \"x\"  'y' z \n", {"A": "xyz"}),
    ('A=x"y"\n', {"A": 'x"y"'}),
    ('A="a\\nb"\n', {"A": "a\\nb"}),
    ("A=a\\ \n", {"A": "a "}),
    ("A=1\r\nB=2\r\n", {"A": "1", "B": "2"}),
    ("# c\n; c\n\nA=#not a comment\n", {"A": "#not a comment"}),
])
def test_reader_follows_systemd(text, expected):
    assert parse_env_text(text) == expected == systemd_parse(text)


@pytest.mark.parametrize("text, error", [
    ('A="x\nB=y"\n', "line 1: unterminated quoted value"),
    ("A=x\\\nB=y\n", "line 1: a backslash at the end of the line"),
    ("A=x\rB=y\n", "line 1: a carriage return inside the line"),
    ("# note \\\nA=1\n", "line 1: a comment ends with a backslash"),
    ("export A=1\n", "line 1: expected NAME=value"),
])
def test_reader_refuses_what_systemd_reads_differently(text, error):
    with pytest.raises(ConfigError, match=error):
        parse_env_text(text, "<env>")


# ---------------------------------------------------------------------------------- the template
@pytest.fixture
def dirs(tmp_path):
    auto, install, etc = tmp_path / "auto", tmp_path / "install", tmp_path / "etc"
    for path in (auto, install, etc):
        path.mkdir()
    env = etc / "atvm-run-watcher.env"
    env.write_text('MATTERMOST_ATVM_WEBHOOK="http://x/hooks/abcdefabcdef"\n')
    return auto, install, env


def test_template_inside_the_automation_or_install_dir_is_accepted(dirs):
    auto, install, env = dirs
    for root in (auto, install):
        (root / "post.md").write_text("$result\n")
        assert template_path_problem(str(root / "post.md"), str(auto), str(install), [str(env)]) is None


@pytest.mark.parametrize("make, problem", [
    (lambda auto, install, env: str(env), "is an env file"),
    (lambda auto, install, env: _link(auto / "post.md", env, hard=False), "is an env file"),
    (lambda auto, install, env: _link(auto / "post.md", env, hard=True), "is an env file"),
    (lambda auto, install, env: _write(auto / "watcher.env"), "is an env file"),
    (lambda auto, install, env: _write(auto.parent / "post.md"), "is outside the automation directory"),
    (lambda auto, install, env: str(auto / ".." / "post.md"), "is outside the automation directory"),
    (lambda auto, install, env: _link(auto / "up.md", auto.parent / "elsewhere.md", hard=False),
     "is outside the automation directory"),
])
def test_template_outside_or_an_env_file_is_refused(dirs, make, problem):
    auto, install, env = dirs
    path = make(auto, install, env)
    assert problem in template_path_problem(path, str(auto), str(install), [str(env)])


def _write(path):
    path.write_text("$result\n")
    return str(path)


def _link(link, target, hard):
    if not target.exists():
        target.write_text("$result\n")
    if hard:
        os.link(target, link)
    else:
        link.symlink_to(target)
    return str(link)


def test_settings_check_refuses_an_outside_template(dirs):
    auto, _install, env = dirs
    problems = config.Settings(automation_dir=str(auto), message_template=str(env)).check(require_webhook=False)
    assert any("is an env file" in p for p in problems)
    (auto / "post.md").write_text("$result\n")
    assert config.Settings(automation_dir=str(auto), message_template=str(auto / "post.md")).check(
        require_webhook=False) == []


def test_render_never_reads_an_env_file(dirs):
    _auto, _install, env = dirs
    with pytest.raises(ConfigError, match="is an env file"):
        render._load_template(str(env))  # pylint: disable=protected-access

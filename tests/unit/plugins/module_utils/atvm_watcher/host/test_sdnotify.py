# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""sdnotify.py: the sd_notify datagram protocol, path and abstract sockets, and outside systemd."""
from __future__ import annotations

import os
import socket
import uuid

import pytest

from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.host import sdnotify


@pytest.fixture
def path_socket(tmp_path):
    path = str(tmp_path / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(2)
    yield path, sock
    sock.close()


def test_ready_status_stopping_reach_a_path_socket(path_socket):
    path, sock = path_socket
    env = {"NOTIFY_SOCKET": path}
    assert sdnotify.ready(env) is True
    assert sock.recv(4096) == b"READY=1"
    assert sdnotify.ready(env, status_text="watching B") is True
    assert sock.recv(4096) == b"READY=1\nSTATUS=watching B"
    assert sdnotify.status("sub-run 2\nof 3", env) is True
    assert sock.recv(4096) == b"STATUS=sub-run 2 of 3"
    assert sdnotify.stopping(env) is True
    assert sock.recv(4096) == b"STOPPING=1"


def test_abstract_socket_name_with_at_sign():
    name = "atvm-test-" + uuid.uuid4().hex
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("\0" + name)
    sock.settimeout(2)
    try:
        assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": "@" + name}) is True
        assert sock.recv(4096) == b"READY=1"
    finally:
        sock.close()


@pytest.mark.parametrize("env", [{}, {"NOTIFY_SOCKET": ""}, {"NOTIFY_SOCKET": "vsock:2:1234"}])
def test_not_under_systemd_is_false(env):
    assert sdnotify.notify("READY=1", env) is False
    assert sdnotify.ready(env) is False


def test_a_socket_that_is_gone_is_false_not_an_exception(tmp_path):
    assert sdnotify.notify("READY=1", {"NOTIFY_SOCKET": str(tmp_path / "missing")}) is False


def test_default_environment_is_the_process_environment(path_socket, monkeypatch):
    path, sock = path_socket
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    assert sdnotify.ready() is True
    assert sock.recv(4096) == b"READY=1"
    monkeypatch.delenv("NOTIFY_SOCKET")
    assert sdnotify.ready() is False
    assert "NOTIFY_SOCKET" not in os.environ

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""systemd readiness notification (``Type=notify``), the sd_notify(3) protocol without libsystemd.

One datagram to the unix socket named by ``$NOTIFY_SOCKET`` (a path, or an abstract name starting
with ``@``). Outside systemd there is no such variable and every call returns False.
"""
from __future__ import annotations

import os
import socket
from typing import Mapping, Optional


def notify(state: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """Send ``state`` (e.g. ``"READY=1"``, several assignments separated by newlines) to systemd.

    Returns True when the datagram was sent, False when not running under systemd (no
    ``NOTIFY_SOCKET``), when the address is of an unsupported kind, or when sending failed.
    """
    env = os.environ if environ is None else environ
    address = env.get("NOTIFY_SOCKET") or ""
    if not address or not hasattr(socket, "AF_UNIX"):
        return False
    if address[0] == "@":
        target = "\0" + address[1:]  # abstract namespace (Linux)
    elif address[0] == "/":
        target = address
    else:
        return False  # e.g. vsock: addresses, not used for services on a controller
    try:
        sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    except OSError:
        return False
    try:
        sock.connect(target)
        sock.sendall(state.encode("utf-8", "replace"))
        return True
    except OSError:
        return False
    finally:
        sock.close()


def ready(environ: Optional[Mapping[str, str]] = None, status_text: Optional[str] = None) -> bool:
    """``READY=1`` (and a ``STATUS=`` line when given): the service is up."""
    message = "READY=1"
    if status_text:
        message += "\nSTATUS=" + _one_line(status_text)
    return notify(message, environ)


def stopping(environ: Optional[Mapping[str, str]] = None) -> bool:
    """``STOPPING=1``: the service is shutting down."""
    return notify("STOPPING=1", environ)


def status(text: str, environ: Optional[Mapping[str, str]] = None) -> bool:
    """``STATUS=<text>`` shown by ``systemctl status`` (newlines become spaces)."""
    return notify("STATUS=" + _one_line(text), environ)


def _one_line(text: str) -> str:
    return " ".join(str(text).split())[:1000]

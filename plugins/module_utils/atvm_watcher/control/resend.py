# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one resend (CLI ``resend`` and the ``run_resend`` module): a run's failed posts sent again.

Each goes through the outbox (:func:`~..delivery.outbox.resend`): a SENT post is never posted
again, and one that may exist already carries the possible-duplicate note. The run's metrics file
is rewritten from the outbox afterwards, so an alert on a failed post clears once it went out.
"""
from __future__ import annotations

from typing import Any, Callable, Dict, List, Optional

from ..delivery.client import MattermostClient
from ..delivery.outbox import resend
from ..message.text import add_duplicate_note
from ..settings import Settings
from ..store.metrics import refresh_from_outbox
from ..store.runstore import RunStore


def resend_run(settings: Settings, store: RunStore, key: Optional[str] = None,
               warn: Callable[[str], Any] = lambda line: None,
               client: Optional[MattermostClient] = None) -> List[Dict[str, Any]]:
    """Send the run's POST_FAILED posts again (all, or only ``key``); the records as they end."""
    client = client or MattermostClient.from_settings(settings)
    limit = settings.max_post_chars
    records = resend(store, client, key, render_duplicate=lambda text: add_duplicate_note(text, limit))
    refresh_from_outbox(settings, store, lambda event, text, **kw: warn(text))
    return records

#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module webhook_test: post one short line through a Mattermost incoming webhook."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: webhook_test
short_description: Post one test line through a Mattermost incoming webhook, failing with the server's error
version_added: 2.0.0
description:
  - Posts O(text) to O(channel) through the incoming webhook O(webhook) with the watcher core's Mattermost client
    (the same retries, deadline and error words as a run's post).
  - Fails with the server's own error when it refuses the post (an unknown or deleted hook, a hook locked to
    another channel, a channel that does not exist, ...). The webhook URL never appears in the result.
  - With O(only_if_changed_from), posts only when the webhook or the channel differ from the ones in that env file
    (or when it does not exist yet).
  - In check mode nothing is posted; the result says whether a post would be made.
author:
  - atvm.watcher contributors (!UNKNOWN)
options:
  webhook:
    description: The incoming webhook URL (C(https://HOST/hooks/ID)). A secret, never shown.
    type: str
    required: true
  channel:
    description: The channel to post to (lower-case name, or C(@user)); empty for the webhook's own channel.
    type: str
    default: ""
  username:
    description: The name the post is shown with; empty for the webhook's default.
    type: str
    default: ""
  text:
    description: The line to post.
    type: str
    required: true
  only_if_changed_from:
    description:
      - An env file (C(/etc/atvm-run-watcher.env)); post only when its C(MATTERMOST_ATVM_WEBHOOK) or
        C(MATTERMOST_ATVM_CHANNEL) differ from O(webhook) and O(channel).
    type: path
  timeout:
    description: Seconds the post may take, retries included, before the task fails.
    type: float
    default: 30
attributes:
  check_mode:
    description: Nothing is posted in check mode.
    support: full
  diff_mode:
    description: Nothing on the host changes.
    support: none
"""

EXAMPLES = r"""
- name: Check the webhook with one post
  atvm.watcher.webhook_test:
    webhook: "{{ controller_webhook }}"
    channel: atvm-results
    text: atvm.watcher installed on ctl-01; run results will be posted here
"""

RETURN = r"""
posted:
  description: Whether the line was posted (false in check mode and when nothing changed).
  returned: always
  type: bool
  sample: true
destination_changed:
  description: Whether the webhook or the channel differ from the ones in O(only_if_changed_from) (true without it).
  returned: always
  type: bool
  sample: true
attempts:
  description: HTTP attempts made.
  returned: always
  type: int
  sample: 1
reason:
  description: What the server answered (HTTP status, Mattermost's error id, what it means).
  returned: always
  type: str
  sample: "HTTP 400 web.incoming_webhook.invalid.app_error: unknown or deleted hook id (permanent)"
"""

import os

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import read_env_file
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery.client import MattermostClient


def _destination_changed(path: str | None, webhook: str, channel: str) -> bool:
    if not path or not os.path.isfile(path):
        return True
    try:
        env = read_env_file(path)
    except glue.WatcherError:
        return True
    return env.get("MATTERMOST_ATVM_WEBHOOK") != webhook or env.get("MATTERMOST_ATVM_CHANNEL", "") != channel


def main() -> None:
    module = glue.new_module({
        "webhook": {"type": "str", "required": True, "no_log": True},
        "channel": {"type": "str", "default": ""},
        "username": {"type": "str", "default": ""},
        "text": {"type": "str", "required": True},
        "only_if_changed_from": {"type": "path"},
        "timeout": {"type": "float", "default": 30},
    })
    params = module.params
    changed = _destination_changed(params["only_if_changed_from"], params["webhook"], params["channel"])
    result = {"posted": False, "destination_changed": changed, "attempts": 0, "reason": ""}
    if not changed or module.check_mode:
        module.exit_json(changed=changed and module.check_mode, **result)
    try:
        client = MattermostClient(params["webhook"], channel=params["channel"], username=params["username"],
                                  http_timeout=min(10.0, params["timeout"]), deadline=params["timeout"])
        outcome = client.post(params["text"])
    except glue.WatcherError as exc:
        glue.fail(module, exc)
        return
    result.update(attempts=outcome.attempts, reason=outcome.reason)
    if not outcome.ok:
        module.fail_json(msg="Mattermost refused the test post: {0}".format(outcome.reason), **result)
    result["posted"] = True
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()

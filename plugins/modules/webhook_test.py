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
  - Posts O(text) to O(channel) through the incoming webhook O(webhook), once, and fails within seconds with what
    went wrong, in words that tell three cases apart (RV(outcome)).
  - I(Not a URL) - the webhook is not an C(http(s)://HOST/...) URL; the task fails before any network, in check mode too.
  - I(Cannot reach) - no answer from the server (the host name does not resolve, the connection is refused or times
    out, TLS fails); no retries, so a wrong host fails at once.
  - I(Refused) - the server answered no, with Mattermost's own error (an unknown or deleted hook, a hook locked to
    another channel, a channel that does not exist, ...).
  - A server that answered but could not take the post (5xx, 429, a 200 that is not Mattermost's C(ok)) fails the task
    too, saying so.
  - Needs nothing but Python's standard library on the host, so it runs before the watcher's libraries are installed
    (the controller role posts it before it installs anything). Proxies come from the environment.
  - The webhook URL never appears in the result; only its scheme, host and port are named.
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
    description: Seconds the post may take (connection and answer) before the task fails; there are no retries.
    type: float
    default: 10
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
  description: HTTP attempts made (0 or 1).
  returned: always
  type: int
  sample: 1
outcome:
  description:
    - V(sent), V(not_url) (the webhook is not a URL; nothing was sent), V(unreachable) (no answer from the server),
      V(refused) (the server answered no) or V(server_error) (the server answered but could not take the post);
      empty when nothing was posted (check mode, or the destination did not change).
  returned: always
  type: str
  sample: refused
  version_added: 2.1.0
reason:
  description: What the server answered (HTTP status, Mattermost's error id, what it means).
  returned: always
  type: str
  sample: "HTTP 400 web.incoming_webhook.invalid.app_error: unknown or deleted hook id (permanent)"
elapsed:
  description: Seconds the post took.
  returned: always
  type: float
  sample: 0.08
  version_added: 2.1.0
"""

import os

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.envfile import read_env_file
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.delivery import testpost

# What each failure is called in the task's message.
FAILURE_WORDS = {
    testpost.NOT_URL: "The webhook is not an incoming webhook URL",
    testpost.UNREACHABLE: "Mattermost cannot be reached for the test post",
    testpost.REFUSED: "Mattermost refused the test post",
    testpost.SERVER_ERROR: "Mattermost could not take the test post",
}


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
        "timeout": {"type": "float", "default": 10},
    })
    params = module.params
    result = {"posted": False, "destination_changed": True, "attempts": 0, "outcome": "", "reason": "", "elapsed": 0.0}
    problem = testpost.url_problem(params["webhook"])
    if problem:  # an argument error: before any network, in check mode too
        result.update(outcome=testpost.NOT_URL, reason=problem)
        module.fail_json(msg="{0}: {1}; nothing was posted".format(FAILURE_WORDS[testpost.NOT_URL], problem), **result)
    changed = _destination_changed(params["only_if_changed_from"], params["webhook"], params["channel"])
    result["destination_changed"] = changed
    if not changed or module.check_mode:
        module.exit_json(changed=changed and module.check_mode, **result)
    outcome = testpost.send_test_post(params["webhook"], params["text"], channel=params["channel"],
                                      username=params["username"], timeout=params["timeout"])
    result.update(attempts=1, outcome=outcome.outcome, reason=outcome.reason, elapsed=round(outcome.elapsed, 3))
    if not outcome.ok:
        module.fail_json(msg="{0}: {1}".format(FAILURE_WORDS[outcome.outcome], outcome.reason), **result)
    result["posted"] = True
    module.exit_json(changed=True, **result)


if __name__ == "__main__":
    main()

#!/usr/bin/python
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Module run_resend: post again, from the controller's outbox, the posts of a run that failed."""
from __future__ import annotations

DOCUMENTATION = r"""
---
module: run_resend
short_description: Post again the failed posts of an ATVM run, from the controller's outbox
version_added: 2.0.0
description:
  - Validates the build name before any path or unit name is built from it.
  - Sends again every delivery record of the run whose status is V(POST_FAILED) (or only O(key)), with the exact
    message kept in the outbox, through the same core function as C(atvm-run-watcher resend). A record already
    V(SENT) is never posted again; a record whose earlier attempt may have reached the server is sent with the
    possible-duplicate note.
  - The webhook, channel and user name are the controller's (C(/etc/atvm-run-watcher.env) and the run's
    C(watcher.env)); the webhook never appears in the result.
  - Refuses while the run's watcher is still running (it delivers its own posts).
  - Fails when a post still could not be delivered (the record stays in the outbox for the next try).
  - With C(ATVM_METRICS_DIR) set, rewrites the run's metrics file with the outbox's post counts, so an alert on a
    failed post clears once it went out (see the collection's C(docs/metrics.md)).
author:
  - atvm.watcher contributors (!UNKNOWN)
extends_documentation_fragment:
  - atvm.watcher.run
options:
  key:
    description: Resend only this delivery record (for example C(000-linux)); by default every V(POST_FAILED) one.
    type: str
attributes:
  check_mode:
    description: Lists the records that would be sent; nothing is posted.
    support: full
  diff_mode:
    description: Not supported.
    support: none
seealso:
  - module: atvm.watcher.run_info
"""

EXAMPLES = r"""
- name: Resend the failed posts of a run
  atvm.watcher.run_resend:
    build_name: nightly-42
  register: resent
"""

RETURN = r"""
records:
  description: The delivery records sent again (or that would be), without their message text.
  returned: always
  type: list
  elements: dict
  sample: [{"key": "000-linux", "status": "SENT", "attempts": 3, "possible_duplicate": false, "last_error": null}]
sent:
  description: How many of them are now V(SENT).
  returned: always
  type: int
  sample: 1
not_sent:
  description: How many of them still could not be delivered.
  returned: always
  type: int
  sample: 0
"""

from ansible_collections.atvm.watcher.plugins.module_utils import _glue as glue
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.resend import resend_run
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import load_env
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import Settings
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import LaunchError
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.safetext import redact
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstore import RunStore
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.store.runstate import POST_FAILED

_SHOWN = ("key", "status", "attempts", "possible_duplicate", "last_error", "sent_at")


def _check(settings: Settings) -> None:
    problems = settings.check(require_webhook=True)
    if problems:
        raise glue.WatcherError("invalid controller configuration: " + "; ".join(problems))


def _resend(module: glue.AnsibleModule, build: str) -> dict:
    params = module.params
    info = glue.launcher(module, params["state_root"]).info(build)
    if info["units"]["watcher"]["live"]:
        raise glue.WatcherError("the watcher of {0} is still running and delivers its own posts; "
                                "resend once it has ended".format(build))
    settings = Settings.from_env(load_env(None, {}, build, params["state_root"]), build_name=build,
                                 state_root=params["state_root"])
    store = RunStore(settings.paths)
    before = {r.key: r.status for r in store.outbox_list()}
    if module.check_mode:
        wanted = [key for key, status in before.items()
                  if (key == params["key"] if params["key"] else status == POST_FAILED)]
        return {"changed": any(before[key] != "SENT" for key in wanted), "sent": 0, "not_sent": 0,
                "records": [{k: getattr(r, k) for k in _SHOWN} for r in store.outbox_list() if r.key in wanted]}
    _check(settings)
    sent_again = resend_run(settings, store, params["key"], warn=module.warn)
    records = [{k: getattr(r, k) for k in _SHOWN} for r in sent_again]
    failed = [r for r in records if r["status"] != "SENT"]
    result = {"changed": any(before.get(r["key"]) != "SENT" for r in records), "records": records,
              "sent": len(records) - len(failed), "not_sent": len(failed)}
    if failed:
        raise LaunchError(redact("{0}: {1} post(s) still not delivered: {2}".format(
            build, len(failed), "; ".join("{0}: {1}".format(r["key"], r["last_error"]) for r in failed)),
            [settings.webhook]), **result)
    return result


def main() -> None:
    spec = glue.run_spec()
    spec["key"] = {"type": "str", "no_log": False}
    module = glue.new_module(spec)
    build = glue.checked_build_name(module)
    glue.finish(module, lambda: _resend(module, build))


if __name__ == "__main__":
    main()

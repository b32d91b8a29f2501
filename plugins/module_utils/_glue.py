# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the atvm.watcher modules share: argument specs, the command runner, error translation.

Private to the atvm.watcher collection: not a public API, it may change in any release (hence the
leading ``_``). Modules import the core for what they do and this file for how a module runs. A module builds its AnsibleModule with :func:`new_module`,
validates the build name with :func:`checked_build_name` before anything else, calls the core
and hands the outcome to :func:`finish`; the core's exceptions become ``fail_json``.
"""
from __future__ import annotations

from typing import Any, Callable

from ansible.module_utils.basic import AnsibleModule, missing_required_lib

# The core guards its third-party imports (requests, psutil, jmespath): importing it never fails on a
# target that lacks one; the call that needs it raises MissingDependencyError (see fail()).
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control import launcher as core_launcher
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.control.request import global_secrets as _global_secrets
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.errors import MissingDependencyError, WatcherError
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.settings import DEFAULT_STATE_ROOT, GLOBAL_ENV_FILE
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher.runpaths import BuildName

# Keys a failure's details may not overwrite in fail_json.
_RESERVED = ("msg", "failed", "changed", "exception", "invocation", "warnings", "deprecations")
# systemctl / journalctl without pager, colours or questions.
SYSTEMD_ENV = {"SYSTEMD_PAGER": "", "SYSTEMD_COLORS": "0", "SYSTEMD_URLIFY": "0"}


def run_spec() -> dict[str, Any]:
    """The options every run module has: which run (build name) under which state root."""
    return {
        "build_name": {"type": "str", "required": True},
        "state_root": {"type": "path", "default": DEFAULT_STATE_ROOT},
    }


def new_module(argument_spec: dict[str, Any], **kwargs: Any) -> AnsibleModule:
    """An AnsibleModule with check mode."""
    return AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **kwargs)


def checked_build_name(module: AnsibleModule, key: str = "build_name") -> str:
    """The build name, validated before any path or unit name is built from it (fails the module)."""
    try:
        return BuildName(module.params[key])
    except WatcherError as exc:
        module.fail_json(msg=str(exc), build_name_refused=True)
    raise AssertionError("unreachable")  # pragma: no cover - fail_json exits


def command_runner(module: AnsibleModule) -> Callable[[list[str]], tuple[int, str, str]]:
    """``module.run_command`` shaped as the core's command runner."""

    def run(argv: list[str]) -> tuple[int, str, str]:
        rc, out, err = module.run_command(argv, check_rc=False, environ_update=SYSTEMD_ENV)
        return rc, out, err

    return run


def launcher(module: AnsibleModule, state_root: str, **kwargs: Any) -> core_launcher.Launcher:
    """The core's Launcher over this module's ``run_command``."""
    return core_launcher.launcher(command_runner(module), state_root=state_root, **kwargs)


def fail(module: AnsibleModule, exc: BaseException) -> None:
    """Turn a core exception into ``fail_json`` with its details (journal, log tail, unit status)."""
    details = dict(getattr(exc, "details", None) or {})
    extra = {key: value for key, value in details.items() if key not in _RESERVED}
    if isinstance(exc, MissingDependencyError):
        module.fail_json(msg=missing_required_lib(getattr(exc, "library", str(exc))), **extra)
    module.fail_json(msg=str(exc), **extra)


def finish(module: AnsibleModule, call: Callable[[], dict[str, Any]]) -> None:
    """Run ``call`` (the core), then ``exit_json`` its result or ``fail_json`` its error."""
    try:
        result = call()
    except WatcherError as exc:
        fail(module, exc)
        return
    result = dict(result)
    diff = result.pop("diff", None)
    if module._diff and diff is not None:  # pylint: disable=protected-access
        result["diff"] = diff
    module.exit_json(**result)


def global_secrets(path: str = GLOBAL_ENV_FILE) -> list[str]:
    """The webhook from the controller-wide env file, so it can be removed from anything shown."""
    return _global_secrets(path)

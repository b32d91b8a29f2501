# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""playbooks/awx_configure.yml run for real (the awx.awx modules) against the AWX API double.

One ansible-playbook run takes about two seconds, so the runs are shared by the tests of this
module: a check-mode run on an empty controller, a real run that creates the job templates, and a
second real run that must change nothing.
"""
from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any, Dict, List

import pytest
import yaml

from ansible_collections.atvm.watcher.tests.unit.extensions.awx_double import AwxDouble

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PLAYBOOK = ROOT / "playbooks" / "awx_configure.yml"
DATA_FILE = ROOT / "extensions" / "awx" / "job_templates.yml"
CREDENTIAL_TYPE_FILE = ROOT / "extensions" / "awx" / "credential_type.yml"
WEBHOOK = "https://chat.example.org/hooks/awxtestfakehook01"
ANSIBLE_PLAYBOOK = str(Path(sys.executable).with_name("ansible-playbook"))
PASSWORD = "pw-Zq81kVt0sEcret"


def _command(double: AwxDouble, *extra: str, **overrides: Any) -> List[str]:
    extra_vars: Dict[str, Any] = {
        "awx_configure_controller_host": double.url,
        "awx_configure_controller_username": double.username,
        "awx_configure_controller_password": double.password,
        "awx_configure_project": "ATVM watcher",
        "awx_configure_inventory": "ATVM controllers",
        "awx_configure_credentials": ["ATVM controllers SSH"],
    }
    extra_vars.update(overrides)
    return [ANSIBLE_PLAYBOOK, str(PLAYBOOK), "-v", "-e", json.dumps(extra_vars), *extra]


def _env() -> Dict[str, str]:
    env = dict(os.environ)
    env.update({
        "ANSIBLE_LOCALHOST_WARNING": "false",
        "ANSIBLE_INVENTORY_UNPARSED_WARNING": "false",
        "ANSIBLE_NOCOLOR": "true",
        "ANSIBLE_FORCE_COLOR": "false",
        "ANSIBLE_RETRY_FILES_ENABLED": "false",
    })
    for name in ("CONTROLLER_HOST", "CONTROLLER_USERNAME", "CONTROLLER_PASSWORD", "CONTROLLER_OAUTH_TOKEN"):
        env.pop(name, None)
    return env


def _start(double: AwxDouble, *extra: str, **overrides: Any) -> subprocess.Popen:
    return subprocess.Popen(_command(double, *extra, **overrides), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=_env(), cwd=str(ROOT))


def _finish(proc: subprocess.Popen) -> subprocess.CompletedProcess:
    stdout, stderr = proc.communicate(timeout=300)
    return subprocess.CompletedProcess(proc.args, proc.returncode, stdout, stderr)


def _run(double: AwxDouble, *extra: str, **overrides: Any) -> subprocess.CompletedProcess:
    return _finish(_start(double, *extra, **overrides))


def _seed(double: AwxDouble, playbooks: List[str]) -> None:
    org = double.add("organizations", "Default")
    # The module looks the credential type up by name, whatever its kind: a managed one must not be taken.
    double.add("credential_types", "Machine", kind="ssh", managed=True, inputs={}, injectors={})
    double.add("projects", "ATVM watcher", organization=org, playbooks=playbooks)
    double.add("inventories", "ATVM controllers", organization=org)
    double.add("credentials", "ATVM controllers SSH")


def _recap(stdout: str) -> Dict[str, int]:
    match = re.search(r"localhost\s*:\s*(.*)", stdout.split("PLAY RECAP")[-1])
    assert match, stdout
    return {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", match.group(1))}


def _writes(requests: List[Any]) -> List[Any]:
    return [(m, p) for m, p, _auth in requests if m in ("POST", "PATCH", "DELETE") and "/tokens/" not in p]


@pytest.fixture(scope="module")
def runs():
    playbooks = sorted("playbooks/" + p.name for p in (ROOT / "playbooks").glob("*.yml"))
    # The check-mode run gets its own (empty) controller and runs alongside the first real run.
    with AwxDouble(username="admin", password=PASSWORD) as checked, \
            AwxDouble(username="admin", password=PASSWORD) as double:
        _seed(checked, playbooks)
        # Check mode creates nothing: the webhook credential is there as an operator made it in AWX.
        checked.add("credentials", "ATVM Mattermost webhook")
        _seed(double, playbooks)
        check = _start(checked, "--check")
        first = _start(double, awx_configure_mattermost_webhook=WEBHOOK, awx_configure_mattermost_channel="atvm-runs")
        results = {"check": (_finish(check), list(checked.requests)), "checked": checked}
        results["first"] = (_finish(first), list(double.requests))
        double.requests.clear()
        results["second"] = (_run(double, awx_configure_mattermost_webhook=WEBHOOK,
                                  awx_configure_mattermost_channel="atvm-runs"), list(double.requests))
        results["double"] = double
        yield results


def test_check_mode_changes_nothing(runs):
    proc, requests = runs["check"]
    # Check mode stops before the create request: every template reports "changed", nothing is written.
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert _writes(requests) == []
    assert runs["checked"].objects["job_templates"] == {}
    for template in yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))["atvm_awx_job_templates"]:
        assert '"{0}: changed"'.format(template["name"]) in proc.stdout
    assert _recap(proc.stdout)["changed"] == 2  # the credential type (reported), the templates (summarised)
    assert runs["checked"].by_name("credential_types", "ATVM Mattermost webhook") is None


def _credential_type_data() -> Dict[str, Any]:
    # !unsafe marks AWX's own injector templates: read them as the plain strings AWX receives.
    class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        pass

    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    return yaml.load(CREDENTIAL_TYPE_FILE.read_text(encoding="utf-8"), Loader=Loader)["atvm_awx_credential_type"]


def test_first_run_creates_the_credential_type_and_the_credential(runs):
    double: AwxDouble = runs["double"]
    data = _credential_type_data()
    created = double.by_name("credential_types", data["name"])
    assert created is not None
    assert (created["kind"], created["inputs"], created["injectors"]) == (data["kind"], data["inputs"], data["injectors"])
    # The injector feeds the install playbook's own variables, from the type's fields.
    assert created["injectors"] == {"extra_vars": {"controller_webhook": "{{ webhook }}",
                                                   "controller_channel": "{{ channel }}",
                                                   "controller_username": "{{ username }}"}}
    assert [f["id"] for f in created["inputs"]["fields"] if f.get("secret")] == ["webhook"]
    credential = double.by_name("credentials", "ATVM Mattermost webhook")
    assert credential["credential_type"] == created["id"]
    assert credential["inputs"]["webhook"] == "$encrypted$"
    assert double.secrets[credential["id"]] == {"webhook": WEBHOOK, "channel": "atvm-runs", "username": ""}


def test_the_reinstall_template_carries_the_webhook_credential_and_no_secret_question(runs):
    double: AwxDouble = runs["double"]
    reinstall = double.by_name("job_templates", "ATVM - reinstall controller")
    linked = [double.objects["credentials"][c]["name"] for c in double.jt_credentials[reinstall["id"]]]
    assert linked == ["ATVM controllers SSH", "ATVM Mattermost webhook"]
    questions = [q["variable"] for q in double.surveys[reinstall["id"]]["spec"]]
    assert not {"controller_webhook", "controller_channel", "controller_username"} & set(questions)
    assert all(q["type"] != "password" for survey in double.surveys.values() for q in survey["spec"])


def test_first_run_creates_the_five_templates(runs):
    proc, requests = runs["first"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    double: AwxDouble = runs["double"]
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))["atvm_awx_job_templates"]
    project = double.by_name("projects", "ATVM watcher")
    inventory = double.by_name("inventories", "ATVM controllers")
    credential = double.by_name("credentials", "ATVM controllers SSH")
    assert len(double.objects["job_templates"]) == 5
    for template in data:
        created = double.by_name("job_templates", template["name"])
        assert created is not None, template["name"]
        assert created["playbook"] == template["playbook"]
        assert created["project"] == project["id"]
        assert created["inventory"] == inventory["id"]
        assert created["organization"] == double.by_name("organizations", "Default")["id"]
        assert created["survey_enabled"] is True
        assert created["allow_simultaneous"] is template["allow_simultaneous"]
        assert created["ask_limit_on_launch"] is template["ask_limit_on_launch"]
        assert json.loads(created["extra_vars"]) == template["extra_vars"]
        assert double.surveys[created["id"]] == template["survey_spec"]
        expected = [credential["id"]] + ([double.by_name("credentials", "ATVM Mattermost webhook")["id"]]
                                         if template["key"] == "reinstall" else [])
        assert double.jt_credentials[created["id"]] == expected
    assert all(authed for _m, path, authed in requests if "/tokens/" not in path)


def test_second_run_changes_nothing(runs):
    proc, requests = runs["second"]
    assert proc.returncode == 0, proc.stdout[-4000:] + proc.stderr[-2000:]
    assert _writes(requests) == []
    assert _recap(proc.stdout)["changed"] == 0
    assert proc.stdout.count(": unchanged (id ") == 5


def test_the_controller_password_is_never_shown(runs):
    for key in ("check", "first", "second"):
        proc, _requests = runs[key]
        assert PASSWORD not in proc.stdout + proc.stderr
        assert "awxtestfakehook01" not in proc.stdout + proc.stderr


def test_a_refused_template_fails_the_play_with_its_name(tmp_path):
    # One template (awx_configure_templates_file) in a project without its playbook: AWX refuses it.
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    data["atvm_awx_job_templates"] = data["atvm_awx_job_templates"][:1]
    templates_file = tmp_path / "one.yml"
    templates_file.write_text(yaml.safe_dump(data), encoding="utf-8")
    with AwxDouble() as double:
        _seed(double, ["playbooks/other.yml"])
        proc = _run(double, awx_configure_templates_file=str(templates_file))
        assert double.objects["job_templates"] == {}
    assert proc.returncode == 2, proc.stdout
    assert "ATVM - launch run: FAILED: " in proc.stdout
    assert "Playbook not found for project" in proc.stdout
    assert "Not configured: ATVM - launch run (see the report above)." in proc.stdout


def test_missing_names_are_refused_before_any_request():
    with AwxDouble() as double:
        proc = _run(double, awx_configure_project="")
        assert double.requests == []
    assert proc.returncode == 2
    assert "awx_configure_project and awx_configure_inventory" in proc.stdout


def test_syntax_check():
    proc = subprocess.run([ANSIBLE_PLAYBOOK, "--syntax-check", str(PLAYBOOK)], capture_output=True, text=True,
                          timeout=120, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr

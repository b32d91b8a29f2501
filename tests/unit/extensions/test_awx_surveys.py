# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The AWX job templates (extensions/awx/job_templates.yml) against the files they drive.

Everything is read from the real files: the job template data, the playbooks and the roles they
include, the roles' argument specs, the variables table of docs/architecture.md ("Ansible
surface", the contract of the playbooks) and the awx.awx.job_template module source. A playbook
that does not exist makes these tests fail.
"""
from __future__ import annotations

import ast
import importlib.util
import re
from pathlib import Path
from typing import Any, Dict, Iterator, List, Optional, Set, Tuple

import jinja2
import pytest
import yaml
from ansible_collections.atvm.watcher.plugins.module_utils.atvm_watcher import runpaths

from ansible_collections.atvm.watcher.tests.unit.extensions.awx_double import validate_survey_spec

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
DATA_FILE = ROOT / "extensions" / "awx" / "job_templates.yml"
CONFIGURE_PLAYBOOK = ROOT / "playbooks" / "awx_configure.yml"
ARCHITECTURE = ROOT / "docs" / "architecture.md"
AWX_MODULES = Path(importlib.util.find_spec("ansible_collections.awx.awx").submodule_search_locations[0]) / "plugins"

# key of the template -> (playbook, row of the architecture table)
EXPECTED = {
    "launch": ("playbooks/launch_run.yml", "launch_run.yml"),
    "cancel": ("playbooks/cancel_run.yml", "cancel_run.yml"),
    "status": ("playbooks/run_status.yml", "run_status.yml"),
    "reinstall": ("playbooks/install.yml", "install.yml"),
    "resend": ("playbooks/resend_run.yml", "resend_run.yml"),
}
CREDENTIAL_TYPE_FILE = ROOT / "extensions" / "awx" / "credential_type.yml"
LAUNCH_DEFAULTS = ROOT / "roles" / "launch" / "defaults" / "main.yml"
CONDITIONAL_KEYS = {"when", "that", "failed_when", "changed_when", "until"}
REQUIRED = object()
COMPUTED = object()


# ---------------------------------------------------------------------------------------------
# readers
# ---------------------------------------------------------------------------------------------


def load_templates() -> Dict[str, Dict[str, Any]]:
    data = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
    return {t["key"]: t for t in data["atvm_awx_job_templates"]}


TEMPLATES = load_templates()


_LITERAL = r"('[^']*'|\d+|\[\]|false|true)"


def _literal(token: str) -> Any:
    if token.startswith("'"):
        return COMPUTED if "<" in token else token[1:-1]
    if token in ("false", "true"):
        return token == "true"
    if token == "[]":
        return []
    return int(token)


def _parse_default(inner: str) -> Any:
    """The default of one table entry: "required", "'x'", "900", "false", "[]",
    "'' = no template step", "run metadata, ''"; anything else is computed by the playbook."""
    inner = inner.strip()
    if inner == "required":
        return REQUIRED
    first = re.match(_LITERAL + r"(?=\s|$)", inner)
    if first:
        return _literal(first.group(1))
    last = re.search(r",\s*" + _LITERAL + r"$", inner)
    if last:
        return _literal(last.group(1))
    return COMPUTED


def contract() -> Dict[str, Dict[str, Any]]:
    """The playbook variables of docs/architecture.md, by playbook: name -> default (or REQUIRED)."""
    text = ARCHITECTURE.read_text(encoding="utf-8")
    section = text[text.index("## Ansible surface"):]
    rows: Dict[str, Dict[str, Any]] = {}
    for line in section.splitlines():
        match = re.match(r"\|\s*`([a-z_]+\.yml)`\s*\|(.*)\|\s*$", line)
        if not match:
            continue
        playbook, body = match.group(1), match.group(2)
        variables: Dict[str, Any] = {}
        if playbook == "install.yml":
            # "the `controller_*` role variables, `controller_webhook` (secret) and `controller_channel` required"
            for name in re.findall(r"`([a-z_]+)`", body):
                variables[name] = REQUIRED
        else:
            for part in body.split(";"):
                # "`a`, `b`, `c` ('x'), `d` (run metadata, '')": c defaults to 'x'; a, b and d take
                # the last default of the part. Names inside a default's parentheses are not variables.
                found = [(m.group(1), m.group(2)) for m in re.finditer(r"`([a-z_]+)`\s*(?:\(([^()]*)\))?", part)]
                own = [inner for _name, inner in found if inner is not None]
                for name, inner in found:
                    variables[name] = _parse_default(inner if inner is not None else own[-1])
        rows[playbook] = variables
    return rows


CONTRACT = contract()


def role_dir(name: str) -> Path:
    short = name.split(".")[-1]
    path = ROOT / "roles" / short
    assert path.is_dir(), "role {0} (roles/{1}) does not exist".format(name, short)
    return path


def _roles_in_tasks(tasks: Any) -> Iterator[str]:
    if isinstance(tasks, list):
        for task in tasks:
            yield from _roles_in_tasks(task)
    elif isinstance(tasks, dict):
        for key, value in tasks.items():
            if key.split(".")[-1] in ("include_role", "import_role") and isinstance(value, dict):
                yield value["name"]
            elif key in ("block", "rescue", "always", "tasks", "pre_tasks", "post_tasks", "handlers"):
                yield from _roles_in_tasks(value)


def roles_of(files: List[Path]) -> List[str]:
    """Roles a playbook or role file includes (roles:, include_role, import_role, dependencies)."""
    found: List[str] = []
    for path in files:
        if path.suffix not in (".yml", ".yaml"):
            continue
        doc = yaml.safe_load(path.read_text(encoding="utf-8"))
        plays = doc if isinstance(doc, list) else [doc]
        for play in plays:
            if not isinstance(play, dict):
                found.extend(_roles_in_tasks(play))
                continue
            for entry in play.get("roles", []) or []:
                found.append(entry if isinstance(entry, str) else entry.get("role") or entry.get("name"))
            for entry in play.get("dependencies", []) or []:
                found.append(entry if isinstance(entry, str) else entry.get("role") or entry.get("name"))
            found.extend(_roles_in_tasks(play))
    return found


def role_files(role: Path, reading_only: bool) -> List[Path]:
    """Files of a role; ``reading_only`` leaves out the places a variable is only declared."""
    subdirs = ["tasks", "handlers", "templates", "vars"]
    if not reading_only:
        subdirs += ["defaults", "meta"]
    files: List[Path] = []
    for sub in subdirs:
        if (role / sub).is_dir():
            files.extend(sorted(p for p in (role / sub).rglob("*") if p.is_file()))
    return files


def playbook_closure(playbook: Path, reading_only: bool = True) -> List[Path]:
    """The playbook and every file of the roles it includes, transitively."""
    assert playbook.is_file(), "playbook {0} does not exist".format(playbook.relative_to(ROOT))
    files = [playbook]
    seen: Set[str] = set()
    pending = roles_of([playbook])
    while pending:
        name = pending.pop()
        if not name or name in seen:
            continue
        seen.add(name)
        directory = role_dir(name)
        all_files = role_files(directory, reading_only=False)
        files.extend(role_files(directory, reading_only) if reading_only else all_files)
        pending.extend(roles_of([p for p in all_files if p.parent.name in ("tasks", "handlers", "meta")]))
    return files


def role_argument_specs(playbook: Path) -> Dict[str, Dict[str, Any]]:
    options: Dict[str, Dict[str, Any]] = {}
    for path in playbook_closure(playbook, reading_only=False):
        if path.name == "argument_specs.yml" and path.parent.name == "meta":
            specs = yaml.safe_load(path.read_text(encoding="utf-8"))["argument_specs"]
            for entry in specs.values():
                options.update(entry.get("options") or {})
    return options


def _strip_comments(text: str) -> str:
    return "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))


def reads_variable(files: List[Path], variable: str) -> List[Path]:
    pattern = re.compile(r"(?<![\w.])" + re.escape(variable) + r"\b")
    return [p for p in files if pattern.search(_strip_comments(p.read_text(encoding="utf-8")))]


# ---- Jinja expressions that read a variable without converting it to bool -----------------

_ENV = jinja2.Environment()


def _expressions(value: Any, key: Optional[str] = None) -> Iterator[str]:
    """Every Jinja source in a loaded YAML document (conditionals as bare expressions)."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield from _expressions(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _expressions(v, key)
    elif isinstance(value, str):
        if key in CONDITIONAL_KEYS:
            yield "{{ " + value + " }}"
        elif "{{" in value or "{%" in value:
            yield value


def unconverted_reads(source: str, variable: str) -> List[str]:
    """Reads of ``variable`` in a Jinja source that are not followed by ``| bool``
    (``| default(...) | bool`` counts as converted). ``{{ variable | default(omit) }}`` as a whole
    value is a module option: the module's argument spec converts it (or refuses it)."""
    if re.fullmatch(r"\{\{\s*" + re.escape(variable) + r"\s*\|\s*default\(omit\)\s*\}\}", source.strip()):
        return []
    tokens = [(t[1], t[2]) for t in _ENV.lex(source) if t[1] != "whitespace"]
    bad = []
    for i, (kind, value) in enumerate(tokens):
        if kind != "name" or value != variable:
            continue
        if i and tokens[i - 1] == ("operator", "."):
            continue  # an attribute of something else
        j = i + 1
        if tokens[j:j + 2] == [("operator", "|"), ("name", "default")]:
            j += 2
            depth = 0
            while j < len(tokens):
                depth += {"(": 1, ")": -1}.get(tokens[j][1], 0) if tokens[j][0] == "operator" else 0
                j += 1
                if depth == 0:
                    break
        if tokens[j:j + 2] != [("operator", "|"), ("name", "bool")]:
            bad.append(source.strip()[:160])
    return bad


# ---- awx.awx.job_template options ---------------------------------------------------------


def _dict_call_keys(node: ast.AST) -> Dict[str, List[str]]:
    """keyword -> aliases of a ``dict(name=dict(..., aliases=[...]), ...)`` call."""
    keys: Dict[str, List[str]] = {}
    assert isinstance(node, ast.Call)
    for keyword in node.keywords:
        aliases: List[str] = []
        if isinstance(keyword.value, ast.Call):
            for inner in keyword.value.keywords:
                if inner.arg == "aliases":
                    aliases = [ast.literal_eval(elt) for elt in inner.value.elts]
        keys[keyword.arg] = aliases
    return keys


def job_template_options() -> Set[str]:
    module = ast.parse((AWX_MODULES / "modules" / "job_template.py").read_text(encoding="utf-8"))
    options: Set[str] = set()
    for node in ast.walk(module):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "argument_spec":
            for name, aliases in _dict_call_keys(node.value).items():
                options.add(name)
                options.update(aliases)
    api = ast.parse((AWX_MODULES / "module_utils" / "controller_api.py").read_text(encoding="utf-8"))
    for node in ast.walk(api):
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) == "AUTH_ARGSPEC":
            options.update(_dict_call_keys(node.value))
    assert {"survey_spec", "survey_enabled", "playbook", "controller_host"} <= options
    return options


# ---------------------------------------------------------------------------------------------
# tests
# ---------------------------------------------------------------------------------------------


def credential_type() -> Dict[str, Any]:
    """extensions/awx/credential_type.yml, AWX's injector templates (!unsafe) read as plain strings."""

    class Loader(yaml.SafeLoader):  # pylint: disable=too-many-ancestors
        pass

    Loader.add_constructor("!unsafe", lambda loader, node: loader.construct_scalar(node))
    return yaml.load(CREDENTIAL_TYPE_FILE.read_text(encoding="utf-8"), Loader=Loader)["atvm_awx_credential_type"]


def injected_variables() -> Set[str]:
    return set((credential_type()["injectors"].get("extra_vars") or {}))


_HANDOVER = re.compile(r"^\{\{\s*([a-z_]+)\s*(?:\|\s*default\((.*)\)\s*)?\}\}$")


def launch_handover() -> Dict[str, Tuple[str, str, Optional[str]]]:
    """launch_run.yml's include of the launch role: playbook variable -> (role variable, the whole
    value, the default given in the playbook or None). Each value is handed over unconverted."""
    play = yaml.safe_load(_playbook("launch").read_text(encoding="utf-8"))[0]
    include = [t for t in play["tasks"] if "ansible.builtin.include_role" in t]
    assert len(include) == 1 and include[0]["ansible.builtin.include_role"]["name"] == "atvm.watcher.launch"
    handover = {}
    for role_variable, value in include[0]["vars"].items():
        match = _HANDOVER.match(value.strip())
        assert match, "{0}: {1!r} is not a hand-over of one playbook variable".format(role_variable, value)
        handover[match.group(1)] = (role_variable, value.strip(), match.group(2))
    return handover


def launch_inputs() -> Dict[str, str]:
    """launch_run.yml's playbook variable -> launch role variable (handed over unconverted)."""
    return {variable: role_variable for variable, (role_variable, _value, _default) in launch_handover().items()}


def _questions(key: str) -> Dict[str, Dict[str, Any]]:
    return {q["variable"]: q for q in TEMPLATES[key]["survey_spec"]["spec"]}


def _playbook(key: str) -> Path:
    return ROOT / EXPECTED[key][0]


def test_the_five_templates_are_there():
    assert set(TEMPLATES) == set(EXPECTED)
    for key, (playbook, _row) in EXPECTED.items():
        assert TEMPLATES[key]["playbook"] == playbook
        assert TEMPLATES[key]["survey_enabled"] is True
    assert len({t["name"] for t in TEMPLATES.values()}) == 5


def test_the_contract_table_is_read():
    # If the table's format changes, this fails instead of every other test passing vacuously.
    assert set(CONTRACT) == {row for _playbook, row in EXPECTED.values()} | {"uninstall.yml"}
    assert CONTRACT["launch_run.yml"]["build_name"] is REQUIRED
    assert CONTRACT["launch_run.yml"]["atvm_categorized"] is False
    assert CONTRACT["launch_run.yml"]["atvm_template_command"] == ""
    assert CONTRACT["launch_run.yml"]["atvm_config_file"] == "cypress.atvm-config-gold.ts"
    assert CONTRACT["launch_run.yml"]["atvm_scope"] == ""
    assert CONTRACT["launch_run.yml"]["atvm_launch_log"] is COMPUTED
    assert CONTRACT["launch_run.yml"]["atvm_runner_command"] is COMPUTED
    assert CONTRACT["launch_run.yml"]["atvm_template_timeout"] == 900
    assert CONTRACT["cancel_run.yml"] == {"build_name": REQUIRED, "atvm_cancel_reason": "cancelled from Ansible",
                                          "atvm_missing_ok": False}
    assert CONTRACT["run_status.yml"] == {"build_name": REQUIRED, "atvm_wait": False, "atvm_wait_timeout": 3600,
                                          "atvm_fail_on_undelivered": True, "atvm_fail_on_result": False,
                                          "atvm_missing_ok": False}
    assert CONTRACT["resend_run.yml"] == {"build_name": REQUIRED, "atvm_resend_key": ""}
    assert CONTRACT["launch_run.yml"]["atvm_automation_dir"] == ""
    assert {"controller_webhook", "controller_channel"} <= set(CONTRACT["install.yml"])


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_playbook_exists(key):
    playbook = _playbook(key)
    assert playbook.is_file(), "{0} is missing: the job template {1!r} would point nowhere".format(
        EXPECTED[key][0], TEMPLATES[key]["name"])


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_survey_is_accepted_by_awx_rules(key):
    assert validate_survey_spec(TEMPLATES[key]["survey_spec"]) is None


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_every_survey_variable_is_read_by_its_playbook(key):
    files = playbook_closure(_playbook(key))
    row = CONTRACT[EXPECTED[key][1]]
    argspec = role_argument_specs(_playbook(key)) if key == "reinstall" else {}
    for variable in _questions(key):
        assert variable in row or variable in argspec, (
            "{0}: survey variable {1} is not a variable of {2} (docs/architecture.md) nor of its "
            "roles' argument specs".format(key, variable, EXPECTED[key][0]))
        assert reads_variable(files, variable), "{0}: {1} is never read by {2} or the roles it includes".format(
            key, variable, EXPECTED[key][0])


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_required_playbook_variables_are_required_questions(key):
    questions = _questions(key)
    required = [name for name, default in CONTRACT[EXPECTED[key][1]].items() if default is REQUIRED]
    assert required, "no required variable found for {0}".format(key)
    for variable in required:
        if key == "reinstall" and variable in injected_variables():
            # The webhook credential's injector sets it: never a survey question.
            assert variable not in questions
            continue
        assert variable in questions, "{0}: required variable {1} is not in the survey".format(key, variable)
        question = questions[variable]
        assert question["required"] is True
        # No usable default: the answer must be given (an empty text fails its min of 1).
        assert question.get("default", "") == ""
        assert question.get("min", 0) >= 1


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_defaults_match_the_playbooks(key):
    row = CONTRACT[EXPECTED[key][1]]
    argspec = role_argument_specs(_playbook(key)) if key == "reinstall" else {}
    for variable, question in _questions(key).items():
        if variable in row:
            if row[variable] is REQUIRED:
                continue  # test_required_playbook_variables_are_required_questions
            default = row[variable]
        elif variable in argspec and "default" in argspec[variable]:
            default = argspec[variable]["default"]
            if argspec[variable].get("choices"):
                assert set(question["choices"]) <= {str(c) for c in argspec[variable]["choices"]}
        else:
            continue
        if default is COMPUTED:
            # Computed by the role: an empty answer must mean "compute it", which holds when the
            # playbook hands the variable to a launch role variable whose own default is empty.
            role_defaults = yaml.safe_load(LAUNCH_DEFAULTS.read_text(encoding="utf-8"))
            assert key == "launch" and role_defaults[launch_inputs()[variable]] == "", (
                "{0}: {1} is computed by the role; an answer would replace it".format(key, variable))
            default = ""
        if default in ("", [], None):
            # An empty answer is the playbook's own default.
            assert question["required"] is False and question.get("default", "") == "", (key, variable)
            continue
        # A non-empty default must never be replaced by an empty answer.
        assert question["required"] is True, (key, variable)
        if isinstance(default, bool):
            assert question["type"] == "multiplechoice" and question["choices"] == ["false", "true"], (key, variable)
            expected = "true" if default else "false"
        else:
            expected = default
        assert question["default"] == expected, (key, variable, question["default"], expected)
        if isinstance(default, int) and not isinstance(default, bool):
            assert question["type"] == "integer"


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_choices_and_secrets(key):
    for variable, question in _questions(key).items():
        if question["type"] in ("multiplechoice", "multiselect"):
            assert question["choices"] and len(set(question["choices"])) == len(question["choices"])
            assert all(isinstance(c, str) and c.strip() == c and c for c in question["choices"])
            assert question["default"] in question["choices"], (key, variable)
        assert not str(question.get("default", "")).startswith("$encrypted$"), (key, variable)
        if question["type"] == "password":
            assert "default" not in question, "{0}: password {1} must not have a default".format(key, variable)
    # No template asks for a secret: the webhook lives in the AWX credential.
    assert all(q["type"] != "password" for q in _questions(key).values())
    assert "controller_webhook" not in _questions(key)


def test_the_credential_type_feeds_the_install_playbook():
    data = credential_type()
    fields = {f["id"]: f for f in data["inputs"]["fields"]}
    assert fields["webhook"]["secret"] is True and not fields["channel"].get("secret")
    assert set(data["inputs"]["required"]) == {"webhook", "channel"}
    injected = data["injectors"]["extra_vars"]
    assert injected == {"controller_webhook": "{{ webhook }}", "controller_channel": "{{ channel }}",
                        "controller_username": "{{ username }}"}
    argspec = role_argument_specs(_playbook("reinstall"))
    files = playbook_closure(_playbook("reinstall"))
    for variable in injected:
        assert variable in argspec and reads_variable(files, variable), variable
    assert argspec["controller_webhook"].get("no_log") is True
    # The reinstall template carries a credential of this type.
    assert "awx_configure_mattermost_credential" in TEMPLATES["reinstall"]["credentials"]


def test_no_encrypted_placeholder_anywhere_in_the_data():
    assert "$encrypted$" not in _strip_comments(DATA_FILE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_build_name_question_matches_the_validation(key):
    questions = _questions(key)
    if "build_name" not in CONTRACT[EXPECTED[key][1]]:
        assert "build_name" not in questions
        return
    question = questions["build_name"]
    assert question["type"] == "text"
    assert question["min"] == 1 and question["max"] == runpaths.BUILD_NAME_MAX


@pytest.mark.parametrize("key", sorted(EXPECTED))
def test_yes_no_answers_are_converted_with_bool(key):
    """A survey answer "false" is a non-empty string: every read must go through the bool filter
    (ansible-core 2.19 refuses a string as a conditional)."""
    variables = [v for v, q in _questions(key).items() if q["type"] == "multiplechoice" and q["choices"] == ["false", "true"]]
    assert variables or key in ("cancel", "resend")
    problems: List[Tuple[str, str, str]] = []
    # launch_run.yml hands a variable over to the launch role as it was given: the role's own reads of
    # its variable must convert it then.
    handover = {value: (variable, role_variable) for variable, (role_variable, value, _default)
                in launch_handover().items()} if key == "launch" else {}
    variables += [handover[value][1] for value in handover if handover[value][0] in variables]
    for path in playbook_closure(_playbook(key)):
        text = path.read_text(encoding="utf-8")
        if path.suffix in (".yml", ".yaml"):
            sources = list(_expressions(yaml.safe_load(text)))
        else:
            sources = [text]
        for source in sources:
            if source.strip() in handover:
                continue
            for variable in variables:
                for bad in unconverted_reads(source, variable):
                    problems.append((str(path.relative_to(ROOT)), variable, bad))
    assert not problems, "read without '| bool': {0}".format(problems)


def test_the_launch_playbook_defaults_are_the_launch_roles():
    """launch_run.yml passes its variables to the role with the role's own defaults (a given value
    is checked by the role's argument spec)."""
    argspec = yaml.safe_load((ROOT / "roles" / "launch" / "meta" / "argument_specs.yml").read_text(
        encoding="utf-8"))["argument_specs"]["main"]["options"]
    handover = launch_handover()
    assert handover["build_name"] == ("launch_build_name", "{{ build_name }}", None)
    for variable, (role_variable, _value, default) in handover.items():
        assert role_variable in argspec, role_variable
        if variable == "build_name":
            continue
        assert default is not None, variable
        assert yaml.safe_load(default.replace("'", '"')) == argspec[role_variable]["default"], (variable, default)
    assert set(CONTRACT["launch_run.yml"]) == set(handover), "docs/architecture.md lists the launch variables"


def test_bool_check_finds_unconverted_reads():
    # The checker itself: it must catch the forms that break and pass the ones that work.
    assert unconverted_reads("{{ x }}", "x")
    assert unconverted_reads("{{ 'a' if x else 'b' }}", "x")
    assert unconverted_reads("{{ x | default(false) }}", "x")
    assert not unconverted_reads("{{ x | bool }}", "x")
    assert not unconverted_reads("{{ x | default(false) | bool }}", "x")
    assert not unconverted_reads("{{ item.x }}", "x")
    assert not unconverted_reads("{{ x | default(omit) }}", "x")
    assert unconverted_reads("{{ 'a' if x | default(omit) else 'b' }}", "x")
    assert not unconverted_reads("{{ 'set x=true' }}", "x")
    assert list(_expressions({"when": ["x", "y | bool"]})) == ["{{ x }}", "{{ y | bool }}"]


def test_template_options_are_job_template_options_and_all_passed():
    options = job_template_options()
    playbook = CONFIGURE_PLAYBOOK.read_text(encoding="utf-8")
    for key, template in TEMPLATES.items():
        for option in template:
            if option == "key":
                continue
            assert option in options, "{0}: {1} is not an option of awx.awx.job_template".format(key, option)
            assert re.search(r"\bitem\.{0}\b".format(option), playbook), (
                "{0}: option {1} is in the data but playbooks/awx_configure.yml does not pass it".format(key, option))


def test_placeholders_are_variables_of_the_configure_playbook():
    play = yaml.safe_load(CONFIGURE_PLAYBOOK.read_text(encoding="utf-8"))[0]
    defined = set(play["vars"])
    used = set(re.findall(r"\{\{\s*(\w+)\s*\}\}", DATA_FILE.read_text(encoding="utf-8")))
    assert used == {"awx_configure_organization", "awx_configure_project", "awx_configure_inventory",
                    "awx_configure_credentials"}
    assert used <= defined
    assert "awx_configure_mattermost_credential" in defined

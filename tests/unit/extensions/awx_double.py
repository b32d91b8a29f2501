# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A small double of the AWX / Automation Controller API v2, enough for awx.awx.job_template.

It answers the requests the awx.awx modules make (token login, name look-ups, job template
create / update / delete, credential associations, survey specs) on 127.0.0.1, and it is
stricter than the real server where that finds mistakes early:

- a job template field the API does not know is refused (the real server ignores it);
- a playbook that is not in the project is refused ("Playbook not found for project", as AWX);
- a survey spec is checked by the rules of AWX's ``JobTemplateSurveySpec`` view (field types,
  duplicate variables, question types, default types, min/max integers, choices and defaults
  of multiple choice questions, ``$encrypted$`` reserved for password defaults).

Every request is recorded (method, path, and whether it was authenticated) for the tests.
"""
from __future__ import annotations

import base64
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Dict, List, Optional, Tuple
from urllib.parse import parse_qs, urlparse

API = "/api/v2/"

JOB_TEMPLATE_FIELDS = {
    "name", "description", "job_type", "inventory", "project", "playbook", "scm_branch", "forks",
    "limit", "verbosity", "extra_vars", "job_tags", "force_handlers", "skip_tags", "start_at_task",
    "timeout", "use_fact_cache", "execution_environment", "host_config_key", "organization",
    "ask_scm_branch_on_launch", "ask_diff_mode_on_launch", "ask_variables_on_launch",
    "ask_limit_on_launch", "ask_tags_on_launch", "ask_skip_tags_on_launch", "ask_job_type_on_launch",
    "ask_verbosity_on_launch", "ask_inventory_on_launch", "ask_credential_on_launch",
    "ask_execution_environment_on_launch", "ask_forks_on_launch", "ask_instance_groups_on_launch",
    "ask_job_slice_count_on_launch", "ask_labels_on_launch", "ask_timeout_on_launch",
    "survey_enabled", "become_enabled", "diff_mode", "allow_simultaneous", "custom_virtualenv",
    "job_slice_count", "webhook_service", "webhook_credential", "prevent_instance_group_fallback",
}
BOOL_FIELDS = {f for f in JOB_TEMPLATE_FIELDS if f.startswith("ask_")} | {
    "force_handlers", "use_fact_cache", "survey_enabled", "become_enabled", "diff_mode",
    "allow_simultaneous", "prevent_instance_group_fallback",
}
CREDENTIAL_TYPE_FIELDS = {"name", "description", "kind", "inputs", "injectors", "managed"}
CREDENTIAL_FIELDS = {"name", "description", "organization", "credential_type", "inputs", "user", "team"}
# The kinds an API user may create (AWX's CredentialType.kind choices for managed=False types).
CREDENTIAL_TYPE_KINDS = ("cloud", "net")
INJECTOR_KINDS = {"env", "extra_vars", "file"}
_TEMPLATE_NAME = re.compile(r"\{\{\s*([A-Za-z_][A-Za-z0-9_]*)\s*\}\}")
SURVEY_TYPES = {
    "text": str, "textarea": str, "password": str, "multiplechoice": str, "multiselect": str,
    "integer": int, "float": float,
}


def validate_survey_spec(spec: Any) -> Optional[str]:
    """The error AWX would answer for this survey spec (400), or None when it is accepted."""
    if not isinstance(spec, dict):
        return "survey spec is not an object"
    for field, kind in (("name", str), ("description", str), ("spec", list)):
        if field not in spec:
            return "Field '{0}' is missing from survey spec.".format(field)
        if not isinstance(spec[field], kind):
            return "Expected {0} for field '{1}'.".format(kind.__name__, field)
    if not spec["spec"]:
        return "'spec' doesn't contain any items."
    seen = set()
    for idx, item in enumerate(spec["spec"]):
        if not isinstance(item, dict):
            return "Survey question {0} is not a json object.".format(idx)
        for field in ("type", "question_name", "variable", "required"):
            if field not in item:
                return "'{0}' missing from survey question {1}".format(field, idx)
            kind = bool if field == "required" else str
            if not isinstance(item[field], kind):
                return "'{0}' in survey question {1} expected to be {2}.".format(field, idx, kind.__name__)
        if item["variable"] in seen:
            return "'variable' '{0}' duplicated in survey question {1}.".format(item["variable"], idx)
        seen.add(item["variable"])
        qtype = item["type"]
        if qtype not in SURVEY_TYPES:
            return "'{0}' in survey question {1} is not an allowed question type.".format(qtype, idx)
        default = item.get("default", "")
        if default != "" and not isinstance(default, SURVEY_TYPES[qtype]):
            return "Default value {0!r} in survey question {1} expected to be {2}.".format(default, idx, qtype)
        for key in ("min", "max"):
            if item.get(key) is not None and not isinstance(item[key], int):
                return "The {0} limit in survey question {1} expected to be integer.".format(key, idx)
        if qtype in ("multiplechoice", "multiselect"):
            if "choices" not in item:
                return "Survey question {0} of type {1} must specify choices.".format(idx, qtype)
            choices = item["choices"]
            if isinstance(choices, str):
                choices = [c for c in choices.splitlines() if c.strip()]
            if "default" in item:
                defaults = item["default"]
                if isinstance(defaults, str):
                    defaults = [d for d in defaults.splitlines() if d.strip()]
                if qtype == "multiplechoice" and len(defaults) > 1:
                    return "Multiple Choice (Single Select) can only have one default value."
                if any(d not in choices for d in defaults):
                    return "Default choice must be answered from the choices listed."
        if isinstance(item.get("default"), str) and item["default"].startswith("$encrypted$"):
            if qtype != "password":
                return "$encrypted$ is a reserved keyword for password question defaults, survey question {0}.".format(idx)
            return "$encrypted$ is a reserved keyword, may not be used for new default in position {0}.".format(idx)
    return None


def validate_credential_type(body: Dict[str, Any]) -> Optional[Dict[str, Any]]:
    """The checks of AWX's CredentialType serializer and its inputs / injectors schemas; None when valid."""
    unknown = sorted(set(body) - CREDENTIAL_TYPE_FIELDS)
    if unknown:
        return {"detail": "unknown credential type fields: {0}".format(", ".join(unknown))}
    if body.get("managed", False) is not False:
        return {"managed": ["Only managed=false types can be created through the API."]}
    if body.get("kind", "cloud") not in CREDENTIAL_TYPE_KINDS:
        return {"kind": ["Must be 'cloud' or 'net', not {0}".format(body.get("kind"))]}
    inputs = body.get("inputs") or {}
    fields = inputs.get("fields") or []
    ids = [f.get("id") for f in fields if isinstance(f, dict)]
    if len(ids) != len(fields) or len(set(ids)) != len(ids) or not all(isinstance(i, str) and i for i in ids):
        return {"inputs": ["every field needs a unique id"]}
    for field in fields:
        if field.get("type", "string") not in ("string", "boolean") or not field.get("label"):
            return {"inputs": ["field {0}: type must be string or boolean, and a label is required".format(field["id"])]}
    for required in inputs.get("required") or []:
        if required not in ids:
            return {"inputs": ["required field {0} is not defined".format(required)]}
    injectors = body.get("injectors") or {}
    if set(injectors) - INJECTOR_KINDS:
        return {"injectors": ["unknown injector kinds: {0}".format(sorted(set(injectors) - INJECTOR_KINDS))]}
    for kind, values in injectors.items():
        for name, template in (values or {}).items():
            if not isinstance(template, str):
                return {"injectors": ["{0}.{1} must be a string".format(kind, name)]}
            for used in _TEMPLATE_NAME.findall(template):
                if used not in ids:
                    return {"injectors": ["{0}.{1} uses {2}, which is not an input field".format(kind, name, used)]}
    return None


class AwxDouble:
    """The API state and a server thread. Use as a context manager."""

    def __init__(self, username: str = "admin", password: str = "secret") -> None:
        self.username = username
        self.password = password
        self.tokens: Dict[int, str] = {}
        self.objects: Dict[str, Dict[int, Dict[str, Any]]] = {
            "organizations": {}, "projects": {}, "inventories": {}, "credentials": {},
            "execution_environments": {}, "job_templates": {}, "credential_types": {},
        }
        self.surveys: Dict[int, Dict[str, Any]] = {}
        # the inputs of credentials as given (the API shows secret ones as $encrypted$)
        self.secrets: Dict[int, Dict[str, Any]] = {}
        self.jt_credentials: Dict[int, List[int]] = {}
        self.requests: List[Tuple[str, str, bool]] = []
        self._next_id = 1
        self._lock = threading.Lock()
        self._server: Optional[ThreadingHTTPServer] = None
        self._thread: Optional[threading.Thread] = None

    # ---- seeding -------------------------------------------------------------------------
    def add(self, collection: str, name: str, **fields: Any) -> int:
        with self._lock:
            oid = self._next_id
            self._next_id += 1
            item = {"id": oid, "name": name, "type": collection.rstrip("s"),
                    "url": "{0}{1}/{2}/".format(API, collection, oid), "related": {}}
            item.update(fields)
            self.objects[collection][oid] = item
            return oid

    def by_name(self, collection: str, name: str) -> Optional[Dict[str, Any]]:
        for item in self.objects[collection].values():
            if item["name"] == name:
                return item
        return None

    # ---- server ----------------------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return "http://127.0.0.1:{0}".format(self._server.server_address[1])

    def __enter__(self) -> "AwxDouble":
        double = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:  # quiet
                return

            def _answer(self, status: int, body: Any = None) -> None:
                data = b"" if body is None else json.dumps(body).encode("utf-8")
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.send_header("X-API-Product-Name", "AWX")
                self.send_header("X-API-Product-Version", "24.6.1")
                self.end_headers()
                self.wfile.write(data)

            def _body(self) -> Any:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                return json.loads(raw.decode("utf-8")) if raw else {}

            def _handle(self, method: str) -> None:
                try:
                    status, body = double.dispatch(method, self.path, self.headers, self._body())
                except Exception as exc:  # a bug in the double must show as a 500, not hang
                    status, body = 500, {"detail": "double error: {0!r}".format(exc)}
                self._answer(status, body)

            def do_GET(self) -> None:  # noqa: N802
                self._handle("GET")

            def do_POST(self) -> None:  # noqa: N802
                self._handle("POST")

            def do_PATCH(self) -> None:  # noqa: N802
                self._handle("PATCH")

            def do_DELETE(self) -> None:  # noqa: N802
                self._handle("DELETE")

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()

    # ---- API -------------------------------------------------------------------------------
    def _authenticated(self, headers: Any) -> bool:
        auth = headers.get("Authorization") or ""
        if auth.startswith("Bearer "):
            return auth[len("Bearer "):] in self.tokens.values()
        if auth.startswith("Basic "):
            user, _sep, password = base64.b64decode(auth[len("Basic "):]).decode("utf-8").partition(":")
            return (user, password) == (self.username, self.password)
        return False

    def dispatch(self, method: str, raw_path: str, headers: Any, body: Any) -> Tuple[int, Any]:
        parsed = urlparse(raw_path)
        path = parsed.path
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        with self._lock:
            if method == "POST" and path == API + "tokens/":
                self.requests.append((method, path, False))
                return self._login(headers)
            authed = self._authenticated(headers)
            self.requests.append((method, path, authed))
            if not authed:
                return 401, {"detail": "Authentication credentials were not provided."}
            if not path.startswith(API):
                return 404, {"detail": "Not found."}
            parts = [p for p in path[len(API):].split("/") if p]
            if parts[0] == "tokens" and len(parts) == 2 and method == "DELETE":
                self.tokens.pop(int(parts[1]), None)
                return 204, None
            if parts[0] not in self.objects:
                return 404, {"detail": "Not found."}
            collection = parts[0]
            if len(parts) == 1:
                if method == "GET":
                    return 200, self._list(collection, query)
                if method == "POST" and collection == "job_templates":
                    return self._save_job_template(None, body)
                if method == "POST" and collection == "credential_types":
                    return self._save_credential_type(None, body)
                if method == "POST" and collection == "credentials":
                    return self._save_credential(None, body)
                return 405, {"detail": "Method not allowed."}
            oid = int(parts[1])
            item = self.objects[collection].get(oid)
            if item is None:
                return 404, {"detail": "Not found."}
            if len(parts) == 2:
                if method == "GET":
                    return 200, item
                if method == "PATCH" and collection == "job_templates":
                    return self._save_job_template(oid, body)
                if method == "PATCH" and collection == "credential_types":
                    return self._save_credential_type(oid, body)
                if method == "PATCH" and collection == "credentials":
                    return self._save_credential(oid, body)
                if method == "DELETE" and collection == "credential_types":
                    del self.objects[collection][oid]
                    return 204, None
                if method == "DELETE" and collection == "job_templates":
                    del self.objects[collection][oid]
                    self.surveys.pop(oid, None)
                    self.jt_credentials.pop(oid, None)
                    return 204, None
                return 405, {"detail": "Method not allowed."}
            if collection == "job_templates" and parts[2] == "survey_spec":
                return self._survey(oid, method, body)
            if collection == "job_templates" and parts[2] == "credentials":
                return self._credentials(oid, method, body)
            return 404, {"detail": "Not found."}

    def _login(self, headers: Any) -> Tuple[int, Any]:
        auth = headers.get("Authorization") or ""
        if not auth.startswith("Basic ") or not self._authenticated(headers):
            return 401, {"detail": "Invalid username/password."}
        token_id = len(self.tokens) + 1000
        self.tokens[token_id] = "token{0}".format(token_id)
        return 201, {"id": token_id, "token": self.tokens[token_id]}

    def _list(self, collection: str, query: Dict[str, str]) -> Dict[str, Any]:
        results = []
        for item in self.objects[collection].values():
            if "or__id" in query or "or__name" in query:
                if str(item["id"]) != query.get("or__id") and item["name"] != query.get("or__name"):
                    continue
            if "name" in query and item["name"] != query["name"]:
                continue
            if "organization" in query and str(item.get("organization")) != query["organization"]:
                continue
            results.append(item)
        return {"count": len(results), "next": None, "previous": None, "results": results}

    def _save_job_template(self, oid: Optional[int], body: Dict[str, Any]) -> Tuple[int, Any]:
        unknown = sorted(set(body) - JOB_TEMPLATE_FIELDS)
        if unknown:
            return 400, {"detail": "unknown job template fields: {0}".format(", ".join(unknown))}
        for field in BOOL_FIELDS & set(body):
            if not isinstance(body[field], bool):
                return 400, {field: ["Must be a valid boolean."]}
        current = dict(self.objects["job_templates"][oid]) if oid is not None else {}
        merged = dict(current)
        merged.update(body)
        if not merged.get("name"):
            return 400, {"name": ["This field is required."]}
        for field, collection in (("project", "projects"), ("inventory", "inventories"),
                                  ("organization", "organizations"),
                                  ("execution_environment", "execution_environments")):
            if merged.get(field) is not None and merged[field] not in self.objects[collection]:
                return 400, {field: ["Invalid pk - object does not exist."]}
        project = self.objects["projects"].get(merged.get("project"))
        if project is None:
            return 400, {"project": ["Job Templates must have a project assigned."]}
        if merged.get("playbook") not in project.get("playbooks", []):
            return 400, {"playbook": ["Playbook not found for project."]}
        if "extra_vars" in body and not isinstance(body["extra_vars"], str):
            return 400, {"extra_vars": ["Must be a JSON or YAML string."]}
        if oid is None:
            for other in self.objects["job_templates"].values():
                if other["name"] == merged["name"] and other.get("organization") == merged.get("organization"):
                    return 400, {"__all__": ["Job Template with this Name and Organization already exists."]}
            created = self._next_id
            self._next_id += 1
            merged.update({
                "id": created, "type": "job_template", "url": "{0}job_templates/{1}/".format(API, created),
                "related": {"survey_spec": "{0}job_templates/{1}/survey_spec/".format(API, created),
                            "credentials": "{0}job_templates/{1}/credentials/".format(API, created)},
            })
            self.objects["job_templates"][created] = merged
            return 201, merged
        self.objects["job_templates"][oid] = merged
        return 200, merged

    def _save_credential_type(self, oid: Optional[int], body: Dict[str, Any]) -> Tuple[int, Any]:
        merged = dict(self.objects["credential_types"][oid]) if oid is not None else {}
        merged.update(body)
        error = validate_credential_type({k: v for k, v in merged.items() if k in CREDENTIAL_TYPE_FIELDS})
        if error:
            return 400, error
        if oid is None:
            if self.by_name("credential_types", merged.get("name", "")) is not None:
                return 400, {"name": ["Credential type with this Name already exists."]}
            oid = self._next_id
            self._next_id += 1
            merged.update({"id": oid, "type": "credential_type", "managed": False, "related": {},
                           "url": "{0}credential_types/{1}/".format(API, oid)})
            self.objects["credential_types"][oid] = merged
            return 201, merged
        self.objects["credential_types"][oid] = merged
        return 200, merged

    def _save_credential(self, oid: Optional[int], body: Dict[str, Any]) -> Tuple[int, Any]:
        """A credential of a custom type: its inputs are checked against the type, secrets read back as $encrypted$."""
        unknown = sorted(set(body) - CREDENTIAL_FIELDS)
        if unknown:
            return 400, {"detail": "unknown credential fields: {0}".format(", ".join(unknown))}
        current = self.objects["credentials"][oid] if oid is not None else {}
        merged = dict(current)
        merged.update(body)
        kind = self.objects["credential_types"].get(merged.get("credential_type"))
        if kind is None:
            return 400, {"credential_type": ["Invalid pk - object does not exist."]}
        fields = {f["id"]: f for f in kind["inputs"].get("fields", [])}
        stored = dict(self.secrets.get(oid, {}))
        for name, value in (body.get("inputs") or {}).items():
            if name not in fields:
                return 400, {"inputs": {name: ["'{0}' is not a field of the credential type".format(name)]}}
            if value != "$encrypted$":
                stored[name] = value
        missing = [r for r in kind["inputs"].get("required", []) if not stored.get(r)]
        if missing:
            return 400, {"inputs": {name: ["required for this credential type"] for name in missing}}
        merged["inputs"] = {k: ("$encrypted$" if fields[k].get("secret") else v) for k, v in stored.items()}
        if oid is None:
            oid = self._next_id
            self._next_id += 1
            merged.update({"id": oid, "type": "credential", "related": {},
                           "url": "{0}credentials/{1}/".format(API, oid)})
        self.objects["credentials"][oid] = merged
        self.secrets[oid] = stored
        return (201 if not current else 200), merged

    def _survey(self, oid: int, method: str, body: Any) -> Tuple[int, Any]:
        if method == "GET":
            return 200, self.surveys.get(oid, {})
        if method == "DELETE":
            self.surveys.pop(oid, None)
            return 200, {}
        if method == "POST":
            error = validate_survey_spec(body)
            if error:
                return 400, {"error": error}
            self.surveys[oid] = body
            return 200, {}
        return 405, {"detail": "Method not allowed."}

    def _credentials(self, oid: int, method: str, body: Any) -> Tuple[int, Any]:
        linked = self.jt_credentials.setdefault(oid, [])
        if method == "GET":
            results = [self.objects["credentials"][c] for c in linked]
            return 200, {"count": len(results), "next": None, "previous": None, "results": results}
        if method == "POST":
            cid = body.get("id")
            if cid not in self.objects["credentials"]:
                return 400, {"msg": "Credential {0} does not exist".format(cid)}
            if body.get("disassociate"):
                if cid in linked:
                    linked.remove(cid)
            elif cid not in linked:
                linked.append(cid)
            return 204, None
        return 405, {"detail": "Method not allowed."}

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core runs on a controller without ansible-core, on Python 3.9, with only a few libraries."""
from __future__ import annotations

import ast
import glob
import re
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

CORE = pathlib.Path(__file__).resolve().parents[5] / "plugins" / "module_utils" / "atvm_watcher"
FILES = sorted(CORE.rglob("*.py"))
ALLOWED_THIRD_PARTY = {"requests", "psutil", "jmespath", "defusedxml", "urllib3"}


def _rel(path):
    return path.relative_to(CORE).as_posix()


def test_core_files_found():
    assert {_rel(p) for p in FILES} >= {"cli.py", "watch/loop.py", "decision/rules.py", "evidence/cypress_log.py",
                                        "delivery/outbox.py", "store/runstore.py"}


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_parses_with_python_39_grammar(path):
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_imports_no_ansible_and_only_allowed_libraries(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    stdlib = set(getattr(sys, "stdlib_module_names", ())) or None
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative import inside the package
                continue
            names = [node.module or ""]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            assert top not in ("ansible", "ansible_collections"), "{0} imports {1}".format(path.name, name)
            if stdlib is not None:
                assert top in stdlib or top in ALLOWED_THIRD_PARTY or top == "__future__", \
                    "{0} imports {1}, not in the standard library or the allowed libraries".format(path.name, name)


def _python39():
    candidates = [shutil.which("python3.9")] + sorted(glob.glob(os.path.expanduser("~/.pyenv/versions/3.9*/bin/python3.9")))
    for candidate in candidates:
        if candidate and subprocess.run([candidate, "-c", "import sys; assert sys.version_info[:2] == (3, 9)"],
                                        capture_output=True, check=False).returncode == 0:
            return candidate
    return None


PY39 = _python39()


@pytest.mark.skipif(PY39 is None, reason="needs a python3.9 interpreter")
def test_compiles_and_runs_verdict_on_python_39(tmp_path):
    """Where a Python 3.9 exists (RHEL 9's), the core compiles and its CLI answers on it."""
    files = [str(p) for p in FILES]
    subprocess.run([PY39, "-m", "py_compile"] + files, check=True)
    bin_dir = CORE.parents[2] / "bin"
    log = CORE.parents[2] / "tests" / "fixtures" / "cypress" / "stdout" / "cy9-jenkins-two-specs-pass.log"
    out = subprocess.run([PY39, "-S", str(bin_dir / "atvm-run-watcher"), "verdict", "--json", "--log", str(log),
                          "--exit-code", "0"], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert '"state": "COMPLETED"' in out.stdout


# The floors of the core, bottom up (docs/architecture.md): a module imports its own folder and the
# floors below it, never one above. The ground floor is the package's top-level files but the
# two entry points (cli, offline).
ENTRY_POINTS = {"cli", "offline"}
FLOORS = {"": 0, "evidence": 1, "store": 2, "decision": 2, "message": 3, "delivery": 4, "host": 4, "control": 5,
          "watch": 6, "entry": 7}


def _floor_of(module):
    """The floor of a core module given as its dotted path inside the package (``store.runstore``)."""
    head = module.split(".")[0]
    if head in FLOORS and head not in ("", "entry"):
        return head
    return "entry" if head in ENTRY_POINTS else ""


def _imported_modules(path):
    """Every core module ``path`` imports (relative imports resolved), as dotted paths in the package."""
    here = _rel(path)[:-3].split("/")
    package = here[:-1] if here[-1] != "__init__" else here[:-1]
    out = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if not isinstance(node, ast.ImportFrom) or not node.level:
            continue
        base = package[: len(package) - (node.level - 1)] if node.level > 1 else list(package)
        if node.module:
            out.add(".".join(base + node.module.split(".")))
        else:
            out.update(".".join(base + [alias.name]) for alias in node.names if alias.name != "__version__")
    return {m for m in out if m}


def test_every_core_folder_has_a_floor():
    folders = {p.parent.relative_to(CORE).as_posix() for p in FILES if p.parent != CORE}
    assert folders <= set(FLOORS), folders - set(FLOORS)


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_imports_never_run_up_the_floors(path):
    mine = _floor_of(_rel(path)[:-3].replace("/", "."))
    for module in _imported_modules(path):
        theirs = _floor_of(module)
        assert theirs == mine or FLOORS[theirs] < FLOORS[mine], \
            "{0} (floor {1!r}) imports {2} (floor {3!r})".format(_rel(path), mine, module, theirs)


RUN_FILE_NAMES = {"state.json", "events.jsonl", "runner-exit.json", "runner-exit.json.running", "runner.log",
                  "watcher.env", "runner.env", "reading.json", ".archive", ".history"}


@pytest.mark.parametrize("path", [p for p in FILES if _rel(p) != "runpaths.py"], ids=_rel)
def test_the_run_directory_has_one_owner(path):
    """Only runpaths.py spells the files of a run directory; everything else asks a RunPaths."""
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            assert node.value.rsplit("/", 1)[-1] not in RUN_FILE_NAMES, \
                "{0}:{1} spells {2!r}: ask RunPaths".format(_rel(path), node.lineno, node.value)


def _annotation_nodes(tree):
    """Every node inside an annotation (postponed by ``from __future__ import annotations``)."""
    inside = set()
    for node in ast.walk(tree):
        roots = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            roots = [a.annotation for a in node.args.args + node.args.kwonlyargs + node.args.posonlyargs] + [
                node.returns, node.args.vararg and node.args.vararg.annotation,
                node.args.kwarg and node.args.kwarg.annotation]
        elif isinstance(node, ast.AnnAssign):
            roots = [node.annotation]
        for root in roots:
            if root is not None:
                inside.update(id(n) for n in ast.walk(root))
    return inside


_TYPE_NAMES = {"str", "int", "float", "bool", "bytes", "dict", "list", "tuple", "set", "frozenset", "object", "type"}


def _looks_like_a_type(node):
    """None, a builtin type, a CapWords name (a class, a type alias) or a subscripted generic."""
    return (isinstance(node, ast.Constant) and node.value is None
            or isinstance(node, ast.Name) and (node.id in _TYPE_NAMES or re.match(r"[A-Z][a-z]", node.id))
            or isinstance(node, ast.Subscript))


@pytest.mark.parametrize("path", FILES, ids=_rel)
def test_type_unions_stay_in_annotations_on_python_39(path):
    """``X | None`` runs on Python 3.9 only inside annotations, which the future import postpones:
    a union evaluated at run time (a type alias, a cast, isinstance) would fail on the controller."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    inside = _annotation_nodes(tree)
    future = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                 any(a.name == "annotations" for a in n.names) for n in tree.body)
    for node in ast.walk(tree):
        if isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and id(node) in inside:
            assert future, "{0}:{1}: a union annotation needs from __future__ import annotations".format(
                _rel(path), node.lineno)
        typing_union = isinstance(node, ast.BinOp) and isinstance(node.op, ast.BitOr) and any(
            _looks_like_a_type(side) for side in (node.left, node.right))
        assert not (typing_union and id(node) not in inside), \
            "{0}:{1}: a type union evaluated at run time (Python 3.9 cannot)".format(_rel(path), node.lineno)

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The core runs on a controller without ansible-core, on Python 3.9, with only a few libraries."""
from __future__ import annotations

import ast
import glob
import os
import pathlib
import shutil
import subprocess
import sys

import pytest

CORE = pathlib.Path(__file__).resolve().parents[5] / "plugins" / "module_utils" / "atvm_watcher"
FILES = sorted(CORE.glob("*.py"))
ALLOWED_THIRD_PARTY = {"requests", "psutil", "jmespath", "defusedxml", "urllib3"}


def test_core_files_found():
    assert {p.name for p in FILES} >= {"cli.py", "watcher.py", "decide.py", "cypress_log.py", "delivery.py", "state.py"}


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
def test_parses_with_python_39_grammar(path):
    ast.parse(path.read_text(encoding="utf-8"), filename=str(path), feature_version=(3, 9))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.name)
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

# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What the demo prints: colour only on a terminal, no library warning on every ansible call."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[3]


def test_no_step_forces_colour():
    for path in [ROOT / "demo" / "run.sh"] + sorted((ROOT / "demo" / "steps").glob("*.sh")):
        text = path.read_text(encoding="utf-8")
        assert not re.search(r"--colou?r\b|FORCE_COLOR=(1|true)|PY_COLORS=1", text), path.name


def test_the_makefile_turns_colour_off_when_its_output_is_not_a_terminal():
    out = subprocess.run(["make", "-s", "-p", "-n", "help"], cwd=str(ROOT), capture_output=True, text=True, check=False,
                         env={k: v for k, v in os.environ.items() if k not in ("CI", "MAKE_TERMOUT")})
    exported = dict(re.findall(r"^(NO_COLOR|ANSIBLE_NOCOLOR|PY_COLORS|PYTHONWARNINGS) := (.*)$", out.stdout, re.M))
    assert exported.get("NO_COLOR") == "1" and exported.get("PY_COLORS") == "0", exported
    assert exported.get("PYTHONWARNINGS") == "ignore:DSA is deprecated"


def test_the_demo_silences_the_dsa_warning_of_every_ansible_call():
    text = (ROOT / "demo" / "run.sh").read_text(encoding="utf-8")
    value = re.search(r'^export PYTHONWARNINGS="([^"$]*)', text, re.M).group(1)
    code = "import warnings; warnings.warn('DSA is deprecated and support will be removed', UserWarning)"
    out = subprocess.run([sys.executable, "-c", code], env=dict(os.environ, PYTHONWARNINGS=value), capture_output=True,
                         text=True, check=True)
    assert out.stderr == ""
    loud = subprocess.run([sys.executable, "-c", code], env={k: v for k, v in os.environ.items() if k != "PYTHONWARNINGS"},
                          capture_output=True, text=True, check=True)
    assert "DSA is deprecated" in loud.stderr

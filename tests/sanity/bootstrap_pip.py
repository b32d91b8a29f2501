# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Stand-in for the get-pip.py script that ansible-test downloads to bootstrap pip in its venvs.

ansible-test fetches that script from a host outside the package registries, which these
machines cannot reach. `make sanity` installs this file in its cache path instead
(~/.ansible/test/cache/get_pip_<version>.py). It is called the same way,
``python get_pip.py [pip options] pip==X.Y [--no-setuptools] [--no-wheel]``, and does the same
with the interpreter's own ``ensurepip`` followed by an ordinary ``pip install``.
"""
from __future__ import annotations

import subprocess
import sys

GET_PIP_ONLY = ("--no-setuptools", "--no-wheel")


def main(argv: list) -> int:
    args = [arg for arg in argv if arg not in GET_PIP_ONLY]
    subprocess.check_call([sys.executable, "-m", "ensurepip", "--default-pip"], stdout=subprocess.DEVNULL)
    return subprocess.call([sys.executable, "-m", "pip", "install", "--quiet"] + args)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

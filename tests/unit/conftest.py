# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
"""How the unit tests find the collection, run by ``ansible-test units`` or by plain pytest.

Plain ``pytest tests/unit`` from a checkout: pytest-ansible links the checkout under
``collections/ansible_collections/atvm/watcher`` and puts that on the import path.

Under ``ansible-test units`` the collection is already in place, and ansible-test's own plugin reads
``ANSIBLE_COLLECTIONS_PATH`` as the one directory that holds it. pytest-ansible rewrites that
variable (its directory plus ``~/.ansible/collections``) when it configures, and the test workers
started after that would read the rewritten list: the value ansible-test gave is put back.
"""
from __future__ import annotations

import os

import pytest

_GIVEN_COLLECTIONS_PATH = os.environ.get("ANSIBLE_COLLECTIONS_PATH")


@pytest.hookimpl(trylast=True)
def pytest_configure(config):
    if _GIVEN_COLLECTIONS_PATH is not None and config.pluginmanager.has_plugin("ansible_pytest_collections"):
        os.environ["ANSIBLE_COLLECTIONS_PATH"] = _GIVEN_COLLECTIONS_PATH

#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# Install the watcher with the collection's playbook, then once more: the second run changes nothing.
set -euo pipefail
echo "ansible-playbook -i demo/inventory.yml atvm.watcher.install -e @secrets.yml"
ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.install -e "@$DEMO_SECRETS"
echo
echo "--- the same again (nothing to change):"
ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.install -e "@$DEMO_SECRETS" | tail -n 3

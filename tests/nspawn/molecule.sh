#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run the Molecule scenarios under extensions/molecule/ (every one with a molecule.yml, so not
# shared/), or those named as arguments, as pytest items: pytest-ansible's molecule plugin collects
# each molecule.yml and runs `molecule test -s <scenario>` for it. Every container this run booted
# is stopped when it ends, however it ends. Exits non-zero when any scenario failed.
#
# pytest-ansible only takes the collections path it is given (--ansible-unit-inject-only): the
# scenarios run the built collection named by ANSIBLE_COLLECTIONS_PATH, never the checkout.
# pytest-ansible marks running Molecule through pytest as deprecated; that warning is not shown.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export ATVM_NSPAWN="$here/nspawn.sh"
# Containers of this run live in their own directory, so stopping them touches no one else's.
export ATVM_NSPAWN_RUN="${ATVM_NSPAWN_RUN:-/run/atvm-nspawn/molecule-$$}"
trap '"$ATVM_NSPAWN" stop-all; rmdir "$ATVM_NSPAWN_RUN" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

scenarios=()
for name in "$@"; do
  [ -f "$top/extensions/molecule/$name/molecule.yml" ] || { echo "molecule: no scenario $name" >&2; exit 2; }
  scenarios+=("extensions/molecule/$name/molecule.yml")
done
[ ${#scenarios[@]} -gt 0 ] || scenarios=(extensions/molecule)

cd "$top" && python -m pytest -p no:cacheprovider --capture=no -rA --molecule --ansible-unit-inject-only \
  -W "ignore:Running Molecule scenarios via pytest-ansible is deprecated:DeprecationWarning" \
  -o "markers=default: a scenario on Molecule's default driver (our create.yml and destroy.yml)" \
  "${scenarios[@]}"

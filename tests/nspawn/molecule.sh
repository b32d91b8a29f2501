#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Run `molecule test` for every scenario under extensions/molecule/ (except shared/), or for the
# scenarios named as arguments. Every container this run booted is stopped when it ends, however
# it ends. Exits non-zero when any scenario failed.
set -uo pipefail

here=$(cd "$(dirname "$0")" && pwd)
top=$(cd "$here/../.." && pwd)
export ATVM_NSPAWN="$here/nspawn.sh"
# Containers of this run live in their own directory, so stopping them touches no one else's.
export ATVM_NSPAWN_RUN="${ATVM_NSPAWN_RUN:-/run/atvm-nspawn/molecule-$$}"
trap '"$ATVM_NSPAWN" stop-all; rmdir "$ATVM_NSPAWN_RUN" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

if [ $# -gt 0 ]; then
  scenarios=("$@")
else
  scenarios=()
  for d in "$top"/extensions/molecule/*/; do
    name=$(basename "$d")
    [ "$name" != shared ] && [ -f "$d/molecule.yml" ] && scenarios+=("$name")
  done
fi

failed=()
passed=()
for s in "${scenarios[@]}"; do
  echo "=== molecule test -s $s"
  start=$SECONDS
  if (cd "$top" && molecule test -s "$s"); then
    passed+=("$s")
    echo "=== scenario $s passed in $((SECONDS - start)) s"
  else
    failed+=("$s")
    echo "=== scenario $s FAILED after $((SECONDS - start)) s"
  fi
done
echo "molecule: ${#passed[@]} passed, ${#failed[@]} failed${failed:+ (${failed[*]})}"
[ ${#failed[@]} -eq 0 ]

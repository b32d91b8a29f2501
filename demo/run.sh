#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# The demo (`make demo`): a Mattermost double on 127.0.0.1, a controller container with a real
# systemd, then every step under demo/steps/ in order (10-install.sh, 20-show.sh, ...). Each step
# is a bash script run with the variables below; add a step to show more. Everything the demo
# started is stopped at the end, also when a step fails or on Ctrl-C.
#
#   DEMO_TOP         the checkout
#   DEMO_WORK        a private temporary directory (0700), removed at the end
#   DEMO_INVENTORY   the Ansible inventory (group atvm_controllers, host atvm-demo)
#   DEMO_SECRETS     extra-vars file with controller_webhook (0600; never print it)
#   DEMO_CONTAINER   the container's name; run commands inside with: "$NSPAWN" exec "$DEMO_CONTAINER" CMD...
#   DEMO_DOUBLE      base URL of the Mattermost double (control endpoints: $DEMO_DOUBLE/_control/posts)
#   DEMO_POSTS       JSONL file of the posts the double accepted
#   NSPAWN           tests/nspawn/nspawn.sh
# Expects the .venv and the built collection of `make demo` (ANSIBLE_COLLECTIONS_PATH).
set -euo pipefail
# ansible-core imports cryptography's DSA on every call, which warns that DSA is deprecated: a
# warning about a library, not about the demo, printed by every ansible-playbook call.
export PYTHONWARNINGS="ignore:DSA is deprecated${PYTHONWARNINGS:+,$PYTHONWARNINGS}"

DEMO_TOP=$(cd "$(dirname "$0")/.." && pwd)
NSPAWN=$DEMO_TOP/tests/nspawn/nspawn.sh
DEMO_CONTAINER=atvm-demo
DEMO_WORK=$(mktemp -d /tmp/atvm-demo.XXXXXX)
export ATVM_NSPAWN_RUN=/run/atvm-nspawn/demo-$$
double_pid=""

cleanup() {
  local rc=$?
  trap - EXIT INT TERM
  echo "--- cleaning up"
  "$NSPAWN" stop-all || true
  rmdir "$ATVM_NSPAWN_RUN" 2>/dev/null || true
  if [ -n "$double_pid" ]; then kill "$double_pid" 2>/dev/null || true; wait "$double_pid" 2>/dev/null || true; fi
  rm -rf "$DEMO_WORK"
  if [ "$rc" -eq 0 ]; then echo "--- demo done"; else echo "--- demo FAILED (exit $rc)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

banner() { printf '\n=== %s\n' "$*"; }

banner "Mattermost double on 127.0.0.1"
hook_id=$(python3 -c 'import secrets, string; print("".join(secrets.choice(string.ascii_lowercase + string.digits) for _ in range(26)))')
DEMO_POSTS=$DEMO_WORK/posts.jsonl
# --max-json-body: like the newest servers, the double reads at most 128 KiB of a JSON body
python3 "$DEMO_TOP/tests/support/mattermost_double.py" --host 127.0.0.1 --port 0 --port-file "$DEMO_WORK/port" \
  --hook-id "$hook_id" --channel town-square --record "$DEMO_POSTS" --max-json-body 131072 >"$DEMO_WORK/double.log" 2>&1 &
double_pid=$!
for _ in $(seq 1 100); do [ -s "$DEMO_WORK/port" ] && break; sleep 0.05; done
[ -s "$DEMO_WORK/port" ] || { cat "$DEMO_WORK/double.log" >&2; exit 1; }
DEMO_DOUBLE=http://127.0.0.1:$(cat "$DEMO_WORK/port")
echo "listening on ${DEMO_DOUBLE#http://} (the hook id is kept in $DEMO_WORK, never printed)"

DEMO_SECRETS=$DEMO_WORK/secrets.yml
(umask 077 && printf 'controller_webhook: %s/hooks/%s\n' "$DEMO_DOUBLE" "$hook_id" >"$DEMO_SECRETS")
DEMO_INVENTORY=$DEMO_TOP/demo/inventory.yml

banner "Controller container $DEMO_CONTAINER (systemd-nspawn, systemd as PID 1)"
"$NSPAWN" boot "$DEMO_CONTAINER" >/dev/null

export DEMO_TOP DEMO_WORK DEMO_INVENTORY DEMO_SECRETS DEMO_CONTAINER DEMO_DOUBLE DEMO_POSTS NSPAWN
for step in "$DEMO_TOP"/demo/steps/*.sh; do
  banner "$(basename "$step" .sh)"
  bash "$step"
done

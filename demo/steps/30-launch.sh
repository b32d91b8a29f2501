#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# A categorized run of about a minute: three groups (one with a failing host) played by the Cypress
# run simulator, launched with launch_run.yml, followed with run_status.yml; each post is shown as
# the channel shows it when it arrives (demo/show_posts.py: headline, the attachment with its colour,
# fields and host table, the info card), then the final state.
set -euo pipefail
inside() { "$NSPAWN" exec "$DEMO_CONTAINER" "$@"; }
sim=/opt/atvm-sim/cypress_sim.py
auto=/root/cdc-e2e-cyp-12.17.4
build=demo-$(date -u +%H%M%S)
# The failing group runs last: the wrapper's exit status bears on the sub-run running when it exits.
groups="linux:rhel96-fc-01,ubuntu2204-01;mixed:sles15-01;windows:win2022-01,win2019-02"
follower=""
stop_follower() {
  if [ -n "$follower" ]; then kill "$follower" 2>/dev/null || true; wait "$follower" 2>/dev/null || true; follower=""; fi
}
trap stop_follower EXIT

echo "--- the automation checkout: the Cypress run simulator plays the wrapper, with its VM inventory"
inside mkdir -p /opt/atvm-sim "$auto/atvm/inventory"
inside sh -c "cat > $sim" <"$DEMO_TOP/tests/support/cypress_sim.py"
inside python3 "$sim" --groups "$groups" --write-inventory "$auto/atvm/inventory/vm-inventory.md" --inventory-only
inside cat "$auto/atvm/inventory/vm-inventory.md"

runner="python3 $sim --groups '$groups' --fail win2022-01 --spec-seconds 10"
runner="$runner --reporter-dir $auto/runs/$build/cmc --junit-dir $auto/runs/$build/results"
python3 - "$DEMO_WORK/launch.json" "$build" "$runner" "$auto" <<'PY'
import json, sys
path, build, runner, auto = sys.argv[1:]
with open(path, "w") as handle:
    json.dump({"build_name": build, "atvm_categorized": True, "atvm_runner_command": runner,
               "atvm_scope": "demo: three groups, one failing host", "atvm_config_family": "gold",
               "atvm_watcher_settings": {"ATVM_REPORTER_DIR": auto + "/runs/" + build + "/cmc",
                                         "ATVM_JUNIT_DIR": auto + "/runs/" + build + "/results",
                                         "ATVM_FAIL_PRIORITY": "important"}}, handle)
PY

echo
echo "\$ ansible-playbook -i demo/inventory.yml atvm.watcher.launch_run -e build_name=$build -e atvm_categorized=true -e atvm_runner_command=..."
ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.launch_run -e "@$DEMO_WORK/launch.json"

echo
echo "--- launched again with the same variables while it runs (nothing changes):"
ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.launch_run -e "@$DEMO_WORK/launch.json" | tail -n 3

echo
echo "--- what the channel shows, post by post, while the run goes on:"
python3 "$DEMO_TOP/demo/show_posts.py" "$DEMO_POSTS" --build "$build" --follow &
follower=$!

echo "\$ ansible-playbook -i demo/inventory.yml atvm.watcher.run_status -e build_name=$build -e atvm_wait=true"
ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.run_status -e build_name="$build" -e atvm_wait=true \
  -e atvm_wait_timeout=300 >"$DEMO_WORK/status.log" 2>&1 || { cat "$DEMO_WORK/status.log"; exit 1; }
sleep 1
stop_follower

echo
echo "--- the final state (run_status.yml):"
sed -n '/TASK \[Show the run\]/,$p' "$DEMO_WORK/status.log"
echo
echo "\$ atvm-run-watcher status --build-name $build"
inside /usr/bin/python3 /opt/atvm-watcher-service/bin/atvm-run-watcher status --build-name "$build"
echo
echo "--- posts of $build at the double: $(grep -c "build \`$build\`" "$DEMO_POSTS" || true) (one per group)"

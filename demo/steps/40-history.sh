#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# The same suite twice (docs/history.md): first one host fails a test, then that test passes on a
# retry. The second post says what changed since the first: the test is fixed, and it is flaky
# (it passed only on its second attempt); the suite's history as `atvm-run-watcher history` lists it.
set -euo pipefail
inside() { "$NSPAWN" exec "$DEMO_CONTAINER" "$@"; }
sim=/opt/atvm-sim/cypress_sim.py  # copied into the container by 30-launch.sh, with the VM inventory
auto=/root/cdc-e2e-cyp-12.17.4
hosts="rhel96-fc-01,ubuntu2204-01"
stamp=$(date -u +%H%M%S)

launch() {  # BUILD SIMULATOR-OPTIONS...: one run of the suite, launched and followed to its end
  local build=$1
  shift
  local runner="python3 $sim --hosts $hosts --spec-seconds 3 $*"
  runner="$runner --reporter-dir $auto/runs/$build/cmc --junit-dir $auto/runs/$build/results"
  python3 - "$DEMO_WORK/$build.json" "$build" "$runner" "$auto" <<'PY'
import json, sys
path, build, runner, auto = sys.argv[1:]
with open(path, "w") as handle:
    json.dump({"build_name": build, "atvm_runner_command": runner, "atvm_template_name": "cmc-e2e",
               "atvm_config_family": "gold", "atvm_scope": "demo: the same suite twice",
               "atvm_watcher_settings": {"ATVM_REPORTER_DIR": auto + "/runs/" + build + "/cmc",
                                         "ATVM_JUNIT_DIR": auto + "/runs/" + build + "/results"}}, handle)
PY
  echo "\$ ansible-playbook -i demo/inventory.yml atvm.watcher.launch_run -e build_name=$build -e atvm_runner_command='... $*'"
  ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.launch_run -e "@$DEMO_WORK/$build.json" | tail -n 3
  ansible-playbook -i "$DEMO_INVENTORY" atvm.watcher.run_status -e build_name="$build" -e atvm_wait=true \
    -e atvm_wait_timeout=300 -e atvm_fail_on_undelivered=true >"$DEMO_WORK/$build.status.log" 2>&1 \
    || { cat "$DEMO_WORK/$build.status.log"; exit 1; }
}

first=history-$stamp-1
second=history-$stamp-2
echo "--- run 1 of the suite: ubuntu2204-01 fails one test"
launch "$first" --fail ubuntu2204-01
python3 "$DEMO_TOP/demo/show_posts.py" "$DEMO_POSTS" --build "$first"

echo
echo "--- run 2 of the same suite: that test fails its first attempt and passes on the retry"
launch "$second" --flaky ubuntu2204-01
python3 "$DEMO_TOP/demo/show_posts.py" "$DEMO_POSTS" --build "$second"

echo
echo "\$ atvm-run-watcher status --build-name $second"
inside /usr/bin/python3 /opt/atvm-watcher-service/bin/atvm-run-watcher status --build-name "$second"
echo
echo "\$ atvm-run-watcher history"
inside /usr/bin/python3 /opt/atvm-watcher-service/bin/atvm-run-watcher history
echo
echo "\$ atvm-run-watcher history --suite 'cmc-e2e · gold'"
inside /usr/bin/python3 /opt/atvm-watcher-service/bin/atvm-run-watcher history --suite "cmc-e2e · gold"
grep -q "1 fixed \\\\u00b7 1 flaky\|1 fixed · 1 flaky" "$DEMO_POSTS" \
  || { echo "the second post does not say that the test is fixed and flaky" >&2; exit 1; }

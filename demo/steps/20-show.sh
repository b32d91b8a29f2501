#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
# What is on the controller now: the settings check, the units, the installed version.
set -euo pipefail
inside() { "$NSPAWN" exec "$DEMO_CONTAINER" "$@"; }
root=/opt/atvm-watcher-service

echo "\$ atvm-run-watcher check-config --env-file /etc/atvm-run-watcher.env"
inside /usr/bin/python3 "$root/bin/atvm-run-watcher" check-config --env-file /etc/atvm-run-watcher.env
echo
echo "\$ ls -l /etc/atvm-run-watcher.env   (the webhook is in there: root only)"
inside ls -l /etc/atvm-run-watcher.env
echo
echo "\$ systemctl cat atvm-run-watcher@.service atvm-runner@.service"
inside systemctl cat --no-pager atvm-run-watcher@.service atvm-runner@.service
echo
echo "\$ systemd-analyze verify atvm-run-watcher@demo.service atvm-runner@demo.service   (no output = no finding)"
inside systemd-analyze verify atvm-run-watcher@demo.service atvm-runner@demo.service
echo
echo "\$ cat $root/VERSION.json"
inside cat "$root/VERSION.json"

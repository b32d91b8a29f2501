#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build the execution environment here, without a registry, and smoke-run it (`make ee`).
#
#   extensions/ee/build-local.sh            build, then smoke-run
#   extensions/ee/build-local.sh smoke      smoke-run the image built before
#
# The supported definition (execution-environment.yml) names Red Hat's minimal EE image, which
# needs a registry login. Here the same definition is built with podman from a local base: the
# Debian rootfs the tests make (tests/nspawn/nspawn.sh rootfs, Python 3.11) with a venv of its Python
# (/opt/ee-python: Debian's system Python refuses ensurepip) and the SSH client added, imported as
# localhost/atvm-ee-base. Only the base image, the package manager
# (a shim over apt-get: Debian has no microdnf) and the interpreter path differ; the dependencies
# are the shipped definition's. Python packages come from a wheelhouse the host downloads with pip
# (the build itself has no network). The image is then run: ansible-doc of a module, a syntax check
# of every playbook, and run_status.yml against localhost inside the EE, on a planted state
# directory and install record, with a stand-in systemctl (there is no controller here).
#
# Needs root, podman and runc (apt-get install podman runc). Environment: ATVM_EE_IMAGE (default
# localhost/atvm-watcher-ee:<version>), ATVM_EE_BUILD_DIR (default <checkout>/build/ee-local).
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
version=$(sed -n 's/^version: *//p' "$root/galaxy.yml")
image=${ATVM_EE_IMAGE:-localhost/atvm-watcher-ee:$version}
out=${ATVM_EE_BUILD_DIR:-$root/build/ee-local}
python=${PYTHON:-$root/.venv/bin/python}
builder=${ANSIBLE_BUILDER:-$root/.venv/bin/ansible-builder}
galaxy=${ANSIBLE_GALAXY:-$root/.venv/bin/ansible-galaxy}

mkdir -p "$out"
# podman from the distribution on these hosts: runc (crun refuses the hybrid cgroup layout) and no
# default ulimits (setting them is not permitted here).
cat >"$out/containers.conf" <<'EOF'
[containers]
default_ulimits = []
[engine]
runtime = "runc"
EOF
export CONTAINERS_CONF=$out/containers.conf
# ansible-core imports cryptography's DSA on every call, which then warns that DSA is deprecated
export PYTHONWARNINGS="ignore:DSA is deprecated${PYTHONWARNINGS:+,$PYTHONWARNINGS}"

say() { printf '=== %s\n' "$*"; }

base_image() {
  local rootfs tag work
  rootfs=$("$root/tests/nspawn/nspawn.sh" rootfs)
  tag=$(basename "$rootfs" | sed 's/^rootfs-//')
  BASE=localhost/atvm-ee-base:$tag-venv
  if podman image exists "$BASE"; then
    say "base image $BASE (cached)"
    return
  fi
  say "base image $BASE from $rootfs"
  work=$(mktemp -d "$out/base.XXXXXX")
  trap 'umount -R "$work/rootfs/proc" "$work/rootfs/dev" 2>/dev/null || true; rm -rf "$work"; trap - RETURN' RETURN
  cp -a "$rootfs" "$work/rootfs"
  mount --bind /proc "$work/rootfs/proc"
  mount --rbind /dev "$work/rootfs/dev"
  cp /etc/resolv.conf "$work/rootfs/etc/resolv.conf"
  chroot "$work/rootfs" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  chroot "$work/rootfs" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    python3-venv openssh-client >/dev/null
  # Debian's system Python refuses ensurepip (ansible-builder's first step): the image's Python is a
  # venv of it, /opt/ee-python, whose ensurepip works
  chroot "$work/rootfs" python3 -m venv /opt/ee-python
  chroot "$work/rootfs" apt-get clean
  umount -R "$work/rootfs/proc" "$work/rootfs/dev"
  rm -rf "$work/rootfs/var/lib/apt/lists/"*
  # ansible-builder calls "$PKGMGR install -y PACKAGES" and "$PKGMGR clean all"
  cat >"$work/rootfs/usr/local/bin/ee-package-manager" <<'EOF'
#!/bin/sh
# The package manager ansible-builder calls (install -y PACKAGES, clean all), over apt-get.
set -e
verb=$1; shift
case "$verb" in
  install) [ "$1" = -y ] && shift; [ $# -eq 0 ] || DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends "$@" ;;
  clean) apt-get clean ;;
  *) echo "ee-package-manager: $verb is not supported" >&2; exit 2 ;;
esac
EOF
  chmod 0755 "$work/rootfs/usr/local/bin/ee-package-manager"
  tar -C "$work/rootfs" -c . | podman import - "$BASE" >/dev/null
}

wheelhouse() {
  local requirements=$out/context-wheels.txt
  # what the builder installs: ansible-core and ansible-runner (the definition), bindep, pyyaml and
  # packaging (its builder stage), dumb-init (its final stage), and what pip builds sdists with
  "$python" - "$here/execution-environment.yml" >"$requirements" <<'EOF'
import sys, yaml
deps = yaml.safe_load(open(sys.argv[1]))["dependencies"]
for name in ("ansible_core", "ansible_runner"):
    print(deps[name]["package_pip"])
print("\n".join(["bindep", "pyyaml", "packaging", "dumb-init==1.2.5", "setuptools", "wheel", "pip"]))
EOF
  if cmp -s "$requirements" "$out/wheels/.requirements" 2>/dev/null; then
    say "wheelhouse $out/wheels (cached)"
    return
  fi
  say "wheelhouse $out/wheels (pip download)"
  rm -rf "$out/wheels"
  "$python" -m pip download --quiet --disable-pip-version-check -d "$out/wheels" -r "$requirements"
  cp "$requirements" "$out/wheels/.requirements"
}

definition() {
  # the shipped definition with the local base, package manager and interpreter, and the wheelhouse
  "$python" - "$here/execution-environment.yml" "$out/context-src/execution-environment.yml" "$BASE" <<'EOF'
import sys, yaml
source, target, base = sys.argv[1:]
ee = yaml.safe_load(open(source))
ee["images"]["base_image"]["name"] = base
ee["options"]["package_manager_path"] = "/usr/local/bin/ee-package-manager"
ee["dependencies"]["python_interpreter"] = {"python_path": "/opt/ee-python/bin/python3"}
ee["additional_build_files"].append({"src": "wheels", "dest": "wheels"})
ee["additional_build_steps"] = {"prepend_base": ["COPY _build/wheels /wheels",
                                                 "ENV PIP_NO_INDEX=1 PIP_FIND_LINKS=/wheels",
                                                 "ENV PATH=/opt/ee-python/bin:$PATH"]}
yaml.safe_dump(ee, open(target, "w"), sort_keys=False)
EOF
}

build() {
  local started=$SECONDS
  base_image
  wheelhouse
  say "collection tarball"
  rm -rf "$out/context-src" "$out/context"
  mkdir -p "$out/context-src/collection"
  "$galaxy" collection build --force --output-path "$out/context-src/collection" "$root" >/dev/null
  cp "$out"/context-src/collection/atvm-watcher-*.tar.gz "$out/context-src/atvm-watcher.tar.gz"
  cp -a "$out/wheels" "$out/context-src/wheels"
  definition
  say "ansible-builder build -t $image (podman)"
  (cd "$out/context-src" && "$builder" build --container-runtime podman --file execution-environment.yml \
    --context "$out/context" --tag "$image" --prune-images -v 1)
  say "built $image in $((SECONDS - started)) s; $(podman image inspect "$image" --format '{{.Size}}' | \
    awk '{printf "%.0f MiB", $1 / 1048576}')"
}

smoke() {
  local work
  work=$(mktemp -d "$out/smoke.XXXXXX")
  trap 'rm -rf "$work"; trap - RETURN' RETURN
  chmod 0755 "$work"  # the image runs as user 1000
  say "smoke: ansible-doc atvm.watcher.run_info"
  podman run --rm --network none -e PYTHONWARNINGS="$PYTHONWARNINGS" -e ANSIBLE_NOCOLOR=1 "$image" ansible-doc atvm.watcher.run_info \
    >"$work/doc.txt"
  grep -E "^> MODULE atvm.watcher.run_info " "$work/doc.txt"

  say "smoke: --syntax-check of every playbook"
  printf '[atvm_controllers]\nlocalhost ansible_connection=local\n' >"$work/inventory.ini"
  chmod 0644 "$work/inventory.ini"
  local playbook
  for playbook in "$root"/playbooks/*.yml; do
    if [ "$(basename "$playbook")" = awx_configure.yml ]; then
      # it runs on a workstation with the awx.awx collection, not in the EE (docs/awx.md)
      echo "  atvm.watcher.awx_configure: not an EE playbook (needs awx.awx), skipped"
      continue
    fi
    podman run --rm --network none -e PYTHONWARNINGS="$PYTHONWARNINGS" -e ANSIBLE_NOCOLOR=1 -v "$work:/smoke:ro" "$image" ansible-playbook -i /smoke/inventory.ini \
      --syntax-check "atvm.watcher.$(basename "$playbook" .yml)" >/dev/null
    echo "  atvm.watcher.$(basename "$playbook" .yml): syntax OK"
  done

  say "smoke: run_status.yml against localhost inside the EE (planted state, stand-in systemctl)"
  mkdir -p "$work/facts" "$work/state/smoke-1" "$work/bin"
  cat >"$work/facts/atvm_watcher.fact" <<EOF
{"version": "$version", "install_root": "/opt/atvm-watcher-service", "state_root": "/smoke/state",
 "automation_dir": "/smoke", "interpreter": "/opt/ee-python/bin/python3", "env_file": "/etc/atvm-run-watcher.env",
 "command": "/usr/local/bin/atvm-run-watcher", "metrics_dir": ""}
EOF
  cat >"$work/state/smoke-1/state.json" <<'EOF'
{"schema": 1, "build_name": "smoke-1", "run_state": "COMPLETED", "result": "PASS", "categorized": false,
 "watcher": {"phase": "done"}, "subruns": [{"index": 0, "name": "linux", "state": "COMPLETED", "key": "000-linux"}],
 "reasons": [], "delivery": {"sent": 1, "failed": 0, "pending": 0}}
EOF
  cat >"$work/bin/systemctl" <<'EOF'
#!/bin/sh
# stand-in: both units of the planted run are inactive (it is over)
[ "$1" = show ] || exit 1
printf 'ActiveState=inactive\nSubState=dead\nResult=success\nMainPID=0\nLoadState=loaded\nExecMainStatus=0\nExecMainCode=0\n'
EOF
  chmod -R a+rX "$work" && chmod 0755 "$work/bin/systemctl"
  podman run --rm --network none --user 0 -v "$work:/smoke:ro" -v "$work/facts:/etc/ansible/facts.d:ro" \
    -e PYTHONWARNINGS="$PYTHONWARNINGS" -e PATH=/smoke/bin:/opt/ee-python/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin -e ANSIBLE_NOCOLOR=1 \
    "$image" ansible-playbook -i /smoke/inventory.ini atvm.watcher.run_status -e build_name=smoke-1 \
    -e ansible_python_interpreter=/opt/ee-python/bin/python3 >"$work/status.log" 2>&1 || { cat "$work/status.log"; return 1; }
  grep -o '"msg": "smoke-1: COMPLETED PASS[^"]*"' "$work/status.log"
  grep -q 'ok=.*failed=0' "$work/status.log"
  say "smoke: passed"
}

case "${1:-all}" in
  all) build; smoke ;;
  smoke) smoke ;;
  *) echo "usage: $0 [smoke]" >&2; exit 2 ;;
esac

#!/bin/sh
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Build the atvm.watcher execution environment.
#
#   extensions/ee/build.sh create [ansible-builder create options]   # build context only
#   extensions/ee/build.sh build -t atvm-watcher-ee:2.0.0 --build-arg EE_BASE_IMAGE=<image> [...]
#
# Builds the collection tarball from this checkout, puts it and the execution environment
# definition into ATVM_EE_BUILD_DIR (default: <checkout>/build/ee) and runs ansible-builder there
# (build context: ATVM_EE_BUILD_DIR/context). ansible-galaxy and ansible-builder are taken from
# PATH, or from ANSIBLE_GALAXY / ANSIBLE_BUILDER.
set -eu

usage() {
    echo "usage: $0 create|build [ansible-builder options]" >&2
    exit 2
}

[ $# -ge 1 ] || usage
action=$1
shift
case "$action" in
    create|build) ;;
    *) usage ;;
esac

here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
out=${ATVM_EE_BUILD_DIR:-$root/build/ee}
galaxy=${ANSIBLE_GALAXY:-ansible-galaxy}
builder=${ANSIBLE_BUILDER:-ansible-builder}

rm -rf "$out/collection" "$out/context"
mkdir -p "$out/collection"
"$galaxy" collection build --force --output-path "$out/collection" "$root"

set -- "$out"/collection/atvm-watcher-*.tar.gz "$@"
if [ ! -f "$1" ]; then
    echo "$0: the collection tarball was not built in $out/collection" >&2
    exit 1
fi
cp "$1" "$out/atvm-watcher.tar.gz"
shift
cp "$here/execution-environment.yml" "$out/execution-environment.yml"

exec "$builder" "$action" --file "$out/execution-environment.yml" --context "$out/context" "$@"

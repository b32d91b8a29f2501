#!/usr/bin/env bash
# Copyright: (c) 2026, atvm.watcher contributors
# GNU General Public License v3.0+ (see LICENSES/GPL-3.0-or-later.txt or https://www.gnu.org/licenses/gpl-3.0.txt)
#
# Debian containers with a real systemd as PID 1 (systemd-nspawn), on a host whose PID 1 is not
# systemd. Used by the Molecule scenarios (extensions/molecule/shared/) and by `make demo`.
#
#   nspawn.sh rootfs               build or unpack the cached rootfs; prints its directory
#   nspawn.sh boot NAME [ARGS...]  boot container NAME (extra systemd-nspawn ARGS, e.g. --bind-ro=);
#                                  waits until it is running; prints the PID of its PID 1
#   nspawn.sh pid NAME             the host PID of the container's PID 1
#   nspawn.sh exec NAME CMD...     run CMD inside (root, the container's mounts and PID namespace)
#   nspawn.sh stop NAME            power it off (TERM, KILL after 15 s) and remove its cgroups
#   nspawn.sh stop-all             stop every container started by this script
#   nspawn.sh list                 the containers that are running
#
# Environment: ATVM_NSPAWN_CACHE (default /var/cache/atvm-watcher), ATVM_NSPAWN_SUITE (bookworm),
# ATVM_NSPAWN_RUN (default /run/atvm-nspawn: one directory per container with its PIDs and log).
set -euo pipefail

CACHE=${ATVM_NSPAWN_CACHE:-/var/cache/atvm-watcher}
SUITE=${ATVM_NSPAWN_SUITE:-bookworm}
RUN=${ATVM_NSPAWN_RUN:-/run/atvm-nspawn}
# What the containers need without any network: systemd and dbus to boot, python3 (+ apt bindings
# for Ansible's package module) and the watcher's runtime libraries.
PACKAGES=systemd,systemd-sysv,dbus,python3,python3-apt,python3-requests,python3-psutil,python3-jmespath
TAG=$(printf '%s %s' "$SUITE" "$PACKAGES" | sha256sum | cut -c1-12)
ROOTFS=$CACHE/rootfs-$SUITE-$TAG
TARBALL=$CACHE/rootfs-$SUITE-$TAG.tar.zst

log() { printf 'nspawn: %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# The Debian mirror the host's apt already uses (deb822 .sources first, then sources.list).
mirror() {
  local uri=""
  local f
  for f in /etc/apt/sources.list.d/*.sources; do
    [ -f "$f" ] || continue
    uri=$(awk '
      /^[[:space:]]*$/ { if (u != "" && s ~ /(^| )(bookworm|trixie|bullseye|stable|testing)( |$)/) { print u; exit } u=""; s=""; next }
      /^URIs:/ { u=$2 }
      /^Suites:/ { s=$0; sub(/^Suites:[[:space:]]*/, "", s) }
      END { if (u != "" && s ~ /(^| )(bookworm|trixie|bullseye|stable|testing)( |$)/) print u }
    ' "$f" | head -n1)
    [ -n "$uri" ] && break
  done
  if [ -z "$uri" ] && [ -f /etc/apt/sources.list ]; then
    uri=$(awk '$1 == "deb" && $3 !~ /security/ { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list)
  fi
  [ -n "$uri" ] || die "cannot find the Debian mirror in /etc/apt/sources.list.d/*.sources or /etc/apt/sources.list"
  printf '%s\n' "$uri"
}

cmd_rootfs() {
  mkdir -p "$CACHE"
  # One builder at a time (two scenarios may start together).
  exec 9>"$CACHE/.lock"
  flock 9
  if [ -f "$ROOTFS/.complete" ]; then
    printf '%s\n' "$ROOTFS"
    return
  fi
  rm -rf "$ROOTFS" "$ROOTFS.tmp"
  mkdir -p "$ROOTFS.tmp"
  if [ -f "$TARBALL" ]; then
    log "unpacking $TARBALL"
    zstd -dc "$TARBALL" | tar --numeric-owner -C "$ROOTFS.tmp" -xf -
  else
    local uri
    uri=$(mirror)
    log "debootstrap $SUITE (this takes about a minute, once)"
    debootstrap --variant=minbase --include="$PACKAGES" "$SUITE" "$ROOTFS.tmp" "$uri" >"$CACHE/debootstrap.log" 2>&1 \
      || { tail -n 20 "$CACHE/debootstrap.log" >&2; die "debootstrap failed (log: $CACHE/debootstrap.log)"; }
    chroot "$ROOTFS.tmp" apt-get clean
    # debootstrap copies the host's hostname: the machine name must win.
    rm -f "$ROOTFS.tmp/etc/hostname"
    tar --numeric-owner -C "$ROOTFS.tmp" -cf - . | zstd -q -3 -T0 -o "$TARBALL.tmp"
    mv "$TARBALL.tmp" "$TARBALL"
  fi
  # dbus inside cannot read its configuration through a 0700 root directory.
  chmod 0755 "$ROOTFS.tmp"
  touch "$ROOTFS.tmp/.complete"
  mv "$ROOTFS.tmp" "$ROOTFS"
  exec 9>&-
  printf '%s\n' "$ROOTFS"
}

# The cgroup directories a container gets (hybrid hierarchy, or pure cgroup v2).
cgroup_dirs() {
  local name=$1
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    printf '%s\n' "/sys/fs/cgroup/nspawn-$name"
  else
    [ -d /sys/fs/cgroup/systemd ] && printf '%s\n' "/sys/fs/cgroup/systemd/nspawn-$name"
    [ -d /sys/fs/cgroup/unified ] && printf '%s\n' "/sys/fs/cgroup/unified/nspawn-$name"
  fi
  return 0
}

check_name() {
  [[ $1 =~ ^[A-Za-z0-9][A-Za-z0-9-]{0,62}$ ]] || die "invalid container name '$1'"
}

leader_of() {
  local nspawn_pid=$1 child children
  children=$(cat /proc/"$nspawn_pid"/task/*/children 2>/dev/null) || true
  for child in $children; do
    if [ "$(cat /proc/"$child"/comm 2>/dev/null)" = systemd ] \
       && grep -qE '^NSpid:[[:space:]]+[0-9]+[[:space:]]+1$' /proc/"$child"/status 2>/dev/null; then
      printf '%s\n' "$child"
      return 0
    fi
  done
  return 1
}

alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

cmd_boot() {
  local name=$1
  shift
  check_name "$name"
  local dir=$RUN/$name
  if [ -f "$dir/nspawn.pid" ] && alive "$(cat "$dir/nspawn.pid")"; then
    die "container $name is already running (nspawn PID $(cat "$dir/nspawn.pid"))"
  fi
  local rootfs
  rootfs=$(cmd_rootfs)
  rm -rf "$dir"
  mkdir -p "$dir"
  local cg procs=""
  for cg in $(cgroup_dirs "$name"); do
    mkdir -p "$cg"
    procs="$procs $cg/cgroup.procs"
  done
  # Own cgroups first (without a host systemd, --keep-unit would share the caller's), then nspawn.
  # --register=no --keep-unit: there is no host systemd to register with.
  # shellcheck disable=SC2016  # $1, $2, $$ and $@ belong to the inner shell
  setsid bash -c 'for p in $1; do echo $$ > "$p"; done; echo $$ > "$2"; shift 2; exec "$@"' _ \
    "$procs" "$dir/nspawn.pid" \
    systemd-nspawn --boot --directory="$rootfs" --machine="$name" --register=no --keep-unit \
    --console=read-only --volatile=overlay "$@" \
    </dev/null >"$dir/console.log" 2>&1 &
  local nspawn_pid="" leader="" state=""
  for _ in $(seq 1 300); do
    [ -z "$nspawn_pid" ] && [ -s "$dir/nspawn.pid" ] && nspawn_pid=$(cat "$dir/nspawn.pid")
    if [ -n "$nspawn_pid" ] && ! alive "$nspawn_pid"; then
      tail -n 30 "$dir/console.log" >&2
      die "container $name exited while booting (log: $dir/console.log)"
    fi
    if [ -n "$nspawn_pid" ] && [ -z "$leader" ]; then
      leader=$(leader_of "$nspawn_pid") || leader=""
    fi
    if [ -n "$leader" ]; then
      state=$(nsenter -t "$leader" -a -- systemctl is-system-running 2>/dev/null || true)
      case "$state" in
        running|degraded)
          printf '%s\n' "$leader" >"$dir/leader"
          log "$name is $state (PID 1 = host PID $leader)"
          printf '%s\n' "$leader"
          return 0
          ;;
      esac
    fi
    sleep 0.1
  done
  tail -n 30 "$dir/console.log" >&2
  cmd_stop "$name" || true
  die "container $name did not reach 'running' in 30 s (state: ${state:-unknown})"
}

cmd_pid() {
  local dir=$RUN/$1
  if [ ! -f "$dir/leader" ] || ! alive "$(cat "$dir/leader")"; then
    die "container $1 is not running"
  fi
  cat "$dir/leader"
}

cmd_exec() {
  local name=$1
  shift
  local leader
  leader=$(cmd_pid "$name")
  exec nsenter -t "$leader" -a -- "$@"
}

cmd_stop() {
  local name=$1
  check_name "$name"
  local dir=$RUN/$name pid=""
  [ -f "$dir/nspawn.pid" ] && pid=$(cat "$dir/nspawn.pid")
  if alive "$pid"; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 150); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      log "$name did not power off in 15 s: killing it"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  local cg p procs
  for cg in $(cgroup_dirs "$name"); do
    [ -d "$cg" ] || continue
    # Kill whatever is left in the container's cgroup, then remove it, deepest first.
    procs=$(cat "$cg/cgroup.procs" 2>/dev/null) || true
    for p in $procs; do kill -KILL "$p" 2>/dev/null || true; done
    for _ in $(seq 1 50); do
      find "$cg" -depth -type d -exec rmdir {} + 2>/dev/null || true
      [ -d "$cg" ] || break
      sleep 0.1
    done
    [ -d "$cg" ] && log "could not remove $cg"
  done
  rm -rf "$dir"
  log "$name stopped"
}

cmd_list() {
  local d
  for d in "$RUN"/*/; do
    [ -f "$d/nspawn.pid" ] || continue
    alive "$(cat "$d/nspawn.pid")" && basename "$d"
  done
  return 0
}

cmd_stop_all() {
  local d
  for d in "$RUN"/*/; do
    [ -d "$d" ] || continue
    cmd_stop "$(basename "$d")"
  done
  return 0
}

[ $# -ge 1 ] || die "usage: nspawn.sh rootfs|boot NAME [ARGS]|pid NAME|exec NAME CMD...|stop NAME|stop-all|list"
command=$1
shift
case "$command" in
  rootfs) cmd_rootfs ;;
  boot) [ $# -ge 1 ] || die "usage: nspawn.sh boot NAME [ARGS...]"; cmd_boot "$@" ;;
  pid) [ $# -eq 1 ] || die "usage: nspawn.sh pid NAME"; cmd_pid "$1" ;;
  exec) [ $# -ge 2 ] || die "usage: nspawn.sh exec NAME CMD..."; cmd_exec "$@" ;;
  stop) [ $# -eq 1 ] || die "usage: nspawn.sh stop NAME"; cmd_stop "$1" ;;
  stop-all) cmd_stop_all ;;
  list) cmd_list ;;
  *) die "unknown command '$command'" ;;
esac

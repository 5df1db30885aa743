# Shared functions for the image recipes. Sourced, not run.
# shellcheck shell=bash
set -euo pipefail

IMAGES_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=versions.env
source "$IMAGES_DIR/versions.env"
CACHE_DIR="${METALLB_CONFORMANCE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/metallb-conformance}"
LOG_DIR="$CACHE_DIR/logs"
K3S_IMAGES_DIR="$CACHE_DIR/k3s-images"   # tarballs every k3s node imports at start (nothing else:
K3S_IMAGE_IDS_DIR="$CACHE_DIR/k3s-images.ids" # k3s tries to import every file in that folder)
BIN_DIR="$CACHE_DIR/bin"
SRC_DIR="$CACHE_DIR/src"
ROOTFS_DIR="$CACHE_DIR/rootfs"
IMAGES_PULL="${IMAGES_PULL:-auto}"         # auto: try the registry once, build on failure; never; always
# IMAGES_REBUILD=1 rebuilds every image even when a current one is present (binaries and root
# filesystems already in the cache are reused: point METALLB_CONFORMANCE_CACHE elsewhere for cold).
RECIPE_LABEL=io.metallb-conformance.recipe
mkdir -p "$LOG_DIR" "$K3S_IMAGES_DIR" "$K3S_IMAGE_IDS_DIR" "$BIN_DIR" "$SRC_DIR" "$ROOTFS_DIR"
export GOFLAGS="${GOFLAGS:--mod=mod} -buildvcs=false" GOSUMDB="${GOSUMDB:-off}"

_t0=$(date +%s)
say() { printf '[images +%4ss] %s\n' "$(( $(date +%s) - _t0 ))" "$*" >&2; }
fail() { printf '[images] error: %s\n' "$*" >&2; exit 1; }

# run_logged STEP LOGNAME CMD... : runs CMD with output to a log file; on failure one line
# names the step and the log.
run_logged() {
  local step="$1" log="$LOG_DIR/$2.log"; shift 2
  if ! "$@" >>"$log" 2>&1; then
    tail -n 15 "$log" >&2 || true
    fail "$step failed (full log: $log)"
  fi
}

# recipe_hash WORDS... : a short hash over the given strings and files (files by content).
recipe_hash() {
  local arg
  for arg in "$@"; do
    if [ -f "$arg" ]; then cat "$arg"; else printf '%s\n' "$arg"; fi
  done | sha256sum | cut -c1-16
}

# image_current IMAGE HASH : the image is present and either was pulled (no recipe label: an
# official image is used as it is) or was built from this exact recipe.
image_current() {
  [ "${IMAGES_REBUILD:-0}" = 1 ] && return 1
  local label
  label="$(docker image inspect -f "{{index .Config.Labels \"$RECIPE_LABEL\"}}" "$1" 2>/dev/null)" || return 1
  [ -z "$label" ] || [ "$label" = "<no value>" ] || [ "$label" = "$2" ]
}

# try_pull IMAGE : one attempt at the registry, unless IMAGES_PULL=never.
try_pull() {
  [ "$IMAGES_PULL" = never ] && return 1
  say "pulling $1"
  if timeout 600 docker pull -q "$1" >>"$LOG_DIR/pull.log" 2>&1; then return 0; fi
  [ "$IMAGES_PULL" = always ] && fail "docker pull $1 failed and IMAGES_PULL=always (log: $LOG_DIR/pull.log)"
  say "no registry for $1: building it locally"
  return 1
}

# save_for_k3s IMAGE : `docker save` into the folder every node imports, once per image id.
save_for_k3s() {
  local image="$1" id name
  id="$(docker image inspect -f '{{.Id}}' "$image")"
  name="$(printf '%s' "$image" | tr '/:' '__')"
  if [ "$(cat "$K3S_IMAGE_IDS_DIR/$name.id" 2>/dev/null)" != "$id" ] || [ ! -f "$K3S_IMAGES_DIR/$name.tar" ]; then
    docker save "$image" -o "$K3S_IMAGES_DIR/$name.tar.tmp"
    mv "$K3S_IMAGES_DIR/$name.tar.tmp" "$K3S_IMAGES_DIR/$name.tar"
    printf '%s\n' "$id" >"$K3S_IMAGE_IDS_DIR/$name.id"
  fi
}

# module_src MODULE VERSION : a writable copy of a Go module's source (builds as main module
# need one: go.mod replace directives, go.sum updates).
module_src() {
  local module="$1" version="$2" dir
  dir="$SRC_DIR/$(printf '%s@%s' "$module" "$version" | tr '/' '_')"
  if [ ! -f "$dir/.complete" ]; then
    local modcache
    modcache="$(go mod download -json "$module@$version" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
    [ -n "$modcache" ] && [ -d "$modcache" ] || fail "go mod download $module@$version failed"
    rm -rf "$dir"; cp -r "$modcache" "$dir"; chmod -R u+w "$dir"; touch "$dir/.complete"
  fi
  printf '%s\n' "$dir"
}

# debian_rootfs NAME PACKAGES : a Debian minbase root filesystem with the given packages, cached
# by name and package list; prints its directory.
debian_rootfs() {
  local name="$1" packages="$2" key dir
  key="$(recipe_hash "$DEBIAN_SUITE" "$DEBIAN_MIRROR" "$packages")"
  dir="$ROOTFS_DIR/$name-$key"
  if [ ! -f "$dir.done" ]; then
    command -v debootstrap >/dev/null || run_logged "apt-get install debootstrap" apt apt-get install -y debootstrap
    say "debootstrap $DEBIAN_SUITE for $name ($packages)"
    rm -rf "$dir"
    mkdir -p "$CACHE_DIR/debs"
    run_logged "debootstrap $name" "debootstrap-$name" debootstrap --variant=minbase \
      --cache-dir="$CACHE_DIR/debs" --include="$packages" "$DEBIAN_SUITE" "$dir" "$DEBIAN_MIRROR"
    rm -rf "$dir"/var/cache/apt/archives/*.deb "$dir"/var/lib/apt/lists/* \
      "$dir"/usr/share/doc "$dir"/usr/share/man "$dir"/usr/share/locale "$dir"/usr/share/info
    touch "$dir.done"
  fi
  printf '%s\n' "$dir"
}

# import_rootfs IMAGE HASH BASE EXTRA [--change ...] : BASE (a root filesystem, or "" for none)
# with EXTRA's files on top, as a single-layer image. docker import refuses duplicate paths, so
# the two are merged in a hard-linked copy (cheap; the cached BASE itself is never modified).
# EXTRA must not shadow BASE's merged-/usr symlinks (/bin, /sbin, /lib): put files under usr/.
import_rootfs() {
  local image="$1" hash="$2" base="$3" extra="$4"; shift 4
  local merged
  mkdir -p "$CACHE_DIR/tmp"
  merged="$(mktemp -d "$CACHE_DIR/tmp/merge.XXXXXX")"
  [ -n "$base" ] && cp -al "$base/." "$merged/"
  cp -a --remove-destination "$extra/." "$merged/"
  tar --numeric-owner -C "$merged" -c . \
    | docker import --change "LABEL $RECIPE_LABEL=$hash" "$@" - "$image" >/dev/null \
    || { rm -rf "$merged"; fail "docker import of $image failed"; }
  rm -rf "$merged"
}

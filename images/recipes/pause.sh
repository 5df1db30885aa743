#!/usr/bin/env bash
# The pod sandbox image k3s asks for, compiled from the pause.c that ships in the Kubernetes fork
# k3s builds against (a Go module), statically, into an otherwise empty image.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
hash="$(recipe_hash "${BASH_SOURCE[0]}" "$PAUSE_SOURCE_MODULE@$PAUSE_SOURCE_VERSION")"
if ! { image_current "$PAUSE_IMAGE" "$hash" || try_pull "$PAUSE_IMAGE"; }; then
  dir="$(go mod download -json "$PAUSE_SOURCE_MODULE@$PAUSE_SOURCE_VERSION" | sed -n 's/^\s*"Dir": "\(.*\)",$/\1/p')"
  [ -f "$dir/build/pause/linux/pause.c" ] || fail "pause.c not found in $PAUSE_SOURCE_MODULE@$PAUSE_SOURCE_VERSION"
  stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
  run_logged "gcc pause.c" pause-build gcc -Os -Wall -static -DVERSION=3.6 -o "$stage/pause" "$dir/build/pause/linux/pause.c"
  strip "$stage/pause"
  import_rootfs "$PAUSE_IMAGE" "$hash" "" "$stage" --change 'ENTRYPOINT ["/pause"]' --change 'USER 65535:65535'
  say "$PAUSE_IMAGE built"
fi
save_for_k3s "$PAUSE_IMAGE"
say "$PAUSE_IMAGE ready"

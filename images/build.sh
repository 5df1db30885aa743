#!/usr/bin/env bash
# Builds (or pulls, where a registry answers) every image the ephemeral target needs, caches
# them by recipe, and writes $CACHE_DIR/manifest.json for the cluster helper.
# Usage: images/build.sh [--metallb VERSION]...   (default: every version in versions.env)
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
command -v go >/dev/null || fail "go is required to build images (Go toolchain from Debian or go.dev)"
docker info >/dev/null 2>&1 || fail "docker is not answering: run npm run setup"
metallb_versions=()
while [ $# -gt 0 ]; do
  case "$1" in
    --metallb) metallb_versions+=("$2"); shift 2 ;;
    *) fail "unknown argument $1 (expected --metallb VERSION)" ;;
  esac
done
[ ${#metallb_versions[@]} -gt 0 ] || read -r -a metallb_versions <<<"$METALLB_VERSIONS"
r="$IMAGES_DIR/recipes"
bash "$r/helm.sh"
bash "$r/actionlint.sh"
bash "$r/pause.sh"
for v in "${metallb_versions[@]}"; do bash "$r/metallb.sh" "$v"; done
bash "$r/nginx.sh"
bash "$r/probe.sh"
bash "$r/k3s.sh"
# Only the current images are preloaded: drop tarballs of images no recipe asks for any more.
for tar in "$K3S_IMAGES_DIR"/*.tar; do
  [ -e "$tar" ] || continue
  name="$(basename "$tar" .tar)"
  keep=0
  for image in "$PAUSE_IMAGE" "$NGINX_IMAGE" "$PROBE_IMAGE"; do
    [ "$name" = "$(printf '%s' "$image" | tr '/:' '__')" ] && keep=1
  done
  for v in "${metallb_versions[@]}"; do
    for c in controller speaker; do [ "$name" = "$(printf 'quay.io/metallb/%s:%s' "$c" "$v" | tr '/:' '__')" ] && keep=1; done
  done
  [ "$keep" = 1 ] || { say "removing stale preload $name"; rm -f "$tar" "$K3S_IMAGE_IDS_DIR/$name.id"; }
done
charts="{}"
for v in "${metallb_versions[@]}"; do
  charts="$(jq -c --arg v "${v#v}" --arg p "$SRC_DIR/$(printf '%s@%s' "$METALLB_MODULE" "$v" | tr '/' '_')/charts/metallb" '. + {($v): $p}' <<<"$charts")"
done
jq -n --arg k3s "$K3S_IMAGE" --arg probe "$PROBE_IMAGE" --arg nginx "$NGINX_IMAGE" --arg pause "$PAUSE_IMAGE" \
  --arg helm "$BIN_DIR/helm-$HELM_VERSION" --arg actionlint "$BIN_DIR/actionlint-$ACTIONLINT_VERSION" --arg preload "$K3S_IMAGES_DIR" --argjson charts "$charts" \
  '{k3sImage: $k3s, probeImage: $probe, nginxImage: $nginx, pauseImage: $pause, helm: $helm, actionlint: $actionlint,
    preloadDir: $preload, metallbCharts: $charts}' >"$CACHE_DIR/manifest.json"
say "all images ready; manifest: $CACHE_DIR/manifest.json"

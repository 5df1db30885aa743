#!/usr/bin/env bash
# The helm CLI, built from its Go module at the pinned version (a host binary, not an image).
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bin="$BIN_DIR/helm-$HELM_VERSION"
if [ ! -x "$bin" ]; then
  src="$(module_src "$HELM_MODULE" "$HELM_VERSION")"
  say "go build helm $HELM_VERSION"
  (cd "$src" && run_logged "go build helm" helm-build env CGO_ENABLED=0 \
    go build -ldflags "-X helm.sh/helm/v3/internal/version.version=$HELM_VERSION" -o "$bin.tmp" ./cmd/helm)
  mv "$bin.tmp" "$bin"
fi
say "helm $HELM_VERSION ready at $bin"

#!/usr/bin/env bash
# actionlint, built from its Go module at the pinned version: the unit tests lint the workflows.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
bin="$BIN_DIR/actionlint-$ACTIONLINT_VERSION"
if [ ! -x "$bin" ]; then
  say "go build actionlint $ACTIONLINT_VERSION"
  run_logged "go install actionlint" actionlint-build env CGO_ENABLED=0 GOFLAGS=-buildvcs=false GOBIN="$BIN_DIR/actionlint.tmp" \
    go install "$ACTIONLINT_MODULE/cmd/actionlint@$ACTIONLINT_VERSION"
  mv "$BIN_DIR/actionlint.tmp/actionlint" "$bin"; rm -rf "$BIN_DIR/actionlint.tmp"
fi
say "actionlint $ACTIONLINT_VERSION ready at $bin"

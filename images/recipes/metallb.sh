#!/usr/bin/env bash
# MetalLB controller and speaker images for one version (argument, e.g. v0.15.3), built from the
# go.universe.tf/metallb module like upstream's Dockerfiles (static, CGO off) into an image with
# only the binary and the passwd/group entries distroless/static would give.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
version="${1:?usage: metallb.sh VERSION}"
hash="$(recipe_hash "${BASH_SOURCE[0]}" "$METALLB_MODULE@$version")"
for component in controller speaker; do
  image="quay.io/metallb/$component:$version"
  if ! { image_current "$image" "$hash" || try_pull "$image"; }; then
    bin="$BIN_DIR/metallb-$version-$component"
    if [ ! -x "$bin" ]; then
      src="$(module_src "$METALLB_MODULE" "$version")"
      say "go build metallb $component $version"
      (cd "$src" && run_logged "go build metallb $component $version" "metallb-$version-build" env CGO_ENABLED=0 \
        go build -ldflags "-X go.universe.tf/metallb/internal/version.gitCommit=$version -X go.universe.tf/metallb/internal/version.gitBranch=$version" \
        -o "$bin.tmp" "./$component")
      mv "$bin.tmp" "$bin"
    fi
    stage="$(mktemp -d)"
    mkdir -p "$stage/etc" "$stage/tmp"; chmod 1777 "$stage/tmp"
    printf 'root:x:0:0:root:/root:/sbin/nologin\nnobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin\nnonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin\n' >"$stage/etc/passwd"
    printf 'root:x:0:\nnobody:x:65534:\nnonroot:x:65532:\n' >"$stage/etc/group"
    install -m 0755 "$bin" "$stage/$component"
    import_rootfs "$image" "$hash" "" "$stage" --change "ENTRYPOINT [\"/$component\"]"
    rm -rf "$stage"
    say "$image built"
  fi
  save_for_k3s "$image"
  say "$image ready"
done
# The chart: charts/metallb of the same module (crds subchart and frr-k8s archive included).
src="$(module_src "$METALLB_MODULE" "$version")"
[ -f "$src/charts/metallb/Chart.yaml" ] || fail "charts/metallb missing in $METALLB_MODULE@$version"
say "chart metallb ${version#v} at $src/charts/metallb"

#!/usr/bin/env bash
# rancher/k3s-shaped node image: the k3s multicall binary built from its Go module (cmd/server,
# as k3s's own scripts/build does), with Debian's containerd, runc, CNI plugins and network tools
# on PATH instead of k3s's bundled user space. Entry point and layout match rancher/k3s.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
hash="$(recipe_hash "${BASH_SOURCE[0]}" "$IMAGES_DIR/k3s-node/runc-oom-floor" "$K3S_MODULE@$K3S_MODULE_VERSION" "$K3S_VERSION_STRING" \
  "$CNI_PLUGINS_MODULE@$CNI_PLUGINS_VERSION" "$DEBIAN_SUITE")"
if image_current "$K3S_IMAGE" "$hash" || try_pull "$K3S_IMAGE"; then
  say "$K3S_IMAGE ready"; exit 0
fi

k3s_tags="netcgo osusergo providerless urfave_cli_no_docs libsqlite3"
k3s_bin="$BIN_DIR/k3s-$K3S_MODULE_VERSION-$(recipe_hash "$K3S_VERSION_STRING" "$k3s_tags")"
if [ ! -x "$k3s_bin" ]; then
  src="$(module_src "$K3S_MODULE" "$K3S_MODULE_VERSION")"
  # inet.af's vanity host is gone; the same commit is served under its GitHub path.
  (cd "$src" && go mod edit -replace inet.af/tcpproxy=github.com/inetaf/tcpproxy@v0.0.0-20200125044825-b6bb9b5b8252)
  for pkg in libsqlite3-dev libbtrfs-dev gcc; do
    dpkg -s "$pkg" >/dev/null 2>&1 || run_logged "apt-get install $pkg" apt apt-get install -y "$pkg"
  done
  say "go build k3s $K3S_VERSION_STRING from $K3S_MODULE@$K3S_MODULE_VERSION (cold: ~25 min on 2 cores; log: $LOG_DIR/k3s-build.log)"
  # No `ctrd` tag: the embedded containerd of this k3s line does not compile (k3s 1.25 built
  # containerd separately); Debian's containerd 1.6 is on PATH instead. libsqlite3: system sqlite.
  # -checklinkname=0: 2022-era dependencies use go:linkname that Go >= 1.23 refuses by default.
  (cd "$src" && run_logged "go build k3s" k3s-build env CGO_ENABLED=1 go build \
    -tags "$k3s_tags" \
    -ldflags "-w -s -checklinkname=0 -X github.com/k3s-io/k3s/pkg/version.Version=$K3S_VERSION_STRING -X k8s.io/component-base/version.gitVersion=$K3S_VERSION_STRING -X k8s.io/client-go/pkg/version.gitVersion=$K3S_VERSION_STRING" \
    -o "$k3s_bin.tmp" ./cmd/server)
  mv "$k3s_bin.tmp" "$k3s_bin"
fi

flannel_bin="$BIN_DIR/cni-flannel-$CNI_PLUGINS_VERSION"
if [ ! -x "$flannel_bin" ]; then
  src="$(module_src "$CNI_PLUGINS_MODULE" "$CNI_PLUGINS_VERSION")"
  say "go build flannel CNI plugin $CNI_PLUGINS_VERSION"
  (cd "$src" && run_logged "go build flannel CNI plugin" cni-build env CGO_ENABLED=0 \
    go build -o "$flannel_bin.tmp" ./plugins/meta/flannel)
  mv "$flannel_bin.tmp" "$flannel_bin"
fi

rootfs="$(debian_rootfs k3s-node "ca-certificates,iptables,iproute2,ipset,conntrack,ethtool,socat,util-linux,mount,kmod,procps,jq,containerd,runc,containernetworking-plugins,libsqlite3-0")"
stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/usr/bin" "$stage/usr/lib/cni" "$stage/etc/rancher" "$stage/var/lib/rancher/k3s"
install -m 0755 "$k3s_bin" "$stage/usr/bin/k3s"
ln -s k3s "$stage/usr/bin/kubectl"; ln -s k3s "$stage/usr/bin/crictl"
# k3s reads this file for flags, server and agent alike; the official image has none.
mkdir -p "$stage/etc/rancher/k3s"
printf 'flannel-cni-conf: /etc/rancher/k3s/flannel-cni.conflist\n' >"$stage/etc/rancher/k3s/config.yaml"
# k3s's own conflist (pkg/agent/flannel/setup.go) at CNI spec 0.4.0, which flannel v0.9.1 accepts.
cat >"$stage/etc/rancher/k3s/flannel-cni.conflist" <<'JSON'
{
  "name": "cbr0",
  "cniVersion": "0.4.0",
  "plugins": [
    { "type": "flannel", "delegate": { "hairpinMode": true, "forceAddress": true, "isDefaultGateway": true } },
    { "type": "portmap", "capabilities": { "portMappings": true } }
  ]
}
JSON
install -m 0755 "$flannel_bin" "$stage/usr/lib/cni/flannel"
# Ahead of /usr/sbin/runc on PATH; a no-op unless the host lacks CAP_SYS_RESOURCE.
mkdir -p "$stage/usr/local/sbin"
install -m 0755 "$IMAGES_DIR/k3s-node/runc-oom-floor" "$stage/usr/local/sbin/runc"
say "importing $K3S_IMAGE"
import_rootfs "$K3S_IMAGE" "$hash" "$rootfs" "$stage" \
  --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:/usr/lib/cni' \
  --change 'ENTRYPOINT ["/bin/k3s"]' --change 'CMD ["agent"]'
say "$K3S_IMAGE built"

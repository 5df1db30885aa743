#!/usr/bin/env bash
# "Another device on the home network": a Debian container on the cluster's Docker network with
# arping, curl, ip and tcpdump, used by AC3/AC4 to ARP for and fetch LoadBalancer IPs.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
hash="$(recipe_hash "${BASH_SOURCE[0]}" "$DEBIAN_SUITE")"
if ! image_current "$PROBE_IMAGE" "$hash"; then
  rootfs="$(debian_rootfs probe "iproute2,iputils-arping,iputils-ping,curl,tcpdump,ca-certificates")"
  stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
  import_rootfs "$PROBE_IMAGE" "$hash" "$rootfs" "$stage" --change 'CMD ["sleep", "infinity"]'
  say "$PROBE_IMAGE built"
fi
# Preloaded too: the smoke suite runs it as a pod (curl from every node), and on a live cluster
# the ARP probe can run as a hostNetwork pod.
save_for_k3s "$PROBE_IMAGE"
say "$PROBE_IMAGE ready"

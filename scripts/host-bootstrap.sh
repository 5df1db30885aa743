#!/usr/bin/env bash
# Makes this host able to run the ephemeral target: a Docker engine that can start privileged
# containers. Idempotent: on a host where `docker info` works and privileged containers start,
# it does nothing. Exits non-zero with one line naming the failed step and what to do.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
log_dir="${METALLB_CONFORMANCE_LOG_DIR:-${TMPDIR:-/tmp}/metallb-conformance}"
mkdir -p "$log_dir"
log="$log_dir/host-bootstrap.log"
say() { printf '[bootstrap] %s\n' "$*" >&2; }
die() { printf '[bootstrap] error: %s (full log: %s)\n' "$*" "$log" >&2; exit 1; }

need_root() {
  [ "$(id -u)" = 0 ] || die "$1 needs root; rerun as root or do it by hand: $2"
}

# 1. Docker engine packages.
if ! command -v dockerd >/dev/null 2>&1; then
  need_root "installing Docker" "apt-get install -y docker.io"
  command -v apt-get >/dev/null 2>&1 || die "no dockerd and no apt-get: install a Docker engine yourself"
  say "installing docker.io from Debian (once)"
  { apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y docker.io jq; } >>"$log" 2>&1 \
    || die "apt-get install docker.io failed"
fi

# jq: the image recipes and the runtime wrapper read JSON with it.
if ! command -v jq >/dev/null 2>&1; then
  need_root "installing jq" "apt-get install -y jq"
  DEBIAN_FRONTEND=noninteractive apt-get install -y jq >>"$log" 2>&1 || die "apt-get install jq failed"
fi

# 2. Host quirk: CAP_SYS_RESOURCE missing from the bounding set breaks `docker run --privileged`.
#    Detected, never assumed: bit 24 of CapBnd.
capbnd="$(awk '/^CapBnd:/ {print $2}' /proc/self/status)"
if (( (16#$capbnd >> 24 & 1) == 0 )); then
  need_root "the runc capability wrapper" "see scripts/runc-drop-sys-resource"
  install -m 0755 "$here/runc-drop-sys-resource" /usr/local/sbin/runc-drop-sys-resource
  want='{"runtimes":{"runc-drop-sys-resource":{"path":"/usr/local/sbin/runc-drop-sys-resource"}},"default-runtime":"runc-drop-sys-resource"}'
  mkdir -p /etc/docker
  have="$(cat /etc/docker/daemon.json 2>/dev/null || echo '{}')"
  merged="$(jq -c --argjson w "$want" '. * $w' <<<"$have")" || die "/etc/docker/daemon.json is not valid JSON"
  if [ "$(jq -cS . <<<"$have")" != "$(jq -cS . <<<"$merged")" ]; then
    say "host lacks CAP_SYS_RESOURCE: registering the runc wrapper as Docker's default runtime"
    printf '%s\n' "$merged" > /etc/docker/daemon.json
    if docker info >/dev/null 2>&1; then
      say "restarting dockerd to pick up the runtime"
      pkill -x dockerd || true
      for _ in $(seq 1 50); do pgrep -x dockerd >/dev/null || break; sleep 0.2; done
    fi
  fi
fi

# 3. A running daemon.
if ! docker info >/dev/null 2>&1; then
  need_root "starting dockerd" "start the Docker service"
  if command -v systemctl >/dev/null 2>&1 && systemctl is-system-running >/dev/null 2>&1; then
    systemctl start docker >>"$log" 2>&1 || die "systemctl start docker failed"
  else
    say "starting dockerd in the background (log: $log_dir/dockerd.log)"
    nohup dockerd >"$log_dir/dockerd.log" 2>&1 &
  fi
  for _ in $(seq 1 60); do docker info >/dev/null 2>&1 && break; sleep 0.5; done
  docker info >/dev/null 2>&1 || die "dockerd did not answer within 30 s; see $log_dir/dockerd.log"
fi
say "docker $(docker version --format '{{.Server.Version}}') ready"

#!/usr/bin/env bash
# The AC4 test backend: Debian's nginx in a minimal root filesystem, serving the stock
# "Welcome to nginx!" page on :80 with logs on stdout/stderr.
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
hash="$(recipe_hash "${BASH_SOURCE[0]}" "$DEBIAN_SUITE")"
if ! { image_current "$NGINX_IMAGE" "$hash" || try_pull "$NGINX_IMAGE"; }; then
  rootfs="$(debian_rootfs nginx "nginx")"
  grep -q 'Welcome to nginx!' "$rootfs/var/www/html/index.nginx-debian.html" || fail "Debian's nginx default page not found in the rootfs"
  stage="$(mktemp -d)"; trap 'rm -rf "$stage"' EXIT
  mkdir -p "$stage/var/log/nginx"
  ln -s /dev/stdout "$stage/var/log/nginx/access.log"; ln -s /dev/stderr "$stage/var/log/nginx/error.log"
  import_rootfs "$NGINX_IMAGE" "$hash" "$rootfs" "$stage" \
    --change 'CMD ["nginx", "-g", "daemon off;"]' --change 'EXPOSE 80'
  say "$NGINX_IMAGE built"
fi
save_for_k3s "$NGINX_IMAGE"
say "$NGINX_IMAGE ready"

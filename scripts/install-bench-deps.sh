#!/usr/bin/env bash
# Installs the anchors and fixture tools the benchmarks under bench/ use
# (Debian packages; idempotent; needs root). See bench/README.md.
set -euo pipefail
packages=(
  containerd                     # containerd + ctr: the anchor for content fetch (started by the bench itself)
  docker-registry                # a real OCI registry (CNCF distribution) on loopback
  skopeo umoci busybox-static    # build/push the fixture images; skopeo copy is also the floor
  podman                         # anchor for pull + unpack (bench/pull-unpack.ts; own temp --root/--runroot)
)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
# The containerd package enables a system service where systemd runs; the
# benchmark never uses it: it starts its own containerd with a temp root,
# state and socket.

#!/usr/bin/env bash
# Installs the anchors and fixture tools the benchmarks under bench/ use
# (Debian packages; idempotent; needs root). See bench/README.md.
set -euo pipefail
packages=(
  containerd                     # containerd + ctr: the anchor for content fetch (started by the bench itself)
  docker-registry                # a real OCI registry (CNCF distribution) on loopback
  skopeo umoci busybox-static    # build/push the fixture images; skopeo copy is also the floor
  podman                         # anchor for pull + unpack (bench/pull-unpack.ts; own temp --root/--runroot)
  # bench/network.ts: podman's default network is CNI here (Debian podman 4.3,
  # network backend "cni", /etc/cni/net.d/87-podman-bridge.conflist), run by
  # the same plugins as gantry's bridge; busybox-static is the host side of
  # the stream and HTTP floors. install-system-deps.sh has them too.
  containernetworking-plugins iptables
)
bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"
# The containerd package enables a system service where systemd runs; the
# benchmark never uses it: it starts its own containerd with a temp root,
# state and socket.

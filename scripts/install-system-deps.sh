#!/usr/bin/env bash
# Installs the Debian packages Gantry's runtime and tests use. Idempotent; needs root.
# Why each one is here: see docs/testing.md and the README's "Development" section.
set -euo pipefail
packages=(
  runc conmon                    # low-level runtime and per-container monitor
  docker-registry                # a real OCI registry (CNCF distribution) for tests
  skopeo umoci busybox-static    # build and push fixture images no one here wrote
  podman                         # interop tests: podman load/run of what gantry save writes, and back (daemonless, temp --root)
  containernetworking-plugins    # CNI plugins (network attachment)
  catatonit                      # static init: the CRI pod infra process, copied into a rootfs gantryd makes (no pause image pull)
  iptables                       # the bridge, portmap and firewall plugins write iptables rules
  openssh-server openssh-client  # real sshd/ssh for the remote-host path
  sudo                           # remote tests: a non-root ssh user starting root's gantryd with sudo -n
  systemd                        # systemd-analyze verify of install-service's units; systemd-socket-activate tests socket activation
  chromium                       # headless browser that drives code-server in UI tests
  libkrb5-dev ripgrep            # needed to install code-server from npm offline
  iproute2 procps psmisc         # netns/veth test hosts; ps/pkill in tests
  zstd                           # zstd layers for the unpack tests
  gcc libc6-dev                  # gcc -static builds the syscall probes of the security tests (libc.a is in libc6-dev)
  apparmor                       # apparmor_parser: loads gantry-default where AppArmor is on; unit tests compile its text
  attr                           # getfattr/setfattr: native snapshotter copies xattrs; tests set overlay xattrs
  apache2-utils                  # htpasswd for the registry's basic-auth variant
  openssl ca-certificates        # test CA and TLS certificates for the registry
  rootlesskit uidmap             # rootless gantryd: RootlessKit makes its user namespace, newuidmap/newgidmap map the subordinate IDs
  slirp4netns fuse-overlayfs     # rootless gantryd: network with /dev/net/tun usable; overlay where kernel overlayfs in a userns is not
)
bash "$(dirname "$0")/apt-install.sh" "${packages[@]}"
# Debian starts docker-registry as a service on :5000 when systemd runs; tests run their own.

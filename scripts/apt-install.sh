#!/usr/bin/env bash
# apt-install.sh PACKAGE...: installs the Debian packages not installed yet
# (idempotent; needs root). Shared by install-system-deps.sh and
# install-bench-deps.sh.
set -euo pipefail
missing=()
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

#!/usr/bin/env bash
# Everything Gantry needs on a fresh Debian/Ubuntu machine, idempotent:
# system packages (as root), npm dependencies, code-server for the VS Code
# tests and the local workbench, then a build of dist/.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ "$(id -u)" -eq 0 ]; then
  bash scripts/install-system-deps.sh
else
  echo "setup: not root; skipping system packages (run scripts/install-system-deps.sh as root)" >&2
fi

# Install only when the lockfile changed since the last install. `npm install`
# rather than `npm ci`: node-unix-socket lists a prebuilt binary package per
# platform as optional dependencies, and the registry here serves only the
# linux-x64 ones; the lockfile cannot record the others, which `npm ci`
# refuses ("Missing … from lock file") while `npm install` skips them as the
# optional dependencies they are. The lockfile still pins every version.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm install --no-audit --no-fund
fi

bash scripts/install-code-server.sh
node esbuild.js

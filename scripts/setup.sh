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

# npm ci only when the lockfile changed since the last install.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
  npm ci --no-audit --no-fund
fi

bash scripts/install-code-server.sh
node esbuild.js

#!/usr/bin/env bash
# The test command (README, .ci/run): set up if needed, build, run every suite.
#   scripts/test.sh            all suites
#   scripts/test.sh unit integration   only these (lint, unit, integration, vscode, ui)
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
npx tsc -p tsconfig.test.json
exec node scripts/run-tests.js "$@"
